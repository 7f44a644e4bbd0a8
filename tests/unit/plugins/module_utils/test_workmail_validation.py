# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import validation
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import start_params

REGION = "us-east-1"


def params_with(**overrides):
    return start_params(**overrides)


# (overrides of a valid state=present task, region, parameter named, words of the rule)
INVALID = [
    # organization id
    ({"organization_id": "m-0123"}, REGION, "organization_id", "^m-[0-9a-f]{32}$"),
    ({"organization_id": "m-0123456789ABCDEF0123456789ABCDEF"}, REGION, "organization_id", "lowercase hexadecimal"),
    ({"organization_id": "x-0123456789abcdef0123456789abcdef"}, REGION, "organization_id", "^m-"),
    ({"organization_id": "m-0123456789abcdef0123456789abcdef0"}, REGION, "organization_id", "^m-"),
    # region
    ({}, None, "region", "is required"),
    ({}, "eu-central-1", "region", "Amazon WorkMail exists"),
    ({}, "cn-north-1", "region", "us-east-1, us-west-2, eu-west-1"),
    # role ARN
    ({"role_arn": "workmail-export-role-name"}, REGION, "role_arn", "IAM role ARN like"),
    ({"role_arn": "arn:aws-cn:iam::123456789012:role/x"}, REGION, "role_arn", "partition must be 'aws'"),
    ({"role_arn": "arn:aws-us-gov:iam::123456789012:role/x"}, REGION, "role_arn", "aws partition"),
    ({"role_arn": "arn:aws:sts::123456789012:role/xyz"}, REGION, "role_arn", "service must be 'iam'"),
    ({"role_arn": "arn:aws:iam:us-east-1:123456789012:role/x"}, REGION, "role_arn", "empty region"),
    ({"role_arn": "arn:aws:iam::12345678901:role/xyz"}, REGION, "role_arn", "12-digit"),
    ({"role_arn": "arn:aws:iam::12345678901a:role/xyz"}, REGION, "role_arn", "12-digit"),
    ({"role_arn": "arn:aws:iam::123456789012:user/bob"}, REGION, "role_arn", "role/<name>"),
    ({"role_arn": "arn:aws:iam::123456789012:role/" + "n" * 65}, REGION, "role_arn", "1 to 64"),
    ({"role_arn": "arn:aws:iam::1:r/x"}, REGION, "role_arn", "20 to 2048"),
    # KMS key ARN
    ({"kms_key_arn": "1234abcd-12ab-34cd-56ef-1234567890ab"}, REGION, "kms_key_arn", "kms_key_info"),
    ({"kms_key_arn": "alias/workmail-export-key"}, REGION, "kms_key_arn", "a KMS key ARN like"),
    (
        {"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/workmail-export"},
        REGION,
        "kms_key_arn",
        "alias ARN",
    ),
    (
        {"kms_key_arn": "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        REGION,
        "kms_key_arn",
        "partition must be 'aws'",
    ),
    (
        {"kms_key_arn": "arn:aws:iam:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        REGION,
        "kms_key_arn",
        "service must be 'kms'",
    ),
    (
        {"kms_key_arn": "arn:aws:kms:us-east-1:12345:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        REGION,
        "kms_key_arn",
        "12-digit",
    ),
    (
        {"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/not-a-key-id"},
        REGION,
        "kms_key_arn",
        "key/<key id>",
    ),
    (
        {"kms_key_arn": "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        REGION,
        "kms_key_arn",
        "Amazon WorkMail exists",
    ),
    (
        {"kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        REGION,
        "kms_key_arn",
        "must be the organization's region us-east-1",
    ),
    # bucket
    ({"s3_bucket": "ab"}, REGION, "s3_bucket", "3 to 63"),
    ({"s3_bucket": "a" * 64}, REGION, "s3_bucket", "3 to 63"),
    ({"s3_bucket": "Example-Bucket"}, REGION, "s3_bucket", "lowercase letters"),
    ({"s3_bucket": "example_bucket"}, REGION, "s3_bucket", "lowercase letters"),
    ({"s3_bucket": "-example"}, REGION, "s3_bucket", "begin and end"),
    ({"s3_bucket": "example."}, REGION, "s3_bucket", "begin and end"),
    ({"s3_bucket": "exa..mple"}, REGION, "s3_bucket", "adjacent dots"),
    ({"s3_bucket": "192.168.5.4"}, REGION, "s3_bucket", "IP address"),
    ({"s3_bucket": "xn--example"}, REGION, "s3_bucket", "begin with 'xn--'"),
    ({"s3_bucket": "example-s3alias"}, REGION, "s3_bucket", "end with '-s3alias'"),
    # prefix
    ({"s3_prefix": ""}, REGION, "s3_prefix", "1 to 1023"),
    ({"s3_prefix": "a" * 1024}, REGION, "s3_prefix", "1 to 1023"),
    ({"s3_prefix": "exports/with space"}, REGION, "s3_prefix", "may contain only"),
    ({"s3_prefix": "exports/ünicode"}, REGION, "s3_prefix", "may contain only"),
    ({"s3_prefix": "/exports"}, REGION, "s3_prefix", "must not start with /"),
    # description (the marker with a derived token takes 80 characters)
    ({"description": "d" * 944}, REGION, "description", "at most 943"),
    ({"description": "d" * 1000, "client_token": "t" * 10}, REGION, "description", "at most 989"),
    # client token
    ({"client_token": ""}, REGION, "client_token", "1 to 128"),
    ({"client_token": "t" * 129}, REGION, "client_token", "1 to 128"),
    ({"client_token": "with space"}, REGION, "client_token", "[\\x21-\\x7e]+"),
    ({"client_token": "tab\there"}, REGION, "client_token", "without spaces"),
    # entity
    ({"entity": "a" * 257}, REGION, "entity", "1 to 256"),
    ({"entity": "alice smith"}, REGION, "entity", "a-z A-Z 0-9"),
    ({"entity": "alice/smith"}, REGION, "entity", "a-z A-Z 0-9"),
    # job id (absent), wait timeout
    ({"state": "absent", "job_id": "job_1"}, REGION, "job_id", "1 to 63"),
    ({"state": "absent", "job_id": "j" * 64}, REGION, "job_id", "1 to 63"),
    ({"wait_timeout": 0}, REGION, "wait_timeout", "greater than 0"),
    ({"wait_timeout": -5}, REGION, "wait_timeout", "greater than 0"),
    # state-dependent requirements
    ({"job_id": "job-1"}, REGION, "job_id", "only used with state=absent"),
    ({"state": "absent", "role_arn": None}, REGION, "role_arn", "neither job_id nor client_token"),
    ({"state": "gone"}, REGION, "state", "present or absent"),
]


@pytest.mark.parametrize("overrides, region, parameter, rule", INVALID)
def test_invalid_export_parameters_name_parameter_and_rule(overrides, region, parameter, rule):
    with pytest.raises(ParameterError) as raised:
        validation.validate_export_params(params_with(**overrides), region)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(f"{parameter}: ")
    assert rule in str(raised.value)
    assert raised.value.details["parameter"] == parameter


VALID = [
    {},
    {"entity": "alice"},
    {"entity": "12345678-1234-1234-1234-123456789012"},
    {"entity": "r-0123456789abcdef0123456789abcdef"},
    {"entity": "S-1-1-12-1234567890-123456789-123456789-1234"},
    {"entity": "first.last+tag%x@example.co.uk"},
    {"role_arn": "arn:aws:iam::123456789012:role/service-role/path/workmail_export+=,.@-"},
    {"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"},
    {"s3_bucket": "abc"},
    {"s3_bucket": "my.bucket-1.example"},
    {"s3_prefix": "a!_.*'()/-Z9"},
    {"s3_prefix": "p" * 1023},
    {"description": "d" * 943},
    {"description": ""},
    {"description": "d" * 998, "client_token": "t"},
    {"client_token": "~" * 128},
    {"client_token": "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"},
    {"state": "absent", "job_id": "0123-abc-DEF"},
    {"state": "absent", "client_token": "token-1", "entity": None, "role_arn": None},
    {"state": "absent"},
]


@pytest.mark.parametrize("overrides", VALID)
def test_valid_export_parameters_pass(overrides):
    params = params_with(**overrides)
    assert validation.validate_export_params(params, REGION) is params


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-west-1"])
def test_every_workmail_region_is_accepted_with_a_key_there(region):
    key = f"arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    validation.validate_export_params(params_with(kms_key_arn=key), region)


def test_parse_role_and_key_arns():
    assert validation.parse_role_arn(ROLE_ARN) == {
        "account": "123456789012",
        "name": "workmail-export",
        "resource": "role/workmail-export",
    }
    assert validation.parse_kms_key_arn(KEY_ARN, region="us-east-1") == {
        "region": "us-east-1",
        "account": "123456789012",
        "key_id": "1234abcd-12ab-34cd-56ef-1234567890ab",
    }


def test_alias_arn_message_points_to_kms_key_info():
    with pytest.raises(ParameterError) as raised:
        validation.parse_kms_key_arn("arn:aws:kms:us-east-1:123456789012:alias/export")
    assert "pass the key ARN" in str(raised.value)
    assert "amazon.aws.kms_key_info" in str(raised.value)


def test_non_string_is_refused():
    with pytest.raises(ParameterError, match="s3_bucket: must be a string"):
        validation.validate_bucket_name(42)


INFO_INVALID = [
    ({"organization_id": "m-1"}, REGION, "organization_id"),
    ({"organization_id": "m-0123456789abcdef0123456789abcdef", "job_id": "bad id"}, REGION, "job_id"),
    ({"organization_id": "m-0123456789abcdef0123456789abcdef", "entity": "a b"}, REGION, "entity"),
    ({"organization_id": "m-0123456789abcdef0123456789abcdef", "client_token": "a b"}, REGION, "client_token"),
    ({"organization_id": "m-0123456789abcdef0123456789abcdef", "s3_bucket": "bad_bucket"}, REGION, "s3_bucket"),
    ({"organization_id": "m-0123456789abcdef0123456789abcdef", "job_states": ["DONE"]}, REGION, "job_states"),
    ({"organization_id": "m-0123456789abcdef0123456789abcdef"}, "ap-south-1", "region"),
]


@pytest.mark.parametrize("params, region, parameter", INFO_INVALID)
def test_invalid_info_parameters(params, region, parameter):
    with pytest.raises(ParameterError) as raised:
        validation.validate_info_params(params, region)
    assert raised.value.parameter == parameter


def test_info_bucket_filter_accepts_api_pattern():
    params = {
        "organization_id": "m-0123456789abcdef0123456789abcdef",
        "s3_bucket": "Legacy.Bucket",
        "job_states": ["FAILED"],
    }
    assert validation.validate_info_params(params, REGION) is params
