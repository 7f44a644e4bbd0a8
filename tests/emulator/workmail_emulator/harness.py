"""Start the emulator as a subprocess and drive it from tests: ``start_local_aws()`` returns a ``LocalAws``.

Plain Python (no pytest), so integration tests, benchmarks and scripts can use it as well as the fixtures in
tests/conftest.py.
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

SERVE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "serve.py")
DEFAULT_REGION = "us-east-1"
ACCESS_KEY = "testing"
# Any secret works; one that never appears in normal text, because Ansible masks it wherever it is printed.
SECRET_KEY = "local-aws-dummy-secret"
# The emulator is on loopback: never go through HTTP(S)_PROXY to reach it.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_DROPPED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class EmulatorError(RuntimeError):
    """The emulator did not start, or an admin request failed."""


class LocalAws:
    """A running local AWS: its endpoint, boto3 clients, and the admin endpoint as methods."""

    region = DEFAULT_REGION

    def __init__(self, endpoint, process=None, log_path=None):
        self.endpoint = endpoint
        self._process = process
        self.log_path = log_path

    # ------------------------------------------------------------------ clients and environment
    @property
    def env(self):
        """os.environ plus dummy credentials, region and AWS_ENDPOINT_URL, for ansible-playbook & co."""
        env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
        env.update(
            {
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        for name in ("NO_PROXY", "no_proxy"):
            hosts = [host for host in env.get(name, "").split(",") if host]
            env[name] = ",".join(hosts + [host for host in ("127.0.0.1", "localhost") if host not in hosts])
        return env

    def client(self, service, region=None, **config):
        """A boto3 client for ``service`` at the emulator (S3 with path-style addressing)."""
        options = dict(config)
        if service == "s3":
            options.setdefault("s3", {"addressing_style": "path"})
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region or self.region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(**options),
        )

    # ------------------------------------------------------------------ the admin endpoint
    def admin(self, method, route, body=None):
        """Call ``/_emulator/<route>``; return the decoded JSON answer or raise EmulatorError."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            f"{self.endpoint}/_emulator/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with _DIRECT.open(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise EmulatorError(f"{method} /_emulator/{route} answered {exc.code}: {detail}") from exc

    def health(self):
        """GET /_emulator/health."""
        return self.admin("GET", "health")

    def reset(self):
        """Clear every service's state and reload the start-up fixture."""
        return self.admin("POST", "reset")

    def organizations(self):
        """Every organization, with users, resources and groups (admin view)."""
        return self.admin("GET", "organizations")["organizations"]

    def add_organizations(self, organizations):
        """Add organizations (fixture shape); return them with their ids."""
        return self.admin("POST", "organizations", {"organizations": list(organizations)})["organizations"]

    def forecasts(self):
        """Every Amazon Forecast forecast of the local AWS (admin view, with ``arn``)."""
        return self.admin("GET", "forecasts")["forecasts"]

    def add_forecasts(self, forecasts):
        """Add forecasts (fixture shape: ``[{"name": ..., "status": ..., "items": ...}]``); return them with their ARNs."""
        return self.admin("POST", "forecasts", {"forecasts": list(forecasts)})["forecasts"]

    def forecast_export_jobs(self):
        """Every forecast export job with its internal details (scheduled end, part keys)."""
        return self.admin("GET", "forecast_export_jobs")["forecast_export_jobs"]

    def advance_clock(self, seconds):
        """Move the simulated clock forward; return the new simulated time (epoch seconds)."""
        return self.admin("POST", "clock", {"advance_seconds": seconds})["now"]

    def now(self):
        """Simulated time (epoch seconds)."""
        return self.admin("GET", "clock")["now"]

    def set_time_scale(self, seconds_per_mb=None, min_seconds=None):
        """Change how long jobs started afterwards take."""
        body = {}
        if seconds_per_mb is not None:
            body["seconds_per_mb"] = seconds_per_mb
        if min_seconds is not None:
            body["min_seconds"] = min_seconds
        return self.admin("POST", "time_scale", body)

    def set_faults(self, **rule):
        """POST /_emulator/faults: service (``workmail``, the default, ``s3`` or ``forecast``), operation (a name of that
        service or ``*``), throttle_rate, error_rate, drop_rate, lost_write_rate, seed. Returns the rules."""
        return self.admin("POST", "faults", rule)

    def faults(self):
        """GET /_emulator/faults: seed, rules (WorkMail), s3_rules, injected (per service and kind), requests."""
        return self.admin("GET", "faults")

    def set_secure_transport(self, secure):
        """Make requests count as made over TLS (True, the default) or plain HTTP (aws:SecureTransport)."""
        return self.admin("POST", "transport", {"secure": bool(secure)})

    def fail_next_jobs(self, entity_id, count=1, error_info=None):
        """Make the next ``count`` export jobs of ``entity_id`` end FAILED (with ``error_info``) when they finish."""
        body = {"entity_id": entity_id, "count": count}
        if error_info is not None:
            body["error_info"] = error_info
        return self.admin("POST", "job_failures", body)

    def set_dialects(self, **switches):
        """POST /_emulator/dialects: set some dialect switches (``s3_path="s3_uri"``, ...); return every switch."""
        return self.admin("POST", "dialects", switches)

    def dialects(self):
        """GET /_emulator/dialects: every dialect switch and its value."""
        return self.admin("GET", "dialects")

    def calls(self):
        """WorkMail calls per operation since the last reset."""
        return self.admin("GET", "calls")

    def jobs(self):
        """Every export job with its internal details."""
        return self.admin("GET", "jobs")["jobs"]

    # ------------------------------------------------------------------ lifetime
    def stop(self):
        """Terminate the emulator process (if this object started it)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)

    def log(self):
        """What the emulator wrote to stderr so far."""
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()


def _read_lines(stream, lines):
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


# How long to wait for the endpoint line. It comes in well under a second on an idle machine; a machine busy with
# parallel test workers, sanity and builds has taken over 10 s, so the wait is generous (a start that fails exits
# at once and is reported at once).
START_TIMEOUT = 120.0


def start_local_aws(fixture=None, timeout=START_TIMEOUT, python=None, quiet=True):
    """Start ``serve.py --port 0`` and return a LocalAws once it printed its endpoint (within ``timeout`` s)."""
    command = [python or sys.executable, SERVE, "--port", "0"]
    if fixture is not None:
        command += ["--fixture", fixture]
    if quiet:
        command.append("--quiet")
    handle, log_path = tempfile.mkstemp(prefix="workmail-emulator-", suffix=".log")
    with os.fdopen(handle, "w") as log_file:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            command,
            stdout=subprocess.PIPE,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    lines = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        line = None
    if not line or not line.startswith("endpoint="):
        process.kill()
        process.wait(timeout=10)
        with open(log_path, encoding="utf-8", errors="replace") as log_file:
            output = log_file.read()
        raise EmulatorError(
            f"the local AWS did not print its endpoint within {timeout} s (exit code {process.poll()}); "
            f"stdout: {line!r}; stderr:\n{output}"
        )
    return LocalAws(line.strip().split("=", 1)[1], process=process, log_path=log_path)
