# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: export_organization_run
version_added: 0.1.0
short_description: Check the organizations of one run of the export_organization playbook against each other
description:
  - With an inventory of organizations (one host each, for example from the inventory plugin
    C(mailops.workmail.workmail_organizations)), the playbook C(mailops.workmail.export_organization) exports them in
    one run. This filter names what one organization's variables break against the other organizations of the run.
  - The same organization on two hosts (for example C(workmail_organization_id) given as an extra variable to a run
    over several organizations).
  - Two organizations with one bucket and prefix (they would share the campaign's manifest and the export role).
  - One bucket given for organizations of two regions (a bucket is in one region, and an export must be in its
    organization's region).
author:
  - mailops.workmail maintainers (@mailops)
options:
  _input:
    description:
      - The organization's variables as read by C(mailops.workmail.export_organization_inputs) (its C(inputs)).
    type: dict
    required: true
  host:
    description:
      - The organization's host.
    type: str
    required: true
  run:
    description:
      - The variables of every organization of the run, a dictionary from each host's name to its inputs; the
        organization's own host is skipped.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the organizations of the run against each other
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: >-
      {{ checked.inputs | mailops.workmail.export_organization_run(inventory_hostname,
         dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, ['checked', 'inputs'])))) }}
"""

RETURN = r"""
_value:
  description:
    - One message per problem, naming the variable, the other host and the rule; empty when there is none.
  type: list
  elements: str
"""

from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import check_run


class FilterModule:
    def filters(self):
        return {"export_organization_run": check_run}
