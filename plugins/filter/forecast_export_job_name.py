# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: forecast_export_job_name
version_added: 0.1.0
short_description: The name mailops.workmail.forecast_export_job derives for a forecast's export job
description:
  - The job name M(mailops.workmail.forecast_export_job) uses when O(mailops.workmail.forecast_export_job#module:name)
    is left out, C(<forecast name>_export_<csv|parquet>_<destination hash>), where the destination hash is the first
    8 hexadecimal digits of the SHA-256 of the S3 path and the KMS key ARN; shortened with a hash of the forecast's
    name when longer than 63 characters. The same rule as the module's, so that a playbook finds the jobs the module
    made.
  - This is the first attempt's name. When a job of that name was stopped, the module exports again under
    C(<name>_2), then C(<name>_3), and so on.
author:
  - mailops.workmail maintainers (@mailops)
options:
  _input:
    description:
      - The forecast's name.
    type: str
    required: true
  export_format:
    description:
      - The export's format.
    type: str
    default: CSV
    choices: [CSV, PARQUET]
  s3_path:
    description:
      - The export's S3 path, C(s3://<bucket>/<prefix>/), as given to the module.
    type: str
    required: true
  kms_key_arn:
    description:
      - The ARN of the KMS key the export is encrypted with, as given to the module; empty or omitted without one.
    type: str
"""

EXAMPLES = r"""
- name: The job that exports demand_daily as CSV
  ansible.builtin.debug:
    msg: "{{ 'demand_daily' | mailops.workmail.forecast_export_job_name('CSV', 's3://example-exports/demand_daily/') }}"
"""

RETURN = r"""
_value:
  description:
    - The job name.
  type: str
"""

from ansible_collections.mailops.workmail.plugins.module_utils.forecast_playbook import job_name


class FilterModule:
    def filters(self):
        return {"forecast_export_job_name": job_name}
