# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from datetime import datetime
from datetime import timezone

import botocore.exceptions
import pytest
from ansible_collections.mailops.workmail.plugins.module_utils.errors import CancelRefusedError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.retries import TransientErrorRetry
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import client_error
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake
from botocore.exceptions import ClientError


@pytest.fixture(name="fake")
def fixture_fake():
    return standard_fake()


@pytest.fixture(name="client")
def fixture_client(fake):
    return WorkMailClient(fake, RetryPolicy(retries=5, delay=0, max_delay=0))


def test_list_export_jobs_follows_next_token_with_max_results_100(fake, client):
    ids = [fake.add_job(ALICE_ID, state="COMPLETED") for dummy in range(250)]
    jobs = client.list_export_jobs(ORG_ID)
    assert [job["JobId"] for job in jobs] == ids
    calls = [kwargs for name, kwargs in fake.calls if name == "list_mailbox_export_jobs"]
    assert len(calls) == 3
    assert all(call["MaxResults"] == 100 for call in calls)
    assert "NextToken" not in calls[0]
    assert [call.get("NextToken") for call in calls[1:]] == ["page-100", "page-200"]


def test_list_export_jobs_empty(fake, client):
    assert client.list_export_jobs(ORG_ID) == []
    assert fake.count("list_mailbox_export_jobs") == 1


def test_repeated_next_token_stops(client):
    class Looping:
        def list_mailbox_export_jobs(self, **kwargs):
            return {"Jobs": [{"JobId": "j"}], "NextToken": "same"}

    with pytest.raises(WorkMailError, match="same NextToken twice"):
        WorkMailClient(Looping(), RetryPolicy(delay=0)).list_export_jobs(ORG_ID)


@pytest.mark.parametrize(
    "code, status",
    [
        ("ThrottlingException", 400),
        ("TooManyRequestsException", 429),
        ("Throttling", 400),
        ("InternalFailure", 500),
        ("ServiceUnavailable", 503),
        ("SomethingNew", 502),
        ("", 504),
    ],
)
def test_throttling_and_5xx_are_retried(fake, client, code, status):
    fake.fail("list_mailbox_export_jobs", code, status=status, times=2)
    assert client.list_export_jobs(ORG_ID) == []
    assert fake.count("list_mailbox_export_jobs") == 3


def test_retries_give_up_after_the_limit(fake):
    fake.fail("list_mailbox_export_jobs", "ThrottlingException", times=10)
    with pytest.raises(ClientError):
        WorkMailClient(fake, RetryPolicy(retries=3, delay=0)).list_export_jobs(ORG_ID)
    assert fake.count("list_mailbox_export_jobs") == 3


@pytest.mark.parametrize("code", ["InvalidParameterException", "OrganizationStateException", "AccessDeniedException"])
def test_other_errors_propagate_without_retry(fake, client, code):
    fake.fail("list_mailbox_export_jobs", code)
    with pytest.raises(ClientError) as raised:
        client.list_export_jobs(ORG_ID)
    assert raised.value.response["Error"]["Code"] == code
    assert fake.count("list_mailbox_export_jobs") == 1


def test_retry_decision():
    def found(code, status):
        error = client_error(code, status=status)
        return TransientErrorRetry.found(TransientErrorRetry.status_code_from_exception(error))

    assert found("ThrottlingException", 400)
    assert found("RequestLimitExceeded", 400)
    assert found("Anything", 500)
    assert found("Anything", 429)
    assert not found("LimitExceededException", 400)
    assert not found("EntityNotFoundException", 400)


def test_describe_adds_job_id_and_maps_not_found(fake, client):
    job_id = fake.add_job(ALICE_ID)
    job = client.describe_export_job(ORG_ID, job_id)
    assert job["JobId"] == job_id
    assert job["RoleArn"] == ROLE_ARN
    with pytest.raises(JobNotFoundError) as raised:
        client.describe_export_job(ORG_ID, "missing")
    assert raised.value.job_id == "missing"
    assert "missing was not found" in str(raised.value)


def test_describe_not_found_retries_only_when_asked(fake, client):
    job_id = fake.add_job(ALICE_ID)
    fake.fail("describe_mailbox_export_job", "EntityNotFoundException", times=2)
    assert client.describe_export_job(ORG_ID, job_id, not_found_retries=True)["JobId"] == job_id
    assert fake.count("describe_mailbox_export_job") == 3
    fake.fail("describe_mailbox_export_job", "EntityNotFoundException")
    with pytest.raises(JobNotFoundError):
        client.describe_export_job(ORG_ID, job_id)


def test_start_passes_every_parameter_and_maps_limit(fake, client):
    job_id = client.start_export_job(ORG_ID, ALICE_ID, ROLE_ARN, KEY_ARN, BUCKET, PREFIX, "tok", description="d")
    name, kwargs = [call for call in fake.calls if call[0] == "start_mailbox_export_job"][0]
    assert kwargs == {
        "ClientToken": "tok",
        "OrganizationId": ORG_ID,
        "EntityId": ALICE_ID,
        "RoleArn": ROLE_ARN,
        "KmsKeyArn": KEY_ARN,
        "S3BucketName": BUCKET,
        "S3Prefix": PREFIX,
        "Description": "d",
    }
    assert fake.jobs[job_id]["State"] == "RUNNING"
    fake.fail("start_mailbox_export_job", "LimitExceededException", "The request exceeds the limit of the resource.")
    with pytest.raises(LimitError) as raised:
        client.start_export_job(ORG_ID, ALICE_ID, ROLE_ARN, KEY_ARN, BUCKET, PREFIX, "tok2")
    assert raised.value.aws_message == "The request exceeds the limit of the resource."
    assert raised.value.limit == "unknown"


def test_cancel_maps_errors(fake, client):
    job_id = fake.add_job(ALICE_ID)
    client.cancel_export_job(ORG_ID, job_id, "c")
    assert fake.jobs[job_id]["State"] == "CANCELLED"
    with pytest.raises(JobNotFoundError):
        client.cancel_export_job(ORG_ID, "missing", "c")
    fake.fail("cancel_mailbox_export_job", "InvalidParameterException", "near completion")
    with pytest.raises(CancelRefusedError) as raised:
        client.cancel_export_job(ORG_ID, job_id, "c")
    assert raised.value.code == "InvalidParameterException"
    assert isinstance(raised.value.original, ClientError)


@pytest.mark.parametrize("code", ["AccessDeniedException", "OrganizationStateException", "ValidationException"])
def test_cancel_other_errors_propagate_unchanged(fake, client, code):
    job_id = fake.add_job(ALICE_ID, progress=5)
    fake.fail("cancel_mailbox_export_job", code, "no")
    with pytest.raises(ClientError) as raised:
        client.cancel_export_job(ORG_ID, job_id, "c")
    assert not isinstance(raised.value, CancelRefusedError)
    assert raised.value.response["Error"]["Code"] == code


def test_entities(fake, client):
    assert client.describe_entity(ORG_ID, "alice@example.com") == {
        "EntityId": ALICE_ID,
        "Name": "alice",
        "Type": "USER",
    }
    assert client.describe_entity(ORG_ID, "nobody@example.com") is None
    for number in range(130):
        fake.add_user(f"user{number:03d}")
    assert len(client.list_users(ORG_ID)) == 132
    assert [user["Name"] for user in client.list_users(ORG_ID, {"UsernamePrefix": "user12"})] == [
        f"user12{digit}" for digit in range(10)
    ]
    assert [resource["Name"] for resource in client.list_resources(ORG_ID)] == ["room1"]
    fake.fail("list_resources", "UnsupportedOperationException")
    assert client.list_resources(ORG_ID) == []


def test_organization_errors_propagate(client):
    with pytest.raises(ClientError) as raised:
        client.list_export_jobs("m-fedcba9876543210fedcba9876543210")
    assert raised.value.response["Error"]["Code"] == "OrganizationNotFoundException"


def test_service_time_from_date_header():
    class Dated:
        def list_mailbox_export_jobs(self, **kwargs):
            return {"Jobs": [], "ResponseMetadata": {"HTTPHeaders": {"date": "Sun, 22 Nov 2026 05:01:02 GMT"}}}

    client = WorkMailClient(Dated(), RetryPolicy(delay=0))
    assert client.service_time() is None
    client.list_export_jobs(ORG_ID)
    assert client.service_time() == datetime(2026, 11, 22, 5, 1, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "lost",
    [
        botocore.exceptions.ConnectionClosedError(endpoint_url="http://127.0.0.1:1/"),
        botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1/"),
        botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1:1/"),
    ],
    ids=["closed", "refused", "read-timeout"],
)
def test_lost_connections_are_retried(lost):
    class Flaky:
        calls = 0

        def start_mailbox_export_job(self, **kwargs):
            Flaky.calls += 1
            if Flaky.calls <= 2:
                raise lost
            return {"JobId": "job-1"}

    client = WorkMailClient(Flaky(), RetryPolicy(delay=0))
    assert client.start_export_job(ORG_ID, ALICE_ID, ROLE_ARN, KEY_ARN, BUCKET, PREFIX, "token") == "job-1"
    assert Flaky.calls == 3


def test_other_botocore_failures_are_not_retried():
    class Broken:
        calls = 0

        def list_mailbox_export_jobs(self, **kwargs):
            Broken.calls += 1
            raise botocore.exceptions.NoCredentialsError()

    with pytest.raises(botocore.exceptions.NoCredentialsError):
        WorkMailClient(Broken(), RetryPolicy(delay=0)).list_export_jobs(ORG_ID)
    assert Broken.calls == 1
