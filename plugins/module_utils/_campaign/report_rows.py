# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rows of a campaign's report, one per mailbox, read from the manifest, and the report's CSV.

:func:`mailbox_rows` turns every mailbox entry of the manifest into a flat dict of :data:`COLUMNS` and the report's
``status`` (what the mailbox waits for, or how it ended); :func:`render_csv` writes them as CSV, with every cell that
a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
prefixed with a quote. Plain Python: no Ansible or AWS imports.
"""

import csv
import io

from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_CONTRADICTED
from ansible_collections.mailops.workmail.plugins.module_utils.common import OUTCOME_VERIFIED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import FAILED_PERMANENTLY
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SKIPPED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import object_level
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import object_outcome

# The CSV's columns, in order (also the keys of a row).
COLUMNS = (
    "id",
    "email",
    "name",
    "type",
    "size_mb",
    "state",
    "attempts",
    "job_id",
    "s3_uri",
    "object_size",
    "encryption_key",
    "verification_level",
    "verification_outcome",
    "problem",
    "start_time",
    "end_time",
)

# The report's statuses of a mailbox, in the order the report counts them, with their labels.
STATUS_VERIFIED = "verified"
STATUS_COMPLETED = "completed"
STATUS_CONTRADICTED = "contradicted"
STATUS_RUNNING = "running"
STATUS_PENDING = "pending"
STATUS_BLOCKED = "blocked_24h"
STATUS_RETRY = "retry"
STATUS_GIVEN_UP = "given_up"
STATUS_SKIPPED = "skipped"
STATUSES = (
    (STATUS_VERIFIED, "Completed and verified"),
    (STATUS_COMPLETED, "Completed, not verified yet"),
    (STATUS_CONTRADICTED, "Completed, verification contradicted"),
    (STATUS_RUNNING, "Running"),
    (STATUS_PENDING, "Pending"),
    (STATUS_BLOCKED, "Blocked by the 24-hour rule"),
    (STATUS_RETRY, "Failed, to be retried"),
    (STATUS_GIVEN_UP, "Given up"),
    (STATUS_SKIPPED, "Skipped (mailbox deleted)"),
)
# Characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def archive_uri(bucket, entry):
    """The S3 URI of a mailbox's archive: the key the verification found, else the S3Path of its last job, else
    None."""
    record = entry.get("object") or {}
    if record.get("key"):
        return f"s3://{bucket}/{record['key']}"
    attempts = entry.get("attempts") or []
    path = attempts[-1].get("s3_path") if attempts else None
    return f"s3://{path}" if path else None


def status(entry, blocked):
    """The report's status of a mailbox entry (:data:`STATUSES`); ``blocked``: the ids the 24-hour rule holds."""
    state = entry["state"]
    if state == COMPLETED:
        outcome = object_outcome(entry.get("object"))
        if outcome == OUTCOME_VERIFIED:
            return STATUS_VERIFIED
        return STATUS_CONTRADICTED if outcome == OUTCOME_CONTRADICTED else STATUS_COMPLETED
    if entry["id"] in blocked and state in (PENDING, FAILED):
        return STATUS_BLOCKED
    return {
        RUNNING: STATUS_RUNNING,
        FAILED: STATUS_RETRY,
        FAILED_PERMANENTLY: STATUS_GIVEN_UP,
        SKIPPED: STATUS_SKIPPED,
    }.get(state, STATUS_PENDING)


def _problem(entry, last):
    record = entry.get("object") or {}
    if entry["state"] == COMPLETED:
        return record.get("problem")
    if entry["state"] in (FAILED, FAILED_PERMANENTLY):
        return last.get("error_info")
    return None


def mailbox_row(bucket, entry, blocked=()):
    """One mailbox's row: the :data:`COLUMNS` and its ``status``."""
    attempts = entry.get("attempts") or []
    last = attempts[-1] if attempts else {}
    record = entry.get("object") or {}
    return {
        "id": entry["id"],
        "email": entry.get("email"),
        "name": entry.get("name"),
        "type": entry.get("type"),
        "size_mb": entry.get("size_mb"),
        "state": entry["state"],
        "attempts": len(attempts),
        "job_id": last.get("job_id"),
        "s3_uri": archive_uri(bucket, entry),
        "object_size": record.get("size"),
        "encryption_key": record.get("kms_key_id"),
        "verification_level": object_level(entry.get("object")),
        "verification_outcome": object_outcome(entry.get("object")),
        "problem": _problem(entry, last),
        "start_time": last.get("start_time"),
        "end_time": last.get("end_time"),
        "status": status(entry, blocked),
        "destination_fault": any(attempt.get("destination_fault") for attempt in attempts),
    }


def mailbox_rows(manifest, blocked=()):
    """The rows of every mailbox of the manifest, by email (then id); ``blocked``: the ids the 24-hour rule holds."""
    held = set(blocked)
    entries = sorted(
        manifest["mailboxes"].values(), key=lambda entry: ((entry.get("email") or "").lower(), entry["id"])
    )
    return [mailbox_row(manifest["s3_bucket"], entry, held) for entry in entries]


def safe_cell(value):
    """A CSV cell: empty for None, numbers as they are, text prefixed with ``'`` when a spreadsheet would read it
    as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render_csv(rows):
    """The CSV (UTF-8 bytes, a header row, CRLF line ends as RFC 4180 says) of ``rows``' :data:`COLUMNS`."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(row[name]) for name in COLUMNS])
    return stream.getvalue().encode("utf-8")


def count_statuses(rows):
    """``{status: count}`` for every status of :data:`STATUSES` (0 when none)."""
    counts = dict.fromkeys((name for name, dummy in STATUSES), 0)
    for row in rows:
        counts[row["status"]] += 1
    return counts
