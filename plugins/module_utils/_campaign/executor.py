# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One poll cycle of a campaign: :func:`run_pass` lists the jobs, plans, describes, starts and checks.

Every change goes into the manifest through :mod:`manifest`'s functions and is saved by a :class:`SavedManifest`
(conditional writes through :class:`~manifest_store.ManifestStore`). Every attempt of every mailbox has its own
ClientToken (:func:`tokens.campaign_client_token`), written in the job's Description marker, so a re-run never
starts a second job for an attempt and the token finds a job whose id was never saved.
"""

import heapq
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.evidence import find_campaign_export
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.evidence import folder_kind
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.liveness import no_heartbeat
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import FORGOTTEN_JOB
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import REFUSED_START
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import count_start
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import full_listing_due
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import listing_needed
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import next_look
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import note_listed_progress
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import observed_listing
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import remember_listing
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import earliest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import learn_pace
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import DESCRIBE_NOT_LISTED
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import plan
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.repair import repair
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_MAX_ATTEMPTS
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_VERIFY
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAX_RUNNING_JOBS_PER_ORGANIZATION
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_UNCHECKED
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_VERIFIED
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_DEEP
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_LEVELS
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_NONE
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import check_object
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import locate_archive
from ansible_collections.mailops.workmail.plugins.module_utils.limits import MAILBOX_24H
from ansible_collections.mailops.workmail.plugins.module_utils.limits import recent_jobs
from ansible_collections.mailops.workmail.plugins.module_utils.limits import which_limit
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED_PERMANENTLY
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FINAL_JOB_STATES
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SEAL_BATCH
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SKIPPED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import apply_updates
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import forget_attempt
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import is_done
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import mark_destination_fault
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import object_level
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import object_outcome
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import parts_below
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_job
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_object
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_start
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealable
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import summary
from ansible_collections.mailops.workmail.plugins.module_utils.retries import error_code
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_description
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_verify

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

# StartMailboxExportJob errors that concern one mailbox, not the campaign: its attempt fails, the others go on.
MAILBOX_START_ERRORS = ("InvalidParameterException", "EntityStateException", "MailboxNotFoundException")
# An export whose check could not tell (no export log, S3 refused, ...) is checked again this many seconds after
# its last check, at most this many per pass (a deep check downloads the archive again).
RECHECK_AFTER = 900
RECHECKS_PER_PASS = 10
# The request members that name the destination (compared without case and spaces). AWS does not document the
# messages of its refusals; one that names the role, the key, the bucket or the prefix concerns the campaign.
DESTINATION_MEMBERS = ("rolearn", "kmskeyarn", "s3bucketname", "s3prefix")


class DestinationFaultError(WorkMailError):
    """AWS refused the destination (the role, the key, the bucket), not one mailbox: a start was refused, or jobs
    failed, for it. The campaign stops before it burns any mailbox's attempt."""

    def __init__(self, cause, mailboxes):
        super().__init__(
            f"the export destination was refused, so the campaign stopped without using any mailbox's attempt: "
            f"{cause} (mailboxes {', '.join(mailboxes)}). Fix the export role (its trust policy and its permissions "
            "on the bucket and the key), the KMS key (enabled, its key policy) or the bucket, for example by running "
            "the export_prerequisites role again, and run the campaign again",
            mailboxes=mailboxes,
        )


def names_destination(message):
    """Does a refusal's message name a request member of the destination?"""
    text = (message or "").lower().replace(" ", "")
    return any(member in text for member in DESTINATION_MEMBERS)


def default_description(campaign):
    """The Description (before the token marker) of the jobs a campaign starts."""
    return f"mailops.workmail campaign {campaign}"


@dataclass
class PassSettings:
    """How a pass works: at most ``max_concurrent_jobs`` jobs, ``max_attempts`` per mailbox, the ``verify`` level
    (``basic``, ``deep`` or ``none``) and the jobs' ``description`` (None: :func:`default_description`); finished
    mailboxes are sealed once ``seal_batch`` or more are (:meth:`SavedManifest.seal`).
    ``destination_check(manifest)``, when given, runs before the pass's first start (see
    :func:`preflight.check_destination`); it raises to stop the pass before any job starts."""

    max_concurrent_jobs: int = MAX_RUNNING_JOBS_PER_ORGANIZATION
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    verify: str = DEFAULT_VERIFY
    description: str = None
    destination_check: Callable = None
    seal_batch: int = SEAL_BATCH

    def job_description(self, manifest):
        """The Description text of the campaign's jobs; ParameterError when it leaves no room for the marker."""
        validate_verify(self.verify)
        text = default_description(manifest["campaign"]) if self.description is None else self.description
        return validate_description(
            text, campaign_client_token(manifest["organization_id"], "x", manifest["campaign"], 1)
        )


class UnsavedManifest:
    """A manifest that is never saved (check mode): what a pass would record stays in memory."""

    def __init__(self, manifest):
        self.manifest = manifest
        self.saves = 0
        self.changes = 0
        self.pending = None

    def save(self, bookkeeping=False):
        """Nothing is written."""

    def mark(self, bookkeeping=False):
        """Nothing is written."""

    def save_pending(self):
        """Nothing is written."""


class SavedManifest:
    """A manifest, the ETag of its stored version and the :class:`~manifest_store.ManifestStore` that saves it;
    ``on_change(manifest, etag)`` is called after every save, ``saves`` counts them, ``changes`` those that changed
    the campaign."""

    def __init__(self, store, manifest, etag, on_change=None):
        self.store = store
        self.manifest = manifest
        self.etag = etag
        self.on_change = on_change
        self.saves = 0
        self.changes = 0
        self.pending = None  # None: nothing unsaved; else whether what is unsaved changes the campaign
        self.before_save = None  # callable(manifest) run before every save (the pass's history point)

    def save(self, bookkeeping=False):
        """Store the manifest; ``bookkeeping`` for a save of what the pass learned of AWS alone (when it last read the
        job list, a running job's progress), which changes nothing of the campaign (``changes`` does not count it
        unless changes marked before are saved with it)."""
        self._stored(lambda: self.store.save(self.manifest, self.etag), bookkeeping)

    def _stored(self, write, bookkeeping=False):
        """Run ``write`` (which stores the manifest and returns its new ETag) as one save."""
        if self.before_save is not None:
            self.before_save(self.manifest)
        self.etag = write()
        self.saves += 1
        self.changes += 0 if bookkeeping and not self.pending else 1
        self.pending = None
        if self.on_change is not None:
            self.on_change(self.manifest, self.etag)

    def whole(self):
        """The manifest as one document, its sealed mailboxes included (:meth:`ManifestStore.whole`)."""
        return self.store.whole(self.manifest)

    def seal(self, level, moment, batch=SEAL_BATCH):
        """Once ``batch`` mailboxes are finished (COMPLETED, verified at ``level``), seal them into a part of their
        own and save the manifest whole without them; how many were sealed (0: fewer were finished)."""
        ids = sealable(self.manifest, level)
        if len(ids) < batch:
            return 0
        self._stored(lambda: self.store.seal(self.manifest, self.etag, ids, level, moment), bookkeeping=True)
        return len(ids)

    def unseal(self, level, moment):
        """Put the sealed mailboxes verified below ``level`` back into the manifest (saved at once) so that this pass
        checks them at ``level``; how many were put back."""
        if not parts_below(self.manifest, level):
            return 0
        found = []

        def write():
            etag, count = self.store.unseal(self.manifest, self.etag, level, moment)
            found.append(count)
            return etag

        self._stored(write)
        return found[0]

    def mark(self, bookkeeping=False):
        """Note a change to save with the next save (or :meth:`save_pending`): what AWS says again if it is lost."""
        self.pending = bool(self.pending) or not bookkeeping

    def save_pending(self):
        """Save the changes :meth:`mark` noted, if any."""
        if self.pending is not None:
            self.save(bookkeeping=not self.pending)

    def save_after(self, error):
        """Save what a step recorded before ``error`` ends it; a failing save does not hide ``error``."""
        try:
            self.save()
        except Exception:  # pylint: disable=broad-exception-caught
            pass


def _new_result(level):
    return {
        "now": None,
        "listed": 0,
        "described": 0,
        "started": 0,
        "started_mailboxes": [],
        "completed_now": 0,
        "failed_now": 0,
        "verified_now": 0,
        "verification_problems": [],
        "unchecked_now": [],
        "verify": level,
        "checked_now": 0,
        "downloaded_bytes": 0,
        "free_slots": 0,
        "foreign_running": 0,
        "own_running": 0,
        "waiting_24h": 0,
        "next_eligible": None,
        "blocked_24h": [],
        "skipped": [],
        "start_errors": [],
        "repairs": [],
        "limit": None,
        "done": False,
        "api_calls": {"list_mailbox_export_jobs": 0, "describe_mailbox_export_job": 0, "start_mailbox_export_job": 0},
        "saves": 0,
        "destination_check": None,
        "looked_in_s3": 0,
        "full_listing": None,
        "looked_at": 0,
        "looked_up_in_page": 0,
        "next_pass_at": None,
        "next_pass_in": None,
    }


def _learn_pace(manifest, updates):
    """Learn the campaign's pace (:func:`pace.learn_pace`) from the attempts ``updates`` found COMPLETED."""
    for update in updates:
        if update["state"] != COMPLETED or update["attempt"] is None:
            continue
        entry = manifest["mailboxes"][update["id"]]
        attempt = entry["attempts"][update["attempt"] - 1]
        manifest["pace"] = learn_pace(
            manifest.get("pace"), entry.get("size_mb"), attempt.get("start_time"), attempt.get("end_time")
        )


def _destination_faults(record, updates, max_attempts):
    """The attempts ``updates`` found FAILED for the destination (their ErrorInfo, which a look's describe gives,
    names the role, the key, the bucket or the prefix): marked so they use no attempt, saved, and the pass stopped
    with a DestinationFaultError before it starts anything into that destination."""
    faults = []
    for update in updates:
        fields = update["fields"] or {}
        if fields.get("state") == JOB_FAILED and names_destination(fields.get("error_info")):
            mark_destination_fault(record.manifest, update["id"], update["attempt"], max_attempts)
            faults.append((update["id"], record.manifest["mailboxes"][update["id"]]["attempts"][update["attempt"] - 1]))
    if faults:
        record.save()
        entity_id, attempt = faults[0]
        raise DestinationFaultError(
            f"job {attempt.get('job_id')} of mailbox {entity_id} FAILED: {attempt.get('error_info')}",
            [each for each, dummy in faults],
        )


def _plan_and_apply(record, listing, moment, settings, result):
    the_plan = plan(record.manifest, listing, moment, settings.max_concurrent_jobs, settings.max_attempts)
    if apply_updates(record.manifest, the_plan.updates, moment):
        _learn_pace(record.manifest, the_plan.updates)
        record.mark()
        _destination_faults(record, the_plan.updates, settings.max_attempts)
    result["free_slots"] = the_plan.free_slots
    result["foreign_running"] = len(the_plan.foreign_running)
    result["waiting_24h"] = len(the_plan.waiting_24h)
    result["next_eligible"] = the_plan.waiting_24h[0]["eligible"] if the_plan.waiting_24h else None
    result["blocked_24h"] = list(the_plan.blocked_24h)
    return the_plan


def vanished_job(s3, manifest, entity_id, attempt):
    """What a job that is neither listed nor known to DescribeMailboxExportJob any more (AWS forgets old jobs) did:
    COMPLETED when its archive is in S3 (:func:`export_verify.locate_archive`; the usual checks then verify it),
    else FAILED, so the mailbox is tried again under the 24-hour rule."""
    entry = manifest["mailboxes"][entity_id]
    record = entry["attempts"][attempt - 1]
    hints = {"job_id": record.get("job_id"), "entity_id": entity_id, "email": entry.get("email")}
    hints["started"] = record.get("start_time")
    key = locate_archive(s3, record.get("s3_path"), manifest["s3_bucket"], manifest.get("s3_prefix"), hints)[0]
    if key is not None:
        return {"JobId": record.get("job_id"), "State": JOB_COMPLETED, "S3Path": f"{manifest['s3_bucket']}/{key}"}
    return {
        "JobId": record.get("job_id"),
        "State": JOB_FAILED,
        "ErrorInfo": "the job is neither listed nor known to DescribeMailboxExportJob any more, and its archive is "
        "not in S3",
    }


def _describe(workmail, s3, record, the_plan, moment, settings, result, heartbeat):
    """Describe the plan's jobs once each and record them (a job neither listed nor known any more is what
    :func:`vanished_job` finds in S3); saved after each. True when a described attempt ended. Jobs that FAILED for
    the destination (their ErrorInfo names the role, the key, the bucket or the prefix) use no attempt and stop the
    pass with a DestinationFaultError."""
    manifest = record.manifest
    ended = False
    faults = []
    for item in the_plan.to_describe:
        heartbeat()
        result["api_calls"]["describe_mailbox_export_job"] += 1
        try:
            raw = workmail.describe_export_job(manifest["organization_id"], item["job_id"])
        except JobNotFoundError:
            if item["reason"] != DESCRIBE_NOT_LISTED:
                continue  # the listing said FAILED already; only ErrorInfo is missing
            raw = vanished_job(s3, manifest, item["id"], item["attempt"])
        attempt = record_job(manifest, item["id"], item["attempt"], raw, moment, settings.max_attempts)
        ended = ended or attempt.get("state") in FINAL_JOB_STATES
        if attempt.get("state") == JOB_FAILED and names_destination(attempt.get("error_info")):
            mark_destination_fault(manifest, item["id"], item["attempt"], settings.max_attempts)
            faults.append((item["id"], attempt))
        result["described"] += 1
        record.save()
    if faults:
        entity_id, attempt = faults[0]
        raise DestinationFaultError(
            f"job {attempt.get('job_id')} of mailbox {entity_id} FAILED: {attempt.get('error_info')}",
            [each for each, dummy in faults],
        )
    return ended


def skip_campaign_exports(workmail, s3, record, the_plan, listing, moment, settings, result, heartbeat=no_heartbeat):
    """Before a new attempt of a mailbox starts, look in S3 for this campaign's export of it
    (:func:`evidence.find_campaign_export`); record those found (``repairs``) and plan again, so their slots go to
    the next mailboxes. The plan whose new attempts were all looked for."""
    looked = set()
    while True:
        new = [item for item in the_plan.to_start if not item["resume"] and item["id"] not in looked]
        found = []
        for item in new:
            heartbeat()
            looked.add(item["id"])
            result["looked_in_s3"] += 1
            repair_done = find_campaign_export(workmail, s3, record.manifest, item["id"], moment, settings.max_attempts)
            if repair_done is not None:
                found.append(repair_done)
        if not found:
            return the_plan
        result["repairs"].extend(found)
        record.save()
        the_plan = _plan_and_apply(record, listing, moment, settings, result)


def _record_attempts(record, the_plan, moment):
    """Record every new attempt of the plan, saved once for all before the first start; the items to start."""
    new = [item for item in the_plan.to_start if not item["resume"]]
    for item in new:
        record_start(record.manifest, item["id"], item["attempt"], item["client_token"], None, moment)
    if new:
        record.save()
    return list(the_plan.to_start)


class _Starts:
    """The starts of one pass: what happened to each, recorded in the manifest and the pass result."""

    def __init__(self, workmail, record, listing, moment, settings, result):
        self.workmail = workmail
        self.manifest = record.manifest
        self.listing = listing
        self.moment = moment
        self.max_attempts = settings.max_attempts
        self.text = settings.job_description(record.manifest)
        self.result = result
        self.changed = False
        self.refused_destination = False
        self.fresh_listing = None

    def fresh(self):
        """The whole job list, read again now (once a pass) after AWS refused a start; the next pass reads it
        too (what it shows of the others' jobs is remembered then)."""
        if self.fresh_listing is None:
            self.result["api_calls"]["list_mailbox_export_jobs"] += 1
            self.fresh_listing = self.workmail.list_export_jobs(self.manifest["organization_id"])
            listing_needed(self.manifest, REFUSED_START)
            self.changed = True
        return self.fresh_listing

    def held_by_24h(self, item):
        """Does the job list, read again now, show a job of the mailbox started less than 24 hours ago? (A job
        started since the pass's listing, by hand or by another campaign.)"""
        return bool(recent_jobs(self.fresh(), item["id"], self.moment))

    def forget(self, item):
        if not item["resume"]:
            forget_attempt(self.manifest, item["id"], item["attempt"], self.moment, self.max_attempts)
            self.changed = True

    def start(self, item):
        """Start one job; False when the organization is full and the pass must stop starting."""
        self.result["api_calls"]["start_mailbox_export_job"] += 1
        try:
            job_id = self.workmail.start_export_job(
                self.manifest["organization_id"],
                item["id"],
                self.manifest["role_arn"],
                self.manifest["kms_key_arn"],
                self.manifest["s3_bucket"],
                self.manifest["s3_prefix"],
                item["client_token"],
                description=build_description(self.text, item["client_token"]),
            )
        except LimitError as error:
            return self.limited(item, error)
        except botocore.exceptions.ClientError as error:
            self.refused(item, error)
            return True
        record_start(self.manifest, item["id"], item["attempt"], item["client_token"], job_id, self.moment)
        count_start(self.manifest)
        self.changed = True
        self.result["started"] += 1
        self.result["started_mailboxes"].append(item["id"])
        return True

    def limited(self, item, error):
        """LimitExceededException: forget the new attempt (a resumed one may have a job already: it stays, and the
        next pass finds it by the token or starts it again with the same token). True when only this mailbox was
        limited (its 24 hours), False when the organization is full."""
        self.forget(item)
        limit = which_limit(self.fresh(), item["id"], self.moment)
        self.result["limit"] = {"limit": limit, "id": item["id"], "aws_message": error.aws_message}
        return limit == MAILBOX_24H

    def refused(self, item, error):
        """A refusal of one mailbox: deleted (SKIPPED), held by the 24-hour rule (the job list shows a job of it of
        the last 24 hours, whatever the error: the attempt is forgotten), or unable to be exported now (a failed
        attempt, retried under the 24-hour rule); other errors propagate."""
        code, dummy, message = error_code(error)
        if code == "EntityNotFoundException":
            forget_attempt(self.manifest, item["id"], item["attempt"], self.moment, self.max_attempts)
            self.changed = True
            self.manifest["mailboxes"][item["id"]]["state"] = SKIPPED
            self.result["skipped"].append(item["id"])
            return
        if code not in MAILBOX_START_ERRORS:
            raise error
        if self.held_by_24h(item):
            # AWS does not document which error its one-export-per-24-hours rule gives: whatever the code, a job of
            # the mailbox started less than 24 hours ago means that rule, and costs the mailbox no attempt.
            self.forget(item)
            self.result["limit"] = {"limit": MAILBOX_24H, "id": item["id"], "aws_message": message}
            return
        if names_destination(message):
            self.forget(item)
            self.refused_destination = True
            raise DestinationFaultError(f"StartMailboxExportJob answered {code}: {message}", [item["id"]])
        raw = {"State": JOB_FAILED, "ErrorInfo": f"StartMailboxExportJob refused the mailbox: {code}: {message}"}
        record_job(self.manifest, item["id"], item["attempt"], raw, self.moment, self.max_attempts)
        self.changed = True
        self.result["start_errors"].append({"id": item["id"], "code": code, "message": message})


def _start_jobs(workmail, record, the_plan, listing, moment, settings, result, heartbeat):
    """Start the plan's jobs. The new attempts are saved before the first start, and the job ids with the next save
    after the last start (or at once when a start fails with an error that stops the pass): a crash in between
    loses nothing, the next pass finds the started jobs by the token marker and starts the others with the same
    tokens."""
    if the_plan.to_start and settings.destination_check is not None:
        result["destination_check"] = settings.destination_check(record.manifest)
    to_start = _record_attempts(record, the_plan, moment)
    starts = _Starts(workmail, record, listing, moment, settings, result)
    index = 0
    try:
        for index, item in enumerate(to_start):
            heartbeat()
            if not starts.start(item):
                # The organization is full: the new attempts not started yet are not attempts after all.
                for later in to_start[index + 1 :]:
                    starts.forget(later)
                break
    except BaseException as error:
        if starts.refused_destination:
            # The destination was refused: the attempts recorded for this pass's later starts are not attempts.
            for later in to_start[index + 1 :]:
                starts.forget(later)
        if starts.changed:
            record.save_after(error)
        raise
    if starts.changed:
        # Saved with the checks that follow, or at the end of the pass: a pass that dies before leaves attempts
        # without their job ids, which the next pass finds in the job list by their tokens.
        record.mark()


def needs_check(entry, level):
    """Check this mailbox's object for the first time? When it is COMPLETED and was not checked at ``level`` yet."""
    if entry["state"] != COMPLETED or not entry["attempts"]:
        return False
    current = object_level(entry.get("object"))
    return current is None or VERIFY_LEVELS.index(current) < VERIFY_LEVELS.index(level)


def needs_recheck(entry, moment):
    """Check this mailbox's object again? When its last check could not tell (``unchecked``: no export log, S3
    refused, ...) and was made :data:`RECHECK_AFTER` seconds or more before ``moment``."""
    record = entry.get("object")
    if entry["state"] != COMPLETED or object_outcome(record) != OUTCOME_UNCHECKED:
        return False
    checked = to_datetime(record.get("checked"))
    return checked is None or (moment - checked).total_seconds() >= RECHECK_AFTER


def _to_check(manifest, level, moment):
    """The mailboxes whose objects this pass checks: every one never checked at ``level``, and at most
    :data:`RECHECKS_PER_PASS` of those to check again, the longest unchecked first."""
    first = []
    again = []
    for entity_id, entry in manifest["mailboxes"].items():
        if entry["state"] != COMPLETED:
            continue  # neither check applies (the cheap test first)
        if needs_check(entry, level):
            first.append(entity_id)
        elif needs_recheck(entry, moment):
            again.append((entry["object"].get("checked") or "", entity_id))
    first.sort()
    return first + [entity_id for dummy, entity_id in heapq.nsmallest(RECHECKS_PER_PASS, again)]


def _note_layout(manifest, entity_id, found):
    """Count, in the manifest's ``layout``, the rule that found an archive (``found_by``: at its S3Path, in the
    S3Path's folder, the mailbox's, ...) and the folder it was in (:func:`evidence.folder_kind`): the layout AWS
    writes, as the campaign recognised it."""
    rule = found.get("found_by") if found.get("key") else None
    if not rule:
        return
    layout = manifest.setdefault("layout", {})
    for name, value in (("found_by", rule), ("folders", folder_kind(manifest, entity_id, found["key"]))):
        counts = layout.setdefault(name, {})
        counts[value] = counts.get(value, 0) + 1


def _check(s3, manifest, entity_id, moment, level, heartbeat, result):
    fields, downloaded = check_object(s3, manifest, entity_id, level, moment, progress=heartbeat)
    found = record_object(manifest, entity_id, moment, **fields)
    _note_layout(manifest, entity_id, found)
    result["checked_now"] += 1
    result["downloaded_bytes"] += downloaded
    item = {"id": entity_id, "level": level, "problem": found["problem"]}
    if found["outcome"] == OUTCOME_VERIFIED:
        result["verified_now"] += 1
    elif found["outcome"] == OUTCOME_UNCHECKED:
        result["unchecked_now"].append(item)
    else:
        result["verification_problems"].append(item)


def _verify_completed(s3, record, moment, level, heartbeat, result):
    """Check the objects of the COMPLETED mailboxes that need it (:func:`_to_check`). Basic checks (one HeadObject
    each) are saved together at the end; a deep check (a download) is saved as soon as it is done, so a long pass
    that dies keeps the checks it made. An S3 error that stops the pass still saves the checks made before it, and
    what the pass recorded before the checks (:meth:`SavedManifest.mark`)."""
    manifest = record.manifest
    unsaved = False
    try:
        for entity_id in _to_check(manifest, level, moment):
            heartbeat()
            _check(s3, manifest, entity_id, moment, level, heartbeat, result)
            unsaved = level != VERIFY_DEEP
            if not unsaved:
                record.save()
    except BaseException as error:
        if unsaved or record.pending is not None:
            record.save_after(error)
        raise
    if unsaved:
        record.save()


def _tally(before, manifest, result):
    for entity_id, entry in manifest["mailboxes"].items():
        new_state, old_state = entry["state"], before.get(entity_id)
        if new_state == old_state:
            continue
        if new_state == COMPLETED:
            result["completed_now"] += 1
        elif new_state in (FAILED, FAILED_PERMANENTLY) and old_state not in (FAILED, FAILED_PERMANENTLY):
            result["failed_now"] += 1
    counts = summary(manifest)
    result.update(own_running=counts["running"], done=is_done(counts), summary=counts)


def _read_jobs(workmail, record, now, result, heartbeat):
    """``(listing, moment)``: the jobs the pass plans with, and the service's time after reading them. The whole
    job list when it is due (:func:`observe.full_listing_due`; ``result["full_listing"]`` says why), else the
    running jobs due a look, described (:func:`observe.observed_listing`); what a look showed is saved."""
    manifest = record.manifest
    reason = full_listing_due(manifest, to_datetime(now()))
    if reason is None:
        listing, changed = observed_listing(workmail, manifest, to_datetime(now()), result, heartbeat)
        if changed:
            record.mark(bookkeeping=True)
        if listing is not None:
            return listing, to_datetime(now())
        reason = FORGOTTEN_JOB
    result["full_listing"] = reason
    result["api_calls"]["list_mailbox_export_jobs"] += 1
    listing = workmail.list_export_jobs(manifest["organization_id"])
    moment = to_datetime(now())
    note_listed_progress(manifest, listing, moment)
    return listing, moment


def _next_pass(manifest, the_plan, moment, result):
    """When the next pass is due (ISO text), or None when the campaign is done: the earliest look due at a running
    job (:func:`observe.next_look`), the moment a mailbox held back by the 24-hour rule may start, an unchecked
    export's next check, or at once when a mailbox's start was refused (its slot is free). A refusal of the
    organization (all slots taken by jobs the campaign did not see, or a reason the job list does not explain) waits
    for the next look, when the next pass reads the job list again."""
    if result["done"]:
        return None
    found = [next_look(manifest, moment)]
    found += [to_datetime(item["eligible"]) for item in list(the_plan.blocked_24h) + list(the_plan.waiting_24h)]
    found += [
        to_datetime(entry["object"].get("checked")) + timedelta(seconds=RECHECK_AFTER)
        for entry in manifest["mailboxes"].values()
        if entry["state"] == COMPLETED
        and object_outcome(entry.get("object")) == OUTCOME_UNCHECKED
        and entry["object"].get("checked")
    ]
    if (result["limit"] or {}).get("limit") == MAILBOX_24H or result["start_errors"]:
        found.append(moment)  # the slot of the mailbox refused is free: fill it now
    due = earliest(found)
    return iso8601(max(due, moment)) if due is not None else None


def _end_pass(record, the_plan, moment, before, result):
    """Count what the pass changed (``before``: the mailboxes' states at its start), save what is not saved yet,
    and say when the next pass is due."""
    _tally(before, record.manifest, result)
    record.save_pending()
    result["next_pass_at"] = _next_pass(record.manifest, the_plan, moment, result)
    due = to_datetime(result["next_pass_at"])
    result["next_pass_in"] = None if due is None else round((due - moment).total_seconds(), 1)


def run_pass(workmail, s3, record, now, settings, heartbeat=no_heartbeat):
    """One poll cycle of the campaign whose manifest ``record`` (a :class:`SavedManifest`) holds; the pass result.

    ``workmail`` is a :class:`~workmail.WorkMailClient`, ``s3`` an :class:`~s3.S3Gateway`, ``now`` a callable
    returning an aware datetime (preferably the service's clock: it is read after the listing), ``settings`` a
    :class:`PassSettings`. In order:

    1. what became of the running jobs (:func:`_read_jobs`): the whole job list (ListMailboxExportJobs, all pages)
       when it is due, and then, where the manifest disagrees with it or with itself, the manifest is repaired
       (:func:`repair.repair`: ``repairs``) and saved; else a DescribeMailboxExportJob of each running job due a look
       (``looked_at``). Then :func:`plan`, whose updates are applied (and saved with the next save: lost, they are
       learned again from AWS);
    2. each job of ``to_describe`` is described once and recorded; saved after each. When a described job ended,
       the pass plans again with the same listing, so its slot fills in this pass;
    3. before a new attempt starts, S3 is asked whether this campaign exported the mailbox already
       (:func:`skip_campaign_exports`: one ListObjectsV2 of its folder, ``looked_in_s3``); such an export is recorded
       (``repairs``) and the slot goes to the next mailbox;
    4. the plan's ``to_start`` is started in order (before the checks: starts depend only on the listing, and deep
       checks may take long); see :func:`_start_jobs`. LimitExceededException forgets the new attempt (a resumed
       one is kept); it stops the starts of this pass, and forgets the new attempts not started yet, unless it was
       the mailbox's 24-hour limit. EntityNotFoundException (the mailbox was deleted) marks the mailbox SKIPPED. An
       error of :data:`MAILBOX_START_ERRORS` fails that attempt (``start_errors``) and the other starts go on;
    5. unless ``settings.verify`` is ``none``, every COMPLETED mailbox that needs it (:func:`needs_check`) is
       checked with :func:`export_verify.check_object` and recorded. A check that contradicts the export is
       reported in ``verification_problems`` and not repeated; one that could not tell (``unchecked_now``: no
       export log, S3 refused, ...) is made again by a later pass (:func:`needs_recheck`, at most
       :data:`RECHECKS_PER_PASS` a pass).

    ManifestConflictError (another writer) propagates, as do AWS errors other than those above, after a save of
    what the step recorded so far. ``heartbeat()`` (a refresh of the campaign lock, which may also end the pass by
    raising) is called before every describe, start and object check, and after every chunk a deep verification
    downloads. WorkMail calls: the looks (or the listing), the describes and the starts, and a describe of each
    archive S3 shows in the folder of a mailbox about to start. Saves: the new attempts before the first start, and
    what else the pass recorded at its end (or with the checks); ``next_pass_at`` says when the next pass is due.
    """
    manifest = record.manifest
    settings.job_description(manifest)
    saves_before = record.saves
    result = _new_result(settings.verify)
    before = {entity_id: entry["state"] for entity_id, entry in manifest["mailboxes"].items()}
    listing, moment = _read_jobs(workmail, record, now, result, heartbeat)
    result.update(now=iso8601(moment), listed=len(listing))
    if result["full_listing"] is not None:
        result["repairs"] = repair(manifest, listing, moment, settings.max_attempts)
        if result["repairs"]:
            record.save()
    the_plan = _plan_and_apply(record, listing, moment, settings, result)
    if result["full_listing"] is not None:
        remember_listing(manifest, listing, the_plan, moment)
        record.mark(bookkeeping=True)
    if _describe(workmail, s3, record, the_plan, moment, settings, result, heartbeat):
        the_plan = _plan_and_apply(record, listing, moment, settings, result)
    the_plan = skip_campaign_exports(workmail, s3, record, the_plan, listing, moment, settings, result, heartbeat)
    _start_jobs(workmail, record, the_plan, listing, moment, settings, result, heartbeat)
    if settings.verify != VERIFY_NONE:
        _verify_completed(s3, record, moment, settings.verify, heartbeat, result)
    _end_pass(record, the_plan, moment, before, result)
    result["saves"] = record.saves - saves_before
    return result
