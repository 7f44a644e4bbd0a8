#!/usr/bin/env bash
# Run `ansible-test sanity` offline for one stack: tools/sanity.sh VENV PYTHON_VERSION [ansible-test args...]
#
# ansible-test wants the collection below ansible_collections/<namespace>/<name>/ with its dependencies
# (amazon.aws) in the same tree, and lists the files to test with git. So this copies the files git would
# commit (tracked and untracked-but-not-ignored) into .tmp/sanity-<version>/, links amazon.aws from the
# venv's `ansible` package there, indexes the copy with a throwaway git repository, and runs the tests
# from it. The pip bootstrap script ansible-test would download is replaced by tools/get_pip_standin.py.
set -euo pipefail
venv=${1:?usage: sanity.sh VENV PYTHON_VERSION [ansible-test args...]}
pyver=${2:?usage: sanity.sh VENV PYTHON_VERSION [ansible-test args...]}
shift 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(cd "$root" && cd "$venv" && pwd)
work="$root/.tmp/sanity-$pyver"
dest="$work/ansible_collections/mailops/workmail"

rm -rf "$work"
mkdir -p "$dest" "$work/ansible_collections/amazon"
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files --cached --others --exclude-standard -z \
    | while IFS= read -r -d '' path; do [ -e "$path" ] && printf '%s\0' "$path"; done \
    | xargs -0 --no-run-if-empty cp --parents -t "$dest"
else
  tar -cf - --exclude='./.venv*' --exclude=./.tmp --exclude=./.git --exclude='*.pyc' --exclude=__pycache__ . \
    | tar -xf - -C "$dest"
fi

amazon_aws=$("$venv/bin/python" -c 'import ansible_collections.amazon.aws as m; print(list(m.__path__)[0])')
ln -s "$amazon_aws" "$work/ansible_collections/amazon/aws"

ansible_test_lib=$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$ansible_test_lib/_internal/python_requirements.py" | head -n 1)
if [ -z "$pip_version" ]; then
  echo "sanity.sh: cannot tell which pip version ansible-test bootstraps" >&2
  exit 2
fi
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cp "$root/tools/get_pip_standin.py" "$cache"
fi

cd "$dest"
git init --quiet
git add --all
export PATH="$venv/bin:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1
echo "ansible-test sanity: $("$venv/bin/ansible" --version | head -n 1), Python $pyver, in ${dest#"$root"/}"
ansible-test sanity --python "$pyver" --color no "$@"
