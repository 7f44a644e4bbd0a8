# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The export_organization playbook's variables: survey text read, defaults filled, every rule of the collection."""

from pathlib import Path

import pytest
import yaml
from ansible_collections.mailops.workmail.plugins.filter.export_organization_inputs import FilterModule
from ansible_collections.mailops.workmail.plugins.filter.export_organization_run import FilterModule as FilterModule_run
from ansible_collections.mailops.workmail.plugins.module_utils.common import ORGANIZATION_EXPORT_DEFAULTS
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import SERVICES
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import VARIABLES
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import check_run
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import check_variables

ROOT = Path(__file__).resolve().parents[4]
GIVEN = {
    "workmail_organization_id": "m-0123456789abcdef0123456789abcdef",
    "workmail_region": "eu-west-1",
    "workmail_bucket": "example-corp-workmail-exports",
    "workmail_campaign": "end-of-support",
}


def test_the_required_four_are_enough_and_the_rest_defaults():
    checked = check_variables(GIVEN)
    assert checked["problems"] == []
    inputs = checked["inputs"]
    assert inputs["organization_id"] == GIVEN["workmail_organization_id"]
    assert inputs["prefix"] == "workmail-exports/" and inputs["provision"] is True
    for name in ("max_concurrent_jobs", "max_attempts", "verify", "wait", "wait_timeout", "poll_interval"):
        assert inputs[name] == ORGANIZATION_EXPORT_DEFAULTS[name]
    assert inputs["include"] == inputs["exclude"] == inputs["mailboxes"] == []


def test_survey_text_is_read():
    answers = dict(
        GIVEN,
        workmail_wait="TRUE",
        workmail_provision="no",
        workmail_role_arn=" arn:aws:iam::123456789012:role/export ",
        workmail_kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        workmail_max_concurrent_jobs="4",
        workmail_include="alice@example.com,\nbob*\r\n, ",
        workmail_local_manifest="",
        workmail_verify="",
    )
    checked = check_variables(answers)
    assert checked["problems"] == []
    inputs = checked["inputs"]
    assert inputs["wait"] is True and inputs["provision"] is False and inputs["max_concurrent_jobs"] == 4
    assert inputs["role_arn"] == "arn:aws:iam::123456789012:role/export"
    assert inputs["include"] == ["alice@example.com", "bob*"]
    assert inputs["local_manifest"] is None and inputs["verify"] == "basic"


def test_the_report_variables_default_to_the_module_and_read_survey_text():
    inputs = check_variables(dict(GIVEN, workmail_report_interval="0", workmail_report_local_dir=" /tmp/r "))["inputs"]
    assert inputs["report_interval"] == 0 and inputs["report_local_dir"] == "/tmp/r"
    defaults = check_variables(GIVEN)["inputs"]
    assert defaults["report_interval"] == ORGANIZATION_EXPORT_DEFAULTS["report_interval"]
    assert defaults["report_local_dir"] is None


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"workmail_campaign": None}, "workmail_campaign: is required"),
        ({"workmail_region": "eu-central-1"}, "workmail_region: must be a region where Amazon WorkMail exists"),
        ({"workmail_max_attempts": "three"}, "workmail_max_attempts: must be an integer, got 'three'"),
        ({"workmail_wait_timeout": "1e9"}, "workmail_wait_timeout: must be an integer, got '1e9'"),
        ({"workmail_wait_timeout": "-5"}, "workmail_wait_timeout: must be an integer of at least 1, got -5"),
        ({"workmail_fail_on_problems": "off"}, "workmail_fail_on_problems: must be true or false"),
        ({"workmail_provision": "false please"}, "workmail_provision: must be true or false"),
        ({"workmail_verify": "full"}, "workmail_verify: must be one of basic, deep, none, got 'full'"),
        ({"workmail_organization_id": "m-123"}, "workmail_organization_id: must match"),
        ({"workmail_bucket": "Bad_Bucket"}, "workmail_bucket: "),
        ({"workmail_prefix": "exports"}, "workmail_prefix: must end with /"),
        ({"workmail_prefix": "/exports/"}, "workmail_prefix: must not start with /"),
        ({"workmail_max_concurrent_jobs": 11}, "workmail_max_concurrent_jobs: must be an integer from 1 to 10"),
        ({"workmail_poll_interval": 1}, "workmail_poll_interval: must be an integer of at least 5"),
        ({"workmail_report_interval": "-1"}, "workmail_report_interval: must be an integer of at least 0, got -1"),
        (
            {
                "workmail_provision": False,
                "workmail_kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/mrk-" + "0" * 32,
            },
            "workmail_role_arn: is required when workmail_provision is false",
        ),
        ({"workmail_mailboxes": "user01", "workmail_include": "user*"}, "workmail_mailboxes: cannot be combined"),
    ],
)
def test_each_wrong_variable_is_named(changes, problem):
    answers = dict(GIVEN)
    for name, value in changes.items():
        answers[name] = value
    problems = check_variables(answers)["problems"]
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_every_wrong_variable_is_named_at_once():
    problems = check_variables({"workmail_region": "mars-1", "workmail_max_attempts": 0})["problems"]
    named = sorted(problem.split(":", 1)[0] for problem in problems)
    assert named == sorted(
        [
            "workmail_organization_id",
            "workmail_bucket",
            "workmail_campaign",
            "workmail_region",
            "workmail_max_attempts",
        ]
    )


def test_the_filter_is_the_check_and_its_defaults_are_the_roles():
    assert FilterModule().filters()["export_organization_inputs"] is check_variables
    role_defaults = yaml.safe_load((ROOT / "roles/export_prerequisites/defaults/main.yml").read_text())
    for name in ("kms_alias", "role_name"):
        assert VARIABLES[name][1] == role_defaults[f"export_prerequisites_{name}"]
    # The role's prefix left empty is its service's, WorkMail's by default.
    assert (
        role_defaults["export_prerequisites_prefix"] == ""
        and role_defaults["export_prerequisites_service"] == "workmail"
    )
    assert VARIABLES["prefix"][1] == SERVICES["workmail"]["default_prefix"]


# Several organizations in one run


def run_inputs(**hosts):
    """{host: inputs} of organizations, each given as (organization number, region, bucket, prefix)."""
    return {
        host: {"organization_id": f"m-{number:032x}", "region": region, "bucket": bucket, "prefix": prefix}
        for host, (number, region, bucket, prefix) in hosts.items()
    }


def test_organizations_with_their_own_prefixes_in_one_bucket_per_region_pass():
    run = run_inputs(
        alpha=(1, "us-east-1", "exports-use1", "workmail-exports/m-1/"),
        bravo=(2, "us-east-1", "exports-use1", "workmail-exports/m-2/"),
        charlie=(3, "eu-west-1", "exports-euw1", "workmail-exports/m-1/"),
    )
    for host, inputs in run.items():
        assert check_run(inputs, host, run) == []
    assert FilterModule_run().filters()["export_organization_run"] is check_run


def test_two_organizations_in_one_bucket_and_prefix_are_named_on_both_sides():
    run = run_inputs(
        alpha=(1, "us-east-1", "exports", "workmail-exports/"), bravo=(2, "us-east-1", "exports", "workmail-exports")
    )
    problem = check_run(run["alpha"], "alpha", run)
    assert len(problem) == 1 and problem[0].startswith("workmail_prefix: s3://exports/workmail-exports/ is also")
    assert "host bravo" in problem[0] and "workmail-exports/<organization id>/" in problem[0]
    assert "host alpha" in check_run(run["bravo"], "bravo", run)[0]


def test_one_bucket_for_two_regions_is_refused():
    run = run_inputs(alpha=(1, "us-east-1", "exports", "a/"), bravo=(2, "eu-west-1", "exports", "b/"))
    problem = check_run(run["bravo"], "bravo", run)
    assert len(problem) == 1 and problem[0].startswith(
        "workmail_bucket: exports is also given for host alpha in us-east-1"
    )
    assert "workmail_organization.region" in problem[0]


def test_the_same_organization_twice_is_refused():
    run = run_inputs(alpha=(1, "us-east-1", "exports", "a/"), bravo=(1, "us-east-1", "exports", "a/"))
    problem = check_run(run["alpha"], "alpha", run)
    assert len(problem) == 1 and problem[0].startswith("workmail_organization_id: m-")
    assert "also the organization of host bravo" in problem[0]


def test_hosts_without_inputs_are_left_out():
    run = run_inputs(alpha=(1, "us-east-1", "exports", "a/"))
    run["broken"] = None
    assert check_run(run["alpha"], "alpha", run) == []
    assert check_run(None, "broken", run) == []
