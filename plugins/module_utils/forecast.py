# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place that talks to Amazon Forecast: retries, pagination and error classes.

:class:`ForecastGateway` wraps a boto3 ``forecast`` client (or anything with its method names and
``get_paginator``). Every call is retried with the collection's retry rule (:mod:`retries`: amazon.aws's
``AWSRetry`` jittered backoff, extended to throttling codes, HTTP 429 and 5xx answers and lost connections); the
listings use botocore's paginators and return every page. Every error that is left is raised once, classified, as a
:class:`ForecastError` subclass:

- :class:`ForecastNotFound`: ResourceNotFoundException;
- :class:`ForecastAlreadyExists`: ResourceAlreadyExistsException (a job of that name exists already);
- :class:`ForecastInUse`: ResourceInUseException (the resource is busy, for example still being created);
- :class:`ForecastInvalidInput`: InvalidInputException (AWS refused a value, for example a role it cannot assume);
- :class:`ForecastLimitExceeded`: LimitExceededException;
- :class:`ForecastAccessDenied`: the caller lacks the permission (AccessDeniedException, 403);
- :class:`ForecastUnreachable`: no answer came (the connection failed on every try);
- :class:`ForecastError` itself: any other answer.

Callers decide on the class, never on a message. Each error names the operation, what it was about and AWS's code
and message; ``aws_error`` keeps the botocore exception for ``fail_json_aws``.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.retries import error_code
from ansible_collections.mailops.workmail.plugins.module_utils.retries import is_client_error

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

# The IAM action of each gateway call, named in an access-denied error.
ACTIONS = {
    "create_forecast_export_job": "forecast:CreateForecastExportJob (and iam:PassRole on the role)",
    "describe_forecast_export_job": "forecast:DescribeForecastExportJob",
    "list_forecast_export_jobs": "forecast:ListForecastExportJobs",
    "delete_forecast_export_job": "forecast:DeleteForecastExportJob",
    "stop_resource": "forecast:StopResource",
    "list_forecasts": "forecast:ListForecasts",
    "describe_forecast": "forecast:DescribeForecast",
}
_DENIED_CODES = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation")


class ForecastError(WorkMailError):
    """A Forecast call failed: ``operation``, ``what`` it was about, AWS's ``code``, ``status`` and ``aws_message``;
    ``aws_error`` is the botocore exception."""

    def __init__(self, operation, what, aws_error, hint=None):
        code, status, aws_message = error_code(aws_error)
        said = f"{code}: {aws_message}" if code else aws_message
        message = f"{operation} of {what} failed: {said}"
        if hint:
            message += f"; {hint}"
        super().__init__(message, aws_code=code)
        self.operation = operation
        self.what = what
        self.code = code
        self.status = status
        self.aws_message = aws_message
        self.aws_error = aws_error


class ForecastNotFound(ForecastError):
    """ResourceNotFoundException: the job, forecast or resource does not exist."""


class ForecastAlreadyExists(ForecastError):
    """ResourceAlreadyExistsException: a resource of that name exists already."""


class ForecastInUse(ForecastError):
    """ResourceInUseException: the resource is in a status that does not allow the call."""


class ForecastInvalidInput(ForecastError):
    """InvalidInputException: AWS refused a value of the request."""


class ForecastLimitExceeded(ForecastError):
    """LimitExceededException: an account quota of Amazon Forecast is reached."""


class ForecastAccessDenied(ForecastError):
    """The caller is not allowed to make the call."""


class ForecastUnreachable(ForecastError):
    """No answer came from Amazon Forecast: the connection failed on every try."""


_CLASSES = {
    "ResourceNotFoundException": ForecastNotFound,
    "ResourceAlreadyExistsException": ForecastAlreadyExists,
    "ResourceInUseException": ForecastInUse,
    "InvalidInputException": ForecastInvalidInput,
    "LimitExceededException": ForecastLimitExceeded,
}


def classify(operation, what, error):
    """The :class:`ForecastError` subclass instance for a botocore error raised by ``operation``."""
    if not is_client_error(error):
        return ForecastUnreachable(operation, what, error, hint="no answer came from Amazon Forecast")
    code, status, dummy = error_code(error)
    if code in _DENIED_CODES or status == 403:
        return ForecastAccessDenied(
            operation, what, error, hint=f"the caller needs {ACTIONS.get(operation, operation)}"
        )
    if code == "LimitExceededException":
        hint = "an Amazon Forecast quota of the account is reached (Service Quotas lists them)"
        return ForecastLimitExceeded(operation, what, error, hint=hint)
    return _CLASSES.get(code, ForecastError)(operation, what, error)


def _botocore_errors():
    try:
        return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
    except NameError:
        return ()


def _answer(response):
    """A response without its ResponseMetadata."""
    return {key: value for key, value in (response or {}).items() if key != "ResponseMetadata"}


def _filters(**conditions):
    """ListForecastExportJobs / ListForecasts ``Filters``: one ``IS`` condition per key whose value is set."""
    return [{"Key": key, "Value": value, "Condition": "IS"} for key, value in conditions.items() if value]


class ForecastGateway:
    """Amazon Forecast operations of the collection, retried and classified. ``client`` is a boto3 ``forecast``
    client; ``retry`` a :class:`~retries.RetryPolicy` (the default: 10 tries, waiting 3 s growing to at most 60 s,
    jittered)."""

    def __init__(self, client, retry=None):
        self._client = client
        self._retry = retry or RetryPolicy()

    def _call(self, operation, what, **kwargs):
        try:
            return _answer(self._retry.wrap(getattr(self._client, operation))(**kwargs))
        except _botocore_errors() as error:
            raise classify(operation, what, error) from error

    def _paginate(self, operation, result_key, what, **kwargs):
        def every_page():
            paginator = self._client.get_paginator(operation)
            return paginator.paginate(**kwargs).build_full_result()

        try:
            return list(self._retry.wrap(every_page)().get(result_key) or [])
        except _botocore_errors() as error:
            raise classify(operation, what, error) from error

    # Forecast export jobs

    def create_export_job(self, name, forecast_arn, destination, export_format, tags=None):
        """CreateForecastExportJob; the new job's ARN. ``destination`` is the request's ``Destination``."""
        request = dict(
            ForecastExportJobName=name, ForecastArn=forecast_arn, Destination=destination, Format=export_format
        )
        if tags:
            request["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
        answer = self._call("create_forecast_export_job", f"forecast export job {name}", **request)
        return answer["ForecastExportJobArn"]

    def describe_export_job(self, job_arn):
        """DescribeForecastExportJob's answer; :class:`ForecastNotFound` when the job does not exist."""
        return self._call(
            "describe_forecast_export_job", f"forecast export job {job_arn}", ForecastExportJobArn=job_arn
        )

    def find_export_job(self, job_arn):
        """DescribeForecastExportJob's answer, or None when the job does not exist."""
        try:
            return self.describe_export_job(job_arn)
        except ForecastNotFound:
            return None

    def list_export_jobs(self, forecast_arn=None, status=None):
        """Every ForecastExportJobSummary (all pages), filtered by AWS on ``forecast_arn`` and ``status`` when
        given."""
        filters = _filters(ForecastArn=forecast_arn, Status=status)
        request = {"Filters": filters} if filters else {}
        return self._paginate("list_forecast_export_jobs", "ForecastExportJobs", "forecast export jobs", **request)

    def delete_export_job(self, job_arn):
        """DeleteForecastExportJob (AWS deletes only ACTIVE or CREATE_FAILED jobs)."""
        self._call("delete_forecast_export_job", f"forecast export job {job_arn}", ForecastExportJobArn=job_arn)

    def stop_resource(self, resource_arn):
        """StopResource: a job being created goes to CREATE_STOPPING, then CREATE_STOPPED (never resumed)."""
        self._call("stop_resource", f"resource {resource_arn}", ResourceArn=resource_arn)

    # Forecasts

    def list_forecasts(self, status=None, dataset_group_arn=None):
        """Every ForecastSummary (all pages), filtered by AWS on ``status`` and ``dataset_group_arn`` when given."""
        filters = _filters(DatasetGroupArn=dataset_group_arn, Status=status)
        request = {"Filters": filters} if filters else {}
        return self._paginate("list_forecasts", "Forecasts", "forecasts", **request)

    def describe_forecast(self, forecast_arn):
        """DescribeForecast's answer; :class:`ForecastNotFound` when the forecast does not exist."""
        return self._call("describe_forecast", f"forecast {forecast_arn}", ForecastArn=forecast_arn)
