# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ClientToken derivation and the Description marker that records a job's token.

ListMailboxExportJobs does not return the ClientToken a job was started with, so the token is written into the
job's Description as a trailing marker::

    <description> [mailops:client_token=<token>]

(only ``[mailops:client_token=<token>]`` when there is no description). A later run lists the organization's
jobs and finds its job by parsing that marker. The marker counts towards the 1023 characters AWS allows for a
Description. Jobs started outside this collection have no marker and are never matched by token.

A campaign (:mod:`campaign`) gives every attempt of every mailbox a token of its own
(:func:`campaign_client_token`).
"""

import hashlib
import json
import re

MAX_DESCRIPTION_LENGTH = 1023
MARKER_PREFIX = "[mailops:client_token="
MARKER_SUFFIX = "]"
DERIVED_TOKEN_PREFIX = "mailops-"
DERIVED_TOKEN_HEX_LENGTH = 48
DERIVED_TOKEN_LENGTH = len(DERIVED_TOKEN_PREFIX) + DERIVED_TOKEN_HEX_LENGTH
CANCEL_TOKEN_PREFIX = "mailops-cancel-"
CAMPAIGN_TOKEN_PREFIX = "mailops-c-"
CAMPAIGN_TOKEN_HEX_LENGTH = 48

# Greedy token followed by "]" at the very end: a token that itself contains "]" still round-trips.
_MARKER_RE = re.compile(r"\[mailops:client_token=([\x21-\x7e]+)\]\Z")


def derive_client_token(organization_id, entity_id, bucket, prefix, role_arn, kms_key_arn):
    """The ClientToken used when the caller gives none.

    ``"mailops-"`` followed by the first 48 hex digits of the SHA-256 of the canonical JSON (sorted keys, no
    whitespace, ASCII only) of ``{"entity_id", "kms_key_arn", "organization_id", "role_arn", "s3_bucket",
    "s3_prefix"}``. It is the same on every Python version and machine, and changes when any input changes.
    The entity must be its resolved WorkMail id, so an email and a name of the same mailbox give one token.
    """
    document = {
        "entity_id": entity_id,
        "kms_key_arn": kms_key_arn,
        "organization_id": organization_id,
        "role_arn": role_arn,
        "s3_bucket": bucket,
        "s3_prefix": prefix,
    }
    return DERIVED_TOKEN_PREFIX + _digest(document, DERIVED_TOKEN_HEX_LENGTH)


def _digest(document, length):
    """The first ``length`` hex digits of the SHA-256 of ``document``'s canonical JSON (sorted keys, no whitespace,
    ASCII only): the same on every Python version and machine."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:length]


def campaign_client_token(organization_id, entity_id, campaign, attempt):
    """The ClientToken of ``attempt`` (1, 2, ...) of mailbox ``entity_id`` in ``campaign`` (a valid campaign name).

    ``"mailops-c-"`` and the first 48 hex digits of the SHA-256 of the canonical JSON of ``{"attempt", "campaign",
    "entity_id", "organization_id"}``: the same everywhere, different for every attempt, mailbox, campaign and
    organization. ``entity_id`` is the WorkMail id (as ListUsers/ListResources give it).
    """
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        raise ValueError(f"attempt must be a positive integer, got {attempt!r}")
    document = {"attempt": attempt, "campaign": campaign, "entity_id": entity_id, "organization_id": organization_id}
    return CAMPAIGN_TOKEN_PREFIX + _digest(document, CAMPAIGN_TOKEN_HEX_LENGTH)


def cancel_client_token(job_id):
    """The deterministic ClientToken of CancelMailboxExportJob for ``job_id`` (a retry cancels once)."""
    return CANCEL_TOKEN_PREFIX + job_id


def marker(client_token):
    """The marker text for ``client_token``."""
    return f"{MARKER_PREFIX}{client_token}{MARKER_SUFFIX}"


def build_description(description, client_token):
    """The Description sent to AWS: the user's description, a space and the marker (only the marker if empty)."""
    if description:
        return f"{description} {marker(client_token)}"
    return marker(client_token)


def description_budget(client_token=None):
    """How many characters the user's description may have next to the marker of ``client_token``.

    Without a token, the length of a derived token is assumed.
    """
    token_length = len(client_token) if client_token else DERIVED_TOKEN_LENGTH
    return MAX_DESCRIPTION_LENGTH - len(MARKER_PREFIX) - token_length - len(MARKER_SUFFIX) - 1


def parse_marker(description):
    """The client token recorded in a job's Description, or None when it has no marker."""
    if not description:
        return None
    match = _MARKER_RE.search(description)
    return match.group(1) if match else None
