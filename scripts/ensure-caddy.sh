#!/usr/bin/env bash
# `make serve` puts Caddy (Debian's package) in front of the dashboard. Install it when we can
# (root with apt), with certutil (libnss3-tools: trusting Caddy's own CA in a browser on Linux);
# otherwise say how. Exit 0 only when caddy is there.
set -u
if command -v caddy >/dev/null 2>&1 && command -v certutil >/dev/null 2>&1; then
    exit 0
fi
had_caddy=$(command -v caddy || true)
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Caddy（HTTPS の入口）を Debian のパッケージからインストールします…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy libnss3-tools >/dev/null
    # the package starts its own service on :80 with Debian's welcome page; `make serve` runs
    # its own Caddy with the project's Caddyfile (docs/deploy.md sets the service up for a server)
    if [ -z "$had_caddy" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now caddy >/dev/null 2>&1 \
            && echo "パッケージの caddy サービスは止めました（make serve は自分で Caddy を起動します）。"
    fi
fi
if ! command -v caddy >/dev/null 2>&1; then
    echo "Caddy がありません（root でないため入れられません）。root で次を実行してから、もう一度お試しください:" >&2
    echo "  apt-get install -y caddy" >&2
    exit 1
fi
