# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When a running job is worth looking at again, and when the next pass is due.

A pass does not read the whole 7-day job list to learn the fate of its own running jobs: it describes each job when
it may have ended (:func:`look_due`): the earliest end that the job's EstimatedProgress at the last look (a whole
percentage, so progress p allows p + 1 percent done) and the campaign's pace (the fewest seconds per MB and the
minimum time of a job seen so far, learned from the jobs that completed: :func:`learn_pace`) both allow. A job
seen running is looked at again, at the latest, when it has run half as long again as at that look: so is a job
whose progress tells nothing, and progress that lags behind the run time cannot make a look come much later than
the end. A job is looked at no later than :data:`LOOK_AT_MOST_EVERY` seconds after the last look (a job that fails
early frees its slot by then), and no sooner than :data:`LOOK_AGAIN_AFTER` seconds after it.

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
# A job still running past the end its progress allowed is looked at again when it has run this much longer.
OVERDUE_STEP = 0.05
# The periodic reads (the directory, the whole job list) come once a day while each takes at most this many pages of
# 100, and proportionally less often when it takes more, but at least once a week: a large organization's daily
# reading would otherwise cost more calls than its exports (10,000 mailboxes: 100 pages a day).
PERIODIC_PAGES_PER_DAY = 10
PERIODIC_READ_EVERY = 24 * 3600
PERIODIC_READ_AT_MOST_EVERY = 7 * 24 * 3600


# A job that took this many times what the fewest seconds per MB give its size is one of the minimum time.
FLOOR_MARGIN = 1.05


def _seconds(first, last):
    return (last - first).total_seconds()


def learn_pace(pace, size_mb, start_time, end_time):
    """The campaign's pace ``{"seconds_per_mb", "floor_seconds", "jobs"}`` with one more COMPLETED job of a mailbox
    of ``size_mb`` MB that ran from ``start_time`` to ``end_time`` (ISO text); ``pace`` may be None.

    ``seconds_per_mb`` is the fewest seconds per MB of any job; ``floor_seconds`` the shortest of the jobs that took
    clearly longer than that rate gives their size (:data:`FLOOR_MARGIN`): small mailboxes, whose jobs take a
    minimum time whatever their size. A long job of a large mailbox says nothing of that minimum."""
    started, ended = to_datetime(start_time), to_datetime(end_time)
    pace = dict(pace or {"seconds_per_mb": None, "floor_seconds": None, "jobs": 0})
    if started is None or ended is None or ended <= started or not isinstance(size_mb, (int, float)) or size_mb <= 0:
        return pace
    took = _seconds(started, ended)
    pace["jobs"] += 1
    rate = took / size_mb
    pace["seconds_per_mb"] = rate if pace["seconds_per_mb"] is None else min(pace["seconds_per_mb"], rate)
    if took > pace["seconds_per_mb"] * size_mb * FLOOR_MARGIN:
        floor = pace.get("floor_seconds")
        pace["floor_seconds"] = took if floor is None else min(floor, took)
    return pace


def pace_end(attempt, size_mb, pace):
    """The earliest end the campaign's ``pace`` allows the running job of ``attempt`` (a mailbox of ``size_mb``):
    its start plus the larger of the minimum time of a job and ``size_mb`` times the fewest seconds per MB; None
    without a pace or a start."""
    started = to_datetime(attempt.get("start_time"))
    pace = pace or {}
    estimates = [pace.get("floor_seconds")]
    if pace.get("seconds_per_mb") is not None and isinstance(size_mb, (int, float)):
        estimates.append(pace["seconds_per_mb"] * size_mb)
    estimates = [value for value in estimates if value is not None]
    return started + timedelta(seconds=max(estimates)) if estimates and started is not None else None


def progress_end(attempt):
    """The earliest end the job's progress at the last look allows (progress p at ``seen``: at most p + 1 percent
    done, EstimatedProgress being a whole percentage), or None when it tells nothing (no look, 0 %)."""
    started = to_datetime(attempt.get("start_time"))
    seen = to_datetime(attempt.get("seen"))
    progress = attempt.get("progress")
    if started is None or seen is None or not isinstance(progress, (int, float)) or not 0 < progress < 100:
        return None
    if seen <= started:
        return None
    return started + timedelta(seconds=_seconds(started, seen) * 100.0 / (progress + 1))


def look_due(attempt, size_mb, pace):
    """When the running job of ``attempt`` should be described next (an aware datetime), or None when the attempt
    has no start time (it was never started: the pass resumes it by its token).

    Not before the end the pace allows (:func:`pace_end`); beyond it, as far as the end its progress allows
    (:func:`progress_end`) but, once the job was seen running, no later than when it has run half as long again as
    at that look (so is a job whose progress tells nothing; progress that lags behind the run time cannot make a
    look come late). Always :data:`LOOK_AGAIN_AFTER` seconds after the last look at least, and
    :data:`LOOK_AT_MOST_EVERY` seconds at most."""
    started = to_datetime(attempt.get("start_time"))
    if started is None:
        return None
    last = to_datetime(attempt.get("seen")) or started
    half_again = last + timedelta(seconds=max(FIRST_LOOK_AFTER, _seconds(started, last) / 2.0))
    by_pace = pace_end(attempt, size_mb, pace)
    by_progress = progress_end(attempt)
    if by_progress is not None and by_progress <= last + timedelta(seconds=LOOK_AGAIN_AFTER):
        # The end its progress allowed has passed (a job at 99 %): look again when it has run a little longer, the
        # longer it runs the later, so a job that stays at 99 % is not looked at every few seconds.
        by_progress = last + timedelta(seconds=max(LOOK_AGAIN_AFTER, _seconds(started, last) * OVERDUE_STEP))
    if by_progress is None:
        end = half_again if by_pace is None or attempt.get("seen") else by_pace
    else:
        end = min(by_progress, half_again)
    if by_pace is not None:
        end = max(end, by_pace)
    end += timedelta(seconds=END_SLACK) if end in (by_pace, progress_end(attempt)) else timedelta(0)
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


def next_pass_delay(pass_result, poll_interval, elapsed=0.0):
    """How many seconds to sleep before the next pass with ``wait: true``: until the pass's ``next_pass_in`` (when
    the first running job is due a look, ...), counted from the pass's start (it took ``elapsed`` seconds, which
    are not slept again), at least :data:`common.MIN_POLL_INTERVAL` and at most ``poll_interval``."""
    due = (pass_result or {}).get("next_pass_in")
    if not isinstance(due, (int, float)):
        return poll_interval
    return min(poll_interval, max(MIN_POLL_INTERVAL, int(math.ceil(due - max(0.0, elapsed)))))


def earliest(moments):
    """The earliest of the aware datetimes given (None ignored), or None."""
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


def periodic_read_every(pages):
    """Seconds between two periodic reads of a list of ``pages`` pages: :data:`PERIODIC_READ_EVERY` up to
    :data:`PERIODIC_PAGES_PER_DAY` pages, longer in proportion beyond, at most :data:`PERIODIC_READ_AT_MOST_EVERY`."""
    scaled = PERIODIC_READ_EVERY * max(1.0, pages / PERIODIC_PAGES_PER_DAY)
    return min(scaled, PERIODIC_READ_AT_MOST_EVERY)
