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


def test_status_and_last_modification_time_follow_the_clock(aws, forecast, target):
    aws.set_time_scale(min_seconds=10)
    arn = create(forecast, target)
    created = forecast.describe_forecast_export_job(ForecastExportJobArn=arn)["CreationTime"]
    aws.advance_clock(2)
    running = forecast.describe_forecast_export_job(ForecastExportJobArn=arn)
    assert running["Status"] == "CREATE_IN_PROGRESS"
    assert (running["LastModificationTime"] - created).total_seconds() >= 2  # the current time while it runs
    aws.advance_clock(5)
    assert status(forecast, arn) == "CREATE_IN_PROGRESS"
    aws.advance_clock(5)
    done = forecast.describe_forecast_export_job(ForecastExportJobArn=arn)
    assert done["Status"] == "ACTIVE"
    assert abs((done["LastModificationTime"] - created).total_seconds() - 11) < 0.01  # when it finished
    [job] = aws.forecast_export_jobs()
    assert job["DurationSeconds"] == 10 and len(job["PartKeys"]) == 1


# ------------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"ForecastExportJobName": "9_starts_with_a_digit"}, "forecastExportJobName"),
        ({"ForecastExportJobName": "has-dashes"}, "regular expression pattern"),
        ({"ForecastExportJobName": "x" * 64}, "length less than or equal to 63"),
        ({"Format": "XLSX"}, "format"),
        ({"Format": "csv"}, "format"),
        ({"ForecastArn": "demand_daily"}, "forecastArn"),
        ({"Destination": {"S3Config": {"Path": "https://bucket/x", "RoleArn": "R"}}}, "destination.s3Config.path"),
    ],
)
def test_model_constraints_answer_invalid_input(aws, target, overrides, words):
    forecast = checked_forecast_client(aws, parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        create(forecast, target, **overrides)
    code, message = error_of(excinfo)
    assert code == "InvalidInputException" and words in message, message


@pytest.mark.parametrize(
    "role_arn, words",
    [
        ("arn:aws:iam::210987654321:role/forecast-export", "another account"),
        ("arn:aws:forecast:us-east-1:123456789012:role/x", "not the ARN of an IAM role"),
        ("forecast-export", "not the ARN of an IAM role"),
    ],
)
def test_a_role_that_is_not_an_iam_role_of_the_account_is_refused_at_once(forecast, target, role_arn, words):
    with pytest.raises(ClientError) as excinfo:
        create(forecast, dict(target, role_arn=role_arn))
    code, message = error_of(excinfo)
    assert code == "InvalidInputException" and words in message, message


def test_a_path_that_names_no_bucket_is_refused_at_once(forecast, target):
    with pytest.raises(ClientError) as excinfo:
        create(forecast, dict(target, path="s3://Not_A_Bucket/prefix"))
    assert error_of(excinfo)[0] == "InvalidInputException"


def test_tags_within_the_model_are_accepted(forecast, target):
    tags = [{"Key": "team", "Value": "démand planning"}, {"Key": "cost:centre", "Value": "42"}]
    assert create(forecast, target, Tags=tags)
    with pytest.raises(ClientError) as excinfo:
        create(forecast, target, name="other", Tags=[{"Key": "bad;key", "Value": "x"}])
    code, message = error_of(excinfo)
    assert code == "InvalidInputException" and "Sensitive Data Redacted" in message


# ------------------------------------------------------------------------------------------------ list
def test_list_filters_and_pages(aws, forecast, target):
    first = create(forecast, target, name="first")
    aws.advance_clock(5)
    second = create(forecast, target, name="second", forecast_arn=HOURLY)
    third = create(forecast, target, name="third")
    listed = forecast.list_forecast_export_jobs()["ForecastExportJobs"]
    assert [item["ForecastExportJobArn"] for item in listed] == [third, second, first]  # newest first

    def names(*filters):
        jobs = forecast.list_forecast_export_jobs(Filters=list(filters))["ForecastExportJobs"]
        return sorted(item["ForecastExportJobName"] for item in jobs)

    assert names({"Key": "ForecastArn", "Value": DAILY, "Condition": "IS"}) == ["first", "third"]
    assert names({"Key": "ForecastArn", "Value": DAILY, "Condition": "IS_NOT"}) == ["second"]
    assert names({"Key": "Status", "Value": "ACTIVE", "Condition": "IS"}) == ["first"]
    assert names(
        {"Key": "ForecastArn", "Value": DAILY, "Condition": "IS"},
        {"Key": "Status", "Value": "ACTIVE", "Condition": "IS_NOT"},
    ) == ["third"]
    page = forecast.list_forecast_export_jobs(MaxResults=2)
    rest = forecast.list_forecast_export_jobs(MaxResults=2, NextToken=page["NextToken"])
    assert len(page["ForecastExportJobs"]) == 2 and len(rest["ForecastExportJobs"]) == 1 and "NextToken" not in rest
    pages = forecast.get_paginator("list_forecast_export_jobs").paginate(PaginationConfig={"PageSize": 1})
    assert [item["ForecastExportJobName"] for page in pages for item in page["ForecastExportJobs"]] == [
        "third",
        "second",
        "first",
    ]
    with pytest.raises(ClientError) as excinfo:
        forecast.list_forecast_export_jobs(Filters=[{"Key": "DatasetGroupArn", "Value": DAILY, "Condition": "IS"}])
    assert error_of(excinfo)[0] == "InvalidInputException"
    with pytest.raises(ClientError) as excinfo:
        forecast.list_forecast_export_jobs(NextToken=page["NextToken"] + "x")
    assert error_of(excinfo)[0] == "InvalidNextTokenException"


def test_an_unknown_job_is_not_found(forecast):
    unknown = f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast-export-job/demand_daily/nothing"
    for call in (forecast.describe_forecast_export_job, forecast.delete_forecast_export_job):
        with pytest.raises(ClientError) as excinfo:
            call(ForecastExportJobArn=unknown)
        assert error_of(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        forecast.stop_resource(ResourceArn=unknown)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


# ------------------------------------------------------------------------------------------------ delete and stop
def test_delete_only_when_active_or_failed_then_gone(aws, forecast, target):
    arn = create(forecast, target)
    with pytest.raises(ClientError) as excinfo:
        forecast.delete_forecast_export_job(ForecastExportJobArn=arn)
    code, message = error_of(excinfo)
    assert code == "ResourceInUseException" and "CREATE_PENDING" in message
    aws.advance_clock(5)
    forecast.delete_forecast_export_job(ForecastExportJobArn=arn)
    assert status(forecast, arn) == "DELETE_PENDING"
    with pytest.raises(ClientError) as excinfo:
        forecast.delete_forecast_export_job(ForecastExportJobArn=arn)
    assert error_of(excinfo)[0] == "ResourceInUseException"
    aws.advance_clock(1)
    assert status(forecast, arn) == "DELETE_IN_PROGRESS"
    aws.advance_clock(1)
    with pytest.raises(ClientError) as excinfo:
        status(forecast, arn)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    assert forecast.list_forecast_export_jobs()["ForecastExportJobs"] == []
    assert len(objects(aws)) == 1  # the exported files stay
    assert create(forecast, target) == arn  # and the name is free again


def test_a_failed_job_can_be_deleted(aws, forecast, target):
    arn = create(forecast, dict(target, path="s3://no-such-bucket/x/"))
    aws.advance_clock(5)
    assert status(forecast, arn) == "CREATE_FAILED"
    forecast.delete_forecast_export_job(ForecastExportJobArn=arn)
    assert status(forecast, arn) == "DELETE_PENDING"


def test_stop_a_running_job(aws, forecast, target):
    small = create(forecast, target, name="small")
    large = create(forecast, target, name="large", forecast_arn=HOURLY)
    aws.advance_clock(1.5)
    assert status(forecast, small) == "CREATE_IN_PROGRESS" and status(forecast, large) == "CREATE_IN_PROGRESS"
    forecast.stop_resource(ResourceArn=large)
    assert status(forecast, large) == "CREATE_STOPPING"
    aws.advance_clock(1)
    assert status(forecast, large) == "CREATE_STOPPED"
    aws.advance_clock(10)
    assert status(forecast, large) == "CREATE_STOPPED" and status(forecast, small) == "ACTIVE"  # never resumed
    assert [key for key in objects(aws) if "/large_" in key] == []
    with pytest.raises(ClientError) as excinfo:
        forecast.stop_resource(ResourceArn=large)
    code, message = error_of(excinfo)
    assert code == "InvalidInputException" and "CREATE_STOPPED" in message
    with pytest.raises(ClientError) as excinfo:
        forecast.delete_forecast_export_job(ForecastExportJobArn=large)
    assert error_of(excinfo)[0] == "ResourceInUseException"


def test_stop_a_pending_job_and_not_a_finished_one(aws, forecast, target):
    pending = create(forecast, target, name="pending")
    forecast.stop_resource(ResourceArn=pending)
    assert status(forecast, pending) == "CREATE_STOPPING"
    finished = create(forecast, target, name="finished")
    aws.advance_clock(5)
    assert status(forecast, pending) == "CREATE_STOPPED" and status(forecast, finished) == "ACTIVE"
    with pytest.raises(ClientError) as excinfo:
        forecast.stop_resource(ResourceArn=finished)
    code, message = error_of(excinfo)
    assert code == "InvalidInputException" and "ACTIVE" in message
    with pytest.raises(ClientError) as excinfo:
        forecast.stop_resource(ResourceArn=DAILY)
    assert error_of(excinfo)[0] == "InvalidInputException"


# ------------------------------------------------------------------------------------------------ destination checks
def _role_name(target):
    return target["role_arn"].rsplit("/", 1)[1]


def _trust_workmail(aws, target):
    trust = json.loads(
        json.dumps(_trust(aws, target)).replace("forecast.amazonaws.com", "export.workmail.amazonaws.com")
    )
    aws.client("iam").update_assume_role_policy(RoleName=_role_name(target), PolicyDocument=json.dumps(trust))


def _trust(aws, target):
    return aws.client("iam").get_role(RoleName=_role_name(target))["Role"]["AssumeRolePolicyDocument"]


def _trust_other_account(aws, target):
    trust = json.loads(json.dumps(_trust(aws, target)).replace(ACCOUNT, "210987654321"))
    aws.client("iam").update_assume_role_policy(RoleName=_role_name(target), PolicyDocument=json.dumps(trust))


def _trust_other_forecast(aws, target):
    trust = _trust(aws, target)
    trust["Statement"][0]["Condition"]["ArnLike"][
        "aws:SourceArn"
    ] = f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast-export-job/demand_hourly/*"
    aws.client("iam").update_assume_role_policy(RoleName=_role_name(target), PolicyDocument=json.dumps(trust))


def _other_prefix(aws, target):
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::forecast-exports/weekly/*"}
        ],
    }
    aws.client("iam").put_role_policy(
        RoleName=_role_name(target), PolicyName="forecast-export", PolicyDocument=json.dumps(policy)
    )


def _no_kms(aws, target):
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::forecast-exports/*"}],
    }
    aws.client("iam").put_role_policy(
        RoleName=_role_name(target), PolicyName="forecast-export", PolicyDocument=json.dumps(policy)
    )


def _disable_key(aws, target):
    aws.client("kms").disable_key(KeyId=target["kms_key_arn"])


def _delete_role(aws, target):
    iam = aws.client("iam")
    iam.delete_role_policy(RoleName=_role_name(target), PolicyName="forecast-export")
    iam.delete_role(RoleName=_role_name(target))


def _delete_bucket(aws, _target):
    aws.client("s3").delete_bucket(Bucket="forecast-exports")


def _key_elsewhere(aws, target):
    target["kms_key_arn"] = aws.client("kms", region="us-west-2").create_key()["KeyMetadata"]["Arn"]


@pytest.mark.parametrize(
    "spoil, words",
    [
        (_trust_workmail, "does not allow the service principal forecast.amazonaws.com"),
        (_trust_other_account, "aws:SourceAccount=123456789012"),
        (_trust_other_forecast, "forecast-export-job/demand_daily/daily_export"),
        (_other_prefix, "not allowed s3:PutObject on arn:aws:s3:::forecast-exports/daily/daily_export_"),
        (_no_kms, "not allowed kms:GenerateDataKey"),
        (_disable_key, "is not enabled"),
        (_delete_role, "does not exist"),
        (_delete_bucket, "bucket forecast-exports does not exist"),
        (_key_elsewhere, "is in region us-west-2"),
    ],
)
def test_a_destination_problem_fails_the_job_with_a_message(aws, forecast, target, spoil, words):
    spoil(aws, target)
    arn = create(forecast, target)
    assert status(forecast, arn) == "CREATE_PENDING"  # checked when the job runs, as the service does
    aws.advance_clock(5)
    described = forecast.describe_forecast_export_job(ForecastExportJobArn=arn)
    assert described["Status"] == "CREATE_FAILED"
    assert words in described["Message"], described["Message"]
    listed = forecast.list_forecast_export_jobs()["ForecastExportJobs"][0]
    assert listed["Status"] == "CREATE_FAILED" and listed["Message"] == described["Message"]
    if spoil is not _delete_bucket:
        assert objects(aws) == []


def test_a_bucket_in_another_region_fails_the_job(aws, forecast):
    target = provision_forecast_export_destination(aws.client, "west-exports", "x", "us-west-2", with_key=False)
    trust = json.loads(json.dumps(_trust(aws, target)).replace("us-west-2", "us-east-1"))  # the job runs in us-east-1
    aws.client("iam").update_assume_role_policy(RoleName=_role_name(target), PolicyDocument=json.dumps(trust))
    arn = create(forecast, target)
    aws.advance_clock(5)
    described = forecast.describe_forecast_export_job(ForecastExportJobArn=arn)
    assert described["Status"] == "CREATE_FAILED" and "us-west-2" in described["Message"]


def test_a_trust_policy_without_conditions_is_enough(aws, forecast, target):
    trust = _trust(aws, target)
    del trust["Statement"][0]["Condition"]
    aws.client("iam").update_assume_role_policy(RoleName=_role_name(target), PolicyDocument=json.dumps(trust))
    arn = create(forecast, target)
    aws.advance_clock(5)
    assert status(forecast, arn) == "ACTIVE"


# ------------------------------------------------------------------------------------------------ faults and counts
def test_faults_apply_to_forecast_requests(aws, forecast, target):
    aws.set_faults(service="forecast", operation="ListForecasts", throttle_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        forecast.list_forecasts()
    assert error_of(excinfo)[0] == "ThrottlingException"
    assert forecast.describe_forecast(ForecastArn=DAILY)["Status"] == "ACTIVE"  # another operation
    aws.set_faults(service="forecast", operation="*", error_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        forecast.describe_forecast(ForecastArn=DAILY)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
    aws.set_faults(service="forecast", operation="*", error_rate=0.0)
    aws.set_faults(service="forecast", operation="ListForecasts", throttle_rate=0.0)
    assert forecast.list_forecasts()["Forecasts"]
    faults = aws.faults()
    assert faults["injected"]["forecast"]["throttle"] == 1
    assert faults["injected"]["forecast"]["error500"] + faults["injected"]["forecast"]["error503"] == 1
    assert faults["forecast_requests"] == 4 and faults["requests"]["workmail"] == 0
    assert faults["forecast_rules"] == {} and faults["rules"] == {}
    calls = aws.calls()
    assert calls["ListForecasts"] == 2 and calls["DescribeForecast"] == 2


def test_a_lost_create_has_taken_effect(aws, forecast, target):
    aws.set_faults(service="forecast", operation="CreateForecastExportJob", lost_write_rate=1.0)
    with pytest.raises(Exception) as excinfo:
        create(forecast, target)
    assert "Connection" in type(excinfo.value).__name__ or "connection" in str(excinfo.value).lower()
    aws.set_faults(service="forecast", operation="CreateForecastExportJob", lost_write_rate=0.0)
    with pytest.raises(ClientError) as excinfo:
        create(forecast, target)
    assert error_of(excinfo)[0] == "ResourceAlreadyExistsException"


def test_a_dropped_request_has_no_effect(aws, forecast, target):
    aws.set_faults(service="forecast", operation="CreateForecastExportJob", drop_rate=1.0)
    with pytest.raises(Exception):
        create(forecast, target)
    aws.set_faults(service="forecast", operation="CreateForecastExportJob", drop_rate=0.0)
    assert forecast.list_forecast_export_jobs()["ForecastExportJobs"] == []


def test_forecast_fault_rules_name_forecast_operations(aws):
    with pytest.raises(Exception) as excinfo:
        aws.set_faults(service="forecast", operation="StartMailboxExportJob", throttle_rate=1.0)
    assert "not a Forecast operation" in str(excinfo.value)


def test_a_retrying_client_gets_through_throttling(aws, target):
    aws.set_faults(service="forecast", operation="*", throttle_rate=0.5, seed=3)
    forecast = aws.client("forecast", retries={"total_max_attempts": 10, "mode": "standard"})
    arn = create(forecast, target)
    assert forecast.describe_forecast_export_job(ForecastExportJobArn=arn)["ForecastArn"] == DAILY
    assert aws.faults()["injected"]["forecast"]["throttle"] >= 1


# ------------------------------------------------------------------------------------------------ moto's part
def test_moto_dataset_groups_still_work(aws, forecast):
    arn = forecast.create_dataset_group(DatasetGroupName="retail", Domain="RETAIL")["DatasetGroupArn"]
    assert forecast.describe_dataset_group(DatasetGroupArn=arn)["DatasetGroupName"] == "retail"
    assert [item["DatasetGroupArn"] for item in forecast.list_dataset_groups()["DatasetGroups"]] == [arn]
    forecast.delete_dataset_group(DatasetGroupArn=arn)
    assert forecast.list_dataset_groups()["DatasetGroups"] == []
    assert aws.calls()["CreateDatasetGroup"] == 1


# ------------------------------------------------------------------------------------------------ shapes and fixtures
def test_every_forecast_operation_answers_in_its_output_shape(aws, target):
    from workmail_emulator.forecast_responses import OPERATIONS  # pylint: disable=import-outside-toplevel
    from workmail_emulator.forecast_responses import RELAXED_OUTPUT_PATTERNS  # pylint: disable=import-outside-toplevel
    from workmail_emulator.validation import check_response  # pylint: disable=import-outside-toplevel

    forecast = aws.client("forecast", retries={"total_max_attempts": 1})
    seen = {}

    def record(http_response, model, **_kwargs):
        body = json.loads(http_response.content or b"{}")
        assert http_response.status_code == 200, body
        problems = check_response(model.name, body, service="forecast", relaxed=RELAXED_OUTPUT_PATTERNS)
        seen.setdefault(model.name, []).extend(problems)

    forecast.meta.events.register("after-call.forecast", record)
    failed = create(forecast, dict(target, path="s3://no-such-bucket/x/"), name="failed")
    done = create(forecast, target, name="done", Tags=[{"Key": "k", "Value": "v"}])
    stopped = create(forecast, target, name="stopped", forecast_arn=HOURLY, Format="PARQUET")
    forecast.stop_resource(ResourceArn=stopped)
    aws.advance_clock(5)
    running = create(forecast, target, name="running")
    forecast.delete_forecast_export_job(ForecastExportJobArn=done)
    for arn in (failed, done, stopped, running):
        forecast.describe_forecast_export_job(ForecastExportJobArn=arn)
    assert forecast.list_forecast_export_jobs(MaxResults=2)["NextToken"]
    forecast.list_forecast_export_jobs()
    for arn in (DAILY, HOURLY, WEEKLY):
        forecast.describe_forecast(ForecastArn=arn)
    forecast.list_forecasts(MaxResults=1)
    forecast.list_forecasts()
    assert set(seen) == set(OPERATIONS), f"not exercised: {set(OPERATIONS) - set(seen)}"
    assert all(not problems for problems in seen.values()), seen


def test_the_relaxed_patterns_are_only_the_model_errata():
    from workmail_emulator.forecast_responses import RELAXED_OUTPUT_PATTERNS  # pylint: disable=import-outside-toplevel
    from workmail_emulator.validation import check_response  # pylint: disable=import-outside-toplevel

    role = {"S3Config": {"Path": "s3://b/p", "RoleArn": "arn:aws:iam::123456789012:role/r"}}
    job = f"arn:aws:forecast:us-east-1:{ACCOUNT}:forecast-export-job/f/j"
    body = {"ForecastExportJobArn": job, "Destination": role, "Status": "ACTIVE"}
    assert check_response("DescribeForecastExportJob", body, service="forecast")  # the model's pattern says no
    assert not check_response("DescribeForecastExportJob", body, service="forecast", relaxed=RELAXED_OUTPUT_PATTERNS)
    bad_path = dict(body, Destination={"S3Config": dict(role["S3Config"], Path="http://b")})
    assert check_response("DescribeForecastExportJob", bad_path, service="forecast", relaxed=RELAXED_OUTPUT_PATTERNS)
    assert check_response("DescribeForecast", {"Status": "ACTIVE", "Extra": 1}, service="forecast")


@pytest.mark.parametrize(
    "forecasts, words",
    [
        ([{"name": "bad-name"}], "letters, digits and underscores"),
        ([{"name": "x", "unknown": 1}], "unknown keys"),
        ([{"name": "x", "status": "DONE"}], "status must be one of"),
        ([{"name": "x", "region": "eu-west-3"}], "region must be one of"),
        ([{"name": "x", "items": 0}], "items must be an integer"),
        ([{"name": "x", "forecast_types": ["p50"]}], "forecast_types"),
        ([{"name": "x", "frequency": "M"}], "frequency must be one of"),
        ([{"name": "x"}, {"name": "x"}], "unique"),
    ],
)
def test_fixture_forecasts_are_validated(forecasts, words):
    from workmail_emulator.fixtures import FixtureError  # pylint: disable=import-outside-toplevel
    from workmail_emulator.fixtures import normalise_forecasts  # pylint: disable=import-outside-toplevel

    with pytest.raises(FixtureError) as excinfo:
        normalise_forecasts({"forecasts": forecasts})
    assert words in str(excinfo.value)


def test_fixture_forecast_defaults():
    from workmail_emulator.fixtures import normalise_forecasts  # pylint: disable=import-outside-toplevel

    [spec] = normalise_forecasts([{"name": "x"}])
    assert spec == {
        "name": "x",
        "region": "us-east-1",
        "status": "ACTIVE",
        "message": None,
        "dataset_group": "x_dsg",
        "predictor": "x_predictor",
        "forecast_types": ["0.1", "0.5", "0.9"],
        "items": 10,
        "horizon": 14,
        "frequency": "D",
        "start": "2027-01-01",
        "size_mb": 10 * 14 * 64 / 1e6,
    }


def test_the_time_scale_sets_how_long_an_export_runs(aws, forecast, target):
    aws.set_time_scale(seconds_per_mb=1.0, min_seconds=1)
    arn = create(forecast, target, forecast_arn=HOURLY)  # 120 MB
    aws.advance_clock(100)
    assert status(forecast, arn) == "CREATE_IN_PROGRESS"
    aws.advance_clock(25)
    assert status(forecast, arn) == "ACTIVE"


def test_extension_point_moto_forecast_response_takes_the_operations():
    import moto.forecast.urls  # pylint: disable=import-outside-toplevel
    from moto.forecast.responses import ForecastResponse  # pylint: disable=import-outside-toplevel
    from workmail_emulator import plugin  # pylint: disable=import-outside-toplevel
    from workmail_emulator.forecast_responses import OPERATIONS  # pylint: disable=import-outside-toplevel

    plugin.install()
    plugin.install()
    for name in OPERATIONS.values():
        assert getattr(ForecastResponse, name).workmail_emulator_patched, name
    assert not getattr(ForecastResponse.create_dataset_group, "workmail_emulator_patched", False)
    handlers = list(moto.forecast.urls.url_paths.values())
    assert [handler.__self__ for handler in handlers] == [ForecastResponse], "moto routes Forecast differently"


def test_operations_nobody_serves_and_regions_without_forecast(aws, forecast):
    with pytest.raises(ClientError) as excinfo:
        forecast.create_forecast(ForecastName="x", PredictorArn=f"arn:aws:forecast:us-east-1:{ACCOUNT}:predictor/p")
    assert error_of(excinfo)[0] == "NotImplemented"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    with pytest.raises(ClientError) as excinfo:
        aws.client("forecast", region="eu-west-3", retries={"total_max_attempts": 1}).list_forecasts()
    code, message = error_of(excinfo)
    assert code == "UnrecognizedClientException" and "eu-west-3" in message


def test_the_dialect_forecast_delete_stopped_decides_whether_a_stopped_job_can_be_deleted(aws, forecast, target):
    arn = create(forecast, target)
    forecast.stop_resource(ResourceArn=arn)
    aws.advance_clock(2)
    assert status(forecast, arn) == "CREATE_STOPPED"
    with pytest.raises(ClientError) as excinfo:
        forecast.delete_forecast_export_job(ForecastExportJobArn=arn)
    code, message = error_of(excinfo)
    assert code == "ResourceInUseException" and "only a job in ACTIVE or CREATE_FAILED can be deleted" in message
    aws.set_dialects(forecast_delete_stopped="allow")
    forecast.delete_forecast_export_job(ForecastExportJobArn=arn)
    assert status(forecast, arn) == "DELETE_PENDING"
    aws.advance_clock(2)
    assert forecast.list_forecast_export_jobs()["ForecastExportJobs"] == []
