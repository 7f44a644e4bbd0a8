"""Check WorkMail requests (and, for tests, responses) against botocore's service model.

The service validates what botocore does not: maximum lengths, patterns, enums and ranges. It answers
``ValidationException`` with messages such as::

    1 validation error detected: Value 'x' at 'organizationId' failed to satisfy constraint:
    Member must satisfy regular expression pattern: ^m-[0-9a-f]{32}$

Patterns are full-string matches (ASCII character classes, as in Java). Members are named in lowerCamelCase
with dotted paths for nested members. Values of sensitive members are redacted.
"""

import re
from functools import lru_cache

import botocore.session

REDACTED = "*** Sensitive Data Redacted ***"


class RequestTypeError(ValueError):
    """A member whose JSON type does not fit its shape (AWS answers SerializationException)."""


@lru_cache(maxsize=4)
def service_model(service="workmail"):
    """botocore's service model of WorkMail (or of ``service``), loaded once."""
    return botocore.session.get_session().get_service_model(service)


def operation_model(name, service="workmail"):
    """The botocore OperationModel of a WorkMail operation (or of an operation of ``service``)."""
    return service_model(service).operation_model(name)


# Java's Unicode property classes, which Python's re lacks, as ranges (approximate beyond the common scripts). Only
# inside character classes, where the models use them (Forecast's tag keys and values).
_UNICODE_CLASSES = {
    r"\p{L}": "A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u1fff\u3040-\ud7ff\uf900-\uffdc",
    r"\p{Z}": " \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
    r"\p{N}": "0-9\u00b2\u00b3\u00b9\u00bc-\u00be\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19",
}


@lru_cache(maxsize=256)
def _compiled(pattern):
    for java, ranges in _UNICODE_CLASSES.items():
        pattern = pattern.replace(java, ranges)
    return re.compile(pattern, re.ASCII)


def pattern_matches(pattern, value):
    """Full-string match, the way the service applies model patterns."""
    return _compiled(pattern).fullmatch(value) is not None


def _member_path(parent, name):
    name = name[:1].lower() + name[1:]
    return f"{parent}.{name}" if parent else name


def _show(shape, value):
    if shape.metadata.get("sensitive"):
        return f"'{REDACTED}'"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    return f"'{value}'"


def _constraint(shape, value, path):
    return f"Value {_show(shape, value)} at '{path}' failed to satisfy constraint: "


def _check_length(shape, value, path, meta, errors):
    """The model's min/max length constraints of a list or string, as AWS words them."""
    if "min" in meta and len(value) < meta["min"]:
        errors.append(
            _constraint(shape, value, path) + f"Member must have length greater than or equal to {meta['min']}"
        )
    if "max" in meta and len(value) > meta["max"]:
        errors.append(_constraint(shape, value, path) + f"Member must have length less than or equal to {meta['max']}")


def _validate(shape, value, path, errors, relaxed=frozenset(), pattern=True):
    """``relaxed``: (structure shape name, member name) pairs whose model pattern is not applied (a model pattern
    that the service itself does not enforce); ``pattern``: whether this value's pattern is applied."""
    meta = shape.metadata
    type_name = shape.type_name
    if type_name == "structure":
        if not isinstance(value, dict):
            raise RequestTypeError(f"Expected an object at '{path or 'request'}'")
        for required in shape.required_members:
            if value.get(required) is None:
                errors.append(
                    f"Value null at '{_member_path(path, required)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                checked = (shape.name, name) not in relaxed
                _validate(member, value[name], _member_path(path, name), errors, relaxed, checked)
        return
    if type_name == "list":
        if not isinstance(value, list):
            raise RequestTypeError(f"Expected a list at '{path}'")
        _check_length(shape, value, path, meta, errors)
        for index, item in enumerate(value, start=1):
            _validate(shape.member, item, f"{path}.{index}.member", errors, relaxed)
        return
    if type_name == "map":
        if not isinstance(value, dict):
            raise RequestTypeError(f"Expected an object at '{path}'")
        for key, item in value.items():
            _validate(shape.key, key, f"{path}.key", errors, relaxed)
            _validate(shape.value, item, f"{path}.{key}.value", errors, relaxed)
        return
    if type_name == "string":
        if not isinstance(value, str):
            raise RequestTypeError(f"Expected a string at '{path}'")
        _check_length(shape, value, path, meta, errors)
        if pattern and "pattern" in meta and not pattern_matches(meta["pattern"], value):
            errors.append(
                _constraint(shape, value, path) + f"Member must satisfy regular expression pattern: {meta['pattern']}"
            )
        if shape.enum and value not in shape.enum:
            errors.append(
                _constraint(shape, value, path) + f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
        return
    if type_name in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestTypeError(f"Expected an integer at '{path}'")
        _check_range(shape, value, path, errors)
        return
    if type_name in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RequestTypeError(f"Expected a number at '{path}'")
        _check_range(shape, value, path, errors)
        return
    if type_name == "boolean":
        if not isinstance(value, bool):
            raise RequestTypeError(f"Expected a boolean at '{path}'")
        return
    if type_name == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RequestTypeError(f"Expected an epoch timestamp at '{path}'")
        return
    if type_name == "blob" and not isinstance(value, str):
        raise RequestTypeError(f"Expected a base64 string at '{path}'")


def _check_range(shape, value, path, errors):
    meta = shape.metadata
    if "min" in meta and value < meta["min"]:
        errors.append(
            _constraint(shape, value, path) + f"Member must have value greater than or equal to {meta['min']}"
        )
    if "max" in meta and value > meta["max"]:
        errors.append(_constraint(shape, value, path) + f"Member must have value less than or equal to {meta['max']}")


def validate_request(operation_name, params, service="workmail", relaxed=frozenset()):
    """Return the list of constraint violations of a request; raise RequestTypeError for type mismatches.
    ``relaxed``: (structure shape name, member name) pairs whose model pattern is not enforced."""
    errors = []
    _validate(operation_model(operation_name, service).input_shape, params, "", errors, frozenset(relaxed))
    return errors


def validation_message(errors):
    """AWS's wording for one or more validation errors."""
    count = len(errors)
    noun = "validation error" if count == 1 else "validation errors"
    return f"{count} {noun} detected: " + "; ".join(errors)


def _check_output(shape, value, path, problems, relaxed=frozenset(), pattern=True):
    meta = shape.metadata
    type_name = shape.type_name
    if type_name == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for name in value:
            if name not in shape.members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
        for required in shape.required_members:
            if required not in value:
                problems.append(f"{path}.{required}: required member missing")
        for name, member in shape.members.items():
            if name in value:
                checked = (shape.name, name) not in relaxed
                _check_output(member, value[name], f"{path}.{name}", problems, relaxed, checked)
        return
    if type_name == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            _check_output(shape.member, item, f"{path}[{index}]", problems, relaxed)
        return
    if type_name == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for key, item in value.items():
            _check_output(shape.value, item, f"{path}[{key}]", problems, relaxed)
        return
    if type_name == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {type(value).__name__}")
            return
        if "min" in meta and len(value) < meta["min"]:
            problems.append(f"{path}: shorter than {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: longer than {meta['max']}")
        if pattern and "pattern" in meta and not pattern_matches(meta["pattern"], value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in {shape.enum}")
        return
    if type_name in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {type(value).__name__}")
            return
    elif type_name in ("double", "float", "timestamp"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {type(value).__name__}")
            return
    elif type_name == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {type(value).__name__}")
        return
    else:
        return
    if type_name != "timestamp":
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: below the minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: above the maximum {meta['max']}")


def check_response(operation_name, body, service="workmail", relaxed=frozenset()):
    """Problems of a JSON response body (already decoded) against the operation's output shape; [] if none.
    ``relaxed``: (structure shape name, member name) pairs whose model pattern is not checked."""
    shape = operation_model(operation_name, service).output_shape
    problems = []
    if shape is None:
        if body not in ({}, None):
            problems.append("the operation has no output shape but the body is not empty")
        return problems
    _check_output(shape, body, operation_name, problems, frozenset(relaxed))
    return problems
