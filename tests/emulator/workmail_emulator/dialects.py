"""Dialects: one switch for each question about mailbox export that AWS leaves unanswered.

Nobody has published what a real export writes, how long a ClientToken is remembered or which error the
once-per-24-hours rule answers. Each switch picks one answer; its default is the emulator's long-standing choice
(only ``client_token_memory`` changed: 8 hours). Code under test should work whatever the switches say.

Set them in the fixture (a top-level ``dialects:`` mapping), with ``POST /_emulator/dialects`` or with
``LocalAws.set_dialects(**switches)``; ``POST /_emulator/reset`` puts them back to their defaults (and then to what
the start-up fixture says, as it does with the fixture's organizations).
"""

import math

HOUR = 3600
DAY = 24 * HOUR

# name -> (default, allowed values); describe_retention_days takes a number of days instead (None: forever).
SWITCHES = {
    "s3_path": ("bucket_key", ("bucket_key", "key", "s3_uri", "folder")),
    "archive_layout": ("entity_job", ("entity_job", "job", "email_time")),
    "export_log": ("json", ("json", "guide", "elsewhere", "none")),
    "total_messages": ("all_entries", ("all_entries", "messages_only")),
    "client_token_memory": ("8h", ("8h", "7d", "none")),
    "token_mismatch_error": (
        "InvalidParameterException",
        ("InvalidParameterException", "ConflictException", "IdempotentParameterMismatchException"),
    ),
    "mailbox_24h_error": ("LimitExceededException", ("LimitExceededException", "InvalidParameterException")),
    "mailbox_24h_counts": ("all", ("all", "successful")),
    "describe_retention_days": (None, None),
    "progress": ("even", ("even", "late", "early", "none")),
    # The order of ListMailboxExportJobs: AWS documents none.
    "listing_order": ("newest_first", ("newest_first", "oldest_first", "job_id")),
    # Amazon Forecast: may a CREATE_STOPPED forecast export job be deleted? The API reference allows ACTIVE and
    # CREATE_FAILED only; whether the service refuses a stopped job is not documented.
    "forecast_delete_stopped": ("refuse", ("refuse", "allow")),
}
TOKEN_MEMORY_SECONDS = {"8h": 8 * HOUR, "7d": 7 * DAY, "none": 0}
# How EstimatedProgress follows the fraction of its run time a job has done (``progress``): evenly, behind it
# (the cube: 50 % of the time shows 12 %), ahead of it (the square root: 25 % of the time shows 50 %), or not at all.
PROGRESS_CURVES = {
    "even": lambda fraction: fraction,
    "late": lambda fraction: fraction**3,
    "early": math.sqrt,
    "none": lambda fraction: 0.0,
}
# The HTTP status of each error a token reused with other parameters can answer.
TOKEN_MISMATCH_STATUS = {
    "InvalidParameterException": 400,
    "ConflictException": 409,
    "IdempotentParameterMismatchException": 400,
}


class DialectError(ValueError):
    """An unknown switch or a value the switch does not take."""


def defaults():
    """Every switch at its default (the emulator's long-standing behaviour)."""
    return {name: default for name, (default, _values) in SWITCHES.items()}


def _retention_days(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise DialectError(f"describe_retention_days must be a number of days > 0 or null (forever), got {value!r}")
    return value


def _checked_value(name, value):
    if name == "describe_retention_days":
        return _retention_days(value)
    allowed = SWITCHES[name][1]
    if value not in allowed:
        raise DialectError(f"dialect {name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def checked(switches):
    """Validate a mapping of some switches to values; return it normalised (or raise DialectError)."""
    if not isinstance(switches, dict):
        raise DialectError("dialects must be a mapping of switch names to values")
    unknown = sorted(set(switches) - set(SWITCHES))
    if unknown:
        raise DialectError(f"unknown dialects {unknown}; the switches are {', '.join(SWITCHES)}")
    return {name: _checked_value(name, value) for name, value in switches.items()}


# The environment variable that sets switches for a whole run of the local AWS (``make test-dialects``).
ENVIRONMENT_VARIABLE = "EMULATOR_DIALECTS"


def parse(text):
    """Switches from text like ``s3_path=folder,archive_layout=email_time`` (checked; empty text sets none). A
    number is read as one (``describe_retention_days=3``), ``null`` as None."""
    switches = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, separator, value = part.partition("=")
        if not separator:
            raise DialectError(f"{ENVIRONMENT_VARIABLE}: {part.strip()!r} is not <switch>=<value>")
        value = value.strip()
        switches[name.strip()] = None if value == "null" else float(value) if _is_number(value) else value
    return checked(switches)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
