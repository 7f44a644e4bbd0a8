"""Many organizations: the inventory plugin mailops.workmail.workmail_organizations with ansible-inventory, and the
playbook mailops.workmail.export_organization over its hosts (one organization each), whole and in two slices at
once, as AWX job slicing runs it, against the local AWS."""

import collections
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from campaign_setup import ansible_environment

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIXTURE = ROOT / "tests" / "emulator" / "fixtures" / "several_organizations.yml"
CAMPAIGN = "eos"
# The Active organizations of the fixture, by host name; "corp-closed" (Deleted) and "corp-new" (Creating) are left out.
ACTIVE = ["corp-dublin", "corp-east", "corp-europe", "corp-labs", "corp-west"]
IMPORT = """
- name: The collection playbook
  ansible.builtin.import_playbook: mailops.workmail.export_organization
"""
INVENTORY = {
    "plugin": "mailops.workmail.workmail_organizations",
    # The default fixture's organization (example, us-east-1) is not part of these tests.
    "exclude_aliases": ["example"],
    # One bucket per region: a bucket is in one region, and an export must be in its organization's region.
    "compose": {"workmail_bucket": "'corp-exports-' ~ workmail_organization.region"},
}
# Provisions every organization's destination, one after another, as docs/awx.md recommends before slicing.
PROVISION = """
- name: Provision the destinations of the organizations
  hosts: workmail_organizations
  gather_facts: false
  serial: 1
  tasks:
    - name: Provision
      ansible.builtin.include_role:
        name: mailops.workmail.export_prerequisites
      vars:
        export_prerequisites_organization_id: "{{ workmail_organization.id }}"
        export_prerequisites_region: "{{ workmail_organization.region }}"
        export_prerequisites_bucket: "{{ workmail_bucket }}"
        export_prerequisites_prefix: "workmail-exports/{{ workmail_organization.id }}/"
"""


@pytest.fixture(name="orgs")
def orgs_fixture(aws):
    """The organizations of the fixture several_organizations.yml, by alias."""
    added = aws.add_organizations(yaml.safe_load(FIXTURE.read_text())["organizations"])
    return {org["alias"]: org for org in added}


@pytest.fixture(name="run")
def run_fixture(aws, tmp_path):
    """run(tool, *args, inventory=None, play=None, wait=True) -> CompletedProcess (or a Popen with wait=False),
    with the local AWS's environment and the JSON callback."""
    # Inventories are given here, so the warning about an unparsed one is left on.
    env = ansible_environment(aws, ANSIBLE_INVENTORY_UNPARSED_WARNING="true", ANSIBLE_SHOW_CUSTOM_STATS="true")

    def run(tool, *args, inventory=None, play=None, wait=True):
        command = [str(BIN / tool)]
        if inventory is not None:
            path = tmp_path / "corp.workmail_organizations.yml"
            path.write_text(yaml.safe_dump(inventory))
            command += ["-i", str(path)]
        if play is not None:
            path = tmp_path / f"play-{len(list(tmp_path.glob('play-*')))}.yml"
            path.write_text(textwrap.dedent(play))
            command.append(str(path))
        command += list(args)
        if not wait:
            return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900, check=False)

    return run


def json_output(stdout, stderr=""):
    try:
        return json.loads(stdout)
    except ValueError as exc:
        raise AssertionError(f"no JSON output:\n{stdout}\n{stderr}") from exc


def plain(value):
    """ansible-inventory's JSON without its markers of untrusted text (``{"__ansible_unsafe": text}``)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def task_results(data, name):
    """{host: result} of the tasks named ``name``, over every play."""
    found = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ", 1)[-1] == name:
                found.update(task["hosts"])
    return found


def manifest(aws, org, region):
    key = f"workmail-exports/{org['id']}/mailops-campaigns/{CAMPAIGN}/manifest.json"
    body = aws.client("s3", region=region).get_object(Bucket=f"corp-exports-{region}", Key=key)["Body"].read()
    return json.loads(body)


def jobs_by_organization(aws):
    counted = collections.defaultdict(collections.Counter)
    for job in aws.jobs():
        counted[job["OrganizationId"]][job["EntityId"]] += 1
    return counted


def mailbox_ids(org):
    return {entity["id"] for entity in org["users"] + org["resources"] if entity["mailbox"]}


def test_inventory_lists_every_page_of_every_region_with_groups_and_variables(aws, orgs, run):
    # 101 more organizations in eu-west-1: ListOrganizations answers them in two pages of at most 100.
    aws.add_organizations([{"alias": f"bulk-{number:03d}", "region": "eu-west-1"} for number in range(101)])
    listed = run("ansible-inventory", "--list", inventory=dict(INVENTORY, exclude_aliases=["example", "bulk-*"]))
    assert listed.returncode == 0, listed.stderr
    inventory = plain(json.loads(listed.stdout))
    assert sorted(inventory["workmail_organizations"]["hosts"]) == ACTIVE
    assert sorted(inventory["workmail_region_eu_west_1"]["hosts"]) == ["corp-dublin", "corp-europe"]
    assert sorted(inventory["workmail_region_us_west_2"]["hosts"]) == ["corp-west"]
    assert sorted(inventory["workmail_state_active"]["hosts"]) == ACTIVE
    variables = inventory["_meta"]["hostvars"]["corp-west"]
    assert variables["workmail_organization"]["id"] == orgs["corp-west"]["id"]
    assert variables["workmail_organization"]["region"] == "us-west-2"
    assert variables["workmail_organization"]["default_mail_domain"] == "corp-west.awsapps.com"
    assert variables["workmail_bucket"] == "corp-exports-us-west-2"

    every = run("ansible-inventory", "--list", inventory=dict(INVENTORY, states=["all"], include_aliases=["bulk-*", "corp-c*"]))
    inventory = plain(json.loads(every.stdout))
    assert len(inventory["workmail_organizations"]["hosts"]) == 102
    assert inventory["workmail_state_deleted"]["hosts"] == ["corp-closed"]
    assert aws.calls()["ListOrganizations"] == 2 * (1 + 1 + 2)  # two listings, every region, eu-west-1 in two pages


def test_a_wrong_inventory_option_names_the_option_and_calls_nothing(aws, orgs, run):
    listed = run("ansible-inventory", "--list", inventory=dict(INVENTORY, regions=["us-east-1", "ap-south-1"]))
    assert "regions: every region must be one where Amazon WorkMail exists" in listed.stderr
    assert "ListOrganizations" not in aws.calls()


def test_the_playbook_exports_every_organization_of_the_inventory_and_rolls_them_up(aws, orgs, run):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    extra = {"workmail_campaign": CAMPAIGN, "workmail_wait": True, "workmail_poll_interval": 5, "workmail_wait_timeout": 300}
    done = run("ansible-playbook", "--forks", "5", "-e", json.dumps(extra), inventory=INVENTORY, play=IMPORT)
    data = json_output(done.stdout, done.stderr)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr)

    for host in ACTIVE:
        org, region = orgs[host], orgs[host]["region"]
        saved = manifest(aws, org, region)
        assert {item["state"] for item in saved["mailboxes"].values()} == {"COMPLETED"}, host
        assert jobs_by_organization(aws)[org["id"]] == collections.Counter(mailbox_ids(org)), host
    assert set(jobs_by_organization(aws)) == {orgs[host]["id"] for host in ACTIVE}

    rollup = task_results(data, "Roll up the organizations of the run")
    assert len(rollup) == 1
    lines = next(iter(rollup.values()))["msg"]
    for host in ACTIVE:
        org = orgs[host]
        count = len(mailbox_ids(org))
        assert f"{host} - {org['id']} ({org['region']}): {count}/{count} exported, 0 running" in "\n".join(lines)
    assert "Organizations: 5 in this run: 5 done, 0 done with problems, 0 in progress, 0 failed" in lines
    total = sum(len(mailbox_ids(orgs[host])) for host in ACTIVE)
    assert f"Mailboxes: {total} in the campaigns: {total} exported, 0 running, 0 pending, 0 to retry, 0 given up" in lines
    stats = data["global_custom_stats"]["workmail_export_rollup"]
    assert stats["total"] == 5 and stats["done_without_problems"] == 5 and stats["all_done"] is True
    assert stats["mailboxes"]["completed"] == total
    assert "workmail_export_summary" not in data["global_custom_stats"]


def test_one_bucket_for_organizations_of_two_regions_stops_every_host_before_any_aws_call(aws, orgs, run):
    extra = {"workmail_campaign": CAMPAIGN, "workmail_bucket": "one-bucket"}
    stopped = run("ansible-playbook", "-e", json.dumps(extra), inventory=INVENTORY, play=IMPORT)
    assert stopped.returncode != 0
    failed = task_results(json_output(stopped.stdout, stopped.stderr), "Check the variables - every rule, before any AWS call")
    assert sorted(failed) == ACTIVE
    assert all(result.get("failed") for result in failed.values())
    assert "workmail_bucket: one-bucket is also given for host" in failed["corp-west"]["msg"]
    assert set(aws.calls()) == {"ListOrganizations"}
    assert aws.client("s3").list_buckets()["Buckets"] == []


def test_an_organization_id_given_with_the_inventory_is_refused(aws, orgs, run):
    extra = {"workmail_campaign": CAMPAIGN, "workmail_organization_id": orgs["corp-east"]["id"]}
    stopped = run("ansible-playbook", "--limit", "corp-east,corp-labs", "-e", json.dumps(extra), inventory=INVENTORY, play=IMPORT)
    failed = task_results(json_output(stopped.stdout, stopped.stderr), "Check the variables - every rule, before any AWS call")
    assert "of the inventory; leave workmail_organization_id out" in failed["corp-labs"]["msg"]
    assert f"{orgs['corp-east']['id']} is also the organization of host corp-labs" in failed["corp-east"]["msg"]
    assert "StartMailboxExportJob" not in aws.calls()


def test_two_slices_at_once_export_each_organization_exactly_once(aws, orgs, run):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=3)
    provisioned = run("ansible-playbook", inventory=INVENTORY, play=PROVISION)
    assert provisioned.returncode == 0, (provisioned.stdout[-3000:], provisioned.stderr)

    # AWX job slicing gives slice n of 2 the hosts n, n+2, ... of the inventory.
    slices = [ACTIVE[0::2], ACTIVE[1::2]]
    extra = {"workmail_campaign": CAMPAIGN, "workmail_wait": True, "workmail_poll_interval": 5, "workmail_wait_timeout": 300}
    running = [
        run("ansible-playbook", "--limit", ",".join(hosts), "-e", json.dumps(extra), inventory=INVENTORY, play=IMPORT, wait=False)
        for hosts in slices
    ]
    outputs = [process.communicate(timeout=900) for process in running]
    for process, (stdout, stderr) in zip(running, outputs):
        assert process.returncode == 0, (stdout[-3000:], stderr)

    for hosts, (stdout, stderr) in zip(slices, outputs):
        data = json_output(stdout, stderr)
        assert sorted(task_results(data, "Export the organization's mailboxes")) == sorted(hosts)
        assert data["global_custom_stats"]["workmail_export_rollup"]["total"] == len(hosts)
    # Every mailbox of every organization has exactly one export job, and each manifest says it is exported.
    jobs = jobs_by_organization(aws)
    assert set(jobs) == {orgs[host]["id"] for host in ACTIVE}
    for host in ACTIVE:
        org = orgs[host]
        assert jobs[org["id"]] == collections.Counter(mailbox_ids(org)), host
        saved = manifest(aws, org, org["region"])
        assert saved["organization_id"] == org["id"]
        assert sorted(item["state"] for item in saved["mailboxes"].values()) == ["COMPLETED"] * len(mailbox_ids(org)), host
