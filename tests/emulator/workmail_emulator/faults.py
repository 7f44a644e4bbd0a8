"""Fault injection for WorkMail, S3 and Forecast: throttling, server errors, dropped connections and lost answers to writes.

Rules are per service (``workmail``, the default, ``s3`` or ``forecast``), keyed by operation name (``StartMailboxExportJob``,
``PutObject``) or ``*`` for every operation of the service; a rule for the operation itself wins over ``*``. Each
request of a service with a matching rule draws one number from that service's RNG, seeded from ``seed``, so a
test that sets ``seed`` sees the same sequence of faults every run, and the faults of one service do not depend on
how many requests the other one received.
"""

import random
import threading
from collections import Counter

FAULT_DROP = "drop"
FAULT_THROTTLE = "throttle"
FAULT_ERROR_500 = "error500"
FAULT_ERROR_503 = "error503"
FAULT_LOST_WRITE = "lost_write"
FAULT_KINDS = (FAULT_DROP, FAULT_THROTTLE, FAULT_ERROR_500, FAULT_ERROR_503, FAULT_LOST_WRITE)

WORKMAIL = "workmail"
S3 = "s3"
FORECAST = "forecast"
SERVICES = (WORKMAIL, S3, FORECAST)
# The WorkMail operations that change the service's state: a lost write lets them take effect, then drops the answer.
WORKMAIL_WRITES = ("StartMailboxExportJob", "CancelMailboxExportJob")
# Forecast operations whose name starts with one of these change the service's state (CreateForecastExportJob,
# DeleteForecastExportJob, StopResource, CreateDatasetGroup, TagResource, ...).
FORECAST_WRITE_PREFIXES = ("Create", "Delete", "Update", "Stop", "Resume", "Tag", "Untag")

# In the order of the bands of a draw: drop, throttle, error, lost write (the first three as before lost writes
# existed, so a seed gives the same WorkMail faults as it did then).
_RATE_NAMES = ("throttle_rate", "error_rate", "drop_rate", "lost_write_rate")


class FaultConfigError(ValueError):
    """A fault rule that cannot be applied."""


def _workmail_operations():
    from .validation import service_model  # pylint: disable=import-outside-toplevel

    return set(service_model().operation_names)


def _forecast_operations():
    from .validation import service_model  # pylint: disable=import-outside-toplevel

    return set(service_model(FORECAST).operation_names)


def is_forecast_write(operation):
    """Does this Forecast operation change the service's state?"""
    return operation.startswith(FORECAST_WRITE_PREFIXES)


def _s3_operations():
    from .s3_requests import S3_OPERATIONS  # pylint: disable=import-outside-toplevel

    return set(S3_OPERATIONS)


def _check_operation(service, operation):
    if not isinstance(operation, str) or not operation:
        raise FaultConfigError(f"operation must be a {service} operation name or '*'")
    if operation == "*":
        return
    if service == WORKMAIL and operation not in _workmail_operations():
        hint = "; it is an S3 operation: add service s3" if operation in _s3_operations() else ""
        raise FaultConfigError(f"operation {operation!r} is not a WorkMail operation{hint}")
    if service == FORECAST and operation not in _forecast_operations():
        raise FaultConfigError(f"operation {operation!r} is not a Forecast operation")
    if service == S3 and operation not in _s3_operations():
        raise FaultConfigError(
            f"operation {operation!r} is not an S3 operation the emulator recognises: "
            f"{', '.join(sorted(_s3_operations()))}"
        )


def _rng(service, seed):
    # WorkMail keeps the integer seed (the sequences of earlier versions); S3 draws from its own stream.
    return random.Random(seed if service == WORKMAIL else f"{service}:{seed}")


class FaultInjector:
    """Holds the fault rules and decides, per request, which fault (if any) to inject; counts what it injected."""

    def __init__(self, seed=0):
        self._lock = threading.Lock()
        self._rules = {service: {} for service in SERVICES}
        self._seed = seed
        self._rngs = {service: _rng(service, seed) for service in SERVICES}
        self._injected = {service: Counter() for service in SERVICES}
        self._requests = Counter()

    def reset(self, seed=0):
        """Turn every fault off, reseed, zero the counts."""
        with self._lock:
            self._rules = {service: {} for service in SERVICES}
            self._seed = seed
            self._rngs = {service: _rng(service, seed) for service in SERVICES}
            self._injected = {service: Counter() for service in SERVICES}
            self._requests = Counter()

    def configure(
        self,
        operation="*",
        throttle_rate=0.0,
        error_rate=0.0,
        drop_rate=0.0,
        seed=None,
        service=WORKMAIL,
        lost_write_rate=0.0,
    ):  # pylint: disable=too-many-arguments
        """Set the rule for ``operation`` of ``service``; all rates 0 removes it (for ``*``: removes every rule of
        the service)."""
        if service not in SERVICES:
            raise FaultConfigError(f"service must be one of {', '.join(SERVICES)}")
        _check_operation(service, operation)
        rates = {}
        for name, value in zip(_RATE_NAMES, (throttle_rate, error_rate, drop_rate, lost_write_rate)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FaultConfigError(f"{name} must be a number between 0 and 1")
            if not 0.0 <= float(value) <= 1.0:
                raise FaultConfigError(f"{name} must be between 0 and 1")
            rates[name] = float(value)
        if sum(rates.values()) > 1.0 + 1e-9:
            raise FaultConfigError("throttle_rate + error_rate + drop_rate + lost_write_rate must not exceed 1")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultConfigError("seed must be an integer")
        with self._lock:
            if seed is not None:
                self._seed = seed
                self._rngs = {name: _rng(name, seed) for name in SERVICES}
            rules = self._rules[service]
            if not any(rates.values()):
                if operation == "*":
                    rules.clear()
                else:
                    rules.pop(operation, None)
            else:
                rules[operation] = rates
        return self.snapshot()

    def snapshot(self):
        """The current rules, seed and counts, as JSON-ready data. ``rules`` are WorkMail's, ``s3_rules`` S3's,
        ``forecast_rules`` Forecast's; ``forecast_requests`` counts Forecast's requests;
        ``injected`` counts the faults injected per service and kind, ``requests`` the requests per service."""

        def rules_of(service):
            return {op: dict(rates) for op, rates in sorted(self._rules[service].items())}

        with self._lock:
            return {
                "seed": self._seed,
                "rules": rules_of(WORKMAIL),
                "s3_rules": rules_of(S3),
                "forecast_rules": rules_of(FORECAST),
                "injected": {
                    service: {kind: self._injected[service][kind] for kind in FAULT_KINDS} for service in SERVICES
                },
                # WorkMail's and S3's, as before Forecast was served; Forecast's requests are counted apart.
                "requests": {service: self._requests[service] for service in (WORKMAIL, S3)},
                "forecast_requests": self._requests[FORECAST],
            }

    def decide(self, operation, service=WORKMAIL, write=False):
        """Return one of the FAULT_* constants for this request, or None. ``write``: the request changes the
        service's state, so a draw in the lost-write band loses its answer (for other requests that band is no
        fault)."""
        with self._lock:
            self._requests[service] += 1
            rules = self._rules[service]
            rule = rules.get(operation) or rules.get("*")
            if not rule:
                return None
            fault = self._draw(self._rngs[service], rule, write)
            if fault is not None:
                self._injected[service][fault] += 1
            return fault

    @staticmethod
    def _draw(rng, rule, write):
        draw = rng.random()
        edge = rule["drop_rate"]
        if draw < edge:
            return FAULT_DROP
        edge += rule["throttle_rate"]
        if draw < edge:
            return FAULT_THROTTLE
        edge += rule["error_rate"]
        if draw < edge:
            return FAULT_ERROR_500 if rng.random() < 0.5 else FAULT_ERROR_503
        edge += rule["lost_write_rate"]
        if draw < edge and write:
            return FAULT_LOST_WRITE
        return None
