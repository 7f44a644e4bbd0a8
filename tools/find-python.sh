#!/usr/bin/env bash
# Print the path of a working Python interpreter of the given version (e.g. 3.12), or nothing.
# Looks at pythonX.Y on PATH (a pyenv shim counts only if it really runs), then at pyenv's versions.
set -u
want=${1:?usage: find-python.sh X.Y}
candidates=("python${want}")
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)/versions/${want}".*/bin "$(pyenv root)/versions/${want}"/bin; do
    [ -x "$dir/python${want}" ] && candidates+=("$dir/python${want}")
  done
fi
for candidate in "${candidates[@]}"; do
  if path=$(command -v "$candidate" 2>/dev/null) \
    && "$path" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '${want}'.split('.'))))" 2>/dev/null; then
    # Resolve a pyenv shim to the interpreter it runs, so venvs are made from the real one.
    "$path" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
exit 0
