"""Forecast's JSON-protocol front end for the operations moto lacks.

moto serves Forecast's dataset groups through ``moto.forecast.responses.ForecastResponse``, whose
``call_action`` dispatches ``X-Amz-Target: AmazonForecast.<Operation>`` to the method named after the operation in
snake_case. ``install()`` (called by plugin.py) adds one method per operation below to that class, so the dataset
group operations keep working as moto serves them.
"""

import json

from moto.core.utils import camelcase_to_underscores

from .fixtures import FORECAST_REGIONS
from .forecast import ForecastError
from .forecast import forecast_backend_for
from .forecast import materialise_forecasts
from .state import STATE
from .validation import RequestTypeError
from .validation import validate_request
from .validation import validation_message

SERVICE = "forecast"
CONTENT_TYPE = "application/x-amz-json-1.1"

# Operation name -> backend method name (which is also the response method's name).
OPERATIONS = {
    "CreateForecastExportJob": "create_forecast_export_job",
    "DescribeForecastExportJob": "describe_forecast_export_job",
    "ListForecastExportJobs": "list_forecast_export_jobs",
    "DeleteForecastExportJob": "delete_forecast_export_job",
    "StopResource": "stop_resource",
    "ListForecasts": "list_forecasts",
    "DescribeForecast": "describe_forecast",
}

# Model patterns the service does not enforce: an IAM role ARN does not match the model's RoleArn pattern
# (arn:...:forecast:...), and a filter's Value is a status as often as an ARN.
RELAXED_PATTERNS = frozenset({("S3Config", "RoleArn"), ("Filter", "Value")})
# The same for answers: ForecastSummary's PredictorArn and DatasetGroupArn carry a pattern that no ARN matches.
RELAXED_OUTPUT_PATTERNS = RELAXED_PATTERNS | {
    ("ForecastSummary", "PredictorArn"),
    ("ForecastSummary", "DatasetGroupArn"),
}


def handle(response, operation):
    """Validate the request against botocore's Forecast model, bring the jobs up to date, call the backend."""
    try:
        params = json.loads(response.body) if response.body else {}
    except ValueError as exc:
        raise ForecastError("SerializationException", f"The request body is not valid JSON: {exc}") from exc
    try:
        errors = validate_request(operation, params, service=SERVICE, relaxed=RELAXED_PATTERNS)
    except RequestTypeError as exc:
        raise ForecastError("SerializationException", str(exc)) from exc
    if errors:
        # Forecast models InvalidInputException for "an invalid value or a value that exceeds the valid range".
        raise ForecastError("InvalidInputException", validation_message(errors))
    with STATE.lock:
        now = STATE.clock.now()
        materialise_forecasts(now)
        backend = forecast_backend_for(response.region, response.current_account)
        result = getattr(backend, OPERATIONS[operation])(params, now)
    response.response_headers["Content-Type"] = CONTENT_TYPE
    return json.dumps(result), response.response_headers


def _method(operation):
    def method(self):
        return handle(self, operation)

    method.__name__ = OPERATIONS[operation]
    method.__doc__ = f"{operation} (mailops.workmail emulator)."
    method.workmail_emulator_patched = True
    return method


def _error(status, error_type, message):
    body = json.dumps({"__type": error_type, "message": message})
    return status, {"Content-Type": CONTENT_TYPE, "X-Amzn-ErrorType": error_type}, body


def _guarded(call_action):
    """moto's call_action, after two checks moto lacks: a region where Forecast does not exist answers
    UnrecognizedClientException (moto: an HTML 500), an operation nobody serves answers 501 NotImplemented."""

    def guarded_call_action(self):
        target = self.headers.get("X-Amz-Target") or ""
        operation = target.split(".", 1)[1] if target.startswith("AmazonForecast.") else ""
        if self.region not in FORECAST_REGIONS:
            return _error(
                400,
                "UnrecognizedClientException",
                f"Amazon Forecast is not available in region {self.region}; it is offered in "
                f"{', '.join(FORECAST_REGIONS)}",
            )
        if not operation or not callable(getattr(type(self), camelcase_to_underscores(operation), None)):
            return _error(
                501, "NotImplemented", f"The local AWS does not implement Forecast's {operation or 'this request'}"
            )
        return call_action(self)

    guarded_call_action.workmail_emulator_patched = True
    return guarded_call_action


def install():
    """Add the operations to moto's ForecastResponse (once)."""
    from moto.forecast.responses import ForecastResponse  # pylint: disable=import-outside-toplevel

    for operation, name in OPERATIONS.items():
        if not getattr(getattr(ForecastResponse, name, None), "workmail_emulator_patched", False):
            setattr(ForecastResponse, name, _method(operation))
    if not getattr(ForecastResponse.call_action, "workmail_emulator_patched", False):
        ForecastResponse.call_action = _guarded(ForecastResponse.call_action)
