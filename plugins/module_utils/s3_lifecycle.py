# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One rule of an S3 bucket's lifecycle configuration, for the s3_expiration_rule module.

S3 has no API for a single lifecycle rule: ``GetBucketLifecycleConfiguration`` returns every rule of the bucket
and ``PutBucketLifecycleConfiguration`` replaces them all. So managing one rule is read, merge, write the whole
list back, leaving every other rule as S3 returned it.

The plain functions (:func:`desired_rule`, :func:`normalize_rule`, :func:`merge_rule`) work on S3's own
CamelCase rule documents and need neither Ansible nor botocore. :func:`get_lifecycle`, :func:`get_rules` and
:func:`put_rules` take an :class:`~s3.S3Gateway` (retries, error classes). :func:`run_expiration_rule` is what the
module calls.

Errors the module explains itself are :mod:`errors` exceptions (a missing bucket, a bad parameter); every
other S3 error propagates as the gateway's :class:`~s3.S3Error`.
"""

import copy
import datetime

from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3BucketMissing
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_bucket_name

DEFAULT_RULE_ID = "mailops-workmail-expiration"
MAX_RULE_ID_LENGTH = 255
MAX_PREFIX_BYTES = 1024

# The parts of a rule that decide what it does; everything else S3 returns (or may add) is ignored when comparing.
ACTION_KEYS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionTransitions",
    "NoncurrentVersionExpiration",
    "AbortIncompleteMultipartUpload",
)
# Integer fields S3 documents in rules; some S3 look-alikes return them as strings.
INTEGER_KEYS = (
    "Days",
    "NoncurrentDays",
    "DaysAfterInitiation",
    "NewerNoncurrentVersions",
    "ObjectSizeGreaterThan",
    "ObjectSizeLessThan",
)


class BucketNotFoundError(WorkMailError):
    """S3 answered NoSuchBucket."""

    def __init__(self, bucket):
        super().__init__(
            f"bucket: S3 bucket {bucket!r} does not exist (NoSuchBucket); create it first, for example with "
            f"amazon.aws.s3_bucket",
            bucket=bucket,
            parameter="bucket",
        )
        self.bucket = bucket


# Parameters


def _validate_days(params, name):
    value = params.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(name, f"must be a whole number of days, 1 or more, got {value!r}")


def validate_expiration_rule_params(params):
    """Validate the parameters of s3_expiration_rule before any AWS call; ParameterError names the parameter."""
    validate_bucket_name(params.get("bucket"), parameter="bucket")

    rule_id = params.get("rule_id")
    if not isinstance(rule_id, str) or not 1 <= len(rule_id) <= MAX_RULE_ID_LENGTH:
        length = len(rule_id) if isinstance(rule_id, str) else type(rule_id).__name__
        raise ParameterError("rule_id", f"must be 1 to {MAX_RULE_ID_LENGTH} characters long, got {length}")

    prefix = params.get("prefix")
    if prefix is None:
        prefix = ""
    if not isinstance(prefix, str):
        raise ParameterError("prefix", f"must be a string, got {type(prefix).__name__}")
    if len(prefix.encode("utf-8")) > MAX_PREFIX_BYTES:
        raise ParameterError(
            "prefix",
            f"must be at most {MAX_PREFIX_BYTES} bytes long in UTF-8 (the longest S3 key), "
            f"got {len(prefix.encode('utf-8'))}",
        )

    for name in ("expiration_days", "noncurrent_expiration_days", "abort_incomplete_multipart_upload_days"):
        _validate_days(params, name)

    state = params.get("state") or "present"
    if state == "present":
        if params.get("expiration_days") is None:
            raise ParameterError("expiration_days", "is required with state=present")
    elif state != "absent":
        raise ParameterError("state", f"must be present or absent, got {state!r}")
    return params


# Rule documents


def desired_rule(
    rule_id,
    prefix,
    expiration_days,
    noncurrent_expiration_days=None,
    abort_incomplete_multipart_upload_days=None,
):
    """The enabled rule that expires objects under ``prefix`` ``expiration_days`` days after they are written."""
    rule = {
        "ID": rule_id,
        "Status": "Enabled",
        "Filter": {"Prefix": prefix or ""},
        "Expiration": {"Days": int(expiration_days)},
    }
    if noncurrent_expiration_days is not None:
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent_expiration_days)}
    if abort_incomplete_multipart_upload_days is not None:
        rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort_incomplete_multipart_upload_days)}
    return rule


def _clean(value, key=None):
    """Drop None values and a false ExpiredObjectDeleteMarker (the same as none); make integer fields ints."""
    if isinstance(value, dict):
        result = {}
        for name, item in value.items():
            if item is None or (name == "ExpiredObjectDeleteMarker" and item is False):
                continue
            result[name] = _clean(item, name)
        return result
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if key in INTEGER_KEYS and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _normalize_filter(rule):
    """The rule's filter as ``{"Prefix": ...}`` whenever it is only a prefix, whichever way S3 wrote it.

    A rule may carry ``Filter: {"Prefix": p}``, ``Filter: {}`` (every object), ``Filter: {"And": {"Prefix": p}}``
    or, in the older schema, a top-level ``Prefix`` and no ``Filter``. Filters on tags or object sizes are kept
    as they are (cleaned), so they never equal a prefix-only filter.
    """
    if "Filter" not in rule or rule["Filter"] is None:
        return {"Prefix": rule.get("Prefix") or ""}
    rule_filter = _clean(rule["Filter"])
    if not rule_filter:
        return {"Prefix": ""}
    if set(rule_filter) == {"Prefix"}:
        return {"Prefix": rule_filter["Prefix"] or ""}
    conjunction = rule_filter.get("And")
    if set(rule_filter) == {"And"} and isinstance(conjunction, dict) and set(conjunction) <= {"Prefix"}:
        return {"Prefix": conjunction.get("Prefix") or ""}
    return rule_filter


def normalize_rule(rule):
    """The meaningful part of a rule, in one canonical shape, for comparing rules.

    Keeps ``ID``, ``Status``, the filter (as ``Filter``, see :func:`_normalize_filter`) and the actions
    (:data:`ACTION_KEYS`), without empty values. Anything else S3 returns or adds is left out. ``{}`` for no rule.
    """
    if not rule:
        return {}
    result = {"ID": rule.get("ID"), "Status": rule.get("Status"), "Filter": _normalize_filter(rule)}
    for key in ACTION_KEYS:
        value = _clean(rule.get(key))
        if value not in (None, {}, []):
            result[key] = value
    return result


def _uses_prefix_element(rule):
    """True for a rule in S3's older schema: a top-level ``Prefix`` and no ``Filter``."""
    return "Filter" not in rule and "Prefix" in rule


def _in_style_of(rule, others):
    """``rule`` written like the bucket's other rules.

    When every other rule uses the older top-level ``Prefix`` element, the rule does too, so the configuration
    S3 receives does not mix the two schemas. Otherwise the rule keeps its ``Filter``.
    """
    if others and all(_uses_prefix_element(other) for other in others):
        styled = {key: value for key, value in rule.items() if key != "Filter"}
        styled["Prefix"] = normalize_rule(rule)["Filter"].get("Prefix", "")
        return styled
    return rule


def merge_rule(existing_rules, rule_id, desired):
    """Put ``desired`` (or, when it is None, no rule) in place of the rule ``rule_id`` of ``existing_rules``.

    Returns ``(changed, new_rules, before, after)``: whether the configuration changes, the whole list of rules
    to write (the other rules untouched and in their order; the rule replaced where it was, or appended), and
    the rule before and after (``{}`` when there is none). An existing rule whose meaningful part
    (:func:`normalize_rule`) equals ``desired`` is kept as S3 returned it, with ``changed`` false.
    ``existing_rules`` is not modified.
    """
    existing_rules = [copy.deepcopy(rule) for rule in existing_rules or []]
    positions = [index for index, rule in enumerate(existing_rules) if rule.get("ID") == rule_id]
    before = existing_rules[positions[0]] if positions else {}
    others = [rule for rule in existing_rules if rule.get("ID") != rule_id]

    if desired is None:
        if not positions:
            return False, existing_rules, {}, {}
        return True, others, before, {}

    desired = copy.deepcopy(desired)
    desired["ID"] = rule_id
    if len(positions) == 1 and normalize_rule(before) == normalize_rule(desired):
        return False, existing_rules, before, before

    after = _in_style_of(desired, others)
    if positions:
        new_rules = []
        for index, rule in enumerate(existing_rules):
            if index == positions[0]:
                new_rules.append(after)
            elif rule.get("ID") != rule_id:
                new_rules.append(rule)
    else:
        new_rules = existing_rules + [after]
    return True, new_rules, before, after


def rule_ids(rules):
    """The IDs of ``rules``, in order."""
    return [rule.get("ID") for rule in rules]


def to_document(value):
    """``value`` with dates (an Expiration ``Date``) as ISO 8601 strings, ready for exit_json."""
    if isinstance(value, dict):
        return {key: to_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_document(item) for item in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


# S3 calls


def get_lifecycle(s3, bucket):
    """The bucket's lifecycle configuration: ``{"Rules": [...]}`` plus any top-level setting S3 returns
    (``TransitionDefaultMinimumObjectSize``); ``{"Rules": []}`` when the bucket has none. ``s3`` is an
    :class:`~s3.S3Gateway`."""
    try:
        configuration = s3.get_lifecycle(bucket) or {}
    except S3BucketMissing as error:
        raise BucketNotFoundError(bucket) from error
    configuration["Rules"] = list(configuration.get("Rules") or [])
    return configuration


def get_rules(s3, bucket):
    """The bucket's lifecycle rules, ``[]`` when it has no lifecycle configuration."""
    return get_lifecycle(s3, bucket)["Rules"]


def put_rules(s3, bucket, rules, transition_default_minimum_object_size=None):
    """Write ``rules`` as the bucket's whole lifecycle configuration; no rules deletes the configuration.

    ``transition_default_minimum_object_size``, when given, is sent along so a PUT does not reset the bucket's
    setting to S3's default.
    """
    try:
        if rules:
            s3.put_lifecycle(bucket, {"Rules": list(rules)}, transition_default_minimum_object_size)
        else:
            s3.delete_lifecycle(bucket)
    except S3BucketMissing as error:
        raise BucketNotFoundError(bucket) from error


def run_expiration_rule(s3, params, check_mode=False):
    """Make the rule ``params["rule_id"]`` of ``params["bucket"]`` what ``params`` say; the module's result.

    ``params`` are the module's (validated) parameters. Returns ``{"changed", "rule", "rules", "diff"}``:
    the rule after the task in S3's shape (``{}`` when it does not exist), the IDs of every rule of the bucket
    afterwards, and the diff (``before``/``after``). In check mode nothing is written.
    """
    bucket = params["bucket"]
    rule_id = params.get("rule_id") or DEFAULT_RULE_ID
    desired = None
    if (params.get("state") or "present") == "present":
        desired = desired_rule(
            rule_id,
            params.get("prefix") or "",
            params["expiration_days"],
            params.get("noncurrent_expiration_days"),
            params.get("abort_incomplete_multipart_upload_days"),
        )

    configuration = get_lifecycle(s3, bucket)
    changed, new_rules, before, after = merge_rule(configuration["Rules"], rule_id, desired)
    if changed and not check_mode:
        put_rules(s3, bucket, new_rules, configuration.get("TransitionDefaultMinimumObjectSize"))

    return {
        "changed": changed,
        "rule": to_document(after),
        "rules": rule_ids(new_rules),
        "diff": {"before": to_document(before), "after": to_document(after)},
    }
