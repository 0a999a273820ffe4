#!/usr/bin/env bash
# Idempotent fresh-machine setup: .venv (Python 3.11+) with the package and its dev extras,
# plus Debian's prometheus (the real server and promtool the tests run).
# Re-running is cheap: pip runs again only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "need root for: $*"
        return 1
    fi
}

# --- Python environment -------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    py=$(find_python) || { log "Python 3.11+ not found (set PYTHON=/path/to/python3.11)"; exit 1; }
    log "creating .venv with $py"
    "$py" -m venv .venv
fi
stamp=.venv/.taskmaster-setup
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    log 'pip install -e ".[dev]"'
    timeout 1200 .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        --no-input -e ".[dev]"
    echo "$want" >"$stamp"
fi

# --- Debian packages the tests run ----------------------------------------------------------
# Each entry: "<file that proves it is installed> <debian package>".
debian_packages=(
    "/usr/bin/promtool prometheus"
    "/usr/bin/amtool prometheus-alertmanager"
)
missing=()
for entry in "${debian_packages[@]}"; do
    read -r proof package <<<"$entry"
    [ -e "$proof" ] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || { log "install by hand: ${missing[*]}"; exit 1; }
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root timeout 900 apt-get -o DPkg::Lock::Timeout=300 update -qq
    as_root timeout 1800 apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "${missing[@]}" </dev/null
fi

# --- The Compose Specification JSON schema (the tests validate docker-compose.yml) ---------
# It ships inside the npm package dclint; only the schema file is used.
compose_schema=.venv/npm/node_modules/dclint/schemas/compose.schema.json
if [ ! -f "$compose_schema" ]; then
    command -v npm >/dev/null 2>&1 || { log "npm is needed for the Compose schema"; exit 1; }
    log "npm install dclint@3.1.0 (for its compose.schema.json)"
    timeout 600 npm install --silent --no-save --no-package-lock --no-audit --no-fund \
        --prefix .venv/npm dclint@3.1.0 </dev/null
fi
log "ready: $(.venv/bin/python --version), $(/usr/bin/promtool --version 2>&1 | head -n1)"
