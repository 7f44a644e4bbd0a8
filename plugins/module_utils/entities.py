# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resolve the ``entity`` parameter (a user or resource id, an email address or a name) to a WorkMail id.

Export jobs report ``EntityId`` as a WorkMail id, so a mailbox given by email or name is resolved before jobs
are compared or a client token is derived. User ids (UUIDs) and resource ids (``r-`` + 32 hex digits) are
lowercase hexadecimal in WorkMail; they are lowercased here, so every spelling of a mailbox gives one id and one
derived client token.
"""

import re

from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError

USER_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
RESOURCE_ID_RE = re.compile(r"^r-[0-9a-fA-F]{32}\Z")
SID_RE = re.compile(r"^S-1-[0-9-]+\Z")
# DescribeEntity's Email pattern (botocore's EmailAddress shape, 1 to 254 characters); anything else is a name.
EMAIL_RE = re.compile(r"^[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9.-]+\.[a-zA-Z-]{2,}\Z")
EMAIL_MAX_LENGTH = 254
DELETED = "DELETED"


def entity_id_kind(value):
    """``"USER"`` for a UUID, ``"RESOURCE"`` for ``r-`` + 32 hex, ``"SID"`` for ``S-1-…``; None otherwise."""
    if USER_ID_RE.match(value):
        return "USER"
    if RESOURCE_ID_RE.match(value):
        return "RESOURCE"
    if SID_RE.match(value):
        return "SID"
    return None


def canonical_id(entity_id):
    """A user id (UUID) or resource id (``r-`` + 32 hex digits) in lowercase, as WorkMail writes them; any other
    value unchanged."""
    if isinstance(entity_id, str) and (USER_ID_RE.match(entity_id) or RESOURCE_ID_RE.match(entity_id)):
        return entity_id.lower()
    return entity_id


def looks_like_email(value):
    """Does ``value`` fit DescribeEntity's Email pattern (``name@domain.tld``)?"""
    return len(value) <= EMAIL_MAX_LENGTH and EMAIL_RE.match(value) is not None


def _entity(entity_id, name=None, email=None, entity_type=None):
    return {"id": canonical_id(entity_id), "name": name, "email": email, "type": entity_type}


def _pick(candidates, value, parameter, what):
    """The candidate named ``value`` that is not DELETED: an exact match first, then a case-insensitive one.

    Returns ``(candidate or None, deleted)``; ``deleted`` lists the DELETED candidates with that name (they have
    no mailbox and are never picked). Several live candidates for one match are a ParameterError.
    """
    deleted = []
    for matcher in (lambda name: name == value, lambda name: name.lower() == value.lower()):
        matches = [item for item in candidates if isinstance(item.get("Name"), str) and matcher(item["Name"])]
        live = [item for item in matches if item.get("State") != DELETED]
        deleted.extend(item for item in matches if item.get("State") == DELETED and item not in deleted)
        if len(live) > 1:
            ids = ", ".join(item.get("Id", "?") for item in live)
            raise ParameterError(parameter, f"{value!r} names several {what}s ({ids}); give the id instead")
        if live:
            return live[0], deleted
    return None, deleted


def _by_name(client, organization_id, name, parameter):
    users = client.list_users(organization_id, filters={"UsernamePrefix": name})
    user, deleted_users = _pick(users, name, parameter, "user")
    if user:
        entity_type = "RESOURCE" if user.get("UserRole") == "RESOURCE" else "USER"
        return _entity(user["Id"], user.get("Name"), user.get("Email"), entity_type)
    resources = client.list_resources(organization_id, filters={"NamePrefix": name})
    resource, deleted_resources = _pick(resources, name, parameter, "resource")
    if resource:
        return _entity(resource["Id"], resource.get("Name"), resource.get("Email"), "RESOURCE")
    deleted = [f"user {item.get('Id', '?')}" for item in deleted_users]
    deleted += [f"resource {item.get('Id', '?')}" for item in deleted_resources]
    if deleted:
        raise ParameterError(
            parameter,
            f"{name!r} names only a DELETED {' and a DELETED '.join(deleted)} in organization {organization_id}, "
            f"which has no mailbox to export",
        )
    return None


def resolve_entity(client, organization_id, entity, parameter="entity"):
    """Resolve ``entity`` to ``{"id", "name", "email", "type"}``.

    - A user id (UUID) or resource id (``r-`` + 32 hex digits) is lowercased, an ``S-1-…`` id used as given,
      without an API call; ``type`` is what the form suggests (``USER``, ``RESOURCE``, or None for ``S-1-…``) and
      is not checked.
    - An email address (``name@domain.tld``, DescribeEntity's Email pattern): DescribeEntity. A group has no
      mailbox and is refused. If no entity has that email, it is tried as a name (user names may look like email
      addresses). Other values, including ones with an ``@`` that do not fit the pattern, are names.
    - A name: ListUsers filtered by UsernamePrefix, then ListResources filtered by NamePrefix; an exact name match
      first, then a case-insensitive one. DELETED users and resources have no mailbox and are skipped; a name that
      only they carry is a ParameterError saying so. Nothing found is a ParameterError naming ``entity``.

    ``client`` is a :class:`WorkMailClient` (or anything with its describe_entity / list_users / list_resources).
    """
    kind = entity_id_kind(entity)
    if kind is not None:
        return _entity(entity, entity_type=None if kind == "SID" else kind)

    if looks_like_email(entity):
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
