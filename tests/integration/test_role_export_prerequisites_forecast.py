"""mailops.workmail.export_prerequisites with export_prerequisites_service=forecast, run by ansible-playbook against
the local AWS: a Forecast export destination (bucket, key, role), its removal, and its mix with a WorkMail one."""

import hashlib
import json

import pytest

ACCOUNT = "123456789012"
ORG = "m-45ae4b4c332ce333df01b42b08b73797"
BUCKET = "example-forecast-exports"
PREFIX = "forecast-exports/"
REGION = "us-east-1"


def destination_id(bucket, prefix, service="forecast"):
    text = f"{bucket}/{prefix}" if service == "workmail" else f"{service}:{bucket}/{prefix}"
    return hashlib.sha256(text.encode()).hexdigest()[:8]


ROLE = f"ForecastExport-{destination_id(BUCKET, PREFIX)}"
POLICY = f"forecast-export-{destination_id(BUCKET, PREFIX)}"
KEY_ALIAS = f"alias/workmail-export/{BUCKET}"

PLAY = """
- name: Provision or remove the Forecast export destination
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: mailops.workmail.export_prerequisites
    - name: Show the destination
      ansible.builtin.debug:
        var: forecast_export_destination
      when: forecast_export_destination is defined
"""


def role_vars(**overrides):
    base = {
        "export_prerequisites_service": "forecast",
        "export_prerequisites_region": REGION,
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


def test_provisions_a_forecast_destination_with_the_exact_policies(aws, provisioned):
    assert provisioned.changed == 4  # key, bucket, role, role policy
    kms, s3, iam = aws.client("kms"), aws.client("s3"), aws.client("iam")
    arn = key_arn(aws)
    key = kms.describe_key(KeyId=arn)["KeyMetadata"]
    assert (key["KeySpec"], key["Enabled"], key["Description"]) == (
        "SYMMETRIC_DEFAULT",
        True,
        "Amazon Forecast exports (mailops.workmail)",
    )
    assert kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is True
    assert [s["Sid"] for s in json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])["Statement"]] == [
        "EnableIAMPolicies"
    ]
    # The same bucket guarantees as for WorkMail: no public access, TLS only, SSE-KMS with the key, no Bucket Keys.
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn}
    assert rule.get("BucketKeyEnabled", False) is False
    bucket_policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert [(s["Effect"], s["Condition"]) for s in bucket_policy] == [("Deny", {"Bool": {"aws:SecureTransport": "false"}})]

    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowForecastExport",
                "Effect": "Allow",
                "Principal": {"Service": "forecast.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:forecast:{REGION}:{ACCOUNT}:*"},
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
                "Sid": "ListExportPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{BUCKET}",
                "Condition": {"StringLike": {"s3:prefix": f"{PREFIX}*"}},
            },
            {"Sid": "WriteExports", "Effect": "Allow", "Action": ["s3:AbortMultipartUpload", "s3:PutObject"], "Resource": objects},
            {
                "Sid": "EncryptExports",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": objects},
                },
            },
        ],
    }
    assert provisioned.task("Show the destination")["forecast_export_destination"] == {
        "role_arn": role["Arn"],
        "kms_key_arn": arn,
        "s3_bucket": BUCKET,
        "s3_prefix": PREFIX,
        "s3_path": f"s3://{BUCKET}/{PREFIX}",
        "region": REGION,
    }


def test_second_run_and_check_mode_change_nothing(aws, playbook, provisioned):
    again = playbook(PLAY, role_vars())
    assert not again.failed and again.changed == 0, again
    checked = playbook(PLAY, role_vars(), check=True)
    assert not checked.failed and checked.changed == 0, checked


@pytest.mark.parametrize(
    "inputs, problem",
    [
        ({"region": "eu-west-3"}, "export_prerequisites_region: must be a region where Amazon Forecast exists"),
        ({"organization_id": ORG}, "export_prerequisites_organization_id: is for export_prerequisites_service=workmail"),
        ({"prefix": "forecasts"}, "export_prerequisites_prefix: must end with /"),
    ],
)
def test_wrong_forecast_inputs_stop_before_any_aws_call(aws, playbook, inputs, problem):
    result = playbook(PLAY, role_vars(**inputs))
    assert result.failed
    assert problem in result.task("every rule, before any AWS call")["msg"]
    assert aws.client("s3").list_buckets()["Buckets"] == [] and aws.client("iam").list_roles()["Roles"] == []


def test_removal_tears_down_what_it_made(aws, playbook, provisioned):
    result = playbook(PLAY, role_vars(state="absent"))
    assert not result.failed, result
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("iam").list_roles()["Roles"] == []
    key = aws.client("kms").describe_key(KeyId=provisioned.task("Show the destination")["forecast_export_destination"]["kms_key_arn"])
    assert key["KeyMetadata"]["KeyState"] == "PendingDeletion"
    again = playbook(PLAY, role_vars(state="absent"))
    assert not again.failed and again.changed == 0, again


def test_removal_keeps_everything_while_the_bucket_holds_exports(aws, playbook, provisioned):
    aws.client("s3").put_object(Bucket=BUCKET, Key=f"{PREFIX}demand/job_2026-11-30T00-00-00Z_part0", Body=b"item,p50\n")
    result = playbook(PLAY, role_vars(state="absent"))
    assert result.failed and "holds 1 object(s)" in result.task("holds exports")["msg"]
    assert aws.client("iam").get_role(RoleName=ROLE)["Role"]["RoleName"] == ROLE
    forced = playbook(PLAY, role_vars(state="absent", force=True))
    assert not forced.failed, forced
    assert aws.client("s3").list_buckets()["Buckets"] == [] and aws.client("iam").list_roles()["Roles"] == []


def test_a_forecast_and_a_workmail_destination_share_the_bucket_and_key_but_not_the_role(aws, playbook, provisioned):
    workmail = playbook(PLAY, role_vars(service="workmail", organization_id=ORG, prefix=""))
    assert not workmail.failed, workmail
    workmail_role = f"WorkMailMailboxExport-{destination_id(BUCKET, 'workmail-exports/', 'workmail')}"
    assert {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]} == {ROLE, workmail_role}
    assert len([a for a in aws.client("kms").list_aliases()["Aliases"] if a["AliasName"] == KEY_ALIAS]) == 1
    # The Forecast role is not given to WorkMail, nor the WorkMail role to Forecast.
    refused = playbook(PLAY, role_vars(service="workmail", organization_id=ORG, prefix="", role_name=ROLE))
    assert refused.failed and "is used by Amazon Forecast exports" in refused.task("Stop before changing anything")["msg"]
    refused = playbook(PLAY, role_vars(role_name=workmail_role))
    assert refused.failed and "is used by Amazon WorkMail exports" in refused.task("Stop before changing anything")["msg"]
    # Removing the Forecast destination keeps the bucket and the key the WorkMail one uses.
    removed = playbook(PLAY, role_vars(state="absent"))
    assert not removed.failed, removed
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == [BUCKET]
    assert {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]} == {workmail_role}
    assert aws.client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"


DAILY = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand_daily"


def export_args(destination, **extra):
    args = {
        "forecast_arn": DAILY,
        "s3_path": destination["s3_path"] + "demand_daily/",
        "role_arn": destination["role_arn"],
        "kms_key_arn": destination["kms_key_arn"],
        "region": destination["region"],
        "wait": True,
        "wait_timeout": 120,
    }
    args.update(extra)
    return args


def test_an_export_to_the_provisioned_destination_succeeds(aws, module, provisioned):
    destination = provisioned.task("Show the destination")["forecast_export_destination"]
    result = module("forecast_export_job", export_args(destination))
    assert not result.get("failed") and result["changed"], result
    assert result["forecast_export_job"]["status"] == "ACTIVE"
    verification = result["verification"]
    assert verification["verified"] is True and verification["parts"] >= 1
    assert (verification["encryption"], verification["kms_key_arn"]) == ("aws:kms", destination["kms_key_arn"])
    assert all(key.startswith(f"{PREFIX}demand_daily/{result['name']}_") for key in verification["part_keys"])
    assert result["name"].startswith("demand_daily_export_csv_")


def _without_statement(sid):
    def change(iam):
        document = iam.get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"]
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != sid]
        iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(document))

    return change


def _trusting(source_arn):
    def change(iam):
        document = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
        document["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"] = source_arn
        iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(document))

    return change


@pytest.mark.parametrize(
    "change, expected, repaired_by_the_role",
    [
        (_without_statement("WriteExports"), "s3:PutObject", True),
        (_without_statement("EncryptExports"), "kms:GenerateDataKey", True),
        (_trusting(f"arn:aws:forecast:us-west-2:{ACCOUNT}:*"), "cannot assume role", False),
        (_trusting(f"arn:aws:forecast:{REGION}:999999999999:*"), "cannot assume role", False),
    ],
    ids=["no-put-object", "no-key-use", "other-region", "other-account"],
)
def test_a_role_missing_a_permission_or_condition_makes_the_export_fail_clearly(
    aws, module, playbook, provisioned, change, expected, repaired_by_the_role
):
    destination = provisioned.task("Show the destination")["forecast_export_destination"]
    change(aws.client("iam"))
    result = module("forecast_export_job", export_args(destination))
    assert result.get("failed"), result
    assert result["forecast_export_job"]["status"] == "CREATE_FAILED"
    assert expected in result["msg"], result["msg"]
    rerun = playbook(PLAY, role_vars())
    if repaired_by_the_role:
        # The role puts back exactly what it provisions.
        assert not rerun.failed and rerun.changed >= 1, rerun
    else:
        # A trust widened by hand is never narrowed: the role names it and changes nothing.
        assert rerun.failed and "trusts Amazon Forecast in" in rerun.task("Stop before changing anything")["msg"]


def test_removal_waits_for_forecast_export_jobs_writing_into_the_bucket(aws, playbook, provisioned):
    destination = provisioned.task("Show the destination")["forecast_export_destination"]
    aws.set_time_scale(min_seconds=3600)
    job = aws.client("forecast").create_forecast_export_job(
        ForecastExportJobName="demand_daily_by_hand",
        ForecastArn=DAILY,
        Destination={"S3Config": {"Path": destination["s3_path"] + "by-hand/", "RoleArn": destination["role_arn"]}},
    )
    result = playbook(PLAY, role_vars(state="absent", force=True))
    assert result.failed
    message = result.task("Forecast export jobs write into the bucket")["msg"]
    assert "1 Forecast export job(s) are still writing into bucket" in message and job["ForecastExportJobArn"] in message
    assert aws.client("iam").get_role(RoleName=ROLE)["Role"]["RoleName"] == ROLE
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == [BUCKET]
