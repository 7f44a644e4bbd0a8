# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The organization-wide export campaign: the facade of the private package ``_campaign``.

- ``_campaign.selection``: which mailboxes (the directory, the selection options, their sizes);
- ``_campaign.repair``: where the manifest disagrees with AWS (or with itself), the manifest repaired from AWS;
- ``_campaign.planning``: what a pass should do, from the manifest and the job listing (pure);
- ``_campaign.executor``: one pass (list, describe, start, check), saving the manifest after every step;
- ``_campaign.liveness``: the lock kept alive during a pass, and a pass that stops when its starter is gone;
- ``_campaign.runner``: the module's pass (the lock, the manifest, check mode, the result).

The manifest itself and its changes are in :mod:`manifest`, its storage and the lock in :mod:`manifest_store`,
the checks of exported objects in :mod:`export_verify`, the attempts' client tokens in :mod:`tokens` and the
validation of the module's parameters in :mod:`validation`.
"""

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import MAILBOX_START_ERRORS
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import PassSettings
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import SavedManifest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import default_description
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import needs_check
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import run_pass
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.liveness import LockHeartbeat
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.liveness import ParentWatch
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.liveness import RunAbandonedError
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import DESCRIBE_ERROR_INFO
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import DESCRIBE_NOT_LISTED
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import Plan
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.planning import plan
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.repair import repair
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.runner import default_lock_owner
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.runner import outcome
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.runner import pass_settings
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.runner import run_organization_pass
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.selection import discover
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.selection import discover_into
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.selection import needs_discovery
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.selection import select_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.selection import selection_options

__all__ = [
    "DESCRIBE_ERROR_INFO",
    "DESCRIBE_NOT_LISTED",
    "MAILBOX_START_ERRORS",
    "LockHeartbeat",
    "ParentWatch",
    "RunAbandonedError",
    "PassSettings",
    "Plan",
    "SavedManifest",
    "default_description",
    "default_lock_owner",
    "discover",
    "discover_into",
    "needs_check",
    "needs_discovery",
    "outcome",
    "pass_settings",
    "plan",
    "repair",
    "run_organization_pass",
    "run_pass",
    "select_mailboxes",
    "selection_options",
]
