"""Requests are validated against botocore's model the way the service does it (ValidationException)."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError
from emulator_testlib import checked_client
from emulator_testlib import error_of
from workmail_emulator.validation import validate_request

ORG = "m-" + "a" * 32
ROLE = "arn:aws:iam::123456789012:role/export"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
PATTERN_ORG = "^m-[0-9a-f]{32}$"


@pytest.fixture(name="raw")
def raw_fixture(aws):
    """A WorkMail client that skips botocore's client-side checks, as a non-Python SDK might."""
    return checked_client(aws, parameter_validation=False)


def _start_params(**overrides):
    params = {
        "ClientToken": "token-1",
        "OrganizationId": ORG,
        "EntityId": "alice",
        "RoleArn": ROLE,
        "KmsKeyArn": KEY,
        "S3BucketName": "bucket",
        "S3Prefix": "prefix",
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def test_pattern_violation_names_the_member_in_aws_wording(workmail):
    with pytest.raises(ClientError) as excinfo:
        workmail.describe_organization(OrganizationId="m-" + "G" * 32)
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert message == (
        f"1 validation error detected: Value 'm-{'G' * 32}' at 'organizationId' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {PATTERN_ORG}"
    )
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_maximum_length_and_pattern_are_reported_separately(workmail):
    with pytest.raises(ClientError) as excinfo:
        workmail.describe_organization(OrganizationId="m-" + "a" * 40)
    message = error_of(excinfo)[1]
    assert message.startswith("2 validation errors detected: ")
    assert "Member must have length less than or equal to 34" in message
    assert f"Member must satisfy regular expression pattern: {PATTERN_ORG}" in message
    assert message.count("; ") == 1


def test_several_members_in_one_message(workmail):
    with pytest.raises(ClientError) as excinfo:
        workmail.start_mailbox_export_job(
            **_start_params(S3BucketName="bad_bucket!", S3Prefix="has space", KmsKeyArn="arn:aws:s3:::not-a-key!")
        )
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert message.startswith("3 validation errors detected: ")
    for member in ("'kmsKeyArn'", "'s3BucketName'", "'s3Prefix'"):
        assert member in message


def test_patterns_are_full_string_matches(workmail):
    # "[A-Za-z0-9-]+" would find a match inside "job id!"; the service requires the whole value to match.
    with pytest.raises(ClientError) as excinfo:
        workmail.describe_mailbox_export_job(OrganizationId=ORG, JobId="job id!")
    assert "at 'jobId' failed to satisfy constraint: Member must satisfy regular expression pattern" in (
        error_of(excinfo)[1]
    )


def test_enum_violation(workmail):
    with pytest.raises(ClientError) as excinfo:
        workmail.list_users(OrganizationId=ORG, Filters={"State": "ACTIVE"})
    assert error_of(excinfo)[1] == (
        "1 validation error detected: Value 'ACTIVE' at 'filters.state' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ENABLED, DISABLED, DELETED]"
    )


@pytest.mark.parametrize("value, bound", [(0, "greater than or equal to 1"), (101, "less than or equal to 100")])
def test_range_violation(raw, value, bound):
    with pytest.raises(ClientError) as excinfo:
        raw.list_mailbox_export_jobs(OrganizationId=ORG, MaxResults=value)
    assert error_of(excinfo)[1] == (
        f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: "
        f"Member must have value {bound}"
    )


def test_required_members_and_minimum_lengths(raw):
    with pytest.raises(ClientError) as excinfo:
        # (botocore fills in a missing ClientToken itself)
        raw.start_mailbox_export_job(**_start_params(OrganizationId=None, S3Prefix=None, EntityId=""))
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert message.startswith("4 validation errors detected: ")
    assert "Value null at 'organizationId' failed to satisfy constraint: Member must not be null" in message
    assert "Value null at 's3Prefix' failed to satisfy constraint: Member must not be null" in message
    assert (
        "Value '' at 'entityId' failed to satisfy constraint: Member must have length greater than or equal to 1"
        in (message)
    )


def test_client_token_pattern(raw):
    with pytest.raises(ClientError) as excinfo:
        raw.start_mailbox_export_job(**_start_params(ClientToken="has space"))
    assert "at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern" in (
        error_of(excinfo)[1]
    )


def test_wrong_json_types_are_serialization_errors(raw):
    with pytest.raises(ClientError) as excinfo:
        raw.list_mailbox_export_jobs(OrganizationId=ORG, MaxResults="ten")
    assert error_of(excinfo)[0] == "SerializationException"


def test_validation_happens_before_anything_else(workmail, aws):
    # An invalid request is refused whatever the state: no organization lookup, no job.
    with pytest.raises(ClientError) as excinfo:
        workmail.start_mailbox_export_job(**_start_params(RoleArn="arn:aws:iam::123456789012:role/" + "r" * 2030))
    assert "Member must have length less than or equal to 2048" in error_of(excinfo)[1]
    assert aws.jobs() == []


def test_description_accepts_anything_up_to_1023_characters(workmail):
    with pytest.raises(ClientError) as excinfo:
        workmail.start_mailbox_export_job(**_start_params(Description="x" * 1024))
    assert "at 'description' failed to satisfy constraint: Member must have length less than or equal to 1023" in (
        error_of(excinfo)[1]
    )
    # Within limits the request gets past validation (and fails on the unknown organization).
    with pytest.raises(ClientError) as excinfo:
        workmail.start_mailbox_export_job(**_start_params(Description="multi\nline\tok"))
    assert error_of(excinfo)[0] == "OrganizationNotFoundException"


def test_malformed_json_body(aws):
    request = urllib.request.Request(
        aws.endpoint + "/",
        data=b"{not json",
        method="POST",
        headers={
            "X-Amz-Target": "WorkMailService.ListOrganizations",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/workmail/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)  # pylint: disable=consider-using-with
    assert excinfo.value.code == 400
    assert json.loads(excinfo.value.read())["__type"] == "SerializationException"


def test_unimplemented_workmail_operations_answer_501(aws):
    workmail = aws.client("workmail", retries={"total_max_attempts": 1})
    with pytest.raises(ClientError) as excinfo:
        workmail.create_user(OrganizationId=ORG, Name="x", DisplayName="x", Password="Passw0rd!")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_sensitive_values_are_redacted():
    errors = validate_request("ListUsers", {"OrganizationId": ORG, "Filters": {"DisplayNamePrefix": "x" * 300}})
    assert errors == [
        "Value '*** Sensitive Data Redacted ***' at 'filters.displayNamePrefix' failed to satisfy constraint: "
        "Member must have length less than or equal to 256"
    ]
