# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rules of a forecast export job: its statuses, the name derived for it, the checks of the module parameters
(done before any AWS call), the job as the modules return it, and how an existing job differs from the request.

Plain Python, no AWS call. One copy of each rule: :mod:`forecast_export_jobs` runs the jobs with them and the
modules only hand their parameters over.
"""

import hashlib
import re

from ansible_collections.mailops.workmail.plugins.module_utils.common import FORECAST_REGIONS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.validation import ACCOUNT_RE
from ansible_collections.mailops.workmail.plugins.module_utils.validation import ARN_RE
from ansible_collections.mailops.workmail.plugins.module_utils.validation import KMS_KEY_ID_RE
from ansible_collections.mailops.workmail.plugins.module_utils.validation import ROLE_RESOURCE_RE
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_bucket_name

# Status of a forecast export job (a free string in the API model: anything else is "unknown").
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

# What a status means to the modules (:func:`phase`).
PHASE_ACTIVE = "active"
PHASE_CREATING = "creating"
PHASE_FAILED = "failed"
PHASE_STOPPING = "stopping"
PHASE_STOPPED = "stopped"
PHASE_DELETING = "deleting"
PHASE_DELETE_FAILED = "delete_failed"
PHASE_UNKNOWN = "unknown"
_PHASES = {
    ACTIVE: PHASE_ACTIVE,
    CREATE_PENDING: PHASE_CREATING,
    CREATE_IN_PROGRESS: PHASE_CREATING,
    CREATE_FAILED: PHASE_FAILED,
    CREATE_STOPPING: PHASE_STOPPING,
    CREATE_STOPPED: PHASE_STOPPED,
    DELETE_PENDING: PHASE_DELETING,
    DELETE_IN_PROGRESS: PHASE_DELETING,
    DELETE_FAILED: PHASE_DELETE_FAILED,
}
# AWS deletes a job in these phases only (CREATE_STOPPED: a stopped job is deleted to free its name).
DELETABLE_PHASES = (PHASE_ACTIVE, PHASE_FAILED, PHASE_STOPPED)

FORMATS = ("CSV", "PARQUET")
DEFAULT_FORMAT = "CSV"
DEFAULT_WAIT_TIMEOUT = 3600

NAME_MAX = 63
NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,62}\Z")
# The derived name: <forecast name>_export_<format>_<destination hash>[_<attempt>]; a forecast name too long for it
# is cut and followed by the first 8 hexadecimal digits of its SHA-256, so two long names never give the same job name.
DERIVED_NAME_INFIX = "_export_"
DERIVED_NAME_HASH_LENGTH = 8
# How many attempts a derived name has (the first one, then _2 ... _20): each stopped job passes on to the next one.
MAX_ATTEMPTS = 20

FORECAST_RESOURCE_RE = re.compile(r"^forecast/([a-zA-Z][a-zA-Z0-9_]{0,62})\Z")
JOB_RESOURCE_RE = re.compile(r"^forecast-export-job/([a-zA-Z][a-zA-Z0-9_]{0,62})/([a-zA-Z][a-zA-Z0-9_]{0,62})\Z")
DATASET_GROUP_RESOURCE_RE = re.compile(r"^dataset-group/[a-zA-Z][a-zA-Z0-9_]{0,62}\Z")
REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]\Z")
PARTITION_RE = re.compile(r"^aws(?:-[a-z]+)*\Z")
S3_PATH_RE = re.compile(r"^s3://([^/]+)/((?:[A-Za-z0-9!_.*'()=+-]+/)*)\Z")
TAG_KEY_RE = re.compile(r"^[\w\s_.:/=+\-@]{1,128}\Z")
TAG_VALUE_RE = re.compile(r"^[\w\s_.:/=+\-@]{0,256}\Z")
MAX_TAGS = 200

FORECAST_ARN_EXAMPLE = "arn:aws:forecast:us-east-1:123456789012:forecast/sales_2026"
ROLE_ARN_EXAMPLE = "arn:aws:iam::123456789012:role/forecast-export"
KMS_ARN_EXAMPLE = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# The settings of a job the module compares with an existing job of the same name: (parameter, job field path).
COMPARED_SETTINGS = (
    ("forecast_arn", ("forecast_arn",)),
    ("s3_path", ("destination", "s3_config", "path")),
    ("role_arn", ("destination", "s3_config", "role_arn")),
    ("kms_key_arn", ("destination", "s3_config", "kms_key_arn")),
    ("format", ("format",)),
)


def phase(status):
    """What a job status means: one of the ``PHASE_*`` values, :data:`PHASE_UNKNOWN` for any other text."""
    return _PHASES.get(status, PHASE_UNKNOWN)


def _shown(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _arn_parts(value, parameter, what, example):
    """``(partition, service, region, account, resource)`` of an ARN, or a ParameterError naming ``parameter``."""
    if not isinstance(value, str):
        raise ParameterError(parameter, f"must be a string, got {type(value).__name__}")
    match = ARN_RE.match(value)
    if not match or len(value) > 256:
        raise ParameterError(parameter, f"must be {what} (at most 256 characters) like {example}, got {_shown(value)}")
    partition, service, region, account, resource = match.groups()
    if not PARTITION_RE.match(partition):
        raise ParameterError(parameter, f"ARN partition must be aws or aws-<name>, got {_shown(partition)}")
    if account and not ACCOUNT_RE.match(account):
        raise ParameterError(parameter, f"ARN account must be a 12-digit AWS account id, got {_shown(account)}")
    return partition, service, region, account, resource


def parse_forecast_arn(value, parameter="forecast_arn"):
    """A forecast ARN ``arn:aws:forecast:<region>:<account>:forecast/<name>``: ``{"partition", "region", "account",
    "name"}``."""
    what = "a forecast ARN arn:aws:forecast:<region>:<account>:forecast/<name>"
    partition, service, region, account, resource = _arn_parts(value, parameter, what, FORECAST_ARN_EXAMPLE)
    match = FORECAST_RESOURCE_RE.match(resource)
    if service != "forecast" or not REGION_RE.match(region) or not account or not match:
        raise ParameterError(parameter, f"must be {what} like {FORECAST_ARN_EXAMPLE}, got {_shown(value)}")
    return {"partition": partition, "region": region, "account": account, "name": match.group(1)}


def parse_job_arn(value, parameter="forecast_export_job_arn"):
    """A forecast export job ARN ``arn:aws:forecast:<region>:<account>:forecast-export-job/<forecast>/<job>``:
    ``{"partition", "region", "account", "forecast_name", "name"}``."""
    what = "a forecast export job ARN arn:aws:forecast:<region>:<account>:forecast-export-job/<forecast>/<job>"
    example = "arn:aws:forecast:us-east-1:123456789012:forecast-export-job/sales_2026/sales_2026_export_csv_5f0c3a9e"
    partition, service, region, account, resource = _arn_parts(value, parameter, what, example)
    match = JOB_RESOURCE_RE.match(resource)
    if service != "forecast" or not REGION_RE.match(region) or not account or not match:
        raise ParameterError(parameter, f"must be {what} like {example}, got {_shown(value)}")
    return {
        "partition": partition,
        "region": region,
        "account": account,
        "forecast_name": match.group(1),
        "name": match.group(2),
    }


def parse_dataset_group_arn(value, parameter="dataset_group_arn"):
    """A dataset group ARN ``arn:aws:forecast:<region>:<account>:dataset-group/<name>``."""
    what = "a dataset group ARN arn:aws:forecast:<region>:<account>:dataset-group/<name>"
    example = "arn:aws:forecast:us-east-1:123456789012:dataset-group/sales"
    dummy, service, region, account, resource = _arn_parts(value, parameter, what, example)
    if service != "forecast" or not REGION_RE.match(region) or not account:
        raise ParameterError(parameter, f"must be {what} like {example}, got {_shown(value)}")
    if not DATASET_GROUP_RESOURCE_RE.match(resource):
        raise ParameterError(parameter, f"must be {what} like {example}, got {_shown(value)}")
    return value


def parse_role_arn(value, parameter="role_arn"):
    """An IAM role ARN ``arn:aws:iam::<account>:role/<path/>name`` (not the API model's pattern, which names the
    forecast service and would refuse every role): ``{"partition", "account", "name"}``."""
    what = "an IAM role ARN arn:aws:iam::<account>:role/<name>"
    partition, service, region, account, resource = _arn_parts(value, parameter, what, ROLE_ARN_EXAMPLE)
    if service != "iam" or region or not account:
        raise ParameterError(parameter, f"must be {what} like {ROLE_ARN_EXAMPLE}, got {_shown(value)}")
    if not ROLE_RESOURCE_RE.match(resource):
        raise ParameterError(
            parameter,
            f"ARN resource must be role/<name> or role/<path>/<name> (name: 1 to 64 of A-Z a-z 0-9 _+=,.@-), "
            f"got {_shown(resource)}",
        )
    return {"partition": partition, "account": account, "name": resource.rsplit("/", 1)[1]}


def parse_kms_key_arn(value, parameter="kms_key_arn"):
    """A KMS key ARN ``arn:aws:kms:<region>:<account>:key/<key id>`` (not an alias): ``{"region", "account"}``."""
    what = "a KMS key ARN arn:aws:kms:<region>:<account>:key/<key id>"
    dummy, service, region, account, resource = _arn_parts(value, parameter, what, KMS_ARN_EXAMPLE)
    if service != "kms" or not REGION_RE.match(region) or not account:
        raise ParameterError(parameter, f"must be {what} like {KMS_ARN_EXAMPLE}, got {_shown(value)}")
    if not resource.startswith("key/") or not KMS_KEY_ID_RE.match(resource[4:]):
        raise ParameterError(
            parameter,
            f"ARN resource must be key/<key id> (an alias is not accepted; look the key ARN up with "
            f"amazon.aws.kms_key_info), got {_shown(resource)}",
        )
    return {"region": region, "account": account}


def parse_s3_path(value, parameter="s3_path"):
    """``s3://<bucket>/`` or ``s3://<bucket>/<prefix>/``: ``(bucket, key prefix)``, the prefix ending with ``/`` or
    empty."""
    if not isinstance(value, str):
        raise ParameterError(parameter, f"must be a string, got {type(value).__name__}")
    match = S3_PATH_RE.match(value)
    if not match or len(value) > 4096:
        raise ParameterError(
            parameter,
            "must be s3://<bucket>/ or s3://<bucket>/<prefix>/ (ending with /; the prefix of folders made of "
            f"A-Z a-z 0-9 and !_.*'()=+-, no empty folder), got {_shown(value)}",
        )
    bucket, prefix = match.groups()
    validate_bucket_name(bucket, parameter=f"{parameter} (its bucket)")
    return bucket, prefix


def destination_hash(s3_path, kms_key_arn=None):
    """The first 8 hexadecimal digits of the SHA-256 of the export's destination: the S3 path (with a trailing /)
    and the KMS key ARN (empty without one). The same destination always gives the same digits."""
    path = s3_path if s3_path.endswith("/") else s3_path + "/"
    text = f"{path}\n{kms_key_arn or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DERIVED_NAME_HASH_LENGTH]


def derive_job_name(forecast_name, export_format, s3_path, kms_key_arn=None, attempt=1):
    """The job name derived from the forecast's name, the format and the destination:
    ``<forecast name>_export_<csv|parquet>_<destination hash>``, followed by ``_<attempt>`` from the second attempt
    on (a stopped job cannot be resumed and AWS may refuse to delete it: the export is made again under the next
    attempt's name).

    The destination hash is :func:`destination_hash` of ``s3_path`` and ``kms_key_arn``: a rerun to the same
    destination finds its job, another destination gets its own. When the name is longer than 63 characters, the
    forecast name is cut and followed by ``_`` and the first 8 hexadecimal digits of the SHA-256 of the whole
    forecast name, so the name stays valid, stable across runs and different for two forecasts.
    """
    suffix = f"{DERIVED_NAME_INFIX}{export_format.lower()}_{destination_hash(s3_path, kms_key_arn)}"
    if attempt > 1:
        suffix += f"_{attempt}"
    name = forecast_name + suffix
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(forecast_name.encode("utf-8")).hexdigest()[:DERIVED_NAME_HASH_LENGTH]
    kept = NAME_MAX - len(suffix) - DERIVED_NAME_HASH_LENGTH - 1
    return f"{forecast_name[:kept]}_{digest}{suffix}"


def job_arn(forecast, name):
    """The ARN AWS gives the job ``name`` of the forecast ``forecast`` (:func:`parse_forecast_arn`'s answer)."""
    return (
        f"arn:{forecast['partition']}:forecast:{forecast['region']}:{forecast['account']}:"
        f"forecast-export-job/{forecast['name']}/{name}"
    )


def validate_name(value, parameter="name"):
    """A job name: 1 to 63 characters, a letter first, then letters, digits and underscores."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ParameterError(
            parameter,
            f"must be 1 to 63 characters, a letter followed by letters, digits and underscores "
            f"(^[a-zA-Z][a-zA-Z0-9_]*$), got {_shown(value)}",
        )
    return value


def validate_tags(tags, parameter="tags"):
    """At most 200 tags, keys of 1 to 128 and values of 0 to 256 letters, digits, spaces and _.:/=+-@; no key
    beginning with aws: (reserved)."""
    if not tags:
        return {}
    if not isinstance(tags, dict):
        raise ParameterError(parameter, f"must be a dictionary of tag names and values, got {type(tags).__name__}")
    if len(tags) > MAX_TAGS:
        raise ParameterError(parameter, f"must have at most {MAX_TAGS} tags, got {len(tags)}")
    for key, value in tags.items():
        if not isinstance(key, str) or not TAG_KEY_RE.match(key) or key.lower().startswith("aws:"):
            raise ParameterError(
                parameter,
                f"tag key {_shown(key)} must be 1 to 128 letters, digits, spaces and _.:/=+-@, not beginning with aws:",
            )
        if not isinstance(value, str) or not TAG_VALUE_RE.match(value):
            raise ParameterError(parameter, f"value of tag {key} must be 0 to 256 letters, digits, spaces and _.:/=+-@")
    return dict(tags)


def _require(params, state, names):
    missing = [name for name in names if params.get(name) in (None, "")]
    if missing:
        raise ParameterError(missing[0], f"is required with state={state} (missing: {', '.join(missing)})")


def validate_wait_timeout(value, parameter="wait_timeout"):
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ParameterError(parameter, f"must be a number of seconds greater than 0, got {_shown(value)}")
    return value


def _wait_timeout(params):
    """The wait_timeout given (0 included), or the default when it is not given."""
    value = params.get("wait_timeout")
    return DEFAULT_WAIT_TIMEOUT if value is None else value


class ExportJobRequest:
    """The validated parameters of forecast_export_job: what the job is (``name``, ``job_arn``, ``forecast_arn``,
    ``forecast_name``) and, with state=present, where it writes (``s3_path``, ``bucket``, ``prefix``, ``role_arn``,
    ``kms_key_arn``, ``format``, ``tags``); ``name_derived`` says whether the name was derived."""

    def __init__(self, params, forecast, name, name_derived):
        self.state = params.get("state") or "present"
        self.forecast_arn = params["forecast_arn"]
        self.forecast_name = forecast["name"]
        self.forecast = forecast
        self.name = name
        self.name_derived = name_derived
        self.job_arn = job_arn(forecast, name)
        self.attempt = 1
        self.s3_path = params.get("s3_path")
        self.bucket, self.prefix = parse_s3_path(self.s3_path) if self.s3_path else (None, None)
        self.role_arn = params.get("role_arn")
        self.kms_key_arn = params.get("kms_key_arn") or None
        self.format = params.get("format") or DEFAULT_FORMAT
        self.tags = validate_tags(params.get("tags"))
        self.wait = bool(params.get("wait"))
        self.wait_timeout = _wait_timeout(params)
        self.stop = bool(params.get("stop"))
        self.verify = params.get("verify") is not False

    def use_attempt(self, attempt):
        """Use the derived name of ``attempt`` (1 is the first; only for a derived name)."""
        self.attempt = attempt
        self.name = derive_job_name(self.forecast_name, self.format, self.s3_path, self.kms_key_arn, attempt)
        self.job_arn = job_arn(self.forecast, self.name)

    def settings(self):
        """The compared settings the request asks for: ``{parameter: value}``."""
        return {
            "forecast_arn": self.forecast_arn,
            "s3_path": self.s3_path,
            "role_arn": self.role_arn,
            "kms_key_arn": self.kms_key_arn,
            "format": self.format,
        }

    def destination(self):
        """CreateForecastExportJob's ``Destination``."""
        s3_config = {"Path": self.s3_path, "RoleArn": self.role_arn}
        if self.kms_key_arn:
            s3_config["KMSKeyArn"] = self.kms_key_arn
        return {"S3Config": s3_config}


def build_request(params, region=None):
    """An :class:`ExportJobRequest` from forecast_export_job's parameters, every rule checked before any AWS call:
    the parameters a state needs, the name's pattern (or the derived name), the ARNs' forms, the forecast's region
    against the connection's ``region``, the role in the forecast's account, the s3_path's form, the format, the
    tags and wait_timeout. ParameterError names the parameter and the rule."""
    state = params.get("state") or "present"
    _require(params, state, ("forecast_arn", "s3_path", "role_arn") if state == "present" else ("forecast_arn",))
    if not params.get("name") and not params.get("s3_path"):
        raise ParameterError(
            "s3_path", f"is required with state={state} when name is not given (the derived name depends on it)"
        )
    forecast = parse_forecast_arn(params["forecast_arn"])
    if forecast["region"] not in FORECAST_REGIONS:
        raise ParameterError(
            "forecast_arn",
            f"the forecast's region {forecast['region']} is not one where Amazon Forecast exists "
            f"({', '.join(FORECAST_REGIONS)})",
        )
    if region and forecast["region"] != region:
        raise ParameterError(
            "forecast_arn",
            f"the forecast is in {forecast['region']} but the connection's region is {region}; set region to "
            f"{forecast['region']}",
        )
    export_format = params.get("format") or DEFAULT_FORMAT
    if export_format not in FORMATS:
        raise ParameterError("format", f"must be one of {', '.join(FORMATS)}, got {_shown(export_format)}")
    name = params.get("name")
    if name:
        validate_name(name)
    else:
        parse_s3_path(params["s3_path"])
        name = derive_job_name(forecast["name"], export_format, params["s3_path"], params.get("kms_key_arn") or None)
    validate_wait_timeout(_wait_timeout(params))
    if params.get("role_arn"):
        role = parse_role_arn(params["role_arn"])
        if role["account"] != forecast["account"]:
            raise ParameterError(
                "role_arn",
                f"the role is in account {role['account']} but the forecast in {forecast['account']}; Amazon "
                f"Forecast does not accept a role of another account",
            )
    if params.get("kms_key_arn"):
        parse_kms_key_arn(params["kms_key_arn"])
    return ExportJobRequest(params, forecast, name, not params.get("name"))


# The job as the modules return it


def _s3_config(raw):
    config = (raw.get("Destination") or {}).get("S3Config") or {}
    return {"path": config.get("Path"), "role_arn": config.get("RoleArn"), "kms_key_arn": config.get("KMSKeyArn")}


def normalize_job(raw):
    """A job (DescribeForecastExportJob's answer, or a ForecastExportJobSummary) in snake_case, every field of the
    describe present (None when AWS gave none, as a summary gives no ``forecast_arn`` and ``format``), times in ISO
    8601 UTC."""
    return {
        "forecast_export_job_arn": raw.get("ForecastExportJobArn"),
        "forecast_export_job_name": raw.get("ForecastExportJobName"),
        "forecast_arn": raw.get("ForecastArn"),
        "destination": {"s3_config": _s3_config(raw)},
        "message": raw.get("Message"),
        "status": raw.get("Status"),
        "creation_time": iso8601(raw.get("CreationTime")),
        "last_modification_time": iso8601(raw.get("LastModificationTime")),
        "format": raw.get("Format"),
    }


def predicted_job(request, status=CREATE_PENDING):
    """The job a create of ``request`` would give, as :func:`normalize_job` returns it (check mode)."""
    return {
        "forecast_export_job_arn": request.job_arn,
        "forecast_export_job_name": request.name,
        "forecast_arn": request.forecast_arn,
        "destination": {
            "s3_config": {"path": request.s3_path, "role_arn": request.role_arn, "kms_key_arn": request.kms_key_arn}
        },
        "message": None,
        "status": status,
        "creation_time": None,
        "last_modification_time": None,
        "format": request.format,
    }


def job_setting(job, path):
    """The value at ``path`` (a tuple of keys) of a normalized job."""
    value = job
    for key in path:
        value = (value or {}).get(key)
    return value


def differing_settings(job, request):
    """``[(parameter, the job's value, the requested value)]`` for each compared setting where the existing job
    differs from the request (an s3_path compared without regard to a trailing /)."""
    wanted = request.settings()
    found = []
    for parameter, path in COMPARED_SETTINGS:
        have = job_setting(job, path)
        want = wanted[parameter]
        if parameter == "s3_path" and isinstance(have, str) and isinstance(want, str):
            same = have.rstrip("/") == want.rstrip("/")
        else:
            same = (have or None) == (want or None)
        if not same:
            found.append((parameter, have, want))
    return found


STATUS_FILTER_RE = re.compile(r"^[A-Z][A-Z_]{0,63}\Z")


def validate_status_filter(value, parameter="status"):
    """A status to filter on: upper-case letters and underscores (ACTIVE, CREATE_FAILED, ...)."""
    if value is not None and (not isinstance(value, str) or not STATUS_FILTER_RE.match(value)):
        raise ParameterError(
            parameter, f"must be a status such as {', '.join(STATUSES[:3])} (A-Z and _), got {_shown(value)}"
        )
    return value


def validate_job_info_params(params):
    """forecast_export_job_info's parameters, checked before any AWS call."""
    if params.get("forecast_export_job_arn"):
        parse_job_arn(params["forecast_export_job_arn"])
    if params.get("forecast_arn"):
        parse_forecast_arn(params["forecast_arn"])
    status = params.get("status")
    if status is not None and status not in STATUSES:
        raise ParameterError("status", f"must be one of {', '.join(STATUSES)}, got {_shown(status)}")
    return params


def validate_forecast_info_params(params):
    """forecast_info's parameters, checked before any AWS call."""
    if params.get("dataset_group_arn"):
        parse_dataset_group_arn(params["dataset_group_arn"])
    for arn in params.get("forecast_arns") or ():
        parse_forecast_arn(arn, parameter="forecast_arns")
    for name in params.get("forecast_names") or ():
        validate_name(name, parameter="forecast_names")
    validate_status_filter(params.get("status"))
    return params
