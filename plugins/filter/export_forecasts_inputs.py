# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: export_forecasts_inputs
version_added: 0.1.0
short_description: Read and check the variables of the export_forecasts playbook
description:
  - Reads the C(forecast_*) variables of the playbook C(mailops.workmail.export_forecasts), as given on the command
    line, in an inventory or by an AWX survey (which sends text), fills in the defaults, and checks each one against
    the collection's own rules, the same ones the modules and the export_prerequisites role apply.
  - Lists are YAML lists or text with one entry per line or separated by commas; numbers may be text of digits;
    booleans are V(true)/V(false) or the text V(true), V(false), V(yes), V(no) (any case). An empty text answer
    counts as not given.
  - The variables, their defaults and their rules are those the playbook documents in its header.
author:
  - mailops.workmail maintainers (@mailops)
options:
  _input:
    description:
      - 'The variables, as a dictionary C({"forecast_<name>": value}); missing or null means not given.'
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop before any AWS call when a variable is wrong
  ansible.builtin.assert:
    that: checked.problems | length == 0
    fail_msg: "Invalid variables: {{ checked.problems | join('; ') }}"
  vars:
    checked: >-
      {{ {'forecast_region': 'us-east-1',
          'forecast_bucket': 'example-corp-forecast-exports',
          'forecast_forecasts': 'demand_daily, demand_hourly'}
         | mailops.workmail.export_forecasts_inputs }}
"""

RETURN = r"""
_value:
  description:
    - C(inputs), every variable read with its default (without the C(forecast_) prefix), and C(problems), one message
      per variable that breaks a rule, naming it (empty when all are valid).
  type: dict
"""

from ansible_collections.mailops.workmail.plugins.module_utils.forecast_playbook import check_variables


class FilterModule:
    def filters(self):
        return {"export_forecasts_inputs": check_variables}
