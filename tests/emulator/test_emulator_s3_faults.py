"""Faults injected into S3 as S3 answers them (503 SlowDown, 500 InternalError, 503 ServiceUnavailable, dropped
connections, answers lost after a write), kept apart from the WorkMail faults, seeded like them."""

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import EndpointConnectionError
from emulator_testlib import checked_client
from emulator_testlib import error_of
from emulator_testlib import start
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.moto_server.werkzeug_app import create_backend_app
from workmail_emulator import plugin
from workmail_emulator.harness import EmulatorError
from workmail_emulator.s3_requests import S3_OPERATIONS
from workmail_emulator.s3_requests import UNKNOWN_OPERATION
from workmail_emulator.s3_requests import s3_operation
from workmail_emulator.server import EmulatorApplication

BUCKET = "fault-bucket"
# No retries at all: every fault reaches the test. (botocore's ``max_attempts`` counts retries, so 1 would retry once.)
NO_RETRIES = {"total_max_attempts": 1}
CONNECTION_LOST = (ConnectionClosedError, EndpointConnectionError)


@pytest.fixture(name="s3")
def s3_fixture(aws):
    """An S3 client without retries, and a bucket holding ``present.txt``."""
    client = aws.client("s3", retries=NO_RETRIES)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="present.txt", Body=b"here")
    return client


def _status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _get(s3, key="present.txt"):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _missing(s3, key):
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=BUCKET, Key=key)
    return _status(excinfo) == 404


def test_throttling_is_503_slowdown(aws, s3):
    aws.set_faults(service="s3", throttle_rate=1.0)
    for call in (
        lambda: s3.put_object(Bucket=BUCKET, Key="new.txt", Body=b"x"),
        lambda: _get(s3),
        lambda: s3.list_objects_v2(Bucket=BUCKET),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _status(excinfo) == 503
        assert error_of(excinfo) == ("SlowDown", "Please reduce your request rate.")
        headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["content-type"] == "application/xml"
        assert headers["x-amz-request-id"] and headers["x-amz-id-2"]
    # A HEAD answer has no body, as S3's: botocore sees the status alone.
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=BUCKET, Key="present.txt")
    assert _status(excinfo) == 503
    aws.set_faults(service="s3")
    assert _missing(s3, "new.txt")
    assert aws.faults()["injected"]["s3"]["throttle"] == 4


def test_the_error_body_is_s3_xml(aws, s3):
    del s3
    aws.set_faults(service="s3", throttle_rate=1.0)
    # An unsigned request (a plain URL) goes to S3 too, as moto routes it.
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(
            f"{aws.endpoint}/{BUCKET}/present.txt", timeout=10
        )  # pylint: disable=consider-using-with
    assert excinfo.value.code == 503
    error = ET.fromstring(excinfo.value.read())
    assert error.tag == "Error"
    assert error.findtext("Code") == "SlowDown"
    assert error.findtext("Message") == "Please reduce your request rate."
    assert error.findtext("RequestId") == excinfo.value.headers["x-amz-request-id"]
    assert error.findtext("HostId") == excinfo.value.headers["x-amz-id-2"]


def test_server_errors_are_500_internal_error_and_503_service_unavailable(aws, s3):
    aws.set_faults(service="s3", error_rate=1.0, seed=3)
    seen = set()
    for _attempt in range(12):
        with pytest.raises(ClientError) as excinfo:
            _get(s3)
        seen.add((_status(excinfo), error_of(excinfo)))
    assert seen == {
        (500, ("InternalError", "We encountered an internal error. Please try again.")),
        (503, ("ServiceUnavailable", "Service is unable to handle request.")),
    }
    injected = aws.faults()["injected"]["s3"]
    assert injected["error500"] + injected["error503"] == 12 and injected["error500"] and injected["error503"]


def test_a_dropped_request_gets_no_answer_and_does_not_happen(aws, s3):
    aws.set_faults(service="s3", operation="PutObject", drop_rate=1.0)
    with pytest.raises(CONNECTION_LOST):
        s3.put_object(Bucket=BUCKET, Key="dropped.txt", Body=b"never stored")
    with pytest.raises(CONNECTION_LOST):
        s3.put_object(Bucket=BUCKET, Key="present.txt", Body=b"never replaced")
    assert _missing(s3, "dropped.txt")
    assert _get(s3) == b"here"
    assert aws.faults()["injected"]["s3"]["drop"] == 2


def test_a_lost_write_takes_effect_but_its_answer_is_lost(aws, s3):
    aws.set_faults(service="s3", lost_write_rate=1.0)
    with pytest.raises(CONNECTION_LOST):
        s3.put_object(Bucket=BUCKET, Key="lost-answer.txt", Body=b"stored all the same")
    with pytest.raises(CONNECTION_LOST):
        s3.put_object(Bucket=BUCKET, Key="present.txt", Body=b"replaced")
    with pytest.raises(CONNECTION_LOST):
        s3.delete_object(Bucket=BUCKET, Key="lost-answer.txt")
    with pytest.raises(CONNECTION_LOST):
        s3.create_bucket(Bucket="created-anyway")
    # Reads are not writes: their draws in the lost-write band are no fault.
    assert _get(s3) == b"replaced"
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["present.txt"]
    assert _missing(s3, "lost-answer.txt")
    aws.set_faults(service="s3")
    assert "created-anyway" in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    assert aws.faults()["injected"]["s3"]["lost_write"] == 4


def test_a_lost_conditional_write_is_seen_as_taken_when_repeated(aws, s3):
    aws.set_faults(service="s3", operation="PutObject", lost_write_rate=1.0)
    with pytest.raises(CONNECTION_LOST):
        s3.put_object(Bucket=BUCKET, Key="once.txt", Body=b"first", IfNoneMatch="*")
    aws.set_faults(service="s3", operation="PutObject")
    # The client repeats the write it saw fail; S3 says the object exists (it does: the first write took effect).
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=BUCKET, Key="once.txt", Body=b"first", IfNoneMatch="*")
    assert _status(excinfo) == 412
    assert _get(s3, "once.txt") == b"first"


def test_rules_per_operation_and_wildcard(aws, s3):
    snapshot = aws.set_faults(service="s3", operation="PutObject", throttle_rate=1.0)
    assert snapshot["rules"] == {}
    assert snapshot["s3_rules"] == {
        "PutObject": {"throttle_rate": 1.0, "error_rate": 0.0, "drop_rate": 0.0, "lost_write_rate": 0.0}
    }
    assert _get(s3) == b"here"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=BUCKET, Key="x", Body=b"x")
    assert error_of(excinfo)[0] == "SlowDown"
    # A rule for the operation wins over "*".
    aws.set_faults(service="s3", operation="*", error_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=BUCKET, Key="x", Body=b"x")
    assert error_of(excinfo)[0] == "SlowDown"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=BUCKET, Key="present.txt")
    assert _status(excinfo) in (500, 503)
    # All rates 0 for "*" removes every S3 rule.
    assert aws.set_faults(service="s3", operation="*")["s3_rules"] == {}
    assert s3.put_object(Bucket=BUCKET, Key="x", Body=b"x")["ETag"]


def test_workmail_rules_leave_s3_alone_and_s3_rules_leave_workmail_alone(aws, s3, workmail, org_id):
    aws.set_faults(operation="*", throttle_rate=1.0)
    assert _get(s3) == b"here"
    with pytest.raises(ClientError) as excinfo:
        workmail.list_users(OrganizationId=org_id)
    assert error_of(excinfo)[0] == "ThrottlingException"

    aws.set_faults(operation="*")
    aws.set_faults(service="s3", throttle_rate=0.5, error_rate=0.3, drop_rate=0.2)
    assert workmail.list_users(OrganizationId=org_id)["Users"]
    assert workmail.list_organizations()["OrganizationSummaries"]
    # Nor KMS, IAM or STS, which moto also serves; nor the admin endpoint.
    assert aws.client("kms", retries=NO_RETRIES).list_keys()["Keys"] == []
    assert aws.client("iam", retries=NO_RETRIES).list_roles()["Roles"] == []
    assert aws.client("sts", retries=NO_RETRIES).get_caller_identity()["Account"] == "123456789012"
    assert aws.health()["status"] == "ok"
    with pytest.raises((ClientError,) + CONNECTION_LOST):
        _get(s3)

    faults = aws.faults()
    assert faults["injected"]["workmail"] == {
        "drop": 0,
        "throttle": 1,
        "error500": 0,
        "error503": 0,
        "lost_write": 0,
    }
    assert sum(faults["injected"]["s3"].values()) == 1
    assert faults["requests"]["workmail"] == 3
    # The calls count WorkMail requests only.
    assert aws.calls() == {"ListOrganizations": 1, "ListUsers": 2}


def test_s3_bucket_setup_calls_count_as_s3_requests(aws, s3):
    del s3  # created the bucket (CreateBucket, PutObject)
    _get(aws.client("s3"))
    assert aws.faults()["requests"] == {"workmail": 0, "s3": 3}


def _s3_sequence(aws, seed, workmail_calls):
    aws.reset()
    s3 = aws.client("s3", retries=NO_RETRIES)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="present.txt", Body=b"here")
    aws.set_faults(service="s3", throttle_rate=0.3, error_rate=0.3, seed=seed)
    aws.set_faults(operation="*", throttle_rate=0.5)
    workmail = checked_client(aws)
    outcome = []
    for attempt in range(20):
        if attempt % 3 == 0:
            for _call in range(workmail_calls):
                try:
                    workmail.list_organizations()
                except ClientError:
                    pass
        try:
            outcome.append(_get(s3).decode())
        except ClientError as exc:
            outcome.append(exc.response["Error"]["Code"])
    return outcome


def test_s3_faults_are_deterministic_with_a_seed_whatever_the_workmail_traffic(aws):
    first = _s3_sequence(aws, 42, workmail_calls=0)
    assert first == _s3_sequence(aws, 42, workmail_calls=3)
    assert first != _s3_sequence(aws, 43, workmail_calls=0)
    assert {"here", "SlowDown"} <= set(first)


def test_a_lost_start_still_starts_the_job_and_its_token_finds_it(aws, workmail, org_id, destination):
    aws.set_faults(operation="StartMailboxExportJob", lost_write_rate=1.0)
    # Reads are not writes: a "*" rule with only lost_write_rate leaves them alone.
    aws.set_faults(operation="*", lost_write_rate=1.0)
    assert workmail.list_mailbox_export_jobs(OrganizationId=org_id)["Jobs"] == []
    with pytest.raises(CONNECTION_LOST):
        start(workmail, org_id, destination, "alice", token="lost-answer")
    jobs = aws.jobs()
    assert len(jobs) == 1
    aws.set_faults(operation="*")
    # The retry with the same ClientToken is answered with the job the lost request started.
    assert start(workmail, org_id, destination, "alice", token="lost-answer") == jobs[0]["JobId"]
    assert len(aws.jobs()) == 1
    assert aws.faults()["injected"]["workmail"]["lost_write"] == 1


def test_reset_clears_s3_rules_and_counts(aws, s3):
    aws.set_faults(service="s3", throttle_rate=1.0, seed=5)
    with pytest.raises(ClientError):
        _get(s3)
    aws.reset()
    faults = aws.faults()
    assert faults["seed"] == 0 and faults["rules"] == {} and faults["s3_rules"] == {}
    assert faults["injected"]["s3"]["throttle"] == 0 and faults["requests"] == {"workmail": 0, "s3": 0}


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"service": "ec2", "throttle_rate": 1.0}, "service must be one of"),
        ({"operation": "PutObject", "throttle_rate": 1.0}, "add service s3"),
        ({"operation": "NoSuchOperation", "throttle_rate": 1.0}, "not a WorkMail operation"),
        ({"service": "s3", "operation": "ListUsers", "throttle_rate": 1.0}, "not an S3 operation"),
        ({"service": "s3", "lost_write_rate": 0.6, "drop_rate": 0.6}, "must not exceed 1"),
        ({"service": "s3", "lost_write_rate": -0.1}, "between 0 and 1"),
        ({"service": "s3", "write_rate": 0.1}, "unknown keys"),
    ],
)
def test_bad_rules_are_refused(aws, rule, message):
    with pytest.raises(EmulatorError, match="400") as excinfo:
        aws.set_faults(**rule)
    assert message in str(excinfo.value)
    assert aws.faults()["rules"] == {} and aws.faults()["s3_rules"] == {}


def _environ(method, path, query="", host="127.0.0.1:5080", **headers):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "HTTP_HOST": host}
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    return environ


@pytest.mark.parametrize(
    "environ, operation",
    [
        (_environ("GET", "/"), "ListBuckets"),
        (_environ("PUT", "/b"), "CreateBucket"),
        (_environ("HEAD", "/b/"), "HeadBucket"),
        (_environ("GET", "/b", "list-type=2&prefix=p%2F&delimiter=%2F"), "ListObjectsV2"),
        (_environ("GET", "/b", "prefix=p"), "ListObjects"),
        (_environ("GET", "/b", "lifecycle"), "GetBucketLifecycleConfiguration"),
        (_environ("PUT", "/b", "lifecycle"), "PutBucketLifecycleConfiguration"),
        (_environ("DELETE", "/b", "lifecycle"), "DeleteBucketLifecycle"),
        (_environ("PUT", "/b", "publicAccessBlock"), "PutPublicAccessBlock"),
        (_environ("PUT", "/b", "encryption"), "PutBucketEncryption"),
        (_environ("POST", "/b", "delete"), "DeleteObjects"),
        (_environ("PUT", "/b/a/key.zip"), "PutObject"),
        (_environ("GET", "/b/a/key.zip"), "GetObject"),
        (_environ("HEAD", "/b/a/key.zip"), "HeadObject"),
        (_environ("DELETE", "/b/a/key.zip"), "DeleteObject"),
        (_environ("PUT", "/b/k", x_amz_copy_source="/b/other"), "CopyObject"),
        (_environ("POST", "/b/k", "uploads"), "CreateMultipartUpload"),
        (_environ("PUT", "/b/k", "partNumber=1&uploadId=u"), "UploadPart"),
        (_environ("POST", "/b/k", "uploadId=u"), "CompleteMultipartUpload"),
        (_environ("DELETE", "/b/k", "uploadId=u"), "AbortMultipartUpload"),
        (_environ("GET", "/b/k", "tagging"), "GetObjectTagging"),
        (_environ("GET", "/k", host="b.s3.us-east-1.amazonaws.com"), "GetObject"),
        (_environ("GET", "/", host="b.s3.amazonaws.com"), "ListObjects"),
        (_environ("PATCH", "/b/k"), UNKNOWN_OPERATION),
    ],
)
def test_s3_operation_names(environ, operation):
    assert s3_operation(environ) == operation
    assert operation in S3_OPERATIONS or operation == UNKNOWN_OPERATION


def test_s3_requests_are_those_moto_routes_to_s3():
    # The extension points: moto's own choice of backend (credential scope, else unsigned defaults to S3).
    plugin.install()
    for name in ("infer_service_region_host", "get_backend_for_host"):
        assert hasattr(DomainDispatcherApplication, name), f"DomainDispatcherApplication.{name} is gone"
    app = EmulatorApplication()

    def signed(service, path="/b/k", host="127.0.0.1:5080"):
        scope = f"Credential=testing/20260101/us-east-1/{service}/aws4_request"
        return _environ(
            "GET", path, host=host, authorization=f"AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, Signature=0"
        )

    assert app.moto_service(signed("s3")) == "s3"
    assert app.moto_service(_environ("GET", "/b/k")) == "s3"
    assert app.moto_service(signed("s3", path="/v20180820/configuration/publicAccessBlock")) == "s3control"
    for service in ("kms", "iam", "sts", "workmail"):
        assert app.moto_service(signed(service, path="/")) == service
    assert app.moto_service(_environ("GET", "/moto-api/data.json")) is None
    assert DomainDispatcherApplication(create_backend_app).get_backend_for_host("s3.us-east-1.amazonaws.com") == "s3"
