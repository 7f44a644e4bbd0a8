"""Set-up shared by the integration tests: organizations of given mailbox sizes, and the arguments of an export task.

The ``destination`` fixture (conftest.py) provisions a working export destination for the test module's ``org``;
``ansible_environment`` is the environment of an Ansible process run against the local AWS.
"""

import hashlib
import json
import os
import sys


def sized_organization(aws, alias, user_sizes, resource_sizes=(), region="us-east-1"):
    """Add an organization of users user00, user01, ... and resources room0, room1, ... of the given sizes (MB)."""
    users = [
        {"name": f"user{index:02d}", "email": f"user{index:02d}@{alias}.example", "size_mb": size}
        for index, size in enumerate(user_sizes)
    ]
    resources = [
        {"name": f"room{index}", "email": f"room{index}@{alias}.example", "size_mb": size}
        for index, size in enumerate(resource_sizes)
    ]
    return aws.add_organizations([{"alias": alias, "region": region, "users": users, "resources": resources}])[0]


def destination_args(org, destination, **extra):
    """A task's arguments for exporting from ``org`` to ``destination`` (of provision_export_destination)."""
    args = {
        "organization_id": org["id"],
        "role_arn": destination["role_arn"],
        "kms_key_arn": destination["kms_key_arn"],
        "s3_bucket": destination["s3_bucket"],
        "s3_prefix": destination["s3_prefix"],
        "region": destination["region"],
    }
    args.update(extra)
    return args


def ansible_environment(aws, **overrides):
    """The environment of an ansible or ansible-playbook process run against the local AWS ``aws``: its endpoint and
    credentials, this Python, the JSON callback, no colour, no retry files and no warnings about localhost;
    ``overrides`` set more variables or replace these."""
    env = dict(os.environ)
    env.update(aws.env)
    env.update(
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    env.update(overrides)
    return env


def whole_manifest(aws, bucket, key):
    """The campaign manifest at ``key`` as one document, read as a person would: ``manifest.json`` with its journal
    applied, and the mailboxes of each sealed part it names put back (each part checked against the SHA-256 the
    manifest records)."""
    s3 = aws.client("s3")
    stored = s3.get_object(Bucket=bucket, Key=key)
    manifest = json.loads(stored["Body"].read())
    folder = key[: -len("manifest.json")]
    _apply_journal(s3, bucket, folder, manifest, stored["ETag"])
    for part in manifest.pop("sealed", []):
        body = s3.get_object(Bucket=bucket, Key=folder + part["name"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == part["sha256"], f"sealed part {part['name']} is not the one named"
        entries = json.loads(body)["mailboxes"]
        assert sorted(entries) == part["ids"] and not set(entries) & set(manifest["mailboxes"])
        manifest["mailboxes"].update(entries)
    return manifest


def _apply_journal(s3, bucket, folder, manifest, etag):
    """Apply ``manifest.journal.json`` (the changes saved since the manifest was last written whole) when it was
    written against this version (``etag``) of the manifest. Read here from the documented format, not with the
    collection's own code: the tests check what the collection wrote, as any other reader would read it."""
    try:
        journal = json.loads(s3.get_object(Bucket=bucket, Key=folder + "manifest.journal.json")["Body"].read())
    except s3.exceptions.NoSuchKey:
        return
    if journal.get("base_etag") != etag:
        return
    manifest.update(journal.get("fields") or {})
    for name in journal.get("dropped_fields") or []:
        manifest.pop(name, None)
    manifest["mailboxes"].update(journal.get("mailboxes") or {})
    for entity_id in journal.get("removed") or []:
        manifest["mailboxes"].pop(entity_id, None)
