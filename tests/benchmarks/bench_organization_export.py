"""Benchmark: how close an organization-wide export comes to the shortest possible makespan, and its API calls.

For N mailboxes of mixed sizes (seeded, the same for every strategy) on the local AWS's simulated clock, three
strategies side by side:

- ``organization export``: workmail_organization_export's pass (``run_organization_pass``), repeated as its action
  plugin does with ``wait: true`` (one lock owner; pass, sleep until the pass says the next is due but at most the
  poll interval, pass ... until done);
- ``batches of 10``: a script that lists the mailboxes (ListUsers, ListResources), starts the next 10 in listing
  order, and every poll interval describes the jobs of the batch still RUNNING, until all 10 have ended;
- ``serial tasks``: a loop of workmail_mailbox_export tasks (``run_export_job``; entity given by email, ``wait:
  true``), each waiting with the module's own polling (a describe at once, then after 3 s, growing by 1.5 to 60 s).

A job takes max(MIN_SECONDS, size * SECONDS_PER_MB) simulated seconds; the clock is advanced instead of sleeping,
and the modules' `now` is the simulated clock (a host clock in step with AWS's). The lower bound of a makespan
with at most 10 running jobs is max(longest job, total job time / 10). A makespan is taken as the strategy saw
it: from its first call to the poll that saw the last job COMPLETED; the jobs' own span (first StartTime to last
EndTime) is printed next to it. A model of the module's scheduling (largest first, slots refilled only by a
pass) gives the ratio for other poll intervals without running them.

Each strategy runs against its own local AWS, the three in parallel (``--sequential``: one after the other, in
this process). Prints figures; it is not a pass/fail test. It exits 1 only when something is broken (a mailbox
not exported exactly once, a job that did not complete, a campaign that never finished). Run with `make bench` or
`.venv/bin/python tests/benchmarks/bench_organization_export.py [mailboxes] [--poll-interval S] [--seed S]`
(or BENCH_MAILBOXES, BENCH_POLL_INTERVAL, BENCH_SEED in the environment).
"""

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from datetime import timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(ROOT, ".tmp", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "mailops", "workmail")
if os.path.realpath(LINK) != os.path.realpath(ROOT):  # what `make collections-tree` does
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, f"{LINK}.{os.getpid()}")
    os.replace(f"{LINK}.{os.getpid()}", LINK)
sys.path[:0] = [COLLECTIONS, os.path.join(ROOT, "tests", "emulator")]

# pylint: disable=wrong-import-position
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import next_pass_delay  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import run_organization_pass  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_RUNNING  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.export_jobs import run_export_job  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import manifest_key  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Gateway  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_export_params  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.validation import (  # noqa: E402
    validate_organization_export_params,
)
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import PAGE_SIZE  # noqa: E402
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient  # noqa: E402
from workmail_emulator.harness import start_local_aws  # noqa: E402
from workmail_emulator.provision import provision_export_destination  # noqa: E402

REGION = "us-east-1"
BUCKET = "bench-exports"
PREFIX = "exports"
CAMPAIGN = "bench-org-export"
SLOTS = 10  # AWS: at most 10 running export jobs per organization
SECONDS_PER_MB = 6.0
MIN_SECONDS = 300.0
# The local AWS is given sizes / SIZE_DIVISOR and a time scale SIZE_DIVISOR times larger: the same job durations,
# but archives of a message or a few (it writes about one message per MB, at most 150), which would otherwise take
# much of the run's real time.
SIZE_DIVISOR = 100
DEFAULT_MAILBOXES = 150
DEFAULT_POLL_INTERVAL = 60  # the action plugin's default poll_interval
DEFAULT_SEED = 2026
SERIAL_WAIT_TIMEOUT = 86400  # the module's default (3600 s) is shorter than the largest jobs here
RATIO_TARGET = 1.05
CALLS_PER_MAILBOX_TARGET = 3
LISTING = "ListMailboxExportJobs"
MODEL_POLL_INTERVALS = (5, 15, 30, 60, 90, 120, 300, 600)


class Broken(RuntimeError):
    """The benchmark found something wrong (not a slow figure): the run exits 1."""


# The organization


def log_uniform(rng, low, high):
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def mailbox_sizes(count, seed):
    """Sizes in MB, heavy-tailed and in random (listing) order: 20% tiny (2-50 MB, the shortest job), 50% small
    (50-120 MB), 25% medium (120-400 MB), 5% large (400 MB-1 GB), and one very large mailbox (1.2-1.4 GB) per 75.
    Most durations are thus not multiples of the shortest one (nor of a poll interval)."""
    rng = random.Random(seed)
    sizes = []
    for dummy in range(count):
        draw = rng.random()
        if draw < 0.20:
            size = log_uniform(rng, 2, 50)
        elif draw < 0.70:
            size = log_uniform(rng, 50, 120)
        elif draw < 0.95:
            size = log_uniform(rng, 120, 400)
        else:
            size = log_uniform(rng, 400, 1024)
        sizes.append(size)
    for index in rng.sample(range(count), min(count, max(1, round(count / 75)))):
        sizes[index] = rng.uniform(1229, 1434)
    return [round(size, 1) for size in sizes]


def organization_spec(sizes):
    """Users, and one resource (a room) per 25 mailboxes, in the order of ``sizes`` (MailboxSize scaled down)."""
    users = []
    resources = []
    for index, size in enumerate(sizes):
        if index % 25 == 24:
            kind, name = resources, f"room{index:04d}"
        else:
            kind, name = users, f"user{index:04d}"
        kind.append({"name": name, "email": f"{name}@bench.example", "size_mb": size / SIZE_DIVISOR})
    return {"alias": "bench", "region": REGION, "users": users, "resources": resources}


def duration(size_mb):
    return max(MIN_SECONDS, size_mb * SECONDS_PER_MB)


def lower_bound(durations):
    return max(*durations, sum(durations) / SLOTS)


# The simulated clock, as this process sees it


class SimulatedClock:
    """The local AWS's clock (real time + the offset it was advanced by), read here without asking it."""

    def __init__(self, aws):
        self.aws = aws
        self.offset = 0.0

    def time(self):
        return time.time() + self.offset

    def now(self):
        """An aware datetime: the modules' `now`."""
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def monotonic(self):
        return time.monotonic() + self.offset

    def sleep(self, seconds):
        """Advance the clock instead of sleeping."""
        self.offset += seconds
        self.aws.advance_clock(seconds)

    def service_now(self):
        """The local AWS's own reading (an admin call, not a WorkMail one)."""
        return self.aws.now()


def body_size(body):
    """The size of a request Body: bytes, or the file-like object botocore turns them into."""
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    if hasattr(body, "seek") and hasattr(body, "tell"):
        position = body.tell()
        size = body.seek(0, os.SEEK_END)
        body.seek(position)
        return size
    return 0


class Run:
    """One strategy's organization and export destination on a freshly started local AWS."""

    def __init__(self, aws, spec):
        aws.set_time_scale(seconds_per_mb=SECONDS_PER_MB * SIZE_DIVISOR, min_seconds=MIN_SECONDS)
        self.aws = aws
        self.clock = SimulatedClock(aws)
        self.org = aws.add_organizations([spec])[0]
        self.organization_id = self.org["id"]
        self.destination = provision_export_destination(aws.client, self.organization_id, BUCKET, PREFIX, REGION)
        self.boto_workmail = aws.client("workmail")
        self.s3 = aws.client("s3")
        self.s3_calls = Counter()
        self.s3_bytes_written = 0
        self.s3.meta.events.register("before-parameter-build.s3", self._count_s3)
        self.calls_before = aws.calls()
        self.started_at = self.clock.service_now()

    def _count_s3(self, model, params, **kwargs):  # pylint: disable=unused-argument
        """Count S3 requests by operation and object: the campaign's manifest or lock, or an export."""
        key = params.get("Key") or ""
        what = "manifest" if key.endswith("/manifest.json") else "lock" if key.endswith("/lock.json") else "export"
        self.s3_calls[f"{model.name} {what}"] += 1
        if model.name == "PutObject":
            self.s3_bytes_written += body_size(params.get("Body"))

    def workmail(self):
        """A new WorkMailClient, as every module run builds one (its service clock starts unknown)."""
        return WorkMailClient(self.boto_workmail)

    def calls(self):
        after = self.aws.calls()
        deltas = {op: count - self.calls_before.get(op, 0) for op, count in after.items()}
        return {op: delta for op, delta in deltas.items() if delta}


def mailboxes_in_listing_order(workmail, organization_id):
    """ListUsers then ListResources (all pages): the ENABLED mailboxes, as a script reads them."""
    found = []
    for item in workmail.list_users(organization_id) + workmail.list_resources(organization_id):
        if item.get("State") == "ENABLED":
            found.append({"id": item["Id"], "email": item.get("Email")})
    return found


# The strategies: each returns {"observed_end", "poll_cycles", "listings"} (listings: whole listings, all pages)


def organization_export(run, poll_interval):
    """The module's pass every ``poll_interval`` seconds until one reports done (the action plugin's loop)."""
    params = {
        "organization_id": run.organization_id,
        "campaign": CAMPAIGN,
        "role_arn": run.destination["role_arn"],
        "kms_key_arn": run.destination["kms_key_arn"],
        "s3_bucket": BUCKET,
        "s3_prefix": PREFIX,
        "description": None,
        "include_disabled": False,
        "skip_system_users": False,
        "include": None,
        "exclude": None,
        "mailboxes": None,
        "max_concurrent_jobs": SLOTS,
        "max_attempts": 3,
        "verify": "basic",
        "local_manifest": None,
        "lock_owner": f"ansible-{uuid.uuid4()}",
        "lock_ttl": 900,
        "wait": True,
        "wait_timeout": 14 * 86400,
        "poll_interval": poll_interval,
    }
    params = validate_organization_export_params(params, REGION)
    passes = 0
    listings = 0
    pass_bytes = []
    pass_cpu = []
    deadline = run.clock.time() + params["wait_timeout"]
    while True:
        written, cpu, pass_started = run.s3_bytes_written, time.process_time(), run.clock.time()
        result = run_organization_pass(run.workmail(), S3Gateway(run.s3), params, now=run.clock.now, region=REGION)
        pass_cpu.append(time.process_time() - cpu)
        pass_bytes.append(run.s3_bytes_written - written)
        passes += 1
        listings += result["pass"]["api_calls"]["list_mailbox_export_jobs"]
        if result["done"]:
            break
        delay = next_pass_delay(result["pass"], poll_interval, run.clock.time() - pass_started)  # as the plugin does
        if run.clock.time() + delay > deadline:
            raise Broken(f"organization export: not done after {passes} passes: {result['summary']}")
        run.clock.sleep(delay)
    counts = result["summary"]
    if counts["completed"] != counts["total"] or counts["verified"] != counts["total"]:
        raise Broken(f"organization export: the campaign ended with {counts}")
    observed_end = run.clock.service_now()
    s3_calls = dict(run.s3_calls)
    manifest = run.s3.head_object(Bucket=BUCKET, Key=manifest_key(PREFIX, CAMPAIGN))
    return {
        "observed_end": observed_end,
        "poll_cycles": passes,
        "listings": listings,
        "s3_calls": s3_calls,
        "manifest_bytes": manifest["ContentLength"],
        "pass_s3_bytes": pass_bytes,
        "pass_cpu_seconds": pass_cpu,
    }


def batches_of_ten(run, poll_interval):
    """Start 10 mailboxes in listing order; every ``poll_interval`` describe the jobs of the batch still RUNNING;
    start the next 10 once all have ended."""
    workmail = run.workmail()
    mailboxes = mailboxes_in_listing_order(workmail, run.organization_id)
    destination = run.destination
    polls = 0
    for first in range(0, len(mailboxes), SLOTS):
        running = []
        for mailbox in mailboxes[first : first + SLOTS]:
            running.append(
                workmail.start_export_job(
                    run.organization_id,
                    mailbox["id"],
                    destination["role_arn"],
                    destination["kms_key_arn"],
                    BUCKET,
                    PREFIX,
                    f"bench-batch-{mailbox['id']}",
                )
            )
        while running:
            run.clock.sleep(poll_interval)
            polls += 1
            running = [
                job_id
                for job_id in running
                if workmail.describe_export_job(run.organization_id, job_id).get("State") == JOB_RUNNING
            ]
    return {"observed_end": run.clock.service_now(), "poll_cycles": polls, "listings": 0}


class CountingClient:
    """A WorkMailClient that counts its describes (to count the wait's polls)."""

    def __init__(self, client):
        self._client = client
        self.describes = 0

    def describe_export_job(self, *args, **kwargs):
        self.describes += 1
        return self._client.describe_export_job(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def serial_tasks(run, poll_interval):  # pylint: disable=unused-argument
    """One workmail_mailbox_export task with wait=true per mailbox, one after the other."""
    mailboxes = mailboxes_in_listing_order(run.workmail(), run.organization_id)
    polls = 0
    for mailbox in mailboxes:
        params = {
            "state": "present",
            "organization_id": run.organization_id,
            "entity": mailbox["email"],
            "role_arn": run.destination["role_arn"],
            "kms_key_arn": run.destination["kms_key_arn"],
            "s3_bucket": BUCKET,
            "s3_prefix": PREFIX,
            "description": None,
            "client_token": None,
            "job_id": None,
            "wait": True,
            "wait_timeout": SERIAL_WAIT_TIMEOUT,
        }
        validate_export_params(params, REGION)
        workmail = CountingClient(run.workmail())
        result = run_export_job(
            workmail, params, now=run.clock.now, sleep=run.clock.sleep, monotonic=run.clock.monotonic
        )
        if result["mailbox_export_job"]["state"] != "COMPLETED":
            raise Broken(f"serial tasks: {mailbox['email']} ended {result['mailbox_export_job']['state']}")
        polls += workmail.describes - 1  # the describe right after the start is not a poll
    return {"observed_end": run.clock.service_now(), "poll_cycles": polls, "listings": len(mailboxes)}


STRATEGIES = (
    ("organization export (module)", organization_export),
    ("batches of 10 (listing order)", batches_of_ten),
    ("serial mailbox_export + wait", serial_tasks),
)


# Measuring


def epoch(value):
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def check_jobs(name, jobs, mailbox_ids):
    """Exactly one COMPLETED job per mailbox, and nothing else."""
    per_mailbox = {}
    for job in jobs:
        per_mailbox.setdefault(job["EntityId"].lower(), []).append(job)
    problems = []
    duplicates = {entity: len(found) for entity, found in per_mailbox.items() if len(found) > 1}
    if duplicates:
        problems.append(f"mailboxes with more than one job: {duplicates}")
    missing = sorted(set(mailbox_ids) - set(per_mailbox))
    if missing:
        problems.append(f"{len(missing)} mailboxes without a job: {missing[:5]}")
    unexpected = sorted(set(per_mailbox) - set(mailbox_ids))
    if unexpected:
        problems.append(f"jobs for unknown entities: {unexpected[:5]}")
    not_completed = [(job["JobId"], job["State"]) for job in jobs if job["State"] != "COMPLETED"]
    if not_completed:
        problems.append(f"jobs not COMPLETED: {not_completed[:5]}")
    if problems:
        raise Broken(f"{name}: " + "; ".join(problems))


def cpu_seconds():
    """CPU time of this process and of its waited-for children (the local AWS once stopped)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def measure(index, spec, poll_interval):
    """Run strategy ``index`` against a local AWS of its own; return its figures (JSON-serialisable)."""
    name, strategy = STRATEGIES[index]
    started = time.monotonic()
    cpu_before = cpu_seconds()
    aws = start_local_aws()
    try:
        run = Run(aws, spec)
        mailbox_ids = [item["id"].lower() for item in run.org["users"] + run.org["resources"]]
        outcome = strategy(run, poll_interval)
        calls = run.calls()
        jobs = aws.jobs()
    finally:
        aws.stop()
    check_jobs(name, jobs, mailbox_ids)
    durations = [float(job["DurationSeconds"]) for job in jobs]
    expected = sorted(duration(item["size_mb"] * SIZE_DIVISOR) for item in spec["users"] + spec["resources"])
    if any(abs(have - want) > 1e-6 for have, want in zip(sorted(durations), expected)):
        raise Broken(f"{name}: the job durations do not follow the time scale")
    listing_requests = calls.get(LISTING, 0)
    return {
        "name": name,
        "makespan": outcome["observed_end"] - run.started_at,
        "job_span": max(epoch(job["EndTime"]) for job in jobs) - min(epoch(job["StartTime"]) for job in jobs),
        "durations": durations,
        "calls": sum(calls.values()),
        "by_operation": calls,
        "listing_requests": listing_requests,
        "other_calls": sum(calls.values()) - listing_requests,
        "listings": outcome["listings"],
        "poll_cycles": outcome["poll_cycles"],
        "real_seconds": time.monotonic() - started,
        "cpu_seconds": cpu_seconds() - cpu_before,
        "s3_calls": outcome.get("s3_calls"),
        "manifest_bytes": outcome.get("manifest_bytes"),
        "pass_s3_bytes": outcome.get("pass_s3_bytes"),
        "pass_cpu_seconds": outcome.get("pass_cpu_seconds"),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def measure_in_parallel(args):
    """Each strategy in a child process of this script (``--strategy``), all at once; their JSON results."""
    children = []
    for index in range(len(STRATEGIES)):
        command = [sys.executable, os.path.abspath(__file__), str(args.mailboxes), "--strategy", str(index)]
        command += ["--poll-interval", str(args.poll_interval), "--seed", str(args.seed)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
        children.append(child)
    results = []
    failed = []
    for (name, dummy), child in zip(STRATEGIES, children):
        output, dummy = child.communicate()
        if child.returncode != 0:
            failed.append(f"{name} (exit code {child.returncode})")
            continue
        results.append(json.loads(output.strip().splitlines()[-1]))
    if failed:
        raise Broken("strategies that did not finish: " + ", ".join(failed))
    return results


# A model of the module's scheduling (no local AWS)


def model_makespan(durations, poll_interval, slots=SLOTS):
    """Makespan when passes run every ``poll_interval`` s from 0 (0: a pass the moment a job ends): each pass frees
    the slots of the jobs that ended by then and starts the largest pending mailboxes; the campaign is seen done by
    the first pass after the last end."""
    pending = sorted(durations, reverse=True)
    running = []
    moment = 0.0
    while True:
        running = [end for end in running if end > moment]
        while pending and len(running) < slots:
            running.append(moment + pending.pop(0))
        if not running:
            return moment
        earliest = min(running)
        moment = math.ceil(earliest / poll_interval) * poll_interval if poll_interval else earliest


def model_batches(durations, poll_interval, slots=SLOTS):
    """Makespan of batches of ``slots`` jobs taken largest first, each batch seen done by the first poll after its
    longest job (polls every ``poll_interval`` s after the batch started)."""
    ordered = sorted(durations, reverse=True)
    batches = [ordered[first : first + slots] for first in range(0, len(ordered), slots)]
    return sum(math.ceil(max(batch) / poll_interval) * poll_interval for batch in batches)


def largest_poll_interval_meeting(durations, target, step=5, limit=3600):
    """The largest poll interval (a multiple of ``step``) up to which the model meets ``target`` at every step."""
    bound = lower_bound(durations)
    best = None
    for interval in range(step, limit + step, step):
        if model_makespan(durations, interval) / bound > target:
            break
        best = interval
    return best


# Printing


def hours(seconds):
    return f"{seconds / 3600:.2f}"


def size_text(megabytes):
    return f"{megabytes / 1024:.1f} GB" if megabytes >= 1024 else f"{megabytes:.0f} MB"


def print_report(results, sizes, poll_interval, seed, real_seconds, parallel):
    mailboxes = len(sizes)
    durations = results[0]["durations"]
    bound = lower_bound(durations)
    print(
        f"organization export benchmark: {mailboxes} mailboxes (seed {seed}): sizes {size_text(min(sizes))} to "
        f"{size_text(max(sizes))}, median {size_text(sorted(sizes)[mailboxes // 2])}, total {size_text(sum(sizes))}"
    )
    print(
        f"simulated clock: a job takes max({MIN_SECONDS:.0f} s, {SECONDS_PER_MB:g} s/MB); poll interval "
        f"{poll_interval} s; lower bound = max(longest job {hours(max(durations))} h, total job time "
        f"{hours(sum(durations))} h / {SLOTS} = {hours(sum(durations) / SLOTS)} h) = {hours(bound)} h"
    )
    print(
        "makespan: from the strategy's first call to the poll that saw the last job COMPLETED (jobs: first "
        "StartTime to last EndTime); ratio = makespan / lower bound"
    )
    print(
        "calls: WorkMail requests; other/mbx: all but ListMailboxExportJobs, per mailbox; listings: whole "
        f"ListMailboxExportJobs listings (requests: pages of up to {PAGE_SIZE} jobs)"
    )
    header = (
        f"{'strategy':<30} {'makespan (h)':>12} {'jobs (h)':>8} {'bound (h)':>9} {'ratio':>6} {'calls':>6} "
        f"{'calls/mbx':>9} {'other/mbx':>9} {'listings (requests)':>19} {'poll cycles':>11} {'real (s)':>8} {'cpu (s)':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        listings = f"{result['listings']} ({result['listing_requests']})"
        print(
            f"{result['name']:<30} {hours(result['makespan']):>12} {hours(result['job_span']):>8} "
            f"{hours(lower_bound(result['durations'])):>9} {result['makespan'] / bound:>6.3f} "
            f"{result['calls']:>6} {result['calls'] / mailboxes:>9.2f} {result['other_calls'] / mailboxes:>9.2f} "
            f"{listings:>19} {result['poll_cycles']:>11} {result['real_seconds']:>8.1f} {result['cpu_seconds']:>7.1f}"
        )
    for result in results:
        detail = ", ".join(f"{op} {number}" for op, number in sorted(result["by_operation"].items()))
        print(f"  {result['name']}: {detail}")
    s3_calls = results[0]["s3_calls"]
    print(
        f"  {results[0]['name']}, S3 requests: "
        + ", ".join(f"{op} {number}" for op, number in sorted(s3_calls.items()))
        + f" ({s3_calls.get('PutObject manifest', 0) / mailboxes:.2f} manifest writes per mailbox, the manifest "
        f"{results[0]['manifest_bytes'] / 1024:.0f} KB at the end)"
    )

    module = results[0]
    ratio = module["makespan"] / bound
    other = module["other_calls"] / mailboxes
    calls_met = other <= CALLS_PER_MAILBOX_TARGET and module["listings"] <= module["poll_cycles"]
    print("targets (organization export):")
    ratio_met = "met" if ratio <= RATIO_TARGET else "NOT met"
    print(f"  makespan within {RATIO_TARGET} x the lower bound: {ratio:.3f}, {ratio_met}")
    print(
        f"  at most {CALLS_PER_MAILBOX_TARGET} calls per mailbox plus one listing per poll cycle: {other:.2f} per "
        f"mailbox, {module['listings']} listings ({module['listing_requests']} requests) in "
        f"{module['poll_cycles']} poll cycles, {'met' if calls_met else 'NOT met'}"
    )
    modelled = ", ".join(f"{p} s {model_makespan(durations, p) / bound:.3f}" for p in MODEL_POLL_INTERVALS)
    largest = largest_poll_interval_meeting(durations, RATIO_TARGET)
    print(
        f"model of the module's scheduling (largest first, slots refilled by each pass): at {poll_interval} s "
        f"{model_makespan(durations, poll_interval) / bound:.3f} (measured {ratio:.3f}); {modelled}; a pass at "
        f"every job end {model_makespan(durations, 0) / bound:.3f}; meets {RATIO_TARGET} up to a poll interval of "
        f"{largest} s"
    )
    print(f"batches of 10 taken largest first instead (model): {model_batches(durations, poll_interval) / bound:.3f}")
    how = "the strategies in parallel, one local AWS each" if parallel else "the strategies one after the other"
    cpu = sum(result["cpu_seconds"] for result in results)
    print(f"real time: {real_seconds:.1f} s ({how}; {cpu:.1f} s CPU, the local AWS included)")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "mailboxes", nargs="?", type=int, default=int(os.environ.get("BENCH_MAILBOXES", DEFAULT_MAILBOXES))
    )
    parser.add_argument(
        "--poll-interval", type=int, default=int(os.environ.get("BENCH_POLL_INTERVAL", DEFAULT_POLL_INTERVAL))
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", DEFAULT_SEED)))
    parser.add_argument("--sequential", action="store_true", help="run the strategies one after the other")
    parser.add_argument("--strategy", type=int, choices=range(len(STRATEGIES)), help=argparse.SUPPRESS)
    args = parser.parse_args(argv[1:])
    if args.mailboxes < 1:
        parser.error("mailboxes must be at least 1")
    if args.poll_interval < 5:
        parser.error("the poll interval must be at least 5 s (the module's minimum)")
    return args


def main(argv):
    args = parse_args(argv)
    started = time.monotonic()
    sizes = mailbox_sizes(args.mailboxes, args.seed)
    spec = organization_spec(sizes)
    try:
        if args.strategy is not None:  # a child of measure_in_parallel: one JSON line on stdout
            print(json.dumps(measure(args.strategy, spec, args.poll_interval)))
            return 0
        if args.sequential:
            results = [measure(index, spec, args.poll_interval) for index in range(len(STRATEGIES))]
        else:
            results = measure_in_parallel(args)
    except Broken as error:
        print(f"BROKEN: {error}", file=sys.stderr)
        return 1
    print_report(results, sizes, args.poll_interval, args.seed, time.monotonic() - started, not args.sequential)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
