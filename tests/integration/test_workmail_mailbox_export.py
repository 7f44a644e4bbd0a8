"""workmail_mailbox_export and workmail_mailbox_export_info, run by ansible-playbook against the local AWS."""

import re
from datetime import datetime
from datetime import timedelta

import pytest
from campaign_setup import destination_args
from workmail_emulator.provision import provision_export_destination

REGION = "us-east-1"
BUCKET = "example-workmail-exports"
PREFIX = "workmail/example"
ORG_ALIAS = "example"


@pytest.fixture(name="org")
def org_fixture(aws):
    """The default fixture's organization, with its users and resources (admin view)."""
    return next(org for org in aws.organizations() if org["alias"] == ORG_ALIAS)


def entity(org, name):
    return next(item for item in org["users"] + org["resources"] if item["name"] == name)


def export_args(org, destination, entity_ref, **extra):
    return destination_args(org, destination, **dict({"entity": entity_ref}, **extra))


def listed_jobs(aws, org):
    return aws.client("workmail").list_mailbox_export_jobs(OrganizationId=org["id"], MaxResults=100)["Jobs"]


def object_key(aws, job):
    """The zip's key, as the local AWS wrote it (S3Path's form is one of its dialects)."""
    return next(item["ZipKey"] for item in aws.jobs() if item["JobId"] == job["job_id"])


# Starting, idempotency, check mode, diff


def test_start_then_rerun_starts_one_job(aws, org, destination, module):
    first = module("workmail_mailbox_export", export_args(org, destination, "alice@example.com"))
    assert first["changed"] is True
    job = first["mailbox_export_job"]
    alice = entity(org, "alice")
    assert job["entity_id"] == alice["id"]
    assert job["state"] == "RUNNING"
    assert re.fullmatch(r"mailops-[0-9a-f]{48}", job["client_token"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", job["start_time"])
    assert {
        "job_id",
        "entity_id",
        "description",
        "role_arn",
        "kms_key_arn",
        "s3_bucket_name",
        "s3_prefix",
        "s3_path",
        "estimated_progress",
        "state",
        "error_info",
        "start_time",
        "end_time",
        "client_token",
    } <= set(job)

    again = module("workmail_mailbox_export", export_args(org, destination, "alice@example.com"))
    assert again["changed"] is False
    assert again["mailbox_export_job"]["job_id"] == job["job_id"]
    assert [listed["JobId"] for listed in listed_jobs(aws, org)] == [job["job_id"]]
    assert aws.calls().get("StartMailboxExportJob") == 1


def test_entity_by_id_email_and_name_is_one_mailbox(aws, org, destination, module):
    bob = entity(org, "bob")
    by_id = module("workmail_mailbox_export", export_args(org, destination, bob["id"]))
    by_email = module("workmail_mailbox_export", export_args(org, destination, "bob@example.com"))
    by_name = module("workmail_mailbox_export", export_args(org, destination, "bob"))
    by_upper_id = module("workmail_mailbox_export", export_args(org, destination, bob["id"].upper()))
    assert by_id["changed"] is True and by_email["changed"] is False and by_name["changed"] is False
    assert by_upper_id["changed"] is False
    job_ids = {result["mailbox_export_job"]["job_id"] for result in (by_id, by_email, by_name, by_upper_id)}
    assert len(job_ids) == 1
    assert len(listed_jobs(aws, org)) == 1

    room = module("workmail_mailbox_export", export_args(org, destination, "boardroom"))
    assert room["changed"] is True
    assert room["mailbox_export_job"]["entity_id"] == entity(org, "boardroom")["id"]


def test_one_client_token_looped_over_two_mailboxes_fails_the_second(aws, org, destination, playbook):
    defaults = export_args(org, destination, None, client_token="team-export-2026-11")
    del defaults["entity"]
    play = [
        {
            "name": "One client token for a loop over mailboxes",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"mailops.workmail.workmail_mailbox_export": defaults},
            "tasks": [
                {
                    "name": "export the mailboxes",
                    "mailops.workmail.workmail_mailbox_export": {"entity": "{{ item }}"},
                    "loop": ["alice@example.com", "bob@example.com"],
                }
            ],
        }
    ]
    result = playbook(play)
    assert result.failed
    task = result.task("export the mailboxes")
    assert task["failed"] is True
    alice_result, bob_result = task["results"]
    # (ansible-core 2.21 leaves "failed" out of the items' results: the task's "failed" and the messages tell.)
    assert not alice_result.get("failed") and "msg" not in alice_result, alice_result
    assert alice_result["changed"] is True
    alice_job = alice_result["mailbox_export_job"]
    assert bob_result.get("failed", True) is True and bob_result["changed"] is False
    assert bob_result["msg"] == (
        f"client_token: is already used by job {alice_job['job_id']} for mailbox {entity(org, 'alice')['id']}; "
        f"a client token identifies one export: use another token"
    )
    assert [job["JobId"] for job in listed_jobs(aws, org)] == [alice_job["job_id"]]
    assert aws.calls().get("StartMailboxExportJob") == 1


def test_a_deleted_user_is_refused_by_name(aws, org, destination, module):
    refused = module("workmail_mailbox_export", export_args(org, destination, "mallory"))
    assert refused.get("failed")
    assert refused["msg"].startswith("entity: 'mallory' names only a DELETED user"), refused["msg"]
    assert "StartMailboxExportJob" not in aws.calls()


def test_check_mode_predicts_a_start_then_reports_the_existing_job(aws, org, destination, module):
    predicted = module(
        "workmail_mailbox_export", export_args(org, destination, "alice@example.com"), check=True, diff=True
    )
    assert predicted["changed"] is True
    assert predicted["mailbox_export_job"]["job_id"] is None
    assert predicted["mailbox_export_job"]["entity_id"] == entity(org, "alice")["id"]
    assert predicted["diff"]["before"] == {}
    assert predicted["diff"]["after"]["state"] == "RUNNING"
    assert listed_jobs(aws, org) == []
    assert "StartMailboxExportJob" not in aws.calls()

    started = module("workmail_mailbox_export", export_args(org, destination, "alice@example.com"))
    checked = module(
        "workmail_mailbox_export", export_args(org, destination, "alice@example.com"), check=True, diff=True
    )
    assert checked["changed"] is False
    assert checked["mailbox_export_job"]["job_id"] == started["mailbox_export_job"]["job_id"]
    assert checked["diff"]["before"] == checked["diff"]["after"]


# Waiting: COMPLETED, FAILED, timeout and resume


def test_wait_until_completed_leaves_the_zip_encrypted_with_the_key(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=4)
    result = module(
        "workmail_mailbox_export", export_args(org, destination, "grace@example.com", wait=True, wait_timeout=120)
    )
    job = result["mailbox_export_job"]
    assert result["changed"] is True
    assert job["state"] == "COMPLETED" and job["estimated_progress"] == 100
    assert job["end_time"] is not None
    head = aws.client("s3").head_object(Bucket=BUCKET, Key=object_key(aws, job))
    assert head["ContentLength"] > 0
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == destination["kms_key_arn"]


def test_a_failed_job_fails_the_task_with_its_error(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=600)
    started = module("workmail_mailbox_export", export_args(org, destination, "dave@example.com"))
    job_id = started["mailbox_export_job"]["job_id"]
    aws.client("kms").disable_key(KeyId=destination["kms_key_arn"])
    aws.advance_clock(601)

    failed = module("workmail_mailbox_export", export_args(org, destination, "dave@example.com", wait=True))
    assert failed.get("failed") and failed["failed"] is True
    assert job_id in failed["msg"] and "FAILED" in failed["msg"]
    assert failed["mailbox_export_job"]["state"] == "FAILED"
    assert failed["mailbox_export_job"]["error_info"]
    assert failed["mailbox_export_job"]["error_info"] in failed["msg"]


def test_a_failed_job_found_on_a_rerun_without_wait_fails_the_task(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=600)
    started = module("workmail_mailbox_export", export_args(org, destination, "dave@example.com"))
    job_id = started["mailbox_export_job"]["job_id"]
    aws.client("kms").disable_key(KeyId=destination["kms_key_arn"])
    aws.advance_clock(601)

    rerun = module("workmail_mailbox_export", export_args(org, destination, "dave@example.com"))
    assert rerun.get("failed") is True
    assert rerun["changed"] is False
    assert rerun["job_id"] == job_id
    job = rerun["mailbox_export_job"]
    assert job["state"] == "FAILED" and job["error_info"]
    assert rerun["msg"].startswith(f"mailbox export job {job_id} FAILED: {job['error_info']}; "), rerun["msg"]
    assert "a new attempt needs another client_token" in rerun["msg"]
    assert "24 hours" in rerun["msg"]
    assert aws.calls().get("StartMailboxExportJob") == 1


def test_wait_timeout_leaves_the_job_running_and_a_rerun_resumes_it(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3600)
    started = module("workmail_mailbox_export", export_args(org, destination, "erin@example.com"))
    job_id = started["mailbox_export_job"]["job_id"]
    aws.advance_clock(1800)
    timed_out = module(
        "workmail_mailbox_export", export_args(org, destination, "erin@example.com", wait=True, wait_timeout=4)
    )
    assert timed_out.get("failed")
    assert timed_out["mailbox_export_job"]["job_id"] == job_id
    assert job_id in timed_out["msg"]
    assert timed_out["mailbox_export_job"]["estimated_progress"] == 50
    assert "50%" in timed_out["msg"], timed_out["msg"]
    assert timed_out["mailbox_export_job"]["state"] == "RUNNING"
    assert [job["State"] for job in listed_jobs(aws, org)] == ["RUNNING"]

    aws.advance_clock(1800)
    resumed = module(
        "workmail_mailbox_export", export_args(org, destination, "erin@example.com", wait=True, wait_timeout=60)
    )
    assert resumed["changed"] is False
    assert resumed["mailbox_export_job"]["job_id"] == job_id
    assert resumed["mailbox_export_job"]["state"] == "COMPLETED"
    assert aws.calls().get("StartMailboxExportJob") == 1


# Cancelling


def test_cancel_by_start_parameters_and_by_job_id(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3600)
    started = module("workmail_mailbox_export", export_args(org, destination, "ivan@example.com"))
    job_id = started["mailbox_export_job"]["job_id"]

    predicted = module(
        "workmail_mailbox_export", export_args(org, destination, "ivan@example.com", state="absent"), check=True
    )
    assert predicted["changed"] is True
    assert listed_jobs(aws, org)[0]["State"] == "RUNNING"

    cancelled = module("workmail_mailbox_export", export_args(org, destination, "ivan@example.com", state="absent"))
    assert cancelled["changed"] is True
    assert cancelled["mailbox_export_job"]["job_id"] == job_id
    assert cancelled["mailbox_export_job"]["state"] == "CANCELLED"

    again = module(
        "workmail_mailbox_export", {"organization_id": org["id"], "job_id": job_id, "state": "absent", "region": REGION}
    )
    assert again["changed"] is False
    assert again["mailbox_export_job"]["state"] == "CANCELLED"

    missing = module(
        "workmail_mailbox_export",
        {"organization_id": org["id"], "job_id": "no-such-job", "state": "absent", "region": REGION},
    )
    assert missing["changed"] is False and not missing.get("failed")


def test_cancel_and_wait_until_cancelled(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3600)
    started = module("workmail_mailbox_export", export_args(org, destination, "grace@example.com"))
    job_id = started["mailbox_export_job"]["job_id"]
    aws.advance_clock(600)

    cancelled = module(
        "workmail_mailbox_export",
        export_args(org, destination, "grace@example.com", state="absent", wait=True, wait_timeout=60),
        diff=True,
    )
    assert not cancelled.get("failed"), cancelled.get("msg")
    assert cancelled["changed"] is True
    assert cancelled["mailbox_export_job"]["job_id"] == job_id
    assert cancelled["mailbox_export_job"]["state"] == "CANCELLED"
    assert cancelled["mailbox_export_job"]["end_time"] is not None
    assert cancelled["diff"]["before"]["state"] == "RUNNING"
    assert cancelled["diff"]["after"]["state"] == "CANCELLED"
    assert [job["State"] for job in listed_jobs(aws, org)] == ["CANCELLED"]
    assert aws.calls().get("CancelMailboxExportJob") == 1

    again = module(
        "workmail_mailbox_export",
        export_args(org, destination, "grace@example.com", state="absent", wait=True, wait_timeout=60),
    )
    assert again["changed"] is False and again["mailbox_export_job"]["state"] == "CANCELLED"
    assert aws.calls().get("CancelMailboxExportJob") == 1


def test_a_job_too_near_completion_to_cancel_is_reported(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=1000)
    started = module("workmail_mailbox_export", export_args(org, destination, "frank@example.com"))
    aws.advance_clock(980)
    refused = module(
        "workmail_mailbox_export",
        {
            "organization_id": org["id"],
            "job_id": started["mailbox_export_job"]["job_id"],
            "state": "absent",
            "region": REGION,
        },
    )
    assert refused.get("failed")
    assert "near completion" in refused["msg"]
    assert listed_jobs(aws, org)[0]["State"] == "RUNNING"


# The two limits


def test_the_ten_running_jobs_limit_is_explained(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3600)
    workmail = aws.client("workmail")
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "notifications"]
    running = []
    for index, name in enumerate(names):
        running.append(
            workmail.start_mailbox_export_job(
                ClientToken=f"other-tool-{index}",
                OrganizationId=org["id"],
                EntityId=entity(org, name)["id"],
                RoleArn=destination["role_arn"],
                KmsKeyArn=destination["kms_key_arn"],
                S3BucketName=BUCKET,
                S3Prefix=PREFIX + "/other-tool",
            )["JobId"]
        )

    for check in (True, False):
        refused = module("workmail_mailbox_export", export_args(org, destination, "boardroom"), check=check)
        assert refused.get("failed"), check
        assert "10" in refused["msg"] and "running" in refused["msg"]
        assert all(job_id in refused["msg"] for job_id in running), refused["msg"]
    assert len(listed_jobs(aws, org)) == 10


def test_the_24_hour_limit_names_the_earlier_job_and_when_to_retry(aws, org, destination, module):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    first = module("workmail_mailbox_export", export_args(org, destination, "bob@example.com"))
    earlier = first["mailbox_export_job"]
    aws.advance_clock(10)

    other_prefix = export_args(org, destination, "bob@example.com", s3_prefix=PREFIX + "/second")
    for check in (True, False):
        refused = module("workmail_mailbox_export", other_prefix, check=check)
        assert refused.get("failed"), check
        assert earlier["job_id"] in refused["msg"]
        assert "24" in refused["msg"]
    retry_after = datetime.fromisoformat(earlier["start_time"]) + timedelta(hours=24)
    assert retry_after.strftime("%Y-%m-%dT%H:%M:%S") in refused["msg"], refused["msg"]

    aws.advance_clock(24 * 3600)
    second = module("workmail_mailbox_export", other_prefix)
    assert second["changed"] is True and second["mailbox_export_job"]["job_id"] != earlier["job_id"]


# The info module


def test_info_lists_every_job_past_one_hundred_and_filters(aws, destination, module):
    users = [
        {"name": f"user{index:03d}", "email": f"user{index:03d}@big.example", "size_mb": 1} for index in range(105)
    ]
    big = aws.add_organizations([{"alias": "big", "region": REGION, "users": users}])[0]
    big_destination = provision_export_destination(aws.client, big["id"], "big-exports", "exports", REGION)
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3600)
    workmail = aws.client("workmail")
    for index, user in enumerate(big["users"]):
        if index and index % 10 == 0:
            aws.advance_clock(3600)  # the ten running jobs complete
        workmail.start_mailbox_export_job(
            ClientToken=f"bulk-{index}",
            OrganizationId=big["id"],
            EntityId=user["id"],
            RoleArn=big_destination["role_arn"],
            KmsKeyArn=big_destination["kms_key_arn"],
            S3BucketName="big-exports",
            S3Prefix="exports",
        )
    base = {"organization_id": big["id"], "region": REGION}

    everything = module("workmail_mailbox_export_info", base)
    assert everything["changed"] is False
    assert len(everything["mailbox_export_jobs"]) == 105
    assert len({job["job_id"] for job in everything["mailbox_export_jobs"]}) == 105

    running = module("workmail_mailbox_export_info", dict(base, job_states=["RUNNING"]))
    assert {job["entity_id"] for job in running["mailbox_export_jobs"]} == {user["id"] for user in big["users"][100:]}
    # The filter's old name still works, with a deprecation warning.
    old_name = module("workmail_mailbox_export_info", dict(base, state=["RUNNING"]))
    assert old_name["mailbox_export_jobs"] == running["mailbox_export_jobs"]
    assert any("state" in item["msg"] for item in old_name.get("deprecations", [])), old_name.get("deprecations")
    completed = module("workmail_mailbox_export_info", dict(base, job_states=["COMPLETED", "FAILED"]))
    assert len(completed["mailbox_export_jobs"]) == 100

    one = module("workmail_mailbox_export_info", dict(base, entity="user042@big.example", details=True))
    assert len(one["mailbox_export_jobs"]) == 1
    assert one["mailbox_export_jobs"][0]["role_arn"] == big_destination["role_arn"]
    assert one["mailbox_export_jobs"][0]["kms_key_arn"] == big_destination["kms_key_arn"]

    nothing = module("workmail_mailbox_export_info", dict(base, s3_bucket="another-bucket"))
    assert nothing["mailbox_export_jobs"] == []

    described = module("workmail_mailbox_export_info", dict(base, job_id=one["mailbox_export_jobs"][0]["job_id"]))
    assert described["mailbox_export_jobs"] == one["mailbox_export_jobs"]


def test_info_filters_by_client_token_and_works_in_check_mode(aws, org, destination, module):
    started = module("workmail_mailbox_export", export_args(org, destination, "carol", client_token="carol-2026"))
    found = module(
        "workmail_mailbox_export_info",
        {"organization_id": org["id"], "client_token": "carol-2026", "region": REGION},
        check=True,
    )
    assert [job["job_id"] for job in found["mailbox_export_jobs"]] == [started["mailbox_export_job"]["job_id"]]
    assert found["mailbox_export_jobs"][0]["client_token"] == "carol-2026"


# Bad input: a clear error naming the parameter, before any AWS call

GOOD_ORG = "m-0123456789abcdef0123456789abcdef"
GOOD = {
    "organization_id": GOOD_ORG,
    "entity": "alice@example.com",
    "role_arn": "arn:aws:iam::123456789012:role/workmail-export",
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "s3_bucket": "example-workmail-exports",
    "s3_prefix": "workmail/example",
    "region": "us-east-1",
}
# (change, parameter, a fragment of the rule the message must state)
BAD_INPUTS = [
    ({"organization_id": "m-123"}, "organization_id", "must match ^m-[0-9a-f]{32}$"),
    ({"organization_id": "M-0123456789ABCDEF0123456789ABCDEF"}, "organization_id", "32 lowercase hexadecimal digits"),
    ({"role_arn": "arn:aws:iam::123456789012:user/alice"}, "role_arn", "ARN resource must be role/<name>"),
    ({"role_arn": "arn:aws-cn:iam::123456789012:role/x"}, "role_arn", "ARN partition must be 'aws'"),
    ({"role_arn": "arn:aws:iam::12345:role/x"}, "role_arn", "ARN account must be a 12-digit AWS account id"),
    (
        {"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/workmail-export"},
        "kms_key_arn",
        "is an alias ARN, which the export does not accept",
    ),
    (
        {"kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        "kms_key_arn",
        "key region eu-west-1 must be the organization's region us-east-1",
    ),
    ({"kms_key_arn": "arn:aws:s3:::bucket"}, "kms_key_arn", "must be 20 to 2048 characters long"),
    ({"kms_key_arn": "arn:aws:s3:::example-workmail-exports"}, "kms_key_arn", "ARN service must be 'kms'"),
    ({"region": "eu-central-1"}, "region", "must be a region where Amazon WorkMail exists"),
    ({"s3_bucket": "Bad_Bucket"}, "s3_bucket", "may contain only lowercase letters, digits, dots and hyphens"),
    ({"s3_bucket": "192.168.1.1"}, "s3_bucket", "must not look like an IP address"),
    ({"s3_prefix": "has space"}, "s3_prefix", "may contain only A-Z a-z 0-9 and ! _ . * ' ( ) / -"),
    ({"s3_prefix": "x" * 1024}, "s3_prefix", "must be 1 to 1023 characters long"),
    ({"description": "d" * 1000}, "description", "may be at most 943 characters"),
    ({"client_token": "has space"}, "client_token", "printable ASCII characters without spaces"),
    ({"client_token": "t" * 129}, "client_token", "must be 1 to 128 characters long"),
    ({"entity": "bad entity!"}, "entity", "made of a-z A-Z 0-9 . _ % + @ -"),
    ({"wait": True, "wait_timeout": 0}, "wait_timeout", "must be a number of seconds greater than 0"),
]


@pytest.mark.parametrize(
    "change,parameter,rule", BAD_INPUTS, ids=[f"{p}-{i}" for i, (_c, p, _r) in enumerate(BAD_INPUTS)]
)
def test_bad_input_is_refused_before_any_call(aws, module, change, parameter, rule):
    result = module("workmail_mailbox_export", dict(GOOD, **change))
    assert result.get("failed")
    assert result["msg"].startswith(f"{parameter}: "), result["msg"]
    assert rule in result["msg"], result["msg"]
    assert result["parameter"] == parameter
    assert aws.calls() == {}


def test_missing_start_parameters_are_named(aws, module):
    args = {key: value for key, value in GOOD.items() if key not in ("role_arn", "s3_prefix")}
    result = module("workmail_mailbox_export", args)
    assert result.get("failed")
    assert "role_arn" in result["msg"] and "s3_prefix" in result["msg"]
    assert aws.calls() == {}


# Throttling, server errors and dropped connections are retried


def test_throttling_server_errors_and_dropped_connections_are_retried(aws, org, destination, module):
    aws.set_faults(operation="*", throttle_rate=0.3, error_rate=0.2, drop_rate=0.1, seed=7)
    started = module("workmail_mailbox_export", export_args(org, destination, "alice@example.com"))
    assert not started.get("failed"), started.get("msg")
    listed = module("workmail_mailbox_export_info", {"organization_id": org["id"], "region": REGION})
    assert not listed.get("failed"), listed
    aws.set_faults(operation="*", throttle_rate=0, error_rate=0, drop_rate=0)

    jobs = listed_jobs(aws, org)
    assert [job["JobId"] for job in jobs] == [started["mailbox_export_job"]["job_id"]]
    assert [job["job_id"] for job in listed["mailbox_export_jobs"]] == [started["mailbox_export_job"]["job_id"]]
    calls = aws.calls()
    # One listing and one describe around the start, one listing for the info module: the faults made more.
    assert sum(calls.values()) > 4, calls
