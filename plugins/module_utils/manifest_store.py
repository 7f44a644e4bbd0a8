# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a campaign's manifest and lock live in the bucket, and how they are read and written.

The manifest (:mod:`manifest` describes the document) is one JSON object,
``<prefix>/mailops-campaigns/<campaign>/manifest.json``, replaced after every change with a conditional PutObject:
``If-None-Match: *`` when it is created and ``If-Match: <etag of the version read>`` when it is replaced, so a
concurrent writer is detected (:class:`ManifestConflictError`) instead of silently overwritten. It is encrypted
with SSE-KMS under the campaign's key.

:class:`CampaignLock` is a small JSON object next to the manifest (``lock.json``) holding ``{"owner",
"acquired", "expires"}``, created and taken over with the same conditional writes.

Every S3 call goes through an :class:`~s3.S3Gateway` (retries, error classes). Plain Python: no Ansible imports.
"""

import json
import os
import tempfile

from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import ManifestError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import check_owner
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import dumps
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import parts_below
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import seal
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealed_parts
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import unseal
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import validate_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_parts import SealedParts
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import LOCK
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import MANIFEST
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Conflict
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Missing
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3PreconditionFailed
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.times import utcnow
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_campaign

CAMPAIGN_FOLDER = "mailops-campaigns"
MANIFEST_NAME = "manifest.json"
# The manifest as the last pass found it valid: what a lost or damaged manifest is recovered from.
COPY_NAME = "manifest.previous.json"
# A damaged manifest is kept aside, under this name and the time it was found, before it is replaced.
DAMAGED_NAME = "manifest.damaged-{moment}.json"
LOCK_NAME = "lock.json"
# The changes made since the manifest was last written whole, next to it.
JOURNAL_NAME = "manifest.journal.json"
# A manifest smaller than this is rewritten whole at every save; from this size on (about 100 mailboxes still to
# do: the sealed ones are not in it), saves write the journal.
JOURNAL_FROM = 64 * 1024
# A journal larger than this is folded into the manifest, which is then written whole (and the journal emptied).
JOURNAL_LIMIT = 32 * 1024
CONTENT_TYPE = "application/json"
# What a failed conditional write raises: someone else created, replaced or deleted the object meanwhile.
_LOST_RACE = (S3PreconditionFailed, S3Conflict, S3Missing)


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


# Keys


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


def _parse(body, where):
    """The manifest document in ``body``; ManifestError (naming ``where``) when it is not a format-1 manifest."""
    try:
        manifest = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise ManifestError(f"campaign manifest {where} is not JSON: {error}") from error
    try:
        return validate_manifest(manifest)
    except ManifestError as error:
        raise ManifestError(f"{where}: {error.message}", **error.details) from error


def _belongs(manifest, where, campaign, organization_id):
    """``manifest`` when it is of ``campaign`` and ``organization_id``; ManifestError otherwise (this is not
    damage: the object belongs to someone else, and nothing is recovered over it)."""
    try:
        check_owner(manifest, campaign, organization_id)
        return manifest
    except ManifestError as error:
        raise ManifestError(f"{where}: {error.message}", **error.details) from error


class ManifestStore:
    """Loads and saves one campaign manifest in S3 with conditional writes. ``s3`` is an :class:`~s3.S3Gateway`.

    :meth:`keep_copy` copies the manifest, once the pass has found it valid, to ``manifest.previous.json`` next to
    it; :meth:`load` recovers a manifest that is missing, truncated or invalid from that copy (and keeps a damaged
    one aside), and says so in :attr:`recovery`.
    """

    def __init__(self, s3, bucket, key, local_copy=None, journal_from=JOURNAL_FROM, journal_limit=JOURNAL_LIMIT):
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.local_copy = local_copy
        self.copy_key = key[: -len(MANIFEST_NAME)] + COPY_NAME
        self.recovery = None
        self.journal = Journal(s3, bucket, key[: -len(MANIFEST_NAME)] + JOURNAL_NAME, journal_from, journal_limit)
        self.parts = SealedParts(s3, bucket, key[: -len(MANIFEST_NAME)])
        # What this run found wrong with the sealed parts, and why the local copy was not written (or None).
        self.part_problems = []
        self.local_error = None

    def _uri(self, key):
        return f"s3://{self.bucket}/{key}"

    def load(self, campaign=None, organization_id=None):
        """(manifest, etag), or (None, None) when there is neither a manifest nor a copy of it yet.

        A manifest that is missing while its copy exists, or that is not a valid manifest, is recovered from the
        copy: :attr:`recovery` then says what was wrong and where the manifest came from, and the etag is that of
        the object the first save replaces (None for a missing one). ManifestError when the manifest is not usable
        and no copy is, or when it belongs to another campaign or organization.
        """
        body, etag = self.s3.read_if_exists(MANIFEST, self.bucket, self.key)
        if body is None:
            return self._recover(None, "it is missing", campaign, organization_id), None
        try:
            manifest = _parse(body, self._uri(self.key))
        except ManifestError as damage:
            return self._recover(damage, f"it is damaged ({damage.message})", campaign, organization_id), etag
        _belongs(manifest, self._uri(self.key), campaign, organization_id)
        self.journal.read_into(manifest, body, etag)
        return manifest, etag

    def _recover(self, damage, problem, campaign, organization_id):
        """The manifest recovered from its copy (recorded in :attr:`recovery`), None when there is no copy and the
        manifest is merely missing; ManifestError ``damage`` when it is damaged and there is no usable copy."""
        body = self.s3.read_if_exists(MANIFEST, self.bucket, self.copy_key)[0]
        try:
            manifest = _parse(body, self._uri(self.copy_key)) if body is not None else None
        except ManifestError as error:
            if damage is None:
                raise
            raise ManifestError(f"{damage.message}; its copy is not usable either: {error.message}") from damage
        if manifest is None:
            if damage is not None:
                raise ManifestError(f"{damage.message}; there is no copy of it ({self._uri(self.copy_key)})")
            self.journal.read_beside_copy(None)
            return None
        _belongs(manifest, self._uri(self.copy_key), campaign, organization_id)
        self.journal.read_beside_copy(manifest)
        self.recovery = {
            "problem": f"the campaign manifest {self._uri(self.key)}: {problem}",
            "recovered_from": self._uri(self.copy_key),
            "copy_updated": manifest.get("updated"),
            "damaged": damage is not None,
            "damaged_kept_at": None,
        }
        return manifest

    def keep_damaged(self, moment, kms_key_arn):
        """Copy a damaged manifest aside, encrypted under ``kms_key_arn`` (before the first save replaces it); its
        ``s3://`` URI, or None when no damaged manifest was recovered."""
        if self.recovery is None or not self.recovery["damaged"]:
            return None
        key = self.key[: -len(MANIFEST_NAME)] + DAMAGED_NAME.format(moment=moment.strftime("%Y%m%dT%H%M%SZ"))
        self.s3.copy(MANIFEST, self.bucket, self.key, key, kms_key_arn)
        self.recovery["damaged_kept_at"] = self._uri(key)
        return self.recovery["damaged_kept_at"]

    def keep_copy(self, manifest, etag):
        """Copy the stored manifest (version ``etag``, which the caller found valid) to ``manifest.previous.json``,
        unless the journal says that version was copied already; a copy that fails is left for the next pass
        (False)."""
        if self.journal.copied_etag is not None and self.journal.copied_etag == etag:
            return True
        try:
            self.s3.copy(MANIFEST, self.bucket, self.key, self.copy_key, manifest.get("kms_key_arn"), etag)
        except WorkMailError:
            return False
        self.journal.copied_etag = etag
        return True

    def save(self, manifest, etag):
        """Store ``manifest``, replacing the version ``etag`` (creating it when ``etag`` is None); the new ETag.

        ManifestConflictError when the object changed since ``etag`` was read (or exists already on creation).
        The local copy, when configured, is written after S3 accepted the manifest.
        """
        if not self.journal.write(manifest, etag):
            etag = self._save_whole(manifest, etag)
        self._write_local(manifest)
        return etag

    def _write_local(self, manifest):
        """Write the local copy, whole; one that cannot be written is noted (:attr:`local_error`), not raised: the
        manifest is saved in S3 already."""
        if not self.local_copy:
            return
        try:
            write_local_copy(self.whole(manifest), self.local_copy)
            self.local_error = None
        except (WorkMailError, OSError) as error:
            self.local_error = (
                f"the local copy of the manifest (local_manifest {self.local_copy}) was not written: {error}"
            )

    def check_parts(self, manifest):
        """Note (in :attr:`part_problems`) the sealed parts of ``manifest`` missing from the bucket."""
        for problem in self.parts.missing(manifest):
            if problem not in self.part_problems:
                self.part_problems.append(problem)

    def whole(self, manifest):
        """``manifest`` as one document: its sealed parts' mailboxes back in ``mailboxes`` (and no ``sealed``); the
        manifest itself when nothing is sealed. ManifestError when a part is missing or damaged."""
        if not sealed_parts(manifest):
            return manifest
        document = {name: value for name, value in manifest.items() if name != "sealed"}
        document["mailboxes"] = dict(manifest["mailboxes"])
        document["mailboxes"].update(self.parts.all_entries(manifest))
        return document

    def seal(self, manifest, etag, ids, level, now):
        """Seal the mailboxes ``ids`` of ``manifest`` (verified at ``level``) into a new part, then write the manifest
        whole without them (replacing version ``etag``); the new ETag. A pass that dies in between leaves a part
        no manifest names: the next seal writes its own."""
        document, name, sha256 = self.parts.write(manifest, ids, level, now)
        seal(manifest, document, name, sha256)
        etag = self._save_whole(manifest, etag)
        self._write_local(manifest)
        return etag

    def unseal(self, manifest, etag, level, now):
        """Put the mailboxes of the parts verified below ``level`` back into ``manifest`` (a pass verifying deeper
        checks them again) and write it whole; ``(etag, mailboxes put back)``. The parts stay where they are (a
        copy of the manifest may name them)."""
        count = 0
        for part in parts_below(manifest, level):
            try:
                entries = self.parts.entries(manifest, part)
            except ManifestError as error:
                self.part_problems.append(error.message)  # it stays sealed: the pass goes on without it
                continue
            unseal(manifest, part, entries, now)
            count += part["count"]
        if count:
            etag = self._save_whole(manifest, etag)
            self._write_local(manifest)
        return etag, count

    def _save_whole(self, manifest, etag):
        self.journal.claim(manifest, etag)
        body = dumps(manifest)
        try:
            new_etag = self.s3.replace(
                MANIFEST, self.bucket, self.key, body, CONTENT_TYPE, etag, manifest.get("kms_key_arn")
            )
        except _LOST_RACE as error:
            reason = "it exists already" if not etag else f"it is no longer version {etag}"
            raise ManifestConflictError(self.bucket, self.key, reason) from error
        self.journal.folded(manifest, body, new_etag)
        return new_etag


def _changes(base, manifest):
    """What ``manifest`` changed of ``base`` (the stored manifest): its fields and entries, whole."""
    return {
        "fields": {name: value for name, value in manifest.items() if name != "mailboxes" and base.get(name) != value},
        "dropped_fields": sorted(name for name in base if name not in manifest),
        "mailboxes": {
            entity_id: entry
            for entity_id, entry in manifest["mailboxes"].items()
            if base["mailboxes"].get(entity_id) != entry
        },
        "removed": sorted(entity_id for entity_id in base["mailboxes"] if entity_id not in manifest["mailboxes"]),
    }


def _apply(manifest, journal):
    """Apply a journal's changes to ``manifest`` (in place)."""
    manifest.update(journal.get("fields") or {})
    for name in journal.get("dropped_fields") or []:
        manifest.pop(name, None)
    manifest["mailboxes"].update(journal.get("mailboxes") or {})
    for entity_id in journal.get("removed") or []:
        manifest["mailboxes"].pop(entity_id, None)


class Journal:
    """The changes a large campaign made since its manifest was last written whole (``manifest.journal.json``).

    Rewriting a manifest of thousands of mailboxes after every step would cost megabytes a pass. From
    ``journal_from`` bytes on, a save writes only what changed since the manifest was written whole: its changed
    fields and mailbox entries, whole, tied to that manifest's ETag (a journal of another version is not applied:
    the manifest was replaced since). Once the journal is larger than ``journal_limit`` bytes, the manifest is
    written whole with it folded in, and the journal emptied. Every write is conditional, as the manifest's are.
    Reading the manifest applies its journal; a journal that cannot be read is reported (:attr:`ignored`) and the
    pass repairs from AWS what it held.
    """

    def __init__(self, s3, bucket, key, journal_from, journal_limit):
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.journal_from = journal_from
        self.journal_limit = journal_limit
        self.base = None
        self.base_etag = None
        self.base_size = 0
        self.etag = None
        self.empty = True
        self.copied_etag = None
        self.ignored = None
        # The journal read belongs to another version of the manifest than the one read (written whole since).
        self.other_version = False

    def _read(self):
        """The journal document (None when there is none, or it is damaged: then :attr:`ignored` says so); its
        ETag is kept, so the next write replaces it."""
        journal_body, self.etag = self.s3.read_if_exists(MANIFEST, self.bucket, self.key)
        if journal_body is None:
            return None
        try:
            journal = json.loads(journal_body.decode("utf-8"))
            if not isinstance(journal, dict) or not isinstance(journal.get("mailboxes"), dict):
                raise ValueError("not a journal")
        except (UnicodeDecodeError, ValueError) as error:
            self.empty = False
            self.ignored = f"s3://{self.bucket}/{self.key} is damaged ({error}); what it held is repaired from AWS"
            return None
        self.copied_etag = journal.get("copied_etag")
        self.empty = not (journal["mailboxes"] or journal.get("fields") or journal.get("removed"))
        return journal

    def read_into(self, manifest, body, etag):
        """Remember the stored manifest (``body``, ``etag``) and apply its journal to ``manifest``."""
        self._remember(body, etag)
        journal = self._read()
        if journal is None:
            return
        if journal.get("base_etag") != etag:
            self.other_version = True
            if not self.empty:
                self.ignored = (
                    f"s3://{self.bucket}/{self.key} belongs to another version of the manifest (it was replaced "
                    "since); what it held is repaired from AWS"
                )
            return
        _apply(manifest, journal)

    def read_beside_copy(self, manifest):
        """The manifest is lost: apply the journal to ``manifest``, its copy (None when there is none), when the
        copy is the very version the journal was written against (it was copied before the journal grew)."""
        journal = self._read()
        if journal is None or self.empty:
            return
        if manifest is not None and journal.get("base_etag") and journal.get("base_etag") == self.copied_etag:
            _apply(manifest, journal)
            return
        self.ignored = (
            f"s3://{self.bucket}/{self.key} holds changes to a lost version of the manifest; what it held is "
            "repaired from AWS"
        )

    def claim(self, manifest, etag):
        """Before the manifest is written whole: replace the journal (conditionally, so a writer that changed it
        meanwhile is a conflict) with the changes being folded in; nothing when no journal is kept or exists."""
        if self.etag is None and self.base is None:
            return
        changes = _changes(self.base, manifest) if self.base is not None and etag == self.base_etag else {}
        document = dict(changes, format=1, base_etag=etag, copied_etag=self.copied_etag)
        document.setdefault("mailboxes", {})
        self._put(
            json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8"), manifest.get("kms_key_arn")
        )
        self.empty = False

    def _remember(self, body, etag):
        """The stored manifest the journal's changes are taken against (kept only when it is large enough)."""
        self.base_etag, self.base_size = etag, len(body)
        self.base = json.loads(body) if self.base_size >= self.journal_from else None

    def write(self, manifest, etag):
        """Write the changes of ``manifest`` (whose stored version is ``etag``) to the journal; False when the
        manifest must be written whole instead (it is new or small, or the journal would be too large)."""
        if etag is None or self.base is None or etag != self.base_etag or self.base_size < self.journal_from:
            return False
        changes = dict(_changes(self.base, manifest), format=1, base_etag=etag, copied_etag=self.copied_etag)
        body = json.dumps(changes, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(body) > self.journal_limit:
            return False
        self._put(body, manifest.get("kms_key_arn"))
        self.empty = False
        return True

    def folded(self, manifest, body, etag):
        """The manifest was written whole (``body``, version ``etag``): the journal's changes are in it; empty it."""
        self._remember(body, etag)
        if self.empty:
            return
        empty = {"format": 1, "base_etag": etag, "copied_etag": self.copied_etag, "mailboxes": {}}
        self._put(json.dumps(empty, sort_keys=True).encode("utf-8"), manifest.get("kms_key_arn"))
        self.empty = True

    def _put(self, body, kms_key_arn):
        try:
            self.etag = self.s3.replace(MANIFEST, self.bucket, self.key, body, CONTENT_TYPE, self.etag, kms_key_arn)
        except _LOST_RACE as error:
            reason = "it exists already" if not self.etag else f"it is no longer version {self.etag}"
            raise ManifestConflictError(self.bucket, self.key, reason) from error


class CampaignLock:
    """A lock object with an expiry, in the bucket next to the manifest.

    ``s3`` is an :class:`~s3.S3Gateway`; ``owner`` identifies this run (host, process, time); ``now`` is a callable
    returning an aware datetime. A lock whose ``expires`` has passed may be taken over by anyone; a run refreshes
    its lock well within ``ttl_seconds`` (for example after every poll cycle).
    """

    def __init__(self, s3, bucket, key, owner, ttl_seconds, now=utcnow, kms_key_arn=None):
        if ttl_seconds <= 0:
            raise ParameterError("lock_ttl", f"must be a positive number of seconds, got {ttl_seconds}")
        self.s3 = s3
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

    def _put(self, etag, acquired=None):
        moment = to_datetime(self.now())
        document = {
            "owner": self.owner,
            "acquired": acquired or iso8601(moment),
            "expires": iso8601(moment.timestamp() + self.ttl_seconds),
        }
        body = json.dumps(document, sort_keys=True).encode("utf-8")
        self.etag = self.s3.replace(LOCK, self.bucket, self.key, body, CONTENT_TYPE, etag, self.kms_key_arn)
        self.document = document
        return dict(document)

    def _current(self):
        """(document, etag) of the lock object, or (None, None). An unreadable lock counts as expired."""
        body, etag = self.s3.read_if_exists(LOCK, self.bucket, self.key)
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

    def _take_over(self):
        """One try to take the lock when creating it failed: the lock's document if taken, None to look again."""
        document, etag = self._current()
        if document is None:
            return None  # released meanwhile: try to create it again
        if document.get("owner") != self.owner and not self._expired(document):
            raise LockHeldError(document.get("owner"), document.get("expires"), self.key)
        try:
            return self._put(etag)
        except _LOST_RACE:
            return None  # someone else took it over (or released it) between our read and our write

    def acquire(self):
        """Take the lock; returns its document. LockHeldError when another owner holds it and it has not expired."""
        for dummy in range(3):
            try:
                return self._put(None)
            except _LOST_RACE:
                pass
            taken = self._take_over()
            if taken is not None:
                return taken
        document, etag = self._current()
        raise LockHeldError((document or {}).get("owner"), (document or {}).get("expires"), self.key)

    def refresh(self):
        """Extend the lock by ``ttl_seconds`` from now; LockLostError when it is no longer ours."""
        if self.etag is None:
            raise LockLostError(self.owner, self.key, "it was not acquired (or was released)")
        acquired = (self.document or {}).get("acquired")
        try:
            return self._put(self.etag, acquired)
        except _LOST_RACE as error:
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
            self.s3.delete(LOCK, self.bucket, self.key, if_match=etag)
        except _LOST_RACE:
            return False
        return True
