#!/usr/bin/env bash
# `deno task bench [--quick] [--only=…]`: runs bench/main.ts, then bench/cluster.ts (cross-node
# relay vs same-node), with every permission, after raising
# the open-files limit as far as the machine allows (holding 20,000 sockets needs one file each).
# Works on a fresh clone after `source scripts/provision.sh` (Deno from $DENO or PATH; Chromium
# from $CHROME_PATH or /usr/bin/chromium; Node and npm for the socket.io baseline).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hard="$(ulimit -Hn)"
ulimit -n "$hard" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
export DENO_NO_UPDATE_CHECK=1
status=0
"${DENO:-deno}" run -A bench/main.ts "$@" || status=$?
# Cross-node vs same-node relay (issue 5): a Redis and two cluster nodes of their own. Skipped when
# only some suites were asked for.
only=false
quick=false
for arg in "$@"; do
  case "$arg" in
    --only* | --render) only=true ;;
    --quick) quick=true ;;
  esac
done
if [[ "$only" == false ]]; then
  if [[ "$quick" == true ]]; then
    "${DENO:-deno}" run -A bench/cluster.ts --megabytes 16 --round-trips 200 || status=$?
  else
    "${DENO:-deno}" run -A bench/cluster.ts || status=$?
  fi
fi
exit "$status"
