# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The export_prerequisites role's decisions: its inputs read and checked, the names of what it makes, and, given
what exists in AWS, what a run may change.

An export destination is a bucket and a prefix. Its names derive from them, so two destinations of one account never
share a role or a lifecycle rule by default: the role ``WorkMailMailboxExport-<id>`` with the inline policy
``workmail-mailbox-export-<id>`` and the lifecycle rule ``mailops-workmail-expiration-<id>``, where ``<id>`` is the
first 8 hexadecimal digits of the SHA-256 of ``<bucket>/<prefix>``. The KMS key belongs to the bucket (its default
encryption names one key), ``alias/workmail-export/<bucket>`` with dots as underscores; the role's policy lets it
use the key for objects under its own prefix only.

What a role serves is read from its inline policies (one per destination) and its trust policy (the organizations
it trusts). A run never takes a destination or an organization away from a role: it adds its own only when the
role serves nothing else, or when ``share_role`` asks for it. Each bucket carries one tag per destination using
it, so removing one destination never removes the bucket or the key another one still uses.

The role serves one service, ``export_prerequisites_service``: Amazon WorkMail's mailbox export (the default) or
Amazon Forecast's export jobs. A Forecast destination gets the role ``ForecastExport-<id>`` with the inline policy
``forecast-export-<id>`` (``<id>`` from ``forecast:<bucket>/<prefix>``, so a Forecast destination never shares names
with a WorkMail one), trusted by ``forecast.amazonaws.com`` for this account's Forecast resources of the region. A
role made for one service is never given to the other.
"""

import hashlib
import re

from ansible_collections.mailops.workmail.plugins.module_utils.common import FORECAST_REGIONS
from ansible_collections.mailops.workmail.plugins.module_utils.common import WORKMAIL_REGIONS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.validation import boolean_value
from ansible_collections.mailops.workmail.plugins.module_utils.validation import integer_value
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_bucket_name
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_integer
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_kms_alias
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_id
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_provisioned_prefix
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_region
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_role_name

INPUT_PREFIX = "export_prerequisites_"
TEXT = "text"
BOOLEAN = "boolean"
INTEGER = "integer"
RAW = "raw"
# The role's inputs (without export_prerequisites_) and how each is read; their defaults are in defaults/main.yml.
INPUTS = {
    "organization_id": TEXT,
    "region": TEXT,
    "bucket": TEXT,
    "prefix": TEXT,
    "kms_alias": TEXT,
    "role_name": TEXT,
    "tags": RAW,
    "all_organizations": BOOLEAN,
    "share_role": BOOLEAN,
    "versioning": BOOLEAN,
    "lifecycle_days": INTEGER,
    "state": TEXT,
    "force": BOOLEAN,
    "service": TEXT,
}

WORKMAIL = "workmail"
FORECAST = "forecast"
# What differs between the services a destination is for: the names, the service principal and its regions.
SERVICES = {
    WORKMAIL: {
        "title": "Amazon WorkMail",
        "role_stem": "WorkMailMailboxExport-",
        "policy_stem": "workmail-mailbox-export",
        "principal": "export.workmail.amazonaws.com",
        "sid": "AllowWorkMailExport",
        "regions": WORKMAIL_REGIONS,
        "default_prefix": "workmail-exports/",
    },
    FORECAST: {
        "title": "Amazon Forecast",
        "role_stem": "ForecastExport-",
        "policy_stem": "forecast-export",
        "principal": "forecast.amazonaws.com",
        "sid": "AllowForecastExport",
        "regions": FORECAST_REGIONS,
        "default_prefix": "forecast-exports/",
    },
}

ROLE_NAME_STEM = "WorkMailMailboxExport-"
POLICY_NAME_STEM = "workmail-mailbox-export"
ALIAS_STEM = "alias/workmail-export/"
LIFECYCLE_RULE_STEM = "mailops-workmail-expiration-"
DESTINATION_TAG_STEM = "mailops-workmail-destination-"
BUCKET_TAG = "mailops-workmail-bucket"
MANAGED_BY_TAG = "managed-by"
MANAGED_BY = "mailops.workmail"
EXPORT_SERVICE = SERVICES[WORKMAIL]["principal"]
EVERY_ORGANIZATION = "*"
OBJECTS_ARN_RE = re.compile(r"^arn:aws:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.*)\*\Z", re.DOTALL)
ORGANIZATION_ARN_RE = re.compile(r"^arn:aws:workmail:([a-z0-9-]+):[0-9]{12}:organization/(m-[0-9a-f]{32})\Z")
FORECAST_SOURCE_RE = re.compile(r"^arn:aws:forecast:([a-z0-9-]+):([0-9]{12}):\*\Z")
# S3 and IAM tag values may hold letters, digits, spaces and + - = . _ : / @ only.
TAG_VALUE_UNSAFE_RE = re.compile(r"[^A-Za-z0-9 +\-=._:/@]")


def _shown(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read(kind, value):
    if kind == BOOLEAN:
        return boolean_value(value)
    if kind == INTEGER:
        return integer_value(value)
    if kind == TEXT and value is None:
        return ""
    return value


def read_inputs(given):
    """``(values, problems)``: the inputs of ``given`` (``{"export_prerequisites_<name>": value}``) read, booleans and
    integers as AWX surveys send them too; ``problems`` maps the inputs that could not be read to what is wrong."""
    values = {}
    problems = {}
    for name, kind in INPUTS.items():
        try:
            values[name] = _read(kind, given.get(INPUT_PREFIX + name))
        except ValueError as error:
            values[name] = None
            problems[name] = str(error)
    return values, problems


def _required(name, value):
    if value == "":
        raise ParameterError(INPUT_PREFIX + name, "is required")


def service_of(values):
    """The service the destination is for (``workmail`` when not given); None when it is none of them."""
    service = values.get("service") or WORKMAIL
    return service if service in SERVICES else None


def _check_service(values):
    if service_of(values) is None:
        raise ParameterError(INPUT_PREFIX + "service", f"must be one of {', '.join(SERVICES)}")


def _check_region(values):
    _required("region", values["region"])
    if service_of(values) != FORECAST:
        validate_region(values["region"], INPUT_PREFIX + "region")
    elif values["region"] not in FORECAST_REGIONS:
        raise ParameterError(
            INPUT_PREFIX + "region",
            f"must be a region where Amazon Forecast exists ({', '.join(FORECAST_REGIONS)})",
        )


def _check_organization_id(values):
    if service_of(values) == FORECAST:
        if values["organization_id"] != "" or values["all_organizations"]:
            raise ParameterError(
                INPUT_PREFIX + "organization_id",
                "is for export_prerequisites_service=workmail only (as is export_prerequisites_all_organizations); "
                "leave both unset for a Forecast destination",
            )
        return
    if values["organization_id"] == "" and values["all_organizations"] is not True:
        raise ParameterError(
            INPUT_PREFIX + "organization_id", "is required unless export_prerequisites_all_organizations is true"
        )
    if values["organization_id"] != "":
        validate_organization_id(values["organization_id"], INPUT_PREFIX + "organization_id")


def _rule_checks(values):
    """``(input, check)`` pairs; each check raises ParameterError when the input breaks a rule."""
    full = {name: INPUT_PREFIX + name for name in INPUTS}
    return [
        ("organization_id", lambda: _check_organization_id(values)),
        ("region", lambda: _check_region(values)),
        ("bucket", lambda: validate_bucket_name(values["bucket"], full["bucket"])),
        ("prefix", lambda: validate_provisioned_prefix(values["prefix"], full["prefix"])),
        ("kms_alias", lambda: values["kms_alias"] == "" or validate_kms_alias(values["kms_alias"], full["kms_alias"])),
        ("role_name", lambda: values["role_name"] == "" or validate_role_name(values["role_name"], full["role_name"])),
        ("lifecycle_days", lambda: validate_integer(values["lifecycle_days"], full["lifecycle_days"], minimum=0)),
        ("service", lambda: _check_service(values)),
    ]


def _problem(name, rule, value):
    """``export_prerequisites_<name>: <rule>``, with the value given when the rule does not show it already."""
    if _shown(value) not in rule and value not in ("", None):
        rule = f"{rule} (value {_shown(value)})"
    return f"{INPUT_PREFIX}{name}: {rule}"


def destination_id(bucket, prefix, service=WORKMAIL):
    """8 hexadecimal digits that tell the destination ``<bucket>/<prefix>`` from the others of the account: of
    ``<bucket>/<prefix>`` for WorkMail, of ``<service>:<bucket>/<prefix>`` for another service."""
    text = f"{bucket}/{prefix}" if service == WORKMAIL else f"{service}:{bucket}/{prefix}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def destination_names(values):
    """The names of what the role makes for the destination of ``values`` (inputs read and valid): the given role
    name and alias, or the derived ones."""
    bucket, prefix = values["bucket"], values["prefix"]
    service = service_of(values)
    ident = destination_id(bucket, prefix, service)
    # The key belongs to the bucket, whichever services write into it.
    alias = values["kms_alias"] or ALIAS_STEM + bucket.replace(".", "_")
    return {
        "service": service,
        "destination": f"s3://{bucket}/{prefix}",
        "destination_id": ident,
        "role_name": values["role_name"] or SERVICES[service]["role_stem"] + ident,
        "policy_name": f"{SERVICES[service]['policy_stem']}-{ident}",
        "kms_alias": alias if alias.startswith("alias/") else "alias/" + alias,
        "lifecycle_rule_id": LIFECYCLE_RULE_STEM + ident,
        "destination_tag": DESTINATION_TAG_STEM + ident,
        "destination_tag_value": TAG_VALUE_UNSAFE_RE.sub("_", prefix)[:256],
    }


def check_inputs(given):
    """``{"inputs", "names", "problems"}``: the inputs read, the names derived from them (``{}`` while an input is
    wrong), and one problem per wrong input, in the order of :data:`INPUTS`, naming it, its value and the rule it
    breaks."""
    values, unread = read_inputs(given)
    if values["prefix"] == "" and service_of(values) is not None:
        # Left empty, the prefix is the service's: workmail-exports/ or forecast-exports/.
        values["prefix"] = SERVICES[service_of(values)]["default_prefix"]
    found = {name: _problem(name, rule, given.get(INPUT_PREFIX + name)) for name, rule in unread.items()}
    for name, check in _rule_checks(values):
        if name in unread or (name == "organization_id" and "all_organizations" in unread):
            continue
        if name in ("organization_id", "region", "prefix") and service_of(values) is None:
            continue
        try:
            check()
        except ParameterError as error:
            found[name] = _problem(name, error.rule, values[name])
    problems = [found[name] for name in INPUTS if name in found]
    names = destination_names(values) if not problems else {}
    return {"inputs": values, "names": names, "problems": problems}


# What exists: the role's trust and inline policies, the key's and the bucket's tags


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statements(document):
    if not isinstance(document, dict):
        return []
    return [statement for statement in _as_list(document.get("Statement")) if isinstance(statement, dict)]


def _source_arns(condition):
    """The values of ``aws:SourceArn`` in a statement's condition block, or None when it has none."""
    found = None
    for tests in (condition or {}).values():
        for key, value in (tests if isinstance(tests, dict) else {}).items():
            if key.lower() == "aws:sourcearn":
                found = (found or set()) | set(_as_list(value))
    return found


def trusted_organizations(document, principal=EXPORT_SERVICE):
    """The organization ARNs a trust policy lets WorkMail's export service (or the service ``principal``) act for:
    ``{"*"}`` when a statement trusts it without an ``aws:SourceArn`` condition (every organization of the account);
    an empty set when no statement trusts it."""
    trusted = set()
    for statement in _statements(document):
        named = statement.get("Principal")
        services = _as_list(named.get("Service")) if isinstance(named, dict) else []
        if statement.get("Effect") != "Allow" or principal not in services:
            continue
        arns = _source_arns(statement.get("Condition"))
        if arns is None:
            return {EVERY_ORGANIZATION}
        trusted |= arns
    return trusted


def organization_arn(region, account, organization_id):
    return f"arn:aws:workmail:{region}:{account}:organization/{organization_id}"


def forecast_source_arn(region, account):
    """What the Forecast role trusts: Amazon Forecast acting for this account's resources in ``region``."""
    return f"arn:aws:forecast:{region}:{account}:*"


def trust_policy(account, organizations, service=WORKMAIL):
    """The export role's trust policy: WorkMail's export service (or Forecast), for this account and, unless
    ``organizations`` holds ``"*"``, for these source ARNs (organizations, or Forecast's resources of a region): the
    confused-deputy conditions of the WorkMail Administrator Guide and the Forecast Developer Guide."""
    condition = {"StringEquals": {"aws:SourceAccount": account}}
    if EVERY_ORGANIZATION not in organizations:
        arns = sorted(organizations)
        condition["ArnLike"] = {"aws:SourceArn": arns[0] if len(arns) == 1 else arns}
    statement = {
        "Sid": SERVICES[service]["sid"],
        "Effect": "Allow",
        "Principal": {"Service": SERVICES[service]["principal"]},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def served_destinations(document):
    """The ``(bucket, prefix)`` pairs a policy lets the role write exports into: s3:PutObject allowed on
    ``arn:aws:s3:::<bucket>/<prefix>*``."""
    served = set()
    for statement in _statements(document):
        actions = [action.lower() for action in _as_list(statement.get("Action")) if isinstance(action, str)]
        if statement.get("Effect") != "Allow" or "s3:putobject" not in actions:
            continue
        for resource in _as_list(statement.get("Resource")):
            match = OBJECTS_ARN_RE.match(resource) if isinstance(resource, str) else None
            if match:
                served.add(match.groups())
    return served


def destination_policies(policies, stem=POLICY_NAME_STEM):
    """``{policy name: destinations}`` of the role's inline policies this role made for destinations (named
    ``workmail-mailbox-export...``, or ``stem...``, granting exports somewhere); other inline policies are not
    listed."""
    found = {}
    for policy in policies or []:
        name = policy.get("policy_name") or ""
        served = served_destinations(policy.get("policy_document"))
        if name.startswith(stem) and served:
            found[name] = served
    return found


def _shown_destination(destination):
    return f"s3://{destination[0]}/{destination[1]}"


def _shown_organizations(arns):
    if EVERY_ORGANIZATION in arns:
        return "every organization of the account"
    shown = []
    for arn in sorted(arns):
        match = ORGANIZATION_ARN_RE.match(arn)
        shown.append(f"{match.group(2)} in {match.group(1)}" if match else arn)
    regions = [FORECAST_SOURCE_RE.match(arn) for arn in sorted(arns)]
    if regions and all(regions):
        return "Amazon Forecast in " + ", ".join(f"{m.group(1)} (account {m.group(2)})" for m in regions)
    return "organization " + ", ".join(shown) if len(shown) == 1 else "organizations " + ", ".join(shown)


def _covers(organizations, others):
    """Do ``organizations`` include every one of ``others`` (``"*"``: every organization)?"""
    return EVERY_ORGANIZATION in organizations or others <= organizations


def _union(organizations, others):
    joined = organizations | others
    return {EVERY_ORGANIZATION} if EVERY_ORGANIZATION in joined else joined


# What a run may do


def _organizations_wanted(values, account):
    if service_of(values) == FORECAST:
        return {forecast_source_arn(values["region"], account)}
    if values["all_organizations"]:
        return {EVERY_ORGANIZATION}
    return {organization_arn(values["region"], account, values["organization_id"])}


def _organization_problems(values, organization):
    """The organization must be in export_prerequisites_region: WorkMail writes only into a bucket of its region,
    with a key of its region. Removal goes on for an organization that no longer exists anywhere."""
    if not organization or organization.get("in_region"):
        return []
    elsewhere = [region for region in organization.get("elsewhere") or [] if region != values["region"]]
    org = values["organization_id"]
    if elsewhere:
        return [
            f"{INPUT_PREFIX}region: organization {org} is in {' and '.join(elsewhere)}, not in {values['region']} "
            "(the bucket and the key must be in the organization's region); nothing was changed"
        ]
    if values["state"] == "absent":
        return []
    return [
        f"{INPUT_PREFIX}organization_id: organization {org} does not exist in any region where WorkMail exists "
        f"({', '.join(WORKMAIL_REGIONS)}); nothing was changed"
    ]


def _key_problems(values, names, key):
    made_for = ((key or {}).get("tags") or {}).get(BUCKET_TAG, values["bucket"])
    if made_for == values["bucket"]:
        return []
    return [
        f"{INPUT_PREFIX}kms_alias: key {names['kms_alias']} was made for bucket {made_for} (its tag {BUCKET_TAG}), "
        f"not {values['bucket']}; nothing was changed. Give each bucket its own key (export_prerequisites_kms_alias; "
        "left empty, it is derived from the bucket)"
    ]


def _bucket_plan(values, names, bucket):
    """Where the bucket is, whether it keeps versions, and (for removal) which other destinations still use it."""
    if not bucket:
        return {"bucket_exists": False, "bucket_versioning": False, "bucket_used_by": [], "remove_bucket": False}, []
    # s3_bucket_info (transform_location) says us-east-1 for a null LocationConstraint; without the fact (no
    # s3:GetBucketLocation) the region is unknown and not checked. EU is eu-west-1's old name.
    location = (bucket.get("bucket_location") or {}).get("LocationConstraint")
    location = "eu-west-1" if location == "EU" else location
    problems = []
    if location and location != values["region"]:
        why = (
            "WorkMail writes only into a bucket of the organization's region"
            if service_of(values) == WORKMAIL
            else "the bucket and the key must be in the region of the forecasts"
        )
        problems.append(
            f"{INPUT_PREFIX}bucket: bucket {values['bucket']} is in {location}, not in {values['region']} ({why}); "
            "nothing was changed"
        )
    tags = bucket.get("bucket_tagging") or {}
    used_by = sorted(
        f"s3://{values['bucket']}/{value}"
        for key, value in tags.items()
        if key.startswith(DESTINATION_TAG_STEM) and key != names["destination_tag"]
    )
    plan = {
        "bucket_exists": True,
        "bucket_versioning": (bucket.get("bucket_versioning") or {}).get("Status") == "Enabled",
        "bucket_used_by": used_by,
        "remove_bucket": not used_by,
        "bucket_tags_after": {key: value for key, value in tags.items() if key != names["destination_tag"]},
    }
    return plan, problems


def _role_facts(values, found):
    """What the existing role serves: its destination policies, the destinations and the organizations."""
    service = SERVICES[service_of(values)]
    policies = destination_policies(found.get("role_policies"), service["policy_stem"])
    served = set().union(*policies.values()) if policies else set()
    this = (values["bucket"], values["prefix"])
    trusted = trusted_organizations((found.get("role") or {}).get("assume_role_policy_document"), service["principal"])
    return policies, served, served - {this}, trusted


def _other_service_problems(values, names, found):
    """A role that another service's exports use (its trust policy names that service, or it holds that service's
    destination policies) is never given to this one: the run would take it away from them."""
    role = found.get("role")
    if not role:
        return []
    this = service_of(values)
    inline = [policy.get("policy_name") or "" for policy in found.get("role_policies") or []]
    trust = role.get("assume_role_policy_document")
    used_by = [
        service["title"]
        for key, service in SERVICES.items()
        if key != this
        and (
            trusted_organizations(trust, service["principal"])
            or any(n.startswith(service["policy_stem"]) for n in inline)
        )
    ]
    if not used_by:
        return []
    return [
        f"{INPUT_PREFIX}role_name: role {names['role_name']} is used by {' and '.join(used_by)} exports, not "
        f"{SERVICES[this]['title']}'s; nothing was changed. Give this destination its own role "
        "(export_prerequisites_role_name; left empty, each service, bucket and prefix gets its own)"
    ]


def _take_away_problem(names, others, trusted, wanted):
    held = []
    if others:
        held.append("serves " + ", ".join(_shown_destination(other) for other in sorted(others)))
    if not _covers(wanted, trusted):
        extra = trusted if EVERY_ORGANIZATION in trusted else trusted - wanted
        held.append("trusts " + _shown_organizations(extra))
    return (
        f"{INPUT_PREFIX}role_name: role {names['role_name']} already {' and '.join(held)}, which this run for "
        f"{names['destination']} and {_shown_organizations(wanted)} would take away from it; nothing was changed. Set "
        f"export_prerequisites_share_role=true to let the role serve {names['destination']} as well, or give this "
        "destination its own role (export_prerequisites_role_name; left empty, each bucket and prefix gets its own)"
    )


def _sharing_notes(names, this_served, others, trusted, wanted):
    """What a run that keeps the role's other destinations and organizations tells the operator."""
    role = names["role_name"]
    shown = ", ".join(_shown_destination(other) for other in sorted(others))
    notes = []
    if not this_served and others:
        notes.append(
            f"role {role} now serves {names['destination']} as well as {shown} (export_prerequisites_share_role)"
        )
    elif others:
        notes.append(f"role {role} also serves {shown}, which this run keeps")
    if not _covers(trusted, wanted):
        notes.append(
            f"role {role} now trusts {_shown_organizations(_union(trusted, wanted))} (export_prerequisites_share_role)"
        )
    elif not _covers(wanted, trusted):
        notes.append(f"role {role} keeps trusting {_shown_organizations(trusted)}")
    return notes


def _role_present(values, names, found, wanted):
    """The trust, the inline policies to keep and to remove, and what to say, for provisioning."""
    plan = {"organizations": sorted(wanted), "keep_policies": [], "remove_policies": [], "role_also_serves": []}
    if not found.get("role"):
        return plan, [], []
    policies, served, others, trusted = _role_facts(values, found)
    this = (values["bucket"], values["prefix"])
    notes = []
    # A role that serves no destination yet has nothing a run could take away from it.
    if others or (served and not _covers(wanted, trusted)):
        if not (values["share_role"] or (this in served and _covers(trusted, wanted))):
            return plan, [_take_away_problem(names, others, trusted, wanted)], []
        plan["organizations"] = sorted(_union(trusted, wanted))
        plan["keep_policies"] = sorted(name for name, destinations in policies.items() if destinations - {this})
        plan["role_also_serves"] = [_shown_destination(other) for other in sorted(others)]
        notes = _sharing_notes(names, this in served, others, trusted, wanted)
    kept = set(plan["keep_policies"]) | {names["policy_name"]}
    inline = [policy.get("policy_name") for policy in found.get("role_policies") or []]
    plan["remove_policies"] = sorted(name for name in inline if name not in kept)
    return plan, [], notes


def _role_absent(values, names, found):
    """The inline policies to remove and whether the role goes, for removal."""
    plan = {"remove_policies": [], "remove_role": False}
    role = found.get("role")
    if not role:
        return plan, [], []
    policies, served, others, _trusted = _role_facts(values, found)
    this = (values["bucket"], values["prefix"])
    shown = ", ".join(_shown_destination(other) for other in sorted(others))
    if this not in served and others:
        problem = (
            f"{INPUT_PREFIX}role_name: role {names['role_name']} serves {shown}, not {names['destination']}; nothing was "
            "removed. Check export_prerequisites_bucket, export_prerequisites_prefix and export_prerequisites_role_name"
        )
        return plan, [problem], []
    plan["remove_policies"] = sorted(name for name, destinations in policies.items() if destinations <= {this})
    if others:
        return plan, [], [f"role {names['role_name']} is kept: it still serves {shown}"]
    # A role that serves nothing: a leftover of this role's, or someone else's role that happens to have the name.
    plan["remove_role"] = this in served or (role.get("tags") or {}).get(MANAGED_BY_TAG) == MANAGED_BY
    if plan["remove_role"]:
        return plan, [], []
    return (
        plan,
        [],
        [f"role {names['role_name']} is kept: it serves no export destination and mailops.workmail did not make it"],
    )


def plan(given, found=None):
    """The role's inputs checked (:func:`check_inputs`) and, with ``found`` (what exists in AWS: ``account``,
    ``organization``, ``role``, ``role_policies``, ``key``, ``bucket``), what this run may do, in ``problems``
    what stops it before it changes anything, and in ``notes`` what it tells the operator."""
    checked = check_inputs(given)
    if checked["problems"] or found is None:
        return checked
    values, names = checked["inputs"], checked["names"]
    problems = _organization_problems(values, found.get("organization"))
    if problems:
        # What exists was read in the wrong region: say that alone.
        checked["problems"] = problems
        return checked
    problems = _key_problems(values, names, found.get("key")) + _other_service_problems(values, names, found)
    bucket, bucket_problems = _bucket_plan(values, names, found.get("bucket"))
    problems += bucket_problems
    if values["state"] == "absent":
        role, role_problems, notes = _role_absent(values, names, found)
        if bucket["bucket_used_by"]:
            users = bucket["bucket_used_by"]
            notes.append(
                f"bucket {values['bucket']} and key {names['kms_alias']} are kept: {', '.join(users)} still "
                f"{'uses' if len(users) == 1 else 'use'} them; the exports under {values['prefix']} stay in the bucket"
            )
    else:
        role, role_problems, notes = _role_present(
            values, names, found, _organizations_wanted(values, found["account"])
        )
        role["trust_policy"] = trust_policy(found["account"], set(role["organizations"]), service_of(values))
    checked.update(bucket, **role)
    checked["problems"] = problems + role_problems
    checked["notes"] = notes
    return checked
