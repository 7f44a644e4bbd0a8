"""workmail_organization_export with verify=deep, run by ansible-playbook against the local AWS."""

import hashlib
import json

import pytest
from campaign_setup import destination_args
from campaign_setup import sized_organization
from campaign_setup import whole_manifest

REGION = "us-east-1"
BUCKET = "verify-exports"
PREFIX = "exports/deep"
CAMPAIGN = "deep-2026"
MANIFEST_KEY = f"{PREFIX}/mailops-campaigns/{CAMPAIGN}/manifest.json"
USER_SIZES = [12, 40, 3, 25]
RESOURCE_SIZES = [6]
TOTAL = len(USER_SIZES) + len(RESOURCE_SIZES)


@pytest.fixture(name="org")
def org_fixture(aws):
    return sized_organization(aws, "verify", USER_SIZES, RESOURCE_SIZES, REGION)


def campaign_args(org, destination, **extra):
    return destination_args(org, destination, **dict({"campaign": CAMPAIGN}, **extra))


def read_json(aws, key):
    return json.loads(aws.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def read_manifest(aws):
    return whole_manifest(aws, BUCKET, MANIFEST_KEY)


def jobs_by_entity(aws, org):
    return {job["EntityId"]: job for job in aws.jobs() if job["OrganizationId"] == org["id"]}


def run_pass(module, org, destination, verify):
    result = module("workmail_organization_export", campaign_args(org, destination, verify=verify))
    assert not result.get("failed"), result
    return result


def test_deep_campaign_verifies_every_archive_against_its_log(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)

    first = run_pass(module, org, destination, "deep")
    assert len(first["started"]) == TOTAL
    assert first["pass"]["verify"] == "deep"
    assert first["pass"]["checked_now"] == 0

    aws.advance_clock(61)
    second = run_pass(module, org, destination, "deep")
    assert second["done"] is True
    assert second["summary"]["completed"] == TOTAL
    assert second["summary"]["verified"] == TOTAL
    assert second["pass"]["checked_now"] == TOTAL
    assert second["pass"]["verified_now"] == TOTAL
    assert second["pass"]["verification_problems"] == []

    jobs = jobs_by_entity(aws, org)
    manifest = read_manifest(aws)
    assert len(manifest["mailboxes"]) == TOTAL
    for entity_id, entry in manifest["mailboxes"].items():
        record = entry["object"]
        job = jobs[entity_id]
        log = read_json(aws, job["LogKey"])
        assert entry["state"] == "COMPLETED"
        assert record["level"] == "deep"
        assert record["verified"] is True, record
        assert record["problem"] is None
        assert record["key"] == job["ZipKey"]
        assert record["log_key"] == job["LogKey"]
        assert record["sha384"] == log["sha384Hash"] == record["log_sha384"]
        # The log may write its count as text, and count every entry or the messages only (the local AWS's dialects).
        assert record["log_messages"] == int(log["totalMessages"])
        assert record["log_messages"] in (record["archive_entries"], record["archive_messages"])
        assert record["checked"]
    assert second["pass"]["downloaded_bytes"] == sum(
        entry["object"]["size"] for entry in manifest["mailboxes"].values()
    )

    third = run_pass(module, org, destination, "deep")
    assert third["changed"] is False
    assert third["pass"]["checked_now"] == 0
    assert third["pass"]["downloaded_bytes"] == 0
    assert third["summary"]["verified"] == TOTAL


def test_basic_campaign_rerun_with_deep_is_deep_verified_once(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    run_pass(module, org, destination, "basic")
    aws.advance_clock(61)

    basic = run_pass(module, org, destination, "basic")
    assert basic["done"] is True
    assert basic["pass"]["checked_now"] == TOTAL
    assert basic["pass"]["downloaded_bytes"] == 0
    assert basic["summary"]["verified"] == TOTAL
    manifest = read_manifest(aws)
    assert all(entry["object"]["level"] == "basic" for entry in manifest["mailboxes"].values())
    assert all(entry["object"]["sha384"] is None for entry in manifest["mailboxes"].values())

    deep = run_pass(module, org, destination, "deep")
    assert deep["changed"] is True
    assert deep["started"] == []
    assert deep["pass"]["checked_now"] == TOTAL
    assert deep["pass"]["verified_now"] == TOTAL
    manifest = read_manifest(aws)
    sizes = sum(entry["object"]["size"] for entry in manifest["mailboxes"].values())
    assert deep["pass"]["downloaded_bytes"] == sizes > 0
    for entry in manifest["mailboxes"].values():
        assert entry["object"]["level"] == "deep"
        assert entry["object"]["verified"] is True
        assert entry["object"]["sha384"] == entry["object"]["log_sha384"]

    again = run_pass(module, org, destination, "deep")
    assert again["changed"] is False
    assert again["pass"]["checked_now"] == 0
    assert again["pass"]["downloaded_bytes"] == 0
    assert again["summary"]["verified"] == TOTAL
    assert read_manifest(aws) == manifest

    # Asking for less than what was checked checks nothing again.
    lower = run_pass(module, org, destination, "basic")
    assert lower["pass"]["checked_now"] == 0 and lower["changed"] is False


def test_tampered_archive_and_missing_log_are_reported(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    run_pass(module, org, destination, "deep")
    aws.advance_clock(61)  # the jobs finish: their archives and logs are written now

    jobs = jobs_by_entity(aws, org)
    tampered = org["users"][1]["id"]
    unlogged = org["users"][2]["id"]
    s3 = aws.client("s3")
    s3.put_object(
        Bucket=BUCKET,
        Key=jobs[tampered]["ZipKey"],
        Body=b"PK\x03\x04 these are not the exported bytes",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=destination["kms_key_arn"],
    )
    log_body = s3.get_object(Bucket=BUCKET, Key=jobs[unlogged]["LogKey"])["Body"].read()
    s3.delete_object(Bucket=BUCKET, Key=jobs[unlogged]["LogKey"])

    second = run_pass(module, org, destination, "deep")
    assert second["summary"]["completed"] == TOTAL
    assert second["summary"]["verified"] == TOTAL - 2
    assert second["done"] is True
    # The tampered archive contradicts its log; the one without a log could not be checked, and is not a problem.
    problems = {item["id"]: item for item in second["pass"]["verification_problems"] + second["pass"]["unchecked_now"]}
    assert [item["id"] for item in second["verification_problems"]] == [tampered]
    assert [item["id"] for item in second["unchecked"]] == [unlogged] and second["summary"]["unchecked"] == 1
    assert all(item["level"] == "deep" for item in problems.values())
    assert "sha384 mismatch" in problems[tampered]["problem"]
    assert jobs[tampered]["ZipKey"] in problems[tampered]["problem"]
    assert problems[unlogged]["problem"].startswith(
        f"no export log found next to s3://{BUCKET}/{jobs[unlogged]['ZipKey']}; looked for "
    )

    manifest = read_manifest(aws)
    for entity_id in (tampered, unlogged):
        entry = manifest["mailboxes"][entity_id]
        assert entry["state"] == "COMPLETED"
        assert len(entry["attempts"]) == 1
        assert entry["object"]["verified"] is False
        assert entry["object"]["problem"] == problems[entity_id]["problem"]
    assert manifest["mailboxes"][tampered]["object"]["outcome"] == "contradicted"
    assert manifest["mailboxes"][unlogged]["object"]["outcome"] == "unchecked"
    record = manifest["mailboxes"][tampered]["object"]
    assert record["sha384"] == hashlib.sha384(b"PK\x03\x04 these are not the exported bytes").hexdigest()
    assert record["log_sha384"] == read_json(aws, jobs[tampered]["LogKey"])["sha384Hash"]
    assert manifest["mailboxes"][unlogged]["object"]["log_key"] is None

    # Reported once: a later pass (within 15 minutes of the unchecked one) neither downloads them again nor starts
    # another export.
    third = run_pass(module, org, destination, "deep")
    assert third["changed"] is False
    assert third["pass"]["verification_problems"] == []
    # The result still lists them: every check of the campaign that contradicted an export, or could not tell.
    assert {item["id"]: item["problem"] for item in third["verification_problems"] + third["unchecked"]} == {
        entity_id: problems[entity_id]["problem"] for entity_id in (tampered, unlogged)
    }
    assert third["pass"]["checked_now"] == 0
    assert third["started"] == []
    assert third["summary"]["verified"] == TOTAL - 2
    assert aws.calls()["StartMailboxExportJob"] == TOTAL

    # The log turns up (written late, or restored): the unchecked export is checked again and verified.
    s3.put_object(Bucket=BUCKET, Key=jobs[unlogged]["LogKey"], Body=log_body, ServerSideEncryption="aws:kms", SSEKMSKeyId=destination["kms_key_arn"])
    aws.advance_clock(900)
    fourth = run_pass(module, org, destination, "deep")
    assert fourth["pass"]["checked_now"] == 1 and fourth["pass"]["verified_now"] == 1
    assert fourth["unchecked"] == [] and fourth["summary"]["verified"] == TOTAL - 1
    assert [item["id"] for item in fourth["verification_problems"]] == [tampered]
