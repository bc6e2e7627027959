#!/usr/bin/env bash
# The test command: provisions Deno, Chromium and redis-server, then runs the test suite.
#   bash scripts/test.sh                                   # every tests/*_test.ts
#   bash scripts/test.sh tests/relay_test.ts               # only these files
#   bash scripts/test.sh --filter "reconnects"             # deno test flags; every file
# Each test file runs in its own `deno test` process: node-datachannel is a native addon that
# cannot be loaded again in a second isolate of the same process (Deno 2.9 panics with
# "attempt to access Handle hosted by disposed Isolate"), and `deno test` gives each file an
# isolate of its own. The last line totals every file: "N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/provision.sh
source scripts/provision.sh
export CHROME_PATH REDIS_SERVER
export NO_COLOR=1

files=()
flags=()
for arg in "$@"; do
  if [[ "$arg" != -* && -d "$arg" ]]; then
    while IFS= read -r f; do files+=("$f"); done < <(find "$arg" -name '*_test.ts' | sort)
  elif [[ "$arg" != -* && -e "$arg" ]]; then
    files+=("$arg")
  else
    flags+=("$arg")
  fi
done
if [[ ${#files[@]} -eq 0 ]]; then
  while IFS= read -r f; do files+=("$f"); done < <(find tests -name '*_test.ts' | sort)
fi

passed=0
failed=0
failed_files=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for file in "${files[@]}"; do
  status=0
  # A file that hangs (say, a busy loop no test timer can interrupt) fails alone instead of
  # holding the whole run until CI's own limit.
  timeout --kill-after=10 "${SOCKETPEER_TEST_FILE_TIMEOUT:-600}" \
    "$DENO" test -A ${flags[@]+"${flags[@]}"} "$file" 2>&1 | tee "$log" || status=$?
  [[ $status -eq 124 || $status -eq 137 ]] && echo "$file: no result within ${SOCKETPEER_TEST_FILE_TIMEOUT:-600} s"
  summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1 || true)
  p=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
  f=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [[ $status -ne 0 ]]; then
    # A file that crashed before its summary still counts as one failure.
    [[ -z "$summary" || ${f:-0} -eq 0 ]] && failed=$((failed + 1))
    failed_files+=("$file")
  fi
done

echo
if [[ ${#failed_files[@]} -gt 0 ]]; then
  echo "failing files: ${failed_files[*]}"
fi
echo "tests: ${passed} passed, ${failed} failed"
[[ ${#failed_files[@]} -eq 0 ]]
