# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import campaign as cp
from ansible_collections.mailops.workmail.plugins.module_utils import export_verify as ev
from ansible_collections.mailops.workmail.plugins.module_utils import manifest as mf
from ansible_collections.mailops.workmail.plugins.module_utils import manifest_store as ms
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import RECHECK_AFTER
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import DestinationFaultError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Error
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeCampaign
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BOB_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import GROUP_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import REGION
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROOM_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import client_error
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake

START = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
CAMPAIGN = "wave-1"
KEY_ID = KEY_ARN.rsplit("/", 1)[-1]
OTHER_KEY_ARN = KEY_ARN.replace("1234abcd", "9999abcd")
WORKMAIL_OPERATIONS = ("get_mailbox_details", "start_mailbox_export_job", "describe_mailbox_export_job")


class CrashingStore:
    """A ManifestStore whose ``crash_at``-th save raises (the process dies there): nothing is stored."""

    def __init__(self, store, crash_at):
        self.store = store
        self.crash_at = crash_at
        self.saves = 0

    def save(self, manifest, etag):
        self.saves += 1
        if self.saves == self.crash_at:
            raise RuntimeError("the process died")
        return self.store.save(manifest, etag)


class Campaign(FakeCampaign):
    """A fake organization of 15 mailboxes (alice, bob, room1 and user01..user12), its S3 and its manifest."""

    def __init__(self, extra_users=12):
        super().__init__(FakeS3(), CAMPAIGN, START, extra_users)

    def complete_running(self, key_form="bare", kms_key_id=KEY_ARN, body=b"PK\x03\x04 mail"):
        """Every RUNNING job completes; its object is written the way the export writes it."""
        done = []
        for job in list(self.fake.jobs.values()):
            if job["State"] != "RUNNING":
                continue
            if key_form == "bucket":
                self.fake.set_job(job["JobId"], S3Path=f"{job['S3BucketName']}/{job['S3Path']}")
                key = job["S3Path"][len(job["S3BucketName"]) + 1 :]
            else:
                key = job["S3Path"]
            self.fake.set_job(job["JobId"], State="COMPLETED", EstimatedProgress=100, EndTime=self.now())
            self.s3.put_export(BUCKET, key, body, kms_key_id=kms_key_id)
            done.append(job["EntityId"])
        return done

    def by_size(self):
        entries = self.manifest["mailboxes"].values()
        return [entry["id"] for entry in sorted(entries, key=lambda entry: (-entry["size_mb"], entry["id"]))]

    def workmail_calls(self):
        return {operation: self.fake.count(operation) for operation in WORKMAIL_OPERATIONS}

    def jobs_of(self, entity_id):
        return [job for job in self.fake.jobs.values() if job["EntityId"] == entity_id]


# GetMailboxDetails and discovery


def test_get_mailbox_details():
    fake = standard_fake()
    client = WorkMailClient(fake, RetryPolicy(retries=2, delay=0, max_delay=0))
    assert client.get_mailbox_details(ORG_ID, ALICE_ID) == {"size_mb": 1200.5, "quota_mb": 51200}
    assert client.get_mailbox_details(ORG_ID, ROOM_ID) == {"size_mb": 2.25, "quota_mb": 51200}
    assert client.get_mailbox_details(ORG_ID, GROUP_ID) is None
    assert fake.calls[0] == ("get_mailbox_details", {"OrganizationId": ORG_ID, "UserId": ALICE_ID})
    fake.fail("get_mailbox_details", "ThrottlingException")
    assert client.get_mailbox_details(ORG_ID, BOB_ID)["size_mb"] == 300.0
    assert isinstance(client.get_mailbox_details(ORG_ID, BOB_ID)["size_mb"], float)


def test_discover_asks_sizes_once_and_follows_the_selection():
    fake = standard_fake()
    client = WorkMailClient(fake, RetryPolicy(retries=2, delay=0, max_delay=0))
    mailboxes = cp.discover(client, ORG_ID, {"exclude": ["room*"]})
    assert [(mailbox["id"], mailbox["size_mb"]) for mailbox in mailboxes] == [(ALICE_ID, 1200.5), (BOB_ID, 300.0)]
    assert mailboxes[0]["email"] == "alice@example.com" and mailboxes[0]["type"] == "USER"
    assert fake.count("get_mailbox_details") == 2

    manifest = mf.new_manifest(CAMPAIGN, ORG_ID, REGION, BUCKET, PREFIX, KEY_ARN, ROLE_ARN, START)
    mf.add_mailboxes(manifest, mailboxes)
    again = cp.discover(client, ORG_ID, {}, manifest)
    assert [(mailbox["id"], mailbox["size_mb"]) for mailbox in again] == [
        (ALICE_ID, 1200.5),
        (BOB_ID, 300.0),
        (ROOM_ID, 2.25),
    ]
    assert fake.count("get_mailbox_details") == 3  # only room1 was new
    assert fake.count("list_users") == 2 and fake.count("list_resources") == 2


def test_discover_leaves_out_a_mailbox_deleted_meanwhile():
    fake = standard_fake()
    client = WorkMailClient(fake, RetryPolicy(retries=2, delay=0, max_delay=0))
    original = fake.get_mailbox_details

    def details(**kwargs):
        if kwargs["UserId"] == BOB_ID:
            fake.users[1]["State"] = "DELETED"
        return original(**kwargs)

    fake.get_mailbox_details = details
    assert [mailbox["id"] for mailbox in cp.discover(client, ORG_ID, {})] == [ALICE_ID, ROOM_ID]


# Verification


def test_verify_object_accepts_both_path_forms():
    s3 = FakeS3()
    key = f"{PREFIX}/{ALICE_ID}/job-1.zip"
    etag = s3.put_export(BUCKET, key, b"zip", kms_key_id=KEY_ARN)
    expected = {
        "key": key,
        "size": 3,
        "etag": etag,
        "sse": "aws:kms",
        "kms_key_id": KEY_ARN,
        "found_by": "s3_path",
        "outcome": "verified",
        "verified": True,
        "refused": False,
        "problem": None,
        "bucket": BUCKET,
    }
    gateway = s3_gateway(s3)
    assert ev.verify_object(gateway, key, BUCKET, KEY_ARN) == expected
    assert ev.verify_object(gateway, f"{BUCKET}/{key}", BUCKET, KEY_ARN) == expected
    assert ev.verify_object(gateway, f"s3://{BUCKET}/{key}", "another-bucket", KEY_ARN) == expected


def test_verify_object_prefers_the_key_under_the_prefix():
    s3 = FakeS3()
    bucket = "exports"
    s3.put_export(bucket, "exports/2026/a.zip", b"zip", kms_key_id=KEY_ARN)
    found = ev.verify_object(s3_gateway(s3), "exports/2026/a.zip", bucket, KEY_ARN, prefix="exports/2026")
    assert found["verified"] and found["key"] == "exports/2026/a.zip"
    assert s3.count("head_object") == 1
    # Without the prefix the stripped key is tried first, then the path as given.
    found = ev.verify_object(s3_gateway(s3), "exports/2026/a.zip", bucket, KEY_ARN)
    assert found["verified"] and found["key"] == "exports/2026/a.zip"
    assert s3.count("head_object") == 3


def test_verify_object_key_id_reported():
    s3 = FakeS3()
    s3.put_export(BUCKET, "p/a.zip", kms_key_id=KEY_ID)
    assert ev.verify_object(s3_gateway(s3), "p/a.zip", BUCKET, KEY_ARN)["verified"] is True
    assert ev.same_kms_key(KEY_ID, KEY_ARN)
    assert not ev.same_kms_key(OTHER_KEY_ARN, KEY_ARN)
    assert not ev.same_kms_key(None, KEY_ARN)


@pytest.mark.parametrize(
    "body, sse, kms_key_id, problem",
    [
        (b"", "aws:kms", KEY_ARN, "the object is empty"),
        (b"zip", "AES256", None, "not encrypted with SSE-KMS (ServerSideEncryption 'AES256')"),
        (b"zip", None, None, "not encrypted with SSE-KMS (ServerSideEncryption None)"),
        (b"zip", "aws:kms", OTHER_KEY_ARN, f"encrypted under {OTHER_KEY_ARN}, not {KEY_ARN}"),
        (b"", "AES256", None, "the object is empty; the object is not encrypted"),
    ],
)
def test_verify_object_problems(body, sse, kms_key_id, problem):
    s3 = FakeS3()
    s3.put_export(BUCKET, "p/a.zip", body, kms_key_id=kms_key_id, sse=sse)
    found = ev.verify_object(s3_gateway(s3), "p/a.zip", BUCKET, KEY_ARN)
    assert found["verified"] is False
    assert problem in found["problem"]
    assert found["size"] == len(body)


def test_verify_object_missing_refused_and_unusable():
    s3 = FakeS3()
    found = ev.verify_object(s3_gateway(s3), f"{BUCKET}/p/a.zip", BUCKET, KEY_ARN)
    assert found["verified"] is False and found["key"] == "p/a.zip"
    assert found["problem"].startswith(f"no object at S3Path {BUCKET}/p/a.zip")
    assert s3.count("head_object") == 2
    s3.fail("head_object", "403", 403)
    found = ev.verify_object(s3_gateway(s3), "p/a.zip", BUCKET, KEY_ARN)
    assert "access denied" in found["problem"] and found["verified"] is False and found["refused"] is True
    unusable = ev.verify_object(s3_gateway(s3), None, BUCKET, KEY_ARN)
    assert unusable["outcome"] == "unchecked" and "the layout of the export is not recognised" in unusable["problem"]
    # A 5xx answer is tried again (two tries in all here); one that lasts is an S3Error naming the archive.
    s3.fail("head_object", "InternalError", 500, times=3)
    heads = s3.count("head_object")
    with pytest.raises(S3Error, match=f"head_object of the export archive s3://{BUCKET}/p/a.zip failed"):
        ev.verify_object(s3_gateway(s3), "p/a.zip", BUCKET, KEY_ARN)
    assert s3.count("head_object") == heads + 2


# Passes


def test_first_pass_starts_ten_largest_first_and_records_tokens():
    run = Campaign()
    assert len(run.manifest["mailboxes"]) == 15
    result = run.run()
    largest = run.by_size()[:10]
    assert result["started"] == 10
    assert result["started_mailboxes"] == largest
    assert result["free_slots"] == 10 and result["foreign_running"] == 0
    assert result["api_calls"] == {
        "list_mailbox_export_jobs": 1,
        "describe_mailbox_export_job": 0,
        "start_mailbox_export_job": 10,
    }
    assert result["done"] is False and result["summary"]["running"] == 10 and result["summary"]["pending"] == 5
    assert result["saves"] == 2  # the ten attempts before the first start, the ten job ids after the last
    for entity_id in largest:
        attempt = run.manifest["mailboxes"][entity_id]["attempts"][0]
        token = campaign_client_token(ORG_ID, entity_id, CAMPAIGN, 1)
        assert attempt["client_token"] == token and attempt["job_id"]
        job = run.fake.jobs[attempt["job_id"]]
        assert parse_marker(job["Description"]) == token
        assert job["Description"].startswith("mailops.workmail campaign wave-1 ")
        assert (job["S3BucketName"], job["S3Prefix"], job["KmsKeyArn"], job["RoleArn"]) == (
            BUCKET,
            PREFIX,
            KEY_ARN,
            ROLE_ARN,
        )
    stored, etag = run.store.load(CAMPAIGN, ORG_ID)
    assert stored == run.manifest and etag == run.etag


def test_campaign_runs_to_the_end_within_the_api_budget():
    run = Campaign()
    largest = run.by_size()
    run.run()
    run.fake.clock.advance(hours=2)
    first_ten = run.complete_running(key_form="bucket")  # the local emulator's "<bucket>/<key>"
    assert sorted(first_ten) == sorted(largest[:10])

    second = run.run()
    assert second["completed_now"] == 10 and second["verified_now"] == 10
    assert second["verification_problems"] == []
    assert second["started_mailboxes"] == largest[10:]
    # The ten running jobs were due a look: one page of the job list costs fewer calls than ten describes.
    assert second["full_listing"].startswith("10 running jobs were due a look") and second["looked_at"] == 0
    entry = run.manifest["mailboxes"][largest[0]]
    assert entry["state"] == "COMPLETED"
    assert entry["attempts"][0]["state"] == "COMPLETED" and entry["attempts"][0]["end_time"]
    assert entry["object"]["verified"] is True and entry["object"]["sse"] == "aws:kms"
    assert entry["object"]["key"] == f"{PREFIX}/{largest[0]}/{entry['attempts'][0]['job_id']}.zip"
    assert entry["object"]["kms_key_id"] == KEY_ARN and entry["object"]["size"] > 0

    run.fake.clock.advance(hours=1)
    run.complete_running()
    third = run.run()
    assert third["completed_now"] == 5 and third["verified_now"] == 5 and third["started"] == 0
    assert third["done"] is True
    assert third["summary"] == {
        "total": 15,
        "completed": 15,
        "running": 0,
        "pending": 0,
        "failed": 0,
        "failed_permanently": 0,
        "skipped": 0,
        "verified": 15,
        "unchecked": 0,
    }

    # A re-run of a finished campaign exports nothing again: no WorkMail call, no save.
    fourth = run.run()
    assert fourth["done"] is True and fourth["started"] == 0 and fourth["saves"] == 0
    # And a later discovery asks no size again.
    mf.add_mailboxes(run.manifest, cp.discover(run.client, ORG_ID, {}, run.manifest))

    calls = run.workmail_calls()
    assert calls["get_mailbox_details"] == 15
    assert calls["start_mailbox_export_job"] == 15
    # The ends were learned from one page of the job list each time (cheaper than 10 and 5 describes).
    assert calls["describe_mailbox_export_job"] == 0
    assert run.fake.count("list_mailbox_export_jobs") == 3 and run.passes == 4
    assert sum(calls.values()) + run.fake.count("list_mailbox_export_jobs") <= 3 * 15
    assert all(len(run.jobs_of(entity_id)) == 1 for entity_id in largest)


def test_a_crash_between_start_and_saving_the_job_id_is_recovered_by_the_token():
    run = Campaign()
    largest = run.by_size()
    with pytest.raises(RuntimeError):
        # Save 1 records the ten attempts, the ten jobs start, save 2 (their job ids) dies.
        run.run(store=CrashingStore(run.store, crash_at=2))
    assert run.fake.count("start_mailbox_export_job") == 10
    run.reload()
    for entity_id in largest[:10]:
        attempt = run.manifest["mailboxes"][entity_id]["attempts"][0]
        assert attempt["job_id"] is None and attempt["state"] == "RUNNING"

    result = run.run()
    for entity_id in largest[:10]:
        job_id = run.manifest["mailboxes"][entity_id]["attempts"][0]["job_id"]
        assert job_id == run.jobs_of(entity_id)[0]["JobId"]
    assert result["started_mailboxes"] == []
    assert result["free_slots"] == 0
    assert run.fake.count("start_mailbox_export_job") == 10
    assert all(len(run.jobs_of(entity_id)) == 1 for entity_id in largest[:10])
    assert result["api_calls"]["describe_mailbox_export_job"] == 0


def test_a_crash_before_start_resumes_with_the_same_token():
    run = Campaign()
    largest = run.by_size()
    original = run.fake.start_mailbox_export_job
    state = {"calls": 0}

    def dies_on_second_start(**kwargs):
        state["calls"] += 1
        if state["calls"] == 2:
            raise RuntimeError("the process died before the request left")
        return original(**kwargs)

    run.fake.start_mailbox_export_job = dies_on_second_start
    with pytest.raises(RuntimeError):
        run.run()
    run.reload()
    assert run.manifest["mailboxes"][largest[1]]["attempts"][0]["job_id"] is None
    assert run.jobs_of(largest[1]) == []

    result = run.run()
    assert result["started_mailboxes"] == largest[1:10]  # the resumed attempt first, then the new ones
    attempt = run.manifest["mailboxes"][largest[1]]["attempts"]
    assert len(attempt) == 1 and attempt[0]["job_id"] == run.jobs_of(largest[1])[0]["JobId"]
    assert all(len(run.jobs_of(entity_id)) == 1 for entity_id in largest[:10])


def test_foreign_running_jobs_take_slots():
    run = Campaign()
    for number in range(3):
        run.fake.add_job(f"f{number}000000-0000-4000-8000-000000000000", description="someone else's export")
    result = run.run()
    assert result["foreign_running"] == 3 and result["free_slots"] == 7
    assert result["started_mailboxes"] == run.by_size()[:7]
    assert run.fake.count("start_mailbox_export_job") == 7


def test_a_mailbox_exported_elsewhere_within_24_hours_is_not_started():
    run = Campaign()
    run.fake.add_job(ALICE_ID, state="COMPLETED", age=timedelta(hours=2), job_id="manual-1")
    result = run.run()
    assert [item["id"] for item in result["blocked_24h"]] == [ALICE_ID]
    assert result["blocked_24h"][0]["eligible"] == (START + timedelta(hours=22)).isoformat()
    # Alice's slot goes to the next largest mailbox: ten start, the eleven largest but alice.
    largest = [entity_id for entity_id in run.by_size() if entity_id != ALICE_ID][:10]
    assert ALICE_ID not in result["started_mailboxes"] and sorted(result["started_mailboxes"]) == sorted(largest)
    assert run.manifest["mailboxes"][ALICE_ID]["state"] == "PENDING"
    assert not any(kwargs["EntityId"] == ALICE_ID for name, kwargs in run.fake.calls if name.startswith("start"))


def test_limit_exceeded_stops_starting_and_forgets_the_attempt():
    run = Campaign()
    largest = run.by_size()
    original = run.fake.start_mailbox_export_job
    state = {"calls": 0}

    def refuses_third(**kwargs):
        state["calls"] += 1
        if state["calls"] == 3:
            run.fake.fail("start_mailbox_export_job", "LimitExceededException", "exceeds the limit")
        return original(**kwargs)

    run.fake.start_mailbox_export_job = refuses_third
    result = run.run()
    assert result["started_mailboxes"] == largest[:2]
    assert result["limit"] == {"limit": "unknown", "id": largest[2], "aws_message": "exceeds the limit"}
    assert state["calls"] == 3
    refused = run.manifest["mailboxes"][largest[2]]
    assert refused["state"] == "PENDING" and refused["attempts"] == []
    # The attempts recorded for the starts that never came are forgotten too.
    assert all(
        run.manifest["mailboxes"][entity_id]["state"] == "PENDING"
        and run.manifest["mailboxes"][entity_id]["attempts"] == []
        for entity_id in largest[3:10]
    )
    assert run.store.load(CAMPAIGN, ORG_ID)[0] == run.manifest

    result = run.run()
    assert result["started_mailboxes"] == largest[2:10] and result["limit"] is None


def test_limit_exceeded_when_the_organization_is_full():
    run = Campaign()
    largest = run.by_size()
    for number in range(9):
        run.fake.add_job(f"f{number}000000-0000-4000-8000-000000000000")
    original = run.fake.list_mailbox_export_jobs

    def someone_starts_a_job_after_the_listing(**kwargs):
        answer = original(**kwargs)
        run.fake.add_job("f9000000-0000-4000-8000-000000000000")
        return answer

    run.fake.list_mailbox_export_jobs = someone_starts_a_job_after_the_listing
    result = run.run(max_concurrent_jobs=10)
    run.fake.list_mailbox_export_jobs = original
    assert result["free_slots"] == 1 and result["started"] == 0
    # The refusal is explained by the job list read again: the job started after the first reading fills the tenth slot.
    assert result["limit"]["id"] == largest[0] and result["limit"]["limit"] == "concurrent_jobs"
    assert result["api_calls"]["list_mailbox_export_jobs"] == 2
    assert run.manifest["mailboxes"][largest[0]]["attempts"] == []
    # The next pass reads the whole job list again, and remembers the ten jobs of others holding the slots.
    result = run.run(max_concurrent_jobs=10)
    # (the nine, and one started after each of the first pass's two readings)
    assert result["full_listing"] == "AWS refused a start" and result["foreign_running"] == 11
    assert len(run.manifest["listing"]["foreign"]) == 11 and result["started"] == 0


def test_a_failed_job_is_described_once_and_retried_after_24_hours():
    run = Campaign(extra_users=0)
    run.run(max_concurrent_jobs=1)
    job_id = run.manifest["mailboxes"][ALICE_ID]["attempts"][0]["job_id"]
    run.fake.clock.advance(hours=1)
    run.fake.set_job(job_id, State="FAILED", ErrorInfo="Access denied to the KMS key", EndTime=run.now())

    result = run.run(max_concurrent_jobs=1)
    # The look at the job (a describe) shows its ErrorInfo: it is not described a second time.
    assert result["failed_now"] == 1 and result["looked_at"] == 1 and result["described"] == 0
    entry = run.manifest["mailboxes"][ALICE_ID]
    assert entry["state"] == "FAILED" and entry["attempts"][0]["error_info"] == "Access denied to the KMS key"
    assert result["waiting_24h"] == 1
    assert result["next_eligible"] == (START + timedelta(hours=24)).isoformat()
    assert ALICE_ID not in result["started_mailboxes"]  # bob starts instead

    run.fake.clock.advance(hours=1)
    run.fake.set_job(run.manifest["mailboxes"][BOB_ID]["attempts"][0]["job_id"], State="COMPLETED", EndTime=run.now())
    run.s3.put_export(BUCKET, f"{PREFIX}/{BOB_ID}/x.zip", kms_key_id=KEY_ARN)
    result = run.run(max_concurrent_jobs=1)
    assert result["described"] == 0 and result["looked_at"] == 1 and result["waiting_24h"] == 1
    assert result["started_mailboxes"] == [ROOM_ID]
    # bob's archive is not at its S3Path but in the same folder, written after his job started: it is found there
    record = run.manifest["mailboxes"][BOB_ID]["object"]
    assert record["verified"] is True and record["found_by"] == "s3_path_folder"
    assert record["key"] == f"{PREFIX}/{BOB_ID}/x.zip" and result["verification_problems"] == []

    run.fake.clock.advance(hours=23)
    run.fake.set_job(run.manifest["mailboxes"][ROOM_ID]["attempts"][0]["job_id"], State="COMPLETED")
    result = run.run(max_concurrent_jobs=1)
    assert result["started_mailboxes"] == [ALICE_ID]
    attempts = run.manifest["mailboxes"][ALICE_ID]["attempts"]
    assert [attempt["client_token"] for attempt in attempts] == [
        campaign_client_token(ORG_ID, ALICE_ID, CAMPAIGN, 1),
        campaign_client_token(ORG_ID, ALICE_ID, CAMPAIGN, 2),
    ]
    # A look at alice's and bob's jobs; the last pass reads the whole job list (a day after the first), which
    # shows the room's job COMPLETED.
    assert run.fake.count("describe_mailbox_export_job") == 2


def test_jobs_older_than_the_listing_window_are_described():
    run = Campaign(extra_users=0)
    run.run()
    run.complete_running()
    run.fake.clock.advance(days=8)
    result = run.run()
    assert result["listed"] == 0
    assert result["described"] == 3 and result["completed_now"] == 3 and result["verified_now"] == 3
    assert result["done"] is True
    assert run.fake.count("describe_mailbox_export_job") == 3
    assert run.run()["described"] == 0


def test_a_job_that_vanished_is_recorded_failed():
    run = Campaign(extra_users=0)
    run.run()
    job_id = run.manifest["mailboxes"][ALICE_ID]["attempts"][0]["job_id"]
    del run.fake.jobs[job_id]
    run.fake.clock.advance(minutes=2)  # the jobs are due their first look
    result = run.run()
    # The three jobs due a look are read in the job list, which does not show alice's: described, it is not found.
    assert result["full_listing"].startswith("3 running jobs were due a look")
    assert result["described"] == 1 and result["failed_now"] == 1
    entry = run.manifest["mailboxes"][ALICE_ID]
    assert entry["state"] == "FAILED" and "neither listed" in entry["attempts"][0]["error_info"]
    assert "its archive is not in S3" in entry["attempts"][0]["error_info"]


def test_a_job_aws_forgot_whose_archive_is_in_s3_is_completed_not_exported_again():
    run = Campaign(extra_users=0)
    run.run()
    job_id = run.manifest["mailboxes"][ALICE_ID]["attempts"][0]["job_id"]
    run.s3.put_export(BUCKET, f"{PREFIX}/{ALICE_ID}/{job_id}.zip", kms_key_id=KEY_ARN)
    del run.fake.jobs[job_id]  # neither listed nor known to DescribeMailboxExportJob any more
    starts = run.fake.count("start_mailbox_export_job")
    run.fake.clock.advance(minutes=2)  # the jobs are due their first look

    result = run.run()

    entry = run.manifest["mailboxes"][ALICE_ID]
    assert (
        entry["state"] == "COMPLETED"
        and entry["attempts"][0]["s3_path"] == f"{BUCKET}/{PREFIX}/{ALICE_ID}/{job_id}.zip"
    )
    assert entry["object"]["verified"] is True and result["failed_now"] == 0
    assert run.fake.count("start_mailbox_export_job") == starts


def test_a_start_refused_with_any_code_for_a_job_of_the_last_24_hours_uses_no_attempt():
    run = Campaign(extra_users=0)
    start = run.fake.start_mailbox_export_job

    def exported_by_hand_meanwhile(**kwargs):
        if kwargs["EntityId"] == ALICE_ID:
            run.fake.add_job(ALICE_ID, description="by hand, a minute ago")
            raise client_error("InvalidParameterException", "The mailbox cannot be exported now.")
        return start(**kwargs)

    run.fake.start_mailbox_export_job = exported_by_hand_meanwhile
    result = run.run()

    entry = run.manifest["mailboxes"][ALICE_ID]
    assert entry["state"] == "PENDING" and entry["attempts"] == []
    assert result["limit"]["limit"] == "mailbox_24h" and result["start_errors"] == []
    assert result["api_calls"]["list_mailbox_export_jobs"] == 2
    assert sorted(result["started_mailboxes"]) == sorted([BOB_ID, ROOM_ID])


def test_a_deleted_mailbox_is_skipped():
    run = Campaign(extra_users=0)
    run.fake.users[0]["State"] = "DELETED"
    run.fake.users[0]["Id"] = "gone"
    result = run.run()
    assert result["skipped"] == [ALICE_ID]
    assert run.manifest["mailboxes"][ALICE_ID]["state"] == "SKIPPED"
    assert run.manifest["mailboxes"][ALICE_ID]["attempts"] == []
    assert result["started_mailboxes"] == [BOB_ID, ROOM_ID]


def test_another_writer_stops_the_pass_before_any_start():
    run = Campaign()
    run.s3.raw_put(BUCKET, run.store.key, b"{}")
    with pytest.raises(ms.ManifestConflictError):
        run.run()
    assert run.fake.count("start_mailbox_export_job") == 0
    assert run.fake.count("list_mailbox_export_jobs") == 1


def test_on_change_sees_every_save_and_the_description_is_checked():
    run = Campaign(extra_users=0)
    seen = []
    result = run.run(on_change=lambda manifest, etag: seen.append(etag), description="nightly")
    assert len(seen) == result["saves"] == 2 and seen[-1] == run.etag
    assert all(job["Description"].startswith("nightly [mailops:") for job in run.fake.jobs.values())
    with pytest.raises(ParameterError, match="description"):
        run.run(description="x" * 1000)


def test_verify_none_checks_no_object():
    run = Campaign(extra_users=0)
    run.run()
    run.complete_running()
    run.fake.clock.advance(minutes=2)  # the jobs are due their first look
    result = run.run(verify="none")
    assert result["completed_now"] == 3 and result["verified_now"] == 0
    assert all(entry["object"] is None for entry in run.manifest["mailboxes"].values())
    assert run.s3.count("head_object") == 0


def test_a_mailbox_refused_by_start_fails_its_attempt_and_the_others_start():
    run = Campaign()
    largest = run.by_size()
    original = run.fake.start_mailbox_export_job
    state = {"calls": 0}

    def refuses_second(**kwargs):
        state["calls"] += 1
        if state["calls"] == 2:
            run.fake.fail("start_mailbox_export_job", "InvalidParameterException", "The mailbox is disabled")
        return original(**kwargs)

    run.fake.start_mailbox_export_job = refuses_second
    result = run.run()
    assert result["started_mailboxes"] == largest[:1] + largest[2:10]
    assert result["start_errors"] == [
        {"id": largest[1], "code": "InvalidParameterException", "message": "The mailbox is disabled"}
    ]
    entry = run.manifest["mailboxes"][largest[1]]
    assert entry["state"] == "FAILED"
    assert entry["attempts"][0]["state"] == "FAILED" and entry["attempts"][0]["job_id"] is None
    assert "The mailbox is disabled" in entry["attempts"][0]["error_info"]
    assert run.store.load(CAMPAIGN, ORG_ID)[0] == run.manifest

    # Retried like a failed job: not before 24 hours, then with the next attempt's token.
    run.fake.clock.advance(hours=2)
    run.complete_running()
    assert largest[1] not in run.run()["started_mailboxes"]
    run.fake.clock.advance(hours=23)
    run.complete_running()
    later = run.run()
    assert largest[1] in later["started_mailboxes"]
    assert run.manifest["mailboxes"][largest[1]]["attempts"][1]["client_token"] == campaign_client_token(
        ORG_ID, largest[1], CAMPAIGN, 2
    )


def test_starts_come_before_object_checks():
    run = Campaign(extra_users=0)
    largest = run.by_size()
    run.run(max_concurrent_jobs=2)
    run.fake.clock.advance(hours=2)
    run.complete_running()
    run.s3.fail("head_object", "InternalError", 500, times=10)
    with pytest.raises(S3Error, match="InternalError"):
        run.run(max_concurrent_jobs=2)
    run.reload()
    # The freed slots were filled, and saved, before the checks failed.
    assert len(run.jobs_of(largest[2])) == 1
    assert run.manifest["mailboxes"][largest[2]]["attempts"][0]["job_id"] == run.jobs_of(largest[2])[0]["JobId"]
    assert all(run.manifest["mailboxes"][entity_id]["state"] == "COMPLETED" for entity_id in largest[:2])


def test_a_check_refused_by_s3_is_made_again_by_the_next_pass():
    run = Campaign(extra_users=0)
    run.run()
    run.fake.clock.advance(hours=2)
    run.complete_running()
    run.s3.fail("head_object", "AccessDenied", 403, times=3)
    first = run.run()
    assert first["verified_now"] == 0 and len(first["unchecked_now"]) == 3 and first["verification_problems"] == []
    assert all(item["problem"].startswith("S3 refused HeadObject") for item in first["unchecked_now"])
    assert all(entry["object"]["refused"] is True for entry in run.manifest["mailboxes"].values())
    assert first["summary"]["unchecked"] == 3
    assert run.run()["checked_now"] == 0  # too soon to ask again
    run.fake.clock.advance(seconds=RECHECK_AFTER)
    second = run.run()
    assert second["checked_now"] == 3 and second["verified_now"] == 3
    assert second["summary"]["verified"] == 3 and second["summary"]["unchecked"] == 0
    assert run.run()["checked_now"] == 0


def test_a_job_failed_for_the_destination_seen_by_a_look_stops_the_campaign_and_uses_no_attempt():
    run = Campaign(extra_users=0)
    run.run(verify="none", max_concurrent_jobs=1, max_attempts=1)
    job_id = run.manifest["mailboxes"][ALICE_ID]["attempts"][0]["job_id"]
    run.fake.set_job(job_id, State="FAILED", EndTime=run.now(), ErrorInfo="KmsKeyArn is disabled")
    run.fake.clock.advance(minutes=2)  # one job due a look: described, not listed
    starts = run.fake.count("start_mailbox_export_job")
    with pytest.raises(DestinationFaultError, match="KmsKeyArn is disabled"):
        run.run(verify="none", max_concurrent_jobs=1, max_attempts=1)
    run.reload()
    entry = run.manifest["mailboxes"][ALICE_ID]
    assert entry["attempts"][0]["destination_fault"] is True and entry["state"] == "FAILED"
    assert run.fake.count("start_mailbox_export_job") == starts  # nothing started into the broken destination


def test_a_refusal_the_job_list_does_not_explain_waits_for_the_next_look_not_five_seconds():
    run = Campaign(extra_users=0)
    run.fake.fail("start_mailbox_export_job", "LimitExceededException", "exceeds the limit", times=100)
    result = run.run()
    assert result["limit"]["limit"] == "unknown" and result["next_pass_in"] is None
    run.fake.clock.advance(minutes=1)
    result = run.run()
    assert result["full_listing"] == "AWS refused a start" and result["next_pass_in"] is None
