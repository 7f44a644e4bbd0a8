#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: workmail_mailbox_export
version_added: 0.1.0
short_description: Export an Amazon WorkMail mailbox to S3, once
description:
  - Starts an Amazon WorkMail mailbox export job (C(StartMailboxExportJob)) that writes one C(.zip) of the mailbox's
    MIME messages and calendar items to an S3 bucket, encrypted with a customer managed KMS key, and optionally waits
    for it to complete. Contacts and tasks are not exported.
  - Idempotent. The job is identified by a client token (O(client_token), or one derived from the start parameters).
    A job already started with that token is returned with C(changed=false); running the same task again never
    starts a second job, which would block the mailbox for 24 hours.
  - A client token identifies one export. A task whose O(client_token) already belongs to a job of another mailbox,
    bucket, prefix, role or key fails, naming that job, and starts nothing.
  - A job of the client token that ended FAILED or CANCELLED fails the task (with O(wait=false) too), saying a new
    attempt needs another client token.
  - With O(state=absent), cancels a running job.
  - Use M(mailops.workmail.workmail_mailbox_export_info) to list or inspect jobs.
author:
  - mailops.workmail maintainers (@mailops)
options:
  state:
    description:
      - V(present) starts the export unless a job for the client token already exists.
      - V(absent) cancels the job given by O(job_id), or the job found by O(client_token), or the job found by the
        client token derived from O(entity), O(role_arn), O(kms_key_arn), O(s3_bucket) and O(s3_prefix).
        A job that is already COMPLETED, FAILED or CANCELLED, or that does not exist, is left alone (C(changed=false)).
    type: str
    choices: [present, absent]
    default: present
  entity:
    description:
      - The mailbox to export, a user or a resource, given by its WorkMail id (a user id such as
        C(12345678-1234-1234-1234-123456789012) or C(S-1-1-12-...), a resource id such as
        C(r-0123456789abcdef0123456789abcdef)), its email address, or its name.
      - An email address (C(name@domain.tld)) is resolved with C(DescribeEntity), and tried as a name when no entity
        has it. Anything else that is not an id is a name, resolved with C(ListUsers) and then C(ListResources),
        taking an exact name match first, else a case-insensitive one. Users and resources in state C(DELETED) have no mailbox
        and are never chosen; a name only they carry is refused. A group has no mailbox and is refused.
      - Ids are used without a lookup; user ids and C(r-) resource ids are lowercased, as WorkMail writes them, so
        every spelling of a mailbox gives the same derived client token.
      - 1 to 256 characters of C(a-z A-Z 0-9 . _ % + @ -).
      - Required with O(state=present).
    type: str
  role_arn:
    description:
      - ARN of the IAM role the WorkMail export service assumes to write to the bucket and use the key,
        C(arn:aws:iam::<account>:role/<path/><name>).
      - The role must trust the service principal C(export.workmail.amazonaws.com) and allow C(s3:AbortMultipartUpload),
        C(s3:PutObject) and C(s3:GetBucketPolicyStatus) on the bucket and its objects, and C(kms:Decrypt) and
        C(kms:GenerateDataKey) on the key.
      - Required with O(state=present).
    type: str
  kms_key_arn:
    description:
      - ARN of the symmetric customer managed KMS key that encrypts the export,
        C(arn:aws:kms:<region>:<account>:key/<key id>).
      - An alias, alias ARN or bare key id is refused; look the key ARN up with M(amazon.aws.kms_key_info)
        (C(kms_keys[0].key_arn)).
      - The key's region must be the organization's region (O(region)).
      - Required with O(state=present).
    type: str
  s3_bucket:
    description:
      - Name of the S3 bucket the export is written to, in the organization's region.
      - Checked against S3's bucket naming rules (3 to 63 lowercase letters, digits, dots and hyphens, beginning and
        ending with a letter or digit, not an IP address), which are stricter than the WorkMail API's pattern.
      - Required with O(state=present).
    type: str
  s3_prefix:
    description:
      - The S3 key prefix of the export, 1 to 1023 characters among ASCII letters, digits and the characters
        ! _ . * ' ( ) / and -, not starting with /.
      - AWS decides the exact object key; it is returned as RV(mailbox_export_job.s3_path).
      - Required with O(state=present).
    type: str
  description:
    description:
      - A description of the job.
      - The module appends the marker C([mailops:client_token=<token>]) (after a space) to the description it sends,
        because C(ListMailboxExportJobs) does not return client tokens; that marker is how a later run finds the job.
        The returned RV(mailbox_export_job.description) includes it.
      - AWS allows 1023 characters including the marker, so the description may have at most 943 characters with a
        derived token (the marker takes 79 characters and a space), or 1023 minus the length of O(client_token) minus
        24 with a given token.
      - Changing the description later does not start a new job.
    type: str
  client_token:
    description:
      - The idempotency token of the job, 1 to 128 printable ASCII characters without spaces.
      - When not given, the module derives C(mailops-) followed by the first 48 hexadecimal digits of the SHA-256 of
        the canonical JSON of the organization id, the resolved entity id, O(s3_bucket), O(s3_prefix), O(role_arn)
        and O(kms_key_arn). Giving the mailbox by email, name or id yields the same token.
      - The token is recorded in the job's description (see O(description)); jobs started outside this collection
        have no marker and are never matched.
      - A token keeps finding its job, whatever its state. A job of the token that is FAILED or CANCELLED fails the
        task (with its error information, or saying it was cancelled) and is not retried; to export the mailbox
        again (or after 24 hours), give another token. AWS allows one export per mailbox every 24 hours and may
        count the failed or cancelled job.
      - A given token identifies one export. When the job it finds exports another mailbox, or to another bucket,
        prefix, role or key, the task fails naming O(client_token) and that job, and starts nothing; this happens
        for example when one O(client_token) is set in C(module_defaults) for a loop over several mailboxes.
      - With O(state=absent), finds the job to cancel when O(job_id) is not given.
    type: str
  job_id:
    description:
      - The ID of the job to cancel with O(state=absent). Not used with O(state=present).
    type: str
  wait:
    description:
      - With O(state=present), wait until the job is COMPLETED. The task fails if the job ends FAILED (with the
        job's error information) or CANCELLED, or if O(wait_timeout) passes; a timeout leaves the job running and
        running the task again resumes waiting on the same job.
      - With O(state=absent), wait until the cancelled job has left RUNNING. Without waiting, a job whose
        cancellation AWS has accepted may still be reported as RUNNING for a moment.
      - The job is polled every 3 seconds at first, backing off by half each time to at most every 60 seconds.
      - In check mode no waiting is done.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait when O(wait=true). Must be greater than 0.
      - A mailbox export takes minutes to hours depending on the mailbox size.
    type: int
    default: 3600
extends_documentation_fragment:
  - mailops.workmail.workmail
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - B(Idempotency marker.) The client token is stored in the job's description as the trailing marker
    C([mailops:client_token=<token>]). Before starting, the module lists the organization's jobs (all pages) and
    returns the newest job whose marker carries the token, with C(changed=false), unless that job is for another
    mailbox or destination (the task fails, see O(client_token)).
  - B(Failed and cancelled jobs.) A job of the client token that is FAILED or CANCELLED fails the task with
    C(changed=false), the job id and the job's error information (or that it was cancelled), also with
    O(wait=false) and in check mode. A new attempt needs another O(client_token); the mailbox's 24-hour limit may
    still apply.
  - B(Failures after the start.) Once AWS has started the job, a later failure (describing or waiting for it)
    still returns C(job_id), RV(mailbox_export_job) when known, and C(changed=true).
  - B(7-day window.) C(ListMailboxExportJobs) only returns jobs started within the last 7 days. For an older job
    the module relies on AWS's own client-token idempotency; if AWS answers with a job that started before this
    run, the module reports C(changed=false). How long AWS remembers a token is not documented.
  - B(Limits.) AWS allows 10 running export jobs per organization and one export per mailbox every 24 hours.
    When AWS refuses with C(LimitExceededException), the module says which limit applies, from the list of jobs
    (the running jobs, or the earlier job of this mailbox and when the mailbox can be exported again).
  - B(Check mode) predicts what a real run would do without starting or cancelling anything, including the
    failures the job list predicts (10 running jobs, or a RUNNING or COMPLETED job of this mailbox in the last 24
    hours). B(Diff mode) shows the job before and after.
  - B(Retries.) Throttling and HTTP 5xx answers are retried with jittered backoff (amazon.aws C(AWSRetry)).
  - B(Region.) The organization, the KMS key and the S3 bucket must be in the same region, one of V(us-east-1),
    V(us-west-2) and V(eu-west-1).
  - B(IAM.) The caller needs C(workmail:StartMailboxExportJob), C(workmail:DescribeMailboxExportJob),
    C(workmail:ListMailboxExportJobs), C(workmail:CancelMailboxExportJob) (for O(state=absent)),
    C(workmail:DescribeEntity), C(workmail:ListUsers) and C(workmail:ListResources) (to resolve an email or name),
    and C(iam:PassRole) on O(role_arn).
"""

EXAMPLES = r"""
# The export role, the KMS key (with the alias alias/workmail-export) and the bucket must exist already,
# in the organization's region (see the notes for what they need).

- name: Export one mailbox to S3 and wait for the export to complete
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
        alias: alias/workmail-export
      register: export_key

    - name: Export alice's mailbox
      mailops.workmail.workmail_mailbox_export:
        organization_id: m-45ae4b4c332ce333df01b42b08b73797
        entity: alice@example.com
        role_arn: arn:aws:iam::123456789012:role/workmail-export
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        s3_bucket: example-workmail-exports
        s3_prefix: workmail/example
        description: Mailbox export before WorkMail's end of support
        wait: true
        wait_timeout: 7200
      register: alice_export

    - name: Show where the export was written
      ansible.builtin.debug:
        msg: "{{ alice_export.mailbox_export_job.state }}: {{ alice_export.mailbox_export_job.s3_path }}"

- name: Start an export without waiting, then cancel it
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      region: us-east-1
    group/mailops.workmail.workmail:
      region: us-east-1
      organization_id: m-45ae4b4c332ce333df01b42b08b73797
    mailops.workmail.workmail_mailbox_export:
      role_arn: arn:aws:iam::123456789012:role/workmail-export
      s3_bucket: example-workmail-exports
  tasks:
    - name: Look up the export key's ARN
      amazon.aws.kms_key_info:
        alias: alias/workmail-export
      register: export_key

    - name: Start the export of a room resource, by name, with an explicit client token
      mailops.workmail.workmail_mailbox_export:
        entity: boardroom
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        s3_prefix: workmail/example/resources
        client_token: boardroom-export-2026-11
      register: room_export
      # The job is cancelled below. When this play runs again, the client token finds that CANCELLED job and the
      # task fails (a new attempt needs another client token); this play accepts it.
      failed_when:
        - room_export is failed
        - room_export.mailbox_export_job.state | default('') != 'CANCELLED'

    - name: Cancel it by job id (changed=false if it has already finished)
      mailops.workmail.workmail_mailbox_export:
        state: absent
        job_id: "{{ room_export.mailbox_export_job.job_id }}"

    - name: Cancel a job found by its start parameters (they give the same derived client token)
      mailops.workmail.workmail_mailbox_export:
        state: absent
        entity: bob@example.com
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        s3_prefix: workmail/example
"""

RETURN = r"""
mailbox_export_job:
  description:
    - The export job, as C(DescribeMailboxExportJob) describes it, in snake_case.
    - In check mode, a job that would be started is predicted with RV(mailbox_export_job.state=RUNNING) and
      RV(mailbox_export_job.job_id=null); a job that would be cancelled is shown as CANCELLED.
    - After a cancellation without O(wait), the job as AWS describes it right after; cancelling may take effect
      asynchronously, so its state may still be RUNNING for a moment.
    - V(null) when O(state=absent) found no job.
  returned: always
  type: dict
  contains:
    job_id:
      description: The job ID.
      returned: always
      type: str
      sample: 4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1
    client_token:
      description:
        - The client token the job was started with (given, derived, or read from the description marker).
        - V(null) for a job started outside this collection.
      returned: always
      type: str
      sample: mailops-9f2c0d1e6a53b8e9b528f0f2f8a5d11a6c2d4e8f0a1b3c5d
    entity_id:
      description: The WorkMail id of the exported user or resource.
      returned: always
      type: str
      sample: 12345678-1234-1234-1234-123456789012
    description:
      description: The job's description, including the C([mailops:client_token=...]) marker.
      returned: always
      type: str
      sample: Mailbox export [mailops:client_token=mailops-9f2c0d1e6a53b8e9b528f0f2f8a5d11a6c2d4e8f0a1b3c5d]
    role_arn:
      description: The ARN of the role the export service assumed.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:role/workmail-export
    kms_key_arn:
      description: The ARN of the KMS key that encrypts the export.
      returned: always
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    s3_bucket_name:
      description: The bucket the export is written to.
      returned: always
      type: str
      sample: example-workmail-exports
    s3_prefix:
      description: The S3 prefix the job was started with.
      returned: always
      type: str
      sample: workmail/example
    s3_path:
      description:
        - Where the export is written, as AWS reports it (C(S3Path), "the path to the S3 bucket and file").
          AWS does not document how it derives from the bucket and prefix; read it from the job.
        - V(null) until AWS reports it, and in check mode.
      returned: always
      type: str
      sample: example-workmail-exports/workmail/example/12345678-1234-1234-1234-123456789012/4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1.zip
    estimated_progress:
      description: The estimated progress, 0 to 100.
      returned: always
      type: int
      sample: 100
    state:
      description: The job state.
      returned: always
      type: str
      sample: COMPLETED
      choices: [RUNNING, COMPLETED, FAILED, CANCELLED]
    error_info:
      description: Why the job failed; V(null) unless it FAILED.
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
      sample: "2026-11-22T05:09:47+00:00"
"""

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import run_export_job
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.module_utils.validation import START_PARAMETERS
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_export_params


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        organization_id=dict(type="str", required=True),
        entity=dict(type="str"),
        role_arn=dict(type="str"),
        kms_key_arn=dict(type="str", no_log=False),
        s3_bucket=dict(type="str"),
        s3_prefix=dict(type="str"),
        description=dict(type="str"),
        client_token=dict(type="str", no_log=False),
        job_id=dict(type="str"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=3600),
    )
    module = WorkMailAnsibleModule(
        argument_spec=argument_spec,
        required_if=[
            ("state", "present", list(START_PARAMETERS)),
            ("state", "absent", ["job_id", "client_token", "entity"], True),
        ],
        supports_check_mode=True,
    )

    try:
        validate_export_params(module.params, module.region)
    except WorkMailError as e:
        module.fail_json_workmail(e)

    client = module.workmail_client()
    try:
        result = run_export_job(client, module.params, check_mode=module.check_mode, warn=module.warn)
    except WorkMailError as e:
        module.fail_json_workmail(e)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to manage the WorkMail mailbox export job")

    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
