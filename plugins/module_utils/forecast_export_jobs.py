# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Forecast export jobs: create one idempotently (by its name), wait for it, check its export in S3, stop and delete
it, list and describe jobs and forecasts. The modules forecast_export_job, forecast_export_job_info and forecast_info
are one call each into this module.

Functions over a :class:`~forecast.ForecastGateway` (and an :class:`~s3.S3Gateway` for the check), validated
parameters in (:func:`forecast_export.build_request`), plain dicts out. A job is found by the ARN its name gives
(``arn:<partition>:forecast:<region>:<account>:forecast-export-job/<forecast name>/<job name>``): CreateForecastExportJob
has no client token, its idempotency is the name.
"""

import time

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastAlreadyExists
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastInUse
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastInvalidInput
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastNotFound
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import ACTIVE
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import DELETABLE_PHASES
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import MAX_ATTEMPTS
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import PHASE_ACTIVE
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import PHASE_CREATING
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import PHASE_DELETE_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import PHASE_DELETING
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import PHASE_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import PHASE_STOPPED
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import PHASE_STOPPING
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import STATUSES
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import differing_settings
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import normalize_job
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import phase
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import predicted_job
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export_verify import verify_export
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601

# How often a job is looked at while waiting: first after POLL_DELAY seconds, then half as long again each time,
# at most every POLL_MAX_DELAY seconds.
POLL_DELAY = 2
POLL_MAX_DELAY = 30
POLL_FACTOR = 1.5


class ExportJobError(WorkMailError):
    """An error about one forecast export job: ``details`` carry the job (``forecast_export_job``) and ``changed``
    (True when this run created, stopped or deleted it), so a failed task still says what exists."""

    def __init__(self, message, job=None, changed=False, **details):
        super().__init__(message, forecast_export_job=job, changed=changed, **details)
        self.job = job
        self.changed = changed


class SettingsDifferError(ExportJobError):
    """A job of the name exists with other settings; ``differences`` is ``{parameter: {"job", "requested"}}``."""


class JobStatusError(ExportJobError):
    """The job's status does not allow what was asked (failed, stopped, being deleted, or a status not known)."""


class WaitTimeoutError(ExportJobError):
    """The job did not reach the awaited status within wait_timeout; it is left as it is."""


class VerificationError(ExportJobError):
    """The check in S3 of an ACTIVE job found problems; ``details`` carry ``verification``."""


def _name(job):
    return job.get("forecast_export_job_name") or job.get("forecast_export_job_arn")


def status_problem(job, state="present"):
    """Why a job's status stops ``state`` (present: the job is to be or become ACTIVE), as a message; None when the
    status allows it (ACTIVE, being created)."""
    status = job.get("status")
    name = _name(job)
    current = phase(status)
    if current in (PHASE_ACTIVE, PHASE_CREATING):
        return None
    if current == PHASE_FAILED:
        return (
            f"forecast export job {name} is CREATE_FAILED: {job.get('message') or 'AWS gave no message'}; delete it "
            f"(state=absent) to export again under the same name, or choose another name"
        )
    if current in (PHASE_STOPPING, PHASE_STOPPED):
        return (
            f"forecast export job {name} was stopped ({status}) and a stopped job cannot be resumed (AWS may also "
            f"refuse to delete it): give another name, or leave name out (the derived name passes over stopped jobs)"
        )
    if current == PHASE_DELETING:
        return (
            f"forecast export job {name} is being deleted ({status}); run again once it is gone (state=absent with "
            f"wait=true waits for that), or choose another name"
        )
    if current == PHASE_DELETE_FAILED:
        return f"AWS failed to delete forecast export job {name} (DELETE_FAILED): {job.get('message') or 'no message'}"
    return (
        f"forecast export job {name} has the status {status!r}, which this module does not know (it knows "
        f"{', '.join(STATUSES)}); nothing was done about it (state={state})"
    )


def find_job(gateway, job_arn):
    """The job of ``job_arn``, normalized, or None when it does not exist."""
    raw = gateway.find_export_job(job_arn)
    return normalize_job(raw) if raw is not None else None


def _job_by_name(gateway, request):
    """The job named like the request among every job AWS lists (for a name AWS says exists elsewhere), or None."""
    for summary in gateway.list_export_jobs():
        if summary.get("ForecastExportJobName") == request.name:
            return find_job(gateway, summary["ForecastExportJobArn"])
    return None


def _differences_error(job, request, differences):
    said = "; ".join(f"{parameter} is {have!r}, not {want!r}" for parameter, have, want in differences)
    how = (
        "the name derived from the forecast, the format and the destination"
        if request.name_derived
        else "the name given"
    )
    message = (
        f"forecast export job {request.name} ({how}) exists with other settings: {said}. A job cannot be changed: "
        f"delete it (state=absent) or give another name"
    )
    detail = {parameter: {"job": have, "requested": want} for parameter, have, want in differences}
    return SettingsDifferError(message, job=job, differences=detail)


def _create(gateway, request):
    """Create the job: ``(changed, job)``. A job of the name that appeared meanwhile is found and returned."""
    try:
        arn = gateway.create_export_job(
            request.name, request.forecast_arn, request.destination(), request.format, request.tags
        )
    except ForecastAlreadyExists:
        job = find_job(gateway, request.job_arn) or _job_by_name(gateway, request)
        if job is None:
            raise
        return False, job
    try:
        job = find_job(gateway, arn)
    except WorkMailError as error:
        raise ExportJobError(
            f"forecast export job {request.name} was created ({arn}) but describing it failed: {error}",
            job=dict(predicted_job(request), forecast_export_job_arn=arn),
            changed=True,
        ) from error
    return True, job or dict(predicted_job(request), forecast_export_job_arn=arn)


def _role_note(job, request, differences):
    """The note for an ACTIVE job that differs from the request in its role only (the export is done: the role that
    wrote it does not matter), or None when the differences matter."""
    if job.get("status") != ACTIVE or [parameter for parameter, _have, _want in differences] != ["role_arn"]:
        return None
    return (
        f"the job was written with the role {differences[0][1]}, not {differences[0][2]}; its export is done, so the "
        f"role does not matter and the job was left as it is"
    )


def _passed_over(gateway, request):
    """For a derived name, use the first attempt whose job is not stopped (a stopped job cannot be resumed, and AWS
    may refuse to delete it): the stopped jobs passed over, normalized (``[]`` when the first attempt is used)."""
    passed = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        request.use_attempt(attempt)
        job = find_job(gateway, request.job_arn)
        if job is None or phase(job["status"]) not in (PHASE_STOPPING, PHASE_STOPPED):
            return passed
        passed.append(job)
    raise JobStatusError(
        f"the {MAX_ATTEMPTS} derived names of the export of {request.forecast_name} to {request.s3_path} are all "
        f"taken by stopped jobs; delete some (state=absent with their name) or give a name",
        passed[-1],
    )


def ensure_present(gateway, request, check_mode):
    """The job of the request, created when it does not exist: ``(changed, job, diff, notes)``. An existing job
    with other settings is a :class:`SettingsDifferError`, unless it is ACTIVE and differs in its role only (a
    note says so). With a derived name, stopped jobs are passed over to the next attempt's name (a note each)."""
    notes = []
    if request.name_derived:
        for stopped in _passed_over(gateway, request):
            notes.append(
                f"passed over the stopped job {stopped['forecast_export_job_name']} ({stopped['status']}), which "
                f"cannot be resumed: the forecast is exported again as {request.name}"
            )
    job = find_job(gateway, request.job_arn)
    if job is None and check_mode:
        return True, predicted_job(request), {"before": None, "after": predicted_job(request)}, notes
    changed = False
    if job is None:
        changed, job = _create(gateway, request)
    if not changed:
        differences = differing_settings(job, request)
        note = _role_note(job, request, differences) if differences else None
        if differences and not note:
            raise _differences_error(job, request, differences)
        notes += [note] if note else []
    return changed, job, {"before": None if changed else job, "after": job}, notes


def _poll(gateway, job, timeout, done, sleep, monotonic):
    """Describe the job until ``done(job or None)`` is true and return what was last seen; ``(job, False)`` when
    ``timeout`` seconds passed first, ``(job, True)`` otherwise. None means the job is gone."""
    arn = job["forecast_export_job_arn"]
    deadline = monotonic() + timeout
    delay = POLL_DELAY
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            return job, False
        sleep(min(delay, remaining))
        delay = min(delay * POLL_FACTOR, POLL_MAX_DELAY)
        job = find_job(gateway, arn)
        if done(job):
            return job, True


def wait_until_active(gateway, job, timeout, changed, sleep=time.sleep, monotonic=time.monotonic):
    """Wait until the job is ACTIVE and return it. CREATE_FAILED (with its message), a stopped or deleted job, or a
    status not known fail (:class:`JobStatusError`); so does the job vanishing; a timeout is a
    :class:`WaitTimeoutError` saying the job is left running."""
    name = _name(job)
    seen, finished = _poll(
        gateway, job, timeout, lambda now: now is None or phase(now["status"]) != PHASE_CREATING, sleep, monotonic
    )
    if seen is None:
        raise JobStatusError(f"forecast export job {name} was deleted while it was waited for", job, changed)
    if not finished:
        raise WaitTimeoutError(
            f"timed out after {timeout} seconds waiting for forecast export job {name} to become ACTIVE: it is "
            f"{seen['status']} and was left running; run the task again to resume waiting (it finds the job by its "
            f"name {name})",
            seen,
            changed,
            wait_timeout=timeout,
        )
    problem = status_problem(seen)
    if problem:
        raise JobStatusError(problem, seen, changed)
    return seen


def _verify(s3, job, changed):
    verification = verify_export(s3, job)
    if verification["problems"]:
        raise VerificationError(
            f"forecast export job {_name(job)} is ACTIVE but its export in S3 failed the check: "
            + "; ".join(verification["problems"]),
            job,
            changed,
            verification=verification,
        )
    return verification


def run_present(gateway, s3, request, check_mode=False, sleep=time.sleep, monotonic=time.monotonic):
    """forecast_export_job with state=present: ``{"changed", "forecast_export_job", "name", "verification",
    "msg", "diff"}``."""
    changed, job, diff, notes = ensure_present(gateway, request, check_mode)
    problem = status_problem(job)
    if problem:
        raise JobStatusError(problem, job, changed)
    said = "".join(f"; {note}" for note in notes)
    if check_mode:
        verb = "would create" if changed else "found"
        result = _result(
            changed, job, request, diff, f"{verb} forecast export job {request.name} ({job['status']}){said}"
        )
        result["notes"] = notes
        return result
    if request.wait and phase(job["status"]) == PHASE_CREATING:
        job = wait_until_active(gateway, job, request.wait_timeout, changed, sleep, monotonic)
        diff["after"] = job
    verification = None
    if request.verify and job["status"] == ACTIVE:
        verification = _verify(s3, job, changed)
    verb = "created" if changed else "found"
    result = _result(changed, job, request, diff, f"{verb} forecast export job {request.name} ({job['status']}){said}")
    result["verification"] = verification
    result["notes"] = notes
    return result


def _result(changed, job, request, diff, msg):
    return {
        "changed": changed,
        "forecast_export_job": job,
        "name": request.name,
        "verification": None,
        "notes": [],
        "msg": msg,
        "diff": diff,
    }


def _gone(job):
    return job is None


def _stop(gateway, job, request, sleep, monotonic):
    """Stop a job being created and wait until it has stopped (or ended); the job as last seen."""
    name = _name(job)
    if phase(job["status"]) == PHASE_CREATING:
        try:
            gateway.stop_resource(job["forecast_export_job_arn"])
        except ForecastNotFound:
            return None
        except (ForecastInvalidInput, ForecastInUse):
            # Refused: the job may have ended (ACTIVE, CREATE_FAILED) between the look and the stop.
            now = find_job(gateway, job["forecast_export_job_arn"])
            if now is not None and phase(now["status"]) in (PHASE_CREATING, PHASE_STOPPING):
                raise
            return now
    seen, finished = _poll(
        gateway,
        job,
        request.wait_timeout,
        lambda now: now is None or phase(now["status"]) not in (PHASE_CREATING, PHASE_STOPPING),
        sleep,
        monotonic,
    )
    if not finished:
        raise WaitTimeoutError(
            f"timed out after {request.wait_timeout} seconds waiting for forecast export job {name} to stop: it is "
            f"{seen['status']}; run the task again to delete it once it has stopped",
            seen,
            True,
            wait_timeout=request.wait_timeout,
        )
    return seen


def _refusal(job, request):
    """Why state=absent will not delete this job now (a message), or None."""
    current = phase(job["status"])
    if current == PHASE_CREATING and not request.stop:
        return (
            f"forecast export job {_name(job)} is still being created ({job['status']}) and AWS deletes only ACTIVE "
            f"and CREATE_FAILED jobs: set stop=true to stop it (a stopped job cannot be resumed, and AWS may refuse "
            f"to delete it once stopped) or run again once it is ACTIVE"
        )
    if current in (PHASE_CREATING, PHASE_STOPPING, PHASE_DELETING) or current in DELETABLE_PHASES:
        return None
    return status_problem(job, state="absent")


def _delete(gateway, job, request, sleep, monotonic, changed=False):
    """Delete the job and, with wait, wait until it is gone: ``(changed, job as last seen or None)``. ``changed``
    says whether this run changed the job before (stopped it), for the error of a refused delete."""
    arn = job["forecast_export_job_arn"]
    try:
        gateway.delete_export_job(arn)
    except ForecastNotFound:
        return False, None
    except ForecastInUse as error:
        message = (
            f"AWS refused to delete forecast export job {_name(job)} in status {job['status']}: {error.aws_message}"
        )
        if phase(job["status"]) == PHASE_STOPPED:
            message += (
                "; AWS documents deletes of ACTIVE and CREATE_FAILED jobs only, so the stopped job stays (stopped, "
                "keeping its name): export again with the derived name (the next attempt's name is used) or another "
                "name"
            )
        raise JobStatusError(message, job, changed) from error
    after = find_job(gateway, arn)
    if request.wait and after is not None:
        after = _wait_gone(gateway, after, request, sleep, monotonic)
    return True, after


def _wait_gone(gateway, job, request, sleep, monotonic):
    seen, finished = _poll(gateway, job, request.wait_timeout, _gone, sleep, monotonic)
    if not finished:
        problem = status_problem(seen, state="absent") if phase(seen["status"]) != PHASE_DELETING else None
        raise WaitTimeoutError(
            f"timed out after {request.wait_timeout} seconds waiting for forecast export job {_name(job)} to be "
            f"deleted: it is {seen['status']}" + (f" ({problem})" if problem else ""),
            seen,
            True,
            wait_timeout=request.wait_timeout,
        )
    return None


def run_absent(gateway, request, check_mode=False, sleep=time.sleep, monotonic=time.monotonic):
    """forecast_export_job with state=absent: the job deleted (stopped first with ``stop``); ``{"changed",
    "forecast_export_job" (as last seen, None once gone), "name", "msg", "diff"}``."""
    job = find_job(gateway, request.job_arn)
    if job is None:
        return _result(False, None, request, {"before": None, "after": None}, f"no forecast export job {request.name}")
    refusal = _refusal(job, request)
    if refusal:
        raise JobStatusError(refusal, job, False)
    before = job
    current = phase(job["status"])
    if current == PHASE_DELETING:
        after = _wait_gone(gateway, job, request, sleep, monotonic) if request.wait and not check_mode else job
        return _result(False, after, request, {"before": before, "after": after}, f"{request.name} is being deleted")
    stopping = current in (PHASE_CREATING, PHASE_STOPPING)
    if check_mode:
        verb = "would stop and delete" if stopping else "would delete"
        return _result(
            True, None, request, {"before": before, "after": None}, f"{verb} forecast export job {request.name}"
        )
    if stopping:
        job = _stop(gateway, job, request, sleep, monotonic)
        if job is None:
            return _result(True, None, request, {"before": before, "after": None}, f"{request.name} is gone")
    changed, after = _delete(gateway, job, request, sleep, monotonic, changed=stopping)
    changed = changed or stopping
    verb = "stopped and deleted" if stopping else "deleted"
    return _result(
        changed, after, request, {"before": before, "after": after}, f"{verb} forecast export job {request.name}"
    )


def run_export_job(gateway, s3, request, check_mode=False, sleep=time.sleep, monotonic=time.monotonic):
    """The whole of forecast_export_job for a validated :class:`~forecast_export.ExportJobRequest`."""
    if request.state == "absent":
        return run_absent(gateway, request, check_mode, sleep, monotonic)
    return run_present(gateway, s3, request, check_mode, sleep, monotonic)


# Listing for the _info modules


def list_export_jobs(gateway, forecast_arn=None, status=None, details=True):
    """Every job AWS lists (all pages), filtered by AWS on ``forecast_arn`` and ``status``, normalized, in AWS's
    order. ``details`` describes each listed job, which adds the two fields a listing lacks (``forecast_arn`` and
    ``format``); a job deleted between the list and its describe is left out."""
    jobs = []
    for summary in gateway.list_export_jobs(forecast_arn=forecast_arn, status=status):
        job = normalize_job(summary)
        if details:
            job = find_job(gateway, summary["ForecastExportJobArn"])
            if job is None:
                continue
        if forecast_arn and job["forecast_arn"] not in (None, forecast_arn):
            continue
        jobs.append(job)
    return jobs


def run_job_info(gateway, params):
    """forecast_export_job_info: ``{"changed": False, "forecast_export_jobs": [...]}`` (``[]`` when nothing
    matches)."""
    arn = params.get("forecast_export_job_arn")
    forecast_arn = params.get("forecast_arn")
    status = params.get("status")
    if arn:
        job = find_job(gateway, arn)
        matches = job is not None and (not forecast_arn or job["forecast_arn"] == forecast_arn)
        matches = matches and (not status or job["status"] == status)
        return {"changed": False, "forecast_export_jobs": [job] if matches else []}
    details = params.get("details") is not False
    return {"changed": False, "forecast_export_jobs": list_export_jobs(gateway, forecast_arn, status, details)}


def normalize_forecast(raw):
    """A ForecastSummary in snake_case, every field present (None when AWS gave none), times in ISO 8601 UTC."""
    return {
        "forecast_arn": raw.get("ForecastArn"),
        "forecast_name": raw.get("ForecastName"),
        "predictor_arn": raw.get("PredictorArn"),
        "created_using_auto_predictor": raw.get("CreatedUsingAutoPredictor"),
        "dataset_group_arn": raw.get("DatasetGroupArn"),
        "status": raw.get("Status"),
        "message": raw.get("Message"),
        "creation_time": iso8601(raw.get("CreationTime")),
        "last_modification_time": iso8601(raw.get("LastModificationTime")),
    }


def run_forecast_info(gateway, params):
    """forecast_info: ``{"changed": False, "forecasts": [...]}``: every forecast AWS lists (all pages), filtered by
    AWS on ``status`` and ``dataset_group_arn``, then on ``forecast_arns`` and ``forecast_names`` (any of them)."""
    arns = set(params.get("forecast_arns") or ())
    names = set(params.get("forecast_names") or ())
    forecasts = []
    for raw in gateway.list_forecasts(status=params.get("status"), dataset_group_arn=params.get("dataset_group_arn")):
        forecast = normalize_forecast(raw)
        if (arns or names) and forecast["forecast_arn"] not in arns and forecast["forecast_name"] not in names:
            continue
        forecasts.append(forecast)
    return {"changed": False, "forecasts": forecasts}
