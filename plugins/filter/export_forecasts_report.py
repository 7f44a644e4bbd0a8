# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: export_forecasts_report
version_added: 0.1.0
short_description: The outcome of each forecast in a run of the export_forecasts playbook, and the counts
description:
  - Given the forecasts M(mailops.workmail.forecast_info) listed and the results of
    M(mailops.workmail.forecast_export_job) for the ACTIVE ones (a loop's C(results), each C(item) a forecast), says for
    each forecast what happened to it. V(exported) (by this run), V(already_exported) (by an earlier run; nothing was
    exported again), V(would_export) (check mode), V(skipped) (not ACTIVE, with its status), V(failed) (with the
    module's message), V(not_found) (selected but not listed) or V(not_started) (the run stopped at its first export).
  - An export counts only when its job is ACTIVE and the module's check of its part files passed.
author:
  - mailops.workmail maintainers (@mailops)
options:
  _input:
    description:
      - The forecasts, as M(mailops.workmail.forecast_info) returns them.
    type: list
    elements: dict
    required: true
  selection:
    description:
      - The forecast ARNs and names the run was asked for; empty for every forecast.
    type: list
    elements: str
    default: []
  results:
    description:
      - The results of M(mailops.workmail.forecast_export_job) in a loop over the ACTIVE forecasts.
    type: list
    elements: dict
    default: []
  started:
    description:
      - The results of M(mailops.workmail.forecast_export_job) in a loop that started exports without waiting for them;
        a forecast whose job it started counts as exported by this run.
    type: list
    elements: dict
    default: []
  check_mode:
    description:
      - Whether the run is in check mode (the module then predicts; nothing is verified).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Report what happened to each forecast
  ansible.builtin.debug:
    msg: "{{ forecasts.forecasts | mailops.workmail.export_forecasts_report([], exports.results) }}"
"""

RETURN = r"""
_value:
  description:
    - C(forecasts), one entry per forecast (C(forecast_name), C(forecast_arn), C(status), C(outcome), C(reason),
      C(job_name), C(parts), C(bytes), C(s3_path)); C(counts), the number of forecasts per outcome and C(total);
      C(problems), the number failed, not found or not started; C(done), whether there were none.
  type: dict
"""

from ansible_collections.mailops.workmail.plugins.module_utils.forecast_playbook import report


class FilterModule:
    def filters(self):
        return {"export_forecasts_report": report}
