"""Amazon Forecast in the local AWS: forecasts (from fixtures) and forecast export jobs, per account and region.

moto serves Forecast's dataset groups; this module adds what moto lacks and the collection needs: ListForecasts,
DescribeForecast and the forecast export jobs (Create, Describe, List, Delete, StopResource). A job moves through
CREATE_PENDING and CREATE_IN_PROGRESS on the simulated clock, then checks its destination (role, key, bucket) the
way the service does, asynchronously, and writes its part files into moto S3 (ACTIVE) or fails (CREATE_FAILED).
"""

import hashlib
import math
import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from moto.core.base_backend import BackendDict
from moto.core.base_backend import BaseBackend
from moto.core.exceptions import JsonRESTError

from . import DEFAULT_ACCOUNT_ID
from .backend import WorkMailError
from .backend import _decode_token
from .backend import _encode_token
from .backend import _scope
from .destination import DestinationError
from .exporter import put_objects
from .forecast_destination import check_export_destination
from .state import STATE

ACTIVE = "ACTIVE"
CREATE_PENDING = "CREATE_PENDING"
CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
CREATE_FAILED = "CREATE_FAILED"
CREATE_STOPPING = "CREATE_STOPPING"
CREATE_STOPPED = "CREATE_STOPPED"
DELETE_PENDING = "DELETE_PENDING"
DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
DELETE_FAILED = "DELETE_FAILED"
STATUSES = (
    ACTIVE,
    CREATE_PENDING,
    CREATE_IN_PROGRESS,
    CREATE_FAILED,
    CREATE_STOPPING,
    CREATE_STOPPED,
    DELETE_PENDING,
    DELETE_IN_PROGRESS,
    DELETE_FAILED,
)
FORMATS = ("CSV", "PARQUET")

# Simulated seconds of the short phases (choices: the service does not publish them).
PENDING_SECONDS = 1.0
STOPPING_SECONDS = 1.0
DELETE_PENDING_SECONDS = 1.0
DELETE_IN_PROGRESS_SECONDS = 1.0
# Rows per part file, and the most rows written in all (the output is synthetic, like the mailbox archives).
PART_ROWS = 1000
MAX_ROWS = 20000
DEFAULT_PAGE_SIZE = 100
FREQUENCIES = {"H": timedelta(hours=1), "D": timedelta(days=1), "W": timedelta(weeks=1)}

_FORECAST_ARN = re.compile(r"^arn:aws:forecast:([a-z0-9-]+):(\d{12}):forecast/([a-zA-Z][a-zA-Z0-9_]*)$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?[\w+=,.@-]+$")
_S3_PATH = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")
_JOB_FILTER_KEYS = ("ForecastArn", "Status")
_FORECAST_FILTER_KEYS = ("DatasetGroupArn", "Status")


class ForecastError(JsonRESTError):
    """A modelled Forecast error: HTTP 400 with ``__type`` and ``message``."""

    code = 400

    def __init__(self, error_type, message, status=400):
        super().__init__(error_type, message)
        self.code = status
        self.content_type = "application/x-amz-json-1.1"


def invalid_input(message):
    """InvalidInputException."""
    return ForecastError("InvalidInputException", message)


def not_found(message):
    """ResourceNotFoundException."""
    return ForecastError("ResourceNotFoundException", message)


def in_use(message):
    """ResourceInUseException."""
    return ForecastError("ResourceInUseException", message)


def timestamp_for_name(epoch):
    """Java SimpleDateFormat ``yyyy-MM-ddTHH-mm-ssZ`` (UTC), as in the part files' names."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")


def quantile_column(forecast_type):
    """The CSV column of a forecast type: ``0.1`` -> ``p10``, ``0.05`` -> ``p5``, ``mean`` -> ``mean``."""
    if forecast_type == "mean":
        return "mean"
    return "p" + format(float(forecast_type) * 100, "g")


class Forecast:
    """A forecast of the local AWS (from a fixture or the admin endpoint; its status never changes by itself)."""

    def __init__(self, spec, account_id, created):
        self.name = spec["name"]
        self.region = spec["region"]
        self.account_id = account_id
        self.status = spec["status"]
        self.message = spec.get("message")
        self.dataset_group = spec["dataset_group"]
        self.predictor = spec["predictor"]
        self.forecast_types = list(spec["forecast_types"])
        self.items = spec["items"]
        self.horizon = spec["horizon"]
        self.frequency = spec["frequency"]
        self.start = spec["start"]
        self.size_mb = spec["size_mb"]
        self.created = created

    def _arn(self, kind, name):
        return f"arn:aws:forecast:{self.region}:{self.account_id}:{kind}/{name}"

    @property
    def arn(self):
        """arn:aws:forecast:<region>:<account>:forecast/<name>."""
        return self._arn("forecast", self.name)

    @property
    def dataset_group_arn(self):
        """The ARN of the forecast's dataset group."""
        return self._arn("dataset-group", self.dataset_group)

    @property
    def predictor_arn(self):
        """The ARN of the predictor the forecast was made with."""
        return self._arn("predictor", self.predictor)

    def summary(self):
        """A member of ListForecasts' Forecasts."""
        out = {
            "ForecastArn": self.arn,
            "ForecastName": self.name,
            "PredictorArn": self.predictor_arn,
            "CreatedUsingAutoPredictor": True,
            "DatasetGroupArn": self.dataset_group_arn,
            "Status": self.status,
        }
        if self.message:
            out["Message"] = self.message
        out.update({"CreationTime": self.created, "LastModificationTime": self.created})
        return out

    def describe(self):
        """DescribeForecast's answer."""
        out = {
            "ForecastArn": self.arn,
            "ForecastName": self.name,
            "ForecastTypes": list(self.forecast_types),
            "PredictorArn": self.predictor_arn,
            "DatasetGroupArn": self.dataset_group_arn,
            "Status": self.status,
        }
        if self.status in (CREATE_PENDING, CREATE_IN_PROGRESS):
            out["EstimatedTimeRemainingInMinutes"] = 10
        if self.message:
            out["Message"] = self.message
        out.update({"CreationTime": self.created, "LastModificationTime": self.created})
        return out

    def admin_view(self):
        """What the admin endpoint reports."""
        return {
            "name": self.name,
            "arn": self.arn,
            "region": self.region,
            "account_id": self.account_id,
            "status": self.status,
            "message": self.message,
            "dataset_group_arn": self.dataset_group_arn,
            "predictor_arn": self.predictor_arn,
            "forecast_types": list(self.forecast_types),
            "items": self.items,
            "horizon": self.horizon,
            "frequency": self.frequency,
            "start": self.start,
            "size_mb": self.size_mb,
            "rows": self.items * self.horizon,
        }

    def columns(self):
        """The header of the exported files."""
        return ["item_id", "date"] + [quantile_column(kind) for kind in self.forecast_types]

    def rows(self):
        """The exported rows (at most MAX_ROWS), deterministic: item_id, date, one value per forecast type."""
        start = datetime.strptime(self.start, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        step = FREQUENCIES[self.frequency]
        out = []
        for item in range(self.items):
            item_id = f"item_{item + 1:05d}"
            seed = int(hashlib.sha256(f"{self.name}/{item_id}".encode("utf-8")).hexdigest()[:8], 16)
            base = 20.0 + (seed % 2000) / 10.0
            for index in range(self.horizon):
                if len(out) >= MAX_ROWS:
                    return out
                when = (start + step * index).strftime("%Y-%m-%dT%H:%M:%SZ")
                median = base * (1.0 + 0.15 * math.sin(index / 3.0 + seed % 7))
                values = []
                for kind in self.forecast_types:
                    factor = 1.02 if kind == "mean" else 0.6 + 0.8 * float(kind)
                    values.append(f"{median * factor:.4f}")
                out.append([item_id, when] + values)
        return out


class ExportJob:
    """A forecast export job."""

    def __init__(self, forecast, name, destination, file_format, tags, now):
        self.forecast_arn = forecast.arn
        self.forecast_name = forecast.name
        self.name = name
        self.arn = (
            f"arn:aws:forecast:{forecast.region}:{forecast.account_id}:forecast-export-job/{forecast.name}/{name}"
        )
        self.destination = {"S3Config": dict(destination["S3Config"])}
        self.format = file_format
        self.tags = list(tags or [])
        self.created = now
        self.status = CREATE_PENDING
        self.message = None
        self.changed = now
        self.duration = STATE.duration_for(forecast.size_mb)
        self.scheduled_end = now + PENDING_SECONDS + self.duration
        self.stop_end = None
        self.delete_requested = None
        self.part_keys = []
        bucket, prefix = parse_s3_path(self.destination["S3Config"]["Path"])
        self.bucket = bucket
        self.prefix = prefix

    @property
    def role_arn(self):
        """The role Forecast assumes to write."""
        return self.destination["S3Config"]["RoleArn"]

    @property
    def kms_key_arn(self):
        """The key the part files are encrypted with (None: the bucket's default encryption)."""
        return self.destination["S3Config"].get("KMSKeyArn")

    def last_modified(self, now):
        """LastModificationTime as the API reference describes it for each status."""
        if self.status in (CREATE_IN_PROGRESS, CREATE_STOPPING, DELETE_IN_PROGRESS):
            return now
        return self.changed

    def summary(self, now):
        """A member of ListForecastExportJobs' ForecastExportJobs."""
        out = {
            "ForecastExportJobArn": self.arn,
            "ForecastExportJobName": self.name,
            "Destination": {"S3Config": dict(self.destination["S3Config"])},
            "Status": self.status,
        }
        if self.message:
            out["Message"] = self.message
        out.update({"CreationTime": self.created, "LastModificationTime": self.last_modified(now)})
        return out

    def describe(self, now):
        """DescribeForecastExportJob's answer."""
        out = {
            "ForecastExportJobArn": self.arn,
            "ForecastExportJobName": self.name,
            "ForecastArn": self.forecast_arn,
            "Destination": {"S3Config": dict(self.destination["S3Config"])},
        }
        if self.message:
            out["Message"] = self.message
        out.update(
            {
                "Status": self.status,
                "CreationTime": self.created,
                "LastModificationTime": self.last_modified(now),
                "Format": self.format,
            }
        )
        return out

    def admin_view(self, now):
        """Everything about the job, for the admin endpoint."""
        out = self.describe(now)
        out.update(
            {
                "Tags": self.tags,
                "ScheduledEndTime": self.scheduled_end,
                "DurationSeconds": self.duration,
                "Bucket": self.bucket,
                "PartKeys": list(self.part_keys),
            }
        )
        return out

    def file_names(self, count):
        """The part files' keys: <prefix>/<job name>_<yyyy-MM-ddTHH-mm-ssZ>_part<N>.<csv|parquet>."""
        suffix = ".csv" if self.format == "CSV" else ".parquet"
        stamp = timestamp_for_name(self.created)
        folder = f"{self.prefix.rstrip('/')}/" if self.prefix.strip("/") else ""
        return [f"{folder}{self.name}_{stamp}_part{index}{suffix}" for index in range(count)]


def parse_s3_path(path):
    """(bucket, prefix) of ``s3://bucket/prefix``; raise InvalidInputException for another form."""
    match = _S3_PATH.match(path)
    if not match or ".." in match.group(1):
        raise invalid_input(f"Destination.S3Config.Path {path} must have the form s3://<bucket name>/<prefix>")
    return match.group(1), match.group(2) or ""


def render_parts(forecast, file_format):
    """The part files' bodies: CSV with a header line; PARQUET as Parquet-framed bytes (``PAR1`` ... ``PAR1``)
    around the same rows, which a Parquet reader cannot parse (the emulator has no Parquet writer)."""
    rows = forecast.rows()
    header = ",".join(forecast.columns())
    chunks = [rows[index : index + PART_ROWS] for index in range(0, len(rows), PART_ROWS)] or [[]]
    bodies = []
    for chunk in chunks:
        text = "\n".join([header] + [",".join(row) for row in chunk]) + "\n"
        data = text.encode("utf-8")
        bodies.append(data if file_format == "CSV" else b"PAR1" + data + b"PAR1")
    return bodies


def _apply_filters(items, filters, keys, value_of):
    for item_filter in filters or []:
        if item_filter["Key"] not in keys:
            raise invalid_input(f"Filter key {item_filter['Key']} is not valid; valid keys are {', '.join(keys)}")
    out = []
    for item in items:
        matches = True
        for item_filter in filters or []:
            equal = value_of(item, item_filter["Key"]) == item_filter["Value"]
            if equal != (item_filter["Condition"] == "IS"):
                matches = False
        if matches:
            out.append(item)
    return out


def _page(kind, scope, items, params):
    size = params.get("MaxResults") or DEFAULT_PAGE_SIZE
    offset = 0
    if params.get("NextToken"):
        try:
            offset = _decode_token(params["NextToken"], kind, scope)
        except WorkMailError:
            # WorkMail's error for a token that does not decode, as Forecast's (the cause adds nothing).
            raise ForecastError(
                "InvalidNextTokenException", "The token is not valid. Tokens expire after 24 hours."
            ) from None
        if not isinstance(offset, int) or offset < 0:
            raise ForecastError("InvalidNextTokenException", "The token is not valid.")
    page = items[offset : offset + size]
    following = offset + len(page)
    token = _encode_token(kind, scope, following) if following < len(items) else None
    return page, token


class ForecastExportBackend(BaseBackend):
    """Forecasts and forecast export jobs in one account and region."""

    def __init__(self, region_name, account_id):
        super().__init__(region_name, account_id)
        self.forecasts = {}
        self.jobs = {}

    def add_forecast(self, spec, now):
        """Add a normalised forecast; return it."""
        forecast = Forecast(spec, self.account_id, now)
        self.forecasts[forecast.name] = forecast
        return forecast

    def _forecast(self, arn):
        match = _FORECAST_ARN.match(arn)
        forecast = None
        if match and match.group(1) == self.region_name and match.group(2) == self.account_id:
            forecast = self.forecasts.get(match.group(3))
        if forecast is None:
            raise not_found(f"No resource found {arn}")
        return forecast

    def _job(self, arn):
        job = self.jobs.get(arn)
        if job is None:
            raise not_found(f"No resource found {arn}")
        return job

    # ----------------------------------------------------------------- forecasts
    def list_forecasts(self, params, _now):
        """ListForecasts: newest first, filters on DatasetGroupArn and Status."""
        forecasts = sorted(self.forecasts.values(), key=lambda item: (-item.created, item.name))
        keys = {"DatasetGroupArn": "dataset_group_arn", "Status": "status"}
        chosen = _apply_filters(
            forecasts, params.get("Filters"), _FORECAST_FILTER_KEYS, lambda item, key: getattr(item, keys[key])
        )
        page, token = _page("forecasts", _scope(self.region_name, params.get("Filters")), chosen, params)
        out = {"Forecasts": [forecast.summary() for forecast in page]}
        if token:
            out["NextToken"] = token
        return out

    def describe_forecast(self, params, _now):
        """DescribeForecast."""
        return self._forecast(params["ForecastArn"]).describe()

    # ----------------------------------------------------------------- export jobs
    def create_forecast_export_job(self, params, now):
        """CreateForecastExportJob: role ARN form and account, forecast, status, name; the destination itself is
        checked when the job runs (a problem there makes it CREATE_FAILED)."""
        s3_config = params["Destination"]["S3Config"]
        role = _ROLE_ARN.match(s3_config["RoleArn"])
        if not role:
            raise invalid_input(f"RoleArn {s3_config['RoleArn']} is not the ARN of an IAM role")
        if role.group(1) != self.account_id:
            raise invalid_input(
                f"RoleArn {s3_config['RoleArn']} belongs to another account; passing a role across accounts is "
                "not allowed"
            )
        parse_s3_path(s3_config["Path"])
        forecast = self._forecast(params["ForecastArn"])
        if forecast.status != ACTIVE:
            raise in_use(
                f"Forecast {forecast.arn} is in status {forecast.status}; only an ACTIVE forecast can be exported"
            )
        job = ExportJob(
            forecast,
            params["ForecastExportJobName"],
            params["Destination"],
            params.get("Format") or "CSV",
            params.get("Tags"),
            now,
        )
        if job.arn in self.jobs:
            raise ForecastError(
                "ResourceAlreadyExistsException", f"A forecast export job with ARN {job.arn} already exists"
            )
        self.jobs[job.arn] = job
        return {"ForecastExportJobArn": job.arn}

    def describe_forecast_export_job(self, params, now):
        """DescribeForecastExportJob."""
        return self._job(params["ForecastExportJobArn"]).describe(now)

    def list_forecast_export_jobs(self, params, now):
        """ListForecastExportJobs: newest first, filters on ForecastArn and Status."""
        jobs = sorted(self.jobs.values(), key=lambda item: (-item.created, item.arn))
        keys = {"ForecastArn": "forecast_arn", "Status": "status"}
        chosen = _apply_filters(
            jobs, params.get("Filters"), _JOB_FILTER_KEYS, lambda item, key: getattr(item, keys[key])
        )
        page, token = _page("forecast-export-jobs", _scope(self.region_name, params.get("Filters")), chosen, params)
        out = {"ForecastExportJobs": [job.summary(now) for job in page]}
        if token:
            out["NextToken"] = token
        return out

    def delete_forecast_export_job(self, params, now):
        """DeleteForecastExportJob: only ACTIVE or CREATE_FAILED jobs (and CREATE_STOPPED ones if the dialect
        ``forecast_delete_stopped`` allows it); the exported files stay in S3."""
        job = self._job(params["ForecastExportJobArn"])
        deletable = (ACTIVE, CREATE_FAILED)
        if STATE.dialect("forecast_delete_stopped") == "allow":
            deletable += (CREATE_STOPPED,)
        if job.status not in deletable:
            raise in_use(
                f"Forecast export job {job.arn} is in status {job.status}; only a job in {' or '.join(deletable)} "
                "can be deleted"
            )
        job.status = DELETE_PENDING
        job.delete_requested = now
        job.changed = now
        return {}

    def stop_resource(self, params, now):
        """StopResource for a forecast export job in CREATE_PENDING or CREATE_IN_PROGRESS."""
        arn = params["ResourceArn"]
        job = self.jobs.get(arn)
        if job is None:
            if _FORECAST_ARN.match(arn) and self._forecast(arn):
                raise invalid_input(f"Forecast {arn} is not being created and cannot be stopped")
            raise not_found(f"No resource found {arn}")
        if job.status not in (CREATE_PENDING, CREATE_IN_PROGRESS):
            raise invalid_input(
                f"Forecast export job {arn} is in status {job.status}; only a job in CREATE_PENDING or "
                "CREATE_IN_PROGRESS can be stopped"
            )
        job.status = CREATE_STOPPING
        job.stop_end = now + STOPPING_SECONDS
        job.changed = now
        return {}

    # ----------------------------------------------------------------- the simulated passage of time
    def materialise(self, now):
        """Move every job to where the clock says it is: start, finish (check, write), stop, delete."""
        for job in sorted(self.jobs.values(), key=lambda item: item.created):
            self._advance(job, now)

    def _advance(self, job, now):
        if job.status == CREATE_PENDING and now >= job.created + PENDING_SECONDS:
            job.status = CREATE_IN_PROGRESS
            job.changed = job.created + PENDING_SECONDS
        if job.status == CREATE_IN_PROGRESS and now >= job.scheduled_end:
            self._finish(job)
        if job.status == CREATE_STOPPING and now >= job.stop_end:
            job.status = CREATE_STOPPED
            job.changed = job.stop_end
        if job.status == DELETE_PENDING and now >= job.delete_requested + DELETE_PENDING_SECONDS:
            job.status = DELETE_IN_PROGRESS
            job.changed = job.delete_requested + DELETE_PENDING_SECONDS
        if job.status == DELETE_IN_PROGRESS and now >= job.delete_requested + DELETE_PENDING_SECONDS + (
            DELETE_IN_PROGRESS_SECONDS
        ):
            del self.jobs[job.arn]

    def _finish(self, job):
        job.changed = job.scheduled_end
        forecast = self.forecasts.get(job.forecast_name)
        if forecast is None:
            job.status = CREATE_FAILED
            job.message = f"The forecast {job.forecast_arn} no longer exists"
            return
        bodies = render_parts(forecast, job.format)
        keys = job.file_names(len(bodies))
        try:
            destination = check_export_destination(
                self.account_id, self.region_name, job.arn, job.role_arn, job.kms_key_arn, job.bucket, keys
            )
        except DestinationError as exc:
            job.status = CREATE_FAILED
            job.message = f"The export could not write to {job.destination['S3Config']['Path']}: {exc}"[:1024]
            return
        content_type = "text/csv" if job.format == "CSV" else "application/octet-stream"
        put_objects(
            self.account_id,
            job.bucket,
            [(key, body, content_type) for key, body in zip(keys, bodies)],
            destination.key_arn,
            destination.bucket_key_enabled,
        )
        job.part_keys = keys
        job.status = ACTIVE

    def admin_jobs(self, now):
        """Every job, for the admin endpoint."""
        return [job.admin_view(now) for job in sorted(self.jobs.values(), key=lambda item: item.created)]


forecast_export_backends = BackendDict(ForecastExportBackend, "forecast")


def iter_forecast_backends():
    """Every Forecast backend created so far (account, region, backend)."""
    return list(forecast_export_backends.iter_backends())


def forecast_backend_for(region, account_id=DEFAULT_ACCOUNT_ID):
    """The Forecast backend of an account and region (created on first use)."""
    return forecast_export_backends[account_id][region]


def materialise_forecasts(now):
    """Advance every forecast export job of every account and region to ``now``."""
    with STATE.lock:
        for _account, _region, backend in iter_forecast_backends():
            backend.materialise(now)
