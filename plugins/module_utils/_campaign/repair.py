# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS is the truth, the manifest its record: where they disagree, the manifest is repaired from AWS and each
disagreement is reported by mailbox.

:func:`repair` compares every entry with its own attempts and with the jobs of this campaign in the listing (found
by the client tokens of the campaign's attempts, written in the jobs' Description marker):

- an entry whose state its attempts contradict (PENDING with a COMPLETED attempt on record, COMPLETED without one)
  takes the state its attempts give;
- a job of this campaign that the entry does not record (a manifest edited, truncated or restored from an older
  copy) is recorded as the attempt its token names, so a mailbox exported once is never exported again.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.common import JOB_COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import COMPLETED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import PENDING
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import SKIPPED
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import adopt_attempt
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import mailbox_state
from ansible_collections.mailops.workmail.plugins.module_utils.times import started
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import campaign_client_token
from ansible_collections.mailops.workmail.plugins.module_utils.tokens import parse_marker


def _jobs_by_token(listing):
    """The newest listed job of every client token."""
    found = {}
    for raw in listing:
        token = parse_marker(raw.get("Description"))
        if token and (token not in found or started(raw) > started(found[token])):
            found[token] = raw
    return found


def _state_from_attempts(entry, max_attempts):
    """The state the entry's attempts give (COMPLETED when any of them completed), or None without attempts."""
    if any(attempt.get("state") == JOB_COMPLETED for attempt in entry["attempts"]):
        return COMPLETED
    if not entry["attempts"]:
        return None
    return mailbox_state(entry, entry["attempts"][-1].get("state"), max_attempts)


def _adopt_unrecorded_jobs(manifest, entry, jobs, moment, max_attempts):
    """Record the listed jobs of this campaign that follow the entry's last recorded attempt; the repairs."""
    repairs = []
    number = len(entry["attempts"]) + 1
    while number <= max(max_attempts, len(entry["attempts"])) + 1:
        token = campaign_client_token(manifest["organization_id"], entry["id"], manifest["campaign"], number)
        raw = jobs.get(token)
        if raw is None:
            break
        adopt_attempt(manifest, entry["id"], number, token, raw, moment, max_attempts)
        repairs.append(
            {
                "id": entry["id"],
                "email": entry["email"],
                "problem": f"job {raw.get('JobId')} ({raw.get('State')}) of this campaign, attempt {number}, was not "
                "on record",
                "repair": f"recorded it; the mailbox is now {entry['state']}",
            }
        )
        number += 1
    return repairs


def _state_repair(entry, max_attempts):
    """Give the entry the state its attempts give when its recorded state contradicts them; the repair or None."""
    if entry["state"] == SKIPPED:
        return None
    derived = _state_from_attempts(entry, max_attempts)
    if derived == COMPLETED and entry["state"] != COMPLETED:
        problem = f"the manifest said {entry['state']}, but an attempt of this campaign COMPLETED"
    elif entry["state"] == COMPLETED and derived != COMPLETED:
        problem = "the manifest said COMPLETED, but no attempt of this campaign completed"
        derived = derived or PENDING
    else:
        return None
    entry["state"] = derived
    return {"id": entry["id"], "email": entry["email"], "problem": problem, "repair": f"recorded it as {derived}"}


def repair(manifest, listing, moment, max_attempts):
    """Repair ``manifest`` (in place) from its own attempts and the listing; the repairs, ``[{"id", "email",
    "problem", "repair"}]`` (empty when the manifest agrees with AWS)."""
    jobs = _jobs_by_token(listing)
    # Only a mailbox with a listed job of a campaign can have one this campaign did not record: the tokens (a hash
    # each) are derived for those alone, so a repair costs the listing's size, not the organization's.
    listed = {str(raw.get("EntityId")).lower() for raw in jobs.values()}
    repairs = []
    for entity_id in sorted(manifest["mailboxes"]):
        entry = manifest["mailboxes"][entity_id]
        if entry["state"] != SKIPPED and entity_id.lower() in listed:
            repairs.extend(_adopt_unrecorded_jobs(manifest, entry, jobs, moment, max_attempts))
        found = _state_repair(entry, max_attempts)
        if found is not None:
            repairs.append(found)
    return repairs
