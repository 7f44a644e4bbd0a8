"""Process-wide emulator state that is not per account/region: clock, time scale, faults, call counts, dialects."""

import threading
from collections import Counter

from . import dialects
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
        # Entity id (lower case) -> ErrorInfo texts: the next jobs of that entity to finish FAILED, in order.
        self.job_failures = {}
        # The answer each undocumented behaviour gives (see dialects.py).
        self.dialects = dialects.defaults()

    def reset(self):
        """Clock back to real time, faults off, counters zero, default time scale, every dialect at its default."""
        with self.lock:
            self.clock.reset()
            self.faults.reset()
            self.calls.clear()
            self.seconds_per_mb = DEFAULT_SECONDS_PER_MB
            self.min_seconds = DEFAULT_MIN_SECONDS
            self.secure_transport = True
            self.job_failures = {}
            self.dialects = dialects.defaults()

    def set_dialects(self, switches):
        """Set some dialect switches (all or none: a bad one changes nothing); return every switch."""
        changes = dialects.checked(switches)
        with self.lock:
            self.dialects.update(changes)
            return dict(self.dialects)

    def dialect(self, name):
        """The current value of one dialect switch."""
        with self.lock:
            return self.dialects[name]

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

    def fail_next_jobs(self, entity_id, count=1, error_info=None):
        """Make the next ``count`` jobs of ``entity_id`` to finish end FAILED with ``error_info``."""
        if not isinstance(entity_id, str) or not entity_id:
            raise ValueError("entity_id must be a non-empty string")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("count must be an integer >= 0")
        text = error_info if error_info is not None else "The export failed (injected by the emulator)"
        if not isinstance(text, str) or not text:
            raise ValueError("error_info must be a non-empty string")
        with self.lock:
            if count:
                self.job_failures[entity_id.lower()] = [text] * count
            else:
                self.job_failures.pop(entity_id.lower(), None)
            return self.pending_job_failures()

    def pending_job_failures(self):
        """How many injected failures each entity has left."""
        with self.lock:
            return {entity_id: len(texts) for entity_id, texts in sorted(self.job_failures.items())}

    def take_job_failure(self, entity_id):
        """The ErrorInfo of an injected failure for a job of ``entity_id`` that is finishing now, or None."""
        with self.lock:
            texts = self.job_failures.get(entity_id.lower())
            if not texts:
                return None
            text = texts.pop(0)
            if not texts:
                del self.job_failures[entity_id.lower()]
            return text

    def count_call(self, operation):
        """Count one WorkMail request."""
        with self.lock:
            self.calls[operation] += 1


STATE = EmulatorState()
