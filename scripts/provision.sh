#!/usr/bin/env bash
# Provisions what the tests need on a Debian machine that has only Node and npm:
#   - Deno 2.9.6, through `npx -y deno@2.9.6` (the npm registry is the only download source);
#   - Chromium: $CHROME_PATH, else /usr/bin/chromium, else `apt-get install chromium`;
#   - redis-server: $REDIS_SERVER, else on PATH, else `apt-get install redis-server`.
# apt-get runs only as root (or through passwordless sudo). Idempotent; quiet on success.
# Anything still missing is named on stderr and the status is non-zero: nothing is skipped.
#
# Source it to get the environment (used by scripts/test.sh and .ci/run):
#   source scripts/provision.sh
# which exports DENO (the binary), CHROME_PATH, REDIS_SERVER, and puts a `deno` shim first on
# PATH (.tmp/bin/deno). Run it (`bash scripts/provision.sh`) to only check and install.

provision_deno_version="2.9.6"
provision_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
provision_log="$(mktemp)"
provision_missing=()

# Finds the Deno binary that npx installs; links it as .tmp/bin/deno so each call skips npx.
provision_deno() {
  local shim_dir="$provision_root/.tmp/bin" binary="" npx_log
  if [[ -x "$shim_dir/deno" ]] &&
    [[ "$("$shim_dir/deno" --version 2>/dev/null)" == "deno $provision_deno_version "* ]]; then
    binary="$(readlink -f "$shim_dir/deno")"
  else
    npx_log="$(mktemp)"
    binary="$(cd "$provision_root" &&
      DENO_NO_UPDATE_CHECK=1 npx -y "deno@$provision_deno_version" eval --quiet \
        'console.log(Deno.execPath())' </dev/null 2>"$npx_log")" || binary=""
    if [[ ! -x "$binary" ]]; then
      cat "$npx_log" >>"$provision_log"
      rm -f "$npx_log"
      provision_missing+=("deno $provision_deno_version: \`npx -y deno@$provision_deno_version\` failed")
      return
    fi
    rm -f "$npx_log"
    mkdir -p "$shim_dir" && ln -sfn "$binary" "$shim_dir/deno"
  fi
  export DENO="$binary"
  export DENO_NO_UPDATE_CHECK=1
  case ":$PATH:" in
    *":$shim_dir:"*) ;;
    *) export PATH="$shim_dir:$PATH" ;;
  esac
}

# Prints how to run a command as root: nothing when root, `sudo -n` when that works, else fails.
provision_as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    return 0
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "sudo -n"
  else
    return 1
  fi
}

# Installs Debian packages; false (with the output kept for the report) when it cannot.
provision_apt_install() {
  local sudo
  if ! sudo="$(provision_as_root)"; then
    echo "apt-get install $*: not root, and no passwordless sudo" >>"$provision_log"
    return 1
  fi
  if [[ -z "${provision_apt_updated:-}" ]]; then
    # shellcheck disable=SC2086 # $sudo is empty or "sudo -n"
    $sudo apt-get update -qq </dev/null >>"$provision_log" 2>&1 || return 1
    provision_apt_updated=1
  fi
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    </dev/null >>"$provision_log" 2>&1
}

provision_chromium() {
  if [[ -n "${CHROME_PATH:-}" ]]; then
    # An explicit choice is never replaced by another browser.
    if [[ ! -x "$CHROME_PATH" ]]; then
      provision_missing+=("chromium: CHROME_PATH=$CHROME_PATH is not an executable file")
    fi
    export CHROME_PATH
    return
  fi
  [[ -x /usr/bin/chromium ]] || provision_apt_install chromium || true
  if [[ ! -x /usr/bin/chromium ]]; then
    provision_missing+=("chromium: /usr/bin/chromium not found and \`apt-get install -y chromium\` \
needs root or failed; install it, or set CHROME_PATH to a Chromium/Chrome binary")
    return
  fi
  export CHROME_PATH=/usr/bin/chromium
}

provision_redis() {
  local found="${REDIS_SERVER:-}"
  if [[ -n "$found" ]]; then
    if [[ ! -x "$found" ]]; then
      provision_missing+=("redis-server: REDIS_SERVER=$found is not an executable file")
    fi
    export REDIS_SERVER="$found"
    return
  fi
  # `command -v` may name a file that is not executable; -x decides.
  found="$(command -v redis-server || true)"
  if [[ ! -x "$found" ]]; then
    provision_apt_install redis-server || true
    found="$(command -v redis-server || true)"
  fi
  if [[ ! -x "$found" ]]; then
    provision_missing+=("redis-server: not on PATH and \`apt-get install -y redis-server\` \
needs root or failed; install it, or set REDIS_SERVER to its path")
    return
  fi
  export REDIS_SERVER="$found"
}

provision_main() {
  provision_deno
  provision_chromium
  provision_redis
  if ((${#provision_missing[@]} > 0)); then
    echo "scripts/provision.sh: cannot provision the test environment; missing:" >&2
    printf '  - %s\n' "${provision_missing[@]}" >&2
    if [[ -s "$provision_log" ]]; then
      echo "output of the failed steps:" >&2
      sed 's/^/    /' "$provision_log" >&2
    fi
    rm -f "$provision_log"
    return 1
  fi
  rm -f "$provision_log"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  provision_main
  exit
fi
provision_main
