# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sealed parts of a campaign's manifest: its finished mailboxes, in objects beside it that are never rewritten.

A pass of a campaign of thousands of mailboxes would otherwise read, parse and scan every finished mailbox again,
every time. Once :data:`manifest.SEAL_BATCH` or more are COMPLETED and verified, :class:`SealedParts` writes them,
as a manifest document of their own (``part``, ``level``, their entries), to
``manifest.sealed-<number>-<sha256 prefix>.json`` next to the manifest, with ``If-None-Match: *`` and SSE-KMS under
the campaign's key; the manifest then drops them and records the part (:func:`manifest.seal`). A part's name is its
content's digest, so a part is never replaced: a write that finds the name taken finds the same content, and a
copy of the manifest (``manifest.previous.json``) still names parts that exist.

Reading a part checks its SHA-256 against the manifest's record and validates it as a manifest of the same campaign
and organization; a part that is missing or does not match is a ManifestError naming it and what it held. Parts
read are kept for the life of the object (they never change).
"""

import hashlib
import json

from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SEALED_PART_NAME
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import ManifestError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import dumps
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealed_part_document
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealed_parts
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import validate_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import MANIFEST
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Conflict
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3PreconditionFailed

CONTENT_TYPE = "application/json"


class SealedParts:
    """The sealed parts of the manifest in ``folder`` (its key prefix, ending in ``/``) of ``bucket``, through
    ``s3`` (an :class:`~s3.S3Gateway`)."""

    def __init__(self, s3, bucket, folder):
        self.s3 = s3
        self.bucket = bucket
        self.folder = folder
        self._read = {}

    def uri(self, name):
        return f"s3://{self.bucket}/{self.folder}{name}"

    def write(self, manifest, ids, level, now):
        """Write the mailboxes ``ids`` of ``manifest`` (verified at ``level``) as a new part; ``(document, name,
        sha256)`` for :func:`manifest.seal`."""
        document = sealed_part_document(manifest, ids, level, now)
        body = dumps(document)
        sha256 = hashlib.sha256(body).hexdigest()
        name = SEALED_PART_NAME.format(number=document["part"], digest=sha256[:16])
        try:
            self.s3.put(
                MANIFEST,
                self.bucket,
                self.folder + name,
                body,
                CONTENT_TYPE,
                kms_key_arn=manifest.get("kms_key_arn"),
                if_none_match=True,
            )
        except (S3PreconditionFailed, S3Conflict):
            # The name is taken: by this very content (a pass that died before its manifest named the part), unless
            # the object says otherwise.
            self._check(name, sha256, self.s3.read_if_exists(MANIFEST, self.bucket, self.folder + name)[0])
        self._read[name] = dict(document["mailboxes"])
        return document, name, sha256

    def _check(self, name, sha256, body):
        """ManifestError unless ``body`` (the part ``name`` as read, None when missing) has the digest ``sha256``."""
        if body is None:
            raise ManifestError(f"sealed part {self.uri(name)} of the campaign manifest is missing")
        found = hashlib.sha256(body).hexdigest()
        if found != sha256:
            raise ManifestError(
                f"sealed part {self.uri(name)} of the campaign manifest is not the one the manifest names "
                f"(SHA-256 {found}, not {sha256})"
            )

    def entries(self, manifest, part):
        """``{id: entry}`` of the sealed ``part`` of ``manifest``, read and checked (ManifestError: missing, another
        digest, not a manifest of this campaign, other mailboxes than the manifest says)."""
        name = part["name"]
        if name in self._read:
            return self._read[name]
        try:
            body = self.s3.read_if_exists(MANIFEST, self.bucket, self.folder + name)[0]
            self._check(name, part["sha256"], body)
            document = validate_manifest(json_document(body), manifest["campaign"], manifest["organization_id"])
            if sorted(document["mailboxes"]) != part["ids"]:
                raise ManifestError(f"sealed part {self.uri(name)} holds other mailboxes than the manifest says")
        except ManifestError as error:
            raise ManifestError(damaged_part(error.message, part), sealed_part=self.uri(name)) from error
        self._read[name] = document["mailboxes"]
        return self._read[name]

    def missing(self, manifest):
        """The sealed parts of ``manifest`` that are not in the bucket (one listing of the parts' names), each as
        the text :func:`damaged_part` gives."""
        if not sealed_parts(manifest):
            return []
        listed = set()
        token = None
        while True:
            found, token = self.s3.list_objects(MANIFEST, self.bucket, self.folder + "manifest.sealed-", token)
            listed.update(item["Key"][len(self.folder) :] for item in found)
            if token is None:
                break
        return [
            damaged_part(f"sealed part {self.uri(part['name'])} of the campaign manifest is missing", part)
            for part in sealed_parts(manifest)
            if part["name"] not in listed
        ]

    def all_entries(self, manifest):
        """``{id: entry}`` of every sealed part of ``manifest``."""
        found = {}
        for part in sealed_parts(manifest):
            found.update(self.entries(manifest, part))
        return found


def damaged_part(problem, part):
    """The text of a sealed ``part`` that cannot be read back (``problem``): what it held and what to do."""
    return (
        f"{problem}; it holds the records of {part['count']} mailboxes the campaign exported and verified at level "
        f"{part['level']} (their exports are in S3). Restore the object (from an earlier version, when the bucket "
        "keeps versions). Until then the campaign carries on, but the manifest cannot be read back whole "
        "(workmail_organization_export_info fails, the report and local_manifest are not written) and a deeper "
        "verify leaves those mailboxes unchecked"
    )


def json_document(body):
    """The JSON document ``body`` holds; ManifestError when it holds none."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise ManifestError(f"not JSON: {error}") from error
