# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The inventory plugin workmail_organizations, parsing real configuration files, with a fake WorkMail client."""

import pytest
import yaml
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible_collections.mailops.workmail.plugins.inventory.workmail_organizations import InventoryModule

NAME = "mailops.workmail.workmail_organizations"


class FakeWorkMail:
    """ListOrganizations of one region, two organizations a page."""

    def __init__(self, summaries, calls):
        self._summaries = summaries
        self._calls = calls

    def list_organizations(self, MaxResults, NextToken=None):  # pylint: disable=invalid-name
        start = int(NextToken or 0)
        self._calls.append(start)
        page = {"OrganizationSummaries": self._summaries[start : start + 2]}
        if start + 2 < len(self._summaries):
            page["NextToken"] = str(start + 2)
        return page


def org(alias, number, state="Active"):
    out = {"OrganizationId": f"m-{number:032x}", "State": state}
    if alias:
        out.update(Alias=alias, DefaultMailDomain=f"{alias}.awsapps.com")
    return out


ACCOUNT = {
    "us-east-1": [org("alpha", 1), org("alpha-test", 2), org("gone", 3, "Deleted"), org(None, 4)],
    "eu-west-1": [org("bravo", 5)],
    "us-west-2": [],
}


@pytest.fixture(name="inventory")
def inventory_fixture(tmp_path, monkeypatch):
    """parse(config) -> (InventoryData, calls per region); the account above answers."""
    calls = {}

    def client(_plugin, service, region=None, **_kwargs):
        assert service == "workmail"
        return FakeWorkMail(ACCOUNT[region], calls.setdefault(region, []))

    plugin_class = type(inventory_loader.get(NAME))
    monkeypatch.setattr(plugin_class, "client", client)

    def parse(config, name="example.workmail_organizations.yml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(dict({"plugin": "mailops.workmail.workmail_organizations"}, **config)))
        plugin = inventory_loader.get(NAME)
        assert plugin.verify_file(str(path))
        data = InventoryData()
        plugin.parse(data, DataLoader(), str(path), cache=True)
        if config.get("cache"):  # as ansible's InventoryManager does after parsing
            plugin.update_cache_if_changed()
        return data, calls

    return parse


def hosts_of(data, group):
    return sorted(host.name for host in data.groups[group].get_hosts())


def test_one_host_per_active_organization_of_every_region_with_its_variables(inventory):
    data, calls = inventory({})
    assert hosts_of(data, "workmail_organizations") == [
        "alpha",
        "alpha-test",
        "bravo",
        "m-00000000000000000000000000000004",
    ]
    assert calls == {"us-east-1": [0, 2], "eu-west-1": [0], "us-west-2": [0]}  # every page of every region
    alpha = data.get_host("alpha").get_vars()
    assert alpha["workmail_organization"] == {
        "id": "m-00000000000000000000000000000001",
        "alias": "alpha",
        "region": "us-east-1",
        "state": "Active",
        "default_mail_domain": "alpha.awsapps.com",
        "error_message": None,
    }
    assert alpha["ansible_connection"] == "local"
    assert data.get_host("m-00000000000000000000000000000004").get_vars()["workmail_organization"]["alias"] is None


def test_groups_by_region_and_state(inventory):
    data, _calls = inventory({"states": ["all"]})
    assert hosts_of(data, "workmail_region_eu_west_1") == ["bravo"]
    assert hosts_of(data, "workmail_state_deleted") == ["gone"]
    assert "gone" in hosts_of(data, "workmail_region_us_east_1")
    assert "workmail_region_us_west_2" not in data.groups


def test_filters_regions_and_alias_patterns(inventory):
    data, calls = inventory({"regions": ["us-east-1"], "include_aliases": ["alpha*"], "exclude_aliases": ["*-TEST"]})
    assert hosts_of(data, "workmail_organizations") == ["alpha"]
    assert list(calls) == ["us-east-1"]


def test_compose_groups_and_keyed_groups_use_the_organization(inventory):
    data, _calls = inventory(
        {
            "compose": {"workmail_bucket": "'exports-' ~ workmail_organization.region"},
            "groups": {"europe": "workmail_organization.region.startswith('eu-')"},
            "keyed_groups": [{"key": "workmail_organization.default_mail_domain", "prefix": "domain"}],
        }
    )
    assert data.get_host("bravo").get_vars()["workmail_bucket"] == "exports-eu-west-1"
    assert hosts_of(data, "europe") == ["bravo"]
    assert hosts_of(data, "domain_alpha_awsapps_com") == ["alpha"]


def test_no_organization_selected_still_makes_the_group(inventory):
    data, _calls = inventory({"include_aliases": ["nothing-matches"]})
    assert "workmail_organizations" in data.groups and hosts_of(data, "workmail_organizations") == []


@pytest.mark.parametrize(
    "config, message",
    [
        ({"regions": ["ap-south-1"]}, "regions: every region must be one where Amazon WorkMail exists"),
        ({"states": ["all", "Active"]}, "states: all keeps every state and cannot be combined"),
        ({"exclude_aliases": [""]}, "exclude_aliases: every entry must be a non-empty string"),
    ],
)
def test_a_wrong_option_stops_before_any_aws_call(inventory, config, message):
    with pytest.raises(AnsibleParserError) as raised:
        inventory(config)
    assert message in str(raised.value)
    assert "mailops.workmail.workmail_organizations" in str(raised.value)


def test_a_file_of_another_name_is_not_ours(tmp_path):
    path = tmp_path / "organizations.yml"
    path.write_text("plugin: mailops.workmail.workmail_organizations\n")
    assert not InventoryModule().verify_file(str(path))


def test_the_cache_answers_the_next_parse_and_filters_apply_to_it(inventory, tmp_path):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    first, calls = inventory(cache)
    assert sum(len(pages) for pages in calls.values()) == 4
    second, calls = inventory(dict(cache, include_aliases=["bravo"]))
    assert sum(len(pages) for pages in calls.values()) == 4  # no call: the cache answered
    assert hosts_of(first, "workmail_organizations") != hosts_of(second, "workmail_organizations") == ["bravo"]


def test_a_cache_without_every_region_asked_for_is_not_used(inventory, tmp_path):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    inventory(dict(cache, regions=["eu-west-1"]))
    data, calls = inventory(dict(cache, regions=["eu-west-1", "us-east-1"]))
    assert calls["us-east-1"] == [0, 2] and calls["eu-west-1"] == [0, 0]
    assert "alpha" in hosts_of(data, "workmail_organizations")
