"""workmail_organization_export_info, run by ansible-playbook against the local AWS after real campaign passes."""

import json
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from campaign_setup import destination_args
from campaign_setup import sized_organization

REGION = "us-east-1"
BUCKET = "campaign-info-exports"
PREFIX = "exports"
CAMPAIGN = "eos-info"
FOLDER = f"{PREFIX}/mailops-campaigns/{CAMPAIGN}/"
MANIFEST_KEY = FOLDER + "manifest.json"
COPY_KEY = FOLDER + "manifest.previous.json"
LOCK_KEY = FOLDER + "lock.json"
USER_SIZES = [40, 3, 12]
ANOTHER_ORGANIZATION = "m-00000000000000000000000000000000"


@pytest.fixture(name="org")
def org_fixture(aws):
    return sized_organization(aws, "info", USER_SIZES, (), REGION)


def info_args(**extra):
    return dict({"campaign": CAMPAIGN, "s3_bucket": BUCKET, "s3_prefix": PREFIX, "region": REGION}, **extra)


def campaign_pass(module, org, destination, **extra):
    result = module("workmail_organization_export", destination_args(org, destination, campaign=CAMPAIGN, **extra))
    assert not result.get("failed"), result
    return result


def stored(aws):
    """Every object of the campaign's folder: {key: (etag, body)}."""
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=FOLDER).get("Contents", [])
    return {
        item["Key"]: (item["ETag"], s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()) for item in listed
    }


def s3_requests(aws):
    return aws.faults()["requests"]["s3"]


def test_after_a_pass_the_manifest_is_what_the_campaign_recorded(aws, org, destination, module, tmp_path):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    local = tmp_path / "manifest.json"
    passed = campaign_pass(module, org, destination, local_manifest=str(local))
    before = stored(aws)
    # The pass wrote the manifest and, as the campaign's first, its report.
    assert set(before) == {MANIFEST_KEY, f"{FOLDER}report.html", f"{FOLDER}report.csv"}

    result = module("workmail_organization_export_info", info_args(organization_id=org["id"]))

    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["exists"] is True
    recorded = json.loads(local.read_text())
    assert result["manifest"] == recorded == json.loads(before[MANIFEST_KEY][1])
    assert set(result["manifest"]["mailboxes"]) == {user["id"] for user in org["users"]}
    assert result["summary"] == passed["summary"]
    assert result["summary"]["running"] == 3
    assert result["location"] == {
        "s3_uri": f"s3://{BUCKET}/{MANIFEST_KEY}",
        "s3_bucket": BUCKET,
        "s3_key": MANIFEST_KEY,
    }
    assert result["location"] == {name: passed["manifest"][name] for name in ("s3_uri", "s3_bucket", "s3_key")}
    assert result["verification_problems"] == [] and result["unchecked"] == []
    assert result["recovery"] is None and result["journal_ignored"] is None
    assert stored(aws) == before  # nothing written, no lock taken


def test_completed_exports_and_their_checks_are_returned(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    campaign_pass(module, org, destination)
    aws.advance_clock(61)
    passed = campaign_pass(module, org, destination)
    assert passed["summary"]["completed"] == 3, passed

    result = module("workmail_organization_export_info", info_args())

    assert result["summary"] == passed["summary"] and result["summary"]["verified"] == 3
    assert result["verification_problems"] == passed["verification_problems"] == []
    assert result["unchecked"] == passed["unchecked"]
    objects = [entry["object"] for entry in result["manifest"]["mailboxes"].values()]
    assert all(record["verified"] and record["level"] == "basic" for record in objects)


def test_check_mode_returns_the_same(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    campaign_pass(module, org, destination)
    before = stored(aws)

    normal = module("workmail_organization_export_info", info_args(organization_id=org["id"]))
    checked = module("workmail_organization_export_info", info_args(organization_id=org["id"]), check=True)

    assert not checked.get("failed") and not checked.get("skipped"), checked
    assert checked["changed"] is False and checked["exists"] is True
    assert checked["manifest"] == normal["manifest"] == json.loads(before[MANIFEST_KEY][1])
    assert checked["summary"] == normal["summary"]
    assert stored(aws) == before


def test_a_campaign_without_a_manifest_does_not_exist(aws, org, destination, module):
    result = module("workmail_organization_export_info", info_args(organization_id=org["id"]))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["exists"] is False
    assert result["manifest"] is None and result["summary"] is None
    assert result["verification_problems"] == [] and result["unchecked"] == []
    assert result["location"]["s3_key"] == MANIFEST_KEY
    assert stored(aws) == {}


def test_a_manifest_of_another_organization_fails_naming_organization_id(aws, org, destination, module):
    campaign_pass(module, org, destination)

    result = module("workmail_organization_export_info", info_args(organization_id=ANOTHER_ORGANIZATION))

    assert result["failed"] is True
    assert result["msg"].startswith(f"organization_id: s3://{BUCKET}/{MANIFEST_KEY}: "), result["msg"]
    assert org["id"] in result["msg"] and ANOTHER_ORGANIZATION in result["msg"]
    assert result["parameter"] == "organization_id"
    assert "manifest" not in result


def test_a_bad_campaign_name_fails_before_any_aws_call(aws, destination, module):
    asked = s3_requests(aws)
    module("workmail_organization_export_info", info_args())
    assert s3_requests(aws) > asked  # the count sees this module's reads

    asked = s3_requests(aws)
    result = module("workmail_organization_export_info", info_args(campaign="bad name!"))

    assert result["failed"] is True
    assert result["msg"].startswith("campaign: "), result["msg"]
    assert result["parameter"] == "campaign"
    assert s3_requests(aws) == asked


def test_a_missing_manifest_is_read_from_its_copy_and_not_written_back(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=600)
    campaign_pass(module, org, destination)
    campaign_pass(module, org, destination)  # a pass that finds the manifest valid copies it first
    copy_of = json.loads(stored(aws)[COPY_KEY][1])
    aws.client("s3").delete_object(Bucket=BUCKET, Key=MANIFEST_KEY)
    before = stored(aws)

    result = module("workmail_organization_export_info", info_args(organization_id=org["id"]))

    assert not result.get("failed"), result
    assert result["exists"] is True and result["manifest"] == copy_of
    assert result["recovery"]["recovered_from"] == f"s3://{BUCKET}/{COPY_KEY}"
    assert result["recovery"]["damaged"] is False
    assert "is missing" in result["recovery"]["problem"]
    assert any("manifest.previous.json" in warning for warning in result.get("warnings", [])), result
    assert stored(aws) == before and MANIFEST_KEY not in before


def test_a_held_lock_does_not_stop_it_and_is_left_alone(aws, org, destination, module):
    campaign_pass(module, org, destination)
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    document = {"owner": "awx-job-41", "acquired": datetime.now(timezone.utc).isoformat(), "expires": expires}
    aws.client("s3").put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=json.dumps(document).encode())
    before = stored(aws)

    result = module("workmail_organization_export_info", info_args())

    assert not result.get("failed"), result
    assert result["exists"] is True
    assert stored(aws) == before


def test_a_damaged_manifest_without_a_copy_fails(aws, destination, module):
    aws.client("s3").put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=b'{"format": 1, "campa')
    result = module("workmail_organization_export_info", info_args())
    assert result["failed"] is True
    assert "is not JSON" in result["msg"] and "there is no copy of it" in result["msg"], result["msg"]


def test_a_missing_bucket_fails_with_the_collections_message(aws, module):
    result = module("workmail_organization_export_info", info_args(s3_bucket="no-such-campaign-bucket"))
    assert result["failed"] is True
    assert result["msg"].startswith(
        f"get_object of the campaign manifest s3://no-such-campaign-bucket/{MANIFEST_KEY} failed: NoSuchBucket"
    ), result["msg"]
