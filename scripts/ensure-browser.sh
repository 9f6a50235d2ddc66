#!/usr/bin/env bash
# The browser tests need Debian's Chromium and Japanese fonts (Playwright cannot download
# its own browser here), and axe-core from npm for the accessibility test. Install them
# when we can (root with apt; npm for axe-core); otherwise say so.
set -u
tests="$(cd "$(dirname "$0")/../tests" && pwd)"
# axe-core at the version tests/package-lock.json pins; again only when the lock changes
if ! cmp -s "$tests/package-lock.json" "$tests/node_modules/.tsunagu-lock" 2>/dev/null; then
    if command -v npm >/dev/null 2>&1; then
        echo "アクセシビリティ検査用に axe-core をインストールします（tests/node_modules）…"
        (cd "$tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
            && cp "$tests/package-lock.json" "$tests/node_modules/.tsunagu-lock" \
            || echo "axe-core をインストールできませんでした（npm ci）。アクセシビリティ検査は省略されます。" >&2
    else
        echo "npm がないため axe-core を入れられません。アクセシビリティ検査は省略されます。" >&2
    fi
fi
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ブラウザテスト用に chromium と fonts-noto-cjk をインストールします…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
else
    echo "chromium / fonts-noto-cjk がありません（root でないため入れられません）。ブラウザテストは省略されます。" >&2
fi
