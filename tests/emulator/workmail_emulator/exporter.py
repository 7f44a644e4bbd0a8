"""The export's output: a .zip of generated MIME messages and calendar items, and its export log.

Content is deterministic per mailbox (seeded by the entity id) and sized roughly in proportion to the mailbox
size, with a cap that keeps every archive small (about 200 KB) so tests stay fast. Both objects are written
into moto's S3 with SSE-KMS under the job's key.
"""

import hashlib
import io
import json
import random
import zipfile
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from moto.s3.models import s3_backends

MAX_MESSAGES = 150
MESSAGES_PER_MB = 1.0
USER_FOLDERS = ("Inbox", "Sent Items", "Archive", "Deleted Items", "Junk E-mail")
RESOURCE_FOLDERS = ("Inbox",)
CALENDAR_FOLDER = "Calendar"
_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
_WORDS = (
    "migration quarterly budget invoice meeting roadmap review contract renewal mailbox export archive "
    "schedule agenda summary proposal release incident customer supplier travel expense approval draft "
    "follow-up notes minutes training onboarding handover deadline forecast report capacity storage"
).split()
_SUBJECTS = (
    "Re: {w1} {w2}",
    "{W1} for next week",
    "Fwd: {w1} {w2} ({n})",
    "Action needed: {w1}",
    "{W1} / {w2} update",
    "Minutes: {w1} {w2}",
)
_PEOPLE = ("dana", "erik", "fatima", "goran", "hana", "ivan", "julia", "kofi", "lena", "mateo")


def _under_prefix(prefix, relative):
    base = prefix.rstrip("/")
    return f"{base}/{relative}" if base else relative


def compact_time(epoch):
    """Epoch seconds as ``yyyymmddThhmmssZ`` (UTC)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def archive_key(prefix, layout, entity, job_id, start_time):
    """The archive's key under the prefix, by the ``archive_layout`` dialect: ``entity_job``
    (``<prefix>/<entityId>/<jobId>.zip``), ``job`` (``<prefix>/<jobId>.zip``) or ``email_time``
    (``<prefix>/<email>/<yyyymmddThhmmssZ>.zip``, the entity id for a mailbox without an email address)."""
    if layout == "job":
        return _under_prefix(prefix, f"{job_id}.zip")
    if layout == "email_time":
        return _under_prefix(prefix, f"{entity.email or entity.id}/{compact_time(start_time)}.zip")
    return _under_prefix(prefix, f"{entity.id}/{job_id}.zip")


def log_key(prefix, zip_key, job_id, export_log):
    """The export log's key by the ``export_log`` dialect: next to the archive as ``<stem>.log.json`` (``json``,
    ``guide``), ``<prefix>/logs/<jobId>.json`` (``elsewhere``), or None (``none``: no log)."""
    if export_log == "none":
        return None
    if export_log == "elsewhere":
        return _under_prefix(prefix, f"logs/{job_id}.json")
    return zip_key[: -len(".zip")] + ".log.json"


def s3_path(form, bucket, zip_key):
    """S3Path by the ``s3_path`` dialect: ``bucket_key`` (``<bucket>/<key>``), ``key``, ``s3_uri``
    (``s3://<bucket>/<key>``) or ``folder`` (``<bucket>/<the key's folder>/``)."""
    if form == "key":
        return zip_key
    if form == "s3_uri":
        return f"s3://{bucket}/{zip_key}"
    if form == "folder":
        folder = zip_key.rsplit("/", 1)[0] + "/" if "/" in zip_key else ""
        return f"{bucket}/{folder}"
    return f"{bucket}/{zip_key}"


def _rng(entity_id):
    seed = int.from_bytes(hashlib.sha256(entity_id.encode("utf-8")).digest()[:8], "big")
    return random.Random(seed)


def _sentence(rng, words):
    text = " ".join(rng.choice(_WORDS) for _word in range(words))
    return text[:1].upper() + text[1:] + "."


def _body(rng):
    paragraphs = []
    for _paragraph in range(rng.randint(1, 4)):
        sentences = [_sentence(rng, rng.randint(6, 16)) for _sentence_index in range(rng.randint(2, 5))]
        paragraphs.append(" ".join(sentences))
    return "Hello,\r\n\r\n" + "\r\n\r\n".join(paragraphs) + "\r\n\r\nRegards\r\n"


def _message(rng, index, owner_email, owner_name, domain, folder, when):
    other = f"{rng.choice(_PEOPLE)}@{rng.choice((domain, 'partner.example.net', 'vendor.example.org'))}"
    outgoing = folder == "Sent Items"
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{owner_name} <{owner_email}>" if outgoing else other
    msg["To"] = other if outgoing else f"{owner_name} <{owner_email}>"
    words = {"w1": rng.choice(_WORDS), "w2": rng.choice(_WORDS), "n": rng.randint(1, 99)}
    words["W1"] = words["w1"].capitalize()
    msg["Subject"] = rng.choice(_SUBJECTS).format(**words)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{index:05d}.{rng.getrandbits(48):012x}@{domain}>"
    msg.set_content(_body(rng))
    if rng.random() < 0.15:
        blob = bytes(rng.getrandbits(8) for _byte in range(rng.randint(200, 1200)))
        msg.add_attachment(blob, maintype="application", subtype="octet-stream", filename=f"attachment-{index}.bin")
        # The email package would pick a random MIME boundary; derive it from the mailbox's seed instead.
        msg.set_boundary(f"===============_{rng.getrandbits(64):016x}==")
    return msg.as_bytes()


def _event(rng, index, owner_email, domain, when):
    start = when.replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(minutes=rng.choice((30, 60, 90)))
    stamp = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//mailops.workmail emulator//EN",
        "BEGIN:VEVENT",
        f"UID:{index:05d}-{rng.getrandbits(48):012x}@{domain}",
        f"DTSTAMP:{start.strftime(stamp)}",
        f"DTSTART:{start.strftime(stamp)}",
        f"DTEND:{end.strftime(stamp)}",
        f"SUMMARY:{rng.choice(_WORDS).capitalize()} {rng.choice(_WORDS)}",
        f"ORGANIZER:mailto:{rng.choice(_PEOPLE)}@{domain}",
        f"ATTENDEE:mailto:{owner_email}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def build_archive(entity_id, entity_type, size_mb, email, display_name):
    """Return (zip bytes, statistics) for a mailbox; the same mailbox always gives the same bytes."""
    rng = _rng(entity_id)
    domain = email.split("@", 1)[1] if email and "@" in email else "example.com"
    owner_email = email or f"{entity_id}@{domain}"
    items = 0 if size_mb <= 0 else max(1, min(MAX_MESSAGES, int(round(size_mb * MESSAGES_PER_MB))))
    if entity_type == "RESOURCE":
        calendar_items = (items * 3) // 4
        folders = RESOURCE_FOLDERS
        non_exportable = 0
    else:
        calendar_items = items // 6
        folders = USER_FOLDERS
        non_exportable = rng.randint(0, 12) if items else 0
    messages = items - calendar_items
    # A fixed timestamp inside the archive keeps the bytes (and so sha384Hash) stable.
    fixed = (2026, 1, 1, 0, 0, 0)
    buffer = io.BytesIO()
    total_bytes = 0
    used_folders = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index in range(messages):
            folder = folders[0] if index % 3 == 0 else rng.choice(folders)
            when = _EPOCH + timedelta(minutes=rng.randint(0, 60 * 24 * 700))
            data = _message(rng, index, owner_email, display_name or entity_id, domain, folder, when)
            info = zipfile.ZipInfo(f"{folder}/{index + 1:05d}.eml", date_time=fixed)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
            total_bytes += len(data)
            used_folders.add(folder)
        for index in range(calendar_items):
            when = _EPOCH + timedelta(minutes=rng.randint(0, 60 * 24 * 700))
            data = _event(rng, index, owner_email, domain, when)
            info = zipfile.ZipInfo(f"{CALENDAR_FOLDER}/{index + 1:05d}.ics", date_time=fixed)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
            total_bytes += len(data)
            used_folders.add(CALENDAR_FOLDER)
    body = buffer.getvalue()
    stats = {
        "totalMessages": messages + calendar_items,
        "totalBytes": total_bytes,
        "totalFolders": len(used_folders),
        "totalNonExportableItems": non_exportable,
        "sha384Hash": hashlib.sha384(body).hexdigest(),
    }
    return body, stats


def iso8601(epoch):
    """Epoch seconds as an ISO 8601 UTC timestamp with milliseconds."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def message_entries(body):
    """How many ``.eml`` entries (messages, not calendar items) an archive holds."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return sum(1 for name in archive.namelist() if name.endswith(".eml"))


def _epoch_millis(epoch):
    return str(int(round(epoch * 1000)))


def json_log(job, entity, stats):
    """The ``json`` export log: numbers as JSON numbers, ISO 8601 times, with jobId, entityId and s3Path."""
    return {
        "jobId": job.id,
        "entityId": entity.id,
        "s3Path": job.s3_path,
        **stats,
        "startTime": iso8601(job.start_time),
        "endTime": iso8601(job.end_time),
    }


def guide_log(job, stats):
    """The ``guide`` export log, in the Administrator Guide example's form: the seven documented fields, every
    value a JSON string, times as epoch milliseconds."""
    fields = ("totalMessages", "totalBytes", "totalFolders", "totalNonExportableItems", "sha384Hash")
    log = {name: str(stats[name]) for name in fields}
    log.update({"startTime": _epoch_millis(job.start_time), "endTime": _epoch_millis(job.end_time)})
    return log


def _log_bytes(export_log, log):
    if export_log == "guide":
        return (json.dumps(log, indent=2, separators=(",", " : ")) + "\n").encode("utf-8")
    return (json.dumps(log, indent=2, sort_keys=True) + "\n").encode("utf-8")


def export_log_of(job, entity, body, stats):
    """The log a finished job writes, in the form of the job's ``export_log`` dialect (None for ``none``)."""
    if job.dialects["total_messages"] == "messages_only":
        stats = dict(stats, totalMessages=message_entries(body))
    export_log = job.dialects["export_log"]
    if export_log == "none":
        return None
    return guide_log(job, stats) if export_log == "guide" else json_log(job, entity, stats)


def write_export(account_id, job, entity, key_arn, bucket_key_enabled):
    """Write the archive and the export log of a finished job into moto S3; return the log dict (None if the
    job's dialect writes no log)."""
    body, stats = build_archive(entity.id, entity.type, entity.size_mb, entity.email, entity.display_name)
    log = export_log_of(job, entity, body, stats)
    objects = [(job.zip_key, body, "application/zip")]
    if log is not None:
        objects.append((job.log_key, _log_bytes(job.dialects["export_log"], log), "application/json"))
    put_objects(account_id, job.bucket, objects, key_arn, bucket_key_enabled)
    return log


def put_objects(account_id, bucket, objects, key_arn=None, bucket_key_enabled=False):
    """Store ``objects`` (``(key, bytes, content type)`` tuples) in a moto bucket as an AWS service writes them: with
    SSE-KMS and ``key_arn`` when a key is given, else with the bucket's default encryption."""
    backend = s3_backends[account_id]["aws"]
    for key, data, content_type in objects:
        stored = backend.put_object(
            bucket,
            key,
            data,
            encryption="aws:kms" if key_arn else None,
            kms_key_id=key_arn,
            bucket_key_enabled=True if key_arn and bucket_key_enabled else None,
        )
        stored.set_metadata({"Content-Type": content_type})
