# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a pass knows of the organization's jobs, at a cost that does not grow with the organization.

The whole job list (ListMailboxExportJobs, every job of the last 7 days: a page per 100 jobs) is read only when it
is needed (:func:`full_listing_due`): on the campaign's first pass, after AWS refused a start or forgot a job, after
the manifest was recovered, periodically for the jobs this campaign did not start (:func:`periodic_listing_every`),
once a day when no mailbox is left to start, and when more jobs are due a look than the list has pages (it then
costs fewer calls). What it showed is remembered in the manifest's ``listing`` record (:func:`remember_listing`):
when it was read, the running jobs of others (they hold slots) and the mailboxes a recent job holds back under the
24-hour rule.

Between full listings a pass describes only the running jobs that are due a look (:func:`pace.look_due`: this
campaign's and the others' running ones, at most 10 in all) and builds from them and the record the listing the
planner reads (:func:`observed_listing`): the planner then decides exactly as it would on the full list. When no
mailbox waits for a slot, an earlier end frees nothing, and every look waits for the last end (:func:`look_times`).
"""

from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import PERIODIC_READ_EVERY
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import look_due
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import note_progress
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import periodic_read_every
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.limits import EXPORT_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import has_mailboxes_to_start
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import PAGE_SIZE

# Read the whole job list this often (seconds), for the jobs this campaign did not start: once a day for a list of up
# to 10 pages, less often for a longer one (:func:`periodic_listing_every`), but once a day again when no mailbox is
# left to start (the campaign is never done on an older list).
FULL_LISTING_EVERY = PERIODIC_READ_EVERY
# Why a pass reads the whole job list.
FIRST_LISTING = "the campaign's first pass"
PERIODIC_LISTING = "the periodic look at the jobs this campaign did not start"
LAST_JOBS_LISTING = "no mailbox is left to start: the campaign is not done on a job list older than a day"
REFUSED_START = "AWS refused a start"
FORGOTTEN_JOB = "a running job was not found"
UNCONFIRMED_START = "a start's job id was not recorded"
RECOVERED = "the manifest was recovered"
# With this many jobs due a look or more, a pass reads the first page of the job list first (one call shows up to 100
# jobs) and describes only the jobs due a look that it does not show. AWS documents no order of the list: listed
# newest first, the page shows every running job; in another order it may show none. A page that answered no look
# is not read again for PAGE_RESTS seconds (the pass describes, as without it).
PAGE_LOOK_FROM = 2
PAGE_RESTS = PERIODIC_READ_EVERY


def full_listing_due(manifest, moment):
    """Why this pass must read the whole job list, or None when describing the running jobs due a look is enough
    (and cheaper: the list takes a page per 100 jobs, a look a call per job)."""
    record = manifest.get("listing")
    if not record or not record.get("at"):
        return FIRST_LISTING
    if record.get("due"):
        return record["due"]
    if any(_unconfirmed(entry) for entry in manifest["mailboxes"].values()):
        return UNCONFIRMED_START
    age = (moment - to_datetime(record["at"])).total_seconds()
    if age >= FULL_LISTING_EVERY and not has_mailboxes_to_start(manifest):
        return LAST_JOBS_LISTING
    if age >= periodic_listing_every(manifest):
        return PERIODIC_LISTING
    due = len(_due_looks(manifest, moment))
    pages = listing_pages(manifest)
    # More looks due than the list has pages: the list costs fewer calls, unless its first page answers them in one.
    if due > pages and (pages == 1 or page_rests(manifest, moment)):
        return f"{due} running jobs were due a look: the job list ({pages} page(s)) costs fewer calls"
    return None


def page_rests(manifest, moment):
    """Does the first page of the job list rest (it answered none of the looks due less than :data:`PAGE_RESTS`
    seconds ago)?"""
    rests = to_datetime((manifest.get("listing") or {}).get("page_answered_none"))
    return rests is not None and (moment - rests).total_seconds() < PAGE_RESTS


def periodic_listing_every(manifest):
    """Seconds between two periodic reads of the whole job list (:func:`pace.periodic_read_every` of its pages)."""
    return max(FULL_LISTING_EVERY, periodic_read_every(listing_pages(manifest)))


def listing_pages(manifest):
    """How many pages the whole job list takes at most: the jobs it showed last time and those started since."""
    record = manifest.get("listing") or {}
    jobs = (record.get("jobs") or 0) + (record.get("started_since") or 0)
    return max(1, -(-jobs // PAGE_SIZE))


def count_start(manifest):
    """One more job started since the job list was last read (it may make the list a page longer)."""
    record = manifest.setdefault("listing", {})
    record["started_since"] = (record.get("started_since") or 0) + 1


def _due_looks(manifest, moment):
    """The running jobs (this campaign's and the others') due a look at ``moment``."""
    return [job_id for job_id, due in look_times(manifest, moment).items() if _is_due(due, moment)]


def _slot_wanted(manifest, moment):
    """Does a mailbox wait for a free slot: one not started yet, or failed and past its 24 hours, that no recent job
    holds back?"""
    record = manifest.get("listing") or {}
    held = {item["id"] for item in record.get("blocked") or [] if _holds(item, moment)}
    for entity_id, entry in manifest["mailboxes"].items():
        if entity_id in held:
            continue
        if entry["state"] == PENDING or (entry["state"] == FAILED and _retry_due(entry, moment)):
            return True
    return False


def _holds(item, moment):
    return to_datetime(item["start_time"]) + EXPORT_INTERVAL > moment


def _retry_due(entry, moment):
    started = to_datetime(entry["attempts"][-1].get("start_time")) if entry["attempts"] else None
    return started is None or started + EXPORT_INTERVAL <= moment


def look_times(manifest, moment):
    """``{job id: when it is due a look}`` of the running jobs, this campaign's (:func:`pace.look_due`) and the
    others'. When no mailbox waits for a slot, an earlier end frees nothing: every job is then due when the last of
    this campaign's is (the end of the campaign, or of its wave, is seen in one look)."""
    pace = manifest.get("pace")
    times = {
        attempt["job_id"]: look_due(attempt, entry.get("size_mb"), pace)
        for entry, attempt in _running_attempts(manifest)
    }
    own = [due for due in times.values() if due is not None]
    for job in (manifest.get("listing") or {}).get("foreign") or []:
        times[job["job_id"]] = look_due(job, None, None)
    if own and not _slot_wanted(manifest, moment):
        latest = max(own)
        times = {job_id: latest for job_id in times}
    return times


def _is_due(due, moment):
    return due is None or due <= moment


def listing_needed(manifest, reason):
    """Make the next pass read the whole job list (``reason``), unless it must already."""
    record = manifest.setdefault("listing", {})
    if not record.get("due"):
        record["due"] = reason


def remember_listing(manifest, listing, the_plan, moment):
    """Record what a full ``listing`` showed (``the_plan``, the :class:`~planning.Plan` made from it): when, how many
    jobs, the running jobs of others and the mailboxes held back by a recent job."""
    manifest["listing"] = {
        "at": iso8601(moment),
        "due": None,
        "jobs": len(listing),
        "started_since": 0,
        "foreign": [
            {"job_id": job["job_id"], "entity_id": job["entity_id"], "start_time": job["start_time"]}
            for job in the_plan.foreign_running
        ],
        "blocked": [
            {
                "id": item["id"],
                "job_id": item["job_id"],
                "start_time": iso8601(to_datetime(item["eligible"]) - EXPORT_INTERVAL),
            }
            for item in the_plan.blocked_24h
        ],
    }


def _unconfirmed(entry):
    """Is the mailbox's last attempt one whose start was recorded but not its job id (a pass that died between)?
    The job list finds its job by the token."""
    return entry["state"] == RUNNING and bool(entry["attempts"]) and not entry["attempts"][-1].get("job_id")


def _running_attempts(manifest):
    """``(entry, attempt)`` of every RUNNING mailbox whose last attempt has a job id."""
    mailboxes = manifest["mailboxes"]
    # Only the few running ones are sorted (by id), not the whole campaign.
    for entity_id in sorted(entity_id for entity_id, entry in mailboxes.items() if entry["state"] == RUNNING):
        entry = mailboxes[entity_id]
        if entry["attempts"] and entry["attempts"][-1].get("job_id"):
            yield entry, entry["attempts"][-1]


def _as_listed(entry, attempt):
    """The listing item of a running job of this campaign, as recorded."""
    return {
        "JobId": attempt["job_id"],
        "EntityId": entry["id"],
        "State": JOB_RUNNING,
        "StartTime": attempt.get("start_time"),
        "Description": build_description("", attempt["client_token"]),
    }


class _Looks:
    """The describes of one pass (counted in the pass result), each of a job due a look."""

    def __init__(self, workmail, manifest, moment, result, heartbeat):
        self.workmail = workmail
        self.manifest = manifest
        self.moment = moment
        self.result = result
        self.heartbeat = heartbeat
        self.changed = False
        self.times = look_times(manifest, moment)
        self.page = {}

    def read_page(self):
        """Read the first page of the job list when :data:`PAGE_LOOK_FROM` jobs or more are due a look, unless the
        last page read answered none of them less than :data:`PAGE_RESTS` seconds ago; note whether it answered."""
        due = [job_id for job_id, when in self.times.items() if _is_due(when, self.moment)]
        record = self.manifest["listing"]
        if len(due) < PAGE_LOOK_FROM or page_rests(self.manifest, self.moment):
            return
        self.heartbeat()
        self.result["api_calls"]["list_mailbox_export_jobs"] += 1
        self.page = {raw.get("JobId"): raw for raw in self.workmail.export_jobs_page(self.manifest["organization_id"])}
        answered_none = None if any(job_id in self.page for job_id in due) else iso8601(self.moment)
        if record.get("page_answered_none") != answered_none:
            record["page_answered_none"] = answered_none
            self.changed = True

    def describe(self, job_id):
        """What AWS says of job ``job_id``: as the page of the job list shows it, else described."""
        if job_id in self.page:
            self.result["looked_up_in_page"] += 1
            return dict(self.page[job_id])
        self.heartbeat()
        self.result["api_calls"]["describe_mailbox_export_job"] += 1
        self.result["looked_at"] += 1
        return self.workmail.describe_export_job(self.manifest["organization_id"], job_id)

    def own(self):
        """The listing items of this campaign's running jobs; those due a look are described."""
        items = []
        for entry, attempt in _running_attempts(self.manifest):
            if not _is_due(self.times.get(attempt["job_id"]), self.moment):
                items.append(_as_listed(entry, attempt))
                continue
            raw = self.describe(attempt["job_id"])
            self.changed = note_progress(attempt, raw, self.moment) or self.changed
            items.append(dict(raw, EntityId=raw.get("EntityId") or entry["id"]))
        return items

    def foreign(self):
        """The listing items of the others' running jobs still running; those due a look are described (a job
        that ended, or that AWS no longer knows, holds no slot any more)."""
        items = []
        kept = []
        for job in self.manifest["listing"].get("foreign") or []:
            if not _is_due(self.times.get(job["job_id"]), self.moment):
                kept.append(job)
                items.append({"JobId": job["job_id"], "EntityId": job["entity_id"], "State": JOB_RUNNING})
                continue
            try:
                raw = self.describe(job["job_id"])
            except JobNotFoundError:
                raw = {"State": "FORGOTTEN"}
            if note_progress(job, raw, self.moment) or raw.get("State") != JOB_RUNNING:
                self.changed = True
            if raw.get("State") == JOB_RUNNING:
                kept.append(job)
                items.append({"JobId": job["job_id"], "EntityId": job["entity_id"], "State": JOB_RUNNING})
        self.manifest["listing"]["foreign"] = kept
        return items


def _blocked(manifest, moment):
    """Listing items standing for the recent jobs that hold mailboxes back (those of the last 24 hours)."""
    items = []
    kept = []
    for item in manifest["listing"].get("blocked") or []:
        started = to_datetime(item["start_time"])
        if started + EXPORT_INTERVAL > moment and manifest["mailboxes"].get(item["id"], {}).get("state") != RUNNING:
            kept.append(item)
            items.append(
                {"JobId": item["job_id"], "EntityId": item["id"], "State": JOB_COMPLETED, "StartTime": started}
            )
    manifest["listing"]["blocked"] = kept
    return items


def observed_listing(workmail, manifest, moment, result, heartbeat):
    """``(listing, changed)``: the jobs the planner needs to see, learned by describing the running jobs due a look
    (this campaign's and the others'); ``(None, changed)`` when a running job of this campaign is not found (the
    pass must read the whole job list)."""
    looks = _Looks(workmail, manifest, moment, result, heartbeat)
    looks.read_page()
    try:
        listing = looks.own()
    except JobNotFoundError:
        listing_needed(manifest, FORGOTTEN_JOB)
        return None, looks.changed
    listing += looks.foreign()
    listing += _blocked(manifest, moment)
    return listing, looks.changed


def next_look(manifest, moment):
    """The earliest moment a running job (this campaign's or another's) is due a look, or the whole job list a
    read; None when nothing runs."""
    record = manifest.get("listing") or {}
    found = [value for value in look_times(manifest, moment).values() if value is not None]
    if record.get("at") and found:
        found.append(to_datetime(record["at"]) + timedelta(seconds=periodic_listing_every(manifest)))
    return max(min(found), moment) if found else None


def note_listed_progress(manifest, listing, moment):
    """Record the progress the whole job list shows of this campaign's running jobs (:func:`pace.note_progress`)."""
    by_job_id = {raw.get("JobId"): raw for raw in listing if raw.get("State") == JOB_RUNNING}
    for dummy, attempt in _running_attempts(manifest):
        raw = by_job_id.get(attempt["job_id"])
        if raw is not None:
            note_progress(attempt, raw, moment)
