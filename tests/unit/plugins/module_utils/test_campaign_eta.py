# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The campaign's estimated end (``_campaign.eta``) and its compact history (``_campaign.history``)."""

import copy
import json
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import BASIS_DONE
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import BASIS_FEW
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import BASIS_NONE
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import BASIS_STEADY
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import estimate
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import schedule_end
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import summary_line
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import MAX_POINTS
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import MIN_SPACING
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import PassHistory
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import points
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import record_point
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import spacing
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import thin
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE_MARGIN_DAYS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import add_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import new_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_job
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_start
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_campaign_info_params
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_deadline

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
ORG = "m-" + "0" * 32
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/workmail-export"


def campaign(sizes):
    """A manifest of mailboxes ``m0, m1, ...`` of ``sizes`` MB, all PENDING."""
    manifest = new_manifest("eta", ORG, "us-east-1", "bucket", "", KEY, ROLE, T0)
    add_mailboxes(
        manifest,
        [{"id": f"m{index}", "email": f"u{index}@example.com", "size_mb": size} for index, size in enumerate(sizes)],
    )
    return manifest


def run(manifest, entity_id, start, hours=None, state="COMPLETED"):
    """Attempt 1 of ``entity_id`` started at ``start``; ended ``hours`` later in ``state`` (still running: None)."""
    record_start(manifest, entity_id, 1, f"token-{entity_id}", f"job-{entity_id}", start)
    if hours is not None:
        raw = {
            "JobId": f"job-{entity_id}",
            "State": state,
            "StartTime": start,
            "EndTime": start + timedelta(hours=hours),
        }
        record_job(manifest, entity_id, 1, raw, start + timedelta(hours=hours))


def hours_after(text, moment=T0):
    return round((to_datetime(text) - moment).total_seconds() / 3600.0, 3)


def test_no_history_gives_no_date_but_says_why():
    manifest = campaign([1000] * 20)
    eta = estimate(manifest, T0)
    assert eta["basis"] == BASIS_NONE
    assert (eta["eta"], eta["early"], eta["late"]) == (None, None, None)
    assert eta["completed_jobs_observed"] == 0 and eta["mb_per_hour_per_slot"] is None
    assert eta["remaining_mailboxes"] == 20 and eta["remaining_mb"] == 20000
    assert "no job of the campaign has completed yet" in eta["basis_text"]
    assert eta["deadline"] == iso8601(DEFAULT_DEADLINE) and eta["margin_days"] == DEFAULT_DEADLINE_MARGIN_DAYS
    assert eta["at_risk"] is False and eta["warning"] is None and eta["advice"] == []
    assert summary_line(eta) == "ETA unknown (no job completed yet)"


def test_no_history_close_to_the_deadline_is_at_risk():
    eta = estimate(campaign([10]), datetime(2027, 3, 20, tzinfo=timezone.utc))
    assert eta["basis"] == BASIS_NONE and eta["at_risk"] is True
    assert "now (2027-03-20T00:00:00+00:00) is past 2027-03-17T00:00:00+00:00" in eta["warning"]


def test_few_jobs_give_a_wide_range_around_the_schedule():
    # 40 mailboxes of 1000 MB, 10 slots; one job of 1000 MB took 2 hours: 500 MB per hour per slot.
    manifest = campaign([1000] * 40)
    run(manifest, "m0", T0, 2)
    now = T0 + timedelta(hours=2)
    eta = estimate(manifest, now, max_concurrent_jobs=10, foreign_running=0)
    assert eta["basis"] == BASIS_FEW and eta["completed_jobs_observed"] == 1
    assert eta["mb_per_hour_per_slot"] == 500.0
    # 39 jobs of 2 hours on 10 slots: 4 rounds, 8 hours; one job seen: the range is half to twice that.
    assert hours_after(eta["eta"], now) == 8.0
    assert hours_after(eta["early"], now) == 4.0
    assert hours_after(eta["late"], now) == 16.0
    assert eta["remaining_mailboxes"] == 39 and eta["slots"] == 10
    assert eta["at_risk"] is False
    assert summary_line(eta) == "ETA 2026-12-01 14:00 UTC to 2026-12-02 02:00 UTC"


def test_steady_state_narrows_the_range_and_counts_running_jobs_and_slots():
    manifest = campaign([1000] * 100 + [0] * 10)
    for index in range(100):  # 100 jobs of 1000 MB in 2 hours each: 500 MB/h per slot
        run(manifest, f"m{index}", T0, 2)
    run(manifest, "m100", T0 + timedelta(hours=2), 0.5)  # a job takes half an hour at least
    now = T0 + timedelta(hours=3)
    run(manifest, "m101", now - timedelta(minutes=10))  # running
    eta = estimate(manifest, now, max_concurrent_jobs=4, foreign_running=1)
    assert eta["basis"] == BASIS_STEADY and eta["completed_jobs_observed"] == 101
    assert eta["slots"] == 3
    # 100000 MB in 200.5 hours: 498.8 MB/h. The running one ends 20 minutes from now; 8 mailboxes of 0 MB (half an
    # hour each) on 3 slots: ends at 0.5, 0.5, 0.83, 1.0, 1.0, 1.33, 1.5 and 1.5 hours from now.
    assert eta["mb_per_hour_per_slot"] == pytest.approx(498.8, abs=0.1)
    assert hours_after(eta["eta"], now) == pytest.approx(1.5, abs=0.01)
    spread = 0.1  # 1/sqrt(101) is below the least spread
    assert hours_after(eta["late"], now) == pytest.approx(hours_after(eta["eta"], now) * (1 + spread), abs=0.05)
    assert to_datetime(eta["early"]) < to_datetime(eta["eta"]) < to_datetime(eta["late"])


def test_largest_first_the_tail_is_the_largest_mailbox():
    # One mailbox of 20000 MB and 9 of 100 MB; 10 slots: the large one alone sets the end.
    manifest = campaign([20000] + [100] * 9 + [1000] * 10)
    for index in range(10, 20):
        run(manifest, f"m{index}", T0, 1)  # 1000 MB per hour per slot
    eta = estimate(manifest, T0 + timedelta(hours=1), max_concurrent_jobs=10, foreign_running=0)
    assert hours_after(eta["eta"], T0 + timedelta(hours=1)) == 20.0


def test_the_24_hour_rule_holds_a_retry_back():
    manifest = campaign([1000, 1000])
    run(manifest, "m0", T0, 1)
    run(manifest, "m1", T0, 1, state="FAILED")  # retried 24 hours after its start, then 1 hour
    now = T0 + timedelta(hours=1)
    eta = estimate(manifest, now, max_concurrent_jobs=10, foreign_running=0)
    assert hours_after(eta["eta"]) == 25.0


def test_deadline_missed_warns_and_says_what_would_help():
    manifest = campaign([10000] * 200)
    for index in range(5):
        run(manifest, f"m{index}", T0, 10)  # 1000 MB per hour per slot: 10 hours a mailbox
    manifest["mailboxes"]["m5"]["state"] = "FAILED_PERMANENTLY"
    now = T0 + timedelta(hours=10)
    deadline = iso8601(now + timedelta(days=20))
    eta = estimate(manifest, now, max_concurrent_jobs=2, foreign_running=1, deadline=deadline, margin_days=7)
    # 194 mailboxes of 10 hours on 1 slot: 1940 hours, past the deadline less 7 days.
    assert hours_after(eta["eta"], now) == 1940.0
    assert eta["at_risk"] is True
    assert eta["deadline_with_margin"] == iso8601(now + timedelta(days=13))
    assert eta["warning"].startswith(
        f"the campaign may not finish in time: the estimate's late end {eta['late']} is past"
    )
    advice = " | ".join(eta["advice"])
    assert "raise max_concurrent_jobs from 2 to 10" in advice
    assert "1 export jobs this campaign did not start hold slots" in advice
    assert "1 mailboxes failed (1 given up)" in advice
    # With 10 slots the late end is about a ninth of one slot's: 194 jobs on 9 slots, 22 rounds of 10 hours.
    (raise_it,) = [item for item in eta["advice"] if item.startswith("raise max_concurrent_jobs")]
    with_ten = raise_it.split("the late end would be ", 1)[1].split(" ", 1)[0]
    assert hours_after(with_ten, now) == pytest.approx(22 * 10 * (1 + 1 / 5**0.5), abs=0.1)
    assert raise_it.endswith(
        f"instead of {eta['late']}, before the deadline, but within its margin (after {eta['deadline_with_margin']})"
    )
    assert "AT RISK" in summary_line(eta)


def held_campaign(max_concurrent_jobs):
    """m0 completed in an hour; m1 and m2 pending, held by the 24-hour rule until 2026-12-01 10:00, after the
    deadline 2026-12-01; no job running. The estimate at 2026-11-30 12:00."""
    manifest = campaign([1000, 1000, 1000])
    run(manifest, "m0", T0 - timedelta(days=2), 1)
    held_since = iso8601(datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc))
    manifest["listing"] = {"blocked": [{"id": "m1", "start_time": held_since}, {"id": "m2", "start_time": held_since}]}
    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    return estimate(manifest, now, max_concurrent_jobs=max_concurrent_jobs, foreign_running=0, deadline="2026-12-01")


@pytest.mark.parametrize("max_concurrent_jobs", [10, 3])
def test_advice_says_the_24_hour_rule_holds_the_mailboxes_past_the_deadline(max_concurrent_jobs):
    eta = held_campaign(max_concurrent_jobs)
    assert eta["at_risk"] is True and eta["deadline_passed"] is False
    assert eta["advice"] == [
        "2 of the 2 remaining mailboxes are held by the 24-hour rule (AWS exports a mailbox at most once in 24 hours) "
        "until 2026-12-01T10:00:00+00:00; 2 of them cannot start before the deadline 2026-12-01T00:00:00+00:00, "
        "whatever the settings"
    ]
    # No claim that is not so: the campaign uses no slot, and more slots would not bring the end sooner.
    assert not any("every slot" in item or "raise max_concurrent_jobs" in item for item in eta["advice"])


def test_a_passed_deadline_is_said_plainly_and_advice_says_it_would_still_be_late():
    manifest = campaign([1000] * 40)
    run(manifest, "m0", T0, 2)
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    eta = estimate(manifest, now, max_concurrent_jobs=3, foreign_running=0, deadline="2026-12-01")
    assert eta["at_risk"] is True and eta["deadline_passed"] is True
    assert eta["warning"].startswith(
        "the deadline 2026-12-01T00:00:00+00:00 has passed (2.5 days ago, now 2026-12-03T12:00:00+00:00) with 39 "
        "mailboxes not exported yet; the estimate's late end is "
    )
    assert "may not finish in time" not in eta["warning"] and "before the deadline" not in eta["warning"]
    free, raise_it = eta["advice"]
    assert free.startswith("39 mailboxes may start now and 3 of the campaign's 3 slots are free")
    assert raise_it.startswith("raise max_concurrent_jobs from 3 to 10") and raise_it.endswith(
        ", still after the deadline"
    )
    assert "DEADLINE PASSED: 2026-12-01 00:00 UTC" in summary_line(eta) and "AT RISK" not in summary_line(eta)


def test_free_slots_and_an_unknown_throughput_give_only_advice_that_holds():
    manifest = campaign([1000] * 5)
    now = datetime(2027, 3, 20, tzinfo=timezone.utc)
    eta = estimate(manifest, now, max_concurrent_jobs=3, foreign_running=0)
    assert eta["advice"] == [
        "5 mailboxes may start now and 3 of the campaign's 3 slots are free: run the campaign again (wait=true "
        "keeps running passes until it is done)",
        "raise max_concurrent_jobs from 3 to 10 (AWS's limit per organization) (no job has completed yet to say by "
        "how much it brings the end sooner)",
    ]
    few = estimate(campaign([1000] * 2), now, max_concurrent_jobs=3, foreign_running=0)
    assert not any("raise" in item for item in few["advice"])  # 2 mailboxes fit on 3 slots


def test_the_basis_names_the_slots_plainly():
    manifest = campaign([1000] * 3)
    assert "3 mailboxes (3000 MB) to go on 7 slots (max_concurrent_jobs 10, less 3 held by jobs this campaign did " in (
        estimate(manifest, T0, max_concurrent_jobs=10, foreign_running=3)["basis_text"]
    )
    assert estimate(manifest, T0, max_concurrent_jobs=10, foreign_running=0)["basis_text"].endswith(
        "3 mailboxes (3000 MB) to go on 10 slots (max_concurrent_jobs 10)"
    )


def test_in_time_with_the_default_deadline():
    manifest = campaign([1000] * 30)
    for index in range(10):
        run(manifest, f"m{index}", T0, 1)
    eta = estimate(manifest, T0 + timedelta(hours=1))
    assert eta["at_risk"] is False and eta["advice"] == [] and eta["warning"] is None


def test_done_campaign_gives_the_end_of_its_last_job():
    manifest = campaign([1000, 500])
    run(manifest, "m0", T0, 1)
    run(manifest, "m1", T0, 3)
    eta = estimate(manifest, T0 + timedelta(days=2), deadline="2026-12-01")
    assert eta["basis"] == BASIS_DONE and eta["remaining_mailboxes"] == 0
    assert eta["eta"] == eta["early"] == eta["late"] == iso8601(T0 + timedelta(hours=3))
    assert eta["at_risk"] is False
    assert summary_line(eta) == "done at 2026-12-01 11:00 UTC"


def test_running_jobs_beyond_the_slots_delay_new_starts():
    # 3 running jobs (ending in 1, 2 and 3 hours) on 2 slots: the queued job starts when 2 of them ended.
    moment = T0
    running = [(moment - timedelta(hours=1), 2), (moment - timedelta(hours=1), 3), (moment - timedelta(hours=1), 4)]
    end = schedule_end(running, [(moment, 1)], moment, 2, float)
    assert end == moment + timedelta(hours=3)


def test_deadline_is_validated_naming_the_parameter():
    assert validate_deadline("2027-03-31") == datetime(2027, 3, 31, tzinfo=timezone.utc)
    with pytest.raises(ParameterError, match="deadline: must be an ISO 8601 date or time"):
        validate_deadline("end of March")
    with pytest.raises(ParameterError, match="deadline_margin_days: must be an integer of at least 0"):
        validate_campaign_info_params(
            {"campaign": "c", "s3_bucket": "bucket-name", "s3_prefix": "exports/", "deadline_margin_days": -1},
            "us-east-1",
        )


def test_history_a_point_an_hour_updated_by_the_later_saves_of_its_pass():
    manifest = campaign([1000, 500, 0])
    clock = iter([T0, T0 + timedelta(seconds=5), T0 + timedelta(minutes=1), T0 + timedelta(minutes=61)])
    first = PassHistory(lambda: next(clock), max_concurrent_jobs=4)
    first(manifest)
    run(manifest, "m0", T0, 0.01)
    first(manifest)  # a later save of the same pass updates its point
    stored = copy.deepcopy(manifest["history"])
    second = PassHistory(lambda: next(clock), max_concurrent_jobs=4)
    second(manifest)  # a minute later: no point is due, the history does not change
    assert manifest["history"] == stored
    found = points(manifest)
    assert [item["t"] for item in found] == [int((T0 + timedelta(seconds=5)).timestamp())] + [
        int(to_datetime(manifest["updated"]).timestamp())
    ] * (len(found) - 1)
    assert found[0]["completed"] == 1 and found[0]["completed_mb"] == 1000 and found[0]["total"] == 3
    assert found[0]["at"] == iso8601(T0 + timedelta(seconds=5))
    assert manifest["history"]["max_concurrent_jobs"] == 4
    third = PassHistory(lambda: next(clock))
    third(manifest)  # an hour after the first point: a new one
    assert [item[0] for item in manifest["history"]["points"]] == [5, 3660]  # seconds after the first save
    # The manifest as it is now is the last point read, when it changed after the last recorded.
    run(manifest, "m1", T0 + timedelta(hours=2), 0.5)
    last = points(manifest)[-1]
    assert last["completed"] == 2 and last["completed_mb"] == 1500 and last["at"] == manifest["updated"]


def test_history_stays_bounded_and_small():
    manifest = campaign([1])
    for index in range(3 * MAX_POINTS):
        record_point(manifest, T0 + timedelta(days=index), False)
    kept = manifest["history"]["points"]
    assert len(kept) <= MAX_POINTS
    assert points(manifest)[0]["t"] == int(T0.timestamp())
    assert [item[0] for item in kept] == sorted(item[0] for item in kept)
    assert thin([1, 2, 3], 3) == [1, 2, 3] and thin([1, 2, 3, 4, 5], 4) == [1, 3, 5]
    assert spacing(0) == MIN_SPACING and spacing(MAX_POINTS * 86400) == 86400
    # Small enough to ride in the journal writes of a large campaign: 10,000 mailboxes, most of them exported,
    # over a year.
    many = campaign([1234] * 10000)
    for entry in list(many["mailboxes"].values())[:9000]:
        entry["state"] = "COMPLETED"
    for index in range(MAX_POINTS):
        record_point(many, T0 + timedelta(days=index * 3), False)
    assert len(many["history"]["points"]) == MAX_POINTS
    assert len(json.dumps(many["history"], separators=(",", ":"))) < 4 * 1024
