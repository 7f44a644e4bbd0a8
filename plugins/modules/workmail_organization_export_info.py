#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: workmail_organization_export_info
version_added: 0.1.0
short_description: Read the manifest of an Amazon WorkMail export campaign
description:
  - Returns the manifest of an export campaign of M(mailops.workmail.workmail_organization_export) whole, as the
    campaign's next pass would read it, C(<s3_prefix>/mailops-campaigns/<campaign>/manifest.json) with the changes
    of its journal C(manifest.journal.json) applied and the mailboxes of its sealed parts
    (C(manifest.sealed-*.json), each checked against the SHA-256 the manifest records) put back. A part that is missing
    or altered fails the task, naming the part and how many mailboxes it holds. It also returns the campaign's counts, the exports whose check
    found a problem and those it could not tell, as the campaign module reports them.
  - A manifest that is missing or damaged while its copy C(manifest.previous.json) is usable is read from that copy,
    and RV(recovery) says so. Nothing is written back; the next pass of the campaign recovers it.
  - Never changes anything and never takes the campaign lock, so it can run while a pass of the campaign runs. It
    works in check mode.
author:
  - mailops.workmail maintainers (@mailops)
options:
  campaign:
    description:
      - The name of the campaign, 1 to 64 characters of C(A-Z a-z 0-9 . _ -), as given to
        M(mailops.workmail.workmail_organization_export).
    type: str
    required: true
  s3_bucket:
    description:
      - Name of the S3 bucket the campaign exports to, where its manifest is.
    type: str
    required: true
  s3_prefix:
    description:
      - The S3 key prefix of the campaign, 1 to 1023 characters among ASCII letters, digits and the characters
        ! _ . * ' ( ) / and -, not starting with /. The manifest is under it, in C(mailops-campaigns/<campaign>/).
    type: str
    required: true
  organization_id:
    description:
      - The WorkMail organization the campaign exports, C(m-) and 32 lowercase hexadecimal digits.
      - When given, a manifest of another organization fails the task, naming this option. When left out, the
        manifest of any organization is returned.
    type: str
    required: false
  deadline:
    description:
      - When the campaign must be done, ISO 8601, as M(mailops.workmail.workmail_organization_export)'s option of
        the same name; RV(eta) is compared with it.
    type: str
    default: "2027-03-31T00:00:00Z"
  deadline_margin_days:
    description:
      - How many days before O(deadline) the estimated end must fall, 0 or more.
    type: int
    default: 14
extends_documentation_fragment:
  - mailops.workmail.workmail
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - The manifest is read with C(GetObject), its journal, its sealed parts and its copy too. The caller needs C(s3:GetObject) under
    O(s3_prefix), C(kms:Decrypt) on the campaign's key (the manifest is encrypted with it), and C(s3:ListBucket) on
    O(s3_bucket); without C(s3:ListBucket) S3 answers a missing manifest with AccessDenied, which fails the task.
  - S3 refusing the caller, a missing bucket, an object at the manifest's key that belongs to another campaign, and
    a damaged manifest without a usable copy fail the task with what was wrong.
  - No WorkMail call is made; the manifest is what the campaign's last pass recorded, not what AWS shows now.
"""

EXAMPLES = r"""
- name: Report on an export campaign from its manifest
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      region: us-east-1
    group/mailops.workmail.workmail:
      region: us-east-1
      organization_id: m-45ae4b4c332ce333df01b42b08b73797
  tasks:
    - name: Look up the export key's ARN
      amazon.aws.kms_key_info:
        alias: alias/workmail-export
      register: export_key

    - name: Make one pass of the campaign
      mailops.workmail.workmail_organization_export:
        campaign: end-of-support-2026
        role_arn: arn:aws:iam::123456789012:role/workmail-export
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        s3_bucket: example-workmail-exports
        s3_prefix: workmail/campaign

    - name: Read the campaign's manifest
      mailops.workmail.workmail_organization_export_info:
        campaign: end-of-support-2026
        s3_bucket: example-workmail-exports
        s3_prefix: workmail/campaign
      register: eos

    - name: Show how far the campaign is and where each mailbox stands
      ansible.builtin.debug:
        msg:
          - "{{ eos.summary.completed }} of {{ eos.summary.total }} mailboxes exported, {{ eos.summary.verified }} verified"
          - "estimated end {{ eos.eta.early }} to {{ eos.eta.late }}: {{ eos.eta.basis_text }}"
          - "{{ eos.manifest.mailboxes.values() | items2dict(key_name='email', value_name='state') }}"

    - name: Keep a copy of the manifest next to the playbook
      ansible.builtin.copy:
        content: "{{ eos.manifest | to_nice_json }}"
        dest: "{{ playbook_dir }}/end-of-support-2026.manifest.json"
        mode: "0600"

    - name: Stop when a check contradicted an export
      ansible.builtin.assert:
        that:
          - eos.verification_problems | length == 0
        fail_msg: "{{ eos.verification_problems }}"

- name: Tell whether a campaign has started
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/mailops.workmail.workmail:
      region: us-east-1
  tasks:
    - name: Read the manifest of a campaign that may not have run yet
      mailops.workmail.workmail_organization_export_info:
        campaign: rooms
        s3_bucket: example-workmail-exports
        s3_prefix: workmail/rooms
      register: rooms

    - name: Report it
      ansible.builtin.debug:
        msg: >-
          {{ ('campaign rooms: ' ~ rooms.summary.completed ~ ' of ' ~ rooms.summary.total ~ ' exported')
             if rooms.exists else 'campaign rooms has not run yet (no ' ~ rooms.location.s3_uri ~ ')' }}
"""

RETURN = r"""
exists:
  description:
    - Whether the campaign has a manifest (or, see RV(recovery), a copy of one). V(false) for a campaign that has
      not made its first pass; RV(manifest) and RV(summary) are then V(null).
  returned: always
  type: bool
  sample: true
manifest:
  description:
    - The campaign's manifest, whole, with its journal applied and its sealed mailboxes back in C(mailboxes) (so it
      has no C(sealed) list); V(null) when RV(exists) is false.
    - It records the campaign's destination (C(organization_id), C(region), C(s3_bucket), C(s3_prefix),
      C(kms_key_arn), C(role_arn)), when it was C(created) and C(updated), and per mailbox (C(mailboxes), by WorkMail
      id) its C(email), C(name), C(type), C(size_mb), C(state), every attempt (client token, job id, state, times,
      error) and what the check of its export found (C(object)). See M(mailops.workmail.workmail_organization_export)
      for the fields of C(object).
  returned: always
  type: dict
  sample:
    format: 1
    campaign: end-of-support-2026
    organization_id: m-45ae4b4c332ce333df01b42b08b73797
    region: us-east-1
    s3_bucket: example-workmail-exports
    s3_prefix: workmail/campaign
    created: "2026-11-22T05:01:02Z"
    updated: "2026-11-22T05:11:40Z"
    mailboxes:
      12345678-1234-1234-1234-123456789012:
        id: 12345678-1234-1234-1234-123456789012
        email: alice@example.com
        name: alice
        type: USER
        size_mb: 120.0
        state: COMPLETED
        attempts:
          - attempt: 1
            job_id: 4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1
            state: COMPLETED
location:
  description: Where the campaign's manifest is (or would be).
  returned: always
  type: dict
  contains:
    s3_uri:
      description: C(s3://<bucket>/<key>) of the manifest.
      type: str
      returned: always
      sample: s3://example-workmail-exports/workmail/campaign/mailops-campaigns/end-of-support-2026/manifest.json
    s3_bucket:
      description: The bucket of the manifest.
      type: str
      returned: always
      sample: example-workmail-exports
    s3_key:
      description: The key of the manifest.
      type: str
      returned: always
      sample: workmail/campaign/mailops-campaigns/end-of-support-2026/manifest.json
summary:
  description:
    - How many mailboxes of the campaign are in each state, and how many exported objects were verified, as
      M(mailops.workmail.workmail_organization_export) returns it (C(total), C(completed), C(running), C(pending),
      C(failed), C(failed_permanently), C(skipped), C(verified), C(unchecked)).
    - V(null) when RV(exists) is false.
  returned: always
  type: dict
  sample: {total: 150, completed: 37, running: 10, pending: 103, failed: 0, failed_permanently: 0, skipped: 0, unchecked: 0,
           verified: 37}
verification_problems:
  description:
    - Every COMPLETED mailbox whose export its last check contradicted, with the C(level) of the check, what is
      wrong and when it was C(checked); V([]) when there is none or no manifest.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com, level: deep, checked: "2026-11-30T10:00:00Z",
            problem: "sha384 mismatch: s3://example-exports/workmail/... has SHA-384 ..., its export log ... says ..."}]
unchecked:
  description:
    - Every COMPLETED mailbox whose export its last check could not tell, with the C(level), why and when it was
      C(checked); V([]) when there is none or no manifest. Later passes of the campaign check them again.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com, level: deep, checked: "2026-11-30T10:00:00Z",
            problem: "no export log found next to s3://example-exports/workmail/.../job.zip; looked for ..."}]
eta:
  description:
    - When the campaign is estimated to end, as M(mailops.workmail.workmail_organization_export) returns it (its
      RV(eta) has the fields), computed now from the manifest, with the C(max_concurrent_jobs) its last pass used and
      the running jobs of others its last reading of the job list showed. V(null) when RV(exists) is false.
  returned: always
  type: dict
  sample: {basis: few_jobs, eta: "2026-12-03T14:00:00+00:00", early: "2026-12-03T02:00:00+00:00",
           late: "2026-12-04T09:00:00+00:00", at_risk: false, deadline: "2027-03-31T00:00:00+00:00", margin_days: 14}
report:
  description:
    - Where the campaign's report is, next to the manifest (C(report.html) and C(report.csv), written by the passes
      of M(mailops.workmail.workmail_organization_export)), and when a pass last wrote it (C(written), V(null) when
      none did yet). V(null) when RV(exists) is false.
  returned: always
  type: dict
  sample: {html: "s3://example-exports/workmail/mailops-campaigns/eos/report.html",
           csv: "s3://example-exports/workmail/mailops-campaigns/eos/report.csv",
           html_key: workmail/mailops-campaigns/eos/report.html, csv_key: workmail/mailops-campaigns/eos/report.csv,
           written: "2026-11-30T10:00:00+00:00"}
journal_ignored:
  description:
    - Why the manifest's journal was not applied (it is damaged, or belongs to another version of the manifest), or
      V(null). RV(manifest) then lacks the changes the journal held; the next pass of the campaign repairs them from
      AWS.
  returned: always
  type: str
  sample: null
recovery:
  description:
    - V(null), unless the manifest was missing or damaged and RV(manifest) was read from its copy
      C(manifest.previous.json). Nothing is written; the next pass of the campaign recovers the manifest.
  returned: always
  type: dict
  contains:
    problem:
      description: What was wrong with the manifest.
      type: str
    recovered_from:
      description: The copy RV(manifest) was read from.
      type: str
    copy_updated:
      description: When the copy was last changed.
      type: str
    damaged:
      description: Whether the manifest was there but damaged (rather than missing).
      type: bool
    damaged_kept_at:
      description: Always V(null) here (only the campaign module keeps a damaged manifest aside).
      type: str
  sample:
    problem: the campaign manifest s3://exports/workmail/mailops-campaigns/eos/manifest.json is missing
    recovered_from: s3://exports/workmail/mailops-campaigns/eos/manifest.previous.json
    copy_updated: "2026-11-30T09:15:02Z"
    damaged: false
    damaged_kept_at: null
"""

from ansible_collections.mailops.workmail.plugins.module_utils.campaign_info import campaign_manifest_info
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE_MARGIN_DAYS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_campaign_info_params


def main():
    argument_spec = dict(
        campaign=dict(type="str", required=True),
        s3_bucket=dict(type="str", required=True),
        s3_prefix=dict(type="str", required=True),
        organization_id=dict(type="str"),
        deadline=dict(type="str", default=DEFAULT_DEADLINE),
        deadline_margin_days=dict(type="int", default=DEFAULT_DEADLINE_MARGIN_DAYS),
    )
    module = WorkMailAnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        params = validate_campaign_info_params(module.params, module.region)
        result = campaign_manifest_info(module.s3_gateway(), params)
    except WorkMailError as e:
        module.fail_json_workmail(e)

    if result["recovery"]:
        module.warn(f"{result['recovery']['problem']}; read from {result['recovery']['recovered_from']}")
    if result["journal_ignored"]:
        module.warn(result["journal_ignored"])
    if (result["eta"] or {}).get("at_risk"):
        module.warn(f"{result['eta']['warning']}; what would help: {'; '.join(result['eta']['advice'])}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
