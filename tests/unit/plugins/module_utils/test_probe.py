"""The probe's pure parts: the evidence's shape and the classifiers that name the dialect of each question."""

from datetime import datetime
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.probe import NONE_MATCHED
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_archive_layout
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_export_log
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_s3_path
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_token_mismatch
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_token_reuse
from ansible_collections.mailops.workmail.plugins.module_utils.probe import classify_total_messages
from ansible_collections.mailops.workmail.plugins.module_utils.probe import duration_seconds
from ansible_collections.mailops.workmail.plugins.module_utils.probe import evidence_key
from ansible_collections.mailops.workmail.plugins.module_utils.probe import probe_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.probe import typed_fields
from ansible_collections.mailops.workmail.plugins.module_utils.probe import validate_probe_params
from ansible_collections.mailops.workmail.plugins.module_utils.probe import written_since

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
    }


def test_classify_names_every_switch():
    assert classify(evidence()) == {
        "s3_path": "bucket_key",
        "archive_layout": "entity_job",
        "export_log": "json",
        "total_messages": "all_entries",
        "client_token_reuse": "same_job",
        "token_mismatch_error": "InvalidParameterException",
    }


def test_a_running_job_leaves_the_output_questions_unknown():
    dialects = classify(evidence("RUNNING"))
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
    ],
)
def test_bad_parameters_are_refused_naming_them(change, named):
    validate_probe_params(PARAMS, "us-east-1")
    with pytest.raises(ParameterError) as caught:
        validate_probe_params(dict(PARAMS, **change), "us-east-1")
    assert caught.value.parameter == named
