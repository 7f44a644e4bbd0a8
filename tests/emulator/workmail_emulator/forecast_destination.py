"""Checks of a forecast export's destination (IAM role, optional KMS key, S3 bucket) against moto's state.

The same kind of checks as the WorkMail export's (destination.py), for Amazon Forecast: the role must trust
``forecast.amazonaws.com`` (its ``aws:SourceAccount`` / ``aws:SourceArn`` conditions, when present, must match the
account and the export job's ARN), allow ``s3:PutObject`` on every part file, and, when a key is given, the key must
be an enabled symmetric key of the account in the bucket's region that the role may use for ``kms:GenerateDataKey``
(what S3 asks KMS for when it stores an object with SSE-KMS).
"""

from dataclasses import dataclass

from . import FORECAST_SERVICE_PRINCIPAL
from .destination import _KMS_ARN
from .destination import _ROLE_ARN
from .destination import DEFAULT_KEY_SPEC
from .destination import DEFAULT_KEY_USAGE
from .destination import DestinationError
from .destination import _bucket_key_enabled
from .destination import check_key_use
from .destination import find_bucket
from .destination import find_key
from .destination import read_role
from .destination import key_spec_and_usage
from .destination import key_state
from .destination import object_arn
from .policy import ALLOW
from .policy import evaluate
from .policy import trust_allows
from .policy import trust_names_service


@dataclass
class ForecastDestination:
    """What a valid destination resolved to."""

    key_arn: str
    bucket_key_enabled: bool


def _role_documents(account_id, role_arn, job_arn):
    """(trust, identity documents) of the role, after the trust checks."""
    if not _ROLE_ARN.match(role_arn):
        raise DestinationError("RoleArn", f"{role_arn} is not the ARN of an IAM role")
    trust, documents = read_role(account_id, role_arn)
    if not trust_names_service(trust, FORECAST_SERVICE_PRINCIPAL):
        raise DestinationError(
            "RoleArn",
            f"Amazon Forecast cannot assume role {role_arn}: its trust policy does not allow the service principal "
            f"{FORECAST_SERVICE_PRINCIPAL} to perform sts:AssumeRole",
        )
    context = {"aws:SourceAccount": account_id, "aws:SourceArn": job_arn}
    if not trust_allows(trust, FORECAST_SERVICE_PRINCIPAL, "sts:AssumeRole", context):
        raise DestinationError(
            "RoleArn",
            f"Amazon Forecast cannot assume role {role_arn}: the conditions of its trust policy (aws:SourceAccount, "
            f"aws:SourceArn) do not match aws:SourceAccount={account_id}, aws:SourceArn={job_arn}",
        )
    return documents


def _key(account_id, kms_key_arn, bucket_region):
    match = _KMS_ARN.match(kms_key_arn)
    if not match:
        raise DestinationError("KMSKeyArn", f"{kms_key_arn} is not the ARN of a KMS key")
    if match.group(2) != account_id:
        raise DestinationError("KMSKeyArn", f"key {kms_key_arn} must belong to account {account_id}")
    key, key_region = find_key(account_id, kms_key_arn)
    if key is None:
        raise DestinationError("KMSKeyArn", f"key {kms_key_arn} does not exist")
    state = key_state(key)
    if state != "Enabled":
        raise DestinationError("KMSKeyArn", f"key {kms_key_arn} is not enabled (KeyState {state})")
    spec, usage = key_spec_and_usage(key)
    if (spec, usage) != (DEFAULT_KEY_SPEC, DEFAULT_KEY_USAGE):
        raise DestinationError(
            "KMSKeyArn", f"key {kms_key_arn} is not a symmetric encryption key (KeySpec {spec}, KeyUsage {usage})"
        )
    if key_region != bucket_region:
        raise DestinationError(
            "KMSKeyArn", f"key {kms_key_arn} is in region {key_region} but the bucket is in {bucket_region}"
        )
    return key


def check_export_destination(account_id, region, job_arn, role_arn, kms_key_arn, bucket_name, object_keys):
    """Raise DestinationError unless Forecast could write ``object_keys`` into the bucket with this role (and key)."""
    documents = _role_documents(account_id, role_arn, job_arn)
    bucket = find_bucket(account_id, bucket_name)
    if bucket is None:
        raise DestinationError("Path", f"bucket {bucket_name} does not exist")
    if bucket.region_name != region:
        raise DestinationError(
            "Path", f"bucket {bucket_name} is in region {bucket.region_name}; the export runs in {region}"
        )
    key = _key(account_id, kms_key_arn, bucket.region_name) if kms_key_arn else None
    bucket_keys = _bucket_key_enabled(bucket)
    for object_key in object_keys:
        target = object_arn(bucket_name, object_key)
        s3_context = {"aws:SecureTransport": "true"}
        if key is not None:
            s3_context["s3:x-amz-server-side-encryption"] = "aws:kms"
            s3_context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = key.arn
        if evaluate(documents, "s3:PutObject", target, s3_context) != ALLOW:
            raise DestinationError("RoleArn", f"role {role_arn} is not allowed s3:PutObject on {target}")
        if key is not None:
            kms_context = {
                "kms:ViaService": f"s3.{bucket.region_name}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket_name}" if bucket_keys else target,
                "kms:CallerAccount": account_id,
            }
            check_key_use(account_id, documents, key, role_arn, kms_key_arn, kms_context)
    return ForecastDestination(key_arn=key.arn if key is not None else None, bucket_key_enabled=bucket_keys)
