# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The campaign's progress over time, kept compact in the manifest: ``manifest["history"]``.

Shape::

    {"fields": ["t", "total", "completed", "completed_mb", "running"],
     "t0": <epoch seconds of the first point>,
     "points": [[<seconds after t0>, <total>, <completed>, <completed_mb>, <running>], ...],
     "max_concurrent_jobs": <the last pass's setting>}

Points are recorded by the saves of the passes, oldest first, so the history costs no write of its own (a pass that
changes nothing writes nothing). A pass adds a point when the last one is :func:`spacing` old or older (an hour, or
a 120th of the campaign's age once that is longer), and its later saves update that point in place.
``completed_mb`` is the sizes of the COMPLETED mailboxes. More than :data:`MAX_POINTS` points are thinned to half
as many (the first and the last kept).

Why so sparse: a large campaign writes the fields that changed since its manifest was last written whole to its
journal at every save, and the history is one of them. Kept under 4 KiB at 10,000 mailboxes (whole numbers, times
in seconds after ``t0``) and changed at most once an hour, it rides in few of the writes. :func:`points` reads it,
with the current state of the manifest (at its ``updated`` time) as its last point.

Plain Python on manifest dicts.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.manifest import COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealed_total
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import summary
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime

FIELDS = ("t", "total", "completed", "completed_mb", "running")
# More points than this are thinned to half as many.
MAX_POINTS = 120
# A new point comes this many seconds after the last one at the soonest (more once the campaign is older than
# MAX_POINTS times this).
MIN_SPACING = 3600


def completed_mb(manifest):
    """The sizes, in MB, of the campaign's COMPLETED mailboxes, sealed ones included (unknown sizes count as 0)."""
    return sealed_total(manifest, "size_mb") + sum(
        entry["size_mb"]
        for entry in manifest["mailboxes"].values()
        if entry["state"] == COMPLETED and isinstance(entry.get("size_mb"), (int, float))
    )


def _epoch(moment):
    return int(to_datetime(moment).timestamp())


def point(manifest, moment, t0=0):
    """The history point of ``manifest`` at ``moment`` (an aware datetime or ISO text), in :data:`FIELDS` order, its
    time in seconds after ``t0`` (epoch seconds)."""
    counts = summary(manifest)
    return [
        _epoch(moment) - t0,
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


def spacing(age):
    """How many seconds after the last point the next may come, in a campaign whose first point is ``age`` seconds
    old: :data:`MIN_SPACING`, or a :data:`MAX_POINTS`-th of the age when that is longer."""
    return max(MIN_SPACING, age / float(MAX_POINTS))


def record_point(manifest, moment, same_pass, max_concurrent_jobs=None):
    """Record the point of ``manifest`` at ``moment`` in its history: ``same_pass`` True replaces the last point (a
    later save of the pass that added it); else a point is added when the last one is :func:`spacing` old or older
    (or there is none). True when the history changed. ``max_concurrent_jobs`` (when given) is remembered with the
    history, for readers that do not know the campaign's settings."""
    history = manifest.get("history")
    if not isinstance(history, dict) or list(history.get("fields") or []) != list(FIELDS):
        history = {"fields": list(FIELDS), "t0": _epoch(moment), "points": []}
    points_ = list(history.get("points") or [])
    t0 = history.get("t0") or 0
    new = point(manifest, moment, t0)
    if same_pass and points_:
        points_[-1] = new
    elif not points_ or new[0] - points_[-1][0] >= spacing(new[0]):
        points_.append(new)
    elif max_concurrent_jobs is None or history.get("max_concurrent_jobs") == max_concurrent_jobs:
        return False
    history["points"] = thin(points_)
    if max_concurrent_jobs is not None:
        history["max_concurrent_jobs"] = max_concurrent_jobs
    manifest["history"] = history
    return True


class PassHistory:
    """The history recorder of one pass: called before every save of the pass's manifest (``record(manifest)``),
    it adds a point when one is due (:func:`record_point`) and, once it added one, updates it at the pass's later
    saves. ``now`` is a callable returning an aware datetime."""

    def __init__(self, now, max_concurrent_jobs=None):
        self.now = now
        self.max_concurrent_jobs = max_concurrent_jobs
        self.added = False

    def __call__(self, manifest):
        before = len((manifest.get("history") or {}).get("points") or [])
        changed = record_point(manifest, self.now(), self.added, self.max_concurrent_jobs)
        self.added = self.added or (changed and len(manifest["history"]["points"]) != before)


def points(manifest):
    """The manifest's history as dicts (``{"t", "at", "total", "completed", "completed_mb", "running"}``, ``t``
    epoch seconds, ``at`` ISO text), oldest first, with the manifest as it is now as the last point (at its
    ``updated`` time) when that is later than the last recorded; ``[]`` without a history."""
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
    if names == list(FIELDS) and manifest.get("updated") and manifest.get("mailboxes") is not None:
        live = dict(zip(names, point(manifest, manifest["updated"])))
        live["at"] = iso8601(live["t"])
        if not found or live["t"] > found[-1]["t"]:
            found.append(live)
    return found


def remembered_slots(manifest):
    """The ``max_concurrent_jobs`` the campaign's last pass recorded with its history, or None."""
    history = (manifest or {}).get("history")
    return history.get("max_concurrent_jobs") if isinstance(history, dict) else None
