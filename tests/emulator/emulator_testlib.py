"""Helpers shared by the emulator's tests (importable because tests/conftest.py puts tests/emulator on sys.path).

Every WorkMail client made by ``checked_client`` checks each answer against botocore's model as it arrives: a
successful answer must fit the operation's output shape (no unknown members, right types, constraints), an
error answer must carry ``__type`` and ``message`` and be an error the operation models (or a common AWS error).
"""

import json

from workmail_emulator.validation import check_response

DEFAULT_ALIAS = "example"
COMMON_ERRORS = {
    "ValidationException",
    "SerializationException",
    "ThrottlingException",
    "InternalFailure",
    "ServiceUnavailable",
    "UnrecognizedClientException",
}


class ShapeMismatch(AssertionError):
    """A WorkMail answer that does not fit botocore's model."""


def answer_problems(status, body, model):
    """What is wrong with one WorkMail answer (decoded JSON body) for this operation model; [] if nothing."""
    if status == 200:
        return [
            f"{model.name} answer does not fit its output shape: {problem}"
            for problem in check_response(model.name, body)
        ]
    problems = []
    for field in ("__type", "message"):
        if not isinstance(body.get(field), str) or not body[field]:
            problems.append(f"{model.name} error without {field}: {body}")
    modelled = {shape.name for shape in model.error_shapes}
    error_type = body.get("__type")
    if error_type not in modelled and error_type not in COMMON_ERRORS:
        problems.append(f"{model.name} answered {error_type}, which it does not model ({sorted(modelled)})")
    if error_type in modelled and status != 400:
        problems.append(f"{error_type} must be HTTP 400, not {status}")
    return problems


def _check_answer(http_response, model, **_kwargs):
    problems = answer_problems(http_response.status_code, json.loads(http_response.content or b"{}"), model)
    if problems:
        raise ShapeMismatch("; ".join(problems))


def checked_client(aws, region=None, **config):
    """A WorkMail client without retries whose answers are checked against the model."""
    config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
    client = aws.client("workmail", region=region, **config)
    client.meta.events.register("after-call.workmail", _check_answer)
    return client


def entity(org, name):
    """An entity of an admin-view organization, by name."""
    for kind in ("users", "resources", "groups"):
        for item in org[kind]:
            if item["name"] == name:
                return item
    raise KeyError(name)


def start(workmail, org_id, destination, entity_id, token=None, **overrides):
    """StartMailboxExportJob with the destination's settings; return the JobId."""
    params = {
        "ClientToken": token or f"token-{entity_id}-{overrides.get('S3Prefix', destination['s3_prefix'])}",
        "OrganizationId": org_id,
        "EntityId": entity_id,
        "RoleArn": destination["role_arn"],
        "KmsKeyArn": destination["kms_key_arn"],
        "S3BucketName": destination["s3_bucket"],
        "S3Prefix": destination["s3_prefix"],
    }
    params.update(overrides)
    return workmail.start_mailbox_export_job(**params)["JobId"]


def error_of(excinfo):
    """(code, message) of a botocore ClientError."""
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def forecast_answer_problems(status, body, model):
    """What is wrong with one Forecast answer for this operation model; [] if nothing. The model patterns the
    service does not apply (an IAM RoleArn, ForecastSummary's ARNs) are not checked."""
    from workmail_emulator.forecast_responses import RELAXED_OUTPUT_PATTERNS  # pylint: disable=import-outside-toplevel

    if status == 200:
        return [
            f"{model.name} answer does not fit its output shape: {problem}"
            for problem in check_response(model.name, body, service="forecast", relaxed=RELAXED_OUTPUT_PATTERNS)
        ]
    problems = [f"{model.name} error without {field}: {body}" for field in ("__type", "message") if not body.get(field)]
    modelled = {shape.name for shape in model.error_shapes}
    if body.get("__type") not in modelled | COMMON_ERRORS:
        problems.append(f"{model.name} answered {body.get('__type')}, which it does not model ({sorted(modelled)})")
    if body.get("__type") in modelled and status != 400:
        problems.append(f"{body.get('__type')} must be HTTP 400, not {status}")
    return problems


def _check_forecast_answer(http_response, model, **_kwargs):
    if model.name not in _FORECAST_CHECKED:
        return
    problems = forecast_answer_problems(http_response.status_code, json.loads(http_response.content or b"{}"), model)
    if problems:
        raise ShapeMismatch("; ".join(problems))


# The operations the emulator serves itself (moto's dataset-group answers are moto's business).
_FORECAST_CHECKED = {
    "CreateForecastExportJob",
    "DescribeForecastExportJob",
    "ListForecastExportJobs",
    "DeleteForecastExportJob",
    "StopResource",
    "ListForecasts",
    "DescribeForecast",
}


def checked_forecast_client(aws, region=None, **config):
    """A Forecast client without retries whose answers to the emulator's operations are checked against the model."""
    config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
    client = aws.client("forecast", region=region, **config)
    client.meta.events.register("after-call.forecast", _check_forecast_answer)
    return client
