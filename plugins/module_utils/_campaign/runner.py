# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module's pass: :func:`run_organization_pass` takes the lock, loads the manifest, reads the directory when it
is due, runs :func:`executor.run_pass` and builds the module's result. In check mode nothing is locked, saved or
started: the result says what a real pass would do.
"""

import copy
import heapq
import os
import socket
import uuid

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import campaign_eta
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import PassSettings
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import SavedManifest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import UnsavedManifest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import run_pass
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import skip_campaign_exports
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import PassHistory
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.liveness import LockHeartbeat
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.liveness import ParentWatch
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import RECOVERED
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.observe import listing_needed
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import eligible_at
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import plan
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import size_order
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.preflight import check_destination
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.repair import repair
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import check_mode_report
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import failed_pass_report
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import pass_report
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.selection import discover_into
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.selection import needs_discovery
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED_PERMANENTLY
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SEAL_BATCH
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import apply_updates
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import is_done
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import new_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import summary
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import unchecked_exports
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import verification_problems
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import CampaignLock
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import ManifestStore
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import lock_key
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import manifest_key
from ansible_collections.mailops.workmail.plugins.module_utils.times import ServiceClock
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import service_now
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.times import utcnow

# The module result lists this many of the mailboxes waiting for a free slot, the next to start (a campaign of
# 10,000 mailboxes would otherwise return 10,000 items with every pass); ``queued_total`` counts them all.
QUEUED_SHOWN = 100


def default_lock_owner():
    """A lock owner naming this host and process, unique per call."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def pass_settings(params, destination_check=None):
    """The :class:`~executor.PassSettings` the module parameters ``params`` ask for; ``destination_check`` runs
    before a pass's first start."""
    return PassSettings(
        max_concurrent_jobs=params["max_concurrent_jobs"],
        max_attempts=params["max_attempts"],
        verify=params["verify"],
        description=params.get("description"),
        destination_check=destination_check,
        seal_batch=params.get("seal_batch") or SEAL_BATCH,
    )


def destination_checker(kms, s3):
    """The ``destination_check`` of a run: :func:`preflight.check_destination` with ``kms`` and ``s3``, once per
    run (its first answer is kept), or None without a KMS gateway."""
    if kms is None:
        return None
    found = {}

    def check(manifest):
        if "report" not in found:
            found["report"] = check_destination(kms, s3, manifest)
        return found["report"]

    return check


def _new_manifest(params, region, moment):
    return new_manifest(
        params["campaign"],
        params["organization_id"],
        region,
        params["s3_bucket"],
        params["s3_prefix"],
        params["kms_key_arn"],
        params["role_arn"],
        moment,
    )


def _check_destination(manifest, params):
    for name in ("role_arn", "kms_key_arn"):
        if manifest.get(name) and manifest[name] != params[name]:
            raise ParameterError(
                name,
                f"campaign {manifest['campaign']!r} was started with {name} {manifest[name]}, not {params[name]}; "
                "give the same value, or use another campaign name",
            )


def _queued(entries):
    """The first :data:`QUEUED_SHOWN` of ``entries`` (those that wait only for a free slot) in the order they would
    start, largest first."""
    return [
        {"id": entry["id"], "email": entry["email"], "size_mb": entry["size_mb"]}
        for entry in heapq.nsmallest(QUEUED_SHOWN, entries, key=size_order)
    ]


def _given_up(entry):
    last = entry["attempts"][-1] if entry["attempts"] else {}
    return {
        "id": entry["id"],
        "email": entry["email"],
        "name": entry["name"],
        "attempts": len(entry["attempts"]),
        "job_id": last.get("job_id"),
        "error_info": last.get("error_info"),
    }


def _unsettled(manifest, moment, held):
    """``(given up, waiting, queued)`` entries, in one look at each mailbox: FAILED_PERMANENTLY ones (by id), FAILED
    ones whose retry waits for the 24-hour rule (as ``waiting_24h`` items), and the PENDING or FAILED ones that wait
    only for a free slot (not in ``held``, ids: those held back, or starting)."""
    given_up = []
    waiting = []
    queued = []
    for entity_id, entry in manifest["mailboxes"].items():
        state = entry["state"]
        if state == FAILED_PERMANENTLY:
            given_up.append(entry)
            continue
        if state != FAILED and state != PENDING:
            continue
        eligible = eligible_at(entry) if state == FAILED else None
        if eligible is not None and eligible > moment:
            waiting.append({"id": entity_id, "email": entry["email"], "eligible": iso8601(eligible)})
        elif entry["id"] not in held:
            queued.append(entry)
    given_up.sort(key=lambda entry: entry["id"])
    return given_up, waiting, queued


def outcome(manifest, moment, blocked=(), starting=()):
    """The parts of the module result read from the manifest: ``summary``, ``failures`` (given up),
    ``waiting_24h`` (retries due later), ``blocked_24h`` (``blocked``, the plan's mailboxes held back by a job of
    theirs of the last 24 hours, with their emails), ``queued`` (the first :data:`QUEUED_SHOWN` of those waiting
    only for a free slot, but for the ids ``starting``) and ``queued_total`` (how many wait), ``verification_problems``
    (exports a check contradicted), ``unchecked`` (exports a check could not tell) and ``layout`` (where the checks
    found the archives: how many by each rule)."""
    held = [dict(item, email=manifest["mailboxes"][item["id"]]["email"]) for item in blocked]
    given_up, waiting, queued = _unsettled(manifest, moment, {item["id"] for item in held}.union(starting))
    waiting.sort(key=lambda item: (item["eligible"], item["id"]))
    return {
        "summary": summary(manifest),
        "failures": [_given_up(entry) for entry in given_up],
        "waiting_24h": waiting,
        "blocked_24h": held,
        "queued": _queued(queued),
        "queued_total": len(queued),
        "verification_problems": verification_problems(manifest),
        "unchecked": unchecked_exports(manifest),
        "layout": manifest.get("layout"),
    }


def _would_start(manifest, the_plan):
    return [
        {
            "id": item["id"],
            "email": manifest["mailboxes"][item["id"]]["email"],
            "size_mb": manifest["mailboxes"][item["id"]]["size_mb"],
            "attempt": item["attempt"],
        }
        for item in the_plan.to_start
    ]


def _check_mode_pass(workmail, s3, params, manifest, now, destination_check):
    """What a real pass would do, from the listing, :func:`planning.plan` and the look in S3 for exports of the
    mailboxes it would start (:func:`executor.skip_campaign_exports`): nothing is started, saved or locked. The
    destination is checked (``destination_check``) when the pass would start jobs."""
    exists = manifest is not None
    moment = to_datetime(now())
    manifest = copy.deepcopy(manifest) if exists else _new_manifest(params, params["region"], moment)
    added = discover_into(workmail, params, manifest, moment) if needs_discovery(manifest, params, moment) else []
    listing = workmail.list_export_jobs(params["organization_id"])
    moment = service_now(ServiceClock(workmail, s3), (), now)
    repairs = repair(manifest, listing, moment, params["max_attempts"])
    the_plan = plan(manifest, listing, moment, params["max_concurrent_jobs"], params["max_attempts"])
    apply_updates(manifest, the_plan.updates, moment)
    looked = {"repairs": repairs, "looked_in_s3": 0}
    settings = pass_settings(params)
    the_plan = skip_campaign_exports(
        workmail, s3, UnsavedManifest(manifest), the_plan, listing, moment, settings, looked
    )
    would_start = _would_start(manifest, the_plan)
    checked = destination_check(manifest) if would_start and destination_check is not None else None
    starting = {item["id"] for item in would_start}
    result = outcome(manifest, moment, the_plan.blocked_24h, starting)
    result.update(
        changed=not exists or bool(added) or bool(repairs) or bool(the_plan.updates) or bool(would_start),
        repairs=repairs,
        done=the_plan.done,
        started=[],
        would_start=would_start,
        manifest_exists=exists,
        destination_check=checked,
    )
    result["eta"] = campaign_eta(manifest, moment, params, len(the_plan.foreign_running))
    result["pass"] = {
        "now": the_plan.now,
        "listed": len(listing),
        "added": len(added),
        "updates": len(the_plan.updates),
        "free_slots": the_plan.free_slots,
        "foreign_running": len(the_plan.foreign_running),
        "own_running": the_plan.own_running,
        "would_start": len(would_start),
        "waiting_24h": len(the_plan.waiting_24h),
        "blocked_24h": len(the_plan.blocked_24h),
    }
    return result


def _reconcile(workmail, s3, record, params, settings, now, heartbeat):
    """Read the directory when due, save, run a pass (with ``settings``, a :class:`~executor.PassSettings`); the
    module result (without location and lock owner). ``params`` carry the run's ``region``."""
    moment = to_datetime(now())
    if record.manifest is None:
        record.manifest = _new_manifest(params, params["region"], moment)
    clock = ServiceClock(workmail, s3)
    record.before_save = PassHistory(lambda: service_now(clock, (), now), params["max_concurrent_jobs"])
    discovered = needs_discovery(record.manifest, params, moment)
    added = discover_into(workmail, params, record.manifest, moment, heartbeat) if discovered else []
    if record.etag is None or discovered:
        record.save()
    if discovered:
        record.store.check_parts(record.manifest)  # with the directory: a listing of the parts' names
    unsealed = record.unseal(settings.verify, moment)
    pass_result = run_pass(workmail, s3, record, lambda: service_now(clock, (), now), settings, heartbeat)
    pass_result["unsealed"] = unsealed
    pass_result["sealed"] = record.seal(settings.verify, to_datetime(pass_result["now"]), settings.seal_batch)
    manifest = record.manifest
    started = []
    for entity_id in pass_result["started_mailboxes"]:
        entry = manifest["mailboxes"][entity_id]
        started.append({"id": entity_id, "email": entry["email"], "job_id": entry["attempts"][-1].get("job_id")})
    for name in ("summary", "done"):
        pass_result.pop(name)
    pass_result["added"] = len(added)
    result = outcome(manifest, to_datetime(pass_result["now"]), pass_result["blocked_24h"])
    result.update(changed=bool(record.changes), done=is_done(result["summary"]), started=started, manifest_exists=True)
    result["repairs"] = pass_result["repairs"]
    result["destination_check"] = pass_result.pop("destination_check")
    result["pass"] = pass_result
    result["eta"] = campaign_eta(manifest, pass_result["now"], params, pass_result["foreign_running"])
    return result


def _load_record(store, params, now):
    """The campaign's :class:`~executor.SavedManifest`. A manifest found valid is copied first (the copy a lost or
    damaged manifest is recovered from); a recovered one is saved at once (a damaged one kept aside before)."""
    manifest, etag = store.load(params["campaign"], params["organization_id"])
    if manifest is not None:
        _check_destination(manifest, params)
    record = SavedManifest(store, manifest, etag)
    if manifest is not None and store.recovery is None:
        store.keep_copy(manifest, etag)
    elif store.recovery is not None:
        store.keep_damaged(to_datetime(now()), params["kms_key_arn"])
        listing_needed(record.manifest, RECOVERED)
        record.save()
    if manifest is not None and store.journal.ignored:
        listing_needed(record.manifest, RECOVERED)
    return record


def _recovery(store, created, result):
    """What the run recovered the manifest from, or None: its copy (:attr:`ManifestStore.recovery`), or, for a
    manifest this run ``created`` although AWS still shows jobs or exports of this campaign (the repairs), those."""
    if store.recovery is not None:
        return dict(store.recovery, rebuilt_from_aws=len(result["repairs"]))
    if store.journal.ignored:
        return {
            "problem": store.journal.ignored,
            "recovered_from": "the jobs of this campaign (the last 7 days) and its exports in S3",
            "copy_updated": None,
            "damaged": True,
            "damaged_kept_at": None,
            "rebuilt_from_aws": len(result["repairs"]),
        }
    if created and result["repairs"]:
        return {
            "problem": f"the campaign manifest s3://{store.bucket}/{store.key} was missing and had no copy",
            "recovered_from": "the jobs of this campaign (the last 7 days) and its exports in S3",
            "copy_updated": None,
            "damaged": False,
            "damaged_kept_at": None,
            "rebuilt_from_aws": len(result["repairs"]),
        }
    return None


def _locked_pass(workmail, s3, store, params, settings, now):
    lock = CampaignLock(
        s3,
        params["s3_bucket"],
        lock_key(params["s3_prefix"], params["campaign"]),
        params.get("lock_owner") or default_lock_owner(),
        params["lock_ttl"],
        now,
        params["kms_key_arn"],
    )
    lock.acquire()
    # The pass keeps its lock (refreshed a third of its TTL after the last) and stops when its starter is gone.
    heartbeat = LockHeartbeat(lock, lock.ttl_seconds / 3.0, watch=ParentWatch())
    record = None
    try:
        record = _load_record(store, params, now)
        created = record.manifest is None
        result = _reconcile(workmail, s3, record, params, settings, now, heartbeat)
        result["manifest_recovery"] = _recovery(store, created, result)
        result["sealed_part_problems"] = list(store.part_problems)
        result["local_manifest_error"] = store.local_error
        # The report (report.html, report.csv), when it is due, under the lock.
        result["report"] = pass_report(s3, record, params, result)
    except BaseException as error:
        failed_pass_report(s3, record, params, to_datetime(now()), error)
        _release(lock)
        raise
    result.update(lock_owner=lock.owner, lock_release_error=_release(lock))
    result["lock_released"] = result["lock_release_error"] is None
    return result


def _release(lock):
    """Release the lock; None, or what went wrong (the lock then expires by itself after its TTL)."""
    try:
        lock.release()
    except WorkMailError as error:
        return (
            f"the campaign lock could not be released ({error}); it expires by itself at "
            f"{(lock.document or {}).get('expires')}, and until then only lock owner {lock.owner} can run the campaign"
        )
    return None


def run_organization_pass(workmail, s3, params, check_mode=False, now=utcnow, region=None, kms=None):
    """One reconcile pass of an organization-wide export campaign (the module workmail_organization_export).

    ``workmail`` is a :class:`~workmail.WorkMailClient`, ``s3`` an :class:`~s3.S3Gateway`; ``params`` are the
    module's parameters as :func:`validation.validate_organization_export_params` returns them. Takes the campaign
    lock (``lock_owner``, or a new owner), loads the manifest (recovering a lost or damaged one from its copy,
    ``manifest_recovery``) or creates it, adds the mailboxes the selection finds,
    runs :func:`executor.run_pass` (whose heartbeat refreshes the lock once a third of ``lock_ttl`` has passed
    since it was taken or last refreshed) and releases the lock (a release that fails is left to expire). In
    ``check_mode`` nothing is locked, saved or started: the result says which mailboxes a real pass would start
    (``would_start``). With ``kms`` (a :class:`~kms.KmsGateway`), the key and the bucket are checked
    (:func:`preflight.check_destination`) before the first job is started, or in check mode when one would be.

    Returns ``{"changed", "done", "summary", "started", "failures", "waiting_24h", "blocked_24h", "queued",
    "queued_total", "repairs", "pass", "manifest", "manifest_exists", "manifest_recovery", "lock_owner",
    "lock_released", "lock_release_error", "destination_check", "eta"}`` (and ``would_start`` in check mode); ``eta`` is
    :func:`eta.campaign_eta` of the manifest after the pass. Every save of the pass records its point in the
    manifest's history (:class:`history.PassHistory`). A pass whose ansible-playbook is gone stops at its
    next heartbeat (RunAbandonedError). Raises LockHeldError, ManifestError, DestinationCheckError,
    ParameterError and other WorkMailErrors (S3Errors among them), and botocore errors of WorkMail.
    """
    bucket = params["s3_bucket"]
    key = manifest_key(params["s3_prefix"], params["campaign"])
    store = ManifestStore(s3, bucket, key, local_copy=params.get("local_manifest"))
    location = {"s3_uri": f"s3://{bucket}/{key}", "s3_bucket": bucket, "s3_key": key}
    location["local_path"] = params.get("local_manifest")
    checker = destination_checker(kms, s3)
    params = dict(params, region=region)
    if check_mode:
        manifest = store.load(params["campaign"], params["organization_id"])[0]
        if manifest is not None:
            _check_destination(manifest, params)
        result = _check_mode_pass(workmail, s3, params, manifest, now, checker)
        result.update(lock_owner=None, lock_released=None, lock_release_error=None)
        result["manifest_recovery"] = _recovery(store, manifest is None, result)
        result["report"] = check_mode_report(params)
    else:
        result = _locked_pass(workmail, s3, store, params, pass_settings(params, checker), now)
    result["manifest"] = location
    return result
