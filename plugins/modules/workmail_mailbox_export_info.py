#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: workmail_mailbox_export_info
version_added: 0.1.0
short_description: List or describe Amazon WorkMail mailbox export jobs
description:
  - Describes one mailbox export job (O(job_id)) with all its fields, or lists the jobs of an organization
    (C(ListMailboxExportJobs), every page), optionally filtered by mailbox, state, client token and bucket.
  - Never changes anything; works in check mode.
author:
  - mailops.workmail maintainers (@mailops)
options:
  job_id:
    description:
      - Describe only this job. The filters below still apply to it.
      - A job that does not exist gives an empty list.
    type: str
  entity:
    description:
      - Only jobs of this mailbox, given by a user or resource id, email address or name (resolved to its WorkMail
        id like M(mailops.workmail.workmail_mailbox_export) does).
      - An email address or name that matches no user or resource fails the task.
    type: str
  job_states:
    description:
      - Only jobs in one of these states.
      - The aliases O(state) and O(states) are deprecated and will be removed in release 1.0.0; an C(_info) module has
        no O(state) option, so the filter is called O(job_states).
    type: list
    elements: str
    choices: [RUNNING, COMPLETED, FAILED, CANCELLED]
    aliases: [state, states]
  client_token:
    description:
      - Only jobs started with this client token, as recorded in the description marker
        C([mailops:client_token=<token>]) by M(mailops.workmail.workmail_mailbox_export).
      - Jobs started outside this collection have no marker and never match.
    type: str
  s3_bucket:
    description:
      - Only jobs that export to this bucket.
    type: str
  details:
    description:
      - Add the fields only C(DescribeMailboxExportJob) returns (RV(mailbox_export_jobs[].role_arn),
        RV(mailbox_export_jobs[].kms_key_arn), RV(mailbox_export_jobs[].s3_prefix),
        RV(mailbox_export_jobs[].error_info)) to listed jobs, with one extra call per job.
      - Without it those fields are V(null) for listed jobs. A job given by O(job_id) is always described in full.
    type: bool
    default: false
extends_documentation_fragment:
  - mailops.workmail.workmail
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - C(ListMailboxExportJobs) only returns jobs started within the last 7 days; older jobs can still be described
    by O(job_id).
  - Jobs are returned newest first.
  - The caller needs C(workmail:ListMailboxExportJobs) and C(workmail:DescribeMailboxExportJob), and
    C(workmail:DescribeEntity), C(workmail:ListUsers) and C(workmail:ListResources) to resolve O(entity).
"""

EXAMPLES = r"""
- name: Report on the mailbox exports of an organization
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/mailops.workmail.workmail:
      region: us-east-1
      organization_id: m-45ae4b4c332ce333df01b42b08b73797
  tasks:
    - name: List every export job of the last 7 days
      mailops.workmail.workmail_mailbox_export_info:
      register: all_exports

    - name: List the running and failed jobs, with all their fields
      mailops.workmail.workmail_mailbox_export_info:
        job_states:
          - RUNNING
          - FAILED
        details: true
      register: unfinished

    - name: Find the exports of one mailbox into one bucket
      mailops.workmail.workmail_mailbox_export_info:
        entity: alice@example.com
        s3_bucket: example-workmail-exports
      register: alice_exports

    - name: Describe one job
      mailops.workmail.workmail_mailbox_export_info:
        job_id: "{{ all_exports.mailbox_export_jobs[0].job_id }}"
      when: all_exports.mailbox_export_jobs | length > 0
      register: one_job

    - name: Count the completed exports
      ansible.builtin.debug:
        msg: "{{ all_exports.mailbox_export_jobs | selectattr('state', 'equalto', 'COMPLETED') | list | length }} completed"
"""

RETURN = r"""
mailbox_export_jobs:
  description:
    - The matching jobs, newest first; V([]) when nothing matches.
    - Fields the listing does not return are V(null) unless O(details=true) or O(job_id) is given.
  returned: always
  type: list
  elements: dict
  contains:
    job_id:
      description: The job ID.
      returned: always
      type: str
      sample: 4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1
    client_token:
      description: The client token recorded in the description marker; V(null) for jobs started outside this collection.
      returned: always
      type: str
      sample: mailops-9f2c0d1e6a53b8e9b528f0f2f8a5d11a6c2d4e8f0a1b3c5d
    entity_id:
      description: The WorkMail id of the exported user or resource.
      returned: always
      type: str
      sample: 12345678-1234-1234-1234-123456789012
    description:
      description: The job's description, including the client-token marker if any.
      returned: always
      type: str
      sample: "[mailops:client_token=mailops-9f2c0d1e6a53b8e9b528f0f2f8a5d11a6c2d4e8f0a1b3c5d]"
    role_arn:
      description: The ARN of the export role; V(null) for a listed job without O(details).
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:role/workmail-export
    kms_key_arn:
      description: The ARN of the KMS key; V(null) for a listed job without O(details).
      returned: always
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    s3_bucket_name:
      description: The bucket the export is written to.
      returned: always
      type: str
      sample: example-workmail-exports
    s3_prefix:
      description: The S3 prefix the job was started with; V(null) for a listed job without O(details).
      returned: always
      type: str
      sample: workmail/example
    s3_path:
      description: Where the export is written, as AWS reports it (C(S3Path)).
      returned: always
      type: str
      sample: example-workmail-exports/workmail/example/12345678-1234-1234-1234-123456789012/4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1.zip
    estimated_progress:
      description: The estimated progress, 0 to 100.
      returned: always
      type: int
      sample: 42
    state:
      description: The job state.
      returned: always
      type: str
      sample: RUNNING
      choices: [RUNNING, COMPLETED, FAILED, CANCELLED]
    error_info:
      description: Why the job failed; V(null) unless it FAILED, and for a listed job without O(details).
      returned: always
      type: str
      sample: null
    start_time:
      description: When the job started, ISO 8601 in UTC.
      returned: always
      type: str
      sample: "2026-11-22T05:01:02+00:00"
    end_time:
      description: When the job ended, ISO 8601 in UTC; V(null) while it runs.
      returned: always
      type: str
      sample: null
"""

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import run_info
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_info_params


def main():
    argument_spec = dict(
        organization_id=dict(type="str", required=True),
        job_id=dict(type="str"),
        entity=dict(type="str"),
        job_states=dict(
            type="list",
            elements="str",
            choices=["RUNNING", "COMPLETED", "FAILED", "CANCELLED"],
            aliases=["state", "states"],
            deprecated_aliases=[
                dict(name="state", version="1.0.0", collection_name="mailops.workmail"),
                dict(name="states", version="1.0.0", collection_name="mailops.workmail"),
            ],
        ),
        client_token=dict(type="str", no_log=False),
        s3_bucket=dict(type="str"),
        details=dict(type="bool", default=False),
    )
    module = WorkMailAnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        validate_info_params(module.params, module.region)
    except WorkMailError as e:
        module.fail_json_workmail(e)

    client = module.workmail_client()
    # The domain's listing takes the job-state filter as ``state``.
    params = dict(module.params, state=module.params["job_states"])
    try:
        result = run_info(client, params)
    except WorkMailError as e:
        module.fail_json_workmail(e)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to list or describe WorkMail mailbox export jobs")

    module.exit_json(**result)


if __name__ == "__main__":
    main()
