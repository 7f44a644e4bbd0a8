# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A cheap look at the destination before a run starts its first job.

:func:`check_destination` asks KMS and S3 what WorkMail would refuse: a key that is not enabled, not a symmetric
encryption key, or in another region; a bucket that does not exist, is in another region, or does not block public
access (on the bucket or on the account). A definite answer stops the run before any job starts
(:class:`DestinationCheckError`), so no mailbox's attempt or 24-hour chance is used on a fault of the destination.
A question the caller may not ask (AccessDenied) or that got no answer is reported as not checked, never as a
fault: the start itself then tells.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.kms import KmsAccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.kms import KmsError
from ansible_collections.mailops.workmail.plugins.module_utils.kms import KmsKeyMissing
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3BucketMissing
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Error

ENABLED = "Enabled"
# What WorkMail accepts as an export key. A key described without these fields (older keys, some emulators) is a
# symmetric encryption key: AWS's defaults when a key is created without KeySpec and KeyUsage.
KEY_USAGE = "ENCRYPT_DECRYPT"
KEY_SPEC = "SYMMETRIC_DEFAULT"
BLOCK_PUBLIC_ACCESS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
FIX = (
    "Fix the destination (for example by running the export_prerequisites role again, or enabling the key) and run "
    "the campaign again"
)


class DestinationCheckError(WorkMailError):
    """The destination cannot receive exports: found before the run started any job."""

    def __init__(self, problems):
        super().__init__(
            "the export destination cannot receive exports, so the campaign started no job and used no mailbox's "
            f"attempt: {'; '.join(problems)}. {FIX}",
            destination_problems=list(problems),
        )
        self.problems = list(problems)


def arn_region(arn):
    """The region field of an ARN, or None."""
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


def arn_account(arn):
    """The account field of an ARN, or None."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None


def _key_problems(metadata, key_arn):
    problems = []
    state = metadata.get("KeyState") or (ENABLED if metadata.get("Enabled", True) else "Disabled")
    if state != ENABLED:
        problems.append(f"KMS key {key_arn} is {state}; it must be Enabled")
    usage = metadata.get("KeyUsage")
    if usage and usage != KEY_USAGE:
        problems.append(f"KMS key {key_arn} has KeyUsage {usage}; WorkMail needs {KEY_USAGE}")
    spec = metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec")
    if spec and spec != KEY_SPEC:
        problems.append(f"KMS key {key_arn} is a {spec} key; WorkMail needs a {KEY_SPEC} (symmetric) key")
    return problems


def _check_key(kms, key_arn, region, report):
    key_region = arn_region(key_arn)
    if region and key_region and key_region != region:
        # KMS answers for its own region only: the key is not looked up where it cannot be used.
        report["problems"].append(f"KMS key {key_arn} is in region {key_region}, the organization in {region}")
        return
    try:
        metadata = kms.describe_key(key_arn)
    except KmsKeyMissing:
        report["problems"].append(f"KMS key {key_arn} does not exist")
        return
    except (KmsAccessDenied, KmsError) as error:
        report["unchecked"].append(f"the KMS key: {error.message}")
        return
    report["problems"].extend(_key_problems(metadata, key_arn))
    report["checked"].append("key")


def _check_bucket_region(s3, bucket, region, report):
    """True when the bucket exists (or could not be asked about)."""
    try:
        bucket_region = s3.bucket_region(bucket)
    except S3BucketMissing:
        report["problems"].append(f"bucket {bucket} does not exist")
        return False
    except S3Error as error:
        report["unchecked"].append(f"the bucket's region: {error.message}")
        return True
    if region and bucket_region != region:
        report["problems"].append(f"bucket {bucket} is in region {bucket_region}, the organization in {region}")
    report["checked"].append("bucket region")
    return True


def _blocks_all(settings):
    return settings is not None and all(settings.get(name) for name in BLOCK_PUBLIC_ACCESS)


def _check_public_access(s3, bucket, account, report):
    try:
        blocked = _blocks_all(s3.public_access_block(bucket))
        if not blocked and account:
            blocked = _blocks_all(s3.account_public_access_block(account))
    except S3Error as error:
        report["unchecked"].append(f"the public access block: {error.message}")
        return
    if blocked:
        report["checked"].append("public access block")
    elif not account:
        report["unchecked"].append("the account's public access block: the account is not known")
    else:
        report["problems"].append(
            f"bucket {bucket} does not block public access ({', '.join(BLOCK_PUBLIC_ACCESS)} must all be on, on the "
            "bucket or on the account)"
        )


def check_destination(kms, s3, manifest):
    """Check the campaign's key and bucket (the :class:`~kms.KmsGateway` ``kms``, the :class:`~s3.S3Gateway`
    ``s3``); ``{"checked": [...], "unchecked": [why...], "problems": []}``. Raises DestinationCheckError when
    anything WorkMail would refuse was found."""
    report = {"checked": [], "unchecked": [], "problems": []}
    region = manifest.get("region")
    _check_key(kms, manifest["kms_key_arn"], region, report)
    if _check_bucket_region(s3, manifest["s3_bucket"], region, report):
        account = arn_account(manifest["kms_key_arn"]) or arn_account(manifest.get("role_arn"))
        _check_public_access(s3, manifest["s3_bucket"], account, report)
    if report["problems"]:
        raise DestinationCheckError(report["problems"])
    return report
