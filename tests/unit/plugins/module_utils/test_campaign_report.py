# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The campaign's report: its rows and CSV (``_campaign.report_rows``), its page (``_campaign.report``) and when and
where a pass writes it (``_campaign.report_publish``)."""

import csv
import io
import json
import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import DestinationFaultError
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.executor import SavedManifest
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import points
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.history import record_point
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report import render_html
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_page import CONTENT_SECURITY_POLICY
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_page import SCRIPT
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_page import STYLE
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_page import csp_hash
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import CHECK_MODE
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import EVERY_PASS
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import FINISHED
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import FIRST
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import LOCAL_ONLY
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import NOT_DUE
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import UNCHANGED
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import failed_pass_report
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import publish
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import report_due
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import report_keys
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_publish import scaled_interval
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import COLUMNS
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import mailbox_rows
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import render_csv
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import safe_cell
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import run_organization_pass
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import add_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import mark_destination_fault
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import new_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_job
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_object
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import record_start
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import ManifestStore
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import manifest_key
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.times import iso8601
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_export_params
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET as FAKE_BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN as FAKE_KEY
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID as FAKE_ORG
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX as FAKE_PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import REGION as FAKE_REGION
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN as FAKE_ROLE
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import FakeClock
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
ORG = "m-" + "0" * 32
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/workmail-export"
BUCKET = "exports"
PREFIX = "workmail/"
CAMPAIGN = "report-1"
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def campaign():
    """A manifest of five mailboxes: verified, contradicted, running, given up (after a destination fault) and one
    pending whose name is hostile markup and whose email starts like a formula."""
    manifest = new_manifest(CAMPAIGN, ORG, "us-east-1", BUCKET, PREFIX, KEY, ROLE, T0)
    add_mailboxes(
        manifest,
        [
            {"id": "m-ok", "email": "ok@example.com", "name": "ok", "size_mb": 100.0},
            {"id": "m-bad", "email": "bad@example.com", "name": "bad", "size_mb": 50.0},
            {"id": "m-run", "email": "run@example.com", "name": "run", "size_mb": 30.0},
            {"id": "m-lost", "email": "lost@example.com", "name": "lost", "size_mb": 20.0},
            {"id": "m-evil", "email": '=HYPERLINK("http://x")@example.com', "name": HOSTILE, "size_mb": 10.0},
        ],
    )
    for entity_id in ("m-ok", "m-bad", "m-run", "m-lost"):
        record_start(manifest, entity_id, 1, f"token-{entity_id}", f"job-{entity_id}", T0)
    for entity_id in ("m-ok", "m-bad"):
        raw = {"JobId": f"job-{entity_id}", "State": "COMPLETED", "StartTime": T0, "EndTime": T0 + timedelta(hours=1)}
        raw["S3Path"] = f"{BUCKET}/{PREFIX}{entity_id}/job-{entity_id}.zip"
        record_job(manifest, entity_id, 1, raw, T0 + timedelta(hours=1))
    record_object(
        manifest,
        "m-ok",
        T0,
        key=f"{PREFIX}m-ok/job-m-ok.zip",
        size=1234,
        kms_key_id=KEY,
        outcome="verified",
        verified=True,
        level="basic",
    )
    record_object(
        manifest,
        "m-bad",
        T0,
        key=f"{PREFIX}m-bad/job-m-bad.zip",
        size=0,
        outcome="contradicted",
        level="basic",
        problem="-the object is empty",
    )
    record_job(manifest, "m-lost", 1, {"JobId": "job-m-lost", "State": "FAILED", "ErrorInfo": "no access"}, T0, 1)
    mark_destination_fault(manifest, "m-lost", 1, max_attempts=0)
    return manifest


def test_report_keys_are_next_to_the_manifest():
    html_key, csv_key = report_keys(PREFIX, CAMPAIGN)
    folder = manifest_key(PREFIX, CAMPAIGN).rsplit("/", 1)[0]
    assert (html_key, csv_key) == (f"{folder}/report.html", f"{folder}/report.csv")
    assert report_keys("", CAMPAIGN) == (
        f"mailops-campaigns/{CAMPAIGN}/report.html",
        f"mailops-campaigns/{CAMPAIGN}/report.csv",
    )


def test_cells_a_spreadsheet_would_read_as_formulas_are_quoted():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("alice@example.com") == "alice@example.com"
    assert (safe_cell(None), safe_cell(12.5), safe_cell(3), safe_cell(True)) == ("", 12.5, 3, "true")


def test_the_csv_parses_back_to_the_manifest():
    manifest = campaign()
    parsed = list(csv.DictReader(io.StringIO(render_csv(mailbox_rows(manifest)).decode("utf-8"))))
    assert tuple(parsed[0].keys()) == COLUMNS
    by_id = {row["id"]: row for row in parsed}
    assert set(by_id) == set(manifest["mailboxes"])
    for entity_id, entry in manifest["mailboxes"].items():
        row = by_id[entity_id]
        assert row["state"] == entry["state"]
        assert float(row["size_mb"]) == entry["size_mb"]
        assert int(row["attempts"]) == len(entry["attempts"])
        assert row["job_id"] == (entry["attempts"][-1]["job_id"] if entry["attempts"] else "")
    assert by_id["m-ok"]["s3_uri"] == f"s3://{BUCKET}/{PREFIX}m-ok/job-m-ok.zip"
    assert by_id["m-ok"]["encryption_key"] == KEY and by_id["m-ok"]["object_size"] == "1234"
    assert (by_id["m-ok"]["verification_level"], by_id["m-ok"]["verification_outcome"]) == ("basic", "verified")
    assert by_id["m-bad"]["problem"] == "'-the object is empty"
    assert by_id["m-lost"]["problem"] == "no access"
    assert by_id["m-evil"]["email"].startswith("'=HYPERLINK")
    assert by_id["m-evil"]["name"] == HOSTILE


def test_rows_tell_the_status_of_each_mailbox():
    rows = {row["id"]: row for row in mailbox_rows(campaign(), blocked=["m-evil"])}
    assert {entity_id: row["status"] for entity_id, row in rows.items()} == {
        "m-ok": "verified",
        "m-bad": "contradicted",
        "m-run": "running",
        "m-lost": "given_up",
        "m-evil": "blocked_24h",
    }
    assert rows["m-lost"]["destination_fault"] is True and rows["m-ok"]["destination_fault"] is False


def page(manifest=None, **context):
    manifest = manifest or campaign()
    context.setdefault("generated", "2026-12-01T09:00:00Z")
    return render_html(manifest, mailbox_rows(manifest), context).decode("utf-8")


def test_the_page_escapes_what_aws_and_the_directory_say_and_loads_nothing():
    html = page()
    assert HOSTILE not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<script>") == 1
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html), "the page loads or links outside itself"
    assert "@import" not in html and "url(" not in html
    assert f'content="{CONTENT_SECURITY_POLICY}"' in html
    assert csp_hash(SCRIPT) in CONTENT_SECURITY_POLICY and csp_hash(STYLE) in CONTENT_SECURITY_POLICY
    assert f"<script>{SCRIPT}</script>" in html and f"<style>{STYLE}</style>" in html


def test_the_page_puts_what_needs_attention_first_then_the_counts():
    html = page(failure="job job-x of mailbox m-lost FAILED: <role> refused")
    order = [
        html.index(marker)
        for marker in ('id="attention"', 'id="counts"', 'id="eta"', 'id="progress"', 'id="mailboxes"')
    ]
    assert order == sorted(order)
    attention = html[html.index('id="attention"') : html.index('id="counts"')]
    assert "The last pass failed" in attention and "&lt;role&gt; refused" in attention
    assert "Destination fault" in attention and "lost@example.com" in attention
    assert "1 mailbox(es) given up" in attention and "no access" in attention
    assert "1 verification(s) contradicted" in attention and "-the object is empty" in attention
    assert re.search(r'id="count-verified">.*?data-count="1"', html)
    assert re.search(r'id="count-total".*?data-count="5"', html)
    assert html.count('<tr data-status="') == 5
    # Without its script the page shows every row and no filter controls (they would do nothing).
    assert '<form id="controls" hidden' in html and "<tr hidden" not in html and 'hidden=""' not in html
    assert "210 MB" in html and "150 of 210 MB exported" in html


def test_a_calm_campaign_says_nothing_needs_attention_and_a_late_one_warns():
    manifest = campaign()
    for entity_id in ("m-bad", "m-lost"):
        del manifest["mailboxes"][entity_id]
    assert "Nothing needs attention." in page(manifest)
    eta = {
        "basis": "few_jobs",
        "basis_text": "from 2 completed jobs",
        "eta": "2027-04-10T00:00:00Z",
        "early": "2027-03-01T00:00:00Z",
        "late": "2027-05-01T00:00:00Z",
        "deadline": "2027-03-31T00:00:00Z",
        "deadline_with_margin": "2027-03-17T00:00:00Z",
        "margin_days": 14,
        "at_risk": True,
        "warning": "the late end passes the deadline",
        "advice": ["raise max_concurrent_jobs to 10"],
    }
    html = page(manifest, eta=eta)
    assert "Nothing needs attention." not in html
    attention = html[html.index('id="attention"') : html.index('id="counts"')]
    assert "The deadline is at risk" in attention and "raise max_concurrent_jobs to 10" in attention
    assert "Between <strong>2027-03-01T00:00:00Z</strong> and <strong>2027-05-01T00:00:00Z</strong>" in html
    assert 'id="eta-warning"' in html


def test_the_chart_has_a_text_alternative_and_its_data():
    manifest = campaign()
    assert "No progress recorded yet." in page(manifest)
    record_point(manifest, T0, False)
    record_point(manifest, T0 + timedelta(hours=2), False)
    html = page(manifest, history=points(manifest))
    assert '<svg class="chart"' in html and 'role="img"' in html and 'aria-labelledby="chart-title chart-desc"' in html
    assert '<title id="chart-title">' in html and '<desc id="chart-desc">' in html
    assert "<polyline" in html and "The chart's data" in html
    assert html.count("<tr><td>2026-12-01T") == 2


def test_two_chart_lines_on_the_same_points_both_show():
    manifest = campaign()
    for entity_id in ("m-bad", "m-run", "m-lost", "m-evil"):
        del manifest["mailboxes"][entity_id]  # one mailbox, completed: both shares are 100 % at both points
    record_point(manifest, T0, False)
    record_point(manifest, T0 + timedelta(hours=2), False)
    svg = page(manifest, history=points(manifest)).split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    lines = re.findall(r'<polyline points="([^"]+)"[^>]*>', svg)
    assert len(lines) == 2 and lines[0] == lines[1]  # they coincide ...
    assert svg.count('stroke-dasharray="8 5"') == 1  # ... but one is dashed
    assert svg.count("<circle ") == 2 and svg.count("<rect ") == 2  # and each point has a marker of its series
    html = page(manifest, history=points(manifest))
    assert '<span id="legend-mailboxes">100 % (1 of 1)</span>' in html
    assert '<span id="legend-megabytes">100 % (100 of 100)</span>' in html


def test_the_mailbox_table_scrolls_in_its_own_box():
    assert ".wide { overflow: auto; max-width: 100%; max-height: 80vh;" in STYLE
    assert '<div class="wide"><table id="mailbox-table">' in page(campaign())


def test_a_passed_deadline_is_said_so_and_a_done_campaign_is_said_once():
    eta = {
        "basis": "few_jobs",
        "basis_text": "from 2 completed jobs",
        "eta": "2026-12-10T00:00:00Z",
        "early": "2026-12-09T00:00:00Z",
        "late": "2026-12-11T00:00:00Z",
        "deadline": "2026-12-01T00:00:00Z",
        "deadline_with_margin": "2026-11-17T00:00:00Z",
        "margin_days": 14,
        "at_risk": True,
        "deadline_passed": True,
        "warning": "the deadline 2026-12-01T00:00:00Z has passed (0.3 days ago)",
        "advice": [],
    }
    attention = page(campaign(), eta=eta).split('id="attention"', 1)[1].split('id="counts"', 1)[0]
    assert "<h3>The deadline has passed</h3>" in attention and "at risk" not in attention
    done = {
        "basis": "done",
        "basis_text": "the campaign is done: no mailbox is pending, running or to be retried",
        "eta": "2026-12-01T09:00:00Z",
        "early": "2026-12-01T09:00:00Z",
        "late": "2026-12-01T09:00:00Z",
        "at_risk": False,
    }
    section = page(campaign(), eta=done).split('id="eta"', 1)[1].split("</section>", 1)[0]
    assert "The campaign is done, the last export ended at 2026-12-01T09:00:00Z." in section
    assert "the campaign is done: no mailbox" not in section


# When and where a pass writes it


class Pass:
    """A saved manifest in a FakeS3, and ``publish`` of its report."""

    def __init__(self, tmp_path=None, **params):
        self.s3 = FakeS3()
        self.store = ManifestStore(s3_gateway(self.s3), BUCKET, manifest_key(PREFIX, CAMPAIGN))
        manifest = campaign()
        self.record = SavedManifest(self.store, manifest, None)
        self.record.save()
        self.params = {"s3_bucket": BUCKET, "s3_prefix": PREFIX, "campaign": CAMPAIGN}
        self.params.update(params)
        self.html_key, self.csv_key = report_keys(PREFIX, CAMPAIGN)

    def publish(self, moment, finished=None, failure=None):
        view = {"blocked": (), "eta": None, "finished": finished, "failure": failure}
        return publish(s3_gateway(self.s3), self.record, self.params, moment, view)

    def puts(self, key):
        return [kwargs for name, kwargs in self.s3.calls if name == "put_object" and kwargs["Key"] == key]

    def body(self, key):
        return self.s3.objects[(BUCKET, key)]["Body"]


def test_the_first_pass_writes_both_files_encrypted_under_the_campaign_key():
    run = Pass()
    found = run.publish(T0)
    assert found["written"] is True and found["reason"] == FIRST and found["error"] is None
    assert found["html"] == f"s3://{BUCKET}/{run.html_key}" and found["csv"] == f"s3://{BUCKET}/{run.csv_key}"
    for key, content_type in ((run.html_key, "text/html; charset=utf-8"), (run.csv_key, "text/csv; charset=utf-8")):
        (put,) = run.puts(key)
        assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == KEY
        assert put["ContentType"] == content_type
    assert run.body(run.html_key).startswith(b"<!DOCTYPE html>")
    stored = json.loads(run.body(manifest_key(PREFIX, CAMPAIGN)))
    assert stored["report"]["written"] == "2026-12-01T08:00:00+00:00" and len(stored["report"]["digest"]) == 64


def test_later_passes_write_only_after_the_interval_and_only_what_changed():
    run = Pass(report_interval=600)
    run.publish(T0)
    early = run.publish(T0 + timedelta(seconds=599))
    assert early["written"] is False and early["reason"] == NOT_DUE
    unchanged = run.publish(T0 + timedelta(seconds=700))
    assert unchanged["written"] is False and unchanged["reason"] == UNCHANGED
    record_job(run.record.manifest, "m-run", 1, {"JobId": "job-m-run", "State": "COMPLETED"}, T0)
    later = run.publish(T0 + timedelta(seconds=700))
    assert later["written"] is True and later["reason"] == INTERVAL
    assert len(run.puts(run.html_key)) == 2 and len(run.puts(run.csv_key)) == 2
    run.record.manifest["mailboxes"]["m-evil"]["state"] = "SKIPPED"
    assert run.publish(T0 + timedelta(seconds=800))["written"] is False
    done = run.publish(T0 + timedelta(seconds=800), finished=FINISHED)
    assert done["written"] is True and done["reason"] == FINISHED


def test_a_large_campaign_reports_proportionally_less_often():
    assert scaled_interval(600, 150) == 600
    assert scaled_interval(600, 1000) == 600
    assert scaled_interval(600, 10000) == 6000
    assert scaled_interval(0, 10000) == 0
    manifest = {"mailboxes": {f"m-{number}": {} for number in range(5000)}, "report": {"written": iso8601(T0)}}
    assert report_due(manifest, T0 + timedelta(seconds=2999), 600, None) == (False, NOT_DUE)
    assert report_due(manifest, T0 + timedelta(seconds=3000), 600, None) == (True, INTERVAL)
    assert report_due(manifest, T0 + timedelta(seconds=60), 600, FINISHED) == (True, FINISHED)


def test_report_interval_zero_writes_every_pass_that_changed_something():
    run = Pass(report_interval=0)
    run.publish(T0)
    run.record.manifest["mailboxes"]["m-evil"]["state"] = "SKIPPED"
    assert run.publish(T0 + timedelta(seconds=1))["reason"] == EVERY_PASS
    assert run.publish(T0 + timedelta(seconds=2))["reason"] == UNCHANGED


def test_local_copies_are_written_with_the_report_and_when_missing(tmp_path):
    run = Pass(report_local_dir=str(tmp_path / "reports"))
    found = run.publish(T0)
    assert found["local_html"] == str(tmp_path / "reports" / "report.html")
    assert (tmp_path / "reports" / "report.csv").read_bytes() == run.body(run.csv_key)
    assert (tmp_path / "reports" / "report.html").read_bytes() == run.body(run.html_key)
    (tmp_path / "reports" / "report.html").unlink()
    again = run.publish(T0 + timedelta(seconds=5))
    assert again["written"] is False and again["reason"] == LOCAL_ONLY and again["local_written"] is True
    assert (tmp_path / "reports" / "report.html").exists() and len(run.puts(run.html_key)) == 1


def test_a_local_copy_that_cannot_be_written_leaves_the_s3_report_written_and_noted(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    run = Pass(report_local_dir=str(blocker / "reports"))
    found = run.publish(T0, finished=FINISHED)
    # S3: written, noted in the manifest, for the reason it was due.
    assert found["written"] is True and found["error"] is None and found["reason"] == FIRST
    assert len(run.puts(run.html_key)) == 1 and len(run.puts(run.csv_key)) == 1
    stored = json.loads(run.body(manifest_key(PREFIX, CAMPAIGN)))
    assert stored["report"]["written"] == iso8601(T0)
    # Local: not written, says why, and lists no copy that does not exist.
    assert found["local_written"] is False and "Not a directory" in found["local_error"]
    assert found["local_error"].startswith("the local copies of the campaign report could not be written to ")
    assert found["local_html"] is None and found["local_csv"] is None
    # The next pass retries the local copies only (S3 has this report already).
    again = run.publish(T0 + timedelta(seconds=5))
    assert again["written"] is False and again["reason"] == LOCAL_ONLY and again["local_error"]
    assert len(run.puts(run.html_key)) == 1


def test_an_s3_report_that_fails_still_writes_the_local_copies(tmp_path):
    run = Pass(report_local_dir=str(tmp_path))
    run.s3.fail("put_object", "AccessDenied", 403, times=2)
    found = run.publish(T0)
    assert found["written"] is False and "could not be written to S3" in found["error"]
    assert found["local_written"] is True and found["local_error"] is None
    assert found["local_html"] == str(tmp_path / "report.html") and (tmp_path / "report.csv").is_file()
    assert "report" not in run.record.manifest


def test_a_report_s3_refuses_does_not_fail_the_pass():
    run = Pass()
    run.s3.fail("put_object", "AccessDenied", 403, times=2)
    found = run.publish(T0)
    assert found["written"] is False and "campaign report" in found["error"] and "AccessDenied" in found["error"]
    assert "report" not in run.record.manifest


def test_a_pass_the_destination_stopped_reports_the_fault():
    run = Pass()
    run.publish(T0)
    error = DestinationFaultError("job job-m-lost of mailbox m-lost FAILED: KMS key disabled", ["m-lost"])
    found = failed_pass_report(s3_gateway(run.s3), run.record, run.params, T0 + timedelta(seconds=10), error)
    assert found["written"] is True
    html = run.body(run.html_key).decode("utf-8")
    assert "The last pass failed" in html and "KMS key disabled" in html
    assert failed_pass_report(s3_gateway(run.s3), run.record, run.params, T0, ValueError("other")) is None


# Through the module's pass


def organization(**params):
    """alice, bob and room1 of a fake WorkMail, a FakeS3, and run(check_mode=False) of the module's pass."""
    fake = standard_fake(clock=FakeClock(T0))
    s3 = FakeS3()
    checked = validate_organization_export_params(
        dict(
            organization_id=FAKE_ORG,
            campaign=CAMPAIGN,
            role_arn=FAKE_ROLE,
            kms_key_arn=FAKE_KEY,
            s3_bucket=FAKE_BUCKET,
            s3_prefix=FAKE_PREFIX,
            lock_owner="report-test",
            **params,
        ),
        FAKE_REGION,
    )

    def run(check_mode=False):
        client = WorkMailClient(fake, RetryPolicy(retries=2, delay=0, max_delay=0))
        return run_organization_pass(
            client, s3_gateway(s3), checked, check_mode=check_mode, now=fake.clock.now, region=FAKE_REGION
        )

    return fake, s3, run


def test_check_mode_writes_no_report_and_says_where_it_would_be():
    dummy, s3, run = organization()
    report = run(check_mode=True)["report"]
    html_key, csv_key = report_keys(FAKE_PREFIX, CAMPAIGN)
    assert report["written"] is False and report["reason"] == CHECK_MODE
    assert (report["html_key"], report["csv_key"]) == (html_key, csv_key)
    assert s3.objects == {}


def test_the_module_pass_writes_the_report_under_its_lock_and_the_next_pass_waits_for_the_interval():
    fake, s3, run = organization()
    first = run()
    html_key, dummy = report_keys(FAKE_PREFIX, CAMPAIGN)
    assert first["report"]["written"] is True and (FAKE_BUCKET, html_key) in s3.objects
    lock = manifest_key(FAKE_PREFIX, CAMPAIGN).replace("manifest.json", "lock.json")
    calls = [(name, kwargs.get("Key")) for name, kwargs in s3.calls]
    assert calls.index(("put_object", html_key)) < calls.index(("delete_object", lock))  # under the lock
    fake.clock.advance(seconds=30)
    second = run()
    assert second["report"]["written"] is False and second["report"]["reason"] == NOT_DUE
