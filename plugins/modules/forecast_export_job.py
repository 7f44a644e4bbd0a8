#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: forecast_export_job
version_added: 0.1.0
short_description: Export an Amazon Forecast forecast to S3, once, and check the export
description:
  - Creates an Amazon Forecast export job (C(CreateForecastExportJob)) that writes a forecast to an S3 path as part
    files (C(<job name>_<yyyy-MM-ddTHH-mm-ssZ>_part<N>)), in CSV or Parquet, optionally encrypted with a KMS key;
    optionally waits until it is ACTIVE and checks its files in S3.
  - Idempotent by the job's name (C(CreateForecastExportJob) has no client token). A job of that name for the
    forecast with the same forecast, S3 path, role, KMS key and format is returned with C(changed=false); a job of
    that name with other settings fails the task, naming every setting that differs. A job cannot be changed.
  - A job in C(CREATE_FAILED) fails the task with its message; delete it (O(state=absent)) to export again under the
    same name, or choose another O(name).
  - A stopped job (C(CREATE_STOPPING), C(CREATE_STOPPED)) cannot be resumed, and AWS documents deletes of C(ACTIVE)
    and C(CREATE_FAILED) jobs only. With a derived name (O(name) left out), a stopped job of the name is passed over
    and the export is made under the next attempt's name (C(<name>_2), then C(<name>_3), up to C(_20)); RV(notes)
    and RV(msg) name the stopped jobs passed over. With a O(name) given, a stopped job of that name fails the task
    saying so; give another O(name).
  - An existing C(ACTIVE) job that differs from the request in O(role_arn) only is accepted (C(changed=false)), since
    its export is done and the role that wrote it does not matter; RV(notes) says so.
  - With O(state=absent), deletes the job (stopping it first with O(stop=true) when it is still being created).
  - Use M(mailops.workmail.forecast_info) to find the forecasts and M(mailops.workmail.forecast_export_job_info) to
    list jobs.
author:
  - mailops.workmail maintainers (@mailops)
options:
  state:
    description:
      - V(present) creates the job unless a job of its name exists.
      - V(absent) deletes the job of the name (given, or derived from O(forecast_arn), O(format), O(s3_path) and
        O(kms_key_arn), the first attempt's name); a job that does not exist is left alone (C(changed=false)).
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - The job's name, 1 to 63 characters, a letter followed by letters, digits and underscores.
      - When omitted, the name is derived from the forecast's name, O(format) and the destination as
        C(<forecast name>_export_<csv|parquet>_<destination hash>), the destination hash being the first 8
        hexadecimal digits of the SHA-256 of O(s3_path) (with its trailing C(/)) and O(kms_key_arn); when that is
        longer than 63 characters the forecast name is cut and followed by C(_) and the first 8 hexadecimal digits of
        the SHA-256 of the whole forecast name. The derived name is the same on every run to the same destination
        (a rerun finds its job), another destination gets its own job; it is returned as RV(name).
      - From the second attempt on (a stopped job of the derived name, see above) the name ends with C(_<attempt>).
      - The filter P(mailops.workmail.forecast_export_job_name#filter) gives the first attempt's derived name.
    type: str
  forecast_arn:
    description:
      - The ARN of the forecast to export, C(arn:aws:forecast:<region>:<account>:forecast/<name>). Its region must be
        the connection's O(region).
      - Required.
    type: str
  s3_path:
    description:
      - Where the part files are written, C(s3://<bucket>/) or C(s3://<bucket>/<prefix>/), ending with C(/); the
        prefix is made of folders of C(A-Z a-z 0-9) and C(!_.*'()=+-).
      - Required with O(state=present), and with O(state=absent) when O(name) is not given (the derived name depends
        on it).
    type: str
  role_arn:
    description:
      - The ARN of the IAM role Amazon Forecast assumes to write to the bucket (and use the key),
        C(arn:aws:iam::<account>:role/<name>), in the forecast's account.
      - The role must trust C(forecast.amazonaws.com) and allow C(s3:PutObject) on the path (and the KMS key's
        C(kms:GenerateDataKey) and C(kms:Encrypt) when O(kms_key_arn) is given).
      - Required with O(state=present).
    type: str
  kms_key_arn:
    description:
      - The ARN of the KMS key the part files are encrypted with (SSE-KMS), C(arn:aws:kms:<region>:<account>:key/<id>).
        An alias is not accepted.
      - Without it the bucket's default encryption applies.
      - Part of the derived O(name).
    type: str
  format:
    description:
      - The format of the part files.
      - Part of the derived O(name).
    type: str
    choices: [CSV, PARQUET]
    default: CSV
  tags:
    description:
      - Tags of a new job. The tags of an existing job are neither compared nor changed.
    type: dict
  wait:
    description:
      - With O(state=present), wait until the job is ACTIVE. C(CREATE_FAILED) fails the task with the job's message;
        a timeout fails the task and leaves the job running, and running the task again resumes waiting on the same
        job (found by its name).
      - With O(state=absent), wait until the deleted job is gone.
      - The job is looked at after 2 seconds, then half as long again each time, at most every 30 seconds. No waiting
        is done in check mode.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait (O(wait=true), and for a stopped job to stop with O(stop=true)). Greater than 0.
    type: int
    default: 3600
  stop:
    description:
      - With O(state=absent), stop a job that is still being created (C(CREATE_PENDING), C(CREATE_IN_PROGRESS)) with
        C(StopResource), wait until it has stopped (at most O(wait_timeout) seconds, also without O(wait)), then ask
        AWS to delete it. A stopped job cannot be resumed.
      - AWS documents deletes of C(ACTIVE) and C(CREATE_FAILED) jobs only, so what follows depends on AWS's answer to
        the delete of the stopped job. If AWS refuses it, the job stays C(CREATE_STOPPED) (keeping its name) and the
        task fails, saying that it was stopped (C(changed=true)) and that AWS refused to delete it; export again with
        the derived name (the next attempt's name is used) or another O(name). If AWS accepts it, the job is deleted
        (RV(msg) says C(stopped and deleted)).
      - The same holds for a job found C(CREATE_STOPPING) (waited for, then the delete is asked) or C(CREATE_STOPPED)
        (the delete is asked), with or without this option.
      - Without it, O(state=absent) on a job still being created fails the task, saying so, and leaves the job
        running.
    type: bool
    default: false
  verify:
    description:
      - With O(state=present), once the job is ACTIVE (found so, or after O(wait)), check in S3 that it wrote
        non-empty part files C(<job name>_<yyyy-MM-ddTHH-mm-ssZ>_part<N>) under O(s3_path), encrypted with SSE-KMS
        under O(kms_key_arn) when it is given. The result is RV(verification); a failed check fails the task with
        what was found.
      - Needs C(s3:ListBucket) on the bucket and C(s3:GetObject) on the part files.
    type: bool
    default: true
  organization_id:
    description:
      - Not used; any value is accepted and ignored.
      - It is accepted so that C(module_defaults) for C(group/mailops.workmail.workmail), which sets
        C(organization_id) for the WorkMail modules of this collection, also applies to this module.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - B(Check mode) says what a run would do (RV(msg)) without creating, stopping or deleting anything; a job that
    would be created is returned with status C(CREATE_PENDING) and the ARN it would have. B(Diff mode) shows the job
    before and after.
  - Parameters are checked before any AWS call (the name's pattern, the ARNs, the s3_path's form, the forecast's
    region against O(region), the role in the forecast's account, what O(state) needs); errors name the parameter
    and the rule.
  - B(Retries.) Throttling, HTTP 5xx answers and lost connections are retried with jittered backoff (amazon.aws
    C(AWSRetry)).
  - B(IAM.) The caller needs C(forecast:CreateForecastExportJob), C(forecast:DescribeForecastExportJob),
    C(forecast:ListForecastExportJobs), C(forecast:DeleteForecastExportJob) and C(forecast:StopResource) (for
    O(state=absent)), C(forecast:TagResource) (for O(tags)), C(iam:PassRole) on O(role_arn), and for O(verify)
    C(s3:ListBucket) and C(s3:GetObject).
"""

EXAMPLES = r"""
# The forecast, the bucket, the KMS key (alias/forecast-export) and the role forecast-export must exist already.

- name: Export a forecast to S3, wait for it and check the files
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      region: us-east-1
    group/mailops.workmail.workmail:
      region: us-east-1
  tasks:
    - name: Look up the export key's ARN (an alias is not accepted)
      amazon.aws.kms_key_info:
        alias: alias/forecast-export
      register: export_key

    - name: Export the forecast demand_2026 as CSV (the job's name is derived, demand_2026_export_csv_<8 hexadecimal digits>)
      mailops.workmail.forecast_export_job:
        forecast_arn: arn:aws:forecast:us-east-1:123456789012:forecast/demand_2026
        s3_path: s3://example-forecast-exports/forecasts/
        role_arn: arn:aws:iam::123456789012:role/forecast-export
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        wait: true
        wait_timeout: 7200
      register: demand_export

    - name: Show what was written
      ansible.builtin.debug:
        msg: >-
          {{ demand_export.name }}: {{ demand_export.verification.parts }} part files,
          {{ demand_export.verification.bytes }} bytes, encrypted with {{ demand_export.verification.kms_key_arn }}

- name: Export in Parquet under a name of your own, then delete the job (the files stay in S3)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/mailops.workmail.workmail:
      region: us-east-1
  tasks:
    - name: Export the forecast as Parquet and wait for it
      mailops.workmail.forecast_export_job:
        name: demand_2026_parquet_archive
        forecast_arn: arn:aws:forecast:us-east-1:123456789012:forecast/demand_2026
        s3_path: s3://example-forecast-exports/forecasts/archive/
        role_arn: arn:aws:iam::123456789012:role/forecast-export
        format: PARQUET
        tags:
          purpose: archive
        wait: true

    - name: Delete the job (stopping it first, had it still been being created)
      mailops.workmail.forecast_export_job:
        state: absent
        name: demand_2026_parquet_archive
        forecast_arn: arn:aws:forecast:us-east-1:123456789012:forecast/demand_2026
        stop: true
        wait: true
"""

RETURN = r"""
name:
  description: The job's name, given or derived.
  returned: always
  type: str
  sample: demand_2026_export_csv_5f0c3a9e
msg:
  description: What the task did, or in check mode would do, followed by RV(notes).
  returned: always
  type: str
  sample: created forecast export job demand_2026_export_csv_5f0c3a9e (ACTIVE)
notes:
  description:
    - What the task accepted or passed over that is worth knowing, each a sentence; empty when nothing was.
    - The stopped jobs of the derived name passed over (the export is made under the next attempt's name), and an
      C(ACTIVE) job accepted although written with another role.
  returned: always
  type: list
  elements: str
  sample: []
forecast_export_job:
  description:
    - The job as C(DescribeForecastExportJob) describes it, every field in snake_case (V(null) when AWS gave none).
    - In check mode, a job that would be created, with status C(CREATE_PENDING).
    - With O(state=absent), the job as last seen, V(null) once it is gone or when there was none.
  returned: always
  type: dict
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
      description: Where the job writes.
      returned: always
      type: dict
      contains:
        s3_config:
          description: The S3 path, the role and the KMS key.
          returned: always
          type: dict
          contains:
            path:
              description: The S3 path.
              returned: always
              type: str
              sample: s3://example-forecast-exports/forecasts/
            role_arn:
              description: The role Amazon Forecast assumes.
              returned: always
              type: str
              sample: arn:aws:iam::123456789012:role/forecast-export
            kms_key_arn:
              description: The KMS key of the part files; V(null) when none was given.
              returned: always
              type: str
              sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    message:
      description: AWS's message when the job failed; V(null) otherwise.
      returned: always
      type: str
      sample: null
    status:
      description:
        - The job's status, C(ACTIVE), C(CREATE_PENDING), C(CREATE_IN_PROGRESS), C(CREATE_FAILED), C(CREATE_STOPPING),
          C(CREATE_STOPPED), C(DELETE_PENDING), C(DELETE_IN_PROGRESS) or C(DELETE_FAILED).
      returned: always
      type: str
      sample: ACTIVE
    creation_time:
      description: When the job was created, ISO 8601 in UTC.
      returned: always
      type: str
      sample: "2026-11-30T08:01:02+00:00"
    last_modification_time:
      description: When the job last changed status (the current time while it is in progress), ISO 8601 in UTC.
      returned: always
      type: str
      sample: "2026-11-30T08:09:47+00:00"
    format:
      description: The format of the part files, C(CSV) or C(PARQUET).
      returned: always
      type: str
      sample: CSV
verification:
  description:
    - What the check in S3 found (O(verify=true) and the job ACTIVE); V(null) when no check was made.
    - A failed check fails the task, with this in the result.
  returned: always
  type: dict
  contains:
    verified:
      description: True when the check found no problem.
      returned: always
      type: bool
      sample: true
    parts:
      description: How many part files of the job's newest export are under the path.
      returned: always
      type: int
      sample: 3
    bytes:
      description: Their sizes added up.
      returned: always
      type: int
      sample: 1893310
    part_keys:
      description: Their S3 keys.
      returned: always
      type: list
      elements: str
      sample: [forecasts/demand_2026_export_csv_2026-11-30T08-01-02Z_part0.csv]
    encryption:
      description: The server-side encryption S3 reports for them (C(aws:kms)); several joined with C(, ) if they differ.
      returned: always
      type: str
      sample: aws:kms
    kms_key_arn:
      description: The KMS key S3 reports for them.
      returned: always
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    older_parts:
      description: Part files of an earlier export under the same name (not checked).
      returned: always
      type: int
      sample: 0
    problems:
      description: What is wrong (no part file, an empty one, one not encrypted with the key, S3 refusing to show them).
      returned: always
      type: list
      elements: str
      sample: []
"""

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastGateway
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import DEFAULT_FORMAT
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import DEFAULT_WAIT_TIMEOUT
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import FORMATS
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import build_request
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export_jobs import run_export_job
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        name=dict(type="str"),
        forecast_arn=dict(type="str"),
        s3_path=dict(type="str"),
        role_arn=dict(type="str"),
        kms_key_arn=dict(type="str", no_log=False),
        format=dict(type="str", choices=list(FORMATS), default=DEFAULT_FORMAT),
        tags=dict(type="dict"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=DEFAULT_WAIT_TIMEOUT),
        stop=dict(type="bool", default=False),
        verify=dict(type="bool", default=True),
        organization_id=dict(type="str"),
    )
    module = WorkMailAnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        request = build_request(module.params, module.region)
    except WorkMailError as e:
        module.fail_json_workmail(e)

    gateway = ForecastGateway(module.client("forecast"))
    try:
        result = run_export_job(gateway, module.s3_gateway(), request, check_mode=module.check_mode)
    except WorkMailError as e:
        module.fail_json_workmail(e, name=request.name)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to manage the forecast export job")

    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
