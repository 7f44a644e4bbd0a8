"""The admin endpoint under ``/_emulator/``: health, reset, organizations, clock, time scale, faults, job failures,
calls, jobs, transport, dialects, forecasts and forecast export jobs.

Every answer is JSON. Errors answer 400 (bad body), 404 (unknown route), 405 (wrong method) or 409 (an
organization that exists already), with ``{"error": "..."}``. Admin requests are never faulted or counted (faults
apply to WorkMail and S3 requests only; see faults.py).
"""

import json
import os

import moto
from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from . import DEFAULT_ACCOUNT_ID
from . import EMULATOR_VERSION
from . import WORKMAIL_REGIONS
from .backend import backend_for
from .backend import iter_backends
from .backend import materialise_all
from .dialects import ENVIRONMENT_VARIABLE as DIALECTS_VARIABLE
from .dialects import DialectError
from .dialects import parse as parse_dialects
from .faults import WORKMAIL
from .faults import FaultConfigError
from .fixtures import FixtureError
from .fixtures import dialects_of
from .fixtures import normalise
from .fixtures import normalise_forecasts
from .fixtures import read_file
from .forecast import forecast_backend_for
from .forecast import iter_forecast_backends
from .forecast import materialise_forecasts
from .state import STATE

PREFIX = "/_emulator/"


class AdminError(Exception):
    """An admin request that cannot be served; carries the HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def add_organizations(organizations):
    """Add normalised organizations to their regions' backends; return their admin views."""
    now = STATE.clock.now()
    with STATE.lock:
        for spec in organizations:
            for _account, _region, backend in iter_backends():
                if spec["id"] in backend.organizations or any(
                    org.alias.lower() == spec["alias"].lower() for org in backend.organizations.values()
                ):
                    raise AdminError(409, f"organization {spec['alias']} ({spec['id']}) already exists")
        created = []
        for spec in organizations:
            created.append(backend_for(spec["region"], DEFAULT_ACCOUNT_ID).add_organization(spec, now))
        return [organization.admin_view() for organization in created]


def add_forecasts(forecasts):
    """Add normalised forecasts to their regions' Forecast backends; return their admin views."""
    now = STATE.clock.now()
    with STATE.lock:
        for spec in forecasts:
            if spec["name"] in forecast_backend_for(spec["region"], DEFAULT_ACCOUNT_ID).forecasts:
                raise AdminError(409, f"forecast {spec['name']} already exists in {spec['region']}")
        created = [
            forecast_backend_for(spec["region"], DEFAULT_ACCOUNT_ID).add_forecast(spec, now) for spec in forecasts
        ]
        return [forecast.admin_view() for forecast in created]


def load_startup_fixture():
    """(Re)load the fixture the server was started with, if any: its organizations and its dialects; then the
    dialects of the environment (``EMULATOR_DIALECTS``), which win."""
    added = []
    if STATE.fixture_path:
        data = read_file(STATE.fixture_path)
        organizations, dialects = normalise(data), dialects_of(data)
        forecasts = normalise_forecasts(data) if isinstance(data, dict) else []
        added = add_organizations(organizations)
        add_forecasts(forecasts)
        STATE.set_dialects(dialects)
    STATE.set_dialects(parse_dialects(os.environ.get(DIALECTS_VARIABLE, "")))
    return added


def reset_all():
    """Clear moto's state, the WorkMail and Forecast state, put the emulator settings back, reload the fixture."""
    with STATE.lock:
        BackendDict.reset()
        reset_model_data()
        STATE.reset()
        return load_startup_fixture()


def _all_organizations():
    out = []
    for _account, _region, backend in iter_backends():
        out.extend(organization.admin_view() for organization in backend.organizations.values())
    return out


def _body(request):
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise AdminError(400, f"the body is not valid JSON: {exc}") from exc


def _object(request):
    body = _body(request)
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    return body


def _health(_request):
    return {
        "status": "ok",
        "emulator_version": EMULATOR_VERSION,
        "moto_version": moto.__version__,
        "account_id": DEFAULT_ACCOUNT_ID,
        "workmail_regions": list(WORKMAIL_REGIONS),
        "now": STATE.clock.now(),
    }


def _reset(_request):
    organizations = reset_all()
    return {"status": "reset", "organizations": organizations, "forecasts": _all_forecasts()}


def _get_organizations(_request):
    with STATE.lock:
        return {"organizations": _all_organizations()}


def _post_organizations(request):
    body = _body(request)
    try:
        organizations, dialects = normalise(body), dialects_of(body)
        forecasts = normalise_forecasts(body) if isinstance(body, dict) else []
    except FixtureError as exc:
        raise AdminError(400, str(exc)) from exc
    added = add_organizations(organizations)
    add_forecasts(forecasts)
    STATE.set_dialects(dialects)
    return {"organizations": added}


def _all_forecasts():
    out = []
    for _account, _region, backend in iter_forecast_backends():
        out.extend(forecast.admin_view() for forecast in backend.forecasts.values())
    return sorted(out, key=lambda item: (item["region"], item["name"]))


def _get_forecasts(_request):
    with STATE.lock:
        return {"forecasts": _all_forecasts()}


def _post_forecasts(request):
    body = _body(request)
    if isinstance(body, dict) and set(body) - {"forecasts"}:
        raise AdminError(400, f"unknown keys {sorted(set(body) - {'forecasts'})}; expected forecasts")
    try:
        forecasts = normalise_forecasts(body)
    except FixtureError as exc:
        raise AdminError(400, str(exc)) from exc
    return {"forecasts": add_forecasts(forecasts)}


def _get_forecast_export_jobs(_request):
    with STATE.lock:
        now = STATE.clock.now()
        materialise_forecasts(now)
        jobs = []
        for _account, _region, backend in iter_forecast_backends():
            jobs.extend(backend.admin_jobs(now))
        return {"forecast_export_jobs": jobs}


def _clock_view():
    return {"now": STATE.clock.now(), "offset_seconds": STATE.clock.offset}


def _get_clock(_request):
    return _clock_view()


def _post_clock(request):
    body = _object(request)
    value = body.get("advance_seconds", 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdminError(400, "advance_seconds must be a number >= 0")
    try:
        STATE.clock.advance(value)
    except ValueError as exc:
        raise AdminError(400, str(exc)) from exc
    materialise_all(STATE.clock.now())
    materialise_forecasts(STATE.clock.now())
    return _clock_view()


def _get_time_scale(_request):
    return STATE.time_scale()


def _post_time_scale(request):
    body = _object(request)
    unknown = sorted(set(body) - {"seconds_per_mb", "min_seconds"})
    if unknown:
        raise AdminError(400, f"unknown keys {unknown}; expected seconds_per_mb and/or min_seconds")
    try:
        return STATE.set_time_scale(body.get("seconds_per_mb"), body.get("min_seconds"))
    except ValueError as exc:
        raise AdminError(400, str(exc)) from exc


def _get_faults(_request):
    return STATE.faults.snapshot()


def _post_faults(request):
    body = _object(request)
    known = {"service", "operation", "throttle_rate", "error_rate", "drop_rate", "lost_write_rate", "seed"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise AdminError(400, f"unknown keys {unknown}; expected {', '.join(sorted(known))}")
    try:
        return STATE.faults.configure(
            service=body.get("service", WORKMAIL),
            operation=body.get("operation", "*"),
            throttle_rate=body.get("throttle_rate", 0.0),
            error_rate=body.get("error_rate", 0.0),
            drop_rate=body.get("drop_rate", 0.0),
            lost_write_rate=body.get("lost_write_rate", 0.0),
            seed=body.get("seed"),
        )
    except FaultConfigError as exc:
        raise AdminError(400, str(exc)) from exc


def _get_transport(_request):
    return {"secure": STATE.secure_transport}


def _post_transport(request):
    body = _object(request)
    if set(body) != {"secure"} or not isinstance(body["secure"], bool):
        raise AdminError(400, 'expected {"secure": true|false}')
    with STATE.lock:
        STATE.secure_transport = body["secure"]
    return _get_transport(request)


def _get_job_failures(_request):
    return STATE.pending_job_failures()


def _post_job_failures(request):
    body = _object(request)
    unknown = sorted(set(body) - {"entity_id", "count", "error_info"})
    if unknown:
        raise AdminError(400, f"unknown keys {unknown}; expected entity_id, count and error_info")
    try:
        return STATE.fail_next_jobs(body.get("entity_id"), body.get("count", 1), body.get("error_info"))
    except ValueError as exc:
        raise AdminError(400, str(exc)) from exc


def _get_dialects(_request):
    with STATE.lock:
        return dict(STATE.dialects)


def _post_dialects(request):
    try:
        return STATE.set_dialects(_object(request))
    except DialectError as exc:
        raise AdminError(400, str(exc)) from exc


def _get_calls(_request):
    with STATE.lock:
        return dict(sorted(STATE.calls.items()))


def _get_jobs(_request):
    with STATE.lock:
        now = STATE.clock.now()
        materialise_all(now)
        jobs = []
        for _account, _region, backend in iter_backends():
            jobs.extend(backend.admin_jobs(now))
        return {"jobs": jobs}


ROUTES = {
    "health": {"GET": _health},
    "reset": {"POST": _reset},
    "organizations": {"GET": _get_organizations, "POST": _post_organizations},
    "clock": {"GET": _get_clock, "POST": _post_clock},
    "time_scale": {"GET": _get_time_scale, "POST": _post_time_scale},
    "faults": {"GET": _get_faults, "POST": _post_faults},
    "transport": {"GET": _get_transport, "POST": _post_transport},
    "job_failures": {"GET": _get_job_failures, "POST": _post_job_failures},
    "dialects": {"GET": _get_dialects, "POST": _post_dialects},
    "calls": {"GET": _get_calls},
    "jobs": {"GET": _get_jobs},
    "forecasts": {"GET": _get_forecasts, "POST": _post_forecasts},
    "forecast_export_jobs": {"GET": _get_forecast_export_jobs},
}


def admin_app(environ, start_response):
    """WSGI application for every path below /_emulator/."""
    request = Request(environ)
    route = request.path[len(PREFIX) :].strip("/") if request.path.startswith(PREFIX) else ""
    status = 200
    try:
        methods = ROUTES.get(route)
        if methods is None:
            raise AdminError(404, f"no admin route {request.path}; routes: {', '.join(sorted(ROUTES))}")
        handler = methods.get(request.method)
        if handler is None:
            raise AdminError(405, f"{request.path} accepts {', '.join(sorted(methods))}")
        payload = handler(request)
    except AdminError as exc:
        status = exc.status
        payload = {"error": str(exc)}
    response = Response(json.dumps(payload, indent=1), status=status, mimetype="application/json")
    return response(environ, start_response)
