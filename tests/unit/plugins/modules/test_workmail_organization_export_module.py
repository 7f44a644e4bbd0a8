# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""workmail_organization_export: parameter validation before any AWS call, and the action plugin's progress line."""

import pytest
from ansible_collections.mailops.workmail.plugins.action.workmail_organization_export import format_duration
from ansible_collections.mailops.workmail.plugins.action.workmail_organization_export import progress_line
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_export_params
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN

PARAMS = {
    "organization_id": ORG_ID,
    "campaign": "eos-2026",
    "role_arn": ROLE_ARN,
    "kms_key_arn": KEY_ARN,
    "s3_bucket": BUCKET,
    "s3_prefix": PREFIX,
    "max_concurrent_jobs": 10,
    "max_attempts": 3,
    "verify": "basic",
    "lock_ttl": 900,
    "wait_timeout": 86400,
    "poll_interval": 60,
}


def test_valid_parameters_pass():
    assert validate_organization_export_params(dict(PARAMS), "us-east-1")["campaign"] == "eos-2026"


@pytest.mark.parametrize(
    "extra, parameter",
    [
        ({"campaign": "bad name"}, "campaign"),
        ({"campaign": "x" * 65}, "campaign"),
        ({"max_concurrent_jobs": 11}, "max_concurrent_jobs"),
        ({"max_concurrent_jobs": 0}, "max_concurrent_jobs"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"poll_interval": 4}, "poll_interval"),
        ({"lock_ttl": 0}, "lock_ttl"),
        ({"verify": "full"}, "verify"),
        ({"s3_prefix": "a b"}, "s3_prefix"),
        ({"s3_bucket": "Bad_Bucket"}, "s3_bucket"),
        ({"kms_key_arn": "alias/workmail-export"}, "kms_key_arn"),
        ({"description": "x" * 1000}, "description"),
        ({"mailboxes": ["alice"], "include": ["a*"]}, "mailboxes"),
        ({"mailboxes": []}, "mailboxes"),
    ],
)
def test_invalid_parameters_name_the_parameter(extra, parameter):
    with pytest.raises(ParameterError) as error:
        validate_organization_export_params(dict(PARAMS, **extra), "us-east-1")
    assert error.value.parameter == parameter


def test_region_is_checked():
    with pytest.raises(ParameterError) as error:
        validate_organization_export_params(dict(PARAMS), "eu-central-1")
    assert error.value.parameter == "region"


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59.9, "59s"), (60, "1m"), (725, "12m"), (11100, "3h05m")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_progress_line():
    result = {
        "summary": {
            "total": 150,
            "completed": 37,
            "running": 10,
            "pending": 103,
            "failed": 0,
            "failed_permanently": 0,
        }
    }
    assert progress_line("eos-2026", result, 4, 725) == (
        "campaign eos-2026: 37/150 completed, 10 running, 103 pending, 0 failed (pass 4, 12m elapsed)"
    )
    assert (
        progress_line("c", {}, 1, 3) == "campaign c: 0/0 completed, 0 running, 0 pending, 0 failed (pass 1, 3s elapsed)"
    )


def test_progress_line_names_the_mailboxes_held_by_the_24_hour_rule():
    result = {
        "summary": {"total": 60, "completed": 0, "running": 0, "pending": 60, "failed": 0, "failed_permanently": 0},
        "blocked_24h": [
            {"id": "b", "email": "b@example.com", "job_id": "j2", "eligible": "2026-11-23T09:00:00+00:00"},
            {"id": "a", "email": "a@example.com", "job_id": "j1", "eligible": "2026-11-23T08:00:00+00:00"},
        ],
    }
    assert progress_line("second", result, 1, 3) == (
        "campaign second: 0/60 completed, 0 running, 60 pending, 0 failed, 2 held by the 24-hour rule, the first "
        "until 2026-11-23T08:00:00+00:00 (pass 1, 3s elapsed)"
    )
