# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deep verification of an exported mailbox: the archive's SHA-384 and entry count against its export log.

A mailbox export job writes a ``.zip`` archive and an export log (JSON with ``sha384Hash`` and ``totalMessages``,
among others). :func:`deep_verify` downloads the archive once, streamed through SHA-384 in chunks (never the whole
object in memory, no temporary file), counts the archive's file entries by reading only the end of the zip (its
central directory) with a few ranged GETs (:class:`S3RangeReader`), finds the export log (:func:`find_export_log`)
and compares.

Where the export log is stored is not documented by AWS. It is looked for next to the archive: first under the
names derived from the archive's key (:func:`log_candidates`, e.g. ``<stem>.log.json`` for ``<stem>.zip``), then
with one ListObjectsV2 of the archive's folder, among the objects (not ``.zip``) whose name contains the job id.

Pure functions over a boto3 S3 client (``get_object``, ``head_object``, ``list_objects_v2``); stdlib and botocore
only. A refusal of S3 (403) or an object that is missing or changed while it is read is a problem in the result,
not an exception; other S3 errors propagate.
"""

import hashlib
import io
import json
import struct
import zipfile

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

CHUNK_SIZE = 8 * 1024 * 1024
# How much the zip reader fetches at least per ranged GET: the end of the archive (its end record and, for most
# mailboxes, the whole central directory) comes in one request.
RANGE_BLOCK_SIZE = 1024 * 1024
RANGE_CACHE_SEGMENTS = 4
# An export log is a small JSON document; anything larger is not one.
MAX_LOG_SIZE = 1024 * 1024
# How many listed objects whose name contains the job id are read, at most.
MAX_LISTED_LOGS = 5
# How often an interrupted download of the archive is resumed (a ranged GET from where it stopped).
DOWNLOAD_RESUMES = 2

LOG_SHA384_FIELD = "sha384hash"
LOG_MESSAGES_FIELD = "totalmessages"

_DENIED_CODES = ("AccessDenied", "403", "KMS.AccessDeniedException", "AccessDeniedException")
_MISSING_CODES = ("NoSuchKey", "404", "NotFound")
_CHANGED_CODES = ("PreconditionFailed", "412")
# How the problem text of a check S3 refused (AccessDenied) begins; such checks are repeated by later passes.
REFUSED = "S3 refused"
GET_PERMISSIONS = "s3:GetObject on the object and kms:Decrypt on its KMS key"
LIST_PERMISSION = "s3:ListBucket on the bucket"


def _stream_errors():
    names = ("ResponseStreamingError", "IncompleteReadError", "ReadTimeoutError", "ConnectionClosedError")
    found = tuple(getattr(botocore.exceptions, name) for name in names if hasattr(botocore.exceptions, name))
    return found + (ConnectionError,)


def _error(error):
    """(code, HTTP status, message) of a botocore ClientError."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None, None, None
    details = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return details.get("Code"), status, details.get("Message")


def _is_denied(error):
    code, status, dummy = _error(error)
    return code in _DENIED_CODES or status == 403


def _is_missing(error):
    code, status, dummy = _error(error)
    return code in _MISSING_CODES or (status == 404 and code != "NoSuchBucket")


def _is_changed(error):
    code, status, dummy = _error(error)
    return code in _CHANGED_CODES or status == 412


def _describe(error):
    code, dummy, message = _error(error)
    return f"{code}: {message}" if message else str(code)


class VerificationProblem(Exception):
    """Why an object cannot be verified (S3 refused it, it vanished or changed); ``str()`` is the problem text."""


def _object_problem(error, operation, bucket, key, permissions):
    """A VerificationProblem for a ClientError that is a refusal, a missing or a changed object; else None."""
    uri = f"s3://{bucket}/{key}"
    if _is_denied(error):
        return VerificationProblem(
            f"{REFUSED} {operation} of {uri} ({_describe(error)}); deep verification needs {permissions}"
        )
    if _is_missing(error):
        return VerificationProblem(f"{uri} disappeared while it was verified ({operation}: {_describe(error)})")
    if _is_changed(error):
        return VerificationProblem(f"{uri} was replaced while it was verified (its ETag changed)")
    return None


# The archive


def sha384_of_object(s3_client, bucket, key, size=None, etag=None, chunk_size=CHUNK_SIZE, progress=None):
    """``(hex SHA-384, bytes read)`` of an S3 object, streamed in ``chunk_size`` pieces.

    With ``etag`` every GET asks ``If-Match`` so the bytes hashed are those of that version. A download interrupted
    by the network is resumed with a ranged GET from where it stopped (at most :data:`DOWNLOAD_RESUMES` times; the
    object's ``size`` must be given for that). ``progress()`` is called after every chunk. ClientErrors propagate.
    """
    digest = hashlib.sha384()
    position = 0
    resumes = 0
    errors = _stream_errors()
    while True:
        request = {"Bucket": bucket, "Key": key}
        if etag:
            request["IfMatch"] = etag
        if position:
            request["Range"] = f"bytes={position}-"
        body = s3_client.get_object(**request)["Body"]
        chunks = body.iter_chunks(chunk_size)
        interrupted = False
        try:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except errors:
                    if size is None or resumes >= DOWNLOAD_RESUMES or position >= size:
                        raise
                    interrupted = True
                    break
                digest.update(chunk)
                position += len(chunk)
                # Outside the handler above: an error of progress() (a lock refresh) is not a broken download.
                if progress is not None:
                    progress()
        finally:
            body.close()
        if interrupted:
            resumes += 1
            continue
        return digest.hexdigest(), position


class RangeReadError(WorkMailError):
    """A ranged GET failed on the way (network, a short answer): the archive could not be read this time, which says
    nothing about the archive, so nothing is recorded and a later pass checks it again. Deliberately not an OSError
    (zipfile reports those as "not a zip file")."""


class S3RangeReader(io.RawIOBase):
    """A read-only, seekable file object over one S3 object, read with ranged GETs (``Range: bytes=a-b``).

    Meant for :class:`zipfile.ZipFile`, which reads the end record and the central directory only when it opens an
    archive: a read that is not in the cache fetches at least ``block_size`` bytes (towards the end of the object
    when the read is near it), and the last ``max_segments`` fetched pieces are kept. ``requests`` counts the GETs.
    With ``etag`` every GET asks ``If-Match``. ClientErrors of the GETs propagate from ``read``.
    """

    def __init__(
        self,
        s3_client,
        bucket,
        key,
        size=None,
        etag=None,
        block_size=RANGE_BLOCK_SIZE,
        max_segments=RANGE_CACHE_SEGMENTS,
    ):
        super().__init__()
        self.s3 = s3_client
        self.bucket = bucket
        self.key = key
        if size is None:
            answer = s3_client.head_object(Bucket=bucket, Key=key)
            size = answer["ContentLength"]
            etag = etag or answer.get("ETag")
        self.size = size
        self.etag = etag
        self.block_size = max(1, block_size)
        self.max_segments = max(1, max_segments)
        self.requests = 0
        self.fetched_bytes = 0
        self._position = 0
        self._segments = []  # [(start, bytes)], the most recently used last
        self._open = True

    def close(self):
        self._open = False
        self._segments = []
        super().close()

    def readable(self):
        return True

    def seekable(self):
        return True

    def writable(self):
        return False

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if position < 0:
            raise OSError(f"cannot seek to {position}, before the start of s3://{self.bucket}/{self.key}")
        self._position = position
        return position

    def _cached(self, start, stop):
        for index, (segment_start, data) in enumerate(self._segments):
            if segment_start <= start and stop <= segment_start + len(data):
                self._segments.append(self._segments.pop(index))
                return data[start - segment_start : stop - segment_start]
        return None

    def _fetch(self, start, stop):
        request = {"Bucket": self.bucket, "Key": self.key, "Range": f"bytes={start}-{stop - 1}"}
        if self.etag:
            request["IfMatch"] = self.etag
        self.requests += 1
        try:
            body = self.s3.get_object(**request)["Body"]
            try:
                data = body.read()
            finally:
                body.close()
        except (botocore.exceptions.BotoCoreError,) + _stream_errors() as error:
            # Not an OSError (which zipfile would report as "not a zip file"): the read failed, not the archive.
            raise RangeReadError(f"ranged GET of s3://{self.bucket}/{self.key} failed: {error}") from error
        if len(data) != stop - start:
            raise RangeReadError(
                f"ranged GET of s3://{self.bucket}/{self.key} bytes {start}-{stop - 1} returned {len(data)} bytes"
            )
        self.fetched_bytes += len(data)
        self._segments.append((start, data))
        del self._segments[: -self.max_segments]
        return data

    def read(self, size=-1):
        if not self._open:
            raise ValueError("read of a closed S3RangeReader")
        start = min(self._position, self.size)
        stop = self.size if size is None or size < 0 else min(self.size, start + size)
        if stop <= start:
            return b""
        data = self._cached(start, stop)
        if data is None:
            fetch_stop = min(self.size, max(stop, start + self.block_size))
            fetch_start = start
            if fetch_stop - fetch_start < self.block_size:
                fetch_start = max(0, fetch_stop - self.block_size)
            segment = self._fetch(fetch_start, fetch_stop)
            data = segment[start - fetch_start : stop - fetch_start]
        self._position = stop
        return data

    def readall(self):
        return self.read(-1)

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_END_RECORD = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes and a comment)
_END_RECORD64_LOCATOR = struct.Struct("<4sLQL")  # zip64 end of central directory locator (20 bytes)
_END_RECORD64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record (56 bytes)
_CENTRAL_RECORD_SIZE = 46  # a central directory file header without its name, extra field and comment
_MAX_COMMENT = 0xFFFF
CENTRAL_DIRECTORY_BLOCK = 8 * 1024 * 1024


def _read_at(fileobj, position, length):
    fileobj.seek(position)
    data = fileobj.read(length)
    if len(data) != length:
        raise zipfile.BadZipFile(f"the archive ends before byte {position + length}")
    return data


def _central_directory(fileobj, size):
    """``(start, length, entries)`` of the archive's central directory, from its end records (zip64 included)."""
    tail_length = min(size, _END_RECORD.size + _MAX_COMMENT + _END_RECORD64_LOCATOR.size)
    tail_start = size - tail_length
    tail = _read_at(fileobj, tail_start, tail_length)
    # The end record is the one whose comment ends the archive (a comment may contain the signature too); an
    # archive with bytes after its comment falls back to the last signature with room for a record.
    position = fallback = -1
    candidate = tail.rfind(b"PK\x05\x06")
    while candidate >= 0:
        if candidate + _END_RECORD.size <= len(tail):
            comment_length = _END_RECORD.unpack_from(tail, candidate)[7]
            if candidate + _END_RECORD.size + comment_length == len(tail):
                position = candidate
                break
            fallback = candidate if fallback < 0 else fallback
        candidate = tail.rfind(b"PK\x05\x06", 0, candidate)
    position = position if position >= 0 else fallback
    if position < 0:
        raise zipfile.BadZipFile("no end of central directory record")
    fields = _END_RECORD.unpack_from(tail, position)
    entries, length, offset = fields[4], fields[5], fields[6]
    end_record = tail_start + position
    if entries == 0xFFFF or length == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        if end_record < _END_RECORD64_LOCATOR.size:
            raise zipfile.BadZipFile("a zip64 archive without its zip64 end record locator")
        locator = _END_RECORD64_LOCATOR.unpack(
            _read_at(fileobj, end_record - _END_RECORD64_LOCATOR.size, _END_RECORD64_LOCATOR.size)
        )
        if locator[0] != b"PK\x06\x07":
            raise zipfile.BadZipFile("a zip64 archive without its zip64 end record locator")
        record = _END_RECORD64.unpack(_read_at(fileobj, locator[2], _END_RECORD64.size))
        if record[0] != b"PK\x06\x06":
            raise zipfile.BadZipFile("the zip64 end of central directory record is missing")
        entries, length = record[7], record[8]
        end_record = locator[2]
    start = end_record - length  # also right for archives with data before them (offsets shifted)
    if start < 0:
        raise zipfile.BadZipFile("the central directory would start before the archive")
    return start, length, entries


def count_archive_entries(fileobj, size=None, block_size=CENTRAL_DIRECTORY_BLOCK):
    """How many file entries (not directories: names ending with ``/``) the zip archive ``fileobj`` lists.

    Reads the end records, then walks the central directory in ``block_size`` pieces, so memory stays bounded
    however many messages an archive holds (zipfile would build an object per entry). ``fileobj`` is seekable
    (an :class:`S3RangeReader`); ``size`` defaults to its ``size``. BadZipFile when the archive is not a zip, or
    when the central directory does not hold the number of entries the end record announces.
    """
    size = fileobj.size if size is None else size
    start, length, announced = _central_directory(fileobj, size)
    fileobj.seek(start)
    remaining = length
    buffer = bytearray()
    offset = 0
    entries = files = 0
    while True:
        if len(buffer) - offset < _CENTRAL_RECORD_SIZE or not _record_complete(buffer, offset):
            if not remaining:
                break
            chunk = fileobj.read(min(block_size, remaining))
            if not chunk:
                raise zipfile.BadZipFile("the archive ends inside its central directory")
            remaining -= len(chunk)
            del buffer[:offset]
            offset = 0
            buffer += chunk
            continue
        if buffer[offset : offset + 4] != b"PK\x01\x02":
            raise zipfile.BadZipFile(f"a bad central directory record after {entries} entries")
        name_length, extra_length, comment_length = struct.unpack_from("<3H", buffer, offset + 28)
        name_end = offset + _CENTRAL_RECORD_SIZE + name_length
        entries += 1
        if name_length == 0 or buffer[name_end - 1] != ord("/"):
            files += 1
        offset = name_end + extra_length + comment_length
    if len(buffer) != offset:
        raise zipfile.BadZipFile(f"{len(buffer) - offset} stray bytes at the end of the central directory")
    if entries != announced:
        raise zipfile.BadZipFile(f"the central directory holds {entries} entries, its end record says {announced}")
    return files


def _record_complete(buffer, offset):
    name_length, extra_length, comment_length = struct.unpack_from("<3H", buffer, offset + 28)
    return len(buffer) - offset >= _CENTRAL_RECORD_SIZE + name_length + extra_length + comment_length


# The export log


def log_candidates(zip_key):
    """The keys an archive's export log may have next to it, the likeliest first (the archive itself excluded)."""
    stem = zip_key[:-4] if zip_key.lower().endswith(".zip") else zip_key
    keys = []
    for key in (f"{stem}.log.json", f"{stem}.json", f"{zip_key}.log", f"{zip_key}.log.json", f"{stem}.log"):
        if key != zip_key and key not in keys:
            keys.append(key)
    return keys


def log_fields(document):
    """``{lower-cased field name: value}`` of an export log document (field names are matched case-insensitively)."""
    return {str(name).lower(): value for name, value in document.items()}


def _parse_log(body):
    """The export log document in ``body`` (a JSON object naming sha384Hash or totalMessages), or None."""
    if body is None or len(body) > MAX_LOG_SIZE:
        return None
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    fields = log_fields(document)
    if LOG_SHA384_FIELD not in fields and LOG_MESSAGES_FIELD not in fields:
        return None
    return document


def _read_small(s3_client, bucket, key):
    """The body of a small object (at most MAX_LOG_SIZE + 1 bytes read), or None when it does not exist."""
    try:
        response = s3_client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_LOG_SIZE}")
    except botocore.exceptions.ClientError as error:
        code, status, dummy = _error(error)
        if _is_missing(error) or code == "InvalidRange" or status == 416:
            return None
        raise
    body = response["Body"]
    try:
        return body.read()
    finally:
        body.close()


def find_export_log(s3_client, bucket, zip_key, job_id=None):
    """Find the export log of the archive ``zip_key``: ``{"key", "document", "problem", "looked_for"}``.

    First the keys of :func:`log_candidates` (a GET each, until one is found), then one ListObjectsV2 of the
    archive's folder (the key up to its last ``/``) for objects that are not ``.zip`` and whose name contains
    ``job_id`` (or the archive's name without ``.zip`` when the job id is not known), JSON ones first, at most
    :data:`MAX_LISTED_LOGS` of them read. A log is a JSON object with a ``sha384Hash`` or ``totalMessages`` field
    (any case). When none is found, ``key`` and ``document`` are None and ``problem`` says where it was looked for.
    Objects S3 refuses to show are noted in the problem; other S3 errors propagate.
    """
    candidates = log_candidates(zip_key)
    looked_for = []
    notes = []
    refused = []
    tried = set()

    def attempt(key):
        tried.add(key)
        looked_for.append(key)
        try:
            body = _read_small(s3_client, bucket, key)
        except botocore.exceptions.ClientError as error:
            if not _is_denied(error):
                raise
            refused.append(key)
            return None
        if body is None:
            return None
        document = _parse_log(body)
        if document is None:
            notes.append(f"{key} is not an export log (no JSON object with sha384Hash or totalMessages)")
        return document

    for key in candidates:
        document = attempt(key)
        if document is not None:
            return {"key": key, "document": document, "problem": None, "looked_for": looked_for}

    folder = zip_key.rpartition("/")[0]
    prefix = f"{folder}/" if folder else ""
    zip_name = zip_key.rpartition("/")[2]
    needle = (job_id or (zip_name[:-4] if zip_name.lower().endswith(".zip") else zip_name)).lower()
    try:
        listing = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    except botocore.exceptions.ClientError as error:
        if not _is_denied(error):
            raise
        listing = None
        notes.append(
            f"ListObjectsV2 of s3://{bucket}/{prefix} was refused ({_describe(error)}; needs {LIST_PERMISSION})"
        )
    if listing is not None:
        if listing.get("IsTruncated"):
            notes.append(f"s3://{bucket}/{prefix} holds more objects than one listing shows")
        found = []
        for item in listing.get("Contents") or []:
            key = item.get("Key") or ""
            name = key[len(prefix) :]
            if key in tried or key == zip_key or name.lower().endswith(".zip") or needle not in name.lower():
                continue
            if item.get("Size") is not None and item["Size"] > MAX_LOG_SIZE:
                continue
            found.append(key)
        found.sort(key=lambda key: (not key.lower().endswith(".json"), key))
        for key in found[:MAX_LISTED_LOGS]:
            document = attempt(key)
            if document is not None:
                return {"key": key, "document": document, "problem": None, "looked_for": looked_for}
    problem = (
        f"no export log found next to s3://{bucket}/{zip_key}; looked for {', '.join(candidates)} and for an object "
        f"whose name contains {needle} in s3://{bucket}/{prefix}"
    )
    if refused:
        notes.insert(
            0,
            f"S3 refused GetObject of {', '.join(refused)}: reading the log needs {GET_PERMISSIONS}, and S3 answers "
            f"access denied for a missing object unless the caller has {LIST_PERMISSION}",
        )
    if notes:
        problem += " (" + "; ".join(notes) + ")"
    return {"key": None, "document": None, "problem": problem, "looked_for": looked_for}


def _log_count(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# Everything together


def deep_verify(
    s3_client,
    bucket,
    key,
    size=None,
    etag=None,
    job_id=None,
    chunk_size=CHUNK_SIZE,
    progress=None,
    block_size=RANGE_BLOCK_SIZE,
):
    """Deep verification of the archive ``s3://bucket/key`` (which exists, ``size`` bytes, version ``etag``).

    Returns ``{"verified", "problem", "sha384", "archive_entries", "log_key", "log_sha384", "log_messages",
    "downloaded_bytes", "range_requests"}``: the hex SHA-384 of the object (:func:`sha384_of_object`), its number
    of file entries (:func:`count_archive_entries` over an :class:`S3RangeReader`), the export log's key
    (:func:`find_export_log`), ``sha384Hash`` and ``totalMessages``. ``verified`` is True when the log was found and
    both agree; ``problem`` says what does not (several problems are separated by ``; ``). An archive S3 refuses to
    give (no s3:GetObject, or no kms:Decrypt on its key), that vanished or changed meanwhile, or that is not a zip
    is a problem too. ``progress()`` is called after every chunk downloaded. Other S3 errors propagate.
    """
    result = {
        "verified": False,
        "problem": None,
        "sha384": None,
        "archive_entries": None,
        "log_key": None,
        "log_sha384": None,
        "log_messages": None,
        "downloaded_bytes": 0,
        "range_requests": 0,
    }
    uri = f"s3://{bucket}/{key}"
    problems = []
    try:
        result["sha384"], result["downloaded_bytes"] = sha384_of_object(
            s3_client, bucket, key, size=size, etag=etag, chunk_size=chunk_size, progress=progress
        )
    except botocore.exceptions.ClientError as error:
        problem = _object_problem(error, "GetObject", bucket, key, GET_PERMISSIONS)
        if problem is None:
            raise
        result["problem"] = str(problem)
        return result
    if size is not None and result["downloaded_bytes"] != size:
        problems.append(f"{result['downloaded_bytes']} bytes of {uri} were read, HeadObject said {size}")

    reader = S3RangeReader(s3_client, bucket, key, size=result["downloaded_bytes"], etag=etag, block_size=block_size)
    try:
        result["archive_entries"] = count_archive_entries(reader)
    except botocore.exceptions.ClientError as error:
        problem = _object_problem(error, "a ranged GetObject", bucket, key, GET_PERMISSIONS)
        if problem is None:
            raise
        problems.append(str(problem))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error) as error:
        problems.append(f"{uri} is not a readable zip archive ({error})")
    finally:
        result["range_requests"] = reader.requests
        reader.close()

    found = find_export_log(s3_client, bucket, key, job_id)
    if found["document"] is None:
        problems.append(found["problem"])
    else:
        result["log_key"] = found["key"]
        fields = log_fields(found["document"])
        log_uri = f"s3://{bucket}/{found['key']}"
        log_job_id = fields.get("jobid")
        if job_id and isinstance(log_job_id, str) and log_job_id and log_job_id.lower() != job_id.lower():
            problems.append(f"the export log {log_uri} is the log of job {log_job_id}, not of job {job_id}")
        log_sha384 = fields.get(LOG_SHA384_FIELD)
        if isinstance(log_sha384, str) and log_sha384.strip():
            result["log_sha384"] = log_sha384.strip().lower()
            if result["log_sha384"] != result["sha384"]:
                problems.append(
                    f"sha384 mismatch: {uri} has SHA-384 {result['sha384']}, its export log {log_uri} says "
                    f"{result['log_sha384']}"
                )
        else:
            problems.append(f"the export log {log_uri} has no sha384Hash")
        result["log_messages"] = _log_count(fields.get(LOG_MESSAGES_FIELD))
        if result["log_messages"] is None:
            problems.append(f"the export log {log_uri} has no totalMessages count")
        elif result["archive_entries"] is not None and result["archive_entries"] != result["log_messages"]:
            problems.append(
                f"entry count mismatch: {uri} holds {result['archive_entries']} files, its export log {log_uri} "
                f"says totalMessages {result['log_messages']}"
            )
    result["problem"] = "; ".join(problems) or None
    result["verified"] = not problems
    return result
