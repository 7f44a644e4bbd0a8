# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Constants shared by the mailops.workmail modules and module_utils."""

COLLECTION_NAME = "mailops.workmail"
# Keep in step with galaxy.yml (a unit test compares them).
COLLECTION_VERSION = "0.1.0"

# Amazon WorkMail exists in these regions of the aws partition only.
WORKMAIL_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")

# MailboxExportJobState
JOB_RUNNING = "RUNNING"
JOB_COMPLETED = "COMPLETED"
JOB_FAILED = "FAILED"
JOB_CANCELLED = "CANCELLED"
JOB_STATES = (JOB_RUNNING, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED)

# Service limits documented in the WorkMail Administrator Guide.
MAX_RUNNING_JOBS_PER_ORGANIZATION = 10
MAILBOX_EXPORT_INTERVAL_HOURS = 24
