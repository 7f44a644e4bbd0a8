# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The destination check before a run's first start, against moto's KMS, S3 and S3 Control."""

import boto3
import pytest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.preflight import DestinationCheckError
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.preflight import check_destination
from ansible_collections.mailops.workmail.plugins.module_utils.kms import KmsGateway
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_error
from moto import mock_aws

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "exports-preflight"
ALL_ON = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
NO_RETRY = RetryPolicy(retries=1, delay=0, max_delay=0)


@pytest.fixture(name="aws")
def aws_fixture(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield {name: boto3.client(name, region_name=REGION) for name in ("kms", "s3", "s3control")}


def _destination(aws, region=REGION, bucket_region=REGION, block=True):
    kms = boto3.client("kms", region_name=region)
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]  # no KeySpec, no KeyUsage: a symmetric encryption key
    s3 = boto3.client("s3", region_name=bucket_region)
    if bucket_region == "us-east-1":
        s3.create_bucket(Bucket=BUCKET)
    else:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": bucket_region})
    if block:
        aws["s3"].put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_ON)
    return {"region": REGION, "kms_key_arn": key_arn, "s3_bucket": BUCKET, "role_arn": None}


def _check(aws, manifest, control=True):
    s3 = S3Gateway(aws["s3"], NO_RETRY, control_client=aws["s3control"] if control else None)
    return check_destination(KmsGateway(aws["kms"], NO_RETRY), s3, manifest)


def test_a_working_destination_passes_every_check(aws):
    report = _check(aws, _destination(aws))

    assert report == {"checked": ["key", "bucket region", "public access block"], "unchecked": [], "problems": []}


def test_a_disabled_key_stops_the_run_and_says_so(aws):
    manifest = _destination(aws)
    aws["kms"].disable_key(KeyId=manifest["kms_key_arn"].rsplit("/", 1)[1])

    with pytest.raises(DestinationCheckError) as caught:
        _check(aws, manifest)

    assert caught.value.problems == [f"KMS key {manifest['kms_key_arn']} is Disabled; it must be Enabled"]
    assert "started no job and used no mailbox's attempt" in caught.value.message


def test_a_key_pending_deletion_an_asymmetric_key_and_a_missing_key_are_refused(aws):
    manifest = _destination(aws)
    aws["kms"].schedule_key_deletion(KeyId=manifest["kms_key_arn"].rsplit("/", 1)[1], PendingWindowInDays=7)
    with pytest.raises(DestinationCheckError, match="is PendingDeletion; it must be Enabled"):
        _check(aws, manifest)

    signing = aws["kms"].create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    with pytest.raises(DestinationCheckError) as caught:
        _check(aws, dict(manifest, kms_key_arn=signing))
    assert "has KeyUsage SIGN_VERIFY; WorkMail needs ENCRYPT_DECRYPT" in caught.value.message
    assert "is a RSA_2048 key; WorkMail needs a SYMMETRIC_DEFAULT (symmetric) key" in caught.value.message

    missing = manifest["kms_key_arn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(DestinationCheckError, match="does not exist"):
        _check(aws, dict(manifest, kms_key_arn=missing))


def test_a_key_and_a_bucket_of_another_region_are_named(aws):
    manifest = _destination(aws, region="eu-west-1", bucket_region="eu-west-1")

    with pytest.raises(DestinationCheckError) as caught:
        _check(aws, manifest)

    assert caught.value.problems == [
        f"KMS key {manifest['kms_key_arn']} is in region eu-west-1, the organization in us-east-1",
        f"bucket {BUCKET} is in region eu-west-1, the organization in us-east-1",
    ]


def test_a_missing_bucket_is_named_and_its_public_access_is_not_asked(aws):
    manifest = dict(_destination(aws), s3_bucket="no-such-exports-bucket")

    with pytest.raises(DestinationCheckError) as caught:
        _check(aws, manifest)

    assert caught.value.problems == ["bucket no-such-exports-bucket does not exist"]


def test_public_access_blocked_on_the_account_is_enough_and_on_neither_is_refused(aws):
    manifest = _destination(aws, block=False)
    with pytest.raises(DestinationCheckError, match=f"bucket {BUCKET} does not block public access"):
        _check(aws, manifest)

    aws["s3control"].put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_ON)
    assert "public access block" in _check(aws, dict(manifest, kms_key_arn=manifest["kms_key_arn"]))["checked"]


def test_what_the_caller_may_not_ask_is_reported_as_not_checked_never_as_a_fault(aws):
    manifest = _destination(aws, block=False)

    class Refusing:
        def __init__(self, client, operation):
            self.client = client
            self.operation = operation

        def __getattr__(self, name):
            if name == self.operation:

                def refuse(**kwargs):
                    raise s3_error("AccessDeniedException", 400, name, "not allowed")

                return refuse
            return getattr(self.client, name)

    s3 = S3Gateway(aws["s3"], NO_RETRY)  # no S3 Control client: the account's settings cannot be read
    report = check_destination(KmsGateway(Refusing(aws["kms"], "describe_key"), NO_RETRY), s3, manifest)

    assert report["problems"] == [] and report["checked"] == ["bucket region"]
    assert report["unchecked"][0].startswith("the KMS key: DescribeKey of KMS key")
    assert "AccessDeniedException: not allowed" in report["unchecked"][0]
    assert report["unchecked"][1].startswith("the public access block: get_public_access_block of the public access")
