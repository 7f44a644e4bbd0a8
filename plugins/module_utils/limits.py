# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WorkMail's two export limits, read from the job listing: which one a refusal hit, and how to explain it.

AWS documents at most 10 running export jobs per organization and one export per mailbox every 24 hours, and
answers StartMailboxExportJob with LimitExceededException without saying which limit it hit. The listing
(ListMailboxExportJobs, the jobs of the last 7 days) tells: :func:`which_limit` names the limit for the
organization export, :func:`explain_limit` builds the error the single-mailbox module raises. Both rest on the
same reading of the listing (:func:`running_jobs`, :func:`recent_jobs`).
"""

from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_CANCELLED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_FAILED
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAILBOX_EXPORT_INTERVAL_HOURS
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAX_RUNNING_JOBS_PER_ORGANIZATION
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import started

EXPORT_INTERVAL = timedelta(hours=MAILBOX_EXPORT_INTERVAL_HOURS)
CONCURRENT_JOBS = "concurrent_jobs"
MAILBOX_24H = "mailbox_24h"
UNKNOWN = "unknown"


def newest_first(jobs):
    """Raw jobs sorted by StartTime, newest first."""
    return sorted(jobs, key=started, reverse=True)


def same_entity(raw, entity_id):
    """Is the raw job one of mailbox ``entity_id`` (ids compared case-insensitively)?"""
    return (raw.get("EntityId") or "").lower() == (entity_id or "").lower()


def running_jobs(listing):
    """The RUNNING jobs of the listing, newest first."""
    return newest_first([job for job in listing if job.get("State") == JOB_RUNNING])


def recent_jobs(listing, entity_id, moment):
    """The jobs of mailbox ``entity_id`` (any state) started less than 24 hours before ``moment``, newest first."""
    window_start = moment - EXPORT_INTERVAL
    return newest_first([job for job in listing if same_entity(job, entity_id) and started(job) > window_start])


def latest_jobs(listing):
    """``{mailbox id (lower case): its newest listed job}``, one pass over the listing."""
    latest = {}
    for raw in listing:
        entity_id = (raw.get("EntityId") or "").lower()
        if entity_id not in latest or started(raw) > started(latest[entity_id]):
            latest[entity_id] = raw
    return latest


def blocking_job(latest, entity_id, moment):
    """The job (of :func:`latest_jobs`) that keeps mailbox ``entity_id`` from being exported at ``moment``: its
    newest job when that started less than 24 hours before, whatever its state and whoever started it; else None."""
    job = latest.get((entity_id or "").lower())
    return job if job is not None and started(job) + EXPORT_INTERVAL > moment else None


def next_export_time(raw):
    """When the mailbox of the raw job may be exported again, as ISO 8601 text."""
    return iso8601(started(raw) + EXPORT_INTERVAL)


def which_limit(listing, entity_id, moment, started_since_listing=0):
    """The limit a LimitExceededException of StartMailboxExportJob for ``entity_id`` most likely hit:
    :data:`CONCURRENT_JOBS` when the organization has 10 running jobs (counting the ``started_since_listing``),
    :data:`MAILBOX_24H` when a job of the mailbox started in the last 24 hours, else :data:`UNKNOWN`."""
    if len(running_jobs(listing)) + started_since_listing >= MAX_RUNNING_JOBS_PER_ORGANIZATION:
        return CONCURRENT_JOBS
    if recent_jobs(listing, entity_id, moment):
        return MAILBOX_24H
    return UNKNOWN


def job_summary(raw):
    """The fields of a raw job that explain a limit."""
    return {
        "job_id": raw.get("JobId"),
        "entity_id": raw.get("EntityId"),
        "state": raw.get("State"),
        "estimated_progress": raw.get("EstimatedProgress"),
        "start_time": iso8601(raw.get("StartTime")),
    }


def _concurrent_jobs_error(organization_id, running, aws_message):
    jobs = ", ".join(f"{job.get('JobId')} ({job.get('EntityId')})" for job in running)
    message = (
        f"organization {organization_id} already has {len(running)} running mailbox export jobs and AWS allows at "
        f"most {MAX_RUNNING_JOBS_PER_ORGANIZATION} per organization: {jobs}; run the task again when one of them "
        f"has finished"
    )
    return LimitError(
        message,
        limit=CONCURRENT_JOBS,
        aws_message=aws_message,
        running_jobs=[job_summary(job) for job in running],
    )


def _mailbox_error(entity_id, job, aws_message):
    next_time = next_export_time(job)
    message = (
        f"mailbox {entity_id} was already exported by job {job.get('JobId')} ({job.get('State')}, started "
        f"{iso8601(started(job))}) and AWS allows one export per mailbox every {MAILBOX_EXPORT_INTERVAL_HOURS} "
        f"hours: it can be exported again after {next_time}"
    )
    return LimitError(
        message,
        limit=MAILBOX_24H,
        aws_message=aws_message,
        blocking_job_id=job.get("JobId"),
        blocking_job=job_summary(job),
        next_export_time=next_time,
    )


def explain_limit(listing, organization_id, entity_id, service_now, aws_message=None, check_mode=False):
    """The LimitError that explains why AWS refuses (or would refuse) to start an export of ``entity_id``.

    - 10 or more RUNNING jobs in the organization: the concurrent-jobs limit, listing them.
    - A job for this mailbox started within the last 24 hours: the mailbox limit, naming that job and when the
      mailbox can be exported again. RUNNING and COMPLETED jobs count; after a real refusal FAILED and CANCELLED
      ones are named too when nothing else explains it.
    - Otherwise, after a real refusal: AWS's message, saying the limit is unknown. In check mode: None (no limit
      is predicted).
    """
    running = running_jobs(listing)
    if len(running) >= MAX_RUNNING_JOBS_PER_ORGANIZATION:
        return _concurrent_jobs_error(organization_id, running, aws_message)
    recent = recent_jobs(listing, entity_id, service_now)
    blocking = [job for job in recent if job.get("State") in (JOB_RUNNING, JOB_COMPLETED)]
    if not blocking and not check_mode:
        blocking = recent
    if blocking:
        return _mailbox_error(entity_id, blocking[0], aws_message)
    if check_mode:
        return None
    message = (
        f"AWS refused to start the export with LimitExceededException without saying which limit: organization "
        f"{organization_id} has {len(running)} running jobs (at most {MAX_RUNNING_JOBS_PER_ORGANIZATION}) and no job "
        f"for mailbox {entity_id} started in the last {MAILBOX_EXPORT_INTERVAL_HOURS} hours is listed. AWS said: "
        f"{aws_message}"
    )
    return LimitError(
        message, limit=UNKNOWN, aws_message=aws_message, running_jobs=[job_summary(job) for job in running]
    )


def recent_unsuccessful_warning(listing, entity_id, service_now):
    """A warning when a FAILED or CANCELLED job of the mailbox started in the last 24 hours, else None: AWS does
    not say whether those count towards the one-export-per-day limit."""
    recent = [
        job for job in recent_jobs(listing, entity_id, service_now) if job.get("State") in (JOB_FAILED, JOB_CANCELLED)
    ]
    if not recent:
        return None
    job = recent[0]
    return (
        f"mailbox {entity_id} had job {job.get('JobId')} ({job.get('State')}, started "
        f"{iso8601(job.get('StartTime'))}) in the last {MAILBOX_EXPORT_INTERVAL_HOURS} hours; AWS does not "
        f"document whether failed or cancelled jobs count towards the one-export-per-day limit, so it may refuse "
        f"to start a new export before {next_export_time(job)}"
    )
