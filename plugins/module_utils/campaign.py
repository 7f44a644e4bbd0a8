# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The organization-wide export campaign: which mailboxes, which tokens, and what to do next.

Pure functions over plain data: ListUsers/ListResources items in, the campaign manifest (see :mod:`manifest`) and
the ListMailboxExportJobs listing in, a :class:`Plan` out. :func:`apply_plan`, :func:`record_start`,
:func:`record_job` and :func:`record_object` change the manifest dict in place (it stays JSON-serialisable);
the caller saves it after the changes of every step.

:func:`discover` and :func:`run_pass` are the two steps that call AWS: the first lists the organization's mailboxes
with their sizes, the second is one poll cycle of the campaign (one listing, the describes and starts the plan asks
for, verification of the exported objects), saving the manifest after every step.

Every attempt of every mailbox has its own ClientToken (:func:`campaign_client_token`), derived from the
organization, the mailbox, the campaign and the attempt number, so a re-run of the campaign never starts a second
job for an attempt, and the token (written in the job's Description marker) finds a job whose id was never saved.
"""

import copy
import fnmatch
import hashlib
import json
import os
import socket
import time
import uuid
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_CANCELLED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAILBOX_EXPORT_INTERVAL_HOURS
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAX_RUNNING_JOBS_PER_ORGANIZATION
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import utcnow
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import REFUSED
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import deep_verify
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED_PERMANENTLY
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import OBJECT_FIELDS
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SKIPPED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import VERIFY_BASIC
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import VERIFY_DEEP
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import VERIFY_LEVELS
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import CampaignLock
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import ManifestStore
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import add_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import lock_key
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import manifest_key
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import new_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import object_level
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import validate_campaign
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import description_budget
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker
from ansible_collections.mailops.workmail.plugins.module_utils.validation import parse_kms_key_arn
from ansible_collections.mailops.workmail.plugins.module_utils.validation import parse_role_arn
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_bucket_name
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_description
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_id
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_prefix
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_region

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

CAMPAIGN_TOKEN_PREFIX = "mailops-c-"
CAMPAIGN_TOKEN_HEX_LENGTH = 48
DEFAULT_MAX_ATTEMPTS = 3
EXPORT_INTERVAL = timedelta(hours=MAILBOX_EXPORT_INTERVAL_HOURS)
# The values of workmail_organization_export's verify option (and run_pass's verify), weakest check first.
VERIFY_NONE = "none"
VERIFY_CHOICES = VERIFY_LEVELS + (VERIFY_NONE,)

# StartMailboxExportJob errors that concern one mailbox, not the campaign: its attempt fails, the others go on.
MAILBOX_START_ERRORS = ("InvalidParameterException", "EntityStateException", "MailboxNotFoundException")

# Why a job must be described once (each is at most one DescribeMailboxExportJob per attempt).
DESCRIBE_NOT_LISTED = "not_listed"  # a RUNNING attempt's job is missing from the 7-day listing
DESCRIBE_ERROR_INFO = "error_info"  # the job FAILED; the listing has no ErrorInfo

_FINAL_JOB_STATES = (JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED)
_EPOCH = to_datetime(0)


# Tokens


def campaign_client_token(organization_id, entity_id, campaign, attempt):
    """The ClientToken of ``attempt`` (1, 2, ...) of mailbox ``entity_id`` in ``campaign``.

    ``"mailops-c-"`` and the first 48 hex digits of the SHA-256 of the canonical JSON (sorted keys, no whitespace,
    ASCII) of ``{"attempt", "campaign", "entity_id", "organization_id"}``: the same everywhere, different for every
    attempt, mailbox, campaign and organization. ``entity_id`` is the WorkMail id (as ListUsers/ListResources give it).
    """
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        raise ValueError(f"attempt must be a positive integer, got {attempt!r}")
    document = {
        "attempt": attempt,
        "campaign": validate_campaign(campaign),
        "entity_id": entity_id,
        "organization_id": organization_id,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return CAMPAIGN_TOKEN_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()[:CAMPAIGN_TOKEN_HEX_LENGTH]


# Selection


def _mailbox(item, entity_type):
    return {"id": item["Id"], "email": item.get("Email"), "name": item.get("Name"), "type": entity_type}


def _keys(mailbox):
    return [value.lower() for value in (mailbox["id"], mailbox["email"], mailbox["name"]) if value]


def _matches_any(mailbox, patterns):
    keys = _keys(mailbox)
    return any(fnmatch.fnmatchcase(key, pattern.lower()) for pattern in patterns for key in keys)


def _as_list(parameter, value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not all(isinstance(item, str) and item for item in value):
        raise ParameterError(parameter, "must be a list of non-empty strings")
    return list(value)


def select_mailboxes(
    users,
    resources,
    include_disabled=False,
    skip_system_users=False,
    include=None,
    exclude=None,
    explicit=None,
):
    """The mailboxes a campaign exports, as ``[{"id", "email", "name", "type"}]`` (users first, listing order).

    ``users`` and ``resources`` are ListUsers / ListResources items (``Id``, ``Email``, ``Name``, ``State``, and
    ``UserRole`` for users). DELETED entities are never selected; DISABLED ones only with ``include_disabled``;
    users whose UserRole is SYSTEM_USER are left out with ``skip_system_users``. ``include`` and ``exclude`` are
    shell-style patterns (case-insensitive) matched against the id, the email and the name: with ``include`` a
    mailbox must match one of them, and a mailbox matching an ``exclude`` pattern is left out. ``explicit`` (a list
    of ids, emails or names, matched exactly and case-insensitively) selects exactly those mailboxes instead; it
    cannot be combined with ``include``/``exclude``, and any entry matching no eligible mailbox is an error.
    """
    include = _as_list("include", include)
    exclude = _as_list("exclude", exclude)
    explicit_given = explicit is not None
    explicit = _as_list("explicit", explicit)
    if explicit_given and (include or exclude):
        raise ParameterError("explicit", "cannot be combined with include or exclude")
    if explicit_given and not explicit:
        raise ParameterError("explicit", "must name at least one mailbox")

    eligible = []
    seen = set()
    for items, entity_type in ((users or [], "USER"), (resources or [], "RESOURCE")):
        for item in items:
            state = item.get("State")
            if state == "DELETED" or (state == "DISABLED" and not include_disabled):
                continue
            if entity_type == "USER" and skip_system_users and item.get("UserRole") == "SYSTEM_USER":
                continue
            if item["Id"] in seen:
                continue
            seen.add(item["Id"])
            eligible.append(_mailbox(item, entity_type))

    if explicit_given:
        wanted = {name.lower() for name in explicit}
        selected = [mailbox for mailbox in eligible if wanted.intersection(_keys(mailbox))]
        found = set()
        for mailbox in selected:
            found.update(_keys(mailbox))
        missing = [name for name in explicit if name.lower() not in found]
        if missing:
            raise ParameterError(
                "explicit",
                "these entries match no mailbox that can be exported (unknown, DELETED, DISABLED without "
                f"include_disabled, or a skipped system user): {', '.join(missing)}",
                unmatched=missing,
            )
        return selected

    selected = []
    for mailbox in eligible:
        if include and not _matches_any(mailbox, include):
            continue
        if exclude and _matches_any(mailbox, exclude):
            continue
        selected.append(mailbox)
    return selected


# Planning


@dataclass
class Plan:
    """What one reconcile pass learned from the listing and what it should do next.

    - ``updates``: ``[{"id", "attempt", "fields", "state"}]``: ``fields`` to merge into attempt number ``attempt``
      (None when only the mailbox state changes) and the mailbox's new ``state``.
    - ``foreign_running``: RUNNING jobs of the listing this campaign did not start (they take slots).
    - ``own_running``: this campaign's RUNNING attempts after the updates (including unconfirmed ones).
    - ``free_slots``: ``max(0, max_concurrent_jobs - own_running - len(foreign_running))``.
    - ``to_start``: ``[{"id", "attempt", "client_token", "size_mb", "resume"}]``, at most ``free_slots`` of them,
      the largest mailboxes first; ``resume`` marks an attempt recorded before its StartMailboxExportJob whose job
      is not in the listing: start it again with the same token (AWS answers with the job if it exists). Resumed
      attempts come first and are counted in ``own_running`` already.
    - ``to_describe``: ``[{"id", "attempt", "job_id", "reason"}]`` jobs to describe once (see ``DESCRIBE_*``).
    - ``waiting_24h``: ``[{"id", "eligible"}]`` retries blocked by the one-export-per-24-hours rule.
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
    done: bool = False

    def as_dict(self):
        return asdict(self)


def _check_limits(max_concurrent_jobs, max_attempts):
    if not isinstance(max_concurrent_jobs, int) or not 1 <= max_concurrent_jobs <= MAX_RUNNING_JOBS_PER_ORGANIZATION:
        raise ParameterError(
            "max_concurrent_jobs", f"must be 1 to {MAX_RUNNING_JOBS_PER_ORGANIZATION}, got {max_concurrent_jobs!r}"
        )
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise ParameterError("max_attempts", f"must be a positive integer, got {max_attempts!r}")


def _failed_state(entry, max_attempts):
    return FAILED_PERMANENTLY if len(entry["attempts"]) >= max_attempts else FAILED


def job_fields(raw):
    """The attempt fields a raw job (listing item or DescribeMailboxExportJob answer) tells."""
    fields = {"job_id": raw.get("JobId"), "state": raw.get("State")}
    for api_name, name in (("StartTime", "start_time"), ("EndTime", "end_time")):
        if raw.get(api_name) is not None:
            fields[name] = iso8601(raw[api_name])
    if raw.get("S3Path"):
        fields["s3_path"] = raw["S3Path"]
    if raw.get("ErrorInfo"):
        fields["error_info"] = raw["ErrorInfo"]
    elif raw.get("State") == JOB_CANCELLED:
        fields["error_info"] = "the job was CANCELLED"
    return {key: value for key, value in fields.items() if value is not None}


def _mailbox_state(entry, attempt_state, max_attempts):
    if attempt_state == JOB_COMPLETED:
        return COMPLETED
    if attempt_state in (JOB_FAILED, JOB_CANCELLED):
        return _failed_state(entry, max_attempts)
    return RUNNING


def _apply_update(manifest, update):
    entry = manifest["mailboxes"][update["id"]]
    if update["attempt"] is not None:
        entry["attempts"][update["attempt"] - 1].update(update["fields"])
    entry["state"] = update["state"]


def _started(raw):
    return to_datetime(raw.get("StartTime")) or _EPOCH


def _index_listing(listing):
    by_job_id = {}
    by_token = {}
    for raw in listing or []:
        by_job_id[raw.get("JobId")] = raw
        token = parse_marker(raw.get("Description"))
        if token:
            # Keep the newest job of a token.
            previous = by_token.get(token)
            if previous is None or _started(raw) > _started(previous):
                by_token[token] = raw
    return by_job_id, by_token


def _eligible_at(entry):
    """When the next attempt of a FAILED mailbox may start: 24 hours after its last attempt started."""
    started = to_datetime(entry["attempts"][-1].get("start_time")) if entry["attempts"] else None
    return started + EXPORT_INTERVAL if started is not None else None


def plan(
    manifest, listing, now, max_concurrent_jobs=MAX_RUNNING_JOBS_PER_ORGANIZATION, max_attempts=DEFAULT_MAX_ATTEMPTS
):
    """The :class:`Plan` of one reconcile pass; ``manifest`` is not changed (see :func:`apply_plan`).

    ``listing`` is ListMailboxExportJobs' ``Jobs`` (all pages, boto3 shapes); ``now`` an aware datetime, epoch
    seconds or ISO 8601 text (preferably the service's clock).
    """
    _check_limits(max_concurrent_jobs, max_attempts)
    moment = to_datetime(now)
    result = Plan(now=iso8601(moment))
    by_job_id, by_token = _index_listing(listing)
    organization_id = manifest["organization_id"]
    campaign = manifest["campaign"]
    projected = copy.deepcopy(manifest)
    own_job_ids = set()
    own_tokens = set()
    resumes = []

    for entity_id in sorted(projected["mailboxes"]):
        entry = projected["mailboxes"][entity_id]
        for attempt in entry["attempts"]:
            own_tokens.add(attempt.get("client_token"))
            if attempt.get("job_id"):
                own_job_ids.add(attempt["job_id"])
        if entry["state"] in (COMPLETED, SKIPPED, FAILED_PERMANENTLY):
            continue
        update = None
        last = entry["attempts"][-1] if entry["attempts"] else None
        if last is not None and last.get("state") not in _FINAL_JOB_STATES:
            raw = by_job_id.get(last.get("job_id")) if last.get("job_id") else by_token.get(last.get("client_token"))
            if raw is not None:
                own_job_ids.add(raw.get("JobId"))
                fields = job_fields(raw)
                changed = {key: value for key, value in fields.items() if last.get(key) != value}
                new_state = _mailbox_state(entry, fields.get("state"), max_attempts)
                if changed or new_state != entry["state"]:
                    update = {"id": entity_id, "attempt": last["attempt"], "fields": changed, "state": new_state}
                if fields.get("state") == JOB_FAILED:
                    result.to_describe.append(
                        {
                            "id": entity_id,
                            "attempt": last["attempt"],
                            "job_id": raw.get("JobId"),
                            "reason": DESCRIBE_ERROR_INFO,
                        }
                    )
            elif last.get("job_id"):
                result.to_describe.append(
                    {
                        "id": entity_id,
                        "attempt": last["attempt"],
                        "job_id": last["job_id"],
                        "reason": DESCRIBE_NOT_LISTED,
                    }
                )
                if entry["state"] != RUNNING:
                    update = {"id": entity_id, "attempt": None, "fields": None, "state": RUNNING}
            else:
                resumes.append(
                    {
                        "id": entity_id,
                        "attempt": last["attempt"],
                        "client_token": last["client_token"],
                        "size_mb": entry.get("size_mb"),
                        "resume": True,
                    }
                )
                if entry["state"] != RUNNING:
                    update = {"id": entity_id, "attempt": None, "fields": None, "state": RUNNING}
        elif entry["state"] in (FAILED, RUNNING) and last is not None:
            # A final attempt whose mailbox state lags (an older manifest, or max_attempts changed).
            new_state = _mailbox_state(entry, last.get("state"), max_attempts)
            if new_state != entry["state"]:
                update = {"id": entity_id, "attempt": None, "fields": None, "state": new_state}
        elif entry["state"] == RUNNING and last is None:
            update = {"id": entity_id, "attempt": None, "fields": None, "state": PENDING}
        if update is not None:
            _apply_update(projected, update)
            result.updates.append(update)

    for raw in listing or []:
        if raw.get("State") != JOB_RUNNING:
            continue
        if raw.get("JobId") in own_job_ids or parse_marker(raw.get("Description")) in own_tokens:
            continue
        result.foreign_running.append(
            {
                "job_id": raw.get("JobId"),
                "entity_id": raw.get("EntityId"),
                "state": raw.get("State"),
                "start_time": iso8601(raw.get("StartTime")),
            }
        )

    candidates = []
    pending_or_retryable = False
    for entity_id, entry in projected["mailboxes"].items():
        state = entry["state"]
        if state == RUNNING:
            result.own_running += 1
            pending_or_retryable = True
        elif state == PENDING:
            pending_or_retryable = True
            candidates.append(entry)
        elif state == FAILED:
            pending_or_retryable = True
            eligible = _eligible_at(entry)
            if eligible is not None and eligible > moment:
                result.waiting_24h.append({"id": entity_id, "eligible": iso8601(eligible)})
            else:
                candidates.append(entry)

    result.free_slots = max(0, max_concurrent_jobs - result.own_running - len(result.foreign_running))
    resumes.sort(key=_size_order)
    result.to_start.extend(resumes)
    new_starts = []
    for entry in sorted(candidates, key=_size_order)[: result.free_slots]:
        number = len(entry["attempts"]) + 1
        new_starts.append(
            {
                "id": entry["id"],
                "attempt": number,
                "client_token": campaign_client_token(organization_id, entry["id"], campaign, number),
                "size_mb": entry.get("size_mb"),
                "resume": False,
            }
        )
    result.to_start.extend(new_starts)
    result.waiting_24h.sort(key=lambda item: (item["eligible"], item["id"]))
    result.done = not pending_or_retryable
    return result


def _size_order(item):
    size = item.get("size_mb")
    return (-(size if isinstance(size, (int, float)) else -1), item["id"])


def apply_plan(manifest, the_plan):
    """Apply the plan's ``updates`` to ``manifest``; True when anything changed (then ``updated`` is ``now``)."""
    updates = the_plan.updates if isinstance(the_plan, Plan) else the_plan["updates"]
    for update in updates:
        _apply_update(manifest, update)
    if updates:
        manifest["updated"] = the_plan.now if isinstance(the_plan, Plan) else the_plan["now"]
    return bool(updates)


def _entry(manifest, entity_id):
    try:
        return manifest["mailboxes"][entity_id]
    except KeyError:
        raise ValueError(f"mailbox {entity_id} is not part of campaign {manifest.get('campaign')}") from None


def record_start(manifest, entity_id, attempt, client_token, job_id, now):
    """Record attempt ``attempt`` of ``entity_id``: call it with ``job_id=None`` before StartMailboxExportJob
    (so a crash between Start and the next save is recovered by the token marker), then with the JobId."""
    entry = _entry(manifest, entity_id)
    attempts = entry["attempts"]
    moment = iso8601(now)
    if attempt == len(attempts) + 1:
        attempts.append(
            {
                "attempt": attempt,
                "client_token": client_token,
                "job_id": job_id,
                "state": JOB_RUNNING,
                "start_time": moment,
                "end_time": None,
                "error_info": None,
                "s3_path": None,
            }
        )
    elif 1 <= attempt <= len(attempts) and attempts[attempt - 1]["client_token"] == client_token:
        if job_id:
            attempts[attempt - 1]["job_id"] = job_id
    else:
        raise ValueError(f"mailbox {entity_id}: cannot record attempt {attempt} after {len(attempts)} attempts")
    entry["state"] = RUNNING
    manifest["updated"] = moment
    return attempts[attempt - 1]


def forget_attempt(manifest, entity_id, attempt, now, max_attempts=DEFAULT_MAX_ATTEMPTS):
    """Remove the last attempt when its StartMailboxExportJob was refused (no job exists for its token)."""
    entry = _entry(manifest, entity_id)
    if not entry["attempts"] or entry["attempts"][-1]["attempt"] != attempt or entry["attempts"][-1].get("job_id"):
        raise ValueError(f"mailbox {entity_id}: attempt {attempt} is not an unconfirmed last attempt")
    entry["attempts"].pop()
    entry["state"] = (
        _mailbox_state(entry, entry["attempts"][-1]["state"], max_attempts) if entry["attempts"] else PENDING
    )
    manifest["updated"] = iso8601(now)


def record_job(manifest, entity_id, attempt, raw, now, max_attempts=DEFAULT_MAX_ATTEMPTS):
    """Merge what a DescribeMailboxExportJob answer (or a listed job) says into attempt ``attempt``."""
    entry = _entry(manifest, entity_id)
    record = entry["attempts"][attempt - 1]
    record.update(job_fields(raw))
    if attempt == len(entry["attempts"]):
        entry["state"] = _mailbox_state(entry, record.get("state"), max_attempts)
    manifest["updated"] = iso8601(now)
    return record


def record_object(manifest, entity_id, now, **fields):
    """Record the exported object of a COMPLETED mailbox (the fields of ``manifest.OBJECT_FIELDS``: ``key``,
    ``size``, ``etag``, ``sse``, ``kms_key_id``, ``verified``, ``sha384``, ``problem``, ``level``, ``checked``,
    ``log_key``, ``log_sha384``, ``log_messages``, ``archive_entries``); fields not given are kept, or None (a
    record of an older manifest gets the fields it lacks as None)."""
    unknown = set(fields) - set(OBJECT_FIELDS)
    if unknown:
        raise ValueError(f"unknown object fields: {', '.join(sorted(unknown))}")
    entry = _entry(manifest, entity_id)
    current = dict.fromkeys(OBJECT_FIELDS)
    current.update(entry.get("object") or {})
    current.update(fields)
    current["verified"] = bool(current.get("verified"))
    entry["object"] = current
    manifest["updated"] = iso8601(now)
    return current


def summary(manifest):
    """Counts of the campaign's mailboxes by state, and how many exported objects were verified."""
    counts = {
        "total": 0,
        "completed": 0,
        "running": 0,
        "pending": 0,
        "failed": 0,
        "failed_permanently": 0,
        "skipped": 0,
        "verified": 0,
    }
    for entry in manifest["mailboxes"].values():
        counts["total"] += 1
        counts[entry["state"].lower()] += 1
        if entry.get("object") and entry["object"].get("verified"):
            counts["verified"] += 1
    return counts


# Discovery


def discover(client, organization_id, selection_options=None, manifest=None):
    """The mailboxes a campaign exports, with their sizes: ``[{"id", "email", "name", "type", "size_mb"}]``.

    ``client`` is a :class:`~workmail.WorkMailClient`. Lists every user and resource (all pages), selects with
    :func:`select_mailboxes` (``selection_options`` are its keyword arguments) and calls GetMailboxDetails once per
    selected mailbox that needs a size: one that is not in ``manifest`` yet, or is still PENDING there without a
    size. The others take the manifest's size, so a re-run asks for no size twice. A mailbox that GetMailboxDetails
    does not know any more (deleted since the listing) is left out.
    """
    users = client.list_users(organization_id)
    resources = client.list_resources(organization_id)
    selected = select_mailboxes(users, resources, **(selection_options or {}))
    entries = (manifest or {}).get("mailboxes") or {}
    mailboxes = []
    for mailbox in selected:
        entry = entries.get(mailbox["id"])
        if entry is not None and (entry.get("size_mb") is not None or entry.get("state") != PENDING):
            mailboxes.append(dict(mailbox, size_mb=entry.get("size_mb")))
            continue
        details = client.get_mailbox_details(organization_id, mailbox["id"])
        if details is None:
            continue
        mailboxes.append(dict(mailbox, size_mb=details["size_mb"]))
    return mailboxes


# Verification


def export_object_keys(s3_path, bucket, prefix=None):
    """The ``(bucket, key)`` pairs an export's S3Path may name, the likeliest first.

    AWS does not document S3Path's form; the local emulator answers ``<bucket>/<key>``, so both that and a bare key
    are accepted (and ``s3://<bucket>/<key>``). When the path starts with ``<bucket>/`` the key without it comes
    first, unless only the path as given starts with the export ``prefix``.
    """
    if not s3_path:
        return []
    if s3_path.startswith("s3://"):
        named_bucket, dummy, key = s3_path[len("s3://") :].partition("/")
        return [(named_bucket, key)] if named_bucket and key else []
    keys = []
    if bucket and s3_path.startswith(bucket + "/") and len(s3_path) > len(bucket) + 1:
        keys.append(s3_path[len(bucket) + 1 :])
    keys.append(s3_path)
    folder = (prefix or "").strip("/")
    if folder and len(keys) > 1:
        keys.sort(key=lambda key: not key.startswith(folder + "/"))
    return [(bucket, key) for key in keys]


def _aws_error(error):
    """(code, HTTP status) of a botocore ClientError, (None, None) for anything else."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None, None
    return (response.get("Error") or {}).get("Code"), (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")


def same_kms_key(reported, expected):
    """Does the key S3 reports (an ARN, or a bare key id) name the key ARN ``expected``?"""
    if not reported or not expected:
        return False
    if reported == expected:
        return True
    if reported.startswith("arn:"):
        return False
    return ":key/" in expected and expected.rsplit("/", 1)[-1] == reported


def _head(s3_client, bucket, key):
    """HeadObject's answer, or None when the object does not exist. Other errors propagate."""
    try:
        return s3_client.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as error:
        code, status = _aws_error(error)
        if code in ("404", "NoSuchKey", "NotFound") or status == 404:
            return None
        raise


def verify_object(s3_client, job_or_attempt, expected_kms_key_arn, bucket=None, prefix=None):
    """What HeadObject shows of a COMPLETED export: ``{"key", "size", "etag", "sse", "kms_key_id", "verified",
    "problem"}``.

    ``job_or_attempt`` is a raw job (``S3Path``, ``S3BucketName``) or a manifest attempt (``s3_path``; give
    ``bucket``). ``verified`` is True when the object exists, is not empty and is SSE-KMS (``aws:kms``) under
    ``expected_kms_key_arn``; otherwise ``problem`` says what is wrong. An object S3 refuses to show (403) is a
    problem too; other S3 errors propagate. The content is not read (no download, no sha384).
    """
    s3_path = job_or_attempt.get("S3Path") or job_or_attempt.get("s3_path")
    bucket = bucket or job_or_attempt.get("S3BucketName") or job_or_attempt.get("s3_bucket")
    result = {
        "key": None,
        "size": None,
        "etag": None,
        "sse": None,
        "kms_key_id": None,
        "verified": False,
        "problem": None,
    }
    locations = export_object_keys(s3_path, bucket, prefix)
    if not locations or not locations[0][0]:
        result["problem"] = f"the job reported no usable S3Path ({s3_path!r} in bucket {bucket!r})"
        return result
    result["key"] = locations[0][1]
    answer = None
    for location_bucket, key in locations:
        try:
            answer = _head(s3_client, location_bucket, key)
        except botocore.exceptions.ClientError as error:
            code, status = _aws_error(error)
            if code not in ("403", "AccessDenied") and status != 403:
                raise
            result["key"] = key
            result["problem"] = f"{REFUSED} HeadObject of s3://{location_bucket}/{key} (access denied)"
            return result
        if answer is not None:
            result["key"] = key
            break
    if answer is None:
        result["problem"] = f"no object at S3Path {s3_path} (looked for {', '.join(key for dummy, key in locations)})"
        return result
    result.update(
        size=answer.get("ContentLength"),
        etag=answer.get("ETag"),
        sse=answer.get("ServerSideEncryption"),
        kms_key_id=answer.get("SSEKMSKeyId"),
    )
    problems = []
    if not result["size"]:
        problems.append("the object is empty")
    if result["sse"] != "aws:kms":
        problems.append(f"the object is not encrypted with SSE-KMS (ServerSideEncryption {result['sse']!r})")
    elif not same_kms_key(result["kms_key_id"], expected_kms_key_arn):
        problems.append(f"the object is encrypted under {result['kms_key_id']}, not {expected_kms_key_arn}")
    result["problem"] = "; ".join(problems) or None
    result["verified"] = not problems
    return result


# One pass


def default_description(campaign):
    """The Description (before the token marker) of the jobs a campaign starts."""
    return f"mailops.workmail campaign {campaign}"


def _recent_job(listing, entity_id, moment):
    """The newest listed job of ``entity_id`` started less than 24 hours before ``moment`` (any state), or None."""
    newest = None
    for raw in listing:
        if (raw.get("EntityId") or "").lower() != entity_id.lower():
            continue
        started = to_datetime(raw.get("StartTime"))
        if started is not None and started + EXPORT_INTERVAL > moment and (newest is None or started > newest[0]):
            newest = (started, raw)
    return newest[1] if newest else None


def _limit_reason(listing, entity_id, moment, started_now):
    """Which limit a LimitExceededException of StartMailboxExportJob most likely means (see :class:`LimitError`)."""
    running = sum(1 for raw in listing if raw.get("State") == JOB_RUNNING) + started_now
    if running >= MAX_RUNNING_JOBS_PER_ORGANIZATION:
        return "concurrent_jobs"
    if _recent_job(listing, entity_id, moment) is not None:
        return "mailbox_24h"
    return "unknown"


def _save_after(state, error):
    """Save what a step recorded before ``error`` (an exception in flight, or None) ends it; a failing save does not
    replace ``error``, which is what the caller needs to see."""
    try:
        state.save()
    except Exception:  # pylint: disable=broad-exception-caught
        if error is None:
            raise


class _Pass:
    """The state of one :func:`run_pass`: the manifest, its ETag and what happened."""

    def __init__(self, store, manifest, etag, on_change):
        self.store = store
        self.manifest = manifest
        self.etag = etag
        self.on_change = on_change
        self.saves = 0

    def save(self):
        self.etag = self.store.save(self.manifest, self.etag)
        self.saves += 1
        if self.on_change is not None:
            self.on_change(self.manifest, self.etag)


def _states(manifest):
    return {entity_id: entry["state"] for entity_id, entry in manifest["mailboxes"].items()}


def run_pass(
    workmail,
    s3,
    store,
    manifest,
    etag,
    now,
    max_concurrent_jobs=MAX_RUNNING_JOBS_PER_ORGANIZATION,
    max_attempts=DEFAULT_MAX_ATTEMPTS,
    verify=True,
    on_change=None,
    description=None,
    heartbeat=None,
):
    """One poll cycle of the campaign; returns ``(manifest, etag, pass_result)``.

    ``workmail`` is a :class:`~workmail.WorkMailClient`, ``s3`` a boto3 S3 client, ``store`` the
    :class:`~manifest.ManifestStore` of ``manifest`` (whose stored version is ``etag``); ``now`` an aware datetime
    (or a callable returning one; preferably the service's clock). In order:

    1. one ListMailboxExportJobs (all pages) and :func:`plan`; the plan's updates are applied and saved;
    2. each job of ``to_describe`` is described once and recorded (a job that no longer exists and is not listed
       is recorded FAILED, so it is retried under the 24-hour rule); saved after each;
    3. the plan's ``to_start`` is started in order (before the checks: starts depend only on the listing, and deep
       checks may take long). Every new attempt is recorded, in one save for all of them, *before* the first
       StartMailboxExportJob (its token is in the Description marker, so a crash before the JobId is saved is
       recovered by the next pass); the JobIds are saved once after the last start. A mailbox with a listed job
       started less than 24 hours ago is not started (``blocked_24h``). LimitExceededException forgets the new
       attempt (a resumed one is kept); it stops the starts of this pass, and forgets the new attempts not started
       yet, unless it was the mailbox's 24-hour limit. EntityNotFoundException (the mailbox was deleted) forgets
       the attempt and marks the mailbox SKIPPED. An error of :data:`MAILBOX_START_ERRORS` fails that attempt
       (``start_errors``; retried under the 24-hour rule) and the other starts go on;
    4. with ``verify`` (``"basic"`` or True, ``"deep"``; ``"none"``, False or None for no check), every COMPLETED
       mailbox without an ``object`` record, or whose record is of a lower level (see :func:`verify_level`), is
       checked with :func:`verify_object` and, for ``"deep"``, :func:`export_verify.deep_verify` (the archive is
       downloaded and compared with its export log), and recorded: basic checks in one save at the end, deep ones
       in a save each. A check is made once per mailbox and level: a failed one is reported in
       ``verification_problems`` (the mailbox stays COMPLETED) and not repeated by later passes, unless S3 refused
       it (AccessDenied: a permission may have been granted since), which every pass tries again.

    Every save is ``store.save(manifest, etag)``; ManifestConflictError (another writer) propagates, as do AWS errors
    other than those above, after a save of what the step recorded so far (a re-run carries on). ``on_change(manifest,
    etag)`` is called after every save. ``heartbeat()`` (for example a refresh of the campaign lock) is called
    between the objects verified and after every chunk a deep verification downloads. WorkMail calls: one listing,
    the describes and the starts, nothing else.

    Besides ``verified_now`` and ``verification_problems`` (``[{"id", "level", "problem"}]``), the pass result
    tells ``verify`` (the level), ``checked_now`` (objects checked) and ``downloaded_bytes`` (archive bytes
    downloaded by deep verification).
    """
    level = verify_level(verify)
    organization_id = manifest["organization_id"]
    campaign = manifest["campaign"]
    text = default_description(campaign) if description is None else description
    budget = description_budget(campaign_client_token(organization_id, "x", campaign, 1))
    if len(text) > budget:
        raise ParameterError("description", f"must be at most {budget} characters next to the token marker")
    before = _states(manifest)
    state = _Pass(store, manifest, etag, on_change)
    result = {
        "now": None,
        "listed": 0,
        "described": 0,
        "started": 0,
        "started_mailboxes": [],
        "completed_now": 0,
        "failed_now": 0,
        "verified_now": 0,
        "verification_problems": [],
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
        "limit": None,
        "done": False,
        "api_calls": {"list_mailbox_export_jobs": 0, "describe_mailbox_export_job": 0, "start_mailbox_export_job": 0},
        "saves": 0,
    }

    listing = workmail.list_export_jobs(organization_id)
    # Read the clock after the listing: a callable ``now`` may estimate the service's clock from its answer.
    moment = to_datetime(now() if callable(now) else now)
    result["now"] = iso8601(moment)
    result["api_calls"]["list_mailbox_export_jobs"] += 1
    result["listed"] = len(listing)
    the_plan = plan(manifest, listing, moment, max_concurrent_jobs, max_attempts)
    if apply_plan(manifest, the_plan):
        state.save()
    result["free_slots"] = the_plan.free_slots
    result["foreign_running"] = len(the_plan.foreign_running)
    result["waiting_24h"] = len(the_plan.waiting_24h)
    result["next_eligible"] = the_plan.waiting_24h[0]["eligible"] if the_plan.waiting_24h else None

    for item in the_plan.to_describe:
        result["api_calls"]["describe_mailbox_export_job"] += 1
        try:
            raw = workmail.describe_export_job(organization_id, item["job_id"])
        except JobNotFoundError:
            if item["reason"] != DESCRIBE_NOT_LISTED:
                continue  # the listing said FAILED already; only ErrorInfo is missing
            raw = {
                "JobId": item["job_id"],
                "State": JOB_FAILED,
                "ErrorInfo": "the job is neither listed nor known to DescribeMailboxExportJob any more",
            }
        record_job(manifest, item["id"], item["attempt"], raw, moment, max_attempts)
        result["described"] += 1
        state.save()

    if result["described"] and any(_ended(manifest, item) for item in the_plan.to_describe):
        # Described jobs that ended free their slots now, not one pass later: plan again with the same listing
        # (no AWS call).
        the_plan = plan(manifest, listing, moment, max_concurrent_jobs, max_attempts)
        if apply_plan(manifest, the_plan):
            state.save()
        result["free_slots"] = the_plan.free_slots
        result["waiting_24h"] = len(the_plan.waiting_24h)
        result["next_eligible"] = the_plan.waiting_24h[0]["eligible"] if the_plan.waiting_24h else None

    # Starts first: they depend only on the listing, and checks (deep ones download whole archives) may take long.
    _start(workmail, manifest, the_plan, listing, moment, text, max_attempts, state, result)

    if level != VERIFY_NONE:
        _verify_completed(s3, manifest, moment, state, result, level, heartbeat)

    after = _states(manifest)
    for entity_id, new_state in after.items():
        if new_state == before.get(entity_id):
            continue
        if new_state == COMPLETED:
            result["completed_now"] += 1
        elif new_state in (FAILED, FAILED_PERMANENTLY) and before.get(entity_id) not in (FAILED, FAILED_PERMANENTLY):
            result["failed_now"] += 1
    counts = summary(manifest)
    result["own_running"] = counts["running"]
    result["done"] = counts["pending"] == 0 and counts["running"] == 0 and counts["failed"] == 0
    result["summary"] = counts
    result["saves"] = state.saves
    return manifest, state.etag, result


def _ended(manifest, item):
    """Has the described attempt ``item`` (of ``Plan.to_describe``) reached a final state?"""
    attempts = manifest["mailboxes"][item["id"]]["attempts"]
    return attempts[item["attempt"] - 1].get("state") in _FINAL_JOB_STATES


def verify_level(verify):
    """The verify level ``run_pass`` is asked for: ``"basic"``, ``"deep"`` or ``"none"``.

    True means ``"basic"`` and False or None ``"none"`` (as before levels existed); other values are ParameterError.
    """
    if verify is True:
        return VERIFY_BASIC
    if verify is False or verify is None:
        return VERIFY_NONE
    if isinstance(verify, str) and verify in VERIFY_CHOICES:
        return verify
    raise ParameterError("verify", f"must be one of {', '.join(VERIFY_CHOICES)}, got {verify!r}")


def _needs_check(entry, level):
    """Check this mailbox's object? When it is COMPLETED and was not checked at ``level`` yet, or its last check
    was refused by S3 (the caller lacked a permission, which may have been granted since)."""
    if entry["state"] != COMPLETED or not entry["attempts"]:
        return False
    record = entry.get("object")
    current = object_level(record)
    if current is None or VERIFY_LEVELS.index(current) < VERIFY_LEVELS.index(level):
        return True
    return bool(record) and not record.get("verified") and (record.get("problem") or "").startswith(REFUSED)


def _object_bucket(attempt, key, bucket, prefix):
    """The bucket :func:`verify_object` found ``key`` in (the S3Path may name another bucket than the campaign's)."""
    for location_bucket, location_key in export_object_keys(attempt.get("s3_path"), bucket, prefix):
        if location_key == key:
            return location_bucket
    return bucket


def check_object(s3, manifest, entity_id, level, moment=None, progress=None):
    """Check the exported object of COMPLETED mailbox ``entity_id`` at ``level`` (``"basic"`` or ``"deep"``).

    Returns ``(fields, downloaded_bytes)``: the ``object`` record fields (for :func:`record_object`) and how many
    bytes a deep check downloaded. The deep check runs only when the basic one passed; its result replaces the
    deep fields of an earlier record (None when it did not run). ``progress`` is given to
    :func:`export_verify.deep_verify`. S3 errors other than those the checks report as problems propagate.
    """
    attempt = manifest["mailboxes"][entity_id]["attempts"][-1]
    bucket = manifest["s3_bucket"]
    prefix = manifest.get("s3_prefix")
    found = verify_object(s3, attempt, manifest["kms_key_arn"], bucket=bucket, prefix=prefix)
    fields = {key: found[key] for key in OBJECT_FIELDS if key in found}
    fields.update(
        level=level,
        checked=iso8601(moment) if moment is not None else None,
        sha384=None,
        log_key=None,
        log_sha384=None,
        log_messages=None,
        archive_entries=None,
    )
    if level != VERIFY_DEEP or not found["verified"]:
        return fields, 0
    deep = deep_verify(
        s3,
        _object_bucket(attempt, found["key"], bucket, prefix),
        found["key"],
        size=found["size"],
        etag=found["etag"],
        job_id=attempt.get("job_id"),
        progress=progress,
    )
    for name in ("verified", "problem", "sha384", "log_key", "log_sha384", "log_messages", "archive_entries"):
        fields[name] = deep[name]
    return fields, deep["downloaded_bytes"]


def _verify_completed(s3, manifest, moment, state, result, level, heartbeat=None):
    """Check the objects of the COMPLETED mailboxes that need it. Basic checks (one HeadObject each) are saved
    together at the end; a deep check (a download) is saved as soon as it is done, so a long pass that dies keeps
    the checks it made. An S3 error that stops the pass still saves the checks made before it."""
    checked = 0
    unsaved = False
    try:
        for entity_id in sorted(manifest["mailboxes"]):
            entry = manifest["mailboxes"][entity_id]
            if not _needs_check(entry, level):
                continue
            if checked and heartbeat is not None:
                heartbeat()
            fields, downloaded = check_object(s3, manifest, entity_id, level, moment, progress=heartbeat)
            found = record_object(manifest, entity_id, moment, **fields)
            unsaved = True
            checked += 1
            result["checked_now"] += 1
            result["downloaded_bytes"] += downloaded
            if found["verified"]:
                result["verified_now"] += 1
            else:
                result["verification_problems"].append({"id": entity_id, "level": level, "problem": found["problem"]})
            if level == VERIFY_DEEP:
                unsaved = False
                state.save()
    except BaseException as error:
        if unsaved:
            _save_after(state, error)
        raise
    if unsaved:
        state.save()


def _start(workmail, manifest, the_plan, listing, moment, text, max_attempts, state, result):
    """Start the plan's jobs. Every new attempt is recorded, and saved once for all of them, before the first start;
    the job ids are saved once after the last start (or when a start fails with an error that stops the pass), so a
    pass saves twice for its starts, not twice per start. A crash in between loses nothing: the next pass finds the
    started jobs by the token marker of their description and starts the others with the same tokens."""
    recorded = []
    for item in the_plan.to_start:
        entity_id = item["id"]
        if not item["resume"]:
            recent = _recent_job(listing, entity_id, moment)
            if recent is not None:
                eligible = iso8601(to_datetime(recent.get("StartTime")) + EXPORT_INTERVAL)
                result["blocked_24h"].append({"id": entity_id, "job_id": recent.get("JobId"), "eligible": eligible})
                continue
            record_start(manifest, entity_id, item["attempt"], item["client_token"], None, moment)
        recorded.append(item)
    if any(not item["resume"] for item in recorded):
        state.save()

    changed = False
    try:
        for index, item in enumerate(recorded):
            entity_id = item["id"]
            result["api_calls"]["start_mailbox_export_job"] += 1
            try:
                job_id = workmail.start_export_job(
                    manifest["organization_id"],
                    entity_id,
                    manifest["role_arn"],
                    manifest["kms_key_arn"],
                    manifest["s3_bucket"],
                    manifest["s3_prefix"],
                    item["client_token"],
                    description=build_description(text, item["client_token"]),
                )
            except LimitError as error:
                # A resumed attempt may have a job already (started before a crash, not listed yet): it stays, and
                # the next pass finds its job by the token or starts it again with the same token.
                if not item["resume"]:
                    forget_attempt(manifest, entity_id, item["attempt"], moment, max_attempts)
                    changed = True
                limit = _limit_reason(listing, entity_id, moment, result["started"])
                result["limit"] = {"limit": limit, "id": entity_id, "aws_message": error.aws_message}
                if limit == "mailbox_24h":
                    continue
                # The organization is full: the new attempts not started yet are not attempts after all.
                for later in recorded[index + 1 :]:
                    if not later["resume"]:
                        forget_attempt(manifest, later["id"], later["attempt"], moment, max_attempts)
                        changed = True
                break
            except botocore.exceptions.ClientError as error:
                code = _aws_error(error)[0]
                if code == "EntityNotFoundException":
                    forget_attempt(manifest, entity_id, item["attempt"], moment, max_attempts)
                    manifest["mailboxes"][entity_id]["state"] = SKIPPED
                    changed = True
                    result["skipped"].append(entity_id)
                    continue
                if code not in MAILBOX_START_ERRORS:
                    raise
                # This mailbox cannot be exported now (for example it was disabled since the directory was read):
                # a failed attempt, retried under the 24-hour rule like a failed job; the campaign goes on.
                message = ((getattr(error, "response", None) or {}).get("Error") or {}).get("Message") or code
                record_job(
                    manifest,
                    entity_id,
                    item["attempt"],
                    {"State": JOB_FAILED, "ErrorInfo": f"StartMailboxExportJob refused the mailbox: {code}: {message}"},
                    moment,
                    max_attempts,
                )
                changed = True
                result["start_errors"].append({"id": entity_id, "code": code, "message": message})
                continue
            record_start(manifest, entity_id, item["attempt"], item["client_token"], job_id, moment)
            changed = True
            result["started"] += 1
            result["started_mailboxes"].append(entity_id)
    except BaseException as error:
        if changed:
            _save_after(state, error)
        raise
    if changed:
        state.save()


# One pass of the organization-wide export module (workmail_organization_export)

DEFAULT_LOCK_TTL = 900
MIN_POLL_INTERVAL = 5


def _positive_int(params, parameter, minimum=1):
    value = params.get(parameter)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParameterError(parameter, f"must be an integer of at least {minimum}, got {value!r}")


def validate_organization_export_params(params, region):
    """Validate the parameters of workmail_organization_export before any AWS call (ParameterError otherwise)."""
    validate_region(region)
    validate_organization_id(params.get("organization_id"))
    validate_campaign(params.get("campaign"))
    parse_role_arn(params.get("role_arn"))
    parse_kms_key_arn(params.get("kms_key_arn"), region=region)
    validate_bucket_name(params.get("s3_bucket"))
    validate_prefix(params.get("s3_prefix"))
    token = campaign_client_token(params["organization_id"], "x", params["campaign"], 1)
    validate_description(params.get("description"), token)
    _check_limits(
        params.get("max_concurrent_jobs", MAX_RUNNING_JOBS_PER_ORGANIZATION),
        params.get("max_attempts", DEFAULT_MAX_ATTEMPTS),
    )
    if params.get("verify", VERIFY_BASIC) not in VERIFY_CHOICES:
        raise ParameterError("verify", f"must be one of {', '.join(VERIFY_CHOICES)}, got {params.get('verify')!r}")
    _positive_int(params, "lock_ttl")
    _positive_int(params, "wait_timeout")
    _positive_int(params, "poll_interval", MIN_POLL_INTERVAL)
    if params.get("lock_owner") is not None and not str(params["lock_owner"]).strip():
        raise ParameterError("lock_owner", "must not be empty")
    explicit = params.get("mailboxes")
    if explicit is not None:
        if params.get("include") or params.get("exclude"):
            raise ParameterError("mailboxes", "cannot be combined with include or exclude")
        if not explicit:
            raise ParameterError("mailboxes", "must name at least one mailbox")
    return params


def default_lock_owner():
    """A lock owner naming this host and process, unique per call."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _service_now(workmail_client, now):
    return to_datetime(workmail_client.service_time()) or to_datetime(now())


# How long a campaign trusts its last reading of the directory (ListUsers/ListResources, all pages). Passes in
# between read only the job list, so a poll cycle costs one listing; a rerun a day later still picks up mailboxes
# created since.
REDISCOVER_AFTER = timedelta(hours=24)


def _selection_options(params):
    return {
        "include_disabled": bool(params.get("include_disabled")),
        "skip_system_users": bool(params.get("skip_system_users")),
        "include": params.get("include"),
        "exclude": params.get("exclude"),
        "explicit": params.get("mailboxes"),
    }


def needs_discovery(manifest, params, moment):
    """Read the directory again? For a new campaign, a changed selection, or a reading older than a day."""
    last = manifest.get("discovery") or {}
    if last.get("selection") != _selection_options(params) or not last.get("at"):
        return True
    return moment - to_datetime(last["at"]) >= REDISCOVER_AFTER


def _discover(workmail_client, params, manifest, moment):
    """The selected mailboxes (with sizes), and a note in the manifest of when and with what selection."""
    options = _selection_options(params)
    try:
        found = discover(workmail_client, params["organization_id"], options, manifest)
    except ParameterError as error:
        if error.parameter != "explicit":
            raise
        details = {key: value for key, value in error.details.items() if key != "parameter"}
        raise ParameterError("mailboxes", error.rule, **details) from error
    manifest["discovery"] = {"at": iso8601(moment), "selection": options}
    return found


def _check_destination(manifest, params):
    for name in ("role_arn", "kms_key_arn"):
        if manifest.get(name) and manifest[name] != params[name]:
            raise ParameterError(
                name,
                f"campaign {manifest['campaign']!r} was started with {name} {manifest[name]}, not {params[name]}; "
                "give the same value, or use another campaign name",
            )


def _queued(manifest):
    entries = [entry for entry in manifest["mailboxes"].values() if entry["state"] in (PENDING, FAILED)]
    return [
        {"id": entry["id"], "email": entry["email"], "size_mb": entry["size_mb"]}
        for entry in sorted(entries, key=_size_order)
    ]


def verification_problems(manifest):
    """``[{"id", "email", "level", "problem"}]``: the COMPLETED mailboxes whose object failed its last check."""
    problems = []
    for entity_id in sorted(manifest["mailboxes"]):
        entry = manifest["mailboxes"][entity_id]
        record = entry.get("object")
        if entry["state"] != COMPLETED or not record or record.get("verified"):
            continue
        problems.append(
            {"id": entity_id, "email": entry["email"], "level": object_level(record), "problem": record.get("problem")}
        )
    return problems


def _outcome(manifest, moment):
    """The parts of the module result read from the manifest."""
    failures = []
    waiting = []
    for entity_id in sorted(manifest["mailboxes"]):
        entry = manifest["mailboxes"][entity_id]
        last = entry["attempts"][-1] if entry["attempts"] else {}
        if entry["state"] == FAILED_PERMANENTLY:
            failures.append(
                {
                    "id": entity_id,
                    "email": entry["email"],
                    "name": entry["name"],
                    "attempts": len(entry["attempts"]),
                    "job_id": last.get("job_id"),
                    "error_info": last.get("error_info"),
                }
            )
        elif entry["state"] == FAILED:
            eligible = _eligible_at(entry)
            if eligible is not None and eligible > moment:
                waiting.append({"id": entity_id, "email": entry["email"], "eligible": iso8601(eligible)})
    waiting.sort(key=lambda item: (item["eligible"], item["id"]))
    return {
        "summary": summary(manifest),
        "failures": failures,
        "waiting_24h": waiting,
        "queued": _queued(manifest),
        "verification_problems": verification_problems(manifest),
    }


def _check_mode_pass(workmail_client, params, manifest, now, region):
    """What a real pass would do, from the listing and :func:`plan` only: nothing is started, saved or locked."""
    organization_id = params["organization_id"]
    exists = manifest is not None
    moment = to_datetime(now())
    if manifest is None:
        manifest = new_manifest(
            params["campaign"],
            organization_id,
            region,
            params["s3_bucket"],
            params["s3_prefix"],
            params["kms_key_arn"],
            params["role_arn"],
            moment,
        )
    else:
        manifest = copy.deepcopy(manifest)
    added = []
    if needs_discovery(manifest, params, moment):
        added = add_mailboxes(manifest, _discover(workmail_client, params, manifest, moment), moment)
    listing = workmail_client.list_export_jobs(organization_id)
    moment = _service_now(workmail_client, now)
    the_plan = plan(manifest, listing, moment, params["max_concurrent_jobs"], params["max_attempts"])
    apply_plan(manifest, the_plan)
    would_start = []
    for item in the_plan.to_start:
        if not item["resume"] and _recent_job(listing, item["id"], moment) is not None:
            continue
        entry = manifest["mailboxes"][item["id"]]
        would_start.append(
            {"id": item["id"], "email": entry["email"], "size_mb": entry["size_mb"], "attempt": item["attempt"]}
        )
    starting = {item["id"] for item in would_start}
    result = _outcome(manifest, moment)
    result["queued"] = [item for item in result["queued"] if item["id"] not in starting]
    result.update(
        changed=not exists or bool(added) or bool(the_plan.updates) or bool(would_start),
        done=the_plan.done,
        started=[],
        would_start=would_start,
        manifest_exists=exists,
        **{
            "pass": {
                "now": the_plan.now,
                "listed": len(listing),
                "added": len(added),
                "updates": len(the_plan.updates),
                "free_slots": the_plan.free_slots,
                "foreign_running": len(the_plan.foreign_running),
                "own_running": the_plan.own_running,
                "would_start": len(would_start),
                "waiting_24h": len(the_plan.waiting_24h),
            }
        },
    )
    return result


class LockHeartbeat:
    """A callable that refreshes a :class:`~manifest.CampaignLock` when ``interval`` seconds (of ``clock``, a
    monotonic clock by default) have passed since its last refresh, so it may be called as often as convenient."""

    def __init__(self, lock, interval, clock=time.monotonic):
        self.lock = lock
        self.interval = interval
        self.clock = clock
        self.last = clock()
        self.refreshes = 0

    def __call__(self):
        if self.clock() - self.last < self.interval:
            return
        self.lock.refresh()
        self.last = self.clock()
        self.refreshes += 1


def _reconcile(workmail_client, s3_client, store, params, manifest, etag, moment, region, now, heartbeat=None):
    if manifest is None:
        manifest = new_manifest(
            params["campaign"],
            params["organization_id"],
            region,
            params["s3_bucket"],
            params["s3_prefix"],
            params["kms_key_arn"],
            params["role_arn"],
            moment,
        )
    discovered = needs_discovery(manifest, params, moment)
    added = add_mailboxes(manifest, _discover(workmail_client, params, manifest, moment), moment) if discovered else []
    saves = 0
    if etag is None or discovered:
        etag = store.save(manifest, etag)
        saves += 1
    manifest, etag, pass_result = run_pass(
        workmail_client,
        s3_client,
        store,
        manifest,
        etag,
        lambda: _service_now(workmail_client, now),
        max_concurrent_jobs=params["max_concurrent_jobs"],
        max_attempts=params["max_attempts"],
        verify=params.get("verify") or VERIFY_BASIC,
        description=params.get("description"),
        heartbeat=heartbeat,
    )
    moment = to_datetime(pass_result["now"])
    started = []
    for entity_id in pass_result["started_mailboxes"]:
        entry = manifest["mailboxes"][entity_id]
        started.append({"id": entity_id, "email": entry["email"], "job_id": entry["attempts"][-1].get("job_id")})
    pass_result = {key: value for key, value in pass_result.items() if key not in ("summary", "done")}
    pass_result["added"] = len(added)
    result = _outcome(manifest, moment)
    counts = result["summary"]
    result.update(
        changed=bool(saves or pass_result["saves"]),
        done=counts["pending"] == 0 and counts["running"] == 0 and counts["failed"] == 0,
        started=started,
        manifest_exists=True,
        **{"pass": pass_result},
    )
    return result


def run_organization_pass(workmail_client, s3_client, params, check_mode=False, now=utcnow, region=None):
    """One reconcile pass of an organization-wide export campaign (the module workmail_organization_export).

    ``params`` are the module's (validated) parameters. Takes the campaign lock (``lock_owner``, or a new owner),
    loads or creates the manifest, adds the mailboxes the selection finds, runs :func:`run_pass` (whose heartbeat
    refreshes the lock once a third of ``lock_ttl`` has passed since it was taken or last refreshed) and releases
    the lock (a release that fails is left to expire). In ``check_mode`` nothing is locked, saved or started: the
    result says which mailboxes a real pass would start (``would_start``) from the listing and :func:`plan`.

    Returns ``{"changed", "done", "summary", "started", "failures", "waiting_24h", "queued", "pass", "manifest",
    "manifest_exists", "lock_owner"}`` (and ``would_start`` in check mode). Raises LockHeldError, ManifestError,
    ParameterError and other WorkMailErrors, and botocore errors.
    """
    organization_id = params["organization_id"]
    campaign = params["campaign"]
    bucket = params["s3_bucket"]
    key = manifest_key(params["s3_prefix"], campaign)
    store = ManifestStore(s3_client, bucket, key, local_copy=params.get("local_manifest"))
    location = {"s3_uri": f"s3://{bucket}/{key}", "s3_bucket": bucket, "s3_key": key}
    location["local_path"] = params.get("local_manifest")

    if check_mode:
        manifest = store.load(campaign, organization_id)[0]
        if manifest is not None:
            _check_destination(manifest, params)
        result = _check_mode_pass(workmail_client, params, manifest, now, region)
        result.update(manifest=location, lock_owner=None)
        return result

    owner = params.get("lock_owner") or default_lock_owner()
    lock = CampaignLock(
        s3_client,
        bucket,
        lock_key(params["s3_prefix"], campaign),
        owner,
        params.get("lock_ttl") or DEFAULT_LOCK_TTL,
        now,
        params["kms_key_arn"],
    )
    lock.acquire()
    # A long pass (deep verification of large archives) keeps the lock: refreshed a third of its TTL after the last.
    heartbeat = LockHeartbeat(lock, lock.ttl_seconds / 3.0)
    try:
        manifest, etag = store.load(campaign, organization_id)
        if manifest is not None:
            _check_destination(manifest, params)
        result = _reconcile(
            workmail_client, s3_client, store, params, manifest, etag, to_datetime(now()), region, now, heartbeat
        )
    finally:
        try:
            lock.release()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            pass  # the lock expires by itself after lock_ttl
    result.update(manifest=location, lock_owner=owner)
    return result
