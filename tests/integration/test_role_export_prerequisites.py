"""mailops.workmail.export_prerequisites, run by ansible-playbook against the local AWS."""

import copy
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORG = "m-0123456789abcdef0123456789abcdef"
ACCOUNT = "123456789012"
BUCKET = "example-workmail-exports"
PREFIX = "workmail-exports/"
ROLE = "WorkMailMailboxExport"

PLAY = """
- name: Provision or remove the export destination
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: mailops.workmail.export_prerequisites
    - name: Show the destination
      ansible.builtin.debug:
        var: workmail_export_destination
      when: workmail_export_destination is defined
"""


def role_vars(**overrides):
    base = {
        "export_prerequisites_organization_id": ORG,
        "export_prerequisites_region": "us-east-1",
        "export_prerequisites_bucket": BUCKET,
    }
    base.update({f"export_prerequisites_{k}": v for k, v in overrides.items()})
    return base


@pytest.fixture
def provisioned(aws, playbook):
    result = playbook(PLAY, role_vars())
    assert not result.failed, result
    return result


def key_arn(aws, alias="alias/workmail-export"):
    return aws.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]


def test_provisions_key_bucket_and_role_with_the_exact_policies(aws, provisioned):
    assert provisioned.changed == 4  # key, bucket, role, role policy
    kms, s3, iam = aws.client("kms"), aws.client("s3"), aws.client("iam")

    arn = key_arn(aws)
    key = kms.describe_key(KeyId=arn)["KeyMetadata"]
    assert (key["KeySpec"], key["KeyUsage"], key["Enabled"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", True)
    assert kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is True
    assert json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "workmail-export-key",
        "Statement": [
            {
                "Sid": "EnableIAMPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }

    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn}
    assert rule.get("BucketKeyEnabled", False) is False
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    assert s3.get_bucket_versioning(Bucket=BUCKET).get("Status") in (None, "Suspended")

    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowWorkMailExport",
                "Effect": "Allow",
                "Principal": {"Service": "export.workmail.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/{ORG}"},
                },
            }
        ],
    }
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["workmail-mailbox-export"]
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    objects = f"arn:aws:s3:::{BUCKET}/{PREFIX}*"
    assert iam.get_role_policy(RoleName=ROLE, PolicyName="workmail-mailbox-export")["PolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadBucketPolicyStatus",
                "Effect": "Allow",
                "Action": "s3:GetBucketPolicyStatus",
                "Resource": f"arn:aws:s3:::{BUCKET}",
            },
            {
                "Sid": "WriteExports",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
                "Resource": objects,
            },
            {
                "Sid": "EncryptExports",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": objects},
                },
            },
        ],
    }

    destination = provisioned.task("Show the destination")["workmail_export_destination"]
    assert destination == {
        "role_arn": role["Arn"],
        "kms_key_arn": arn,
        "s3_bucket": BUCKET,
        "s3_prefix": PREFIX,
        "region": "us-east-1",
    }


def test_all_organizations_drops_only_the_source_arn_condition(aws, playbook):
    result = playbook(PLAY, role_vars(all_organizations=True, organization_id=""))
    assert not result.failed, result
    statement = aws.client("iam").get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_second_run_and_check_mode_change_nothing(aws, playbook, provisioned):
    again = playbook(PLAY, role_vars())
    assert not again.failed and again.changed == 0, again
    checked = playbook(PLAY, role_vars(), check=True, diff=True)
    assert not checked.failed and checked.changed == 0, checked


def test_check_mode_on_an_empty_account_predicts_without_creating(aws, playbook):
    result = playbook(PLAY, role_vars(), check=True)
    assert not result.failed, result
    changed = {name for name, task in result.tasks if task.get("changed")}
    assert {
        "Create the KMS key for the exports",
        "Report what the bucket task would change",
        "Create the role WorkMail assumes to write the exports",
    } <= changed
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("iam").list_roles()["Roles"] == []
    assert aws.client("kms").list_aliases()["Aliases"] == [] or all(
        not a["AliasName"].startswith("alias/workmail") for a in aws.client("kms").list_aliases()["Aliases"]
    )


def test_check_mode_reports_a_drifted_bucket(aws, playbook, provisioned):
    aws.client("s3").delete_bucket_policy(Bucket=BUCKET)
    result = playbook(PLAY, role_vars(), check=True)
    assert not result.failed, result
    report = result.task("Report what the bucket task would change")
    assert report["changed"] is True and "policy" in report["msg"]


def test_bad_input_fails_before_anything_is_created(aws, playbook):
    result = playbook(PLAY, role_vars(bucket="Not_A_Bucket"))
    assert result.failed
    assert "export_prerequisites_bucket" in json.dumps(result.failures())
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("iam").list_roles()["Roles"] == []


def test_removal_keeps_everything_while_the_bucket_holds_exports(aws, playbook, provisioned):
    aws.client("s3").put_object(Bucket=BUCKET, Key=f"{PREFIX}alice.zip", Body=b"PK\x05\x06" + b"\0" * 18)
    result = playbook(PLAY, role_vars(state="absent"))
    assert result.failed
    message = json.dumps(result.failures())
    assert f"{PREFIX}alice.zip" in message and "Nothing was removed" in message
    assert aws.client("iam").get_role(RoleName=ROLE)
    assert aws.client("s3").head_bucket(Bucket=BUCKET)
    assert aws.client("kms").describe_key(KeyId="alias/workmail-export")["KeyMetadata"]["KeyState"] == "Enabled"


def test_forced_removal_deletes_everything(aws, playbook, provisioned):
    arn = key_arn(aws)
    aws.client("s3").put_object(Bucket=BUCKET, Key=f"{PREFIX}alice.zip", Body=b"PK\x05\x06" + b"\0" * 18)
    result = playbook(PLAY, role_vars(state="absent", force=True))
    assert not result.failed, result
    assert_removed(aws, arn)
    again = playbook(PLAY, role_vars(state="absent", force=True))
    assert not again.failed and again.changed == 0, again


def test_removal_of_an_empty_destination_needs_no_force(aws, playbook, provisioned):
    arn = key_arn(aws)
    result = playbook(PLAY, role_vars(state="absent"))
    assert not result.failed, result
    assert_removed(aws, arn)


def assert_removed(aws, arn):
    assert aws.client("iam").list_roles()["Roles"] == []
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == []
    assert aws.client("kms").describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"


def readme_play():
    """The play from nothing to a started export, as the role's README shows it."""
    text = (ROOT / "roles" / "export_prerequisites" / "README.md").read_text()
    return re.search(r"## From nothing to a started export\n.*?```yaml\n(.*?)```", text, re.S).group(1)


def test_the_readme_play_starts_an_export_that_completes(aws, playbook):
    organization_id = next(org["id"] for org in aws.organizations() if org["alias"] == "example")
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    play = readme_play().replace(ORG, organization_id)
    result = playbook(play)
    assert not result.failed, result
    job = result.task("Start the export of alice's mailbox")["mailbox_export_job"]
    assert job["state"] == "RUNNING"
    assert job["s3_bucket_name"] == "example-corp-workmail-exports"
    assert job["kms_key_arn"] == key_arn(aws)

    aws.advance_clock(10)
    described = aws.client("workmail").describe_mailbox_export_job(OrganizationId=organization_id, JobId=job["job_id"])
    assert described["State"] == "COMPLETED", described.get("ErrorInfo")


# Each change that takes a permission or condition away from the provisioned role, and what the export says.
ROLE_DEFECTS = [
    ("policy", "WriteExports", lambda s: s.update(Action=["s3:AbortMultipartUpload"]), "s3:PutObject"),
    ("policy", "WriteExports", lambda s: s.update(Resource=f"arn:aws:s3:::{BUCKET}/elsewhere/*"), "s3:PutObject"),
    ("policy", "EncryptExports", lambda s: s.update(Action=["kms:Decrypt"]), "kms:GenerateDataKey"),
    (
        "policy",
        "EncryptExports",
        lambda s: s["Condition"]["StringEquals"].update({"kms:ViaService": "s3.eu-west-1.amazonaws.com"}),
        "kms:GenerateDataKey",
    ),
    (
        "policy",
        "EncryptExports",
        lambda s: s["Condition"]["StringLike"].update(
            {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}/elsewhere/*"}
        ),
        "kms:GenerateDataKey",
    ),
    ("trust", "AllowWorkMailExport", lambda s: s.update(Principal={"Service": "ec2.amazonaws.com"}), "service principal"),
    (
        "trust",
        "AllowWorkMailExport",
        lambda s: s["Condition"]["StringEquals"].update({"aws:SourceAccount": "210987654321"}),
        "aws:SourceAccount",
    ),
    (
        "trust",
        "AllowWorkMailExport",
        lambda s: s["Condition"]["ArnLike"].update(
            {"aws:SourceArn": f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/m-{'f' * 32}"}
        ),
        "aws:SourceArn",
    ),
]


def test_a_role_missing_a_permission_or_condition_stops_the_export(aws, playbook, module):
    organization_id = next(org["id"] for org in aws.organizations() if org["alias"] == "example")
    provisioned = playbook(PLAY, role_vars(organization_id=organization_id))
    assert not provisioned.failed, provisioned
    destination = provisioned.task("Show the destination")["workmail_export_destination"]
    iam = aws.client("iam")
    policy = iam.get_role_policy(RoleName=ROLE, PolicyName="workmail-mailbox-export")["PolicyDocument"]
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    args = dict(destination, organization_id=organization_id, entity="alice@example.com")

    for index, (document, sid, change, complaint) in enumerate(ROLE_DEFECTS):
        broken = copy.deepcopy(policy if document == "policy" else trust)
        change(next(statement for statement in broken["Statement"] if statement["Sid"] == sid))
        if document == "policy":
            iam.put_role_policy(RoleName=ROLE, PolicyName="workmail-mailbox-export", PolicyDocument=json.dumps(broken))
        else:
            iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(broken))
        result = module("workmail_mailbox_export", dict(args, client_token=f"defect-{index}"))
        assert result.get("failed"), (sid, complaint)
        assert complaint in result["msg"] and ROLE in result["msg"], result["msg"]
        iam.put_role_policy(RoleName=ROLE, PolicyName="workmail-mailbox-export", PolicyDocument=json.dumps(policy))
        iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust))

    assert aws.client("workmail").list_mailbox_export_jobs(OrganizationId=organization_id)["Jobs"] == []
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    result = module("workmail_mailbox_export", dict(args, wait=True, wait_timeout=60))
    assert not result.get("failed"), result
    assert result["mailbox_export_job"]["state"] == "COMPLETED"


@pytest.mark.parametrize("prefix", ["exports", "exp*/", "*", "/exports/", "/"])
def test_a_prefix_that_would_widen_the_permissions_is_refused(aws, playbook, prefix):
    result = playbook(PLAY, role_vars(prefix=prefix))
    assert result.failed
    assert "export_prerequisites_prefix" in json.dumps(result.failures())
    assert aws.client("iam").list_roles()["Roles"] == []


def test_a_second_destination_cannot_take_over_the_first_ones_role_and_key(aws, playbook, provisioned):
    iam = aws.client("iam")
    trust_before = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    for state in ("present", "absent"):
        result = playbook(PLAY, role_vars(bucket="another-bucket", state=state))
        assert result.failed, state
        message = json.dumps(result.failures())
        assert "made for another bucket" in message and BUCKET in message, message
    assert iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"] == trust_before
    assert aws.client("kms").describe_key(KeyId="alias/workmail-export")["KeyMetadata"]["KeyState"] == "Enabled"
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == [BUCKET]


def test_removal_keeps_role_and_key_while_old_versions_remain(aws, playbook):
    assert not playbook(PLAY, role_vars(versioning=True)).failed
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}old.zip", Body=b"old")
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}old.zip")  # a delete marker and a noncurrent version remain

    result = playbook(PLAY, role_vars(state="absent"))
    assert result.failed
    message = json.dumps(result.failures())
    assert "did not delete bucket" in message and "kept" in message, message
    assert aws.client("iam").get_role(RoleName=ROLE)
    assert aws.client("kms").describe_key(KeyId="alias/workmail-export")["KeyMetadata"]["KeyState"] == "Enabled"

    forced = playbook(PLAY, role_vars(state="absent", force=True))
    assert not forced.failed, forced
    assert s3.list_buckets()["Buckets"] == []


def test_removal_waits_for_running_export_jobs(aws, playbook):
    organization_id = next(org["id"] for org in aws.organizations() if org["alias"] == "example")
    provisioned = playbook(PLAY, role_vars(organization_id=organization_id))
    destination = provisioned.task("Show the destination")["workmail_export_destination"]
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3600)
    alice = next(user["id"] for org in aws.organizations() for user in org["users"] if user["name"] == "alice")
    job_id = aws.client("workmail").start_mailbox_export_job(
        ClientToken="running-during-removal",
        OrganizationId=organization_id,
        EntityId=alice,
        RoleArn=destination["role_arn"],
        KmsKeyArn=destination["kms_key_arn"],
        S3BucketName=BUCKET,
        S3Prefix=PREFIX,
    )["JobId"]

    result = playbook(PLAY, role_vars(organization_id=organization_id, state="absent", force=True))
    assert result.failed
    message = json.dumps(result.failures())
    assert job_id in message and "Nothing was removed" in message, message
    assert aws.client("iam").get_role(RoleName=ROLE)
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == [BUCKET]


def test_removal_works_when_the_organization_is_gone(aws, playbook, provisioned):
    # ORG does not exist in the local AWS: as after WorkMail's end of support.
    result = playbook(PLAY, role_vars(state="absent"))
    assert not result.failed, result
    assert aws.client("iam").list_roles()["Roles"] == []


def test_lifecycle_days_expire_the_exports_and_zero_removes_the_rule(aws, playbook):
    s3 = aws.client("s3")
    result = playbook(PLAY, role_vars(lifecycle_days=90))
    assert not result.failed, result
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [rule["ID"] for rule in rules] == ["mailops-workmail-expiration"]
    assert rules[0]["Expiration"] == {"Days": 90}
    assert rules[0]["Filter"] == {"Prefix": PREFIX}
    assert rules[0]["Status"] == "Enabled"

    again = playbook(PLAY, role_vars(lifecycle_days=90))
    assert not again.failed and again.changed == 0, again

    removed = playbook(PLAY, role_vars(lifecycle_days=0))
    assert not removed.failed and removed.changed == 1, removed
    with pytest.raises(Exception, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)


def test_extra_permissions_on_the_role_are_removed(aws, playbook, provisioned):
    iam = aws.client("iam")
    everything = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    admin = iam.create_policy(PolicyName="admin", PolicyDocument=everything)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=admin)
    iam.put_role_policy(RoleName=ROLE, PolicyName="too-broad", PolicyDocument=everything)
    result = playbook(PLAY, role_vars())
    assert not result.failed, result
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["workmail-mailbox-export"]


def test_check_mode_predicts_the_removal_and_removes_nothing(aws, playbook, provisioned):
    result = playbook(PLAY, role_vars(state="absent"), check=True)
    assert not result.failed, result
    changed = {name for name, task in result.tasks if task.get("changed")}
    assert {
        "Report the bucket's removal (check mode)",
        "Remove the role",
        "Schedule the KMS key for deletion (only with the bucket whose exports it decrypts)",
    } <= changed, changed
    assert aws.client("iam").get_role(RoleName=ROLE)
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == [BUCKET]
    assert aws.client("kms").describe_key(KeyId="alias/workmail-export")["KeyMetadata"]["KeyState"] == "Enabled"
