# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The export_forecasts playbook's variables (its filter export_forecasts_inputs) and its report
(export_forecasts_report)."""

import pytest
from ansible_collections.mailops.workmail.plugins.filter.export_forecasts_inputs import FilterModule as Inputs
from ansible_collections.mailops.workmail.plugins.filter.export_forecasts_report import FilterModule as Report
from ansible_collections.mailops.workmail.plugins.filter.forecast_export_job_name import FilterModule as JobName
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import derive_job_name
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_playbook import check_variables
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_playbook import report

ARN = "arn:aws:forecast:us-east-1:123456789012:forecast/"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/ForecastExport-1a2b3c4d"


def given(**overrides):
    values = {"forecast_region": "us-east-1", "forecast_bucket": "example-forecast-exports"}
    values.update({f"forecast_{name}": value for name, value in overrides.items()})
    return values


def test_the_defaults():
    checked = check_variables(given())
    assert checked["problems"] == []
    assert checked["inputs"] == {
        "region": "us-east-1",
        "bucket": "example-forecast-exports",
        "prefix": "forecast-exports/",
        "provision": True,
        "kms_alias": "",
        "role_name": "",
        "role_arn": None,
        "kms_key_arn": None,
        "forecasts": [],
        "format": "CSV",
        "wait_timeout": 3600,
        "fail_on_problems": True,
    }


def test_survey_text_is_read():
    checked = check_variables(
        given(forecasts="demand_daily,\n" + ARN + "demand_hourly", format="parquet", wait_timeout="60", provision="")
    )
    assert checked["problems"] == []
    inputs = checked["inputs"]
    assert inputs["forecasts"] == ["demand_daily", ARN + "demand_hourly"]
    assert (inputs["format"], inputs["wait_timeout"], inputs["provision"]) == ("PARQUET", 60, True)


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"region": None}, "forecast_region: is required"),
        ({"region": "eu-west-3"}, "forecast_region: must be a region where Amazon Forecast exists"),
        ({"bucket": "Bad_Bucket"}, "forecast_bucket: an S3 bucket name may contain only"),
        ({"prefix": "exports"}, "forecast_prefix: must end with /"),
        ({"prefix": "a//b/"}, "forecast_prefix: must be s3://<bucket>/ or s3://<bucket>/<prefix>/"),
        ({"forecasts": "demand daily"}, "forecast_forecasts: each entry must be a forecast ARN or a forecast name"),
        ({"forecasts": "a, a"}, "forecast_forecasts: names 'a' twice"),
        ({"forecasts": ARN.replace("us-east-1", "eu-west-1") + "x"}, "forecast_forecasts: arn:aws:forecast:eu-west-1"),
        ({"forecasts": "arn:aws:forecast:us-east-1:1:forecast/x"}, "forecast_forecasts: ARN account must be"),
        ({"format": "json"}, "forecast_format: must be one of CSV, PARQUET"),
        ({"wait_timeout": "0"}, "forecast_wait_timeout: must be an integer of at least 1"),
        ({"fail_on_problems": "maybe"}, "forecast_fail_on_problems: must be true or false"),
        ({"provision": False}, "forecast_role_arn: is required when forecast_provision is false"),
        (
            {"provision": False, "role_arn": ROLE, "kms_key_arn": KEY.replace("us-east-1", "us-west-2")},
            "forecast_kms_key_arn: the key is in us-west-2",
        ),
        ({"role_name": "bad name"}, "forecast_role_name: must be an IAM role name"),
    ],
)
def test_each_wrong_variable_is_named(overrides, problem):
    problems = check_variables(given(**overrides))["problems"]
    assert any(p.startswith(problem) for p in problems), problems


def test_an_existing_destination_needs_both_arns_and_every_problem_is_named_at_once():
    assert check_variables(given(provision="no", role_arn=ROLE, kms_key_arn=KEY))["problems"] == []
    problems = check_variables(given(region="mars-1", bucket=None, format="xml"))["problems"]
    assert [p.split(":", 1)[0] for p in problems] == ["forecast_bucket", "forecast_region", "forecast_format"]


def test_the_filters_are_the_rules():
    assert Inputs().filters()["export_forecasts_inputs"] is check_variables
    assert Report().filters()["export_forecasts_report"] is report
    job_name = JobName().filters()["forecast_export_job_name"]
    path = "s3://example-exports/forecast-exports/demand_daily/"
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert job_name("demand_daily", "CSV", path, key) == derive_job_name("demand_daily", "CSV", path, key)
    assert job_name("demand_daily", "CSV", path, key).startswith("demand_daily_export_csv_")
    assert job_name("demand_daily", "CSV", path, "") == derive_job_name("demand_daily", "CSV", path)
    assert job_name("d" * 63, "PARQUET", path) == derive_job_name("d" * 63, "PARQUET", path)
    with pytest.raises(ParameterError):
        job_name("demand_daily")


# The report


def forecast(name, status="ACTIVE", message=None):
    return {"forecast_name": name, "forecast_arn": ARN + name, "status": status, "message": message}


def result(name, changed=True, status="ACTIVE", verified=True, failed=False, msg=None):
    return {
        "item": forecast(name),
        "changed": changed,
        "failed": failed,
        "msg": msg,
        "name": f"{name}_export_csv",
        "forecast_export_job": {"status": status},
        "verification": {"verified": verified, "parts": 2, "bytes": 100} if status == "ACTIVE" else None,
    }


def outcomes(done):
    return {entry["forecast_name"]: (entry["outcome"], entry["reason"]) for entry in done["forecasts"]}


def test_each_forecast_gets_one_outcome_and_the_counts_add_up():
    listed = [forecast("a"), forecast("b"), forecast("c", "CREATE_IN_PROGRESS"), forecast("d"), forecast("e")]
    done = report(
        listed,
        [],
        [
            result("a"),
            result("b", changed=False),
            result("d", status="CREATE_FAILED", failed=True, msg="role cannot write"),
            result("e", verified=False, msg="1 part file is empty"),
        ],
    )
    assert outcomes(done) == {
        "a": ("exported", ""),
        "b": ("already_exported", ""),
        "c": ("skipped", "status CREATE_IN_PROGRESS; only ACTIVE forecasts can be exported"),
        "d": ("failed", "role cannot write"),
        "e": ("failed", "1 part file is empty"),
    }
    assert done["counts"]["total"] == 5 and done["problems"] == 2 and done["done"] is False
    assert done["forecasts"][0]["parts"] == 2 and done["forecasts"][0]["job_name"] == "a_export_csv"


def test_a_stopped_run_names_what_it_did_not_start_and_a_skipped_loop_item_did_not_run():
    skipped = {"item": forecast("b"), "skipped": True, "changed": False}
    done = report([forecast("a"), forecast("b")], [], [result("a", failed=True, msg="broken"), skipped])
    assert outcomes(done)["b"] == ("not_started", "the run stopped at its first export")
    assert done["counts"]["not_started"] == 1 and done["problems"] == 2


def test_a_job_started_earlier_in_the_run_counts_as_exported_by_it():
    done = report([forecast("a")], [], [result("a", changed=False)], False, [result("a", changed=True)])
    assert outcomes(done)["a"][0] == "exported"


def test_selected_forecasts_that_do_not_exist_are_problems():
    done = report([forecast("a")], ["a", ARN + "gone", "missing"], [result("a")])
    assert outcomes(done)["gone"] == ("not_found", "no such forecast")
    assert outcomes(done)["missing"] == ("not_found", "no such forecast")
    assert done["counts"]["not_found"] == 2 and done["done"] is False


def test_check_mode_predicts():
    done = report([forecast("a"), forecast("b")], [], [result("a", changed=True)], True)
    assert outcomes(done) == {"a": ("would_export", ""), "b": ("would_export", "once the destination exists")}
    assert done["done"] is True


def test_the_notes_of_an_export_are_its_reason_and_check_mode_says_nothing_more_for_a_done_export():
    note = "passed over the stopped job a_export_csv (CREATE_STOPPED), which cannot be resumed"
    exported = dict(result("a"), notes=[note], msg=f"created forecast export job a_export_csv_2 (ACTIVE); {note}")
    found = dict(result("b", changed=False), msg="found forecast export job b_export_csv (ACTIVE)", notes=[])
    done = report([forecast("a"), forecast("b")], [], [exported, found])
    assert outcomes(done) == {"a": ("exported", note), "b": ("already_exported", "")}
    checked = report([forecast("b")], [], [dict(found, verification=None)], check_mode=True)
    assert outcomes(checked) == {"b": ("already_exported", "")}
    assert checked["done"] is True and checked["counts"]["would_export"] == 0
