# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The organization-wide export campaign: which mailboxes, which tokens, and what to do next.

Pure functions over plain data: ListUsers/ListResources items in, the campaign manifest (see :mod:`manifest`) and
the ListMailboxExportJobs listing in, a :class:`Plan` out. :func:`apply_plan`, :func:`record_start`,
:func:`record_job` and :func:`record_object` change the manifest dict in place (it stays JSON-serialisable);
the caller saves it after every change.

Every attempt of every mailbox has its own ClientToken (:func:`campaign_client_token`), derived from the
organization, the mailbox, the campaign and the attempt number, so a re-run of the campaign never starts a second
job for an attempt, and the token (written in the job's Description marker) finds a job whose id was never saved.
"""

import copy
import fnmatch
import hashlib
import json
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
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED_PERMANENTLY
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import OBJECT_FIELDS
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SKIPPED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import validate_campaign
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker

CAMPAIGN_TOKEN_PREFIX = "mailops-c-"
CAMPAIGN_TOKEN_HEX_LENGTH = 48
DEFAULT_MAX_ATTEMPTS = 3
EXPORT_INTERVAL = timedelta(hours=MAILBOX_EXPORT_INTERVAL_HOURS)
LIST_WINDOW = timedelta(days=7)

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
    """Record the exported object of a COMPLETED mailbox (``key``, ``size``, ``etag``, ``sse``, ``kms_key_id``,
    ``verified``, ``sha384``; fields not given are kept, or None)."""
    unknown = set(fields) - set(OBJECT_FIELDS)
    if unknown:
        raise ValueError(f"unknown object fields: {', '.join(sorted(unknown))}")
    entry = _entry(manifest, entity_id)
    current = entry.get("object") or dict.fromkeys(OBJECT_FIELDS)
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
