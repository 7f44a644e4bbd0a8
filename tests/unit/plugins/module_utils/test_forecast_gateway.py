# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Forecast gateway against botocore's Stubber: every page of a listing, the filters, retries, and the classes
of AWS's errors."""

import boto3
import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import forecast
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import FORECAST_ARN
from botocore.stub import Stubber

JOB_ARN = "arn:aws:forecast:us-east-1:123456789012:forecast-export-job/demand_2026/j"


@pytest.fixture(name="stubbed")
def stubbed_fixture():
    client = boto3.client(
        "forecast", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield forecast.ForecastGateway(client, RetryPolicy(retries=3, delay=0, max_delay=0)), stubber
        stubber.assert_no_pending_responses()


def summary(name):
    return {"ForecastExportJobArn": JOB_ARN[:-1] + name, "ForecastExportJobName": name, "Status": "ACTIVE"}


def test_a_listing_reads_every_page_with_the_filters(stubbed):
    gateway, stubber = stubbed
    filters = [
        {"Key": "ForecastArn", "Value": FORECAST_ARN, "Condition": "IS"},
        {"Key": "Status", "Value": "ACTIVE", "Condition": "IS"},
    ]
    stubber.add_response(
        "list_forecast_export_jobs", {"ForecastExportJobs": [summary("a")], "NextToken": "t1"}, {"Filters": filters}
    )
    stubber.add_response(
        "list_forecast_export_jobs",
        {"ForecastExportJobs": [summary("b")]},
        {"Filters": filters, "NextToken": "t1"},
    )
    listed = gateway.list_export_jobs(forecast_arn=FORECAST_ARN, status="ACTIVE")
    assert [item["ForecastExportJobName"] for item in listed] == ["a", "b"]


def test_forecasts_are_listed_without_filters_when_none_is_given(stubbed):
    gateway, stubber = stubbed
    stubber.add_response("list_forecasts", {"Forecasts": [{"ForecastName": "f"}]}, {})
    assert gateway.list_forecasts() == [{"ForecastName": "f"}]


def test_throttling_is_tried_again(stubbed):
    gateway, stubber = stubbed
    stubber.add_client_error("describe_forecast_export_job", "ThrottlingException", "slow down", 400)
    stubber.add_response(
        "describe_forecast_export_job",
        {"ForecastExportJobArn": JOB_ARN, "Status": "ACTIVE"},
        {"ForecastExportJobArn": JOB_ARN},
    )
    assert gateway.describe_export_job(JOB_ARN) == {"ForecastExportJobArn": JOB_ARN, "Status": "ACTIVE"}


def test_a_missing_job_is_none_to_find_and_not_found_to_describe(stubbed):
    gateway, stubber = stubbed
    stubber.add_client_error("describe_forecast_export_job", "ResourceNotFoundException", "No resource found", 400)
    assert gateway.find_export_job(JOB_ARN) is None
    stubber.add_client_error("describe_forecast_export_job", "ResourceNotFoundException", "No resource found", 400)
    with pytest.raises(forecast.ForecastNotFound) as caught:
        gateway.describe_export_job(JOB_ARN)
    assert caught.value.message == (
        f"describe_forecast_export_job of forecast export job {JOB_ARN} failed: ResourceNotFoundException: "
        "No resource found"
    )


@pytest.mark.parametrize(
    "code, status, cls, words",
    [
        ("ResourceAlreadyExistsException", 400, forecast.ForecastAlreadyExists, ""),
        ("ResourceInUseException", 400, forecast.ForecastInUse, ""),
        ("InvalidInputException", 400, forecast.ForecastInvalidInput, ""),
        ("LimitExceededException", 400, forecast.ForecastLimitExceeded, "quota"),
        ("AccessDeniedException", 400, forecast.ForecastAccessDenied, "forecast:CreateForecastExportJob"),
        ("SomethingNew", 400, forecast.ForecastError, ""),
    ],
)
def test_errors_are_classified_and_name_what_to_do(stubbed, code, status, cls, words):
    gateway, stubber = stubbed
    stubber.add_client_error("create_forecast_export_job", code, "said", status)
    destination = {"S3Config": {"Path": "s3://b/p/", "RoleArn": "arn:aws:iam::123456789012:role/r"}}
    with pytest.raises(forecast.ForecastError) as caught:
        gateway.create_export_job("j", FORECAST_ARN, destination, "CSV")
    assert caught.value.__class__ is cls
    assert f"{code}: said" in caught.value.message
    assert words in caught.value.message
    assert caught.value.aws_error is not None
