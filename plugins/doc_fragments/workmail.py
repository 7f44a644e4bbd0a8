# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Options shared by the mailops.workmail modules that work on one WorkMail organization.
    DOCUMENTATION = r"""
options:
  organization_id:
    description:
      - The WorkMail organization ID, C(m-) followed by 32 lowercase hexadecimal digits.
      - The organization lives in one region; O(region) must be that region, one of V(us-east-1), V(us-west-2)
        and V(eu-west-1), the only regions where Amazon WorkMail exists.
    type: str
    required: true
notes:
  - Amazon WorkMail exists only in the aws partition, in V(us-east-1), V(us-west-2) and V(eu-west-1).
    Parameters are validated before any AWS call and errors name the parameter and the rule it breaks.
  - C(module_defaults) for C(group/mailops.workmail.workmail) sets O(organization_id) and the connection options of
    every module of this collection at once.
  - AWS ends support for Amazon WorkMail on 2027-03-31; after that date the mailboxes can no longer be exported.
"""
