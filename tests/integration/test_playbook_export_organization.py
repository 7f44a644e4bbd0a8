"""The collection playbook mailops.workmail.export_organization, run by ansible-playbook against the local AWS."""

import json
import re
from pathlib import Path

import pytest
from workmail_emulator.provision import provision_export_destination
from campaign_setup import whole_manifest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "export_organization.yml"
SURVEY = ROOT / "docs" / "awx" / "export_organization_survey.json"
AWX_TYPES = {
    "text": str,
    "textarea": str,
    "password": str,
    "integer": int,
    "float": (int, float),
    "multiplechoice": str,
    "multiselect": str,
}

REGION = "us-east-1"
BUCKET = "org-export-bucket"
PREFIX = "workmail-exports/"
CAMPAIGN = "eos"
MANIFEST_KEY = f"{PREFIX}mailops-campaigns/{CAMPAIGN}/manifest.json"
LOCK_KEY = f"{PREFIX}mailops-campaigns/{CAMPAIGN}/lock.json"
# Sizes in MB: twelve mailboxes, two of them resources.
USER_SIZES = [40, 5, 300, 12, 80, 1, 150, 22, 9, 60]
RESOURCE_SIZES = [3, 7]
TOTAL = len(USER_SIZES) + len(RESOURCE_SIZES)
IMPORT = """
- name: The collection playbook
  ansible.builtin.import_playbook: mailops.workmail.export_organization
"""
EXPORT_TASK = "Export the organization's mailboxes"
REPORT_TASK = "Report on the campaign"
FAIL_TASK = "Fail when the export failed"
FAIL_TASK_NAME = "Fail when the export failed, mailboxes were given up or exports failed verification"


@pytest.fixture(name="org")
def org_fixture(aws):
    users = [
        {"name": f"user{index:02d}", "email": f"user{index:02d}@play.example", "size_mb": size}
        for index, size in enumerate(USER_SIZES)
    ]
    resources = [
        {"name": f"room{index}", "email": f"room{index}@play.example", "size_mb": size, "type": "ROOM"}
        for index, size in enumerate(RESOURCE_SIZES)
    ]
    return aws.add_organizations([{"alias": "play", "region": REGION, "users": users, "resources": resources}])[0]


@pytest.fixture(name="small_org")
def small_org_fixture(aws):
    users = [
        {"name": "big", "email": "big@small.example", "size_mb": 50},
        {"name": "tiny", "email": "tiny@small.example", "size_mb": 1},
    ]
    return aws.add_organizations([{"alias": "small", "region": REGION, "users": users}])[0]


def existing_destination(aws, org):
    """An export destination made without the playbook; the variables that make the playbook use it."""
    destination = provision_export_destination(aws.client, org["id"], BUCKET, PREFIX, REGION)
    return {
        "workmail_provision": False,
        "workmail_role_arn": destination["role_arn"],
        "workmail_kms_key_arn": destination["kms_key_arn"],
    }


@pytest.fixture(autouse=True)
def custom_stats(monkeypatch):
    """Make the JSON callback print set_stats data (global_custom_stats)."""
    monkeypatch.setenv("ANSIBLE_SHOW_CUSTOM_STATS", "true")


def answers(org, **extra):
    values = {
        "workmail_organization_id": org["id"],
        "workmail_region": REGION,
        "workmail_bucket": BUCKET,
        "workmail_campaign": CAMPAIGN,
    }
    values.update(extra)
    return values


def report(run):
    lines = run.task(REPORT_TASK)["msg"]
    assert isinstance(lines, list), lines
    return lines


def line(lines, start):
    found = [text for text in lines if text.startswith(start)]
    assert found, f"no report line starting with {start!r} in {lines}"
    return found[0]


def stats(run):
    return run.data["global_custom_stats"]["workmail_export_summary"]


def task_names(run):
    return [name for name, _result in run.tasks]


def starts(aws):
    return aws.calls().get("StartMailboxExportJob", 0)


def object_exists(aws, key):
    listed = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=key)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def read_manifest(aws):
    return whole_manifest(aws, BUCKET, MANIFEST_KEY)


def documented_variables():
    """The variables the playbook's header comment documents (``#   workmail_x   text``)."""
    header = PLAYBOOK.read_text().split("\n- name:", 1)[0]
    return set(re.findall(r"^#   (workmail_[a-z_]+) ", header, re.MULTILINE))


def test_full_run_exports_everything_reports_and_publishes(aws, org, playbook):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    values = answers(org, workmail_wait=True, workmail_poll_interval=5, workmail_wait_timeout=300)

    run = playbook(IMPORT, extra_vars=values)
    assert not run.failed, (run, run.stderr)
    result = run.task(EXPORT_TASK)
    assert result["done"] is True
    assert result["passes"] >= 2
    assert result["summary"]["completed"] == TOTAL
    assert result["summary"]["verified"] == TOTAL
    assert starts(aws) == TOTAL
    assert result["started_total"] == TOTAL  # over every pass; started lists the last pass's
    assert re.search(rf"campaign {CAMPAIGN}: {TOTAL}/{TOTAL} completed, 0 running", run.stderr)

    lines = report(run)
    assert lines[0] == f"Campaign {CAMPAIGN} of organization {org['id']} ({REGION})"
    assert line(lines, "Manifest: ") == f"Manifest: s3://{BUCKET}/{MANIFEST_KEY}"
    assert line(lines, "Mailboxes: ").startswith(
        f"Mailboxes: {TOTAL} in the campaign: {TOTAL} exported ({TOTAL} verified)"
    )
    assert line(lines, "Done: ") == "Done: yes - every selected mailbox is exported and verified"
    assert "disable the schedule" in line(lines, "Next: ")
    assert run.task(FAIL_TASK).get("skipped") is True
    eta = result["eta"]
    assert eta["basis"] == "done" and eta["at_risk"] is False and eta["completed_jobs_observed"] == TOTAL
    assert line(lines, "Estimated end: ").startswith(f"Estimated end: done - the last job ended at {eta['eta']} (")
    assert re.search(rf"campaign {CAMPAIGN}: {TOTAL}/{TOTAL} completed, .*; done at ", run.stderr)

    published = stats(run)
    assert published["campaign"] == CAMPAIGN
    assert published["organization_id"] == org["id"]
    assert published["done"] is True
    assert published["check_mode"] is False
    assert published["export_failed"] is False
    assert published["summary"]["completed"] == TOTAL and published["started"] == TOTAL
    assert line(lines, "This run: ").endswith(f", {TOTAL} export job(s) started")
    assert published["manifest"] == f"s3://{BUCKET}/{MANIFEST_KEY}"
    assert published["failures"] == 0
    assert published["verification_problems"] == 0
    assert published["eta"] == published["eta_early"] == published["eta_late"] == eta["eta"]
    assert published["eta_basis"] == "done" and published["eta_at_risk"] is False and published["eta_advice"] == []
    assert published["deadline"] == "2027-03-31T00:00:00+00:00"

    manifest = read_manifest(aws)
    assert all(entry["state"] == "COMPLETED" for entry in manifest["mailboxes"].values())

    again = playbook(IMPORT, extra_vars=values)
    assert not again.failed, (again, again.stderr)
    assert again.changed == 0, [name for name, result in again.tasks if result.get("changed")]
    assert again.task(EXPORT_TASK)["passes"] == 1
    assert starts(aws) == TOTAL
    assert line(report(again), "Done: ").startswith("Done: yes")


def test_one_pass_without_wait_and_survey_style_answers(aws, org, playbook):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    # As an AWX survey sends them: numbers and booleans as text, lists as lines or comma-separated text.
    values = answers(
        org,
        **existing_destination(aws, org),
        workmail_wait="false",
        workmail_max_concurrent_jobs="4",
        workmail_max_attempts="2",
        workmail_exclude="room*,\n user09@PLAY.example \n",
        workmail_include="",
        workmail_mailboxes="",
        workmail_skip_system_users="true",
        workmail_prefix="",
        awx_job_id=7,
    )
    run = playbook(IMPORT, extra_vars=values)
    assert not run.failed, (run, run.stderr)
    result = run.task(EXPORT_TASK)
    assert result["passes"] == 1
    assert result["lock_owner"] == "awx-job-7"
    assert result["done"] is False
    assert result["summary"]["total"] == len(USER_SIZES) - 1
    assert len(result["started"]) == 4
    assert starts(aws) == 4
    emails = {item["email"] for item in result["started"]}
    assert "user09@play.example" not in emails

    lines = report(run)
    assert line(lines, "This run: ").startswith("This run: one pass, 4 export job(s) started: ")
    assert line(lines, "Done: ") == "Done: no"
    assert "run again" in line(lines, "Next: ")
    assert line(lines, "Estimated end: ").startswith("Estimated end: unknown yet (no job of the campaign has completed yet")
    assert not [text for text in lines if text.startswith("AT RISK")]
    published = stats(run)
    assert published["done"] is False
    assert published["eta"] is None and published["eta_basis"] == "no_completed_jobs" and published["eta_at_risk"] is False
    assert published["started"] == 4
    assert published["summary"]["running"] == 4
    assert not object_exists(aws, LOCK_KEY)
    # The default prefix applies to an empty answer.
    assert object_exists(aws, MANIFEST_KEY)


def test_check_mode_starts_nothing_and_lists_what_it_would_start(aws, org, playbook):
    # Against an account without the destination: the role predicts it, the export cannot be planned yet.
    fresh = playbook(IMPORT, extra_vars=answers(org), check=True)
    assert not fresh.failed, (fresh, fresh.stderr)
    assert fresh.task(EXPORT_TASK).get("skipped") is True
    lines = report(fresh)
    assert lines[0].endswith("CHECK MODE: nothing was started or saved")
    assert line(lines, "Done: ") == "Done: no - the export destination does not exist yet"
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert stats(fresh)["check_mode"] is True

    run = playbook(
        IMPORT, extra_vars=answers(org, **existing_destination(aws, org), workmail_max_concurrent_jobs=3), check=True
    )
    assert not run.failed, (run, run.stderr)
    result = run.task(EXPORT_TASK)
    assert [item["size_mb"] for item in result["would_start"]] == [300, 150, 80]
    lines = report(run)
    assert line(lines, "Would start now (3): ") == (
        "Would start now (3): user02@play.example, user06@play.example, user04@play.example"
    )
    assert line(lines, "Would wait for a free slot: ") == f"Would wait for a free slot: {TOTAL - 3}"
    assert line(lines, "Next: ") == "Next: run without --check to start the exports."
    assert starts(aws) == 0
    assert not object_exists(aws, MANIFEST_KEY)
    assert not object_exists(aws, LOCK_KEY)


@pytest.mark.parametrize(
    "change, named",
    [
        ({"workmail_campaign": None}, "workmail_campaign"),
        ({"workmail_organization_id": None}, "workmail_organization_id"),
        ({"workmail_region": "eu-central-1"}, "workmail_region"),
        ({"workmail_max_attempts": "three"}, "workmail_max_attempts"),
        ({"workmail_verify": "full"}, "workmail_verify"),
        ({"workmail_organization_id": "m-123"}, "workmail_organization_id"),
        ({"workmail_campaign": "end of support"}, "workmail_campaign"),
        ({"workmail_prefix": "exports"}, "workmail_prefix"),
        ({"workmail_max_concurrent_jobs": 11}, "workmail_max_concurrent_jobs"),
        ({"workmail_poll_interval": 1}, "workmail_poll_interval"),
        ({"workmail_deadline": "end of March"}, "workmail_deadline"),
        ({"workmail_deadline_margin_days": "-1"}, "workmail_deadline_margin_days"),
        ({"workmail_provision": False}, "workmail_role_arn"),
        ({"workmail_mailboxes": "user01", "workmail_include": "user*"}, "workmail_mailboxes"),
    ],
)
def test_bad_variables_fail_before_any_aws_call(aws, org, playbook, change, named):
    values = answers(org)
    for name, value in change.items():
        if value is None:
            values.pop(name)
        else:
            values[name] = value
    run = playbook(IMPORT, extra_vars=values)
    assert run.failed
    failures = run.failures()
    assert len(failures) == 1, failures
    name, result = failures[0]
    assert name.startswith("Check the variables"), name
    assert named in result["msg"], result["msg"]
    assert all(task.startswith("Check the variables") for task in task_names(run)), task_names(run)
    assert sum(aws.calls().values()) == 0
    assert aws.client("s3").list_buckets()["Buckets"] == []


def test_a_campaign_late_for_its_deadline_is_reported_at_risk_with_what_would_help(aws, small_org, playbook):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=1)
    values = answers(
        small_org,
        **existing_destination(aws, small_org),
        workmail_max_concurrent_jobs="1",
        workmail_deadline="2026-01-01",
        workmail_deadline_margin_days="3",
    )
    run = playbook(IMPORT, extra_vars=values)
    assert not run.failed, (run, run.stderr)
    eta = run.task(EXPORT_TASK)["eta"]
    assert eta["at_risk"] is True and eta["deadline_with_margin"] == "2025-12-29T00:00:00+00:00"
    warnings = " ".join(run.task(EXPORT_TASK).get("warnings", []))
    # 2026-01-01 has passed: said plainly, not as a risk.
    assert eta["deadline_passed"] is True and eta["warning"].startswith("the deadline 2026-01-01T00:00:00+00:00 has passed (")
    assert "has passed" in warnings and "raise max_concurrent_jobs from 1 to 10" in warnings
    assert "may not finish in time" not in warnings and "every slot" not in warnings
    lines = report(run)
    assert line(lines, "DEADLINE PASSED: ") == f"DEADLINE PASSED: {eta['warning']}"
    assert "What would help:" in lines
    assert any(text.strip().startswith("- raise max_concurrent_jobs from 1 to 10") for text in lines), lines
    published = stats(run)
    assert published["eta_at_risk"] is True and published["eta_warning"] == eta["warning"]
    assert published["deadline"] == "2026-01-01T00:00:00+00:00"

    # Waiting: each progress line says so while the campaign runs; once it is done it is no longer at risk.
    waited = playbook(IMPORT, extra_vars=dict(values, workmail_wait="true", workmail_poll_interval="5"))
    assert not waited.failed, (waited, waited.stderr)
    assert re.search(
        r"campaign eos: \d/2 completed, .*DEADLINE PASSED: 2026-01-01 00:00 UTC; would help: ",
        waited.stderr,
    ), waited.stderr
    assert waited.task(EXPORT_TASK)["done"] is True and stats(waited)["eta_at_risk"] is False
    # The module's warnings go through module.warn(), never exit_json(warnings=...), which ansible-core deprecates.
    assert "DEPRECATION" not in run.stderr + waited.stderr and "warnings` to `exit_json" not in run.stdout + waited.stdout
    assert not [text for text in report(waited) if text.startswith(("AT RISK", "DEADLINE PASSED"))]


def test_survey_spec_is_a_valid_awx_survey_for_this_playbook(aws, org, playbook):
    survey = json.loads(SURVEY.read_text())
    assert isinstance(survey["name"], str) and survey["name"]
    assert isinstance(survey["description"], str)
    spec = survey["spec"]
    assert isinstance(spec, list) and spec
    documented = documented_variables()
    assert {"workmail_organization_id", "workmail_region", "workmail_bucket", "workmail_campaign"} <= documented
    variables = [item["variable"] for item in spec]
    assert len(variables) == len(set(variables))
    assert set(variables) <= documented, set(variables) - documented
    for item in spec:
        for field in ("question_name", "variable", "type"):
            assert isinstance(item[field], str) and item[field], item
        assert isinstance(item["required"], bool), item
        assert item["type"] in AWX_TYPES, item
        for key in ("min", "max"):
            assert item.get(key) is None or isinstance(item[key], int), item
        if item.get("default") not in (None, ""):
            assert isinstance(item["default"], AWX_TYPES[item["type"]]), item
        if item["type"] in ("multiplechoice", "multiselect"):
            # This survey gives choices as newline-separated text (docs/awx.md says so).
            assert isinstance(item["choices"], str), item
            choices = [choice for choice in item["choices"].splitlines() if choice.strip()]
            assert item["default"] in choices, item
        if item["type"] == "integer" and item.get("default") not in (None, ""):
            assert item["min"] <= item["default"] <= item["max"], item
    required = {item["variable"] for item in spec if item["required"] and item.get("default") in (None, "")}
    assert required == {"workmail_organization_id", "workmail_bucket", "workmail_campaign"}

    # What AWX sends when the required questions are answered and the rest keep their defaults.
    values = {item["variable"]: item.get("default", "") for item in spec}
    values.update(answers(org))
    values.update(existing_destination(aws, org), workmail_provision="false")
    run = playbook(IMPORT, extra_vars=values, check=True)
    assert not run.failed, (run, run.stderr)
    assert len(run.task(EXPORT_TASK)["would_start"]) == 10
    assert starts(aws) == 0


def test_permanent_failure_fails_the_play_after_the_report(aws, small_org, playbook):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    destination = existing_destination(aws, small_org)
    values = answers(small_org, **destination, workmail_max_concurrent_jobs=1, workmail_max_attempts=1)
    first = playbook(IMPORT, extra_vars=values)
    assert not first.failed, (first, first.stderr)
    assert [item["email"] for item in first.task(EXPORT_TASK)["started"]] == ["big@small.example"]

    # The job of big fails for its mailbox (a failure of the destination would not use the attempt).
    big = next(user for user in small_org["users"] if user["email"] == "big@small.example")
    aws.fail_next_jobs(big["id"], error_info="The mailbox content could not be read")
    aws.advance_clock(61)
    second = playbook(IMPORT, extra_vars=values)
    assert second.failed
    assert [name for name, _result in second.failures()] == [FAIL_TASK_NAME]
    result = second.task(EXPORT_TASK)
    assert result["summary"]["failed_permanently"] == 1
    assert [item["email"] for item in result["started"]] == ["tiny@small.example"]
    names = task_names(second)
    assert names.index(REPORT_TASK) < names.index("Publish the campaign's summary for workflows") < len(names) - 1
    lines = report(second)
    given_up = lines.index("Given up after 1 attempt(s) (1):")
    assert lines[given_up + 1].startswith("  - big@small.example (1 attempt(s), last job ")
    assert "The mailbox content could not be read" in lines[given_up + 1]
    assert line(lines, "Done: ") == "Done: no"
    published = stats(second)
    assert published["failures"] == 1
    assert published["failed_mailboxes"] == ["big@small.example"]
    assert "1 mailbox(es) given up" in second.task(FAIL_TASK)["msg"]

    aws.advance_clock(61)
    tolerant = playbook(IMPORT, extra_vars=dict(values, workmail_fail_on_problems=False))
    assert not tolerant.failed, (tolerant, tolerant.stderr)
    lines = report(tolerant)
    assert (
        line(lines, "Done: ") == "Done: yes, with problems - 1 mailbox(es) given up, 0 export(s) failing verification"
    )
    assert "new campaign name" in line(lines, "Next: ")
    assert stats(tolerant)["done"] is True


def test_verification_problem_is_reported_and_fails_the_play(aws, small_org, playbook):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    values = answers(small_org, **existing_destination(aws, small_org))
    first = playbook(IMPORT, extra_vars=values)
    assert not first.failed, (first, first.stderr)
    aws.advance_clock(61)  # the jobs complete and write their objects
    s3 = aws.client("s3")
    big = next(user["id"] for user in small_org["users"] if user["name"] == "big")
    zips = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}{big}/")["Contents"]]
    zips = [key for key in zips if key.endswith(".zip")]
    assert len(zips) == 1, zips
    s3.delete_object(Bucket=BUCKET, Key=zips[0])

    second = playbook(IMPORT, extra_vars=values)
    assert second.failed
    assert [name for name, _result in second.failures()] == [FAIL_TASK_NAME]
    lines = report(second)
    problems = lines.index("Failed verification (1):")
    assert lines[problems + 1].startswith("  - big@small.example (basic check): no object at S3Path")
    assert (
        line(lines, "Done: ") == "Done: yes, with problems - 0 mailbox(es) given up, 1 export(s) failing verification"
    )
    assert stats(second)["verification_problems"] == 1


def test_held_lock_is_reported(aws, small_org, playbook):
    values = answers(small_org, **existing_destination(aws, small_org), awx_job_id=42)
    lock = {"owner": "awx-job-41", "acquired": "2026-11-22T05:00:00+00:00", "expires": "2099-01-01T00:00:00+00:00"}
    aws.client("s3").put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=json.dumps(lock).encode())

    run = playbook(IMPORT, extra_vars=values)
    assert run.failed
    # The export task's failure is rescued, so that the report and set_stats run; the last task fails the play.
    assert [name for name, _result in run.failures()] == [EXPORT_TASK, FAIL_TASK_NAME]
    assert run.stats["rescued"] == 1
    lines = report(run)
    assert "awx-job-41" in line(lines, "The export task FAILED: ")
    assert line(lines, "Done: ") == "Done: unknown - another run of this campaign holds its lock"
    assert "2099-01-01T00:00:00+00:00" in line(lines, "Next: ")
    assert stats(run)["export_failed"] is True
    assert starts(aws) == 0


def test_the_guides_schedule_answers_every_required_question():
    """docs/awx.md's schedule gives its survey answers as extra data; AWX refuses it when a required one is missing."""
    schedule = (ROOT / "docs" / "awx.md").read_text().split("awx schedules create", 1)[1].split("```", 1)[0]
    extra_data = json.loads(re.search(r"--extra_data '(.*?)'", schedule, re.DOTALL).group(1))
    spec = json.loads(SURVEY.read_text())["spec"]
    required = {item["variable"] for item in spec if item["required"]}
    assert required and required <= set(extra_data), required - set(extra_data)
    assert {item["variable"] for item in spec} >= set(extra_data)
