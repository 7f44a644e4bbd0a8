# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rules of a forecast export job: the derived name, the checks of the parameters, the job as returned, the
settings compared with an existing job, and what each status means."""

import hashlib
import re

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import forecast_export as fe
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import MAX_ATTEMPTS
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import FORECAST_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import KMS_KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import S3_PATH

API_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*\Z")


def params(**changes):
    values = {
        "state": "present",
        "name": None,
        "forecast_arn": FORECAST_ARN,
        "s3_path": S3_PATH,
        "role_arn": ROLE_ARN,
        "kms_key_arn": KMS_KEY_ARN,
        "format": "CSV",
        "tags": None,
        "wait": False,
        "wait_timeout": 3600,
        "stop": False,
        "verify": True,
    }
    values.update(changes)
    return values


# The derived name


def test_derived_name_is_the_forecast_name_the_format_and_the_destination():
    digits = hashlib.sha256(f"{S3_PATH}\n{KMS_KEY_ARN}".encode()).hexdigest()[:8]
    assert fe.derive_job_name("demand_2026", "CSV", S3_PATH, KMS_KEY_ARN) == f"demand_2026_export_csv_{digits}"
    assert fe.derive_job_name("demand_2026", "PARQUET", S3_PATH, KMS_KEY_ARN) == f"demand_2026_export_parquet_{digits}"
    # The same destination with or without its trailing /, the same name; another path or key, another name.
    assert (
        fe.derive_job_name("demand_2026", "CSV", S3_PATH.rstrip("/"), KMS_KEY_ARN) == f"demand_2026_export_csv_{digits}"
    )
    names = {
        fe.derive_job_name("demand_2026", "CSV", S3_PATH, KMS_KEY_ARN),
        fe.derive_job_name("demand_2026", "CSV", "s3://other-bucket/forecasts/", KMS_KEY_ARN),
        fe.derive_job_name("demand_2026", "CSV", S3_PATH, None),
    }
    assert len(names) == 3
    assert fe.derive_job_name("demand_2026", "CSV", S3_PATH, KMS_KEY_ARN, 2) == f"demand_2026_export_csv_{digits}_2"


@pytest.mark.parametrize("length", [47, 48, 49, 55, 63])
@pytest.mark.parametrize("export_format", ["CSV", "PARQUET"])
def test_derived_name_of_a_long_forecast_name_is_valid_stable_and_distinct(length, export_format):
    forecast_name = "F" + "x" * (length - 1)
    other = "F" + "x" * (length - 2) + "y"
    name = fe.derive_job_name(forecast_name, export_format, S3_PATH, KMS_KEY_ARN)
    assert len(name) <= 63
    assert API_NAME_RE.match(name)
    assert name == fe.derive_job_name(forecast_name, export_format, S3_PATH, KMS_KEY_ARN)
    assert name != fe.derive_job_name(other, export_format, S3_PATH, KMS_KEY_ARN)
    assert re.search("_export_" + export_format.lower() + "_[0-9a-f]{8}$", name)
    retry = fe.derive_job_name(forecast_name, export_format, S3_PATH, KMS_KEY_ARN, MAX_ATTEMPTS)
    assert len(retry) <= 63 and API_NAME_RE.match(retry) and retry.endswith(f"_{MAX_ATTEMPTS}")


def test_derived_name_is_returned_by_the_request_with_its_arn():
    request = fe.build_request(params())
    name = fe.derive_job_name("demand_2026", "CSV", S3_PATH, KMS_KEY_ARN)
    assert request.name == name
    assert request.name_derived is True
    assert request.job_arn == f"arn:aws:forecast:us-east-1:123456789012:forecast-export-job/demand_2026/{name}"
    given = fe.build_request(params(name="mine", format="PARQUET"))
    assert (given.name, given.name_derived) == ("mine", False)


# Validation


@pytest.mark.parametrize(
    "changes, parameter, words",
    [
        ({"name": "1abc"}, "name", "a letter followed by"),
        ({"name": "a-b"}, "name", "letters, digits and underscores"),
        ({"name": "a" * 64}, "name", "1 to 63"),
        ({"forecast_arn": None}, "forecast_arn", "is required with state=present"),
        ({"forecast_arn": "arn:aws:forecast:us-east-1:123456789012:predictor/p"}, "forecast_arn", "forecast ARN"),
        ({"forecast_arn": "demand_2026"}, "forecast_arn", "forecast ARN"),
        ({"forecast_arn": "arn:aws:forecast:us-west-1:123456789012:forecast/f"}, "forecast_arn", "not one where"),
        ({"s3_path": None}, "s3_path", "is required with state=present"),
        ({"s3_path": "s3://example-forecast-exports/forecasts"}, "s3_path", "ending with /"),
        ({"s3_path": "example-forecast-exports/forecasts/"}, "s3_path", "s3://<bucket>/"),
        ({"s3_path": "s3://example-forecast-exports//x/"}, "s3_path", "no empty folder"),
        ({"s3_path": "s3://Bad_Bucket/x/"}, "s3_path (its bucket)", ""),
        ({"role_arn": None}, "role_arn", "is required with state=present"),
        ({"role_arn": "arn:aws:forecast:us-east-1:123456789012:role/x"}, "role_arn", "IAM role ARN"),
        ({"role_arn": "arn:aws:iam::123456789012:user/x"}, "role_arn", "role/<name>"),
        ({"role_arn": "arn:aws:iam::210987654321:role/x"}, "role_arn", "does not accept a role of another account"),
        ({"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/x"}, "kms_key_arn", "an alias is not accepted"),
        ({"kms_key_arn": "1234abcd-12ab-34cd-56ef-1234567890ab"}, "kms_key_arn", "KMS key ARN"),
        ({"format": "JSON"}, "format", "CSV, PARQUET"),
        ({"wait_timeout": -1}, "wait_timeout", "greater than 0"),
        ({"wait_timeout": 0}, "wait_timeout", "greater than 0"),
        ({"tags": {"aws:x": "y"}}, "tags", "not beginning with aws:"),
        ({"tags": {"k": "a\u0000b"}}, "tags", "value of tag k"),
    ],
)
def test_bad_input_names_the_parameter_and_the_rule(changes, parameter, words):
    with pytest.raises(ParameterError) as caught:
        fe.build_request(params(**changes))
    assert caught.value.parameter == parameter
    assert words in caught.value.message


def test_absent_needs_the_forecast_and_a_name_or_the_destination():
    request = fe.build_request(
        {"state": "absent", "forecast_arn": FORECAST_ARN, "format": "PARQUET", "s3_path": S3_PATH}
    )
    assert request.name == fe.derive_job_name("demand_2026", "PARQUET", S3_PATH)
    assert fe.build_request({"state": "absent", "forecast_arn": FORECAST_ARN, "name": "mine"}).name == "mine"
    with pytest.raises(ParameterError) as caught:
        fe.build_request({"state": "absent", "forecast_arn": FORECAST_ARN})
    assert caught.value.parameter == "s3_path"
    assert "when name is not given" in caught.value.message
    with pytest.raises(ParameterError) as caught:
        fe.build_request({"state": "absent", "name": "x"})
    assert caught.value.parameter == "forecast_arn"
    assert "state=absent" in caught.value.message


def test_the_forecast_must_be_in_the_connections_region():
    fe.build_request(params(), region="us-east-1")
    with pytest.raises(ParameterError) as caught:
        fe.build_request(params(), region="eu-west-1")
    assert caught.value.parameter == "forecast_arn"
    assert "set region to us-east-1" in caught.value.message


def test_paths_with_and_without_prefix():
    assert fe.parse_s3_path("s3://example-forecast-exports/") == ("example-forecast-exports", "")
    assert fe.parse_s3_path("s3://example-forecast-exports/a/b/") == ("example-forecast-exports", "a/b/")


def test_info_parameters_are_checked():
    fe.validate_job_info_params({"forecast_export_job_arn": None, "forecast_arn": FORECAST_ARN, "status": "ACTIVE"})
    with pytest.raises(ParameterError) as caught:
        fe.validate_job_info_params({"forecast_export_job_arn": FORECAST_ARN})
    assert caught.value.parameter == "forecast_export_job_arn"
    with pytest.raises(ParameterError) as caught:
        fe.validate_job_info_params({"status": "active"})
    assert caught.value.parameter == "status"
    with pytest.raises(ParameterError) as caught:
        fe.validate_forecast_info_params({"forecast_names": ["ok", "not ok"]})
    assert caught.value.parameter == "forecast_names"
    with pytest.raises(ParameterError) as caught:
        fe.validate_forecast_info_params({"dataset_group_arn": FORECAST_ARN})
    assert caught.value.parameter == "dataset_group_arn"


# The job as returned, and the settings compared


def raw_job(**changes):
    job = {
        "ForecastExportJobArn": "arn:aws:forecast:us-east-1:123456789012:forecast-export-job/demand_2026/j",
        "ForecastExportJobName": "j",
        "ForecastArn": FORECAST_ARN,
        "Destination": {"S3Config": {"Path": S3_PATH, "RoleArn": ROLE_ARN, "KMSKeyArn": KMS_KEY_ARN}},
        "Status": "ACTIVE",
        "CreationTime": "2026-11-30T08:00:00Z",
        "LastModificationTime": "2026-11-30T08:05:00Z",
        "Format": "CSV",
    }
    job.update(changes)
    return job


def test_normalized_job_has_every_field_of_the_describe_in_snake_case():
    job = fe.normalize_job(raw_job(Message="m"))
    assert job == {
        "forecast_export_job_arn": "arn:aws:forecast:us-east-1:123456789012:forecast-export-job/demand_2026/j",
        "forecast_export_job_name": "j",
        "forecast_arn": FORECAST_ARN,
        "destination": {"s3_config": {"path": S3_PATH, "role_arn": ROLE_ARN, "kms_key_arn": KMS_KEY_ARN}},
        "message": "m",
        "status": "ACTIVE",
        "creation_time": "2026-11-30T08:00:00+00:00",
        "last_modification_time": "2026-11-30T08:05:00+00:00",
        "format": "CSV",
    }
    summary = fe.normalize_job({"ForecastExportJobName": "j"})
    assert summary["forecast_arn"] is None and summary["destination"]["s3_config"]["kms_key_arn"] is None


def test_the_same_settings_do_not_differ():
    request = fe.build_request(params(name="j"))
    assert fe.differing_settings(fe.normalize_job(raw_job()), request) == []
    no_slash = raw_job(
        Destination={"S3Config": {"Path": S3_PATH.rstrip("/"), "RoleArn": ROLE_ARN, "KMSKeyArn": KMS_KEY_ARN}}
    )
    assert fe.differing_settings(fe.normalize_job(no_slash), request) == []


def test_every_differing_setting_is_named():
    request = fe.build_request(params(name="j", kms_key_arn=None, format="PARQUET"))
    other_path = "s3://example-forecast-exports/other/"
    job = fe.normalize_job(
        raw_job(Destination={"S3Config": {"Path": other_path, "RoleArn": ROLE_ARN, "KMSKeyArn": KMS_KEY_ARN}})
    )
    assert fe.differing_settings(job, request) == [
        ("s3_path", other_path, S3_PATH),
        ("kms_key_arn", KMS_KEY_ARN, None),
        ("format", "CSV", "PARQUET"),
    ]


@pytest.mark.parametrize(
    "status, expected",
    [
        ("ACTIVE", fe.PHASE_ACTIVE),
        ("CREATE_PENDING", fe.PHASE_CREATING),
        ("CREATE_IN_PROGRESS", fe.PHASE_CREATING),
        ("CREATE_FAILED", fe.PHASE_FAILED),
        ("CREATE_STOPPING", fe.PHASE_STOPPING),
        ("CREATE_STOPPED", fe.PHASE_STOPPED),
        ("DELETE_PENDING", fe.PHASE_DELETING),
        ("DELETE_IN_PROGRESS", fe.PHASE_DELETING),
        ("DELETE_FAILED", fe.PHASE_DELETE_FAILED),
        ("UPDATE_IN_PROGRESS", fe.PHASE_UNKNOWN),
        (None, fe.PHASE_UNKNOWN),
        ("active", fe.PHASE_UNKNOWN),
    ],
)
def test_each_status_has_one_meaning_and_any_other_is_unknown(status, expected):
    assert fe.phase(status) == expected
