#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: forecast_export_job_info
version_added: 0.1.0
short_description: List or describe Amazon Forecast export jobs
description:
  - Describes one forecast export job (O(forecast_export_job_arn)) with every field of C(DescribeForecastExportJob),
    or lists the jobs of the account in the region (C(ListForecastExportJobs), every page), optionally only those of
    one forecast (O(forecast_arn)) or in one status (O(status)).
  - C(ListForecastExportJobs) does not return a job's forecast and format; with O(details=true) (the default) each
    listed job is described as well (one call per job), so every job has every field. With O(details=false) the
    listed jobs have RV(forecast_export_jobs[].forecast_arn) and RV(forecast_export_jobs[].format) V(null).
  - Never changes anything; works in check mode.
author:
  - mailops.workmail maintainers (@mailops)
options:
  forecast_export_job_arn:
    description:
      - Describe only this job,
        C(arn:aws:forecast:<region>:<account>:forecast-export-job/<forecast name>/<job name>). The filters still
        apply to it. A job that does not exist gives V([]).
    type: str
  forecast_arn:
    description:
      - Only the jobs of this forecast, C(arn:aws:forecast:<region>:<account>:forecast/<name>) (filtered by AWS).
    type: str
  status:
    description:
      - Only the jobs in this status (filtered by AWS). Another value fails the task before any AWS call.
    type: str
    choices: [ACTIVE, CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_FAILED, CREATE_STOPPING, CREATE_STOPPED, DELETE_PENDING,
              DELETE_IN_PROGRESS, DELETE_FAILED]
  details:
    description:
      - Describe every listed job, to return the fields the listing lacks (see above).
    type: bool
    default: true
  organization_id:
    description:
      - Not used; any value is accepted and ignored, so that C(module_defaults) for
        C(group/mailops.workmail.workmail) also applies to this module.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Jobs are returned in the order AWS lists them (newest first).
  - The caller needs C(forecast:ListForecastExportJobs) and C(forecast:DescribeForecastExportJob).
"""

EXAMPLES = r"""
- name: Report on the forecast export jobs
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/mailops.workmail.workmail:
      region: us-east-1
  tasks:
    - name: List every export job of the account in the region
      mailops.workmail.forecast_export_job_info:
      register: all_jobs

    - name: List the ACTIVE export jobs of one forecast
      mailops.workmail.forecast_export_job_info:
        forecast_arn: arn:aws:forecast:us-east-1:123456789012:forecast/demand_2026
        status: ACTIVE
      register: demand_jobs

    - name: Describe one job
      mailops.workmail.forecast_export_job_info:
        forecast_export_job_arn: "{{ all_jobs.forecast_export_jobs[0].forecast_export_job_arn }}"
      when: all_jobs.forecast_export_jobs | length > 0
      register: one_job

    - name: Count the failed jobs
      ansible.builtin.debug:
        msg: "{{ all_jobs.forecast_export_jobs | selectattr('status', 'equalto', 'CREATE_FAILED') | list | length }} failed"
"""

RETURN = r"""
forecast_export_jobs:
  description:
    - The matching jobs, every field of C(DescribeForecastExportJob) in snake_case; V([]) when nothing matches.
    - With O(details=false), RV(forecast_export_jobs[].forecast_arn) and RV(forecast_export_jobs[].format) are
      V(null) for listed jobs.
  returned: always
  type: list
  elements: dict
  contains:
    forecast_export_job_arn:
      description: The job's ARN.
      returned: always
      type: str
      sample: arn:aws:forecast:us-east-1:123456789012:forecast-export-job/demand_2026/demand_2026_export_csv_5f0c3a9e
    forecast_export_job_name:
      description: The job's name.
      returned: always
      type: str
      sample: demand_2026_export_csv_5f0c3a9e
    forecast_arn:
      description: The ARN of the exported forecast.
      returned: always
      type: str
      sample: arn:aws:forecast:us-east-1:123456789012:forecast/demand_2026
    destination:
      description: Where the job writes, C(s3_config) with C(path), C(role_arn) and C(kms_key_arn) (V(null) when none).
      returned: always
      type: dict
      sample:
        s3_config:
          path: s3://example-forecast-exports/forecasts/
          role_arn: arn:aws:iam::123456789012:role/forecast-export
          kms_key_arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    message:
      description: AWS's message when the job failed; V(null) otherwise.
      returned: always
      type: str
      sample: null
    status:
      description: The job's status (C(ACTIVE), C(CREATE_PENDING), C(CREATE_IN_PROGRESS), C(CREATE_FAILED), ...).
      returned: always
      type: str
      sample: ACTIVE
    creation_time:
      description: When the job was created, ISO 8601 in UTC.
      returned: always
      type: str
      sample: "2026-11-30T08:01:02+00:00"
    last_modification_time:
      description: When the job last changed status, ISO 8601 in UTC.
      returned: always
      type: str
      sample: "2026-11-30T08:09:47+00:00"
    format:
      description: The format of the part files, C(CSV) or C(PARQUET).
      returned: always
      type: str
      sample: CSV
"""

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastGateway
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import STATUSES
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import validate_job_info_params
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export_jobs import run_job_info
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule


def main():
    argument_spec = dict(
        forecast_export_job_arn=dict(type="str"),
        forecast_arn=dict(type="str"),
        status=dict(type="str", choices=list(STATUSES)),
        details=dict(type="bool", default=True),
        organization_id=dict(type="str"),
    )
    module = WorkMailAnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        validate_job_info_params(module.params)
        module.exit_json(**run_job_info(ForecastGateway(module.client("forecast")), module.params))
    except WorkMailError as e:
        module.fail_json_workmail(e)


if __name__ == "__main__":
    main()
