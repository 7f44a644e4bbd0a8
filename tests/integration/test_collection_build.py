"""The collection builds into a clean tarball that installs offline and whose plugins ansible-doc lists."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FORBIDDEN_PARTS = {".venv", ".venv-py312", ".tmp", "__pycache__", ".pytest_cache", ".git", "collections", ".cache"}


def clean_env(**extra):
    """The environment without the collection path pytest's conftest sets, so only the tarball counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_COLLECTIONS_PATH")}
    env.update(extra)
    return env


def run(args, env=None):
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=env or clean_env())
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT)])
    built = list(out.glob("mailops-workmail-*.tar.gz"))
    assert len(built) == 1, built
    return built[0]


def test_tarball_holds_no_caches_venvs_or_generated_trees(tarball):
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    offending = [name for name in names if FORBIDDEN_PARTS & set(Path(name).parts) or name.endswith((".pyc", ".tar.gz"))]
    assert offending == []
    assert "MANIFEST.json" in names and "FILES.json" in names
    assert "meta/runtime.yml" in names
    assert "README.md" in names
    # The collection playbook and the AWX survey ship; the demo (for the local AWS only) does not.
    assert "playbooks/export_organization.yml" in names
    assert "docs/awx/export_organization_survey.json" in names and "docs/awx.md" in names
    assert not any(name.startswith("demo/") for name in names)


def test_installed_tarball_lists_every_module(tarball, tmp_path):
    target = tmp_path / "installed"
    target.mkdir()
    run([BIN / "ansible-galaxy", "collection", "install", str(tarball), "--no-deps", "-p", str(target)])
    assert (target / "ansible_collections" / "mailops" / "workmail" / "MANIFEST.json").is_file()

    listing = run([BIN / "ansible-doc", "-l", "mailops.workmail"], env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(target))).stdout
    listed = {line.split()[0] for line in listing.splitlines() if line.strip()}
    expected = {f"mailops.workmail.{p.stem}" for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__"}
    assert listed == expected
