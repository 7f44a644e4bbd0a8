"""Organizations, users, resources and groups: fixtures, the admin endpoint and the read operations."""

import pytest
from botocore.exceptions import ClientError
from emulator_testlib import checked_client
from emulator_testlib import entity
from emulator_testlib import error_of
from workmail_emulator.fixtures import organization_id_for
from workmail_emulator.fixtures import resource_id_for
from workmail_emulator.fixtures import user_id_for
from workmail_emulator.harness import EmulatorError

EXTRA = {
    "alias": "second-org",
    "region": "eu-west-1",
    "users": [
        {"name": "u1", "email": "u1@second.example", "size_mb": 3},
        {"name": "u2", "email": "u2@second.example", "state": "DISABLED"},
    ],
    "resources": [{"name": "van", "email": "van@second.example", "type": "EQUIPMENT", "size_mb": 1}],
    "groups": [{"name": "all", "email": "all@second.example"}],
}


def test_default_fixture_has_a_dozen_varied_mailboxes(org):
    mailboxes = [item for kind in ("users", "resources") for item in org[kind] if item["mailbox"]]
    assert len(mailboxes) == 12
    assert len({item["size_mb"] for item in mailboxes}) >= 10
    assert any(user["state"] == "DISABLED" and user["mailbox"] for user in org["users"])
    assert any(user["role"] == "SYSTEM_USER" for user in org["users"])
    assert any(res["resource_type"] == "ROOM" for res in org["resources"])
    assert org["groups"] and not org["groups"][0]["mailbox"]
    assert org["id"] == organization_id_for("example")


def test_ids_are_generated_deterministically(aws):
    created = aws.add_organizations([EXTRA])[0]
    org_id = organization_id_for("second-org")
    assert created["id"] == org_id
    assert entity(created, "u1")["id"] == user_id_for(org_id, "u1")
    assert entity(created, "van")["id"] == resource_id_for(org_id, "van")
    assert entity(created, "van")["id"].startswith("r-") and len(entity(created, "van")["id"]) == 34
    aws.reset()
    again = aws.add_organizations([EXTRA])[0]
    assert again == created


def test_given_ids_are_kept(aws):
    spec = {
        "id": "m-0123456789abcdef0123456789abcdef",
        "alias": "fixed",
        "users": [{"id": "12345678-1234-1234-1234-123456789012", "name": "pat", "email": "pat@fixed.example"}],
        "resources": [{"id": "r-0123456789a0123456789b0123456789", "name": "hall"}],
    }
    created = aws.add_organizations([spec])[0]
    assert created["id"] == spec["id"]
    assert entity(created, "pat")["id"] == "12345678-1234-1234-1234-123456789012"
    workmail = checked_client(aws)
    user = workmail.describe_user(OrganizationId=spec["id"], UserId="12345678-1234-1234-1234-123456789012")
    assert user["Name"] == "pat"


def test_admin_rejects_duplicates_and_bad_shapes(aws):
    aws.add_organizations([EXTRA])
    with pytest.raises(EmulatorError, match="409"):
        aws.add_organizations([EXTRA])
    with pytest.raises(EmulatorError, match="(?s)400.*unknown keys"):
        aws.add_organizations([{"alias": "typo", "userz": []}])
    with pytest.raises(EmulatorError, match="(?s)400.*region"):
        aws.add_organizations([{"alias": "nowhere", "region": "eu-central-1"}])


def test_describe_and_list_organizations(aws, workmail, org_id):
    aws.add_organizations([EXTRA, {"alias": "inactive-org", "state": "Inactive"}])
    described = workmail.describe_organization(OrganizationId=org_id)
    assert described["State"] == "Active"
    assert described["Alias"] == "example"
    assert described["ARN"] == f"arn:aws:workmail:us-east-1:123456789012:organization/{org_id}"
    listed = workmail.list_organizations()["OrganizationSummaries"]
    assert [summary["Alias"] for summary in listed] == ["example", "inactive-org"]
    # Organizations are regional: the eu-west-1 one is only visible there.
    eu = checked_client(aws, region="eu-west-1")
    assert [summary["Alias"] for summary in eu.list_organizations()["OrganizationSummaries"]] == ["second-org"]
    with pytest.raises(ClientError) as excinfo:
        workmail.describe_organization(OrganizationId=organization_id_for("second-org"))
    assert error_of(excinfo)[0] == "OrganizationNotFoundException"


def test_list_organizations_pages(aws, workmail):
    aws.add_organizations([{"alias": f"org{index}"} for index in range(4)])
    seen, token = [], None
    while True:
        kwargs = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        page = workmail.list_organizations(**kwargs)
        assert len(page["OrganizationSummaries"]) <= 2
        seen += [summary["Alias"] for summary in page["OrganizationSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ["example", "org0", "org1", "org2", "org3"]


def test_describe_entity_by_email(workmail, org_id, org):
    answer = workmail.describe_entity(OrganizationId=org_id, Email="ALICE@example.com")
    assert answer["EntityId"] == entity(org, "alice")["id"]
    assert (answer["Name"], answer["Type"]) == ("alice", "USER")
    assert workmail.describe_entity(OrganizationId=org_id, Email="boardroom@example.com")["Type"] == "RESOURCE"
    assert workmail.describe_entity(OrganizationId=org_id, Email="staff@example.com")["Type"] == "GROUP"
    with pytest.raises(ClientError) as excinfo:
        workmail.describe_entity(OrganizationId=org_id, Email="nobody@example.com")
    assert error_of(excinfo)[0] == "EntityNotFoundException"


@pytest.mark.parametrize("identifier", ["id", "alice", "alice@example.com"])
def test_describe_user_by_id_name_or_email(workmail, org_id, org, identifier):
    user_id = entity(org, "alice")["id"]
    answer = workmail.describe_user(OrganizationId=org_id, UserId=user_id if identifier == "id" else identifier)
    assert answer["UserId"] == user_id
    assert answer["State"] == "ENABLED"
    assert answer["UserRole"] == "USER"
    assert answer["DisplayName"] == "Alice Archer"
    assert "MailboxProvisionedDate" in answer


def test_describe_user_states_and_roles(workmail, org_id):
    assert workmail.describe_user(OrganizationId=org_id, UserId="heidi")["State"] == "DISABLED"
    assert "DisabledDate" in workmail.describe_user(OrganizationId=org_id, UserId="heidi")
    assert workmail.describe_user(OrganizationId=org_id, UserId="mallory")["State"] == "DELETED"
    assert workmail.describe_user(OrganizationId=org_id, UserId="notifications")["UserRole"] == "SYSTEM_USER"
    with pytest.raises(ClientError) as excinfo:
        workmail.describe_user(OrganizationId=org_id, UserId="boardroom")
    assert error_of(excinfo)[0] == "EntityNotFoundException"


def test_describe_resource(workmail, org_id, org):
    room = entity(org, "boardroom")
    answer = workmail.describe_resource(OrganizationId=org_id, ResourceId=room["id"])
    assert (answer["ResourceId"], answer["Type"], answer["State"]) == (room["id"], "ROOM", "ENABLED")
    assert answer["Description"] == "Board room 4th floor"
    assert workmail.describe_resource(OrganizationId=org_id, ResourceId="projector")["Type"] == "EQUIPMENT"
    with pytest.raises(ClientError) as excinfo:
        workmail.describe_resource(OrganizationId=org_id, ResourceId="alice")
    assert error_of(excinfo)[0] == "EntityNotFoundException"


def test_list_users_pages_with_an_opaque_token(workmail, org_id, org):
    names, token, pages = [], None, 0
    while True:
        kwargs = {"OrganizationId": org_id, "MaxResults": 4, **({"NextToken": token} if token else {})}
        page = workmail.list_users(**kwargs)
        pages += 1
        names += [user["Name"] for user in page["Users"]]
        token = page.get("NextToken")
        if not token:
            break
        assert not token.isdigit(), "NextToken must be opaque"
    assert pages == 3
    assert names == [user["name"] for user in org["users"]]
    roles = {user["Name"]: user["UserRole"] for user in workmail.list_users(OrganizationId=org_id)["Users"]}
    assert roles["notifications"] == "SYSTEM_USER"


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"UsernamePrefix": "a"}, ["alice"]),
        ({"PrimaryEmailPrefix": "heidi@"}, ["heidi"]),
        ({"DisplayNamePrefix": "Carol"}, ["carol"]),
        ({"State": "DISABLED"}, ["heidi"]),
        ({"State": "DELETED"}, ["mallory"]),
        ({"UsernamePrefix": "e", "State": "ENABLED"}, ["erin"]),
        ({"IdentityProviderUserIdPrefix": "abc"}, []),
    ],
)
def test_list_users_filters(workmail, org_id, filters, expected):
    users = workmail.list_users(OrganizationId=org_id, Filters=filters)["Users"]
    assert [user["Name"] for user in users] == expected


def test_list_resources_with_filters_and_pages(workmail, org_id):
    everything = workmail.list_resources(OrganizationId=org_id)["Resources"]
    assert [(res["Name"], res["Type"]) for res in everything] == [("boardroom", "ROOM"), ("projector", "EQUIPMENT")]
    first = workmail.list_resources(OrganizationId=org_id, MaxResults=1)
    second = workmail.list_resources(OrganizationId=org_id, MaxResults=1, NextToken=first["NextToken"])
    assert [first["Resources"][0]["Name"], second["Resources"][0]["Name"]] == ["boardroom", "projector"]
    assert "NextToken" not in second
    assert workmail.list_resources(OrganizationId=org_id, Filters={"NamePrefix": "proj"})["Resources"][0]["Id"]
    assert workmail.list_resources(OrganizationId=org_id, Filters={"PrimaryEmailPrefix": "board"})["Resources"]
    assert workmail.list_resources(OrganizationId=org_id, Filters={"State": "DISABLED"})["Resources"] == []


def test_a_next_token_is_bound_to_its_request(workmail, org_id):
    token = workmail.list_users(OrganizationId=org_id, MaxResults=2)["NextToken"]
    assert workmail.list_users(OrganizationId=org_id, MaxResults=2, NextToken=token)["Users"]
    with pytest.raises(ClientError) as excinfo:
        workmail.list_users(OrganizationId=org_id, MaxResults=2, NextToken=token, Filters={"State": "ENABLED"})
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        workmail.list_resources(OrganizationId=org_id, NextToken=token)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        workmail.list_users(OrganizationId=org_id, NextToken="bm90IGEgdG9rZW4=")
    assert "NextToken" in error_of(excinfo)[1]


def test_get_mailbox_details(workmail, org_id, org):
    carol = workmail.get_mailbox_details(OrganizationId=org_id, UserId=entity(org, "carol")["id"])
    assert carol == {"MailboxQuota": 51200, "MailboxSize": 640.0, "ResponseMetadata": carol["ResponseMetadata"]}
    assert workmail.get_mailbox_details(OrganizationId=org_id, UserId="heidi")["MailboxSize"] == 60.0
    assert workmail.get_mailbox_details(OrganizationId=org_id, UserId="boardroom@example.com")["MailboxSize"] == 5.0
    for no_mailbox in ("mallory", "staff", "nobody"):
        with pytest.raises(ClientError) as excinfo:
            workmail.get_mailbox_details(OrganizationId=org_id, UserId=no_mailbox)
        assert error_of(excinfo)[0] == "EntityNotFoundException"


def test_unknown_and_inactive_organizations(aws, workmail):
    missing = "m-" + "0" * 32
    inactive = aws.add_organizations([{"alias": "sleepy", "state": "Inactive", "users": [{"name": "z"}]}])[0]["id"]
    calls = {
        "describe_entity": {"Email": "z@sleepy.example"},
        "describe_user": {"UserId": "z"},
        "describe_resource": {"ResourceId": "z"},
        "list_users": {},
        "list_resources": {},
        "get_mailbox_details": {"UserId": "z"},
        "list_mailbox_export_jobs": {},
        "describe_mailbox_export_job": {"JobId": "job-1"},
        "cancel_mailbox_export_job": {"JobId": "job-1", "ClientToken": "c"},
    }
    for method, kwargs in calls.items():
        with pytest.raises(ClientError) as excinfo:
            getattr(workmail, method)(OrganizationId=missing, **kwargs)
        assert error_of(excinfo)[0] == "OrganizationNotFoundException", method
        with pytest.raises(ClientError) as excinfo:
            getattr(workmail, method)(OrganizationId=inactive, **kwargs)
        assert error_of(excinfo)[0] == "OrganizationStateException", method
    # DescribeOrganization still describes an organization that is not Active.
    assert workmail.describe_organization(OrganizationId=inactive)["State"] == "Inactive"


def test_regions_without_workmail_answer_like_an_unknown_endpoint(aws):
    workmail = checked_client(aws, region="eu-central-1")
    with pytest.raises(ClientError) as excinfo:
        workmail.list_organizations()
    code, message = error_of(excinfo)
    assert code == "UnrecognizedClientException"
    assert "eu-central-1" in message
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_custom_fixture_file(tmp_path):
    from workmail_emulator.harness import start_local_aws

    fixture = tmp_path / "custom.yml"
    fixture.write_text(
        "organizations:\n"
        "  - id: m-0123456789abcdef0123456789abcdef\n"
        "    alias: custom\n"
        "    region: us-west-2\n"
        "    state: Active\n"
        "    users: [{name: alice, email: alice@custom.example, size_mb: 120, state: ENABLED, role: USER}]\n"
        "    resources: [{name: room1, email: room1@custom.example, type: ROOM, size_mb: 5}]\n"
    )
    emulator = start_local_aws(fixture=str(fixture))
    try:
        workmail = checked_client(emulator, region="us-west-2")
        org_id = "m-0123456789abcdef0123456789abcdef"
        assert workmail.describe_organization(OrganizationId=org_id)["Alias"] == "custom"
        assert workmail.get_mailbox_details(OrganizationId=org_id, UserId="alice")["MailboxSize"] == 120.0
        assert workmail.describe_resource(OrganizationId=org_id, ResourceId="room1")["Type"] == "ROOM"
        emulator.add_organizations([{"alias": "added"}])
        emulator.reset()  # reset reloads the start-up fixture and forgets what was added
        assert [org["alias"] for org in emulator.organizations()] == ["custom"]
    finally:
        emulator.stop()
