"""Stand-in for the pip bootstrap script ``ansible-test`` downloads before it builds a sanity virtualenv.

ansible-test fetches ``get-pip-<version>.py`` from a host that is not reachable from every network (see
https://github.com/ansible/ansible/issues/77304) and caches it as ``~/.ansible/test/cache/get_pip_<version>.py``.
``tools/sanity.sh`` puts this file there instead. It does the same job with what every CPython ships: it
installs pip with ``ensurepip``, then hands the requested packages (``pip==<version>`` and friends) to that
pip, which takes them from the configured package index.
"""

import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])


if __name__ == "__main__":
    main()
