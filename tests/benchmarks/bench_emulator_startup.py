"""Benchmark: how long the local AWS takes from launch to its endpoint line (target: a median under 1 s on an idle
machine; the test harness waits up to START_TIMEOUT for a busy one).

Prints figures; it is not a pass/fail test. Run with `make bench` or
`.venv/bin/python tests/benchmarks/bench_emulator_startup.py [runs]`.
"""

import os
import statistics
import subprocess
import sys
import time

SERVE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulator", "serve.py")
TARGET_SECONDS = 1.0


def start_once():
    """Seconds from launching serve.py to reading its endpoint line (the server answers by then)."""
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, SERVE, "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        line = process.stdout.readline()
        elapsed = time.monotonic() - started
        process.terminate()
        process.wait(timeout=10)
    if not line.startswith("endpoint="):
        raise RuntimeError(f"serve.py printed {line!r} instead of its endpoint")
    return elapsed


def main(argv):
    runs = int(argv[1]) if len(argv) > 1 else 5
    times = [start_once() for attempt in range(runs)]
    median = statistics.median(times)
    print(
        f"emulator start-up over {runs} runs: median {median:.2f} s, min {min(times):.2f} s, "
        f"max {max(times):.2f} s (target < {TARGET_SECONDS:.1f} s: {'met' if median < TARGET_SECONDS else 'MISSED'})"
    )


if __name__ == "__main__":
    main(sys.argv)
