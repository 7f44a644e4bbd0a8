# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What one reconcile pass learned from the job listing and what it should do next: :func:`plan`.

Pure: the manifest and the ListMailboxExportJobs listing in, a :class:`Plan` out; the manifest is not changed
(:func:`manifest.apply_updates` applies the plan's updates).
"""

import copy
import heapq
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field

from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_MAX_ATTEMPTS
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAX_RUNNING_JOBS_PER_ORGANIZATION
from ansible_collections.mailops.workmail.plugins.module_utils.limits import EXPORT_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.limits import blocking_job
from ansible_collections.mailops.workmail.plugins.module_utils.limits import latest_jobs
from ansible_collections.mailops.workmail.plugins.module_utils.limits import next_export_time
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FINAL_JOB_STATES
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SETTLED_STATES
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import apply_updates
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import job_fields
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import mailbox_state
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import started
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_integer
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_max_concurrent_jobs

# Why a job must be described once (each is at most one DescribeMailboxExportJob per attempt).
DESCRIBE_NOT_LISTED = "not_listed"  # a RUNNING attempt's job is missing from the 7-day listing
DESCRIBE_ERROR_INFO = "error_info"  # the job FAILED; the listing has no ErrorInfo


@dataclass
class Plan:
    """What one reconcile pass learned from the listing and what it should do next.

    - ``updates``: ``[{"id", "attempt", "fields", "state"}]`` for :func:`manifest.apply_updates`.
    - ``foreign_running``: RUNNING jobs of the listing this campaign did not start (they take slots).
    - ``own_running``: this campaign's RUNNING attempts after the updates (including unconfirmed ones).
    - ``free_slots``: ``max(0, max_concurrent_jobs - own_running - len(foreign_running))``.
    - ``to_start``: ``[{"id", "attempt", "client_token", "size_mb", "resume"}]``, at most ``free_slots`` of them,
      the largest mailboxes first; ``resume`` marks an attempt recorded before its StartMailboxExportJob whose job
      is not in the listing: start it again with the same token (AWS answers with the job if it exists). Resumed
      attempts come first and are counted in ``own_running`` already.
    - ``to_describe``: ``[{"id", "attempt", "job_id", "reason"}]`` jobs to describe once (see ``DESCRIBE_*``).
    - ``waiting_24h``: ``[{"id", "eligible"}]`` FAILED mailboxes whose retry waits 24 hours after their last attempt.
    - ``blocked_24h``: ``[{"id", "job_id", "eligible"}]`` mailboxes that would start but for a job of theirs that
      started less than 24 hours ago (whoever started it: by hand, another campaign, a lost manifest); AWS exports a
      mailbox once every 24 hours. Their slots go to the next mailboxes.
    - ``done``: no mailbox is PENDING or RUNNING and none is FAILED with attempts left.
    """

    now: str
    updates: list = field(default_factory=list)
    foreign_running: list = field(default_factory=list)
    own_running: int = 0
    free_slots: int = 0
    to_start: list = field(default_factory=list)
    to_describe: list = field(default_factory=list)
    waiting_24h: list = field(default_factory=list)
    blocked_24h: list = field(default_factory=list)
    done: bool = False

    def as_dict(self):
        return asdict(self)


def size_order(item):
    """Sort key of mailboxes (manifest entries or plan items): the largest first, unknown sizes last, then by id."""
    size = item.get("size_mb")
    return (-(size if isinstance(size, (int, float)) else -1), item["id"])


def eligible_at(entry):
    """When the next attempt of a FAILED mailbox may start: 24 hours after its last attempt started."""
    moment = to_datetime(entry["attempts"][-1].get("start_time")) if entry["attempts"] else None
    return moment + EXPORT_INTERVAL if moment is not None else None


def _index_listing(listing):
    by_job_id = {}
    by_token = {}
    for raw in listing:
        by_job_id[raw.get("JobId")] = raw
        token = parse_marker(raw.get("Description"))
        if token:
            # Keep the newest job of a token.
            previous = by_token.get(token)
            if previous is None or started(raw) > started(previous):
                by_token[token] = raw
    return by_job_id, by_token


def _own_jobs(manifest):
    """``(job ids, client tokens)`` of every attempt of the campaign."""
    job_ids = set()
    tokens = set()
    for entry in manifest["mailboxes"].values():
        for attempt in entry["attempts"]:
            tokens.add(attempt.get("client_token"))
            if attempt.get("job_id"):
                job_ids.add(attempt["job_id"])
    return job_ids, tokens


class _Listing:
    """The listing, indexed, and the jobs of it this campaign knows as its own."""

    def __init__(self, listing, manifest):
        self.jobs = listing
        self.manifest = manifest
        self.by_job_id, self.by_token = _index_listing(listing)
        self.latest = latest_jobs(listing)
        self.own_job_ids = set()  # the listed jobs found as the jobs of attempts
        self.every_own = None  # :func:`_own_jobs`, read only when a running job is not found as its mailbox's

    def job_of(self, attempt):
        """The listed job of an attempt: by its job id, or by its token when the id was never saved."""
        if attempt.get("job_id"):
            return self.by_job_id.get(attempt["job_id"])
        return self.by_token.get(attempt.get("client_token"))

    def is_own(self, raw):
        """Did this campaign start the listed job: is it the job of an attempt, by its id or its token marker? The
        attempts of its mailbox are looked at first; all of them only when it is not one of those."""
        job_id = raw.get("JobId")
        token = parse_marker(raw.get("Description"))
        if job_id in self.own_job_ids:
            return True
        entry = self.manifest["mailboxes"].get(raw.get("EntityId"))
        for attempt in entry["attempts"] if entry is not None else ():
            if (job_id and attempt.get("job_id") == job_id) or attempt.get("client_token") == token:
                return True
        if self.every_own is None:
            self.every_own = _own_jobs(self.manifest)
        return job_id in self.every_own[0] or token in self.every_own[1]

    def foreign_running(self):
        """The RUNNING jobs this campaign did not start."""
        return [
            {
                "job_id": raw.get("JobId"),
                "entity_id": raw.get("EntityId"),
                "state": raw.get("State"),
                "start_time": iso8601(raw.get("StartTime")),
            }
            for raw in self.jobs
            if raw.get("State") == JOB_RUNNING and not self.is_own(raw)
        ]


def _state_update(entry, state):
    return {"id": entry["id"], "attempt": None, "fields": None, "state": state} if state != entry["state"] else None


def _listed_update(entry, last, raw, result, max_attempts):
    """The update for a running attempt whose job is listed; a FAILED job is also described (for ErrorInfo)."""
    fields = job_fields(raw)
    changed = {key: value for key, value in fields.items() if last.get(key) != value}
    new_state = mailbox_state(entry, fields.get("state"), max_attempts)
    if fields.get("state") == JOB_FAILED and not raw.get("ErrorInfo"):
        result.to_describe.append(
            {"id": entry["id"], "attempt": last["attempt"], "job_id": raw.get("JobId"), "reason": DESCRIBE_ERROR_INFO}
        )
    if changed or new_state != entry["state"]:
        return {"id": entry["id"], "attempt": last["attempt"], "fields": changed, "state": new_state}
    return None


def _running_attempt_update(entry, last, listing, result, max_attempts):
    """What the listing says of a mailbox's unfinished last attempt: an update, a describe or a resume."""
    raw = listing.job_of(last)
    if raw is not None:
        listing.own_job_ids.add(raw.get("JobId"))
        return _listed_update(entry, last, raw, result, max_attempts)
    if last.get("job_id"):
        result.to_describe.append(
            {"id": entry["id"], "attempt": last["attempt"], "job_id": last["job_id"], "reason": DESCRIBE_NOT_LISTED}
        )
    else:
        result.to_start.append(
            {
                "id": entry["id"],
                "attempt": last["attempt"],
                "client_token": last["client_token"],
                "size_mb": entry.get("size_mb"),
                "resume": True,
            }
        )
    return _state_update(entry, RUNNING)


def _entry_update(entry, listing, result, max_attempts):
    """The update of one mailbox that is not settled, or None."""
    last = entry["attempts"][-1] if entry["attempts"] else None
    if last is None:
        return _state_update(entry, PENDING) if entry["state"] == RUNNING else None
    if last.get("state") not in FINAL_JOB_STATES:
        return _running_attempt_update(entry, last, listing, result, max_attempts)
    if entry["state"] not in (FAILED, RUNNING):
        return None
    # A final attempt whose mailbox state lags: max_attempts was raised or lowered since.
    return _state_update(entry, mailbox_state(entry, last.get("state"), max_attempts))


def _may_start(entry, moment, result):
    """May this unsettled mailbox start now? PENDING ones may; FAILED ones 24 hours after their last attempt (until
    then they are noted as waiting in ``result``); RUNNING ones are counted in ``result``."""
    if entry["state"] == RUNNING:
        result.own_running += 1
        return False
    if entry["state"] != FAILED:
        return True
    eligible = eligible_at(entry)
    if eligible is not None and eligible > moment:
        result.waiting_24h.append({"id": entry["id"], "eligible": iso8601(eligible)})
        return False
    return True


def _candidates(projected, entity_ids, moment, result):
    """The mailboxes that may start now, and whether any mailbox is not settled yet. ``entity_ids``: those that were
    not settled before the plan's updates (a settled mailbox stays settled)."""
    mailboxes = projected["mailboxes"]
    unsettled = [
        mailboxes[entity_id] for entity_id in entity_ids if mailboxes[entity_id]["state"] not in SETTLED_STATES
    ]
    return [entry for entry in unsettled if _may_start(entry, moment, result)], bool(unsettled)


def _new_start(manifest, entry):
    number = len(entry["attempts"]) + 1
    return {
        "id": entry["id"],
        "attempt": number,
        "client_token": campaign_client_token(manifest["organization_id"], entry["id"], manifest["campaign"], number),
        "size_mb": entry.get("size_mb"),
        "resume": False,
    }


def _fill_slots(manifest, candidates, listing, moment, result):
    """New starts for the free slots, the largest mailboxes first, passing over (and noting) the blocked ones."""
    free = []
    for entry in candidates:
        job = blocking_job(listing.latest, entry["id"], moment) if listing.latest else None
        if job is None:
            free.append(entry)
        else:
            result.blocked_24h.append(
                {"id": entry["id"], "job_id": job.get("JobId"), "eligible": next_export_time(job)}
            )
    # Only the next free_slots of them, the largest first, are wanted: no need to sort them all.
    return [_new_start(manifest, entry) for entry in heapq.nsmallest(result.free_slots, free, key=size_order)]


def _projection(manifest):
    """A copy of ``manifest`` the plan may change: its entries are shared until one is changed (:func:`_project`)."""
    projected = dict(manifest)
    projected["mailboxes"] = dict(manifest["mailboxes"])
    return projected


def _project(projected, update, moment):
    """Apply ``update`` to a copy of its entry in ``projected`` (the manifest's own entry stays as it is)."""
    projected["mailboxes"][update["id"]] = copy.deepcopy(projected["mailboxes"][update["id"]])
    apply_updates(projected, [update], moment)


def plan(
    manifest, listing, moment, max_concurrent_jobs=MAX_RUNNING_JOBS_PER_ORGANIZATION, max_attempts=DEFAULT_MAX_ATTEMPTS
):
    """The :class:`Plan` of one reconcile pass at ``moment`` (an aware datetime, preferably the service's clock);
    ``manifest`` is not changed. ``listing`` is ListMailboxExportJobs' ``Jobs`` (all pages, boto3 shapes)."""
    validate_max_concurrent_jobs(max_concurrent_jobs)
    validate_integer(max_attempts, "max_attempts")
    result = Plan(now=iso8601(moment))
    indexed = _Listing(listing, manifest)
    projected = _projection(manifest)
    unsettled = [
        entity_id for entity_id, entry in manifest["mailboxes"].items() if entry["state"] not in SETTLED_STATES
    ]
    for entity_id in sorted(unsettled):
        entry = projected["mailboxes"][entity_id]
        update = _entry_update(entry, indexed, result, max_attempts)
        if update is not None:
            _project(projected, update, moment)
            result.updates.append(update)
    result.foreign_running = indexed.foreign_running()
    candidates, unsettled = _candidates(projected, unsettled, moment, result)
    result.free_slots = max(0, max_concurrent_jobs - result.own_running - len(result.foreign_running))
    result.to_start.sort(key=size_order)
    result.to_start.extend(_fill_slots(projected, candidates, indexed, moment, result))
    result.waiting_24h.sort(key=lambda item: (item["eligible"], item["id"]))
    result.blocked_24h.sort(key=lambda item: (item["eligible"], item["id"]))
    result.done = not unsettled
    return result
