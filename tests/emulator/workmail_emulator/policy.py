"""A small IAM policy evaluator: enough to decide what the export service may do with a role and a key.

It evaluates identity policies, trust policies and key policies: Effect Allow/Deny, Action/NotAction,
Resource/NotResource, Principal (for trust and key policies), wildcards ``*`` and ``?``, and the condition
operators StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
StringNotLike, ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Bool and Null, each with the ``IfExists`` suffix.
An explicit Deny wins over an Allow; no Allow means an implicit deny. Policy variables, ForAllValues /
ForAnyValue and numeric or date operators are not evaluated (a statement using them does not match).
"""

import json
import re
import urllib.parse
from functools import lru_cache

ALLOW = "Allow"
DENY = "Deny"
IMPLICIT_DENY = "ImplicitDeny"


class PolicyParseError(ValueError):
    """A policy document that is not JSON or not shaped like an IAM policy."""


def load_document(document):
    """Parse a policy document given as a dict or as (possibly URL-encoded) JSON text."""
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise PolicyParseError("policy document must be JSON text")
    text = document.strip()
    if not text.startswith("{"):
        text = urllib.parse.unquote(text)
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise PolicyParseError(f"policy document is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise PolicyParseError("policy document must be a JSON object")
    return parsed


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def statements(document):
    """The statements of a parsed policy document, always as a list of dicts."""
    return [stmt for stmt in _as_list(document.get("Statement")) if isinstance(stmt, dict)]


@lru_cache(maxsize=2048)
def _wildcard_regex(pattern, ignore_case):
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern, value, ignore_case=False):
    """Match ``value`` against an IAM pattern where ``*`` is any run of characters and ``?`` one character."""
    if not isinstance(pattern, str) or not isinstance(value, str):
        return False
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern, value):
    """ArnLike/ArnEquals: compare the six colon-separated ARN components, each with wildcards."""
    if not isinstance(pattern, str) or not isinstance(value, str):
        return False
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(wildcard_match(p, v) for p, v in zip(pattern_parts, value_parts))


def action_matches(patterns, action):
    """IAM actions are case-insensitive."""
    return any(wildcard_match(pattern, action, ignore_case=True) for pattern in _as_list(patterns))


def resource_matches(patterns, resource):
    """Resources are case-sensitive; an ARN pattern matches component by component."""
    for pattern in _as_list(patterns):
        if pattern == "*" or wildcard_match(pattern, resource) or arn_match(pattern, resource):
            return True
    return False


def _string_values(value):
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(value)]


_OPERATORS = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (wildcard_match, False),
    "StringNotLike": (wildcard_match, True),
    "ArnEquals": (arn_match, False),
    "ArnLike": (arn_match, False),
    "ArnNotEquals": (arn_match, True),
    "ArnNotLike": (arn_match, True),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
}


def _context_lookup(context, key):
    # Condition keys are case-insensitive.
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            return value
    return None


def condition_block_matches(conditions, context):
    """True when every operator and every key of a statement's Condition block is satisfied."""
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return False
    for operator, tests in conditions.items():
        if not isinstance(tests, dict):
            return False
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        for key, expected in tests.items():
            actual = _context_lookup(context, key)
            if base == "Null":
                want_missing = _string_values(expected)[0].lower() == "true" if _as_list(expected) else True
                if (actual is None) != want_missing:
                    return False
                continue
            if base not in _OPERATORS:
                return False
            compare, negated = _OPERATORS[base]
            if actual is None:
                if if_exists or negated:
                    continue
                return False
            actual_values = _string_values(actual)
            patterns = _string_values(expected)
            hit = any(compare(pattern, value) for pattern in patterns for value in actual_values)
            if hit == negated:
                return False
    return True


def principal_matches(principal, service=None, aws_principals=()):
    """Does a statement's Principal name the given service principal or one of the AWS principals?"""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if service is not None:
        for candidate in _as_list(principal.get("Service")):
            if isinstance(candidate, str) and candidate.lower() == service.lower():
                return True
    for candidate in _as_list(principal.get("AWS")):
        if candidate == "*" or candidate in aws_principals:
            return True
    return False


def _statement_applies(stmt, action, resource, context, check_resource):
    if "Action" in stmt:
        if not action_matches(stmt["Action"], action):
            return False
    elif "NotAction" in stmt:
        if action_matches(stmt["NotAction"], action):
            return False
    else:
        return False
    if check_resource:
        if "Resource" in stmt:
            if not resource_matches(stmt["Resource"], resource):
                return False
        elif "NotResource" in stmt:
            if resource_matches(stmt["NotResource"], resource):
                return False
        else:
            return False
    return condition_block_matches(stmt.get("Condition"), context)


def evaluate(documents, action, resource, context=None, principal_filter=None, check_resource=True):
    """Evaluate ``action`` on ``resource`` against policy documents; return ALLOW, DENY or IMPLICIT_DENY.

    ``principal_filter`` (a callable taking a statement's Principal) restricts the statements to those whose
    principal matches, for resource-based policies (trust policies, key policies).
    """
    context = context or {}
    decision = IMPLICIT_DENY
    for document in documents:
        for stmt in statements(document):
            if principal_filter is not None and not principal_filter(stmt.get("Principal")):
                continue
            if not _statement_applies(stmt, action, resource, context, check_resource):
                continue
            effect = stmt.get("Effect")
            if effect == DENY:
                return DENY
            if effect == ALLOW:
                decision = ALLOW
    return decision


def trust_allows(document, service, action, context):
    """Does a role's trust policy let ``service`` perform ``action`` (sts:AssumeRole) under ``context``?"""
    return (
        evaluate(
            [document],
            action,
            "*",
            context,
            principal_filter=lambda principal: principal_matches(principal, service=service),
            check_resource=False,
        )
        == ALLOW
    )


def trust_names_service(document, service):
    """Is there any Allow statement in the trust policy naming ``service`` (whatever its conditions)?"""
    for stmt in statements(document):
        if stmt.get("Effect") == ALLOW and principal_matches(stmt.get("Principal"), service=service):
            return True
    return False
