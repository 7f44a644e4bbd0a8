# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The S3 gateway: what it retries, how it classifies what is left, and how it names the object."""

import botocore.exceptions
import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import s3
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3

BUCKET = "exports"
KEY = "p/mailops-campaigns/c/manifest.json"


def gateway(client, tries=3):
    return s3.S3Gateway(client, RetryPolicy(retries=tries, delay=0, max_delay=0))


@pytest.mark.parametrize(
    "code, status",
    [("SlowDown", 503), ("ServiceUnavailable", 503), ("InternalError", 500), ("RequestTimeout", 400)],
)
def test_busy_or_broken_answers_are_tried_again(code, status):
    fake = FakeS3()
    fake.raw_put(BUCKET, KEY, b"{}")
    fake.fail("get_object", code, status, times=2)
    assert gateway(fake).read(s3.MANIFEST, BUCKET, KEY) == (b"{}", fake.objects[(BUCKET, KEY)]["ETag"])
    assert fake.count("get_object") == 3


class Dropping:
    """A client whose first ``drops`` HeadObject calls lose their connection."""

    def __init__(self, inner, drops, error):
        self.inner = inner
        self.drops = drops
        self.error = error
        self.calls = 0

    def head_object(self, **kwargs):
        self.calls += 1
        if self.calls <= self.drops:
            raise self.error
        return self.inner.head_object(**kwargs)


@pytest.mark.parametrize(
    "error",
    [
        botocore.exceptions.ConnectionClosedError(endpoint_url="http://127.0.0.1"),
        botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1"),
        botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1"),
    ],
    ids=["reset", "refused", "read-timeout"],
)
def test_dropped_connections_are_tried_again_and_a_lasting_one_is_unreachable(error):
    fake = FakeS3()
    fake.put_export(BUCKET, "a.zip", b"zip")
    client = Dropping(fake, 2, error)
    assert gateway(client).head(s3.ARCHIVE, BUCKET, "a.zip")["ContentLength"] == 3
    client = Dropping(fake, 3, error)
    with pytest.raises(s3.S3Unreachable) as caught:
        gateway(client).head(s3.ARCHIVE, BUCKET, "a.zip")
    assert caught.value.aws_error is error and client.calls == 3
    assert caught.value.message.startswith(f"head_object of the export archive s3://{BUCKET}/a.zip failed")


@pytest.mark.parametrize(
    "code, status, kind",
    [
        ("NoSuchKey", 404, s3.S3Missing),
        ("404", 404, s3.S3Missing),
        ("NoSuchBucket", 404, s3.S3BucketMissing),
        ("AccessDenied", 403, s3.S3AccessDenied),
        ("KMS.AccessDeniedException", 400, s3.S3AccessDenied),
        ("PreconditionFailed", 412, s3.S3PreconditionFailed),
        ("ConditionalRequestConflict", 409, s3.S3Conflict),
        ("InvalidArgument", 400, s3.S3Error),
    ],
)
def test_errors_are_classified_once_and_name_the_object(code, status, kind):
    fake = FakeS3()
    fake.fail("get_object", code, status)
    with pytest.raises(s3.S3Error) as caught:
        gateway(fake, tries=1).get(s3.EXPORT_LOG, BUCKET, "p/j.log.json")
    error = caught.value
    assert type(error) is kind  # pylint: disable=unidiomatic-typecheck
    assert (error.code, error.status, error.bucket, error.key, error.what) == (
        code,
        status,
        BUCKET,
        "p/j.log.json",
        "export log",
    )
    assert error.message == f"get_object of the export log s3://{BUCKET}/p/j.log.json failed: {code}: injected"
    assert error.details == {"s3_bucket": BUCKET, "s3_key": "p/j.log.json", "aws_code": code}


def test_replace_takes_its_own_earlier_write_for_success_and_refuses_another():
    fake = FakeS3()
    store = gateway(fake)
    etag = store.replace(s3.MANIFEST, BUCKET, KEY, b"v1", "application/json", None, "arn:aws:kms:k")
    assert fake.objects[(BUCKET, KEY)]["SSEKMSKeyId"] == "arn:aws:kms:k"
    # The same creation again (a retry whose first answer was lost): the object is already these bytes.
    assert store.replace(s3.MANIFEST, BUCKET, KEY, b"v1", "application/json", None) == etag
    with pytest.raises(s3.S3PreconditionFailed):
        store.replace(s3.MANIFEST, BUCKET, KEY, b"v2", "application/json", None)
    new_etag = store.replace(s3.MANIFEST, BUCKET, KEY, b"v2", "application/json", etag)
    with pytest.raises(s3.S3PreconditionFailed):
        store.replace(s3.MANIFEST, BUCKET, KEY, b"v3", "application/json", etag)
    fake.objects.clear()
    with pytest.raises(s3.S3Missing):
        store.replace(s3.MANIFEST, BUCKET, KEY, b"v3", "application/json", new_etag)


def test_reads_of_missing_and_empty_objects():
    fake = FakeS3()
    store = gateway(fake)
    assert store.read_if_exists(s3.LOCK, BUCKET, KEY) == (None, None)
    with pytest.raises(s3.S3Missing):
        store.read(s3.LOCK, BUCKET, KEY)
    fake.fail("get_object", "InvalidRange", 416)
    assert store.read(s3.EXPORT_LOG, BUCKET, "empty.json", limit=1024) == (b"", None)
    assert fake.calls[-1][1]["Range"] == "bytes=0-1024"


def test_a_refused_write_is_not_tried_again():
    fake = FakeS3()
    fake.fail("put_object", "AccessDenied", 403, times=5)
    with pytest.raises(s3.S3AccessDenied):
        gateway(fake).put(s3.LOCK, BUCKET, KEY, b"{}", "application/json")
    assert fake.count("put_object") == 1
