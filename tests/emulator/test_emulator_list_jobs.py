"""ListMailboxExportJobs: the 7-day window, newest first, MaxResults pages and opaque NextTokens."""

import pytest
from botocore.exceptions import ClientError
from emulator_testlib import error_of
from emulator_testlib import start

DAY = 24 * 3600


def _all_jobs(workmail, org_id, page_size):
    jobs, token, pages = [], None, 0
    while True:
        kwargs = {"OrganizationId": org_id, "MaxResults": page_size}
        if token:
            kwargs["NextToken"] = token
        answer = workmail.list_mailbox_export_jobs(**kwargs)
        pages += 1
        assert len(answer["Jobs"]) <= page_size
        jobs += answer["Jobs"]
        token = answer.get("NextToken")
        if not token:
            return jobs, pages


def test_newest_first_and_paged(aws, workmail, org_id, destination):
    names = ["alice", "bob", "carol", "dave", "erin"]
    started = []
    for name in names:
        started.append(start(workmail, org_id, destination, name))
        aws.advance_clock(1)
    jobs, pages = _all_jobs(workmail, org_id, 2)
    assert pages == 3
    assert [job["JobId"] for job in jobs] == list(reversed(started))
    assert all(set(job) >= {"JobId", "EntityId", "S3BucketName", "S3Path", "State", "StartTime"} for job in jobs)
    assert not any(key in job for job in jobs for key in ("RoleArn", "KmsKeyArn", "S3Prefix", "ErrorInfo"))
    everything = workmail.list_mailbox_export_jobs(OrganizationId=org_id)
    assert len(everything["Jobs"]) == 5 and "NextToken" not in everything
    assert [job["JobId"] for job in _all_jobs(workmail, org_id, 100)[0]] == list(reversed(started))


def test_only_jobs_started_in_the_last_seven_days(aws, workmail, org_id, destination):
    old = start(workmail, org_id, destination, "alice", token="old")
    aws.advance_clock(3 * DAY)
    recent = start(workmail, org_id, destination, "bob", token="recent")
    assert [job["JobId"] for job in workmail.list_mailbox_export_jobs(OrganizationId=org_id)["Jobs"]] == [recent, old]
    aws.advance_clock(4 * DAY + 10)
    assert [job["JobId"] for job in workmail.list_mailbox_export_jobs(OrganizationId=org_id)["Jobs"]] == [recent]
    # An old job is still described by id.
    assert workmail.describe_mailbox_export_job(OrganizationId=org_id, JobId=old)["State"] == "COMPLETED"
    aws.advance_clock(3 * DAY)
    assert workmail.list_mailbox_export_jobs(OrganizationId=org_id)["Jobs"] == []


def test_pages_stay_consistent_when_jobs_start_meanwhile(aws, workmail, org_id, destination):
    for name in ("alice", "bob", "carol"):
        start(workmail, org_id, destination, name)
        aws.advance_clock(1)
    first = workmail.list_mailbox_export_jobs(OrganizationId=org_id, MaxResults=2)
    start(workmail, org_id, destination, "dave")
    second = workmail.list_mailbox_export_jobs(OrganizationId=org_id, MaxResults=2, NextToken=first["NextToken"])
    listed = [job["EntityId"] for job in first["Jobs"] + second["Jobs"]]
    assert len(listed) == len(set(listed)) == 3


def test_invalid_next_tokens(aws, workmail, org_id, destination):
    for name in ("alice", "bob"):
        start(workmail, org_id, destination, name)
    token = workmail.list_mailbox_export_jobs(OrganizationId=org_id, MaxResults=1)["NextToken"]
    other = aws.add_organizations([{"alias": "other"}])[0]["id"]
    for bad_org, bad_token in ((org_id, "garbage"), (org_id, token[:-4] + "AAA="), (other, token)):
        with pytest.raises(ClientError) as excinfo:
            workmail.list_mailbox_export_jobs(OrganizationId=bad_org, NextToken=bad_token)
        code, message = error_of(excinfo)
        assert code == "InvalidParameterException" and "NextToken" in message


def test_empty_organization_lists_nothing(workmail, org_id):
    answer = workmail.list_mailbox_export_jobs(OrganizationId=org_id)
    assert answer["Jobs"] == [] and "NextToken" not in answer
