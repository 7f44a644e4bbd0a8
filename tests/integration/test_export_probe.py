"""First contact: the playbook mailops.workmail.export_probe exports one small mailbox of the local AWS and tells,
per undocumented question, which answer (dialect) the service gave; the evidence JSON is written to S3 and to a
local path. A second start of the mailbox asks the once-per-24-hours rule for its answer; an older job, when given,
tells how long jobs are described and whether FAILED jobs count. Check mode starts nothing; a FAILED job and a job
still running when the wait ends are reported, and never followed by a second export."""

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


def probe(playbook, org, destination, evidence_path, check=False, **more):
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
        **more,
    }
    result = playbook(PLAY, extra_vars=extra_vars, check=check)
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
                "mailbox_24h_error": "LimitExceededException",
            },
        ),
        (
            {
                "s3_path": "folder",
                "archive_layout": "email_time",
                "export_log": "guide",
                "total_messages": "messages_only",
                "mailbox_24h_error": "InvalidParameterException",
            },
            {
                "s3_path": "folder",
                "archive_layout": "email_time",
                "export_log": "guide",
                "total_messages": "messages_only",
                "mailbox_24h_error": "InvalidParameterException",
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
    expected.update(NOT_ASKED)
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
    # The second start used another token, was refused by the 24-hour rule, and exported nothing.
    second = local["second_start"]
    assert second["error_code"] == expected["mailbox_24h_error"] and "already exported" in second["message"]
    assert second["client_token"] != local["client_token"] and "job_id" not in second
    assert f"Second start within 24 hours: refused with {second['error_code']}: {second['message']}" in report
    assert [job["JobId"] for job in org_jobs(aws, org)] == [probed["job_id"]]


NOT_ASKED = {
    "mailbox_24h_counts": "not probed — give describe_job_id, a FAILED or CANCELLED job of the mailbox from the last 24 hours",
    "describe_retention_days": "not probed — give describe_job_id, a job older than the job list's 7 days",
}


def org_jobs(aws, org):
    return [job for job in aws.jobs() if job["OrganizationId"] == org["id"]]


def start_by_hand(aws, org, destination, token):
    """An export of the probe's mailbox started outside the collection (as by hand in the console)."""
    workmail = aws.client("workmail", REGION)
    return workmail.start_mailbox_export_job(
        ClientToken=token,
        OrganizationId=org["id"],
        EntityId=org["users"][0]["id"],
        RoleArn=destination["role_arn"],
        KmsKeyArn=destination["kms_key_arn"],
        S3BucketName=destination["s3_bucket"],
        S3Prefix=destination["s3_prefix"],
    )["JobId"]


def wait_for_the_end(aws, org, job_id):
    for dummy in range(100):
        aws.advance_clock(1)
        state = aws.client("workmail", REGION).describe_mailbox_export_job(OrganizationId=org["id"], JobId=job_id)["State"]
        if state != "RUNNING":
            return state
    raise AssertionError(f"job {job_id} did not end")


@pytest.mark.parametrize("retention_days, described", [(None, True), (3, False)], ids=["remembered", "forgotten"])
def test_an_older_job_tells_how_long_aws_describes_jobs(aws, org, destination, playbook, tmp_path, retention_days, described):
    older = start_by_hand(aws, org, destination, "by-hand-1")
    assert wait_for_the_end(aws, org, older) == "COMPLETED"
    aws.advance_clock(8 * 24 * 3600)
    aws.set_dialects(describe_retention_days=retention_days)

    result = probe(playbook, org, destination, tmp_path / "evidence.json", workmail_describe_job_id=older)

    dialects = result.task("Probe the export of one mailbox")["dialects"]
    report = "\n".join(result.task("Report what the service answered")["msg"])
    found = json.loads((tmp_path / "evidence.json").read_text())["older_job"]
    assert found["job_id"] == older and found["answered"] is described
    if described:
        assert found["state"] == "COMPLETED" and found["same_mailbox"] is True and 8.0 <= found["age_days"] < 8.1
        assert dialects["describe_retention_days"] == f"at least {found['age_days']} days (job {older} was described)"
        assert f"Older job {older}: described, COMPLETED, {found['age_days']} days old" in report
    else:
        assert found["error_code"] == "EntityNotFoundException"
        assert dialects["describe_retention_days"].startswith(f"job {older} was not described (EntityNotFoundException)")
        assert f"Older job {older}: not described (EntityNotFoundException: {found['message']})" in report
        assert older in found["message"]
    # A COMPLETED job (or one not described) says nothing about which jobs the 24-hour rule counts.
    reason = "is COMPLETED, not FAILED or CANCELLED" if described else "was not described"
    assert dialects["mailbox_24h_counts"] == f"not probed — job {older} {reason}"
    assert len(org_jobs(aws, org)) == 2


def test_a_failed_job_the_24_hour_rule_did_not_count_is_named(aws, org, destination, playbook, tmp_path):
    aws.set_dialects(mailbox_24h_counts="successful")
    aws.fail_next_jobs(org["users"][0]["id"])
    older = start_by_hand(aws, org, destination, "by-hand-failed")
    assert wait_for_the_end(aws, org, older) == "FAILED"

    result = probe(playbook, org, destination, tmp_path / "evidence.json", workmail_describe_job_id=older)

    probed = result.task("Probe the export of one mailbox")
    assert probed["changed"] is True and probed["evidence"]["state"] == "COMPLETED"
    assert probed["dialects"]["mailbox_24h_counts"] == "successful"
    assert probed["dialects"]["mailbox_24h_error"] == "LimitExceededException"
    assert sorted(job["JobId"] for job in org_jobs(aws, org)) == sorted([older, probed["job_id"]])


def test_check_mode_starts_nothing_and_says_what_it_would_do(aws, org, destination, playbook, tmp_path):
    evidence_path = tmp_path / "evidence.json"

    result = probe(playbook, org, destination, evidence_path, check=True, workmail_describe_job_id="0b9e2f7c-1d2a-4b5c-8e9f-0a1b2c3d4e5f")

    probed = result.task("Probe the export of one mailbox")
    assert probed["changed"] is True and probed["job_id"] is None and probed["evidence"] is None
    message = probed["msg"]
    assert message.startswith(f"would start an export of {org['users'][0]['id']}, wait for it"), message
    assert "start the mailbox again with another client token" in message
    assert "describe the older job 0b9e2f7c-1d2a-4b5c-8e9f-0a1b2c3d4e5f" in message
    assert message.endswith(f"write its evidence to s3://{BUCKET}/{PREFIX}mailops-probe/<job id>.json")
    assert org_jobs(aws, org) == []
    assert aws.client("s3", REGION).list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}mailops-probe/")["KeyCount"] == 0
    assert not evidence_path.exists()
    assert "Second start" not in " ".join(result.task("Report what the service answered")["msg"])


def test_a_failed_job_is_recorded_and_not_followed_by_a_second_export(aws, org, destination, playbook, tmp_path):
    aws.fail_next_jobs(org["users"][0]["id"], error_info="The export could not read the mailbox.")

    result = probe(playbook, org, destination, tmp_path / "evidence.json")

    probed = result.task("Probe the export of one mailbox")
    evidence = probed["evidence"]
    assert evidence["state"] == "FAILED"
    assert evidence["job_answer"]["ErrorInfo"]["value"] == "The export could not read the mailbox."
    dialects = probed["dialects"]
    assert dialects["s3_path"] == dialects["archive_layout"] == "unknown — the job is FAILED"
    assert dialects["mailbox_24h_error"] == "not probed — the job is FAILED; only a COMPLETED job is followed by a second start"
    report = result.task("Report what the service answered")["msg"]
    assert "Second start within 24 hours: not probed, the job is FAILED; only a COMPLETED job is followed by a second start" in report
    assert [job["JobId"] for job in org_jobs(aws, org)] == [probed["job_id"]]


def test_a_job_still_running_when_the_wait_ends_is_named_to_be_probed_again(aws, org, destination, playbook, tmp_path):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3600)

    result = probe(playbook, org, destination, tmp_path / "evidence.json", workmail_wait_timeout=2)

    probed = result.task("Probe the export of one mailbox")
    job_id = probed["job_id"]
    assert probed["evidence"]["state"] == "RUNNING"
    assert probed["msg"].startswith(f"job {job_id} is still RUNNING after waiting 2 s: ")
    assert f"run the probe again (same client token) once job {job_id} has completed" in probed["msg"]
    assert any(f"job {job_id} is still RUNNING" in warning for warning in probed["warnings"])
    assert probed["dialects"]["export_log"] == "unknown — the job is RUNNING"
    assert probed["dialects"]["mailbox_24h_error"].startswith("not probed — the job is RUNNING")
    assert probed["evidence"]["second_start"] == {"not_probed": "the job is RUNNING; only a COMPLETED job is followed by a second start"}
    assert [job["JobId"] for job in org_jobs(aws, org)] == [job_id]

    # Later, the same probe finds the same job by its token, now completed, and starts nothing new.
    aws.advance_clock(3601)
    again = probe(playbook, org, destination, tmp_path / "evidence.json")
    probed = again.task("Probe the export of one mailbox")
    assert probed["changed"] is False and probed["job_id"] == job_id
    assert probed["dialects"]["export_log"] == "json" and probed["dialects"]["mailbox_24h_error"] == "LimitExceededException"
    assert [job["JobId"] for job in org_jobs(aws, org)] == [job_id]
