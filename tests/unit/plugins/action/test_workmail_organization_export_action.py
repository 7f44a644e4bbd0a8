# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action plugin's wait loop, with the module's passes scripted and a fake clock."""

from types import SimpleNamespace

import pytest
from ansible_collections.mailops.workmail.plugins.action.workmail_organization_export import ActionModule
from ansible_collections.mailops.workmail.plugins.action.workmail_organization_export import progress_line

ARGS = {"organization_id": "m-" + "0" * 32, "campaign": "eos"}


def summary(completed, total=10, running=0, pending=0):
    return {"total": total, "completed": completed, "running": running, "pending": pending, "failed": 0}


class Harness:
    """The plugin with ``passes`` as the module's successive results; ``sleeps`` and ``calls`` record the loop."""

    def __init__(self, passes, check_mode=False, **args):
        task = SimpleNamespace(args=dict(ARGS, **args), async_val=0, check_mode=check_mode, action="x")
        connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="/tmp/unused"))
        play_context = SimpleNamespace(check_mode=check_mode)
        self.plugin = ActionModule(task, connection, play_context, None, None)
        self.passes = list(passes)
        self.calls = []
        self.sleeps = []
        self.now = 1000.0
        self.plugin._execute_module = self.execute
        self.plugin.clock = lambda: self.now
        self.plugin.sleep = self.sleep

    def execute(self, module_name, module_args, task_vars):
        self.calls.append((module_name, dict(module_args)))
        self.now += 2  # a pass takes two seconds
        return dict(self.passes.pop(0))

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def run(self):
        return self.plugin.run(task_vars={})


def test_without_wait_one_pass_runs_with_the_arguments_as_given():
    harness = Harness([{"changed": True, "done": False, "summary": summary(0)}])
    result = harness.run()
    assert result["passes"] == 1 and result["changed"] is True
    assert harness.calls == [("mailops.workmail.workmail_organization_export", ARGS)]
    assert harness.sleeps == []


def test_wait_repeats_passes_until_done_with_one_lock_owner():
    passes = [
        {"changed": True, "done": False, "summary": summary(0, running=10)},
        {"changed": False, "done": False, "summary": summary(5, running=5)},
        {"changed": True, "done": True, "summary": summary(10)},
    ]
    harness = Harness(passes, wait=True, poll_interval=30)
    result = harness.run()
    assert result["passes"] == 3 and result["done"] is True and result["changed"] is True
    assert harness.sleeps == [30, 30]
    owners = {args["lock_owner"] for dummy, args in harness.calls}
    assert len(owners) == 1 and owners.pop().startswith("ansible-")
    assert all(args["wait"] is False for dummy, args in harness.calls)


def test_wait_totals_the_jobs_every_pass_started():
    def started(count):
        return [{"id": f"m{index}", "email": f"u{index}@example.com"} for index in range(count)]

    passes = [
        {"changed": True, "done": False, "summary": summary(0, running=10), "started": started(10)},
        {"changed": True, "done": False, "summary": summary(5, running=5), "started": started(1)},
        {"changed": False, "done": True, "summary": summary(11), "started": []},
    ]
    result = Harness(passes, wait=True, poll_interval=30).run()
    assert result["started_total"] == 11 and result["started"] == []  # started: the last pass's
    once = Harness([{"changed": True, "done": False, "started": started(3)}]).run()
    assert once["started_total"] == 3 and once["passes"] == 1


def test_wait_keeps_a_given_lock_owner_and_reads_text_numbers():
    harness = Harness([{"done": True, "summary": summary(10)}], wait="true", lock_owner="awx-job-7", wait_timeout="60")
    result = harness.run()
    assert result["passes"] == 1 and result["changed"] is False
    assert harness.calls[0][1]["lock_owner"] == "awx-job-7"


def test_a_failed_pass_stops_the_loop():
    passes = [{"changed": True, "done": False, "summary": summary(0)}, {"failed": True, "msg": "lock held"}]
    harness = Harness(passes + [{"done": True}], wait=True, poll_interval=5)
    result = harness.run()
    assert result["failed"] is True and result["msg"] == "lock held"
    assert result["passes"] == 2 and result["changed"] is True
    assert len(harness.passes) == 1  # the third pass never ran


def test_wait_timeout_fails_naming_the_counts_and_leaves_the_jobs():
    passes = [{"done": False, "summary": summary(n, running=10 - n)} for n in range(5)]
    harness = Harness(passes, wait=True, poll_interval=60, wait_timeout=150)
    result = harness.run()
    assert result["failed"] is True
    # Passes end at 2 s, 64 s and 126 s; a fourth after another 60 s would end past 150 s.
    assert result["passes"] == 3 and harness.sleeps == [60, 60]
    assert "wait_timeout (150s) passed after 3 passes with 2 of 10 mailboxes completed, 8 running" in result["msg"]
    assert "running the task again resumes the campaign" in result["msg"]


def test_check_mode_makes_one_pass_even_with_wait():
    harness = Harness([{"changed": True, "done": False, "would_start": []}], check_mode=True, wait=True)
    assert harness.run()["passes"] == 1
    assert harness.sleeps == []


@pytest.mark.parametrize(
    "args, message",
    [
        ({"wait": "maybe"}, "wait: "),
        ({"wait": True, "poll_interval": 4}, "poll_interval: must be an integer of at least 5, got 4"),
        ({"wait": True, "poll_interval": "ten"}, "poll_interval: must be an integer of at least 5, got 'ten'"),
        ({"wait": True, "wait_timeout": "1e9"}, "wait_timeout: must be an integer of at least 1, got '1e9'"),
        ({"wait": True, "wait_timeout": 0}, "wait_timeout: must be an integer of at least 1, got 0"),
    ],
)
def test_bad_wait_arguments_fail_before_any_pass(args, message):
    harness = Harness([], **args)
    result = harness.run()
    assert result["failed"] is True and result["msg"].startswith(message)
    assert harness.calls == []


def test_the_next_pass_comes_when_the_pass_said_counted_from_its_start():
    passes = [
        {"changed": True, "done": False, "summary": summary(0, running=10), "pass": {"next_pass_in": 40.0}},
        {"changed": False, "done": False, "summary": summary(5, running=5), "pass": {"next_pass_in": 3.0}},
        {"changed": True, "done": True, "summary": summary(10)},
    ]
    harness = Harness(passes, wait=True, poll_interval=600)
    harness.run()
    # each pass takes two seconds: 40 s after the first pass's start is 38 s after its end; never less than 5 s
    assert harness.sleeps == [38, 5]


def test_the_progress_line_gives_the_estimate_its_risk_and_the_report():
    eta = {
        "basis": "few_jobs",
        "eta": "2027-03-20T06:00:00+00:00",
        "early": "2027-03-10T00:00:00+00:00",
        "late": "2027-03-25T12:30:00+00:00",
        "at_risk": True,
        "deadline_with_margin": "2027-03-17T00:00:00+00:00",
        "margin_days": 14,
        "advice": ["raise max_concurrent_jobs from 4 to 10", "fix the failures"],
    }
    report = {"written": True, "html": "s3://bucket/exports/mailops-campaigns/eos/report.html"}
    line = progress_line("eos", {"summary": summary(3, running=2), "eta": eta, "report": report}, 2, 90)
    assert line == (
        "campaign eos: 3/10 completed, 2 running, 0 pending, 0 failed; ETA 2027-03-10 00:00 UTC to 2027-03-25 12:30 UTC, "
        "AT RISK: past 2027-03-17 00:00 UTC (deadline less 14 days); would help: raise max_concurrent_jobs from 4 to 10; "
        "fix the failures; report s3://bucket/exports/mailops-campaigns/eos/report.html "
        "(pass 2, 1m elapsed)"
    )
    quiet = progress_line(
        "eos", {"summary": summary(3), "eta": dict(eta, at_risk=False), "report": dict(report, written=False)}, 3, 5
    )
    assert quiet.endswith("0 failed; ETA 2027-03-10 00:00 UTC to 2027-03-25 12:30 UTC (pass 3, 5s elapsed)")
    assert (
        progress_line("eos", {"summary": summary(0)}, 1, 5)
        == "campaign eos: 0/10 completed, 0 running, 0 pending, 0 failed (pass 1, 5s elapsed)"
    )


def test_the_progress_line_names_a_sealed_part_found_missing():
    problem = "sealed part s3://b/p/manifest.sealed-0001-0123456789abcdef.json of the campaign manifest is missing"
    line = progress_line("eos", {"summary": summary(10), "sealed_part_problems": [problem]}, 4, 5)
    assert line == (
        f"campaign eos: 10/10 completed, 0 running, 0 pending, 0 failed; 1 SEALED PART(S) MISSING OR ALTERED: "
        f"{problem} (pass 4, 5s elapsed)"
    )


def test_the_pass_that_may_be_the_last_of_a_wait_asks_for_the_report():
    passes = [{"done": False, "summary": summary(n, running=10 - n)} for n in range(5)]
    harness = Harness(passes, wait=True, poll_interval=60, wait_timeout=150)
    harness.run()
    # Passes start at 0 s, 62 s and 124 s of the 150: only the last may be followed by no other.
    assert ["report_interval" in args for dummy, args in harness.calls] == [False, False, True]
    assert harness.calls[-1][1]["report_interval"] == 0
