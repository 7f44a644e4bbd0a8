# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resolve the ``entity`` parameter (a user or resource id, an email address or a name) to a WorkMail id.

Export jobs report ``EntityId`` as a WorkMail id, so a mailbox given by email or name is resolved before jobs
are compared or a client token is derived.
"""

import re

from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError

USER_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
RESOURCE_ID_RE = re.compile(r"^r-[0-9a-fA-F]{32}\Z")
SID_RE = re.compile(r"^S-1-[0-9-]+\Z")


def entity_id_kind(value):
    """``"USER"`` for a UUID, ``"RESOURCE"`` for ``r-`` + 32 hex, ``"SID"`` for ``S-1-…``; None otherwise."""
    if USER_ID_RE.match(value):
        return "USER"
    if RESOURCE_ID_RE.match(value):
        return "RESOURCE"
    if SID_RE.match(value):
        return "SID"
    return None


def _entity(entity_id, name=None, email=None, entity_type=None):
    return {"id": entity_id, "name": name, "email": email, "type": entity_type}


def _pick(candidates, value, parameter, what):
    """One candidate named ``value``: exact match first, then case-insensitive; DELETED ones only as a last resort."""
    for matcher in (lambda name: name == value, lambda name: name.lower() == value.lower()):
        matches = [item for item in candidates if isinstance(item.get("Name"), str) and matcher(item["Name"])]
        if not matches:
            continue
        live = [item for item in matches if item.get("State") != "DELETED"]
        if live:
            matches = live
        if len(matches) > 1:
            ids = ", ".join(item.get("Id", "?") for item in matches)
            raise ParameterError(parameter, f"{value!r} names several {what}s ({ids}); give the id instead")
        return matches[0]
    return None


def _by_name(client, organization_id, name, parameter):
    users = client.list_users(organization_id, filters={"UsernamePrefix": name})
    user = _pick(users, name, parameter, "user")
    if user:
        entity_type = "RESOURCE" if user.get("UserRole") == "RESOURCE" else "USER"
        return _entity(user["Id"], user.get("Name"), user.get("Email"), entity_type)
    resources = client.list_resources(organization_id, filters={"NamePrefix": name})
    resource = _pick(resources, name, parameter, "resource")
    if resource:
        return _entity(resource["Id"], resource.get("Name"), resource.get("Email"), "RESOURCE")
    return None


def resolve_entity(client, organization_id, entity, parameter="entity"):
    """Resolve ``entity`` to ``{"id", "name", "email", "type"}``.

    - A user id (UUID), resource id (``r-`` + 32 hex digits) or ``S-1-…`` id is used as given, without an API
      call; ``type`` is what the form suggests (``USER``, ``RESOURCE``, or None for ``S-1-…``) and is not checked.
    - An email address (contains ``@``): DescribeEntity. A group has no mailbox and is refused. If no entity has
      that email, it is tried as a name (user names may look like email addresses).
    - Otherwise a name: ListUsers filtered by UsernamePrefix, exact name match; then ListResources filtered by
      NamePrefix. Nothing found is a ParameterError naming ``entity``.

    ``client`` is a :class:`WorkMailClient` (or anything with its describe_entity / list_users / list_resources).
    """
    kind = entity_id_kind(entity)
    if kind is not None:
        return _entity(entity, entity_type=None if kind == "SID" else kind)

    if "@" in entity:
        found = client.describe_entity(organization_id, entity)
        if found:
            entity_type = found.get("Type")
            if entity_type == "GROUP":
                raise ParameterError(
                    parameter, f"{entity!r} is a group, which has no mailbox; give a user or a resource"
                )
            return _entity(found["EntityId"], found.get("Name"), entity, entity_type)
        resolved = _by_name(client, organization_id, entity, parameter)
        if resolved:
            return resolved
        raise ParameterError(
            parameter,
            f"no user or resource with the email address or name {entity!r} in organization {organization_id}",
        )

    resolved = _by_name(client, organization_id, entity, parameter)
    if resolved:
        return resolved
    raise ParameterError(parameter, f"no user or resource named {entity!r} in organization {organization_id}")
