"""The admin endpoint: health, reset, clock, time scale, faults and call counts."""

import json
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import EndpointConnectionError
from emulator_testlib import checked_client
from emulator_testlib import error_of
from emulator_testlib import start
from workmail_emulator.harness import EmulatorError


def test_health(aws):
    health = aws.health()
    assert health["status"] == "ok"
    assert health["account_id"] == "123456789012"
    assert abs(health["now"] - time.time()) < 5


def test_unknown_routes_and_methods(aws):
    with pytest.raises(EmulatorError, match="404"):
        aws.admin("GET", "nothing-here")
    with pytest.raises(EmulatorError, match="405"):
        aws.admin("GET", "reset")
    request = urllib.request.Request(aws.endpoint + "/_emulator/clock", data=b"{nope", method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)  # pylint: disable=consider-using-with
    assert excinfo.value.code == 400
    assert "error" in json.loads(excinfo.value.read())


def test_reset_clears_workmail_and_moto_state(aws, workmail, org_id, destination):
    start(workmail, org_id, destination, "alice")
    aws.add_organizations([{"alias": "temporary"}])
    aws.advance_clock(100)
    aws.set_time_scale(seconds_per_mb=5)
    aws.set_faults(operation="ListUsers", throttle_rate=1.0)
    answer = aws.reset()
    assert [org["alias"] for org in answer["organizations"]] == ["example"]
    assert aws.jobs() == [] and aws.calls() == {}
    assert aws.admin("GET", "clock")["offset_seconds"] == 0
    assert aws.admin("GET", "time_scale") == {"seconds_per_mb": 0.02, "min_seconds": 2.0}
    assert aws.admin("GET", "faults")["rules"] == {}
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("iam").list_roles()["Roles"] == []
    assert aws.client("kms").list_keys()["Keys"] == []
    assert [org["Alias"] for org in workmail.list_organizations()["OrganizationSummaries"]] == ["example"]
    assert workmail.list_mailbox_export_jobs(OrganizationId=org_id)["Jobs"] == []


def test_clock(aws):
    before = aws.now()
    after = aws.advance_clock(3600)
    assert 3600 <= after - before < 3610
    assert aws.admin("GET", "clock")["offset_seconds"] == 3600
    with pytest.raises(EmulatorError, match="400"):
        aws.advance_clock(-1)
    assert aws.now() >= after


def test_workmail_answers_carry_the_simulated_time_in_their_date_header(aws, workmail, org_id):
    simulated = aws.advance_clock(3 * 86400)
    answer = workmail.list_mailbox_export_jobs(OrganizationId=org_id)
    date = parsedate_to_datetime(answer["ResponseMetadata"]["HTTPHeaders"]["date"]).timestamp()
    assert abs(date - simulated) < 5
    assert date - time.time() > 3 * 86400 - 5


def test_time_scale_validation(aws):
    with pytest.raises(EmulatorError, match="400"):
        aws.set_time_scale(seconds_per_mb=-1)
    with pytest.raises(EmulatorError, match="400"):
        aws.admin("POST", "time_scale", {"seconds_per_megabyte": 1})
    assert aws.set_time_scale(seconds_per_mb=0.5, min_seconds=0.1) == {"seconds_per_mb": 0.5, "min_seconds": 0.1}


def test_calls_count_workmail_operations_only(aws, workmail, org_id):
    workmail.list_organizations()
    workmail.list_users(OrganizationId=org_id)
    workmail.list_users(OrganizationId=org_id)
    with pytest.raises(ClientError):
        workmail.describe_user(OrganizationId=org_id, UserId="nobody")
    aws.client("s3").list_buckets()
    aws.health()
    assert aws.calls() == {"DescribeUser": 1, "ListOrganizations": 1, "ListUsers": 2}


def test_throttling(aws, workmail, org_id):
    aws.set_faults(operation="ListUsers", throttle_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        workmail.list_users(OrganizationId=org_id)
    assert error_of(excinfo)[0] == "ThrottlingException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Other operations are not affected; the admin endpoint never is.
    assert workmail.list_resources(OrganizationId=org_id)["Resources"]
    assert aws.health()["status"] == "ok"
    assert aws.calls()["ListUsers"] == 1


def test_server_errors(aws, workmail):
    aws.set_faults(operation="*", error_rate=1.0, seed=3)
    statuses = set()
    for _attempt in range(12):
        with pytest.raises(ClientError) as excinfo:
            workmail.list_organizations()
        statuses.add((excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], error_of(excinfo)[0]))
    assert statuses == {(500, "InternalFailure"), (503, "ServiceUnavailable")}
    assert aws.calls() == {"ListOrganizations": 12}


def test_dropped_connections(aws):
    aws.set_faults(operation="ListOrganizations", drop_rate=1.0)
    workmail = checked_client(aws)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        workmail.list_organizations()
    aws.set_faults(operation="ListOrganizations")  # all rates 0: off again
    assert workmail.list_organizations()["OrganizationSummaries"]
    assert aws.calls() == {"ListOrganizations": 2}


def test_retrying_clients_ride_through_faults(aws):
    # With seed 8 the first four draws are: throttle, none, drop, none.
    aws.set_faults(operation="*", throttle_rate=0.3, error_rate=0.2, drop_rate=0.2, seed=8)
    workmail = checked_client(aws, retries={"mode": "standard", "total_max_attempts": 5})
    for _attempt in range(2):
        assert workmail.list_organizations()["OrganizationSummaries"]
    assert aws.calls() == {"ListOrganizations": 4}


def _fault_sequence(aws, seed):
    aws.reset()
    aws.set_faults(operation="*", throttle_rate=0.3, error_rate=0.3, seed=seed)
    workmail = checked_client(aws)
    outcome = []
    for _attempt in range(20):
        try:
            workmail.list_organizations()
            outcome.append("ok")
        except ClientError as exc:
            outcome.append(exc.response["Error"]["Code"])
    return outcome


def test_faults_are_deterministic_with_a_seed(aws):
    first = _fault_sequence(aws, 42)
    assert first == _fault_sequence(aws, 42)
    assert first != _fault_sequence(aws, 43)
    assert {"ok", "ThrottlingException"} <= set(first)


def test_fault_rules_per_operation_and_wildcard(aws):
    snapshot = aws.set_faults(operation="*", throttle_rate=0.5)
    snapshot = aws.set_faults(operation="ListUsers", error_rate=1.0)
    assert snapshot["rules"] == {
        "*": {"throttle_rate": 0.5, "error_rate": 0.0, "drop_rate": 0.0, "lost_write_rate": 0.0},
        "ListUsers": {"throttle_rate": 0.0, "error_rate": 1.0, "drop_rate": 0.0, "lost_write_rate": 0.0},
    }
    assert snapshot["s3_rules"] == {}
    assert aws.set_faults(operation="*")["rules"] == {}
    with pytest.raises(EmulatorError, match="400"):
        aws.set_faults(operation="*", throttle_rate=0.7, error_rate=0.7)
    with pytest.raises(EmulatorError, match="400"):
        aws.set_faults(operation="*", drop_rate=2)
