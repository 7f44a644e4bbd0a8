# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Before a mailbox is exported, S3 is asked whether this campaign exported it already.

The job listing covers 7 days; a manifest that lost a completed attempt older than that (edited by hand, restored
from an old copy, rebuilt after it was deleted) would export the mailbox a second time. So before a new attempt
starts, :func:`find_campaign_export` lists the mailbox's folder under the campaign's prefix (one ListObjectsV2) and
asks WorkMail about the job of each archive found there (DescribeMailboxExportJob, by the job id in its name). A
COMPLETED job whose Description carries a client token of this campaign for this mailbox is this campaign's export:
it is recorded, and the mailbox is not exported again. Archives of other jobs (exported by hand, by another
campaign) do not count, and neither does an archive whose job WorkMail no longer knows.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import prefix_folder
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import adopt_attempt
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import EXPORT_FOLDER
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3AccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker

ARCHIVE_SUFFIX = ".zip"


def archives_of(s3, bucket, prefix, entity_id):
    """``[(key, job id)]`` of the archives in the mailbox's folder (one ListObjectsV2 page); ``[]`` when S3 refuses
    the listing (the start then goes on, as without the check)."""
    folder = prefix_folder(prefix, entity_id)
    try:
        objects = s3.list_folder(EXPORT_FOLDER, bucket, folder)[0]
    except S3AccessDenied:
        return []
    found = []
    for item in objects:
        key = item.get("Key") or ""
        if key.lower().endswith(ARCHIVE_SUFFIX) and item.get("Size"):
            found.append((key, key[len(folder) : -len(ARCHIVE_SUFFIX)]))
    return found


def _attempt_of(manifest, entity_id, token, max_attempts):
    """The attempt number of this campaign's ``token`` for the mailbox, or None."""
    for number in range(1, max_attempts + len(manifest["mailboxes"][entity_id]["attempts"]) + 2):
        if campaign_client_token(manifest["organization_id"], entity_id, manifest["campaign"], number) == token:
            return number
    return None


def _campaign_job(workmail, manifest, entity_id, job_id, max_attempts):
    """``(attempt number, job)`` when job ``job_id`` is a COMPLETED job of this campaign for the mailbox, else
    ``(None, None)``."""
    if "/" in job_id or not job_id:
        return None, None
    try:
        raw = workmail.describe_export_job(manifest["organization_id"], job_id)
    except JobNotFoundError:
        return None, None
    if raw.get("State") != JOB_COMPLETED or raw.get("EntityId") not in (None, entity_id):
        return None, None
    token = parse_marker(raw.get("Description"))
    number = _attempt_of(manifest, entity_id, token, max_attempts) if token else None
    return (number, dict(raw, JobId=job_id)) if number else (None, None)


def find_campaign_export(workmail, s3, manifest, entity_id, moment, max_attempts):
    """Record this campaign's completed export of ``entity_id`` found in S3 (see the module); the repair
    (``{"id", "email", "problem", "repair"}``), or None when there is none and the mailbox may be exported."""
    entry = manifest["mailboxes"][entity_id]
    for key, job_id in archives_of(s3, manifest["s3_bucket"], manifest.get("s3_prefix"), entity_id):
        number, raw = _campaign_job(workmail, manifest, entity_id, job_id, max_attempts)
        if number is None:
            continue
        token = campaign_client_token(manifest["organization_id"], entity_id, manifest["campaign"], number)
        raw.setdefault("S3Path", f"{manifest['s3_bucket']}/{key}")
        adopt_attempt(manifest, entity_id, len(entry["attempts"]) + 1, token, raw, moment, max_attempts)
        return {
            "id": entity_id,
            "email": entry["email"],
            "problem": f"the manifest had no completed export, but s3://{manifest['s3_bucket']}/{key} is the export "
            f"of job {job_id} of this campaign (attempt {number})",
            "repair": "recorded it; the mailbox is COMPLETED and is not exported again",
        }
    return None
