#!/usr/bin/env bash
# `deno task bench [--quick] [--only=…]`: runs bench/main.ts with every permission, after raising
# the open-files limit as far as the machine allows (holding 20,000 sockets needs one file each).
# Works on a fresh clone after `source scripts/provision.sh` (Deno from $DENO or PATH; Chromium
# from $CHROME_PATH or /usr/bin/chromium; Node and npm for the socket.io baseline).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hard="$(ulimit -Hn)"
ulimit -n "$hard" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
export DENO_NO_UPDATE_CHECK=1
exec "${DENO:-deno}" run -A bench/main.ts "$@"
