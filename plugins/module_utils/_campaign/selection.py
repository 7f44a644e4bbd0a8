# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which mailboxes a campaign exports: the directory read, filtered by the selection options, with sizes.

:func:`select_mailboxes` is pure (ListUsers/ListResources items in, mailboxes out); :func:`discover` reads the
directory through a :class:`~workmail.WorkMailClient`; :func:`discover_into` adds what it found to a manifest and
notes when, so that :func:`needs_discovery` reads the directory again only once a day (less often for a large
directory, but always before the campaign can be done) or when the selection changed.
"""

import fnmatch
from collections import Counter
from datetime import timedelta

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.liveness import no_heartbeat
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import periodic_read_every
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import add_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import has_mailboxes_to_start
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import mailbox_count
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import sealed_ids
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.times import to_datetime
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import PAGE_SIZE

# How long a campaign trusts its last reading of the directory (ListUsers/ListResources, all pages). Passes in
# between read only the job list; a rerun a day later still picks up mailboxes created since.
REDISCOVER_AFTER = timedelta(hours=24)


def _mailbox(item, entity_type):
    return {"id": item["Id"], "email": item.get("Email"), "name": item.get("Name"), "type": entity_type}


def _keys(mailbox):
    return [value.lower() for value in (mailbox["id"], mailbox["email"], mailbox["name"]) if value]


def _matches_any(mailbox, patterns):
    keys = _keys(mailbox)
    return any(fnmatch.fnmatchcase(key, pattern.lower()) for pattern in patterns for key in keys)


def _as_list(parameter, value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not all(isinstance(item, str) and item for item in value):
        raise ParameterError(parameter, "must be a list of non-empty strings")
    return list(value)


def _eligible(item, entity_type, include_disabled, skip_system_users):
    state = item.get("State")
    if state == "DELETED" or (state == "DISABLED" and not include_disabled):
        return False
    return not (entity_type == "USER" and skip_system_users and item.get("UserRole") == "SYSTEM_USER")


def eligible_mailboxes(users, resources, include_disabled=False, skip_system_users=False):
    """The mailboxes that can be exported (users first, listing order, each id once)."""
    eligible = []
    seen = set()
    for items, entity_type in ((users or [], "USER"), (resources or [], "RESOURCE")):
        for item in items:
            if item["Id"] in seen or not _eligible(item, entity_type, include_disabled, skip_system_users):
                continue
            seen.add(item["Id"])
            eligible.append(_mailbox(item, entity_type))
    return eligible


def _named(eligible, explicit):
    """The eligible mailboxes that ``explicit`` names; ParameterError naming the entries that match none."""
    wanted = {name.lower() for name in explicit}
    selected = [mailbox for mailbox in eligible if wanted.intersection(_keys(mailbox))]
    found = set()
    for mailbox in selected:
        found.update(_keys(mailbox))
    missing = [name for name in explicit if name.lower() not in found]
    if missing:
        raise ParameterError(
            "explicit",
            "these entries match no mailbox that can be exported (unknown, DELETED, DISABLED without "
            f"include_disabled, or a skipped system user): {', '.join(missing)}",
            unmatched=missing,
        )
    return selected


def select_mailboxes(
    users,
    resources,
    include_disabled=False,
    skip_system_users=False,
    include=None,
    exclude=None,
    explicit=None,
):
    """The mailboxes a campaign exports, as ``[{"id", "email", "name", "type"}]`` (users first, listing order).

    ``users`` and ``resources`` are ListUsers / ListResources items (``Id``, ``Email``, ``Name``, ``State``, and
    ``UserRole`` for users). DELETED entities are never selected; DISABLED ones only with ``include_disabled``;
    users whose UserRole is SYSTEM_USER are left out with ``skip_system_users``. ``include`` and ``exclude`` are
    shell-style patterns (case-insensitive) matched against the id, the email and the name: with ``include`` a
    mailbox must match one of them, and a mailbox matching an ``exclude`` pattern is left out. ``explicit`` (a list
    of ids, emails or names, matched exactly and case-insensitively) selects exactly those mailboxes instead; it
    cannot be combined with ``include``/``exclude``, and any entry matching no eligible mailbox is an error.
    """
    include = _as_list("include", include)
    exclude = _as_list("exclude", exclude)
    if explicit is not None:
        explicit = _as_list("explicit", explicit)
        if include or exclude:
            raise ParameterError("explicit", "cannot be combined with include or exclude")
        if not explicit:
            raise ParameterError("explicit", "must name at least one mailbox")
    eligible = eligible_mailboxes(users, resources, include_disabled, skip_system_users)
    if explicit is not None:
        return _named(eligible, explicit)
    return [
        mailbox
        for mailbox in eligible
        if (not include or _matches_any(mailbox, include)) and not (exclude and _matches_any(mailbox, exclude))
    ]


def discover(client, organization_id, selection_options, manifest=None, heartbeat=no_heartbeat):
    """The mailboxes a campaign exports, with their sizes: ``[{"id", "email", "name", "type", "size_mb"}]``.

    ``client`` is a :class:`~workmail.WorkMailClient`. Lists every user and resource (all pages), selects with
    :func:`select_mailboxes` (``selection_options`` are its keyword arguments) and calls GetMailboxDetails once per
    selected mailbox that needs a size: one that is not in ``manifest`` yet, or is still PENDING there without a
    size. The others take the manifest's size, so a re-run asks for no size twice. A mailbox that GetMailboxDetails
    does not know any more (deleted since the listing) is left out. A selection that matches no mailbox is a
    ParameterError naming the options that made it empty (a campaign of nothing would report itself done).
    ``heartbeat()`` is called before every GetMailboxDetails.
    """
    users = client.list_users(organization_id)
    resources = client.list_resources(organization_id)
    return _with_sizes(client, organization_id, users, resources, selection_options, manifest, heartbeat)


def _with_sizes(client, organization_id, users, resources, selection_options, manifest, heartbeat):
    """:func:`discover` once the directory (``users``, ``resources``) is read."""
    selected = select_mailboxes(users, resources, **selection_options)
    if not selected:
        raise _nothing_selected(organization_id, users, resources, selection_options)
    entries = (manifest or {}).get("mailboxes") or {}
    sealed = sealed_ids(manifest) if manifest else set()
    mailboxes = []
    for mailbox in selected:
        entry = entries.get(mailbox["id"])
        if mailbox["id"] in sealed:
            mailboxes.append(dict(mailbox, size_mb=None))  # exported and verified: nothing to ask of it
            continue
        if entry is not None and (entry.get("size_mb") is not None or entry.get("state") != PENDING):
            mailboxes.append(dict(mailbox, size_mb=entry.get("size_mb")))
            continue
        heartbeat()
        details = client.get_mailbox_details(organization_id, mailbox["id"])
        if details is not None:
            mailboxes.append(dict(mailbox, size_mb=details["size_mb"]))
    return mailboxes


def _nothing_selected(organization_id, users, resources, options):
    """The ParameterError of a selection that matches no mailbox: it names the options that made it so."""
    given = [name for name in ("include", "exclude") if options.get(name)]
    states = Counter(item.get("State") for item in list(users) + list(resources))
    system = sum(1 for item in users if item.get("UserRole") == "SYSTEM_USER")
    shown = ", ".join(
        [f"{name}={options[name]!r}" for name in given]
        + [f"{name}={str(bool(options.get(name))).lower()}" for name in ("include_disabled", "skip_system_users")]
    )
    return ParameterError(
        given[0] if given else "organization_id",
        f"the selection matches no mailbox of organization {organization_id} ({shown}); it has {len(users)} users "
        f"and {len(resources)} resources, {states.get('DISABLED', 0)} of them DISABLED, {states.get('DELETED', 0)} "
        f"DELETED and {system} system users: nothing would be exported, so the campaign does not start",
        selected=0,
    )


def selection_options(params):
    """The keyword arguments of :func:`select_mailboxes` that the module parameters ``params`` ask for."""
    return {
        "include_disabled": bool(params.get("include_disabled")),
        "skip_system_users": bool(params.get("skip_system_users")),
        "include": params.get("include"),
        "exclude": params.get("exclude"),
        "explicit": params.get("mailboxes"),
    }


def _pages(items):
    return -(-items // PAGE_SIZE)


def needs_discovery(manifest, params, moment):
    """Read the directory again? For a new campaign, a changed selection, a manifest that holds fewer mailboxes than
    the last reading selected (entries were lost), a reading older than a day when no mailbox is left to start (the
    campaign is never done on an older reading), and else a reading older than :func:`pace.periodic_read_every`
    allows for its pages (a day for up to 1,000 users and resources, up to a week for more)."""
    last = manifest.get("discovery") or {}
    if last.get("selection") != selection_options(params) or not last.get("at"):
        return True
    if mailbox_count(manifest) < last.get("selected", 0):
        return True
    age = (moment - to_datetime(last["at"])).total_seconds()
    if age >= REDISCOVER_AFTER.total_seconds() and not has_mailboxes_to_start(manifest):
        return True
    pages = last.get("pages") or _pages(last.get("selected", 0))
    return age >= max(REDISCOVER_AFTER.total_seconds(), periodic_read_every(pages))


def discover_into(client, params, manifest, moment, heartbeat=no_heartbeat):
    """Read the directory, add the selected mailboxes that are new to ``manifest`` and note when and with what
    selection it was read; the ids added. A ``mailboxes`` entry matching nothing is a ParameterError naming
    ``mailboxes``."""
    options = selection_options(params)
    organization_id = params["organization_id"]
    users = client.list_users(organization_id)
    resources = client.list_resources(organization_id)
    try:
        found = _with_sizes(client, organization_id, users, resources, options, manifest, heartbeat)
    except ParameterError as error:
        if error.parameter != "explicit":
            raise
        details = {key: value for key, value in error.details.items() if key != "parameter"}
        raise ParameterError("mailboxes", error.rule, **details) from error
    pages = _pages(len(users)) + _pages(len(resources))
    manifest["discovery"] = {"at": iso8601(moment), "selection": options, "selected": len(found), "pages": pages}
    return add_mailboxes(manifest, found, moment)
