# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Mailbox export jobs: start once, find again, cancel, wait, list.

Idempotency rests on the ClientToken. A token is given by the caller or derived (:func:`derive_client_token`)
from the organization, the resolved entity id, the bucket, the prefix, the role and the key. Because
ListMailboxExportJobs does not return tokens, the token is recorded in the job's Description as a trailing
marker ``[mailops:client_token=<token>]`` (see :mod:`tokens`), and a later run finds the job by listing the
organization's jobs (all pages) and parsing the markers. The list only covers jobs started within the last
7 days; for an older job, AWS's own ClientToken idempotency is the remaining safeguard (a StartMailboxExportJob
answered with a job that started before this run is reported as changed=False).

Functions take a :class:`~workmail.WorkMailClient` (or an object with its methods) and return plain dicts:
jobs are normalized to snake_case (:func:`normalize_job`) with ISO 8601 times.
"""

import time
from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_CANCELLED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAILBOX_EXPORT_INTERVAL_HOURS
from ansible_collections.mailops.workmail.plugins.module_utils.entities import entity_id_kind
from ansible_collections.mailops.workmail.plugins.module_utils.entities import resolve_entity
from ansible_collections.mailops.workmail.plugins.module_utils.errors import CancelError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import CancelRefusedError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobAWSError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobCancelledError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobFailedError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WaitTimeoutError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.limits import EXPORT_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.limits import explain_limit
from ansible_collections.mailops.workmail.plugins.module_utils.limits import newest_first
from ansible_collections.mailops.workmail.plugins.module_utils.limits import recent_unsuccessful_warning
from ansible_collections.mailops.workmail.plugins.module_utils.limits import same_entity
from ansible_collections.mailops.workmail.plugins.module_utils.retries import is_aws_error
from ansible_collections.mailops.workmail.plugins.module_utils.times import JOB_TIME_FIELDS
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import service_now
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.times import utcnow
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import cancel_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import derive_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker

# A started job whose StartTime is older than the run's start by more than this is an old job AWS matched to
# the token (the margin absorbs clock differences between this host and AWS).
CLOCK_SKEW_TOLERANCE = timedelta(minutes=5)

# (API field, returned field), in the order of DescribeMailboxExportJob's documentation.
JOB_FIELDS = (
    ("JobId", "job_id"),
    ("EntityId", "entity_id"),
    ("Description", "description"),
    ("RoleArn", "role_arn"),
    ("KmsKeyArn", "kms_key_arn"),
    ("S3BucketName", "s3_bucket_name"),
    ("S3Prefix", "s3_prefix"),
    ("S3Path", "s3_path"),
    ("EstimatedProgress", "estimated_progress"),
    ("State", "state"),
    ("ErrorInfo", "error_info"),
    ("StartTime", "start_time"),
    ("EndTime", "end_time"),
)


def _ignore_warning(message):  # pylint: disable=unused-argument
    return None


def normalize_job(raw, client_token=None):
    """A job as returned by the modules: every DescribeMailboxExportJob field in snake_case plus ``job_id`` and
    ``client_token``; missing fields are None, times are ISO 8601 text in UTC. ``client_token`` defaults to the
    token recorded in the Description marker (None for jobs started outside this collection)."""
    job = {}
    for api_name, name in JOB_FIELDS:
        value = raw.get(api_name)
        if api_name in JOB_TIME_FIELDS:
            value = iso8601(value)
        job[name] = value
    job["client_token"] = client_token if client_token else parse_marker(raw.get("Description"))
    return job


class ExportRequest:
    """Everything StartMailboxExportJob needs, with the entity resolved and the client token decided."""

    def __init__(
        self,
        organization_id,
        entity_id,
        role_arn,
        kms_key_arn,
        s3_bucket,
        s3_prefix,
        client_token=None,
        description=None,
    ):
        self.organization_id = organization_id
        self.entity_id = entity_id
        self.role_arn = role_arn
        self.kms_key_arn = kms_key_arn
        self.s3_bucket = s3_bucket
        self.s3_prefix = s3_prefix
        # A derived token is a digest of the start parameters; a given one says nothing about them.
        self.client_token_given = bool(client_token)
        self.client_token = client_token or derive_client_token(
            organization_id, entity_id, s3_bucket, s3_prefix, role_arn, kms_key_arn
        )
        self.description = description

    @property
    def full_description(self):
        """The Description sent to AWS: the user's description and the client-token marker."""
        return build_description(self.description, self.client_token)

    def predicted_job(self):
        """The job a start would create, as far as it is known before AWS answers."""
        return {
            "job_id": None,
            "entity_id": self.entity_id,
            "description": self.full_description,
            "role_arn": self.role_arn,
            "kms_key_arn": self.kms_key_arn,
            "s3_bucket_name": self.s3_bucket,
            "s3_prefix": self.s3_prefix,
            "s3_path": None,
            "estimated_progress": 0,
            "state": JOB_RUNNING,
            "error_info": None,
            "start_time": None,
            "end_time": None,
            "client_token": self.client_token,
        }


def build_export_request(client, params):
    """An :class:`ExportRequest` from module parameters (resolves ``entity``, derives the token if not given)."""
    organization_id = params["organization_id"]
    entity = resolve_entity(client, organization_id, params["entity"])
    return ExportRequest(
        organization_id=organization_id,
        entity_id=entity["id"],
        role_arn=params["role_arn"],
        kms_key_arn=params["kms_key_arn"],
        s3_bucket=params["s3_bucket"],
        s3_prefix=params["s3_prefix"],
        client_token=params.get("client_token"),
        description=params.get("description"),
    )


# Listings


def jobs_with_token(listing, client_token):
    """The raw listed jobs whose Description marker records ``client_token``, newest first."""
    return newest_first([job for job in listing if parse_marker(job.get("Description")) == client_token])


def find_job_by_token(client, organization_id, client_token, listing=None):
    """The newest job (within the 7-day list window) started with ``client_token``, fully described, or None.

    One listing (all pages; ``listing`` when the caller has already listed the jobs), then
    DescribeMailboxExportJob for the fields the listing lacks.
    """
    if listing is None:
        listing = client.list_export_jobs(organization_id)
    matches = jobs_with_token(listing, client_token)
    if not matches:
        return None
    try:
        raw = client.describe_export_job(organization_id, matches[0]["JobId"])
    except JobNotFoundError:
        raw = matches[0]
    return normalize_job(raw, client_token)


def describe_job(client, organization_id, job_id, client_token=None):
    """One job, normalized, or None when it does not exist."""
    try:
        return normalize_job(client.describe_export_job(organization_id, job_id), client_token)
    except JobNotFoundError:
        return None


# (module option, returned job field, ExportRequest attribute) compared when a client token finds a job.
_COMPARED_PARAMETERS = (
    ("s3_bucket", "s3_bucket_name", "s3_bucket"),
    ("s3_prefix", "s3_prefix", "s3_prefix"),
    ("role_arn", "role_arn", "role_arn"),
    ("kms_key_arn", "kms_key_arn", "kms_key_arn"),
)


def check_same_export(job, request):
    """Refuse a job found by a given client token when it exports another mailbox or to another destination.

    A client token identifies one export: returning a job of another mailbox (or bucket, prefix, role or key) as
    "already done" would silently skip this export. Raises :class:`ParameterError` naming ``client_token``, with
    the job, before anything is started. Fields the job does not report (a listed job that could not be
    described) are not compared; nor is the mailbox when it was given as an ``S-1-…`` id, which jobs may report
    as another id.

    A derived token is a digest of exactly these parameters, so a job found by it is not compared: a difference
    could only be the service spelling a parameter its own way.
    """
    if not request.client_token_given:
        return
    job_id = job.get("job_id")
    entity_id = job.get("entity_id")
    comparable_entity = entity_id is not None and entity_id_kind(request.entity_id) != "SID"
    if comparable_entity and entity_id.lower() != request.entity_id.lower():
        differences = ""
    else:
        found = []
        for option, field, attribute in _COMPARED_PARAMETERS:
            have, wanted = job.get(field), getattr(request, attribute)
            if have is not None and wanted is not None and have != wanted:
                found.append(f"{option} {have!r} (this task: {wanted!r})")
        if not found:
            return
        differences = " with " + ", ".join(found)
    raise ParameterError(
        "client_token",
        f"is already used by job {job_id} for mailbox {entity_id}{differences}; a client token identifies one "
        f"export: use another token",
        job_id=job_id,
        mailbox_export_job=job,
        changed=False,
    )


def _with_job(error, job_id, job, changed, context):
    """The exception to raise for ``error``, caught while handling job ``job_id``, so the failure says which job.

    A :class:`WorkMailError` gets ``job_id``, ``mailbox_export_job`` (when known) and ``changed`` in its details
    and is returned itself; a botocore error is wrapped in a :class:`JobAWSError` (``context`` is its message;
    a module reports the botocore error with ``fail_json_aws`` and those details); anything else is returned
    unchanged.
    """
    if isinstance(error, WorkMailError):
        if not error.details.get("job_id"):
            error.details["job_id"] = job_id
        if job is not None and error.details.get("mailbox_export_job") is None:
            error.details["mailbox_export_job"] = job
        error.details["changed"] = changed
        return error
    if is_aws_error(error):
        return JobAWSError(context, error, job_id, job, changed)
    return error


# Start


def ensure_started(client, request, check_mode, warn=None, now=utcnow):
    """Start the export described by ``request`` unless a job for its client token exists.

    Returns ``(changed, job, diff)`` where ``job`` is normalized and ``diff`` is ``{"before", "after"}``.

    - A listed job whose Description marker records the token: that job, changed=False; a ParameterError when the
      token was given and that job exports another mailbox or to another destination (:func:`check_same_export`).
    - Check mode: the predicted job (state RUNNING, job_id None), changed=True; a LimitError when the listing
      shows the start would be refused (10 running jobs, or this mailbox exported in the last 24 hours by a
      RUNNING or COMPLETED job); a warning when only FAILED/CANCELLED jobs of the mailbox are that recent.
    - Otherwise StartMailboxExportJob with the token, then DescribeMailboxExportJob. A job that was not listed
      before and did not start before this run is new (changed=True); else AWS matched the token to an old job
      (changed=False, checked like a listed one). LimitExceededException is raised as an explained
      :class:`LimitError`. Once the start has succeeded, any failure carries ``job_id`` and ``changed=True``.
    """
    warn = _ignore_warning if warn is None else warn
    organization_id = request.organization_id
    listing = client.list_export_jobs(organization_id)
    moment = service_now(client, listing, now)

    job = find_job_by_token(client, organization_id, request.client_token, listing=listing)
    if job is not None:
        check_same_export(job, request)
        return False, job, {"before": job, "after": job}

    if check_mode:
        return _predicted_start(listing, request, moment, warn)

    listed_ids = {job.get("JobId") for job in listing}
    try:
        job_id = client.start_export_job(
            organization_id,
            request.entity_id,
            request.role_arn,
            request.kms_key_arn,
            request.s3_bucket,
            request.s3_prefix,
            request.client_token,
            description=request.full_description,
        )
    except LimitError as refusal:
        raise _explain_refusal(client, request, listing, refusal, now) from refusal

    try:
        raw = client.describe_export_job(organization_id, job_id, not_found_retries=True)
    except Exception as error:  # pylint: disable=broad-except
        context = f"mailbox export job {job_id} was started, but describing it failed"
        raise _with_job(error, job_id, None, True, context)  # pylint: disable=raise-missing-from
    job = normalize_job(raw, request.client_token)
    started = to_datetime(raw.get("StartTime"))
    is_new = job_id not in listed_ids and (started is None or started >= moment - CLOCK_SKEW_TOLERANCE)
    if not is_new:
        check_same_export(job, request)
        warn(
            f"AWS answered client token {request.client_token} with existing job {job_id} (started "
            f"{job['start_time']}), which the 7-day job list did not show with this token; no new job was started"
        )
        return False, job, {"before": job, "after": job}
    return True, job, {"before": {}, "after": job}


def _predicted_start(listing, request, moment, warn):
    """Check mode's answer for a start: the predicted job, or the LimitError the listing shows AWS would give."""
    error = explain_limit(listing, request.organization_id, request.entity_id, moment, check_mode=True)
    if error is not None:
        raise error
    warning = recent_unsuccessful_warning(listing, request.entity_id, moment)
    if warning:
        warn(warning)
    job = request.predicted_job()
    return True, job, {"before": {}, "after": job}


def _explain_refusal(client, request, listing, refusal, now):
    try:
        fresh = client.list_export_jobs(request.organization_id)
    except Exception:  # pylint: disable=broad-except
        fresh = listing  # the earlier listing still explains most refusals
    moment = service_now(client, fresh, now)
    return explain_limit(fresh, request.organization_id, request.entity_id, moment, aws_message=refusal.aws_message)


# Cancel


def ensure_cancelled(client, organization_id, job_id=None, client_token=None, check_mode=False, warn=None):
    """Cancel a RUNNING job given by ``job_id`` or found by ``client_token``.

    Returns ``(changed, job, diff)``. A missing job: changed=False, job None. A job that is not RUNNING:
    changed=False with that job. Check mode: changed=True with the job predicted as CANCELLED. After an accepted
    cancellation the job is returned as DescribeMailboxExportJob shows it, which may still be RUNNING for a moment
    (cancelling may take effect asynchronously; :func:`wait_until_stopped` waits for it). If AWS refuses the
    cancellation with InvalidParameterException and the job is still RUNNING, :class:`CancelError` (too near
    completion); if it has finished meanwhile, changed=False and a warning. Any other error propagates.
    """
    warn = _ignore_warning if warn is None else warn
    nothing = {"before": {}, "after": {}}
    if job_id is None:
        if client_token is None:
            raise ParameterError("job_id", "job_id or client_token is required to find the job to cancel")
        job = find_job_by_token(client, organization_id, client_token)
        if job is None:
            return False, None, nothing
        job_id = job["job_id"]
    else:
        job = describe_job(client, organization_id, job_id)
        if job is None:
            return False, None, nothing

    if job["state"] != JOB_RUNNING:
        return False, job, {"before": job, "after": job}

    if check_mode:
        after = dict(job, state=JOB_CANCELLED)
        return True, after, {"before": job, "after": after}

    try:
        client.cancel_export_job(organization_id, job_id, cancel_client_token(job_id))
    except JobNotFoundError:
        return False, None, {"before": job, "after": {}}
    except CancelRefusedError as refusal:
        current = describe_job(client, organization_id, job_id)
        if current is None:
            raise refusal.original or refusal  # pylint: disable=raise-missing-from
        if current["state"] == JOB_RUNNING:
            raise CancelError(job_id, current, refusal.aws_message) from refusal
        warn(
            f"mailbox export job {job_id} is {current['state']}: it finished before it could be cancelled "
            f"(AWS refused the cancellation: {refusal.aws_message})"
        )
        return False, current, {"before": job, "after": current}

    try:
        after = describe_job(client, organization_id, job_id) or dict(job, state=JOB_CANCELLED)
    except Exception as error:  # pylint: disable=broad-except
        context = f"the cancellation of mailbox export job {job_id} was accepted, but describing the job failed"
        raise _with_job(error, job_id, job, True, context)  # pylint: disable=raise-missing-from
    if after["state"] == JOB_COMPLETED:
        warn(f"mailbox export job {job_id} COMPLETED before the cancellation took effect")
        return False, after, {"before": job, "after": after}
    return True, after, {"before": job, "after": after}


# Wait


def _poll(client, organization_id, job_id, timeout, done, sleep, monotonic, initial_delay, max_delay, factor, purpose):
    deadline = monotonic() + timeout
    delay = initial_delay
    while True:
        job = normalize_job(client.describe_export_job(organization_id, job_id))
        if done(job):
            return job
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise WaitTimeoutError(job_id, timeout, job, purpose=purpose)
        sleep(min(delay, remaining))
        delay = min(delay * factor, max_delay)


def wait_for_job(
    client,
    organization_id,
    job_id,
    timeout,
    sleep=time.sleep,
    monotonic=time.monotonic,
    initial_delay=3,
    max_delay=60,
    factor=1.5,
):
    """Poll DescribeMailboxExportJob until the job is COMPLETED and return it (normalized).

    The first poll is immediate; then the delay starts at ``initial_delay`` seconds and grows by ``factor`` up
    to ``max_delay``. FAILED raises :class:`JobFailedError` (with ErrorInfo), CANCELLED raises
    :class:`JobCancelledError`, and a job still RUNNING after ``timeout`` seconds raises
    :class:`WaitTimeoutError` with its last progress; the job is left running, so waiting again resumes.
    """

    def done(job):
        if job["state"] == JOB_FAILED:
            raise JobFailedError(job_id, job["error_info"], job)
        if job["state"] == JOB_CANCELLED:
            raise JobCancelledError(job_id, job)
        return job["state"] == JOB_COMPLETED

    return _poll(
        client, organization_id, job_id, timeout, done, sleep, monotonic, initial_delay, max_delay, factor, "complete"
    )


def wait_until_stopped(
    client,
    organization_id,
    job_id,
    timeout,
    sleep=time.sleep,
    monotonic=time.monotonic,
    initial_delay=3,
    max_delay=60,
    factor=1.5,
):
    """Poll until the job has left RUNNING (after a cancellation) and return it; WaitTimeoutError otherwise."""
    return _poll(
        client,
        organization_id,
        job_id,
        timeout,
        lambda job: job["state"] != JOB_RUNNING,
        sleep,
        monotonic,
        initial_delay,
        max_delay,
        factor,
        "stop",
    )


# Listing for the _info module


def job_matches(raw, entity_id=None, states=None, client_token=None, s3_bucket=None):
    """Does a raw job pass the filters (each one ignored when None)?"""
    if entity_id is not None and not same_entity(raw, entity_id):
        return False
    if states and raw.get("State") not in states:
        return False
    if client_token is not None and parse_marker(raw.get("Description")) != client_token:
        return False
    if s3_bucket is not None and raw.get("S3BucketName") != s3_bucket:
        return False
    return True


def list_jobs(client, organization_id, entity_id=None, states=None, client_token=None, s3_bucket=None, details=False):
    """The organization's jobs (the 7-day list window, all pages) that pass the filters, newest first.

    ``details`` adds DescribeMailboxExportJob's fields the listing lacks (role_arn, kms_key_arn, s3_prefix,
    error_info) with one describe per listed job; without it those fields are None.
    """
    listing = client.list_export_jobs(organization_id)
    selected = newest_first([job for job in listing if job_matches(job, entity_id, states, client_token, s3_bucket)])
    jobs = []
    for raw in selected:
        if details:
            try:
                raw = dict(raw, **client.describe_export_job(organization_id, raw["JobId"]))
            except JobNotFoundError:
                pass
        jobs.append(normalize_job(raw))
    return jobs


# Module entry points


def _retry_hint(job, request):
    """What to do about a FAILED or CANCELLED job that the client token keeps finding."""
    how = "given" if request.client_token_given else "derived from the start parameters"
    started = to_datetime(job.get("start_time"))
    until = f" until {iso8601(started + EXPORT_INTERVAL)}" if started is not None else ""
    return (
        f"client token {request.client_token} ({how}) always finds this job, so a new attempt needs another "
        f"client_token; AWS allows one export per mailbox every {MAILBOX_EXPORT_INTERVAL_HOURS} hours and may count "
        f"this job, so it may refuse a new export of mailbox {job.get('entity_id') or request.entity_id}{until}"
    )


def _unsuccessful(job, request, changed):
    """The error for a job of ``request`` that ended FAILED or CANCELLED, with the retry hint and ``changed``."""
    hint = _retry_hint(job, request)
    if job["state"] == JOB_FAILED:
        error = JobFailedError(job["job_id"], job.get("error_info"), job, hint=hint)
    else:
        error = JobCancelledError(job["job_id"], job, hint=hint)
    error.details["changed"] = changed
    return error


def run_present(client, params, check_mode=False, warn=None, now=utcnow, sleep=time.sleep, monotonic=time.monotonic):
    """workmail_mailbox_export with state=present: result dict ``changed``, ``mailbox_export_job``, ``diff``.

    A job of the client token that is (or ends, while waiting) FAILED or CANCELLED fails the task
    (:class:`JobFailedError` / :class:`JobCancelledError` saying a new attempt needs another client token), also
    without ``wait`` and in check mode. Every failure once the job is known carries ``job_id`` and ``changed``.
    """
    warn = _ignore_warning if warn is None else warn
    request = build_export_request(client, params)
    changed, job, diff = ensure_started(client, request, check_mode, warn=warn, now=now)
    if job["state"] in (JOB_FAILED, JOB_CANCELLED):
        raise _unsuccessful(job, request, changed)
    if job["state"] == JOB_RUNNING and params.get("wait") and not check_mode:
        job_id = job["job_id"]
        try:
            job = wait_for_job(client, request.organization_id, job_id, params["wait_timeout"], sleep, monotonic)
        except (JobFailedError, JobCancelledError) as error:
            raise _unsuccessful(dict(error.job, client_token=request.client_token), request, changed) from error
        except Exception as error:  # pylint: disable=broad-except
            context = f"waiting for mailbox export job {job_id} failed"
            raise _with_job(error, job_id, job, changed, context)  # pylint: disable=raise-missing-from
        job["client_token"] = request.client_token
        diff["after"] = job
    return {"changed": changed, "mailbox_export_job": job, "diff": diff}


def run_absent(client, params, check_mode=False, warn=None, sleep=time.sleep, monotonic=time.monotonic):
    """workmail_mailbox_export with state=absent: result dict ``changed``, ``mailbox_export_job``, ``diff``.

    With ``wait``, a job that still reports RUNNING after an accepted cancellation is polled until it has stopped.
    """
    warn = _ignore_warning if warn is None else warn
    organization_id = params["organization_id"]
    job_id = params.get("job_id")
    client_token = params.get("client_token")
    if job_id is None and client_token is None:
        client_token = build_export_request(client, params).client_token
    changed, job, diff = ensure_cancelled(client, organization_id, job_id, client_token, check_mode, warn)
    if changed and params.get("wait") and not check_mode and job and job["state"] == JOB_RUNNING:
        job_id = job["job_id"]
        try:
            job = wait_until_stopped(client, organization_id, job_id, params["wait_timeout"], sleep, monotonic)
        except Exception as error:  # pylint: disable=broad-except
            context = f"waiting for cancelled mailbox export job {job_id} to stop failed"
            raise _with_job(error, job_id, job, changed, context)  # pylint: disable=raise-missing-from
        diff["after"] = job
        if job["state"] == JOB_COMPLETED:
            warn(f"mailbox export job {job_id} COMPLETED before the cancellation took effect")
            changed = False
    return {"changed": changed, "mailbox_export_job": job, "diff": diff}


def run_export_job(client, params, check_mode=False, warn=None, now=utcnow, sleep=time.sleep, monotonic=time.monotonic):
    """The whole of workmail_mailbox_export for validated module parameters; returns the result dict."""
    if (params.get("state") or "present") == "absent":
        return run_absent(client, params, check_mode, warn, sleep, monotonic)
    return run_present(client, params, check_mode, warn, now, sleep, monotonic)


def run_info(client, params):
    """The whole of workmail_mailbox_export_info for validated module parameters; returns the result dict."""
    organization_id = params["organization_id"]
    entity_id = None
    if params.get("entity"):
        entity_id = resolve_entity(client, organization_id, params["entity"])["id"]
    states = params.get("state") or None
    if params.get("job_id"):
        try:
            raw = client.describe_export_job(organization_id, params["job_id"])
        except JobNotFoundError:
            return {"changed": False, "mailbox_export_jobs": []}
        passes = job_matches(raw, entity_id, states, params.get("client_token"), params.get("s3_bucket"))
        return {"changed": False, "mailbox_export_jobs": [normalize_job(raw)] if passes else []}
    jobs = list_jobs(
        client,
        organization_id,
        entity_id=entity_id,
        states=states,
        client_token=params.get("client_token"),
        s3_bucket=params.get("s3_bucket"),
        details=bool(params.get("details")),
    )
    return {"changed": False, "mailbox_export_jobs": jobs}


__all__ = [
    "CLOCK_SKEW_TOLERANCE",
    "ExportRequest",
    "WorkMailError",
    "build_description",
    "build_export_request",
    "cancel_client_token",
    "check_same_export",
    "derive_client_token",
    "describe_job",
    "ensure_cancelled",
    "ensure_started",
    "explain_limit",
    "find_job_by_token",
    "iso8601",
    "job_matches",
    "jobs_with_token",
    "list_jobs",
    "normalize_job",
    "parse_marker",
    "run_absent",
    "run_export_job",
    "run_info",
    "run_present",
    "to_datetime",
    "wait_for_job",
    "wait_until_stopped",
]
