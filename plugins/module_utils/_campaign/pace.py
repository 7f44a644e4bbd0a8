# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When a running job is worth looking at again, and when the next pass is due.

A pass does not read the whole 7-day job list to learn the fate of its own running jobs: it describes each job when
it may have ended (:func:`look_due`): the earliest end that the job's EstimatedProgress at the last look (a whole
percentage, so progress p allows p + 1 percent done) and the campaign's pace (the fewest seconds per MB and the
shortest job seen so far, learned from the jobs that completed: :func:`learn_pace`) both allow. When nothing
tells, the job is looked at when it has run half as long again as at the last look. A job is looked at no later
than :data:`LOOK_AT_MOST_EVERY` seconds after the last look (a job that fails early frees its slot by then), and no
sooner than :data:`LOOK_AGAIN_AFTER` seconds after it.

Plain Python on manifest dicts; times are ISO 8601 text in the manifest and aware datetimes here.
"""

import math
from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.common import MIN_POLL_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime

# The first look at a job when neither its progress nor the campaign's pace is known yet; while nothing tells,
# the next look comes when the job has run half as long again (looks at 10 s, 15 s, 22 s, ... after the start).
FIRST_LOOK_AFTER = 10
# A job is looked at this long after the end its progress or the pace foretells: the start time the campaign records
# (its pass's, read from HTTP Date headers, whole seconds) may precede the job's own by a second or two.
END_SLACK = 3
# Never look at a job again sooner than this after the last look, nor later than this.
LOOK_AGAIN_AFTER = 10
LOOK_AT_MOST_EVERY = 3600


def _seconds(first, last):
    return (last - first).total_seconds()


def learn_pace(pace, size_mb, start_time, end_time):
    """The campaign's pace ``{"seconds_per_mb", "shortest_seconds", "jobs"}`` with one more COMPLETED job of a
    mailbox of ``size_mb`` MB that ran from ``start_time`` to ``end_time`` (ISO text); ``pace`` may be None."""
    started, ended = to_datetime(start_time), to_datetime(end_time)
    pace = dict(pace or {"seconds_per_mb": None, "shortest_seconds": None, "jobs": 0})
    if started is None or ended is None or ended <= started:
        return pace
    took = _seconds(started, ended)
    pace["jobs"] += 1
    pace["shortest_seconds"] = took if pace["shortest_seconds"] is None else min(pace["shortest_seconds"], took)
    if isinstance(size_mb, (int, float)) and size_mb > 0:
        rate = took / size_mb
        pace["seconds_per_mb"] = rate if pace["seconds_per_mb"] is None else min(pace["seconds_per_mb"], rate)
    return pace


def expected_end(attempt, size_mb, pace):
    """The earliest moment the running job of ``attempt`` may have ended, or None when nothing tells: the latest of
    what its progress at the last look (``progress`` at ``seen``) and the campaign's ``pace`` (with ``size_mb``)
    allow."""
    started = to_datetime(attempt.get("start_time"))
    if started is None:
        return None
    seen = to_datetime(attempt.get("seen"))
    progress = attempt.get("progress")
    pace = pace or {}
    estimates = [pace.get("shortest_seconds")]
    if pace.get("seconds_per_mb") is not None and isinstance(size_mb, (int, float)):
        estimates.append(pace["seconds_per_mb"] * size_mb)
    if seen is not None and isinstance(progress, (int, float)) and 0 < progress < 100 and seen > started:
        # EstimatedProgress is a whole percentage: progress p means at most p + 1 percent done.
        estimates.append(_seconds(started, seen) * 100.0 / (progress + 1))
    estimates = [value for value in estimates if value is not None]
    return started + timedelta(seconds=max(estimates)) if estimates else None


def look_due(attempt, size_mb, pace):
    """When the running job of ``attempt`` should be described next (an aware datetime), or None when the attempt
    has no start time (it was never started: the pass resumes it by its token)."""
    started = to_datetime(attempt.get("start_time"))
    if started is None:
        return None
    last = to_datetime(attempt.get("seen")) or started
    end = expected_end(attempt, size_mb, pace)
    if end is None:
        end = last + timedelta(seconds=max(FIRST_LOOK_AFTER, _seconds(started, last) / 2.0))
    else:
        end += timedelta(seconds=END_SLACK)
    earliest = last + timedelta(seconds=LOOK_AGAIN_AFTER) if attempt.get("seen") else started
    latest = last + timedelta(seconds=LOOK_AT_MOST_EVERY)
    return min(max(end, earliest), latest)


def note_progress(attempt, raw, moment):
    """Record what a look at the attempt's running job showed (its EstimatedProgress, at ``moment``); True when the
    attempt changed. Final jobs keep no progress."""
    if raw.get("State") != JOB_RUNNING:
        changed = "progress" in attempt or "seen" in attempt
        attempt.pop("progress", None)
        attempt.pop("seen", None)
        return changed
    progress = raw.get("EstimatedProgress")
    before = (attempt.get("progress"), attempt.get("seen"))
    attempt["progress"] = progress if isinstance(progress, (int, float)) else None
    attempt["seen"] = iso8601(moment)
    return before != (attempt["progress"], attempt["seen"])


def next_pass_delay(pass_result, poll_interval):
    """How many seconds to sleep before the next pass with ``wait: true``: until the pass's ``next_pass_in`` (when
    the first running job is due a look, ...), at least :data:`common.MIN_POLL_INTERVAL` and at most
    ``poll_interval``."""
    due = (pass_result or {}).get("next_pass_in")
    if not isinstance(due, (int, float)):
        return poll_interval
    return min(poll_interval, max(MIN_POLL_INTERVAL, int(math.ceil(due))))


def earliest(moments):
    """The earliest of the aware datetimes given (None ignored), or None."""
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None
