# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Forecast export jobs over a fake Forecast client: creating once, the statuses of an existing job (an unknown one
too), waiting, stopping and deleting, check mode, and the listings of the _info modules."""

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import forecast_export_jobs as jobs
from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastInvalidInput
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import build_request
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import derive_job_name
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import FORECAST_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import KMS_KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import S3_PATH
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import FakeForecast
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import FakeTime
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import gateway

NAME = derive_job_name("demand_2026", "CSV", S3_PATH, KMS_KEY_ARN)
BUCKET = "example-forecast-exports"
PART = f"forecasts/{NAME}_2026-11-30T08-00-00Z_part0.csv"


def request(**changes):
    values = {
        "state": "present",
        "forecast_arn": FORECAST_ARN,
        "s3_path": S3_PATH,
        "role_arn": ROLE_ARN,
        "kms_key_arn": KMS_KEY_ARN,
        "format": "CSV",
        "wait": False,
        "wait_timeout": 60,
        "stop": False,
        "verify": False,
    }
    values.update(changes)
    return build_request(values)


def present(fake, s3=None, check_mode=False, **changes):
    clock = FakeTime()
    return jobs.run_present(
        gateway(fake), s3_gateway(s3 or FakeS3()), request(**changes), check_mode, clock.sleep, clock.monotonic
    )


def absent(fake, check_mode=False, **changes):
    clock = FakeTime()
    return jobs.run_absent(gateway(fake), request(state="absent", **changes), check_mode, clock.sleep, clock.monotonic)


# state=present


def test_creates_the_job_once_and_a_rerun_finds_it_unchanged():
    fake = FakeForecast()
    first = present(fake)
    assert first["changed"] is True
    assert first["name"] == NAME
    assert first["forecast_export_job"]["status"] == "CREATE_PENDING"
    assert first["diff"] == {"before": None, "after": first["forecast_export_job"]}
    create = [kwargs for name, kwargs in fake.calls if name == "create_forecast_export_job"]
    assert create == [
        {
            "ForecastExportJobName": NAME,
            "ForecastArn": FORECAST_ARN,
            "Destination": {"S3Config": {"Path": S3_PATH, "RoleArn": ROLE_ARN, "KMSKeyArn": KMS_KEY_ARN}},
            "Format": "CSV",
        }
    ]
    second = present(fake)
    assert second["changed"] is False
    assert second["forecast_export_job"] == first["forecast_export_job"]
    assert fake.count("create_forecast_export_job") == 1


def test_tags_are_sent_with_a_new_job():
    fake = FakeForecast()
    present(fake, tags={"b": "2", "a": "1"})
    create = next(kwargs for name, kwargs in fake.calls if name == "create_forecast_export_job")
    assert create["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


def test_check_mode_creates_nothing_and_predicts_the_job():
    fake = FakeForecast()
    result = present(fake, check_mode=True)
    assert result["changed"] is True
    assert result["msg"] == f"would create forecast export job {NAME} (CREATE_PENDING)"
    assert result["forecast_export_job"]["forecast_export_job_arn"].endswith(f"/demand_2026/{NAME}")
    assert fake.count("create_forecast_export_job") == 0
    assert fake.jobs == {}


def test_a_job_of_the_name_with_other_settings_is_an_error_naming_them():
    fake = FakeForecast()
    fake.add_job(NAME, "ACTIVE", path="s3://example-forecast-exports/old/", kms_key_arn=None)
    with pytest.raises(jobs.SettingsDifferError) as caught:
        present(fake)
    message = caught.value.message
    assert "s3_path is 's3://example-forecast-exports/old/', not 's3://example-forecast-exports/forecasts/'" in message
    assert f"kms_key_arn is None, not '{KMS_KEY_ARN}'" in message
    assert "name derived from the forecast, the format and the destination" in message
    assert set(caught.value.details["differences"]) == {"s3_path", "kms_key_arn"}
    assert fake.count("create_forecast_export_job") == 0


def test_a_job_that_appears_between_the_look_and_the_create_is_found():
    fake = FakeForecast()
    arn = fake.add_job(NAME, "CREATE_IN_PROGRESS")
    racing = fake.jobs.pop(arn)  # not there at the first look; another run creates it before this run's create
    original = fake.create_forecast_export_job

    def create(**kwargs):
        fake.jobs[arn] = racing
        return original(**kwargs)

    fake.create_forecast_export_job = create
    result = present(fake)
    assert result["changed"] is False
    assert result["forecast_export_job"]["status"] == "CREATE_IN_PROGRESS"


@pytest.mark.parametrize(
    "status, message, words",
    [
        ("CREATE_FAILED", "Access denied to the role", ["CREATE_FAILED: Access denied to the role", "delete it"]),
        ("CREATE_STOPPED", None, ["cannot be resumed", "may also refuse to delete it", "give another name"]),
        ("CREATE_STOPPING", None, ["cannot be resumed"]),
        ("DELETE_IN_PROGRESS", None, ["is being deleted"]),
        ("DELETE_FAILED", "boom", ["failed to delete", "boom"]),
        ("UPDATE_IN_PROGRESS", None, ["'UPDATE_IN_PROGRESS', which this module does not know", "nothing was done"]),
    ],
)
def test_an_existing_job_that_cannot_become_active_fails_saying_why(status, message, words):
    fake = FakeForecast()
    fake.add_job(NAME, status, message=message)
    with pytest.raises(jobs.JobStatusError) as caught:
        present(fake, wait=True, name=NAME)  # a name given: a stopped job is not passed over
    for word in words:
        assert word in caught.value.message
    assert caught.value.details["changed"] is False
    assert caught.value.details["forecast_export_job"]["status"] == status
    assert fake.count("create_forecast_export_job") == 0


def test_another_destination_gets_its_own_derived_job_and_the_same_one_finds_it():
    fake = FakeForecast()
    first = present(fake)
    other = present(fake, s3_path="s3://other-forecast-exports/forecasts/")
    assert other["changed"] is True and other["name"] != first["name"]
    assert other["name"].startswith("demand_2026_export_csv_") and len(other["name"]) <= 63
    assert present(fake, s3_path="s3://other-forecast-exports/forecasts/")["changed"] is False
    unencrypted = present(fake, kms_key_arn=None)
    assert unencrypted["changed"] is True and unencrypted["name"] not in (first["name"], other["name"])
    assert fake.count("create_forecast_export_job") == 3


@pytest.mark.parametrize("status", ["CREATE_STOPPED", "CREATE_STOPPING"])
def test_a_derived_name_passes_over_stopped_jobs_to_the_next_attempt(status):
    fake = FakeForecast()
    fake.add_job(NAME, status)
    fake.add_job(NAME + "_2", "CREATE_STOPPED")
    checked = present(fake, check_mode=True)
    assert checked["changed"] is True and checked["name"] == NAME + "_3"
    result = present(fake)
    assert result["changed"] is True and result["name"] == NAME + "_3"
    assert result["forecast_export_job"]["forecast_export_job_arn"].endswith(f"/demand_2026/{NAME}_3")
    assert result["notes"] == [
        f"passed over the stopped job {NAME} ({status}), which cannot be resumed: the forecast is exported again as "
        f"{NAME}_3",
        f"passed over the stopped job {NAME}_2 (CREATE_STOPPED), which cannot be resumed: the forecast is exported "
        f"again as {NAME}_3",
    ]
    assert f"created forecast export job {NAME}_3 (CREATE_PENDING); passed over the stopped job {NAME}" in result["msg"]
    again = present(fake)
    assert again["changed"] is False and again["name"] == NAME + "_3"
    assert fake.count("create_forecast_export_job") == 1


def test_an_active_job_written_with_another_role_is_accepted_with_a_note():
    fake = FakeForecast()
    fake.add_job(NAME, "ACTIVE", role_arn="arn:aws:iam::123456789012:role/old-writer")
    result = present(fake)
    assert result["changed"] is False and result["forecast_export_job"]["status"] == "ACTIVE"
    assert result["notes"] == [
        f"the job was written with the role arn:aws:iam::123456789012:role/old-writer, not {ROLE_ARN}; its export is "
        "done, so the role does not matter and the job was left as it is"
    ]
    assert fake.count("create_forecast_export_job") == 0


def test_a_job_still_being_created_with_another_role_is_an_error():
    fake = FakeForecast()
    fake.add_job(NAME, "CREATE_IN_PROGRESS", role_arn="arn:aws:iam::123456789012:role/old-writer")
    with pytest.raises(jobs.SettingsDifferError) as caught:
        present(fake)
    assert set(caught.value.details["differences"]) == {"role_arn"}


def test_wait_until_active_then_verify():
    fake = FakeForecast()
    fake.scripts["next"] = ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "ACTIVE"]
    s3 = FakeS3()
    s3.put_export(BUCKET, PART, body=b"item_id,date,p50\n", kms_key_id=KMS_KEY_ARN)
    result = present(fake, s3=s3, wait=True, verify=True)
    assert result["changed"] is True
    assert result["forecast_export_job"]["status"] == "ACTIVE"
    assert result["verification"]["verified"] is True
    assert result["verification"]["parts"] == 1
    assert result["diff"]["after"]["status"] == "ACTIVE"


def test_create_failed_while_waiting_fails_with_the_message_and_changed():
    fake = FakeForecast()
    fake.scripts["next"] = ["CREATE_IN_PROGRESS", "CREATE_FAILED"]

    def fail(**kwargs):
        fake.jobs[kwargs["ForecastExportJobArn"]]["Message"] = "The role cannot be assumed"

    result_error = None
    original = fake.describe_forecast_export_job

    def describe(**kwargs):
        answer = original(**kwargs)
        if answer["Status"] == "CREATE_FAILED":
            fail(**kwargs)
            answer = original(**kwargs)
        return answer

    fake.describe_forecast_export_job = describe
    with pytest.raises(jobs.JobStatusError) as caught:
        present(fake, wait=True)
    result_error = caught.value
    assert "CREATE_FAILED: The role cannot be assumed" in result_error.message
    assert result_error.details["changed"] is True


def test_a_timeout_leaves_the_job_running_and_says_a_rerun_resumes():
    fake = FakeForecast()
    fake.scripts["next"] = ["CREATE_IN_PROGRESS"] * 100
    with pytest.raises(jobs.WaitTimeoutError) as caught:
        present(fake, wait=True, wait_timeout=10)
    assert "left running" in caught.value.message
    assert f"finds the job by its name {NAME}" in caught.value.message
    assert caught.value.details["changed"] is True


def test_an_unknown_status_while_waiting_stops_the_wait():
    fake = FakeForecast()
    fake.scripts["next"] = ["CREATE_IN_PROGRESS", "CREATE_PAUSED"]
    with pytest.raises(jobs.JobStatusError) as caught:
        present(fake, wait=True)
    assert "'CREATE_PAUSED', which this module does not know" in caught.value.message


def test_a_failed_check_fails_with_what_was_found():
    fake = FakeForecast()
    fake.add_job(NAME, "ACTIVE")
    s3 = FakeS3()
    s3.put_export(BUCKET, PART, body=b"x", sse="AES256")
    with pytest.raises(jobs.VerificationError) as caught:
        present(fake, s3=s3, verify=True)
    verification = caught.value.details["verification"]
    assert verification["parts"] == 1
    assert verification["encryption"] == "AES256"
    assert "not encrypted with SSE-KMS" in caught.value.message


def test_an_aws_refusal_of_the_create_is_a_forecast_error():
    fake = FakeForecast()
    fake.refuse["create_forecast_export_job"] = "InvalidInputException"
    with pytest.raises(ForecastInvalidInput) as caught:
        present(fake)
    assert "InvalidInputException" in caught.value.message


# state=absent


def test_absent_without_a_job_is_unchanged():
    fake = FakeForecast()
    result = absent(fake)
    assert result["changed"] is False
    assert result["forecast_export_job"] is None


@pytest.mark.parametrize("status", ["ACTIVE", "CREATE_FAILED", "CREATE_STOPPED"])
def test_absent_deletes_and_waits_until_gone(status):
    fake = FakeForecast()
    arn = fake.add_job(NAME, status)
    fake.scripts[arn] = [status, "DELETE_PENDING", "DELETE_IN_PROGRESS", None]
    result = absent(fake, wait=True)
    assert result["changed"] is True
    assert result["forecast_export_job"] is None
    assert result["diff"]["before"]["status"] == status
    assert fake.count("delete_forecast_export_job") == 1


def test_absent_on_a_job_being_created_without_stop_says_to_stop_it():
    fake = FakeForecast()
    fake.add_job(NAME, "CREATE_IN_PROGRESS")
    with pytest.raises(jobs.JobStatusError) as caught:
        absent(fake)
    assert "still being created (CREATE_IN_PROGRESS)" in caught.value.message
    assert "set stop=true" in caught.value.message
    assert fake.count("stop_resource") == 0
    assert fake.count("delete_forecast_export_job") == 0


def test_absent_with_stop_stops_then_deletes():
    fake = FakeForecast()
    arn = fake.add_job(NAME, "CREATE_IN_PROGRESS")
    fake.scripts[arn] = ["CREATE_IN_PROGRESS", "CREATE_STOPPING", "CREATE_STOPPED"]
    result = absent(fake, stop=True)
    assert result["changed"] is True
    assert result["msg"] == f"stopped and deleted forecast export job {NAME}"
    assert [name for name, dummy in fake.calls if name in ("stop_resource", "delete_forecast_export_job")] == [
        "stop_resource",
        "delete_forecast_export_job",
    ]


def test_absent_with_stop_deletes_a_job_that_ended_before_the_stop():
    fake = FakeForecast()
    arn = fake.add_job(NAME, "CREATE_IN_PROGRESS")
    fake.refuse["stop_resource"] = "InvalidInputException"
    fake.scripts[arn] = ["CREATE_IN_PROGRESS", "ACTIVE"]
    result = absent(fake, stop=True)
    assert result["changed"] is True
    assert fake.count("delete_forecast_export_job") == 1


def test_a_refused_stop_of_a_job_still_being_created_is_an_error():
    fake = FakeForecast()
    fake.add_job(NAME, "CREATE_IN_PROGRESS")
    fake.refuse["stop_resource"] = "InvalidInputException"
    with pytest.raises(ForecastInvalidInput):
        absent(fake, stop=True)
    assert fake.count("delete_forecast_export_job") == 0


def test_absent_check_mode_changes_nothing():
    fake = FakeForecast()
    fake.add_job(NAME, "CREATE_PENDING")
    result = absent(fake, check_mode=True, stop=True)
    assert result["changed"] is True
    assert result["msg"] == f"would stop and delete forecast export job {NAME}"
    assert fake.count("stop_resource") + fake.count("delete_forecast_export_job") == 0


def test_absent_on_an_unknown_status_does_nothing():
    fake = FakeForecast()
    fake.add_job(NAME, "ARCHIVED")
    with pytest.raises(jobs.JobStatusError) as caught:
        absent(fake, stop=True)
    assert "'ARCHIVED', which this module does not know" in caught.value.message
    assert fake.count("delete_forecast_export_job") == 0


def test_absent_on_a_job_being_deleted_is_unchanged():
    fake = FakeForecast()
    fake.add_job(NAME, "DELETE_PENDING")
    result = absent(fake)
    assert result["changed"] is False
    assert fake.count("delete_forecast_export_job") == 0


# Listings


def test_job_info_lists_with_filters_and_describes_each():
    fake = FakeForecast()
    fake.add_job(NAME, "ACTIVE")
    fake.add_job("other", "CREATE_FAILED", message="m")
    result = jobs.run_job_info(gateway(fake), {"status": "ACTIVE"})
    assert [job["forecast_export_job_name"] for job in result["forecast_export_jobs"]] == [NAME]
    assert result["forecast_export_jobs"][0]["format"] == "CSV"
    listed = next(kwargs for name, kwargs in fake.calls if name == "list_forecast_export_jobs")
    assert listed == {"Filters": [{"Key": "Status", "Value": "ACTIVE", "Condition": "IS"}]}
    brief = jobs.run_job_info(gateway(fake), {"details": False})
    assert {job["format"] for job in brief["forecast_export_jobs"]} == {None}
    assert jobs.run_job_info(gateway(fake), {"status": "DELETE_FAILED"})["forecast_export_jobs"] == []


def test_job_info_of_one_arn_or_none():
    fake = FakeForecast()
    arn = fake.add_job(NAME, "ACTIVE")
    assert (
        jobs.run_job_info(gateway(fake), {"forecast_export_job_arn": arn})["forecast_export_jobs"][0]["status"]
        == "ACTIVE"
    )
    assert jobs.run_job_info(gateway(fake), {"forecast_export_job_arn": arn + "x"})["forecast_export_jobs"] == []


def test_forecast_info_filters_by_aws_and_by_name_or_arn():
    fake = FakeForecast()
    fake.forecasts = [
        {"ForecastArn": FORECAST_ARN, "ForecastName": "demand_2026", "Status": "ACTIVE"},
        {"ForecastArn": FORECAST_ARN + "b", "ForecastName": "demand_2026b", "Status": "CREATE_IN_PROGRESS"},
    ]
    active = jobs.run_forecast_info(gateway(fake), {"status": "ACTIVE"})["forecasts"]
    assert [item["forecast_name"] for item in active] == ["demand_2026"]
    assert active[0]["message"] is None
    named = jobs.run_forecast_info(gateway(fake), {"forecast_names": ["demand_2026b"]})["forecasts"]
    assert [item["forecast_arn"] for item in named] == [FORECAST_ARN + "b"]
    assert jobs.run_forecast_info(gateway(fake), {"forecast_arns": ["arn:x"]})["forecasts"] == []
