# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the modules' main() in-process: argument validation happens before any AWS client exists, and a full
run against the in-memory fake WorkMail gives the documented results."""

import json
from unittest import mock

import pytest
from ansible.module_utils.common import arg_spec
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.common import get_collection_info
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.modules import workmail_mailbox_export
from ansible_collections.mailops.workmail.plugins.modules import workmail_mailbox_export_info
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake

START = {
    "region": "us-east-1",
    "organization_id": ORG_ID,
    "entity": "alice@example.com",
    "role_arn": ROLE_ARN,
    "kms_key_arn": KEY_ARN,
    "s3_bucket": BUCKET,
    "s3_prefix": PREFIX,
}


@pytest.fixture(autouse=True)
def isolated_aws_environment(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


@pytest.fixture(name="client_factory")
def fixture_client_factory(monkeypatch):
    factory = mock.Mock(name="client", side_effect=AssertionError("no AWS client may be created"))
    monkeypatch.setattr(WorkMailAnsibleModule, "client", factory)
    return factory


@pytest.fixture(name="fake")
def fixture_fake(monkeypatch):
    fake = standard_fake()
    factory = mock.Mock(name="client", return_value=fake)
    monkeypatch.setattr(WorkMailAnsibleModule, "client", factory)
    return fake


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    output = capsys.readouterr().out
    return exit_info.value.code, json.loads(output)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"organization_id": "m-123"}, "organization_id: must match ^m-[0-9a-f]{32}$"),
        ({"region": "eu-central-1"}, "region: must be a region where Amazon WorkMail exists"),
        ({"region": None}, "region: is required"),
        ({"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/export"}, "kms_key_arn: is an alias ARN"),
        (
            {"kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
            "kms_key_arn: key region eu-west-1 must be the organization's region us-east-1",
        ),
        ({"role_arn": "arn:aws-cn:iam::123456789012:role/export"}, "role_arn: ARN partition must be 'aws'"),
        ({"s3_bucket": "Upper_Case"}, "s3_bucket: an S3 bucket name may contain only lowercase"),
        ({"s3_prefix": "has space"}, "s3_prefix: may contain only"),
        ({"description": "d" * 1000}, "description: may be at most 943 characters"),
        ({"client_token": "x" * 129}, "client_token: must be 1 to 128 characters long"),
        ({"entity": "no spaces allowed"}, "entity: must be a user or resource id"),
        ({"wait_timeout": 0}, "wait_timeout: must be a number of seconds greater than 0"),
        ({"job_id": "job-1"}, "job_id: is only used with state=absent"),
        ({"s3_prefix": None}, "state is present but all of the following are missing: s3_prefix"),
    ],
)
def test_export_argument_errors_make_no_aws_call(capsys, client_factory, overrides, message):
    args = dict(START)
    args.update(overrides)
    args = {key: value for key, value in args.items() if value is not None}
    rc, result = run(workmail_mailbox_export, args, capsys)
    assert rc == 1
    assert result["failed"] is True
    assert message in result["msg"]
    client_factory.assert_not_called()


def test_absent_needs_an_identifier(capsys, client_factory):
    rc, result = run(
        workmail_mailbox_export, {"region": "us-east-1", "organization_id": ORG_ID, "state": "absent"}, capsys
    )
    assert rc == 1
    assert "state is absent but any of the following are missing: job_id, client_token, entity" in result["msg"]
    client_factory.assert_not_called()


def test_absent_with_entity_needs_start_parameters(capsys, client_factory):
    args = {"region": "us-east-1", "organization_id": ORG_ID, "state": "absent", "entity": "alice"}
    rc, result = run(workmail_mailbox_export, args, capsys)
    assert rc == 1
    assert result["msg"].startswith("role_arn: is required with state=absent when neither job_id nor client_token")
    assert result["parameter"] == "role_arn"
    client_factory.assert_not_called()


def test_export_start_then_idempotent(capsys, fake):
    rc, first = run(workmail_mailbox_export, dict(START), capsys)
    assert rc == 0
    assert first["changed"] is True
    job = first["mailbox_export_job"]
    assert job["entity_id"] == ALICE_ID
    assert job["state"] == "RUNNING"
    assert job["client_token"].startswith("mailops-")
    assert job["start_time"].endswith("+00:00")
    assert "diff" not in first
    rc, second = run(workmail_mailbox_export, dict(START), capsys)
    assert rc == 0
    assert second["changed"] is False
    assert second["mailbox_export_job"]["job_id"] == job["job_id"]
    assert fake.count("start_mailbox_export_job") == 1
    assert get_collection_info() == {"name": "mailops.workmail", "version": "0.1.0"}


def test_export_check_and_diff_mode(capsys, fake):
    args = dict(START, _ansible_check_mode=True, _ansible_diff=True)
    rc, result = run(workmail_mailbox_export, args, capsys)
    assert rc == 0
    assert result["changed"] is True
    assert result["mailbox_export_job"]["job_id"] is None
    assert result["diff"] == {"before": {}, "after": result["mailbox_export_job"]}
    assert fake.count("start_mailbox_export_job") == 0


def test_export_limit_error_details(capsys, fake):
    for number in range(10):
        fake.add_job(f"r-{number:032x}")
    rc, result = run(workmail_mailbox_export, dict(START), capsys)
    assert rc == 1
    assert result["limit"] == "concurrent_jobs"
    assert len(result["running_jobs"]) == 10
    assert "AWS allows at most 10 per organization" in result["msg"]


def test_export_aws_error_goes_through_fail_json_aws(capsys, fake):
    fake.fail("list_mailbox_export_jobs", "AccessDeniedException", "not allowed")
    rc, result = run(workmail_mailbox_export, dict(START, entity=ALICE_ID), capsys)
    assert rc == 1
    assert result["msg"].startswith("Failed to manage the WorkMail mailbox export job")
    assert result["error"]["code"] == "AccessDeniedException"


def test_export_aws_error_after_the_start_names_the_started_job(capsys, fake):
    fake.fail("describe_mailbox_export_job", "AccessDeniedException", "not allowed to describe")
    rc, result = run(workmail_mailbox_export, dict(START), capsys)
    assert rc == 1
    (job_id,) = fake.jobs
    assert result["failed"] is True
    assert result["changed"] is True
    assert result["job_id"] == job_id
    assert result["msg"].startswith(f"mailbox export job {job_id} was started, but describing it failed: ")
    assert "not allowed to describe" in result["msg"]
    assert result["error"]["code"] == "AccessDeniedException"


def test_export_existing_failed_job_fails_without_wait(capsys, fake):
    rc, first = run(workmail_mailbox_export, dict(START), capsys)
    job_id = first["mailbox_export_job"]["job_id"]
    fake.set_job(job_id, State="FAILED", ErrorInfo="KMS key disabled")
    rc, result = run(workmail_mailbox_export, dict(START), capsys)
    assert rc == 1
    assert result["changed"] is False
    assert result["job_id"] == job_id
    assert result["error_info"] == "KMS key disabled"
    assert result["msg"].startswith(f"mailbox export job {job_id} FAILED: KMS key disabled; ")
    assert "another client_token" in result["msg"]
    assert fake.count("start_mailbox_export_job") == 1


def test_export_client_token_of_another_mailbox_fails(capsys, fake):
    rc, first = run(workmail_mailbox_export, dict(START, client_token="batch"), capsys)
    assert rc == 0
    rc, result = run(workmail_mailbox_export, dict(START, entity="bob", client_token="batch"), capsys)
    assert rc == 1
    assert result["parameter"] == "client_token"
    assert result["msg"].startswith(f"client_token: is already used by job {first['mailbox_export_job']['job_id']}")
    assert result["changed"] is False
    assert fake.count("start_mailbox_export_job") == 1


def test_export_cancel_denied_goes_through_fail_json_aws(capsys, fake):
    job_id = fake.add_job(ALICE_ID, progress=5)
    fake.fail("cancel_mailbox_export_job", "AccessDeniedException", "not allowed to cancel")
    args = {"region": "us-east-1", "organization_id": ORG_ID, "state": "absent", "job_id": job_id}
    rc, result = run(workmail_mailbox_export, args, capsys)
    assert rc == 1
    assert result["msg"].startswith("Failed to manage the WorkMail mailbox export job")
    assert "not allowed to cancel" in result["msg"]
    assert "near completion" not in result["msg"]
    assert result["error"]["code"] == "AccessDeniedException"


def test_export_cancel(capsys, fake):
    job_id = fake.add_job(ALICE_ID, progress=20)
    args = {"region": "us-east-1", "organization_id": ORG_ID, "state": "absent", "job_id": job_id}
    rc, result = run(workmail_mailbox_export, args, capsys)
    assert rc == 0 and result["changed"] is True
    assert result["mailbox_export_job"]["state"] == "CANCELLED"
    rc, result = run(workmail_mailbox_export, args, capsys)
    assert rc == 0 and result["changed"] is False
    args["job_id"] = "job-does-not-exist"
    rc, result = run(workmail_mailbox_export, args, capsys)
    assert rc == 0 and result["changed"] is False and result["mailbox_export_job"] is None


@pytest.mark.parametrize(
    "args, message",
    [
        ({"organization_id": "bad"}, "organization_id: must match"),
        ({"organization_id": ORG_ID, "job_id": "has space"}, "job_id: must be 1 to 63"),
        ({"organization_id": ORG_ID, "job_states": ["DONE"]}, "value of job_states must be one or more of"),
        ({"organization_id": ORG_ID, "region": "ap-south-1"}, "region: must be a region where Amazon WorkMail exists"),
    ],
)
def test_info_argument_errors_make_no_aws_call(capsys, client_factory, args, message):
    args = dict({"region": "us-east-1"}, **args)
    rc, result = run(workmail_mailbox_export_info, args, capsys)
    assert rc == 1
    assert message in result["msg"]
    client_factory.assert_not_called()


def test_info_lists_and_filters(capsys, fake):
    done = fake.add_job(ALICE_ID, state="COMPLETED")
    running = fake.add_job("r-0123456789abcdef0123456789abcdef", state="RUNNING")
    base = {"region": "us-east-1", "organization_id": ORG_ID}
    rc, result = run(workmail_mailbox_export_info, dict(base, _ansible_check_mode=True), capsys)
    assert rc == 0 and result["changed"] is False
    assert sorted(job["job_id"] for job in result["mailbox_export_jobs"]) == sorted([done, running])
    rc, result = run(workmail_mailbox_export_info, dict(base, job_states=["COMPLETED"], details=True), capsys)
    assert [job["job_id"] for job in result["mailbox_export_jobs"]] == [done]
    assert result["mailbox_export_jobs"][0]["role_arn"] == ROLE_ARN
    assert "deprecations" not in result
    rc, result = run(workmail_mailbox_export_info, dict(base, job_states=["RUNNING"]), capsys)
    assert [job["job_id"] for job in result["mailbox_export_jobs"]] == [running]
    rc, result = run(workmail_mailbox_export_info, dict(base, entity="bob"), capsys)
    assert rc == 0 and result["mailbox_export_jobs"] == []


@pytest.mark.parametrize("alias", ["state", "states"])
def test_info_old_state_filter_names_still_work_and_are_deprecated(capsys, fake, monkeypatch, alias):
    deprecations = []
    monkeypatch.setattr(arg_spec, "deprecate", lambda msg, **kwargs: deprecations.append(dict(kwargs, msg=msg)))
    done = fake.add_job(ALICE_ID, state="COMPLETED")
    fake.add_job("r-0123456789abcdef0123456789abcdef", state="RUNNING")
    args = {"region": "us-east-1", "organization_id": ORG_ID, alias: ["COMPLETED"]}
    rc, result = run(workmail_mailbox_export_info, args, capsys)
    assert rc == 0
    assert [job["job_id"] for job in result["mailbox_export_jobs"]] == [done]
    assert len(deprecations) == 1, deprecations
    assert f"Alias '{alias}' is deprecated" in deprecations[0]["msg"]
    deprecator = deprecations[0].get("deprecator")
    collection = deprecations[0].get("collection_name") or getattr(deprecator, "resolved_name", None)
    assert deprecations[0]["version"] == "1.0.0" and collection == "mailops.workmail"
