"""Run real ansible-playbook processes against the local AWS (tests/emulator) and read their results as data."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from campaign_setup import ansible_environment
from workmail_emulator.provision import provision_export_destination

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class PlaybookResult:
    """The JSON callback's output of one ansible-playbook run, for localhost."""

    def __init__(self, completed):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        try:
            self.data = json.loads(completed.stdout)
        except ValueError as exc:
            raise AssertionError(f"ansible-playbook printed no JSON (rc={self.rc}):\n{self.stdout}\n{self.stderr}") from exc
        self.stats = self.data["stats"].get("localhost", {})
        # Task names without the "<role> : " prefix ansible adds to the tasks of a role.
        self.tasks = [
            (task["task"]["name"].split(" : ", 1)[-1], task["hosts"]["localhost"])
            for play in self.data["plays"]
            for task in play["tasks"]
            if "localhost" in task["hosts"]
        ]

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    @property
    def failed(self):
        return self.stats.get("failures", 0) > 0 or self.rc != 0

    def task(self, name):
        """The result of the last task run whose name contains `name`."""
        matches = [result for task_name, result in self.tasks if name in task_name]
        assert matches, f"no task named like {name!r} in {[task_name for task_name, _result in self.tasks]}"
        return matches[-1]

    def failures(self):
        return [(name, result) for name, result in self.tasks if result.get("failed") and not result.get("ignore_errors")]

    def __repr__(self):
        return f"PlaybookResult(rc={self.rc}, stats={self.stats}, failures={self.failures()})"


@pytest.fixture
def playbook(aws, tmp_path):
    """Return run(play, extra_vars=None, check=False, diff=False): writes the play and runs ansible-playbook on it."""
    counter = iter(range(1000))

    def run(play, extra_vars=None, check=False, diff=False, timeout=600):
        path = tmp_path / f"play{next(counter)}.yml"
        path.write_text(textwrap.dedent(play) if isinstance(play, str) else json.dumps(play))
        args = [str(BIN / "ansible-playbook"), str(path)]
        if extra_vars:
            args += ["--extra-vars", json.dumps(extra_vars)]
        if check:
            args.append("--check")
        if diff:
            args.append("--diff")
        env = ansible_environment(aws)
        completed = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=timeout, check=False)
        return PlaybookResult(completed)

    return run


@pytest.fixture(name="module")
def module_fixture(playbook):
    """Return run(name, args, check=False, diff=False) -> the result of one task running that module."""

    def run(name, args, check=False, diff=False):
        play = [
            {
                "name": f"Run {name}",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"name": "module under test", f"mailops.workmail.{name}": args}],
            }
        ]
        result = playbook(json.dumps(play), check=check, diff=diff)
        return result.task("module under test")

    return run


@pytest.fixture(name="destination")
def destination_fixture(request, aws, org):
    """A working export destination for ``org`` (the test module's own fixture), in the test module's BUCKET,
    PREFIX and REGION."""
    module = request.module
    return provision_export_destination(aws.client, org["id"], module.BUCKET, module.PREFIX, module.REGION)
