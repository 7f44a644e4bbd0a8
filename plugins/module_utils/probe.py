# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""First contact: what the real service does with one export, as evidence, and which answer (dialect) it matched.

AWS leaves several questions about mailbox exports open (docs/undocumented.md). :func:`gather_evidence` looks at
one export job of one mailbox and records what the service answered and wrote: the job's fields with their JSON
types, every object written under the job's prefix after it started (HeadObject of each), the export log found and
its fields, the archive's counts (read from its central directory with ranged GETs), the job's duration, and how
StartMailboxExportJob answers a ClientToken used again. Once the job has COMPLETED, one more start of the same
mailbox with another ClientToken asks the once-per-24-hours rule for its answer (a job AWS accepts is cancelled at
once). Given an older job id, the probe describes it too: whether DescribeMailboxExportJob still answers for it,
and how old it is. The ``classify_*`` functions are pure: they say which value of each switch of the local AWS
(tests/emulator/README.md, "Dialects") the evidence matches, :data:`NONE_MATCHED`, or that the question was not
probed.
"""

import hashlib
import json
import os
import re
import time
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_CANCELLED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.entities import resolve_entity
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import ExportRequest
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import ensure_cancelled
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import ensure_started
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import normalize_job
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import S3RangeReader
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import archive_counts
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import find_export_log
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import locate_archive
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import log_candidates
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import log_count
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import log_fields
from ansible_collections.mailops.workmail.plugins.module_utils.retries import error_code
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import ARCHIVE
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import EXPORT_FOLDER
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import EXPORT_LOG
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Error
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.validation import parse_kms_key_arn
from ansible_collections.mailops.workmail.plugins.module_utils.validation import parse_role_arn
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_bucket_name
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_entity
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_integer
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_job_id
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_id
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_prefix
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_region
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_wait_timeout

NONE_MATCHED = "none — please report"
PROBE_FOLDER = "mailops-probe"
PROBE_TOKEN_PREFIX = "mailops-probe-"
PROBE_TOKEN_HEX_LENGTH = 48
# How many objects written after the job's start are recorded, at most, and how many listing pages are read.
MAX_OBJECTS = 50
MAX_LIST_PAGES = 10
MAX_LOG_BYTES = 1024 * 1024
PROBE_MIN_POLL_INTERVAL = 1
PROBE_EVIDENCE = "probe evidence"
PROBE_DESCRIPTION = "mailops probe: what the service writes and answers"
# S3's clock and WorkMail's may differ a little: an object written this long before the job's start still counts.
CLOCK_SLACK = timedelta(minutes=5)
# The switches of the local AWS the probe answers, in the order of the report.
SWITCHES = (
    "s3_path",
    "archive_layout",
    "export_log",
    "total_messages",
    "client_token_reuse",
    "token_mismatch_error",
    "mailbox_24h_error",
    "mailbox_24h_counts",
    "describe_retention_days",
)
TOKEN_MISMATCH_ERRORS = ("InvalidParameterException", "ConflictException", "IdempotentParameterMismatchException")
# The answers of the once-per-24-hours rule the local AWS knows (the values of its switch mailbox_24h_error).
MAILBOX_24H_ERRORS = ("LimitExceededException", "InvalidParameterException")
NOT_PROBED = "not probed"
RULE_WINDOW = timedelta(hours=24)
SECOND_START_TOKEN_PREFIX = "mailops-probe24h-"
SECOND_START_DESCRIPTION = "mailops probe: a second export within 24 hours, to learn how AWS refuses it"
_EMAIL_TIME_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}Z\.zip\Z", re.IGNORECASE)


def probe_client_token(organization_id, entity_id):
    """The probe's default ClientToken: ``mailops-probe-`` and 48 hex digits of the SHA-256 of the canonical JSON of
    the organization, the mailbox and the purpose. Not the token workmail_mailbox_export derives, so the probe's job
    is never taken for the export of a later run."""
    document = {"entity_id": entity_id.lower(), "organization_id": organization_id, "purpose": "probe"}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return PROBE_TOKEN_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()[:PROBE_TOKEN_HEX_LENGTH]


def second_start_token(client_token):
    """The ClientToken of the probe's second start of the mailbox (the once-per-24-hours rule): ``mailops-probe24h-``
    and 48 hex digits of the SHA-256 of the job's token, so never the job's token and the same on every run."""
    digest = hashlib.sha256(f"24h:{client_token}".encode("utf-8")).hexdigest()
    return SECOND_START_TOKEN_PREFIX + digest[:PROBE_TOKEN_HEX_LENGTH]


def not_probed(reason):
    """The answer to a question the probe did not ask, with the reason."""
    return f"{NOT_PROBED} — {reason}"


def evidence_key(prefix, job_id):
    """Where the evidence of job ``job_id`` is written: ``<prefix>/mailops-probe/<job id>.json``."""
    folder = (prefix or "").rstrip("/")
    return f"{folder}/{PROBE_FOLDER}/{job_id}.json" if folder else f"{PROBE_FOLDER}/{job_id}.json"


# Pure: the evidence's shape


def json_type(value):
    """The JSON type a value had in AWS's answer (a time, which boto3 turns into a datetime, is ``timestamp``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


def plain(value):
    """``value`` as JSON can hold it: datetimes as ISO 8601 text in UTC."""
    if isinstance(value, datetime):
        return iso8601(value)
    if isinstance(value, dict):
        return {str(name): plain(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def typed_fields(document):
    """``{field: {"type", "value"}}`` of an answer or a log document (ResponseMetadata left out)."""
    return {
        name: {"type": json_type(value), "value": plain(value)}
        for name, value in document.items()
        if name != "ResponseMetadata"
    }


def duration_seconds(start, end):
    """Seconds from ``start`` to ``end`` (datetimes, epoch seconds or ISO text), or None when one is unknown."""
    start, end = to_datetime(start), to_datetime(end)
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def written_since(objects, started, excluded_folder=None, limit=MAX_OBJECTS):
    """The listed objects written at or after ``started`` (less :data:`CLOCK_SLACK`), oldest first, at most
    ``limit``, leaving out those under ``excluded_folder`` (the probe's own)."""
    since = to_datetime(started)
    found = []
    for item in objects:
        key = item.get("Key") or ""
        if excluded_folder and key.startswith(excluded_folder):
            continue
        modified = to_datetime(item.get("LastModified"))
        if since is not None and modified is not None and modified < since - CLOCK_SLACK:
            continue
        found.append(item)
    found.sort(key=lambda item: (plain(item.get("LastModified")) or "", item.get("Key") or ""))
    return found[:limit]


def parse_log(body):
    """The JSON object in ``body`` (bytes), or None when it is not one."""
    if body is None or len(body) > MAX_LOG_BYTES:
        return None
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


# Pure: the classifiers


def _strip_bucket(s3_path, bucket):
    """``(form, rest)``: how S3Path names the bucket (``s3_uri``, ``bucket`` or ``bare``) and what follows it."""
    if s3_path.startswith(f"s3://{bucket}/"):
        return "s3_uri", s3_path[len(f"s3://{bucket}/") :]
    if bucket and s3_path.startswith(f"{bucket}/"):
        return "bucket", s3_path[len(bucket) + 1 :]
    return "bare", s3_path


def classify_s3_path(s3_path, bucket, archive_key):
    """Which form S3Path has, given the archive's key: ``bucket_key`` (``<bucket>/<key>``), ``key``, ``s3_uri``
    (``s3://<bucket>/<key>``), ``folder`` (``<bucket>/<folder of the archive>/``), else :data:`NONE_MATCHED`."""
    if not s3_path or not archive_key:
        return NONE_MATCHED
    form, rest = _strip_bucket(s3_path, bucket)
    if rest == archive_key:
        return {"s3_uri": "s3_uri", "bucket": "bucket_key"}.get(form, "key")
    if s3_path == archive_key:
        return "key"
    folder = archive_key.rpartition("/")[0]
    if form == "bucket" and folder and rest.rstrip("/") == folder:
        return "folder"
    return NONE_MATCHED


def classify_archive_layout(archive_key, prefix, entity_id, job_id, email=None):
    """Which key the archive has under ``prefix``: ``entity_job`` (``<prefix>/<entity id>/<job id>.zip``), ``job``
    (``<prefix>/<job id>.zip``), ``email_time`` (``<prefix>/<email or entity id>/<yyyymmddThhmmssZ>.zip``), else
    :data:`NONE_MATCHED` (also when no archive was found)."""
    if not archive_key:
        return NONE_MATCHED
    base = (prefix or "").rstrip("/")
    relative = archive_key[len(base) + 1 :] if base and archive_key.startswith(base + "/") else None
    if relative is None:
        return NONE_MATCHED
    folder, dummy, name = relative.lower().rpartition("/")
    if folder == (entity_id or "").lower() and name == f"{(job_id or '').lower()}.zip":
        return "entity_job"
    if not folder and name == f"{(job_id or '').lower()}.zip":
        return "job"
    owners = {(email or "").lower(), (entity_id or "").lower()} - {""}
    if folder in owners and _EMAIL_TIME_NAME.match(name):
        return "email_time"
    return NONE_MATCHED


def classify_export_log(log_key, document, archive_key):
    """Which export log the job wrote: ``none`` (no log found), ``guide`` (next to the archive, every value a
    string, no jobId: the Administrator Guide's example), ``json`` (next to the archive, with a jobId), ``elsewhere``
    (with a jobId, not next to the archive), else :data:`NONE_MATCHED`."""
    if not log_key or document is None:
        return "none"
    fields = log_fields(document)
    beside = bool(archive_key) and log_key in log_candidates(archive_key)
    if "jobid" not in fields and fields and all(isinstance(value, str) for value in fields.values()):
        return "guide" if beside else NONE_MATCHED
    if "jobid" in fields:
        return "json" if beside else "elsewhere"
    return NONE_MATCHED


def classify_total_messages(total_messages, counts):
    """What the log's ``totalMessages`` counts, given the archive's ``counts`` (``{"entries", "messages"}`` of
    :func:`export_verify.archive_counts`): ``all_entries``, ``messages_only``, both when the archive holds only
    messages, else :data:`NONE_MATCHED`."""
    count = log_count(total_messages)
    if count is None or not counts:
        return NONE_MATCHED
    matches = [
        name for name, field in (("all_entries", "entries"), ("messages_only", "messages")) if counts[field] == count
    ]
    if len(matches) == 2:
        return "all_entries or messages_only (the archive holds messages only)"
    return matches[0] if matches else NONE_MATCHED


def classify_token_reuse(job_id, answer):
    """How a start with the job's ClientToken and the same parameters was answered: ``same_job``, ``new_job`` or
    ``error <code>``; :data:`NONE_MATCHED` when it was not tried."""
    if not answer:
        return NONE_MATCHED
    if answer.get("error_code"):
        return f"error {answer['error_code']}"
    if answer.get("job_id"):
        return "same_job" if answer["job_id"] == job_id else "new_job"
    return NONE_MATCHED


def classify_token_mismatch(answer):
    """The error code of a start with the job's ClientToken and another Description, when it is one of the
    plausible mismatch errors; else :data:`NONE_MATCHED` (another code, a job, or not tried)."""
    code = (answer or {}).get("error_code")
    return code if code in TOKEN_MISMATCH_ERRORS else NONE_MATCHED


def classify_mailbox_24h_error(answer):
    """How AWS answered a second start of the mailbox with another ClientToken, after its job COMPLETED: the error
    code when it is one the once-per-24-hours rule is known to answer (:data:`MAILBOX_24H_ERRORS`), ``not probed``
    with the reason when it was not tried, else :data:`NONE_MATCHED` (another code, or a job AWS accepted)."""
    if not answer:
        return not_probed("no second start was tried")
    if answer.get("not_probed"):
        return not_probed(answer["not_probed"])
    code = answer.get("error_code")
    return code if code in MAILBOX_24H_ERRORS else NONE_MATCHED


def older_job_counts(older, job_start):
    """Whether the once-per-24-hours rule counts FAILED and CANCELLED jobs, from ``older`` (the evidence of
    :func:`describe_older_job`) and the start of the probe's job: a FAILED or CANCELLED job of the same mailbox that
    started less than 24 hours before it did not keep AWS from starting it, so only successful jobs count
    (``successful``). Any other older job says nothing: ``not probed`` with the reason."""
    if not older:
        return not_probed("give describe_job_id, a FAILED or CANCELLED job of the mailbox from the last 24 hours")
    if not older.get("answered"):
        return not_probed(f"job {older.get('job_id')} was not described")
    if older.get("state") not in (JOB_FAILED, JOB_CANCELLED):
        return not_probed(f"job {older.get('job_id')} is {older.get('state')}, not FAILED or CANCELLED")
    if not older.get("same_mailbox"):
        return not_probed(f"job {older.get('job_id')} exported another mailbox")
    started, probe_started = to_datetime(older.get("start_time")), to_datetime(job_start)
    if started is None or probe_started is None or not timedelta(0) <= probe_started - started < RULE_WINDOW:
        return not_probed(f"job {older.get('job_id')} did not start in the 24 hours before the probe's job")
    return "successful"


def older_job_retention(older):
    """What DescribeMailboxExportJob's answer for an older job says about how long it answers: at least the job's
    age when it answered, the error when it did not, ``not probed`` without an older job."""
    if not older:
        return not_probed("give describe_job_id, a job older than the job list's 7 days")
    if older.get("answered"):
        return f"at least {older.get('age_days')} days (job {older.get('job_id')} was described)"
    return f"job {older.get('job_id')} was not described ({older.get('error_code')}): forgotten, or never a job here"


def classify(evidence):
    """``{switch: dialect}`` for every switch of :data:`SWITCHES`, from the evidence of :func:`gather_evidence`."""
    job = evidence.get("job_answer") or {}
    archive = evidence.get("archive") or {}
    log = evidence.get("export_log") or {}
    job_id = evidence.get("job_id")
    rules = {
        "client_token_reuse": classify_token_reuse(job_id, evidence.get("token_reuse")),
        "token_mismatch_error": classify_token_mismatch(evidence.get("token_mismatch")),
        "mailbox_24h_error": classify_mailbox_24h_error(evidence.get("second_start")),
        "mailbox_24h_counts": older_job_counts(evidence.get("older_job"), (job.get("StartTime") or {}).get("value")),
        "describe_retention_days": older_job_retention(evidence.get("older_job")),
    }
    if evidence.get("state") != JOB_COMPLETED:
        unknown = f"unknown — the job is {evidence.get('state')}"
        outputs = dict.fromkeys(("s3_path", "archive_layout", "export_log", "total_messages"), unknown)
        return dict(outputs, **rules)
    outputs = {
        "s3_path": classify_s3_path(evidence.get("s3_path"), evidence.get("s3_bucket"), archive.get("key")),
        "archive_layout": classify_archive_layout(
            archive.get("key"),
            evidence.get("s3_prefix"),
            (job.get("EntityId") or {}).get("value"),
            job_id,
            evidence.get("email"),
        ),
        "export_log": classify_export_log(log.get("key"), log.get("document"), archive.get("key")),
        "total_messages": classify_total_messages(log.get("total_messages"), archive.get("counts")),
    }
    return dict(outputs, **rules)


# Gathering (S3 and WorkMail calls)


def list_written(s3, bucket, prefix, started):
    """``(objects, truncated)``: the objects under ``prefix`` (every level) written since ``started``, at most
    :data:`MAX_OBJECTS`; ``truncated`` when more pages were left unread."""
    excluded = evidence_key(prefix, "").rpartition("/")[0] + "/"
    objects, token = [], None
    for dummy in range(MAX_LIST_PAGES):
        page, token = s3.list_objects(EXPORT_FOLDER, bucket, prefix, continuation_token=token)
        objects.extend(page)
        if not token:
            break
    return written_since(objects, started, excluded), bool(token)


def head_objects(s3, bucket, objects):
    """HeadObject of each listed object: its key, size, LastModified and encryption (or the error S3 gave)."""
    found = []
    for item in objects:
        record = {"key": item.get("Key"), "size": item.get("Size"), "last_modified": plain(item.get("LastModified"))}
        try:
            answer = s3.head(ARCHIVE, bucket, item.get("Key"))
        except S3Error as error:
            record["head_error"] = error.code or str(error)
            found.append(record)
            continue
        record.update(
            size=answer.get("ContentLength", record["size"]),
            last_modified=plain(answer.get("LastModified")) or record["last_modified"],
            server_side_encryption=answer.get("ServerSideEncryption"),
            sse_kms_key_id=answer.get("SSEKMSKeyId"),
        )
        found.append(record)
    return found


def find_archive(s3, bucket, job, objects, email):
    """``{"key", "found_by", "counts"}`` of the job's archive: the object S3Path names, else what
    :func:`export_verify.locate_archive` finds, else the only ``.zip`` written since the start."""
    keys = [item["key"] for item in objects]
    form, rest = _strip_bucket(job.get("S3Path") or "", bucket)
    if rest in keys and rest.lower().endswith(".zip"):
        key, found_by = rest, f"s3_path ({form})"
    else:
        hints = {"job_id": job.get("JobId"), "entity_id": job.get("EntityId"), "email": email}
        hints["started"] = job.get("StartTime")
        key, found_by = locate_archive(s3, job.get("S3Path"), bucket, job.get("S3Prefix"), hints)
        zips = [name for name in keys if name.lower().endswith(".zip")]
        if key is None and len(zips) == 1:
            key, found_by = zips[0], "the only .zip written since the start"
    if key is None:
        return {"key": None, "found_by": None, "looked_in": found_by, "counts": None}
    return {"key": key, "found_by": found_by, "counts": count_entries(s3, bucket, key)}


def count_entries(s3, bucket, key):
    """``{"entries", "messages"}`` of the archive, from its central directory (ranged GETs); an error as text."""
    reader = S3RangeReader(s3, bucket, key)
    try:
        return archive_counts(reader)
    except Exception as error:  # pylint: disable=broad-except
        return {"error": f"{type(error).__name__}: {error}"}
    finally:
        reader.close()


def _log_elsewhere(s3, bucket, objects, job_id, archive_key):
    """The first object written since the start, not the archive, whose key names the job and holds a JSON
    object: ``(key, document)`` or ``(None, None)``."""
    for item in objects:
        key = item["key"] or ""
        if key == archive_key or not job_id or job_id.lower() not in key.lower() or key.lower().endswith(".zip"):
            continue
        try:
            document = parse_log(s3.read(EXPORT_LOG, bucket, key, limit=MAX_LOG_BYTES)[0])
        except S3Error:
            continue
        if document is not None:
            return key, document
    return None, None


def find_log(s3, bucket, archive_key, objects, job_id):
    """The export log: next to the archive (:func:`export_verify.find_export_log`), else any object written since
    the start that names the job. ``{"key", "document", "fields", "sha384", "total_messages"}``."""
    key = document = None
    if archive_key:
        found = find_export_log(s3, bucket, archive_key, job_id)
        key, document = found["key"], found["document"]
    if document is None:
        key, document = _log_elsewhere(s3, bucket, objects, job_id, archive_key)
    if document is None:
        return {"key": None, "document": None}
    fields = log_fields(document)
    return {
        "key": key,
        "document": document,
        "fields": typed_fields(document),
        "sha384": fields.get("sha384hash"),
        "total_messages": fields.get("totalmessages"),
    }


def start_again(client, request, description):
    """StartMailboxExportJob with the request's ClientToken and parameters, and ``description`` (the full text
    sent): ``{"job_id"}`` or ``{"error_code", "message"}``."""
    try:
        job_id = client.start_export_job(
            request.organization_id,
            request.entity_id,
            request.role_arn,
            request.kms_key_arn,
            request.s3_bucket,
            request.s3_prefix,
            request.client_token,
            description=description,
        )
    except LimitError as error:
        return {"error_code": "LimitExceededException", "message": error.details.get("aws_message")}
    except Exception as error:  # pylint: disable=broad-except
        code, dummy, message = error_code(error)
        if not code:
            raise
        return {"error_code": code, "message": message}
    return {"job_id": job_id}


def reuse_token(client, request, mismatch=True):
    """``(same parameters answer, other Description answer)`` of :func:`start_again`; the second is None
    without ``mismatch``."""
    same = start_again(client, request, request.full_description)
    if not mismatch:
        return same, None
    other = build_description("mailops probe, the same token with another description", request.client_token)
    return same, start_again(client, request, other)


def service_now(client, raw_job):
    """The service's clock: the Date of WorkMail's last answer, else the job's end, else this host's clock."""
    moment = client.service_time() if hasattr(client, "service_time") else None
    return to_datetime(moment or raw_job.get("EndTime")) or datetime.now(timezone.utc)


def _second_start_skipped(raw_job, now):
    """Why the once-per-24-hours rule is not asked about this job, or None when it is."""
    state = raw_job.get("State")
    if state != JOB_COMPLETED:
        return f"the job is {state}; only a COMPLETED job is followed by a second start"
    started = to_datetime(raw_job.get("StartTime"))
    if started is not None and now - started >= RULE_WINDOW:
        return "the job started more than 24 hours ago, so a second start would be a second export"
    return None


def cancel_at_once(client, organization_id, job_id):
    """Cancel the job a second start created: ``{"cancelled": its state afterwards}`` or ``{"cancel_error"}``."""
    try:
        dummy, job, dummy_diff = ensure_cancelled(client, organization_id, job_id=job_id)
    except Exception as error:  # pylint: disable=broad-except
        return {"cancelled": None, "cancel_error": f"{type(error).__name__}: {error}"}
    return {"cancelled": (job or {}).get("state"), "cancel_error": None}


def second_start(client, request, raw_job, now):
    """Once the job has COMPLETED (less than 24 hours ago), start the same mailbox again with another ClientToken
    (:func:`second_start_token`): ``{"client_token", "error_code", "message"}`` when AWS refuses it, ``{"client_token",
    "job_id", "cancelled", "cancel_error"}`` when it accepts it (the job is cancelled at once), ``{"not_probed"}``
    with the reason when it was not tried."""
    reason = _second_start_skipped(raw_job, now)
    if reason:
        return {"not_probed": reason}
    token = second_start_token(request.client_token)
    again = ExportRequest(
        request.organization_id,
        request.entity_id,
        request.role_arn,
        request.kms_key_arn,
        request.s3_bucket,
        request.s3_prefix,
        client_token=token,
        description=SECOND_START_DESCRIPTION,
    )
    answer = dict(start_again(client, again, again.full_description), client_token=token)
    if answer.get("job_id"):
        answer.update(cancel_at_once(client, request.organization_id, answer["job_id"]))
    return answer


def describe_older_job(client, organization_id, job_id, entity_id, now):
    """DescribeMailboxExportJob of an older job the user named: ``{"job_id", "answered", ...}`` with its state,
    mailbox, start and age (from the service's clock) when AWS answered, the error code and message when not."""
    found = {"job_id": job_id, "answered": False}
    try:
        raw = client.describe_export_job(organization_id, job_id)
    except JobNotFoundError as error:
        return dict(found, error_code="EntityNotFoundException", message=error.aws_message)
    except Exception as error:  # pylint: disable=broad-except
        code, dummy, message = error_code(error)
        if not code:
            raise
        return dict(found, error_code=code, message=message)
    started = to_datetime(raw.get("StartTime"))
    age = round((now - started).total_seconds(), 3) if started is not None else None
    found.update(answered=True, state=raw.get("State"), entity_id=raw.get("EntityId"), start_time=iso8601(started))
    found.update(same_mailbox=(raw.get("EntityId") or "").lower() == entity_id.lower(), age_seconds=age)
    found.update(age_days=round(age / 86400, 2) if age is not None else None, job_answer=typed_fields(raw))
    return found


def gather_evidence(client, s3, request, raw_job, email=None, options=None):
    """The evidence of the export job ``raw_job`` (DescribeMailboxExportJob's answer) of ``request`` (an
    :class:`export_jobs.ExportRequest`), its ``dialects`` included. ``options``: ``token_mismatch`` and
    ``second_start`` (both on by default) and ``describe_job_id``. S3 errors other than those recorded propagate."""
    options = options or {}
    bucket, prefix = request.s3_bucket, request.s3_prefix
    listed, truncated = list_written(s3, bucket, prefix, raw_job.get("StartTime"))
    objects = head_objects(s3, bucket, listed)
    archive = find_archive(s3, bucket, raw_job, objects, email)
    same, other = reuse_token(client, request, options.get("token_mismatch", True))
    now = service_now(client, raw_job)
    evidence = {
        "job_id": raw_job.get("JobId"),
        "client_token": request.client_token,
        "state": raw_job.get("State"),
        "email": email,
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "s3_path": raw_job.get("S3Path"),
        # DescribeMailboxExportJob does not return JobId (the client adds it).
        "job_answer": typed_fields({name: value for name, value in raw_job.items() if name != "JobId"}),
        "objects": objects,
        "objects_truncated": truncated,
        "archive": archive,
        "export_log": find_log(s3, bucket, archive["key"], objects, raw_job.get("JobId")),
        "duration_seconds": duration_seconds(raw_job.get("StartTime"), raw_job.get("EndTime")),
        "token_reuse": same,
        "token_mismatch": other,
        "second_start": None,
        "older_job": None,
    }
    if options.get("second_start", True):
        evidence["second_start"] = second_start(client, request, raw_job, now)
    if options.get("describe_job_id"):
        evidence["older_job"] = describe_older_job(
            client, request.organization_id, options["describe_job_id"], request.entity_id, now
        )
    evidence["dialects"] = classify(evidence)
    return plain(evidence)


# The module's run


def validate_probe_params(params, region):
    """Validate the parameters of workmail_export_probe before any AWS call (:class:`ParameterError`)."""
    validate_region(region)
    validate_organization_id(params.get("organization_id"))
    validate_entity(params.get("entity"))
    parse_role_arn(params.get("role_arn"))
    parse_kms_key_arn(params.get("kms_key_arn"), region=region)
    validate_bucket_name(params.get("s3_bucket"))
    validate_prefix(params.get("s3_prefix"))
    if params.get("client_token") is not None:
        validate_client_token(params["client_token"])
    validate_wait_timeout(params.get("wait_timeout"))
    validate_integer(params.get("poll_interval"), "poll_interval", minimum=PROBE_MIN_POLL_INTERVAL)
    if params.get("describe_job_id") is not None:
        validate_job_id(params["describe_job_id"], "describe_job_id")
    path = params.get("evidence_path")
    if path is not None:
        folder = os.path.dirname(os.path.abspath(os.path.expanduser(path)))
        if not path or os.path.isdir(path) or not os.path.isdir(folder):
            raise ParameterError("evidence_path", f"must be a file path in an existing directory, got {path!r}")
    return params


def probe_request(client, params):
    """``(ExportRequest, entity)``: the entity resolved, the probe's token (given, or :func:`probe_client_token`)."""
    organization_id = params["organization_id"]
    entity = resolve_entity(client, organization_id, params["entity"])
    token = params.get("client_token") or probe_client_token(organization_id, entity["id"])
    request = ExportRequest(
        organization_id,
        entity["id"],
        params["role_arn"],
        params["kms_key_arn"],
        params["s3_bucket"],
        params["s3_prefix"],
        client_token=token,
        description=PROBE_DESCRIPTION,
    )
    return request, entity


def wait_until_done(client, organization_id, job_id, timeout, interval, sleep=time.sleep, monotonic=time.monotonic):
    """DescribeMailboxExportJob every ``interval`` seconds until the job has left RUNNING or ``timeout`` seconds
    have passed; the last answer (a FAILED job is evidence too)."""
    deadline = monotonic() + timeout
    while True:
        raw = client.describe_export_job(organization_id, job_id, not_found_retries=True)
        remaining = deadline - monotonic()
        if raw.get("State") != JOB_RUNNING or remaining <= 0:
            return raw
        sleep(min(interval, remaining))


def write_evidence(s3, request, evidence, path=None):
    """Write the evidence as JSON to ``<prefix>/mailops-probe/<job id>.json`` (SSE-KMS with the export key) and to
    ``path`` when given; the S3 URI."""
    body = json.dumps(evidence, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
    key = evidence_key(request.s3_prefix, evidence["job_id"])
    s3.put(PROBE_EVIDENCE, request.s3_bucket, key, body, "application/json", kms_key_arn=request.kms_key_arn)
    if path:
        with open(os.path.expanduser(path), "wb") as handle:
            handle.write(body)
    return f"s3://{request.s3_bucket}/{key}"


def _second_start_warning(evidence):
    """The loud warning of a second start AWS accepted within 24 hours, or None."""
    second = evidence.get("second_start") or {}
    if not second.get("job_id"):
        return None
    text = (
        f"AWS ACCEPTED A SECOND EXPORT of the mailbox within 24 hours of job {evidence['job_id']}: job "
        f"{second['job_id']}. "
    )
    if second.get("cancelled") == JOB_CANCELLED:
        return text + "It was cancelled at once. Please report the evidence."
    return text + (
        f"It could not be cancelled ({second.get('cancel_error') or 'it is ' + str(second.get('cancelled'))}); "
        "cancel it with mailops.workmail.workmail_mailbox_export state=absent if it is still RUNNING, and please "
        "report the evidence."
    )


def _probe_warnings(evidence, warn):
    reuse = evidence.get("token_reuse") or {}
    if reuse.get("job_id") and reuse["job_id"] != evidence["job_id"]:
        warn(f"AWS started job {reuse['job_id']} for a ClientToken it had already answered; please report")
    accepted = _second_start_warning(evidence)
    if accepted:
        warn(accepted)
    if evidence.get("state") == JOB_RUNNING:
        warn(f"job {evidence['job_id']} is still RUNNING; run the probe again (same token) once it has completed")
    if NONE_MATCHED in evidence["dialects"].values():
        warn("the service answered in a way the collection does not know; please report the evidence")


def _check_mode_message(request, entity, job, changed, params):
    """What the probe would do (check mode starts nothing and writes nothing)."""
    where = evidence_key(request.s3_prefix, "<job id>")
    steps = ["start an export" if changed else f"probe the existing job {job['job_id']}"]
    steps[0] += f" of {entity['id']}"
    if changed and params.get("wait", True):
        steps.append(f"wait for it (at most {params.get('wait_timeout')} s)")
    steps.append(
        "start it again with its client token"
        + (" and another description" if params.get("token_mismatch", True) else "")
    )
    if params.get("second_start", True):
        steps.append(
            "once it has COMPLETED, start the mailbox again with another client token to learn how the "
            "once-per-24-hours rule answers (a job AWS accepts is cancelled at once)"
        )
    if params.get("describe_job_id"):
        steps.append(f"describe the older job {params['describe_job_id']}")
    steps.append(f"write its evidence to s3://{request.s3_bucket}/{where}")
    return "would " + ", ".join(steps)


def _done_message(job_id, evidence, params):
    if evidence.get("state") == JOB_RUNNING:
        waited = f" after waiting {params.get('wait_timeout')} s" if params.get("wait", True) else ""
        return (
            f"job {job_id} is still RUNNING{waited}: its outputs are not known yet and no second start was tried; "
            f"run the probe again (same client token) once job {job_id} has completed; evidence so far in "
        )
    return f"probed job {job_id}; evidence in "


def run_probe(client, s3, params, check_mode=False, warn=None, sleep=time.sleep, monotonic=time.monotonic):
    """Start (or find, by its client token) the probe's export of one mailbox, wait for it, gather and write the
    evidence. ``{"changed", "job_id", "mailbox_export_job", "evidence", "dialects", "evidence_s3_uri",
    "evidence_path", "msg"}``; in check mode nothing is started and nothing is written, and ``msg`` says what would
    be done."""
    warn = warn or (lambda message: None)
    request, entity = probe_request(client, params)
    changed, job, dummy = ensure_started(client, request, check_mode, warn)
    result = {"changed": changed, "job_id": job["job_id"], "mailbox_export_job": job, "evidence": None}
    result.update(dialects=None, evidence_s3_uri=None, evidence_path=None)
    if check_mode:
        result["msg"] = _check_mode_message(request, entity, job, changed, params)
        return result
    if params.get("wait"):
        raw = wait_until_done(
            client,
            request.organization_id,
            job["job_id"],
            params["wait_timeout"],
            params["poll_interval"],
            sleep,
            monotonic,
        )
    else:
        raw = client.describe_export_job(request.organization_id, job["job_id"], not_found_retries=True)
    options = {name: params.get(name, True) for name in ("token_mismatch", "second_start")}
    options["describe_job_id"] = params.get("describe_job_id")
    evidence = gather_evidence(client, s3, request, raw, entity.get("email"), options)
    _probe_warnings(evidence, warn)
    result.update(mailbox_export_job=normalize_job(raw, request.client_token), evidence=evidence)
    result.update(dialects=evidence["dialects"], evidence_path=params.get("evidence_path"))
    result["evidence_s3_uri"] = write_evidence(s3, request, evidence, params.get("evidence_path"))
    result["msg"] = _done_message(job["job_id"], evidence, params) + result["evidence_s3_uri"]
    return result
