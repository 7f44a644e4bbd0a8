# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: export_prerequisites_plan
version_added: 0.1.0
short_description: Check the inputs of the export_prerequisites role and plan what a run of it may change
description:
  - Reads the C(export_prerequisites_*) variables of the role C(mailops.workmail.export_prerequisites) and checks each
    one against the collection's own rules, the same ones the modules and the export_organization playbook apply.
    Booleans are V(true)/V(false) or the text V(true), V(false), V(yes), V(no) (any case, as AWX surveys send them);
    any other value is a problem. Integers may be text of digits.
  - Derives the names of what the role makes from the bucket and the prefix, so that two destinations of one account
    never share a role or a lifecycle rule unless told to (the key belongs to the bucket).
  - Given what exists in AWS (O(found)), decides what the run may change. It never takes a destination or an
    organization away from an existing role; it adds its own to a role that serves others only with
    C(export_prerequisites_share_role=true). Removal keeps the bucket and its key while another destination uses it.
author:
  - mailops.workmail maintainers (@mailops)
options:
  _input:
    description:
      - 'The role variables, as a dictionary C({"export_prerequisites_<name>": value}).'
    type: dict
    required: true
  found:
    description:
      - What exists, read before anything is changed, as a dictionary. C(account), the account ID.
        C(organization), C(in_region) (whether the organization exists in the region) and C(elsewhere) (the other
        regions where it exists), or V(null) when no organization is given. C(role) and C(role_policies), the
        export role as M(amazon.aws.iam_role_info) and its inline policies as M(amazon.aws.iam_policy_info) return
        them. C(key), the key as M(amazon.aws.kms_key_info) returns it. C(bucket), the bucket as
        M(amazon.aws.s3_bucket_info) returns it with its location, tags and versioning.
      - Without it, only the inputs are checked.
    type: dict
"""

EXAMPLES = r"""
- name: Stop before any AWS call when an input is wrong
  ansible.builtin.assert:
    that: checked.problems | length == 0
    fail_msg: "Invalid inputs: {{ checked.problems | join('; ') }}"
  vars:
    checked: >-
      {{ {'export_prerequisites_region': 'us-east-1',
          'export_prerequisites_bucket': 'example-corp-workmail-exports',
          'export_prerequisites_organization_id': 'm-0123456789abcdef0123456789abcdef',
          'export_prerequisites_force': 'false'}
         | mailops.workmail.export_prerequisites_plan }}
"""

RETURN = r"""
_value:
  description:
    - C(inputs), every input read (without the C(export_prerequisites_) prefix); C(names), the names of the role, its
      policy, the key alias and the lifecycle rule for this destination; C(problems), one message per wrong input or
      conflict with what exists, naming the input (empty when the run may go on); with O(found) also C(notes), what
      the run tells the operator, and what it may change (the role's trust policy, the inline policies to keep and to
      remove, whether the role and the bucket go on removal, the destinations that still use the bucket).
  type: dict
"""

from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import plan


class FilterModule:
    def filters(self):
        return {"export_prerequisites_plan": plan}
