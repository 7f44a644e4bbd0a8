"""workmail_organization_export (module and action plugin), run by ansible-playbook against the local AWS."""

import json
import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from campaign_setup import destination_args
from campaign_setup import sized_organization
from campaign_setup import whole_manifest

REGION = "us-east-1"
BUCKET = "campaign-exports"
PREFIX = "exports"
CAMPAIGN = "eos-2026"
MANIFEST_KEY = f"{PREFIX}/mailops-campaigns/{CAMPAIGN}/manifest.json"
LOCK_KEY = f"{PREFIX}/mailops-campaigns/{CAMPAIGN}/lock.json"
# Sizes in MB, deliberately not in listing order.
USER_SIZES = [12, 300, 7, 150, 45, 800, 3, 90, 60, 220, 1, 33, 410, 5, 18]
RESOURCE_SIZES = [250, 2]
TOTAL = len(USER_SIZES) + len(RESOURCE_SIZES)
PROGRESS_RE = re.compile(
    r"campaign eos-2026: (\d+)/17 completed, (\d+) running, (\d+) pending, (\d+) failed(; [^\n]*)? "
    r"\(pass (\d+), \S+ elapsed\)"
)


@pytest.fixture(name="org")
def org_fixture(aws):
    return sized_organization(aws, "campaign", USER_SIZES, RESOURCE_SIZES, REGION)


def sizes_by_id(org):
    sizes = {}
    for item, size in zip(org["users"], USER_SIZES):
        sizes[item["id"]] = size
    for item, size in zip(org["resources"], RESOURCE_SIZES):
        sizes[item["id"]] = size
    return sizes


def largest(org, count):
    sizes = sizes_by_id(org)
    return set(sorted(sizes, key=lambda entity_id: -sizes[entity_id])[:count])


def campaign_args(org, destination, **extra):
    return destination_args(org, destination, **dict({"campaign": CAMPAIGN}, **extra))


def read_manifest(aws, key=MANIFEST_KEY):
    return whole_manifest(aws, BUCKET, key)


def object_exists(aws, key):
    listed = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=key)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def starts(aws):
    return aws.calls().get("StartMailboxExportJob", 0)


def test_passes_without_waiting(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)

    first = module("workmail_organization_export", campaign_args(org, destination))
    assert first["changed"] is True, first
    assert first["done"] is False
    assert first["passes"] == 1
    assert len(first["started"]) == 10
    assert all(item["job_id"] for item in first["started"])
    assert {item["id"] for item in first["started"]} == largest(org, 10)
    assert first["summary"]["total"] == TOTAL
    assert first["summary"]["running"] == 10
    assert first["summary"]["pending"] == TOTAL - 10
    assert first["manifest"]["s3_uri"] == f"s3://{BUCKET}/{MANIFEST_KEY}"
    assert first["manifest"]["s3_key"] == MANIFEST_KEY
    assert not object_exists(aws, LOCK_KEY)  # released at the end of the pass

    manifest = read_manifest(aws, first["manifest"]["s3_key"])
    assert manifest["campaign"] == CAMPAIGN
    assert manifest["organization_id"] == org["id"]
    sizes = sizes_by_id(org)
    assert {entity_id: entry["size_mb"] for entity_id, entry in manifest["mailboxes"].items()} == pytest.approx(sizes)
    running = [entry for entry in manifest["mailboxes"].values() if entry["state"] == "RUNNING"]
    pending = [entry for entry in manifest["mailboxes"].values() if entry["state"] == "PENDING"]
    assert min(entry["size_mb"] for entry in running) > max(entry["size_mb"] for entry in pending)
    assert all(len(entry["attempts"]) == 1 and entry["attempts"][0]["job_id"] for entry in running)
    assert starts(aws) == 10
    directory = {op: aws.calls().get(op, 0) for op in ("ListUsers", "ListResources", "GetMailboxDetails")}
    assert directory["ListUsers"] >= 1 and directory["ListResources"] >= 1
    assert directory["GetMailboxDetails"] == TOTAL

    aws.advance_clock(61)
    second = module("workmail_organization_export", campaign_args(org, destination))
    assert second["changed"] is True
    assert second["summary"]["completed"] == 10
    assert second["summary"]["verified"] == 10
    assert len(second["started"]) == TOTAL - 10
    assert second["pass"]["completed_now"] == 10
    assert second["done"] is False
    assert starts(aws) == TOTAL

    aws.advance_clock(61)
    third = module("workmail_organization_export", campaign_args(org, destination))
    assert third["changed"] is True
    assert third["done"] is True
    assert third["started"] == []
    assert third["summary"]["completed"] == TOTAL
    assert third["summary"]["verified"] == TOTAL
    assert third["failures"] == []

    again = module("workmail_organization_export", campaign_args(org, destination))
    assert again["changed"] is False
    assert again["done"] is True
    assert again["started"] == []
    assert starts(aws) == TOTAL
    # Passes after the first read no directory (once a day) and learn the ends of the running jobs with one page of
    # the job list each (fewer calls than describing them); the last pass, with nothing running, calls nothing.
    assert {op: aws.calls().get(op, 0) for op in directory} == directory
    assert aws.calls()["ListMailboxExportJobs"] == 3
    assert aws.calls().get("DescribeMailboxExportJob", 0) == 0
    manifest = read_manifest(aws)
    assert all(entry["state"] == "COMPLETED" for entry in manifest["mailboxes"].values())
    assert all(entry["object"]["verified"] for entry in manifest["mailboxes"].values())


def test_wait_runs_the_campaign_to_the_end(aws, org, destination, playbook, tmp_path):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    local = tmp_path / "manifest.json"
    args = campaign_args(org, destination, wait=True, poll_interval=5, wait_timeout=300, local_manifest=str(local))
    play = [
        {
            "name": "campaign",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "export everything", "mailops.workmail.workmail_organization_export": args}],
        }
    ]
    run = playbook(json.dumps(play))
    assert not run.failed, (run, run.stderr)
    result = run.task("export everything")
    assert result["changed"] is True
    assert result["done"] is True
    assert result["passes"] >= 2
    assert result["summary"]["completed"] == TOTAL
    assert result["summary"]["verified"] == TOTAL
    assert starts(aws) == TOTAL
    lines = PROGRESS_RE.findall(run.stderr)
    assert len(lines) == result["passes"], run.stderr
    assert lines[0][0:3] == ("0", "10", str(TOTAL - 10))
    assert lines[-1][0:3] == (str(TOTAL), "0", "0")
    assert [int(line[5]) for line in lines] == list(range(1, result["passes"] + 1))
    # the estimated end, from the first completed jobs on, and the report's location when a pass wrote it
    assert lines[0][4].startswith("; ETA unknown (no job completed yet)"), lines[0]
    assert lines[-1][4].startswith("; done at ") and "report s3://campaign-exports/" in lines[-1][4], lines[-1]
    manifest = read_manifest(aws)
    assert json.loads(local.read_text()) == manifest
    assert all(
        entry["state"] == "COMPLETED" and entry["object"]["verified"] for entry in manifest["mailboxes"].values()
    )
    assert all(len(entry["attempts"]) == 1 for entry in manifest["mailboxes"].values())
    assert not object_exists(aws, LOCK_KEY)


def test_check_mode_starts_nothing(aws, org, destination, module):
    result = module("workmail_organization_export", campaign_args(org, destination, wait=True), check=True)
    assert result["changed"] is True, result
    assert result["passes"] == 1
    assert result["manifest_exists"] is False
    assert result["started"] == []
    assert [item["attempt"] for item in result["would_start"]] == [1] * 10
    assert {item["id"] for item in result["would_start"]} == largest(org, 10)
    sizes = [item["size_mb"] for item in result["would_start"]]
    assert sizes == sorted(sizes, reverse=True)
    assert len(result["queued"]) == result["queued_total"] == TOTAL - 10
    assert starts(aws) == 0
    assert not object_exists(aws, MANIFEST_KEY)
    assert not object_exists(aws, LOCK_KEY)


def test_held_lock_fails_clearly(aws, org, destination, module):
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    document = {"owner": "awx-job-41", "acquired": datetime.now(timezone.utc).isoformat(), "expires": expires}
    aws.client("s3").put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=json.dumps(document).encode())

    result = module("workmail_organization_export", campaign_args(org, destination))
    assert result["failed"] is True
    assert "awx-job-41" in result["msg"]
    assert expires in result["msg"]
    assert result["lock_owner"] == "awx-job-41"
    assert starts(aws) == 0
    assert not object_exists(aws, MANIFEST_KEY)
    assert json.loads(aws.client("s3").get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read()) == document


@pytest.mark.parametrize(
    "extra, parameter",
    [
        ({"campaign": "bad name!"}, "campaign"),
        ({"max_concurrent_jobs": 11}, "max_concurrent_jobs"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"s3_prefix": "bad prefix"}, "s3_prefix"),
    ],
)
def test_bad_input_fails_before_any_call(aws, org, destination, module, extra, parameter):
    result = module("workmail_organization_export", campaign_args(org, destination, **extra))
    assert result["failed"] is True
    assert result["msg"].startswith(f"{parameter}:"), result["msg"]
    assert sum(aws.calls().values()) == 0
