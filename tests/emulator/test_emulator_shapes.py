"""Every WorkMail answer fits botocore's output shape, checked on the wire (raw JSON), for every operation."""

import json

from emulator_testlib import answer_problems
from emulator_testlib import entity
from emulator_testlib import start
from workmail_emulator.responses import OPERATIONS
from workmail_emulator.validation import check_response
from workmail_emulator.validation import service_model


def test_every_operation_answers_in_its_output_shape(aws, org_id, org, destination):
    workmail = aws.client("workmail", retries={"total_max_attempts": 1})
    seen = {}

    def record(http_response, model, **_kwargs):
        body = json.loads(http_response.content or b"{}")
        assert http_response.status_code == 200, body
        seen.setdefault(model.name, []).append(check_response(model.name, body))

    workmail.meta.events.register("after-call.workmail", record)

    aws.set_time_scale(seconds_per_mb=0.1, min_seconds=1)
    completed = start(workmail, org_id, destination, "dave", Description="described")  # 1 s
    failed = start(workmail, org_id, destination, "alice")  # 12 s
    cancelled = start(workmail, org_id, destination, "carol")  # 64 s
    running = start(workmail, org_id, destination, "erin")  # 41 s
    workmail.cancel_mailbox_export_job(ClientToken="c", OrganizationId=org_id, JobId=cancelled)
    aws.advance_clock(2)
    aws.client("iam").delete_role_policy(
        RoleName=destination["role_arn"].rsplit("/", 1)[1], PolicyName="workmail-mailbox-export"
    )
    aws.advance_clock(11)
    states = {}
    for job_id in (completed, failed, cancelled, running):
        states[job_id] = workmail.describe_mailbox_export_job(OrganizationId=org_id, JobId=job_id)["State"]
    assert states == {completed: "COMPLETED", failed: "FAILED", cancelled: "CANCELLED", running: "RUNNING"}
    assert workmail.list_mailbox_export_jobs(OrganizationId=org_id, MaxResults=2)["NextToken"]
    workmail.describe_organization(OrganizationId=org_id)
    workmail.list_organizations(MaxResults=1)
    workmail.describe_entity(OrganizationId=org_id, Email="alice@example.com")
    for name in ("alice", "heidi", "mallory", "notifications"):
        workmail.describe_user(OrganizationId=org_id, UserId=name)
    workmail.describe_resource(OrganizationId=org_id, ResourceId=entity(org, "boardroom")["id"])
    workmail.list_users(OrganizationId=org_id, MaxResults=3)
    workmail.list_users(OrganizationId=org_id)
    workmail.list_resources(OrganizationId=org_id, MaxResults=1)
    workmail.list_resources(OrganizationId=org_id)
    workmail.get_mailbox_details(OrganizationId=org_id, UserId="frank")

    assert set(seen) == set(OPERATIONS), f"not exercised: {set(OPERATIONS) - set(seen)}"
    problems = {name: [p for result in results for p in result] for name, results in seen.items()}
    assert all(not found for found in problems.values()), problems


def test_the_shape_check_itself_finds_problems():
    assert not check_response("GetMailboxDetails", {"MailboxQuota": 10, "MailboxSize": 1.5})
    assert check_response("GetMailboxDetails", {"MailboxQuota": "10"})  # wrong type
    assert check_response("GetMailboxDetails", {"MailboxQuota": 1, "Extra": 1})  # unknown member
    assert check_response("DescribeMailboxExportJob", {"EstimatedProgress": 101})  # range
    assert check_response("DescribeMailboxExportJob", {"State": "DONE"})  # enum
    assert check_response("DescribeMailboxExportJob", {"StartTime": "2026-01-01T00:00:00Z"})  # JSON epoch
    assert check_response("ListMailboxExportJobs", {"Jobs": [{"JobId": "bad id"}]})  # pattern in a list
    assert check_response("CancelMailboxExportJob", {"Anything": 1})
    assert not check_response("CancelMailboxExportJob", {})


def test_the_error_check_itself_finds_problems():
    model = service_model().operation_model("StartMailboxExportJob")
    assert not answer_problems(400, {"__type": "LimitExceededException", "message": "x"}, model)
    assert not answer_problems(400, {"__type": "ValidationException", "message": "x"}, model)
    assert answer_problems(400, {"__type": "EntityStateException", "message": "x"}, model)  # not modelled for Start
    assert answer_problems(500, {"__type": "InvalidParameterException", "message": "x"}, model)
    assert answer_problems(400, {"message": "x"}, model)
    assert answer_problems(400, {"__type": "InvalidParameterException", "message": ""}, model)
