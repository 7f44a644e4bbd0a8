# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Times: one way to read them, one way to write them, and one estimate of the service's clock.

Every time the collection stores or returns is ISO 8601 text in UTC (:func:`iso8601`); every time it reads (a
datetime from boto3, epoch seconds from a log, ISO text from the manifest) goes through :func:`to_datetime`.
Decisions that depend on AWS's rules (the 24 hours between two exports of a mailbox) are taken on the service's
clock, estimated by :func:`service_now`, not on this host's.
"""

from datetime import datetime
from datetime import timezone
from email.utils import parsedate_to_datetime

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The fields of a job that are times the service reported.
JOB_TIME_FIELDS = ("StartTime", "EndTime")


def response_time(response):
    """The service's clock when it answered: the HTTP Date header of a boto3 ``response`` (aware, UTC), or None."""
    try:
        moment = parsedate_to_datetime(response["ResponseMetadata"]["HTTPHeaders"]["date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def utcnow():
    """The current time of this host, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def to_datetime(value):
    """A timezone-aware UTC datetime from a datetime (naive means UTC), epoch seconds or ISO 8601 text; None for
    None or empty text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    else:
        raise TypeError(f"cannot read a time from {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso8601(value):
    """ISO 8601 text in UTC (``2026-11-22T05:01:02+00:00``), or None."""
    moment = to_datetime(value)
    return moment.isoformat() if moment is not None else None


def started(raw):
    """A raw job's StartTime as a datetime (the epoch when it has none), for ordering jobs."""
    return to_datetime(raw.get("StartTime")) or EPOCH


class ServiceClock:
    """The service's clock as several gateways (each with ``service_time()``) last saw it: the latest of their HTTP
    Date headers (AWS's clock; S3's answers count too, so a pass that has not called WorkMail yet knows it)."""

    def __init__(self, *gateways):
        self.gateways = gateways

    def service_time(self):
        seen = [gateway.service_time() for gateway in self.gateways if hasattr(gateway, "service_time")]
        seen = [moment for moment in seen if moment is not None]
        return max(seen) if seen else None


def service_now(client, listing=(), now=utcnow):
    """A lower bound of the service's current time.

    ``client`` has ``service_time()`` (the HTTP Date of its last answer, or None); when it is unknown this host's
    clock ``now()`` is used. The result is never earlier than a StartTime or EndTime the service reported in
    ``listing`` (raw jobs), so a host clock that lags cannot make a 24-hour window look closed.
    """
    moment = to_datetime(client.service_time()) or to_datetime(now())
    for job in listing:
        for name in JOB_TIME_FIELDS:
            reported = to_datetime(job.get(name))
            if reported is not None and reported > moment:
                moment = reported
    return moment
