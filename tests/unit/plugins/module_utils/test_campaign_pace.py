# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from datetime import datetime
from datetime import timedelta
from datetime import timezone

from ansible_collections.mailops.workmail.plugins.module_utils import manifest as mf
from ansible_collections.mailops.workmail.plugins.module_utils._campaign import observe
from ansible_collections.mailops.workmail.plugins.module_utils._campaign import pace
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import Plan
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import REGION
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN

START = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)


def at(seconds):
    return START + timedelta(seconds=seconds)


def attempt(**fields):
    return dict(
        {"attempt": 1, "client_token": "t", "job_id": "j", "state": "RUNNING", "start_time": iso8601(START)}, **fields
    )


# The campaign's pace


def test_pace_keeps_the_fewest_seconds_per_mb_and_the_minimum_time_of_small_mailboxes():
    # A large mailbox: 6 s per MB; its long job says nothing of the minimum time of a job.
    learned = pace.learn_pace(None, 100, iso8601(START), iso8601(at(600)))
    assert learned == {"seconds_per_mb": 6.0, "floor_seconds": None, "jobs": 1}
    # A small one that took far longer than 6 s per MB gives it: 300 s.
    learned = pace.learn_pace(learned, 10, iso8601(START), iso8601(at(300)))
    assert learned == {"seconds_per_mb": 6.0, "floor_seconds": 300.0, "jobs": 2}
    # A job without times or of unknown size teaches nothing, and nothing is changed in place.
    assert pace.learn_pace(learned, None, iso8601(START), iso8601(at(200))) == learned
    assert pace.learn_pace(learned, 10, None, iso8601(at(200))) == learned and learned["jobs"] == 2


def test_the_earliest_ends_the_progress_and_the_pace_allow():
    # 25 % (at most 26 %) after 1000 s: 1000 * 100 / 26 at the earliest.
    assert pace.progress_end(attempt(progress=25, seen=iso8601(at(1000)))) == at(1000 * 100 / 26)
    # 0 % and no look yet tell nothing.
    assert pace.progress_end(attempt(progress=0, seen=iso8601(at(30)))) is None
    assert pace.progress_end(attempt()) is None
    # The pace: the larger of the minimum time of a job and size * seconds per MB.
    learned = {"seconds_per_mb": 6.0, "floor_seconds": 300.0, "jobs": 3}
    assert pace.pace_end(attempt(), 200, learned) == at(1200)
    assert pace.pace_end(attempt(), 10, learned) == at(300)
    assert pace.pace_end(attempt(), 10, None) is None


def test_looks_come_at_the_expected_end_within_bounds():
    learned = {"seconds_per_mb": 6.0, "floor_seconds": 300.0, "jobs": 3}
    # A few seconds after the end foretold (the recorded start may precede the job's own).
    assert pace.look_due(attempt(), 200, learned) == at(1200 + pace.END_SLACK)
    # Seen running early (by a page of the job list read for other jobs): still not before the pace's end.
    assert pace.look_due(attempt(progress=10, seen=iso8601(at(100))), 200, learned) == at(1200 + pace.END_SLACK)
    # Beyond the pace's end, as far as the progress allows, but no later than half as long again as at the look.
    assert pace.look_due(attempt(progress=80, seen=iso8601(at(1300))), 200, learned) == at(1300 * 100 / 81 + 3)
    assert pace.look_due(attempt(progress=30, seen=iso8601(at(1300))), 200, learned) == at(1950)
    # Nothing known: 10 s after the start, then when the job has run half as long again.
    assert pace.look_due(attempt(), 200, None) == at(10)
    assert pace.look_due(attempt(progress=0, seen=iso8601(at(100))), 200, None) == at(150)
    # A job past the pace's end whose progress tells nothing: when it has run half as long again.
    assert pace.look_due(attempt(progress=0, seen=iso8601(at(2000))), 200, learned) == at(3000)
    # Near its end by its progress: a few seconds after the end foretold.
    assert pace.look_due(attempt(progress=98, seen=iso8601(at(1000))), 200, None) == at(1000 * 100 / 99 + 3)
    # An end its progress allowed has passed (99 % at the last look, and still running): looked at again when it
    # has run 5 % longer (50 s here), the longer it runs the later, not every 10 s.
    assert pace.look_due(attempt(progress=99, seen=iso8601(at(1000))), 200, None) == at(1050)
    assert pace.look_due(attempt(progress=99, seen=iso8601(at(100))), 200, None) == at(110)
    # A long job is looked at once an hour at least.
    assert pace.look_due(attempt(progress=50, seen=iso8601(at(10000))), 200, None) == at(10000 + 3600)
    # A job seen running is looked at again when it has run half as long again, at the latest: progress that lags
    # (1 % after 600 s would allow an end at 30000 s) cannot delay the look.
    assert pace.look_due(attempt(progress=1, seen=iso8601(at(600))), 200, None) == at(900)
    # An attempt never started (no start time) is resumed by its token, not looked at.
    assert pace.look_due(attempt(start_time=None), 200, learned) is None


def test_a_look_records_progress_while_the_job_runs_and_forgets_it_when_it_ended():
    running = attempt()
    assert pace.note_progress(running, {"State": "RUNNING", "EstimatedProgress": 40}, at(60)) is True
    assert running["progress"] == 40 and running["seen"] == iso8601(at(60))
    assert pace.note_progress(running, {"State": "RUNNING", "EstimatedProgress": 40}, at(60)) is False
    assert pace.note_progress(running, {"State": "COMPLETED"}, at(90)) is True
    assert "progress" not in running and "seen" not in running


def test_the_next_pass_sleeps_until_due_within_the_poll_bounds():
    assert pace.next_pass_delay({"next_pass_in": 42.2}, 60) == 43
    assert pace.next_pass_delay({"next_pass_in": 0}, 60) == 5
    assert pace.next_pass_delay({"next_pass_in": 4000}, 600) == 600
    assert pace.next_pass_delay({"next_pass_in": None}, 60) == 60
    assert pace.next_pass_delay(None, 90) == 90
    # counted from the pass's start: the seconds the pass took are not slept again
    assert pace.next_pass_delay({"next_pass_in": 42.2}, 60, elapsed=12.0) == 31
    assert pace.next_pass_delay({"next_pass_in": 42.2}, 60, elapsed=40.0) == 5


# When the whole job list is read


def manifest_with(*entries):
    manifest = mf.new_manifest("wave", ORG_ID, REGION, BUCKET, PREFIX, KEY_ARN, ROLE_ARN, START)
    for entry in entries:
        manifest["mailboxes"][entry["id"]] = entry
    return manifest


def running_entry(entity_id, job_id="j", size_mb=100.0, **fields):
    entry = mf.new_entry(entity_id, f"{entity_id}@example.com", entity_id, size_mb=size_mb, state="RUNNING")
    entry["attempts"] = [attempt(job_id=job_id, client_token=f"token-{entity_id}", **fields)]
    return entry


def test_the_whole_job_list_is_read_first_after_a_refusal_for_unconfirmed_starts_and_once_a_day():
    manifest = manifest_with(running_entry("a"))
    assert observe.full_listing_due(manifest, START) == observe.FIRST_LISTING
    observe.remember_listing(manifest, [], Plan(now=iso8601(START)), START)
    assert observe.full_listing_due(manifest, at(60)) is None
    assert observe.full_listing_due(manifest, at(23 * 3600)) is None
    assert observe.full_listing_due(manifest, at(24 * 3600)) == observe.LAST_JOBS_LISTING  # nothing left to start
    manifest["mailboxes"]["p"] = mf.new_entry("p", "p@example.com", "p", size_mb=5.0)
    assert observe.full_listing_due(manifest, at(24 * 3600)) == observe.PERIODIC_LISTING
    observe.listing_needed(manifest, observe.REFUSED_START)
    observe.listing_needed(manifest, observe.FORGOTTEN_JOB)  # the first reason stays
    assert observe.full_listing_due(manifest, at(60)) == observe.REFUSED_START
    observe.remember_listing(manifest, [], Plan(now=iso8601(START)), START)
    manifest["mailboxes"]["b"] = running_entry("b", job_id=None)
    assert observe.full_listing_due(manifest, at(60)) == observe.UNCONFIRMED_START


def test_a_long_job_list_is_read_periodically_less_often_and_daily_once_nothing_is_left_to_start():
    manifest = manifest_with(running_entry("a"), mf.new_entry("p", "p@example.com", "p", size_mb=5.0))
    observe.remember_listing(manifest, [], Plan(now=iso8601(START)), START)
    manifest["listing"]["jobs"] = 4000  # 40 pages: read every 4 days while mailboxes wait to start
    assert observe.periodic_listing_every(manifest) == 4 * 86400
    assert observe.full_listing_due(manifest, at(4 * 86400 - 60)) is None
    assert observe.full_listing_due(manifest, at(4 * 86400)) == observe.PERIODIC_LISTING
    manifest["listing"]["jobs"] = 70000  # at most a week apart
    assert observe.periodic_listing_every(manifest) == 7 * 86400
    manifest["mailboxes"]["p"]["state"] = mf.COMPLETED
    assert observe.full_listing_due(manifest, at(86400 - 60)) is None
    assert observe.full_listing_due(manifest, at(86400)) == observe.LAST_JOBS_LISTING


class Describer:
    """DescribeMailboxExportJob of a few jobs, and a first page of the job list that shows those of ``page`` (none by
    default: AWS may list jobs in an order that puts the running ones on later pages); counts the calls."""

    def __init__(self, jobs, page=()):
        self.jobs = jobs
        self.page = list(page)
        self.calls = []
        self.pages = 0

    def describe_export_job(self, organization_id, job_id):
        self.calls.append((organization_id, job_id))
        return dict(self.jobs[job_id], JobId=job_id)

    def export_jobs_page(self, organization_id):
        self.pages += 1
        return [dict(self.jobs[job_id], JobId=job_id) for job_id in self.page]


def result():
    return {
        "api_calls": {"describe_mailbox_export_job": 0, "list_mailbox_export_jobs": 0},
        "looked_at": 0,
        "looked_up_in_page": 0,
    }


def test_only_the_jobs_due_a_look_are_described_and_the_others_are_listed_as_recorded():
    manifest = manifest_with(running_entry("a", job_id="ja"), running_entry("b", job_id="jb", size_mb=1000.0))
    manifest["pace"] = {"seconds_per_mb": 6.0, "floor_seconds": 300.0, "jobs": 1}
    plan = Plan(now=iso8601(START), foreign_running=[{"job_id": "jf", "entity_id": "f", "start_time": iso8601(START)}])
    plan.blocked_24h = [{"id": "c", "job_id": "jc", "eligible": iso8601(at(3600))}]
    observe.remember_listing(manifest, [], plan, START)
    manifest["mailboxes"]["c"] = mf.new_entry("c", "c@example.com", "c", size_mb=5.0)
    manifest["mailboxes"]["d"] = mf.new_entry("d", "d@example.com", "d", size_mb=5.0)  # waits for a slot
    workmail = Describer(
        {"ja": {"State": "COMPLETED", "EntityId": "a"}, "jf": {"State": "RUNNING", "EstimatedProgress": 50}}
    )
    found = result()
    listing, changed = observe.observed_listing(workmail, manifest, at(700), found, lambda: None)
    # a is due (600 s expected), b is not (6000 s); the other campaign's job is due its first look. The first page of
    # the job list shows neither: both are described, and the page rests for a day.
    assert [call[1] for call in workmail.calls] == ["ja", "jf"] and found["looked_at"] == 2 and changed
    assert workmail.pages == 1 and found["looked_up_in_page"] == 0
    assert manifest["listing"]["page_answered_none"] == iso8601(at(700))
    by_id = {item["JobId"]: item for item in listing}
    assert by_id["ja"]["State"] == "COMPLETED"
    assert by_id["jb"]["State"] == "RUNNING" and parse_marker(by_id["jb"]["Description"]) == "token-b"
    assert by_id["jf"]["State"] == "RUNNING" and manifest["listing"]["foreign"][0]["progress"] == 50
    assert by_id["jc"]["EntityId"] == "c" and by_id["jc"]["StartTime"] == at(3600) - timedelta(hours=24)
    # Once the plan recorded a's end, the next look: the other campaign's job, seen at 50 % after 700 s, when it has
    # run half as long again (1050 s; its progress allows an end at 1373 s at the earliest), before b's end.
    manifest["mailboxes"]["a"]["state"] = "COMPLETED"
    assert observe.next_look(manifest, at(700)) == at(1050)
    # A day later, the mailbox held back is free: no recent job stands for it any more.
    workmail.jobs.update(jf={"State": "COMPLETED"}, jb={"State": "RUNNING", "EstimatedProgress": 99})
    listing, dummy = observe.observed_listing(workmail, manifest, at(90000), result(), lambda: None)
    assert [item["JobId"] for item in listing] == ["jb"] and manifest["listing"]["foreign"] == []


def test_a_running_job_aws_does_not_know_makes_the_pass_read_the_whole_list():
    class Forgetful(Describer):
        def describe_export_job(self, organization_id, job_id):
            raise JobNotFoundError(job_id)

    manifest = manifest_with(running_entry("a", job_id="ja"))
    observe.remember_listing(manifest, [], Plan(now=iso8601(START)), START)
    listing, dummy = observe.observed_listing(Forgetful({}), manifest, at(700), result(), lambda: None)
    assert listing is None and observe.full_listing_due(manifest, at(700)) == observe.FORGOTTEN_JOB


def test_when_no_mailbox_waits_for_a_slot_every_job_is_looked_at_when_the_last_should_end():
    manifest = manifest_with(running_entry("a", job_id="ja"), running_entry("b", job_id="jb", size_mb=1000.0))
    manifest["pace"] = {"seconds_per_mb": 6.0, "floor_seconds": 300.0, "jobs": 1}
    observe.remember_listing(manifest, [], Plan(now=iso8601(START)), START)
    last_end = at(3600)  # b ends at 6000 s, but every job is looked at once an hour at least
    assert observe.look_times(manifest, at(700)) == {"ja": last_end, "jb": last_end}
    assert observe.next_look(manifest, at(700)) == last_end
    # A mailbox waiting for a slot: a's slot is worth knowing about at a's end.
    manifest["mailboxes"]["c"] = mf.new_entry("c", "c@example.com", "c", size_mb=5.0)
    assert observe.look_times(manifest, at(700))["ja"] == at(600 + pace.END_SLACK)
    # A failed mailbox within its 24 hours waits for no slot yet; past them it does.
    manifest["mailboxes"]["c"]["state"] = "FAILED"
    manifest["mailboxes"]["c"]["attempts"] = [attempt(job_id="jc", state="FAILED")]
    assert observe.look_times(manifest, at(700))["ja"] == last_end
    assert observe.look_times(manifest, at(90000))["ja"] == at(600 + pace.END_SLACK)


def _two_due():
    """A campaign with two running jobs due a look at 700 s, and a fake whose first page shows ``page``."""
    manifest = manifest_with(running_entry("a", job_id="ja"), running_entry("b", job_id="jb", size_mb=90.0))
    manifest["pace"] = {"seconds_per_mb": 6.0, "floor_seconds": 300.0, "jobs": 1}
    manifest["mailboxes"]["d"] = mf.new_entry("d", "d@example.com", "d", size_mb=5.0)  # waits for a slot
    observe.remember_listing(manifest, [], Plan(now=iso8601(START)), START)
    jobs = {"ja": {"State": "COMPLETED", "EntityId": "a"}, "jb": {"State": "RUNNING", "EstimatedProgress": 90}}
    return manifest, jobs


def test_a_page_of_the_job_list_that_shows_the_jobs_due_answers_their_looks_in_one_call():
    manifest, jobs = _two_due()
    workmail = Describer(jobs, page=["jb", "ja"])
    found = result()

    listing, dummy = observe.observed_listing(workmail, manifest, at(700), found, lambda: None)

    assert workmail.pages == 1 and workmail.calls == [] and found["looked_up_in_page"] == 2
    assert found["api_calls"] == {"describe_mailbox_export_job": 0, "list_mailbox_export_jobs": 1}
    by_id = {item["JobId"]: item for item in listing}
    assert by_id["ja"]["State"] == "COMPLETED" and by_id["jb"]["State"] == "RUNNING"
    assert manifest["mailboxes"]["b"]["attempts"][-1]["progress"] == 90
    assert manifest["listing"].get("page_answered_none") is None


def test_a_page_that_shows_some_of_the_jobs_due_leaves_the_others_to_a_describe():
    manifest, jobs = _two_due()
    workmail = Describer(jobs, page=["jb"])
    found = result()

    listing, dummy = observe.observed_listing(workmail, manifest, at(700), found, lambda: None)

    assert [call[1] for call in workmail.calls] == ["ja"] and found["looked_up_in_page"] == 1
    assert {item["JobId"]: item["State"] for item in listing} == {"ja": "COMPLETED", "jb": "RUNNING"}


def test_a_page_that_answered_no_look_is_not_read_again_for_a_day_and_one_look_never_reads_it():
    manifest, jobs = _two_due()
    workmail = Describer(jobs)
    observe.observed_listing(workmail, manifest, at(700), result(), lambda: None)
    assert workmail.pages == 1 and len(workmail.calls) == 2

    observe.observed_listing(workmail, manifest, at(800), result(), lambda: None)
    assert workmail.pages == 1 and len(workmail.calls) == 4  # resting: described only
    observe.observed_listing(workmail, manifest, at(700 + observe.PAGE_RESTS), result(), lambda: None)
    assert workmail.pages == 2

    manifest["mailboxes"]["b"]["state"] = "COMPLETED"  # one job due a look: a describe is as cheap
    manifest["listing"]["page_answered_none"] = None
    single = Describer(jobs, page=["ja"])
    observe.observed_listing(single, manifest, at(700), result(), lambda: None)
    assert single.pages == 0 and [call[1] for call in single.calls] == ["ja"]


def test_more_looks_due_than_pages_read_the_first_page_unless_it_rests_or_the_list_is_one_page():
    manifest, dummy = _two_due()
    manifest["mailboxes"]["c"] = running_entry("c", job_id="jc", size_mb=90.0)
    manifest["listing"]["jobs"] = 150  # two pages, three looks due
    assert observe.full_listing_due(manifest, at(700)) is None
    manifest["listing"]["page_answered_none"] = iso8601(at(600))
    assert "costs fewer calls" in observe.full_listing_due(manifest, at(700))
    manifest["listing"]["page_answered_none"] = None
    manifest["listing"]["jobs"] = 50  # one page: the whole list is that page
    assert "costs fewer calls" in observe.full_listing_due(manifest, at(700))
