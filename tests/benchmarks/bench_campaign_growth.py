"""Benchmark: how an organization export's cost grows with the organization (150, 1,000 and 10,000 mailboxes).

Each size runs workmail_organization_export's passes as its action plugin does with ``wait: true`` on the local
AWS's simulated clock (``bench_organization_export.py``'s ``organization export`` strategy, mixed sizes, a child
process and a local AWS of its own per run), next to the two peers (batches of 10, serial tasks) at the smallest
size. Printed side by side, one row per run:

- ratio: makespan / max(longest job, total job time / 10), the lower bound with 10 slots;
- WorkMail calls per mailbox, every call counted (listing pages, describes, starts, directory reads);
- S3 bytes written per pass (PutObject bodies: the manifest, the lock), median and max, and in total;
- CPU time per pass (median; the campaign's process, the local AWS not included); peak memory of that process.

Targets: ratio at most 1.02; at most 3 WorkMail calls per mailbox at every size; median S3 bytes per pass at most
64 KiB and median pass CPU at most 1 s at the largest size; peak memory at most 200 MB. It prints figures and
whether each target is met; it exits 1 only when a run is broken (a mailbox not exported exactly once). Run with
`make bench` or `.venv/bin/python tests/benchmarks/bench_campaign_growth.py [sizes ...] [--poll-interval S]`
(or BENCH_GROWTH_SIZES="150 1000 10000" and BENCH_POLL_INTERVAL in the environment).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "bench_organization_export.py")
DEFAULT_SIZES = (150, 1000, 10000)
# The longest sleep between passes (the module's poll_interval): a pass comes earlier when a job is due a look.
DEFAULT_POLL_INTERVAL = 900
DEFAULT_SEED = 2026
TARGETS = {"ratio": 1.02, "calls_per_mailbox": 3.0, "median_pass_bytes": 64 * 1024, "median_pass_cpu": 1.0}
MEMORY_TARGET_MB = 200
PEERS = ((1, "batches of 10 (listing order)"), (2, "serial mailbox_export + wait"))


def run_child(mailboxes, strategy, poll_interval, seed):
    """One strategy at one size in a child process; its JSON figures and the real time it took."""
    command = [sys.executable, RUNNER, str(mailboxes), "--strategy", str(strategy)]
    command += ["--poll-interval", str(poll_interval), "--seed", str(seed)]
    started = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mailboxes} mailboxes, strategy {strategy}: exit code {done.returncode}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["mailboxes"] = mailboxes
    figures["wall_seconds"] = time.monotonic() - started
    return figures


def lower_bound(durations):
    return max(*durations, sum(durations) / 10)


def kib(value):
    return f"{value / 1024:.1f}"


def row(figures):
    mailboxes = figures["mailboxes"]
    bound = lower_bound(figures["durations"])
    passes = figures.get("pass_s3_bytes") or []
    cpu = figures.get("pass_cpu_seconds") or []
    return {
        "name": figures["name"],
        "mailboxes": mailboxes,
        "ratio": figures["makespan"] / bound,
        "calls_per_mailbox": figures["calls"] / mailboxes,
        "listing_pages": figures["listing_requests"],
        "passes": len(passes) or figures["poll_cycles"],
        "median_pass_bytes": statistics.median(passes) if passes else None,
        "max_pass_bytes": max(passes) if passes else None,
        "total_bytes": sum(passes) if passes else None,
        "median_pass_cpu": statistics.median(cpu) if cpu else None,
        "peak_memory_mb": figures["peak_memory_mb"],
        "wall_seconds": figures["wall_seconds"],
    }


def text(value, form):
    return "-" if value is None else format(value, form)


def print_table(rows, poll_interval):
    print(
        "campaign growth benchmark (simulated clock; mixed sizes; passes as with wait: true, at most every "
        f"{poll_interval} s, earlier when a job is due a look)"
    )
    header = (
        f"{'strategy':<30} {'mailboxes':>9} {'ratio':>6} {'calls/mbx':>9} {'list pages':>10} {'passes':>7} "
        f"{'S3 KiB/pass med':>15} {'max':>9} {'S3 MiB total':>12} {'cpu/pass med (s)':>16} {'peak MB':>8} "
        f"{'real (s)':>8}"
    )
    print(header)
    print("-" * len(header))
    for item in rows:
        total = None if item["total_bytes"] is None else item["total_bytes"] / 1048576
        print(
            f"{item['name']:<30} {item['mailboxes']:>9} {item['ratio']:>6.3f} {item['calls_per_mailbox']:>9.2f} "
            f"{item['listing_pages']:>10} {item['passes']:>7} "
            f"{text(item['median_pass_bytes'] and item['median_pass_bytes'] / 1024, '.1f'):>15} "
            f"{text(item['max_pass_bytes'] and item['max_pass_bytes'] / 1024, '.1f'):>9} {text(total, '.1f'):>12} "
            f"{text(item['median_pass_cpu'], '.3f'):>16} {item['peak_memory_mb']:>8.0f} {item['wall_seconds']:>8.1f}"
        )


def print_targets(rows):
    module_rows = [item for item in rows if item["name"].startswith("organization export")]
    largest = max(module_rows, key=lambda item: item["mailboxes"])
    checks = [
        ("makespan within 1.02 x the lower bound", max(item["ratio"] for item in module_rows), TARGETS["ratio"]),
        (
            "at most 3 WorkMail calls per mailbox",
            max(item["calls_per_mailbox"] for item in module_rows),
            TARGETS["calls_per_mailbox"],
        ),
        (
            f"median S3 bytes per pass at most 64 KiB at {largest['mailboxes']}",
            largest["median_pass_bytes"],
            TARGETS["median_pass_bytes"],
        ),
        (
            f"median pass CPU at most 1 s at {largest['mailboxes']}",
            largest["median_pass_cpu"],
            TARGETS["median_pass_cpu"],
        ),
        ("peak memory at most 200 MB", max(item["peak_memory_mb"] for item in module_rows), MEMORY_TARGET_MB),
    ]
    print("targets (organization export, worst size):")
    for label, value, target in checks:
        print(f"  {label}: {value:.3f}, {'met' if value <= target else 'NOT met'}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sizes = os.environ.get("BENCH_GROWTH_SIZES")
    default_sizes = [int(size) for size in sizes.split()] if sizes else list(DEFAULT_SIZES)
    parser.add_argument("sizes", nargs="*", type=int, default=default_sizes)
    parser.add_argument(
        "--poll-interval", type=int, default=int(os.environ.get("BENCH_POLL_INTERVAL", DEFAULT_POLL_INTERVAL))
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", DEFAULT_SEED)))
    return parser.parse_args(argv[1:])


def main(argv):
    args = parse_args(argv)
    started = time.monotonic()
    rows = []
    try:
        for mailboxes in sorted(args.sizes):
            rows.append(row(run_child(mailboxes, 0, args.poll_interval, args.seed)))
        smallest = min(args.sizes)
        for strategy, dummy in PEERS:
            rows.append(row(run_child(smallest, strategy, args.poll_interval, args.seed)))
    except RuntimeError as error:
        print(f"BROKEN: {error}", file=sys.stderr)
        return 1
    print_table(rows, args.poll_interval)
    print_targets(rows)
    print(f"real time: {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
