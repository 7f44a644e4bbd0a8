"""Amazon Forecast in the local AWS: forecasts, and forecast export jobs that move on the simulated clock and write
their part files into moto S3 (checked against botocore's model on the wire by ``checked_forecast_client``)."""

import json

import pytest
from botocore.exceptions import ClientError
from emulator_testlib import checked_forecast_client
from emulator_testlib import error_of
from workmail_emulator.provision import provision_forecast_export_destination

ACCOUNT = "123456789012"
DAILY = f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast/demand_daily"
HOURLY = f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast/demand_hourly"
WEEKLY = f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast/demand_weekly"


@pytest.fixture(name="forecast")
def forecast_fixture(aws):
    """A checked Forecast client at the (reset) emulator."""
    return checked_forecast_client(aws)


@pytest.fixture(name="target")
def target_fixture(aws):
    """A bucket, a key and a role Forecast may use to export into s3://forecast-exports/daily/."""
    return provision_forecast_export_destination(aws.client, "forecast-exports", "daily", "us-east-1")


def create(forecast, target, name="daily_export", forecast_arn=DAILY, **overrides):
    """CreateForecastExportJob into the target; return the job ARN."""
    s3_config = {"Path": target["path"], "RoleArn": target["role_arn"]}
    if target["kms_key_arn"]:
        s3_config["KMSKeyArn"] = target["kms_key_arn"]
    params = {"ForecastExportJobName": name, "ForecastArn": forecast_arn, "Destination": {"S3Config": s3_config}}
    params.update(overrides)
    return forecast.create_forecast_export_job(**params)["ForecastExportJobArn"]


def status(forecast, arn):
    """The job's Status."""
    return forecast.describe_forecast_export_job(ForecastExportJobArn=arn)["Status"]


def objects(aws, bucket="forecast-exports"):
    """Keys of a bucket."""
    return [item["Key"] for item in aws.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


# ------------------------------------------------------------------------------------------------ forecasts
def test_fixture_forecasts_are_listed_and_described(aws, forecast):
    listed = forecast.list_forecasts()["Forecasts"]
    assert [item["ForecastArn"] for item in listed] == [DAILY, HOURLY, WEEKLY]
    assert {item["ForecastName"]: item["Status"] for item in listed} == {
        "demand_daily": "ACTIVE",
        "demand_hourly": "ACTIVE",
        "demand_weekly": "CREATE_IN_PROGRESS",
    }
    described = forecast.describe_forecast(ForecastArn=HOURLY)
    assert described["ForecastTypes"] == ["0.1", "0.5", "0.9", "mean"]
    assert described["DatasetGroupArn"] == f"arn:aws:forecast:us-east-1:{ACCOUNT}:dataset-group/retail_demand"
    assert described["PredictorArn"] == f"arn:aws:forecast:us-east-1:{ACCOUNT}:predictor/retail_demand_hourly"
    assert [item["arn"] for item in aws.forecasts()] == [DAILY, HOURLY, WEEKLY]


def test_forecast_filters_and_pages(forecast):
    group = f"arn:aws:forecast:us-east-1:{ACCOUNT}:dataset-group/retail_demand"
    same_group = forecast.list_forecasts(Filters=[{"Key": "DatasetGroupArn", "Value": group, "Condition": "IS"}])
    assert [item["ForecastName"] for item in same_group["Forecasts"]] == ["demand_daily", "demand_hourly"]
    active_elsewhere = forecast.list_forecasts(
        Filters=[
            {"Key": "DatasetGroupArn", "Value": group, "Condition": "IS_NOT"},
            {"Key": "Status", "Value": "ACTIVE", "Condition": "IS"},
        ]
    )
    assert active_elsewhere["Forecasts"] == []
    first = forecast.list_forecasts(MaxResults=2)
    second = forecast.list_forecasts(MaxResults=2, NextToken=first["NextToken"])
    assert len(first["Forecasts"]) == 2 and len(second["Forecasts"]) == 1 and "NextToken" not in second
    pages = forecast.get_paginator("list_forecasts").paginate(PaginationConfig={"PageSize": 1})
    assert [item["ForecastName"] for page in pages for item in page["Forecasts"]] == [
        "demand_daily",
        "demand_hourly",
        "demand_weekly",
    ]
    with pytest.raises(ClientError) as excinfo:
        forecast.list_forecasts(NextToken="not-a-token")
    assert error_of(excinfo)[0] == "InvalidNextTokenException"
    with pytest.raises(ClientError) as excinfo:
        forecast.list_forecasts(Filters=[{"Key": "PredictorArn", "Value": group, "Condition": "IS"}])
    assert error_of(excinfo)[0] == "InvalidInputException"


def test_describe_unknown_forecast_is_not_found(aws, forecast):
    with pytest.raises(ClientError) as excinfo:
        forecast.describe_forecast(ForecastArn=f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast/nothing")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        checked_forecast_client(aws, region="us-west-2").describe_forecast(ForecastArn=DAILY)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_admin_adds_forecasts_and_reset_removes_them(aws, forecast):
    added = aws.add_forecasts([{"name": "extra", "items": 3, "horizon": 2}, {"name": "west", "region": "us-west-2"}])
    assert [item["arn"] for item in added] == [
        f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast/extra",
        f"arn:aws:forecast:us-west-2:{ACCOUNT}:forecast/west",
    ]
    assert forecast.describe_forecast(ForecastArn=added[0]["arn"])["Status"] == "ACTIVE"
    with pytest.raises(Exception) as excinfo:
        aws.add_forecasts([{"name": "extra"}])
    assert "409" in str(excinfo.value)
    with pytest.raises(Exception) as excinfo:
        aws.add_forecasts([{"name": "bad-name"}])
    assert "400" in str(excinfo.value)
    aws.reset()
    assert [item["name"] for item in aws.forecasts()] == ["demand_daily", "demand_hourly", "demand_weekly"]


# ------------------------------------------------------------------------------------------------ export jobs
def test_a_job_moves_to_active_and_writes_its_part_files_with_sse_kms(aws, forecast, target):
    arn = create(forecast, target)
    assert arn == f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast-export-job/demand_daily/daily_export"
    described = forecast.describe_forecast_export_job(ForecastExportJobArn=arn)
    assert described["Status"] == "CREATE_PENDING" and described["Format"] == "CSV"
    assert described["LastModificationTime"] == described["CreationTime"]
    assert objects(aws) == []
    aws.advance_clock(1)
    assert status(forecast, arn) == "CREATE_IN_PROGRESS"
    assert objects(aws) == []
    aws.advance_clock(2)
    described = forecast.describe_forecast_export_job(ForecastExportJobArn=arn)
    assert described["Status"] == "ACTIVE" and "Message" not in described
    keys = objects(aws)
    stamp = described["CreationTime"].strftime("%Y-%m-%dT%H-%M-%SZ")
    assert keys == [f"daily/daily_export_{stamp}_part0.csv"]
    s3 = aws.client("s3")
    head = s3.head_object(Bucket="forecast-exports", Key=keys[0])
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == target["kms_key_arn"]
    lines = s3.get_object(Bucket="forecast-exports", Key=keys[0])["Body"].read().decode().splitlines()
    assert lines[0] == "item_id,date,p10,p50,p90"
    assert len(lines) == 1 + 25 * 14
    item_id, date, p10, p50, p90 = lines[1].split(",")
    assert item_id.startswith("item_") and date.endswith("Z") and float(p10) <= float(p50) <= float(p90)


def test_a_large_forecast_takes_longer_and_writes_several_parts(aws, forecast, target):
    small = create(forecast, target, name="small")
    large = create(forecast, target, name="large", forecast_arn=HOURLY, Format="PARQUET")
    aws.advance_clock(3)
    assert status(forecast, small) == "ACTIVE"
    assert status(forecast, large) == "CREATE_IN_PROGRESS"  # 120 MB at 0.02 s/MB: 2.4 s after a 1 s pending
    aws.advance_clock(1)
    assert status(forecast, large) == "ACTIVE"
    parts = sorted(key for key in objects(aws) if key.startswith("daily/large_"))
    assert [key.rsplit("_", 1)[1] for key in parts] == [f"part{n}.parquet" for n in range(5)]
    body = aws.client("s3").get_object(Bucket="forecast-exports", Key=parts[0])["Body"].read()
    assert body.startswith(b"PAR1") and body.endswith(b"PAR1")


def test_a_job_without_a_key_uses_the_bucket_default(aws, forecast):
    target = provision_forecast_export_destination(aws.client, "plain-exports", "", "us-east-1", with_key=False)
    arn = create(forecast, target)
    assert "KMSKeyArn" not in forecast.describe_forecast_export_job(ForecastExportJobArn=arn)["Destination"]["S3Config"]
    aws.advance_clock(5)
    assert status(forecast, arn) == "ACTIVE"
    [key] = objects(aws, "plain-exports")
    assert key.startswith("daily_export_") and key.endswith("_part0.csv")
    assert aws.client("s3").head_object(Bucket="plain-exports", Key=key).get("ServerSideEncryption") != "aws:kms"


def test_the_same_name_for_the_same_forecast_already_exists(aws, forecast, target):
    create(forecast, target)
    with pytest.raises(ClientError) as excinfo:
        create(forecast, target)
    assert error_of(excinfo)[0] == "ResourceAlreadyExistsException"
    other = create(forecast, target, forecast_arn=HOURLY)
    assert other.endswith("forecast-export-job/demand_hourly/daily_export")
    aws.advance_clock(5)
    with pytest.raises(ClientError) as excinfo:
        create(forecast, target)  # finished jobs keep their name
    assert error_of(excinfo)[0] == "ResourceAlreadyExistsException"


def test_a_forecast_that_is_not_active_cannot_be_exported(forecast, target):
    with pytest.raises(ClientError) as excinfo:
        create(forecast, target, forecast_arn=WEEKLY)
    code, message = error_of(excinfo)
    assert code == "ResourceInUseException" and "CREATE_IN_PROGRESS" in message
    with pytest.raises(ClientError) as excinfo:
        create(forecast, target, forecast_arn=f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast/nothing")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
