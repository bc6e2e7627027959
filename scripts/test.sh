#!/usr/bin/env bash
# The test command: provisions Deno, Chromium and redis-server, then runs the test suite.
#   bash scripts/test.sh                                   # deno test -A tests/
#   bash scripts/test.sh tests/browser_fixture_test.ts     # only these files
#   bash scripts/test.sh --filter "reconnects"             # deno test flags; still tests/
# Arguments go to `deno test -A`; `tests/` is added unless one names an existing file or folder.
# The exit status is the tests' own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/provision.sh
source scripts/provision.sh
export CHROME_PATH REDIS_SERVER

names_path=false
for arg in "$@"; do
  if [[ "$arg" == "--" ]]; then break; fi
  if [[ "$arg" != -* && -e "$arg" ]]; then
    names_path=true
    break
  fi
done
if [[ "$names_path" == false ]]; then
  set -- tests/ "$@"
fi
exec "$DENO" test -A "$@"
