#!/usr/bin/env bash
# README command 2: set the machine up, then lint, type-check and run every test.
# Runs every step, reports each, and exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh || { echo "[test] setup failed" >&2; exit 1; }

failed=()
step() {
    local name=$1
    shift
    printf '\n[test] === %s\n' "$name" >&2
    if ! "$@"; then
        failed+=("$name")
    fi
}

step "ruff check" .venv/bin/ruff check .
step "ruff format --check" .venv/bin/ruff format --check .
step "mypy (package)" .venv/bin/mypy
step "mypy (examples, scripts)" .venv/bin/mypy examples scripts
# A hard ceiling so a stuck test can never hang CI; the tests use their own timeouts too.
step "pytest" timeout --kill-after=30 "${TASKMASTER_TEST_TIMEOUT:-3000}" \
    .venv/bin/pytest -q -ra "$@"

if [ "${#failed[@]}" -gt 0 ]; then
    printf '\n[test] FAILED: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\n[test] all checks passed\n' >&2
