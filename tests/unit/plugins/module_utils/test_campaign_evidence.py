# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""find_campaign_export: an archive in S3 is tied to this campaign's job by its name or by its export log, whatever
the layout; a job WorkMail forgot counts only when its log names this campaign's client token; archives exported by
hand, by another campaign or of another mailbox never count."""

import json
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.evidence import archive_folders
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.evidence import find_campaign_export
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.evidence import folder_kind
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.evidence import known_kinds
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.evidence import log_time
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import add_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import new_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BOB_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import REGION
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import FakeClock
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake

START = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
CAMPAIGN = "evidence-1"
MAILBOXES = [
    {"id": ALICE_ID, "email": "alice@example.com", "name": "alice", "type": "USER"},
    {"id": BOB_ID, "email": "bob@example.com", "name": "bob", "type": "USER"},
]


def token(entity_id=ALICE_ID, campaign=CAMPAIGN, attempt=1):
    return campaign_client_token(ORG_ID, entity_id, campaign, attempt)


class World:
    """A fake WorkMail and S3 with a campaign manifest of alice and bob that recorded nothing."""

    def __init__(self):
        self.fake = standard_fake(clock=FakeClock(START))
        self.s3 = FakeS3()
        self.manifest = new_manifest(CAMPAIGN, ORG_ID, REGION, BUCKET, PREFIX, KEY_ARN, ROLE_ARN, START)
        add_mailboxes(self.manifest, MAILBOXES, START)

    def job(self, entity_id=ALICE_ID, description=None, **fields):
        """A COMPLETED job of 9 days ago, of this campaign unless ``description`` says otherwise."""
        if description is None:
            description = build_description(f"campaign {CAMPAIGN}", token(entity_id))
        return self.fake.add_job(entity_id, state="COMPLETED", description=description, age=timedelta(days=9), **fields)

    def archive(self, key, log=None):
        self.s3.put_export(BUCKET, f"{PREFIX}/{key}", kms_key_id=KEY_ARN)
        if log is not None:
            self.s3.raw_put(BUCKET, f"{PREFIX}/{key[: -len('.zip')]}.log.json", json.dumps(log))

    def forget(self, job_id):
        """WorkMail no longer describes the job."""
        del self.fake.jobs[job_id]

    def find(self, entity_id=ALICE_ID, s3=None):
        client = WorkMailClient(self.fake, RetryPolicy(retries=2, delay=0, max_delay=0))
        return find_campaign_export(client, s3 or s3_gateway(self.s3), self.manifest, entity_id, START, 3)

    def attempts(self, entity_id=ALICE_ID):
        return self.manifest["mailboxes"][entity_id]["attempts"]


def json_log(job_id, entity_id=ALICE_ID, **more):
    return {"jobId": job_id, "entityId": entity_id, "sha384Hash": "ab", "totalMessages": 3, **more}


GUIDE_LOG = {"totalMessages": "3", "sha384Hash": "ab", "startTime": "1767225600000"}


def test_the_folders_follow_every_layout():
    assert archive_folders("pre/", ALICE_ID, "alice@example.com") == [
        (f"pre/{ALICE_ID}/", False),
        ("pre/alice@example.com/", False),
        ("pre/", True),
    ]
    assert archive_folders(None, ALICE_ID) == [(f"{ALICE_ID}/", False), ("", True)]
    # Once the campaign's checks found where AWS puts the archives, only folders of those kinds are listed.
    assert archive_folders("pre/", ALICE_ID, "alice@example.com", {"entity"}) == [(f"pre/{ALICE_ID}/", False)]
    assert archive_folders("pre/", ALICE_ID, "alice@example.com", {"email", "prefix"}) == [
        ("pre/alice@example.com/", False),
        ("pre/", True),
    ]


def test_the_layout_the_checks_found_narrows_the_folders_looked_in():
    world = World()
    kinds = {
        key: folder_kind(world.manifest, ALICE_ID, key)
        for key in (
            f"{PREFIX}/{ALICE_ID}/job.zip",
            f"{PREFIX}/alice@example.com/t.zip",
            f"{PREFIX}/job.zip",
            "elsewhere/job.zip",
        )
    }
    assert list(kinds.values()) == ["entity", "email", "prefix", "other"]
    assert known_kinds(world.manifest) is None
    world.manifest["layout"] = {"folders": {"entity": 12}}
    assert known_kinds(world.manifest) == {"entity"}
    world.manifest["layout"] = {"folders": {"entity": 12, "other": 1}}
    assert known_kinds(world.manifest) is None  # an archive found elsewhere: every folder is looked in
    # With the mailbox's folder known as the layout, an export of this campaign in the prefix is not listed.
    world.manifest["layout"] = {"folders": {"entity": 12}}
    world.archive(f"{world.job()}.zip", log=None)
    listings = world.s3.count("list_objects_v2")
    assert world.find() is None and world.s3.count("list_objects_v2") == listings + 1


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1767225600000", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        (1767225600, datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ("2026-01-01T00:00:00.000Z", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_log_times_in_every_form(value, expected):
    assert log_time(value) == expected


def test_an_archive_named_by_its_job_in_the_mailboxs_folder_is_this_campaigns_export():
    world = World()
    job_id = world.job()
    world.archive(f"{ALICE_ID}/{job_id}.zip")

    repair = world.find()

    assert repair["id"] == ALICE_ID and f"job {job_id} of this campaign (attempt 1)" in repair["problem"]
    assert world.attempts()[0]["job_id"] == job_id and world.attempts()[0]["state"] == "COMPLETED"
    assert world.manifest["mailboxes"][ALICE_ID]["state"] == "COMPLETED"


def test_an_archive_named_by_time_is_tied_to_its_job_by_its_log():
    world = World()
    job_id = world.job()
    world.archive("alice@example.com/20261113T120000Z.zip", json_log(job_id))

    repair = world.find()

    assert f"job {job_id} of this campaign (attempt 1)" in repair["problem"]
    assert world.attempts()[0]["s3_path"] == world.fake.jobs[job_id]["S3Path"]  # what the job says
    # The name is not a job id: WorkMail is asked about the job the log names, only.
    described = [kwargs["JobId"] for name, kwargs in world.fake.calls if name == "describe_mailbox_export_job"]
    assert described == [job_id]


def test_archives_in_the_prefix_itself_are_tied_by_their_log_and_read_once_for_every_mailbox():
    world = World()
    alice_job, bob_job = world.job(ALICE_ID), world.job(BOB_ID)
    world.archive(f"{alice_job}.zip", json_log(alice_job, ALICE_ID))
    world.archive(f"{bob_job}.zip", json_log(bob_job, BOB_ID))
    gateway = s3_gateway(world.s3)

    bob = world.find(BOB_ID, gateway)
    reads = world.s3.count("get_object")
    alice = world.find(ALICE_ID, gateway)

    assert (
        f"job {alice_job} of this campaign" in alice["problem"] and f"job {bob_job} of this campaign" in bob["problem"]
    )
    assert reads == 2 and world.s3.count("get_object") == reads  # both logs were read for bob's look already
    described = [kwargs["JobId"] for name, kwargs in world.fake.calls if name == "describe_mailbox_export_job"]
    assert described == [bob_job, alice_job]  # each mailbox's own job only


@pytest.mark.parametrize(
    "description",
    ["exported by hand", build_description("campaign other", token(campaign="other"))],
    ids=["by-hand", "another-campaign"],
)
@pytest.mark.parametrize("layout", ["entity_job", "job", "email_time"])
def test_an_export_of_someone_else_never_counts(description, layout):
    world = World()
    job_id = world.job(description=description)
    key = {"entity_job": f"{ALICE_ID}/{job_id}.zip", "job": f"{job_id}.zip"}.get(layout, "alice@example.com/x.zip")
    world.archive(key, json_log(job_id))

    assert world.find() is None and world.attempts() == []


def test_a_job_workmail_forgot_counts_when_its_log_names_this_campaigns_token():
    world = World()
    job_id = world.job()
    world.archive(f"{ALICE_ID}/{job_id}.zip", json_log(job_id, clientToken=token(attempt=2), startTime="1762516800000"))
    world.forget(job_id)

    repair = world.find()

    assert f"job {job_id} of this campaign (attempt 2) (WorkMail no longer describes the job" in repair["problem"]
    attempt = world.attempts()[0]
    assert attempt["job_id"] == job_id and attempt["state"] == "COMPLETED"
    assert attempt["client_token"] == token(attempt=2)
    assert attempt["start_time"] == "2025-11-07T12:00:00+00:00"


def test_a_forgotten_job_whose_log_has_the_campaigns_marker_in_a_description_counts():
    world = World()
    job_id = world.job()
    log = json_log(job_id, description=build_description(f"campaign {CAMPAIGN}", token()))
    world.archive("alice@example.com/20261113T120000Z.zip", log)
    world.forget(job_id)

    assert f"job {job_id} of this campaign (attempt 1)" in world.find()["problem"]


@pytest.mark.parametrize(
    "log",
    [
        # The log names the job and the mailbox: an export by hand writes the same.
        json_log("JOB"),
        # Another campaign's token, another mailbox's token, the token of this campaign for another mailbox.
        json_log("JOB", clientToken=token(campaign="other")),
        json_log("JOB", entity_id=BOB_ID, clientToken=token()),
        json_log("JOB", clientToken=token(BOB_ID)),
        # The Administrator Guide's log names nothing.
        GUIDE_LOG,
        None,
    ],
    ids=["job-and-mailbox-only", "other-campaign", "other-mailbox", "token-of-bob", "guide", "no-log"],
)
def test_a_forgotten_job_without_this_campaigns_token_in_its_log_never_counts(log):
    world = World()
    job_id = world.job()
    if log is not None:
        log = json.loads(json.dumps(log).replace("JOB", job_id))
    world.archive(f"{ALICE_ID}/{job_id}.zip", log)
    world.forget(job_id)

    assert world.find() is None and world.attempts() == []


def test_a_log_of_another_job_ties_nothing():
    world = World()
    job_id, other = world.job(), world.job(description="exported by hand")
    world.archive(f"{ALICE_ID}/{job_id}.zip", json_log(other, clientToken=token()))
    world.forget(job_id)

    assert world.find() is None


def test_an_archive_of_bob_in_the_prefix_is_not_alices():
    world = World()
    bob_job = world.job(BOB_ID, description=build_description("x", token()))  # even with alice's token
    world.archive(f"{bob_job}.zip", json_log(bob_job, BOB_ID))

    assert world.find(ALICE_ID) is None
