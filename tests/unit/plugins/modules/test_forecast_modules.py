# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the forecast modules' main() in-process: bad input fails before any AWS client exists, and runs against the
fake Forecast client give the documented results (check mode, diff mode, the info modules' lists)."""

import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import derive_job_name
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.modules import forecast_export_job
from ansible_collections.mailops.workmail.plugins.modules import forecast_export_job_info
from ansible_collections.mailops.workmail.plugins.modules import forecast_info
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import FORECAST_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import KMS_KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import S3_PATH
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import FakeForecast
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import client_error

NAME = derive_job_name("demand_2026", "CSV", S3_PATH, KMS_KEY_ARN)

ARGS = {
    "region": "us-east-1",
    "forecast_arn": FORECAST_ARN,
    "s3_path": S3_PATH,
    "role_arn": ROLE_ARN,
    "kms_key_arn": KMS_KEY_ARN,
}


@pytest.fixture(autouse=True)
def isolated_aws_environment(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


@pytest.fixture(name="client_factory")
def fixture_client_factory(monkeypatch):
    factory = mock.Mock(name="client", side_effect=AssertionError("no AWS client may be created"))
    monkeypatch.setattr(WorkMailAnsibleModule, "client", factory)
    return factory


@pytest.fixture(name="fake")
def fixture_fake(monkeypatch):
    fakes = {"forecast": FakeForecast(), "s3": FakeS3()}
    monkeypatch.setattr(WorkMailAnsibleModule, "client", mock.Mock(side_effect=lambda service, *a, **k: fakes[service]))
    return fakes["forecast"]


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "9lives"}, "name: must be 1 to 63 characters"),
        ({"s3_path": "s3://example-forecast-exports"}, "s3_path: must be s3://<bucket>/"),
        ({"role_arn": "arn:aws:iam::123456789012:user/me"}, "role_arn: ARN resource must be role/<name>"),
        ({"kms_key_arn": "alias/forecast-export"}, "kms_key_arn: must be a KMS key ARN"),
        ({"forecast_arn": None}, "forecast_arn: is required with state=present"),
        (
            {"region": "eu-west-1"},
            "forecast_arn: the forecast is in us-east-1 but the connection's region is eu-west-1",
        ),
        ({"wait_timeout": 0}, "wait_timeout: must be a number of seconds greater than 0"),
        ({"format": "JSON"}, "value of format must be one of: CSV, PARQUET"),
    ],
)
def test_export_job_argument_errors_make_no_aws_call(capsys, client_factory, overrides, message):
    args = {key: value for key, value in dict(ARGS, **overrides).items() if value is not None}
    rc, result = run(forecast_export_job, args, capsys)
    assert rc == 1
    assert result["failed"] is True
    assert message in result["msg"]
    client_factory.assert_not_called()


def test_info_argument_errors_make_no_aws_call(capsys, client_factory):
    rc, result = run(forecast_export_job_info, {"region": "us-east-1", "forecast_export_job_arn": FORECAST_ARN}, capsys)
    assert rc == 1 and "forecast_export_job_arn: must be a forecast export job ARN" in result["msg"]
    rc, result = run(forecast_info, {"region": "us-east-1", "dataset_group_arn": "retail"}, capsys)
    assert rc == 1 and "dataset_group_arn: must be a dataset group ARN" in result["msg"]
    client_factory.assert_not_called()


def test_export_job_check_diff_then_create_then_unchanged(capsys, fake):
    rc, predicted = run(forecast_export_job, dict(ARGS, _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert rc == 0
    assert predicted["changed"] is True
    assert predicted["diff"] == {"before": None, "after": predicted["forecast_export_job"]}
    assert fake.jobs == {}
    rc, created = run(forecast_export_job, dict(ARGS, organization_id="m-0123456789abcdef0123456789abcdef"), capsys)
    assert rc == 0
    assert created["changed"] is True
    assert created["name"] == NAME
    assert "diff" not in created
    rc, again = run(forecast_export_job, dict(ARGS), capsys)
    assert (rc, again["changed"]) == (0, False)
    assert fake.count("create_forecast_export_job") == 1


def test_a_failed_job_fails_the_task_with_its_message_and_the_job(capsys, fake):
    fake.add_job(NAME, "CREATE_FAILED", message="The role cannot be assumed")
    rc, result = run(forecast_export_job, dict(ARGS), capsys)
    assert rc == 1
    assert "CREATE_FAILED: The role cannot be assumed" in result["msg"]
    assert result["forecast_export_job"]["status"] == "CREATE_FAILED"
    assert result["name"] == NAME
    assert result["changed"] is False


def test_an_aws_error_says_aws_message_once_and_keeps_aws_answer(capsys, fake):
    def refuse(**kwargs):
        raise client_error("ValidationException", "DescribeForecastExportJob", "The request is not valid right now")

    fake.describe_forecast_export_job = refuse
    rc, result = run(forecast_export_job, dict(ARGS), capsys)
    assert rc == 1
    assert result["msg"].count("The request is not valid right now") == 1, result["msg"]
    assert "ValidationException: The request is not valid right now" in result["msg"]
    assert result["error"] == {"code": "ValidationException", "message": "The request is not valid right now"}
    assert result["name"] == NAME


def test_info_status_must_be_a_documented_status(capsys, client_factory):
    rc, result = run(forecast_export_job_info, {"region": "us-east-1", "status": "BOGUS"}, capsys)
    assert rc == 1
    assert "value of status must be one of: ACTIVE, CREATE_PENDING" in result["msg"] and "got: BOGUS" in result["msg"]
    client_factory.assert_not_called()


def test_info_modules_return_lists(capsys, fake):
    rc, result = run(forecast_export_job_info, {"region": "us-east-1"}, capsys)
    assert (rc, result["forecast_export_jobs"], result["changed"]) == (0, [], False)
    fake.add_job(NAME, "ACTIVE")
    fake.forecasts = [{"ForecastArn": FORECAST_ARN, "ForecastName": "demand_2026", "Status": "ACTIVE"}]
    rc, result = run(forecast_export_job_info, {"region": "us-east-1", "_ansible_check_mode": True}, capsys)
    assert [job["status"] for job in result["forecast_export_jobs"]] == ["ACTIVE"]
    rc, result = run(forecast_info, {"region": "us-east-1", "status": "ACTIVE"}, capsys)
    assert [item["forecast_arn"] for item in result["forecasts"]] == [FORECAST_ARN]
