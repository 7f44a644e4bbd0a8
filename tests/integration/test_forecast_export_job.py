"""forecast_export_job, forecast_export_job_info and forecast_info, run by ansible-playbook against the local AWS."""

import hashlib
import json

import pytest
from workmail_emulator.provision import forecast_trust_policy
from workmail_emulator.provision import provision_forecast_export_destination

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "example-forecast-exports"
PREFIX = "forecasts"
DAILY = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand_daily"
HOURLY = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand_hourly"
WEEKLY = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand_weekly"


def derived_name(forecast_name, path, kms_key_arn, export_format="csv"):
    """The derived job name: <forecast>_export_<format>_<first 8 hex digits of SHA-256 of "<path>\\n<key ARN>">."""
    digits = hashlib.sha256(f"{path}\n{kms_key_arn or ''}".encode()).hexdigest()[:8]
    return f"{forecast_name}_export_{export_format}_{digits}"


@pytest.fixture(name="destination")
def destination_fixture(aws):
    return provision_forecast_export_destination(aws.client, BUCKET, PREFIX, REGION)


@pytest.fixture(name="daily_name")
def daily_name_fixture(destination):
    return derived_name("demand_daily", destination["path"], destination["kms_key_arn"])


def job_args(destination, **extra):
    args = {
        "forecast_arn": DAILY,
        "s3_path": destination["path"],
        "role_arn": destination["role_arn"],
        "kms_key_arn": destination["kms_key_arn"],
        "region": REGION,
    }
    args.update(extra)
    return args


def absent_args(destination):
    """state=absent for demand_daily's derived job: the destination gives the name."""
    return {"state": "absent", "forecast_arn": DAILY, "s3_path": destination["path"], "kms_key_arn": destination["kms_key_arn"]}


def job_arn(forecast_name, name):
    return f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast-export-job/{forecast_name}/{name}"


def stored_jobs(aws):
    return {job["ForecastExportJobName"]: job for job in aws.forecast_export_jobs()}


def test_create_then_rerun_unchanged_then_wait_active_and_verified(aws, module, destination, daily_name):
    first = module("forecast_export_job", job_args(destination))
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True
    assert first["name"] == daily_name
    job = first["forecast_export_job"]
    assert job["forecast_export_job_arn"] == job_arn("demand_daily", daily_name)
    assert job["status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS")
    assert job["destination"]["s3_config"] == {
        "path": destination["path"],
        "role_arn": destination["role_arn"],
        "kms_key_arn": destination["kms_key_arn"],
    }
    assert job["format"] == "CSV"
    assert first["verification"] is None

    again = module("forecast_export_job", job_args(destination))
    assert again["changed"] is False, again.get("msg")
    assert list(stored_jobs(aws)) == [daily_name]

    waited = module("forecast_export_job", job_args(destination, wait=True, wait_timeout=120))
    assert not waited.get("failed"), waited.get("msg")
    assert waited["changed"] is False
    assert waited["forecast_export_job"]["status"] == "ACTIVE"
    verification = waited["verification"]
    assert verification["verified"] is True, verification["problems"]
    assert verification["parts"] >= 1
    assert verification["encryption"] == "aws:kms"
    assert verification["kms_key_arn"] == destination["kms_key_arn"]
    s3 = aws.client("s3")
    for key in verification["part_keys"]:
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] > 0
        assert head["SSEKMSKeyId"] == destination["kms_key_arn"]
    assert verification["bytes"] == sum(s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] for key in verification["part_keys"])
    assert sorted(verification["part_keys"]) == sorted(stored_jobs(aws)[daily_name]["PartKeys"])


def test_another_destination_gets_its_own_job_and_a_role_alone_does_not_matter_once_active(aws, module, destination, daily_name):
    module("forecast_export_job", job_args(destination, wait=True, wait_timeout=120))
    elsewhere = provision_forecast_export_destination(aws.client, "other-forecast-exports", PREFIX, REGION, role_name="forecast-export-other")
    other = module("forecast_export_job", job_args(elsewhere, wait=True, wait_timeout=120))
    assert not other.get("failed"), other.get("msg")
    assert other["changed"] is True and other["name"] == derived_name("demand_daily", elsewhere["path"], elsewhere["kms_key_arn"])
    assert other["name"] != daily_name and other["verification"]["verified"] is True
    assert sorted(stored_jobs(aws)) == sorted([daily_name, other["name"]])
    # The first destination's job again, written by another role: found, unchanged, with a note.
    again = module("forecast_export_job", job_args(destination, role_arn=elsewhere["role_arn"]))
    assert not again.get("failed") and again["changed"] is False, again.get("msg")
    assert again["name"] == daily_name
    assert again["notes"] == [
        f"the job was written with the role {destination['role_arn']}, not {elsewhere['role_arn']}; its export is done, so the role does not matter "
        "and the job was left as it is"
    ]


def test_same_name_with_other_settings_fails_naming_them(module, destination):
    module("forecast_export_job", job_args(destination, name="daily_archive"))
    other = module("forecast_export_job", job_args(destination, name="daily_archive", s3_path=f"s3://{BUCKET}/elsewhere/", kms_key_arn=None))
    assert other.get("failed")
    assert other["changed"] is False
    assert f"s3_path is '{destination['path']}', not 's3://{BUCKET}/elsewhere/'" in other["msg"]
    assert "kms_key_arn is" in other["msg"]
    assert set(other["differences"]) == {"s3_path", "kms_key_arn"}
    parquet = module("forecast_export_job", job_args(destination, format="PARQUET"))
    assert parquet["changed"] is True, parquet.get("msg")
    assert parquet["name"] == derived_name("demand_daily", destination["path"], destination["kms_key_arn"], "parquet")


def test_a_role_forecast_cannot_use_ends_create_failed_and_a_rerun_says_so(aws, module, destination):
    iam = aws.client("iam")
    role_arn = iam.create_role(RoleName="forecast-no-rights", AssumeRolePolicyDocument=json.dumps(forecast_trust_policy(ACCOUNT, REGION)))[
        "Role"
    ]["Arn"]
    failed = module("forecast_export_job", job_args(destination, role_arn=role_arn, wait=True, wait_timeout=120))
    assert failed.get("failed")
    assert failed["changed"] is True
    assert "is CREATE_FAILED: " in failed["msg"]
    message = failed["forecast_export_job"]["message"]
    assert message and message in failed["msg"]
    rerun = module("forecast_export_job", job_args(destination, role_arn=role_arn))
    assert rerun.get("failed")
    assert rerun["changed"] is False
    assert message in rerun["msg"] and "delete it" in rerun["msg"]
    deleted = module("forecast_export_job", dict(absent_args(destination), **{"wait": True, "region": REGION}))
    assert deleted["changed"] is True, deleted.get("msg")
    assert stored_jobs(aws) == {}


def test_a_timeout_leaves_the_job_running_and_a_rerun_resumes(aws, module, destination, daily_name):
    aws.set_time_scale(seconds_per_mb=0, min_seconds=600)
    timed_out = module("forecast_export_job", job_args(destination, wait=True, wait_timeout=3))
    assert timed_out.get("failed")
    assert timed_out["changed"] is True
    assert "left running" in timed_out["msg"] and daily_name in timed_out["msg"]
    assert timed_out["wait_timeout"] == 3
    assert stored_jobs(aws)[daily_name]["Status"] == "CREATE_IN_PROGRESS"
    aws.advance_clock(700)
    resumed = module("forecast_export_job", job_args(destination, wait=True, wait_timeout=60))
    assert not resumed.get("failed"), resumed.get("msg")
    assert resumed["changed"] is False
    assert resumed["forecast_export_job"]["status"] == "ACTIVE"
    assert resumed["verification"]["verified"] is True


def test_absent_deletes_waits_and_is_then_unchanged(aws, module, destination, daily_name):
    module("forecast_export_job", job_args(destination, wait=True, wait_timeout=120))
    absent = dict(absent_args(destination), **{"wait": True, "wait_timeout": 60, "region": REGION})
    deleted = module("forecast_export_job", absent)
    assert deleted["changed"] is True, deleted.get("msg")
    assert deleted["forecast_export_job"] is None
    assert stored_jobs(aws) == {}
    assert aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/{daily_name}_")["KeyCount"] >= 1
    again = module("forecast_export_job", absent)
    assert again["changed"] is False
    assert again["forecast_export_job"] is None


@pytest.mark.parametrize("delete_stopped", ["allow", "refuse"])
def test_absent_on_a_job_being_created_needs_stop(aws, module, destination, delete_stopped, daily_name):
    aws.set_dialects(forecast_delete_stopped=delete_stopped)
    aws.set_time_scale(seconds_per_mb=0, min_seconds=600)
    module("forecast_export_job", job_args(destination))
    absent = dict(absent_args(destination), **{"wait": True, "wait_timeout": 60, "region": REGION})
    refused = module("forecast_export_job", absent)
    assert refused.get("failed")
    assert "still being created" in refused["msg"] and "stop=true" in refused["msg"]
    assert stored_jobs(aws)[daily_name]["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS")

    stopped = module("forecast_export_job", dict(absent, stop=True))
    assert stopped["changed"] is True
    job = stored_jobs(aws).get(daily_name)
    if delete_stopped == "allow":
        assert not stopped.get("failed"), stopped.get("msg")
        assert stopped["msg"] == f"stopped and deleted forecast export job {daily_name}"
        assert job is None
        return
    # AWS documents deletes of ACTIVE and CREATE_FAILED jobs only: a service that refuses to delete the stopped job
    # leaves it CREATE_STOPPED, and the module says so.
    assert stopped.get("failed")
    assert "AWS refused to delete" in stopped["msg"] and "the stopped job stays" in stopped["msg"]
    assert job["Status"] == "CREATE_STOPPED"
    # The derived name passes the stopped job over: the forecast is exported again under the next attempt's name.
    aws.set_time_scale(seconds_per_mb=0, min_seconds=1)
    rerun = module("forecast_export_job", job_args(destination, wait=True, wait_timeout=120))
    assert not rerun.get("failed"), rerun.get("msg")
    assert rerun["changed"] is True and rerun["name"] == f"{daily_name}_2"
    assert rerun["notes"] == [
        f"passed over the stopped job {daily_name} (CREATE_STOPPED), which cannot be resumed: the forecast is exported again as {daily_name}_2"
    ]
    assert rerun["verification"]["verified"] is True
    assert {name: job["Status"] for name, job in stored_jobs(aws).items()} == {daily_name: "CREATE_STOPPED", f"{daily_name}_2": "ACTIVE"}
    named = module("forecast_export_job", job_args(destination, name=daily_name))
    assert named.get("failed") and "cannot be resumed" in named["msg"]


def test_check_mode_changes_nothing_and_says_what_would_be(aws, module, destination, daily_name):
    predicted = module("forecast_export_job", job_args(destination, wait=True), check=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["msg"] == f"would create forecast export job {daily_name} (CREATE_PENDING)"
    assert predicted["forecast_export_job"]["forecast_export_job_arn"] == job_arn("demand_daily", daily_name)
    assert predicted["diff"]["before"] is None
    assert predicted["diff"]["after"]["status"] == "CREATE_PENDING"
    assert stored_jobs(aws) == {}

    module("forecast_export_job", job_args(destination, wait=True, wait_timeout=120))
    absent = dict(absent_args(destination), **{"region": REGION})
    would = module("forecast_export_job", absent, check=True)
    assert would["changed"] is True
    assert would["msg"] == f"would delete forecast export job {daily_name}"
    assert stored_jobs(aws)[daily_name]["Status"] == "ACTIVE"


def test_bad_input_fails_before_any_aws_call(aws, module, destination):
    aws.set_faults(service="forecast", operation="*", error_rate=1.0)
    cases = [
        ({"name": "1st"}, "name: must be 1 to 63 characters"),
        ({"s3_path": f"s3://{BUCKET}/{PREFIX}"}, "s3_path: must be s3://<bucket>/"),
        ({"role_arn": DAILY}, "role_arn: must be an IAM role ARN"),
        ({"forecast_arn": "demand_daily"}, "forecast_arn: must be a forecast ARN"),
        ({"role_arn": None}, "role_arn: is required with state=present"),
        ({"region": "eu-west-1"}, "set region to us-east-1"),
    ]
    for changes, words in cases:
        result = module("forecast_export_job", job_args(destination, **changes))
        assert result.get("failed"), changes
        assert words in result["msg"], (changes, result["msg"])


def test_a_forecast_not_active_cannot_be_exported(module, destination):
    result = module("forecast_export_job", job_args(destination, forecast_arn=WEEKLY))
    assert result.get("failed")
    assert "ResourceInUseException" in result["msg"]


def test_forecast_info_lists_and_filters(module):
    everything = module("forecast_info", {"region": REGION})
    assert {item["forecast_arn"] for item in everything["forecasts"]} >= {DAILY, HOURLY, WEEKLY}
    assert everything["changed"] is False
    active = module("forecast_info", {"status": "ACTIVE", "region": REGION})
    assert {item["forecast_name"] for item in active["forecasts"]} == {"demand_daily", "demand_hourly"}
    assert all(item["status"] == "ACTIVE" for item in active["forecasts"])
    group = f"arn:aws:forecast:{REGION}:{ACCOUNT}:dataset-group/retail_weekly"
    weekly = module("forecast_info", {"dataset_group_arn": group, "region": REGION})
    assert [item["forecast_arn"] for item in weekly["forecasts"]] == [WEEKLY]
    named = module("forecast_info", {"forecast_names": ["demand_hourly"], "forecast_arns": [DAILY], "region": REGION})
    assert {item["forecast_name"] for item in named["forecasts"]} == {"demand_daily", "demand_hourly"}
    assert module("forecast_info", {"forecast_names": ["nothing_here"], "region": REGION})["forecasts"] == []
    checked = module("forecast_info", {"status": "ACTIVE", "region": REGION}, check=True)
    assert checked["forecasts"] == active["forecasts"]


def test_job_info_lists_filters_and_describes(aws, module, destination, daily_name):
    assert module("forecast_export_job_info", {"region": REGION})["forecast_export_jobs"] == []
    module("forecast_export_job", job_args(destination, wait=True, wait_timeout=120))
    aws.set_time_scale(seconds_per_mb=0, min_seconds=600)  # the hourly job stays CREATE_IN_PROGRESS
    module("forecast_export_job", job_args(destination, forecast_arn=HOURLY))
    listed = module("forecast_export_job_info", {"region": REGION})["forecast_export_jobs"]
    assert {job["forecast_export_job_name"] for job in listed} == {daily_name, daily_name.replace("demand_daily", "demand_hourly")}
    assert all(job["format"] == "CSV" and job["forecast_arn"] in (DAILY, HOURLY) for job in listed)
    daily = module("forecast_export_job_info", {"forecast_arn": DAILY, "region": REGION})["forecast_export_jobs"]
    assert [job["forecast_export_job_name"] for job in daily] == [daily_name]
    active = module("forecast_export_job_info", {"status": "ACTIVE", "region": REGION})["forecast_export_jobs"]
    assert [job["forecast_export_job_name"] for job in active] == [daily_name]
    one = module("forecast_export_job_info", {"forecast_export_job_arn": job_arn("demand_daily", daily_name), "region": REGION}, check=True)
    assert one["forecast_export_jobs"] == [job for job in listed if job["forecast_export_job_arn"] == job_arn("demand_daily", daily_name)]
    assert set(one["forecast_export_jobs"][0]) == {
        "forecast_export_job_arn",
        "forecast_export_job_name",
        "forecast_arn",
        "destination",
        "message",
        "status",
        "creation_time",
        "last_modification_time",
        "format",
    }
    brief = module("forecast_export_job_info", {"details": False, "region": REGION})["forecast_export_jobs"]
    assert {job["format"] for job in brief} == {None}
    gone = module("forecast_export_job_info", {"forecast_export_job_arn": job_arn("demand_daily", daily_name) + "x", "region": REGION})
    assert gone["forecast_export_jobs"] == []
    none = module("forecast_export_job_info", {"status": "CREATE_FAILED", "region": REGION})
    assert none["forecast_export_jobs"] == []


def test_a_check_that_finds_parts_missing_or_wrong_fails_with_what_it_found(aws, module, destination, daily_name):
    done = module("forecast_export_job", job_args(destination, wait=True, wait_timeout=120))
    assert done["verification"]["verified"] is True, done.get("msg")
    keys = done["verification"]["part_keys"]
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key=keys[0], Body=b"", ServerSideEncryption="AES256")
    wrong = module("forecast_export_job", job_args(destination))
    assert wrong.get("failed")
    assert wrong["changed"] is False
    assert "ACTIVE but its export in S3 failed the check" in wrong["msg"]
    assert f"s3://{BUCKET}/{keys[0]} is empty" in wrong["msg"]
    assert "not encrypted with SSE-KMS (ServerSideEncryption 'AES256')" in wrong["msg"]
    assert wrong["verification"]["verified"] is False
    assert wrong["verification"]["parts"] == len(keys)
    for key in keys:
        s3.delete_object(Bucket=BUCKET, Key=key)
    missing = module("forecast_export_job", job_args(destination))
    assert missing.get("failed")
    assert missing["verification"]["parts"] == 0
    assert f"no part file <job name>_<yyyy-MM-ddTHH-mm-ssZ>_part<N> of the job was found under s3://{BUCKET}/{PREFIX}/{daily_name}_" in missing["msg"]
    unchecked = module("forecast_export_job", job_args(destination, verify=False))
    assert not unchecked.get("failed"), unchecked.get("msg")
    assert unchecked["verification"] is None
