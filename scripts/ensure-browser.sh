#!/usr/bin/env bash
# The browser tests need Debian's Chromium and Japanese fonts (Playwright cannot download
# its own browser here). Install them when we can (root with apt); otherwise say so.
set -u
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ブラウザテスト用に chromium と fonts-noto-cjk をインストールします…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
else
    echo "chromium / fonts-noto-cjk がありません（root でないため入れられません）。ブラウザテストは省略されます。" >&2
fi
