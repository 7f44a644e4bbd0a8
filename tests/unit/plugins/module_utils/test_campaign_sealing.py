# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sealed parts: a campaign's finished mailboxes move out of its manifest, and every reader still sees them."""

import csv
import io
import json

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import estimate
from ansible_collections.mailops.workmail.plugins.module_utils.campaign_info import campaign_manifest_info
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import ManifestError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import summary
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import validate_manifest
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_error
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.test_campaign_runner import CAMPAIGN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.test_campaign_runner import MANIFEST
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.test_campaign_runner import Organization
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BOB_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROOM_ID

FOLDER = MANIFEST[: -len("manifest.json")]
ALL = sorted([ALICE_ID, BOB_ID, ROOM_ID])


def _finished(batch=2, **params):
    """A campaign whose three mailboxes were exported and verified, run with seal_batch ``batch``."""
    org = Organization(**params)
    org.run(seal_batch=batch)
    org.fake.clock.advance(hours=1)
    org.complete_running()
    return org, org.run(seal_batch=batch)


def _part_keys(org):
    return sorted(key for bucket, key in org.s3.objects if key.startswith(FOLDER + "manifest.sealed-"))


def _info(org):
    return campaign_manifest_info(
        s3_gateway(org.s3), {"s3_bucket": BUCKET, "s3_prefix": PREFIX, "campaign": CAMPAIGN, "organization_id": ORG_ID}
    )


def test_finished_mailboxes_are_sealed_into_a_part_and_the_manifest_keeps_their_totals():
    org, result = _finished()

    assert result["pass"]["sealed"] == 3 and result["done"] is True
    assert (
        result["summary"]["total"] == 3 and result["summary"]["completed"] == 3 and result["summary"]["verified"] == 3
    )
    manifest = org.manifest()
    assert manifest["mailboxes"] == {}
    [part] = manifest["sealed"]
    assert part["ids"] == ALL and part["count"] == 3 and part["level"] == "basic"
    whole = _info(org)["manifest"]
    assert part["size_mb"] == sum(whole["mailboxes"][entity_id]["size_mb"] for entity_id in ALL)
    [key] = _part_keys(org)
    assert key == FOLDER + part["name"] and part["name"].startswith("manifest.sealed-0001-")
    stored = org.s3.objects[(BUCKET, key)]
    assert stored["SSEKMSKeyId"] == KEY_ARN
    sealed = validate_manifest(json.loads(stored["Body"]), CAMPAIGN, ORG_ID)
    assert sorted(sealed["mailboxes"]) == ALL and sealed["part"] == 1
    assert {entry["state"] for entry in sealed["mailboxes"].values()} == {"COMPLETED"}
    assert summary(manifest) == result["summary"]


def test_the_report_lists_the_sealed_mailboxes_too():
    org, result = _finished(report_interval=0)

    assert result["report"]["written"] is True and org.manifest()["mailboxes"] == {}
    rows = list(csv.DictReader(io.StringIO(org.s3.objects[(BUCKET, FOLDER + "report.csv")]["Body"].decode("utf-8"))))
    assert sorted(row["id"] for row in rows) == ALL
    assert {(row["state"], row["verification_outcome"]) for row in rows} == {("COMPLETED", "verified")}


def test_fewer_finished_mailboxes_than_a_batch_stay_in_the_manifest():
    org, result = _finished(batch=4)

    assert result["pass"]["sealed"] == 0 and "sealed" not in org.manifest()
    assert sorted(org.manifest()["mailboxes"]) == ALL and _part_keys(org) == []


def test_a_sealed_campaign_stays_done_and_a_directory_read_neither_asks_nor_adds_its_mailboxes():
    org, dummy = _finished()
    starts, details = org.fake.count("start_mailbox_export_job"), org.fake.count("get_mailbox_details")
    org.fake.clock.advance(days=2)  # the directory is read again

    again = org.run(seal_batch=2)

    assert again["done"] is True and again["started"] == [] and again["pass"]["added"] == 0
    assert org.fake.count("list_users") >= 2 and org.fake.count("get_mailbox_details") == details
    assert org.fake.count("start_mailbox_export_job") == starts
    assert org.manifest()["mailboxes"] == {} and again["summary"]["completed"] == 3


def test_info_returns_the_manifest_whole():
    org, dummy = _finished()

    found = _info(org)

    assert sorted(found["manifest"]["mailboxes"]) == ALL and "sealed" not in found["manifest"]
    assert found["summary"]["total"] == 3 and found["summary"]["verified"] == 3
    assert found["eta"]["basis"] == "done"


def test_the_estimate_counts_the_sealed_jobs():
    org, dummy = _finished(batch=4)
    whole = org.manifest()
    org.fake.clock.advance(minutes=5)
    org.run(seal_batch=2)
    sealed = org.manifest()
    assert "sealed" in sealed and "sealed" not in whole

    before, after = estimate(whole, "2026-11-23T00:00:00Z"), estimate(sealed, "2026-11-23T00:00:00Z")

    for name in ("basis", "eta", "completed_jobs_observed", "mb_per_hour_per_slot", "remaining_mailboxes"):
        assert before[name] == after[name], name


def test_a_missing_part_is_named_by_info_and_by_the_report_and_the_campaign_goes_on():
    org, dummy = _finished()
    [key] = _part_keys(org)
    del org.s3.objects[(BUCKET, key)]

    with pytest.raises(ManifestError, match=r"sealed part s3://.*manifest\.sealed-0001-.* is missing.*3 mailboxes"):
        _info(org)
    org.fake.clock.advance(hours=2)
    again = org.run(seal_batch=2, report_interval=0)
    assert again["done"] is True and again["started"] == []
    assert again["report"]["written"] is False and "is missing" in again["report"]["error"]


def test_a_part_that_is_not_the_one_named_is_refused():
    org, dummy = _finished()
    [key] = _part_keys(org)
    org.s3.raw_put(BUCKET, key, org.s3.objects[(BUCKET, key)]["Body"].replace(b"COMPLETED", b"PENDING"))

    with pytest.raises(ManifestError, match="is not the one the manifest names"):
        _info(org)


def test_a_deeper_verification_puts_the_sealed_mailboxes_back_and_checks_them():
    org, dummy = _finished()
    org.fake.clock.advance(minutes=5)

    result = org.run(seal_batch=2, verify="deep")

    assert result["pass"]["unsealed"] == 3 and result["pass"]["checked_now"] == 3
    assert sorted(org.manifest()["mailboxes"]) == ALL and "sealed" not in org.manifest()
    assert len(_part_keys(org)) == 1  # the part stays: the manifest's copy may name it


def test_a_part_left_by_a_pass_that_died_before_its_manifest_was_saved_is_not_in_the_way():
    org, dummy = _finished(batch=4)
    org.fake.clock.advance(minutes=5)

    def refuse_the_manifest(kwargs):
        if kwargs["Key"] == MANIFEST and _part_keys(org):
            raise s3_error("AccessDenied", 403, "PutObject")
        org.s3.before_put = refuse_the_manifest  # a hook runs once

    org.s3.before_put = refuse_the_manifest  # the part is written, the manifest that names it is not
    with pytest.raises(Exception, match="AccessDenied"):
        org.run(seal_batch=2)
    assert len(_part_keys(org)) == 1 and "sealed" not in org.manifest()
    org.s3.before_put = None

    result = org.run(seal_batch=2)

    assert "sealed" in org.manifest() and result["summary"]["verified"] == 3
    assert len(_part_keys(org)) == 1


def test_the_local_copy_is_the_whole_manifest(tmp_path):
    local = tmp_path / "manifest.json"
    org, dummy = _finished(local_manifest=str(local))

    copy = json.loads(local.read_text())

    assert sorted(copy["mailboxes"]) == ALL and "sealed" not in copy
    assert org.manifest()["mailboxes"] == {}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda part, manifest: part.update(name="../elsewhere.json"), "has no valid name"),
        (lambda part, manifest: part.update(count=2), "do not match its count"),
        (lambda part, manifest: manifest["mailboxes"].update({ALICE_ID: _entry(ALICE_ID)}), "also elsewhere"),
        (lambda part, manifest: part.update(level="none"), "level is missing"),
    ],
)
def test_a_manifest_whose_sealed_parts_do_not_add_up_is_refused(change, message):
    org, dummy = _finished()
    manifest = org.manifest()
    change(manifest["sealed"][0], manifest)

    with pytest.raises(ManifestError, match=message):
        validate_manifest(manifest)


def _entry(entity_id):
    return {"id": entity_id, "state": "PENDING", "attempts": [], "object": None}


def test_a_missing_part_does_not_fail_a_pass_for_its_local_copy_and_is_named_when_the_directory_is_read(tmp_path):
    local = tmp_path / "manifest.json"
    org, dummy = _finished(local_manifest=str(local))
    [key] = _part_keys(org)
    del org.s3.objects[(BUCKET, key)]
    org.fake.clock.advance(days=2)  # the directory is read again, and the parts' names listed with it

    result = org.run(seal_batch=2, local_manifest=str(local))

    assert result["done"] is True and result["started"] == []
    [problem] = result["sealed_part_problems"]
    assert key.rsplit("/", 1)[1] in problem and "is missing" in problem and "3 mailboxes" in problem
    assert "Restore the object" in problem
    assert "was not written" in result["local_manifest_error"] and "is missing" in result["local_manifest_error"]


def test_a_part_that_cannot_be_read_stays_sealed_when_a_deeper_verify_puts_the_others_back():
    org, dummy = _finished()
    [key] = _part_keys(org)
    del org.s3.objects[(BUCKET, key)]
    org.fake.clock.advance(minutes=5)

    result = org.run(seal_batch=2, verify="deep")

    assert result["pass"]["unsealed"] == 0 and result["done"] is True
    [problem] = result["sealed_part_problems"]
    assert "is missing" in problem and "a deeper verify leaves those mailboxes unchecked" in problem
    assert org.manifest()["sealed"][0]["ids"] == ALL
