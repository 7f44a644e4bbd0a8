"""An organization export on a bad day, seen as an operator sees it: WorkMail and S3 both throttle, fail and drop
connections, and one run of the export with wait: true still exports every mailbox exactly once.

The destination is provisioned before the faults start (provisioning is not under test); the faults are seeded, so
every run of the test meets the same ones.

It is slow by nature: a pass starts at most ten jobs (AWS's limit of running jobs per organization) and the task
sleeps at least 5 s (the smallest poll_interval) between passes, so 100 mailboxes take 11 passes and over 50 s of
sleeping alone; the retries of the throttled, failed or dropped requests add their backoff to that.
"""

import json
from collections import Counter

import pytest
from campaign_setup import destination_args
from campaign_setup import sized_organization
from campaign_setup import whole_manifest

REGION = "us-east-1"
BUCKET = "stormy-exports"
PREFIX = "exports"
CAMPAIGN = "stormy"
MAILBOXES = 100
# Sizes in MB, not in listing order; they decide the order of the starts, not how long a job takes (see below).
USER_SIZES = [1 + (index * 37) % 300 for index in range(MAILBOXES)]
# The rates of both services (per request), and the seed of their RNGs.
FAULTS = {"throttle_rate": 0.2, "error_rate": 0.05, "drop_rate": 0.02, "seed": 2026}
EXPORT_TASK = "export the organization"

pytestmark = pytest.mark.slow


@pytest.fixture(name="org")
def org_fixture(aws):
    # Every job takes one simulated second, less than a poll interval: each pass finds the previous pass's jobs done.
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=1)
    return sized_organization(aws, "stormy", USER_SIZES, region=REGION)


def export_play(org, destination):
    args = destination_args(org, destination, campaign=CAMPAIGN, wait=True, poll_interval=5, wait_timeout=900)
    return [
        {
            "name": "Export the organization while AWS is struggling",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": EXPORT_TASK, "mailops.workmail.workmail_organization_export": args}],
        }
    ]


def test_one_waiting_run_exports_each_of_100_mailboxes_once_while_workmail_and_s3_throttle(aws, org, destination, playbook):
    aws.set_faults(operation="*", **FAULTS)
    aws.set_faults(service="s3", operation="*", **FAULTS)

    run = playbook(json.dumps(export_play(org, destination)))

    faults = aws.faults()
    aws.set_faults(operation="*")
    aws.set_faults(service="s3", operation="*")
    assert not run.failed, (run, run.stderr[-3000:])
    result = run.task(EXPORT_TASK)
    assert result["done"] is True
    assert result["summary"] == {
        "total": MAILBOXES,
        "completed": MAILBOXES,
        "running": 0,
        "pending": 0,
        "failed": 0,
        "failed_permanently": 0,
        "skipped": 0,
        "verified": MAILBOXES,
        "unchecked": 0,
    }
    assert result["failures"] == [] and result["verification_problems"] == []
    assert result["lock_released"] is True
    # At most ten jobs run at once, so 100 mailboxes take at least 10 passes.
    assert result["passes"] >= MAILBOXES // 10

    # What AWS itself says: exactly one export job per mailbox, COMPLETED, and no other job.
    mailboxes = {user["id"] for user in org["users"]}
    jobs = [job for job in aws.jobs() if job["OrganizationId"] == org["id"]]
    per_mailbox = Counter(job["EntityId"] for job in jobs)
    assert set(per_mailbox) == mailboxes, f"not exported: {sorted(mailboxes - set(per_mailbox))}"
    assert {entity_id: count for entity_id, count in per_mailbox.items() if count != 1} == {}
    assert Counter(job["State"] for job in jobs) == {"COMPLETED": MAILBOXES}
    assert aws.calls()["StartMailboxExportJob"] >= MAILBOXES

    # The campaign's own record: the manifest in the bucket says every mailbox is done, once, verified.
    key = result["manifest"]["s3_key"]
    manifest = whole_manifest(aws, BUCKET, key)  # the mailboxes of its sealed parts put back, each part checked
    job_of = {job["EntityId"]: job for job in jobs}
    assert set(manifest["mailboxes"]) == mailboxes
    for entity_id, entry in manifest["mailboxes"].items():
        assert entry["state"] == "COMPLETED", (entity_id, entry)
        assert [attempt["job_id"] for attempt in entry["attempts"]] == [job_of[entity_id]["JobId"]], entry
        assert entry["object"]["verified"] is True, (entity_id, entry["object"])

    # The faults really happened, in both services and of every kind asked for.
    for service in ("workmail", "s3"):
        injected = faults["injected"][service]
        assert injected["throttle"] > 0 and injected["error500"] + injected["error503"] > 0, (service, faults)
        assert injected["drop"] > 0, (service, faults)
        assert faults["requests"][service] > 100, (service, faults)
