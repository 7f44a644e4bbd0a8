# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The organizations of an account as the inventory plugin shows them: settings, selection, host names, groups."""

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import group_names
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import host_name
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import is_selected
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import organization_record
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import read_settings
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import select_organizations

ALL_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def summary(alias, state="Active", number=1):
    out = {"OrganizationId": f"m-{number:032x}", "State": state}
    if alias:
        out.update(Alias=alias, DefaultMailDomain=f"{alias}.awsapps.com")
    return out


def settings(**options):
    return read_settings(dict({"regions": ALL_REGIONS, "states": ["Active"]}, **options))


def test_a_record_has_the_organization_and_its_region():
    record = organization_record(summary("example-corp", number=7), "eu-west-1")
    assert record == {
        "id": "m-00000000000000000000000000000007",
        "alias": "example-corp",
        "region": "eu-west-1",
        "state": "Active",
        "default_mail_domain": "example-corp.awsapps.com",
        "error_message": None,
    }
    failed = organization_record(dict(summary(None, "Failed"), ErrorMessage="directory gone"), "us-east-1")
    assert failed["alias"] is None and failed["default_mail_domain"] is None
    assert failed["error_message"] == "directory gone"


def test_host_name_is_the_alias_or_the_id_without_one():
    assert host_name(organization_record(summary("example-corp"), "us-east-1")) == "example-corp"
    assert host_name(organization_record(summary(None, number=3), "us-east-1")) == "m-00000000000000000000000000000003"


def test_default_settings_keep_active_organizations_of_every_region():
    read = read_settings({"regions": ALL_REGIONS, "states": ["Active"]})
    assert read == {"regions": ALL_REGIONS, "states": ["active"], "include_aliases": [], "exclude_aliases": []}


@pytest.mark.parametrize(
    "options, option, rule",
    [
        (
            {"regions": ["us-east-1", "ap-south-1"]},
            "regions",
            "Amazon WorkMail exists (us-east-1, us-west-2, eu-west-1)",
        ),
        ({"regions": []}, "regions", "must name at least one entry"),
        ({"regions": "us-east-1, eu-west-1"}, "regions", "Amazon WorkMail exists"),
        ({"regions": {"us-east-1": True}}, "regions", "must be a list of strings"),
        ({"states": []}, "states", "must name at least one entry"),
        ({"states": ["Active", "all"]}, "states", "all keeps every state and cannot be combined"),
        ({"states": [""]}, "states", "every entry must be a non-empty string"),
        ({"include_aliases": ["corp-*", 3]}, "include_aliases", "every entry must be a non-empty string"),
        ({"exclude_aliases": [" "]}, "exclude_aliases", "every entry must be a non-empty string"),
    ],
)
def test_a_wrong_setting_names_its_option_and_rule(options, option, rule):
    with pytest.raises(ParameterError) as raised:
        settings(**options)
    assert raised.value.parameter == option
    assert rule in raised.value.rule
    assert str(raised.value).startswith(f"{option}: ")


def test_regions_are_kept_once_in_the_order_given():
    assert settings(regions=["eu-west-1", "us-east-1", "eu-west-1"])["regions"] == ["eu-west-1", "us-east-1"]


@pytest.mark.parametrize(
    "options, kept",
    [
        ({}, {"alpha", "alpha-test", "bravo", "m-00000000000000000000000000000006"}),
        (
            {"states": ["all"]},
            {"alpha", "alpha-test", "bravo", "charlie", "delta", "m-00000000000000000000000000000006"},
        ),
        (
            {"states": ["deleted", "ACTIVE"]},
            {"alpha", "alpha-test", "bravo", "charlie", "m-00000000000000000000000000000006"},
        ),
        ({"include_aliases": ["ALPHA*"]}, {"alpha", "alpha-test"}),
        ({"include_aliases": ["alpha*"], "exclude_aliases": ["*-test"]}, {"alpha"}),
        ({"exclude_aliases": ["*-test", "b?avo"]}, {"alpha", "m-00000000000000000000000000000006"}),
        ({"include_aliases": ["m-*"]}, {"m-00000000000000000000000000000006"}),
    ],
)
def test_selection_by_state_and_alias_patterns(options, kept):
    records = [
        organization_record(summary("alpha", number=1), "us-east-1"),
        organization_record(summary("alpha-test", number=2), "us-east-1"),
        organization_record(summary("bravo", number=3), "eu-west-1"),
        organization_record(summary("charlie", "Deleted", number=4), "us-west-2"),
        organization_record(summary("delta", "Creating", number=5), "us-west-2"),
        organization_record(summary(None, number=6), "eu-west-1"),
    ]
    chosen = settings(**options)
    assert {host_name(record) for record in records if is_selected(record, chosen)} == kept
    assert {host_name(record) for record in select_organizations(records, chosen)} == kept


def test_selection_is_ordered_by_region_as_given_then_host_name():
    records = [
        organization_record(summary("zulu", number=1), "us-east-1"),
        organization_record(summary("bravo", number=2), "eu-west-1"),
        organization_record(summary("alpha", number=3), "us-east-1"),
    ]
    chosen = settings(regions=["eu-west-1", "us-east-1"])
    assert [host_name(record) for record in select_organizations(records, chosen)] == ["bravo", "alpha", "zulu"]


def test_two_organizations_with_one_host_name_are_refused_naming_both():
    records = [
        organization_record(summary("same", number=1), "us-east-1"),
        organization_record(summary("same", number=2), "eu-west-1"),
    ]
    with pytest.raises(ParameterError) as raised:
        select_organizations(records, settings())
    message = str(raised.value)
    assert "m-00000000000000000000000000000001 (us-east-1)" in message
    assert "m-00000000000000000000000000000002 (eu-west-1)" in message
    assert "exclude_aliases" in message


def test_groups_by_region_and_state():
    record = organization_record(summary("alpha", "Active"), "us-west-2")
    assert group_names(record) == ["workmail_organizations", "workmail_region_us_west_2", "workmail_state_active"]
    odd = organization_record(summary("alpha", "Pending Deletion"), "eu-west-1")
    assert group_names(odd)[1:] == ["workmail_region_eu_west_1", "workmail_state_pending_deletion"]
    assert group_names(organization_record({"OrganizationId": "m-1"}, "us-east-1")) == [
        "workmail_organizations",
        "workmail_region_us_east_1",
    ]
