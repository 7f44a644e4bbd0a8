# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pass's pure functions that avoid work growing with the campaign (no sort of every mailbox, a schedule on
whole microseconds, ...) give exactly what a straightforward computation gives, on randomized manifests."""

import heapq
import random
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign import eta
from ansible_collections.mailops.workmail.plugins.module_utils._campaign import executor
from ansible_collections.mailops.workmail.plugins.module_utils._campaign import observe
from ansible_collections.mailops.workmail.plugins.module_utils._campaign import planning
from ansible_collections.mailops.workmail.plugins.module_utils._campaign import runner
from ansible_collections.mailops.workmail.plugins.module_utils.limits import EXPORT_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.limits import blocking_job
from ansible_collections.mailops.workmail.plugins.module_utils.limits import latest_jobs
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED_PERMANENTLY
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SETTLED_STATES
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import add_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import new_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_job
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_object
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_start
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker

NOW = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=timezone.utc)
ORG = "m-" + "0" * 32
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/workmail-export"
SEEDS = range(12)


def _size(rng):
    return rng.choice([None, "unknown", 0, 1, 1, 2.5]) if rng.random() < 0.15 else round(rng.uniform(0.5, 1500), 1)


def _ago(rng, hours):
    return NOW - timedelta(seconds=rng.randint(1, int(hours * 3600)), microseconds=rng.randint(0, 999999))


def _fail(manifest, entity_id, attempt, rng, hours):
    started = _ago(rng, hours)
    record_start(manifest, entity_id, attempt, f"token-{entity_id}-{attempt}", f"job-{entity_id}-{attempt}", started)
    raw = {"JobId": f"job-{entity_id}-{attempt}", "State": "FAILED", "StartTime": started, "ErrorInfo": "no"}
    record_job(manifest, entity_id, attempt, raw, started + timedelta(minutes=5), 3)


def _complete(manifest, entity_id, rng):
    started = _ago(rng, 60)
    record_start(manifest, entity_id, 1, f"token-{entity_id}-1", f"job-{entity_id}-1", started)
    ended = started + timedelta(seconds=rng.randint(60, 20000), microseconds=rng.randint(0, 999999))
    raw = {"JobId": f"job-{entity_id}-1", "State": "COMPLETED", "StartTime": started, "EndTime": ended}
    record_job(manifest, entity_id, 1, raw, ended)
    roll = rng.random()
    if roll < 0.3:
        return  # never checked
    outcome = "verified" if roll < 0.7 else rng.choice(["unchecked", "contradicted"])
    checked = rng.choice([None, iso8601(_ago(rng, 2)), iso8601(_ago(rng, 2))])
    record_object(manifest, entity_id, ended, key=f"p/{entity_id}.zip", outcome=outcome, level="basic", checked=checked)


def _randomized(seed, count=300, running=0.1):
    """A manifest of ``count`` mailboxes in every state (ids in no particular order; a share ``running`` of them
    RUNNING), at :data:`NOW`."""
    rng = random.Random(seed)
    manifest = new_manifest("cost", ORG, "us-east-1", "bucket", "p/", KEY, ROLE, NOW - timedelta(days=3))
    ids = [f"S-1-5-18-{rng.randrange(10**9):09d}-{index}" for index in range(count)]
    rng.shuffle(ids)
    add_mailboxes(manifest, [{"id": i, "email": f"{i}@example.com", "name": i, "size_mb": _size(rng)} for i in ids])
    for entity_id in ids:
        roll = rng.random()
        if roll < 0.3:
            continue  # PENDING
        if roll < 0.3 + running:
            token = f"token-{entity_id}-1"
            job_id = f"job-{entity_id}-1" if rng.random() < 0.8 else None
            record_start(manifest, entity_id, 1, token, job_id, _ago(rng, 10))
        elif roll < 0.75:
            _complete(manifest, entity_id, rng)
        else:
            for attempt in range(1, rng.choice([1, 1, 2, 3]) + 1):
                _fail(manifest, entity_id, attempt, rng, 40 if attempt == 1 else 30)
    return manifest


def _listing(manifest, seed):
    """Jobs as ListMailboxExportJobs would list some of them: the campaign's running ones, others' running jobs,
    recent jobs of pending mailboxes (they hold them back) and some that are not the campaign's."""
    rng = random.Random(seed + 1000)
    jobs = []
    for entity_id, entry in manifest["mailboxes"].items():
        last = entry["attempts"][-1] if entry["attempts"] else None
        if entry["state"] == RUNNING and rng.random() < 0.8:
            state = rng.choice(["RUNNING", "RUNNING", "COMPLETED", "FAILED"])
            job_id = last.get("job_id") or f"job-{entity_id}-late"
            jobs.append(_job(job_id, entity_id, state, to_datetime(last["start_time"]), last["client_token"]))
        elif entry["state"] in (PENDING, FAILED) and rng.random() < 0.15:
            jobs.append(_job(f"other-{entity_id}", entity_id, "COMPLETED", _ago(rng, 30), None))
        elif rng.random() < 0.005:
            jobs.append(_job(f"foreign-{entity_id}", entity_id.lower(), "RUNNING", _ago(rng, 3), "someone-else"))
    rng.shuffle(jobs)
    return jobs


def _job(job_id, entity_id, state, started, token):
    description = build_description("x", token) if token else "by hand"
    return {"JobId": job_id, "EntityId": entity_id, "State": state, "StartTime": started, "Description": description}


# The reference computations: the plain way, sorting every mailbox, on datetimes.


def reference_schedule_end(running, queue, moment, slots, duration):
    ends = sorted(max(moment, start + timedelta(hours=duration(size))) for start, size in running)
    last = ends[-1] if ends else moment
    free = ends[max(0, len(ends) - slots) :] + [moment] * max(0, slots - len(ends))
    heapq.heapify(free)
    for earliest, size in queue:
        start = max(heapq.heappop(free), earliest)
        end = start + timedelta(hours=duration(size))
        heapq.heappush(free, end)
        last = max(last, end)
    return last


def reference_remaining_work(manifest, moment):
    blocked = eta._blocked_until(manifest)
    running = []
    queue = []
    for entry in manifest["mailboxes"].values():
        if entry["state"] == RUNNING:
            started = to_datetime(entry["attempts"][-1].get("start_time")) if entry["attempts"] else None
            running.append((started or moment, entry.get("size_mb")))
        elif entry["state"] in (PENDING, FAILED):
            eligible = planning.eligible_at(entry) if entry["state"] == FAILED else blocked.get(entry["id"])
            queue.append((max(eligible or moment, moment), planning.size_order(entry), entry.get("size_mb")))
    queue.sort()
    return running, [(start, size) for start, dummy, size in queue]


def _retry_waits(entry, moment):
    eligible = planning.eligible_at(entry) if entry["state"] == FAILED else None
    return eligible is not None and eligible > moment


def reference_outcome_lists(manifest, moment, held):
    failures = []
    waiting = []
    for entity_id in sorted(manifest["mailboxes"]):
        entry = manifest["mailboxes"][entity_id]
        if entry["state"] == FAILED_PERMANENTLY:
            failures.append(runner._given_up(entry))
        elif _retry_waits(entry, moment):
            waiting.append({"id": entity_id, "email": entry["email"], "eligible": iso8601(planning.eligible_at(entry))})
    waiting.sort(key=lambda item: (item["eligible"], item["id"]))
    entries = [
        entry
        for entry in manifest["mailboxes"].values()
        if entry["state"] in (PENDING, FAILED) and entry["id"] not in held and not _retry_waits(entry, moment)
    ]
    queued = [
        {"id": entry["id"], "email": entry["email"], "size_mb": entry["size_mb"]}
        for entry in sorted(entries, key=planning.size_order)
    ]
    return failures, waiting, queued


def reference_to_check(manifest, level, moment):
    mailboxes = manifest["mailboxes"]
    first = [entity_id for entity_id in sorted(mailboxes) if executor.needs_check(mailboxes[entity_id], level)]
    again = [
        entity_id
        for entity_id in sorted(mailboxes)
        if entity_id not in first and executor.needs_recheck(mailboxes[entity_id], moment)
    ]
    again.sort(key=lambda entity_id: mailboxes[entity_id]["object"].get("checked") or "")
    return first + again[: executor.RECHECKS_PER_PASS]


def reference_foreign_running(manifest, listing):
    job_ids = set()
    tokens = set()
    for entry in manifest["mailboxes"].values():
        for attempt in entry["attempts"]:
            tokens.add(attempt.get("client_token"))
            if attempt.get("job_id"):
                job_ids.add(attempt["job_id"])
    return [
        raw["JobId"]
        for raw in listing
        if raw.get("State") == "RUNNING"
        and raw.get("JobId") not in job_ids
        and parse_marker(raw.get("Description")) not in tokens
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_schedule_on_microseconds_is_the_schedule_on_datetimes(seed):
    rng = random.Random(seed)
    running = [(_ago(rng, 30), _size(rng)) for dummy in range(rng.randint(0, 14))]
    queue = [(NOW + timedelta(seconds=rng.choice([0, 0, rng.randint(1, 90000)])), _size(rng)) for dummy in range(200)]
    queue.sort(key=lambda item: item[0])
    rate, floor, factor = rng.uniform(50, 700), rng.uniform(0.01, 0.5), rng.choice([1.0, 1 / 1.3, 1.3, 1 / 3.0])

    def duration(size):
        return max(floor, (size if isinstance(size, (int, float)) else 0) / rate) * factor

    for slots in (1, 3, 10):
        assert eta.schedule_end(running, queue, NOW, slots, duration) == reference_schedule_end(
            running, queue, NOW, slots, duration
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_remaining_work_and_the_estimates_ends_are_the_plain_computations(seed):
    manifest = _randomized(seed)
    manifest["listing"] = {
        "blocked": [{"id": i, "start_time": iso8601(_ago(random.Random(i), 30))} for i in manifest["mailboxes"]][::7]
    }
    assert eta.remaining_work(manifest, NOW) == reference_remaining_work(manifest, NOW)
    campaign = eta._Campaign(manifest, NOW, 10, 2)
    assert campaign.throughput.jobs
    running, queue = reference_remaining_work(manifest, NOW)
    for factor in (1.0, 0.8, 1.25):
        for slots in ({}, {"max_concurrent_jobs": 4}, {"foreign_running": 0}):
            expected = reference_schedule_end(
                running, queue, NOW, campaign.slots(**slots), lambda size, f=factor: campaign.throughput.hours(size, f)
            )
            assert campaign.end(factor, **slots) == expected
            assert campaign.end(factor, **slots) == expected  # computed once, the same again


@pytest.mark.parametrize("seed", SEEDS)
def test_the_plan_starts_and_notes_what_a_sort_of_every_mailbox_gives(seed):
    manifest = _randomized(seed, running=0.015)
    listing = _listing(manifest, seed)
    for slots in (1, 5, 10):
        the_plan = planning.plan(manifest, listing, NOW, slots, 3)
        assert [job["job_id"] for job in the_plan.foreign_running] == reference_foreign_running(manifest, listing)
        projected = planning._projection(manifest)
        for update in the_plan.updates:
            planning._project(projected, update, NOW)
        latest = latest_jobs(listing)
        candidates = [
            entry
            for entry in sorted(projected["mailboxes"].values(), key=planning.size_order)
            if entry["state"] == PENDING or (entry["state"] == FAILED and not _retry_waits(entry, NOW))
        ]
        free = [entry["id"] for entry in candidates if blocking_job(latest, entry["id"], NOW) is None]
        blocked = sorted(entry["id"] for entry in candidates if blocking_job(latest, entry["id"], NOW) is not None)
        new = [item["id"] for item in the_plan.to_start if not item["resume"]]
        assert new == free[: len(new)]
        assert len(new) == min(len(free), the_plan.free_slots)
        assert sorted(item["id"] for item in the_plan.blocked_24h) == blocked
        ids = [update["id"] for update in the_plan.updates]
        assert ids == sorted(ids)
        unsettled = [i for i, entry in projected["mailboxes"].items() if entry["state"] not in SETTLED_STATES]
        assert the_plan.done is not bool(unsettled)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_results_lists_are_the_plain_computations(seed):
    manifest = _randomized(seed, 600)
    blocked = [{"id": i, "job_id": "j", "eligible": iso8601(NOW)} for i in list(manifest["mailboxes"])[::11]]
    result = runner.outcome(manifest, NOW, blocked)
    failures, waiting, queued = reference_outcome_lists(manifest, NOW, {item["id"] for item in blocked})
    assert (result["failures"], result["waiting_24h"]) == (failures, waiting)
    assert failures and waiting and len(queued) > runner.QUEUED_SHOWN
    # The next ones to start, not all of them, and how many wait.
    assert result["queued"] == queued[: runner.QUEUED_SHOWN]
    assert result["queued_total"] == len(queued)


def test_the_queued_are_all_listed_up_to_the_limit_and_those_starting_are_not():
    manifest = _randomized(3, 200)
    failures, waiting, queued = reference_outcome_lists(manifest, NOW, set())
    assert len(queued) < runner.QUEUED_SHOWN
    starting = [item["id"] for item in queued[::3]]
    result = runner.outcome(manifest, NOW, (), set(starting))
    assert result["queued"] == [item for item in queued if item["id"] not in starting]
    assert result["queued_total"] == len(queued) - len(starting)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_objects_to_check_and_the_running_jobs_are_the_plain_computations(seed):
    manifest = _randomized(seed)
    for level in ("basic", "deep"):
        assert executor._to_check(manifest, level, NOW) == reference_to_check(manifest, level, NOW)
    mailboxes = manifest["mailboxes"]
    expected = [
        (mailboxes[i], mailboxes[i]["attempts"][-1])
        for i in sorted(mailboxes)
        if mailboxes[i]["state"] == RUNNING and mailboxes[i]["attempts"][-1].get("job_id")
    ]
    assert list(observe._running_attempts(manifest)) == expected


def test_a_running_job_of_another_mailbox_with_the_campaigns_token_is_its_own():
    manifest = _randomized(0, 40)
    running = [i for i, entry in manifest["mailboxes"].items() if entry["state"] == RUNNING and entry["attempts"]]
    attempt = manifest["mailboxes"][running[0]]["attempts"][-1]
    # Listed under another id (case, or an alias): found by its token among all the campaign's attempts.
    listing = [_job("renamed-job", running[0].upper(), "RUNNING", NOW - EXPORT_INTERVAL / 2, attempt["client_token"])]
    listing.append(_job("foreign", running[0].upper(), "RUNNING", NOW - EXPORT_INTERVAL / 2, "not-ours"))
    the_plan = planning.plan(manifest, listing, NOW, 10, 3)
    assert [job["job_id"] for job in the_plan.foreign_running] == ["foreign"]


def test_a_duration_in_microseconds_is_what_a_timedelta_of_those_hours_holds():
    rng = random.Random(7)
    hours = [rng.uniform(0, 500) for dummy in range(20000)] + [rng.expovariate(1.0) for dummy in range(20000)]
    # Exact halves of a microsecond, where rounding decides.
    hours += [(number + 0.5) / 3_600_000_000 for number in range(2000)] + [number / 7 for number in range(2000)]
    for value in hours:
        assert eta.microseconds(value) == timedelta(hours=value) // timedelta(microseconds=1), value
