# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import export_jobs
from ansible_collections.mailops.workmail.plugins.module_utils.errors import CancelError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobAWSError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobCancelledError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobFailedError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WaitTimeoutError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.times import service_now
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import build_description
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BOB_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROOM_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import FakeClock
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import start_params
from botocore.exceptions import ClientError

NOW = datetime(2026, 11, 22, 5, 0, 0, tzinfo=timezone.utc)


class FakeTimer:
    """sleep() and monotonic() that only move when the code under test sleeps."""

    def __init__(self):
        self.current = 1000.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.current += seconds

    def monotonic(self):
        return self.current


class Warnings(list):
    def __call__(self, message):
        self.append(message)


@pytest.fixture(name="fake")
def fixture_fake():
    return standard_fake(clock=FakeClock(NOW))


@pytest.fixture(name="client")
def fixture_client(fake):
    return WorkMailClient(fake, RetryPolicy(retries=3, delay=0, max_delay=0))


@pytest.fixture(name="warnings")
def fixture_warnings():
    return Warnings()


def request_for(entity_id=ALICE_ID, **overrides):
    values = dict(
        organization_id=ORG_ID,
        entity_id=entity_id,
        role_arn=ROLE_ARN,
        kms_key_arn=KEY_ARN,
        s3_bucket=BUCKET,
        s3_prefix=PREFIX,
    )
    values.update(overrides)
    return export_jobs.ExportRequest(**values)


def start(client, fake, request, check_mode=False, warnings=None):
    return export_jobs.ensure_started(client, request, check_mode, warn=warnings, now=fake.clock.now)


# ensure_started


def test_new_job_is_started_with_the_token_and_described(fake, client):
    request = request_for(description="Before end of support")
    changed, job, diff = start(client, fake, request)
    assert changed is True
    assert job["state"] == "RUNNING"
    assert job["job_id"] in fake.jobs
    assert job["client_token"] == request.client_token
    assert job["description"] == f"Before end of support [mailops:client_token={request.client_token}]"
    assert job["role_arn"] == ROLE_ARN and job["s3_prefix"] == PREFIX
    assert job["start_time"] == "2026-11-22T05:00:00+00:00"
    assert diff == {"before": {}, "after": job}
    starts = [kwargs for name, kwargs in fake.calls if name == "start_mailbox_export_job"]
    assert len(starts) == 1
    assert starts[0]["ClientToken"] == request.client_token
    assert starts[0]["Description"] == job["description"]


def test_existing_job_is_returned_unchanged(fake, client):
    request = request_for()
    dummy, first, dummy_diff = start(client, fake, request)
    fake.clock.advance(minutes=3)
    changed, job, diff = start(client, fake, request_for())
    assert changed is False
    assert job == first
    assert diff == {"before": first, "after": first}
    assert fake.count("start_mailbox_export_job") == 1


def test_existing_job_found_across_pages(fake, client):
    request = request_for(entity_id=BOB_ID)
    for number in range(130):
        fake.add_job(ALICE_ID, state="COMPLETED", description=build_description(None, f"other-{number}"))
    job_id = fake.add_job(BOB_ID, description=build_description("x", request.client_token))
    for number in range(100):
        fake.add_job(ALICE_ID, state="COMPLETED", description=build_description(None, f"later-{number}"))
    changed, job, dummy = start(client, fake, request)
    assert changed is False
    assert job["job_id"] == job_id
    assert fake.count("list_mailbox_export_jobs") == 3
    assert fake.count("start_mailbox_export_job") == 0


def test_find_job_by_token_one_listing_newest_job(fake, client):
    older = fake.add_job(ALICE_ID, state="CANCELLED", description=build_description(None, "tok"), age=timedelta(days=2))
    newer = fake.add_job(ALICE_ID, state="COMPLETED", description=build_description(None, "tok"), age=timedelta(days=1))
    for number in range(150):
        fake.add_job(BOB_ID, state="COMPLETED", description=f"no marker {number}")
    job = export_jobs.find_job_by_token(client, ORG_ID, "tok")
    assert job["job_id"] == newer != older
    assert job["role_arn"] == ROLE_ARN  # described, not only listed
    assert fake.count("list_mailbox_export_jobs") == 2
    assert fake.count("describe_mailbox_export_job") == 1
    assert export_jobs.find_job_by_token(client, ORG_ID, "missing") is None


def test_check_mode_predicts_a_new_job_without_starting(fake, client):
    request = request_for(description="d")
    changed, job, diff = start(client, fake, request, check_mode=True)
    assert changed is True
    assert job == {
        "job_id": None,
        "entity_id": ALICE_ID,
        "description": f"d [mailops:client_token={request.client_token}]",
        "role_arn": ROLE_ARN,
        "kms_key_arn": KEY_ARN,
        "s3_bucket_name": BUCKET,
        "s3_prefix": PREFIX,
        "s3_path": None,
        "estimated_progress": 0,
        "state": "RUNNING",
        "error_info": None,
        "start_time": None,
        "end_time": None,
        "client_token": request.client_token,
    }
    assert diff == {"before": {}, "after": job}
    assert fake.count("start_mailbox_export_job") == 0


def test_check_mode_with_existing_job(fake, client):
    dummy, first, dummy_diff = start(client, fake, request_for())
    changed, job, dummy_diff = start(client, fake, request_for(), check_mode=True)
    assert (changed, job) == (False, first)


def ten_running_jobs(fake):
    return [fake.add_job(f"r-{number:032x}", state="RUNNING", age=timedelta(hours=1)) for number in range(10)]


@pytest.mark.parametrize("check_mode", [True, False])
def test_ten_running_jobs_limit_is_explained(fake, client, check_mode):
    running = ten_running_jobs(fake)
    with pytest.raises(LimitError) as raised:
        start(client, fake, request_for(), check_mode=check_mode)
    error = raised.value
    assert error.limit == "concurrent_jobs"
    assert "already has 10 running mailbox export jobs" in error.message
    assert "at most 10 per organization" in error.message
    assert all(job_id in error.message for job_id in running)
    assert sorted(job["job_id"] for job in error.details["running_jobs"]) == sorted(running)
    assert fake.count("start_mailbox_export_job") == (0 if check_mode else 1)


@pytest.mark.parametrize("check_mode", [True, False])
@pytest.mark.parametrize("state", ["COMPLETED", "RUNNING"])
def test_mailbox_24_hour_limit_is_explained(fake, client, check_mode, state):
    earlier = fake.add_job(ALICE_ID, state=state, age=timedelta(hours=2), description="exported by hand")
    with pytest.raises(LimitError) as raised:
        start(client, fake, request_for(), check_mode=check_mode)
    error = raised.value
    assert error.limit == "mailbox_24h"
    assert error.details["blocking_job_id"] == earlier
    assert error.details["next_export_time"] == "2026-11-23T03:00:00+00:00"
    assert f"already exported by job {earlier}" in error.message
    assert "exported again after 2026-11-23T03:00:00+00:00" in error.message


def test_job_older_than_24_hours_does_not_block(fake, client):
    fake.add_job(ALICE_ID, state="COMPLETED", age=timedelta(hours=25))
    changed, job, dummy = start(client, fake, request_for(), check_mode=True)
    assert changed is True
    changed, job, dummy = start(client, fake, request_for())
    assert changed is True and job["job_id"]


def test_check_mode_warns_about_recent_failed_job(fake, client, warnings):
    failed = fake.add_job(ALICE_ID, state="FAILED", age=timedelta(hours=1))
    changed, dummy, dummy_diff = start(client, fake, request_for(), check_mode=True, warnings=warnings)
    assert changed is True
    assert len(warnings) == 1
    assert failed in warnings[0] and "may refuse" in warnings[0]


def test_real_refusal_names_a_recent_failed_job(fake, client):
    failed = fake.add_job(ALICE_ID, state="FAILED", age=timedelta(hours=1))
    with pytest.raises(LimitError) as raised:
        start(client, fake, request_for())
    assert raised.value.limit == "mailbox_24h"
    assert raised.value.details["blocking_job_id"] == failed


def test_unknown_limit_falls_back_to_aws_message(fake, client):
    fake.fail("start_mailbox_export_job", "LimitExceededException", "Some quota was exceeded.")
    with pytest.raises(LimitError) as raised:
        start(client, fake, request_for())
    error = raised.value
    assert error.limit == "unknown"
    assert "without saying which limit" in error.message
    assert "AWS said: Some quota was exceeded." in error.message
    assert error.aws_message == "Some quota was exceeded."
    assert fake.count("list_mailbox_export_jobs") == 2  # listed again to explain


def test_old_job_returned_for_the_token_is_not_a_change(fake, client, warnings):
    request = request_for()
    old = fake.add_job(ALICE_ID, state="COMPLETED", age=timedelta(days=8), client_token=request.client_token)
    changed, job, diff = start(client, fake, request, warnings=warnings)
    assert changed is False
    assert job["job_id"] == old
    assert job["client_token"] == request.client_token
    assert diff["before"] == diff["after"] == job
    assert "existing job" in warnings[0]


def test_token_matched_job_in_listing_without_marker_is_not_a_change(fake, client):
    request = request_for()
    listed = fake.add_job(ALICE_ID, state="RUNNING", age=timedelta(hours=1), client_token=request.client_token)
    changed, job, dummy = start(client, fake, request)
    assert changed is False
    assert job["job_id"] == listed


def test_clock_skew_does_not_make_a_new_job_old(fake, client):
    # This host's clock is 3 minutes ahead of the service: the new job still counts as new.
    request = request_for()
    changed, dummy, dummy_diff = export_jobs.ensure_started(
        client, request, False, now=lambda: fake.clock.now() + timedelta(minutes=3)
    )
    assert changed is True


@pytest.mark.parametrize("code", ["AccessDeniedException", "EntityNotFoundException"])
def test_failure_to_describe_a_started_job_still_names_it_and_is_a_change(fake, client, code):
    fake.fail("describe_mailbox_export_job", code, "no", times=5)
    with pytest.raises((JobAWSError, JobNotFoundError)) as raised:
        start(client, fake, request_for())
    error = raised.value
    (job_id,) = fake.jobs
    assert error.details["job_id"] == job_id
    assert error.details["changed"] is True
    if code == "AccessDeniedException":
        assert isinstance(error, JobAWSError)
        assert error.message == f"mailbox export job {job_id} was started, but describing it failed"
        assert error.aws_error.response["Error"]["Code"] == code
    else:
        assert isinstance(error, JobNotFoundError)


def test_describe_after_start_tolerates_eventual_consistency(fake, client):
    original = fake.describe_mailbox_export_job
    misses = []

    def flaky(**kwargs):
        if not misses:
            misses.append(kwargs["JobId"])
            fake.calls.append(("describe_mailbox_export_job", kwargs))
            raise ClientError({"Error": {"Code": "EntityNotFoundException", "Message": "not yet"}}, "Describe")
        return original(**kwargs)

    fake.describe_mailbox_export_job = flaky
    changed, job, dummy = start(client, fake, request_for())
    assert changed is True and job["job_id"] == misses[0]


@pytest.mark.parametrize("check_mode", [False, True])
def test_given_token_of_another_mailbox_is_refused_before_any_start(fake, client, check_mode):
    job_id = fake.add_job(ALICE_ID, description=build_description(None, "fixed-token"))
    with pytest.raises(ParameterError) as raised:
        start(client, fake, request_for(entity_id=BOB_ID, client_token="fixed-token"), check_mode=check_mode)
    error = raised.value
    assert error.parameter == "client_token"
    assert error.message == (
        f"client_token: is already used by job {job_id} for mailbox {ALICE_ID}; a client token identifies one "
        f"export: use another token"
    )
    assert error.details["job_id"] == job_id
    assert error.details["mailbox_export_job"]["entity_id"] == ALICE_ID
    assert error.details["changed"] is False
    assert fake.count("start_mailbox_export_job") == 0


@pytest.mark.parametrize(
    "field, option, value",
    [
        ("s3_bucket", "s3_bucket", "another-bucket"),
        ("s3_prefix", "s3_prefix", "elsewhere"),
        ("role_arn", "role_arn", "arn:aws:iam::123456789012:role/other"),
        ("kms_key_arn", "kms_key_arn", "arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab"),
    ],
)
def test_given_token_of_another_destination_is_refused(fake, client, field, option, value):
    job_id = fake.add_job(ALICE_ID, description=build_description(None, "fixed-token"), **{field: value})
    with pytest.raises(ParameterError) as raised:
        start(client, fake, request_for(client_token="fixed-token"))
    message = raised.value.message
    assert message.startswith(f"client_token: is already used by job {job_id} for mailbox {ALICE_ID} with {option} ")
    assert repr(value) in message and "use another token" in message
    assert fake.count("start_mailbox_export_job") == 0


def test_given_token_finds_its_own_job_whatever_the_id_case(fake, client):
    job_id = fake.add_job(ALICE_ID.upper(), description=build_description("d", "fixed-token"))
    changed, job, dummy = start(client, fake, request_for(client_token="fixed-token"))
    assert changed is False and job["job_id"] == job_id


def test_listed_job_that_cannot_be_described_is_compared_on_what_the_listing_shows(fake, client):
    job_id = fake.add_job(BOB_ID, description=build_description(None, "fixed-token"))
    fake.fail("describe_mailbox_export_job", "EntityNotFoundException")
    with pytest.raises(ParameterError, match=f"job {job_id} for mailbox {BOB_ID}"):
        start(client, fake, request_for(client_token="fixed-token"))


def test_old_job_answered_for_a_given_token_with_another_mailbox_is_refused(fake, client):
    old = fake.add_job(BOB_ID, state="COMPLETED", age=timedelta(days=8), client_token="fixed-token")
    with pytest.raises(ParameterError) as raised:
        start(client, fake, request_for(client_token="fixed-token"))
    assert raised.value.details["job_id"] == old
    assert raised.value.details["changed"] is False


def test_one_token_looped_over_mailboxes_exports_only_the_first_and_fails_the_others(fake, client):
    first = export_jobs.run_present(client, start_params(client_token="batch-1"), now=fake.clock.now)
    assert first["changed"] is True
    for entity in ("bob@example.com", "room1"):
        with pytest.raises(ParameterError) as raised:
            export_jobs.run_present(client, start_params(entity=entity, client_token="batch-1"), now=fake.clock.now)
        assert raised.value.parameter == "client_token"
        assert first["mailbox_export_job"]["job_id"] in raised.value.message
    assert fake.count("start_mailbox_export_job") == 1


def test_derived_token_job_is_not_compared(fake, client):
    # A derived token is a digest of the start parameters: a job found by it is this export, however AWS spells
    # what it reports.
    request = request_for()
    job_id = fake.add_job(ALICE_ID, description=build_description(None, request.client_token), s3_prefix=PREFIX + "/")
    changed, job, dummy = start(client, fake, request)
    assert changed is False and job["job_id"] == job_id


def test_estimate_service_now_prefers_service_clock_and_reported_times(fake, client):
    assert service_now(client, [], fake.clock.now) == NOW
    later = NOW + timedelta(hours=5)
    assert service_now(client, [{"StartTime": later}], fake.clock.now) == later
    client.last_response_time = NOW + timedelta(hours=1)
    assert service_now(client, [], fake.clock.now) == NOW + timedelta(hours=1)


# ensure_cancelled


def test_cancel_running_job_by_id(fake, client):
    job_id = fake.add_job(ALICE_ID, progress=40, description=build_description(None, "tok"))
    changed, job, diff = export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id)
    assert changed is True
    assert job["state"] == "CANCELLED"
    assert job["client_token"] == "tok"
    assert diff["before"]["state"] == "RUNNING" and diff["after"]["state"] == "CANCELLED"
    cancels = [kwargs for name, kwargs in fake.calls if name == "cancel_mailbox_export_job"]
    assert cancels == [{"ClientToken": f"mailops-cancel-{job_id}", "JobId": job_id, "OrganizationId": ORG_ID}]


def test_cancel_running_job_by_token(fake, client):
    job_id = fake.add_job(ALICE_ID, description=build_description("x", "tok"))
    changed, job, dummy = export_jobs.ensure_cancelled(client, ORG_ID, client_token="tok")
    assert changed is True and job["job_id"] == job_id and fake.jobs[job_id]["State"] == "CANCELLED"


@pytest.mark.parametrize("state", ["COMPLETED", "FAILED", "CANCELLED"])
def test_cancel_finished_job_is_no_change(fake, client, state):
    job_id = fake.add_job(ALICE_ID, state=state)
    changed, job, diff = export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id)
    assert changed is False and job["state"] == state and diff["before"] == diff["after"]
    assert fake.count("cancel_mailbox_export_job") == 0


@pytest.mark.parametrize("kwargs", [{"job_id": "job-missing"}, {"client_token": "nothing"}])
def test_cancel_missing_job_is_no_change(client, kwargs):
    assert export_jobs.ensure_cancelled(client, ORG_ID, **kwargs) == (False, None, {"before": {}, "after": {}})


def test_cancel_needs_id_or_token(client):
    with pytest.raises(ParameterError):
        export_jobs.ensure_cancelled(client, ORG_ID)


def test_cancel_check_mode(fake, client):
    job_id = fake.add_job(ALICE_ID, progress=10)
    changed, job, diff = export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id, check_mode=True)
    assert changed is True and job["state"] == "CANCELLED"
    assert diff["before"]["state"] == "RUNNING"
    assert fake.jobs[job_id]["State"] == "RUNNING"
    assert fake.count("cancel_mailbox_export_job") == 0


def test_cancel_near_completion_is_reported(fake, client):
    job_id = fake.add_job(ALICE_ID, progress=96)
    with pytest.raises(CancelError) as raised:
        export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id)
    error = raised.value
    assert "too near completion to cancel" in error.message
    assert "96%" in error.message
    assert error.details["job_id"] == job_id
    assert error.details["estimated_progress"] == 96
    assert error.details["mailbox_export_job"]["state"] == "RUNNING"
    assert "near completion and cannot be cancelled" in error.message


def test_cancel_refused_because_job_completed_meanwhile(fake, client, warnings):
    job_id = fake.add_job(ALICE_ID, progress=96)
    fake.script(job_id, [{}, {"State": "COMPLETED", "EstimatedProgress": 100, "EndTime": NOW}])
    changed, job, diff = export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id, warn=warnings)
    assert changed is False and job["state"] == "COMPLETED"
    assert diff["before"]["state"] == "RUNNING"
    assert "finished before it could be cancelled" in warnings[0]


def test_cancel_accepted_but_job_completed(fake, client, warnings):
    fake.cancel_takes_effect = False
    job_id = fake.add_job(ALICE_ID, progress=50)
    fake.script(job_id, [{}, {"State": "COMPLETED", "EstimatedProgress": 100}])
    changed, job, dummy = export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id, warn=warnings)
    assert changed is False and job["state"] == "COMPLETED"
    assert "COMPLETED before the cancellation took effect" in warnings[0]


@pytest.mark.parametrize("code", ["AccessDeniedException", "OrganizationStateException"])
def test_cancel_errors_other_than_a_refusal_propagate(fake, client, code):
    job_id = fake.add_job(ALICE_ID, progress=5)
    fake.fail("cancel_mailbox_export_job", code, "not allowed")
    with pytest.raises(ClientError) as raised:
        export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id)
    assert raised.value.response["Error"]["Code"] == code
    assert "near completion" not in str(raised.value)
    assert fake.count("describe_mailbox_export_job") == 1  # only the describe before the cancel
    assert fake.jobs[job_id]["State"] == "RUNNING"


def test_accepted_cancel_of_a_job_still_running_is_reported_as_described_without_warning(fake, client, warnings):
    fake.cancel_takes_effect = False
    job_id = fake.add_job(ALICE_ID, progress=30)
    changed, job, diff = export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id, warn=warnings)
    assert changed is True
    assert job["state"] == "RUNNING" and diff["after"] == job
    assert warnings == []


def test_cancel_refusal_without_explanation_reraises_aws_error(fake, client):
    job_id = fake.add_job(ALICE_ID, progress=10)
    fake.fail("cancel_mailbox_export_job", "InvalidParameterException", "cannot cancel")
    original = fake.describe_mailbox_export_job
    seen = []

    def describe_then_vanish(**kwargs):
        seen.append(kwargs)
        if len(seen) > 1:
            raise ClientError({"Error": {"Code": "EntityNotFoundException", "Message": "gone"}}, "Describe")
        return original(**kwargs)

    fake.describe_mailbox_export_job = describe_then_vanish
    with pytest.raises(ClientError) as raised:
        export_jobs.ensure_cancelled(client, ORG_ID, job_id=job_id)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"


# wait_for_job


def test_wait_completes_after_polls_with_backoff(fake, client):
    job_id = fake.add_job(ALICE_ID)
    fake.script(
        job_id,
        [{}, {"EstimatedProgress": 30}, {"EstimatedProgress": 60}, {"State": "COMPLETED", "EstimatedProgress": 100}],
    )
    timer = FakeTimer()
    job = export_jobs.wait_for_job(client, ORG_ID, job_id, 600, sleep=timer.sleep, monotonic=timer.monotonic)
    assert job["state"] == "COMPLETED" and job["estimated_progress"] == 100
    assert timer.sleeps == [3, 4.5, 6.75]
    assert fake.count("describe_mailbox_export_job") == 4


def test_wait_backoff_is_capped(fake, client):
    job_id = fake.add_job(ALICE_ID)
    fake.script(job_id, [{}] * 12 + [{"State": "COMPLETED"}])
    timer = FakeTimer()
    export_jobs.wait_for_job(client, ORG_ID, job_id, 100000, sleep=timer.sleep, monotonic=timer.monotonic)
    assert min(timer.sleeps) == 3
    assert max(timer.sleeps) == 60
    assert timer.sleeps == sorted(timer.sleeps)


def test_wait_failed_job(fake, client):
    job_id = fake.add_job(ALICE_ID)
    fake.script(job_id, [{}, {"State": "FAILED", "ErrorInfo": "Access denied to the KMS key"}])
    timer = FakeTimer()
    with pytest.raises(JobFailedError) as raised:
        export_jobs.wait_for_job(client, ORG_ID, job_id, 600, sleep=timer.sleep, monotonic=timer.monotonic)
    error = raised.value
    assert error.details["job_id"] == job_id
    assert error.details["error_info"] == "Access denied to the KMS key"
    assert job_id in error.message and "Access denied to the KMS key" in error.message


def test_wait_cancelled_job(fake, client):
    job_id = fake.add_job(ALICE_ID)
    fake.script(job_id, [{"State": "CANCELLED", "EstimatedProgress": 20}])
    timer = FakeTimer()
    with pytest.raises(JobCancelledError) as raised:
        export_jobs.wait_for_job(client, ORG_ID, job_id, 600, sleep=timer.sleep, monotonic=timer.monotonic)
    assert raised.value.details["job_id"] == job_id
    assert "CANCELLED" in raised.value.message


def test_wait_timeout_leaves_job_running_with_last_progress(fake, client):
    job_id = fake.add_job(ALICE_ID, progress=42)
    timer = FakeTimer()
    with pytest.raises(WaitTimeoutError) as raised:
        export_jobs.wait_for_job(client, ORG_ID, job_id, 10, sleep=timer.sleep, monotonic=timer.monotonic)
    error = raised.value
    assert timer.sleeps == [3, 4.5, 2.5]
    assert error.details["job_id"] == job_id
    assert error.details["estimated_progress"] == 42
    assert "42%" in error.message and "left running" in error.message and "resume" in error.message
    assert fake.jobs[job_id]["State"] == "RUNNING"
    assert fake.count("cancel_mailbox_export_job") == 0


# run_present / run_absent


def test_run_present_resolves_entity_and_is_idempotent_across_entity_forms(fake, client):
    first = export_jobs.run_present(client, start_params(entity="alice@example.com"), now=fake.clock.now)
    second = export_jobs.run_present(client, start_params(entity="alice"), now=fake.clock.now)
    third = export_jobs.run_present(client, start_params(entity=ALICE_ID), now=fake.clock.now)
    assert first["changed"] is True
    assert second["changed"] is third["changed"] is False
    assert first["mailbox_export_job"]["job_id"] == second["mailbox_export_job"]["job_id"]
    assert fake.count("start_mailbox_export_job") == 1


def test_run_present_waits_and_resumes_after_timeout(fake, client):
    timer = FakeTimer()
    params = start_params(entity="room1", wait=True, wait_timeout=5)
    with pytest.raises(WaitTimeoutError) as raised:
        export_jobs.run_present(client, params, now=fake.clock.now, sleep=timer.sleep, monotonic=timer.monotonic)
    job_id = raised.value.job_id
    assert raised.value.details["changed"] is True
    assert fake.jobs[job_id]["EntityId"] == ROOM_ID
    fake.script(job_id, [{"EstimatedProgress": 80}, {"State": "COMPLETED", "EstimatedProgress": 100}])
    result = export_jobs.run_present(
        client, dict(params, wait_timeout=600), now=fake.clock.now, sleep=timer.sleep, monotonic=timer.monotonic
    )
    assert result["changed"] is False
    assert result["mailbox_export_job"]["job_id"] == job_id
    assert result["mailbox_export_job"]["state"] == "COMPLETED"
    assert result["mailbox_export_job"]["client_token"]
    assert result["diff"]["after"]["state"] == "COMPLETED"
    assert fake.count("start_mailbox_export_job") == 1


@pytest.mark.parametrize("wait", [False, True])
@pytest.mark.parametrize("check_mode", [False, True])
def test_run_present_existing_failed_job_fails_the_task(fake, client, wait, check_mode):
    request = request_for()
    job_id = fake.add_job(
        ALICE_ID, state="FAILED", description=build_description(None, request.client_token), age=timedelta(hours=2)
    )
    with pytest.raises(JobFailedError) as raised:
        export_jobs.run_present(client, start_params(wait=wait), check_mode=check_mode, now=fake.clock.now)
    error = raised.value
    assert error.details["changed"] is False
    assert error.details["job_id"] == job_id
    assert error.details["error_info"] == "The role could not be assumed"
    assert error.details["mailbox_export_job"]["state"] == "FAILED"
    assert error.message.startswith(f"mailbox export job {job_id} FAILED: The role could not be assumed; ")
    assert "a new attempt needs another client_token" in error.message
    assert "one export per mailbox every 24 hours" in error.message
    assert "2026-11-23T03:00:00+00:00" in error.message
    assert fake.count("start_mailbox_export_job") == 0


@pytest.mark.parametrize("wait", [False, True])
def test_run_present_existing_cancelled_job_fails_the_task(fake, client, wait):
    job_id = fake.add_job(ALICE_ID, state="CANCELLED", description=build_description(None, "tok"), progress=20)
    with pytest.raises(JobCancelledError) as raised:
        export_jobs.run_present(client, start_params(client_token="tok", wait=wait), now=fake.clock.now)
    error = raised.value
    assert error.details["changed"] is False and error.details["job_id"] == job_id
    assert f"mailbox export job {job_id} was cancelled" in error.message
    assert "client token tok (given)" in error.message and "another client_token" in error.message
    assert fake.count("start_mailbox_export_job") == 0


def test_run_present_job_failing_while_waiting_is_a_change_with_the_hint(fake, client):
    timer = FakeTimer()
    fake.clock.advance(minutes=1)
    original = fake.start_mailbox_export_job

    def start_then_fail(**kwargs):
        answer = original(**kwargs)
        fake.script(answer["JobId"], [{}, {"State": "FAILED", "ErrorInfo": "KMS key disabled"}])
        return answer

    fake.start_mailbox_export_job = start_then_fail
    with pytest.raises(JobFailedError) as raised:
        export_jobs.run_present(
            client, start_params(wait=True), now=fake.clock.now, sleep=timer.sleep, monotonic=timer.monotonic
        )
    error = raised.value
    assert error.details["changed"] is True
    assert error.details["mailbox_export_job"]["client_token"].startswith("mailops-")
    assert "KMS key disabled" in error.message and "another client_token" in error.message


def test_run_present_aws_error_while_waiting_names_the_started_job(fake, client):
    timer = FakeTimer()
    original = fake.describe_mailbox_export_job
    describes = []

    def describe_then_deny(**kwargs):
        describes.append(kwargs)
        if len(describes) > 1:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, "Describe")
        return original(**kwargs)

    fake.describe_mailbox_export_job = describe_then_deny
    with pytest.raises(JobAWSError) as raised:
        export_jobs.run_present(
            client, start_params(wait=True), now=fake.clock.now, sleep=timer.sleep, monotonic=timer.monotonic
        )
    error = raised.value
    (job_id,) = fake.jobs
    assert error.details["job_id"] == job_id
    assert error.details["changed"] is True
    assert error.details["mailbox_export_job"]["job_id"] == job_id
    assert error.message == f"waiting for mailbox export job {job_id} failed"
    assert error.aws_error.response["Error"]["Code"] == "AccessDeniedException"


def test_run_present_wait_timeout_on_an_existing_job_is_not_a_change(fake, client):
    timer = FakeTimer()
    export_jobs.run_present(client, start_params(), now=fake.clock.now)
    with pytest.raises(WaitTimeoutError) as raised:
        export_jobs.run_present(
            client,
            start_params(wait=True, wait_timeout=1),
            now=fake.clock.now,
            sleep=timer.sleep,
            monotonic=timer.monotonic,
        )
    assert raised.value.details["changed"] is False and raised.value.details["job_id"]


def test_uppercase_id_derives_the_token_of_the_email_form(fake, client):
    by_email = export_jobs.build_export_request(client, start_params(entity="alice@example.com"))
    by_upper_id = export_jobs.build_export_request(client, start_params(entity=ALICE_ID.upper()))
    assert by_upper_id.entity_id == ALICE_ID
    assert by_upper_id.client_token == by_email.client_token
    room_by_name = export_jobs.build_export_request(client, start_params(entity="room1"))
    room_by_upper_id = export_jobs.build_export_request(client, start_params(entity="r-" + ROOM_ID[2:].upper()))
    assert room_by_upper_id.client_token == room_by_name.client_token
    first = export_jobs.run_present(client, start_params(entity="alice@example.com"), now=fake.clock.now)
    again = export_jobs.run_present(client, start_params(entity=ALICE_ID.upper()), now=fake.clock.now)
    assert again["changed"] is False
    assert again["mailbox_export_job"]["job_id"] == first["mailbox_export_job"]["job_id"]
    assert fake.count("start_mailbox_export_job") == 1


def test_run_present_check_mode_does_not_wait(fake, client):
    timer = FakeTimer()
    export_jobs.run_present(client, start_params(), now=fake.clock.now)
    result = export_jobs.run_present(
        client, start_params(wait=True), check_mode=True, now=fake.clock.now, sleep=timer.sleep
    )
    assert result["changed"] is False and result["mailbox_export_job"]["state"] == "RUNNING"
    assert timer.sleeps == []


def test_run_absent_by_start_parameters(fake, client):
    started = export_jobs.run_present(client, start_params(), now=fake.clock.now)
    params = start_params(state="absent", entity="alice")
    result = export_jobs.run_absent(client, params)
    assert result["changed"] is True
    assert result["mailbox_export_job"]["job_id"] == started["mailbox_export_job"]["job_id"]
    assert result["mailbox_export_job"]["state"] == "CANCELLED"
    again = export_jobs.run_export_job(client, params)
    assert again["changed"] is False


def test_run_absent_wait_aws_error_names_the_cancelled_job(fake, client):
    fake.cancel_takes_effect = False
    job_id = fake.add_job(ALICE_ID, progress=10)
    timer = FakeTimer()
    params = {"state": "absent", "organization_id": ORG_ID, "job_id": job_id, "wait": True, "wait_timeout": 60}
    fake.script(job_id, [{}, {}])
    original = fake.describe_mailbox_export_job

    def describe_twice_then_deny(**kwargs):
        if fake.count("describe_mailbox_export_job") >= 2:
            fake.calls.append(("describe_mailbox_export_job", kwargs))
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Describe")
        return original(**kwargs)

    fake.describe_mailbox_export_job = describe_twice_then_deny
    with pytest.raises(JobAWSError) as raised:
        export_jobs.run_absent(
            WorkMailClient(fake, RetryPolicy(retries=1, delay=0, max_delay=0)),
            params,
            sleep=timer.sleep,
            monotonic=timer.monotonic,
        )
    assert raised.value.details["job_id"] == job_id
    assert raised.value.details["changed"] is True


def test_run_absent_wait_until_stopped(fake, client):
    fake.cancel_takes_effect = False
    job_id = fake.add_job(ALICE_ID, progress=10)
    fake.script(job_id, [{}, {}, {}, {"State": "CANCELLED"}])
    timer = FakeTimer()
    params = {"state": "absent", "organization_id": ORG_ID, "job_id": job_id, "wait": True, "wait_timeout": 60}
    result = export_jobs.run_absent(client, params, sleep=timer.sleep, monotonic=timer.monotonic)
    assert result["changed"] is True and result["mailbox_export_job"]["state"] == "CANCELLED"
    assert result["diff"]["after"]["state"] == "CANCELLED"
    assert timer.sleeps == [3]


# list_jobs / run_info


def seed_listing(fake):
    ids = {}
    ids["alice_done"] = fake.add_job(
        ALICE_ID, state="COMPLETED", age=timedelta(hours=30), description=build_description(None, "tok-a")
    )
    ids["alice_run"] = fake.add_job(ALICE_ID, state="RUNNING", age=timedelta(hours=1), s3_bucket="other-bucket")
    ids["bob_failed"] = fake.add_job(
        BOB_ID, state="FAILED", age=timedelta(hours=2), description=build_description("b", "tok-b")
    )
    ids["room_old"] = fake.add_job(ROOM_ID, state="COMPLETED", age=timedelta(days=8))
    return ids


def test_list_jobs_all_newest_first_without_details(fake, client):
    ids = seed_listing(fake)
    jobs = export_jobs.list_jobs(client, ORG_ID)
    assert [job["job_id"] for job in jobs] == [ids["alice_run"], ids["bob_failed"], ids["alice_done"]]
    assert all(job["role_arn"] is None and job["error_info"] is None for job in jobs)
    assert fake.count("describe_mailbox_export_job") == 0


def test_list_jobs_filters(fake, client):
    ids = seed_listing(fake)

    def listed(**filters):
        return [job["job_id"] for job in export_jobs.list_jobs(client, ORG_ID, **filters)]

    assert listed(entity_id=ALICE_ID) == [ids["alice_run"], ids["alice_done"]]
    assert listed(entity_id=ALICE_ID.upper()) == [ids["alice_run"], ids["alice_done"]]
    assert listed(states=["FAILED", "COMPLETED"]) == [ids["bob_failed"], ids["alice_done"]]
    assert listed(client_token="tok-b") == [ids["bob_failed"]]
    assert listed(s3_bucket="other-bucket") == [ids["alice_run"]]
    assert listed(entity_id=BOB_ID, states=["RUNNING"]) == []


def test_list_jobs_details(fake, client):
    ids = seed_listing(fake)
    jobs = export_jobs.list_jobs(client, ORG_ID, entity_id=BOB_ID, details=True)
    assert len(jobs) == 1
    assert jobs[0]["job_id"] == ids["bob_failed"]
    assert jobs[0]["error_info"] == "The role could not be assumed"
    assert jobs[0]["role_arn"] == ROLE_ARN and jobs[0]["s3_prefix"] == PREFIX
    assert jobs[0]["client_token"] == "tok-b"


def test_run_info(fake, client):
    ids = seed_listing(fake)
    base = {"organization_id": ORG_ID, "details": False}
    assert run_ids(export_jobs.run_info(client, dict(base, entity="bob@example.com"))) == [ids["bob_failed"]]
    described = export_jobs.run_info(client, dict(base, job_id=ids["room_old"]))
    assert described["changed"] is False
    assert described["mailbox_export_jobs"][0]["role_arn"] == ROLE_ARN  # outside the 7-day list, still described
    assert export_jobs.run_info(client, dict(base, job_id="job-missing")) == {
        "changed": False,
        "mailbox_export_jobs": [],
    }
    assert run_ids(export_jobs.run_info(client, dict(base, job_id=ids["bob_failed"], state=["RUNNING"]))) == []
    assert export_jobs.run_info(client, dict(base, client_token="none")) == {
        "changed": False,
        "mailbox_export_jobs": [],
    }


def run_ids(result):
    return [job["job_id"] for job in result["mailbox_export_jobs"]]
