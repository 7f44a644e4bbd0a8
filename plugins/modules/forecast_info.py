#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: forecast_info
version_added: 0.1.0
short_description: List Amazon Forecast forecasts
description:
  - Lists the forecasts of the account in the region (C(ListForecasts), every page), optionally only those in one
    status (O(status)) or of one dataset group (O(dataset_group_arn)), both filtered by AWS, and only those named in
    O(forecast_arns) or O(forecast_names).
  - Never changes anything; works in check mode.
author:
  - mailops.workmail maintainers (@mailops)
options:
  status:
    description:
      - Only the forecasts in this status, for example V(ACTIVE) (the forecasts that can be exported).
    type: str
  dataset_group_arn:
    description:
      - Only the forecasts of this dataset group, C(arn:aws:forecast:<region>:<account>:dataset-group/<name>).
    type: str
  forecast_arns:
    description:
      - Only these forecasts (and those of O(forecast_names), when both are given).
    type: list
    elements: str
  forecast_names:
    description:
      - Only the forecasts of these names (and those of O(forecast_arns), when both are given).
    type: list
    elements: str
  organization_id:
    description:
      - Not used; any value is accepted and ignored, so that C(module_defaults) for
        C(group/mailops.workmail.workmail) also applies to this module.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Forecasts are returned in the order AWS lists them (newest first).
  - The caller needs C(forecast:ListForecasts).
"""

EXAMPLES = r"""
- name: Find the forecasts to export
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/mailops.workmail.workmail:
      region: us-east-1
  tasks:
    - name: List every ACTIVE forecast
      mailops.workmail.forecast_info:
        status: ACTIVE
      register: active_forecasts

    - name: Look at two forecasts by name
      mailops.workmail.forecast_info:
        forecast_names:
          - demand_2026
          - returns_2026
      register: named

    - name: Show the ACTIVE forecasts' names
      ansible.builtin.debug:
        msg: "{{ active_forecasts.forecasts | map(attribute='forecast_name') | list }}"
"""

RETURN = r"""
forecasts:
  description: The matching forecasts, in snake_case; V([]) when nothing matches.
  returned: always
  type: list
  elements: dict
  contains:
    forecast_arn:
      description: The forecast's ARN.
      returned: always
      type: str
      sample: arn:aws:forecast:us-east-1:123456789012:forecast/demand_2026
    forecast_name:
      description: The forecast's name.
      returned: always
      type: str
      sample: demand_2026
    predictor_arn:
      description: The ARN of the predictor that made it.
      returned: always
      type: str
      sample: arn:aws:forecast:us-east-1:123456789012:predictor/demand
    created_using_auto_predictor:
      description: Whether it was made with an AutoPredictor.
      returned: always
      type: bool
      sample: true
    dataset_group_arn:
      description: The ARN of its dataset group.
      returned: always
      type: str
      sample: arn:aws:forecast:us-east-1:123456789012:dataset-group/demand
    status:
      description: Its status; only an C(ACTIVE) forecast can be exported.
      returned: always
      type: str
      sample: ACTIVE
    message:
      description: AWS's message when it failed; V(null) otherwise.
      returned: always
      type: str
      sample: null
    creation_time:
      description: When it was created, ISO 8601 in UTC.
      returned: always
      type: str
      sample: "2026-11-29T22:00:00+00:00"
    last_modification_time:
      description: When it last changed status, ISO 8601 in UTC.
      returned: always
      type: str
      sample: "2026-11-29T23:10:00+00:00"
"""

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastGateway
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import validate_forecast_info_params
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export_jobs import run_forecast_info
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule


def main():
    argument_spec = dict(
        status=dict(type="str"),
        dataset_group_arn=dict(type="str"),
        forecast_arns=dict(type="list", elements="str"),
        forecast_names=dict(type="list", elements="str"),
        organization_id=dict(type="str"),
    )
    module = WorkMailAnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        validate_forecast_info_params(module.params)
        module.exit_json(**run_forecast_info(ForecastGateway(module.client("forecast")), module.params))
    except WorkMailError as e:
        module.fail_json_workmail(e)


if __name__ == "__main__":
    main()
