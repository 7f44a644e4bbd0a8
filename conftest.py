"""Make the repository importable as ansible_collections.mailops.workmail for pytest and pytest-ansible.

The repository root is the collection root. Python imports (and ansible's collection loader) need it below
``ansible_collections/mailops/workmail``, so this builds ``.tmp/collections/ansible_collections/mailops/workmail``
as a symlink to the root and points ANSIBLE_COLLECTIONS_PATH at ``.tmp/collections`` before pytest-ansible
configures itself, and switches pytest-ansible to its unit-inject-only mode (the same as
``--ansible-unit-inject-only``), so that it injects that path instead of building a tree of its own. Without
pytest-ansible (``-p no:pytest-ansible``) the path set here is all the tests need. amazon.aws is found in site-packages, where
the ``ansible`` package installs it.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(ROOT, ".tmp", "collections")


def _collection_tree():
    parent = os.path.join(COLLECTIONS, "ansible_collections", "mailops")
    link = os.path.join(parent, "workmail")
    os.makedirs(parent, exist_ok=True)
    if not os.path.islink(link) or os.path.realpath(link) != ROOT:
        tmp = f"{link}.{os.getpid()}"
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    return COLLECTIONS


_paths = [_collection_tree()] + [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(dict.fromkeys(_paths))
# Modules run by ansible-playbook from the tests use this venv's Python (interpreter discovery can pick a
# pyenv shim that is not a Python at all).
os.environ.setdefault("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Put pytest-ansible (when loaded) in unit-inject-only mode before its own pytest_configure runs."""
    if hasattr(config.option, "ansible_unit_inject_only"):
        config.option.ansible_unit_inject_only = True
