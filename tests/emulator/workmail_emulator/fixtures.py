"""Organizations, users, resources and groups from a YAML fixture or an admin request.

Shape (every id optional; absent ids are derived deterministically from the alias and the names)::

    organizations:
      - id: m-0123456789abcdef0123456789abcdef
        alias: example
        region: us-east-1
        state: Active
        users:     [{name: alice, email: alice@example.com, size_mb: 120, state: ENABLED, role: USER}]
        resources: [{name: room1, email: room1@example.com, type: ROOM, size_mb: 5}]
        groups:    [{name: staff, email: staff@example.com}]
    dialects:                  # optional: switches of dialects.py, e.g.
      s3_path: s3_uri
    forecasts:                 # optional: Amazon Forecast forecasts (see normalise_forecasts)
      - {name: demand_daily, dataset_group: retail, predictor: retail_auto, items: 25, horizon: 14}
"""

import hashlib
import os
import re
import uuid

import yaml

from . import WORKMAIL_REGIONS
from .dialects import DialectError
from .dialects import checked

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "default.yml")
DEFAULT_QUOTA_MB = 51200

_ID_NAMESPACE = uuid.UUID("6f2c1d1e-6a53-5b8e-9b52-8f0f2f8a5d11")
_ORG_ID = re.compile(r"^m-[0-9a-f]{32}$")
_ALIAS = re.compile(r"^(?!d-)([\da-zA-Z]+)([-][\da-zA-Z]+)*$")
_USER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^S-1-[0-9-]+$")
_RESOURCE_ID = re.compile(r"^r-[0-9a-f]{32}$")
_NAME = re.compile(r"^[\w\-.]+(@[a-zA-Z0-9.\-]+\.[a-zA-Z0-9-]{2,})?$", re.ASCII)
_EMAIL = re.compile(r"^[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9.-]+\.[a-zA-Z-]{2,}$")

_ORG_KEYS = {"id", "alias", "region", "state", "default_mail_domain", "users", "resources", "groups"}
_USER_KEYS = {
    "id",
    "name",
    "email",
    "display_name",
    "first_name",
    "last_name",
    "state",
    "role",
    "size_mb",
    "quota_mb",
    "mailbox",
    "hidden",
}
_RESOURCE_KEYS = {"id", "name", "email", "type", "state", "size_mb", "quota_mb", "mailbox", "description", "hidden"}
_GROUP_KEYS = {"id", "name", "email", "state"}
_STATES = ("ENABLED", "DISABLED", "DELETED")
_ROLES = ("USER", "RESOURCE", "SYSTEM_USER", "REMOTE_USER")
_RESOURCE_TYPES = ("ROOM", "EQUIPMENT")


class FixtureError(ValueError):
    """The fixture does not have the documented shape."""


def organization_id_for(alias):
    """Deterministic organization id: ``m-`` and 32 hex digits derived from the alias."""
    return "m-" + hashlib.sha256(f"organization/{alias}".encode("utf-8")).hexdigest()[:32]


def user_id_for(org_id, name):
    """Deterministic user id (a UUID) within an organization."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{org_id}/user/{name.lower()}"))


def group_id_for(org_id, name):
    """Deterministic group id (a UUID) within an organization."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{org_id}/group/{name.lower()}"))


def resource_id_for(org_id, name):
    """Deterministic resource id: ``r-`` and 32 hex digits."""
    return "r-" + hashlib.sha256(f"{org_id}/resource/{name.lower()}".encode("utf-8")).hexdigest()[:32]


def read_file(path):
    """The data of a YAML (or JSON) fixture file, not yet validated."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise FixtureError(f"fixture {path} is not valid YAML: {exc}") from exc
    return data if data is not None else {"organizations": []}


def load_file(path):
    """Read a YAML (or JSON) fixture file and return the normalised organizations."""
    return normalise(read_file(path))


def dialects_of(data):
    """The fixture's ``dialects:`` mapping, validated ({} when it has none)."""
    if not isinstance(data, dict) or data.get("dialects") is None:
        return {}
    try:
        return checked(data["dialects"])
    except DialectError as exc:
        raise FixtureError(f"dialects: {exc}") from exc


def _check_keys(kind, item, allowed):
    if not isinstance(item, dict):
        raise FixtureError(f"each {kind} must be a mapping, got {type(item).__name__}")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise FixtureError(f"{kind} {item.get('name') or item.get('alias')!r}: unknown keys {unknown}")


def _size(kind, item, key, default):
    value = item.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FixtureError(f"{kind} {item.get('name')!r}: {key} must be a number >= 0")
    return value


def _email(kind, item):
    email = item.get("email")
    if email is None:
        return None
    if not isinstance(email, str) or len(email) > 254 or not _EMAIL.match(email):
        raise FixtureError(f"{kind} {item.get('name')!r}: {email!r} is not an email address")
    return email


def _name(kind, item, max_length):
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= max_length or not _NAME.match(name):
        raise FixtureError(f"every {kind} needs a name of 1-{max_length} characters [A-Za-z0-9_.-], got {name!r}")
    return name


def _choice(kind, item, key, allowed, default):
    value = item.get(key, default)
    if value not in allowed:
        raise FixtureError(f"{kind} {item.get('name')!r}: {key} must be one of {list(allowed)}, got {value!r}")
    return value


def _has_mailbox(item, state, size):
    if "mailbox" in item:
        if not isinstance(item["mailbox"], bool):
            raise FixtureError(f"{item.get('name')!r}: mailbox must be true or false")
        return item["mailbox"]
    if state == "DELETED":
        return False
    if state == "DISABLED":
        return size is not None
    return True


def _user(org_id, item):
    _check_keys("user", item, _USER_KEYS)
    name = _name("user", item, 64)
    state = _choice("user", item, "state", _STATES, "ENABLED")
    size = _size("user", item, "size_mb", None)
    entity_id = item.get("id") or user_id_for(org_id, name)
    if not isinstance(entity_id, str) or not _USER_ID.match(entity_id):
        raise FixtureError(f"user {name!r}: id {entity_id!r} must be a UUID (or S-1-... id)")
    mailbox = _has_mailbox(item, state, size)
    return {
        "id": entity_id,
        "type": "USER",
        "name": name,
        "email": _email("user", item),
        "display_name": str(item.get("display_name", name)),
        "first_name": item.get("first_name"),
        "last_name": item.get("last_name"),
        "state": state,
        "role": _choice("user", item, "role", _ROLES, "USER"),
        "size_mb": float(size or 0) if mailbox else 0.0,
        "quota_mb": int(_size("user", item, "quota_mb", DEFAULT_QUOTA_MB)),
        "mailbox": mailbox,
        "hidden": bool(item.get("hidden", False)),
    }


def _resource(org_id, item):
    _check_keys("resource", item, _RESOURCE_KEYS)
    name = _name("resource", item, 20)
    state = _choice("resource", item, "state", _STATES, "ENABLED")
    size = _size("resource", item, "size_mb", None)
    entity_id = item.get("id") or resource_id_for(org_id, name)
    if not isinstance(entity_id, str) or not _RESOURCE_ID.match(entity_id):
        raise FixtureError(f"resource {name!r}: id {entity_id!r} must look like r- and 32 hex digits")
    description = item.get("description")
    if description is not None and not 1 <= len(str(description)) <= 64:
        raise FixtureError(f"resource {name!r}: description must have 1-64 characters")
    mailbox = _has_mailbox(item, state, size)
    return {
        "id": entity_id,
        "type": "RESOURCE",
        "name": name,
        "email": _email("resource", item),
        "display_name": name,
        "resource_type": _choice("resource", item, "type", _RESOURCE_TYPES, "ROOM"),
        "state": state,
        "size_mb": float(size or 0) if mailbox else 0.0,
        "quota_mb": int(_size("resource", item, "quota_mb", DEFAULT_QUOTA_MB)),
        "mailbox": mailbox,
        "description": None if description is None else str(description),
        "hidden": bool(item.get("hidden", False)),
    }


def _group(org_id, item):
    _check_keys("group", item, _GROUP_KEYS)
    name = _name("group", item, 256)
    entity_id = item.get("id") or group_id_for(org_id, name)
    if not isinstance(entity_id, str) or not _USER_ID.match(entity_id):
        raise FixtureError(f"group {name!r}: id {entity_id!r} must be a UUID (or S-1-... id)")
    return {
        "id": entity_id,
        "type": "GROUP",
        "name": name,
        "email": _email("group", item),
        "display_name": name,
        "state": _choice("group", item, "state", _STATES, "ENABLED"),
        "mailbox": False,
        "size_mb": 0.0,
    }


def _organization(item):
    _check_keys("organization", item, _ORG_KEYS)
    alias = item.get("alias")
    if not isinstance(alias, str) or not 1 <= len(alias) <= 62 or not _ALIAS.match(alias):
        raise FixtureError(f"every organization needs an alias (1-62 letters, digits, single dashes), got {alias!r}")
    org_id = item.get("id") or organization_id_for(alias)
    if not isinstance(org_id, str) or not _ORG_ID.match(org_id):
        raise FixtureError(f"organization {alias!r}: id {org_id!r} must match ^m-[0-9a-f]{{32}}$")
    region = item.get("region", "us-east-1")
    if region not in WORKMAIL_REGIONS:
        raise FixtureError(f"organization {alias!r}: region must be one of {list(WORKMAIL_REGIONS)}, got {region!r}")
    state = item.get("state", "Active")
    if not isinstance(state, str) or not state:
        raise FixtureError(f"organization {alias!r}: state must be a string such as Active")
    entities = []
    for key, build in (("users", _user), ("resources", _resource), ("groups", _group)):
        listed = item.get(key) or []
        if not isinstance(listed, list):
            raise FixtureError(f"organization {alias!r}: {key} must be a list")
        entities.extend(build(org_id, entry) for entry in listed)
    seen = {}
    for entity in entities:
        for label, value in (("id", entity["id"]), ("name", entity["name"].lower()), ("email", entity["email"])):
            if value is None:
                continue
            marker = (label, value.lower())
            if marker in seen:
                raise FixtureError(f"organization {alias!r}: {label} {value!r} is used twice")
            seen[marker] = True
    return {
        "id": org_id,
        "alias": alias,
        "region": region,
        "state": state,
        "default_mail_domain": item.get("default_mail_domain") or f"{alias.lower()}.awsapps.com",
        "entities": entities,
    }


def normalise(data):
    """Validate fixture data (``{"organizations": [...]}`` or a bare list) and fill in defaults and ids; a mapping
    may also hold ``dialects`` (read by ``dialects_of``)."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"organizations", "dialects", "forecasts"})
        if unknown:
            raise FixtureError(
                f"unknown top-level keys {unknown}; expected 'organizations', 'dialects' and 'forecasts'"
            )
        data = data.get("organizations") or []
    if not isinstance(data, list):
        raise FixtureError("expected a list of organizations or a mapping with an 'organizations' list")
    organizations = [_organization(item) for item in data]
    ids = [org["id"] for org in organizations]
    aliases = [org["alias"].lower() for org in organizations]
    if len(set(ids)) != len(ids) or len(set(aliases)) != len(aliases):
        raise FixtureError("organization ids and aliases must be unique")
    return organizations


# ----------------------------------------------------------------------------------------------- Amazon Forecast
FORECAST_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-west-1",
    "us-east-1",
    "us-east-2",
    "us-west-2",
)
FORECAST_STATUSES = (
    "ACTIVE",
    "CREATE_PENDING",
    "CREATE_IN_PROGRESS",
    "CREATE_FAILED",
    "CREATE_STOPPING",
    "CREATE_STOPPED",
    "DELETE_PENDING",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
)
_FORECAST_KEYS = {
    "name",
    "region",
    "status",
    "message",
    "dataset_group",
    "predictor",
    "forecast_types",
    "items",
    "horizon",
    "frequency",
    "start",
    "size_mb",
}
_FORECAST_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$")
_FORECAST_TYPE = re.compile(r"^(0?\.\d\d?|mean)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FREQUENCIES = ("H", "D", "W")
# What one exported CSV row weighs, to estimate a forecast's size when the fixture gives none.
FORECAST_BYTES_PER_ROW = 64


def _forecast_count(name, item, key, default, limit):
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise FixtureError(f"forecast {name!r}: {key} must be an integer from 1 to {limit}")
    return value


def _forecast_name(item, key, default=None):
    value = item.get(key, default)
    if not isinstance(value, str) or not _FORECAST_NAME.match(value):
        raise FixtureError(
            f"forecast {item.get('name')!r}: {key} must be 1-63 letters, digits and underscores starting with a "
            f"letter, got {value!r}"
        )
    return value


def _forecast_types(name, item):
    types = item.get("forecast_types", ["0.1", "0.5", "0.9"])
    if not isinstance(types, list) or not 1 <= len(types) <= 20:
        raise FixtureError(f"forecast {name!r}: forecast_types must be a list of 1-20 types")
    out = [str(kind) for kind in types]
    if any(not _FORECAST_TYPE.match(kind) for kind in out) or len(set(out)) != len(out):
        raise FixtureError(f"forecast {name!r}: forecast_types are distinct quantiles such as 0.1, 0.5, 0.9, or mean")
    return out


def _forecast(item):
    _check_keys("forecast", item, _FORECAST_KEYS)
    name = _forecast_name(item, "name")
    region = item.get("region", "us-east-1")
    if region not in FORECAST_REGIONS:
        raise FixtureError(f"forecast {name!r}: region must be one of {list(FORECAST_REGIONS)}, got {region!r}")
    status = _choice("forecast", item, "status", FORECAST_STATUSES, "ACTIVE")
    items = _forecast_count(name, item, "items", 10, 1000000)
    horizon = _forecast_count(name, item, "horizon", 14, 500)
    start = str(item.get("start", "2027-01-01"))
    if not _DATE.match(start):
        raise FixtureError(f"forecast {name!r}: start must be a date YYYY-MM-DD, got {start!r}")
    size = _size("forecast", item, "size_mb", None)
    message = item.get("message")
    if message is not None and not isinstance(message, str):
        raise FixtureError(f"forecast {name!r}: message must be a string")
    return {
        "name": name,
        "region": region,
        "status": status,
        "message": message,
        "dataset_group": _forecast_name(item, "dataset_group", f"{name}_dsg"),
        "predictor": _forecast_name(item, "predictor", f"{name}_predictor"),
        "forecast_types": _forecast_types(name, item),
        "items": items,
        "horizon": horizon,
        "frequency": _choice("forecast", item, "frequency", _FREQUENCIES, "D"),
        "start": start,
        "size_mb": float(size) if size is not None else items * horizon * FORECAST_BYTES_PER_ROW / 1e6,
    }


def normalise_forecasts(data):
    """Validate the forecasts of fixture data (``{"forecasts": [...]}`` or a bare list) and fill in defaults."""
    if isinstance(data, dict):
        data = data.get("forecasts") or []
    if not isinstance(data, list):
        raise FixtureError("forecasts must be a list")
    forecasts = [_forecast(item) for item in data]
    keys = [(forecast["region"], forecast["name"]) for forecast in forecasts]
    if len(set(keys)) != len(keys):
        raise FixtureError("forecast names must be unique in a region")
    return forecasts
