# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When and where a pass writes the campaign's report: ``report.html`` and ``report.csv`` next to the manifest.

A report of a large campaign is megabytes, so a pass does not write it every time. It writes it when the campaign has
no report yet (its first pass), when the pass finishes the campaign or fails for the destination, and otherwise once
``report_interval`` seconds have passed since the last report, an interval that grows in proportion to the campaign
beyond :data:`REPORT_SCALES_FROM` mailboxes (0: every pass; the action plugin asks for it on what may be the last pass
of a ``wait``); in every case only when what the report says of the mailboxes changed since the
last one (a digest of the rows, kept in the manifest's ``report``: ``{"written", "digest"}``). The report is written
through the S3 gateway, encrypted with SSE-KMS under the campaign's key like the manifest, and, with
``report_local_dir``, to that directory too. A report that cannot be written does not fail the pass: the result says
why, for S3 (``error``) and for the local copies (``local_error``) apart.
"""

import hashlib
import os
import tempfile

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import DestinationFaultError
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import points
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report import render_html
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import mailbox_rows
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import render_csv
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_REPORT_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import mailbox_count
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import MANIFEST_NAME
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import manifest_key
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import REPORT
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime

HTML_NAME = "report.html"
CSV_NAME = "report.csv"
HTML_TYPE = "text/html; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"
# Why a pass wrote the report (the result's ``reason``), or did not.
FIRST = "the campaign had no report yet"
FINISHED = "the campaign is done"
FAILED_PASS = "the pass failed"
EVERY_PASS = "report_interval is 0"
INTERVAL = "report_interval has passed since the last report"
NOT_DUE = "report_interval has not passed since the last report"
UNCHANGED = "nothing the report shows changed since the last report"
LOCAL_ONLY = "the local copies were missing"
CHECK_MODE = "check mode writes nothing"
# From this many mailboxes on, a report (about 0.9 KB a mailbox) is written proportionally less often than
# report_interval asks: every 100 minutes at 10,000 mailboxes with the default 600 seconds.
REPORT_SCALES_FROM = 1000


def report_keys(prefix, campaign):
    """``(html key, csv key)``: ``report.html`` and ``report.csv`` in the folder of the campaign's manifest."""
    folder = manifest_key(prefix, campaign)[: -len(MANIFEST_NAME)]
    return folder + HTML_NAME, folder + CSV_NAME


def report_location(params):
    """The result's ``report`` before anything is written: where the report is (S3 URIs, keys) and whether this pass
    wrote it, to S3 (``written``, ``error``) and to ``report_local_dir`` (``local_written``, ``local_error``; the
    local paths are listed once the copies exist, see :func:`_listed_locally`)."""
    html_key, csv_key = report_keys(params["s3_prefix"], params["campaign"])
    bucket = params["s3_bucket"]
    directory = params.get("report_local_dir")
    return {
        "written": False,
        "reason": None,
        "error": None,
        "html": f"s3://{bucket}/{html_key}",
        "csv": f"s3://{bucket}/{csv_key}",
        "html_key": html_key,
        "csv_key": csv_key,
        "local_written": False,
        "local_error": None,
        "local_html": os.path.join(directory, HTML_NAME) if directory else None,
        "local_csv": os.path.join(directory, CSV_NAME) if directory else None,
    }


def _listed_locally(found):
    """``found`` with its local paths only where a copy exists (written by this pass or an earlier one): a copy that
    could not be written is not listed as if it were there."""
    for name in ("local_html", "local_csv"):
        if found[name] and not os.path.isfile(found[name]):
            found[name] = None
    return found


def scaled_interval(interval, mailboxes):
    """The seconds between two reports of a campaign of ``mailboxes``: ``interval`` up to
    :data:`REPORT_SCALES_FROM` mailboxes, longer in proportion beyond (a report's size grows with the campaign, and
    what a campaign writes to S3 must not)."""
    return interval * max(1.0, mailboxes / REPORT_SCALES_FROM)


def report_due(manifest, moment, interval, finished):
    """Why this pass (at ``moment``) writes the report, ``(True, reason)``, or ``(False, reason)``. ``finished``: the
    pass finished the campaign or failed (then its reason). ``interval`` is scaled to the campaign's size
    (:func:`scaled_interval`)."""
    last = to_datetime((manifest.get("report") or {}).get("written"))
    if last is None:
        return True, FIRST
    if finished:
        return True, finished
    if interval == 0:
        return True, EVERY_PASS
    if (moment - last).total_seconds() >= scaled_interval(interval, mailbox_count(manifest)):
        return True, INTERVAL
    return False, NOT_DUE


def digest(rows, csv_body, failure):
    """What the report says of the mailboxes (its CSV ``csv_body``, their statuses) and of the pass's failure, as a
    SHA-256 hex digest."""
    hashed = hashlib.sha256(csv_body)
    hashed.update("\n".join(row["status"] for row in rows).encode("utf-8"))
    hashed.update((failure or "").encode("utf-8"))
    return hashed.hexdigest()


def write_local(path, body):
    """Write ``body`` to ``path`` atomically (a temporary file in the same directory, then rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".report-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _local_missing(found):
    return any(path and not os.path.exists(path) for path in (found["local_html"], found["local_csv"]))


def _write_s3(s3, manifest, found, bodies):
    """Put both files to S3 under the campaign's key; the error text, or None when both were written."""
    csv_body, html_body = bodies
    try:
        for key, body, content_type in (
            (found["csv_key"], csv_body, CSV_TYPE),
            (found["html_key"], html_body, HTML_TYPE),
        ):
            s3.put(REPORT, manifest["s3_bucket"], key, body, content_type, kms_key_arn=manifest["kms_key_arn"])
    except WorkMailError as error:
        return f"the campaign report could not be written to S3: {error}"
    return None


def _write_locally(found, bodies):
    """Write both local copies; the error text, or None when both were written."""
    csv_body, html_body = bodies
    try:
        for path, body in ((found["local_csv"], csv_body), (found["local_html"], html_body)):
            write_local(path, body)
    except OSError as error:
        directory = os.path.dirname(found["local_html"])
        return f"the local copies of the campaign report could not be written to {directory}: {error}"
    return None


def _note(record, moment, fingerprint, found):
    """Note in the manifest's ``report`` that this pass wrote the report to S3."""
    record.manifest["report"] = {"written": iso8601(moment), "digest": fingerprint}
    try:
        record.save(bookkeeping=True)
    except WorkMailError as error:
        found["error"] = f"the report was written, but the manifest could not note it: {error}"


def publish(s3, record, params, moment, view):
    """Write the report of the manifest ``record`` holds (a :class:`~executor.SavedManifest`) when it is due (see the
    module's description); the result's ``report``. ``moment``: the pass's time; ``view``: ``blocked`` (the ids the
    24-hour rule holds), ``eta`` (the ETA or None), ``finished`` (why the report is due whatever the interval: the
    campaign is done, the pass failed; or None) and ``failure`` (the pass's error text, or None).

    S3 and the local copies are written and reported apart: a local copy that cannot be written leaves the S3 report
    written (``written``, noted in the manifest) and says why in ``local_error``; an S3 write that fails still
    writes the local copies."""
    manifest = record.manifest
    found = report_location(params)
    interval = params.get("report_interval")
    due, found["reason"] = report_due(
        manifest, moment, DEFAULT_REPORT_INTERVAL if interval is None else interval, view.get("finished")
    )
    if not due and not _local_missing(found):
        return _listed_locally(found)
    try:
        whole = record.whole()
    except WorkMailError as error:
        found["error"] = f"the campaign report could not be written: {error}"
        return _listed_locally(found)
    rows = mailbox_rows(whole, view.get("blocked") or ())
    csv_body = render_csv(rows)
    fingerprint = digest(rows, csv_body, view.get("failure"))
    to_s3 = due and fingerprint != (manifest.get("report") or {}).get("digest")
    to_local = bool(found["local_html"]) and (to_s3 or _local_missing(found))
    if not to_s3 and not to_local:
        found["reason"] = UNCHANGED if due else NOT_DUE
        return _listed_locally(found)
    context = {
        "generated": iso8601(moment),
        "manifest_uri": f"s3://{manifest['s3_bucket']}/{manifest_key(params['s3_prefix'], params['campaign'])}",
        "eta": view.get("eta"),
        "history": points(manifest),
        "failure": view.get("failure"),
    }
    bodies = (csv_body, render_html(whole, rows, context))
    if to_s3:
        found["error"] = _write_s3(s3, manifest, found, bodies)
        found["written"] = found["error"] is None
    if to_local:
        found["local_error"] = _write_locally(found, bodies)
        found["local_written"] = found["local_error"] is None
    if not to_s3:
        found["reason"] = LOCAL_ONLY
    if found["written"]:
        _note(record, moment, fingerprint, found)
    return _listed_locally(found)


def pass_report(s3, record, params, result):
    """The report of a pass that ended (``result``: the module result so far, with its ``eta``)."""
    view = {
        "blocked": [item["id"] for item in result.get("blocked_24h") or []],
        "eta": result.get("eta"),
        "finished": FINISHED if result.get("done") else None,
        "failure": None,
    }
    return publish(s3, record, params, to_datetime(result["pass"]["now"]), view)


def failed_pass_report(s3, record, params, moment, error):
    """Write the report of a pass the destination stopped (a DestinationFaultError), with the fault first; any other
    error, or a manifest never saved, writes nothing. Never raises: the pass's own error is what the task reports."""
    if not isinstance(error, DestinationFaultError) or record is None or record.manifest is None or not record.etag:
        return None
    view = {"blocked": (), "eta": None, "finished": FAILED_PASS, "failure": str(error)}
    try:
        return publish(s3, record, params, moment, view)
    except Exception:  # pylint: disable=broad-exception-caught
        return None


def check_mode_report(params):
    """The result's ``report`` in check mode: where it is; nothing is written."""
    found = report_location(params)
    found["reason"] = CHECK_MODE
    return _listed_locally(found)


def stored_report(manifest, params):
    """Where the campaign's report is and when a pass last wrote it (``written``, None when none did yet), as
    workmail_organization_export_info returns it."""
    found = report_location(params)
    return {
        "html": found["html"],
        "csv": found["csv"],
        "html_key": found["html_key"],
        "csv_key": found["csv_key"],
        "written": (manifest.get("report") or {}).get("written"),
    }
