"""The collection playbook mailops.workmail.export_forecasts, run by ansible-playbook against the local AWS.

The local AWS's start-up fixture has three forecasts in us-east-1: demand_daily and demand_hourly are ACTIVE,
demand_weekly is still being created (CREATE_IN_PROGRESS).
"""

import hashlib
import json

import pytest
from workmail_emulator.provision import provision_forecast_export_destination

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "forecast-export-bucket"
PREFIX = "forecast-exports/"
DAILY = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand_daily"
IMPORT = """
- name: The collection playbook
  ansible.builtin.import_playbook: mailops.workmail.export_forecasts
"""
REPORT_TASK = "Report the run"


@pytest.fixture(autouse=True)
def custom_stats(monkeypatch):
    """Make the JSON callback print set_stats data (global_custom_stats)."""
    monkeypatch.setenv("ANSIBLE_SHOW_CUSTOM_STATS", "true")


def run_vars(**overrides):
    base = {"forecast_region": REGION, "forecast_bucket": BUCKET}
    base.update({f"forecast_{name}": value for name, value in overrides.items()})
    return base


def summary(result):
    return result.data["global_custom_stats"]["forecast_export_summary"]


def outcomes(result):
    return {f["forecast_name"]: f["outcome"] for f in summary(result)["forecasts"]}


def report(result):
    return "\n".join(result.task(REPORT_TASK)["msg"])


def derived_name(forecast_name, kms_key_arn, bucket=BUCKET):
    """The job name the playbook's export of ``forecast_name`` has: <forecast>_export_csv_<first 8 hex digits of the
    SHA-256 of "<S3 path>\\n<key ARN>">."""
    path = f"s3://{bucket}/{PREFIX}{forecast_name}/"
    return f"{forecast_name}_export_csv_" + hashlib.sha256(f"{path}\n{kms_key_arn}".encode()).hexdigest()[:8]


def bucket_key(aws, bucket=BUCKET):
    return aws.client("kms").describe_key(KeyId=f"alias/workmail-export/{bucket}")["KeyMetadata"]["Arn"]


def job_statuses(aws):
    return {job["ForecastExportJobName"]: job["Status"] for job in aws.forecast_export_jobs()}


def part_files(aws, prefix=PREFIX):
    objects = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in objects)


def test_exports_every_active_forecast_once_and_a_rerun_exports_nothing_again(aws, playbook):
    result = playbook(IMPORT, run_vars())
    assert not result.failed, (result, result.stdout[-3000:])
    assert outcomes(result) == {"demand_daily": "exported", "demand_hourly": "exported", "demand_weekly": "skipped"}
    stats = summary(result)
    assert stats["counts"] == {
        "exported": 2,
        "would_export": 0,
        "already_exported": 0,
        "skipped": 1,
        "failed": 0,
        "not_found": 0,
        "not_started": 0,
        "total": 3,
    }
    assert stats["done"] is True and stats["destination"] == f"s3://{BUCKET}/{PREFIX}"
    weekly = [f for f in stats["forecasts"] if f["forecast_name"] == "demand_weekly"][0]
    assert "status CREATE_IN_PROGRESS; only ACTIVE forecasts can be exported" in weekly["reason"]
    text = report(result)
    assert "demand_weekly: skipped - status CREATE_IN_PROGRESS" in text and "Done: yes" in text

    # Each forecast under its own folder, in part files, encrypted with the role's key.
    keys = part_files(aws)
    key_arn = bucket_key(aws)
    daily, hourly = derived_name("demand_daily", key_arn), derived_name("demand_hourly", key_arn)
    assert keys and all(k.startswith((f"{PREFIX}demand_daily/{daily}_", f"{PREFIX}demand_hourly/{hourly}_")) for k in keys)
    assert len([k for k in keys if "/demand_hourly/" in k]) == 5 and len([k for k in keys if "/demand_daily/" in k]) == 1
    head = aws.client("s3").head_object(Bucket=BUCKET, Key=keys[0])
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    jobs = aws.forecast_export_jobs()
    assert sorted(j["ForecastExportJobName"] for j in jobs) == [daily, hourly]

    again = playbook(IMPORT, run_vars())
    assert not again.failed and again.changed == 0, again
    assert outcomes(again) == {"demand_daily": "already_exported", "demand_hourly": "already_exported", "demand_weekly": "skipped"}
    assert len(aws.forecast_export_jobs()) == 2 and part_files(aws) == keys
    assert "running again exports nothing again" in report(again)
    checked = playbook(IMPORT, run_vars(), check=True)
    assert not checked.failed and checked.changed == 0, checked
    assert outcomes(checked) == {"demand_daily": "already_exported", "demand_hourly": "already_exported", "demand_weekly": "skipped"}
    text = report(checked)
    assert "  - demand_daily: already exported\n" in text + "\n", text
    assert "Done: yes - every ACTIVE forecast is already exported; nothing would change (1 not ACTIVE, skipped)" in text
    assert "Next: nothing; a run without --check would export nothing again." in text


def test_a_second_destination_gets_its_own_jobs_and_a_rerun_there_exports_nothing_again(aws, playbook):
    first = playbook(IMPORT, run_vars())
    assert not first.failed, report(first)
    second = playbook(IMPORT, run_vars(bucket="forecast-export-second"))
    assert not second.failed, (second, report(second))
    assert outcomes(second) == {"demand_daily": "exported", "demand_hourly": "exported", "demand_weekly": "skipped"}
    assert summary(second)["destination"] == f"s3://forecast-export-second/{PREFIX}" and summary(second)["destination_broken"] is False
    assert "Done: yes - every ACTIVE forecast is exported and checked" in report(second)
    key_a, key_b = bucket_key(aws), bucket_key(aws, "forecast-export-second")
    assert job_statuses(aws) == {
        derived_name(name, key, bucket): "ACTIVE"
        for name in ("demand_daily", "demand_hourly")
        for key, bucket in ((key_a, BUCKET), (key_b, "forecast-export-second"))
    }
    objects = aws.client("s3").list_objects_v2(Bucket="forecast-export-second", Prefix=PREFIX).get("Contents", [])
    assert len(objects) == 6
    again = playbook(IMPORT, run_vars(bucket="forecast-export-second"))
    assert not again.failed and again.changed == 0, again
    assert outcomes(again) == {"demand_daily": "already_exported", "demand_hourly": "already_exported", "demand_weekly": "skipped"}
    assert len(aws.forecast_export_jobs()) == 4


@pytest.mark.parametrize("delete_stopped", ["refuse", "allow"])
def test_a_stopped_job_is_passed_over_and_the_forecast_exported_again_under_the_next_name(aws, playbook, delete_stopped):
    aws.set_dialects(forecast_delete_stopped=delete_stopped)
    destination = provision_forecast_export_destination(aws.client, BUCKET, PREFIX, REGION)
    stopped = derived_name("demand_daily", destination["kms_key_arn"])
    forecast = aws.client("forecast")
    aws.set_time_scale(seconds_per_mb=0, min_seconds=600)
    arn = forecast.create_forecast_export_job(
        ForecastExportJobName=stopped,
        ForecastArn=DAILY,
        Destination={"S3Config": {"Path": f"{destination['path']}demand_daily/", "RoleArn": destination["role_arn"],
                                  "KMSKeyArn": destination["kms_key_arn"]}},
    )["ForecastExportJobArn"]
    forecast.stop_resource(ResourceArn=arn)
    aws.advance_clock(5)
    assert job_statuses(aws) == {stopped: "CREATE_STOPPED"}
    aws.set_time_scale(seconds_per_mb=0, min_seconds=1)

    given = run_vars(provision=False, role_arn=destination["role_arn"], kms_key_arn=destination["kms_key_arn"])
    result = playbook(IMPORT, given)
    assert not result.failed, (result, report(result))
    assert outcomes(result) == {"demand_daily": "exported", "demand_hourly": "exported", "demand_weekly": "skipped"}
    note = f"passed over the stopped job {stopped} (CREATE_STOPPED), which cannot be resumed: the forecast is exported again as {stopped}_2"
    assert f"demand_daily: exported - {note} (job {stopped}_2, 1 part file(s)" in report(result), report(result)
    assert "Done: yes" in report(result)
    # The stopped job is left as it is under either answer AWS may give to its delete: the playbook does not ask.
    assert job_statuses(aws) == {stopped: "CREATE_STOPPED", f"{stopped}_2": "ACTIVE", derived_name("demand_hourly", destination["kms_key_arn"]): "ACTIVE"}
    again = playbook(IMPORT, given)
    assert not again.failed and again.changed == 0, again
    assert outcomes(again)["demand_daily"] == "already_exported"


def test_a_job_of_the_derived_name_with_other_settings_is_not_called_a_broken_destination(aws, playbook):
    destination = provision_forecast_export_destination(aws.client, BUCKET, PREFIX, REGION)
    other = provision_forecast_export_destination(aws.client, BUCKET, PREFIX, REGION, role_name="forecast-export-other")
    aws.set_time_scale(seconds_per_mb=0, min_seconds=600)  # the other role's job is still being created
    aws.client("forecast").create_forecast_export_job(
        ForecastExportJobName=derived_name("demand_daily", destination["kms_key_arn"]),
        ForecastArn=DAILY,
        Destination={"S3Config": {"Path": f"{destination['path']}demand_daily/", "RoleArn": other["role_arn"],
                                  "KMSKeyArn": destination["kms_key_arn"]}},
    )
    result = playbook(IMPORT, run_vars(provision=False, role_arn=destination["role_arn"], kms_key_arn=destination["kms_key_arn"]))
    assert result.failed
    message = result.task("Fail when the first export's job exists with other settings")["msg"]
    assert "its job exists with other settings and a job cannot be changed" in message and "role_arn is" in message
    assert "is broken" not in message and summary(result)["destination_broken"] is False
    text = report(result)
    assert "the destination is not the cause" in text and "deleted and exported again" not in text
    assert outcomes(result) == {"demand_daily": "failed", "demand_hourly": "not_started", "demand_weekly": "skipped"}
    assert "demand_hourly: not started - the run stopped at its first export" in text


def test_a_selection_by_name_or_arn_exports_only_those_and_names_the_missing_ones(aws, playbook):
    result = playbook(IMPORT, run_vars(forecasts=f"{DAILY}, no_such_forecast", fail_on_problems="false"))
    assert not result.failed, result
    assert outcomes(result) == {"demand_daily": "exported", "no_such_forecast": "not_found"}
    assert [j["ForecastExportJobName"] for j in aws.forecast_export_jobs()] == [derived_name("demand_daily", bucket_key(aws))]
    assert "no_such_forecast: not found - no such forecast" in report(result)

    strict = playbook(IMPORT, run_vars(forecasts=["demand_hourly", "no_such_forecast"]))
    assert strict.failed
    assert "1 selected forecast(s) do not exist" in strict.task("Fail when an export failed")["msg"]
    assert outcomes(strict) == {"demand_hourly": "exported", "no_such_forecast": "not_found"}


def test_a_broken_destination_stops_the_run_after_one_export(aws, playbook):
    destination = provision_forecast_export_destination(aws.client, BUCKET, PREFIX, REGION)
    iam = aws.client("iam")
    role_name = destination["role_arn"].rsplit("/", 1)[1]
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role_name, PolicyName=name)
    result = playbook(
        IMPORT,
        run_vars(provision=False, role_arn=destination["role_arn"], kms_key_arn=destination["kms_key_arn"]),
    )
    assert result.failed
    message = result.task("Fail when the destination is broken")["msg"]
    assert f"the export destination s3://{BUCKET}/{PREFIX} is broken" in message
    assert "s3:PutObject" in message, message
    assert outcomes(result) == {"demand_daily": "failed", "demand_hourly": "not_started", "demand_weekly": "skipped"}
    assert "Done: no - the run STOPPED" in report(result)
    assert len(aws.forecast_export_jobs()) == 1

    # Fixed, a rerun deletes the failed job, exports that forecast again, then the other one.
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="forecast-export",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/{PREFIX}*"},
                                                    {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": destination["kms_key_arn"]}]}
        ),
    )
    fixed = playbook(IMPORT, run_vars(provision=False, role_arn=destination["role_arn"], kms_key_arn=destination["kms_key_arn"]))
    assert not fixed.failed, (fixed, report(fixed))
    assert outcomes(fixed) == {"demand_daily": "exported", "demand_hourly": "exported", "demand_weekly": "skipped"}


@pytest.mark.parametrize(
    "variables, problem",
    [
        ({"forecast_region": "eu-west-3"}, "forecast_region: must be a region where Amazon Forecast exists"),
        ({"forecast_bucket": None}, "forecast_bucket: is required"),
        ({"forecast_prefix": "exports"}, "forecast_prefix: must end with /"),
        ({"forecast_forecasts": "demand daily"}, "forecast_forecasts: each entry must be a forecast ARN or a forecast name"),
        ({"forecast_forecasts": "arn:aws:forecast:eu-west-1:123456789012:forecast/x"}, "forecast_forecasts: arn:aws:forecast:eu-west-1"),
        ({"forecast_format": "xml"}, "forecast_format: must be one of CSV, PARQUET"),
        ({"forecast_wait_timeout": "soon"}, "forecast_wait_timeout: must be an integer"),
        ({"forecast_provision": "no"}, "forecast_role_arn: is required when forecast_provision is false"),
    ],
)
def test_wrong_variables_stop_the_run_before_any_aws_call(aws, playbook, variables, problem):
    given = run_vars()
    given.update(variables)
    result = playbook(IMPORT, {k: v for k, v in given.items() if v is not None})
    assert result.failed
    assert problem in result.task("every rule, before any AWS call")["msg"]
    assert [name for name, task in result.tasks if not task.get("skipped")] == [
        "Check the variables - read them (survey text too), with their defaults",
        "Check the variables - every rule, before any AWS call",
    ]


def test_check_mode_on_an_empty_account_says_what_it_would_export(aws, playbook):
    result = playbook(IMPORT, run_vars(), check=True)
    assert not result.failed, result
    assert outcomes(result) == {"demand_daily": "would_export", "demand_hourly": "would_export", "demand_weekly": "skipped"}
    assert aws.client("s3").list_buckets()["Buckets"] == [] and aws.forecast_export_jobs() == []
