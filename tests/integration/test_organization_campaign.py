"""Organization-wide export campaigns end to end: real ansible-playbook runs against the local AWS.

A campaign of 150 mailboxes, runs killed at random moments and run again, runs of one campaign at the same time,
the 24-hour and 7-day windows crossed on the simulated clock, failed jobs and their retries, and check mode in
the middle of a campaign. Every test checks the outcome in the local AWS itself: the export jobs that exist (one
per mailbox and attempt), and the manifest in the bucket.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from campaign_setup import ansible_environment
from campaign_setup import destination_args
from campaign_setup import whole_manifest
from workmail_emulator.provision import provision_export_destination

REGION = "us-east-1"
BUCKET = "campaign-exports"
PREFIX = "exports"
HOUR = 3600
DAY = 24 * HOUR
BIN = Path(sys.executable).parent


def mixed_sizes(count, seed):
    """Mailbox sizes in MB: mostly small, some medium, a few large (as real organizations have)."""
    rng = random.Random(seed)
    sizes = []
    for dummy in range(count):
        draw = rng.random()
        if draw < 0.7:
            sizes.append(rng.randint(1, 50))
        elif draw < 0.95:
            sizes.append(rng.randint(51, 500))
        else:
            sizes.append(rng.randint(501, 5000))
    return sizes


def make_organization(aws, alias, users, resources=0, seed=1):
    """An organization of ``users`` users and ``resources`` resources of mixed sizes; returns (org, sizes by id)."""
    sizes = mixed_sizes(users + resources, seed)
    spec = {
        "alias": alias,
        "region": REGION,
        "users": [
            {"name": f"user{index:03d}", "email": f"user{index:03d}@{alias}.example", "size_mb": sizes[index]}
            for index in range(users)
        ],
        "resources": [
            {"name": f"room{index:02d}", "email": f"room{index:02d}@{alias}.example", "size_mb": sizes[users + index]}
            for index in range(resources)
        ],
    }
    org = aws.add_organizations([spec])[0]
    by_id = {}
    for item in org["users"] + org["resources"]:
        by_id[item["id"]] = item["size_mb"]
    return org, by_id


def campaign_args(org, destination, campaign, **extra):
    return destination_args(org, destination, **dict({"campaign": campaign}, **extra))


def manifest_key(campaign):
    return f"{PREFIX}/mailops-campaigns/{campaign}/manifest.json"


def read_manifest(aws, campaign):
    return whole_manifest(aws, BUCKET, manifest_key(campaign))


def info_play(org, destination, campaign):
    """A play that reads the campaign with workmail_organization_export_info."""
    keep = ("campaign", "s3_bucket", "s3_prefix", "organization_id", "region")
    args = {name: value for name, value in campaign_args(org, destination, campaign).items() if name in keep}
    task = {"name": "read the campaign", "mailops.workmail.workmail_organization_export_info": args, "register": "info"}
    return [{"name": "campaign", "hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def jobs_of(aws, org):
    return [job for job in aws.jobs() if job["OrganizationId"] == org["id"]]


def until_done_play(args, retries=200, delay=1):
    """A play that repeats one reconcile pass (wait: false) until the campaign is done, as a schedule would."""
    return [
        {
            "name": "campaign",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "reconcile pass",
                    "mailops.workmail.workmail_organization_export": args,
                    "register": "export",
                    "until": "export.done | default(false)",
                    "retries": retries,
                    "delay": delay,
                }
            ],
        }
    ]


def assert_exported_once(aws, org, sizes, campaign):
    """Exactly one export job per mailbox, COMPLETED, and a manifest that records each of them, verified."""
    jobs = jobs_of(aws, org)
    per_mailbox = Counter(job["EntityId"] for job in jobs)
    assert set(per_mailbox) == set(sizes), "a mailbox was not exported"
    duplicates = {entity_id: count for entity_id, count in per_mailbox.items() if count != 1}
    assert not duplicates, f"mailboxes exported more than once: {duplicates}"
    assert {job["State"] for job in jobs} == {"COMPLETED"}

    manifest = read_manifest(aws, campaign)
    assert set(manifest["mailboxes"]) == set(sizes)
    job_of = {job["EntityId"]: job for job in jobs}
    for entity_id, entry in manifest["mailboxes"].items():
        assert entry["state"] == "COMPLETED", (entity_id, entry)
        assert entry["size_mb"] == sizes[entity_id]
        assert len(entry["attempts"]) == 1, (entity_id, entry["attempts"])
        attempt = entry["attempts"][0]
        job = job_of[entity_id]
        assert attempt["job_id"] == job["JobId"]
        assert attempt["client_token"] == job["ClientToken"]
        assert attempt["state"] == "COMPLETED"
        assert attempt["s3_path"] == job["S3Path"]
        assert entry["object"]["verified"] is True, (entity_id, entry["object"])
        assert entry["object"]["size"] > 0
    return jobs, manifest


def max_running_at_once(jobs):
    """The largest number of jobs that ran at the same time (from their start and end times)."""
    events = []
    for job in jobs:
        events.append((float(job["StartTime"]), 1))
        events.append((float(job["EndTime"]), -1))
    running = peak = 0
    for dummy, step in sorted(events, key=lambda event: (event[0], event[1])):
        running += step
        peak = max(peak, running)
    return peak


def test_150_mailboxes_of_mixed_sizes_are_each_exported_once(aws, playbook):
    org, sizes = make_organization(aws, "large", users=140, resources=10, seed=150)
    destination = provision_export_destination(aws.client, org["id"], BUCKET, PREFIX, REGION)
    # Jobs take 0.5 s (small mailboxes) to 2.5 s (5 GB) of real time.
    aws.set_time_scale(seconds_per_mb=0.0005, min_seconds=0.5)

    run = playbook(until_done_play(campaign_args(org, destination, "all-150")))
    assert not run.failed, (run, run.stderr[-3000:])
    result = run.task("reconcile pass")
    assert result["done"] is True
    assert result["summary"] == {
        "total": 150,
        "completed": 150,
        "running": 0,
        "pending": 0,
        "failed": 0,
        "failed_permanently": 0,
        "skipped": 0,
        "verified": 150,
        "unchecked": 0,
    }
    jobs, dummy = assert_exported_once(aws, org, sizes, "all-150")
    assert max_running_at_once(jobs) <= 10

    # The largest mailboxes went first: the first ten jobs are the ten largest mailboxes.
    first_ten = {job["EntityId"] for job in sorted(jobs, key=lambda job: float(job["StartTime"]))[:10]}
    assert first_ten == set(sorted(sizes, key=lambda entity_id: (-sizes[entity_id], entity_id))[:10])

    calls = aws.calls()
    assert calls["StartMailboxExportJob"] == 150
    assert calls["GetMailboxDetails"] == 150
    # Each job's end was learned when it was due a look (when its progress or the campaign's pace said it would have
    # ended): by describing it, or by one page of the job list when more jobs than its pages were due. In all, the
    # campaign made at most 3 WorkMail calls per mailbox (a size, a start, a look), directory pages included.
    looks = calls.get("DescribeMailboxExportJob", 0) + calls["ListMailboxExportJobs"]
    assert looks <= 150
    workmail_calls = looks + calls["StartMailboxExportJob"] + calls["GetMailboxDetails"]
    workmail_calls += calls.get("ListUsers", 0) + calls.get("ListResources", 0) + calls.get("ListGroups", 0)
    assert workmail_calls <= 3 * 150, calls

    again = playbook(until_done_play(campaign_args(org, destination, "all-150")))
    assert not again.failed
    assert again.task("reconcile pass")["changed"] is False
    assert aws.calls()["StartMailboxExportJob"] == 150

    # The finished mailboxes were sealed into a part beside the manifest once 100 or more were (all those finished
    # then): manifest.json keeps the others, and the part's ids, totals and SHA-256.
    s3 = aws.client("s3")
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key("all-150"))["Body"].read())
    [part] = stored["sealed"]
    assert part["count"] >= 100 and len(stored["mailboxes"]) == 150 - part["count"]
    assert not set(part["ids"]) & set(stored["mailboxes"])
    assert part["size_mb"] == sum(sizes[entity_id] for entity_id in part["ids"])

    # Someone deletes the part: the _info module names it and what it held; the campaign stays done, starts nothing,
    # and its report says why it could not be written.
    s3.delete_object(Bucket=BUCKET, Key=manifest_key("all-150")[: -len("manifest.json")] + part["name"])
    info = playbook(info_play(org, destination, "all-150"))
    failure = info.task("read the campaign")
    assert info.failed and part["name"] in failure["msg"] and "is missing" in failure["msg"]
    assert f"the records of {part['count']} mailboxes the campaign exported and verified" in failure["msg"]
    after = playbook(until_done_play(campaign_args(org, destination, "all-150", report_interval=0)))
    result = after.task("reconcile pass")
    assert not after.failed and result["done"] is True and result["started"] == []
    assert result["report"]["written"] is False and part["name"] in result["report"]["error"]
    assert aws.calls()["StartMailboxExportJob"] == 150


def _playbook_process(aws, path, log, verbose=False):
    env = ansible_environment(aws)
    if verbose:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    return subprocess.Popen(  # pylint: disable=consider-using-with
        [str(BIN / "ansible-playbook"), str(path)] + (["-vvv"] if verbose else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=path.parent,
    )


def _descendants(pid):
    """The process ids below ``pid`` (from /proc), children before grandchildren."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found = []
    queue = [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def _kill_everything(process):
    """SIGKILL ansible-playbook and every process it started, as a crash of the machine would end them.

    Ansible's workers run in sessions of their own, so killing the process group would leave a module running.
    Every process found is stopped first (so none forks unseen, and none is re-parented before it is found), and
    the search repeats until it finds no new process.
    """
    victims = set()
    found = {process.pid}
    while found:
        for pid in found:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        victims |= found
        found = {child for pid in victims for child in _descendants(pid)} - victims
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_runs_killed_at_random_moments_and_run_again_export_each_mailbox_once(aws, playbook, tmp_path):
    org, sizes = make_organization(aws, "crashy", users=56, resources=4, seed=7)
    destination = provision_export_destination(aws.client, org["id"], BUCKET, PREFIX, REGION)
    # Jobs of 2 to 10 s: the campaign takes longer than the runs live.
    aws.set_time_scale(seconds_per_mb=0.002, min_seconds=2)
    # A short lock expiry: a killed run leaves its lock behind, and the next run may take it over 2 s later.
    args = campaign_args(org, destination, "crashy", lock_ttl=2)
    path = tmp_path / "campaign.yml"
    path.write_text(json.dumps(until_done_play(args, delay=1)))

    rng = random.Random(20261122)
    kills = 0
    for round_number in range(6):
        with open(tmp_path / f"run{round_number}.log", "wb") as log:
            process = _playbook_process(aws, path, log)
            time.sleep(rng.uniform(1.5, 6.0))
            if process.poll() is None:
                _kill_everything(process)
                kills += 1
            process.wait(timeout=30)
        time.sleep(2.5)  # the killed run's lock expires
    assert kills >= 4, "the runs finished before they could be killed; the test proves nothing"
    started_before_the_last_run = aws.calls().get("StartMailboxExportJob", 0)
    assert 0 < started_before_the_last_run

    run = playbook(until_done_play(args))
    assert not run.failed, (run, run.stderr[-3000:])
    assert run.task("reconcile pass")["summary"]["completed"] == len(sizes)
    assert_exported_once(aws, org, sizes, "crashy")


def test_runs_of_one_campaign_at_the_same_time_start_each_job_once(aws, tmp_path):
    org, sizes = make_organization(aws, "rivals", users=30, seed=3)
    destination = provision_export_destination(aws.client, org["id"], BUCKET, PREFIX, REGION)
    aws.set_time_scale(seconds_per_mb=0.001, min_seconds=1)
    # Throttled directory reads make the first passes last seconds, so the runs meet at the lock however busy the
    # machine is (a fast machine alone could otherwise let them take turns without ever meeting).
    aws.set_faults(operation="GetMailboxDetails", throttle_rate=0.3, seed=3)
    args = campaign_args(org, destination, "rivals")
    play = until_done_play(args, retries=120, delay=1)
    # A pass refused because another run holds the lock is not the end: keep trying until done.
    play[0]["tasks"][0][
        "failed_when"
    ] = "export.failed | default(false) and 'is held by' not in export.msg | default('')"
    path = tmp_path / "rivals.yml"
    path.write_text(json.dumps(play))

    logs = [open(tmp_path / f"rival{index}.log", "wb") for index in range(3)]  # pylint: disable=consider-using-with
    processes = []
    try:
        # Verbose output shows the result of every retried pass, so the test sees the runs meet at the lock.
        processes = [_playbook_process(aws, path, log, verbose=True) for log in logs]
        codes = [process.wait(timeout=300) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                _kill_everything(process)
                process.wait(timeout=30)
        for log in logs:
            log.close()
    outputs = [(tmp_path / f"rival{index}.log").read_text() for index in range(3)]
    assert codes == [0, 0, 0], outputs
    assert any("is held by" in output for output in outputs), "the runs never met; the test proves nothing"
    assert_exported_once(aws, org, sizes, "rivals")


def _failed_once_org(aws):
    org, sizes = make_organization(aws, "flaky", users=6, seed=11)
    destination = provision_export_destination(aws.client, org["id"], BUCKET, PREFIX, REGION)
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    ids = sorted(sizes, key=lambda entity_id: (-sizes[entity_id], entity_id))
    return org, sizes, destination, ids


def test_failed_jobs_are_retried_after_24_hours_and_then_given_up(aws, module):
    org, sizes, destination, ids = _failed_once_org(aws)
    transient, broken = ids[0], ids[1]
    aws.fail_next_jobs(transient, count=1, error_info="Mailbox temporarily unavailable")
    aws.fail_next_jobs(broken, count=5, error_info="Mailbox corrupt")
    args = campaign_args(org, destination, "flaky", max_attempts=2)

    first = module("workmail_organization_export", args)
    assert len(first["started"]) == 6
    aws.advance_clock(HOUR)

    second = module("workmail_organization_export", args)
    assert second["summary"]["completed"] == 4
    assert second["summary"]["failed"] == 2
    assert second["done"] is False
    assert second["started"] == []
    assert {item["id"] for item in second["waiting_24h"]} == {transient, broken}
    manifest = read_manifest(aws, "flaky")
    assert manifest["mailboxes"][transient]["attempts"][0]["error_info"] == "Mailbox temporarily unavailable"
    eligible = {item["id"]: item["eligible"] for item in second["waiting_24h"]}

    # 23 hours after the failed jobs started: still inside the 24-hour window, nothing starts.
    aws.advance_clock(22 * HOUR)
    third = module("workmail_organization_export", args)
    assert third["started"] == []
    assert third["changed"] is False
    assert aws.calls()["StartMailboxExportJob"] == 6

    # Past the window: the second attempts start, each with its own client token.
    aws.advance_clock(HOUR + 60)
    fourth = module("workmail_organization_export", args)
    assert {item["id"] for item in fourth["started"]} == {transient, broken}
    manifest = read_manifest(aws, "flaky")
    for entity_id in (transient, broken):
        attempts = manifest["mailboxes"][entity_id]["attempts"]
        assert [attempt["attempt"] for attempt in attempts] == [1, 2]
        assert attempts[0]["client_token"] != attempts[1]["client_token"]
        assert attempts[1]["start_time"] >= eligible[entity_id]

    aws.advance_clock(HOUR)
    fifth = module("workmail_organization_export", args)
    assert fifth["done"] is True
    assert fifth["summary"]["completed"] == 5
    assert fifth["summary"]["failed_permanently"] == 1
    assert fifth["failures"] == [
        {
            "id": broken,
            "email": manifest["mailboxes"][broken]["email"],
            "name": manifest["mailboxes"][broken]["name"],
            "attempts": 2,
            "job_id": manifest["mailboxes"][broken]["attempts"][1]["job_id"],
            "error_info": "Mailbox corrupt",
        }
    ]
    manifest = read_manifest(aws, "flaky")
    assert manifest["mailboxes"][broken]["state"] == "FAILED_PERMANENTLY"
    assert manifest["mailboxes"][transient]["state"] == "COMPLETED"
    assert manifest["mailboxes"][transient]["object"]["verified"] is True

    # Given up is final: more passes, even a day later, start nothing.
    aws.advance_clock(2 * DAY)
    last = module("workmail_organization_export", args)
    assert last["started"] == []
    assert aws.calls()["StartMailboxExportJob"] == 8
    per_mailbox = Counter(job["EntityId"] for job in jobs_of(aws, org))
    assert per_mailbox == Counter({entity_id: (2 if entity_id in (transient, broken) else 1) for entity_id in sizes})


def test_check_mode_in_the_middle_of_a_campaign_changes_nothing(aws, module):
    org, dummy, destination, ids = _failed_once_org(aws)
    aws.fail_next_jobs(ids[0], count=1)
    args = campaign_args(org, destination, "flaky", max_concurrent_jobs=3)
    module("workmail_organization_export", args)
    aws.advance_clock(HOUR)
    s3 = aws.client("s3")
    before = s3.head_object(Bucket=BUCKET, Key=manifest_key("flaky"))["ETag"]
    calls_before = aws.calls()

    preview = module("workmail_organization_export", args, check=True)
    assert preview["changed"] is True
    assert preview["manifest_exists"] is True
    # Two of the first three completed, one failed and waits 24 hours: the three slots go to the next three.
    assert [item["id"] for item in preview["would_start"]] == ids[3:6]
    assert [item["id"] for item in preview["waiting_24h"]] == [ids[0]]
    # The FAILED mailbox with attempts left waits for its 24 hours (waiting_24h), not for a slot.
    assert preview["queued"] == [] and preview["queued_total"] == 0
    assert preview["summary"]["completed"] == 2
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key("flaky"))["ETag"] == before
    assert aws.calls().get("StartMailboxExportJob", 0) == calls_before["StartMailboxExportJob"]

    real = module("workmail_organization_export", args)
    assert [item["id"] for item in real["started"]] == ids[3:6]


def test_a_campaign_left_alone_for_more_than_7_days_carries_on(aws, module):
    org, sizes, destination, ids = _failed_once_org(aws)
    args = campaign_args(org, destination, "slow", max_concurrent_jobs=4)
    first = module("workmail_organization_export", args)
    assert {item["id"] for item in first["started"]} == set(ids[:4])

    # Nobody runs the campaign for 8 days: its jobs finished long ago and have left the 7-day job list.
    aws.advance_clock(8 * DAY)
    workmail = aws.client("workmail")
    assert workmail.list_mailbox_export_jobs(OrganizationId=org["id"])["Jobs"] == []
    listings_before = aws.calls()["ListMailboxExportJobs"]

    second = module("workmail_organization_export", args)
    # Each unlisted job is described once and recorded; the remaining mailboxes start.
    assert aws.calls()["DescribeMailboxExportJob"] == 4
    assert aws.calls()["ListMailboxExportJobs"] == listings_before + 1
    assert second["summary"]["completed"] == 4
    assert second["summary"]["verified"] == 4
    assert {item["id"] for item in second["started"]} == set(ids[4:])

    aws.advance_clock(HOUR)
    third = module("workmail_organization_export", args)
    assert third["done"] is True
    # The two jobs started by the second pass were due a look together: one page of the job list told their end.
    assert aws.calls()["DescribeMailboxExportJob"] == 4
    assert aws.calls()["ListMailboxExportJobs"] == listings_before + 2
    assert_exported_once(aws, org, sizes, "slow")


def test_a_start_whose_job_id_was_never_saved_is_found_by_its_token(aws, module):
    org, sizes, destination, ids = _failed_once_org(aws)
    args = campaign_args(org, destination, "lost", max_concurrent_jobs=2)
    module("workmail_organization_export", args)
    # As if the run had died between StartMailboxExportJob and saving its JobId.
    s3 = aws.client("s3")
    manifest = read_manifest(aws, "lost")
    for entity_id in ids[:2]:
        manifest["mailboxes"][entity_id]["attempts"][0]["job_id"] = None
    s3.put_object(
        Bucket=BUCKET,
        Key=manifest_key("lost"),
        Body=json.dumps(manifest).encode(),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=destination["kms_key_arn"],
    )
    aws.advance_clock(2 * DAY)

    again = module("workmail_organization_export", args)
    assert {item["id"] for item in again["started"]} == set(ids[2:4])
    assert again["summary"]["completed"] == 2
    aws.advance_clock(HOUR)
    module("workmail_organization_export", args)
    aws.advance_clock(HOUR)
    last = module("workmail_organization_export", args)
    assert last["done"] is True
    assert_exported_once(aws, org, sizes, "lost")
