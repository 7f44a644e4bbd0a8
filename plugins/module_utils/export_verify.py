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

The basic check (:func:`verify_object`) is one HeadObject: the object exists, is not empty and is encrypted with
SSE-KMS under the campaign's key. :func:`check_object` runs the check of a verify level for a mailbox of a
campaign manifest.

Functions over an :class:`~s3.S3Gateway`. A refusal of S3 (403) or an object that is missing or changed while it
is read is a problem in the result, not an exception; other S3 errors propagate.
"""

import hashlib
import io
import json
import struct
import zipfile
from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_CONTRADICTED
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_UNCHECKED
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_VERIFIED
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_DEEP
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import OBJECT_FIELDS
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import ARCHIVE
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import EXPORT_FOLDER
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import EXPORT_LOG
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3AccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Error
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Missing
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3PreconditionFailed
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Unreachable
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime

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

# How the problem text of a check S3 refused (AccessDenied) begins.
REFUSED = "S3 refused"
GET_PERMISSIONS = "s3:GetObject on the object and kms:Decrypt on its KMS key"
LIST_PERMISSION = "s3:ListBucket on the bucket"


def _stream_errors():
    names = ("ResponseStreamingError", "IncompleteReadError", "ReadTimeoutError", "ConnectionClosedError")
    found = tuple(getattr(botocore.exceptions, name) for name in names if hasattr(botocore.exceptions, name))
    return found + (ConnectionError,)


def _describe(error):
    """AWS's code and message of an :class:`~s3.S3Error`."""
    return f"{error.code}: {error.aws_message}" if error.code else str(error.aws_message)


class VerificationProblem(Exception):
    """Why an object could not be checked (S3 refused it, it vanished or changed while it was read): the check is
    worth repeating. ``str()`` is the problem text; ``refused`` is True when S3 refused the caller."""

    def __init__(self, text, refused=False):
        super().__init__(text)
        self.refused = refused


class Findings:
    """What a check found wrong: ``contradicted`` (the export is not what the job said) and ``unchecked`` (what could
    not be told); :meth:`decide` writes ``outcome``, ``verified`` and ``problem`` into a check's result."""

    def __init__(self):
        self.contradicted = []
        self.unchecked = []

    def add(self, other):
        self.contradicted.extend(other.contradicted)
        self.unchecked.extend(other.unchecked)
        return self

    def decide(self, result):
        if self.contradicted:
            result["outcome"] = OUTCOME_CONTRADICTED
        else:
            result["outcome"] = OUTCOME_UNCHECKED if self.unchecked else OUTCOME_VERIFIED
        result["verified"] = result["outcome"] == OUTCOME_VERIFIED
        result["problem"] = "; ".join(self.contradicted + self.unchecked) or None
        return result


def _object_problem(error, operation, bucket, key, permissions):
    """A VerificationProblem for an S3Error that is a refusal, a missing or a changed object; else None."""
    uri = f"s3://{bucket}/{key}"
    if isinstance(error, S3AccessDenied):
        return VerificationProblem(
            f"{REFUSED} {operation} of {uri} ({_describe(error)}); deep verification needs {permissions}", True
        )
    if isinstance(error, S3Missing):
        return VerificationProblem(f"{uri} disappeared while it was verified ({operation}: {_describe(error)})")
    if isinstance(error, S3PreconditionFailed):
        return VerificationProblem(f"{uri} was replaced while it was verified (its ETag changed)")
    return None


# The archive


def _hash_stream(body, digest, chunk_size, progress):
    """Feed ``body``'s chunks to ``digest`` and close it: ``(bytes read, None)``, or ``(bytes read, error)`` when the
    network broke the stream. ``progress()`` is called after every chunk; its errors propagate."""
    read = 0
    chunks = body.iter_chunks(chunk_size)
    try:
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return read, None
            except _stream_errors() as error:
                return read, error
            digest.update(chunk)
            read += len(chunk)
            if progress is not None:
                progress()
    finally:
        body.close()


def sha384_of_object(s3, bucket, key, size=None, etag=None, chunk_size=CHUNK_SIZE, progress=None):
    """``(hex SHA-384, bytes read)`` of an export archive, streamed in ``chunk_size`` pieces.

    With ``etag`` every GET asks ``If-Match`` so the bytes hashed are those of that version. A download interrupted
    by the network is resumed with a ranged GET from where it stopped (at most :data:`DOWNLOAD_RESUMES` times; the
    object's ``size`` must be given for that). ``progress()`` is called after every chunk. S3Errors propagate.
    """
    digest = hashlib.sha384()
    position = 0
    for resumes in range(DOWNLOAD_RESUMES + 1):
        byte_range = (position, None) if position else None
        body = s3.get(ARCHIVE, bucket, key, if_match=etag, byte_range=byte_range)["Body"]
        read, error = _hash_stream(body, digest, chunk_size, progress)
        position += read
        if error is None:
            return digest.hexdigest(), position
        if size is None or position >= size or resumes == DOWNLOAD_RESUMES:
            raise error
    raise AssertionError("unreachable")  # pragma: no cover


class RangeReadError(WorkMailError):
    """A ranged GET failed on the way (network, a short answer): the archive could not be read this time, which says
    nothing about the archive, so nothing is recorded and a later pass checks it again. Deliberately not an OSError
    (zipfile reports those as "not a zip file")."""


class S3RangeReader(io.RawIOBase):
    """A read-only, seekable file object over one S3 object, read with ranged GETs (``Range: bytes=a-b``).

    Meant for :class:`zipfile.ZipFile`, which reads the end record and the central directory only when it opens an
    archive: a read that is not in the cache fetches at least ``block_size`` bytes (towards the end of the object
    when the read is near it), and the last ``max_segments`` fetched pieces are kept. ``requests`` counts the GETs.
    With ``etag`` every GET asks ``If-Match``. S3Errors of the GETs propagate from ``read``, except a lost
    connection, which is a :class:`RangeReadError`.
    """

    def __init__(
        self,
        s3,
        bucket,
        key,
        size=None,
        etag=None,
        block_size=RANGE_BLOCK_SIZE,
        max_segments=RANGE_CACHE_SEGMENTS,
    ):
        super().__init__()
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        if size is None:
            answer = s3.head(ARCHIVE, bucket, key)
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
        self.requests += 1
        try:
            body = self.s3.get(ARCHIVE, self.bucket, self.key, if_match=self.etag, byte_range=(start, stop - 1))["Body"]
            try:
                data = body.read()
            finally:
                body.close()
        except (S3Unreachable, botocore.exceptions.BotoCoreError) + _stream_errors() as error:
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


def archive_counts(fileobj, size=None, block_size=CENTRAL_DIRECTORY_BLOCK):
    """``{"entries", "messages"}``: how many file entries (not directories: names ending with ``/``) the zip archive
    ``fileobj`` lists, and how many of them are messages (names ending with ``.eml``).

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
    entries = files = messages = 0
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
            messages += bytes(buffer[max(offset + _CENTRAL_RECORD_SIZE, name_end - 4) : name_end]).lower() == b".eml"
        offset = name_end + extra_length + comment_length
    if len(buffer) != offset:
        raise zipfile.BadZipFile(f"{len(buffer) - offset} stray bytes at the end of the central directory")
    if entries != announced:
        raise zipfile.BadZipFile(f"the central directory holds {entries} entries, its end record says {announced}")
    return {"entries": files, "messages": messages}


def count_archive_entries(fileobj, size=None, block_size=CENTRAL_DIRECTORY_BLOCK):
    """How many file entries the zip archive ``fileobj`` lists (see :func:`archive_counts`)."""
    return archive_counts(fileobj, size, block_size)["entries"]


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


def _read_small(s3, bucket, key):
    """The body of a small object (at most MAX_LOG_SIZE + 1 bytes read), or None when it does not exist."""
    try:
        return s3.read(EXPORT_LOG, bucket, key, limit=MAX_LOG_SIZE)[0]
    except S3Missing:
        return None


class _LogSearch:
    """One search for an archive's export log: what was read, refused and noted on the way."""

    def __init__(self, s3, bucket, zip_key, job_id):
        self.s3 = s3
        self.bucket = bucket
        self.zip_key = zip_key
        self.looked_for = []
        self.notes = []
        self.refused = []
        folder = zip_key.rpartition("/")[0]
        self.prefix = f"{folder}/" if folder else ""
        zip_name = zip_key.rpartition("/")[2]
        self.needle = (job_id or (zip_name[:-4] if zip_name.lower().endswith(".zip") else zip_name)).lower()

    def read(self, key):
        """The export log document at ``key``, or None (missing, refused, or not a log)."""
        self.looked_for.append(key)
        try:
            body = _read_small(self.s3, self.bucket, key)
        except S3AccessDenied:
            self.refused.append(key)
            return None
        if body is None:
            return None
        document = _parse_log(body)
        if document is None:
            self.notes.append(f"{key} is not an export log (no JSON object with sha384Hash or totalMessages)")
        return document

    def listed_candidates(self):
        """The keys of the archive's folder that may be its log (one ListObjectsV2), JSON ones first."""
        try:
            objects, truncated = self.s3.list_folder(EXPORT_FOLDER, self.bucket, self.prefix)
        except S3AccessDenied as error:
            self.notes.append(
                f"ListObjectsV2 of s3://{self.bucket}/{self.prefix} was refused ({_describe(error)}; needs "
                f"{LIST_PERMISSION})"
            )
            return []
        if truncated:
            self.notes.append(f"s3://{self.bucket}/{self.prefix} holds more objects than one listing shows")
        found = [item.get("Key") or "" for item in objects if self._may_be_log(item)]
        found.sort(key=lambda key: (not key.lower().endswith(".json"), key))
        return found[:MAX_LISTED_LOGS]

    def _may_be_log(self, item):
        key = item.get("Key") or ""
        name = key[len(self.prefix) :]
        if key in self.looked_for or key == self.zip_key or name.lower().endswith(".zip"):
            return False
        if item.get("Size") is not None and item["Size"] > MAX_LOG_SIZE:
            return False
        return self.needle in name.lower()

    def problem(self, candidates):
        problem = (
            f"no export log found next to s3://{self.bucket}/{self.zip_key}; looked for {', '.join(candidates)} and "
            f"for an object whose name contains {self.needle} in s3://{self.bucket}/{self.prefix}"
        )
        notes = list(self.notes)
        if self.refused:
            notes.insert(
                0,
                f"S3 refused GetObject of {', '.join(self.refused)}: reading the log needs {GET_PERMISSIONS}, and S3 "
                f"answers access denied for a missing object unless the caller has {LIST_PERMISSION}",
            )
        if notes:
            problem += " (" + "; ".join(notes) + ")"
        return problem


def find_export_log(s3, bucket, zip_key, job_id=None):
    """Find the export log of the archive ``zip_key``: ``{"key", "document", "problem", "looked_for"}``.

    First the keys of :func:`log_candidates` (a GET each, until one is found), then one ListObjectsV2 of the
    archive's folder (the key up to its last ``/``) for objects that are not ``.zip`` and whose name contains
    ``job_id`` (or the archive's name without ``.zip`` when the job id is not known), JSON ones first, at most
    :data:`MAX_LISTED_LOGS` of them read. A log is a JSON object with a ``sha384Hash`` or ``totalMessages`` field
    (any case). When none is found, ``key`` and ``document`` are None and ``problem`` says where it was looked for.
    Objects S3 refuses to show are noted in the problem; other S3 errors propagate.
    """
    search = _LogSearch(s3, bucket, zip_key, job_id)
    candidates = log_candidates(zip_key)
    for key in candidates:
        document = search.read(key)
        if document is not None:
            return {"key": key, "document": document, "problem": None, "looked_for": search.looked_for}
    for key in search.listed_candidates():
        document = search.read(key)
        if document is not None:
            return {"key": key, "document": document, "problem": None, "looked_for": search.looked_for}
    return {"key": None, "document": None, "problem": search.problem(candidates), "looked_for": search.looked_for}


def log_count(value):
    """A count of an export log as a number, whether the log writes it as a JSON number or as text (``"76"``);
    None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if text.isdigit():
        return int(text)
    if text.endswith(".0") and text[:-2].isdigit():
        return int(text[:-2])
    return None


# Everything together


def _archive_problems(result, s3, bucket, key, size, etag, block_size):
    """Count the archive's entries and messages into ``result``; the :class:`Findings` on the way."""
    uri = f"s3://{bucket}/{key}"
    found = Findings()
    if size is not None and result["downloaded_bytes"] != size:
        found.unchecked.append(f"{result['downloaded_bytes']} bytes of {uri} were read, HeadObject said {size}")
    reader = S3RangeReader(s3, bucket, key, size=result["downloaded_bytes"], etag=etag, block_size=block_size)
    try:
        counts = archive_counts(reader)
        result.update(archive_entries=counts["entries"], archive_messages=counts["messages"])
    except S3Error as error:
        problem = _object_problem(error, "a ranged GetObject", bucket, key, GET_PERMISSIONS)
        if problem is None:
            raise
        result["refused"] = problem.refused
        found.unchecked.append(str(problem))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error) as error:
        found.contradicted.append(f"{uri} is not a readable zip archive ({error})")
    finally:
        result["range_requests"] = reader.requests
        reader.close()
    return found


def _count_findings(result, uri, log_uri):
    """Compare the log's ``totalMessages`` with the archive: all its file entries, or its messages only (AWS does not
    say which it counts); the :class:`Findings`."""
    found = Findings()
    if result["log_messages"] is None:
        found.unchecked.append(f"the export log {log_uri} has no totalMessages count")
    elif result["archive_entries"] is not None and result["log_messages"] not in (
        result["archive_entries"],
        result["archive_messages"],
    ):
        found.contradicted.append(
            f"entry count mismatch: {uri} holds {result['archive_entries']} files, {result['archive_messages']} of "
            f"them messages, its export log {log_uri} says totalMessages {result['log_messages']}"
        )
    return found


def _log_problems(result, bucket, key, job_id, log):
    """Compare the export log ``log`` (of :func:`find_export_log`) with ``result``; the :class:`Findings`."""
    found = Findings()
    if log["document"] is None:
        found.unchecked.append(log["problem"])
        return found
    uri = f"s3://{bucket}/{key}"
    result["log_key"] = log["key"]
    fields = log_fields(log["document"])
    log_uri = f"s3://{bucket}/{log['key']}"
    log_job_id = fields.get("jobid")
    if job_id and isinstance(log_job_id, str) and log_job_id and log_job_id.lower() != job_id.lower():
        found.unchecked.append(f"the export log {log_uri} is the log of job {log_job_id}, not of job {job_id}")
        return found
    log_sha384 = fields.get(LOG_SHA384_FIELD)
    if isinstance(log_sha384, str) and log_sha384.strip():
        result["log_sha384"] = log_sha384.strip().lower()
        if result["log_sha384"] != result["sha384"]:
            found.contradicted.append(
                f"sha384 mismatch: {uri} has SHA-384 {result['sha384']}, its export log {log_uri} says "
                f"{result['log_sha384']}"
            )
    else:
        found.unchecked.append(f"the export log {log_uri} has no sha384Hash")
    result["log_messages"] = log_count(fields.get(LOG_MESSAGES_FIELD))
    return found.add(_count_findings(result, uri, log_uri))


def deep_verify(
    s3,
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

    Returns ``{"outcome", "verified", "problem", "refused", "sha384", "archive_entries", "archive_messages",
    "log_key", "log_sha384", "log_messages", "downloaded_bytes", "range_requests"}``: the hex SHA-384 of the object
    (:func:`sha384_of_object`), its numbers of file entries and of messages (``.eml`` entries;
    :func:`archive_counts` over an :class:`S3RangeReader`), the export log's key (:func:`find_export_log`),
    ``sha384Hash`` and ``totalMessages`` (a number, whether the log writes it as one or as text).

    ``outcome`` is ``verified`` when the log was found and agrees: the hash, and ``totalMessages`` equal to either
    count (AWS does not say whether calendar items count). It is ``contradicted`` when the archive is not a zip or
    the log disagrees, and ``unchecked`` when the check could not tell: no log found, the log of another job, a log
    without the field, an archive S3 refuses to give (no s3:GetObject, or no kms:Decrypt on its key: ``refused``)
    or that vanished or changed meanwhile. ``problem`` says what (several problems separated by ``; ``).
    ``progress()`` is called after every chunk downloaded. Other S3 errors propagate.
    """
    result = dict.fromkeys(
        ("problem", "sha384", "archive_entries", "archive_messages", "log_key", "log_sha384", "log_messages")
    )
    result.update(verified=False, outcome=None, refused=False, downloaded_bytes=0, range_requests=0)
    try:
        result["sha384"], result["downloaded_bytes"] = sha384_of_object(
            s3, bucket, key, size=size, etag=etag, chunk_size=chunk_size, progress=progress
        )
    except S3Error as error:
        problem = _object_problem(error, "GetObject", bucket, key, GET_PERMISSIONS)
        if problem is None:
            raise
        result["refused"] = problem.refused
        found = Findings()
        found.unchecked.append(str(problem))
        return found.decide(result)
    found = _archive_problems(result, s3, bucket, key, size, etag, block_size)
    found.add(_log_problems(result, bucket, key, job_id, find_export_log(s3, bucket, key, job_id)))
    return found.decide(result)


# The basic check


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


def same_kms_key(reported, expected):
    """Does the key S3 reports (an ARN, or a bare key id) name the key ARN ``expected``?"""
    if not reported or not expected:
        return False
    if reported == expected:
        return True
    if reported.startswith("arn:"):
        return False
    return ":key/" in expected and expected.rsplit("/", 1)[-1] == reported


def _find_object(s3, locations, result):
    """HeadObject of the first of ``locations`` that exists (its key goes into ``result``), or None. A refusal
    is recorded in ``result`` and ends the search."""
    for location_bucket, key in locations:
        try:
            answer = s3.head(ARCHIVE, location_bucket, key)
        except S3Missing:
            continue
        except S3AccessDenied:
            result.update(
                key=key,
                refused=True,
                problem=f"{REFUSED} HeadObject of s3://{location_bucket}/{key} (access denied)",
            )
            return None
        result.update(key=key, bucket=location_bucket)
        return answer
    return None


# S3's clock and WorkMail's may differ a little: an archive written this long before the job's start still counts.
WRITE_CLOCK_SLACK = timedelta(minutes=5)
# Where an archive is looked for when its S3Path names no object (``found_by`` of the object record).
FOUND_AT_S3_PATH = "s3_path"
FOUND_IN_S3_PATH_FOLDER = "s3_path_folder"
FOUND_IN_MAILBOX_FOLDER = "mailbox_folder"
FOUND_IN_EMAIL_FOLDER = "email_folder"
FOUND_IN_PREFIX = "prefix"


def _path_key(s3_path, bucket):
    """The key (or folder) part of an S3Path: without ``s3://<bucket>/`` or ``<bucket>/``."""
    if not s3_path:
        return None
    if s3_path.startswith("s3://"):
        return s3_path[len("s3://") :].partition("/")[2] or None
    if bucket and s3_path.startswith(bucket + "/"):
        return s3_path[len(bucket) + 1 :] or None
    return s3_path


def prefix_folder(prefix, name=""):
    """``<prefix>/<name>/`` (``<prefix>/`` without a name; the bucket's top without a prefix): where archives are
    looked for."""
    base = (prefix or "").strip("/")
    parts = [part for part in (base, name) if part]
    return "/".join(parts) + "/" if parts else ""


def _folders(s3_path, bucket, prefix, hints):
    """``[(rule, folder)]`` to list for an archive, the likeliest first (no folder twice)."""
    base = prefix_folder(prefix)
    folders = []
    path_key = _path_key(s3_path, bucket)
    if path_key and path_key.lower().endswith(".zip"):
        path_key = path_key.rpartition("/")[0]
    if path_key:
        folders.append((FOUND_IN_S3_PATH_FOLDER, path_key if path_key.endswith("/") else path_key + "/"))
    if hints.get("entity_id"):
        folders.append((FOUND_IN_MAILBOX_FOLDER, prefix_folder(prefix, hints["entity_id"])))
    if hints.get("email"):
        folders.append((FOUND_IN_EMAIL_FOLDER, prefix_folder(prefix, hints["email"])))
    folders.append((FOUND_IN_PREFIX, base))
    unique = []
    for rule, folder in folders:
        if folder not in [seen for dummy, seen in unique]:
            unique.append((rule, folder))
    return unique


def _names_the_export(key, hints):
    """Does an archive's key name the job, the mailbox or its email (any case)?"""
    text = key.lower()
    return any(hints.get(name) and str(hints[name]).lower() in text for name in ("job_id", "entity_id", "email"))


def _archive_in(objects, folder, rule, hints):
    """The archive of ``objects`` (one folder's listing) that is the export: a ``.zip`` written after the job's
    start; in the prefix itself (a folder of every mailbox) only one whose name names the job, the mailbox or its
    email. One naming the job first, then the first written; or None."""
    started = to_datetime(hints.get("started"))
    if started is not None:
        started = started - WRITE_CLOCK_SLACK
    found = []
    for item in objects:
        key = item.get("Key") or ""
        if not key.lower().endswith(".zip") or not item.get("Size"):
            continue
        written = to_datetime(item.get("LastModified"))
        if started is not None and written is not None and written < started:
            continue
        if rule == FOUND_IN_PREFIX and not _names_the_export(key[len(folder) :], hints):
            continue
        job_named = bool(hints.get("job_id")) and hints["job_id"].lower() in key.lower()
        found.append((not job_named, written or started, key))
    found.sort(key=lambda candidate: (candidate[0], candidate[1] is None, candidate[1] or 0, candidate[2]))
    return found[0][2] if found else None


def locate_archive(s3, s3_path, bucket, prefix=None, hints=None):
    """Find an export's archive when its S3Path names no object: ``(key, rule)`` or ``(None, folders looked in)``.

    AWS does not document S3Path; it may be a folder, or the archive may be stored elsewhere under the prefix. The
    folders listed (one ListObjectsV2 page each, with ``/`` as delimiter) are the S3Path as a folder, then
    ``<prefix>/<entity id>/``, ``<prefix>/<email>/`` and ``<prefix>/``; ``hints`` (``job_id``, ``entity_id``,
    ``email``, ``started``) say which ``.zip`` is the export (see :func:`_archive_in`). A folder S3 refuses to list
    is skipped.
    """
    hints = hints or {}
    looked = []
    for rule, folder in _folders(s3_path, bucket, prefix, hints):
        looked.append(folder)
        try:
            objects = s3.list_folder(EXPORT_FOLDER, bucket, folder)[0]
        except S3AccessDenied:
            continue
        key = _archive_in(objects, folder, rule, hints)
        if key is not None:
            return key, rule
    return None, looked


def _encryption_problems(result, expected_kms_key_arn):
    problems = []
    if not result["size"]:
        problems.append("the object is empty")
    if result["sse"] != "aws:kms":
        problems.append(f"the object is not encrypted with SSE-KMS (ServerSideEncryption {result['sse']!r})")
    elif not same_kms_key(result["kms_key_id"], expected_kms_key_arn):
        problems.append(f"the object is encrypted under {result['kms_key_id']}, not {expected_kms_key_arn}")
    return problems


def _head_located(s3, s3_path, bucket, prefix, hints, result):
    """HeadObject of the archive :func:`locate_archive` finds (its key and rule go into ``result``), or None; the
    :class:`Findings` say why not."""
    found = Findings()
    key, rule = locate_archive(s3, s3_path, bucket, prefix, hints)
    if key is None:
        looked = ", ".join(f"s3://{bucket}/{folder}" for folder in rule)
        where = f"no object at S3Path {s3_path}, nor an archive of the job in {looked}"
        if (s3_path or "").lower().endswith(".zip"):
            found.contradicted.append(where)
        else:
            found.unchecked.append(f"{where}: the layout of the export is not recognised")
        return None, found
    result["found_by"] = rule
    return _find_object(s3, [(bucket, key)], result), found


def verify_object(s3, s3_path, bucket, expected_kms_key_arn, prefix=None, hints=None):
    """What HeadObject shows of a COMPLETED export: ``{"bucket", "key", "size", "etag", "sse", "kms_key_id",
    "found_by", "outcome", "verified", "refused", "problem"}``.

    ``s3_path`` is the job's S3Path, ``bucket`` its bucket. The archive is the object S3Path names, or else the one
    :func:`locate_archive` finds with ``hints`` (``found_by`` says which rule found it). ``outcome`` is ``verified``
    when it exists, is not empty and is SSE-KMS (``aws:kms``) under ``expected_kms_key_arn``; ``contradicted`` when
    it is missing where a ``.zip`` S3Path says, empty or encrypted otherwise; ``unchecked`` when no archive was
    found for an S3Path that names none, or S3 refuses to show the object (403, ``refused``). ``problem`` says
    what; other S3 errors propagate. The content is not read.
    """
    result = dict.fromkeys(("bucket", "key", "size", "etag", "sse", "kms_key_id", "problem"))
    result.update(verified=False, outcome=None, refused=False, found_by=FOUND_AT_S3_PATH)
    found = Findings()
    locations = [item for item in export_object_keys(s3_path, bucket, prefix) if item[0]]
    result["key"] = locations[0][1] if locations else None
    answer = _find_object(s3, locations, result)
    if answer is None and not result["refused"]:
        answer, found = _head_located(s3, s3_path, bucket, prefix, hints or {}, result)
    if answer is None:
        if result["refused"]:
            found.unchecked.append(result["problem"])
        return found.decide(result)
    result.update(
        size=answer.get("ContentLength"),
        etag=answer.get("ETag"),
        sse=answer.get("ServerSideEncryption"),
        kms_key_id=answer.get("SSEKMSKeyId"),
    )
    found.contradicted.extend(_encryption_problems(result, expected_kms_key_arn))
    return found.decide(result)


# What a deep check adds to a basic one, and what it decides.
_DEEP_ONLY_FIELDS = ("sha384", "log_key", "log_sha384", "log_messages", "archive_entries", "archive_messages")
_DEEP_FIELDS = ("outcome", "verified", "problem", "refused") + _DEEP_ONLY_FIELDS


def check_object(s3, manifest, entity_id, level, moment, progress=None):
    """Check the exported object of COMPLETED mailbox ``entity_id`` of campaign ``manifest`` at ``level``
    (``"basic"`` or ``"deep"``) at ``moment``.

    The archive is found from the job's S3Path, or with :func:`locate_archive` from the job id, the mailbox's id and
    email and the job's start. Returns ``(fields, downloaded_bytes)``: the ``object`` record fields (for
    :func:`manifest.record_object`) and
    how many bytes a deep check downloaded. The deep check runs only when the basic one passed; its result replaces
    the deep fields of an earlier record (None when it did not run). ``progress`` is given to :func:`deep_verify`.
    S3 errors other than those the checks report as problems propagate.
    """
    entry = manifest["mailboxes"][entity_id]
    attempt = entry["attempts"][-1]
    hints = {
        "job_id": attempt.get("job_id"),
        "entity_id": entity_id,
        "email": entry.get("email"),
        "started": attempt.get("start_time"),
    }
    found = verify_object(
        s3,
        attempt.get("s3_path"),
        manifest["s3_bucket"],
        manifest["kms_key_arn"],
        prefix=manifest.get("s3_prefix"),
        hints=hints,
    )
    fields = {key: found[key] for key in OBJECT_FIELDS if key in found}
    fields.update(dict.fromkeys(_DEEP_ONLY_FIELDS), level=level, checked=iso8601(moment))
    if level != VERIFY_DEEP or not found["verified"]:
        return fields, 0
    deep = deep_verify(
        s3,
        found["bucket"],
        found["key"],
        size=found["size"],
        etag=found["etag"],
        job_id=attempt.get("job_id"),
        progress=progress,
    )
    fields.update({name: deep[name] for name in _DEEP_FIELDS})
    return fields, deep["downloaded_bytes"]
