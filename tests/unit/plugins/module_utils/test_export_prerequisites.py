# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The export_prerequisites role's inputs, names and decisions (its filter export_prerequisites_plan)."""

from pathlib import Path

import pytest
import yaml
from ansible_collections.mailops.workmail.plugins.filter.export_prerequisites_plan import FilterModule
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import INPUTS
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import check_inputs
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import destination_id
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import plan
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import served_destinations
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import trust_policy
from ansible_collections.mailops.workmail.plugins.module_utils.export_prerequisites import trusted_organizations
from ansible_collections.mailops.workmail.plugins.module_utils.playbook_inputs import check_variables

ROOT = Path(__file__).resolve().parents[4]
ROLE = ROOT / "roles" / "export_prerequisites"
ACCOUNT = "123456789012"
ORG = "m-0123456789abcdef0123456789abcdef"
OTHER_ORG = "m-" + "f" * 32
BUCKET = "example-corp-workmail-exports"
ORG_ARN = f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/{ORG}"
OTHER_ORG_ARN = f"arn:aws:workmail:us-east-1:{ACCOUNT}:organization/{OTHER_ORG}"


def given(**overrides):
    """The role's variables as the role passes them to the filter: its defaults, the required inputs, overrides."""
    values = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    values.update(
        export_prerequisites_organization_id=ORG,
        export_prerequisites_region="us-east-1",
        export_prerequisites_bucket=BUCKET,
    )
    values.update({f"export_prerequisites_{name}": value for name, value in overrides.items()})
    return values


def names(**overrides):
    return check_inputs(given(**overrides))["names"]


def destination_policy(bucket=BUCKET, prefix="workmail-exports/"):
    objects = f"arn:aws:s3:::{bucket}/{prefix}*"
    return {
        "policy_name": f"workmail-mailbox-export-{destination_id(bucket, prefix)}",
        "policy_document": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetBucketPolicyStatus", "Resource": f"arn:aws:s3:::{bucket}"},
                {"Effect": "Allow", "Action": ["s3:AbortMultipartUpload", "s3:PutObject"], "Resource": objects},
            ],
        },
    }


def found(role_policies=None, organizations=(ORG_ARN,), bucket_tags=None, key_bucket=None, **extra):
    """What exists: a role serving ``role_policies`` (None: no role) and trusting ``organizations`` ("*": every one),
    a bucket with ``bucket_tags`` (None: no bucket), a key made for ``key_bucket`` (None: no key)."""
    role = None
    if role_policies is not None:
        role = {"assume_role_policy_document": trust_policy(ACCOUNT, set(organizations)), "tags": {}}
    bucket = None
    if bucket_tags is not None:
        bucket = {"bucket_location": {"LocationConstraint": "us-east-1"}, "bucket_tagging": bucket_tags}
    facts = {
        "account": ACCOUNT,
        "organization": {"in_region": True, "elsewhere": []},
        "role": role,
        "role_policies": role_policies or [],
        "key": {"tags": {"mailops-workmail-bucket": key_bucket}} if key_bucket else None,
        "bucket": bucket,
    }
    facts.update(extra)
    return facts


# Inputs


def test_the_defaults_are_valid_and_every_input_is_read():
    checked = check_inputs(given())
    assert checked["problems"] == []
    assert set(checked["inputs"]) == set(INPUTS)
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert (
        {f"export_prerequisites_{name}" for name in INPUTS}
        == set(specs)
        == set(defaults)
        | {
            "export_prerequisites_region",
            "export_prerequisites_bucket",
        }
    )


@pytest.mark.parametrize(
    "text, value",
    [(True, True), (False, False), ("true", True), ("False", False), ("YES", True), ("no", False), (" yes ", True)],
)
def test_booleans_are_real_ones_or_the_survey_words(text, value):
    checked = check_inputs(given(force=text, versioning=text, all_organizations=text, share_role=text))
    assert checked["problems"] == []
    assert {checked["inputs"][name] for name in ("force", "versioning", "all_organizations", "share_role")} == {value}


@pytest.mark.parametrize("text", ["flase", "on", "off", "1", "0", "", "y", 1, 0, None])
def test_any_other_boolean_is_an_error_naming_the_input_and_the_value(text):
    checked = check_inputs(given(force=text))
    assert checked["problems"] == [
        f"export_prerequisites_force: must be true or false (or the text true, false, yes, no), got {text!r}"
    ]
    assert checked["names"] == {}


@pytest.mark.parametrize("text, value", [(0, 0), (30, 30), ("30", 30), (" 7 ", 7)])
def test_integers_are_integers_or_digit_text(text, value):
    checked = check_inputs(given(lifecycle_days=text))
    assert checked["problems"] == [] and checked["inputs"]["lifecycle_days"] == value


@pytest.mark.parametrize(
    "text, rule",
    [
        ("1e9", "must be an integer, got '1e9'"),
        ("3.5", "must be an integer, got '3.5'"),
        (3.5, "must be an integer, got 3.5"),
        ("", "must be an integer, got ''"),
        (True, "must be an integer, got True"),
        (-1, "must be an integer of at least 0, got -1"),
    ],
)
def test_any_other_integer_is_an_error_naming_the_input_and_the_value(text, rule):
    assert check_inputs(given(lifecycle_days=text))["problems"] == [f"export_prerequisites_lifecycle_days: {rule}"]


@pytest.mark.parametrize(
    "name, value, rule",
    [
        ("prefix", "/exports/", "must not start with /"),
        ("prefix", "exports", "must end with /"),
        ("prefix", "exp*/", "contain no *"),
        ("bucket", "Not_A_Bucket", "may contain only lowercase letters"),
        ("bucket", "ab", "must be 3 to 63 characters long, got 2 (value 'ab')"),
        ("region", "eu-central-1", "must be a region where Amazon WorkMail exists"),
        ("organization_id", "m-123", "must match ^m-[0-9a-f]{32}$"),
        ("organization_id", "", "is required unless export_prerequisites_all_organizations is true"),
        ("kms_alias", "alias/aws/s3", "must not be an alias/aws/ alias"),
        ("kms_alias", "my key", "must be a KMS alias"),
        ("role_name", "x" * 65, "must be an IAM role name"),
    ],
)
def test_each_wrong_input_is_named_with_its_value_and_its_rule(name, value, rule):
    problems = check_inputs(given(**{name: value}))["problems"]
    assert len(problems) == 1 and problems[0].startswith(f"export_prerequisites_{name}: "), problems
    assert rule in problems[0] and (repr(value) in problems[0] or value == ""), problems


def test_every_wrong_input_is_named_at_once_in_the_order_of_the_inputs():
    problems = check_inputs(given(bucket="Bad", prefix="/x/", force="flase", lifecycle_days="1e9"))["problems"]
    assert [problem.split(":", 1)[0] for problem in problems] == [
        "export_prerequisites_bucket",
        "export_prerequisites_prefix",
        "export_prerequisites_lifecycle_days",
        "export_prerequisites_force",
    ]


def test_all_organizations_needs_no_organization_and_the_filter_is_the_plan():
    assert check_inputs(given(organization_id="", all_organizations="yes"))["problems"] == []
    assert FilterModule().filters()["export_prerequisites_plan"] is plan


# Names


def test_names_derive_from_the_bucket_and_the_prefix_and_differ_between_destinations():
    first, second, other_bucket = names(), names(prefix="second/"), names(bucket="example.other-bucket")
    ident = destination_id(BUCKET, "workmail-exports/")
    assert first == {
        "service": "workmail",
        "destination": f"s3://{BUCKET}/workmail-exports/",
        "destination_id": ident,
        "role_name": f"WorkMailMailboxExport-{ident}",
        "policy_name": f"workmail-mailbox-export-{ident}",
        "kms_alias": f"alias/workmail-export/{BUCKET}",
        "lifecycle_rule_id": f"mailops-workmail-expiration-{ident}",
        "destination_tag": f"mailops-workmail-destination-{ident}",
        "destination_tag_value": "workmail-exports/",
    }
    for key in ("role_name", "policy_name", "lifecycle_rule_id", "destination_tag"):
        assert len({first[key], second[key], other_bucket[key]}) == 3, key
    # The key belongs to the bucket: both prefixes of one bucket use it.
    assert second["kms_alias"] == first["kms_alias"]
    assert other_bucket["kms_alias"] == "alias/workmail-export/example_other-bucket"
    longest = names(bucket="b" * 63, prefix="p" * 1022 + "/")
    assert len(longest["role_name"]) <= 64 and len(longest["destination_tag_value"]) <= 256


def test_given_names_are_kept_and_the_alias_gets_its_prefix():
    given_names = names(role_name="CorpExport", kms_alias="corp-exports")
    assert given_names["role_name"] == "CorpExport" and given_names["kms_alias"] == "alias/corp-exports"


# Policies


def test_what_a_role_serves_is_read_from_its_policies_and_its_trust():
    assert served_destinations(destination_policy()["policy_document"]) == {(BUCKET, "workmail-exports/")}
    assert served_destinations({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}) == set()
    assert trusted_organizations(trust_policy(ACCOUNT, {ORG_ARN, OTHER_ORG_ARN})) == {ORG_ARN, OTHER_ORG_ARN}
    assert trusted_organizations(trust_policy(ACCOUNT, {"*"})) == {"*"}
    assert (
        trusted_organizations({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}]})
        == set()
    )
    assert trust_policy(ACCOUNT, {ORG_ARN})["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": ORG_ARN},
    }


# Provisioning


def test_a_new_destination_gets_a_role_trusting_its_organization():
    planned = plan(given(), found())
    assert planned["problems"] == [] and planned["notes"] == []
    assert planned["organizations"] == [ORG_ARN]
    assert planned["keep_policies"] == planned["remove_policies"] == []


def test_a_role_serving_another_destination_is_never_narrowed():
    other = destination_policy(prefix="first/")
    planned = plan(given(role_name="Shared"), found([other]))
    assert len(planned["problems"]) == 1
    problem = planned["problems"][0]
    assert problem.startswith("export_prerequisites_role_name: role Shared already serves ")
    assert f"s3://{BUCKET}/first/" in problem and "export_prerequisites_share_role=true" in problem


def test_share_role_adds_the_destination_and_says_so():
    other = destination_policy(prefix="first/")
    planned = plan(given(role_name="Shared", share_role="true"), found([other], bucket_tags={}))
    assert planned["problems"] == []
    assert planned["keep_policies"] == [other["policy_name"]] and planned["remove_policies"] == []
    assert planned["role_also_serves"] == [f"s3://{BUCKET}/first/"]
    assert planned["notes"] == [
        f"role Shared now serves s3://{BUCKET}/workmail-exports/ as well as s3://{BUCKET}/first/ "
        "(export_prerequisites_share_role)"
    ]
    # Once shared, a run for either destination keeps the other one without being asked again.
    again = plan(given(role_name="Shared"), found([other, destination_policy()]))
    assert again["problems"] == [] and again["keep_policies"] == [other["policy_name"]]
    assert again["notes"] == [f"role Shared also serves s3://{BUCKET}/first/, which this run keeps"]


def test_another_organization_is_never_taken_away_from_the_role():
    mine = destination_policy()
    refused = plan(given(organization_id=OTHER_ORG), found([mine]))
    assert len(refused["problems"]) == 1 and f"trusts organization {ORG} in us-east-1" in refused["problems"][0]
    shared = plan(given(organization_id=OTHER_ORG, share_role=True), found([mine]))
    assert shared["problems"] == [] and shared["organizations"] == sorted([ORG_ARN, OTHER_ORG_ARN])
    trusting_every = plan(given(), found([mine], organizations=("*",)))
    assert trusting_every["problems"] == [] and trusting_every["organizations"] == ["*"]
    assert trusting_every["notes"] == [
        "role WorkMailMailboxExport-{} keeps trusting every organization of the account".format(
            destination_id(BUCKET, "workmail-exports/")
        )
    ]
    assert plan(given(organization_id="", all_organizations=True), found([mine]))["organizations"] == ["*"]


def test_extra_inline_policies_are_removed_but_not_those_of_kept_destinations():
    extra = {
        "policy_name": "too-broad",
        "policy_document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    }
    other = destination_policy(prefix="first/")
    planned = plan(given(share_role="yes"), found([other, extra, destination_policy()]))
    assert planned["remove_policies"] == ["too-broad"] and planned["keep_policies"] == [other["policy_name"]]


@pytest.mark.parametrize(
    "organization, state, problem",
    [
        (
            {"in_region": False, "elsewhere": ["eu-west-1"]},
            "present",
            f"export_prerequisites_region: organization {ORG} is in eu-west-1, not in us-east-1",
        ),
        (
            {"in_region": False, "elsewhere": ["eu-west-1"]},
            "absent",
            f"export_prerequisites_region: organization {ORG} is in eu-west-1, not in us-east-1",
        ),
        (
            {"in_region": False, "elsewhere": []},
            "present",
            f"export_prerequisites_organization_id: organization {ORG} does not exist",
        ),
        ({"in_region": False, "elsewhere": []}, "absent", None),
    ],
)
def test_the_organization_must_be_in_the_region(organization, state, problem):
    planned = plan(given(state=state), found(organization=organization))
    assert planned["problems"] == ([] if problem is None else [planned["problems"][0]])
    if problem:
        assert planned["problems"][0].startswith(problem)


def test_a_bucket_in_another_region_and_a_key_of_another_bucket_are_refused():
    facts = found(bucket_tags={}, key_bucket="another-bucket")
    facts["bucket"]["bucket_location"] = {"LocationConstraint": "eu-west-1"}
    problems = plan(given(), facts)["problems"]
    assert problems[0].startswith(
        f"export_prerequisites_kms_alias: key alias/workmail-export/{BUCKET} was made for bucket another-bucket"
    )
    assert problems[1].startswith(f"export_prerequisites_bucket: bucket {BUCKET} is in eu-west-1, not in us-east-1")


# Removal


def test_removal_keeps_the_bucket_another_destination_uses_and_the_role_that_serves_another():
    mine, other = destination_policy(), destination_policy(prefix="first/")
    first_tag = f"mailops-workmail-destination-{destination_id(BUCKET, 'first/')}"
    my_tag = names()["destination_tag"]
    planned = plan(
        given(state="absent", role_name="Shared"),
        found(
            [mine, other],
            bucket_tags={first_tag: "first/", my_tag: "workmail-exports/", "managed-by": "mailops.workmail"},
        ),
    )
    assert planned["problems"] == []
    assert planned["remove_bucket"] is False and planned["bucket_used_by"] == [f"s3://{BUCKET}/first/"]
    assert planned["bucket_tags_after"] == {first_tag: "first/", "managed-by": "mailops.workmail"}
    assert planned["remove_role"] is False and planned["remove_policies"] == [mine["policy_name"]]
    assert planned["notes"] == [
        f"role Shared is kept: it still serves s3://{BUCKET}/first/",
        f"bucket {BUCKET} and key alias/workmail-export/{BUCKET} are kept: s3://{BUCKET}/first/ still uses them; "
        "the exports under workmail-exports/ stay in the bucket",
    ]


def test_removal_of_the_last_destination_removes_everything():
    planned = plan(given(state="absent"), found([destination_policy()], bucket_tags={names()["destination_tag"]: "x"}))
    assert planned["problems"] == [] and planned["notes"] == []
    assert planned["remove_bucket"] is True and planned["remove_role"] is True


def test_removal_refuses_a_role_that_serves_only_other_destinations():
    planned = plan(given(state="absent", role_name="Shared"), found([destination_policy(prefix="first/")]))
    assert planned["problems"][0].startswith(
        f"export_prerequisites_role_name: role Shared serves s3://{BUCKET}/first/, not "
    )
    assert "nothing was removed" in planned["problems"][0]


def test_removal_keeps_a_role_it_did_not_make_that_serves_nothing():
    facts = found([])
    assert plan(given(state="absent"), facts)["remove_role"] is False
    facts["role"]["tags"] = {"managed-by": "mailops.workmail"}
    assert plan(given(state="absent"), facts)["remove_role"] is True


@pytest.mark.parametrize("location, refused", [("EU", False), ("eu-west-1", False), ("us-east-1", True), (None, False)])
def test_the_buckets_region_is_checked_when_it_is_known(location, refused):
    facts = found(bucket_tags={})
    facts["bucket"]["bucket_location"] = {"LocationConstraint": location} if location else {}
    problems = plan(given(region="eu-west-1"), facts)["problems"]
    assert bool(problems) is refused, problems


def test_the_playbook_checks_the_names_it_passes_to_the_role_with_the_same_rules():
    variables = {
        "workmail_organization_id": ORG,
        "workmail_region": "us-east-1",
        "workmail_bucket": BUCKET,
        "workmail_campaign": "end-of-support",
    }
    assert check_variables(variables)["problems"] == []
    problems = check_variables(dict(variables, workmail_role_name="two words", workmail_kms_alias="alias/aws/s3"))[
        "problems"
    ]
    assert [problem.split(":", 1)[0] for problem in problems] == ["workmail_kms_alias", "workmail_role_name"]
    assert check_variables(dict(variables, workmail_provision="TRUE", workmail_wait="flase"))["problems"] == [
        "workmail_wait: must be true or false (or the text true, false, yes, no), got 'flase'"
    ]


# Forecast destinations


def forecast_given(**overrides):
    """The role's variables for a Forecast destination: no organization, the service forecast."""
    values = given(organization_id="", service="forecast")
    values.update({f"export_prerequisites_{name}": value for name, value in overrides.items()})
    return values


def forecast_policy(bucket=BUCKET, prefix="forecast-exports/"):
    return {
        "policy_name": f"forecast-export-{destination_id(bucket, prefix, 'forecast')}",
        "policy_document": {
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/{prefix}*"}
            ]
        },
    }


def forecast_found(role_policies=None, regions=("us-east-1",), **extra):
    """What exists for a Forecast destination: no organization; a role trusting Forecast in ``regions``."""
    facts = found(organization=None, **extra)
    if role_policies is not None:
        sources = {f"arn:aws:forecast:{region}:{ACCOUNT}:*" for region in regions}
        facts["role"] = {"assume_role_policy_document": trust_policy(ACCOUNT, sources, "forecast"), "tags": {}}
        facts["role_policies"] = role_policies
    return facts


def test_a_forecast_destination_has_its_own_names_and_default_prefix():
    checked = check_inputs(forecast_given())
    ident = destination_id(BUCKET, "forecast-exports/", "forecast")
    assert checked["problems"] == [] and checked["inputs"]["prefix"] == "forecast-exports/"
    assert ident != destination_id(BUCKET, "forecast-exports/")
    assert checked["names"] == {
        "service": "forecast",
        "destination": f"s3://{BUCKET}/forecast-exports/",
        "destination_id": ident,
        "role_name": f"ForecastExport-{ident}",
        "policy_name": f"forecast-export-{ident}",
        # The key belongs to the bucket, whichever service writes into it.
        "kms_alias": f"alias/workmail-export/{BUCKET}",
        "lifecycle_rule_id": f"mailops-workmail-expiration-{ident}",
        "destination_tag": f"mailops-workmail-destination-{ident}",
        "destination_tag_value": "forecast-exports/",
    }
    # Left empty, WorkMail's prefix stays workmail-exports/.
    assert check_inputs(given(prefix=""))["inputs"]["prefix"] == "workmail-exports/"


@pytest.mark.parametrize(
    "overrides, problem",
    [
        (
            {"service": "sagemaker"},
            "export_prerequisites_service: must be one of workmail, forecast (value 'sagemaker')",
        ),
        ({"region": "eu-west-3"}, "export_prerequisites_region: must be a region where Amazon Forecast exists"),
        (
            {"organization_id": ORG},
            "export_prerequisites_organization_id: is for export_prerequisites_service=workmail",
        ),
        (
            {"all_organizations": "yes"},
            "export_prerequisites_organization_id: is for export_prerequisites_service=workmail",
        ),
        ({"prefix": "forecasts"}, "export_prerequisites_prefix: must end with /"),
    ],
)
def test_forecast_inputs_are_checked_with_their_own_rules(overrides, problem):
    problems = check_inputs(forecast_given(**overrides))["problems"]
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_forecast_regions_are_forecast_s_own():
    assert check_inputs(forecast_given(region="eu-central-1"))["problems"] == []
    assert "Amazon WorkMail" in check_inputs(given(region="eu-central-1"))["problems"][0]


def test_a_forecast_role_trusts_forecast_for_this_account_and_region():
    planned = plan(forecast_given(region="eu-west-1"), forecast_found())
    assert planned["problems"] == [] and planned["notes"] == []
    assert planned["trust_policy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowForecastExport",
                "Effect": "Allow",
                "Principal": {"Service": "forecast.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:forecast:eu-west-1:{ACCOUNT}:*"},
                },
            }
        ],
    }


def test_a_forecast_role_is_never_narrowed_either():
    other = forecast_policy(prefix="first/")
    refused = plan(forecast_given(role_name="Shared"), forecast_found([other]))
    assert len(refused["problems"]) == 1 and f"already serves s3://{BUCKET}/first/" in refused["problems"][0]
    other_region = plan(forecast_given(region="eu-west-1"), forecast_found([forecast_policy()]))
    assert f"trusts Amazon Forecast in us-east-1 (account {ACCOUNT})" in other_region["problems"][0]
    shared = plan(forecast_given(role_name="Shared", share_role=True), forecast_found([other]))
    assert shared["problems"] == [] and shared["keep_policies"] == [other["policy_name"]]
    again = plan(forecast_given(), forecast_found([forecast_policy()]))
    assert again["problems"] == [] and again["remove_policies"] == []


def test_a_role_of_one_service_is_never_given_to_the_other():
    workmail_role = found([destination_policy()], organization=None)
    refused = plan(forecast_given(role_name="Shared"), workmail_role)
    assert refused["problems"] == [
        "export_prerequisites_role_name: role Shared is used by Amazon WorkMail exports, not Amazon Forecast's; nothing "
        "was changed. Give this destination its own role (export_prerequisites_role_name; left empty, each service, "
        "bucket and prefix gets its own)"
    ]
    forecast_role = forecast_found([forecast_policy()])
    refused = plan(given(role_name="Shared"), dict(forecast_role, organization={"in_region": True}))
    assert "is used by Amazon Forecast exports, not Amazon WorkMail's" in refused["problems"][0]
    assert "is used by Amazon WorkMail" in plan(forecast_given(state="absent"), workmail_role)["problems"][0]


def test_removing_a_forecast_destination_removes_its_role_and_keeps_a_bucket_another_destination_uses():
    workmail_tag = f"mailops-workmail-destination-{destination_id(BUCKET, 'workmail-exports/')}"
    planned = plan(
        forecast_given(state="absent"),
        forecast_found([forecast_policy()], bucket_tags={workmail_tag: "workmail-exports/"}),
    )
    assert planned["problems"] == []
    assert planned["remove_role"] is True and planned["remove_bucket"] is False
    assert planned["bucket_used_by"] == [f"s3://{BUCKET}/workmail-exports/"]
