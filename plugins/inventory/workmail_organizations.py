# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: workmail_organizations
short_description: The Amazon WorkMail organizations of an AWS account, one host each
version_added: 0.1.0
description:
  - Lists the Amazon WorkMail organizations of the account in the regions given (C(ListOrganizations), every page)
    and adds one host per organization, so that a play runs once per organization, in parallel up to Ansible's
    forks. The playbook M(mailops.workmail.export_organization) exports every organization of such an inventory.
  - The host's name is the organization's alias (C(example-corp)), or its id (C(m-) and 32 hexadecimal digits) when
    the organization has no alias.
  - "Every host has the variable C(workmail_organization), a dictionary with the organization's C(id), C(alias)
    (V(null) when it has none), C(region), C(state) (as WorkMail gives it, for example V(Active)),
    C(default_mail_domain) and C(error_message) (what WorkMail says of an organization that failed, else V(null)).
    C(ListOrganizations) gives no ARN; the ARN of an organization is
    C(arn:aws:workmail:<region>:<account>:organization/<id>)."
  - Every host also has C(ansible_connection=local). An organization is not a machine; the tasks for it run where
    Ansible runs, and call AWS from there.
  - Every host is in the group C(workmail_organizations), in the group of its region (C(workmail_region_us_east_1),
    C(workmail_region_us_west_2), C(workmail_region_eu_west_1)) and in the group of its state
    (C(workmail_state_) and the state in lower case, for example C(workmail_state_active)). O(keyed_groups),
    O(groups) and O(compose) add more, from C(workmail_organization).
  - The configuration file's name must end with C(workmail_organizations.yml) or C(workmail_organizations.yaml).
  - Credentials, the endpoint and the role to assume are read like the amazon.aws inventory plugins read them (the
    options below, then the C(AWS_*) environment variables, then the boto3 configuration). The caller needs
    C(workmail:ListOrganizations) in each of O(regions).
author:
  - mailops.workmail maintainers (@mailops)
options:
  plugin:
    description:
      - The name of this plugin. It must be V(mailops.workmail.workmail_organizations).
    required: true
    type: str
    choices: [mailops.workmail.workmail_organizations]
  regions:
    description:
      - The regions whose organizations are listed, each one of V(us-east-1), V(us-west-2) and V(eu-west-1) (the
        only regions where Amazon WorkMail exists). Each region has its own organizations.
    type: list
    elements: str
    default: [us-east-1, us-west-2, eu-west-1]
  states:
    description:
      - Only organizations in one of these states, compared without regard to case. WorkMail's states include
        V(Active), V(Creating), V(Requested), V(Inactive), V(Deleting), V(Deleted) and V(Failed); only an
        V(Active) organization can be exported.
      - V(all) keeps every organization whatever its state, and cannot be combined with other states.
    type: list
    elements: str
    default: [Active]
  include_aliases:
    description:
      - Only organizations whose alias matches one of these shell-style patterns (C(*), C(?), C([seq])), compared
        without regard to case. An organization without an alias is matched by its id.
      - Empty, the default, keeps every organization.
    type: list
    elements: str
    default: []
  exclude_aliases:
    description:
      - Leave out organizations whose alias matches one of these shell-style patterns, compared without regard to
        case; they win over O(include_aliases). An organization without an alias is matched by its id.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
notes:
  - A wrong option stops the inventory with a message that names the option and the rule it breaks, before any AWS
    call.
  - With O(cache=true), the organizations found are kept in the inventory cache and the filters, groups and
    variables are applied to them again on each use; a cache that does not cover every region of O(regions) is
    not used. C(ansible-inventory --flush-cache) or O(cache_timeout) refresh it.
  - AWS ends support for Amazon WorkMail on 2027-03-31.
"""

EXAMPLES = r"""
# example-corp.workmail_organizations.yml: the active organizations of every region, each exported to the bucket of
# its region (a bucket is in one region, and an export must be in its organization's region).
plugin: mailops.workmail.workmail_organizations
regions:
  - us-east-1
  - eu-west-1
exclude_aliases:
  - "*-test"
compose:
  workmail_bucket: "'example-corp-workmail-exports-' ~ workmail_organization.region"
keyed_groups:
  - key: workmail_organization.default_mail_domain
    prefix: domain

# Every organization whatever its state, against a local endpoint, cached for an hour.
# plugin: mailops.workmail.workmail_organizations
# states: [all]
# endpoint_url: http://127.0.0.1:5080
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/workmail-inventory
# cache_timeout: 3600
"""

try:
    import botocore
except ImportError:
    pass  # caught by AWSInventoryBase (require_aws_sdk)

from ansible.errors import AnsibleParserError
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import ALL_GROUP
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import HOST_VARIABLE
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import group_names
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import host_name
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import organization_record
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import read_settings
from ansible_collections.mailops.workmail.plugins.module_utils.organizations import select_organizations
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient

SETTING_OPTIONS = ("regions", "states", "include_aliases", "exclude_aliases")


class InventoryModule(AWSInventoryBase):
    NAME = "mailops.workmail.workmail_organizations"
    INVENTORY_FILE_SUFFIXES = ("workmail_organizations.yml", "workmail_organizations.yaml")

    def _do_fail(self, message):
        raise AnsibleParserError(f"{self.NAME}: {message}")

    def get_option(self, option, hostvars=None):
        # The selection's options are rendered here: amazon.aws's get_option renders every entry of a list with an
        # argument ansible-core deprecates, and get_options() asks for every option.
        if option in SETTING_OPTIONS:
            return self._setting(option)
        return super().get_option(option, hostvars=hostvars)

    def _setting(self, name):
        """An option of the selection, its templates rendered."""
        value = super(AWSInventoryBase, self).get_option(name)
        if not isinstance(value, list):
            return self._rendered(value)
        # An entry may be a template of a whole list.
        entries = []
        for item in value:
            rendered = self._rendered(item)
            entries.extend(rendered if isinstance(rendered, list) else [rendered])
        return entries

    def _rendered(self, value):
        if isinstance(value, str) and self.templar is not None and self.templar.is_template(value):
            return self.templar.template(value)
        return value

    def _settings(self):
        try:
            return read_settings({name: self.get_option(name) for name in SETTING_OPTIONS})
        except ParameterError as e:
            self._do_fail(e.message)

    def _list_region(self, region):
        """The organization records of one region."""
        client = WorkMailClient(self.client("workmail", region=region))
        try:
            summaries = client.list_organizations()
        except WorkMailError as e:
            self.fail_aws(f"Failed to list the WorkMail organizations in {region}", exception=e)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            self.fail_aws(f"Failed to list the WorkMail organizations in {region}", exception=e)
        return [organization_record(summary, region) for summary in summaries]

    def _organizations(self, path, cache, regions):
        """Every organization of ``regions``: from the inventory cache when it covers them, else from AWS."""
        found, cached = self.get_cached_result(path, cache)
        if found and isinstance(cached, dict) and set(regions) <= set(cached.get("regions") or []):
            return [record for record in cached.get("organizations") or [] if record.get("region") in regions]
        records = []
        for region in regions:
            records.extend(self._list_region(region))
        # A cache entry that did not cover the regions is replaced, whatever --flush-cache says.
        self.update_cached_result(path, cache and not found, {"regions": regions, "organizations": records})
        return records

    def _add_organization(self, record):
        name = host_name(record)
        for group in group_names(record):
            self.inventory.add_group(group)
            self.inventory.add_host(name, group=group)
        host_vars = {HOST_VARIABLE: record, "ansible_connection": "local"}
        for variable, value in host_vars.items():
            self.inventory.set_variable(name, variable, value)
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        settings = self._settings()
        records = self._organizations(path, cache, settings["regions"])
        try:
            selected = select_organizations(records, settings)
        except ParameterError as e:
            self._do_fail(e.message)
        # The group exists even when no organization is selected: a play on it then matches no host.
        self.inventory.add_group(ALL_GROUP)
        for record in selected:
            self._add_organization(record)
