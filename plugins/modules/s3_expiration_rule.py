#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: s3_expiration_rule
version_added: 0.1.0
short_description: Manage one expiration rule in an S3 bucket's lifecycle configuration
description:
  - Adds, updates or removes B(one) rule, identified by its ID (O(rule_id)), in the lifecycle configuration of an
    S3 bucket. The rule expires (deletes) the objects under a key prefix a number of days after they are written,
    and can also expire noncurrent object versions and abort incomplete multipart uploads.
  - Every other rule of the bucket's lifecycle configuration is left as it is. S3 only reads and writes the
    configuration as a whole, so the module reads it (C(GetBucketLifecycleConfiguration)), replaces or appends
    its rule, and writes the whole list back (C(PutBucketLifecycleConfiguration)); when the last rule is removed
    it deletes the configuration (C(DeleteBucketLifecycle)).
  - The C(mailops.workmail.export_prerequisites) role uses it to expire the mailbox exports under the export prefix
    (its input C(export_prerequisites_lifecycle_days)).
  - It manages one expiration rule only. For transitions and other lifecycle settings use another tool, for example
    M(community.aws.s3_lifecycle) (community.aws is not a dependency of this collection).
author:
  - mailops.workmail maintainers (@mailops)
options:
  bucket:
    description:
      - Name of the S3 bucket.
      - Checked against S3's bucket naming rules (3 to 63 lowercase letters, digits, dots and hyphens, beginning
        and ending with a letter or digit, not an IP address) before any AWS call.
      - The bucket must exist; the task fails naming O(bucket) when S3 answers C(NoSuchBucket).
    type: str
    required: true
  rule_id:
    description:
      - The ID of the rule the module manages, 1 to 255 characters. Rules with other IDs are never changed.
    type: str
    default: mailops-workmail-expiration
  prefix:
    description:
      - The key prefix of the objects the rule applies to (the rule's C(Filter.Prefix)), at most 1024 bytes in UTF-8.
      - The empty string, the default, makes the rule apply to every object of the bucket.
      - A prefix is matched literally; end it with C(/) to stop C(exports) from also matching C(exports-old/).
    type: str
    default: ""
  expiration_days:
    description:
      - How many days after an object is written S3 expires it (the rule's C(Expiration.Days)), 1 or more.
      - In a versioned bucket, expiring the current version adds a delete marker and makes it noncurrent; see
        O(noncurrent_expiration_days).
      - Required with O(state=present).
    type: int
  noncurrent_expiration_days:
    description:
      - For versioned buckets, how many days after a version becomes noncurrent S3 deletes it for good (the
        rule's C(NoncurrentVersionExpiration.NoncurrentDays)), 1 or more.
      - When not given, the rule has no noncurrent version expiration.
    type: int
  abort_incomplete_multipart_upload_days:
    description:
      - How many days after an incomplete multipart upload was started S3 aborts it and deletes its parts (the
        rule's C(AbortIncompleteMultipartUpload.DaysAfterInitiation)), 1 or more.
      - When not given, the rule does not abort incomplete multipart uploads.
    type: int
  state:
    description:
      - V(present) makes the rule O(rule_id) the enabled rule these options describe, replacing a rule with the
        same ID in place, or appending it to the bucket's rules.
      - V(absent) removes the rule O(rule_id), if it exists. When it was the bucket's last rule, the bucket's
        lifecycle configuration is deleted.
    type: str
    choices: [present, absent]
    default: present
  organization_id:
    description:
      - Not used; any value is accepted and ignored.
      - It is accepted so that C(module_defaults) for C(group/mailops.workmail.workmail), which sets
        C(organization_id) for the WorkMail modules of this collection, also applies to this module (the action
        group would otherwise make this module fail with an unsupported parameter).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - B(Idempotency.) The rule is compared with the existing rule of the same ID by what it does (its ID, status,
    prefix and actions), whichever of S3's equivalent shapes holds it (C(Filter.Prefix), an empty C(Filter), or
    the older top-level C(Prefix) element); other fields S3 returns are ignored. An existing rule with the same
    ID that is disabled, filters on tags or object sizes, or has transitions or other actions is replaced by the
    rule the options describe.
  - B(Older rule schema.) When every other rule of the bucket uses S3's older top-level C(Prefix) element, the
    rule is written with it too, so the configuration does not mix the two schemas.
  - B(Bucket settings kept.) When S3 returns the bucket's C(TransitionDefaultMinimumObjectSize), the module sends
    it back with the rules, so writing the rules does not reset it.
  - B(Concurrent changes.) S3 cannot write a lifecycle configuration conditionally. A change made by someone else
    between the module's read and write is overwritten; S3 may also take a moment before a read returns a new
    configuration.
  - B(Check mode) reads the configuration and predicts the result without writing. B(Diff mode) shows the rule
    before and after (C({}) when there is none).
  - B(Retries.) Throttling (C(SlowDown) and the usual throttling codes), C(OperationAborted) and HTTP 5xx errors
    are retried with jittered backoff (amazon.aws C(AWSRetry)).
  - B(IAM.) The caller needs C(s3:GetLifecycleConfiguration) and C(s3:PutLifecycleConfiguration) on the bucket
    (C(DeleteBucketLifecycle) is authorised by C(s3:PutLifecycleConfiguration)).
  - Parameters are validated before any AWS call; errors name the parameter.
seealso:
  - module: amazon.aws.s3_bucket
  - name: Managing the lifecycle of objects
    description: The S3 user guide on lifecycle configurations.
    link: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
"""

EXAMPLES = r"""
- name: Expire WorkMail exports after 90 days
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      region: us-east-1
    group/mailops.workmail.workmail:
      region: us-east-1
  tasks:
    - name: Create the export bucket
      amazon.aws.s3_bucket:
        name: example-workmail-exports
        versioning: true

    - name: Delete exports 90 days after they are written, and old versions a week later
      mailops.workmail.s3_expiration_rule:
        bucket: example-workmail-exports
        prefix: workmail/example/
        expiration_days: 90
        noncurrent_expiration_days: 7
        abort_incomplete_multipart_upload_days: 1
      register: expiration

    - name: Show the rule as S3 holds it, and the bucket's other rules
      ansible.builtin.debug:
        msg: "{{ expiration.rule.Expiration.Days }} days; rules of the bucket: {{ expiration.rules | join(', ') }}"

- name: Manage two prefixes with two rules, then stop expiring one of them
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the bucket
      amazon.aws.s3_bucket:
        region: eu-west-1
        name: example-workmail-exports-eu

    - name: Expire the exports of the first organization after 30 days
      mailops.workmail.s3_expiration_rule:
        region: eu-west-1
        bucket: example-workmail-exports-eu
        rule_id: expire-org-a
        prefix: workmail/org-a/
        expiration_days: 30

    - name: Expire the exports of the second organization after 60 days
      mailops.workmail.s3_expiration_rule:
        region: eu-west-1
        bucket: example-workmail-exports-eu
        rule_id: expire-org-b
        prefix: workmail/org-b/
        expiration_days: 60

    - name: Keep the first organization's exports forever (its rule is removed, expire-org-b stays)
      mailops.workmail.s3_expiration_rule:
        region: eu-west-1
        bucket: example-workmail-exports-eu
        rule_id: expire-org-a
        state: absent
"""

RETURN = r"""
rule:
  description:
    - The rule O(rule_id) after the task, as S3 holds it, in S3's own CamelCase shape (a C(LifecycleRule) of
      C(PutBucketLifecycleConfiguration)); it is an S3 document, so its keys are not converted to snake_case.
    - When the rule was already as described, the rule as S3 returned it; when it was added or updated, the rule
      the module wrote (S3 stores what it is sent).
    - In check mode, the rule a real run would leave.
    - C({}) when the rule does not exist after the task (O(state=absent)).
  returned: always
  type: dict
  sample:
    ID: mailops-workmail-expiration
    Status: Enabled
    Filter:
      Prefix: workmail/example/
    Expiration:
      Days: 90
    NoncurrentVersionExpiration:
      NoncurrentDays: 7
    AbortIncompleteMultipartUpload:
      DaysAfterInitiation: 1
rules:
  description:
    - The IDs of every rule of the bucket's lifecycle configuration after the task (in check mode, as a real run
      would leave them), in the configuration's order. C([]) when the bucket has no lifecycle configuration.
  returned: always
  type: list
  elements: str
  sample: [archive-logs, mailops-workmail-expiration]
"""

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Error
from ansible_collections.mailops.workmail.plugins.module_utils.s3_lifecycle import DEFAULT_RULE_ID
from ansible_collections.mailops.workmail.plugins.module_utils.s3_lifecycle import run_expiration_rule
from ansible_collections.mailops.workmail.plugins.module_utils.s3_lifecycle import validate_expiration_rule_params


def main():
    argument_spec = dict(
        bucket=dict(type="str", required=True),
        rule_id=dict(type="str", default=DEFAULT_RULE_ID),
        prefix=dict(type="str", default=""),
        expiration_days=dict(type="int"),
        noncurrent_expiration_days=dict(type="int"),
        abort_incomplete_multipart_upload_days=dict(type="int"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        # Accepted and ignored: module_defaults for group/mailops.workmail.workmail sets it for every module.
        organization_id=dict(type="str"),
    )
    module = WorkMailAnsibleModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["expiration_days"])],
        supports_check_mode=True,
    )

    try:
        validate_expiration_rule_params(module.params)
    except WorkMailError as e:
        module.fail_json_workmail(e)

    try:
        result = run_expiration_rule(module.s3_gateway(), module.params, check_mode=module.check_mode)
    except S3Error as e:
        module.fail_json_aws(
            e.aws_error,
            msg=f"Failed to manage lifecycle rule {module.params['rule_id']!r} of bucket {module.params['bucket']!r}",
        )
    except WorkMailError as e:
        module.fail_json_workmail(e)

    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
