# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input validation, done before any AWS call.

Every validator raises :class:`ParameterError` naming the parameter and the rule it breaks. The rules follow
the WorkMail API (botocore's model checks only minimum lengths; the service checks patterns and maximums, after
the request has been sent) and, for bucket names, S3's own naming rules, which are stricter than the API pattern.
"""

import re

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_STATES
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAX_RUNNING_JOBS_PER_ORGANIZATION
from ansible_collections.mailops.workmail.plugins.module_utils.common import MIN_POLL_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.common import ORGANIZATION_EXPORT_DEFAULTS
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_CHOICES
from ansible_collections.mailops.workmail.plugins.module_utils.common import WORKMAIL_REGIONS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import MARKER_PREFIX
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import MARKER_SUFFIX
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import MAX_DESCRIPTION_LENGTH
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import description_budget

ORGANIZATION_ID_RE = re.compile(r"^m-[0-9a-f]{32}\Z")
JOB_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,63}\Z")
ENTITY_RE = re.compile(r"^[a-zA-Z0-9._%+@-]{1,256}\Z")
CLIENT_TOKEN_RE = re.compile(r"^[\x21-\x7e]{1,128}\Z")
S3_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,1023}\Z")
S3_BUCKET_API_RE = re.compile(r"^[A-Za-z0-9.-]{1,63}\Z")
ACCOUNT_RE = re.compile(r"^[0-9]{12}\Z")
ROLE_RESOURCE_RE = re.compile(r"^role/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}\Z")
KMS_KEY_ID_RE = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})\Z"
)
INTEGER_TEXT_RE = re.compile(r"^[+-]?[0-9]+\Z")
CAMPAIGN_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
IPV4_RE = re.compile(r"^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\Z")
ARN_RE = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)\Z", re.DOTALL)

BUCKET_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

ROLE_ARN_EXAMPLE = "arn:aws:iam::123456789012:role/workmail-export"
KMS_ARN_EXAMPLE = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_ARN_HINT = "pass the key ARN, for example kms_keys[0].key_arn as returned by amazon.aws.kms_key_info"

# What StartMailboxExportJob needs: required with state=present (the module's required_if), and with state=absent
# when neither job_id nor client_token is given (the client token is derived from them).
START_PARAMETERS = ("entity", "role_arn", "kms_key_arn", "s3_bucket", "s3_prefix")


def _shown(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _require_str(value, parameter):
    if not isinstance(value, str):
        raise ParameterError(parameter, f"must be a string, got {type(value).__name__}")
    return value


def validate_organization_id(value, parameter="organization_id"):
    """``m-`` followed by 32 lowercase hexadecimal digits (34 characters)."""
    _require_str(value, parameter)
    if not ORGANIZATION_ID_RE.match(value):
        raise ParameterError(
            parameter,
            f"must match ^m-[0-9a-f]{{32}}$ (m- followed by 32 lowercase hexadecimal digits), got {_shown(value)}",
        )
    return value


def validate_region(region, parameter="region"):
    """The region must be set and be one of the regions where WorkMail exists."""
    if not region:
        raise ParameterError(
            parameter,
            f"is required (set region or AWS_REGION); Amazon WorkMail exists in {', '.join(WORKMAIL_REGIONS)}",
        )
    if region not in WORKMAIL_REGIONS:
        raise ParameterError(
            parameter,
            f"must be a region where Amazon WorkMail exists ({', '.join(WORKMAIL_REGIONS)}), got {_shown(region)}",
        )
    return region


def _split_arn(value, parameter, what, example, hint=None):
    _require_str(value, parameter)
    if not 20 <= len(value) <= 2048:
        raise ParameterError(parameter, f"must be 20 to 2048 characters long, got {len(value)}")
    match = ARN_RE.match(value)
    if not match:
        rule = f"must be {what} like {example}, got {_shown(value)}"
        if hint:
            rule += f"; {hint}"
        raise ParameterError(parameter, rule)
    return match.groups()


def _check_partition_service_account(parameter, partition, service, account, want_service):
    if partition != "aws":
        raise ParameterError(
            parameter,
            f"ARN partition must be 'aws' (Amazon WorkMail exists only in the aws partition), got {_shown(partition)}",
        )
    if service != want_service:
        raise ParameterError(parameter, f"ARN service must be '{want_service}', got {_shown(service)}")
    if not ACCOUNT_RE.match(account):
        raise ParameterError(parameter, f"ARN account must be a 12-digit AWS account id, got {_shown(account)}")


def parse_role_arn(value, parameter="role_arn"):
    """An IAM role ARN ``arn:aws:iam::<12 digits>:role/<path/>name``; returns its parts as a dict."""
    partition, service, region, account, resource = _split_arn(value, parameter, "an IAM role ARN", ROLE_ARN_EXAMPLE)
    _check_partition_service_account(parameter, partition, service, account, "iam")
    if region:
        raise ParameterError(
            parameter,
            f"an IAM role ARN has an empty region field (arn:aws:iam::<account>:role/<name>), got {_shown(region)}",
        )
    if not ROLE_RESOURCE_RE.match(resource):
        raise ParameterError(
            parameter,
            f"ARN resource must be role/<name> or role/<path>/<name> (name: 1 to 64 of A-Z a-z 0-9 _+=,.@-), "
            f"got {_shown(resource)}",
        )
    name = resource.rsplit("/", 1)[1]
    return {"account": account, "name": name, "resource": resource}


def parse_kms_key_arn(value, region=None, parameter="kms_key_arn"):
    """A KMS key ARN ``arn:aws:kms:<region>:<12 digits>:key/<key id>``; returns its parts as a dict.

    Alias ARNs, key ids and alias names are refused: the export needs the key itself. With ``region``, the key's
    region must be that region.
    """
    partition, service, key_region, account, resource = _split_arn(
        value, parameter, "a KMS key ARN", KMS_ARN_EXAMPLE, hint=KMS_ARN_HINT
    )
    _check_partition_service_account(parameter, partition, service, account, "kms")
    if resource.startswith("alias/"):
        raise ParameterError(parameter, f"is an alias ARN, which the export does not accept; {KMS_ARN_HINT}")
    if not resource.startswith("key/") or not KMS_KEY_ID_RE.match(resource[4:]):
        raise ParameterError(
            parameter,
            f"ARN resource must be key/<key id> (a UUID or a multi-Region mrk- id), got {_shown(resource)}",
        )
    if key_region not in WORKMAIL_REGIONS:
        raise ParameterError(
            parameter,
            f"key region must be a region where Amazon WorkMail exists ({', '.join(WORKMAIL_REGIONS)}), "
            f"got {_shown(key_region)}",
        )
    if region is not None and key_region != region:
        raise ParameterError(
            parameter,
            f"key region {key_region} must be the organization's region {region} "
            f"(the organization, the KMS key and the S3 bucket must be in the same region)",
        )
    return {"region": key_region, "account": account, "key_id": resource[4:]}


def validate_bucket_name(value, parameter="s3_bucket"):
    """S3 general purpose bucket naming rules (stricter than the WorkMail API pattern)."""
    _require_str(value, parameter)
    if not 3 <= len(value) <= 63:
        raise ParameterError(parameter, f"an S3 bucket name must be 3 to 63 characters long, got {len(value)}")
    if not re.match(r"^[a-z0-9.-]+\Z", value):
        raise ParameterError(
            parameter,
            f"an S3 bucket name may contain only lowercase letters, digits, dots and hyphens, got {_shown(value)}",
        )
    if not (value[0].isalnum() and value[-1].isalnum()):
        raise ParameterError(
            parameter, f"an S3 bucket name must begin and end with a letter or digit, got {_shown(value)}"
        )
    if ".." in value:
        raise ParameterError(parameter, f"an S3 bucket name must not contain two adjacent dots, got {_shown(value)}")
    if IPV4_RE.match(value):
        raise ParameterError(parameter, f"an S3 bucket name must not look like an IP address, got {_shown(value)}")
    for prefix in BUCKET_FORBIDDEN_PREFIXES:
        if value.startswith(prefix):
            raise ParameterError(parameter, f"an S3 bucket name must not begin with {prefix!r}, got {_shown(value)}")
    for suffix in BUCKET_FORBIDDEN_SUFFIXES:
        if value.endswith(suffix):
            raise ParameterError(parameter, f"an S3 bucket name must not end with {suffix!r}, got {_shown(value)}")
    return value


def validate_bucket_filter(value, parameter="s3_bucket"):
    """A bucket name used as a filter: the WorkMail API pattern only (it may name an older bucket)."""
    _require_str(value, parameter)
    if not S3_BUCKET_API_RE.match(value):
        raise ParameterError(
            parameter, f"must be 1 to 63 of A-Z a-z 0-9 . - (the WorkMail API pattern), got {_shown(value)}"
        )
    return value


def validate_prefix(value, parameter="s3_prefix"):
    """1 to 1023 characters of ``A-Z a-z 0-9 ! _ . * ' ( ) / -``, not starting with ``/`` (S3 keys would start
    with an empty folder: ``bucket//exports/...``)."""
    _require_str(value, parameter)
    if not 1 <= len(value) <= 1023:
        raise ParameterError(parameter, f"must be 1 to 1023 characters long, got {len(value)}")
    if not S3_PREFIX_RE.match(value):
        raise ParameterError(
            parameter,
            f"may contain only A-Z a-z 0-9 and ! _ . * ' ( ) / - (the WorkMail API pattern), got {_shown(value)}",
        )
    if value.startswith("/"):
        raise ParameterError(
            parameter, f"must not start with / (the export keys would begin with an empty folder), got {_shown(value)}"
        )
    return value


def validate_provisioned_prefix(value, parameter="s3_prefix"):
    """A prefix the export_prerequisites role can scope the export role to: it ends with ``/`` and has no ``*``
    (the role's permissions cover ``<prefix>*``, so a ``*`` or a missing ``/`` would widen them)."""
    validate_prefix(value, parameter)
    if not value.endswith("/") or "*" in value:
        raise ParameterError(
            parameter,
            "must end with / and contain no * when the destination is provisioned (the export role may write under "
            f"<prefix>* only), got {_shown(value)}",
        )
    return value


def validate_client_token(value, parameter="client_token"):
    """1 to 128 printable ASCII characters without spaces (``[\\x21-\\x7e]+``)."""
    _require_str(value, parameter)
    if not 1 <= len(value) <= 128:
        raise ParameterError(parameter, f"must be 1 to 128 characters long, got {len(value)}")
    if not CLIENT_TOKEN_RE.match(value):
        raise ParameterError(
            parameter,
            f"may contain only printable ASCII characters without spaces ([\\x21-\\x7e]+), got {_shown(value)}",
        )
    return value


def validate_description(value, client_token=None, parameter="description"):
    """The description must leave room for the client-token marker within AWS's 1023 characters."""
    if value is None:
        return value
    _require_str(value, parameter)
    budget = description_budget(client_token)
    if len(value) > budget:
        marker_length = MAX_DESCRIPTION_LENGTH - budget
        token_text = "the client token" if client_token else "a derived client token"
        raise ParameterError(
            parameter,
            f"may be at most {budget} characters: AWS allows {MAX_DESCRIPTION_LENGTH} and the marker "
            f"' {MARKER_PREFIX}<token>{MARKER_SUFFIX}' recording {token_text} takes {marker_length}; got {len(value)}",
        )
    return value


def validate_job_id(value, parameter="job_id"):
    """1 to 63 of ``A-Z a-z 0-9 -``."""
    _require_str(value, parameter)
    if not JOB_ID_RE.match(value):
        raise ParameterError(parameter, f"must be 1 to 63 of A-Z a-z 0-9 and -, got {_shown(value)}")
    return value


def validate_entity(value, parameter="entity"):
    """A user or resource id, email or name: 1 to 256 of ``a-z A-Z 0-9 . _ % + @ -``."""
    _require_str(value, parameter)
    if not 1 <= len(value) <= 256:
        raise ParameterError(parameter, f"must be 1 to 256 characters long, got {len(value)}")
    if not ENTITY_RE.match(value):
        raise ParameterError(
            parameter,
            f"must be a user or resource id, email address or name made of a-z A-Z 0-9 . _ % + @ -, got {_shown(value)}",
        )
    return value


def validate_wait_timeout(value, parameter="wait_timeout"):
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ParameterError(parameter, f"must be a number of seconds greater than 0, got {_shown(value)}")
    return value


def validate_states(values, parameter="state"):
    """Job states to filter on: each one of RUNNING, COMPLETED, FAILED, CANCELLED."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    for value in values:
        if value not in JOB_STATES:
            raise ParameterError(parameter, f"each state must be one of {', '.join(JOB_STATES)}, got {_shown(value)}")
    return list(values)


def _require_start_parameters_without_job(params):
    """With state=absent and neither job_id nor client_token, the token is derived from the start parameters."""
    if params.get("job_id") is not None or params.get("client_token") is not None:
        return
    for name in START_PARAMETERS:
        if params.get(name) is None:
            raise ParameterError(
                name,
                "is required with state=absent when neither job_id nor client_token is given "
                "(the client token is derived from the start parameters)",
            )


def validate_export_params(params, region):
    """Validate the parameters of workmail_mailbox_export (state present or absent) before any AWS call.

    The module's ``required_if`` has already made the START_PARAMETERS required with state=present, and one of
    job_id, client_token and entity with state=absent; this adds the rules ``required_if`` cannot express.
    """
    state = params.get("state") or "present"
    validate_region(region)
    validate_organization_id(params.get("organization_id"))
    if params.get("entity") is not None:
        validate_entity(params["entity"])
    if params.get("role_arn") is not None:
        parse_role_arn(params["role_arn"])
    if params.get("kms_key_arn") is not None:
        parse_kms_key_arn(params["kms_key_arn"], region=region)
    if params.get("s3_bucket") is not None:
        validate_bucket_name(params["s3_bucket"])
    if params.get("s3_prefix") is not None:
        validate_prefix(params["s3_prefix"])
    if params.get("client_token") is not None:
        validate_client_token(params["client_token"])
    validate_description(params.get("description"), params.get("client_token"))
    if params.get("job_id") is not None:
        validate_job_id(params["job_id"])
    if params.get("wait_timeout") is not None:
        validate_wait_timeout(params["wait_timeout"])

    if state == "present":
        if params.get("job_id") is not None:
            raise ParameterError(
                "job_id", "is only used with state=absent; with state=present the job is identified by its client token"
            )
    elif state == "absent":
        _require_start_parameters_without_job(params)
    else:
        raise ParameterError("state", f"must be present or absent, got {_shown(state)}")
    return params


def validate_info_params(params, region):
    """Validate the parameters of workmail_mailbox_export_info before any AWS call."""
    validate_region(region)
    validate_organization_id(params.get("organization_id"))
    if params.get("job_id") is not None:
        validate_job_id(params["job_id"])
    if params.get("entity") is not None:
        validate_entity(params["entity"])
    if params.get("client_token") is not None:
        validate_client_token(params["client_token"])
    if params.get("s3_bucket") is not None:
        validate_bucket_filter(params["s3_bucket"])
    validate_states(params.get("job_states"), "job_states")
    return params


# The organization export (workmail_organization_export)


def validate_campaign(campaign, parameter="campaign"):
    """``campaign`` itself when it is a valid campaign name: 1 to 64 of ``A-Z a-z 0-9 . _ -``."""
    if not isinstance(campaign, str) or not CAMPAIGN_RE.match(campaign):
        raise ParameterError(
            parameter, f"must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', got {campaign!r}"
        )
    return campaign


def validate_integer(value, parameter, minimum=1, maximum=None):
    """An integer (not a boolean, not text) from ``minimum`` to ``maximum`` (no upper bound when None)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum else f"of at least {minimum}"
        raise ParameterError(parameter, f"must be an integer {bounds}, got {_shown(value)}")
    return value


def integer_value(value):
    """An integer given as one or as text of one (``"10"``, ``"-5"``: what templates and AWX surveys send);
    ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and INTEGER_TEXT_RE.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"must be an integer, got {value!r}")


def validate_max_concurrent_jobs(value, parameter="max_concurrent_jobs"):
    """1 to 10: AWS runs at most 10 export jobs per organization."""
    return validate_integer(value, parameter, 1, MAX_RUNNING_JOBS_PER_ORGANIZATION)


def validate_deadline(value, parameter="deadline"):
    """The deadline as an aware UTC datetime, from ISO 8601 text (a date alone means its midnight, no zone means
    UTC)."""
    try:
        moment = to_datetime(_require_str(value, parameter))
    except ValueError:
        moment = None
    if moment is None:
        raise ParameterError(
            parameter, f"must be an ISO 8601 date or time such as 2027-03-31T00:00:00Z, got {_shown(value)}"
        )
    return moment


def validate_verify(value, parameter="verify"):
    """One of the verify levels, or ``none``."""
    if value not in VERIFY_CHOICES:
        raise ParameterError(parameter, f"must be one of {', '.join(VERIFY_CHOICES)}, got {_shown(value)}")
    return value


def validate_selection(include, exclude, mailboxes):
    """``mailboxes`` names exactly the mailboxes to export: not with include or exclude, and not empty."""
    if mailboxes is None:
        return
    if include or exclude:
        raise ParameterError("mailboxes", "cannot be combined with include or exclude")
    if not mailboxes:
        raise ParameterError("mailboxes", "must name at least one mailbox")


def validate_organization_export_params(params, region):
    """The parameters of workmail_organization_export, validated before any AWS call (ParameterError otherwise),
    with the defaults of ``common.ORGANIZATION_EXPORT_DEFAULTS`` filled in where a value is missing or None."""
    params = dict(ORGANIZATION_EXPORT_DEFAULTS, **{name: value for name, value in params.items() if value is not None})
    validate_region(region)
    validate_organization_id(params.get("organization_id"))
    validate_campaign(params.get("campaign"))
    parse_role_arn(params.get("role_arn"))
    parse_kms_key_arn(params.get("kms_key_arn"), region=region)
    validate_bucket_name(params.get("s3_bucket"))
    validate_prefix(params.get("s3_prefix"))
    token = campaign_client_token(params["organization_id"], "x", params["campaign"], 1)
    validate_description(params.get("description"), token)
    validate_max_concurrent_jobs(params.get("max_concurrent_jobs"))
    validate_integer(params.get("max_attempts"), "max_attempts")
    validate_verify(params.get("verify"))
    validate_deadline(params.get("deadline"))
    validate_integer(params.get("deadline_margin_days"), "deadline_margin_days", 0)
    validate_integer(params.get("report_interval"), "report_interval", 0)
    validate_integer(params.get("lock_ttl"), "lock_ttl")
    validate_integer(params.get("wait_timeout"), "wait_timeout")
    validate_integer(params.get("poll_interval"), "poll_interval", MIN_POLL_INTERVAL)
    if params.get("lock_owner") is not None and not str(params["lock_owner"]).strip():
        raise ParameterError("lock_owner", "must not be empty")
    validate_selection(params.get("include"), params.get("exclude"), params.get("mailboxes"))
    return params


def validate_campaign_info_params(params, region):
    """The parameters of workmail_organization_export_info, validated before any AWS call (ParameterError
    otherwise): ``campaign``, ``s3_bucket`` and ``s3_prefix`` by the campaign's rules, ``organization_id`` when
    given."""
    validate_region(region)
    validate_campaign(params.get("campaign"))
    validate_bucket_name(params.get("s3_bucket"))
    validate_prefix(params.get("s3_prefix"))
    if params.get("organization_id") is not None:
        validate_organization_id(params["organization_id"])
    for name in ("deadline", "deadline_margin_days"):
        if params.get(name) is None:
            params = dict(params, **{name: ORGANIZATION_EXPORT_DEFAULTS[name]})
    validate_deadline(params["deadline"])
    validate_integer(params["deadline_margin_days"], "deadline_margin_days", 0)
    return params


# Names and values the export_prerequisites role reads (its filter export_prerequisites_plan)

TRUE_WORDS = ("true", "yes")
FALSE_WORDS = ("false", "no")
IAM_ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}\Z")
KMS_ALIAS_RE = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}\Z")


def boolean_value(value):
    """A boolean given as one or as the text ``true``, ``false``, ``yes`` or ``no`` in any case (what templates and
    AWX surveys send); ValueError otherwise, so that no other text can turn a guard on or off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"must be true or false (or the text true, false, yes, no), got {value!r}")


def validate_role_name(value, parameter="role_name"):
    """An IAM role name: 1 to 64 of ``A-Z a-z 0-9 _ + = , . @ -``."""
    if not isinstance(value, str) or not IAM_ROLE_NAME_RE.match(value):
        raise ParameterError(
            parameter, f"must be an IAM role name, 1 to 64 of A-Z a-z 0-9 and _ + = , . @ -, got {_shown(value)}"
        )
    return value


def validate_kms_alias(value, parameter="kms_alias"):
    """A customer KMS alias, ``alias/`` followed by 1 to 250 of ``A-Z a-z 0-9 / _ -`` (``alias/`` may be left out),
    not one of the ``alias/aws/`` aliases AWS reserves for its own keys. Returns it with ``alias/``."""
    alias = value if not isinstance(value, str) or value.startswith("alias/") else "alias/" + value
    if not isinstance(alias, str) or not KMS_ALIAS_RE.match(alias):
        raise ParameterError(
            parameter,
            f"must be a KMS alias, alias/ and 1 to 250 of A-Z a-z 0-9 / _ - (alias/ may be left out), got {_shown(value)}",
        )
    if alias.startswith("alias/aws/"):
        raise ParameterError(
            parameter, f"must not be an alias/aws/ alias (AWS keeps those for its keys), got {_shown(value)}"
        )
    return alias
