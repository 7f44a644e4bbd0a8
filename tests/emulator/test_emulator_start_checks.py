"""StartMailboxExportJob's checks of organization, entity, role, key and bucket (each with its error)."""

import json

import pytest
from botocore.exceptions import ClientError
from emulator_testlib import entity
from emulator_testlib import error_of
from emulator_testlib import start
from workmail_emulator.provision import export_role_policy
from workmail_emulator.provision import provision_export_destination
from workmail_emulator.provision import trust_policy

ACCOUNT = "123456789012"


def _fails(workmail, org_id, destination, entity_id="alice", **overrides):
    with pytest.raises(ClientError) as excinfo:
        start(workmail, org_id, destination, entity_id, **overrides)
    return error_of(excinfo)


def _role_name(destination):
    return destination["role_arn"].rsplit("/", 1)[1]


def _put_role_policy(aws, destination, document):
    aws.client("iam").put_role_policy(
        RoleName=_role_name(destination), PolicyName="workmail-mailbox-export", PolicyDocument=json.dumps(document)
    )


def _set_trust(aws, destination, document):
    aws.client("iam").update_assume_role_policy(RoleName=_role_name(destination), PolicyDocument=json.dumps(document))


def test_a_correct_destination_starts_a_job(aws, workmail, org_id, destination):
    job_id = start(workmail, org_id, destination, "alice")
    assert workmail.describe_mailbox_export_job(OrganizationId=org_id, JobId=job_id)["State"] == "RUNNING"
    assert aws.calls()["StartMailboxExportJob"] == 1


@pytest.mark.parametrize("how", ["id", "email", "name"])
def test_the_entity_resolves_by_id_email_or_name(workmail, org_id, org, destination, how):
    user = entity(org, "bob")
    given = {"id": user["id"], "email": "BOB@example.com", "name": "bob"}[how]
    job_id = start(workmail, org_id, destination, given)
    # Jobs always report the WorkMail id of the mailbox.
    assert workmail.describe_mailbox_export_job(OrganizationId=org_id, JobId=job_id)["EntityId"] == user["id"]


def test_resources_and_disabled_users_with_mailboxes_can_be_exported(workmail, org_id, org, destination):
    start(workmail, org_id, destination, entity(org, "boardroom")["id"])
    start(workmail, org_id, destination, "heidi")


def test_entities_without_a_mailbox(workmail, org_id, destination):
    assert _fails(workmail, org_id, destination, "nobody")[0] == "EntityNotFoundException"
    code, message = _fails(workmail, org_id, destination, "staff")
    assert code == "InvalidParameterException" and "group" in message
    code, message = _fails(workmail, org_id, destination, "mallory")
    assert code == "InvalidParameterException" and "DELETED" in message and "no mailbox" in message


def test_organization_must_exist_and_be_active(aws, workmail, destination):
    assert _fails(workmail, "m-" + "f" * 32, destination)[0] == "OrganizationNotFoundException"
    inactive = aws.add_organizations([{"alias": "dormant", "state": "Inactive", "users": [{"name": "alice"}]}])
    code, message = _fails(workmail, inactive[0]["id"], destination)
    assert code == "OrganizationStateException"
    assert "Inactive" in message


def test_role_must_exist(workmail, org_id, destination):
    code, message = _fails(workmail, org_id, destination, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/missing")
    assert code == "InvalidParameterException"
    assert message.startswith("RoleArn:") and "does not exist" in message


def test_role_must_be_in_this_account(workmail, org_id, destination):
    code, message = _fails(workmail, org_id, destination, RoleArn="arn:aws:iam::999999999999:role/other")
    assert (code, message.split(":")[0]) == ("InvalidParameterException", "RoleArn")


def test_role_must_trust_the_export_service(aws, workmail, org_id, destination):
    document = trust_policy(ACCOUNT, "us-east-1", org_id)
    document["Statement"][0]["Principal"] = {"Service": "ec2.amazonaws.com"}
    _set_trust(aws, destination, document)
    code, message = _fails(workmail, org_id, destination)
    assert code == "InvalidParameterException"
    assert "RoleArn" in message and "export.workmail.amazonaws.com" in message


def test_role_trust_must_allow_assume_role(aws, workmail, org_id, destination):
    document = trust_policy(ACCOUNT, "us-east-1", org_id)
    document["Statement"][0]["Action"] = "sts:TagSession"
    _set_trust(aws, destination, document)
    assert "sts:AssumeRole" in _fails(workmail, org_id, destination)[1]


def test_trust_conditions_must_match_account_and_organization(aws, workmail, org_id, destination):
    _set_trust(aws, destination, trust_policy(ACCOUNT, "us-east-1", "m-" + "1" * 32))
    code, message = _fails(workmail, org_id, destination)
    assert code == "InvalidParameterException"
    assert "aws:SourceArn" in message and org_id in message
    _set_trust(aws, destination, trust_policy("999999999999", "us-east-1", org_id, with_source_arn=False))
    assert "aws:SourceAccount" in _fails(workmail, org_id, destination)[1]


@pytest.mark.parametrize(
    "condition",
    [
        None,
        {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        {"StringEquals": {"sts:ExternalId": ACCOUNT}},
        {"ArnLike": {"aws:SourceArn": f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/*"}},
        {"StringLike": {"aws:SourceArn": f"arn:aws:workmail:*:{ACCOUNT}:organization/m-*"}},
    ],
)
def test_accepted_trust_policy_variants(aws, workmail, org_id, destination, condition):
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": ["export.workmail.amazonaws.com"]},
        "Action": ["sts:AssumeRole"],
    }
    if condition:
        statement["Condition"] = condition
    _set_trust(aws, destination, {"Version": "2012-10-17", "Statement": [statement]})
    assert start(workmail, org_id, destination, "alice")


def test_an_explicit_deny_in_the_trust_policy_wins(aws, workmail, org_id, destination):
    document = trust_policy(ACCOUNT, "us-east-1", org_id)
    document["Statement"].append(
        {"Effect": "Deny", "Principal": {"Service": "export.workmail.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    _set_trust(aws, destination, document)
    assert _fails(workmail, org_id, destination)[0] == "InvalidParameterException"


def test_role_must_allow_put_object_under_the_prefix(aws, workmail, org_id, destination):
    document = export_role_policy("export-bucket", "exports/example", destination["kms_key_arn"], "us-east-1")
    document["Statement"][0]["Resource"] = "arn:aws:s3:::export-bucket/other/*"
    document["Statement"][1]["Condition"]["StringLike"][
        "kms:EncryptionContext:aws:s3:arn"
    ] = "arn:aws:s3:::export-bucket/*"
    _put_role_policy(aws, destination, document)
    code, message = _fails(workmail, org_id, destination)
    assert code == "InvalidParameterException"
    assert (
        message.startswith("RoleArn:") and "s3:PutObject" in message and "arn:aws:s3:::export-bucket/exports" in message
    )
    # The same policy is fine for a prefix it covers.
    assert start(workmail, org_id, destination, "alice", S3Prefix="other/mailboxes")


def test_role_must_allow_generate_data_key_on_the_key(aws, workmail, org_id, destination):
    document = export_role_policy("export-bucket", "exports/example", destination["kms_key_arn"], "us-east-1")
    document["Statement"][1]["Action"] = ["kms:Decrypt"]
    _put_role_policy(aws, destination, document)
    code, message = _fails(workmail, org_id, destination)
    assert code == "InvalidParameterException"
    assert "kms:GenerateDataKey" in message and destination["kms_key_arn"] in message


def test_kms_conditions_are_evaluated(aws, workmail, org_id, destination):
    document = export_role_policy("export-bucket", "exports/example", destination["kms_key_arn"], "us-east-1")
    document["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"] = "s3.eu-west-1.amazonaws.com"
    _put_role_policy(aws, destination, document)
    assert "kms:ViaService=s3.us-east-1.amazonaws.com" in _fails(workmail, org_id, destination)[1]


def test_bucket_keys_change_the_encryption_context(aws, workmail, org_id, destination):
    # With S3 Bucket Keys the encryption context is the bucket ARN, which the documented condition misses.
    aws.client("s3").put_bucket_encryption(
        Bucket="export-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": destination["kms_key_arn"],
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    message = _fails(workmail, org_id, destination)[1]
    assert "kms:EncryptionContext:aws:s3:arn=arn:aws:s3:::export-bucket)" in message


def test_managed_policies_count_too(aws, workmail, org_id, destination):
    iam = aws.client("iam")
    iam.delete_role_policy(RoleName=_role_name(destination), PolicyName="workmail-mailbox-export")
    assert _fails(workmail, org_id, destination)[0] == "InvalidParameterException"
    document = export_role_policy("export-bucket", "exports/example", destination["kms_key_arn"], "us-east-1")
    policy_arn = iam.create_policy(PolicyName="export", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=_role_name(destination), PolicyArn=policy_arn)
    assert start(workmail, org_id, destination, "alice")


def test_key_policy_must_let_iam_policies_grant_access(aws, workmail, org_id, destination):
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    aws.client("kms").put_key_policy(
        KeyId=destination["kms_key_arn"], PolicyName="default", Policy=json.dumps(key_policy)
    )
    code, message = _fails(workmail, org_id, destination)
    assert code == "InvalidParameterException" and message.startswith("KmsKeyArn:") and "key policy" in message
    # A key policy naming the role itself is enough.
    key_policy["Statement"][0]["Principal"] = {"AWS": destination["role_arn"]}
    aws.client("kms").put_key_policy(
        KeyId=destination["kms_key_arn"], PolicyName="default", Policy=json.dumps(key_policy)
    )
    assert start(workmail, org_id, destination, "alice")


def test_key_must_exist(workmail, org_id, destination):
    missing = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    code, message = _fails(workmail, org_id, destination, KmsKeyArn=missing)
    assert code == "InvalidParameterException"
    assert message.startswith("KmsKeyArn:") and "does not exist" in message


@pytest.mark.parametrize("action", ["disable", "schedule_deletion"])
def test_key_must_be_enabled(aws, workmail, org_id, destination, action):
    kms = aws.client("kms")
    if action == "disable":
        kms.disable_key(KeyId=destination["kms_key_arn"])
    else:
        kms.schedule_key_deletion(KeyId=destination["kms_key_arn"], PendingWindowInDays=7)
    code, message = _fails(workmail, org_id, destination)
    assert code == "InvalidParameterException"
    assert message.startswith("KmsKeyArn:") and "not enabled" in message


def test_key_must_be_symmetric(aws, workmail, org_id, destination):
    key = aws.client("kms").create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    code, message = _fails(workmail, org_id, destination, KmsKeyArn=key["Arn"])
    assert code == "InvalidParameterException"
    assert "symmetric" in message and "RSA_2048" in message


def test_key_alias_arn_is_resolved(aws, workmail, org_id, destination):
    aws.client("kms").create_alias(AliasName="alias/export", TargetKeyId=destination["kms_key_arn"])
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/export"
    document = export_role_policy("export-bucket", "exports/example", destination["kms_key_arn"], "us-east-1")
    _put_role_policy(aws, destination, document)
    assert start(workmail, org_id, destination, "alice", KmsKeyArn=alias_arn)


def test_bucket_must_exist(workmail, org_id, destination):
    code, message = _fails(workmail, org_id, destination, S3BucketName="no-such-bucket")
    assert code == "InvalidParameterException"
    assert message.startswith("S3BucketName:") and "does not exist" in message


def test_bucket_must_block_public_access(aws, workmail, org_id, destination):
    s3 = aws.client("s3")
    s3.put_public_access_block(
        Bucket="export-bucket",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    code, message = _fails(workmail, org_id, destination)
    assert code == "InvalidParameterException"
    assert message.startswith("S3BucketName:") and "public access" in message
    s3.delete_public_access_block(Bucket="export-bucket")
    assert _fails(workmail, org_id, destination)[0] == "InvalidParameterException"


def test_organization_key_and_bucket_share_one_region(aws, workmail, org_id, destination):
    other = provision_export_destination(aws.client, org_id, "west-bucket", "exports/example", "us-west-2")
    code, message = _fails(workmail, org_id, destination, KmsKeyArn=other["kms_key_arn"])
    assert code == "InvalidParameterException"
    assert message.startswith("KmsKeyArn:") and "us-west-2" in message and "same region" in message
    code, message = _fails(workmail, org_id, destination, S3BucketName="west-bucket")
    assert message.startswith("S3BucketName:") and "us-west-2" in message and "same region" in message


def _use_key(aws, destination, key_arn):
    document = export_role_policy("export-bucket", "exports/example", key_arn, "us-east-1")
    _put_role_policy(aws, destination, document)
    return dict(destination, kms_key_arn=key_arn)


def test_a_key_created_without_key_spec_or_usage_is_a_symmetric_encryption_key(aws, workmail, org_id, destination):
    # AWS makes such a key SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT; moto 5.2.5 stores no KeyUsage for it.
    key = aws.client("kms").create_key()["KeyMetadata"]
    assert key.get("KeyUsage") is None
    assert start(workmail, org_id, _use_key(aws, destination, key["Arn"]), "alice")


def test_a_key_for_imported_key_material_is_pending_import(aws, workmail, org_id, destination):
    # moto 5.2.5 calls such a key Enabled, but it has no key material until some is imported, which moto cannot do.
    key = aws.client("kms").create_key(Origin="EXTERNAL")["KeyMetadata"]
    code, message = _fails(workmail, org_id, _use_key(aws, destination, key["Arn"]))
    assert code == "InvalidParameterException"
    assert message.startswith("KmsKeyArn:") and "not enabled (KeyState PendingImport)" in message


def test_a_new_bucket_blocks_public_access_as_s3_makes_it(aws, workmail, org_id, destination):
    # Since April 2023 S3 turns the four settings on for a new bucket; moto 5.2.5 would leave them out.
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="fresh-bucket")
    assert s3.get_public_access_block(Bucket="fresh-bucket")["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    document = export_role_policy("fresh-bucket", "exports/example", destination["kms_key_arn"], "us-east-1")
    _put_role_policy(aws, destination, document)
    fresh = dict(destination, s3_bucket="fresh-bucket")
    assert start(workmail, org_id, fresh, "alice")
    # Creating it again (us-east-1 answers 200 to its owner) keeps what the owner set.
    s3.delete_public_access_block(Bucket="fresh-bucket")
    s3.create_bucket(Bucket="fresh-bucket")
    code, message = _fails(workmail, org_id, fresh, "bob")
    assert code == "InvalidParameterException" and message.startswith("S3BucketName:") and "public access" in message


def test_a_bucket_without_default_encryption_has_no_bucket_keys(aws, workmail, org_id, destination):
    # A bucket nobody configured encrypts with SSE-S3 by default in S3, Bucket Keys off; moto keeps no configuration.
    s3 = aws.client("s3")
    s3.delete_bucket_encryption(Bucket="export-bucket")
    job_id = start(workmail, org_id, destination, "dave")
    aws.advance_clock(3600)
    job = workmail.describe_mailbox_export_job(OrganizationId=org_id, JobId=job_id)
    assert job["State"] == "COMPLETED"
    written = s3.head_object(Bucket="export-bucket", Key=job["S3Path"].split("/", 1)[1])
    assert (written["ServerSideEncryption"], written["SSEKMSKeyId"]) == ("aws:kms", destination["kms_key_arn"])
    assert not written.get("BucketKeyEnabled", False)
