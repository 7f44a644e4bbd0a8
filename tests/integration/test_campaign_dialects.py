"""The organization export where AWS documents nothing: the same campaign against the local AWS answering each
undocumented question another way (its dialects, see tests/emulator/README.md). Whatever S3Path looks like, wherever
the archive and its log are, however the log writes its counts, every mailbox is exported once and its export is
verified, or reported as not checked with the reason, never as a problem."""

import pytest
from campaign_setup import destination_args
from campaign_setup import sized_organization

REGION = "us-east-1"
BUCKET = "dialect-exports"
PREFIX = "exports/dialects"
USER_SIZES = [12, 40, 3]
RESOURCE_SIZES = [6]
TOTAL = len(USER_SIZES) + len(RESOURCE_SIZES)
DAY = 24 * 3600


@pytest.fixture(name="org")
def org_fixture(aws):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    return sized_organization(aws, "dialects", USER_SIZES, RESOURCE_SIZES, REGION)


def run_pass(module, org, destination, campaign, verify="deep"):
    result = module("workmail_organization_export", destination_args(org, destination, campaign=campaign, verify=verify))
    assert not result.get("failed"), result
    return result


def exported_once(aws, org):
    jobs = [job for job in aws.jobs() if job["OrganizationId"] == org["id"]]
    return len(jobs) == TOTAL and len({job["EntityId"] for job in jobs}) == TOTAL


@pytest.mark.parametrize(
    "dialects",
    [
        # Today's answers: S3Path is bucket/key, the archive is <prefix>/<entity>/<job>.zip, the log JSON beside it.
        {},
        # S3Path a bare key; totalMessages counting messages only, written as text like the Administrator Guide's.
        {"s3_path": "key", "export_log": "guide", "total_messages": "messages_only"},
        # S3Path an s3:// URI, every archive in the prefix itself.
        {"s3_path": "s3_uri", "archive_layout": "job"},
        # S3Path a folder; archives named by email and time.
        {"s3_path": "folder", "archive_layout": "email_time"},
    ],
    ids=["today", "key-guide-messages", "uri-job", "folder-email-time"],
)
def test_every_export_is_found_and_verified_whatever_s3path_and_the_layout(aws, org, destination, module, dialects):
    aws.set_dialects(**dialects)
    run_pass(module, org, destination, "dialect")
    aws.advance_clock(61)

    result = run_pass(module, org, destination, "dialect")

    assert result["done"] is True and result["summary"]["completed"] == TOTAL
    assert result["verification_problems"] == [], result["verification_problems"]
    assert result["unchecked"] == [], result["unchecked"]
    assert result["summary"]["verified"] == TOTAL
    assert exported_once(aws, org)


@pytest.mark.parametrize("export_log", ["none", "elsewhere"])
def test_exports_without_a_log_beside_them_are_reported_not_checked_never_as_problems(aws, org, destination, module, export_log):
    aws.set_dialects(export_log=export_log)
    run_pass(module, org, destination, "no-log")
    aws.advance_clock(61)

    result = run_pass(module, org, destination, "no-log")

    assert result["done"] is True and result["verification_problems"] == []
    assert result["summary"]["unchecked"] == TOTAL and result["summary"]["verified"] == 0
    # A deep check starts from the basic one (the object, its size and its key), which passed: only the log is missing.
    assert all(item["problem"].startswith("no export log found next to s3://") for item in result["unchecked"])


def test_a_job_aws_no_longer_describes_is_found_in_s3_and_not_exported_again(aws, org, destination, module):
    aws.set_dialects(describe_retention_days=1, client_token_memory="none")
    run_pass(module, org, destination, "forgotten", verify="none")
    # Eight days on, the job list and DescribeMailboxExportJob have forgotten the jobs, and their tokens are
    # forgotten too: only the archives in S3 say the mailboxes were exported.
    aws.advance_clock(8 * DAY)

    result = run_pass(module, org, destination, "forgotten")

    assert result["done"] is True and result["summary"]["verified"] == TOTAL and result["started"] == []
    assert exported_once(aws, org)


def forget_the_manifest(aws, campaign):
    """The manifest and its copy deleted (by hand, by a lifecycle rule): only AWS and the archives remain."""
    s3 = aws.client("s3", REGION)
    for name in ("manifest.json", "manifest.previous.json"):
        s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/mailops-campaigns/{campaign}/{name}")


@pytest.mark.parametrize("archive_layout", ["entity_job", "job", "email_time"])
def test_an_export_older_than_the_job_list_is_tied_to_its_job_by_its_log_whatever_the_layout(aws, org, destination, module, archive_layout):
    aws.set_dialects(archive_layout=archive_layout)
    run_pass(module, org, destination, "old", verify="none")
    aws.advance_clock(61)
    second = run_pass(module, org, destination, "old", verify="none")
    assert second["done"] is True, {key: second[key] for key in ("summary", "unchecked", "started", "running")}
    # Eight days on the job list has forgotten the jobs, and the manifest and its copy are gone.
    aws.advance_clock(8 * DAY)
    forget_the_manifest(aws, "old")

    result = run_pass(module, org, destination, "old")

    assert result["started"] == [] and result["done"] is True, result["started"]
    assert sorted(item["id"] for item in result["repairs"]) == sorted(entity_ids(org))
    assert all("of this campaign (attempt 1)" in item["problem"] for item in result["repairs"]), result["repairs"]
    assert result["summary"]["verified"] == TOTAL
    assert exported_once(aws, org)


def entity_ids(org):
    return [entity["id"] for entity in org["users"] + org["resources"]]


def export_by_hand(aws, org, destination, entity_id):
    """An export of one mailbox into the campaign's prefix, started outside the campaign (as in the console)."""
    job_id = aws.client("workmail", REGION).start_mailbox_export_job(
        ClientToken=f"by-hand-{entity_id}",
        OrganizationId=org["id"],
        EntityId=entity_id,
        Description="exported by hand",
        RoleArn=destination["role_arn"],
        KmsKeyArn=destination["kms_key_arn"],
        S3BucketName=destination["s3_bucket"],
        S3Prefix=destination["s3_prefix"],
    )["JobId"]
    aws.advance_clock(61)
    assert [job["State"] for job in aws.jobs() if job["JobId"] == job_id] == ["COMPLETED"]
    return job_id


@pytest.mark.parametrize(
    "dialects",
    [
        {"archive_layout": "job"},
        {"archive_layout": "email_time"},
        # WorkMail no longer describes the job: its log names the job and the mailbox, not who started it.
        {"archive_layout": "email_time", "describe_retention_days": 1},
        {"describe_retention_days": 1},
    ],
    ids=["job", "email-time", "email-time-forgotten", "forgotten"],
)
def test_an_archive_exported_by_hand_is_never_taken_for_the_campaigns_export(aws, org, destination, module, dialects):
    aws.set_dialects(**dialects)
    by_hand = {entity_id: export_by_hand(aws, org, destination, entity_id) for entity_id in entity_ids(org)}
    aws.advance_clock(8 * DAY)

    result = run_pass(module, org, destination, "after-hand", verify="none")

    assert result["repairs"] == []
    assert sorted(item["id"] for item in result["started"]) == sorted(entity_ids(org))
    started = {job["EntityId"]: job["JobId"] for job in aws.jobs() if job["JobId"] not in by_hand.values()}
    assert sorted(started) == sorted(entity_ids(org))


def makespan(jobs):
    """From the first job's start to the last one's end (the local AWS's job times, epoch seconds)."""
    return max(float(job["EndTime"]) for job in jobs) - min(float(job["StartTime"]) for job in jobs)


# "even", the default, is how every other campaign test runs.
@pytest.mark.parametrize("progress", ["late", "early", "none"])
def test_passes_come_when_jobs_should_end_whatever_estimated_progress_means(aws, org, destination, module, progress):
    # Jobs of 60 s to 400 s, two slots: the lower bound of the makespan is the longest job, 400 s.
    aws.set_time_scale(seconds_per_mb=10.0, min_seconds=60)
    aws.set_dialects(progress=progress)
    args = destination_args(org, destination, campaign=f"progress-{progress}", verify="basic", max_concurrent_jobs=2)
    passes = 0
    result = {"done": False}
    while not result["done"] and passes < 60:
        result = module("workmail_organization_export", args)
        assert not result.get("failed"), result
        passes += 1
        if not result["done"]:
            # What the action plugin sleeps with wait: true and a poll_interval of an hour.
            aws.advance_clock(min(3600, max(5, result["pass"]["next_pass_in"])))

    assert result["done"] is True and result["summary"]["verified"] == TOTAL
    jobs = [job for job in aws.jobs() if job["OrganizationId"] == org["id"]]
    assert exported_once(aws, org)
    # Progress that means something brings each end within seconds; progress that lags or tells nothing costs
    # time, never an hour-long wait for a slot (a job with no telling progress is looked at when it has run half as
    # long again).
    assert makespan(jobs) <= (440 if progress in ("even", "early") else 1200), (makespan(jobs), passes)
    looks = aws.calls().get("DescribeMailboxExportJob", 0) + aws.calls()["ListMailboxExportJobs"]
    assert looks <= 6 * TOTAL, aws.calls()
