"""The probe's pure parts: the evidence's shape and the classifiers that name the dialect of each question; and its
second start of the mailbox (the once-per-24-hours rule) and description of an older job against an in-memory
WorkMail."""

from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import ExportRequest
from ansible_collections.mailops.workmail.plugins.module_utils.probe import NONE_MATCHED
from ansible_collections.mailops.workmail.plugins.module_utils.probe import NOT_PROBED
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_archive_layout
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_export_log
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_mailbox_24h_error
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_s3_path
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_token_mismatch
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_token_reuse
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_total_messages
from ansible_collections.mailops.workmail.plugins.module_utils.probe import describe_older_job
from ansible_collections.mailops.workmail.plugins.module_utils.probe import duration_seconds
from ansible_collections.mailops.workmail.plugins.module_utils.probe import evidence_key
from ansible_collections.mailops.workmail.plugins.module_utils.probe import older_job_counts
from ansible_collections.mailops.workmail.plugins.module_utils.probe import older_job_retention
from ansible_collections.mailops.workmail.plugins.module_utils.probe import probe_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.probe import second_start
from ansible_collections.mailops.workmail.plugins.module_utils.probe import second_start_token
from ansible_collections.mailops.workmail.plugins.module_utils.probe import typed_fields
from ansible_collections.mailops.workmail.plugins.module_utils.probe import validate_probe_params
from ansible_collections.mailops.workmail.plugins.module_utils.probe import written_since
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BOB_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake

BUCKET = "exports"
ENTITY = "12345678-1234-1234-1234-123456789012"
JOB = "4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1"
ZIP = f"pre/{ENTITY}/{JOB}.zip"
START = datetime(2026, 11, 22, 5, 1, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "s3_path, expected",
    [
        (f"{BUCKET}/{ZIP}", "bucket_key"),
        (ZIP, "key"),
        (f"s3://{BUCKET}/{ZIP}", "s3_uri"),
        (f"{BUCKET}/pre/{ENTITY}/", "folder"),
        (f"{BUCKET}/pre/{ENTITY}", "folder"),
        (f"{BUCKET}/elsewhere/{JOB}.zip", NONE_MATCHED),
        ("", NONE_MATCHED),
    ],
)
def test_s3_path(s3_path, expected):
    assert classify_s3_path(s3_path, BUCKET, ZIP) == expected


def test_s3_path_without_an_archive_matches_nothing():
    assert classify_s3_path(f"{BUCKET}/{ZIP}", BUCKET, None) == NONE_MATCHED


@pytest.mark.parametrize(
    "key, expected",
    [
        (ZIP, "entity_job"),
        (f"pre/{ENTITY.upper()}/{JOB}.zip", "entity_job"),
        (f"pre/{JOB}.zip", "job"),
        ("pre/alice@example.com/20261122T050102Z.zip", "email_time"),
        (f"pre/{ENTITY}/20261122T050102Z.zip", "email_time"),
        ("pre/bob@example.com/20261122T050102Z.zip", NONE_MATCHED),
        (f"other/{ENTITY}/{JOB}.zip", NONE_MATCHED),
        (f"pre/{ENTITY}/archive.zip", NONE_MATCHED),
        (None, NONE_MATCHED),
    ],
)
def test_archive_layout(key, expected):
    assert classify_archive_layout(key, "pre/", ENTITY, JOB, "alice@example.com") == expected


JSON_LOG = {"jobId": JOB, "totalMessages": 12, "sha384Hash": "ab"}
GUIDE_LOG = {"totalMessages": "12", "sha384Hash": "ab", "startTime": "1767225600000"}


@pytest.mark.parametrize(
    "key, document, expected",
    [
        (f"pre/{ENTITY}/{JOB}.log.json", JSON_LOG, "json"),
        (f"pre/{ENTITY}/{JOB}.log.json", GUIDE_LOG, "guide"),
        (f"pre/logs/{JOB}.json", JSON_LOG, "elsewhere"),
        (f"pre/logs/{JOB}.json", GUIDE_LOG, NONE_MATCHED),
        (f"pre/{ENTITY}/{JOB}.log.json", {"totalMessages": 12}, NONE_MATCHED),
        (None, None, "none"),
    ],
)
def test_export_log(key, document, expected):
    assert classify_export_log(key, document, ZIP) == expected


@pytest.mark.parametrize(
    "total, expected",
    [(12, "all_entries"), ("10", "messages_only"), (7, NONE_MATCHED), (None, NONE_MATCHED), ("x", NONE_MATCHED)],
)
def test_total_messages(total, expected):
    assert classify_total_messages(total, {"entries": 12, "messages": 10}) == expected


def test_total_messages_of_an_archive_of_messages_only_names_both():
    assert classify_total_messages(5, {"entries": 5, "messages": 5}).startswith("all_entries or messages_only")
    assert classify_total_messages(5, None) == NONE_MATCHED


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"job_id": JOB}, "same_job"),
        ({"job_id": "another"}, "new_job"),
        ({"error_code": "LimitExceededException"}, "error LimitExceededException"),
        (None, NONE_MATCHED),
    ],
)
def test_token_reuse(answer, expected):
    assert classify_token_reuse(JOB, answer) == expected


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"error_code": "InvalidParameterException"}, "InvalidParameterException"),
        ({"error_code": "ConflictException"}, "ConflictException"),
        ({"error_code": "IdempotentParameterMismatchException"}, "IdempotentParameterMismatchException"),
        ({"error_code": "LimitExceededException"}, NONE_MATCHED),
        ({"job_id": JOB}, NONE_MATCHED),
        (None, NONE_MATCHED),
    ],
)
def test_token_mismatch(answer, expected):
    assert classify_token_mismatch(answer) == expected


def evidence(state="COMPLETED"):
    return {
        "job_id": JOB,
        "state": state,
        "email": "alice@example.com",
        "s3_bucket": BUCKET,
        "s3_prefix": "pre",
        "s3_path": f"{BUCKET}/{ZIP}",
        "job_answer": {"EntityId": {"type": "string", "value": ENTITY}},
        "archive": {"key": ZIP, "counts": {"entries": 12, "messages": 10}},
        "export_log": {"key": f"pre/{ENTITY}/{JOB}.log.json", "document": JSON_LOG, "total_messages": 12},
        "token_reuse": {"job_id": JOB},
        "token_mismatch": {"error_code": "InvalidParameterException"},
        "second_start": {"error_code": "LimitExceededException", "message": "Mailbox was already exported"},
        "older_job": None,
    }


def test_classify_names_every_switch():
    dialects = classify(evidence())
    assert dialects == {
        "s3_path": "bucket_key",
        "archive_layout": "entity_job",
        "export_log": "json",
        "total_messages": "all_entries",
        "client_token_reuse": "same_job",
        "token_mismatch_error": "InvalidParameterException",
        "mailbox_24h_error": "LimitExceededException",
        "mailbox_24h_counts": dialects["mailbox_24h_counts"],
        "describe_retention_days": dialects["describe_retention_days"],
    }
    assert dialects["mailbox_24h_counts"].startswith(NOT_PROBED + " — give describe_job_id")
    assert dialects["describe_retention_days"].startswith(NOT_PROBED + " — give describe_job_id")


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"error_code": "LimitExceededException", "message": "m"}, "LimitExceededException"),
        ({"error_code": "InvalidParameterException", "message": "m"}, "InvalidParameterException"),
        ({"error_code": "ConflictException", "message": "m"}, NONE_MATCHED),
        ({"job_id": "another", "cancelled": "CANCELLED"}, NONE_MATCHED),
        ({"not_probed": "the job is FAILED"}, f"{NOT_PROBED} — the job is FAILED"),
        (None, f"{NOT_PROBED} — no second start was tried"),
    ],
)
def test_mailbox_24h_error(answer, expected):
    assert classify_mailbox_24h_error(answer) == expected


PROBE_START = "2026-11-22T05:01:02+00:00"


def older(**change):
    found = {"job_id": "older", "answered": True, "state": "FAILED", "same_mailbox": True}
    found.update(start_time="2026-11-21T10:00:00+00:00", age_days=0.8)
    found.update(change)
    return found


@pytest.mark.parametrize(
    "found, expected",
    [
        (older(), "successful"),
        (older(state="CANCELLED"), "successful"),
        (older(state="COMPLETED"), f"{NOT_PROBED} — job older is COMPLETED, not FAILED or CANCELLED"),
        (older(same_mailbox=False), f"{NOT_PROBED} — job older exported another mailbox"),
        (older(start_time="2026-11-21T05:01:01+00:00"), f"{NOT_PROBED} — job older did not start in the 24 hours "),
        (older(start_time="2026-11-22T06:00:00+00:00"), f"{NOT_PROBED} — job older did not start in the 24 hours "),
        (older(answered=False), f"{NOT_PROBED} — job older was not described"),
        (None, f"{NOT_PROBED} — give describe_job_id, a FAILED or CANCELLED job"),
    ],
)
def test_which_jobs_the_24_hour_rule_counts_is_learned_only_from_an_uncounted_failed_job(found, expected):
    assert older_job_counts(found, PROBE_START).startswith(expected)


def test_how_long_jobs_are_described():
    assert older_job_retention(older(age_days=9.5)) == "at least 9.5 days (job older was described)"
    forgotten = older_job_retention({"job_id": "older", "answered": False, "error_code": "EntityNotFoundException"})
    assert forgotten.startswith("job older was not described (EntityNotFoundException)")
    assert older_job_retention(None).startswith(f"{NOT_PROBED} — give describe_job_id, a job older than")


def workmail(fake):
    return WorkMailClient(fake, RetryPolicy(retries=2, delay=0, max_delay=0))


def request_for(entity_id, token="probe-token"):
    return ExportRequest(ORG_ID, entity_id, ROLE_ARN, KEY_ARN, "exports", PREFIX, client_token=token)


def test_a_second_start_refused_by_the_24_hour_rule_is_recorded_and_starts_nothing():
    fake = standard_fake()
    job_id = fake.add_job(ALICE_ID, state="COMPLETED", age=timedelta(hours=1), client_token="probe-token")
    raw = workmail(fake).describe_export_job(ORG_ID, job_id)

    answer = second_start(workmail(fake), request_for(ALICE_ID), raw, fake.clock.now())

    assert answer["error_code"] == "LimitExceededException" and answer["message"]
    assert answer["client_token"] == second_start_token("probe-token") != "probe-token"
    assert list(fake.jobs) == [job_id]
    sent = [kwargs for name, kwargs in fake.calls if name == "start_mailbox_export_job"]
    assert [kwargs["ClientToken"] for kwargs in sent] == [answer["client_token"]]


def test_a_second_start_aws_accepts_is_cancelled_at_once():
    fake = standard_fake()
    # The probe's job is of bob; nothing keeps alice from a start in the in-memory WorkMail.
    job_id = fake.add_job(BOB_ID, state="COMPLETED", age=timedelta(hours=1))
    raw = workmail(fake).describe_export_job(ORG_ID, job_id)

    answer = second_start(workmail(fake), request_for(ALICE_ID), raw, fake.clock.now())

    assert answer["job_id"] != job_id and answer["cancelled"] == "CANCELLED" and answer["cancel_error"] is None
    assert fake.jobs[answer["job_id"]]["State"] == "CANCELLED"
    assert classify_mailbox_24h_error(answer) == NONE_MATCHED


def test_a_second_start_aws_accepts_but_will_not_cancel_is_said():
    fake = standard_fake()
    fake.near_completion = 0
    job_id = fake.add_job(BOB_ID, state="COMPLETED", age=timedelta(hours=1))
    raw = workmail(fake).describe_export_job(ORG_ID, job_id)

    answer = second_start(workmail(fake), request_for(ALICE_ID), raw, fake.clock.now())

    assert answer["job_id"] and answer["cancelled"] is None and "CancelError" in answer["cancel_error"]


@pytest.mark.parametrize(
    "state, age, reason",
    [
        ("RUNNING", timedelta(hours=1), "the job is RUNNING; only a COMPLETED job"),
        ("FAILED", timedelta(hours=1), "the job is FAILED; only a COMPLETED job"),
        ("COMPLETED", timedelta(hours=25), "the job started more than 24 hours ago"),
    ],
)
def test_no_second_start_unless_the_job_completed_in_the_last_24_hours(state, age, reason):
    fake = standard_fake()
    job_id = fake.add_job(ALICE_ID, state=state, age=age, client_token="probe-token")
    raw = workmail(fake).describe_export_job(ORG_ID, job_id)

    answer = second_start(workmail(fake), request_for(ALICE_ID), raw, fake.clock.now())

    assert answer["not_probed"].startswith(reason)
    assert fake.count("start_mailbox_export_job") == 0 and list(fake.jobs) == [job_id]


def test_an_older_job_is_described_with_its_age_or_its_error():
    fake = standard_fake()
    job_id = fake.add_job(ALICE_ID, state="CANCELLED", age=timedelta(days=9, hours=12))

    found = describe_older_job(workmail(fake), ORG_ID, job_id, ALICE_ID.upper(), fake.clock.now())
    missing = describe_older_job(workmail(fake), ORG_ID, "no-such-job", ALICE_ID, fake.clock.now())

    assert found["answered"] is True and found["state"] == "CANCELLED" and found["same_mailbox"] is True
    assert found["age_days"] == 9.5 and found["age_seconds"] == 9.5 * 86400
    assert missing == {
        "job_id": "no-such-job",
        "answered": False,
        "error_code": "EntityNotFoundException",
        "message": "The export job was not found",
    }
    assert fake.count("start_mailbox_export_job") == fake.count("cancel_mailbox_export_job") == 0


def test_a_running_job_leaves_the_output_questions_unknown():
    dialects = classify(dict(evidence("RUNNING"), second_start={"not_probed": "the job is RUNNING"}))
    assert dialects["mailbox_24h_error"] == f"{NOT_PROBED} — the job is RUNNING"
    assert dialects["s3_path"] == dialects["export_log"] == "unknown — the job is RUNNING"
    assert dialects["client_token_reuse"] == "same_job"


def test_typed_fields_keep_the_json_types():
    fields = typed_fields(
        {"S3Path": "b/k", "EstimatedProgress": 100, "StartTime": START, "ErrorInfo": None, "ResponseMetadata": {}}
    )
    assert fields == {
        "S3Path": {"type": "string", "value": "b/k"},
        "EstimatedProgress": {"type": "number", "value": 100},
        "StartTime": {"type": "timestamp", "value": "2026-11-22T05:01:02+00:00"},
        "ErrorInfo": {"type": "null", "value": None},
    }


def test_written_since_leaves_out_older_objects_and_the_probes_own():
    objects = [
        {"Key": "pre/old.zip", "LastModified": datetime(2026, 11, 21, tzinfo=timezone.utc)},
        {"Key": "pre/new.zip", "LastModified": datetime(2026, 11, 22, 5, 3, tzinfo=timezone.utc)},
        {"Key": "pre/mailops-probe/x.json", "LastModified": datetime(2026, 11, 22, 5, 4, tzinfo=timezone.utc)},
    ]
    assert [item["Key"] for item in written_since(objects, START, "pre/mailops-probe/")] == ["pre/new.zip"]


def test_duration_and_keys():
    assert duration_seconds(START, "2026-11-22T05:02:02Z") == 60.0
    assert duration_seconds(START, None) is None
    assert evidence_key("pre/", JOB) == f"pre/mailops-probe/{JOB}.json"
    assert evidence_key("", JOB) == f"mailops-probe/{JOB}.json"
    token = probe_client_token("m-" + "0" * 32, ENTITY)
    assert token == probe_client_token("m-" + "0" * 32, ENTITY.upper()) and token.startswith("mailops-probe-")


PARAMS = {
    "organization_id": "m-" + "0" * 32,
    "entity": "alice@example.com",
    "role_arn": "arn:aws:iam::123456789012:role/workmail-export",
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "s3_bucket": "exports",
    "s3_prefix": "pre/",
    "client_token": None,
    "wait_timeout": 60,
    "poll_interval": 1,
    "evidence_path": None,
}


@pytest.mark.parametrize(
    "change, named",
    [
        ({"organization_id": "m-x"}, "organization_id"),
        ({"kms_key_arn": "alias/x"}, "kms_key_arn"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"wait_timeout": 0}, "wait_timeout"),
        ({"evidence_path": "/no/such/folder/evidence.json"}, "evidence_path"),
        ({"describe_job_id": "not a job id"}, "describe_job_id"),
    ],
)
def test_bad_parameters_are_refused_naming_them(change, named):
    validate_probe_params(PARAMS, "us-east-1")
    with pytest.raises(ParameterError) as caught:
        validate_probe_params(dict(PARAMS, **change), "us-east-1")
    assert caught.value.parameter == named
