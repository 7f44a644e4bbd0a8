"""First contact: the playbook mailops.workmail.export_probe exports one small mailbox of the local AWS and tells,
per undocumented question, which answer (dialect) the service gave; the evidence JSON is written to S3 and to a
local path."""

import json

import pytest
from campaign_setup import sized_organization

REGION = "us-east-1"
BUCKET = "probe-exports"
PREFIX = "exports/probe/"
PLAY = """
- name: Run the probe playbook
  ansible.builtin.import_playbook: mailops.workmail.export_probe
"""


@pytest.fixture(name="org")
def org_fixture(aws):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    return sized_organization(aws, "probe", [8])


def probe(playbook, org, destination, evidence_path):
    extra_vars = {
        "workmail_organization_id": org["id"],
        "workmail_region": REGION,
        "workmail_mailbox": "user00@probe.example",
        "workmail_bucket": destination["s3_bucket"],
        "workmail_prefix": destination["s3_prefix"],
        "workmail_role_arn": destination["role_arn"],
        "workmail_kms_key_arn": destination["kms_key_arn"],
        "workmail_evidence_path": str(evidence_path),
        "workmail_poll_interval": 1,
    }
    result = playbook(PLAY, extra_vars=extra_vars)
    assert not result.failed, (result, result.stdout[-3000:], result.stderr[-3000:])
    return result


@pytest.mark.parametrize(
    "dialects, expected",
    [
        (
            {},
            {
                "s3_path": "bucket_key",
                "archive_layout": "entity_job",
                "export_log": "json",
                "total_messages": "all_entries",
            },
        ),
        (
            {"s3_path": "folder", "archive_layout": "email_time", "export_log": "guide", "total_messages": "messages_only"},
            {
                "s3_path": "folder",
                "archive_layout": "email_time",
                "export_log": "guide",
                "total_messages": "messages_only",
            },
        ),
    ],
    ids=["today", "folder-email-time-guide-messages"],
)
def test_the_probe_names_the_dialect_of_every_question(aws, org, destination, playbook, tmp_path, dialects, expected):
    aws.set_dialects(**dialects)
    evidence_path = tmp_path / "evidence.json"

    result = probe(playbook, org, destination, evidence_path)

    probed = result.task("Probe the export of one mailbox")
    assert probed["changed"] is True
    expected.update(client_token_reuse="same_job", token_mismatch_error="InvalidParameterException")
    assert probed["dialects"] == expected
    report = result.task("Report what the service answered")["msg"]
    assert all(f"{switch}: {value}" in report for switch, value in expected.items()), report
    key = f"{PREFIX}mailops-probe/{probed['job_id']}.json"
    assert f"Evidence JSON: s3://{BUCKET}/{key}" in report
    stored = aws.client("s3", REGION).get_object(Bucket=BUCKET, Key=key)
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert json.loads(stored["Body"].read())["dialects"] == expected
    local = json.loads(evidence_path.read_text())
    assert local["job_id"] == probed["job_id"] and local["dialects"] == expected
    assert local["job_answer"]["S3Path"]["type"] == "string"
    assert local["archive"]["counts"]["entries"] > local["archive"]["counts"]["messages"] > 0
    assert [job["JobId"] for job in aws.jobs() if job["OrganizationId"] == org["id"]] == [probed["job_id"]]
