"""mailops.workmail.export_prerequisites, run by ansible-playbook against the local AWS."""

import copy
import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The organization "example" of the local AWS's start-up fixture (its id derives from its alias), in us-east-1.
ORG = "m-45ae4b4c332ce333df01b42b08b73797"
# An organization that exists nowhere (as after WorkMail's end of support).
GONE_ORG = "m-0123456789abcdef0123456789abcdef"
ACCOUNT = "123456789012"
BUCKET = "example-workmail-exports"
PREFIX = "workmail-exports/"


def destination_id(bucket, prefix):
    return hashlib.sha256(f"{bucket}/{prefix}".encode()).hexdigest()[:8]


# The names the role derives for BUCKET and PREFIX: the key belongs to the bucket, the role and its policy to the
# destination (bucket and prefix).
ROLE = f"WorkMailMailboxExport-{destination_id(BUCKET, PREFIX)}"
POLICY = f"workmail-mailbox-export-{destination_id(BUCKET, PREFIX)}"
KEY_ALIAS = f"alias/workmail-export/{BUCKET}"

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


def key_arn(aws, alias=KEY_ALIAS):
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
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [POLICY]
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    objects = f"arn:aws:s3:::{BUCKET}/{PREFIX}*"
    assert iam.get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"] == {
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
        "Create the role the service assumes to write the exports",
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


BOOLEAN_RULE = "must be true or false (or the text true, false, yes, no)"


@pytest.mark.parametrize(
    "inputs, problems",
    [
        ({"force": "flase"}, [f"export_prerequisites_force: {BOOLEAN_RULE}, got 'flase'"]),
        (
            {"versioning": "on", "lifecycle_days": "1e9"},
            [
                f"export_prerequisites_versioning: {BOOLEAN_RULE}, got 'on'",
                "export_prerequisites_lifecycle_days: must be an integer, got '1e9'",
            ],
        ),
        ({"lifecycle_days": "3.5"}, ["export_prerequisites_lifecycle_days: must be an integer, got '3.5'"]),
        ({"lifecycle_days": ""}, ["export_prerequisites_lifecycle_days: must be an integer, got ''"]),
        (
            {"bucket": "Not_A_Bucket", "prefix": "/exports/", "all_organizations": "maybe"},
            [
                "export_prerequisites_bucket: an S3 bucket name may contain only lowercase letters",
                "export_prerequisites_prefix: must not start with /",
                f"export_prerequisites_all_organizations: {BOOLEAN_RULE}, got 'maybe'",
            ],
        ),
    ],
)
def test_each_wrong_input_is_named_with_its_value_before_any_aws_call(aws, playbook, inputs, problems):
    result = playbook(PLAY, role_vars(**inputs))
    assert result.failed
    [(name, failure)] = result.failures()
    assert name == "Check the inputs - every rule, before any AWS call", name
    message = failure["msg"]
    assert all(problem in message for problem in problems), message
    named = re.findall(r"(?:\. |; )(export_prerequisites_[a-z_]+): ", message)
    assert named == [problem.split(":", 1)[0] for problem in problems], message
    assert "Find the account the resources belong to" not in [task for task, _result in result.tasks]
    assert aws.client("s3").list_buckets()["Buckets"] == []


def test_removal_keeps_everything_while_the_bucket_holds_exports(aws, playbook, provisioned):
    aws.client("s3").put_object(Bucket=BUCKET, Key=f"{PREFIX}alice.zip", Body=b"PK\x05\x06" + b"\0" * 18)
    result = playbook(PLAY, role_vars(state="absent"))
    assert result.failed
    message = json.dumps(result.failures())
    assert f"{PREFIX}alice.zip" in message and "Nothing was removed" in message
    # The text an AWX survey sends for "no" keeps the guard too.
    result = playbook(PLAY, role_vars(state="absent", force="False"))
    assert result.failed and "Nothing was removed" in json.dumps(result.failures())
    assert aws.client("iam").get_role(RoleName=ROLE)
    assert aws.client("s3").head_bucket(Bucket=BUCKET)
    assert aws.client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"


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
    play = readme_play().replace(GONE_ORG, organization_id)
    result = playbook(play)
    assert not result.failed, result
    job = result.task("Start the export of alice's mailbox")["mailbox_export_job"]
    assert job["state"] == "RUNNING"
    assert job["s3_bucket_name"] == "example-corp-workmail-exports"
    assert job["kms_key_arn"] == key_arn(aws, "alias/workmail-export/example-corp-workmail-exports")

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
    policy = iam.get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"]
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    args = dict(destination, organization_id=organization_id, entity="alice@example.com")

    for index, (document, sid, change, complaint) in enumerate(ROLE_DEFECTS):
        broken = copy.deepcopy(policy if document == "policy" else trust)
        change(next(statement for statement in broken["Statement"] if statement["Sid"] == sid))
        if document == "policy":
            iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(broken))
        else:
            iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(broken))
        result = module("workmail_mailbox_export", dict(args, client_token=f"defect-{index}"))
        assert result.get("failed"), (sid, complaint)
        assert complaint in result["msg"] and ROLE in result["msg"], result["msg"]
        iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(policy))
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


def test_another_bucket_given_the_same_role_and_key_names_is_refused(aws, playbook, provisioned):
    # The operator copies the first destination's role and key names into the variables of a second bucket.
    iam = aws.client("iam")
    trust_before = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    for state in ("present", "absent"):
        result = playbook(PLAY, role_vars(bucket="another-bucket", role_name=ROLE, kms_alias=KEY_ALIAS, state=state))
        assert result.failed, state
        message = json.dumps(result.failures())
        assert f"key {KEY_ALIAS} was made for bucket {BUCKET}" in message, message
        assert f"role {ROLE} " in message and f"s3://{BUCKET}/{PREFIX}" in message, message
    assert iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"] == trust_before
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [POLICY]
    assert aws.client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"
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
    assert aws.client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"

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
    # GONE_ORG exists in no region of the local AWS: as after WorkMail's end of support.
    result = playbook(PLAY, role_vars(state="absent", organization_id=GONE_ORG))
    assert not result.failed, result
    assert aws.client("iam").list_roles()["Roles"] == []


def test_lifecycle_days_expire_the_exports_and_zero_removes_the_rule(aws, playbook):
    s3 = aws.client("s3")
    result = playbook(PLAY, role_vars(lifecycle_days=90))
    assert not result.failed, result
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [rule["ID"] for rule in rules] == [f"mailops-workmail-expiration-{destination_id(BUCKET, PREFIX)}"]
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
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [POLICY]


def test_check_mode_predicts_the_removal_and_removes_nothing(aws, playbook, provisioned):
    result = playbook(PLAY, role_vars(state="absent"), check=True)
    assert not result.failed, result
    changed = {name for name, task in result.tasks if task.get("changed")}
    assert {
        "Report the bucket's removal (check mode)",
        "Remove the role (with its inline policies)",
        "Schedule the KMS key for deletion (only with the bucket whose exports it decrypts)",
    } <= changed, changed
    assert aws.client("iam").get_role(RoleName=ROLE)
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == [BUCKET]
    assert aws.client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"


SECOND = "second-exports/"
SECOND_ROLE = f"WorkMailMailboxExport-{destination_id(BUCKET, SECOND)}"
SECOND_POLICY = f"workmail-mailbox-export-{destination_id(BUCKET, SECOND)}"
SHARED_ROLE = "CorpWorkMailExport"


def destination_tags(aws):
    """The bucket's tags that say which destinations (prefixes) use it."""
    tags = aws.client("s3").get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tags if tag["Key"].startswith("mailops-workmail-destination-")}


def said(result):
    """What the role printed about the destination and what it keeps or shares."""
    return result.task("Say what this run works on")["msg"]


def test_a_second_prefix_gets_its_own_role_and_the_first_one_keeps_exporting(aws, playbook, module, provisioned):
    # A campaign exports into PREFIX; the operator provisions a second prefix of the same bucket, with the defaults.
    iam = aws.client("iam")
    first = provisioned.task("Show the destination")["workmail_export_destination"]
    first_policy = iam.get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"]
    first_trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]

    second = playbook(PLAY, role_vars(prefix=SECOND))
    assert not second.failed, second
    assert second.changed == 3  # the bucket's tag for the second prefix, the second role and its policy
    second_arn = iam.get_role(RoleName=SECOND_ROLE)["Role"]["Arn"]
    assert second.task("Show the destination")["workmail_export_destination"] == dict(first, role_arn=second_arn, s3_prefix=SECOND)
    assert iam.get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"] == first_policy
    assert iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"] == first_trust
    assert iam.list_role_policies(RoleName=SECOND_ROLE)["PolicyNames"] == [SECOND_POLICY]
    granted = json.dumps(iam.get_role_policy(RoleName=SECOND_ROLE, PolicyName=SECOND_POLICY)["PolicyDocument"])
    assert granted.count(f"arn:aws:s3:::{BUCKET}/{SECOND}*") == 2 and f"{BUCKET}/{PREFIX}" not in granted
    assert sorted(destination_tags(aws).values()) == sorted([PREFIX, SECOND])

    # An export into the first prefix, with the first destination's role, still completes.
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    job = module("workmail_mailbox_export", dict(first, organization_id=ORG, entity="alice@example.com", wait=True, wait_timeout=60))
    assert not job.get("failed"), job
    assert job["mailbox_export_job"]["state"] == "COMPLETED"

    # Removing the second prefix leaves the bucket, its key, the first role and the first prefix's exports alone.
    removed = playbook(PLAY, role_vars(prefix=SECOND, state="absent", force=True))
    assert not removed.failed, removed
    assert f"s3://{BUCKET}/{PREFIX} still uses them" in said(removed)[-1]
    assert [role["RoleName"] for role in iam.list_roles()["Roles"]] == [ROLE]
    assert aws.client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"
    assert aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["KeyCount"] > 0
    assert list(destination_tags(aws).values()) == [PREFIX]


def test_one_role_serves_two_prefixes_only_when_asked_and_says_so(aws, playbook):
    iam = aws.client("iam")
    assert not playbook(PLAY, role_vars(role_name=SHARED_ROLE)).failed
    first_policy = iam.get_role_policy(RoleName=SHARED_ROLE, PolicyName=POLICY)["PolicyDocument"]

    # The same role for a second prefix, without saying it may serve both: refused, nothing changed.
    refused = playbook(PLAY, role_vars(role_name=SHARED_ROLE, prefix=SECOND))
    assert refused.failed
    message = json.dumps(refused.failures())
    assert f"role {SHARED_ROLE} already serves s3://{BUCKET}/{PREFIX}" in message, message
    assert "export_prerequisites_share_role=true" in message and "nothing was changed" in message
    assert iam.list_role_policies(RoleName=SHARED_ROLE)["PolicyNames"] == [POLICY]
    assert list(destination_tags(aws).values()) == [PREFIX]

    shared = playbook(PLAY, role_vars(role_name=SHARED_ROLE, prefix=SECOND, share_role="yes"))
    assert not shared.failed, shared
    assert said(shared)[1] == (
        f"role {SHARED_ROLE} now serves s3://{BUCKET}/{SECOND} as well as s3://{BUCKET}/{PREFIX} (export_prerequisites_share_role)"
    )
    assert sorted(iam.list_role_policies(RoleName=SHARED_ROLE)["PolicyNames"]) == sorted([POLICY, SECOND_POLICY])
    assert iam.get_role_policy(RoleName=SHARED_ROLE, PolicyName=POLICY)["PolicyDocument"] == first_policy

    # Nor may a run for another organization take the role away from the first one.
    other = aws.add_organizations([{"alias": "other", "region": "us-east-1", "users": []}])[0]
    refused = playbook(PLAY, role_vars(role_name=SHARED_ROLE, prefix=SECOND, organization_id=other["id"]))
    assert refused.failed and f"trusts organization {ORG} in us-east-1" in json.dumps(refused.failures())

    # Removing the first prefix takes only its policy from the shared role, and keeps the bucket for the second.
    removed = playbook(PLAY, role_vars(role_name=SHARED_ROLE, state="absent"))
    assert not removed.failed, removed
    assert said(removed)[1] == f"role {SHARED_ROLE} is kept: it still serves s3://{BUCKET}/{SECOND}"
    assert iam.list_role_policies(RoleName=SHARED_ROLE)["PolicyNames"] == [SECOND_POLICY]
    assert list(destination_tags(aws).values()) == [SECOND]


def test_a_region_that_is_not_the_organizations_is_reported_before_anything_is_created(aws, playbook):
    # The organization "example" is in us-east-1; the operator picks eu-west-1.
    result = playbook(PLAY, role_vars(region="eu-west-1"))
    assert result.failed
    [(_name, failure)] = result.failures()
    assert failure["msg"] == (
        f"export_prerequisites: export_prerequisites_region: organization {ORG} is in us-east-1, not in eu-west-1 "
        "(the bucket and the key must be in the organization's region); nothing was changed"
    )
    for region in ("eu-west-1", "us-east-1"):
        assert not any(alias["AliasName"].startswith("alias/workmail") for alias in aws.client("kms", region=region).list_aliases()["Aliases"])
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("iam").list_roles()["Roles"] == []
