# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The variables of the export_forecasts playbook: read (survey text included), defaulted and checked.

They are read as the export_organization playbook's are (:mod:`playbook_inputs`): lists as YAML lists or comma- or
newline-separated text, numbers and booleans as text too, an empty text answer as not given. Every rule is the
collection's own (:mod:`validation` and :mod:`forecast_export`, the ones the modules apply); a problem names the
playbook variable.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.common import FORECAST_REGIONS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import DEFAULT_FORMAT
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import DEFAULT_WAIT_TIMEOUT
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import FORMATS
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import NAME_RE
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import derive_job_name
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import parse_forecast_arn
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import parse_kms_key_arn
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import parse_role_arn
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import parse_s3_path
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import BOOLEAN
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import INTEGER
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import LIST
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import TEXT
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import read_playbook_variables
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_bucket_name
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_integer
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_kms_alias
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_provisioned_prefix
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_role_name

VARIABLE_PREFIX = "forecast_"
DEFAULT_PREFIX = "forecast-exports/"

# Playbook variable (without forecast_): (kind, default). The destination's names default as in the
# export_prerequisites role: empty, the role derives them.
VARIABLES = {
    "region": (TEXT, None),
    "bucket": (TEXT, None),
    "prefix": (TEXT, DEFAULT_PREFIX),
    "provision": (BOOLEAN, True),
    "kms_alias": (TEXT, ""),
    "role_name": (TEXT, ""),
    "role_arn": (TEXT, None),
    "kms_key_arn": (TEXT, None),
    "forecasts": (LIST, []),
    "format": (TEXT, DEFAULT_FORMAT),
    "wait_timeout": (INTEGER, DEFAULT_WAIT_TIMEOUT),
    "fail_on_problems": (BOOLEAN, True),
}
REQUIRED = ("region", "bucket")


def read_variables(raw):
    """``(values, problems)``: every variable of :data:`VARIABLES` read from ``raw`` (``{"forecast_<name>": value}``,
    missing, None or empty text meaning not given), its default where it is not given; ``problems`` maps the
    variables that could not be read to what is wrong."""
    return read_playbook_variables(raw, VARIABLE_PREFIX, VARIABLES, REQUIRED)


def _check_region(region):
    if region not in FORECAST_REGIONS:
        raise ParameterError(
            "region", f"must be a region where Amazon Forecast exists ({', '.join(FORECAST_REGIONS)}), got {region!r}"
        )


def _check_prefix(values):
    validate_provisioned_prefix(values["prefix"], "prefix")
    parse_s3_path(f"s3://{values['bucket']}/{values['prefix']}", "prefix")


def _check_format(values):
    values["format"] = values["format"].upper()
    if values["format"] not in FORMATS:
        raise ParameterError("format", f"must be one of {', '.join(FORMATS)}")


def _check_forecasts(values):
    """Each entry is a forecast's ARN (in the region) or name; an entry given twice is an error too."""
    seen = set()
    for entry in values["forecasts"]:
        if entry in seen:
            raise ParameterError("forecasts", f"names {entry!r} twice")
        seen.add(entry)
        if entry.startswith("arn:"):
            arn = parse_forecast_arn(entry, "forecasts")
            if arn["region"] != values["region"]:
                raise ParameterError("forecasts", f"{entry} is in {arn['region']}, not in {values['region']}")
        elif not NAME_RE.match(entry):
            raise ParameterError(
                "forecasts",
                "each entry must be a forecast ARN or a forecast name (a letter, then up to 62 letters, digits and "
                f"underscores), got {entry!r}",
            )


def _given_destination(values, name):
    if values[name] is None:
        raise ParameterError(name, "is required when forecast_provision is false (the existing destination's ARN)")
    return values[name]


def _check_key(values):
    key = parse_kms_key_arn(_given_destination(values, "kms_key_arn"))
    if key["region"] != values["region"]:
        raise ParameterError("kms_key_arn", f"the key is in {key['region']}, not in {values['region']}")


def _rule_checks(values):
    """``(variable, check)`` pairs: each check raises ParameterError when the variable breaks a rule."""
    checks = [
        ("region", lambda: _check_region(values["region"])),
        ("bucket", lambda: validate_bucket_name(values["bucket"], "bucket")),
        ("prefix", lambda: _check_prefix(values)),
        ("forecasts", lambda: _check_forecasts(values)),
        ("format", lambda: _check_format(values)),
        ("wait_timeout", lambda: validate_integer(values["wait_timeout"], "wait_timeout", 1)),
    ]
    if values["provision"]:
        checks.append(("kms_alias", lambda: values["kms_alias"] == "" or validate_kms_alias(values["kms_alias"])))
        checks.append(("role_name", lambda: values["role_name"] == "" or validate_role_name(values["role_name"])))
    else:
        checks.append(("role_arn", lambda: parse_role_arn(_given_destination(values, "role_arn"))))
        checks.append(("kms_key_arn", lambda: _check_key(values)))
    return checks


def check_variables(raw):
    """``{"inputs", "problems"}`` of the playbook's variables ``raw``: the values read and defaulted, and a list of
    problems, each naming its variable and the rule it breaks (empty when every variable is valid)."""
    values, unread = read_variables(raw)
    problems = [f"{VARIABLE_PREFIX}{name}: {problem}" for name, problem in unread.items()]
    failed = set(unread)
    for name, check in _rule_checks(values):
        if name in failed or (name == "prefix" and "bucket" in failed) or (name == "forecasts" and "region" in failed):
            continue
        try:
            check()
        except ParameterError as error:
            problems.append(f"{VARIABLE_PREFIX}{name}: {error.rule}")
            failed.add(name)
    return {"inputs": values, "problems": problems}


def job_name(forecast_name, export_format=DEFAULT_FORMAT, s3_path=None, kms_key_arn=None):
    """The name forecast_export_job derives for the export of ``forecast_name`` in ``export_format`` to ``s3_path``
    encrypted with ``kms_key_arn`` (the first attempt's name; later attempts add ``_<n>``)."""
    if not s3_path:
        raise ParameterError("s3_path", "is required: the derived job name depends on the export's S3 path")
    parse_s3_path(s3_path)
    return derive_job_name(forecast_name, export_format, s3_path, kms_key_arn or None)


# The report of a run

EXPORTED = "exported"
WOULD_EXPORT = "would_export"
ALREADY_EXPORTED = "already_exported"
SKIPPED = "skipped"
FAILED = "failed"
NOT_FOUND = "not_found"
NOT_STARTED = "not_started"
OUTCOMES = (EXPORTED, WOULD_EXPORT, ALREADY_EXPORTED, SKIPPED, FAILED, NOT_FOUND, NOT_STARTED)
PROBLEMS = (FAILED, NOT_FOUND, NOT_STARTED)


def _selected(entry, forecast):
    return entry in (forecast.get("forecast_arn"), forecast.get("forecast_name"))


def _export_outcome(result, check_mode):
    """``(outcome, reason)`` of one forecast_export_job result (a loop item's, ``failed`` as the module said)."""
    job = result.get("forecast_export_job") or {}
    verification = result.get("verification") or {}
    if result.get("failed"):
        return FAILED, result.get("msg") or "the export task failed without a message"
    notes = "; ".join(result.get("notes") or [])
    if check_mode:
        return (WOULD_EXPORT, result.get("msg") or "") if result.get("changed") else (ALREADY_EXPORTED, notes)
    if job.get("status") != "ACTIVE" or not verification.get("verified"):
        return FAILED, result.get("msg") or f"the job is {job.get('status')}, not ACTIVE and verified"
    return (EXPORTED if result.get("changed") else ALREADY_EXPORTED), notes


def _entry(forecast, outcome, reason, result=None):
    result = result or {}
    verification = result.get("verification") or {}
    return {
        "forecast_name": forecast.get("forecast_name"),
        "forecast_arn": forecast.get("forecast_arn"),
        "status": forecast.get("status"),
        "outcome": outcome,
        "reason": reason,
        "job_name": result.get("name"),
        "parts": verification.get("parts"),
        "bytes": verification.get("bytes"),
        "s3_path": (result.get("invocation") or {}).get("module_args", {}).get("s3_path"),
    }


def _by_forecast(results):
    found = {}
    for result in results or []:
        arn = (result.get("item") or {}).get("forecast_arn")
        # A loop skipped by its condition registers each item as skipped: it did not run.
        if arn and not result.get("skipped"):
            found[arn] = result
    return found


def _outcomes(forecasts, selection, results, check_mode, started=None):
    by_arn = _by_forecast(results)
    # A job started by an earlier task of this run (then waited for) was exported by this run.
    for arn, result in _by_forecast(started).items():
        if result.get("changed") and arn in by_arn:
            by_arn[arn] = dict(by_arn[arn], changed=True)
    entries = []
    for forecast in sorted(forecasts or [], key=lambda f: f.get("forecast_name") or ""):
        if forecast.get("status") != "ACTIVE":
            why = f"status {forecast.get('status')}; only ACTIVE forecasts can be exported"
            if forecast.get("message"):
                why += f" ({forecast['message']})"
            entries.append(_entry(forecast, SKIPPED, why))
        elif forecast.get("forecast_arn") in by_arn:
            result = by_arn[forecast["forecast_arn"]]
            entries.append(_entry(forecast, *_export_outcome(result, check_mode), result=result))
        elif check_mode:
            entries.append(_entry(forecast, WOULD_EXPORT, "once the destination exists"))
        else:
            entries.append(_entry(forecast, NOT_STARTED, "the run stopped at its first export"))
    for entry in selection or []:
        if not any(_selected(entry, forecast) for forecast in forecasts or []):
            name = entry.rsplit("/", 1)[-1]
            arn = entry if entry.startswith("arn:") else None
            entries.append(_entry({"forecast_name": name, "forecast_arn": arn}, NOT_FOUND, "no such forecast"))
    return entries


def report(forecasts, selection=None, results=None, check_mode=False, started=None):
    """What a run of export_forecasts did for each forecast, and the counts.

    ``forecasts``: what forecast_info listed (the selection applied); ``selection``: the ARNs and names asked for
    (empty: every forecast); ``results``: forecast_export_job's loop results, one per exported forecast (``item`` is
    the forecast); ``started``: the results of a task that started some of them without waiting (those it changed
    were exported by this run). Returns ``{"forecasts": [...], "counts": {outcome: n, "total": n}, "problems": n, "done": bool}``:
    each forecast's ``outcome`` (one of :data:`OUTCOMES`) and ``reason``; ``done`` when every ACTIVE forecast is
    exported and checked (or would be, in check mode) and nothing was a problem."""
    entries = _outcomes(forecasts, selection, results, check_mode, started)
    counts = {outcome: sum(1 for entry in entries if entry["outcome"] == outcome) for outcome in OUTCOMES}
    counts["total"] = len(entries)
    problems = sum(counts[outcome] for outcome in PROBLEMS)
    return {"forecasts": entries, "counts": counts, "problems": problems, "done": problems == 0}
