"""Create a working export destination (KMS key, S3 bucket, IAM role) with boto3, as the Admin Guide says.

``provision_export_destination`` is for tests and scripts that need a destination without running the
collection's role. The policy builders are shared by the emulator's own tests.
"""

import hashlib
import json

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import EXPORT_SERVICE_PRINCIPAL
from . import FORECAST_SERVICE_PRINCIPAL


def trust_policy(account_id, region, organization_id, with_source_arn=True):
    """The export role's trust policy: the service principal, with the confused-deputy conditions."""
    condition = {"StringEquals": {"aws:SourceAccount": account_id}}
    if with_source_arn:
        condition["ArnLike"] = {
            "aws:SourceArn": f"arn:aws:workmail:{region}:{account_id}:organization/{organization_id}"
        }
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": EXPORT_SERVICE_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }


def export_role_policy(bucket, prefix, kms_key_arn, region):
    """The export role's permissions: write to the bucket and use the key through S3 for the prefix."""
    prefix = prefix.rstrip("/")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:PutObject", "s3:GetBucketPolicyStatus"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            },
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}/{prefix}*"},
                },
            },
        ],
    }


def _client_factory(session_or_factory, endpoint_url):
    if callable(session_or_factory) and not isinstance(session_or_factory, boto3.session.Session):
        return session_or_factory
    session = session_or_factory or boto3.session.Session()

    def factory(service, region):
        config = Config(s3={"addressing_style": "path"}) if service == "s3" else None
        return session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)

    return factory


def provision_export_destination(
    session_or_factory,
    org_id,
    bucket,
    prefix,
    region,
    endpoint_url=None,
    role_name=None,
    with_source_arn=True,
):
    """Create a symmetric KMS key, a private SSE-KMS bucket and the export role; return their names.

    ``session_or_factory`` is a boto3 Session (then ``endpoint_url`` points it at the emulator) or a callable
    ``(service, region) -> client`` such as ``LocalAws.client``. Re-running with the same bucket reuses the
    bucket and the role (their policies are rewritten) and creates a new key.
    """
    make = _client_factory(session_or_factory, endpoint_url)
    account_id = make("sts", region).get_caller_identity()["Account"]

    kms = make("kms", region)
    key = kms.create_key(
        Description=f"WorkMail mailbox export to s3://{bucket}/{prefix}",
        KeySpec="SYMMETRIC_DEFAULT",
        KeyUsage="ENCRYPT_DECRYPT",
    )["KeyMetadata"]
    kms_key_arn = key["Arn"]

    s3 = make("s3", region)
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn},
                    "BucketKeyEnabled": False,
                }
            ]
        },
    )

    iam = make("iam", region)
    role_name = role_name or "workmail-export-" + hashlib.sha256(bucket.encode("utf-8")).hexdigest()[:12]
    trust = json.dumps(trust_policy(account_id, region, org_id, with_source_arn=with_source_arn))
    try:
        role_arn = iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=trust,
            Description="Lets Amazon WorkMail export mailboxes to S3",
        )["Role"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=trust)
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="workmail-mailbox-export",
        PolicyDocument=json.dumps(export_role_policy(bucket, prefix, kms_key_arn, region)),
    )
    return {
        "role_arn": role_arn,
        "kms_key_arn": kms_key_arn,
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "region": region,
    }


def forecast_trust_policy(account_id, region):
    """The forecast export role's trust policy: forecast.amazonaws.com, for this account's Forecast resources."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": FORECAST_SERVICE_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:forecast:{region}:{account_id}:*"},
                },
            }
        ],
    }


def forecast_export_role_policy(bucket, prefix, kms_key_arn, region):
    """The forecast export role's permissions: put objects under the prefix (and use the key through S3)."""
    prefix = prefix.strip("/")
    objects = f"arn:aws:s3:::{bucket}/{prefix}/*" if prefix else f"arn:aws:s3:::{bucket}/*"
    statements = [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": objects}]
    if kms_key_arn:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Encrypt"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def provision_forecast_export_destination(
    session_or_factory, bucket, prefix, region, endpoint_url=None, role_name=None, with_key=True
):
    """Create a bucket, (a symmetric KMS key,) and a role Amazon Forecast can assume to export into
    ``s3://bucket/prefix/``; return ``{"role_arn", "kms_key_arn" (None without a key), "s3_bucket", "s3_prefix",
    "path", "region"}``. ``session_or_factory`` as for ``provision_export_destination``."""
    make = _client_factory(session_or_factory, endpoint_url)
    account_id = make("sts", region).get_caller_identity()["Account"]
    kms_key_arn = None
    if with_key:
        kms_key_arn = make("kms", region).create_key(Description=f"Forecast export to s3://{bucket}/{prefix}")[
            "KeyMetadata"
        ]["Arn"]
    s3 = make("s3", region)
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    iam = make("iam", region)
    role_name = role_name or "forecast-export-" + hashlib.sha256(bucket.encode("utf-8")).hexdigest()[:12]
    trust = json.dumps(forecast_trust_policy(account_id, region))
    try:
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=trust)
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="forecast-export",
        PolicyDocument=json.dumps(forecast_export_role_policy(bucket, prefix, kms_key_arn, region)),
    )
    prefix = prefix.strip("/")
    return {
        "role_arn": role_arn,
        "kms_key_arn": kms_key_arn,
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "path": f"s3://{bucket}/{prefix}/" if prefix else f"s3://{bucket}/",
        "region": region,
    }
