# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The campaign's progress over time, kept compact in the manifest: ``manifest["history"]``.

Shape::

    {"fields": ["t", "total", "completed", "completed_mb", "running"],
     "t0": <epoch seconds of the first point>,
     "points": [[<seconds after t0>, <total>, <completed>, ...], ...],
     "max_concurrent_jobs": <the last pass's setting>}

One point per pass that saves the manifest, oldest first: the first save of a pass appends it and the later saves
of the same pass update it in place, so the history costs no write of its own (a pass that changes nothing writes
nothing and adds no point). ``completed_mb`` is the sizes of the COMPLETED mailboxes; the current counts of every
state are the manifest's own (:func:`manifest.summary`). Once there are more than :data:`MAX_POINTS` points,
every other one is dropped (the first and the last are kept), so the history stays a few kilobytes whatever the
campaign's length or size: a large campaign writes its changed fields to its journal at every save, and the
history is one of them, so it is kept under 4 KiB (whole numbers, times in seconds after ``t0``). Read the
points with :func:`points` (by name, times in epoch seconds and ISO text).

Plain Python on manifest dicts.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.manifest import COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import summary
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime

FIELDS = ("t", "total", "completed", "completed_mb", "running")
# More points than this are thinned to half as many.
MAX_POINTS = 120


def completed_mb(manifest):
    """The sizes, in MB, of the campaign's COMPLETED mailboxes (unknown sizes count as 0)."""
    return sum(
        entry["size_mb"]
        for entry in manifest["mailboxes"].values()
        if entry["state"] == COMPLETED and isinstance(entry.get("size_mb"), (int, float))
    )


def point(manifest, moment, t0=0):
    """The history point of ``manifest`` at ``moment`` (an aware datetime or ISO text), in :data:`FIELDS` order, its
    time in seconds after ``t0`` (epoch seconds)."""
    counts = summary(manifest)
    return [
        int(to_datetime(moment).timestamp()) - t0,
        counts["total"],
        counts["completed"],
        int(round(completed_mb(manifest))),
        counts["running"],
    ]


def thin(points, limit=MAX_POINTS):
    """``points`` when there are at most ``limit``, else every other one, the first and the last always kept."""
    if len(points) <= limit:
        return points
    kept = points[:-1:2]
    return kept + [points[-1]]


def record_point(manifest, moment, same_pass, max_concurrent_jobs=None):
    """Add the point of ``manifest`` at ``moment`` to its history; ``same_pass`` True replaces the last point (a
    later save of the same pass). ``max_concurrent_jobs`` (when given) is remembered with the history, for the
    estimate of readers that do not know the campaign's settings."""
    history = manifest.get("history")
    if not isinstance(history, dict) or list(history.get("fields") or []) != list(FIELDS):
        history = {"fields": list(FIELDS), "t0": int(to_datetime(moment).timestamp()), "points": []}
    points = list(history.get("points") or [])
    new = point(manifest, moment, history.get("t0") or 0)
    if same_pass and points:
        points[-1] = new
    else:
        points.append(new)
    history["points"] = thin(points)
    if max_concurrent_jobs is not None:
        history["max_concurrent_jobs"] = max_concurrent_jobs
    manifest["history"] = history
    return new


class PassHistory:
    """The history recorder of one pass: called before every save of the pass's manifest (``record(manifest)``),
    it appends the pass's point at the first call and updates it at the later ones. ``now`` is a callable returning
    an aware datetime."""

    def __init__(self, now, max_concurrent_jobs=None):
        self.now = now
        self.max_concurrent_jobs = max_concurrent_jobs
        self.recorded = False

    def __call__(self, manifest):
        record_point(manifest, self.now(), self.recorded, self.max_concurrent_jobs)
        self.recorded = True


def points(manifest):
    """The manifest's history as dicts (``{"t", "at", "total", "completed", "completed_mb", "running"}``, ``t`` epoch
    seconds, ``at`` ISO text), oldest first; ``[]`` without a history."""
    history = (manifest or {}).get("history")
    if not isinstance(history, dict):
        return []
    names = list(history.get("fields") or [])
    t0 = history.get("t0") or 0
    found = []
    for values in history.get("points") or []:
        item = dict(zip(names, values))
        item["t"] = (item.get("t") or 0) + t0
        item["at"] = iso8601(item["t"])
        found.append(item)
    return found


def remembered_slots(manifest):
    """The ``max_concurrent_jobs`` the campaign's last pass recorded with its history, or None."""
    history = (manifest or {}).get("history")
    return history.get("max_concurrent_jobs") if isinstance(history, dict) else None
