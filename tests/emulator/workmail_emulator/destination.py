"""Checks of an export destination (IAM role, KMS key, S3 bucket) against moto's in-process state.

StartMailboxExportJob runs ``check_destination`` before it creates a job; a job runs it again when it
completes, so a key disabled or a permission removed in the meantime makes the job fail.
"""

import re
from dataclasses import dataclass

from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.s3.models import s3_backends

from . import EXPORT_SERVICE_PRINCIPAL
from .policy import ALLOW
from .policy import DENY
from .policy import PolicyParseError
from .policy import evaluate
from .policy import load_document
from .policy import principal_matches
from .policy import trust_allows
from .policy import trust_names_service

PARTITION = "aws"
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]+)$")
_KMS_ARN = re.compile(r"^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key|alias)/(.+)$")
_BLOCK_FLAGS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")
# What AWS makes of a key created without KeySpec or KeyUsage; moto 5.2.5 stores KeyUsage None for it.
DEFAULT_KEY_SPEC = "SYMMETRIC_DEFAULT"
DEFAULT_KEY_USAGE = "ENCRYPT_DECRYPT"


class DestinationError(Exception):
    """The destination cannot be used; the message names the request member and the reason."""

    def __init__(self, member, message):
        super().__init__(f"{member}: {message}")
        self.member = member
        self.reason = message


@dataclass
class Destination:
    """What a valid destination resolved to."""

    role_arn: str
    key_arn: str
    key_region: str
    bucket: str
    bucket_region: str
    bucket_key_enabled: bool


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def find_role(account_id, role_arn):
    """The moto IAM role with this ARN, or None."""
    if not _ROLE_ARN.match(role_arn):
        return None
    backend = iam_backends[account_id][PARTITION]
    for role in backend.get_roles():
        if role.arn == role_arn:
            return role
    return None


def role_policy_documents(role):
    """Parsed inline and attached managed policies of a role (default versions)."""
    documents = []
    for text in role.policies.values():
        documents.append(load_document(text))
    for managed in role.managed_policies.values():
        for version in managed.versions:
            if version.is_default_version:
                documents.append(load_document(version.document))
    return documents


def find_key(account_id, kms_key_arn):
    """(key, region) for a key or alias ARN of this account, or (None, region)."""
    match = _KMS_ARN.match(kms_key_arn)
    if not match:
        return None, None
    region, _account, kind, name = match.groups()
    try:
        backend = kms_backends[account_id][region]
    except KeyError:
        return None, region
    key_id = name
    if kind == "alias":
        key_id = backend.get_key_id_from_alias(f"alias/{name}")
        if key_id is None:
            return None, region
        key_id = backend.get_key_id(key_id)
    return backend.keys.get(key_id), region


def key_state(key):
    """The KeyState AWS would report. moto 5.2.5 makes every new key Enabled, but a key created with Origin EXTERNAL
    stays PendingImport until its key material is imported, which moto cannot do."""
    state = getattr(key, "key_state", None) or ("Enabled" if getattr(key, "enabled", True) else "Disabled")
    if getattr(key, "origin", "AWS_KMS") == "EXTERNAL" and state == "Enabled":
        return "PendingImport"
    return state


def key_spec_and_usage(key):
    """(KeySpec, KeyUsage) as AWS reports them, with AWS's defaults where moto stored none."""
    return (getattr(key, "key_spec", None) or DEFAULT_KEY_SPEC, getattr(key, "key_usage", None) or DEFAULT_KEY_USAGE)


def find_bucket(account_id, bucket_name):
    """The moto S3 bucket of this account, or None."""
    return s3_backends[account_id][PARTITION].buckets.get(bucket_name)


def _bucket_blocks_public_access(account_id, bucket):
    block = bucket.public_access_block
    if block is not None and all(_truthy(getattr(block, flag, False)) for flag in _BLOCK_FLAGS):
        return True
    try:
        from moto.s3control.models import s3control_backends  # pylint: disable=import-outside-toplevel

        account_block = s3control_backends[account_id][PARTITION].public_access_block
    except (ImportError, KeyError, AttributeError):
        account_block = None
    return account_block is not None and all(_truthy(getattr(account_block, flag, False)) for flag in _BLOCK_FLAGS)


def _bucket_key_enabled(bucket):
    encryption = bucket.encryption or {}
    rule = encryption.get("Rule") or {}
    if isinstance(rule, list):
        rule = rule[0] if rule else {}
    return _truthy(rule.get("BucketKeyEnabled", False))


def object_arn(bucket, key):
    """ARN of an S3 object."""
    return f"arn:aws:s3:::{bucket}/{key}"


def check_key_use(account_id, documents, key, role_arn, kms_key_arn, kms_context, action="kms:GenerateDataKey"):
    """Raise DestinationError unless role ``role_arn`` (with its parsed IAM ``documents``) may use ``key`` for
    ``action`` under ``kms_context``: an Allow by the key policy for the role, or by the role's IAM policies where
    the key policy lets the account delegate; no Deny anywhere."""
    identity = evaluate(documents, action, key.arn, kms_context)
    try:
        key_policy = load_document(key.policy)
    except PolicyParseError as exc:
        raise DestinationError("KmsKeyArn", f"key {kms_key_arn} has an unreadable key policy: {exc}") from exc
    for_role = evaluate(
        [key_policy],
        action,
        key.arn,
        kms_context,
        principal_filter=lambda principal: principal_matches(principal, aws_principals=(role_arn,)),
    )
    for_account = evaluate(
        [key_policy],
        action,
        key.arn,
        kms_context,
        principal_filter=lambda principal: principal_matches(
            principal, aws_principals=(f"arn:aws:iam::{account_id}:root", account_id)
        ),
    )
    context_text = ", ".join(
        f"{name}={kms_context[name]}"
        for name in ("kms:ViaService", "kms:EncryptionContext:aws:s3:arn")
        if name in kms_context
    )
    if DENY in (identity, for_role, for_account) or ALLOW not in (for_role, identity):
        raise DestinationError("RoleArn", f"role {role_arn} is not allowed {action} on key {key.arn} ({context_text})")
    if ALLOW not in (for_role, for_account):
        raise DestinationError(
            "KmsKeyArn",
            f"the key policy of {key.arn} lets neither the account ({account_id}) nor role {role_arn} use "
            f"{action}, so the role's IAM policies cannot grant it",
        )


def read_role(account_id, role_arn):
    """``(trust document, identity documents)`` of an existing role; DestinationError when it does not exist or a
    policy of it cannot be read."""
    role = find_role(account_id, role_arn)
    if role is None:
        raise DestinationError("RoleArn", f"role {role_arn} does not exist")
    try:
        return load_document(role.assume_role_policy_document), role_policy_documents(role)
    except PolicyParseError as exc:
        raise DestinationError("RoleArn", f"role {role_arn} has an unreadable policy: {exc}") from exc


def check_destination(account_id, organization, role_arn, kms_key_arn, bucket_name, object_keys):
    """Raise DestinationError unless the export service could write ``object_keys`` with this role and key."""
    # --- the role and its trust policy
    role_match = _ROLE_ARN.match(role_arn)
    if not role_match:
        raise DestinationError("RoleArn", f"{role_arn} is not the ARN of an IAM role")
    if role_match.group(1) != account_id:
        raise DestinationError("RoleArn", f"role {role_arn} must belong to account {account_id}")
    trust, documents = read_role(account_id, role_arn)
    if not trust_names_service(trust, EXPORT_SERVICE_PRINCIPAL):
        raise DestinationError(
            "RoleArn",
            f"the trust policy of role {role_arn} does not allow the service principal "
            f"{EXPORT_SERVICE_PRINCIPAL} to perform sts:AssumeRole",
        )
    trust_context = {
        "aws:SourceAccount": account_id,
        "aws:SourceArn": organization.arn,
        "sts:ExternalId": account_id,
    }
    if not trust_allows(trust, EXPORT_SERVICE_PRINCIPAL, "sts:AssumeRole", trust_context):
        raise DestinationError(
            "RoleArn",
            f"the trust policy of role {role_arn} does not allow {EXPORT_SERVICE_PRINCIPAL} to perform "
            f"sts:AssumeRole for organization {organization.id} of account {account_id}: its conditions "
            f"(aws:SourceAccount, aws:SourceArn or sts:ExternalId) do not match "
            f"aws:SourceAccount={account_id}, aws:SourceArn={organization.arn}",
        )

    # --- the KMS key
    key_match = _KMS_ARN.match(kms_key_arn)
    if not key_match:
        raise DestinationError("KmsKeyArn", f"{kms_key_arn} is not the ARN of a KMS key")
    if key_match.group(2) != account_id:
        raise DestinationError("KmsKeyArn", f"key {kms_key_arn} must belong to account {account_id}")
    key, key_region = find_key(account_id, kms_key_arn)
    if key is None:
        raise DestinationError("KmsKeyArn", f"key {kms_key_arn} does not exist")
    state = key_state(key)
    if state != "Enabled":
        raise DestinationError("KmsKeyArn", f"key {kms_key_arn} is not enabled (KeyState {state})")
    spec, usage = key_spec_and_usage(key)
    if (spec, usage) != (DEFAULT_KEY_SPEC, DEFAULT_KEY_USAGE):
        raise DestinationError(
            "KmsKeyArn",
            f"key {kms_key_arn} is not a symmetric encryption key (KeySpec {spec}, "
            f"KeyUsage {usage}); use SYMMETRIC_DEFAULT with ENCRYPT_DECRYPT",
        )

    # --- the bucket
    bucket = find_bucket(account_id, bucket_name)
    if bucket is None:
        raise DestinationError("S3BucketName", f"bucket {bucket_name} does not exist")

    # --- one region for organization, key and bucket
    if key_region != organization.region:
        raise DestinationError(
            "KmsKeyArn",
            f"key {kms_key_arn} is in region {key_region} but organization {organization.id} is in "
            f"{organization.region}; the organization, the key and the bucket must be in the same region",
        )
    if bucket.region_name != organization.region:
        raise DestinationError(
            "S3BucketName",
            f"bucket {bucket_name} is in region {bucket.region_name} but organization {organization.id} is in "
            f"{organization.region}; the organization, the key and the bucket must be in the same region",
        )
    if not _bucket_blocks_public_access(account_id, bucket):
        raise DestinationError(
            "S3BucketName",
            f"bucket {bucket_name} does not block public access; turn on all four S3 Block Public Access "
            "settings (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets)",
        )

    # --- what the role may do
    bucket_key_enabled = _bucket_key_enabled(bucket)
    for object_key in object_keys:
        target = object_arn(bucket_name, object_key)
        s3_context = {
            "s3:x-amz-server-side-encryption": "aws:kms",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": key.arn,
            "aws:SecureTransport": "true",
        }
        if evaluate(documents, "s3:PutObject", target, s3_context) != ALLOW:
            raise DestinationError("RoleArn", f"role {role_arn} is not allowed s3:PutObject on {target}")
        context_arn = f"arn:aws:s3:::{bucket_name}" if bucket_key_enabled else target
        kms_context = {
            "kms:ViaService": f"s3.{organization.region}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": context_arn,
            "kms:CallerAccount": account_id,
        }
        check_key_use(account_id, documents, key, role_arn, kms_key_arn, kms_context)
    return Destination(
        role_arn=role_arn,
        key_arn=key.arn,
        key_region=key_region,
        bucket=bucket_name,
        bucket_region=bucket.region_name,
        bucket_key_enabled=bucket_key_enabled,
    )
