"""Fixtures for tests that need the local AWS (tests/emulator).

``local_aws`` (session) starts ``tests/emulator/serve.py --port 0`` the first time a test asks for it and stops
it at the end of the session; ``aws`` is the same object after ``reset()``, so each test starts from the
start-up fixture with the clock, faults, call counts and dialects cleared. Tests that use neither start nothing.

The object has ``endpoint``, ``region``, ``env`` (for ansible-playbook and other subprocesses),
``client(service, region=None)``, ``reset()``, ``add_organizations(orgs)``, ``advance_clock(seconds)``,
``now()``, ``set_time_scale(seconds_per_mb)``, ``set_faults(**rule)`` (``service="s3"`` for S3), ``faults()``,
``set_dialects(**switches)``, ``dialects()``, ``calls()``, ``jobs()`` and ``organizations()``.
``provision_export_destination`` (workmail_emulator.provision) creates a working export destination in it.
"""

import os
import sys

import pytest

EMULATOR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator")
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)


@pytest.fixture(scope="session")
def local_aws():
    """The local AWS for this test session (started on first use)."""
    from workmail_emulator.harness import EmulatorError  # pylint: disable=import-outside-toplevel
    from workmail_emulator.harness import start_local_aws  # pylint: disable=import-outside-toplevel

    try:
        emulator = start_local_aws()
    except EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def aws(local_aws):  # pylint: disable=redefined-outer-name
    """The local AWS, reset to its start-up state."""
    local_aws.reset()
    return local_aws
