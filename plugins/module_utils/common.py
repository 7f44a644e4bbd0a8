# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Constants shared by the mailops.workmail modules and module_utils."""

COLLECTION_NAME = "mailops.workmail"
# Keep in step with galaxy.yml (a unit test compares them).
COLLECTION_VERSION = "0.1.0"

# Amazon WorkMail exists in these regions of the aws partition only.
WORKMAIL_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
# Amazon Forecast exists in these regions (botocore's endpoints for the forecast service).
FORECAST_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-west-1",
    "us-east-1",
    "us-east-2",
    "us-west-2",
)

# MailboxExportJobState
JOB_RUNNING = "RUNNING"
JOB_COMPLETED = "COMPLETED"
JOB_FAILED = "FAILED"
JOB_CANCELLED = "CANCELLED"
JOB_STATES = (JOB_RUNNING, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED)

# Service limits documented in the WorkMail Administrator Guide.
MAX_RUNNING_JOBS_PER_ORGANIZATION = 10
MAILBOX_EXPORT_INTERVAL_HOURS = 24

# Defaults and bounds of the organization export (workmail_organization_export, its action plugin and the
# export_organization playbook read them from here).
DEFAULT_MAX_ATTEMPTS = 3
# A lock left by a killed run blocks the next run this long at most; a live run refreshes it every third of it.
DEFAULT_LOCK_TTL = 180
DEFAULT_WAIT_TIMEOUT = 86400
DEFAULT_POLL_INTERVAL = 60
MIN_POLL_INTERVAL = 5
# Verify levels of an exported object, weakest check first, and the verify option's values.
VERIFY_BASIC = "basic"
VERIFY_DEEP = "deep"
VERIFY_NONE = "none"
VERIFY_LEVELS = (VERIFY_BASIC, VERIFY_DEEP)
VERIFY_CHOICES = VERIFY_LEVELS + (VERIFY_NONE,)
DEFAULT_VERIFY = VERIFY_BASIC
# What a check of an export found: it passed; what it saw contradicts the export (missing, empty, wrong key, hash or
# count mismatch); or it could not tell (no log found, layout not recognised, S3 refused): tried again later.
OUTCOME_VERIFIED = "verified"
OUTCOME_CONTRADICTED = "contradicted"
OUTCOME_UNCHECKED = "unchecked"
# The campaign's deadline (AWS ends WorkMail then) and how many days before it the estimated end must fall; a later
# estimate is a warning (in the result, the progress line and the report) with what would help.
DEFAULT_DEADLINE = "2027-03-31T00:00:00Z"
DEFAULT_DEADLINE_MARGIN_DAYS = 14
# A pass writes the campaign's report (report.html, report.csv) at most this often, in seconds, unless it is the
# campaign's first, its last or the last of a wait (and only when the report's content changed); 0: every pass.
DEFAULT_REPORT_INTERVAL = 600
# The organization export's parameters that have a default, with it.
ORGANIZATION_EXPORT_DEFAULTS = {
    "max_concurrent_jobs": MAX_RUNNING_JOBS_PER_ORGANIZATION,
    "max_attempts": DEFAULT_MAX_ATTEMPTS,
    "verify": DEFAULT_VERIFY,
    "lock_ttl": DEFAULT_LOCK_TTL,
    "wait": False,
    "wait_timeout": DEFAULT_WAIT_TIMEOUT,
    "poll_interval": DEFAULT_POLL_INTERVAL,
    "include_disabled": False,
    "skip_system_users": False,
    "deadline": DEFAULT_DEADLINE,
    "deadline_margin_days": DEFAULT_DEADLINE_MARGIN_DAYS,
    "report_interval": DEFAULT_REPORT_INTERVAL,
}
