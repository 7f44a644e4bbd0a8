# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import json
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import manifest as mf
from ansible_collections.mailops.workmail.plugins.module_utils import manifest_store as ms
from ansible_collections.mailops.workmail.plugins.module_utils import validation
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3AccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3BucketMissing
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import OTHER_ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import FakeClock

NOW = datetime(2026, 11, 22, 5, 1, 2, tzinfo=timezone.utc)
CAMPAIGN = "wave-1"
KEY = ms.manifest_key(PREFIX, CAMPAIGN)


def a_manifest(campaign=CAMPAIGN, organization_id=ORG_ID):
    manifest = mf.new_manifest(campaign, organization_id, "us-east-1", BUCKET, PREFIX, KEY_ARN, ROLE_ARN, NOW)
    mf.add_mailboxes(manifest, [{"id": ALICE_ID, "email": "alice@example.com", "name": "alice", "type": "USER"}])
    return manifest


# Names and keys


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("workmail/example", "workmail/example/mailops-campaigns/wave-1/manifest.json"),
        ("workmail/example/", "workmail/example/mailops-campaigns/wave-1/manifest.json"),
        ("workmail//", "workmail/mailops-campaigns/wave-1/manifest.json"),
        ("", "mailops-campaigns/wave-1/manifest.json"),
        (None, "mailops-campaigns/wave-1/manifest.json"),
    ],
)
def test_manifest_key(prefix, expected):
    assert ms.manifest_key(prefix, CAMPAIGN) == expected
    assert ms.lock_key(prefix, CAMPAIGN) == expected.replace("manifest.json", "lock.json")


@pytest.mark.parametrize("campaign", ["a", "Wave_1.final-2", "x" * 64])
def test_valid_campaign_names(campaign):
    assert validation.validate_campaign(campaign) == campaign


@pytest.mark.parametrize("campaign", ["", "x" * 65, "wave 1", "a/b", "é", None, 3, "wave-1\n"])
def test_invalid_campaign_names(campaign):
    with pytest.raises(ParameterError) as info:
        ms.manifest_key(PREFIX, campaign)
    assert info.value.parameter == "campaign"


# The document


def test_new_manifest_shape():
    manifest = mf.new_manifest(CAMPAIGN, ORG_ID, "us-east-1", BUCKET, PREFIX, KEY_ARN, ROLE_ARN, NOW)
    assert manifest == {
        "format": 1,
        "campaign": CAMPAIGN,
        "organization_id": ORG_ID,
        "region": "us-east-1",
        "s3_bucket": BUCKET,
        "s3_prefix": PREFIX,
        "kms_key_arn": KEY_ARN,
        "role_arn": ROLE_ARN,
        "created": "2026-11-22T05:01:02+00:00",
        "updated": "2026-11-22T05:01:02+00:00",
        "mailboxes": {},
    }
    assert mf.validate_manifest(manifest) is manifest


def test_add_mailboxes_keeps_history():
    manifest = a_manifest()
    entry = manifest["mailboxes"][ALICE_ID]
    assert entry == {
        "id": ALICE_ID,
        "email": "alice@example.com",
        "name": "alice",
        "type": "USER",
        "size_mb": None,
        "state": "PENDING",
        "attempts": [],
        "object": None,
    }
    entry["state"] = "COMPLETED"
    added = mf.add_mailboxes(
        manifest, [{"id": ALICE_ID, "size_mb": 5}, {"id": "r-1", "type": "RESOURCE", "size_mb": 7}], NOW
    )
    assert added == ["r-1"]
    assert manifest["mailboxes"][ALICE_ID]["state"] == "COMPLETED"
    assert manifest["mailboxes"][ALICE_ID]["size_mb"] is None
    assert manifest["mailboxes"]["r-1"]["size_mb"] == 7


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda m: m.update(format=2), "format 2 is not supported"),
        (lambda m: m.pop("format"), "format None"),
        (lambda m: m.update(campaign=None), "'campaign'"),
        (lambda m: m.update(mailboxes=[]), "'mailboxes'"),
        (lambda m: m["mailboxes"][ALICE_ID].update(state="DONE"), "unknown state 'DONE'"),
        (lambda m: m["mailboxes"][ALICE_ID].update(id="other"), "id differs"),
        (lambda m: m["mailboxes"][ALICE_ID].update(attempts={}), "not a list"),
        (lambda m: m["mailboxes"][ALICE_ID]["attempts"].append({"attempt": 2, "client_token": "t"}), "out of order"),
        (lambda m: m["mailboxes"][ALICE_ID]["attempts"].append({"attempt": 1}), "no client_token"),
        (lambda m: m["mailboxes"][ALICE_ID].update(object=[]), "'object'"),
    ],
)
def test_validate_manifest_rejects(damage, message):
    manifest = a_manifest()
    damage(manifest)
    with pytest.raises(mf.ManifestError) as info:
        mf.validate_manifest(manifest)
    assert message in str(info.value)


def test_validate_manifest_campaign_and_organization():
    manifest = a_manifest()
    mf.validate_manifest(manifest, CAMPAIGN, ORG_ID)
    with pytest.raises(mf.ManifestError, match="belongs to campaign 'wave-1', not 'wave-2'"):
        mf.validate_manifest(manifest, "wave-2", ORG_ID)
    with pytest.raises(mf.ManifestError, match=f"exports organization {ORG_ID}, not {OTHER_ORG_ID}"):
        mf.validate_manifest(manifest, CAMPAIGN, OTHER_ORG_ID)
    with pytest.raises(mf.ManifestError, match="expected a JSON object"):
        mf.validate_manifest([])


# ManifestStore


def test_store_round_trip_and_conditional_writes():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    assert store.load() == (None, None)
    manifest = a_manifest()
    etag = store.save(manifest, None)
    put = s3.calls[-1][1]
    assert put["IfNoneMatch"] == "*" and "IfMatch" not in put
    assert put["ContentType"] == "application/json"
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == KEY_ARN
    loaded, loaded_etag = store.load(CAMPAIGN, ORG_ID)
    assert loaded == manifest and loaded_etag == etag
    assert json.loads(s3.objects[(BUCKET, KEY)]["Body"]) == manifest

    loaded["mailboxes"][ALICE_ID]["state"] = "RUNNING"
    new_etag = store.save(loaded, etag)
    assert s3.calls[-1][1]["IfMatch"] == etag and "IfNoneMatch" not in s3.calls[-1][1]
    assert new_etag != etag
    assert store.load()[0]["mailboxes"][ALICE_ID]["state"] == "RUNNING"


def test_store_create_conflict():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    store.save(a_manifest(), None)
    other = a_manifest()
    other["mailboxes"][ALICE_ID]["state"] = "SKIPPED"
    with pytest.raises(ms.ManifestConflictError, match="exists already"):
        store.save(other, None)


def test_store_replace_conflict_after_concurrent_writer():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    etag = store.save(a_manifest(), None)
    s3.raw_put(BUCKET, KEY, json.dumps(a_manifest(), sort_keys=True) + " ")
    changed = a_manifest()
    changed["mailboxes"][ALICE_ID]["state"] = "RUNNING"
    with pytest.raises(ms.ManifestConflictError, match=f"no longer version {etag}") as info:
        store.save(changed, etag)
    assert info.value.details["s3_key"] == KEY


def test_store_replace_conflict_when_deleted():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    etag = store.save(a_manifest(), None)
    del s3.objects[(BUCKET, KEY)]
    with pytest.raises(ms.ManifestConflictError):
        store.save(a_manifest(), etag)


def test_store_retry_of_own_write_is_not_a_conflict():
    """A PUT that succeeded but whose answer was lost is retried (botocore/AWSRetry); the 412 that follows is ours."""
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    manifest = a_manifest()
    s3.raw_put(BUCKET, KEY, mf.dumps(manifest))
    assert store.save(manifest, None) == s3.objects[(BUCKET, KEY)]["ETag"]


def test_store_other_errors_propagate():
    s3 = FakeS3()
    s3.fail("put_object", "AccessDenied", 403)
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    with pytest.raises(S3AccessDenied) as info:
        store.save(a_manifest(), None)
    assert not isinstance(info.value, mf.ManifestError)
    assert info.value.code == "AccessDenied"
    assert f"the campaign manifest s3://{BUCKET}/{KEY}" in info.value.message
    s3.fail("get_object", "NoSuchBucket", 404)
    with pytest.raises(S3BucketMissing) as info:
        store.load()
    assert info.value.aws_error.response["Error"]["Code"] == "NoSuchBucket"


@pytest.mark.parametrize("body, message", [(b"{not json", "is not JSON"), (b'{"format": 7}', "format 7")])
def test_store_load_rejects_bad_documents(body, message):
    s3 = FakeS3()
    s3.raw_put(BUCKET, KEY, body)
    with pytest.raises(mf.ManifestError, match=message) as info:
        ms.ManifestStore(s3_gateway(s3), BUCKET, KEY).load()
    assert f"s3://{BUCKET}/{KEY}" in str(info.value)


def test_store_load_rejects_other_campaign():
    s3 = FakeS3()
    ms.ManifestStore(s3_gateway(s3), BUCKET, KEY).save(a_manifest(campaign="other"), None)
    with pytest.raises(mf.ManifestError, match="belongs to campaign 'other'"):
        ms.ManifestStore(s3_gateway(s3), BUCKET, KEY).load(CAMPAIGN, ORG_ID)


def test_store_local_copy(tmp_path):
    path = tmp_path / "copies" / "manifest.json"
    store = ms.ManifestStore(s3_gateway(FakeS3()), BUCKET, KEY, local_copy=str(path))
    manifest = a_manifest()
    store.save(manifest, None)
    assert json.loads(path.read_text(encoding="utf-8")) == manifest
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]


def test_local_copy_not_written_on_conflict(tmp_path):
    path = tmp_path / "manifest.json"
    s3 = FakeS3()
    s3.raw_put(BUCKET, KEY, b"{}")
    with pytest.raises(ms.ManifestConflictError):
        ms.ManifestStore(s3_gateway(s3), BUCKET, KEY, local_copy=str(path)).save(a_manifest(), None)
    assert not path.exists()


# CampaignLock

LOCK = ms.lock_key(PREFIX, CAMPAIGN)


def a_lock(s3, owner, clock, ttl=900):
    return ms.CampaignLock(s3_gateway(s3), BUCKET, LOCK, owner, ttl_seconds=ttl, now=clock.now, kms_key_arn=KEY_ARN)


def lock_document(s3):
    return json.loads(s3.objects[(BUCKET, LOCK)]["Body"])


def test_lock_acquire_and_release():
    s3, clock = FakeS3(), FakeClock(NOW)
    lock = a_lock(s3, "run-a", clock)
    assert not lock.held
    document = lock.acquire()
    assert document == {
        "owner": "run-a",
        "acquired": "2026-11-22T05:01:02+00:00",
        "expires": "2026-11-22T05:16:02+00:00",
    }
    assert lock_document(s3) == document
    assert s3.calls[-1][1]["IfNoneMatch"] == "*"
    assert s3.objects[(BUCKET, LOCK)]["SSEKMSKeyId"] == KEY_ARN
    assert lock.held
    etag = lock.etag
    assert lock.release() is True
    assert (BUCKET, LOCK) not in s3.objects
    assert s3.calls[-1] == ("delete_object", {"Bucket": BUCKET, "Key": LOCK, "IfMatch": etag})
    assert not lock.held
    assert lock.release() is False


def test_lock_contended():
    s3, clock = FakeS3(), FakeClock(NOW)
    a_lock(s3, "run-a", clock).acquire()
    clock.advance(seconds=899)
    with pytest.raises(ms.LockHeldError) as info:
        a_lock(s3, "run-b", clock).acquire()
    assert info.value.owner == "run-a"
    assert info.value.expires == "2026-11-22T05:16:02+00:00"
    assert "held by run-a until 2026-11-22T05:16:02+00:00" in str(info.value)
    assert lock_document(s3)["owner"] == "run-a"


def test_lock_expired_takeover():
    s3, clock = FakeS3(), FakeClock(NOW)
    first = a_lock(s3, "run-a", clock)
    first.acquire()
    clock.advance(seconds=900)
    second = a_lock(s3, "run-b", clock)
    document = second.acquire()
    assert document["owner"] == "run-b"
    assert document["expires"] == iso(NOW + timedelta(seconds=1800))
    assert s3.calls[-1][0] == "put_object" and "IfMatch" in s3.calls[-1][1]
    # The old holder finds out: refresh fails, release does not delete the new holder's lock.
    with pytest.raises(ms.LockLostError, match="now held by run-b"):
        first.refresh()
    assert first.release() is False
    assert lock_document(s3)["owner"] == "run-b"


def test_lock_takeover_race_lost():
    """Two runs see the same expired lock; the one whose If-Match write comes second loses."""
    s3, clock = FakeS3(), FakeClock(NOW)
    a_lock(s3, "run-a", clock).acquire()
    clock.advance(hours=1)
    racer = a_lock(s3, "run-c", clock)
    loser = a_lock(s3, "run-b", clock)

    def race(kwargs):
        if "IfMatch" in kwargs:
            racer.acquire()  # run-c takes the expired lock over between run-b's read and run-b's write
        else:
            s3.before_put = race

    s3.before_put = race
    with pytest.raises(ms.LockHeldError) as info:
        loser.acquire()
    assert info.value.owner == "run-c"
    assert lock_document(s3)["owner"] == "run-c"
    assert not loser.held


def test_lock_reacquire_by_same_owner_after_crash():
    s3, clock = FakeS3(), FakeClock(NOW)
    a_lock(s3, "run-a", clock).acquire()
    clock.advance(seconds=10)
    assert a_lock(s3, "run-a", clock).acquire()["owner"] == "run-a"


def test_lock_refresh_extends():
    s3, clock = FakeS3(), FakeClock(NOW)
    lock = a_lock(s3, "run-a", clock, ttl=60)
    lock.acquire()
    clock.advance(seconds=50)
    document = lock.refresh()
    assert document["acquired"] == iso(NOW)
    assert document["expires"] == iso(NOW + timedelta(seconds=110))
    assert lock_document(s3) == document


def test_lock_refresh_lost_when_removed_or_not_acquired():
    s3, clock = FakeS3(), FakeClock(NOW)
    lock = a_lock(s3, "run-a", clock)
    with pytest.raises(ms.LockLostError, match="not acquired"):
        lock.refresh()
    lock.acquire()
    del s3.objects[(BUCKET, LOCK)]
    with pytest.raises(ms.LockLostError, match="removed"):
        lock.refresh()
    assert not lock.held


def test_lock_release_only_own():
    s3, clock = FakeS3(), FakeClock(NOW)
    lock = a_lock(s3, "run-a", clock)
    lock.acquire()
    s3.raw_put(BUCKET, LOCK, json.dumps({"owner": "run-z", "acquired": iso(NOW), "expires": iso(NOW)}))
    assert lock.release() is False
    assert lock_document(s3)["owner"] == "run-z"


def test_lock_unreadable_counts_as_expired():
    s3, clock = FakeS3(), FakeClock(NOW)
    s3.raw_put(BUCKET, LOCK, b"garbage")
    assert a_lock(s3, "run-a", clock).acquire()["owner"] == "run-a"


def test_lock_rejects_bad_ttl():
    with pytest.raises(ParameterError):
        a_lock(FakeS3(), "run-a", FakeClock(NOW), ttl=0)


def iso(moment):
    return moment.isoformat()


# The journal of a large campaign

JOURNAL_KEY = KEY.replace("manifest.json", "manifest.journal.json")


def a_large_manifest(mailboxes=40):
    manifest = a_manifest()
    mf.add_mailboxes(
        manifest,
        [
            {"id": f"user-{number:04d}", "email": f"u{number}@example.com", "name": f"u{number}"}
            for number in range(mailboxes)
        ],
    )
    return manifest


def journal_store(s3, limit=4096):
    """A store whose journal starts at 1 KiB of manifest (a few mailboxes) and is folded in beyond ``limit``."""
    return ms.ManifestStore(s3_gateway(s3), BUCKET, KEY, journal_from=1024, journal_limit=limit)


def stored(s3, key):
    return json.loads(s3.objects[(BUCKET, key)]["Body"])


def test_a_large_manifest_saves_its_changes_to_the_journal_and_reads_back_whole():
    s3 = FakeS3()
    store = journal_store(s3)
    manifest = a_large_manifest()
    etag = store.save(manifest, None)  # created whole
    whole = s3.objects[(BUCKET, KEY)]["Body"]

    store = journal_store(s3)
    loaded, etag = store.load(CAMPAIGN, ORG_ID)
    loaded["mailboxes"]["user-0003"]["state"] = "RUNNING"
    loaded["updated"] = "2026-11-22T06:00:00+00:00"
    assert store.save(loaded, etag) == etag  # the manifest's version is unchanged: only the journal was written
    assert s3.objects[(BUCKET, KEY)]["Body"] == whole
    journal = stored(s3, JOURNAL_KEY)
    assert list(journal["mailboxes"]) == ["user-0003"] and journal["fields"] == {"updated": "2026-11-22T06:00:00+00:00"}
    assert journal["base_etag"] == etag
    put = s3.calls[-1][1]
    assert put["IfNoneMatch"] == "*" and put["SSEKMSKeyId"] == KEY_ARN
    # The journal holds every change since the manifest was written whole; each write replaces it conditionally.
    loaded["mailboxes"]["user-0004"]["state"] = "RUNNING"
    store.save(loaded, etag)
    assert sorted(stored(s3, JOURNAL_KEY)["mailboxes"]) == ["user-0003", "user-0004"]
    assert "IfMatch" in s3.calls[-1][1]

    again, again_etag = journal_store(s3).load(CAMPAIGN, ORG_ID)
    assert again == loaded and again_etag == etag


def test_a_journal_grown_past_its_limit_is_folded_into_the_manifest():
    s3 = FakeS3()
    store = journal_store(s3, limit=1200)
    etag = store.save(a_large_manifest(), None)
    manifest, etag = store.load()
    writes_before = s3.count("put_object")
    for number in range(12):
        manifest["mailboxes"][f"user-{number:04d}"]["state"] = "RUNNING"
        etag = store.save(manifest, etag)
    # Some saves went to the journal, then one wrote the manifest whole and emptied the journal.
    assert stored(s3, KEY) != a_large_manifest() and stored(s3, KEY)["mailboxes"]["user-0000"]["state"] == "RUNNING"
    assert s3.count("put_object") > writes_before + 12
    assert stored(s3, JOURNAL_KEY)["base_etag"] == s3.objects[(BUCKET, KEY)]["ETag"]
    assert journal_store(s3).load()[0] == manifest


def test_a_journal_of_another_version_is_not_applied_and_is_reported():
    s3 = FakeS3()
    store = journal_store(s3)
    etag = store.save(a_large_manifest(), None)
    manifest, etag = store.load()
    manifest["mailboxes"]["user-0001"]["state"] = "COMPLETED"
    store.save(manifest, etag)
    # Someone puts an older manifest back by hand: the journal was written against another version.
    older = a_large_manifest()
    older["updated"] = "2026-11-21T00:00:00+00:00"
    s3.raw_put(BUCKET, KEY, mf.dumps(older))
    reader = journal_store(s3)
    loaded = reader.load(CAMPAIGN, ORG_ID)[0]
    assert loaded["mailboxes"]["user-0001"]["state"] == "PENDING"
    assert "belongs to another version of the manifest" in reader.journal.ignored
    # A damaged journal is reported the same way.
    s3.raw_put(BUCKET, JOURNAL_KEY, b"{not json")
    reader = journal_store(s3)
    reader.load()
    assert "is damaged" in reader.journal.ignored


def test_a_second_writer_of_the_journal_is_a_conflict():
    s3 = FakeS3()
    journal_store(s3).save(a_large_manifest(), None)
    first, second = journal_store(s3), journal_store(s3)
    mine, etag = first.load()
    theirs, dummy = second.load()
    mine["mailboxes"]["user-0001"]["state"] = "RUNNING"
    theirs["mailboxes"]["user-0002"]["state"] = "RUNNING"
    first.save(mine, etag)
    with pytest.raises(ms.ManifestConflictError, match="manifest.journal.json"):
        second.save(theirs, etag)


def test_the_copy_of_a_large_manifest_is_made_once_per_version():
    s3 = FakeS3()
    journal_store(s3).save(a_large_manifest(), None)
    store = journal_store(s3)
    manifest, etag = store.load()
    assert store.keep_copy(manifest, etag) and s3.count("copy_object") == 1
    manifest["mailboxes"]["user-0001"]["state"] = "RUNNING"
    store.save(manifest, etag)  # the journal records that this version was copied
    store = journal_store(s3)
    manifest, etag = store.load()
    assert store.keep_copy(manifest, etag) and s3.count("copy_object") == 1


def test_a_small_manifest_is_still_written_whole_and_has_no_journal():
    s3 = FakeS3()
    store = ms.ManifestStore(s3_gateway(s3), BUCKET, KEY)
    etag = store.save(a_large_manifest(), None)
    manifest, etag = store.load()
    manifest["mailboxes"]["user-0001"]["state"] = "RUNNING"
    store.save(manifest, etag)
    assert stored(s3, KEY) == manifest and (BUCKET, JOURNAL_KEY) not in s3.objects


def test_a_writer_that_folds_the_journal_meanwhile_changed_by_another_is_a_conflict():
    s3 = FakeS3()
    journal_store(s3).save(a_large_manifest(), None)
    first, second = journal_store(s3, limit=1200), journal_store(s3, limit=1200)
    mine, etag = first.load()
    theirs, dummy = second.load()
    mine["mailboxes"]["user-0001"]["state"] = "RUNNING"
    first.save(mine, etag)  # to the journal
    for number in range(10, 22):  # enough to fold: the manifest would be written whole
        theirs["mailboxes"][f"user-{number:04d}"]["state"] = "RUNNING"
    with pytest.raises(ms.ManifestConflictError, match="manifest.journal.json"):
        second.save(theirs, etag)
    assert journal_store(s3).load()[0]["mailboxes"]["user-0001"]["state"] == "RUNNING"


def test_a_lost_manifest_is_recovered_from_its_copy_with_the_journal_written_against_it():
    s3 = FakeS3()
    journal_store(s3).save(a_large_manifest(), None)
    store = journal_store(s3)
    manifest, etag = store.load()
    store.keep_copy(manifest, etag)
    manifest["mailboxes"]["user-0001"]["state"] = "COMPLETED"
    store.save(manifest, etag)  # the journal, against the version that was copied
    del s3.objects[(BUCKET, KEY)]

    reader = journal_store(s3)
    recovered, dummy = reader.load(CAMPAIGN, ORG_ID)
    assert reader.recovery is not None and reader.journal.ignored is None
    assert recovered["mailboxes"]["user-0001"]["state"] == "COMPLETED"
    # Saved whole again, then changed: no conflict with the journal left from before.
    new_etag = reader.save(recovered, None)
    recovered["mailboxes"]["user-0002"]["state"] = "RUNNING"
    reader.save(recovered, new_etag)
    assert journal_store(s3).load()[0] == recovered
