"""Fixtures of the emulator's own tests (the ``aws``/``local_aws`` fixtures live in tests/conftest.py)."""

import pytest
from emulator_testlib import DEFAULT_ALIAS
from emulator_testlib import checked_client
from workmail_emulator.provision import provision_export_destination


@pytest.fixture(name="workmail")
def workmail_fixture(aws):
    """A checked WorkMail client at the (reset) emulator."""
    return checked_client(aws)


@pytest.fixture(name="org")
def org_fixture(aws):
    """The default fixture's organization (admin view with users, resources, groups)."""
    return next(org for org in aws.organizations() if org["alias"] == DEFAULT_ALIAS)


@pytest.fixture(name="org_id")
def org_id_fixture(org):
    """The default organization's id."""
    return org["id"]


@pytest.fixture(name="destination")
def destination_fixture(aws, org_id):
    """A correct export destination (key, bucket, role) for the default organization."""
    return provision_export_destination(aws.client, org_id, "export-bucket", "exports/example", "us-east-1")
