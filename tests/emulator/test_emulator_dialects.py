"""Dialects: each switch, set through the admin endpoint, the harness and the fixture, proven with boto3."""

import io
import json
import os
import zipfile

import pytest
from botocore.exceptions import ClientError
from emulator_testlib import entity
from emulator_testlib import error_of
from emulator_testlib import start
from workmail_emulator.dialects import defaults
from workmail_emulator.fixtures import FixtureError
from workmail_emulator.fixtures import dialects_of
from workmail_emulator.harness import EmulatorError
from workmail_emulator.harness import start_local_aws

HOUR = 3600
DAY = 24 * HOUR
BUCKET = "export-bucket"
PREFIX = "exports/example"
DEFAULTS = {
    "s3_path": "bucket_key",
    "archive_layout": "entity_job",
    "export_log": "json",
    "total_messages": "all_entries",
    "client_token_memory": "8h",
    "token_mismatch_error": "InvalidParameterException",
    "mailbox_24h_error": "LimitExceededException",
    "mailbox_24h_counts": "all",
    "describe_retention_days": None,
    "progress": "even",
    "listing_order": "newest_first",
    "forecast_delete_stopped": "refuse",
}


@pytest.fixture(name="plain")
def plain_fixture(aws):
    """A WorkMail client that does not hold answers to the model: some dialects answer outside it on purpose."""
    return aws.client("workmail", retries={"total_max_attempts": 1, "mode": "standard"})


def _job(plain, org_id, job_id):
    return plain.describe_mailbox_export_job(OrganizationId=org_id, JobId=job_id)


def _listed(plain, org_id):
    return {job["JobId"]: job for job in plain.list_mailbox_export_jobs(OrganizationId=org_id)["Jobs"]}


def _keys(aws, prefix=PREFIX):
    answer = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    return sorted(item["Key"] for item in answer.get("Contents", []))


def _read(aws, key):
    return aws.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _finished(aws, plain, org_id, *job_ids):
    aws.advance_clock(HOUR)
    jobs = {job_id: _job(plain, org_id, job_id) for job_id in job_ids}
    assert {job["State"] for job in jobs.values()} == {"COMPLETED"}
    return jobs


# ----------------------------------------------------------------------------------------------- the switches
def test_every_switch_defaults_to_the_long_standing_answer(aws):
    assert aws.dialects() == DEFAULTS == defaults()


def test_switches_are_set_together_or_not_at_all_and_reset_puts_them_back(aws):
    changed = aws.set_dialects(s3_path="s3_uri", describe_retention_days=1.5)
    assert changed == dict(DEFAULTS, s3_path="s3_uri", describe_retention_days=1.5) == aws.dialects()
    for bad in ({"s3_path": "nope"}, {"no_such_switch": "x"}, {"describe_retention_days": 0}):
        with pytest.raises(EmulatorError, match="400"):
            aws.set_dialects(archive_layout="job", **bad)
    for bad in (-1, True, "7", float("inf")):
        with pytest.raises(EmulatorError, match="400"):
            aws.admin("POST", "dialects", {"describe_retention_days": bad})
    assert aws.dialects()["archive_layout"] == "entity_job"
    assert aws.set_dialects(describe_retention_days=None)["describe_retention_days"] is None
    aws.reset()
    assert aws.dialects() == DEFAULTS


def test_dialects_come_with_organizations_through_the_admin_endpoint(aws):
    body = {"organizations": [{"alias": "dialectal"}], "dialects": {"export_log": "guide"}}
    aws.admin("POST", "organizations", body)
    assert aws.dialects()["export_log"] == "guide"
    with pytest.raises(EmulatorError, match="(?s)400.*total_messages"):
        aws.admin("POST", "organizations", {"organizations": [{"alias": "other"}], "dialects": {"total_messages": 1}})
    assert "other" not in [org["alias"] for org in aws.organizations()]


def test_a_fixture_sets_dialects_and_reset_returns_to_them(tmp_path):
    fixture = tmp_path / "dialects.yml"
    fixture.write_text("organizations:\n  - alias: dialectal\ndialects:\n  s3_path: key\n  client_token_memory: 7d\n")
    local = start_local_aws(fixture=str(fixture))
    try:
        assert local.dialects() == dict(DEFAULTS, s3_path="key", client_token_memory="7d")
        local.set_dialects(s3_path="folder", export_log="none")
        local.reset()
        assert local.dialects() == dict(DEFAULTS, s3_path="key", client_token_memory="7d")
    finally:
        local.stop()
    with pytest.raises(FixtureError, match="dialects: dialect export_log must be one of"):
        dialects_of({"dialects": {"export_log": "xml"}})
    assert dialects_of({"organizations": []}) == {}


# ----------------------------------------------------------------------------------------------- the output
def test_s3_path_forms_each_job_keeps_the_form_it_started_with(aws, plain, org_id, org, destination):
    forms = {"bucket_key": "dave", "key": "frank", "s3_uri": "alice", "folder": "bob"}
    started = {}
    for form, name in forms.items():
        aws.set_dialects(s3_path=form)
        started[form] = start(plain, org_id, destination, name)
    aws.set_dialects(s3_path="bucket_key")
    jobs = _finished(aws, plain, org_id, *started.values())
    listed = _listed(plain, org_id)
    for form, job_id in started.items():
        zip_key = f"{PREFIX}/{entity(org, forms[form])['id']}/{job_id}.zip"
        expected = {
            "bucket_key": f"{BUCKET}/{zip_key}",
            "key": zip_key,
            "s3_uri": f"s3://{BUCKET}/{zip_key}",
            "folder": f"{BUCKET}/{os.path.dirname(zip_key)}/",
        }[form]
        assert jobs[job_id]["S3Path"] == listed[job_id]["S3Path"] == expected
        assert _read(aws, zip_key).startswith(b"PK")


def test_archive_layouts_and_the_log_next_to_the_archive(aws, plain, org_id, org, destination):
    layouts = {"entity_job": "dave", "job": "frank", "email_time": "alice"}
    started = {}
    for layout, name in layouts.items():
        aws.set_dialects(archive_layout=layout)
        started[layout] = start(plain, org_id, destination, name)
    jobs = _finished(aws, plain, org_id, *started.values())
    moment = jobs[started["email_time"]]["StartTime"].strftime("%Y%m%dT%H%M%SZ")
    stems = {
        "entity_job": f"{PREFIX}/{entity(org, 'dave')['id']}/{started['entity_job']}",
        "job": f"{PREFIX}/{started['job']}",
        "email_time": f"{PREFIX}/alice@example.com/{moment}",
    }
    assert _keys(aws) == sorted(stem + suffix for stem in stems.values() for suffix in (".zip", ".log.json"))
    for layout, stem in stems.items():
        assert jobs[started[layout]]["S3Path"] == f"{BUCKET}/{stem}.zip"
        log = json.loads(_read(aws, stem + ".log.json"))
        assert (log["jobId"], log["s3Path"]) == (started[layout], f"{BUCKET}/{stem}.zip")


def test_guide_log_has_the_documented_fields_as_strings(aws, plain, org_id, destination):
    aws.set_dialects(export_log="guide")
    job_id = start(plain, org_id, destination, "grace")
    job = _finished(aws, plain, org_id, job_id)[job_id]
    zip_key = job["S3Path"].split("/", 1)[1]
    text = _read(aws, zip_key[: -len(".zip")] + ".log.json").decode("utf-8")
    log = json.loads(text)
    assert list(log) == [
        "totalMessages",
        "totalBytes",
        "totalFolders",
        "totalNonExportableItems",
        "sha384Hash",
        "startTime",
        "endTime",
    ]
    assert all(isinstance(value, str) for value in log.values()) and '"totalMessages" : "' in text
    with zipfile.ZipFile(io.BytesIO(_read(aws, zip_key))) as archive:
        assert log["totalMessages"] == str(len(archive.namelist()))
    for field, member in (("startTime", "StartTime"), ("endTime", "EndTime")):
        assert abs(int(log[field]) - job[member].timestamp() * 1000) <= 1


def test_a_log_elsewhere_or_none_at_all(aws, plain, org_id, org, destination):
    aws.set_dialects(export_log="elsewhere")
    elsewhere = start(plain, org_id, destination, "dave")
    aws.set_dialects(export_log="none")
    nothing = start(plain, org_id, destination, "frank")
    _finished(aws, plain, org_id, elsewhere, nothing)
    dave, frank = entity(org, "dave")["id"], entity(org, "frank")["id"]
    assert _keys(aws) == sorted(
        [f"{PREFIX}/{dave}/{elsewhere}.zip", f"{PREFIX}/logs/{elsewhere}.json", f"{PREFIX}/{frank}/{nothing}.zip"]
    )
    log = json.loads(_read(aws, f"{PREFIX}/logs/{elsewhere}.json"))
    assert (log["jobId"], log["entityId"]) == (elsewhere, dave) and isinstance(log["totalMessages"], int)


def test_total_messages_counts_every_entry_or_the_messages_only(aws, plain, org_id, destination):
    started = {}
    for counting, name in (("all_entries", "grace"), ("messages_only", "boardroom")):
        aws.set_dialects(total_messages=counting)
        started[counting] = start(plain, org_id, destination, name)
    jobs = _finished(aws, plain, org_id, *started.values())
    for counting, job_id in started.items():
        zip_key = jobs[job_id]["S3Path"].split("/", 1)[1]
        with zipfile.ZipFile(io.BytesIO(_read(aws, zip_key))) as archive:
            names = archive.namelist()
        log = json.loads(_read(aws, zip_key[: -len(".zip")] + ".log.json"))
        messages = [name for name in names if name.endswith(".eml")]
        assert len(messages) < len(names)
        assert log["totalMessages"] == (len(names) if counting == "all_entries" else len(messages))


# ----------------------------------------------------------------------------------------------- the rules
def test_client_token_memory_of_seven_days(aws, plain, org_id, destination):
    aws.set_dialects(client_token_memory="7d")
    job_id = start(plain, org_id, destination, "bob", token="weekly")
    aws.advance_clock(7 * DAY - 60)
    assert start(plain, org_id, destination, "bob", token="weekly") == job_id
    aws.advance_clock(61)
    assert start(plain, org_id, destination, "bob", token="weekly") != job_id


def test_client_token_memory_none_makes_every_start_a_new_one(aws, plain, org_id, destination):
    aws.set_dialects(client_token_memory="none")
    job_id = start(plain, org_id, destination, "bob", token="again")
    with pytest.raises(ClientError) as excinfo:
        start(plain, org_id, destination, "bob", token="again")
    assert error_of(excinfo)[0] == "LimitExceededException" and job_id in error_of(excinfo)[1]
    other = start(plain, org_id, destination, "dave", token="again")
    assert other != job_id and len(aws.jobs()) == 2


@pytest.mark.parametrize(
    "answer",
    [("InvalidParameterException", 400), ("ConflictException", 409), ("IdempotentParameterMismatchException", 400)],
)
def test_token_mismatch_error(aws, plain, org_id, destination, answer):
    error_type, status = answer
    aws.set_dialects(token_mismatch_error=error_type)
    job_id = start(plain, org_id, destination, "bob", token="same")
    with pytest.raises(ClientError) as excinfo:
        start(plain, org_id, destination, "bob", token="same", Description="other parameters")
    code, message = error_of(excinfo)
    assert (code, excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (error_type, status)
    assert "ClientToken same was already used with different parameters" in message and job_id in message


def test_mailbox_24h_error(aws, plain, org_id, destination):
    aws.set_dialects(mailbox_24h_error="InvalidParameterException")
    first = start(plain, org_id, destination, "dave", token="one")
    with pytest.raises(ClientError) as excinfo:
        start(plain, org_id, destination, "dave", token="two")
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException" and first in message and "24 hours" in message


def test_mailbox_24h_counts_successful_jobs_only(aws, plain, org_id, org, destination):
    aws.set_dialects(mailbox_24h_counts="successful")
    cancelled = start(plain, org_id, destination, "carol", token="c1")
    plain.cancel_mailbox_export_job(ClientToken="c", OrganizationId=org_id, JobId=cancelled)
    assert start(plain, org_id, destination, "carol", token="c2") != cancelled  # and it is RUNNING now
    with pytest.raises(ClientError) as excinfo:
        start(plain, org_id, destination, "carol", token="c3")
    assert error_of(excinfo)[0] == "LimitExceededException"

    aws.fail_next_jobs(entity(org, "dave")["id"])
    failed = start(plain, org_id, destination, "dave", token="d1")
    aws.advance_clock(HOUR)
    assert _job(plain, org_id, failed)["State"] == "FAILED"
    completed = start(plain, org_id, destination, "dave", token="d2")
    aws.advance_clock(HOUR)
    assert _job(plain, org_id, completed)["State"] == "COMPLETED"
    with pytest.raises(ClientError) as excinfo:
        start(plain, org_id, destination, "dave", token="d3")
    assert completed in error_of(excinfo)[1]


def test_describe_retention_days(aws, plain, org_id, destination):
    aws.set_dialects(describe_retention_days=2)
    job_id = start(plain, org_id, destination, "dave")
    aws.advance_clock(2 * DAY - 60)
    assert _job(plain, org_id, job_id)["State"] == "COMPLETED"
    aws.advance_clock(120)
    with pytest.raises(ClientError) as excinfo:
        _job(plain, org_id, job_id)
    assert error_of(excinfo)[0] == "EntityNotFoundException"
    assert job_id in _listed(plain, org_id)  # still in the 7-day list
    aws.set_dialects(describe_retention_days=None)
    assert _job(plain, org_id, job_id)["State"] == "COMPLETED"


@pytest.mark.parametrize(
    "curve, at_a_quarter, at_half", [("even", 25, 50), ("late", 1, 12), ("early", 50, 70), ("none", 0, 0)]
)
def test_progress_follows_the_run_time_evenly_behind_ahead_or_not_at_all(
    aws, plain, org_id, destination, curve, at_a_quarter, at_half
):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=400)
    aws.set_dialects(progress=curve)
    job_id = start(plain, org_id, destination, "dave")
    aws.advance_clock(100)
    assert _job(plain, org_id, job_id)["EstimatedProgress"] == at_a_quarter
    aws.advance_clock(100)
    assert _listed(plain, org_id)[job_id]["EstimatedProgress"] == at_half
    aws.advance_clock(250)
    assert _job(plain, org_id, job_id)["EstimatedProgress"] == 100


def _pages(plain, org_id, size):
    """Every job of ListMailboxExportJobs, page by page of ``size``: ``[[job id, ...], ...]``."""
    pages = []
    token = None
    while True:
        request = {"OrganizationId": org_id, "MaxResults": size}
        if token:
            request["NextToken"] = token
        answer = plain.list_mailbox_export_jobs(**request)
        pages.append([job["JobId"] for job in answer["Jobs"]])
        token = answer.get("NextToken")
        if not token:
            return pages


@pytest.mark.parametrize("order", ["newest_first", "oldest_first", "job_id"])
def test_listing_order_lists_every_job_once_in_its_order_page_by_page(aws, plain, org_id, destination, order):
    started = []
    for number in range(5):  # one mailbox, once a day (its 24-hour rule), all within the 7-day list
        started.append(start(plain, org_id, destination, "dave", token=f"order-{number}"))
        aws.advance_clock(DAY + 60)
    aws.set_dialects(listing_order=order)

    pages = _pages(plain, org_id, 2)

    expected = {"newest_first": started[::-1], "oldest_first": started, "job_id": sorted(started)}[order]
    assert [job_id for page in pages for job_id in page] == expected and [len(page) for page in pages] == [2, 2, 1]
    token = plain.list_mailbox_export_jobs(OrganizationId=org_id, MaxResults=2)["NextToken"]
    aws.set_dialects(listing_order="oldest_first" if order != "oldest_first" else "newest_first")
    with pytest.raises(ClientError) as excinfo:
        plain.list_mailbox_export_jobs(OrganizationId=org_id, MaxResults=2, NextToken=token)
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_the_environment_sets_dialects_for_a_whole_run_and_a_reset_keeps_them(monkeypatch):
    from workmail_emulator.dialects import DialectError  # pylint: disable=import-outside-toplevel
    from workmail_emulator.dialects import parse  # pylint: disable=import-outside-toplevel
    from workmail_emulator.harness import start_local_aws  # pylint: disable=import-outside-toplevel

    monkeypatch.setenv("EMULATOR_DIALECTS", "s3_path=s3_uri,mailbox_24h_error=InvalidParameterException")
    emulator = start_local_aws()
    try:
        emulator.set_dialects(s3_path="key")
        emulator.reset()
        switches = emulator.dialects()
    finally:
        emulator.stop()
    assert switches["s3_path"] == "s3_uri" and switches["mailbox_24h_error"] == "InvalidParameterException"
    assert switches["archive_layout"] == "entity_job"

    assert parse("s3_path=folder, archive_layout=email_time,describe_retention_days=3") == {
        "s3_path": "folder",
        "archive_layout": "email_time",
        "describe_retention_days": 3.0,
    }
    assert parse("") == {} and parse("describe_retention_days=null") == {"describe_retention_days": None}
    for bad in ("s3_path", "s3_path=nowhere", "colour=red"):
        with pytest.raises(DialectError):
            parse(bad)
