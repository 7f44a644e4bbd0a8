# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The durable record of an organization-wide export campaign, and the lock that keeps two runs apart.

The manifest is one JSON document in the export bucket, ``<prefix>/mailops-campaigns/<campaign>/manifest.json``,
replaced after every change with a conditional PutObject: ``If-None-Match: *`` when it is created and
``If-Match: <etag of the version read>`` when it is replaced, so a concurrent writer is detected
(:class:`ManifestConflictError`) instead of silently overwritten. It is encrypted with SSE-KMS under the
campaign's key.

Shape (``format`` 1)::

    {"format": 1, "campaign", "organization_id", "region", "s3_bucket", "s3_prefix", "kms_key_arn", "role_arn",
     "created", "updated",
     "mailboxes": {<entity id>: {"id", "email", "name", "type", "size_mb", "state",
                                 "attempts": [{"attempt", "client_token", "job_id", "state", "start_time",
                                               "end_time", "error_info", "s3_path"}],
                                 "object": {"key", "size", "etag", "sse", "kms_key_id", "verified", "sha384",
                                            "problem", "level", "checked", "log_key", "log_sha384",
                                            "log_messages", "archive_entries"} or None}}}

``object`` is what the verification of a COMPLETED mailbox's export found: ``level`` is the verify level of that
check (``basic``: what HeadObject showed; ``deep``: also the SHA-384 of the downloaded archive (``sha384``), its
number of file entries (``archive_entries``) and what its export log (``log_key``) says, ``log_sha384`` and
``log_messages``); ``checked`` is when. ``verified`` is True when the checks of that level passed, otherwise
``problem`` says why. Manifests written before ``level`` existed hold basic checks; fields they lack read as None.
All times are ISO 8601 text in UTC. :class:`CampaignLock` is a small JSON object next to the manifest
(``lock.json``) holding ``{"owner", "acquired", "expires"}``, created and taken over with the same conditional
writes.

The S3 client is anything with boto3's S3 method names (``put_object``, ``get_object``, ``delete_object``); retries
are the caller's (a boto3 client made with a retry decorator). Plain Python: no Ansible imports.
"""

import copy
import json
import os
import re
import tempfile

from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import utcnow

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

FORMAT_VERSION = 1
CAMPAIGN_FOLDER = "mailops-campaigns"
MANIFEST_NAME = "manifest.json"
LOCK_NAME = "lock.json"
CONTENT_TYPE = "application/json"
_CAMPAIGN_RE = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")

# Mailbox states
PENDING = "PENDING"
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
FAILED_PERMANENTLY = "FAILED_PERMANENTLY"
SKIPPED = "SKIPPED"
MAILBOX_STATES = (PENDING, RUNNING, COMPLETED, FAILED, FAILED_PERMANENTLY, SKIPPED)

MAILBOX_TYPES = ("USER", "RESOURCE")
ATTEMPT_FIELDS = ("attempt", "client_token", "job_id", "state", "start_time", "end_time", "error_info", "s3_path")
OBJECT_FIELDS = (
    "key",
    "size",
    "etag",
    "sse",
    "kms_key_id",
    "verified",
    "sha384",
    "problem",
    "level",
    "checked",
    "log_key",
    "log_sha384",
    "log_messages",
    "archive_entries",
)
# Verify levels of an object record, weakest first. A record without a level was written by a basic check.
VERIFY_BASIC = "basic"
VERIFY_DEEP = "deep"
VERIFY_LEVELS = (VERIFY_BASIC, VERIFY_DEEP)

# Answers of a conditional write that mean "someone else changed the object": 412 (the condition failed), 409
# (S3's ConditionalRequestConflict for racing conditional writes) and NoSuchKey for If-Match on a deleted object.
_CONFLICT_CODES = ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409")
_MISSING_CODES = ("NoSuchKey", "404", "NotFound")


class ManifestError(WorkMailError):
    """The campaign manifest cannot be used (unreadable, another format, another campaign or organization)."""


class ManifestConflictError(ManifestError):
    """A conditional write of the manifest failed: another run changed (or created, or deleted) it meanwhile."""

    def __init__(self, bucket, key, reason):
        super().__init__(
            f"s3://{bucket}/{key} was changed by someone else ({reason}); another run of this campaign may be "
            f"active: stop it, or wait for it, and run again",
            s3_bucket=bucket,
            s3_key=key,
        )


class LockHeldError(WorkMailError):
    """Another run holds the campaign lock and it has not expired."""

    def __init__(self, owner, expires, key):
        super().__init__(
            f"campaign lock {key} is held by {owner} until {expires}; another run of this campaign is active "
            f"(or crashed: the lock expires by itself at that time)",
            lock_owner=owner,
            lock_expires=expires,
        )
        self.owner = owner
        self.expires = expires


class LockLostError(WorkMailError):
    """The campaign lock is no longer this run's (it expired and another run took it over, or it was removed)."""

    def __init__(self, owner, key, reason):
        super().__init__(f"campaign lock {key} is no longer held by {owner}: {reason}", lock_owner=owner)
        self.owner = owner


# Names and keys


def validate_campaign(campaign):
    """``campaign`` itself when it is a valid campaign name; ParameterError naming ``campaign`` otherwise."""
    if not isinstance(campaign, str) or not _CAMPAIGN_RE.match(campaign):
        raise ParameterError(
            "campaign", f"must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', got {campaign!r}"
        )
    return campaign


def _campaign_folder(prefix, campaign):
    validate_campaign(campaign)
    base = (prefix or "").rstrip("/")
    folder = f"{CAMPAIGN_FOLDER}/{campaign}/"
    return f"{base}/{folder}" if base else folder


def manifest_key(prefix, campaign):
    """``<prefix>/mailops-campaigns/<campaign>/manifest.json`` (exactly one ``/`` after a non-empty prefix)."""
    return _campaign_folder(prefix, campaign) + MANIFEST_NAME


def lock_key(prefix, campaign):
    """``<prefix>/mailops-campaigns/<campaign>/lock.json``."""
    return _campaign_folder(prefix, campaign) + LOCK_NAME


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
    not in the manifest yet; entries already there keep their state and history (a size given for them is updated
    only while they are PENDING). Returns the ids added."""
    added = []
    entries = manifest["mailboxes"]
    for mailbox in mailboxes:
        entity_id = mailbox["id"]
        entry = entries.get(entity_id)
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
    if campaign is not None and manifest["campaign"] != campaign:
        _fail(f"it belongs to campaign {manifest['campaign']!r}, not {campaign!r}")
    if organization_id is not None and manifest["organization_id"] != organization_id:
        _fail(
            f"campaign {manifest['campaign']!r} exports organization {manifest['organization_id']}, not "
            f"{organization_id}; use another campaign name for another organization"
        )
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
        record = entry.get("object")
        if record is not None and not isinstance(record, dict):
            _fail(f"mailbox {entity_id!r}: 'object' is neither an object nor null")
        if record is not None and record.get("level") is not None and record["level"] not in VERIFY_LEVELS:
            _fail(f"mailbox {entity_id!r}: unknown verify level {record['level']!r} of its object")
    return manifest


def object_level(record):
    """The verify level of an ``object`` record (``basic`` when it has none), or None for no record."""
    if record is None:
        return None
    return record.get("level") or VERIFY_BASIC


def dumps(manifest):
    """The manifest as stored: UTF-8 JSON, sorted keys, one level of indentation, trailing newline."""
    return (json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def write_local_copy(manifest, path):
    """Write the manifest to ``path`` atomically (a temporary file in the same directory, then rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(dumps(manifest))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


# S3 helpers


def _error_code(error):
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None, None
    code = (response.get("Error") or {}).get("Code")
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return code, status


def _is_conflict(error):
    code, status = _error_code(error)
    return code in _CONFLICT_CODES or status in (409, 412)


def _is_missing(error):
    code, status = _error_code(error)
    return code in _MISSING_CODES or (status == 404 and code not in ("NoSuchBucket",))


def _read(s3_client, bucket, key):
    """(body bytes, etag) of an object, or (None, None) when it does not exist."""
    try:
        response = s3_client.get_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as error:
        if _is_missing(error):
            return None, None
        raise
    return response["Body"].read(), response.get("ETag")


def _conditional_put(s3_client, bucket, key, body, etag, kms_key_arn):
    """PutObject with If-Match ``etag`` (or If-None-Match ``*`` when ``etag`` is None); returns the new ETag.

    A conflict whose current object is byte-for-byte ``body`` is taken as this very write answered twice (a retry
    after a lost answer) and succeeds. Other conflicts raise the botocore error unchanged for the caller to map.
    """
    request = {"Bucket": bucket, "Key": key, "Body": body, "ContentType": CONTENT_TYPE}
    if kms_key_arn:
        request["ServerSideEncryption"] = "aws:kms"
        request["SSEKMSKeyId"] = kms_key_arn
    if etag:
        request["IfMatch"] = etag
    else:
        request["IfNoneMatch"] = "*"
    try:
        return s3_client.put_object(**request).get("ETag")
    except botocore.exceptions.ClientError as error:
        if not _is_conflict(error):
            raise
        current, current_etag = _read(s3_client, bucket, key)
        if current is not None and current == body:
            return current_etag
        raise


class ManifestStore:
    """Loads and saves one campaign manifest in S3 with conditional writes."""

    def __init__(self, s3_client, bucket, key, local_copy=None):
        self.s3 = s3_client
        self.bucket = bucket
        self.key = key
        self.local_copy = local_copy

    def load(self, campaign=None, organization_id=None):
        """(manifest, etag), or (None, None) when there is no manifest yet. ManifestError when it is not usable."""
        body, etag = _read(self.s3, self.bucket, self.key)
        if body is None:
            return None, None
        try:
            manifest = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise ManifestError(f"campaign manifest s3://{self.bucket}/{self.key} is not JSON: {error}") from error
        try:
            validate_manifest(manifest, campaign, organization_id)
        except ManifestError as error:
            raise ManifestError(f"s3://{self.bucket}/{self.key}: {error.message}", **error.details) from error
        return manifest, etag

    def save(self, manifest, etag):
        """Store ``manifest``, replacing the version ``etag`` (creating it when ``etag`` is None); the new ETag.

        ManifestConflictError when the object changed since ``etag`` was read (or exists already on creation).
        The local copy, when configured, is written after S3 accepted the manifest.
        """
        body = dumps(manifest)
        try:
            new_etag = _conditional_put(self.s3, self.bucket, self.key, body, etag, manifest.get("kms_key_arn"))
        except botocore.exceptions.ClientError as error:
            if _is_conflict(error):
                reason = "it exists already" if not etag else f"it is no longer version {etag}"
                raise ManifestConflictError(self.bucket, self.key, reason) from error
            raise
        if self.local_copy:
            write_local_copy(manifest, self.local_copy)
        return new_etag


class CampaignLock:
    """A lock object with an expiry, in the bucket next to the manifest.

    ``owner`` identifies this run (host, process, time); ``now`` is a callable returning an aware datetime.
    A lock whose ``expires`` has passed may be taken over by anyone; a run refreshes its lock well within
    ``ttl_seconds`` (for example after every poll cycle).
    """

    def __init__(self, s3_client, bucket, key, owner, ttl_seconds=900, now=utcnow, kms_key_arn=None):
        if ttl_seconds <= 0:
            raise ParameterError("lock_ttl", f"must be a positive number of seconds, got {ttl_seconds}")
        self.s3 = s3_client
        self.bucket = bucket
        self.key = key
        self.owner = owner
        self.ttl_seconds = ttl_seconds
        self.now = now
        self.kms_key_arn = kms_key_arn
        self.etag = None
        self.document = None

    @property
    def held(self):
        """Does this object believe it holds the lock (acquired and neither released nor lost)?"""
        return self.etag is not None

    def _body(self, acquired=None):
        moment = to_datetime(self.now())
        document = {
            "owner": self.owner,
            "acquired": acquired or iso8601(moment),
            "expires": iso8601(moment.timestamp() + self.ttl_seconds),
        }
        return document, json.dumps(document, sort_keys=True).encode("utf-8")

    def _put(self, etag, acquired=None):
        document, body = self._body(acquired)
        new_etag = _conditional_put(self.s3, self.bucket, self.key, body, etag, self.kms_key_arn)
        self.etag = new_etag
        self.document = document
        return dict(document)

    def _current(self):
        """(document, etag) of the lock object, or (None, None). An unreadable lock counts as expired."""
        body, etag = _read(self.s3, self.bucket, self.key)
        if body is None:
            return None, None
        try:
            document = json.loads(body.decode("utf-8"))
            if not isinstance(document, dict):
                raise ValueError("not an object")
            to_datetime(document.get("expires"))
        except (UnicodeDecodeError, ValueError, TypeError):
            document = {"owner": None, "acquired": None, "expires": None}
        return document, etag

    def _expired(self, document):
        expires = to_datetime(document.get("expires"))
        return expires is None or expires <= to_datetime(self.now())

    def acquire(self):
        """Take the lock; returns its document. LockHeldError when another owner holds it and it has not expired."""
        for dummy in range(3):
            try:
                return self._put(None)
            except botocore.exceptions.ClientError as error:
                if not _is_conflict(error):
                    raise
            document, etag = self._current()
            if document is None:
                continue  # released meanwhile: try to create it again
            if document.get("owner") != self.owner and not self._expired(document):
                raise LockHeldError(document.get("owner"), document.get("expires"), self.key)
            try:
                return self._put(etag)
            except botocore.exceptions.ClientError as error:
                if not _is_conflict(error):
                    raise
            # Someone else took it over (or released it) between our read and our write: look again.
        document, etag = self._current()
        raise LockHeldError((document or {}).get("owner"), (document or {}).get("expires"), self.key)

    def refresh(self):
        """Extend the lock by ``ttl_seconds`` from now; LockLostError when it is no longer ours."""
        if self.etag is None:
            raise LockLostError(self.owner, self.key, "it was not acquired (or was released)")
        acquired = (self.document or {}).get("acquired")
        try:
            return self._put(self.etag, acquired)
        except botocore.exceptions.ClientError as error:
            if not _is_conflict(error):
                raise
            self.etag = None
            document, dummy = self._current()
            holder = (document or {}).get("owner")
            reason = f"it is now held by {holder}" if document else "it was removed"
            raise LockLostError(self.owner, self.key, reason) from error

    def release(self):
        """Delete the lock if it is still ours (DeleteObject with If-Match); True when it was deleted."""
        if self.etag is None:
            return False
        etag, self.etag = self.etag, None
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)
        except botocore.exceptions.ClientError as error:
            if _is_conflict(error) or _is_missing(error):
                return False
            raise
        return True


def snapshot(manifest):
    """A deep copy of the manifest (for diffs and check mode)."""
    return copy.deepcopy(manifest)
