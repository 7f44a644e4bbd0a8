# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The organizations of an account, as the inventory plugin ``workmail_organizations`` shows them.

Plain Python, testable without Ansible: the plugin's settings read and checked (:func:`read_settings`), one record
per organization of ListOrganizations (:func:`organization_record`), which of them are selected
(:func:`select_organizations`), the host name of each (its alias, or its id when it has none) and the groups the
plugin puts it in (:func:`group_names`).
"""

import fnmatch
import re

from ansible_collections.mailops.workmail.plugins.module_utils.common import WORKMAIL_REGIONS
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError

# Every host the plugin adds is in this group; the export playbook runs on it when the inventory has it.
ALL_GROUP = "workmail_organizations"
REGION_GROUP_PREFIX = "workmail_region_"
STATE_GROUP_PREFIX = "workmail_state_"
# The host variable that carries the organization.
HOST_VARIABLE = "workmail_organization"
DEFAULT_STATES = ("Active",)
# The value of ``states`` that keeps every organization whatever its state.
ANY_STATE = "all"

_GROUP_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_]")


def _shown(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text_list(option, value, allow_empty=True):
    """``value`` as a list of non-empty strings (one string counts as a list of one)."""
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ParameterError(option, f"must be a list of strings, got {_shown(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ParameterError(option, f"every entry must be a non-empty string, got {_shown(item)}")
    if not value and not allow_empty:
        raise ParameterError(option, "must name at least one entry")
    return [item.strip() for item in value]


def read_regions(value):
    """The regions to list, in the order given, each once; each must be a region where WorkMail exists."""
    regions = _text_list("regions", value, allow_empty=False)
    for region in regions:
        if region not in WORKMAIL_REGIONS:
            raise ParameterError(
                "regions",
                f"every region must be one where Amazon WorkMail exists ({', '.join(WORKMAIL_REGIONS)}), got "
                f"{_shown(region)}",
            )
    return list(dict.fromkeys(regions))


def read_states(value):
    """The states to keep (compared without regard to case), or None for every state (``all``)."""
    states = _text_list("states", value, allow_empty=False)
    if any(state.lower() == ANY_STATE for state in states):
        if len(states) > 1:
            raise ParameterError("states", f"{ANY_STATE} keeps every state and cannot be combined with other states")
        return None
    return [state.lower() for state in states]


def read_settings(options):
    """The plugin's selection settings from its options: ``regions``, ``states``, ``include_aliases`` and
    ``exclude_aliases``. ParameterError (naming the option and the rule) for a wrong one."""
    return {
        "regions": read_regions(options.get("regions")),
        "states": read_states(options.get("states", list(DEFAULT_STATES))),
        "include_aliases": _text_list("include_aliases", options.get("include_aliases")),
        "exclude_aliases": _text_list("exclude_aliases", options.get("exclude_aliases")),
    }


def organization_record(summary, region):
    """The host variable of one member of ListOrganizations' OrganizationSummaries found in ``region``."""
    return {
        "id": summary.get("OrganizationId"),
        "alias": summary.get("Alias") or None,
        "region": region,
        "state": summary.get("State"),
        "default_mail_domain": summary.get("DefaultMailDomain") or None,
        "error_message": summary.get("ErrorMessage") or None,
    }


def host_name(record):
    """The organization's host name: its alias, or its id when it has no alias."""
    return record.get("alias") or record["id"]


def _matches(name, patterns):
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


def is_selected(record, settings):
    """Whether the settings keep this organization: its state is one of ``states`` (any with None), its host name
    (alias, or id) matches one of ``include_aliases`` when there are any, and none of ``exclude_aliases``."""
    states = settings.get("states")
    if states is not None and (record.get("state") or "").lower() not in states:
        return False
    name = host_name(record)
    if settings.get("include_aliases") and not _matches(name, settings["include_aliases"]):
        return False
    return not _matches(name, settings.get("exclude_aliases") or [])


def select_organizations(records, settings):
    """The selected records, by region (in the order of ``regions``) and host name. ParameterError when two
    organizations would have the same host name."""
    order = {region: index for index, region in enumerate(settings.get("regions") or WORKMAIL_REGIONS)}
    selected = sorted(
        (record for record in records if is_selected(record, settings)),
        key=lambda record: (order.get(record["region"], len(order)), host_name(record)),
    )
    seen = {}
    for record in selected:
        name = host_name(record)
        if name in seen:
            raise ParameterError(
                "include_aliases",
                f"organizations {seen[name]['id']} ({seen[name]['region']}) and {record['id']} ({record['region']}) "
                f"would both be host {name}; leave one of them out with exclude_aliases",
            )
        seen[name] = record
    return selected


def group_name(prefix, value):
    """A group name from ``prefix`` and a value: every character but letters, digits and ``_`` becomes ``_``."""
    return prefix + _GROUP_UNSAFE_RE.sub("_", str(value)).lower()


def group_names(record):
    """The groups the plugin puts an organization in: every organization's, its region's and its state's."""
    groups = [ALL_GROUP, group_name(REGION_GROUP_PREFIX, record["region"])]
    if record.get("state"):
        groups.append(group_name(STATE_GROUP_PREFIX, record["state"]))
    return groups
