"""The organization export in situations real campaigns meet, run as an operator runs it: the collection playbook
mailops.workmail.export_organization against the local AWS. Each test sets the situation up first, then checks what
the run prints and what it leaves in AWS."""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from campaign_setup import sized_organization
from workmail_emulator.provision import provision_export_destination
from workmail_emulator.provision import trust_policy

REGION = "us-east-1"
BUCKET = "real-world-exports"
PREFIX = "workmail-exports/"
# Thirteen mailboxes; the three largest are the ones exported by hand.
USER_SIZES = [900, 800, 700, 60, 50, 45, 40, 35, 30, 25, 20, 15, 10]
IMPORT = """
- name: The collection playbook
  ansible.builtin.import_playbook: mailops.workmail.export_organization
"""
REPORT_TASK = "Report on the campaign"
EXPORT_TASK = "Export the organization's mailboxes"
DAY = 24 * 3600


@pytest.fixture(name="org")
def org_fixture(aws):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    return sized_organization(aws, "realworld", USER_SIZES, region=REGION)


@pytest.fixture(autouse=True)
def custom_stats(monkeypatch):
    monkeypatch.setenv("ANSIBLE_SHOW_CUSTOM_STATS", "true")


@pytest.fixture(name="variables")
def variables_fixture(aws, org):
    """The playbook's variables for campaign "eos" on a destination that exists already."""
    destination = provision_export_destination(aws.client, org["id"], BUCKET, PREFIX, REGION)
    return {
        "workmail_organization_id": org["id"],
        "workmail_region": REGION,
        "workmail_bucket": BUCKET,
        "workmail_prefix": PREFIX,
        "workmail_campaign": "eos",
        "workmail_provision": False,
        "workmail_role_arn": destination["role_arn"],
        "workmail_kms_key_arn": destination["kms_key_arn"],
    }


def report(run):
    return run.task(REPORT_TASK)["msg"]


def stats(run):
    return run.data["global_custom_stats"]["workmail_export_summary"]


def export_by_hand(aws, org, variables, mailboxes):
    """Start an export of each mailbox as an administrator would, in the console or with the CLI."""
    workmail = aws.client("workmail")
    for index, mailbox in enumerate(mailboxes):
        workmail.start_mailbox_export_job(
            ClientToken=f"by-hand-{index}",
            OrganizationId=org["id"],
            EntityId=mailbox["id"],
            Description="exported by hand this morning",
            RoleArn=variables["workmail_role_arn"],
            KmsKeyArn=variables["workmail_kms_key_arn"],
            S3BucketName=BUCKET,
            S3Prefix=f"{PREFIX}by-hand",
        )


def campaign_jobs(aws, org, campaign):
    """The export jobs a campaign started, counted by mailbox."""
    marker = "[mailops:client_token=mailops-c-"
    jobs = aws.client("workmail").list_mailbox_export_jobs(OrganizationId=org["id"], MaxResults=100)["Jobs"]
    return Counter(job["EntityId"] for job in jobs if marker in job.get("Description", "") and campaign in job["Description"])


def test_mailboxes_exported_by_hand_this_morning_hold_back_only_themselves(aws, org, variables, playbook):
    by_hand = org["users"][:3]
    export_by_hand(aws, org, variables, by_hand)
    aws.advance_clock(60)  # the exports by hand are done

    first = playbook(IMPORT, extra_vars=variables)

    assert not first.failed, (first, first.stderr)
    result = first.task(EXPORT_TASK)
    assert len(result["started"]) == 10  # every slot is used: the ten largest mailboxes not exported by hand
    assert {item["id"] for item in result["started"]} == {mailbox["id"] for mailbox in org["users"][3:]}
    held = {item["email"]: item for item in result["blocked_24h"]}
    assert set(held) == {mailbox["email"] for mailbox in by_hand}
    lines = report(first)
    assert "Held back by AWS's one export per mailbox per 24 hours, their slots given to the next mailboxes (3):" in lines
    for mailbox in by_hand:
        item = held[mailbox["email"]]
        assert f"  - {mailbox['email']}: job {item['job_id']} started less than 24 hours ago; from {item['eligible']}" in lines
    assert any(text.startswith("Next: ") and "held by the 24-hour rule may start at" in text for text in lines)
    assert stats(first)["blocked_24h"] == 3

    aws.advance_clock(60)
    second = playbook(IMPORT, extra_vars=variables)
    assert second.task(EXPORT_TASK)["summary"]["completed"] == 10
    assert second.task(EXPORT_TASK)["started"] == [] and len(second.task(EXPORT_TASK)["blocked_24h"]) == 3

    aws.advance_clock(DAY)
    third = playbook(IMPORT, extra_vars=variables)
    assert {item["id"] for item in third.task(EXPORT_TASK)["started"]} == {mailbox["id"] for mailbox in by_hand}
    assert third.task(EXPORT_TASK)["blocked_24h"] == []
    aws.advance_clock(60)
    last = playbook(IMPORT, extra_vars=variables)
    assert last.task(EXPORT_TASK)["done"] is True
    assert any(text.startswith("Done: yes") for text in report(last))
    assert campaign_jobs(aws, org, "eos") == Counter({mailbox["id"]: 1 for mailbox in org["users"]})


def test_a_second_campaign_on_the_same_day_says_every_mailbox_is_held_and_until_when(aws, org, variables, playbook):
    first = playbook(IMPORT, extra_vars=dict(variables, workmail_wait=True, workmail_poll_interval=5))
    assert first.task(EXPORT_TASK)["done"] is True, first.stderr

    second_campaign = dict(variables, workmail_campaign="eos-again")
    preview = playbook(IMPORT, extra_vars=second_campaign, check=True)
    lines = report(preview)
    assert "Would start now (0): none" in lines
    assert "Would wait for a free slot: 0" in lines
    assert f"Would be held by the 24-hour rule: {len(USER_SIZES)}" in lines

    run = playbook(IMPORT, extra_vars=second_campaign)
    result = run.task(EXPORT_TASK)
    assert result["started"] == [] and result["queued"] == []
    assert len(result["blocked_24h"]) == len(USER_SIZES)
    assert stats(run)["blocked_24h"] == len(USER_SIZES)
    assert any(text.startswith("Held back by AWS's one export per mailbox per 24 hours") for text in report(run))

    aws.advance_clock(DAY)
    later = playbook(IMPORT, extra_vars=second_campaign)
    assert len(later.task(EXPORT_TASK)["started"]) == 10
    assert campaign_jobs(aws, org, "eos-again") == Counter(
        {item["id"]: 1 for item in later.task(EXPORT_TASK)["started"]}
    )
    manifest = json.loads(
        aws.client("s3").get_object(Bucket=BUCKET, Key=f"{PREFIX}mailops-campaigns/eos-again/manifest.json")["Body"].read()
    )
    assert Counter(entry["state"] for entry in manifest["mailboxes"].values()) == Counter({"RUNNING": 10, "PENDING": 3})


def test_a_selection_that_matches_nothing_fails_and_says_why(aws, org, variables, playbook):
    run = playbook(IMPORT, extra_vars=dict(variables, workmail_include="nobody@*, *@elsewhere.example"))

    assert run.failed
    message = run.task(EXPORT_TASK)["msg"]
    assert message.startswith(f"include: the selection matches no mailbox of organization {org['id']}")
    assert "include=['nobody@*', '*@elsewhere.example']" in message
    assert f"it has {len(USER_SIZES)} users and 0 resources" in message
    lines = report(run)
    assert not any(text.startswith("Done: yes") for text in lines), lines
    assert aws.calls().get("StartMailboxExportJob", 0) == 0
    listed = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}mailops-campaigns/")
    assert listed.get("KeyCount", 0) == 0  # no manifest, no lock left behind


def manifest_key(campaign="eos"):
    return f"{PREFIX}mailops-campaigns/{campaign}/manifest.json"


def edit_manifest(aws, change):
    """Change the stored manifest as a person with an editor (or a broken tool) would."""
    s3 = aws.client("s3")
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key())["Body"].read())
    change(manifest["mailboxes"])
    s3.put_object(Bucket=BUCKET, Key=manifest_key(), Body=json.dumps(manifest).encode())


def test_a_manifest_edited_by_hand_is_repaired_from_aws_and_nothing_is_exported_twice(aws, org, variables, playbook):
    users = org["users"]
    variables = dict(variables, workmail_max_concurrent_jobs=5)
    first = playbook(IMPORT, extra_vars=variables)
    assert len(first.task(EXPORT_TASK)["started"]) == 5
    aws.advance_clock(60)
    second = playbook(IMPORT, extra_vars=variables)  # records five COMPLETED, starts five more
    assert len(second.task(EXPORT_TASK)["started"]) == 5

    def damage(mailboxes):
        mailboxes[users[0]["id"]]["state"] = "PENDING"  # flipped back, its completed attempt still on record
        mailboxes[users[1]["id"]]["state"] = "PENDING"  # reset entirely: no attempt on record
        mailboxes[users[1]["id"]]["attempts"] = []
        mailboxes[users[1]["id"]]["object"] = None
        del mailboxes[users[2]["id"]]  # lost
        mailboxes[users[12]["id"]]["state"] = "COMPLETED"  # never exported, marked done

    edit_manifest(aws, damage)
    aws.advance_clock(60)  # the second five are done
    run = playbook(IMPORT, extra_vars=variables)

    assert not run.failed, (run, run.stderr)
    result = run.task(EXPORT_TASK)
    repaired = {item["email"]: item for item in result["repairs"]}
    assert set(repaired) == {users[index]["email"] for index in (0, 1, 2, 12)}
    assert repaired[users[0]["email"]]["problem"] == "the manifest said PENDING, but an attempt of this campaign COMPLETED"
    assert "of this campaign, attempt 1, was not on record" in repaired[users[1]["email"]]["problem"]
    assert "of this campaign, attempt 1, was not on record" in repaired[users[2]["email"]]["problem"]
    assert repaired[users[12]["email"]]["repair"] == "recorded it as PENDING"
    lines = report(run)
    assert "The manifest disagreed with AWS; repaired from AWS (4):" in lines
    assert stats(run)["repairs"] == 4
    # The three exported mailboxes are not exported again; the one marked done without a job is exported now.
    assert {item["id"] for item in result["started"]} == {users[10]["id"], users[11]["id"], users[12]["id"]}

    aws.advance_clock(60)
    last = playbook(IMPORT, extra_vars=variables)
    assert last.task(EXPORT_TASK)["done"] is True and last.task(EXPORT_TASK)["repairs"] == []
    assert campaign_jobs(aws, org, "eos") == Counter({mailbox["id"]: 1 for mailbox in users})


def all_campaign_jobs(aws, campaign):
    """Every export job a campaign ever started (however old), counted by mailbox."""
    return Counter(job["EntityId"] for job in aws.jobs() if f"campaign {campaign} [mailops:client_token=" in job.get("Description", ""))


def test_a_lost_or_damaged_manifest_is_recovered_and_no_mailbox_is_exported_twice(aws, org, variables, playbook):
    users = org["users"]
    s3 = aws.client("s3")
    folder = manifest_key()[: -len("manifest.json")]
    assert len(playbook(IMPORT, extra_vars=variables).task(EXPORT_TASK)["started"]) == 10
    aws.advance_clock(60)
    assert len(playbook(IMPORT, extra_vars=variables).task(EXPORT_TASK)["started"]) == 3

    # Someone deletes the manifest.
    s3.delete_object(Bucket=BUCKET, Key=manifest_key())
    aws.advance_clock(60)
    run = playbook(IMPORT, extra_vars=variables)
    assert not run.failed, (run, run.stderr)
    result = run.task(EXPORT_TASK)
    assert result["manifest_recovery"]["problem"].endswith("manifest.json: it is missing")
    assert result["manifest_recovery"]["recovered_from"] == f"s3://{BUCKET}/{folder}manifest.previous.json"
    assert any("it was recovered from" in warning for warning in result["warnings"])
    assert result["done"] is True and result["started"] == []
    recovered = [line for line in report(run) if line.startswith("The manifest was recovered: ")]
    assert len(recovered) == 1 and f"recovered from s3://{BUCKET}/{folder}manifest.previous.json (a copy of " in recovered[0]
    assert stats(run)["manifest_recovered"] is True

    # A broken tool truncates it.
    body = s3.get_object(Bucket=BUCKET, Key=manifest_key())["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=manifest_key(), Body=body[:200])
    run = playbook(IMPORT, extra_vars=variables)
    recovery = run.task(EXPORT_TASK)["manifest_recovery"]
    assert recovery["damaged"] is True and "is not JSON" in recovery["problem"]
    kept = recovery["damaged_kept_at"][len(f"s3://{BUCKET}/") :]
    assert s3.get_object(Bucket=BUCKET, Key=kept)["Body"].read() == body[:200]
    assert run.task(EXPORT_TASK)["done"] is True and run.task(EXPORT_TASK)["started"] == []

    if aws.dialects()["archive_layout"] != "entity_job" or aws.dialects()["describe_retention_days"]:
        # Past the job list's 7 days, only an archive whose key names its job, a job WorkMail still describes, ties it
        # to this campaign; under the other answers of the local AWS (make test-dialects) that is not known
        # (docs/undocumented.md).
        return
    # Eight days later the manifest and its copy are both gone, and the job list no longer shows the campaign's jobs.
    aws.advance_clock(8 * DAY)
    for name in ("manifest.json", "manifest.previous.json"):
        s3.delete_object(Bucket=BUCKET, Key=folder + name)
    run = playbook(IMPORT, extra_vars=variables)
    assert not run.failed, (run, run.stderr)
    result = run.task(EXPORT_TASK)
    assert result["manifest_recovery"]["recovered_from"] == "the jobs of this campaign (the last 7 days) and its exports in S3"
    assert result["manifest_recovery"]["rebuilt_from_aws"] == 13
    assert all("of this campaign (attempt 1)" in item["problem"] for item in result["repairs"])
    assert result["started"] == [] and result["done"] is True
    assert all_campaign_jobs(aws, "eos") == Counter({mailbox["id"]: 1 for mailbox in users})


def _module_processes():
    """Pids of running workmail_organization_export module processes."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as stream:
                command = stream.read()
        except OSError:
            continue
        if b"AnsiballZ_workmail_organization_export" in command and b"/bin/sh" not in command:
            found.append(int(name))
    return found


def test_a_run_killed_by_its_scheduler_leaves_no_module_running_and_no_lock_behind(aws, org, variables, tmp_path):
    # Directory reads are throttled, so the first pass is slow: the scheduler (an AWX timeout) kills it meanwhile.
    aws.set_faults(operation="GetMailboxDetails", throttle_rate=0.5, seed=7)
    play = tmp_path / "run.yml"
    play.write_text(IMPORT)
    env = dict(os.environ, **aws.env)
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false")
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(play), "--extra-vars", json.dumps(variables)]
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
        deadline = time.monotonic() + 120
        while aws.calls().get("GetMailboxDetails", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # until the pass is reading the directory
        modules = _module_processes()
        assert modules, "the export module never started"
        run.kill()  # only ansible-playbook itself: its workers and the module are not killed with it
        run.wait()
    deadline = time.monotonic() + 120
    while any(pid in _module_processes() for pid in modules) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(pid in _module_processes() for pid in modules), "the module kept running after ansible-playbook died"

    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}mailops-campaigns/eos/").get("Contents", [])
    assert f"{PREFIX}mailops-campaigns/eos/lock.json" not in [item["Key"] for item in listed]
    assert aws.calls().get("StartMailboxExportJob", 0) == 0  # it stopped while reading the directory
    assert aws.calls()["GetMailboxDetails"] < len(USER_SIZES) * 2


def _disable_key(aws, variables):
    aws.client("kms").disable_key(KeyId=variables["workmail_kms_key_arn"].rsplit("/", 1)[1])


def _enable_key(aws, variables):
    aws.client("kms").enable_key(KeyId=variables["workmail_kms_key_arn"].rsplit("/", 1)[1])


def _trust_role_again(aws, variables):
    role_name = variables["workmail_role_arn"].rsplit("/", 1)[1]
    org_id = variables["workmail_organization_id"]
    aws.client("iam").update_assume_role_policy(
        RoleName=role_name, PolicyDocument=json.dumps(trust_policy("123456789012", REGION, org_id))
    )


def _distrust_role(aws, variables):
    role_name = variables["workmail_role_arn"].rsplit("/", 1)[1]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    aws.client("iam").update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust))


REFUSED = "the export destination was refused, so the campaign stopped without using any mailbox's attempt"
CHECKED = "the export destination cannot receive exports, so the campaign started no job and used no mailbox's attempt"


@pytest.mark.parametrize(
    "breakage, fix, named, message, starts",
    [
        # The check before the first start finds the disabled key: no job is even asked for.
        (_disable_key, _enable_key, "is Disabled; it must be Enabled", CHECKED, 0),
        # The role's trust cannot be read by the run: the first start is refused, and the run stops there.
        (_distrust_role, _trust_role_again, "RoleArn", REFUSED, 1),
    ],
)
def test_a_broken_destination_stops_the_campaign_at_once_and_burns_no_attempt(
    aws, org, variables, playbook, breakage, fix, named, message, starts
):
    breakage(aws, variables)
    run = playbook(IMPORT, extra_vars=dict(variables, workmail_wait=True, workmail_poll_interval=5))

    assert run.failed
    result = run.task(EXPORT_TASK)
    assert result["passes"] == 1  # wait=true does not keep polling a broken destination
    assert result["msg"].startswith(message)
    assert named in result["msg"] and "export_prerequisites role again" in result["msg"]
    assert aws.calls().get("StartMailboxExportJob", 0) == starts
    manifest = json.loads(aws.client("s3").get_object(Bucket=BUCKET, Key=manifest_key())["Body"].read())
    assert {entry["state"] for entry in manifest["mailboxes"].values()} == {"PENDING"}
    assert all(entry["attempts"] == [] for entry in manifest["mailboxes"].values())
    assert any(text.startswith(f"The export task FAILED: {message}") for text in report(run))

    fix(aws, variables)
    again = playbook(IMPORT, extra_vars=variables)
    assert not again.failed, (again, again.stderr)
    assert len(again.task(EXPORT_TASK)["started"]) == 10


def test_a_bucket_that_no_longer_blocks_public_access_is_found_before_any_start(aws, org, variables, playbook):
    aws.client("s3").delete_public_access_block(Bucket=BUCKET)

    checked = playbook(IMPORT, extra_vars=variables, check=True)
    run = playbook(IMPORT, extra_vars=variables)

    for failed in (checked, run):
        assert failed.failed
        assert failed.task(EXPORT_TASK)["msg"].startswith(CHECKED)
        assert f"bucket {BUCKET} does not block public access" in failed.task(EXPORT_TASK)["msg"]
    assert aws.calls().get("StartMailboxExportJob", 0) == 0

    control = aws.client("s3control")
    # S3 Control addresses <account>.<endpoint>; the local AWS answers on its own address only.
    control.meta.events.register("before-sign.s3-control", lambda request, **kwargs: setattr(request, "url", request.url.replace("//123456789012.", "//")))
    control.put_public_access_block(
        AccountId="123456789012",
        PublicAccessBlockConfiguration=dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True),
    )
    again = playbook(IMPORT, extra_vars=variables)
    assert not again.failed, (again, again.stderr)
    assert len(again.task(EXPORT_TASK)["started"]) == 10
    assert again.task(EXPORT_TASK)["destination_check"]["problems"] == []


def test_jobs_failed_by_a_key_disabled_mid_campaign_stop_it_and_use_no_attempt(aws, org, variables, playbook):
    variables = dict(variables, workmail_max_attempts=1, workmail_max_concurrent_jobs=4)
    first = playbook(IMPORT, extra_vars=variables)
    started = {item["id"] for item in first.task(EXPORT_TASK)["started"]}
    assert len(started) == 4
    _disable_key(aws, variables)
    aws.advance_clock(60)  # the four jobs end FAILED: they cannot write with the disabled key

    run = playbook(IMPORT, extra_vars=dict(variables, workmail_wait=True, workmail_poll_interval=5))

    assert run.failed
    result = run.task(EXPORT_TASK)
    assert result["passes"] == 1
    assert result["msg"].startswith("the export destination was refused, so the campaign stopped")
    assert "FAILED: The export could not write to the destination: KmsKeyArn" in result["msg"]
    assert aws.calls()["StartMailboxExportJob"] == 4  # nothing more was started
    manifest = json.loads(aws.client("s3").get_object(Bucket=BUCKET, Key=manifest_key())["Body"].read())
    failed = {entity_id: entry for entity_id, entry in manifest["mailboxes"].items() if entity_id in started}
    # max_attempts is 1, yet none is given up: the destination failed them, not their mailboxes.
    assert {entry["state"] for entry in failed.values()} == {"FAILED"}
    assert all(entry["attempts"][0]["destination_fault"] is True for entry in failed.values())
