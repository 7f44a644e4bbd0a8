# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A campaign's manifest as it is, read without changing anything (the module workmail_organization_export_info).

The manifest is read the way a pass of the campaign reads it (:meth:`manifest_store.ManifestStore.load`: its journal
applied, a missing or damaged manifest recovered from its copy), but nothing is written: no lock is taken, no copy
is made, a damaged manifest is not kept aside and a recovered one is not saved back.
"""

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import estimate
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import stored_report
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import ManifestError
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import summary
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import unchecked_exports
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import validate_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import verification_problems
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import ManifestStore
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import manifest_key
from ansible_collections.mailops.workmail.plugins.module_utils.times import utcnow


def _check_organization(manifest, organization_id, where):
    """ParameterError naming ``organization_id`` when ``manifest`` (read from ``where``) exports another
    organization."""
    if organization_id is None:
        return
    try:
        validate_manifest(manifest, organization_id=organization_id)
    except ManifestError as error:
        raise ParameterError("organization_id", f"{where}: {error.message}") from error


# Reads of a manifest whose journal did not apply: a pass running beside may have written the manifest whole
# between the two reads (the journal then belongs to the new version), so the pair is read again.
READS_WHILE_JOURNAL_MOVES = 3


def _read(s3, bucket, key, campaign):
    """``(store, manifest)``: the manifest with its journal applied, read again when the journal was of another
    version of it (even an empty one: the manifest read is then older than the journal's changes); a journal that
    still does not apply is reported by the store (``journal.ignored``)."""
    for dummy in range(READS_WHILE_JOURNAL_MOVES):
        store = ManifestStore(s3, bucket, key)
        manifest = store.load(campaign)[0]
        if store.journal.ignored is None and not store.journal.other_version:
            break
    if store.journal.ignored is None and store.journal.other_version:
        store.journal.ignored = (
            f"the manifest was written again each of the {READS_WHILE_JOURNAL_MOVES} times it was read; what is "
            "returned may lack the latest pass's changes: read it again"
        )
    return store, manifest


def campaign_manifest_info(s3, params):
    """The manifest of campaign ``params["campaign"]`` under ``params["s3_bucket"]`` and ``params["s3_prefix"]``,
    whole (the mailboxes of its sealed parts included), with what the campaign module reports of it; ``s3`` is an
    :class:`~s3.S3Gateway`.

    Returns ``{"changed": False, "exists", "manifest", "location", "summary", "verification_problems",
    "unchecked", "journal_ignored", "recovery", "eta", "report"}`` (``eta``: :func:`eta.estimate` of the manifest now,
    None without a manifest; ``report``: :func:`report_publish.stored_report`, None without a manifest).
    ``manifest`` is None (``exists`` False, ``summary`` None) when the campaign has neither a manifest nor a copy of
    it. ``recovery`` is :attr:`ManifestStore.recovery` when the
    manifest was missing or damaged and its copy was read instead. With ``params["organization_id"]``, a manifest
    of another organization is a ParameterError naming ``organization_id``. Raises ManifestError (a damaged
    manifest without a usable copy, a sealed part missing or damaged, a manifest of another campaign) and S3Errors
    (access denied, missing bucket).
    """
    bucket = params["s3_bucket"]
    key = manifest_key(params["s3_prefix"], params["campaign"])
    store, manifest = _read(s3, bucket, key, params["campaign"])
    if manifest is not None:
        manifest = store.whole(manifest)
    location = {"s3_uri": f"s3://{bucket}/{key}", "s3_bucket": bucket, "s3_key": key}
    exists = manifest is not None
    if exists:
        where = store.recovery["recovered_from"] if store.recovery else location["s3_uri"]
        _check_organization(manifest, params.get("organization_id"), where)
    return {
        "changed": False,
        "exists": exists,
        "manifest": manifest,
        "location": location,
        "summary": summary(manifest) if exists else None,
        "verification_problems": verification_problems(manifest) if exists else [],
        "unchecked": unchecked_exports(manifest) if exists else [],
        "journal_ignored": store.journal.ignored,
        "recovery": store.recovery,
        "eta": _eta(manifest, params) if exists else None,
        "report": stored_report(manifest, params) if exists else None,
    }


def _eta(manifest, params):
    """:func:`eta.estimate` of the manifest now, with the slots its last pass used and the jobs of others its last
    job listing showed, against ``params``' ``deadline`` and ``deadline_margin_days``."""
    return estimate(manifest, utcnow(), deadline=params.get("deadline"), margin_days=params.get("deadline_margin_days"))
