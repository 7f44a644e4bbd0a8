# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Before a mailbox is exported, S3 is asked whether this campaign exported it already.

The job listing covers 7 days; a manifest that lost a completed attempt older than that (edited by hand, restored
from an old copy, rebuilt after it was deleted) would export the mailbox a second time. So before a new attempt
starts, :func:`find_campaign_export` lists the folders an archive of the mailbox may be in, whatever the layout
(``<prefix>/<entity id>/``, ``<prefix>/<email>/``, and ``<prefix>/`` itself, one ListObjectsV2 page each; once the
campaign's checks found where AWS puts the archives, only the folders of those kinds: ``layout["folders"]``), and ties
each archive found there to its job: by the job id its name is, or the job id its export log names (a JSON log
next to it with a ``jobId``). WorkMail then says whose job it is (DescribeMailboxExportJob): a COMPLETED job whose
Description carries a client token of this campaign for this mailbox is this campaign's export. When WorkMail no
longer describes the job, the export log alone decides, and only when it names a client token of this campaign for
this mailbox (a ``clientToken`` field, or a ``description`` with the token's marker): a log that names only the job
and the mailbox cannot tell this campaign's export from one made by hand or by another campaign. The export found is
recorded, and the mailbox is not exported again. Archives of other jobs (exported by hand, by another campaign), of
other mailboxes, and archives no job or log ties to this campaign do not count.
"""

import re
import weakref

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import find_export_log
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import log_fields
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import prefix_folder
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import adopt_attempt
from ansible_collections.mailops.workmail.plugins.module_utils.retries import error_code
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import EXPORT_FOLDER
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3AccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Error
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker

ARCHIVE_SUFFIX = ".zip"
# What a job id may look like (StartMailboxExportJob's JobId: letters, digits and hyphens, at most 63), and what
# the job ids WorkMail gives look like (a UUID): a name of that form is asked about first, another one only when no
# export log names the job.
_JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,63}\Z")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE)
# The errors of DescribeMailboxExportJob for a job id it does not take: the archive's name was not a job id.
_NOT_A_JOB_ID = ("InvalidParameterException", "ValidationException")
# What one pass learned of the archives of the prefix itself (``<prefix>/``, every mailbox's): the export log of
# each and the mailbox of each job, kept per S3 gateway (one module run) so each is read once, not once per mailbox.
_SEEN = weakref.WeakKeyDictionary()


# The kinds of folder an archive may be in (``layout["folders"]`` of the manifest counts them).
FOLDER_KINDS = (("entity", "entity_id"), ("email", "email"), ("prefix", None))
OTHER_FOLDER = "other"


def archive_folders(prefix, entity_id, email=None, kinds=None):
    """``[(folder, shared)]``: where an archive of the mailbox may be, by layout: ``<prefix>/<entity id>/``,
    ``<prefix>/<email>/`` and ``<prefix>/`` (``shared``: every mailbox's archives are there). With ``kinds`` (those
    of :data:`FOLDER_KINDS` the campaign found its archives in), only those folders."""
    folders = []
    names = {"entity_id": entity_id, "email": email, None: ""}
    for kind, field in FOLDER_KINDS:
        name = names[field]
        if name is None or (kinds and kind not in kinds):
            continue
        folder = prefix_folder(prefix, name)
        if folder not in [seen for seen, dummy in folders]:
            folders.append((folder, not name))
    return folders


def folder_kind(manifest, entity_id, key):
    """The kind of folder (:data:`FOLDER_KINDS`, else :data:`OTHER_FOLDER`) the archive ``key`` of the mailbox is
    in."""
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    names = {"entity_id": entity_id, "email": manifest["mailboxes"][entity_id].get("email"), None: ""}
    for kind, field in FOLDER_KINDS:
        if names[field] is not None and folder == prefix_folder(manifest.get("s3_prefix"), names[field]):
            return kind
    return OTHER_FOLDER


def known_kinds(manifest):
    """The kinds of folder the campaign's checks found its archives in, or None (look everywhere) before any check
    found one, or when one was found elsewhere."""
    kinds = ((manifest.get("layout") or {}).get("folders")) or {}
    return None if not kinds or OTHER_FOLDER in kinds else set(kinds)


def archives_of(s3, bucket, folder):
    """``[(key, job id of its name or None, LastModified)]`` of the non-empty ``.zip`` objects of one ListObjectsV2
    page of ``folder``; ``[]`` when S3 refuses the listing (the start then goes on, as without the check)."""
    try:
        objects = s3.list_folder(EXPORT_FOLDER, bucket, folder)[0]
    except S3AccessDenied:
        return []
    found = []
    for item in objects:
        key = item.get("Key") or ""
        if key.lower().endswith(ARCHIVE_SUFFIX) and item.get("Size"):
            name = key[len(folder) : -len(ARCHIVE_SUFFIX)]
            found.append((key, name if _JOB_ID.match(name) else None, item.get("LastModified")))
    return found


def _text(value):
    return value.strip() if isinstance(value, str) and value.strip() else None


def log_ties(s3, bucket, key):
    """What the export log next to archive ``key`` says of its job: ``{"job_id", "entity_id", "token",
    "start_time"}`` (None where the log says nothing, all None without a log)."""
    ties = dict.fromkeys(("job_id", "entity_id", "token", "start_time"))
    try:
        document = find_export_log(s3, bucket, key)["document"]
    except S3Error:
        return ties
    fields = log_fields(document or {})
    ties.update(job_id=_text(fields.get("jobid")), entity_id=_text(fields.get("entityid")))
    ties["token"] = _text(fields.get("clienttoken")) or parse_marker(_text(fields.get("description")))
    ties["start_time"] = fields.get("starttime")
    return ties


def log_time(value):
    """A time of an export log: ISO 8601 text, epoch seconds, or epoch milliseconds (as a number or as text, the
    Administrator Guide's form); None when it is none of them."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return to_datetime(value / 1000 if value > 10**11 else value)
    try:
        return to_datetime(value)
    except (TypeError, ValueError):
        return None


def _attempt_of(manifest, entity_id, token, max_attempts):
    """The attempt number of this campaign's ``token`` for the mailbox, or None."""
    if not token:
        return None
    for number in range(1, max_attempts + len(manifest["mailboxes"][entity_id]["attempts"]) + 2):
        if campaign_client_token(manifest["organization_id"], entity_id, manifest["campaign"], number) == token:
            return number
    return None


class _Search:
    """One look for this campaign's export of one mailbox."""

    def __init__(self, workmail, s3, manifest, entity_id, max_attempts):
        self.workmail = workmail
        self.s3 = s3
        self.manifest = manifest
        self.entity_id = entity_id
        self.max_attempts = max_attempts
        self.bucket = manifest["s3_bucket"]
        try:
            self.seen = _SEEN.setdefault(s3, {"logs": {}, "owners": {}, "forgotten": set()})
        except TypeError:  # an S3 object that cannot be referenced weakly: nothing is kept
            self.seen = {"logs": {}, "owners": {}, "forgotten": set()}

    def ties(self, key, modified, shared):
        """:func:`log_ties` of the archive; those of the prefix's own archives are read once a run."""
        if not shared:
            return log_ties(self.s3, self.bucket, key)
        if (key, str(modified)) not in self.seen["logs"]:
            self.seen["logs"][(key, str(modified))] = log_ties(self.s3, self.bucket, key)
        return self.seen["logs"][(key, str(modified))]

    def described(self, job_id):
        """``(known, attempt number or None, job)``: whether WorkMail describes the job, and when it is a COMPLETED
        job of this campaign for the mailbox, the attempt its Description's token is."""
        if job_id in self.seen["forgotten"]:
            return False, None, None
        try:
            raw = self.workmail.describe_export_job(self.manifest["organization_id"], job_id)
        except JobNotFoundError:
            self.seen["forgotten"].add(job_id)
            return False, None, None
        except Exception as error:  # pylint: disable=broad-except
            if error_code(error)[0] not in _NOT_A_JOB_ID:
                raise
            self.seen["forgotten"].add(job_id)
            return False, None, None
        self.seen["owners"][job_id] = raw.get("EntityId")
        if raw.get("State") != JOB_COMPLETED or (raw.get("EntityId") or self.entity_id) != self.entity_id:
            return True, None, None
        number = _attempt_of(self.manifest, self.entity_id, parse_marker(raw.get("Description")), self.max_attempts)
        return True, number, dict(raw, JobId=job_id) if number else None

    def other_mailbox(self, job_id, ties):
        """Does what is known of the job (its log, an earlier answer of WorkMail) name another mailbox?"""
        owner = ties.get("entity_id") or self.seen["owners"].get(job_id)
        return bool(owner) and owner.lower() != self.entity_id.lower()

    def by_log(self, key, job_id, ties, modified):
        """``(attempt number, job)`` from the export log alone, for a job WorkMail no longer describes: only a log
        naming a client token of this campaign for the mailbox (and no other mailbox) ties the archive to it."""
        number = _attempt_of(self.manifest, self.entity_id, ties.get("token"), self.max_attempts)
        if number is None or self.other_mailbox(job_id, ties):
            return None, None
        raw = {"JobId": job_id, "EntityId": self.entity_id, "State": JOB_COMPLETED}
        raw.update(S3Path=f"{self.bucket}/{key}", EndTime=to_datetime(modified) if modified else None)
        raw["StartTime"] = log_time(ties.get("start_time")) or raw["EndTime"]
        return number, raw

    def export_of(self, key, name_id, modified, shared):
        """``(attempt number, job)`` when the archive ``key`` is this campaign's COMPLETED export of the mailbox,
        else ``(None, None)``."""
        asked = name_id if name_id and _UUID.match(name_id) and not shared else None
        if asked:
            known, number, raw = self.described(asked)
            if known:
                return number, raw
        ties = self.ties(key, modified, shared)
        job_id = ties["job_id"] or name_id
        if ties["job_id"] and name_id and _UUID.match(name_id) and ties["job_id"].lower() != name_id.lower():
            return None, None  # a log of another job: nothing ties this archive
        if not job_id or self.other_mailbox(job_id, ties):
            return None, None
        if job_id != asked:
            known, number, raw = self.described(job_id)
            if known:
                return number, raw
        return self.by_log(key, job_id, ties, modified)


def _repair(manifest, entity_id, key, raw, number):
    how = "" if raw.get("Description") else " (WorkMail no longer describes the job; its export log names it)"
    return {
        "id": entity_id,
        "email": manifest["mailboxes"][entity_id]["email"],
        "problem": f"the manifest had no completed export, but s3://{manifest['s3_bucket']}/{key} is the export of "
        f"job {raw['JobId']} of this campaign (attempt {number}){how}",
        "repair": "recorded it; the mailbox is COMPLETED and is not exported again",
    }


def find_campaign_export(workmail, s3, manifest, entity_id, moment, max_attempts):
    """Record this campaign's completed export of ``entity_id`` found in S3 (see the module); the repair
    (``{"id", "email", "problem", "repair"}``), or None when there is none and the mailbox may be exported."""
    entry = manifest["mailboxes"][entity_id]
    search = _Search(workmail, s3, manifest, entity_id, max_attempts)
    folders = archive_folders(manifest.get("s3_prefix"), entity_id, entry.get("email"), known_kinds(manifest))
    for folder, shared in folders:
        for key, name_id, modified in archives_of(s3, manifest["s3_bucket"], folder):
            number, raw = search.export_of(key, name_id, modified, shared)
            if number is None:
                continue
            token = campaign_client_token(manifest["organization_id"], entity_id, manifest["campaign"], number)
            raw.setdefault("S3Path", f"{manifest['s3_bucket']}/{key}")
            adopt_attempt(manifest, entity_id, len(entry["attempts"]) + 1, token, raw, moment, max_attempts)
            return _repair(manifest, entity_id, key, raw, number)
    return None
