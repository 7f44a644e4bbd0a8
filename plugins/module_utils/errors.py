# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Domain exceptions of mailops.workmail.

Every exception carries a human readable ``message`` and a ``details`` dict of JSON-ready values that a
module passes to ``fail_json`` next to ``msg`` (for example ``job_id`` and ``mailbox_export_job``).
None of them depends on botocore.
"""


class WorkMailError(Exception):
    """Base class: ``message`` for people, ``details`` for fail_json."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self):
        return self.message


class ParameterError(WorkMailError):
    """A module parameter breaks a rule; the message names the parameter and the rule."""

    def __init__(self, parameter, rule, **details):
        super().__init__(f"{parameter}: {rule}", parameter=parameter, **details)
        self.parameter = parameter
        self.rule = rule


class JobNotFoundError(WorkMailError):
    """DescribeMailboxExportJob / CancelMailboxExportJob answered EntityNotFoundException."""

    def __init__(self, job_id, organization_id=None, aws_message=None):
        message = f"mailbox export job {job_id} was not found"
        if organization_id:
            message += f" in organization {organization_id}"
        super().__init__(message, job_id=job_id)
        self.job_id = job_id
        self.aws_message = aws_message


class LimitError(WorkMailError):
    """StartMailboxExportJob was (or would be) refused with LimitExceededException.

    ``limit`` is ``concurrent_jobs`` (10 running jobs per organization), ``mailbox_24h`` (one export per mailbox
    every 24 hours) or ``unknown`` (AWS did not say and the job listing does not explain it).
    """

    def __init__(self, message, limit="unknown", aws_message=None, **details):
        if aws_message is not None:
            details["aws_message"] = aws_message
        super().__init__(message, limit=limit, **details)
        self.limit = limit
        self.aws_message = aws_message


class CancelRefusedError(WorkMailError):
    """CancelMailboxExportJob answered InvalidParameterException: the service refused to cancel the job.

    AWS documents that a job near completion might not be cancellable; the caller looks at the job to tell that
    case apart. ``original`` is the botocore exception, so a caller that cannot explain the refusal can re-raise it.
    """

    def __init__(self, job_id, code, aws_message, original=None):
        super().__init__(f"AWS refused to cancel mailbox export job {job_id}: {code}: {aws_message}", job_id=job_id)
        self.job_id = job_id
        self.code = code
        self.aws_message = aws_message
        self.original = original


class JobError(WorkMailError):
    """An error about one export job: carries ``job_id``, the job dict and its last progress."""

    def __init__(self, message, job_id, job=None, **details):
        progress = job.get("estimated_progress") if job else None
        super().__init__(message, job_id=job_id, mailbox_export_job=job, estimated_progress=progress, **details)
        self.job_id = job_id
        self.job = job
        self.progress = progress


class JobFailedError(JobError):
    """The job ended in FAILED; ``error_info`` is the service's ErrorInfo. ``hint`` (optional) says what to do."""

    def __init__(self, job_id, error_info=None, job=None, hint=None):
        message = f"mailbox export job {job_id} FAILED: {error_info or 'AWS gave no ErrorInfo'}"
        if hint:
            message += f"; {hint}"
        super().__init__(message, job_id, job, error_info=error_info)
        self.error_info = error_info


class JobCancelledError(JobError):
    """The job ended in CANCELLED while it was expected to complete. ``hint`` (optional) says what to do."""

    def __init__(self, job_id, job=None, hint=None):
        progress = job.get("estimated_progress") if job else None
        message = f"mailbox export job {job_id} was cancelled (CANCELLED at an estimated progress of {progress}%)"
        if hint:
            message += f"; {hint}"
        super().__init__(message, job_id, job)


class WaitTimeoutError(JobError):
    """The job did not reach the awaited state within ``wait_timeout``; it is left as it is.

    ``purpose`` is ``complete`` (waiting for COMPLETED: the job is left running and a new run resumes waiting)
    or ``stop`` (waiting for a cancelled job to leave RUNNING).
    """

    def __init__(self, job_id, timeout, job=None, purpose="complete"):
        progress = job.get("estimated_progress") if job else None
        state = job.get("state") if job else None
        if purpose == "stop":
            message = (
                f"timed out after {timeout} seconds waiting for cancelled mailbox export job {job_id} to stop: "
                f"it is still {state} at an estimated {progress}%"
            )
        else:
            message = (
                f"timed out after {timeout} seconds waiting for mailbox export job {job_id}: it is {state} at an "
                f"estimated {progress}% and was left running; run the task again to resume waiting on the same job"
            )
        super().__init__(message, job_id, job, wait_timeout=timeout)
        self.timeout = timeout
        self.purpose = purpose


class CancelError(JobError):
    """The job is too near completion to be cancelled."""

    def __init__(self, job_id, job=None, aws_message=None):
        progress = job.get("estimated_progress") if job else None
        message = (
            f"mailbox export job {job_id} is too near completion to cancel (estimated progress {progress}%): "
            f"AWS refused the cancellation and the job is still RUNNING; it will most likely complete"
        )
        if aws_message:
            message += f" (AWS said: {aws_message})"
        super().__init__(message, job_id, job, aws_message=aws_message)
        self.aws_message = aws_message


class JobAWSError(WorkMailError):
    """A botocore error about a known job, for example while describing a job this run has just started.

    ``aws_error`` is the botocore exception (a module hands it to ``fail_json_aws``); ``details`` carry ``job_id``,
    ``mailbox_export_job`` (when known) and ``changed`` (True when this run started the job), so the failure still
    says which job exists.
    """

    def __init__(self, message, aws_error, job_id, job=None, changed=False):
        super().__init__(message, job_id=job_id, mailbox_export_job=job, changed=changed)
        self.aws_error = aws_error
        self.job_id = job_id
        self.job = job
