# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import hashlib
import os
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
import yaml
from ansible_collections.mailops.workmail.plugins.module_utils import common
from ansible_collections.mailops.workmail.plugins.module_utils import export_jobs
from ansible_collections.mailops.workmail.plugins.module_utils import tokens
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
ENTITY = "11111111-2222-3333-4444-555555555555"
INPUTS = (ORG_ID, ENTITY, BUCKET, PREFIX, ROLE_ARN, KEY_ARN)


def test_collection_version_matches_galaxy_yml():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    assert common.COLLECTION_VERSION == galaxy["version"]
    assert common.COLLECTION_NAME == f"{galaxy['namespace']}.{galaxy['name']}"


def test_workmail_regions():
    assert set(common.WORKMAIL_REGIONS) == {"us-east-1", "us-west-2", "eu-west-1"}


def test_derived_token_is_stable_and_documented():
    token = tokens.derive_client_token(*INPUTS)
    # A fixed value: the derivation must never change between releases or Python versions.
    assert token == tokens.derive_client_token(*INPUTS)
    assert token.startswith("mailops-")
    assert len(token) == tokens.DERIVED_TOKEN_LENGTH == 56
    assert (
        token
        == "mailops-"
        + hashlib.sha256(
            (
                '{"entity_id":"%s","kms_key_arn":"%s","organization_id":"%s","role_arn":"%s","s3_bucket":"%s",'
                '"s3_prefix":"%s"}' % (ENTITY, KEY_ARN, ORG_ID, ROLE_ARN, BUCKET, PREFIX)
            ).encode("ascii")
        ).hexdigest()[:48]
    )
    assert export_jobs.derive_client_token is tokens.derive_client_token


def test_derived_token_known_value():
    # Pinned: changing the derivation would make every existing job unfindable and start duplicates.
    token = tokens.derive_client_token("m-" + "0" * 32, "e", "b", "p", "r", "k")
    assert token == "mailops-76a82ddfa2cb3e20fdf00678b9c29604d1bb561cafbd57dd"
    assert token == tokens.derive_client_token(
        organization_id="m-" + "0" * 32, entity_id="e", bucket="b", prefix="p", role_arn="r", kms_key_arn="k"
    )


@pytest.mark.parametrize("position", range(len(INPUTS)))
def test_derived_token_changes_with_each_input(position):
    changed = list(INPUTS)
    changed[position] = changed[position] + "x"
    assert tokens.derive_client_token(*changed) != tokens.derive_client_token(*INPUTS)


def test_derived_token_is_not_confused_by_field_boundaries():
    assert tokens.derive_client_token(ORG_ID, "ab", "c", PREFIX, ROLE_ARN, KEY_ARN) != tokens.derive_client_token(
        ORG_ID, "a", "bc", PREFIX, ROLE_ARN, KEY_ARN
    )


@pytest.mark.parametrize(
    "description, token",
    [
        (None, "mailops-abc"),
        ("", "mailops-abc"),
        ("Export before end of support", "tok"),
        ("text with [mailops:client_token=fake] inside", "real"),
        ("x", "weird]token[with]brackets"),
        ("x", "x[mailops:client_token=y"),
        ("trailing space ", "t"),
    ],
)
def test_marker_round_trip(description, token):
    full = tokens.build_description(description, token)
    assert tokens.parse_marker(full) == token
    assert full.endswith(tokens.marker(token))
    if description:
        assert full.startswith(description + " ")
    else:
        assert full == f"[mailops:client_token={token}]"


@pytest.mark.parametrize(
    "description", [None, "", "no marker", "[mailops:client_token=a b]", "[mailops:client_token=x] then text"]
)
def test_parse_marker_without_marker(description):
    assert tokens.parse_marker(description) is None


@pytest.mark.parametrize("token", [None, "t", "t" * 56, "t" * 128])
def test_description_budget_fills_exactly_1023(token):
    budget = tokens.description_budget(token)
    full = tokens.build_description("d" * budget, token or "m" * tokens.DERIVED_TOKEN_LENGTH)
    assert len(full) == tokens.MAX_DESCRIPTION_LENGTH == 1023


def test_description_budget_values():
    assert tokens.description_budget() == 943
    assert tokens.description_budget("t" * 128) == 871


def test_cancel_token_is_deterministic_and_valid():
    token = tokens.cancel_client_token("j" * 63)
    assert token == "mailops-cancel-" + "j" * 63
    assert len(token) <= 128


def test_normalize_job_every_field_iso_times_and_token_from_marker():
    start = datetime(2026, 11, 22, 5, 1, 2, tzinfo=timezone.utc)
    raw = {
        "JobId": "job-1",
        "EntityId": ENTITY,
        "Description": tokens.build_description("d", "tok-1"),
        "RoleArn": ROLE_ARN,
        "KmsKeyArn": KEY_ARN,
        "S3BucketName": BUCKET,
        "S3Prefix": PREFIX,
        "S3Path": f"{PREFIX}/{ENTITY}/job-1.zip",
        "EstimatedProgress": 100,
        "State": "COMPLETED",
        "StartTime": start,
        "EndTime": start + timedelta(minutes=9, seconds=45),
        "ResponseMetadata": {"ignored": True},
    }
    assert export_jobs.normalize_job(raw) == {
        "job_id": "job-1",
        "entity_id": ENTITY,
        "description": "d [mailops:client_token=tok-1]",
        "role_arn": ROLE_ARN,
        "kms_key_arn": KEY_ARN,
        "s3_bucket_name": BUCKET,
        "s3_prefix": PREFIX,
        "s3_path": f"{PREFIX}/{ENTITY}/job-1.zip",
        "estimated_progress": 100,
        "state": "COMPLETED",
        "error_info": None,
        "start_time": "2026-11-22T05:01:02+00:00",
        "end_time": "2026-11-22T05:10:47+00:00",
        "client_token": "tok-1",
    }


def test_normalize_job_missing_fields_are_none_and_token_override():
    job = export_jobs.normalize_job({"JobId": "j", "State": "RUNNING"}, client_token="given")
    assert job["client_token"] == "given"
    assert job["end_time"] is None
    assert job["role_arn"] is None
    assert set(job) == {name for dummy, name in export_jobs.JOB_FIELDS} | {"client_token"}
    assert export_jobs.normalize_job({"Description": "no marker"})["client_token"] is None


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2026-01-02T01:04:05+00:00"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05+00:00"),
        (0, "1970-01-01T00:00:00+00:00"),
        (1.5, "1970-01-01T00:00:01.500000+00:00"),
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05+00:00"),
        ("2026-01-02T03:04:05+01:00", "2026-01-02T02:04:05+00:00"),
        (None, None),
    ],
)
def test_iso8601(value, expected):
    assert export_jobs.iso8601(value) == expected
