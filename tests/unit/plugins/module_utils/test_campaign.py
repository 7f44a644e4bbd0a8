# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import json
import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import campaign as cp
from ansible_collections.mailops.workmail.plugins.module_utils import manifest as mf
from ansible_collections.mailops.workmail.plugins.module_utils import tokens
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import OTHER_ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
CAMPAIGN = "wave-1"


def iso(moment):
    return moment.isoformat()


def mailbox_id(number):
    return f"{number:08x}-0000-4000-8000-{number:012x}"


def a_manifest(sizes):
    """A manifest with one PENDING user mailbox per size (ids mailbox_id(1), mailbox_id(2), ...)."""
    manifest = mf.new_manifest(CAMPAIGN, ORG_ID, "us-east-1", BUCKET, PREFIX, KEY_ARN, ROLE_ARN, NOW)
    mf.add_mailboxes(
        manifest,
        [
            {"id": mailbox_id(n), "email": f"u{n}@example.com", "name": f"u{n}", "type": "USER", "size_mb": size}
            for n, size in enumerate(sizes, start=1)
        ],
    )
    return manifest


def token(entity_id, attempt=1):
    return tokens.campaign_client_token(ORG_ID, entity_id, CAMPAIGN, attempt)


def listed(job_id, entity_id, state="RUNNING", started=NOW, client_token=None, **extra):
    job = {
        "JobId": job_id,
        "EntityId": entity_id,
        "Description": build_description("", client_token) if client_token else "",
        "S3BucketName": BUCKET,
        "S3Path": f"{PREFIX}/{entity_id}/{job_id}.zip",
        "EstimatedProgress": 100 if state == "COMPLETED" else 10,
        "State": state,
        "StartTime": started,
    }
    if state != "RUNNING":
        job["EndTime"] = started + timedelta(minutes=30)
    job.update(extra)
    return job


def started(manifest, entity_id, job_id, at=NOW, attempt=1):
    mf.record_start(manifest, entity_id, attempt, token(entity_id, attempt), job_id, at)


# Tokens


def test_campaign_token_is_stable_and_documented():
    value = token("11111111-2222-3333-4444-555555555555")
    document = {
        "attempt": 1,
        "campaign": CAMPAIGN,
        "entity_id": "11111111-2222-3333-4444-555555555555",
        "organization_id": ORG_ID,
    }
    import hashlib  # pylint: disable=import-outside-toplevel

    digest = hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert value == "mailops-c-" + digest[:48]
    assert value == token("11111111-2222-3333-4444-555555555555")
    assert re.fullmatch(r"mailops-c-[0-9a-f]{48}", value)
    assert len(value) <= 128


def test_campaign_token_changes_with_every_input():
    base = (ORG_ID, mailbox_id(1), CAMPAIGN, 1)
    variants = [
        (OTHER_ORG_ID, mailbox_id(1), CAMPAIGN, 1),
        (ORG_ID, mailbox_id(2), CAMPAIGN, 1),
        (ORG_ID, mailbox_id(1), "wave-2", 1),
        (ORG_ID, mailbox_id(1), CAMPAIGN, 2),
    ]
    derived = {tokens.campaign_client_token(*args) for args in [base] + variants}
    assert len(derived) == 5


@pytest.mark.parametrize("attempt", [0, -1, "1", True, None])
def test_campaign_token_rejects_bad_attempt(attempt):
    with pytest.raises(ValueError):
        tokens.campaign_client_token(ORG_ID, mailbox_id(1), CAMPAIGN, attempt)


# Selection

USERS = [
    {"Id": "u-alice", "Email": "alice@example.com", "Name": "alice", "State": "ENABLED", "UserRole": "USER"},
    {"Id": "u-bob", "Email": "bob@example.com", "Name": "bob", "State": "DISABLED", "UserRole": "USER"},
    {"Id": "u-gone", "Email": "gone@example.com", "Name": "gone", "State": "DELETED", "UserRole": "USER"},
    {
        "Id": "u-sys",
        "Email": "postmaster@example.com",
        "Name": "postmaster",
        "State": "ENABLED",
        "UserRole": "SYSTEM_USER",
    },
    {"Id": "u-carol", "Email": "Carol@Sales.example.com", "Name": "carol", "State": "ENABLED", "UserRole": "USER"},
    {"Id": "u-noemail", "Name": "noemail", "State": "ENABLED", "UserRole": "USER"},
]
RESOURCES = [
    {"Id": "r-room", "Email": "room1@example.com", "Name": "room1", "State": "ENABLED", "Type": "ROOM"},
    {"Id": "r-old", "Email": "old@example.com", "Name": "oldroom", "State": "DISABLED", "Type": "ROOM"},
    {"Id": "r-del", "Email": "del@example.com", "Name": "delroom", "State": "DELETED", "Type": "EQUIPMENT"},
]


@pytest.mark.parametrize(
    "options, expected",
    [
        ({}, ["u-alice", "u-sys", "u-carol", "u-noemail", "r-room"]),
        ({"include_disabled": True}, ["u-alice", "u-bob", "u-sys", "u-carol", "u-noemail", "r-room", "r-old"]),
        ({"skip_system_users": True}, ["u-alice", "u-carol", "u-noemail", "r-room"]),
        ({"include": ["*@sales.example.com"]}, ["u-carol"]),
        ({"include": ["A*"]}, ["u-alice"]),
        ({"include": ["r-*"]}, ["r-room"]),
        ({"include": ["room?"]}, ["r-room"]),
        ({"include": "alice@example.com"}, ["u-alice"]),
        ({"exclude": ["postmaster*", "*@sales.*"]}, ["u-alice", "u-noemail", "r-room"]),
        ({"include": ["*example.com"], "exclude": ["ROOM1@*"]}, ["u-alice", "u-sys", "u-carol"]),
        (
            {"include": ["u-*"], "include_disabled": True, "exclude": ["u-alice"]},
            ["u-bob", "u-sys", "u-carol", "u-noemail"],
        ),
        ({"include": ["nobody*"]}, []),
        ({"explicit": ["ALICE@example.com", "room1", "u-carol"]}, ["u-alice", "u-carol", "r-room"]),
        ({"explicit": ["bob"], "include_disabled": True}, ["u-bob"]),
        ({"explicit": ["u-alice", "alice", "alice@example.com"]}, ["u-alice"]),
    ],
)
def test_select_mailboxes(options, expected):
    selected = cp.select_mailboxes(USERS, RESOURCES, **options)
    assert [mailbox["id"] for mailbox in selected] == expected


def test_select_mailboxes_shapes():
    selected = cp.select_mailboxes(USERS, RESOURCES, explicit=["alice", "room1", "noemail"])
    assert selected == [
        {"id": "u-alice", "email": "alice@example.com", "name": "alice", "type": "USER"},
        {"id": "u-noemail", "email": None, "name": "noemail", "type": "USER"},
        {"id": "r-room", "email": "room1@example.com", "name": "room1", "type": "RESOURCE"},
    ]


@pytest.mark.parametrize(
    "options, missing",
    [
        ({"explicit": ["alice", "nobody", "bob"]}, ["nobody", "bob"]),
        ({"explicit": ["gone@example.com"], "include_disabled": True}, ["gone@example.com"]),
        ({"explicit": ["postmaster"], "skip_system_users": True}, ["postmaster"]),
        ({"explicit": ["del@example.com"]}, ["del@example.com"]),
    ],
)
def test_select_explicit_reports_unmatched(options, missing):
    with pytest.raises(ParameterError) as info:
        cp.select_mailboxes(USERS, RESOURCES, **options)
    assert info.value.parameter == "explicit"
    assert info.value.details["unmatched"] == missing
    assert ", ".join(missing) in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        {"explicit": ["alice"], "include": ["*"]},
        {"explicit": ["alice"], "exclude": ["bob"]},
        {"explicit": []},
        {"include": [""]},
        {"exclude": [3]},
    ],
)
def test_select_rejects_bad_options(options):
    with pytest.raises(ParameterError):
        cp.select_mailboxes(USERS, RESOURCES, **options)


# Plan: scheduling


def test_plan_fills_ten_slots_largest_first():
    sizes = [5, 900, 30, None, 900, 70, 1, 2, 3, 4, 500, 600, 0]
    manifest = a_manifest(sizes)
    result = cp.plan(manifest, [], NOW)
    assert result.free_slots == 10
    assert result.own_running == 0 and result.foreign_running == []
    assert [item["size_mb"] for item in result.to_start] == [900, 900, 600, 500, 70, 30, 5, 4, 3, 2]
    # ties by id
    assert [item["id"] for item in result.to_start[:2]] == [mailbox_id(2), mailbox_id(5)]
    assert all(item["attempt"] == 1 and not item["resume"] for item in result.to_start)
    assert result.to_start[0]["client_token"] == token(mailbox_id(2))
    assert result.updates == [] and not result.done
    assert result.now == iso(NOW)


def test_plan_unknown_sizes_last():
    manifest = a_manifest([None, 0, None])
    result = cp.plan(manifest, [], NOW, max_concurrent_jobs=3)
    assert [item["id"] for item in result.to_start] == [mailbox_id(2), mailbox_id(1), mailbox_id(3)]


def test_plan_counts_own_and_foreign_running_jobs():
    manifest = a_manifest([10] * 12)
    for n in range(1, 4):
        started(manifest, mailbox_id(n), f"job-{n}")
    listing = [listed(f"job-{n}", mailbox_id(n), client_token=token(mailbox_id(n))) for n in range(1, 4)]
    listing += [
        listed("foreign-1", "someone-else"),
        listed("foreign-2", "x", client_token="mailops-0123"),
        listed("foreign-done", "y", state="COMPLETED"),
        listed(
            "other-campaign", mailbox_id(9), client_token=tokens.campaign_client_token(ORG_ID, mailbox_id(9), "old", 1)
        ),
    ]
    result = cp.plan(manifest, listing, NOW)
    assert result.own_running == 3
    assert [job["job_id"] for job in result.foreign_running] == ["foreign-1", "foreign-2", "other-campaign"]
    assert result.foreign_running[0] == {
        "job_id": "foreign-1",
        "entity_id": "someone-else",
        "state": "RUNNING",
        "start_time": iso(NOW),
    }
    assert result.free_slots == 4
    assert len(result.to_start) == 4
    assert {item["id"] for item in result.to_start}.isdisjoint({mailbox_id(n) for n in range(1, 4)})


def test_plan_no_free_slots_with_many_foreign_jobs():
    manifest = a_manifest([10, 20])
    listing = [listed(f"foreign-{n}", f"e{n}") for n in range(11)]
    result = cp.plan(manifest, listing, NOW)
    assert result.free_slots == 0 and result.to_start == [] and not result.done


def test_plan_respects_max_concurrent_jobs():
    result = cp.plan(a_manifest([1, 2, 3, 4]), [], NOW, max_concurrent_jobs=2)
    assert [item["size_mb"] for item in result.to_start] == [4, 3]


@pytest.mark.parametrize("options", [{"max_concurrent_jobs": 0}, {"max_concurrent_jobs": 11}, {"max_attempts": 0}])
def test_plan_rejects_bad_limits(options):
    with pytest.raises(ParameterError):
        cp.plan(a_manifest([1]), [], NOW, **options)


# Plan: matching the listing


def test_plan_matches_by_job_id_and_records_completion():
    manifest = a_manifest([10, 20])
    started(manifest, mailbox_id(1), "job-1")
    listing = [listed("job-1", mailbox_id(1), state="COMPLETED")]
    result = cp.plan(manifest, listing, NOW + timedelta(hours=1))
    assert result.updates == [
        {
            "id": mailbox_id(1),
            "attempt": 1,
            "fields": {
                "state": "COMPLETED",
                "end_time": iso(NOW + timedelta(minutes=30)),
                "s3_path": f"{PREFIX}/{mailbox_id(1)}/job-1.zip",
            },
            "state": "COMPLETED",
        }
    ]
    assert result.own_running == 0 and result.free_slots == 10
    assert [item["id"] for item in result.to_start] == [mailbox_id(2)]
    assert manifest["mailboxes"][mailbox_id(1)]["state"] == "RUNNING"  # plan does not change the manifest
    assert mf.apply_updates(manifest, result.updates, result.now) is True
    entry = manifest["mailboxes"][mailbox_id(1)]
    assert entry["state"] == "COMPLETED"
    assert entry["attempts"][0]["state"] == "COMPLETED"
    assert entry["attempts"][0]["job_id"] == "job-1"
    assert manifest["updated"] == iso(NOW + timedelta(hours=1))
    json.dumps(manifest)


def test_plan_matches_by_marker_when_job_id_was_never_saved():
    """A crash between StartMailboxExportJob and the save: the attempt has a token but no job id."""
    manifest = a_manifest([10])
    entity = mailbox_id(1)
    mf.record_start(manifest, entity, 1, token(entity), None, NOW)
    listing = [listed("job-x", entity, client_token=token(entity)), listed("job-y", entity, client_token="other")]
    result = cp.plan(manifest, listing, NOW + timedelta(minutes=5))
    fields = {"job_id": "job-x", "s3_path": f"{PREFIX}/{entity}/job-x.zip"}
    assert result.updates == [{"id": entity, "attempt": 1, "fields": fields, "state": "RUNNING"}]
    assert result.own_running == 1
    assert [job["job_id"] for job in result.foreign_running] == ["job-y"]
    assert result.to_start == [] and result.to_describe == []
    mf.apply_updates(manifest, result.updates, result.now)
    assert manifest["mailboxes"][entity]["attempts"][0]["job_id"] == "job-x"
    # The next pass matches it by job id and counts it once.
    again = cp.plan(manifest, listing, NOW + timedelta(minutes=6))
    assert again.updates == [] and again.own_running == 1 and len(again.foreign_running) == 1


def test_plan_resumes_unconfirmed_start_not_in_listing():
    """The attempt was recorded but Start never reached AWS (or its job is not listed yet): start it again with the
    same token, before any new mailbox."""
    manifest = a_manifest([1, 500])
    entity = mailbox_id(1)
    mf.record_start(manifest, entity, 1, token(entity), None, NOW)
    result = cp.plan(manifest, [], NOW, max_concurrent_jobs=2)
    assert result.to_start == [
        {"id": entity, "attempt": 1, "client_token": token(entity), "size_mb": 1, "resume": True},
        {"id": mailbox_id(2), "attempt": 1, "client_token": token(mailbox_id(2)), "size_mb": 500, "resume": False},
    ]
    assert result.own_running == 1 and result.free_slots == 1


def test_plan_running_job_missing_from_listing_is_described():
    manifest = a_manifest([10])
    entity = mailbox_id(1)
    started(manifest, entity, "job-old", at=NOW - timedelta(days=8))
    result = cp.plan(manifest, [], NOW)
    assert result.to_describe == [{"id": entity, "attempt": 1, "job_id": "job-old", "reason": cp.DESCRIBE_NOT_LISTED}]
    assert result.updates == [] and result.own_running == 1 and result.free_slots == 9 and not result.done
    assert manifest["mailboxes"][entity]["attempts"][0]["state"] == "RUNNING"


def test_record_job_from_describe():
    manifest = a_manifest([10])
    entity = mailbox_id(1)
    started(manifest, entity, "job-old", at=NOW - timedelta(days=8))
    described = listed("job-old", entity, state="COMPLETED", started=NOW - timedelta(days=8))
    described.update(S3Path="p/x.zip", RoleArn=ROLE_ARN)
    record = mf.record_job(manifest, entity, 1, described, NOW)
    assert record["state"] == "COMPLETED" and record["s3_path"] == "p/x.zip"
    assert record["start_time"] == iso(NOW - timedelta(days=8))
    assert manifest["mailboxes"][entity]["state"] == "COMPLETED"
    assert cp.plan(manifest, [], NOW).done


# Plan: failures and retries


def failed_once(max_attempts=3, failed_at=NOW):
    manifest = a_manifest([10])
    entity = mailbox_id(1)
    started(manifest, entity, "job-1", at=failed_at)
    listing = [listed("job-1", entity, state="FAILED", started=failed_at)]
    result = cp.plan(manifest, listing, failed_at + timedelta(hours=1), max_attempts=max_attempts)
    mf.apply_updates(manifest, result.updates, result.now)
    return manifest, entity, listing, result


def test_failed_job_waits_for_24_hours_then_retries_with_new_token():
    manifest, entity, listing, result = failed_once()
    assert result.updates[0]["state"] == "FAILED"
    assert result.to_describe == [{"id": entity, "attempt": 1, "job_id": "job-1", "reason": cp.DESCRIBE_ERROR_INFO}]
    assert result.to_start == []
    assert result.waiting_24h == [{"id": entity, "eligible": iso(NOW + timedelta(hours=24))}]
    assert not result.done

    mf.record_job(manifest, entity, 1, {"JobId": "job-1", "State": "FAILED", "ErrorInfo": "role denied"}, NOW)
    assert manifest["mailboxes"][entity]["attempts"][0]["error_info"] == "role denied"

    early = cp.plan(manifest, listing, NOW + timedelta(hours=23, minutes=59))
    assert early.to_start == [] and early.waiting_24h and early.to_describe == []
    due = cp.plan(manifest, listing, NOW + timedelta(hours=24))
    assert due.waiting_24h == []
    assert due.to_start == [
        {"id": entity, "attempt": 2, "client_token": token(entity, 2), "size_mb": 10, "resume": False}
    ]
    assert token(entity, 2) != token(entity, 1)


def test_failed_job_becomes_permanent_after_max_attempts():
    manifest, entity, dummy, result = failed_once(max_attempts=1)
    assert result.updates[0]["state"] == "FAILED_PERMANENTLY"
    assert result.waiting_24h == [] and result.to_start == []
    assert result.done
    assert manifest["mailboxes"][entity]["state"] == "FAILED_PERMANENTLY"


def test_third_failure_is_permanent():
    manifest, entity, dummy, dummy2 = failed_once()
    for attempt, at in ((2, NOW + timedelta(days=1)), (3, NOW + timedelta(days=2))):
        started(manifest, entity, f"job-{attempt}", at=at, attempt=attempt)
        listing = [listed(f"job-{attempt}", entity, state="FAILED", started=at)]
        result = cp.plan(manifest, listing, at + timedelta(hours=1))
        mf.apply_updates(manifest, result.updates, result.now)
    assert manifest["mailboxes"][entity]["state"] == "FAILED_PERMANENTLY"
    assert len(manifest["mailboxes"][entity]["attempts"]) == 3
    assert result.done


def test_lower_max_attempts_turns_failed_into_permanent():
    manifest, entity, listing, dummy = failed_once()
    result = cp.plan(manifest, listing, NOW + timedelta(days=2), max_attempts=1)
    assert result.updates == [{"id": entity, "attempt": None, "fields": None, "state": "FAILED_PERMANENTLY"}]
    assert result.done


def test_cancelled_job_counts_as_failed_attempt():
    manifest = a_manifest([10])
    entity = mailbox_id(1)
    started(manifest, entity, "job-1")
    result = cp.plan(manifest, [listed("job-1", entity, state="CANCELLED")], NOW + timedelta(hours=1))
    assert result.updates[0]["state"] == "FAILED"
    assert result.updates[0]["fields"]["error_info"] == "the job was CANCELLED"
    assert result.to_describe == []


# Plan: done


def test_done_detection():
    manifest = a_manifest([1, 2, 3, 4])
    states = ["COMPLETED", "SKIPPED", "FAILED_PERMANENTLY", "COMPLETED"]
    for n, state in enumerate(states, start=1):
        manifest["mailboxes"][mailbox_id(n)]["state"] = state
    result = cp.plan(manifest, [listed("foreign", "x")], NOW)
    assert result.done and result.to_start == [] and result.updates == []
    manifest["mailboxes"][mailbox_id(4)]["state"] = "PENDING"
    assert not cp.plan(manifest, [], NOW).done


def test_plan_as_dict_is_json_ready():
    result = cp.plan(a_manifest([1]), [], NOW)
    assert json.loads(json.dumps(result.as_dict()))["free_slots"] == 10


# Recording


def test_record_start_before_and_after_the_call():
    manifest = a_manifest([10])
    entity = mailbox_id(1)
    record = mf.record_start(manifest, entity, 1, token(entity), None, NOW)
    assert record == {
        "attempt": 1,
        "client_token": token(entity),
        "job_id": None,
        "state": "RUNNING",
        "start_time": iso(NOW),
        "end_time": None,
        "error_info": None,
        "s3_path": None,
    }
    assert manifest["mailboxes"][entity]["state"] == "RUNNING"
    mf.record_start(manifest, entity, 1, token(entity), "job-1", NOW + timedelta(seconds=1))
    assert manifest["mailboxes"][entity]["attempts"] == [dict(record, job_id="job-1")]
    with pytest.raises(ValueError):
        mf.record_start(manifest, entity, 3, token(entity, 3), None, NOW)
    with pytest.raises(ValueError):
        mf.record_start(manifest, "unknown", 1, "t", None, NOW)
    mf.validate_manifest(manifest)


def test_forget_attempt_after_refused_start():
    manifest, entity, dummy, dummy2 = failed_once()
    mf.record_start(manifest, entity, 2, token(entity, 2), None, NOW + timedelta(days=1))
    mf.forget_attempt(manifest, entity, 2, NOW + timedelta(days=1))
    assert manifest["mailboxes"][entity]["state"] == "FAILED"
    assert len(manifest["mailboxes"][entity]["attempts"]) == 1
    fresh = a_manifest([1])
    mf.record_start(fresh, mailbox_id(1), 1, token(mailbox_id(1)), None, NOW)
    mf.forget_attempt(fresh, mailbox_id(1), 1, NOW)
    assert fresh["mailboxes"][mailbox_id(1)]["state"] == "PENDING"
    mf.record_start(fresh, mailbox_id(1), 1, token(mailbox_id(1)), "job-1", NOW)
    with pytest.raises(ValueError):
        mf.forget_attempt(fresh, mailbox_id(1), 1, NOW)


def test_record_object_and_summary():
    manifest = a_manifest([1, 2, 3, 4, 5, 6, 7])
    states = ["COMPLETED", "COMPLETED", "RUNNING", "FAILED", "FAILED_PERMANENTLY", "SKIPPED", "PENDING"]
    for n, state in enumerate(states, start=1):
        manifest["mailboxes"][mailbox_id(n)]["state"] = state
    obj = mf.record_object(
        manifest, mailbox_id(1), NOW, key="p/a.zip", size=10, sse="aws:kms", kms_key_id=KEY_ARN, level="basic"
    )
    assert obj == {
        "key": "p/a.zip",
        "size": 10,
        "etag": None,
        "sse": "aws:kms",
        "kms_key_id": KEY_ARN,
        "found_by": None,
        "outcome": "contradicted",
        "verified": False,
        "refused": False,
        "sha384": None,
        "problem": None,
        "level": "basic",
        "checked": None,
        "log_key": None,
        "log_sha384": None,
        "log_messages": None,
        "archive_entries": None,
        "archive_messages": None,
    }
    mf.record_object(manifest, mailbox_id(1), NOW, outcome="verified", verified=True, sha384="ab" * 48)
    assert manifest["mailboxes"][mailbox_id(1)]["object"]["key"] == "p/a.zip"
    mf.record_object(manifest, mailbox_id(2), NOW, outcome="unchecked", level="deep", problem="no export log found")
    assert mf.unchecked_exports(manifest) == [
        {
            "id": mailbox_id(2),
            "email": manifest["mailboxes"][mailbox_id(2)]["email"],
            "level": "deep",
            "problem": "no export log found",
            "checked": None,
        }
    ]
    assert mf.verification_problems(manifest) == []
    with pytest.raises(ValueError):
        mf.record_object(manifest, mailbox_id(1), NOW, colour="red")
    assert mf.summary(manifest) == {
        "total": 7,
        "completed": 2,
        "running": 1,
        "pending": 1,
        "failed": 1,
        "failed_permanently": 1,
        "skipped": 1,
        "verified": 1,
        "unchecked": 1,
    }
    mf.validate_manifest(manifest)


def test_records_written_before_outcomes_tell_theirs_by_verified_and_refused():
    assert mf.object_outcome(None) is None
    assert mf.object_outcome({"verified": True}) == "verified"
    assert mf.object_outcome({"verified": False, "refused": True}) == "unchecked"
    assert mf.object_outcome({"verified": False, "refused": False, "problem": "empty"}) == "contradicted"


def test_the_directory_is_read_again_only_when_needed():
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    params = {"include_disabled": False, "skip_system_users": True, "include": ["*@example.com"]}
    manifest = {}
    assert cp.needs_discovery(manifest, params, moment)  # never read

    manifest["discovery"] = {"at": iso8601(moment), "selection": cp.selection_options(params)}
    assert not cp.needs_discovery(manifest, params, moment + timedelta(hours=23, minutes=59))
    assert cp.needs_discovery(manifest, params, moment + timedelta(hours=24))
    assert cp.needs_discovery(manifest, dict(params, include_disabled=True), moment)
    assert cp.needs_discovery(manifest, dict(params, mailboxes=["alice"]), moment)


def test_a_large_directory_is_read_less_often_but_always_again_before_the_campaign_can_be_done():
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    params = {"include_disabled": False, "skip_system_users": False}
    manifest = mf.new_manifest("c", ORG_ID, "us-east-1", BUCKET, PREFIX, KEY_ARN, ROLE_ARN, moment)
    mf.add_mailboxes(manifest, [{"id": f"u{index}", "email": None, "name": None} for index in range(3)], moment)
    # 10,000 users and resources: 100 pages a reading, read again after 7 days while mailboxes wait to start
    manifest["discovery"] = {"at": iso8601(moment), "selection": cp.selection_options(params), "selected": 3}
    manifest["discovery"]["pages"] = 100
    assert not cp.needs_discovery(manifest, params, moment + timedelta(days=6, hours=23))
    assert cp.needs_discovery(manifest, params, moment + timedelta(days=7))
    # 30 pages: every 3 days
    manifest["discovery"]["pages"] = 30
    assert not cp.needs_discovery(manifest, params, moment + timedelta(days=2, hours=23))
    assert cp.needs_discovery(manifest, params, moment + timedelta(days=3))
    # no mailbox left to start: a reading older than a day is refreshed before the campaign can be done
    for entry in manifest["mailboxes"].values():
        entry["state"] = mf.RUNNING
    assert not cp.needs_discovery(manifest, params, moment + timedelta(hours=23))
    assert cp.needs_discovery(manifest, params, moment + timedelta(hours=24))


# The 24-hour rule does not stall a campaign


def test_mailboxes_exported_elsewhere_today_give_their_slots_to_the_next_ones():
    manifest = a_manifest([500, 400, 300, 200, 100])
    listing = [
        listed("by-hand-1", mailbox_id(1), state="COMPLETED", started=NOW - timedelta(hours=3)),
        listed("other-campaign", mailbox_id(2), state="COMPLETED", started=NOW - timedelta(hours=23)),
        listed("yesterday", mailbox_id(3), state="COMPLETED", started=NOW - timedelta(hours=24, minutes=1)),
    ]
    result = cp.plan(manifest, listing, NOW, max_concurrent_jobs=2)
    assert [item["id"] for item in result.to_start] == [mailbox_id(3), mailbox_id(4)]
    assert result.blocked_24h == [
        {"id": mailbox_id(2), "job_id": "other-campaign", "eligible": iso(NOW + timedelta(hours=1))},
        {"id": mailbox_id(1), "job_id": "by-hand-1", "eligible": iso(NOW + timedelta(hours=21))},
    ]
    assert not result.done
    later = cp.plan(manifest, listing, NOW + timedelta(hours=1), max_concurrent_jobs=5)
    assert [item["id"] for item in later.to_start] == [mailbox_id(2), mailbox_id(3), mailbox_id(4), mailbox_id(5)]
    assert [item["id"] for item in later.blocked_24h] == [mailbox_id(1)]


def test_a_due_retry_with_a_newer_foreign_job_is_blocked_by_that_job():
    manifest = a_manifest([500, 400])
    started(manifest, mailbox_id(1), "job-1", at=NOW - timedelta(hours=30))
    failed = listed("job-1", mailbox_id(1), state="FAILED", started=NOW - timedelta(hours=30))
    mf.record_job(manifest, mailbox_id(1), 1, failed, NOW)
    listing = [listed("by-hand", mailbox_id(1), state="RUNNING", started=NOW - timedelta(hours=2))]
    result = cp.plan(manifest, listing, NOW)
    assert result.waiting_24h == []
    assert result.blocked_24h == [
        {"id": mailbox_id(1), "job_id": "by-hand", "eligible": iso(NOW + timedelta(hours=22))}
    ]
    assert [item["id"] for item in result.to_start] == [mailbox_id(2)]
    assert len(result.foreign_running) == 1 and result.free_slots == 9


# Repairs: AWS is the truth, the manifest its record


def test_an_entry_whose_attempts_say_completed_is_completed_again():
    manifest = a_manifest([100])
    started(manifest, mailbox_id(1), "job-1")
    mf.record_job(manifest, mailbox_id(1), 1, listed("job-1", mailbox_id(1), state="COMPLETED"), NOW)
    manifest["mailboxes"][mailbox_id(1)]["state"] = "PENDING"  # flipped by hand
    repairs = cp.repair(manifest, [], NOW, 3)
    assert manifest["mailboxes"][mailbox_id(1)]["state"] == "COMPLETED"
    assert repairs == [
        {
            "id": mailbox_id(1),
            "email": "u1@example.com",
            "problem": "the manifest said PENDING, but an attempt of this campaign COMPLETED",
            "repair": "recorded it as COMPLETED",
        }
    ]
    assert cp.repair(manifest, [], NOW, 3) == []
    assert cp.plan(manifest, [], NOW).to_start == []


def test_completed_without_a_completed_job_is_exported():
    manifest = a_manifest([100, 50])
    manifest["mailboxes"][mailbox_id(2)]["state"] = "COMPLETED"
    repairs = cp.repair(manifest, [], NOW, 3)
    assert [(item["id"], item["repair"]) for item in repairs] == [(mailbox_id(2), "recorded it as PENDING")]
    assert "no attempt of this campaign completed" in repairs[0]["problem"]
    assert [item["id"] for item in cp.plan(manifest, [], NOW).to_start] == [mailbox_id(1), mailbox_id(2)]


def test_jobs_of_this_campaign_missing_from_the_manifest_are_recorded_not_started_again():
    manifest = a_manifest([100, 50])
    listing = [
        listed(
            "job-a1",
            mailbox_id(1),
            state="FAILED",
            started=NOW - timedelta(hours=30),
            client_token=token(mailbox_id(1), 1),
        ),
        listed(
            "job-a2",
            mailbox_id(1),
            state="COMPLETED",
            started=NOW - timedelta(hours=5),
            client_token=token(mailbox_id(1), 2),
        ),
        listed(
            "job-b1",
            mailbox_id(2),
            state="RUNNING",
            started=NOW - timedelta(minutes=5),
            client_token=token(mailbox_id(2), 1),
        ),
        listed(
            "other",
            mailbox_id(2),
            state="COMPLETED",
            client_token=tokens.campaign_client_token(ORG_ID, mailbox_id(2), "other", 1),
        ),
    ]
    repairs = cp.repair(manifest, listing, NOW, 3)
    first, second = manifest["mailboxes"][mailbox_id(1)], manifest["mailboxes"][mailbox_id(2)]
    assert [attempt["job_id"] for attempt in first["attempts"]] == ["job-a1", "job-a2"] and first[
        "state"
    ] == "COMPLETED"
    assert [attempt["job_id"] for attempt in second["attempts"]] == ["job-b1"] and second["state"] == "RUNNING"
    assert [item["problem"] for item in repairs] == [
        "job job-a1 (FAILED) of this campaign, attempt 1, was not on record",
        "job job-a2 (COMPLETED) of this campaign, attempt 2, was not on record",
        "job job-b1 (RUNNING) of this campaign, attempt 1, was not on record",
    ]
    mf.validate_manifest(manifest)
    assert cp.plan(manifest, listing, NOW).to_start == []
    assert cp.repair(manifest, listing, NOW, 3) == []
