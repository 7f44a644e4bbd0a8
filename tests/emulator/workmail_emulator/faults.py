"""Fault injection for WorkMail operations: throttling, server errors and dropped connections.

Rules are keyed by operation name (``StartMailboxExportJob``) or ``*`` for every WorkMail operation; a rule for
the operation itself wins over ``*``. Each WorkMail request draws one number from a seeded RNG, so a test that
sets ``seed`` sees the same sequence of faults every run.
"""

import random
import threading

FAULT_DROP = "drop"
FAULT_THROTTLE = "throttle"
FAULT_ERROR_500 = "error500"
FAULT_ERROR_503 = "error503"

_RATE_NAMES = ("throttle_rate", "error_rate", "drop_rate")


class FaultConfigError(ValueError):
    """A fault rule that cannot be applied."""


class FaultInjector:
    """Holds the fault rules and decides, per request, which fault (if any) to inject."""

    def __init__(self, seed=0):
        self._lock = threading.Lock()
        self._rules = {}
        self._seed = seed
        self._rng = random.Random(seed)

    def reset(self, seed=0):
        """Turn every fault off and reseed."""
        with self._lock:
            self._rules = {}
            self._seed = seed
            self._rng = random.Random(seed)

    def configure(self, operation="*", throttle_rate=0.0, error_rate=0.0, drop_rate=0.0, seed=None):
        """Set the rule for ``operation``; all rates 0 removes it (for ``*``: removes every rule)."""
        if not isinstance(operation, str) or not operation:
            raise FaultConfigError("operation must be a WorkMail operation name or '*'")
        rates = {}
        for name, value in zip(_RATE_NAMES, (throttle_rate, error_rate, drop_rate)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FaultConfigError(f"{name} must be a number between 0 and 1")
            if not 0.0 <= float(value) <= 1.0:
                raise FaultConfigError(f"{name} must be between 0 and 1")
            rates[name] = float(value)
        if sum(rates.values()) > 1.0 + 1e-9:
            raise FaultConfigError("throttle_rate + error_rate + drop_rate must not exceed 1")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultConfigError("seed must be an integer")
        with self._lock:
            if seed is not None:
                self._seed = seed
                self._rng = random.Random(seed)
            if not any(rates.values()):
                if operation == "*":
                    self._rules = {}
                else:
                    self._rules.pop(operation, None)
            else:
                self._rules[operation] = rates
        return self.snapshot()

    def snapshot(self):
        """The current rules and seed, as JSON-ready data."""
        with self._lock:
            return {"seed": self._seed, "rules": {op: dict(rates) for op, rates in sorted(self._rules.items())}}

    def decide(self, operation):
        """Return one of the FAULT_* constants for this request, or None."""
        with self._lock:
            rule = self._rules.get(operation) or self._rules.get("*")
            if not rule:
                return None
            draw = self._rng.random()
            edge = rule["drop_rate"]
            if draw < edge:
                return FAULT_DROP
            edge += rule["throttle_rate"]
            if draw < edge:
                return FAULT_THROTTLE
            edge += rule["error_rate"]
            if draw < edge:
                return FAULT_ERROR_500 if self._rng.random() < 0.5 else FAULT_ERROR_503
            return None
