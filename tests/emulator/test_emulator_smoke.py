"""Smoke tests: the pinned moto and the extension points the WorkMail plugin relies on; the launcher.

If a moto upgrade changes backend_url_patterns, lazy backend loading or BaseResponse dispatch, these fail first
and say which extension point moved.
"""

import os
import signal
import subprocess
import sys

import moto
import moto.backend_index
import moto.backends
import pytest
from moto.core.base_backend import BackendDict
from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.moto_server.werkzeug_app import create_backend_app
from workmail_emulator import PINNED_MOTO_VERSION
from workmail_emulator import plugin
from workmail_emulator.harness import SERVE

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_moto_is_the_pinned_release():
    assert moto.__version__ == PINNED_MOTO_VERSION, (
        f"moto {moto.__version__} is installed but the WorkMail plugin was written against {PINNED_MOTO_VERSION}: "
        "re-check plugin.py's extension points, then update PINNED_MOTO_VERSION and requirements/*.txt"
    )
    for requirements in ("requirements/py311.txt", "requirements/py312.txt"):
        path = os.path.join(REPO, requirements)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                assert f"moto[server]=={PINNED_MOTO_VERSION}" in handle.read(), f"{requirements} must pin moto"


def test_extension_point_url_patterns_route_workmail_hosts():
    plugin.install()
    names = [name for name, _pattern in moto.backend_index.backend_url_patterns]
    assert names.count("workmail") == 1, "backend_url_patterns is no longer a list of (service, regex) pairs"
    dispatcher = DomainDispatcherApplication(create_backend_app)
    assert dispatcher.get_backend_for_host("workmail.us-east-1.amazonaws.com") == "workmail"
    environ = {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/workmail/aws4_request, "
        "SignedHeaders=host, Signature=0",
        "PATH_INFO": "/",
    }
    assert dispatcher.infer_service_region_host(environ, "/") == "workmail.eu-west-1.amazonaws.com"


def test_extension_point_lazy_backend_loading_finds_the_plugin_module():
    plugin.install()
    backends = moto.backends.get_backend("workmail")
    assert isinstance(backends, BackendDict)
    assert type(backends["123456789012"]["us-east-1"]).__name__ == "WorkMailBackend"
    app = create_backend_app("workmail")
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert "/" in rules, f"moto no longer builds the Flask routes from the backend's url_paths: {rules}"


def test_extension_point_base_response_dispatch():
    from workmail_emulator.responses import WorkMailResponse

    for name in ("dispatch", "setup_class", "call_action", "_get_action"):
        assert hasattr(BaseResponse, name), f"moto.core.responses.BaseResponse.{name} is gone"
    assert issubclass(WorkMailResponse, BaseResponse)
    assert WorkMailResponse().service_name == "workmail"


def test_a_workmail_call_round_trips(local_aws):
    workmail = local_aws.client("workmail")
    summaries = workmail.list_organizations()["OrganizationSummaries"]
    assert [summary["Alias"] for summary in summaries] == ["example"]
    assert local_aws.health()["moto_version"] == PINNED_MOTO_VERSION


def _start_serve(*args, env=None):
    return subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, SERVE, "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_launcher_prints_the_endpoint_and_stops_cleanly():
    # How fast it starts is measured by tests/benchmarks/bench_emulator_startup.py (make bench), not here.
    process = _start_serve("--port", "0")
    try:
        line = process.stdout.readline()
        assert line.startswith("endpoint=http://127.0.0.1:"), line
        port = int(line.strip().rsplit(":", 1)[1])
        assert port > 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert process.stdout.read() == "", "the endpoint line must be the only line on stdout"
    process.stdout.close()
    process.stderr.close()


def test_launcher_reads_port_and_fixture_from_the_environment(tmp_path):
    fixture = tmp_path / "one.yml"
    fixture.write_text("organizations:\n  - alias: envfixture\n    region: us-west-2\n    users: [{name: zed}]\n")
    env = dict(os.environ, PORT="0", EMULATOR_FIXTURE=str(fixture))
    process = _start_serve(env=env)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("endpoint=http://127.0.0.1:")
        from workmail_emulator.harness import LocalAws

        aws = LocalAws(line.split("=", 1)[1])
        assert [org["alias"] for org in aws.organizations()] == ["envfixture"]
        assert aws.client("workmail", region="us-west-2").list_organizations()["OrganizationSummaries"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_launcher_refuses_non_loopback_addresses(host):
    result = subprocess.run(
        [sys.executable, SERVE, "--host", host, "--port", "0"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode != 0
    assert "loopback" in result.stderr
    assert result.stdout == ""


def test_launcher_reports_a_broken_fixture(tmp_path):
    fixture = tmp_path / "bad.yml"
    fixture.write_text("organizations:\n  - alias: bad\n    region: eu-central-1\n")
    result = subprocess.run(
        [sys.executable, SERVE, "--port", "0", "--fixture", str(fixture)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "region must be one of" in result.stderr
