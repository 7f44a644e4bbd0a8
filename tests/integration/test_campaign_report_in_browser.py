"""The campaign's report (report.html, report.csv) as real passes write it to the local AWS, opened in a real browser.

The page is rendered by Debian's headless chromium (``--dump-dom`` gives the DOM after the page's script ran, so the
filter given in the URL's fragment is applied) and a screenshot of it is kept under tests/output/report/. Without
chromium (tools/ensure-chromium.sh installs it as root with apt-get) the test makes every other check, then skips,
saying why.
"""

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from campaign_setup import destination_args

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output" / "report"
REGION = "us-east-1"
BUCKET = "report-exports"
PREFIX = "exports"
CAMPAIGN = "eos-report"
FOLDER = f"{PREFIX}/mailops-campaigns/{CAMPAIGN}"
USER_SIZES = [300, 200, 120, 80, 60, 40, 30, 20, 10, 5, 3, 2, 1]
TOTAL = len(USER_SIZES)


@pytest.fixture(name="org")
def org_fixture(aws):
    users = [{"name": f"user{index:02d}", "email": f"user{index:02d}@report.example", "size_mb": size} for index, size in enumerate(USER_SIZES)]
    return aws.add_organizations([{"alias": "report", "region": REGION, "users": users, "resources": []}])[0]


BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
NO_BROWSER = "chromium is not installed (tools/ensure-chromium.sh installs Debian's chromium as root with apt-get): the page was not rendered"


def open_in_browser(page, fragment, profile, screenshot=None):
    """``(DOM after the page's script ran, the browser's log)`` of ``page`` opened at ``fragment``; with
    ``screenshot``, a PNG of it is written there. ``(None, None)`` without chromium: the test skips at its end."""
    if BROWSER is None:
        return None, None
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}"]
    command += ["--enable-logging=stderr", "--v=0", "--window-size=1400,1800"]
    url = page.as_uri() + fragment
    dumped = subprocess.run(command + ["--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(command + [f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=True)
        assert screenshot.stat().st_size > 10000
    return dumped.stdout, dumped.stderr


def count(dom, status):
    return int(re.search(rf'id="count-{status}".*?data-count="(\d+)"', dom, re.S).group(1))


def table_rows(dom):
    """``[(status, hidden)]`` of the mailbox table's rows, in the DOM's order."""
    body = dom[dom.index('id="mailbox-table"') :]
    return [(status, bool(hidden)) for status, hidden in re.findall(r'<tr data-status="([a-z_0-9]+)"( hidden="")?', body)]


def read(aws, key):
    return aws.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()


@pytest.fixture(name="run_pass")
def run_pass_fixture(org, destination, module, tmp_path):
    args = destination_args(org, destination, campaign=CAMPAIGN, report_local_dir=str(tmp_path / "reports"))
    return lambda **extra: module("workmail_organization_export", dict(args, **extra))


def test_passes_write_the_report_next_to_the_manifest_and_it_reads_in_chromium(aws, destination, run_pass, tmp_path, request):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    first = run_pass()
    report = first["report"]
    assert report["written"] is True and report["error"] is None, report
    assert report["reason"] == "the campaign had no report yet"
    assert (report["html"], report["csv"]) == (f"s3://{BUCKET}/{FOLDER}/report.html", f"s3://{BUCKET}/{FOLDER}/report.csv")
    for key, content_type in ((f"{FOLDER}/report.html", "text/html"), (f"{FOLDER}/report.csv", "text/csv")):
        head = aws.client("s3").head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith(destination["kms_key_arn"].split("/")[-1])
        assert head["ContentType"].startswith(content_type)
    html = read(aws, f"{FOLDER}/report.html")
    page = Path(report["local_html"])
    assert page.read_bytes() == html and Path(report["local_csv"]).read_bytes() == read(aws, f"{FOLDER}/report.csv")
    assert html.startswith(b"<!DOCTYPE html>") and b'http-equiv="Content-Security-Policy"' in html

    manifest = json.loads(read(aws, f"{FOLDER}/manifest.json"))
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(read(aws, f"{FOLDER}/report.csv").decode("utf-8")))}
    assert set(rows) == set(manifest["mailboxes"]) and len(rows) == TOTAL
    for entity_id, entry in manifest["mailboxes"].items():
        row = rows[entity_id]
        assert (row["email"], row["name"], row["state"]) == (entry["email"], entry["name"], entry["state"])
        assert float(row["size_mb"]) == pytest.approx(entry["size_mb"])
        assert int(row["attempts"]) == len(entry["attempts"])
        assert row["job_id"] == (entry["attempts"][-1]["job_id"] if entry["attempts"] else "")
    assert sum(1 for row in rows.values() if row["state"] == "RUNNING") == 10

    dom, log = open_in_browser(page, "#status=running", tmp_path / "profile")
    if dom is not None:
        assert "Uncaught" not in log and "Refused to" not in log, log
        assert "Nothing needs attention." in dom
        assert (count(dom, "running"), count(dom, "pending"), count(dom, "total")) == (10, TOTAL - 10, TOTAL)
        shown = table_rows(dom)
        assert len(shown) == TOTAL and all(hidden == (status != "running") for status, hidden in shown)
        assert f"10 of {TOTAL} mailboxes shown" in dom
        assert 'aria-sort="none"' in dom and "<button" in dom  # the script made the headings sort buttons

    aws.advance_clock(61)
    second = run_pass()
    assert second["summary"]["completed"] == 10
    assert second["report"]["written"] is False
    assert second["report"]["reason"] == "report_interval has not passed since the last report"
    assert read(aws, f"{FOLDER}/report.html") == html

    aws.advance_clock(61)
    last = run_pass()
    assert last["done"] is True and last["report"]["written"] is True
    assert last["report"]["reason"] == "the campaign is done"
    final = {row["id"]: row for row in csv.DictReader(io.StringIO(read(aws, f"{FOLDER}/report.csv").decode("utf-8")))}
    manifest = json.loads(read(aws, f"{FOLDER}/manifest.json"))
    for entity_id, entry in manifest["mailboxes"].items():
        row = final[entity_id]
        assert row["state"] == "COMPLETED" and row["verification_outcome"] == "verified"
        assert row["s3_uri"] == f"s3://{BUCKET}/{entry['object']['key']}"
        assert int(row["object_size"]) == entry["object"]["size"]
        assert row["encryption_key"] == entry["object"]["kms_key_id"]
        assert (row["start_time"], row["end_time"]) == (entry["attempts"][-1]["start_time"], entry["attempts"][-1]["end_time"])

    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    dom, log = open_in_browser(page, "#filter=user03", tmp_path / "profile", OUTPUT / f"{name}.png")
    if dom is not None:
        assert "Uncaught" not in log and "Refused to" not in log, log
        assert count(dom, "verified") == TOTAL and count(dom, "running") == 0
        assert f"1 of {TOTAL} mailboxes shown" in dom
        assert [status for status, hidden in table_rows(dom) if not hidden] == ["verified"]
        assert '<svg class="chart"' in dom and "The chart's data" in dom

    again = run_pass()
    assert again["changed"] is False and again["report"]["written"] is False
    assert again["report"]["reason"] == "nothing the report shows changed since the last report"
    if BROWSER is None:
        pytest.skip(NO_BROWSER)


def test_the_playbook_passes_the_report_variables_and_prints_where_the_report_is(aws, org, destination, playbook, tmp_path):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    local = tmp_path / "local-reports"
    values = {
        "workmail_organization_id": org["id"],
        "workmail_region": REGION,
        "workmail_bucket": BUCKET,
        "workmail_prefix": PREFIX,
        "workmail_campaign": CAMPAIGN,
        "workmail_provision": "false",
        "workmail_role_arn": destination["role_arn"],
        "workmail_kms_key_arn": destination["kms_key_arn"],
        "workmail_report_interval": "0",
        "workmail_report_local_dir": str(local),
    }
    run = playbook("- ansible.builtin.import_playbook: mailops.workmail.export_organization\n", extra_vars=values)
    assert not run.failed, (run, run.stderr)
    report = run.task("Export the organization's mailboxes")["report"]
    assert report["written"] is True and report["local_html"] == str(local / "report.html")
    assert (local / "report.html").read_bytes() == read(aws, f"{FOLDER}/report.html")
    assert (local / "report.csv").read_bytes() == read(aws, f"{FOLDER}/report.csv")


def test_a_local_copy_that_cannot_be_written_does_not_hide_the_s3_report(aws, org, destination, playbook, tmp_path):
    aws.set_time_scale(seconds_per_mb=0.0, min_seconds=60)
    blocker = tmp_path / "a-file"
    blocker.write_text("a regular file, not a directory")
    values = {
        "workmail_organization_id": org["id"],
        "workmail_region": REGION,
        "workmail_bucket": BUCKET,
        "workmail_prefix": PREFIX,
        "workmail_campaign": CAMPAIGN,
        "workmail_provision": "false",
        "workmail_role_arn": destination["role_arn"],
        "workmail_kms_key_arn": destination["kms_key_arn"],
        "workmail_report_local_dir": str(blocker / "reports"),
    }
    run = playbook("- ansible.builtin.import_playbook: mailops.workmail.export_organization\n", extra_vars=values)
    assert not run.failed, (run, run.stderr)
    task = run.task("Export the organization's mailboxes")
    report = task["report"]
    # S3: written by this run, and the manifest notes it.
    assert report["written"] is True and report["error"] is None and report["reason"] == "the campaign had no report yet"
    assert read(aws, f"{FOLDER}/report.html").startswith(b"<!DOCTYPE html>")
    assert json.loads(read(aws, f"{FOLDER}/manifest.json"))["report"]["written"]
    # Local: not written, said so, and no copy listed that does not exist.
    assert report["local_written"] is False and "Not a directory" in report["local_error"]
    assert report["local_html"] is None and report["local_csv"] is None
    assert any("the local copies of the campaign report could not be written" in text for text in task.get("warnings", []))
    lines = [text for task_name, result in run.tasks if isinstance(result.get("msg"), list) for text in result["msg"]]
    (said,) = [text for text in lines if text.startswith("Report: ")]
    assert said == f"Report: s3://{BUCKET}/{FOLDER}/report.html and s3://{BUCKET}/{FOLDER}/report.csv", lines
    (local,) = [text for text in lines if text.startswith("Local copies not written: ")]
    assert "the local copies of the campaign report could not be written to " in local and "Not a directory" in local
    assert "DEPRECATION" not in run.stdout + run.stderr, run.stderr
