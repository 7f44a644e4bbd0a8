"""Process-wide emulator state that is not per account/region: clock, time scale, faults, call counts."""

import threading
from collections import Counter

from .clock import SimClock
from .faults import FaultInjector

# Job duration = max(min_seconds, size_mb * seconds_per_mb) simulated seconds. With these defaults the default
# fixture's largest mailbox (640 MB) takes about 13 s and a small one 2 s.
DEFAULT_SECONDS_PER_MB = 0.02
DEFAULT_MIN_SECONDS = 2.0


class EmulatorState:
    """Everything POST /_emulator/reset puts back to its start-up value (besides moto's backends)."""

    def __init__(self):
        # One lock serialises WorkMail requests, job materialisation and admin changes.
        self.lock = threading.RLock()
        self.clock = SimClock()
        self.faults = FaultInjector()
        self.calls = Counter()
        self.seconds_per_mb = DEFAULT_SECONDS_PER_MB
        self.min_seconds = DEFAULT_MIN_SECONDS
        self.fixture_path = None
        # Requests reaching the emulator count as made over TLS (aws:SecureTransport), as every request to AWS's
        # endpoints is; POST /_emulator/transport {"secure": false} makes them count as plain HTTP.
        self.secure_transport = True

    def reset(self):
        """Clock back to real time, faults off, counters zero, default time scale."""
        with self.lock:
            self.clock.reset()
            self.faults.reset()
            self.calls.clear()
            self.seconds_per_mb = DEFAULT_SECONDS_PER_MB
            self.min_seconds = DEFAULT_MIN_SECONDS
            self.secure_transport = True

    def set_time_scale(self, seconds_per_mb=None, min_seconds=None):
        """Change the duration model for jobs started afterwards."""
        for name, value in (("seconds_per_mb", seconds_per_mb), ("min_seconds", min_seconds)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ValueError(f"{name} must be a number >= 0")
        with self.lock:
            if seconds_per_mb is not None:
                self.seconds_per_mb = float(seconds_per_mb)
            if min_seconds is not None:
                self.min_seconds = float(min_seconds)
            return self.time_scale()

    def time_scale(self):
        """The current duration model."""
        return {"seconds_per_mb": self.seconds_per_mb, "min_seconds": self.min_seconds}

    def duration_for(self, size_mb):
        """Simulated seconds an export of ``size_mb`` takes."""
        return max(self.min_seconds, size_mb * self.seconds_per_mb)

    def count_call(self, operation):
        """Count one WorkMail request."""
        with self.lock:
            self.calls[operation] += 1


STATE = EmulatorState()
