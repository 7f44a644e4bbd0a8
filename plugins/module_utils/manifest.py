# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The durable record of an organization-wide export campaign: the manifest document and every change to it.

Shape (``format`` 1)::

    {"format": 1, "campaign", "organization_id", "region", "s3_bucket", "s3_prefix", "kms_key_arn", "role_arn",
     "created", "updated", "discovery": {"at", "selection"},
     "listing": {"at", "due", "jobs", "started_since",
                 "foreign": [{"job_id", "entity_id", "start_time", "progress"?, "seen"?}],
                 "blocked": [{"id", "job_id", "start_time"}]},
     "pace": {"seconds_per_mb", "floor_seconds", "jobs"},
     "layout": {"found_by": {<rule>: <count>}, "folders": {<kind>: <count>}},
     "sealed": [{"name", "sha256", "level", "ids", "count", "size_mb", "jobs", "job_mb", "job_hours",
                 "min_job_hours", "last_end"}],
     "mailboxes": {<entity id>: {"id", "email", "name", "type", "size_mb", "state",
                                 "attempts": [{"attempt", "client_token", "job_id", "state", "start_time",
                                               "end_time", "error_info", "s3_path", "destination_fault"?,
                                               "progress"?, "seen"?}],
                                 "object": {"key", "size", "etag", "sse", "kms_key_id", "found_by", "outcome",
                                            "verified",
                                            "refused", "sha384", "problem", "level", "checked", "log_key",
                                            "log_sha384", "log_messages", "archive_entries",
                                            "archive_messages"} or None}}}

``listing`` is what the last reading of the whole job list showed (:mod:`_campaign.observe`: when, the running jobs
of others, the mailboxes a recent job holds back) and ``due`` why the next pass must read it again; ``pace`` is
what the completed jobs taught of how long a job takes, and a running attempt's ``progress`` its EstimatedProgress
when it was last ``seen`` (:mod:`_campaign.pace`); ``layout`` counts the rules that found the archives.

``sealed`` lists the sealed parts of a large campaign: its finished mailboxes (COMPLETED, their export verified),
moved out of the manifest once :data:`SEAL_BATCH` or more are finished, into objects beside it never written again
(:mod:`manifest_parts`), so that a pass reads and writes only what is still to do. Each part is named by its
``name`` (its number and the start of its ``sha256``), holds the mailboxes ``ids`` verified at ``level`` or deeper,
and keeps their totals (``count``, ``size_mb``; ``jobs``, ``job_mb``, ``job_hours`` and ``min_job_hours`` of their
completed jobs; ``last_end``). A mailbox is either in ``mailboxes`` or in one sealed part, never in both.

``object`` is what the verification of a COMPLETED mailbox's export found: ``level`` is the verify level of that
check (``basic``: what HeadObject showed; ``deep``: also the SHA-384 of the downloaded archive (``sha384``), its
number of file entries (``archive_entries``) and what its export log (``log_key``) says, ``log_sha384`` and
``log_messages``); ``checked`` is when. ``outcome`` is ``verified`` (``verified`` True) when the checks of that
level passed, ``contradicted`` when what they saw contradicts the export (missing, empty, wrong key, hash or count
mismatch) and ``unchecked`` when they could not tell (no export log found, S3 refused: ``refused``); ``problem``
says why. Later passes check ``unchecked`` exports again. All times are ISO 8601 text in UTC.

The functions below change a manifest dict in place (it stays JSON-serialisable); :mod:`manifest_store` reads
and writes it in the bucket. Plain Python: no Ansible or AWS imports.
"""

import json
import re
from collections import Counter

from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_MAX_ATTEMPTS
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_CANCELLED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_CONTRADICTED
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_UNCHECKED
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_VERIFIED
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_LEVELS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_campaign

FORMAT_VERSION = 1

# Mailbox states
PENDING = "PENDING"
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
FAILED_PERMANENTLY = "FAILED_PERMANENTLY"
SKIPPED = "SKIPPED"
MAILBOX_STATES = (PENDING, RUNNING, COMPLETED, FAILED, FAILED_PERMANENTLY, SKIPPED)
# Mailbox states that no pass changes any more.
SETTLED_STATES = (COMPLETED, SKIPPED, FAILED_PERMANENTLY)
FINAL_JOB_STATES = (JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED)

# A large campaign's finished mailboxes are sealed (moved out of the manifest into a part of their own) once this many
# are finished, all those finished then: after a pass the manifest holds fewer finished entries than this, and a
# campaign of fewer mailboxes never seals.
SEAL_BATCH = 100
# The name of a sealed part: its number and the first 16 hex digits of its SHA-256 (a part is never written again).
SEALED_PART_NAME = "manifest.sealed-{number:04d}-{digest}.json"
_SEALED_PART_PATTERN = re.compile(r"manifest\.sealed-[0-9]{4,}-[0-9a-f]{16}\.json\Z")

OBJECT_FIELDS = (
    "key",
    "size",
    "etag",
    "sse",
    "kms_key_id",
    "found_by",
    "outcome",
    "verified",
    "refused",
    "sha384",
    "problem",
    "level",
    "checked",
    "log_key",
    "log_sha384",
    "log_messages",
    "archive_entries",
    "archive_messages",
)


class ManifestError(WorkMailError):
    """The campaign manifest cannot be used (unreadable, another format, another campaign or organization)."""


# The document


def new_manifest(campaign, organization_id, region, bucket, prefix, kms_key_arn, role_arn, now):
    """An empty manifest (no mailboxes) created at ``now``."""
    created = iso8601(now)
    return {
        "format": FORMAT_VERSION,
        "campaign": validate_campaign(campaign),
        "organization_id": organization_id,
        "region": region,
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "kms_key_arn": kms_key_arn,
        "role_arn": role_arn,
        "created": created,
        "updated": created,
        "mailboxes": {},
    }


def new_entry(entity_id, email=None, name=None, entity_type="USER", size_mb=None, state=PENDING):
    """A mailbox entry with no attempt yet."""
    return {
        "id": entity_id,
        "email": email,
        "name": name,
        "type": entity_type,
        "size_mb": size_mb,
        "state": state,
        "attempts": [],
        "object": None,
    }


def add_mailboxes(manifest, mailboxes, now=None):
    """Add a PENDING entry for every mailbox (dicts with ``id``, ``email``, ``name``, ``type``, optional ``size_mb``)
    not in the manifest yet (nor sealed); entries already there keep their state and history (a size given for them
    is updated only while they are PENDING). Returns the ids added."""
    added = []
    entries = manifest["mailboxes"]
    sealed = sealed_ids(manifest)
    for mailbox in mailboxes:
        entity_id = mailbox["id"]
        entry = entries.get(entity_id)
        if entry is None and entity_id in sealed:
            continue
        if entry is None:
            entries[entity_id] = new_entry(
                entity_id,
                mailbox.get("email"),
                mailbox.get("name"),
                mailbox.get("type") or "USER",
                mailbox.get("size_mb"),
            )
            added.append(entity_id)
        elif entry["state"] == PENDING and mailbox.get("size_mb") is not None:
            entry["size_mb"] = mailbox["size_mb"]
    if added and now is not None:
        manifest["updated"] = iso8601(now)
    return added


def _fail(message, **details):
    raise ManifestError(f"campaign manifest: {message}", **details)


def check_owner(manifest, campaign=None, organization_id=None):
    """ManifestError unless the (valid) ``manifest`` is of ``campaign`` and ``organization_id`` (when given)."""
    if campaign is not None and manifest["campaign"] != campaign:
        _fail(f"it belongs to campaign {manifest['campaign']!r}, not {campaign!r}")
    if organization_id is not None and manifest["organization_id"] != organization_id:
        _fail(
            f"campaign {manifest['campaign']!r} exports organization {manifest['organization_id']}, not "
            f"{organization_id}; use another campaign name for another organization"
        )


def validate_manifest(manifest, campaign=None, organization_id=None):
    """``manifest`` itself when it is a format-1 manifest (of ``campaign`` and ``organization_id`` when given)."""
    if not isinstance(manifest, dict):
        _fail(f"expected a JSON object, got {type(manifest).__name__}")
    version = manifest.get("format")
    if version != FORMAT_VERSION:
        _fail(f"format {version!r} is not supported (this collection reads format {FORMAT_VERSION})")
    for field in ("campaign", "organization_id", "s3_bucket", "kms_key_arn", "created", "updated"):
        if not isinstance(manifest.get(field), str) or not manifest.get(field):
            _fail(f"field {field!r} is missing or not a string")
    check_owner(manifest, campaign, organization_id)
    mailboxes = manifest.get("mailboxes")
    if not isinstance(mailboxes, dict):
        _fail("field 'mailboxes' is missing or not an object")
    for entity_id, entry in mailboxes.items():
        if not isinstance(entry, dict) or entry.get("id") != entity_id:
            _fail(f"mailbox {entity_id!r}: entry missing or its id differs from its key")
        if entry.get("state") not in MAILBOX_STATES:
            _fail(f"mailbox {entity_id!r}: unknown state {entry.get('state')!r}")
        attempts = entry.get("attempts")
        if not isinstance(attempts, list):
            _fail(f"mailbox {entity_id!r}: 'attempts' is not a list")
        for number, attempt in enumerate(attempts, start=1):
            if not isinstance(attempt, dict) or attempt.get("attempt") != number:
                _fail(f"mailbox {entity_id!r}: attempt {number} is missing or out of order")
            if not attempt.get("client_token"):
                _fail(f"mailbox {entity_id!r}: attempt {number} has no client_token")
        _validate_object(entity_id, entry.get("object"))
    _validate_sealed(manifest.get("sealed"), mailboxes)
    return manifest


def _validate_sealed(parts, mailboxes):
    """The manifest's ``sealed`` parts: a list of parts with a valid name, digest, level and ids, no mailbox twice."""
    if parts is None:
        return
    if not isinstance(parts, list):
        _fail("field 'sealed' is not a list")
    seen = set()
    for part in parts:
        name = part.get("name") if isinstance(part, dict) else None
        if not isinstance(name, str) or not _SEALED_PART_PATTERN.match(name):
            _fail(f"sealed part {name!r} has no valid name")
        if not isinstance(part.get("sha256"), str) or part.get("level") not in VERIFY_LEVELS:
            _fail(f"sealed part {name}: its sha256 or level is missing")
        ids = part.get("ids")
        if not isinstance(ids, list) or part.get("count") != len(ids):
            _fail(f"sealed part {name}: its ids are missing or do not match its count")
        twice = seen.intersection(ids) or set(mailboxes).intersection(ids)
        if twice:
            _fail(f"sealed part {name}: mailbox {sorted(twice)[0]!r} is also elsewhere in the manifest")
        seen.update(ids)


def _validate_object(entity_id, record):
    if record is None:
        return
    if not isinstance(record, dict):
        _fail(f"mailbox {entity_id!r}: 'object' is neither an object nor null")
    if record.get("level") not in VERIFY_LEVELS:
        _fail(f"mailbox {entity_id!r}: unknown verify level {record.get('level')!r} of its object")


def object_level(record):
    """The verify level of an ``object`` record, or None for no record."""
    return record["level"] if record is not None else None


def object_outcome(record):
    """What the last check of an ``object`` record found (``verified``, ``contradicted`` or ``unchecked``), or None
    for no record. Records written before checks had outcomes tell it by ``verified`` and ``refused``."""
    if record is None:
        return None
    if record.get("outcome"):
        return record["outcome"]
    if record.get("verified"):
        return OUTCOME_VERIFIED
    return OUTCOME_UNCHECKED if record.get("refused") else OUTCOME_CONTRADICTED


# Encodes each line of a stored manifest (json's C encoder: an indenting encoder would take seconds and hundreds
# of MB for a manifest of 10,000 mailboxes).
_LINE_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def dumps(manifest):
    """The manifest as stored: UTF-8 JSON with sorted keys, a line per field and a line per mailbox (readable and
    greppable however large the campaign), trailing newline."""
    lines = []
    for name in sorted(manifest):
        value = manifest[name]
        text = _mailbox_lines(value) if name == "mailboxes" and value else _LINE_ENCODER.encode(value)
        lines.append(f" {_LINE_ENCODER.encode(name)}: {text}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def _mailbox_lines(mailboxes):
    rows = [f"  {_LINE_ENCODER.encode(key)}: {_LINE_ENCODER.encode(mailboxes[key])}" for key in sorted(mailboxes)]
    return "{\n" + ",\n".join(rows) + "\n }"


# Changes


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


def used_attempts(entry):
    """How many of the mailbox's attempts count towards max_attempts: not those the destination failed."""
    return sum(1 for attempt in entry["attempts"] if not attempt.get("destination_fault"))


def mailbox_state(entry, attempt_state, max_attempts):
    """The state of a mailbox whose last attempt's job is ``attempt_state``: FAILED while attempts are left."""
    if attempt_state == JOB_COMPLETED:
        return COMPLETED
    if attempt_state in (JOB_FAILED, JOB_CANCELLED):
        return FAILED_PERMANENTLY if used_attempts(entry) >= max_attempts else FAILED
    return RUNNING


def mark_destination_fault(manifest, entity_id, attempt, max_attempts=DEFAULT_MAX_ATTEMPTS):
    """Record that attempt ``attempt`` failed for the destination (the role, the key, the bucket), not for its
    mailbox: it does not count towards max_attempts."""
    entry = _entry(manifest, entity_id)
    entry["attempts"][attempt - 1]["destination_fault"] = True
    if attempt == len(entry["attempts"]):
        entry["state"] = mailbox_state(entry, entry["attempts"][-1].get("state"), max_attempts)


def _entry(manifest, entity_id):
    try:
        return manifest["mailboxes"][entity_id]
    except KeyError:
        raise ValueError(f"mailbox {entity_id} is not part of campaign {manifest.get('campaign')}") from None


def apply_updates(manifest, updates, now):
    """Apply updates ``[{"id", "attempt", "fields", "state"}]`` (``fields`` merged into attempt number ``attempt``,
    None when only the mailbox's ``state`` changes); True when there was any (then ``updated`` is ``now``)."""
    for update in updates:
        entry = _entry(manifest, update["id"])
        if update["attempt"] is not None:
            entry["attempts"][update["attempt"] - 1].update(update["fields"])
        entry["state"] = update["state"]
    if updates:
        manifest["updated"] = iso8601(now)
    return bool(updates)


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


def adopt_attempt(manifest, entity_id, attempt, client_token, raw, now, max_attempts=DEFAULT_MAX_ATTEMPTS):
    """Record a job of this campaign that the manifest lacks (listed job ``raw``, found by ``client_token``) as
    attempt ``attempt``, the one after the last recorded."""
    record_start(manifest, entity_id, attempt, client_token, raw.get("JobId"), raw.get("StartTime") or now)
    return record_job(manifest, entity_id, attempt, raw, now, max_attempts)


def forget_attempt(manifest, entity_id, attempt, now, max_attempts=DEFAULT_MAX_ATTEMPTS):
    """Remove the last attempt when its StartMailboxExportJob was refused (no job exists for its token)."""
    entry = _entry(manifest, entity_id)
    if not entry["attempts"] or entry["attempts"][-1]["attempt"] != attempt or entry["attempts"][-1].get("job_id"):
        raise ValueError(f"mailbox {entity_id}: attempt {attempt} is not an unconfirmed last attempt")
    entry["attempts"].pop()
    entry["state"] = (
        mailbox_state(entry, entry["attempts"][-1]["state"], max_attempts) if entry["attempts"] else PENDING
    )
    manifest["updated"] = iso8601(now)


def record_job(manifest, entity_id, attempt, raw, now, max_attempts=DEFAULT_MAX_ATTEMPTS):
    """Merge what a DescribeMailboxExportJob answer (or a listed job) says into attempt ``attempt``."""
    entry = _entry(manifest, entity_id)
    record = entry["attempts"][attempt - 1]
    record.update(job_fields(raw))
    if attempt == len(entry["attempts"]):
        entry["state"] = mailbox_state(entry, record.get("state"), max_attempts)
    manifest["updated"] = iso8601(now)
    return record


def record_object(manifest, entity_id, now, **fields):
    """Record the exported object of a COMPLETED mailbox (the fields of :data:`OBJECT_FIELDS`); fields not given
    keep their recorded value, or are None."""
    unknown = set(fields) - set(OBJECT_FIELDS)
    if unknown:
        raise ValueError(f"unknown object fields: {', '.join(sorted(unknown))}")
    entry = _entry(manifest, entity_id)
    current = dict.fromkeys(OBJECT_FIELDS)
    current.update(entry.get("object") or {})
    current.update(fields)
    current["verified"] = bool(current.get("verified"))
    current["refused"] = bool(current.get("refused"))
    current["outcome"] = object_outcome(current)
    entry["object"] = current
    manifest["updated"] = iso8601(now)
    return current


# Reading


def summary(manifest):
    """Counts of the campaign's mailboxes by state, and how many exported objects were ``verified``, and how many
    COMPLETED ones could not be checked (``unchecked``); the sealed mailboxes count as COMPLETED and verified."""
    entries = manifest["mailboxes"].values()
    counts = dict.fromkeys(("total", "verified", "unchecked") + tuple(state.lower() for state in MAILBOX_STATES), 0)
    for state, number in Counter(entry["state"] for entry in entries).items():
        counts[state.lower()] += number
    counts["total"] = len(entries)
    # Only an entry with an object record can count as verified or unchecked (most have none: one look each).
    for entry in entries:
        record = entry.get("object")
        if record is None:
            continue
        outcome = object_outcome(record)
        if outcome == OUTCOME_VERIFIED:
            counts["verified"] += 1
        elif outcome == OUTCOME_UNCHECKED and entry["state"] == COMPLETED:
            counts["unchecked"] += 1
    sealed = sealed_total(manifest, "count")
    for name in ("total", "verified", "completed"):
        counts[name] += sealed
    return counts


def has_mailboxes_to_start(manifest):
    """Is a mailbox of ``manifest`` still to be started: PENDING, or FAILED with attempts left?"""
    return any(entry["state"] in (PENDING, FAILED) for entry in (manifest.get("mailboxes") or {}).values())


def is_done(counts):
    """Is a campaign with these :func:`summary` counts done: nothing pending, running or to be retried?"""
    return counts["pending"] == 0 and counts["running"] == 0 and counts["failed"] == 0


def _checks(manifest, outcome):
    """``[{"id", "email", "level", "problem", "checked"}]``: the COMPLETED mailboxes whose last check found
    ``outcome``."""
    found = []
    # Only the few COMPLETED mailboxes with that outcome are sorted, not the whole campaign.
    matching = (
        entity_id
        for entity_id, entry in manifest["mailboxes"].items()
        if entry["state"] == COMPLETED and object_outcome(entry.get("object")) == outcome
    )
    for entity_id in sorted(matching):
        entry = manifest["mailboxes"][entity_id]
        record = entry["object"]
        found.append(
            {
                "id": entity_id,
                "email": entry["email"],
                "level": object_level(record),
                "problem": record.get("problem"),
                "checked": record.get("checked"),
            }
        )
    return found


def verification_problems(manifest):
    """The COMPLETED mailboxes whose export the last check contradicted (missing, empty, wrong key, hash or count
    mismatch): ``[{"id", "email", "level", "problem", "checked"}]``."""
    return _checks(manifest, OUTCOME_CONTRADICTED)


def unchecked_exports(manifest):
    """The COMPLETED mailboxes whose export the last check could not tell (no export log, S3 refused, layout not
    recognised): ``[{"id", "email", "level", "problem", "checked"}]``. Later passes check them again."""
    return _checks(manifest, OUTCOME_UNCHECKED)


# Sealing


def sealed_parts(manifest):
    """The manifest's sealed parts (``[]`` when none)."""
    return manifest.get("sealed") or []


def sealed_total(manifest, name):
    """The sum of total ``name`` (``count``, ``size_mb``, ``jobs``, ``job_mb`` or ``job_hours``) over the sealed
    parts."""
    return sum(part.get(name) or 0 for part in sealed_parts(manifest))


def sealed_ids(manifest):
    """The ids of the sealed mailboxes, as a set."""
    return {entity_id for part in sealed_parts(manifest) for entity_id in part["ids"]}


def mailbox_count(manifest):
    """How many mailboxes the campaign holds: those in the manifest and those sealed."""
    return len(manifest.get("mailboxes") or {}) + sealed_total(manifest, "count")


def _level_rank(level):
    return VERIFY_LEVELS.index(level) if level in VERIFY_LEVELS else -1


def sealable(manifest, level):
    """The ids (sorted) of the mailboxes a pass verifying at ``level`` may seal: COMPLETED, their export verified at
    ``level`` or deeper. None are with ``level`` ``none`` (a pass that checks nothing seals nothing)."""
    rank = _level_rank(level)
    if rank < 0:
        return []
    found = []
    for entity_id, entry in manifest["mailboxes"].items():
        record = entry.get("object")
        if entry["state"] == COMPLETED and object_outcome(record) == OUTCOME_VERIFIED:
            if _level_rank(record.get("level")) >= rank:
                found.append(entity_id)
    return sorted(found)


def completed_jobs(entry):
    """``[(size_mb, hours)]`` of the entry's completed jobs with a start and an end (unknown size: 0 MB)."""
    size = entry.get("size_mb") if isinstance(entry.get("size_mb"), (int, float)) else 0
    found = []
    for attempt in entry["attempts"]:
        if attempt.get("state") != JOB_COMPLETED:
            continue
        started, ended = to_datetime(attempt.get("start_time")), to_datetime(attempt.get("end_time"))
        if started is not None and ended is not None and ended > started:
            found.append((size, (ended - started).total_seconds() / 3600.0))
    return found


def part_totals(entries):
    """The totals a sealed part keeps of ``entries`` (its mailbox entries)."""
    jobs = [job for entry in entries for job in completed_jobs(entry)]
    ends = [attempt["end_time"] for entry in entries for attempt in entry["attempts"] if attempt.get("end_time")]
    return {
        "count": len(entries),
        "size_mb": sum(entry["size_mb"] for entry in entries if isinstance(entry.get("size_mb"), (int, float))),
        "jobs": len(jobs),
        "job_mb": sum(size for size, hours in jobs),
        "job_hours": sum(hours for size, hours in jobs),
        "min_job_hours": min((hours for size, hours in jobs), default=None),
        "last_end": max(ends, key=to_datetime, default=None),
    }


def sealed_part_document(manifest, ids, level, now):
    """The document of a new sealed part of ``manifest`` holding the mailboxes ``ids``: the manifest's own fields and
    those entries (a manifest of its own, readable and validated as one), ``part`` its number, ``level`` its
    verification."""
    document = {name: value for name, value in manifest.items() if name not in ("mailboxes", "sealed")}
    document.update(part=len(sealed_parts(manifest)) + 1, level=level, updated=iso8601(now))
    document["mailboxes"] = {entity_id: manifest["mailboxes"][entity_id] for entity_id in ids}
    return document


def seal(manifest, document, name, sha256):
    """Move the mailboxes of the sealed part ``document`` (stored as ``name``, its digest ``sha256``) out of
    ``manifest``; the part's record in ``sealed``."""
    entries = list(document["mailboxes"].values())
    part = dict(
        part_totals(entries), name=name, sha256=sha256, level=document["level"], ids=sorted(document["mailboxes"])
    )
    for entity_id in part["ids"]:
        del manifest["mailboxes"][entity_id]
    manifest.setdefault("sealed", []).append(part)
    manifest["updated"] = document["updated"]
    return part


def unseal(manifest, part, entries, now):
    """Put the mailboxes of sealed part ``part`` (their ``entries``, read from it) back into ``manifest``."""
    manifest["mailboxes"].update(entries)
    manifest["sealed"] = [other for other in sealed_parts(manifest) if other["name"] != part["name"]]
    if not manifest["sealed"]:
        del manifest["sealed"]
    manifest["updated"] = iso8601(now)


def parts_below(manifest, level):
    """The sealed parts verified at a level below ``level`` (a pass verifying deeper checks their mailboxes again)."""
    rank = _level_rank(level)
    return [part for part in sealed_parts(manifest) if _level_rank(part["level"]) < rank]
