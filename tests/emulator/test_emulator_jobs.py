"""Export jobs: simulated duration and progress, the output in S3, failures, cancel, limits, idempotency."""

import email
import hashlib
import io
import json
import time
import zipfile

import pytest
from botocore.exceptions import ClientError
from emulator_testlib import entity
from emulator_testlib import error_of
from emulator_testlib import start
from workmail_emulator.harness import EmulatorError

DAY = 24 * 3600


def _describe(workmail, org_id, job_id):
    return workmail.describe_mailbox_export_job(OrganizationId=org_id, JobId=job_id)


def _output(aws, job):
    bucket, key = job["S3Path"].split("/", 1)
    s3 = aws.client("s3")
    archive = s3.get_object(Bucket=bucket, Key=key)
    log = s3.get_object(Bucket=bucket, Key=key[: -len(".zip")] + ".log.json")
    return archive, archive["Body"].read(), log, json.loads(log["Body"].read())


def test_a_job_runs_on_the_simulated_clock_and_writes_its_output(aws, workmail, org_id, org, destination):
    alice = entity(org, "alice")
    job_id = start(workmail, org_id, destination, "alice@example.com", Description="first export")
    job = _describe(workmail, org_id, job_id)
    assert job["State"] == "RUNNING"
    assert job["EstimatedProgress"] < 10
    assert job["EntityId"] == alice["id"]
    assert (job["RoleArn"], job["KmsKeyArn"]) == (destination["role_arn"], destination["kms_key_arn"])
    assert (job["S3BucketName"], job["S3Prefix"]) == ("export-bucket", "exports/example")
    assert job["Description"] == "first export"
    assert "EndTime" not in job and "ErrorInfo" not in job
    # S3Path names the zip: "<bucket>/<prefix>/<entity id>/<job id>.zip".
    assert job["S3Path"] == f"export-bucket/exports/example/{alice['id']}/{job_id}.zip"

    duration = 120 * 0.02  # default time scale: 0.02 s per MB, at least 2 s
    progress = [job["EstimatedProgress"]]
    for _attempt in range(4):
        aws.advance_clock(duration / 5)
        progress.append(_describe(workmail, org_id, job_id)["EstimatedProgress"])
    assert progress == sorted(progress) and progress[-1] >= 75 and progress[-1] <= 99
    aws.advance_clock(duration)
    job = _describe(workmail, org_id, job_id)
    assert (job["State"], job["EstimatedProgress"]) == ("COMPLETED", 100)
    assert job["EndTime"] > job["StartTime"]
    assert abs((job["EndTime"] - job["StartTime"]).total_seconds() - duration) < 0.01

    archive, body, log, export_log = _output(aws, job)
    assert archive["ServerSideEncryption"] == "aws:kms"
    assert archive["SSEKMSKeyId"] == destination["kms_key_arn"]
    assert log["ServerSideEncryption"] == "aws:kms" and log["SSEKMSKeyId"] == destination["kms_key_arn"]
    assert export_log["sha384Hash"] == hashlib.sha384(body).hexdigest()
    for field in ("totalMessages", "totalBytes", "totalFolders", "totalNonExportableItems", "startTime", "endTime"):
        assert field in export_log
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
    assert export_log["totalMessages"] == len(names)
    assert export_log["totalFolders"] == len({name.split("/", 1)[0] for name in names})
    assert export_log["startTime"] < export_log["endTime"]
    assert len(body) < 250_000


def test_the_archive_holds_real_mime_messages_and_calendar_items(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "carol")
    aws.advance_clock(3600)
    _archive, body, _log, export_log = _output(aws, _describe(workmail, org_id, job_id))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    emls = [name for name in contents if name.endswith(".eml")]
    icss = [name for name in contents if name.endswith(".ics")]
    assert emls and icss and len(emls) + len(icss) == len(contents)
    for name in emls:
        message = email.message_from_bytes(contents[name])
        assert message["Message-ID"] and message["Date"] and message["Subject"]
        assert "carol@example.com" in (message["From"] + message["To"])
    for name in icss:
        assert contents[name].startswith(b"BEGIN:VCALENDAR") and b"BEGIN:VEVENT" in contents[name]
    total = sum(len(data) for data in contents.values())
    assert export_log["totalBytes"] == total


def test_archives_are_deterministic_per_mailbox_and_sized_by_it(aws, workmail, org_id, destination):
    first = start(workmail, org_id, destination, "grace", token="a")
    small = start(workmail, org_id, destination, "dave", token="b")
    aws.advance_clock(DAY + 1)
    second = start(workmail, org_id, destination, "grace", token="c")
    aws.advance_clock(3600)
    logs = {job: _output(aws, _describe(workmail, org_id, job))[3] for job in (first, second, small)}
    assert logs[first]["sha384Hash"] == logs[second]["sha384Hash"]
    assert logs[first]["totalMessages"] == logs[second]["totalMessages"]
    assert logs[small]["totalMessages"] < logs[first]["totalMessages"]
    assert logs[small]["sha384Hash"] != logs[first]["sha384Hash"]


def test_duration_follows_the_time_scale(aws, workmail, org_id, destination):
    aws.set_time_scale(seconds_per_mb=10)
    assert aws.admin("GET", "time_scale") == {"seconds_per_mb": 10.0, "min_seconds": 2.0}
    job_id = start(workmail, org_id, destination, "bob")  # 35 MB -> 350 s
    aws.advance_clock(340)
    assert _describe(workmail, org_id, job_id)["State"] == "RUNNING"
    aws.advance_clock(11)
    assert _describe(workmail, org_id, job_id)["State"] == "COMPLETED"
    aws.set_time_scale(seconds_per_mb=0)
    tiny = start(workmail, org_id, destination, "frank")  # minimum duration applies
    aws.advance_clock(1.5)
    assert _describe(workmail, org_id, tiny)["State"] == "RUNNING"
    aws.advance_clock(0.6)
    assert _describe(workmail, org_id, tiny)["State"] == "COMPLETED"


def test_real_time_flows_too(aws, workmail, org_id, destination):
    aws.set_time_scale(seconds_per_mb=0, min_seconds=1)
    job_id = start(workmail, org_id, destination, "frank")
    deadline = time.monotonic() + 5
    while _describe(workmail, org_id, job_id)["State"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _describe(workmail, org_id, job_id)["State"] == "COMPLETED"


def test_output_appears_even_if_only_s3_is_asked(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "dave")
    aws.advance_clock(60)  # the admin clock call materialises too
    objects = aws.client("s3").list_objects_v2(Bucket="export-bucket", Prefix="exports/example/")["Contents"]
    assert sorted(obj["Key"].rsplit("/", 1)[1] for obj in objects) == [f"{job_id}.log.json", f"{job_id}.zip"]


def test_a_prefix_with_a_trailing_slash_does_not_double_it(workmail, org_id, org, destination):
    job_id = start(workmail, org_id, destination, "dave", S3Prefix="exports/example/")
    job = _describe(workmail, org_id, job_id)
    assert job["S3Prefix"] == "exports/example/"
    assert job["S3Path"] == f"export-bucket/exports/example/{entity(org, 'dave')['id']}/{job_id}.zip"


def test_a_key_disabled_while_running_fails_the_job(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "alice")
    aws.client("kms").disable_key(KeyId=destination["kms_key_arn"])
    aws.advance_clock(3600)
    job = _describe(workmail, org_id, job_id)
    assert job["State"] == "FAILED"
    assert "KmsKeyArn" in job["ErrorInfo"] and "not enabled" in job["ErrorInfo"]
    assert job["EndTime"] and job["EstimatedProgress"] < 100
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket="export-bucket")


def test_a_role_losing_access_while_running_fails_the_job(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "alice")
    aws.client("iam").delete_role_policy(
        RoleName=destination["role_arn"].rsplit("/", 1)[1], PolicyName="workmail-mailbox-export"
    )
    aws.advance_clock(3600)
    job = _describe(workmail, org_id, job_id)
    assert job["State"] == "FAILED"
    assert "s3:PutObject" in job["ErrorInfo"]


def test_injected_failures_fail_the_next_jobs_of_one_mailbox(aws, workmail, org_id, org, destination):
    alice = entity(org, "alice")
    assert aws.fail_next_jobs(alice["id"].upper(), count=2, error_info="Mailbox temporarily unavailable") == {
        alice["id"].lower(): 2
    }
    first = start(workmail, org_id, destination, "alice", ClientToken="attempt-1")
    other = start(workmail, org_id, destination, "bob")
    aws.advance_clock(3600)
    job = _describe(workmail, org_id, first)
    assert (job["State"], job["ErrorInfo"]) == ("FAILED", "Mailbox temporarily unavailable")
    assert _describe(workmail, org_id, other)["State"] == "COMPLETED"
    assert aws.admin("GET", "job_failures") == {alice["id"].lower(): 1}

    aws.advance_clock(DAY)
    second = start(workmail, org_id, destination, "alice", ClientToken="attempt-2")
    aws.advance_clock(DAY + 3600)
    assert _describe(workmail, org_id, second)["State"] == "FAILED"
    third = start(workmail, org_id, destination, "alice", ClientToken="attempt-3")
    aws.advance_clock(3600)
    assert _describe(workmail, org_id, third)["State"] == "COMPLETED"
    assert aws.admin("GET", "job_failures") == {}


@pytest.mark.parametrize(
    "body",
    [{"count": 1}, {"entity_id": "x", "count": -1}, {"entity_id": "x", "count": True}, {"entity_id": "x", "what": 1}],
)
def test_injected_failures_refuse_bad_bodies(aws, body):
    with pytest.raises(EmulatorError, match="answered 400"):
        aws.admin("POST", "job_failures", body)
    aws.reset()
    assert aws.admin("GET", "job_failures") == {}


def test_cancel_a_running_job(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "carol")
    aws.advance_clock(1)
    assert workmail.cancel_mailbox_export_job(ClientToken="cancel-1", OrganizationId=org_id, JobId=job_id)
    job = _describe(workmail, org_id, job_id)
    assert job["State"] == "CANCELLED" and "EndTime" in job
    frozen = job["EstimatedProgress"]
    aws.advance_clock(3600)
    job = _describe(workmail, org_id, job_id)
    assert (job["State"], job["EstimatedProgress"]) == ("CANCELLED", frozen)
    # The same ClientToken for the same job is an idempotent retry.
    workmail.cancel_mailbox_export_job(ClientToken="cancel-1", OrganizationId=org_id, JobId=job_id)
    with pytest.raises(ClientError) as excinfo:
        workmail.cancel_mailbox_export_job(ClientToken="cancel-2", OrganizationId=org_id, JobId=job_id)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException" and "not running" in message and "CANCELLED" in message
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket="export-bucket")


def test_cancel_a_finished_job_is_an_error(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "dave")
    aws.advance_clock(60)
    with pytest.raises(ClientError) as excinfo:
        workmail.cancel_mailbox_export_job(ClientToken="c", OrganizationId=org_id, JobId=job_id)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException" and "COMPLETED" in message


def test_cancel_near_completion_is_refused(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "carol")  # 12.8 s
    aws.advance_clock(12.8 * 0.96)
    with pytest.raises(ClientError) as excinfo:
        workmail.cancel_mailbox_export_job(ClientToken="c", OrganizationId=org_id, JobId=job_id)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException" and "near completion" in message
    assert _describe(workmail, org_id, job_id)["State"] == "RUNNING"


def test_unknown_job_ids(workmail, org_id):
    for call in (
        lambda: workmail.describe_mailbox_export_job(OrganizationId=org_id, JobId="no-such-job"),
        lambda: workmail.cancel_mailbox_export_job(ClientToken="c", OrganizationId=org_id, JobId="no-such-job"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)[0] == "EntityNotFoundException"


def test_at_most_ten_running_jobs_per_organization(aws, workmail, org_id, org, destination):
    mailboxes = [item["id"] for kind in ("users", "resources") for item in org[kind] if item["mailbox"]]
    aws.set_time_scale(seconds_per_mb=100, min_seconds=1000)
    for mailbox in mailboxes[:10]:
        start(workmail, org_id, destination, mailbox)
    with pytest.raises(ClientError) as excinfo:
        start(workmail, org_id, destination, mailboxes[10])
    code, message = error_of(excinfo)
    assert code == "LimitExceededException"
    assert "10 running" in message and org_id in message
    # Another organization has its own limit.
    other = aws.add_organizations([{"alias": "other", "users": [{"name": "solo", "size_mb": 1}]}])[0]["id"]
    from workmail_emulator.provision import provision_export_destination

    other_destination = provision_export_destination(aws.client, other, "other-bucket", "x", "us-east-1")
    start(workmail, other, other_destination, "solo")
    # When one ends, the organization can start another.
    first = workmail.list_mailbox_export_jobs(OrganizationId=org_id)["Jobs"][-1]["JobId"]
    workmail.cancel_mailbox_export_job(ClientToken="free-a-slot", OrganizationId=org_id, JobId=first)
    start(workmail, org_id, destination, mailboxes[10])


def test_one_export_per_mailbox_per_24_hours(aws, workmail, org_id, destination):
    first = start(workmail, org_id, destination, "dave", token="one")
    aws.advance_clock(3600)
    assert _describe(workmail, org_id, first)["State"] == "COMPLETED"
    with pytest.raises(ClientError) as excinfo:
        start(workmail, org_id, destination, "dave@example.com", token="two", Description="again")
    code, message = error_of(excinfo)
    assert code == "LimitExceededException"
    assert first in message and "24 hours" in message and "again after" in message
    assert "running" not in message.split(";")[0]
    # Failed and cancelled jobs count as well.
    cancelled = start(workmail, org_id, destination, "carol", token="three")
    workmail.cancel_mailbox_export_job(ClientToken="x", OrganizationId=org_id, JobId=cancelled)
    with pytest.raises(ClientError) as excinfo:
        start(workmail, org_id, destination, "carol", token="four")
    assert cancelled in error_of(excinfo)[1]
    aws.advance_clock(DAY - 3600 + 1)
    assert start(workmail, org_id, destination, "dave", token="five")


def test_client_token_idempotency(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "bob", token="same")
    assert start(workmail, org_id, destination, "bob", token="same") == job_id
    aws.advance_clock(3600)  # even after the job finished
    assert start(workmail, org_id, destination, "bob", token="same") == job_id
    assert len(aws.jobs()) == 1
    with pytest.raises(ClientError) as excinfo:
        start(workmail, org_id, destination, "bob", token="same", Description="other parameters")
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException" and "ClientToken" in message and "different parameters" in message
    assert len(aws.jobs()) == 1


def test_client_tokens_are_remembered_for_eight_hours(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "bob", token="daily")
    aws.advance_clock(8 * 3600 - 60)
    assert start(workmail, org_id, destination, "bob", token="daily") == job_id
    aws.advance_clock(61)
    # Forgotten: the start is a new request, which the 24-hour rule refuses.
    with pytest.raises(ClientError) as excinfo:
        start(workmail, org_id, destination, "bob", token="daily")
    assert error_of(excinfo)[0] == "LimitExceededException" and job_id in error_of(excinfo)[1]
    aws.advance_clock(DAY)
    assert start(workmail, org_id, destination, "bob", token="daily") != job_id
    assert len(aws.jobs()) == 2
