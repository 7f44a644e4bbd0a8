# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The variables of the export_organization playbook: read (survey text included), defaulted and checked.

AWX surveys send text: lists as comma- or newline-separated text, numbers and booleans as text. An empty text
answer counts as not given. Booleans are parsed explicitly (true/false/yes/no, any case), so no other string can
turn a guard off. Every rule is the collection's own (:mod:`validation`); a problem names the playbook variable.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.common import MIN_POLL_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.common import ORGANIZATION_EXPORT_DEFAULTS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.validation import boolean_value
from ansible_collections.mailops.workmail.plugins.module_utils.validation import integer_value
from ansible_collections.mailops.workmail.plugins.module_utils.validation import parse_kms_key_arn
from ansible_collections.mailops.workmail.plugins.module_utils.validation import parse_role_arn
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_bucket_name
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_campaign
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_deadline
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_integer
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_kms_alias
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_max_concurrent_jobs
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_id
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_prefix
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_provisioned_prefix
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_region
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_role_name
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_selection
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_verify

VARIABLE_PREFIX = "workmail_"
TEXT = "text"
BOOLEAN = "boolean"
INTEGER = "integer"
LIST = "list"

# Playbook variable (without workmail_): (kind, default). The defaults of the destination's names are those of the
# export_prerequisites role (a unit test compares them): empty, the role derives the key's alias from the bucket and
# the role's name from the bucket and the prefix.
VARIABLES = {
    "organization_id": (TEXT, None),
    "region": (TEXT, None),
    "bucket": (TEXT, None),
    "campaign": (TEXT, None),
    "prefix": (TEXT, "workmail-exports/"),
    "provision": (BOOLEAN, True),
    "kms_alias": (TEXT, ""),
    "role_name": (TEXT, ""),
    "role_arn": (TEXT, None),
    "kms_key_arn": (TEXT, None),
    "wait": (BOOLEAN, ORGANIZATION_EXPORT_DEFAULTS["wait"]),
    "wait_timeout": (INTEGER, ORGANIZATION_EXPORT_DEFAULTS["wait_timeout"]),
    "poll_interval": (INTEGER, ORGANIZATION_EXPORT_DEFAULTS["poll_interval"]),
    "max_concurrent_jobs": (INTEGER, ORGANIZATION_EXPORT_DEFAULTS["max_concurrent_jobs"]),
    "max_attempts": (INTEGER, ORGANIZATION_EXPORT_DEFAULTS["max_attempts"]),
    "verify": (TEXT, ORGANIZATION_EXPORT_DEFAULTS["verify"]),
    "deadline": (TEXT, ORGANIZATION_EXPORT_DEFAULTS["deadline"]),
    "deadline_margin_days": (INTEGER, ORGANIZATION_EXPORT_DEFAULTS["deadline_margin_days"]),
    "local_manifest": (TEXT, None),
    "report_interval": (INTEGER, ORGANIZATION_EXPORT_DEFAULTS["report_interval"]),
    "report_local_dir": (TEXT, None),
    "fail_on_problems": (BOOLEAN, True),
    "include_disabled": (BOOLEAN, ORGANIZATION_EXPORT_DEFAULTS["include_disabled"]),
    "skip_system_users": (BOOLEAN, ORGANIZATION_EXPORT_DEFAULTS["skip_system_users"]),
    "include": (LIST, []),
    "exclude": (LIST, []),
    "mailboxes": (LIST, []),
}
REQUIRED = ("organization_id", "region", "bucket", "campaign")
# Module parameters named otherwise in the playbook.
_MODULE_NAMES = {"s3_bucket": "bucket", "s3_prefix": "prefix"}


def _text(value):
    return value.strip() if isinstance(value, str) else str(value).strip()


def _list(value):
    if isinstance(value, str):
        value = value.replace("\r", "\n").replace("\n", ",").split(",")
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must be a list, or text with one entry per line or separated by commas, got {value!r}")
    return [_text(item) for item in value if _text(item)]


_READERS = {TEXT: _text, BOOLEAN: boolean_value, INTEGER: integer_value, LIST: _list}


def _given(value):
    return value is not None and not (isinstance(value, str) and not value.strip())


def read_variables(raw):
    """``(values, problems)``: every variable of :data:`VARIABLES` read from ``raw`` (``{"workmail_<name>": value}``,
    missing or None or empty text meaning not given), its default where it is not given; ``problems`` maps the
    names of the variables that could not be read to what is wrong."""
    return read_playbook_variables(raw, VARIABLE_PREFIX, VARIABLES, REQUIRED)


def read_playbook_variables(raw, prefix, variables, required):
    """:func:`read_variables` for a collection playbook's own ``variables`` (``{name: (kind, default)}``, a kind of
    :data:`TEXT`, :data:`BOOLEAN`, :data:`INTEGER` or :data:`LIST`), named ``<prefix><name>`` in ``raw``, of which
    ``required`` must be given."""
    values = {}
    problems = {}
    for name, (kind, default) in variables.items():
        value = raw.get(prefix + name)
        if not _given(value):
            values[name] = default
            if name in required:
                problems[name] = "is required"
            continue
        try:
            values[name] = _READERS[kind](value)
        except ValueError as error:
            values[name] = default
            problems[name] = str(error)
    return values, problems


def _rule_checks(values):
    """``(variable, check)`` pairs: each check raises ParameterError when the variable breaks a rule."""
    region = values["region"]
    checks = [
        ("organization_id", lambda: validate_organization_id(values["organization_id"])),
        ("region", lambda: validate_region(region)),
        ("bucket", lambda: validate_bucket_name(values["bucket"])),
        ("campaign", lambda: validate_campaign(values["campaign"])),
        ("prefix", lambda: validate_prefix(values["prefix"])),
        ("max_concurrent_jobs", lambda: validate_max_concurrent_jobs(values["max_concurrent_jobs"])),
        ("max_attempts", lambda: validate_integer(values["max_attempts"], "max_attempts")),
        ("wait_timeout", lambda: validate_integer(values["wait_timeout"], "wait_timeout")),
        ("poll_interval", lambda: validate_integer(values["poll_interval"], "poll_interval", MIN_POLL_INTERVAL)),
        ("verify", lambda: validate_verify(values["verify"])),
        ("deadline", lambda: validate_deadline(values["deadline"])),
        ("deadline_margin_days", lambda: validate_integer(values["deadline_margin_days"], "deadline_margin_days", 0)),
        ("report_interval", lambda: validate_integer(values["report_interval"], "report_interval", 0)),
        ("mailboxes", lambda: validate_selection(values["include"], values["exclude"], values["mailboxes"] or None)),
    ]
    if values["provision"]:
        checks.append(("prefix", lambda: validate_provisioned_prefix(values["prefix"])))
        checks.append(("kms_alias", lambda: values["kms_alias"] == "" or validate_kms_alias(values["kms_alias"])))
        checks.append(("role_name", lambda: values["role_name"] == "" or validate_role_name(values["role_name"])))
    else:
        checks.append(("role_arn", lambda: parse_role_arn(_given_destination(values, "role_arn"))))
        checks.append(("kms_key_arn", lambda: parse_kms_key_arn(_given_destination(values, "kms_key_arn"), region)))
    return checks


def _given_destination(values, name):
    if values[name] is None:
        raise ParameterError(name, "is required when workmail_provision is false (the existing destination's ARN)")
    return values[name]


def check_variables(raw):
    """``{"inputs", "problems"}`` of the playbook's variables ``raw``: the values read and defaulted, and a list of
    problems, each naming its variable and the rule it breaks (empty when every variable is valid)."""
    values, unread = read_variables(raw)
    problems = [f"{VARIABLE_PREFIX}{name}: {problem}" for name, problem in unread.items()]
    failed = set(unread)
    for name, check in _rule_checks(values):
        if name in failed:
            continue
        try:
            check()
        except ParameterError as error:
            problems.append(f"{VARIABLE_PREFIX}{_MODULE_NAMES.get(error.parameter, error.parameter)}: {error.rule}")
            failed.add(name)
    return {"inputs": values, "problems": problems}


# Several organizations in one run (an inventory of organizations: one host each)

PER_ORGANIZATION_PREFIX_HINT = "left unset, an organization of the inventory gets workmail-exports/<organization id>/"


def _destination(inputs):
    return (inputs.get("bucket"), (inputs.get("prefix") or "").rstrip("/"))


def _clashes_with(inputs, other_host, other):
    """The problems of ``inputs`` against the inputs of the organization of one other host of the run."""
    problems = []
    if other.get("organization_id") == inputs.get("organization_id"):
        problems.append(
            f"{VARIABLE_PREFIX}organization_id: {inputs['organization_id']} is also the organization of host "
            f"{other_host}; an organization runs once per run (give {VARIABLE_PREFIX}organization_id for a single "
            "organization only, not with an inventory of organizations)"
        )
    elif _destination(other) == _destination(inputs):
        problems.append(
            f"{VARIABLE_PREFIX}prefix: s3://{inputs['bucket']}/{inputs.get('prefix') or ''} is also the destination of "
            f"host {other_host} (organization {other.get('organization_id')}); two organizations cannot share a bucket "
            f"and prefix (one campaign manifest and one export role per destination): give each its own "
            f"{VARIABLE_PREFIX}prefix ({PER_ORGANIZATION_PREFIX_HINT})"
        )
    if other.get("bucket") == inputs.get("bucket") and other.get("region") != inputs.get("region"):
        problems.append(
            f"{VARIABLE_PREFIX}bucket: {inputs['bucket']} is also given for host {other_host} in {other.get('region')}; "
            f"a bucket is in one region and an export must be in its organization's region ({inputs.get('region')}): "
            "give each region its own bucket (for example with the inventory's compose, from "
            "workmail_organization.region)"
        )
    return problems


def check_run(inputs, host, run_inputs):
    """The problems of one organization's checked variables ``inputs`` (host ``host``) against the other
    organizations of the same run, ``run_inputs`` (``{host: inputs}``; inputs that are not a dict are left out): the
    same organization twice, two organizations sharing a bucket and prefix, one bucket given for two regions."""
    if not isinstance(inputs, dict):
        return []
    problems = []
    for other_host, other in sorted((run_inputs or {}).items()):
        if other_host != host and isinstance(other, dict):
            problems.extend(_clashes_with(inputs, other_host, other))
    return problems
