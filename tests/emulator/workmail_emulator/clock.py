"""The simulated clock: real time plus an offset that only grows.

Real time keeps flowing, so a client that waits with real sleeps sees jobs finish; ``advance`` jumps ahead
without waiting. ``now`` never goes backwards, even if the system clock does.
"""

import math
import threading
import time


class SimClock:
    """Epoch seconds as the emulator sees them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._offset = 0.0
        self._last = 0.0

    def now(self):
        """Current simulated time in epoch seconds (float), monotonic."""
        with self._lock:
            value = max(time.time() + self._offset, self._last)
            self._last = value
            return value

    @property
    def offset(self):
        """Seconds added to real time so far."""
        with self._lock:
            return self._offset

    def advance(self, seconds):
        """Move the clock forward by ``seconds`` (a non-negative number); return the new time."""
        seconds = float(seconds)
        if seconds < 0 or not math.isfinite(seconds):
            raise ValueError("advance_seconds must be a finite number >= 0")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self):
        """Back to real time."""
        with self._lock:
            self._offset = 0.0
            self._last = 0.0
