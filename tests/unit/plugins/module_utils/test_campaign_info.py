# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""campaign_manifest_info (workmail_organization_export_info): a campaign's manifest, whole, read and never written."""

import copy
import json
from datetime import datetime
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import manifest as mf
from ansible_collections.mailops.workmail.plugins.module_utils import manifest_store as ms
from ansible_collections.mailops.workmail.plugins.module_utils.campaign_info import campaign_manifest_info
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3AccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3BucketMissing
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_campaign_info_params
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeCampaign
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BOB_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import OTHER_ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import REGION
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN

START = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
CAMPAIGN = "info-1"
KEY = ms.manifest_key(PREFIX, CAMPAIGN)
COPY_KEY = KEY.replace("manifest.json", "manifest.previous.json")
JOURNAL_KEY = KEY.replace("manifest.json", "manifest.journal.json")
LOCK_KEY = ms.lock_key(PREFIX, CAMPAIGN)
WRITES = ("put_object", "copy_object", "delete_object")


def params(**extra):
    return dict({"campaign": CAMPAIGN, "s3_bucket": BUCKET, "s3_prefix": PREFIX, "organization_id": None}, **extra)


def info(s3, **extra):
    return campaign_manifest_info(s3_gateway(s3), params(**extra))


def writes(s3):
    return [call for call in s3.calls if call[0] in WRITES]


def a_manifest(organization_id=ORG_ID, campaign=CAMPAIGN, mailboxes=1):
    manifest = mf.new_manifest(campaign, organization_id, REGION, BUCKET, PREFIX, KEY_ARN, ROLE_ARN, START)
    mf.add_mailboxes(
        manifest,
        [
            {"id": f"user-{number:04d}", "email": f"u{number}@example.com", "name": f"u{number}"}
            for number in range(mailboxes)
        ],
    )
    return manifest


def test_a_campaign_after_a_pass_is_returned_whole_with_its_counts():
    s3 = FakeS3()
    campaign = FakeCampaign(s3, CAMPAIGN, START)
    campaign.run(max_concurrent_jobs=2)
    recorded = campaign.store.load(CAMPAIGN, ORG_ID)[0]
    assert any(entry["state"] == "RUNNING" for entry in recorded["mailboxes"].values())
    before = len(s3.calls)

    result = info(s3, organization_id=ORG_ID)

    assert result["manifest"] == recorded == campaign.manifest
    assert result["exists"] is True and result["changed"] is False
    assert result["summary"] == mf.summary(recorded)
    assert result["summary"]["total"] == 3 and result["summary"]["running"] == 2
    assert result["location"] == {"s3_uri": f"s3://{BUCKET}/{KEY}", "s3_bucket": BUCKET, "s3_key": KEY}
    assert result["verification_problems"] == [] and result["unchecked"] == []
    assert result["recovery"] is None and result["journal_ignored"] is None
    assert [name for name, dummy in s3.calls[before:]] == ["get_object", "get_object"]  # the manifest, its journal


def test_the_report_is_located_next_to_the_manifest_with_when_it_was_last_written():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    manifest = a_manifest()
    etag = store.save(manifest, None)
    folder = KEY.rsplit("/", 1)[0]
    assert info(s3)["report"] == {
        "html": f"s3://{BUCKET}/{folder}/report.html",
        "csv": f"s3://{BUCKET}/{folder}/report.csv",
        "html_key": f"{folder}/report.html",
        "csv_key": f"{folder}/report.csv",
        "written": None,
    }
    manifest["report"] = {"written": "2026-11-30T10:00:00+00:00", "digest": "0" * 64}
    store.save(manifest, etag)
    assert info(s3)["report"]["written"] == "2026-11-30T10:00:00+00:00"
    assert info(FakeS3())["report"] is None


def test_the_checks_the_campaign_recorded_are_reported():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    manifest = a_manifest(mailboxes=3)
    for number, outcome in ((0, "contradicted"), (1, "unchecked"), (2, "verified")):
        entity_id = f"user-{number:04d}"
        manifest["mailboxes"][entity_id]["state"] = "COMPLETED"
        mf.record_object(
            manifest,
            entity_id,
            START,
            key=f"{PREFIX}/{entity_id}.zip",
            level="basic",
            checked="2026-11-22T12:00:00Z",
            outcome=outcome,
            verified=outcome == "verified",
            problem=None if outcome == "verified" else f"{outcome}!",
        )
    store.save(manifest, None)

    result = info(s3)

    assert [(item["id"], item["problem"]) for item in result["verification_problems"]] == [
        ("user-0000", "contradicted!")
    ]
    assert [(item["id"], item["problem"]) for item in result["unchecked"]] == [("user-0001", "unchecked!")]
    assert result["summary"]["verified"] == 1 and result["summary"]["unchecked"] == 1
    assert result["verification_problems"] == mf.verification_problems(manifest)
    assert result["unchecked"] == mf.unchecked_exports(manifest)


def test_a_campaign_without_a_manifest_does_not_exist_and_nothing_is_written():
    s3 = FakeS3()
    result = info(s3, organization_id=ORG_ID)
    assert result["exists"] is False and result["manifest"] is None and result["summary"] is None
    assert result["verification_problems"] == [] and result["unchecked"] == []
    assert result["recovery"] is None and result["journal_ignored"] is None
    assert result["location"]["s3_key"] == KEY
    assert [call[1]["Key"] for call in s3.calls] == [KEY, COPY_KEY, JOURNAL_KEY]
    assert writes(s3) == [] and s3.objects == {}


def test_the_journal_is_applied():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY, journal_from=1024)
    store.save(a_manifest(mailboxes=40), None)
    manifest, etag = store.load()
    manifest["mailboxes"]["user-0007"]["state"] = "RUNNING"
    store.save(manifest, etag)
    assert json.loads(s3.objects[(BUCKET, KEY)]["Body"])["mailboxes"]["user-0007"]["state"] == "PENDING"

    result = info(s3)

    assert result["manifest"] == manifest
    assert result["manifest"]["mailboxes"]["user-0007"]["state"] == "RUNNING"
    assert result["summary"]["running"] == 1 and result["journal_ignored"] is None


class FoldsWhileRead(FakeS3):
    """S3 where a campaign pass writes the manifest whole (folding its journal) just after the manifest's first
    read: the journal read next belongs to the new version."""

    def __init__(self):
        super().__init__()
        self.between = None

    def get_object(self, **kwargs):
        answer = super().get_object(**kwargs)
        if kwargs["Key"] == KEY and self.between is not None:
            between, self.between = self.between, None
            between()
        return answer


def test_a_manifest_written_whole_between_its_read_and_its_journals_is_read_again():
    s3 = FoldsWhileRead()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY, journal_from=1024, journal_limit=100000)
    store.save(a_manifest(mailboxes=40), None)
    manifest, etag = store.load()
    manifest["mailboxes"]["user-0007"]["state"] = "RUNNING"
    etag = store.save(manifest, etag)  # into the journal
    manifest["mailboxes"]["user-0008"]["state"] = "RUNNING"
    s3.between = lambda: store._save_whole(manifest, etag)  # pylint: disable=protected-access

    result = info(s3)

    assert result["journal_ignored"] is None
    assert result["manifest"] == manifest
    assert result["summary"]["running"] == 2


def test_a_damaged_journal_is_reported_and_the_manifest_still_returned():
    s3 = FakeS3()
    ms.ManifestStore(s3_gateway(s3), BUCKET, KEY).save(a_manifest(), None)
    s3.raw_put(BUCKET, JOURNAL_KEY, b"{not json")
    result = info(s3)
    assert result["manifest"] == a_manifest()
    assert "manifest.journal.json is damaged" in result["journal_ignored"]
    assert writes(s3) == [s3.calls[0]]  # only the save above


@pytest.mark.parametrize("damaged", [False, True])
def test_a_missing_or_damaged_manifest_is_read_from_its_copy_and_not_written(damaged):
    s3 = FakeS3()
    copy_of = a_manifest()
    s3.raw_put(BUCKET, COPY_KEY, mf.dumps(copy_of))
    if damaged:
        s3.raw_put(BUCKET, KEY, b'{"format": 1, "campa')
    objects = copy.deepcopy(s3.objects)

    result = info(s3, organization_id=ORG_ID)

    assert result["exists"] is True and result["manifest"] == copy_of
    assert result["recovery"]["recovered_from"] == f"s3://{BUCKET}/{COPY_KEY}"
    assert result["recovery"]["damaged"] is damaged and result["recovery"]["damaged_kept_at"] is None
    assert ("damaged" if damaged else "missing") in result["recovery"]["problem"]
    assert writes(s3) == [] and s3.objects == objects


def test_a_damaged_manifest_without_a_copy_fails():
    s3 = FakeS3()
    s3.raw_put(BUCKET, KEY, b"[]")
    with pytest.raises(mf.ManifestError, match="there is no copy of it"):
        info(s3)
    assert writes(s3) == []


def test_a_manifest_of_another_organization_fails_naming_organization_id():
    s3 = FakeS3()
    ms.ManifestStore(s3_gateway(s3), BUCKET, KEY).save(a_manifest(organization_id=OTHER_ORG_ID), None)
    with pytest.raises(ParameterError) as error:
        info(s3, organization_id=ORG_ID)
    assert error.value.parameter == "organization_id"
    assert error.value.message.startswith(f"organization_id: s3://{BUCKET}/{KEY}: ")
    assert OTHER_ORG_ID in error.value.message and ORG_ID in error.value.message
    # Without organization_id, the manifest of any organization is returned.
    assert info(s3)["manifest"]["organization_id"] == OTHER_ORG_ID


def test_a_copy_of_another_organization_fails_naming_the_copy():
    s3 = FakeS3()
    s3.raw_put(BUCKET, COPY_KEY, mf.dumps(a_manifest(organization_id=OTHER_ORG_ID)))
    with pytest.raises(ParameterError) as error:
        info(s3, organization_id=ORG_ID)
    assert error.value.parameter == "organization_id" and COPY_KEY in error.value.message


def test_a_manifest_of_another_campaign_at_the_key_fails():
    s3 = FakeS3()
    s3.raw_put(BUCKET, KEY, mf.dumps(a_manifest(campaign="someone-else")))
    with pytest.raises(mf.ManifestError, match="belongs to campaign 'someone-else'"):
        info(s3)


@pytest.mark.parametrize(
    "code, status, error", [("AccessDenied", 403, S3AccessDenied), ("NoSuchBucket", 404, S3BucketMissing)]
)
def test_s3_errors_are_the_collections(code, status, error):
    s3 = FakeS3()
    s3.fail("get_object", code, status, times=2)
    with pytest.raises(error) as raised:
        info(s3)
    assert f"the campaign manifest s3://{BUCKET}/{KEY} failed: {code}" in raised.value.message


def test_the_campaign_lock_is_neither_needed_nor_taken():
    s3 = FakeS3()
    campaign = FakeCampaign(s3, CAMPAIGN, START)
    held = ms.CampaignLock(s3_gateway(s3), BUCKET, LOCK_KEY, "another-run", 600, now=lambda: START)
    held.acquire()
    lock = dict(s3.objects[(BUCKET, LOCK_KEY)])
    before = len(s3.calls)

    assert info(s3)["manifest"] == campaign.manifest

    assert s3.objects[(BUCKET, LOCK_KEY)] == lock
    assert all(call[1]["Key"] != LOCK_KEY for call in s3.calls[before:])


# Parameters


def test_valid_parameters_pass():
    assert validate_campaign_info_params(params(), REGION)["campaign"] == CAMPAIGN
    assert validate_campaign_info_params(params(organization_id=ORG_ID), REGION)["organization_id"] == ORG_ID


@pytest.mark.parametrize(
    "extra, parameter",
    [
        ({"campaign": "bad name"}, "campaign"),
        ({"campaign": "x" * 65}, "campaign"),
        ({"campaign": None}, "campaign"),
        ({"s3_bucket": "Bad_Bucket"}, "s3_bucket"),
        ({"s3_prefix": "a b"}, "s3_prefix"),
        ({"s3_prefix": "/exports"}, "s3_prefix"),
        ({"organization_id": "m-NOT"}, "organization_id"),
    ],
)
def test_invalid_parameters_name_the_parameter(extra, parameter):
    with pytest.raises(ParameterError) as error:
        validate_campaign_info_params(params(**extra), REGION)
    assert error.value.parameter == parameter


def test_the_region_is_checked():
    with pytest.raises(ParameterError) as error:
        validate_campaign_info_params(params(), "eu-central-1")
    assert error.value.parameter == "region"


def test_bob_and_alice_are_in_the_fake_campaign():
    # The fake organization the campaign tests above run over (a guard for their counts).
    s3 = FakeS3()
    campaign = FakeCampaign(s3, CAMPAIGN, START)
    assert {ALICE_ID, BOB_ID} <= set(info(s3)["manifest"]["mailboxes"]) == set(campaign.manifest["mailboxes"])


def test_the_estimate_is_returned_against_the_deadline_given():
    s3 = FakeS3()
    campaign = FakeCampaign(s3, CAMPAIGN, START)
    campaign.run(max_concurrent_jobs=2)
    result = info(s3, deadline="2026-01-01", deadline_margin_days=3)
    eta = result["eta"]
    assert eta["basis"] == "no_completed_jobs" and eta["remaining_mailboxes"] == 3
    assert eta["deadline"] == "2026-01-01T00:00:00+00:00" and eta["deadline_with_margin"] == "2025-12-29T00:00:00+00:00"
    assert eta["at_risk"] is True and eta["deadline_passed"] is True
    assert eta["warning"].startswith("the deadline 2026-01-01T00:00:00+00:00 has passed (")
    assert info(s3)["eta"]["deadline"] == "2027-03-31T00:00:00+00:00"
    assert info(FakeS3())["eta"] is None
