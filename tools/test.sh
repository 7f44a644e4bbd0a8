#!/usr/bin/env bash
# The full test suite behind `make test`. Every stage runs; the script fails when any stage fails.
#   1. pytest on the Python 3.11 / ansible-core 2.19 stack: unit, local-AWS (emulator) and integration tests
#   2. ansible-test sanity on that stack (offline)
#   3. ansible-lint, production profile (offline)
#   4. when a Python 3.12 interpreter exists: unit tests and sanity on the Python 3.12 / ansible-core 2.21 stack
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2

passed=()
failed=()
skipped=()

stage() {
  local name=$1
  shift
  printf '\n=== %s\n' "$name"
  local start=$SECONDS
  if "$@"; then
    passed+=("$name")
    printf '=== %s: passed (%ss)\n' "$name" $((SECONDS - start))
  else
    failed+=("$name")
    printf '=== %s: FAILED (%ss)\n' "$name" $((SECONDS - start))
  fi
}

# The report's browser test renders report.html in Debian's chromium: installed here when it is missing and this is
# root with apt-get (one line says so); otherwise that test skips, and pytest's summary (-ra) says why.
tools/ensure-chromium.sh

# pytest-xdist: one worker per core, each with its own local AWS (the tests are independent). The 15 slowest tests
# are listed, so a test that grows slow is seen.
stage "pytest, Python 3.11 / ansible-core 2.19 (unit, emulator, integration)" \
  .venv/bin/python -m pytest -q -p no:cacheprovider -n auto --durations=15
stage "ansible-test sanity, Python 3.11 / ansible-core 2.19" tools/sanity.sh .venv 3.11
stage "ansible-lint, production profile" make --no-print-directory lint

python312=$(tools/find-python.sh 3.12)
if [ -n "$python312" ]; then
  if make --no-print-directory setup-py312 PYTHON312="$python312"; then
    stage "pytest, Python 3.12 / ansible-core 2.21 (unit)" \
      .venv-py312/bin/python -m pytest -q -p no:cacheprovider tests/unit
    stage "ansible-test sanity, Python 3.12 / ansible-core 2.21" tools/sanity.sh .venv-py312 3.12
  else
    failed+=("set-up of the Python 3.12 stack")
  fi
else
  skipped+=("Python 3.12 / ansible-core 2.21 stack (no python3.12 interpreter on this machine)")
fi

printf '\n=== summary\n'
for name in "${passed[@]}"; do printf 'passed   %s\n' "$name"; done
for name in "${skipped[@]}"; do printf 'SKIPPED  %s\n' "$name"; done
for name in "${failed[@]}"; do printf 'FAILED   %s\n' "$name"; done
printf 'stages: %d passed, %d failed, %d skipped\n' "${#passed[@]}" "${#failed[@]}" "${#skipped[@]}"
[ "${#failed[@]}" -eq 0 ]
