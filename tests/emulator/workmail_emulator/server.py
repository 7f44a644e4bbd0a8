"""Launcher and WSGI front door: moto's server with WorkMail, the admin endpoint and fault injection.

``python tests/emulator/serve.py [--host 127.0.0.1] [--port N] [--fixture FILE]`` binds the loopback address,
loads the fixture, prints ``endpoint=http://127.0.0.1:<port>`` once ``GET /_emulator/health`` answers, and
serves in the foreground until SIGINT or SIGTERM.
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

from werkzeug.serving import make_server

from . import plugin
from .admin import PREFIX
from .admin import admin_app
from .admin import load_startup_fixture
from .backend import materialise_all
from .faults import FAULT_ERROR_500
from .faults import FAULT_ERROR_503
from .faults import FAULT_LOST_WRITE
from .faults import FAULT_THROTTLE
from .faults import FORECAST
from .faults import S3
from .faults import WORKMAIL
from .faults import WORKMAIL_WRITES
from .faults import is_forecast_write
from .forecast import materialise_forecasts
from .fixtures import DEFAULT_FIXTURE
from .dialects import DialectError
from .fixtures import FixtureError
from .s3_requests import is_write
from .s3_requests import s3_operation
from .state import STATE

DEFAULT_PORT = 5080
READY_TIMEOUT = 10.0
_FAULT_ANSWERS = {
    FAULT_THROTTLE: (400, "ThrottlingException", "Rate exceeded"),
    FAULT_ERROR_500: (500, "InternalFailure", "The request processing has failed because of an unknown error"),
    FAULT_ERROR_503: (503, "ServiceUnavailable", "The service is unavailable. Please try again later"),
}
# What S3 answers (REST XML errors): throttling is 503 SlowDown, not a 400.
_S3_FAULT_ANSWERS = {
    FAULT_THROTTLE: (503, "SlowDown", "Please reduce your request rate."),
    FAULT_ERROR_500: (500, "InternalError", "We encountered an internal error. Please try again."),
    FAULT_ERROR_503: (503, "ServiceUnavailable", "Service is unable to handle request."),
}
# moto answers these paths itself, whatever the service (its own API, the instance metadata service).
_MOTO_OWN_PATHS = ("/moto-api", "/favicon.ico", "/latest/meta-data/", "/latest/api/")
# Talk to ourselves directly, whatever HTTP(S)_PROXY says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_STATUS_TEXT = {400: "400 Bad Request", 500: "500 Internal Server Error", 503: "503 Service Unavailable"}


class EmulatorApplication:
    """Routes /_emulator/ to the admin app, everything else to moto; counts WorkMail calls, faults WorkMail and S3."""

    def __init__(self):
        # Imported here so that importing this module stays cheap for tools that only need main()'s parser.
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # pylint: disable=import-outside-toplevel
        from moto.moto_server.werkzeug_app import create_backend_app

        self.moto_app = DomainDispatcherApplication(create_backend_app)
        self._request_ids = 0
        self._lock = threading.Lock()
        self._backends = {}

    def _request_id(self):
        with self._lock:
            self._request_ids += 1
            return f"emulator-{os.getpid()}-{self._request_ids:08d}"

    def moto_service(self, environ):
        """The backend moto's dispatcher sends this request to (``s3``, ``kms``, ``workmail``, ...), chosen the way
        DomainDispatcherApplication.get_application chooses it: the SigV4 credential scope's service (S3 Control
        by its path or host), else what an unsigned request's body or path says, else S3."""
        path = environ.get("PATH_INFO", "")
        if isinstance(path, bytes):
            path = path.decode("utf-8")
        if path.startswith(_MOTO_OWN_PATHS):
            return None
        host = self.moto_app.infer_service_region_host(environ, path) or "s3.us-east-1.amazonaws.com"
        # The backend depends on the host alone (a scan of moto's URL patterns, about 1 ms): remember it.
        with self._lock:
            if host not in self._backends:
                self._backends[host] = self.moto_app.get_backend_for_host(host)
            return self._backends[host]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX) or path == PREFIX.rstrip("/"):
            return admin_app(environ, start_response)
        # Jobs are materialised lazily: whatever the request, finished jobs write their output first.
        now = STATE.clock.now()
        materialise_all(now)
        materialise_forecasts(now)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("WorkMailService."):
            operation = target.split(".", 1)[1]
            STATE.count_call(operation)
            fault = STATE.faults.decide(operation, WORKMAIL, write=operation in WORKMAIL_WRITES)
            if fault in _FAULT_ANSWERS:
                return self._workmail_fault(fault, start_response)
            if fault is not None:
                return self._lose_connection(fault, environ)
        elif target.startswith("AmazonForecast."):
            operation = target.split(".", 1)[1]
            STATE.count_call(operation)
            fault = STATE.faults.decide(operation, FORECAST, write=is_forecast_write(operation))
            if fault in _FAULT_ANSWERS:
                return self._workmail_fault(fault, start_response)
            if fault is not None:
                return self._lose_connection(fault, environ)
        elif not target and self.moto_service(environ) == "s3":
            fault = STATE.faults.decide(s3_operation(environ), S3, write=is_write(environ))
            if fault in _S3_FAULT_ANSWERS:
                return self._s3_fault(fault, environ, start_response)
            if fault is not None:
                return self._lose_connection(fault, environ)
        return self.moto_app(environ, start_response)

    def _workmail_fault(self, fault, start_response):
        status, error_type, message = _FAULT_ANSWERS[fault]
        body = json.dumps({"__type": error_type, "message": message}).encode("utf-8")
        start_response(
            _STATUS_TEXT[status],
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(body))),
                ("X-Amzn-ErrorType", error_type),
                ("x-amzn-RequestId", self._request_id()),
            ],
        )
        return [body]

    def _s3_fault(self, fault, environ, start_response):
        """An S3 error answer: REST XML with Code, Message, RequestId and HostId (no body for HEAD, as S3)."""
        status, code, message = _S3_FAULT_ANSWERS[fault]
        request_id = self._request_id()
        host_id = base64.b64encode(hashlib.sha256(request_id.encode("ascii")).digest()).decode("ascii")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
        ).encode("utf-8")
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
        _drain(environ)
        start_response(
            _STATUS_TEXT[status],
            [
                ("Content-Type", "application/xml"),
                ("Content-Length", str(len(body))),
                ("x-amz-request-id", request_id),
                ("x-amz-id-2", host_id),
            ],
        )
        return [body]

    def _lose_connection(self, fault, environ):
        """FAULT_DROP: close the connection without an answer. FAULT_LOST_WRITE: let moto serve the request (so the
        write takes effect), throw its answer away, then close the connection."""
        if fault == FAULT_LOST_WRITE:
            answer = self.moto_app(environ, lambda status, headers, exc_info=None: (lambda data: None))
            try:
                for _chunk in answer:
                    pass
            finally:
                if hasattr(answer, "close"):
                    answer.close()
        else:
            _drain(environ)
        _drop_connection(environ)


def _drain(environ):
    """Read the request's body, so that the client has sent all of it before it sees an answer or a closed
    connection (an unread body makes the close a reset while the client is still sending)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    while length > 0 and stream is not None:
        chunk = stream.read(min(length, 1 << 20))
        if not chunk:
            break
        length -= len(chunk)


def _drop_connection(environ):
    """Close the client's connection without an HTTP answer (werkzeug treats this as a dropped client)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAbortedError("fault injection: connection dropped")


def _handler_class(quiet):
    from moto.moto_server.werkzeug_app import MotoRequestHandler  # pylint: disable=import-outside-toplevel

    class EmulatorRequestHandler(MotoRequestHandler):
        """Date headers in simulated time (the service's clock); per-request log lines unless quiet."""

        def date_time_string(self, timestamp=None):
            return super().date_time_string(STATE.clock.now() if timestamp is None else timestamp)

        def log_request(self, code="-", size="-"):
            if not quiet:
                super().log_request(code, size)

    return EmulatorRequestHandler


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv=None):
    """Command line, with PORT and EMULATOR_FIXTURE as fallbacks."""
    parser = argparse.ArgumentParser(
        prog="serve.py",
        description="Local AWS for mailops.workmail: moto (S3, KMS, IAM, STS, ...) plus WorkMail mailbox export.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or DEFAULT_PORT),
        help="port to bind, 0 for a free one (default: $PORT or 5080)",
    )
    parser.add_argument(
        "--fixture",
        default=os.environ.get("EMULATOR_FIXTURE") or DEFAULT_FIXTURE,
        help="YAML fixture with organizations, users and resources (default: $EMULATOR_FIXTURE or "
        "tests/emulator/fixtures/default.yml); an empty string loads none",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log every request on stderr")
    args = parser.parse_args(argv)
    if not _loopback(args.host):
        parser.error(f"--host must be a loopback address (the emulator never listens on a network): {args.host}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535: {args.port}")
    return args


def wait_until_healthy(base_url, timeout=READY_TIMEOUT):
    """Poll GET /_emulator/health until it answers 200; return True if it did within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with _DIRECT.open(f"{base_url}{PREFIX}health", timeout=1) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.02)
    return False


def main(argv=None):
    """Run the emulator in the foreground; return the process exit code."""
    args = parse_args(argv)
    plugin.install()
    if not plugin.moto_version_matches():
        print(
            f"warning: moto {plugin.moto.__version__} is installed; the WorkMail plugin is written for "
            f"moto {plugin.PINNED_MOTO_VERSION}",
            file=sys.stderr,
        )
    STATE.fixture_path = os.path.abspath(args.fixture) if args.fixture else None
    try:
        load_startup_fixture()
    except (FixtureError, DialectError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    try:
        server = make_server(
            args.host, args.port, EmulatorApplication(), threaded=True, request_handler=_handler_class(args.quiet)
        )
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = server.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)
    host = "127.0.0.1" if args.host == "localhost" else args.host
    base_url = f"http://{host}:{port}"

    stop = threading.Event()

    def _stop(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    worker = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="emulator-http", daemon=True
    )
    worker.start()
    if not wait_until_healthy(base_url):
        print(f"error: {base_url}{PREFIX}health did not answer", file=sys.stderr)
        server.shutdown()
        return 1
    print(f"endpoint={base_url}", flush=True)
    while not stop.wait(0.1):
        pass
    server.shutdown()
    server.server_close()
    return 0
