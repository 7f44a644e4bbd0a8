"""Every module's EXAMPLES is a real play: run each against the local AWS."""

import ast
from pathlib import Path

import pytest
from workmail_emulator.provision import provision_export_destination
from workmail_emulator.provision import provision_forecast_export_destination

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(path for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def examples_of(path):
    """The EXAMPLES string of a module, read without importing it."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return node.value.value
    raise AssertionError(f"{path.name} has no EXAMPLES")


@pytest.fixture(name="example_destination")
def example_destination_fixture(aws):
    """What the examples say must exist: the role workmail-export, the key alias/workmail-export and the bucket."""
    organization_id = next(org["id"] for org in aws.organizations() if org["alias"] == "example")
    destination = provision_export_destination(
        aws.client, organization_id, "example-workmail-exports", "workmail", "us-east-1", role_name="workmail-export"
    )
    aws.client("kms").create_alias(AliasName="alias/workmail-export", TargetKeyId=destination["kms_key_arn"])
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=2)
    # One job already there, for the examples that list or describe jobs (not alice's: the examples export her).
    dave = next(user["id"] for org in aws.organizations() for user in org["users"] if user["name"] == "dave")
    aws.client("workmail").start_mailbox_export_job(
        ClientToken="seed-dave",
        OrganizationId=organization_id,
        EntityId=dave,
        RoleArn=destination["role_arn"],
        KmsKeyArn=destination["kms_key_arn"],
        S3BucketName=destination["s3_bucket"],
        S3Prefix="workmail/seed",
    )
    return destination


def forecast_example_setup(aws):
    """What the forecast modules' examples say must exist: the forecast demand_2026 (ACTIVE), the bucket
    example-forecast-exports, the key alias/forecast-export and the role forecast-export (allowed to write under
    forecasts/), and one export job, for the examples that list or describe jobs."""
    forecast = aws.add_forecasts([{"name": "demand_2026", "status": "ACTIVE", "items": 10, "horizon": 14}])[0]
    destination = provision_forecast_export_destination(
        aws.client, "example-forecast-exports", "forecasts", "us-east-1", role_name="forecast-export"
    )
    aws.client("kms").create_alias(AliasName="alias/forecast-export", TargetKeyId=destination["kms_key_arn"])
    aws.client("forecast").create_forecast_export_job(
        ForecastExportJobName="seed_export",
        ForecastArn=forecast["arn"],
        Destination={"S3Config": {"Path": "s3://example-forecast-exports/forecasts/seed/", "RoleArn": destination["role_arn"]}},
    )


@pytest.mark.parametrize("path", MODULES, ids=[path.stem for path in MODULES])
def test_examples_run(aws, playbook, example_destination, path):
    if path.stem.startswith("forecast"):
        forecast_example_setup(aws)
    first = playbook(examples_of(path))
    assert not first.failed, first
    assert first.tasks, "the examples ran no task"
    skipped = [name for name, result in first.tasks if result.get("skipped")]
    assert skipped == [], f"example tasks skipped: {skipped}"
    second = playbook(examples_of(path))
    assert not second.failed, second
