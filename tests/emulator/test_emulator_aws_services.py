"""moto's services at the same endpoint: STS, S3 (path-style at an IP), KMS (with the ARN workaround), IAM."""

import json
import os
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from workmail_emulator import DEFAULT_ACCOUNT_ID


def test_sts_answers_the_account_used_in_arns(aws, org):
    identity = aws.client("sts").get_caller_identity()
    assert identity["Account"] == DEFAULT_ACCOUNT_ID
    assert f":{identity['Account']}:organization/" in org["arn"]


def test_any_dummy_credentials_work(aws):
    client = boto3.client(
        "sts",
        endpoint_url=aws.endpoint,
        region_name="eu-west-1",
        aws_access_key_id="anything",
        aws_secret_access_key="whatever",
    )
    assert client.get_caller_identity()["Account"] == DEFAULT_ACCOUNT_ID


def test_s3_path_style_at_the_ip_endpoint(aws):
    s3 = boto3.client(
        "s3",
        endpoint_url=aws.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket="plain-bucket")
    s3.put_object(Bucket="plain-bucket", Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket="plain-bucket", Key="a/b.txt")["Body"].read() == b"hello"
    # botocore's default addressing also works: it uses path style for an IP endpoint.
    default = aws.client("s3", s3={"addressing_style": "auto"})
    assert [b["Name"] for b in default.list_buckets()["Buckets"]] == ["plain-bucket"]


def test_iam_role_round_trip(aws):
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": []}
    arn = iam.create_role(RoleName="r1", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    assert arn == f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/r1"


def test_kms_schedule_key_deletion_accepts_a_key_arn(aws):
    kms = aws.client("kms")
    key = kms.create_key()["KeyMetadata"]
    answer = kms.schedule_key_deletion(KeyId=key["Arn"], PendingWindowInDays=7)
    assert answer["KeyId"] in (key["Arn"], key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=key["Arn"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"


def test_kms_enable_and_disable_accept_a_key_arn(aws):
    kms = aws.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["Arn"])
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Enabled"] is False
    kms.enable_key(KeyId=key["Arn"])
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Enabled"] is True


def test_kms_unknown_key_arn_is_a_client_error_not_a_500(aws):
    kms = aws.client("kms", retries={"total_max_attempts": 1})
    with pytest.raises(ClientError) as excinfo:
        kms.schedule_key_deletion(
            KeyId=f"arn:aws:kms:us-east-1:{DEFAULT_ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555",
            PendingWindowInDays=7,
        )
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert excinfo.value.response["Error"]["Code"] == "NotFoundException"


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - amazon.aws.kms_key:
        alias: emulator-kms-test
        state: present
    - amazon.aws.kms_key:
        alias: emulator-kms-test
        state: absent
      register: removed
    - amazon.aws.kms_key:
        alias: emulator-kms-test
        state: absent
      register: removed_again
    - ansible.builtin.assert:
        that:
          - removed is changed
          - removed.key_state == "PendingDeletion"
          - removed_again is not changed
"""


@pytest.mark.integration
def test_amazon_aws_kms_key_state_absent_works(aws, tmp_path):
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.path.exists(playbook_bin):
        pytest.skip("ansible-playbook is not installed next to this Python")
    playbook = tmp_path / "kms.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(aws.env, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1")
    result = subprocess.run(
        [playbook_bin, "-i", "localhost,", "-c", "local", str(playbook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    keys = aws.client("kms").list_keys()["Keys"]
    states = [aws.client("kms").describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] for key in keys]
    assert states == ["PendingDeletion"]


TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


def test_tls_only_bucket_policy_admits_tls_requests_and_refuses_plain_ones(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps(TLS_ONLY))

    s3.put_object(Bucket="tls-only", Key="a.txt", Body=b"over TLS")
    assert s3.get_object(Bucket="tls-only", Key="a.txt")["Body"].read() == b"over TLS"

    aws.set_secure_transport(False)
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="tls-only", Key="b.txt", Body=b"plain")
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError):
        s3.get_object(Bucket="tls-only", Key="a.txt")

    aws.reset()
    assert aws.admin("GET", "transport") == {"secure": True}


def test_a_deny_whose_condition_does_not_hold_does_not_deny(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="conditional")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::conditional/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1234"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket="conditional", Policy=json.dumps(policy))
    s3.put_object(Bucket="conditional", Key="k", Body=b"allowed")
    policy["Statement"][0].pop("Condition")
    s3.put_bucket_policy(Bucket="conditional", Policy=json.dumps(policy))
    with pytest.raises(ClientError):
        s3.put_object(Bucket="conditional", Key="k2", Body=b"denied")
