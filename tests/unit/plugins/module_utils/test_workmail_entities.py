# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils.entities import entity_id_kind
from ansible_collections.mailops.workmail.plugins.module_utils.entities import resolve_entity
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ALICE_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROOM_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake


@pytest.fixture(name="fake")
def fixture_fake():
    return standard_fake()


@pytest.fixture(name="client")
def fixture_client(fake):
    return WorkMailClient(fake, RetryPolicy(delay=0))


@pytest.mark.parametrize(
    "entity, kind",
    [
        ("12345678-1234-1234-1234-123456789012", "USER"),
        ("r-0123456789abcdef0123456789abcdef", "RESOURCE"),
        ("S-1-1-12-1234567890-123456789-123456789-1234", None),
    ],
)
def test_ids_are_used_as_given_without_api_call(fake, client, entity, kind):
    assert resolve_entity(client, ORG_ID, entity) == {"id": entity, "name": None, "email": None, "type": kind}
    assert fake.calls == []


@pytest.mark.parametrize(
    "given, expected, kind",
    [
        (ALICE_ID.upper(), ALICE_ID, "USER"),
        ("A11CE0D1-2b3c-4D5E-8f60-7A8B9C0D1E2F", ALICE_ID, "USER"),
        ("r-0123456789ABCDEF0123456789ABCDEF", ROOM_ID, "RESOURCE"),
    ],
)
def test_ids_are_lowercased_like_workmail_writes_them(fake, client, given, expected, kind):
    assert resolve_entity(client, ORG_ID, given) == {"id": expected, "name": None, "email": None, "type": kind}
    assert fake.calls == []


def test_every_spelling_of_a_mailbox_resolves_to_one_id(client):
    forms = ["alice@example.com", "ALICE@example.com", "alice", ALICE_ID, ALICE_ID.upper()]
    assert {resolve_entity(client, ORG_ID, form)["id"] for form in forms} == {ALICE_ID}
    forms = ["room1@example.com", "room1", ROOM_ID, ROOM_ID.upper().replace("R-", "r-")]
    assert {resolve_entity(client, ORG_ID, form)["id"] for form in forms} == {ROOM_ID}


def test_entity_id_kind():
    assert entity_id_kind("alice") is None
    assert entity_id_kind("S-1-5-21") == "SID"


def test_user_by_email(fake, client):
    assert resolve_entity(client, ORG_ID, "alice@example.com") == {
        "id": ALICE_ID,
        "name": "alice",
        "email": "alice@example.com",
        "type": "USER",
    }
    assert [name for name, dummy in fake.calls] == ["describe_entity"]


def test_resource_by_email(client):
    assert resolve_entity(client, ORG_ID, "room1@example.com")["id"] == ROOM_ID


def test_group_is_refused(client):
    with pytest.raises(ParameterError) as raised:
        resolve_entity(client, ORG_ID, "staff@example.com")
    assert raised.value.parameter == "entity"
    assert "is a group, which has no mailbox" in str(raised.value)


def test_user_by_name_exact_match_among_prefixed(fake, client):
    fake.add_user("alice2", "alice2@example.com")
    fake.add_user("alicea", "alicea@example.com")
    assert resolve_entity(client, ORG_ID, "alice")["id"] == ALICE_ID
    name, kwargs = fake.calls[0]
    assert name == "list_users"
    assert kwargs["Filters"] == {"UsernamePrefix": "alice"}


def test_user_by_name_prefers_live_over_deleted(fake, client):
    fake.users[0]["State"] = "DELETED"
    new_id = fake.add_user("alice", "alice.new@example.com")
    assert resolve_entity(client, ORG_ID, "alice")["id"] == new_id


def test_a_name_only_a_deleted_user_carries_is_refused(fake, client):
    mallory = fake.add_user("mallory", "mallory@example.com", state="DELETED")
    with pytest.raises(ParameterError) as raised:
        resolve_entity(client, ORG_ID, "mallory")
    assert raised.value.parameter == "entity"
    assert str(raised.value).startswith("entity: 'mallory' names only a DELETED user")
    assert mallory in str(raised.value) and "no mailbox" in str(raised.value)


def test_deleted_entities_are_skipped_in_the_case_insensitive_fallback(fake, client):
    fake.prefix_ignores_case = True
    fake.add_user("Dave", "dave.old@example.com", state="DELETED")
    with pytest.raises(ParameterError, match="names only a DELETED user"):
        resolve_entity(client, ORG_ID, "dave")
    room = fake.add_resource("DAVE", "dave-room@example.com")
    assert resolve_entity(client, ORG_ID, "dave")["id"] == room


def test_a_deleted_exact_match_gives_way_to_a_live_case_insensitive_one(fake, client):
    fake.prefix_ignores_case = True
    fake.add_user("erin", "erin.old@example.com", state="DELETED")
    erin = fake.add_user("Erin", "erin@example.com")
    assert resolve_entity(client, ORG_ID, "erin")["id"] == erin


def test_name_case_insensitive_fallback(fake, client):
    fake.prefix_ignores_case = True
    erin = fake.add_user("Erin", "erin@example.com")
    assert resolve_entity(client, ORG_ID, "erin")["id"] == erin
    assert resolve_entity(client, ORG_ID, "ROOM1")["type"] == "RESOURCE"


def test_resource_by_name(fake, client):
    assert resolve_entity(client, ORG_ID, "room1") == {
        "id": ROOM_ID,
        "name": "room1",
        "email": "room1@example.com",
        "type": "RESOURCE",
    }
    assert [name for name, dummy in fake.calls] == ["list_users", "list_resources"]
    assert fake.calls[1][1]["Filters"] == {"NamePrefix": "room1"}


def test_email_like_user_name_is_found_after_describe_entity_misses(fake, client):
    user_id = fake.add_user("carol@legacy.example.com")
    assert resolve_entity(client, ORG_ID, "carol@legacy.example.com")["id"] == user_id


@pytest.mark.parametrize("name", ["a@host", "ops@localhost", "x@y.z", "@example.com", "a@b@example.com"])
def test_at_sign_outside_the_email_pattern_is_a_name_without_describe_entity(fake, client, name):
    user_id = fake.add_user(name)
    assert resolve_entity(client, ORG_ID, name)["id"] == user_id
    assert [operation for operation, dummy in fake.calls] == ["list_users"]


@pytest.mark.parametrize("entity", ["nobody", "nobody@example.com"])
def test_not_found_names_entity(client, entity):
    with pytest.raises(ParameterError) as raised:
        resolve_entity(client, ORG_ID, entity)
    assert raised.value.parameter == "entity"
    assert entity in str(raised.value)
    assert ORG_ID in str(raised.value)


def test_ambiguous_name(fake, client):
    fake.add_user("dup", user_id="aaaaaaaa-0000-4000-8000-000000000001")
    fake.add_user("dup", user_id="aaaaaaaa-0000-4000-8000-000000000002")
    with pytest.raises(ParameterError, match="names several users"):
        resolve_entity(client, ORG_ID, "dup")
