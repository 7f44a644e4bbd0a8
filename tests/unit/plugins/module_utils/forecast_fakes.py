# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A fake boto3 ``forecast`` client for the unit tests of the forecast export jobs: jobs in a dict, statuses a test
sets or scripts (each describe takes the next status of a job's script), and botocore ClientErrors for AWS's
refusals."""

from datetime import datetime
from datetime import timezone

from ansible_collections.mailops.workmail.plugins.module_utils.forecast import ForecastGateway
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "123456789012"
FORECAST_ARN = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast/demand_2026"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/forecast-export"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_PATH = "s3://example-forecast-exports/forecasts/"
CREATED = datetime(2026, 11, 30, 8, 0, 0, tzinfo=timezone.utc)


def client_error(code, operation, message="injected"):
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
    )


class FakePaginator:
    def __init__(self, client, operation):
        self.client = client
        self.operation = operation

    def paginate(self, **kwargs):
        client = self.client
        operation = self.operation

        class Pages:
            def build_full_result(self):
                return getattr(client, operation)(**kwargs)

        return Pages()


class FakeForecast:
    """Jobs ``{arn: describe answer}``; ``scripts`` ``{arn: [status, ...]}`` taken one per describe."""

    def __init__(self):
        self.jobs = {}
        self.scripts = {}
        self.forecasts = []
        self.calls = []
        self.refuse = {}  # operation -> error code raised once

    def _enter(self, operation, kwargs):
        self.calls.append((operation, kwargs))
        code = self.refuse.pop(operation, None)
        if code:
            raise client_error(code, operation)

    def count(self, operation):
        return sum(1 for name, dummy in self.calls if name == operation)

    def get_paginator(self, operation):
        return FakePaginator(self, operation)

    def add_job(
        self,
        name,
        status,
        forecast_arn=FORECAST_ARN,
        path=S3_PATH,
        role_arn=ROLE_ARN,
        kms_key_arn=KMS_KEY_ARN,
        export_format="CSV",
        message=None,
        script=(),
    ):
        forecast_name = forecast_arn.rsplit("/", 1)[1]
        arn = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast-export-job/{forecast_name}/{name}"
        config = {"Path": path, "RoleArn": role_arn}
        if kms_key_arn:
            config["KMSKeyArn"] = kms_key_arn
        job = {
            "ForecastExportJobArn": arn,
            "ForecastExportJobName": name,
            "ForecastArn": forecast_arn,
            "Destination": {"S3Config": config},
            "Status": status,
            "CreationTime": CREATED,
            "LastModificationTime": CREATED,
            "Format": export_format,
        }
        if message:
            job["Message"] = message
        self.jobs[arn] = job
        self.scripts[arn] = list(script)
        return arn

    def create_forecast_export_job(self, **kwargs):
        self._enter("create_forecast_export_job", kwargs)
        config = kwargs["Destination"]["S3Config"]
        arn = f"arn:aws:forecast:{REGION}:{ACCOUNT}:forecast-export-job/{kwargs['ForecastArn'].rsplit('/', 1)[1]}/"
        arn += kwargs["ForecastExportJobName"]
        if arn in self.jobs:
            raise client_error("ResourceAlreadyExistsException", "CreateForecastExportJob")
        self.add_job(
            kwargs["ForecastExportJobName"],
            "CREATE_PENDING",
            forecast_arn=kwargs["ForecastArn"],
            path=config["Path"],
            role_arn=config["RoleArn"],
            kms_key_arn=config.get("KMSKeyArn"),
            export_format=kwargs.get("Format", "CSV"),
            script=self.scripts.pop("next", ()),
        )
        return {"ForecastExportJobArn": arn}

    def describe_forecast_export_job(self, **kwargs):
        self._enter("describe_forecast_export_job", kwargs)
        arn = kwargs["ForecastExportJobArn"]
        if arn not in self.jobs:
            raise client_error("ResourceNotFoundException", "DescribeForecastExportJob")
        script = self.scripts.get(arn)
        if script:
            status = script.pop(0)
            if status is None:
                del self.jobs[arn]
                raise client_error("ResourceNotFoundException", "DescribeForecastExportJob")
            self.jobs[arn]["Status"] = status
        return dict(self.jobs[arn], ResponseMetadata={"HTTPStatusCode": 200})

    def list_forecast_export_jobs(self, **kwargs):
        self._enter("list_forecast_export_jobs", kwargs)
        jobs = list(self.jobs.values())
        for condition in kwargs.get("Filters") or ():
            jobs = [job for job in jobs if job.get(condition["Key"]) == condition["Value"]]
        fields = ("ForecastExportJobArn", "ForecastExportJobName", "Destination", "Status", "Message", "CreationTime")
        return {"ForecastExportJobs": [{key: job[key] for key in fields if key in job} for job in jobs]}

    def delete_forecast_export_job(self, **kwargs):
        self._enter("delete_forecast_export_job", kwargs)
        job = self.jobs.get(kwargs["ForecastExportJobArn"])
        if job is None:
            raise client_error("ResourceNotFoundException", "DeleteForecastExportJob")
        if job["Status"] not in ("ACTIVE", "CREATE_FAILED", "CREATE_STOPPED"):
            raise client_error("ResourceInUseException", "DeleteForecastExportJob", f"status {job['Status']}")
        job["Status"] = "DELETE_PENDING"
        return {}

    def stop_resource(self, **kwargs):
        self._enter("stop_resource", kwargs)
        job = self.jobs.get(kwargs["ResourceArn"])
        if job is None:
            raise client_error("ResourceNotFoundException", "StopResource")
        job["Status"] = "CREATE_STOPPING"
        return {}

    def list_forecasts(self, **kwargs):
        self._enter("list_forecasts", kwargs)
        forecasts = list(self.forecasts)
        for condition in kwargs.get("Filters") or ():
            forecasts = [item for item in forecasts if item.get(condition["Key"]) == condition["Value"]]
        return {"Forecasts": forecasts}


def gateway(fake):
    """The collection's Forecast gateway over ``fake``: two tries for every call, without waiting."""
    return ForecastGateway(fake, RetryPolicy(retries=2, delay=0, max_delay=0))


class FakeTime:
    """``sleep`` and ``monotonic`` for the waits: sleeping moves the clock, nothing waits."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def monotonic(self):
        return self.now
