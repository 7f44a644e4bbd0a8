#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: workmail_export_probe
version_added: 0.1.0
short_description: Export one small mailbox and record what Amazon WorkMail writes and answers
description:
  - First contact with the real service. AWS leaves several things about mailbox exports undocumented (the form of
    C(S3Path), where the archive and its export log are written, what C(totalMessages) counts, how a reused
    C(ClientToken) is answered). This module exports B(one) mailbox the user names, waits for the job, and
    records the evidence.
  - The evidence is the job's fields as C(DescribeMailboxExportJob) returns them, with their JSON types; every
    object written under O(s3_prefix) since the job started (at most 50, with their size, C(LastModified) and
    encryption, from C(HeadObject)); the export log and its fields; the archive's entry counts (read from the end
    of the zip with ranged GETs, nothing downloaded in full); the job's duration; and the answers of
    C(StartMailboxExportJob) to the job's client token used again, with the same parameters and with another
    description.
  - Once the job has completed, the module starts the same mailbox once more with another client token, to learn
    how AWS answers the once-per-24-hours rule (the error code and message). AWS is expected to refuse it; a job it
    accepts is cancelled at once and reported in a warning. This is skipped when the job did not complete, or
    started more than 24 hours ago (the start would then be a second export), or with O(second_start=false).
  - Given O(describe_job_id), an older export job, the module describes it and records whether
    C(DescribeMailboxExportJob) still answers for it and how old it is; a FAILED or CANCELLED job of the same
    mailbox from the 24 hours before the probe's job also tells whether the 24-hour rule counts such jobs. Without
    it these two questions are answered C(not probed).
  - From the evidence the module tells which known answer (dialect) the service gave to each question, or
    C(none — please report) when it gave none of them.
  - The evidence is written as JSON to C(<s3_prefix>/mailops-probe/<job id>.json) in O(s3_bucket), encrypted with
    O(kms_key_arn), and to O(evidence_path) when given.
  - Idempotent. The job is identified by its client token; running the task again probes the same job again and
    starts nothing (C(changed=false)).
  - The export is a real export of the mailbox, and AWS allows one export per mailbox every 24 hours. Name a small
    mailbox that is not needed in the next day's exports.
author:
  - mailops.workmail maintainers (@mailops)
options:
  entity:
    description:
      - The mailbox to probe, a user or a resource, by its WorkMail id, its email address or its name (resolved as
        M(mailops.workmail.workmail_mailbox_export) does).
      - A small mailbox keeps the probe short.
    type: str
    required: true
  role_arn:
    description:
      - ARN of the IAM role the WorkMail export service assumes, C(arn:aws:iam::<account>:role/<name>).
    type: str
    required: true
  kms_key_arn:
    description:
      - ARN of the symmetric customer managed KMS key that encrypts the export and the evidence, in the
        organization's region. An alias is refused.
    type: str
    required: true
  s3_bucket:
    description:
      - The S3 bucket the export and the evidence are written to.
    type: str
    required: true
  s3_prefix:
    description:
      - The S3 key prefix of the export. Everything written under it since the job started is listed as
        evidence, so a prefix of its own for the probe keeps the evidence short.
    type: str
    required: true
  client_token:
    description:
      - The idempotency token of the probe's job, 1 to 128 printable ASCII characters without spaces.
      - By default C(mailops-probe-) and 48 hexadecimal digits derived from the organization and the mailbox; it
        differs from the token M(mailops.workmail.workmail_mailbox_export) derives, so the probe's job is never
        taken for a later export.
    type: str
  wait:
    description:
      - Wait until the job has left RUNNING (at most O(wait_timeout) seconds) before the evidence is gathered.
      - Without waiting, or when the wait times out, the evidence of the running job is recorded and the output
        questions are answered C(unknown); run the task again to probe the finished job.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for the job. Must be greater than 0.
    type: int
    default: 1800
  poll_interval:
    description:
      - Seconds between two C(DescribeMailboxExportJob) calls while waiting, at least 1.
    type: int
    default: 15
  token_mismatch:
    description:
      - Also start again with the job's client token and another description, to learn which error AWS gives for
        a token reused with other parameters. Nothing is exported by it; AWS refuses it.
    type: bool
    default: true
  second_start:
    description:
      - Once the job has completed, start the mailbox again with another client token, to learn which error AWS
        gives for the once-per-24-hours rule. Nothing is exported when AWS refuses it, as expected; a job it
        accepts is cancelled at once.
    type: bool
    default: true
  describe_job_id:
    description:
      - The id of an older export job of the organization, to learn how long C(DescribeMailboxExportJob) answers
        for a job (give one older than the job list's 7 days), or whether the 24-hour rule counts FAILED and
        CANCELLED jobs (give a FAILED or CANCELLED job of the same mailbox from the last 24 hours, before the probe's
        first run).
      - Only described; nothing is started or cancelled for it.
    type: str
  evidence_path:
    description:
      - A local path (on the host the module runs on) where the evidence JSON is written too. Its directory must
        exist.
    type: path
extends_documentation_fragment:
  - mailops.workmail.workmail
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - B(Check mode) starts nothing and writes nothing; it says whether a job would be started, what the probe would
    ask, and where the evidence would be written.
  - B(Timeout.) When the job is still running after O(wait_timeout) seconds, the evidence of the running job is
    written, the output questions are answered C(unknown), no second start is tried, and the result and a warning
    name the job to probe again later (run the task again, same client token).
  - B(Reused client token.) To learn how AWS answers a client token used again, the module calls
    C(StartMailboxExportJob) again with the job's token. AWS answers with the same job, with an error, or (never
    seen so far) with a new job, which the module then reports as a warning.
  - B(IAM.) The caller needs what M(mailops.workmail.workmail_mailbox_export) needs, and C(s3:ListBucket) on the
    bucket, C(s3:GetObject) and C(s3:PutObject) on the prefix, and C(kms:Decrypt) and C(kms:GenerateDataKey) on
    the key.
  - The playbook C(mailops.workmail.export_probe) runs this module and prints a short report.
"""

EXAMPLES = r"""
# The export role, the KMS key (with the alias alias/workmail-export) and the bucket must exist already,
# in the organization's region.

- name: Learn what the real service writes, once, before the first campaign
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      region: us-east-1
    group/mailops.workmail.workmail:
      region: us-east-1
      organization_id: m-45ae4b4c332ce333df01b42b08b73797
  tasks:
    - name: Look up the export key's ARN (an alias is not accepted)
      amazon.aws.kms_key_info:
        alias: alias/workmail-export
      register: export_key

    - name: Probe with one small mailbox
      mailops.workmail.workmail_export_probe:
        entity: frank@example.com
        role_arn: arn:aws:iam::123456789012:role/workmail-export
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        s3_bucket: example-workmail-exports
        s3_prefix: workmail/probe
        evidence_path: "{{ playbook_dir }}/workmail-probe.json"
        poll_interval: 5
      register: probe

    - name: Show which answers the service gave
      ansible.builtin.debug:
        var: probe.dialects
"""

RETURN = r"""
job_id:
  description: The probe's export job; V(null) in check mode when a job would be started.
  returned: always
  type: str
  sample: 4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1
mailbox_export_job:
  description:
    - The job, in the form M(mailops.workmail.workmail_mailbox_export) returns it (snake_case, times in ISO 8601).
  returned: always
  type: dict
dialects:
  description:
    - For each question, the answer the service gave, as the value of the local AWS's dialect switch of that name,
      or C(none — please report) when the evidence matches none of them.
    - V(null) in check mode.
  returned: always
  type: dict
  contains:
    s3_path:
      description: The form of C(S3Path), one of V(bucket_key), V(key), V(s3_uri), V(folder).
      returned: success
      type: str
      sample: bucket_key
    archive_layout:
      description: The key of the archive, one of V(entity_job), V(job), V(email_time).
      returned: success
      type: str
      sample: entity_job
    export_log:
      description: The export log, one of V(json), V(guide), V(elsewhere), V(none).
      returned: success
      type: str
      sample: json
    total_messages:
      description: What the log's C(totalMessages) counts, V(all_entries) or V(messages_only).
      returned: success
      type: str
      sample: all_entries
    client_token_reuse:
      description: The answer to the job's client token with the same parameters, V(same_job), V(new_job) or
        C(error <code>).
      returned: success
      type: str
      sample: same_job
    token_mismatch_error:
      description: The error code for the token with another description.
      returned: success
      type: str
      sample: InvalidParameterException
    mailbox_24h_error:
      description:
        - The error code of a second start of the mailbox with another client token, V(LimitExceededException) or
          V(InvalidParameterException); C(none — please report) for another code or an accepted start.
        - C(not probed) and the reason when no second start was tried.
      returned: success
      type: str
      sample: LimitExceededException
    mailbox_24h_counts:
      description:
        - V(successful) when a FAILED or CANCELLED job of the mailbox from the 24 hours before the probe's job (given
          as O(describe_job_id)) did not keep AWS from starting the probe's job; else C(not probed) and the reason.
      returned: success
      type: str
      sample: not probed — give describe_job_id, a FAILED or CANCELLED job of the mailbox from the last 24 hours
    describe_retention_days:
      description:
        - For O(describe_job_id), at least its age in days when AWS described it, or the error when it did not;
          else C(not probed) and the reason.
      returned: success
      type: str
      sample: at least 9.5 days (job 0b9e2f7c-1d2a-4b5c-8e9f-0a1b2c3d4e5f was described)
evidence:
  description:
    - What the service answered and wrote (see the description); the same document as the evidence JSON.
    - V(null) in check mode.
  returned: always
  type: dict
evidence_s3_uri:
  description: Where the evidence JSON was written in S3; V(null) in check mode.
  returned: always
  type: str
  sample: s3://example-workmail-exports/workmail-exports/mailops-probe/4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1.json
evidence_path:
  description: The local copy of the evidence JSON, when O(evidence_path) was given.
  returned: always
  type: str
  sample: /tmp/workmail-probe.json
"""

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.module_utils.probe import run_probe
from ansible_collections.mailops.workmail.plugins.module_utils.probe import validate_probe_params


def main():
    argument_spec = dict(
        organization_id=dict(type="str", required=True),
        entity=dict(type="str", required=True),
        role_arn=dict(type="str", required=True),
        kms_key_arn=dict(type="str", required=True, no_log=False),
        s3_bucket=dict(type="str", required=True),
        s3_prefix=dict(type="str", required=True),
        client_token=dict(type="str", no_log=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        poll_interval=dict(type="int", default=15),
        token_mismatch=dict(type="bool", default=True),
        second_start=dict(type="bool", default=True),
        describe_job_id=dict(type="str"),
        evidence_path=dict(type="path"),
    )
    module = WorkMailAnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        validate_probe_params(module.params, module.region)
    except WorkMailError as e:
        module.fail_json_workmail(e)

    try:
        result = run_probe(module.workmail_client(), module.s3_gateway(), module.params, module.check_mode, module.warn)
    except WorkMailError as e:
        module.fail_json_workmail(e)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to probe the WorkMail mailbox export")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
