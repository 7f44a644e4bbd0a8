# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""run_organization_pass, the module's pass: the lock, the manifest, the directory, check mode and the result."""

import json
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import run_organization_pass
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import ManifestError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import LockHeldError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import lock_key
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import manifest_key
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_export_params
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
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROOM_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import FakeClock
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake

START = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
CAMPAIGN = "runner-1"
MANIFEST = manifest_key(PREFIX, CAMPAIGN)
LOCK = lock_key(PREFIX, CAMPAIGN)


class Organization:
    """alice, bob and room1 of a fake WorkMail, a FakeS3, and the module's parameters."""

    def __init__(self, **params):
        self.fake = standard_fake(clock=FakeClock(START))
        self.s3 = FakeS3()
        self.params = validate_organization_export_params(
            dict(
                organization_id=ORG_ID,
                campaign=CAMPAIGN,
                role_arn=ROLE_ARN,
                kms_key_arn=KEY_ARN,
                s3_bucket=BUCKET,
                s3_prefix=PREFIX,
                lock_owner="runner-test",
                **params,
            ),
            REGION,
        )

    def run(self, check_mode=False, **changes):
        client = WorkMailClient(self.fake, RetryPolicy(retries=2, delay=0, max_delay=0))
        params = dict(self.params, **changes)
        return run_organization_pass(
            client, s3_gateway(self.s3), params, check_mode=check_mode, now=self.fake.clock.now, region=REGION
        )

    def manifest(self):
        return json.loads(self.s3.objects[(BUCKET, MANIFEST)]["Body"])

    def complete_running(self):
        for job in self.fake.jobs.values():
            if job["State"] == "RUNNING":
                self.fake.set_job(job["JobId"], State="COMPLETED", EstimatedProgress=100, EndTime=self.fake.clock.now())
                self.s3.put_export(BUCKET, job["S3Path"], kms_key_id=KEY_ARN)


def test_a_pass_locks_saves_starts_and_releases():
    org = Organization()
    result = org.run()
    assert result["changed"] is True and result["done"] is False and result["manifest_exists"] is True
    assert [item["id"] for item in result["started"]] == [ALICE_ID, BOB_ID, ROOM_ID]  # largest first
    assert result["lock_owner"] == "runner-test"
    assert result["manifest"] == {
        "s3_uri": f"s3://{BUCKET}/{MANIFEST}",
        "s3_bucket": BUCKET,
        "s3_key": MANIFEST,
        "local_path": None,
    }
    assert result["summary"]["running"] == 3 and result["pass"]["added"] == 3
    assert (BUCKET, LOCK) not in org.s3.objects  # released
    lock_writes = [kwargs for name, kwargs in org.s3.calls if name == "put_object" and kwargs["Key"] == LOCK]
    assert lock_writes and all(kwargs["SSEKMSKeyId"] == KEY_ARN for kwargs in lock_writes)
    assert {entry["state"] for entry in org.manifest()["mailboxes"].values()} == {"RUNNING"}


def test_the_campaign_ends_done_and_a_rerun_changes_nothing():
    org = Organization()
    org.run()
    org.fake.clock.advance(hours=1)
    org.complete_running()
    finished = org.run()
    assert finished["done"] is True and finished["summary"]["verified"] == 3
    etag = org.s3.objects[(BUCKET, MANIFEST)]["ETag"]
    again = org.run()
    assert again["done"] is True and again["changed"] is False and again["started"] == []
    assert org.s3.objects[(BUCKET, MANIFEST)]["ETag"] == etag
    assert org.fake.count("start_mailbox_export_job") == 3


def test_check_mode_locks_saves_and_starts_nothing():
    org = Organization(max_concurrent_jobs=2)
    result = org.run(check_mode=True)
    assert result["changed"] is True and result["manifest_exists"] is False and result["lock_owner"] is None
    assert [item["id"] for item in result["would_start"]] == [ALICE_ID, BOB_ID]
    assert [item["id"] for item in result["queued"]] == [ROOM_ID] and result["queued_total"] == 1
    assert org.s3.objects == {} and org.s3.count("put_object") == 0
    assert org.fake.count("start_mailbox_export_job") == 0


def test_a_held_lock_stops_the_pass_before_any_workmail_call():
    org = Organization()
    expires = (START + timedelta(minutes=10)).isoformat()
    org.s3.raw_put(BUCKET, LOCK, json.dumps({"owner": "awx-job-1", "acquired": START.isoformat(), "expires": expires}))
    with pytest.raises(LockHeldError) as caught:
        org.run()
    assert caught.value.owner == "awx-job-1" and caught.value.expires == expires
    assert sum(org.fake.count(name) for name in ("list_users", "list_mailbox_export_jobs")) == 0
    assert (BUCKET, MANIFEST) not in org.s3.objects


def test_the_directory_is_read_once_a_day():
    org = Organization()
    org.run()
    org.fake.clock.advance(hours=23)
    org.run()
    assert org.fake.count("list_users") == 1
    org.fake.add_user("carol", "carol@example.com", size_mb=5)
    org.fake.clock.advance(hours=1)
    result = org.run()
    assert org.fake.count("list_users") == 2
    assert result["pass"]["added"] == 1 and result["summary"]["total"] == 4


@pytest.mark.parametrize("name, value", [("role_arn", ROLE_ARN + "-2"), ("kms_key_arn", KEY_ARN[:-4] + "ffff")])
def test_a_campaign_keeps_its_destination(name, value):
    org = Organization()
    org.run()
    with pytest.raises(ParameterError) as caught:
        org.run(**{name: value})
    assert caught.value.parameter == name and "another campaign name" in caught.value.rule
    assert org.fake.count("start_mailbox_export_job") == 3


def test_a_release_that_fails_is_reported_and_the_owner_takes_its_lock_back():
    org = Organization()
    org.s3.fail("delete_object", "InternalError", 500, times=2)
    result = org.run()
    assert result["summary"]["running"] == 3
    assert (BUCKET, LOCK) in org.s3.objects
    assert result["lock_released"] is False
    assert result["lock_release_error"].startswith("the campaign lock could not be released (delete_object of the")
    assert "expires by itself at 2026-11-22T12:03:00+00:00" in result["lock_release_error"]
    again = org.run()  # the same owner (an AWX job's passes) goes on at once
    assert again["lock_released"] is True and (BUCKET, LOCK) not in org.s3.objects
    org.s3.fail("delete_object", "InternalError", 500, times=2)
    assert org.run()["lock_released"] is False
    with pytest.raises(LockHeldError):  # another run waits until the lock expires
        org.run(lock_owner="another-run")


@pytest.mark.parametrize(
    "options, parameter, shown",
    [
        ({"include": ["nobody*"]}, "include", "include=['nobody*'], include_disabled=false"),
        ({"exclude": ["*"]}, "exclude", "exclude=['*'], include_disabled=false, skip_system_users=false"),
    ],
)
def test_a_selection_of_no_mailbox_fails_naming_the_options(options, parameter, shown):
    org = Organization(**options)
    for check_mode in (True, False):
        with pytest.raises(ParameterError) as caught:
            org.run(check_mode=check_mode)
        assert caught.value.parameter == parameter
        assert f"the selection matches no mailbox of organization {ORG_ID} ({shown}" in caught.value.rule
        assert "it has 2 users and 1 resources" in caught.value.rule
    assert (BUCKET, MANIFEST) not in org.s3.objects and (BUCKET, LOCK) not in org.s3.objects
    assert org.fake.count("start_mailbox_export_job") == 0


def _exported_and_checked():
    """A campaign whose three mailboxes were exported and verified, and a pass made since (so the manifest's copy
    holds the exports)."""
    org = Organization()
    org.run()
    org.complete_running()
    org.fake.clock.advance(minutes=5)
    org.run()
    org.fake.clock.advance(minutes=5)
    assert org.run()["done"] is True
    return org


def test_a_deleted_manifest_is_recovered_from_its_copy_and_nothing_is_exported_again():
    org = _exported_and_checked()
    starts = org.fake.count("start_mailbox_export_job")
    del org.s3.objects[(BUCKET, MANIFEST)]

    result = org.run()

    assert result["manifest_recovery"]["problem"] == f"the campaign manifest s3://{BUCKET}/{MANIFEST}: it is missing"
    assert result["manifest_recovery"]["recovered_from"].endswith("/mailops-campaigns/runner-1/manifest.previous.json")
    assert result["done"] is True and result["summary"]["completed"] == 3 and result["started"] == []
    assert org.fake.count("start_mailbox_export_job") == starts
    assert {entry["state"] for entry in org.manifest()["mailboxes"].values()} == {"COMPLETED"}


def test_a_truncated_manifest_is_kept_aside_and_recovered_from_its_copy():
    org = _exported_and_checked()
    damaged = org.s3.objects[(BUCKET, MANIFEST)]["Body"][:100]
    org.s3.raw_put(BUCKET, MANIFEST, damaged)

    result = org.run()

    recovery = result["manifest_recovery"]
    assert recovery["damaged"] is True and "is not JSON" in recovery["problem"]
    kept = recovery["damaged_kept_at"][len(f"s3://{BUCKET}/") :]
    assert kept.startswith(MANIFEST[: -len("manifest.json")] + "manifest.damaged-")
    assert org.s3.objects[(BUCKET, kept)]["Body"] == damaged
    assert result["done"] is True and len(org.manifest()["mailboxes"]) == 3


def test_a_damaged_manifest_without_a_copy_stops_the_campaign_and_names_both():
    org = Organization()
    org.s3.raw_put(BUCKET, MANIFEST, b'{"format": 1, "campaign"')

    with pytest.raises(ManifestError, match="is not JSON.*there is no copy of it"):
        org.run()
    assert org.fake.count("start_mailbox_export_job") == 0


def test_a_manifest_lost_with_its_copy_is_rebuilt_from_the_jobs_and_says_so():
    org = _exported_and_checked()
    starts = org.fake.count("start_mailbox_export_job")
    for name in ("manifest.json", "manifest.previous.json"):
        del org.s3.objects[(BUCKET, MANIFEST[: -len("manifest.json")] + name)]

    result = org.run()

    assert result["manifest_recovery"]["recovered_from"].startswith("the jobs of this campaign")
    assert result["manifest_recovery"]["rebuilt_from_aws"] == 3
    assert result["summary"]["completed"] == 3 and org.fake.count("start_mailbox_export_job") == starts


def test_an_export_older_than_the_job_list_is_found_in_s3_and_not_made_again():
    org = _exported_and_checked()
    org.fake.clock.advance(days=8)  # the job list no longer shows the campaign's jobs
    manifest = org.manifest()
    entry = manifest["mailboxes"][ALICE_ID]
    entry.update(state="PENDING", attempts=[], object=None)  # edited by hand
    org.s3.raw_put(BUCKET, MANIFEST, json.dumps(manifest).encode("utf-8"))
    starts = org.fake.count("start_mailbox_export_job")

    result = org.run()

    assert org.fake.count("start_mailbox_export_job") == starts
    assert [item["id"] for item in result["repairs"]] == [ALICE_ID]
    assert "of this campaign (attempt 1)" in result["repairs"][0]["problem"]
    assert result["pass"]["looked_in_s3"] == 1
    assert org.manifest()["mailboxes"][ALICE_ID]["state"] == "COMPLETED"
    assert org.manifest()["mailboxes"][ALICE_ID]["object"]["verified"] is True


def test_an_archive_of_a_job_by_hand_does_not_count_as_the_campaigns_export():
    org = Organization(mailboxes=["alice@example.com"])
    job = org.fake.add_job(ALICE_ID, state="COMPLETED", description="by hand", age=timedelta(days=9))
    org.s3.put_export(BUCKET, f"{PREFIX}/{ALICE_ID}/{job}.zip", kms_key_id=KEY_ARN)

    result = org.run()

    assert [item["id"] for item in result["started"]] == [ALICE_ID] and result["repairs"] == []


def test_check_mode_does_not_offer_to_export_again_what_s3_shows_this_campaign_exported():
    org = _exported_and_checked()
    org.fake.clock.advance(days=8)
    manifest = org.manifest()
    manifest["mailboxes"][BOB_ID].update(state="PENDING", attempts=[], object=None)
    org.s3.raw_put(BUCKET, MANIFEST, json.dumps(manifest).encode("utf-8"))
    stored = org.s3.objects[(BUCKET, MANIFEST)]["Body"]

    result = org.run(check_mode=True)

    assert result["would_start"] == [] and [item["id"] for item in result["repairs"]] == [BOB_ID]
    assert org.s3.objects[(BUCKET, MANIFEST)]["Body"] == stored


def test_each_pass_records_its_point_and_returns_the_estimate():
    org = Organization(max_concurrent_jobs=2, deadline="2026-11-23T00:00:00Z", deadline_margin_days=0)
    first = org.run()
    assert first["eta"]["basis"] == "no_completed_jobs" and first["eta"]["at_risk"] is False
    assert first["eta"]["remaining_mailboxes"] == 3 and first["eta"]["max_concurrent_jobs"] == 2
    history = org.manifest()["history"]
    assert history["max_concurrent_jobs"] == 2
    assert len(history["points"]) == 1  # the pass saved twice or more: one point
    assert dict(zip(history["fields"], history["points"][0]))["running"] == 2
    org.fake.clock.advance(hours=1)
    org.complete_running()
    second = org.run()
    eta = second["eta"]
    assert eta["basis"] == "few_jobs" and eta["completed_jobs_observed"] == 2 and eta["remaining_mailboxes"] == 1
    assert eta["early"] < eta["eta"] < eta["late"] and eta["deadline"] == "2026-11-23T00:00:00+00:00"
    points = org.manifest()["history"]["points"]
    assert len(points) == 2 and dict(zip(history["fields"], points[1]))["completed"] == 2
    etag = org.s3.objects[(BUCKET, MANIFEST)]["ETag"]
    org.fake.clock.advance(seconds=30)
    org.run()  # nothing changed: nothing saved, no point added
    assert org.s3.objects[(BUCKET, MANIFEST)]["ETag"] == etag
    checked = org.run(check_mode=True)
    assert checked["eta"]["basis"] == "few_jobs"
