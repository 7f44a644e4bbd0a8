# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When the campaign will be done, and whether that is in time: :func:`estimate`.

The estimate is read from the manifest alone (no AWS call). The throughput is what the completed jobs showed: their
megabytes over the hours they ran, in megabytes per hour per slot (a job holds one of the organization's slots while
it runs); the shortest of them is the least time a job takes, whatever its mailbox's size. The remaining mailboxes
(pending, running, failed and to be retried) are then laid out on the campaign's slots (``max_concurrent_jobs``,
less the slots jobs the campaign did not start hold) the way the campaign starts them: the largest first, a slot
taken as soon as one is free, none before the 24-hour rule lets its mailbox start; the end of the last one is the
estimate. While few jobs have completed the throughput is uncertain, so the estimate is a range (``early`` to
``late``), narrowing as jobs complete (a relative spread of 1/sqrt(jobs), at least :data:`MIN_SPREAD`).

When the range's late end passes the deadline less its margin (``deadline`` and ``margin_days``, defaults in
:mod:`common`), the estimate is ``at_risk``: its ``warning`` says so (plainly that the deadline has passed, when it
has: ``deadline_passed``) and ``advice`` what, in the campaign's actual situation, holds it back or would help: the
mailboxes the 24-hour rule holds and until when, free slots, more slots or the slots others' jobs hold (each only when
it brings the late end sooner, saying whether that would be in time), failures to fix.

Plain Python on manifest dicts; times are ISO 8601 text out.
"""

import heapq
import math
from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import remembered_slots
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import eligible_at
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import size_order
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE_MARGIN_DAYS
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAX_RUNNING_JOBS_PER_ORGANIZATION
from ansible_collections.mailops.workmail.plugins.module_utils.limits import EXPORT_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import completed_jobs
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import is_done
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealed_parts
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealed_total
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import summary
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_deadline

# The estimate's basis: the campaign is done; no job completed yet (no throughput to go by); fewer than
# STEADY_AFTER jobs completed (a wide range); enough completed jobs for a steady throughput.
BASIS_DONE = "done"
BASIS_NONE = "no_completed_jobs"
BASIS_FEW = "few_jobs"
BASIS_STEADY = "steady"
STEADY_AFTER = 10
# The range's relative spread is 1/sqrt(completed jobs), never less than this.
MIN_SPREAD = 0.1


def observed_jobs(manifest):
    """``{"jobs", "job_mb", "job_hours", "min_job_hours"}`` of the campaign's completed jobs with a start and an end,
    those of its sealed mailboxes included (a mailbox of unknown size counts as 0 MB)."""
    active = [job for entry in manifest["mailboxes"].values() if entry["attempts"] for job in completed_jobs(entry)]
    floors = [part["min_job_hours"] for part in sealed_parts(manifest) if part.get("min_job_hours") is not None]
    floors += [hours for size, hours in active]
    return {
        "jobs": len(active) + sealed_total(manifest, "jobs"),
        "job_mb": sum(size for size, hours in active) + sealed_total(manifest, "job_mb"),
        "job_hours": sum(hours for size, hours in active) + sealed_total(manifest, "job_hours"),
        "min_job_hours": min(floors, default=None),
    }


class Throughput:
    """What the completed jobs (:func:`observed_jobs`: their number, megabytes, hours and least hours) showed:
    ``mb_per_hour`` per slot (None when they exported no megabyte) and the least hours a job took
    (``floor_hours``)."""

    def __init__(self, totals):
        self.jobs = totals["jobs"]
        megabytes, hours = totals["job_mb"], totals["job_hours"]
        self.mb_per_hour = megabytes / hours if megabytes > 0 and hours > 0 else None
        self.floor_hours = totals["min_job_hours"] if self.jobs else None
        self.mean_hours = hours / self.jobs if self.jobs else None

    @property
    def spread(self):
        """The relative uncertainty of the throughput: 1/sqrt(jobs), at least :data:`MIN_SPREAD`."""
        return max(MIN_SPREAD, 1.0 / math.sqrt(self.jobs)) if self.jobs else None

    def hours(self, size_mb, factor=1.0):
        """How many hours a job of a mailbox of ``size_mb`` MB takes, times ``factor``."""
        if self.mb_per_hour is None:
            return self.mean_hours * factor
        size = size_mb if isinstance(size_mb, (int, float)) else 0
        return max(self.floor_hours, size / self.mb_per_hour) * factor


def _blocked_until(manifest):
    """``{mailbox id: datetime}``: when the mailboxes that a recent job holds back (the last job listing's
    ``blocked``) may start."""
    found = {}
    for item in (manifest.get("listing") or {}).get("blocked") or []:
        started = to_datetime(item.get("start_time"))
        if item.get("id") and started is not None:
            found[item["id"]] = started + EXPORT_INTERVAL
    return found


def remaining_work(manifest, moment):
    """``(running, queue)``: the running attempts as ``[(start datetime, size_mb)]``, and the mailboxes still to
    start (pending, and failed ones to retry) as ``[(earliest start, size_mb)]`` in the order the campaign starts
    them (those that may start now first, the largest first; then the ones the 24-hour rule holds, by time)."""
    blocked = _blocked_until(manifest)
    running = []
    ready = []
    held = []
    for entry in manifest["mailboxes"].values():
        state = entry["state"]
        if state == RUNNING:
            started = to_datetime(entry["attempts"][-1].get("start_time")) if entry["attempts"] else None
            running.append((started or moment, entry.get("size_mb")))
        elif state == PENDING or state == FAILED:
            eligible = eligible_at(entry) if state == FAILED else blocked.get(entry["id"])
            if eligible is not None and eligible > moment:
                held.append((eligible, size_order(entry), entry.get("size_mb")))
            else:
                ready.append(entry)
    ready.sort(key=size_order)
    held.sort()
    queue = [(moment, entry.get("size_mb")) for entry in ready]
    queue.extend((start, size) for start, dummy, size in held)
    return running, queue


# Durations as whole microseconds: ``timedelta(hours=h) // _MICROSECOND``, exactly what a datetime adds.
_MICROSECOND = timedelta(microseconds=1)
_MICROSECONDS_PER_HOUR = 3_600_000_000


def microseconds(hours):
    """``timedelta(hours=hours) // _MICROSECOND`` without building a timedelta: the whole hours exactly, the rest
    rounded half to even, as timedelta rounds it."""
    whole = math.floor(hours)
    return whole * _MICROSECONDS_PER_HOUR + round((hours - whole) * _MICROSECONDS_PER_HOUR)


def schedule_end(running, queue, moment, slots, duration):
    """When the last job ends, the ``running`` jobs (``[(start, size_mb)]``) and then the ``queue``
    (``[(earliest start, size_mb)]``) laid out on ``slots`` slots from ``moment``; a job of ``size_mb`` takes
    ``duration(size_mb)`` hours. A running job past its expected end is taken to end at ``moment``."""
    offsets = _Offsets(running, queue, moment)
    return offsets.end(
        [microseconds(duration(size)) for start, size in running],
        [microseconds(duration(size)) for start, size in queue],
        slots,
    )


class _Offsets:
    """The running jobs' starts and the queue's earliest starts as whole microseconds after ``moment``: a schedule
    on integers is exactly the schedule on datetimes, and much cheaper."""

    def __init__(self, running, queue, moment):
        self.moment = moment
        self.running = [(start - moment) // _MICROSECOND for start, size in running]
        # Most of a queue may start at once (``earliest`` is ``moment``): no arithmetic for those.
        self.queue = [0 if earliest is moment else (earliest - moment) // _MICROSECOND for earliest, size in queue]

    def end(self, running_durations, queue_durations, slots):
        """The end (a datetime) of the schedule whose jobs take these durations (microseconds) on ``slots``."""
        ends = sorted(max(0, start + length) for start, length in zip(self.running, running_durations))
        # With more running jobs than slots, a new job starts only once enough of them ended.
        free = ends[max(0, len(ends) - slots) :] + [0] * max(0, slots - len(ends))
        heapq.heapify(free)
        for earliest, length in zip(self.queue, queue_durations):
            first = free[0]
            heapq.heapreplace(free, (first if first > earliest else earliest) + length)
        last = max(ends[-1] if ends else 0, max(free) if free else 0)
        return self.moment + timedelta(microseconds=last)


def _last_end(manifest):
    """The latest end of any of the campaign's jobs, sealed ones included, or None."""
    ends = [
        to_datetime(attempt.get("end_time"))
        for entry in manifest["mailboxes"].values()
        for attempt in entry["attempts"]
        if attempt.get("end_time")
    ]
    ends += [to_datetime(part["last_end"]) for part in sealed_parts(manifest) if part.get("last_end")]
    return max(ends) if ends else None


def _remaining_mb(manifest):
    return sum(
        entry["size_mb"]
        for entry in manifest["mailboxes"].values()
        if entry["state"] in (PENDING, RUNNING, FAILED) and isinstance(entry.get("size_mb"), (int, float))
    )


class _Campaign:
    """The inputs of one estimate: the manifest's remaining work, its throughput and slots, at ``moment``."""

    def __init__(self, manifest, moment, max_concurrent_jobs, foreign_running):
        self.manifest = manifest
        self.moment = moment
        self.counts = summary(manifest)
        self.max_concurrent_jobs = max_concurrent_jobs
        self.foreign_running = foreign_running
        self.throughput = Throughput(observed_jobs(manifest))
        self.running, self.queue = remaining_work(manifest, moment)
        self._offsets = _Offsets(self.running, self.queue, moment)
        self._hours = None
        self._durations = {}
        self._schedules = {}

    def slots(self, max_concurrent_jobs=None, foreign_running=None):
        """The slots the campaign may use, as the plan counts them: ``max_concurrent_jobs`` less the slots others'
        jobs hold (at least 1)."""
        jobs = self.max_concurrent_jobs if max_concurrent_jobs is None else max_concurrent_jobs
        foreign = self.foreign_running if foreign_running is None else foreign_running
        return max(1, jobs - foreign)

    def end(self, factor=1.0, **slots):
        """The estimated end with every job ``factor`` times as long, on :meth:`slots` ``(**slots)``; each
        schedule is laid out once, on durations computed once per factor."""
        key = (factor, self.slots(**slots))
        if key not in self._schedules:
            if factor not in self._durations:
                if self._hours is None:
                    hours = self.throughput.hours
                    self._hours = tuple([hours(size) for start, size in jobs] for jobs in (self.running, self.queue))
                self._durations[factor] = tuple([microseconds(each * factor) for each in jobs] for jobs in self._hours)
            self._schedules[key] = self._offsets.end(*self._durations[factor], key[1])
        return self._schedules[key]

    def late(self, **slots):
        return self.end(1.0 + self.throughput.spread, **slots)


def _basis(campaign):
    if is_done(campaign.counts):
        return BASIS_DONE
    if not campaign.throughput.jobs:
        return BASIS_NONE
    return BASIS_FEW if campaign.throughput.jobs < STEADY_AFTER else BASIS_STEADY


def _basis_text(campaign, basis, remaining_mb):
    """One sentence saying what the estimate is based on."""
    if basis == BASIS_DONE:
        return "the campaign is done: no mailbox is pending, running or to be retried"
    slots = campaign.slots()
    held = (
        f", less {campaign.foreign_running} held by jobs this campaign did not start"
        if campaign.foreign_running
        else ""
    )
    remaining = (
        f"{len(campaign.running) + len(campaign.queue)} mailboxes ({remaining_mb:.0f} MB) to go on {slots} "
        f"slot{'' if slots == 1 else 's'} (max_concurrent_jobs {campaign.max_concurrent_jobs}{held})"
    )
    if basis == BASIS_NONE:
        return f"no job of the campaign has completed yet, so there is no throughput to go by; {remaining}"
    throughput = campaign.throughput
    rate = f"{throughput.mb_per_hour:.0f} MB per hour per slot" if throughput.mb_per_hour else "no MB exported"
    spread = f"within {throughput.spread * 100:.0f} %"
    return (
        f"from {throughput.jobs} completed jobs ({rate}, a job takes {throughput.floor_hours * 60:.0f} minutes at "
        f"least), {spread}; {remaining}"
    )


def _ends(campaign, **slots):
    """``(now, then)``: the late end on the campaign's slots and on ``slots`` (see :meth:`_Campaign.slots`). With no
    completed job, every job is taken to last one hour: the times mean nothing, their order does."""
    if campaign.throughput.jobs:
        return campaign.late(), campaign.late(**slots)

    def unit(size):
        return 1.0

    ends = [
        schedule_end(campaign.running, campaign.queue, campaign.moment, campaign.slots(**change), unit)
        for change in ({}, slots)
    ]
    return ends[0], ends[1]


def _verdict(moment, target, deadline):
    """Whether an end at ``moment`` is in time for ``target`` (the deadline less its margin) and ``deadline``."""
    if moment <= target:
        return "in time"
    if moment <= deadline:
        return f"before the deadline, but within its margin (after {iso8601(target)})"
    return "still after the deadline"


def _sooner(campaign, times, label, **slots):
    """``label`` with what the change of ``slots`` would bring, or None when it would not bring the end sooner.
    ``times``: ``(target, deadline)``."""
    now, then = _ends(campaign, **slots)
    if then >= now:
        return None
    if not campaign.throughput.jobs:
        return f"{label} (no job has completed yet to say by how much it brings the end sooner)"
    return f"{label}: the late end would be {iso8601(then)} instead of {iso8601(now)}, {_verdict(then, *times)}"


def _hold_advice(campaign, deadline):
    """What the 24-hour rule holds back (queued mailboxes that may not start yet), or None."""
    held = sorted(start for start, size in campaign.queue if start > campaign.moment)
    if not held:
        return None
    text = (
        f"{len(held)} of the {len(campaign.running) + len(campaign.queue)} remaining mailboxes are held by the "
        f"24-hour rule (AWS exports a mailbox at most once in 24 hours) until {iso8601(held[0])}"
        + (f", the last until {iso8601(held[-1])}" if held[-1] != held[0] else "")
    )
    late = sum(1 for start in held if start > deadline)
    if late:
        text += f"; {late} of them cannot start before the deadline {iso8601(deadline)}, whatever the settings"
    return text


def _free_slot_advice(campaign):
    """Mailboxes that may start now while slots are free (a pass starts them), or None."""
    ready = sum(1 for start, size in campaign.queue if start <= campaign.moment)
    free = campaign.slots() - len(campaign.running)
    if not ready or free <= 0:
        return None
    return (
        f"{ready} mailboxes may start now and {free} of the campaign's {campaign.slots()} slots are free: run the "
        "campaign again (wait=true keeps running passes until it is done)"
    )


def _advice(campaign, target, deadline):
    """What would bring the end sooner, or what stops it, as the situation is: the 24-hour rule's hold, free slots,
    more slots (only when they bring the late end sooner), the slots others' jobs hold, failures to fix."""
    times = (target, deadline)
    advice = [_hold_advice(campaign, deadline), _free_slot_advice(campaign)]
    if campaign.max_concurrent_jobs < MAX_RUNNING_JOBS_PER_ORGANIZATION:
        label = (
            f"raise max_concurrent_jobs from {campaign.max_concurrent_jobs} to {MAX_RUNNING_JOBS_PER_ORGANIZATION} "
            "(AWS's limit per organization)"
        )
        advice.append(_sooner(campaign, times, label, max_concurrent_jobs=MAX_RUNNING_JOBS_PER_ORGANIZATION))
    if campaign.foreign_running:
        label = (
            f"{campaign.foreign_running} export jobs this campaign did not start hold slots of the organization "
            "(by hand or another campaign); let them end and start no others"
        )
        advice.append(_sooner(campaign, times, label, foreign_running=0))
    failed = campaign.counts["failed"] + campaign.counts["failed_permanently"]
    if failed:
        advice.append(
            f"{failed} mailboxes failed ({campaign.counts['failed_permanently']} given up): fix what their errors "
            "say (the result's failures) so that their retries succeed"
        )
    advice = [item for item in advice if item]
    if not advice:
        advice.append(
            "no setting of the campaign would bring the end sooner (more slots would not): narrow the selection "
            "(exclude mailboxes that need no export)"
        )
    return advice


def _range(campaign, basis):
    """``(eta, early, late)`` datetimes (None where unknown)."""
    if basis == BASIS_DONE:
        last = _last_end(campaign.manifest) or campaign.moment
        return last, last, last
    if basis == BASIS_NONE:
        return None, None, None
    spread = campaign.throughput.spread
    return campaign.end(), campaign.end(1.0 / (1.0 + spread)), campaign.end(1.0 + spread)


def estimate(manifest, now, max_concurrent_jobs=None, foreign_running=None, deadline=None, margin_days=None):
    """The campaign's estimated end, and whether it is in time for ``deadline``.

    ``now`` is an aware datetime (or ISO text); ``max_concurrent_jobs`` the campaign's setting (None: what its
    last pass recorded, else AWS's limit); ``foreign_running`` how many running jobs the campaign did not start
    hold slots (None: those the last job listing showed); ``deadline`` ISO text (None:
    :data:`common.DEFAULT_DEADLINE`) and ``margin_days`` (None: :data:`common.DEFAULT_DEADLINE_MARGIN_DAYS`).

    Returns ``{"basis", "basis_text", "now", "eta", "early", "late", "mb_per_hour_per_slot",
    "completed_jobs_observed", "slots", "max_concurrent_jobs", "foreign_running", "remaining_mailboxes",
    "remaining_mb", "deadline", "margin_days", "deadline_with_margin", "at_risk", "deadline_passed", "warning",
    "advice"}``.
    ``eta``, ``early`` and ``late`` are None while no job has completed; when the campaign is done they are all
    the end of its last job. ``at_risk`` is True when the late end (or, with no estimate yet, now) is past the
    deadline less its margin and the campaign is not done; then ``warning`` says so and ``advice`` lists what
    holds it back or would help. ``deadline_passed`` is True when now is past the deadline and the campaign is not
    done."""
    moment = to_datetime(now)
    if max_concurrent_jobs is None:
        max_concurrent_jobs = remembered_slots(manifest) or MAX_RUNNING_JOBS_PER_ORGANIZATION
    if foreign_running is None:
        foreign_running = len((manifest.get("listing") or {}).get("foreign") or [])
    deadline = validate_deadline(DEFAULT_DEADLINE if deadline is None else deadline)
    margin_days = DEFAULT_DEADLINE_MARGIN_DAYS if margin_days is None else margin_days
    target = deadline - timedelta(days=margin_days)
    campaign = _Campaign(manifest, moment, max_concurrent_jobs, foreign_running)
    basis = _basis(campaign)
    eta, early, late = _range(campaign, basis)
    remaining_mb = _remaining_mb(manifest)
    at_risk = basis != BASIS_DONE and (late or moment) > target
    deadline_passed = basis != BASIS_DONE and moment > deadline
    result = {
        "basis": basis,
        "basis_text": _basis_text(campaign, basis, remaining_mb),
        "now": iso8601(moment),
        "eta": iso8601(eta),
        "early": iso8601(early),
        "late": iso8601(late),
        "mb_per_hour_per_slot": _rounded(campaign.throughput.mb_per_hour),
        "completed_jobs_observed": campaign.throughput.jobs,
        "slots": campaign.slots(),
        "max_concurrent_jobs": max_concurrent_jobs,
        "foreign_running": foreign_running,
        "remaining_mailboxes": len(campaign.running) + len(campaign.queue),
        "remaining_mb": _rounded(remaining_mb),
        "deadline": iso8601(deadline),
        "margin_days": margin_days,
        "deadline_with_margin": iso8601(target),
        "at_risk": at_risk,
        "deadline_passed": deadline_passed,
        "warning": _warning(campaign, late, target, deadline, margin_days) if at_risk else None,
        "advice": _advice(campaign, target, deadline) if at_risk else [],
    }
    return result


def campaign_eta(manifest, moment, params, foreign_running):
    """:func:`estimate` of a campaign with the module's parameters ``params`` (``max_concurrent_jobs``,
    ``deadline``, ``deadline_margin_days``; missing ones take their defaults) at ``moment``."""
    return estimate(
        manifest,
        moment,
        params.get("max_concurrent_jobs"),
        foreign_running,
        params.get("deadline"),
        params.get("deadline_margin_days"),
    )


def _rounded(value):
    return round(value, 1) if value is not None else None


def _warning(campaign, late, target, deadline, margin_days):
    """The sentence of an estimate at risk: the deadline has passed, or the end may be past it less its margin."""
    moment = campaign.moment
    if moment > deadline:
        remaining = len(campaign.running) + len(campaign.queue)
        days = (moment - deadline).total_seconds() / 86400.0
        return (
            f"the deadline {iso8601(deadline)} has passed ({days:.1f} days ago, now {iso8601(moment)}) with "
            f"{remaining} mailboxes not exported yet"
            + (f"; the estimate's late end is {iso8601(late)}" if late is not None else "")
        )
    when = f"the estimate's late end {iso8601(late)}" if late is not None else f"now ({iso8601(moment)})"
    return (
        f"the campaign may not finish in time: {when} is past {iso8601(target)}, {margin_days} days before the "
        f"deadline {iso8601(deadline)}"
    )


def summary_line(eta):
    """A short text of an estimate for a progress line: ``ETA 2026-12-03 14:00 UTC to 2026-12-04 02:00 UTC``, with
    ``, AT RISK: past <deadline less the margin> (...); would help: <advice>`` when it is (``, DEADLINE PASSED:
    <deadline>; would help: <advice>`` once the deadline has passed); ``ETA unknown (no job
    completed yet)`` before any job completed."""
    if not eta:
        return ""
    if eta["basis"] == BASIS_DONE:
        return f"done at {_short(eta['eta'])}"
    if eta["early"] is None:
        text = "ETA unknown (no job completed yet)"
    elif eta["early"] == eta["late"]:
        text = f"ETA {_short(eta['eta'])}"
    else:
        text = f"ETA {_short(eta['early'])} to {_short(eta['late'])}"
    if eta.get("deadline_passed"):
        text += f", DEADLINE PASSED: {_short(eta['deadline'])}"
    elif eta["at_risk"]:
        text += f", AT RISK: past {_short(eta['deadline_with_margin'])} (deadline less {eta['margin_days']} days)"
    if eta["at_risk"] and eta.get("advice"):
        text += f"; would help: {'; '.join(eta['advice'])}"
    return text


def _short(text):
    """``2026-12-03 14:00 UTC`` of ISO text."""
    moment = to_datetime(text)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "?"
