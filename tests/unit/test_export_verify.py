# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deep verification (export_verify, and verify levels in campaign and manifest) against an in-process moto S3."""

import hashlib
import io
import json
import zipfile
from datetime import datetime
from datetime import timezone

import boto3
import botocore.exceptions
import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import export_verify as ev
from ansible_collections.mailops.workmail.plugins.module_utils import manifest as mf
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_CHOICES
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3BucketMissing
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_export_params
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_verify
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeCampaign
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import REGION
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from moto import mock_aws

ENTITY = "a11ce0d1-2b3c-4d5e-8f60-7a8b9c0d1e2f"
JOB_ID = "4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1"
FOLDER = f"{PREFIX}/{ENTITY}"
ZIP_KEY = f"{FOLDER}/{JOB_ID}.zip"
LOG_KEY = f"{FOLDER}/{JOB_ID}.log.json"
START = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
CAMPAIGN = "deep-1"


def request_key(request):
    """The object key of a request dict as ``before-call`` handlers see it (path-style or virtual-host URL)."""
    path = request["url_path"].split("?", 1)[0].lstrip("/")
    return path[len(BUCKET) + 1 :] if path.startswith(BUCKET + "/") else path


class Refusal:
    """A botocore ``before-call`` handler answering 403 AccessDenied to the requests ``matches(key)`` selects."""

    def __init__(self, matches):
        self.matches = matches
        self.refused = 0

    def __call__(self, params, **kwargs):
        if not self.matches(request_key(params)):
            return None
        self.refused += 1
        response = {
            "Error": {"Code": "AccessDenied", "Message": "User is not authorized to perform kms:Decrypt"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return Status(403), response


class Status:
    """The part of an HTTP response botocore reads from an answer given by an event handler."""

    def __init__(self, status_code):
        self.status_code = status_code
        self.headers = {}
        self.content = b""


class GetCounter:
    """Counts the GetObject calls (``before-parameter-build.s3.GetObject``), with their Key and Range."""

    def __init__(self, client):
        self.calls = []
        client.meta.events.register("before-parameter-build.s3.GetObject", self.seen)

    def seen(self, params, **kwargs):
        self.calls.append({"key": params.get("Key"), "range": params.get("Range")})

    def ranged(self, key=ZIP_KEY):
        return [call for call in self.calls if call["key"] == key and call["range"]]

    def full(self, key=ZIP_KEY):
        return [call for call in self.calls if call["key"] == key and not call["range"]]


@pytest.fixture(name="s3")
def s3_fixture():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def make_zip(files, directories=(), compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name in directories:
            archive.writestr(zipfile.ZipInfo(name.rstrip("/") + "/"), b"")
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def messages(count, size=200):
    return {
        f"Inbox/{number:05d}.eml": (f"Subject: message {number}\r\n\r\n".encode() + b"x" * size)
        for number in range(count)
    }


def export_log(body, total, **extra):
    document = {
        "jobId": JOB_ID,
        "entityId": ENTITY,
        "s3Path": f"{BUCKET}/{ZIP_KEY}",
        "totalMessages": total,
        "totalBytes": len(body),
        "totalFolders": 1,
        "totalNonExportableItems": 0,
        "sha384Hash": hashlib.sha384(body).hexdigest(),
        "startTime": "2026-11-22T12:00:00.000Z",
        "endTime": "2026-11-22T12:05:00.000Z",
    }
    document.update(extra)
    return (json.dumps(document, indent=2) + "\n").encode()


def put(s3, key, body):
    return s3.put_object(Bucket=BUCKET, Key=key, Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=KEY_ARN)["ETag"]


def put_export(s3, body, total, log_key=LOG_KEY, zip_key=ZIP_KEY, log=None):
    etag = put(s3, zip_key, body)
    if log_key:
        put(s3, log_key, log if log is not None else export_log(body, total))
    return etag


def verify(s3, body, etag=None, **kwargs):
    return ev.deep_verify(s3_gateway(s3), BUCKET, ZIP_KEY, size=len(body), etag=etag, job_id=JOB_ID, **kwargs)


# deep_verify


def test_matching_archive_and_log_verify(s3):
    body = make_zip(messages(25))
    etag = put_export(s3, body, 25)
    counter = GetCounter(s3)

    found = verify(s3, body, etag)

    assert found["verified"] is True, found
    assert found["problem"] is None
    assert found["sha384"] == hashlib.sha384(body).hexdigest()
    assert found["log_sha384"] == found["sha384"]
    assert found["archive_entries"] == 25
    assert found["log_messages"] == 25
    assert found["log_key"] == LOG_KEY
    assert found["downloaded_bytes"] == len(body)
    assert found["range_requests"] == 1
    assert len(counter.full()) == 1 and len(counter.ranged()) == 1
    assert [call["key"] for call in counter.calls].count(LOG_KEY) == 1


def test_a_log_of_the_administrator_guide_form_with_text_values_verifies(s3):
    body = make_zip(messages(76))
    guide = {
        "sha384Hash": hashlib.sha384(body).hexdigest(),
        "totalMessages": "76",
        "totalBytes": str(len(body)),
        "startTime": "1637105423000",
    }
    put_export(s3, body, None, log=json.dumps(guide).encode())

    found = verify(s3, body)

    assert found["outcome"] == "verified" and found["log_messages"] == 76, found


@pytest.mark.parametrize("total, outcome", [(12, "verified"), (9, "verified"), (10, "contradicted")])
def test_total_messages_may_count_calendar_items_or_messages_only(s3, total, outcome):
    files = dict(
        messages(9), **{"Calendar/00001.ics": b"BEGIN:VEVENT", "Calendar/00002.ics": b"x", "Notes/a.txt": b"y"}
    )
    body = make_zip(files)
    put_export(s3, body, total)

    found = verify(s3, body)

    assert (found["archive_entries"], found["archive_messages"]) == (12, 9)
    assert found["outcome"] == outcome, found
    if outcome == "contradicted":
        assert "holds 12 files, 9 of them messages, its export log" in found["problem"]
        assert "says totalMessages 10" in found["problem"]


def test_what_could_not_be_told_is_unchecked_and_what_disagrees_is_contradicted(s3):
    body = make_zip(messages(3))
    put_export(s3, body, 3, log_key=None)
    assert verify(s3, body)["outcome"] == "unchecked"  # no export log anywhere

    put(s3, LOG_KEY, json.dumps({"totalMessages": 3}).encode())
    found = verify(s3, body)
    assert found["outcome"] == "unchecked" and "has no sha384Hash" in found["problem"]

    put(s3, LOG_KEY, export_log(body, 3, sha384Hash="00" * 48))
    found = verify(s3, body)
    assert found["outcome"] == "contradicted" and found["verified"] is False


EMAIL = "alice@example.com"
HINTS = {"job_id": JOB_ID, "entity_id": ENTITY, "email": EMAIL, "started": "2020-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    "s3_path, key, found_by",
    [
        # S3Path names the archive itself, in any of its forms.
        (f"{BUCKET}/{ZIP_KEY}", ZIP_KEY, "s3_path"),
        (f"s3://{BUCKET}/{ZIP_KEY}", ZIP_KEY, "s3_path"),
        # S3Path names the folder the archive is in.
        (f"{BUCKET}/{FOLDER}/", ZIP_KEY, "s3_path_folder"),
        # S3Path names nothing useful; the archive is where the job id, the mailbox id or its email says.
        ("", f"{PREFIX}/{JOB_ID}.zip", "prefix"),
        (f"{BUCKET}/{PREFIX}", f"{PREFIX}/{EMAIL}/20261122T120000Z.zip", "email_folder"),
        (None, ZIP_KEY, "mailbox_folder"),
    ],
)
def test_the_archive_is_found_whatever_s3path_names(s3, s3_path, key, found_by):
    put(s3, key, make_zip(messages(2)))
    put(s3, f"{PREFIX}/someone-else@example.com/20261122T120000Z.zip", make_zip(messages(1)))

    found = ev.verify_object(s3_gateway(s3), s3_path, BUCKET, KEY_ARN, prefix=PREFIX, hints=HINTS)

    assert (found["outcome"], found["key"], found["found_by"]) == ("verified", key, found_by), found


def test_an_archive_written_before_the_job_started_is_not_its_export(s3):
    put(s3, f"{PREFIX}/{EMAIL}/20200101T000000Z.zip", make_zip(messages(2)))
    later = dict(HINTS, started="2999-01-01T00:00:00Z")

    found = ev.verify_object(s3_gateway(s3), f"{BUCKET}/{PREFIX}", BUCKET, KEY_ARN, prefix=PREFIX, hints=later)

    assert found["outcome"] == "unchecked" and found["verified"] is False
    assert "the layout of the export is not recognised" in found["problem"]
    assert f"s3://{BUCKET}/{PREFIX}/{ENTITY}/" in found["problem"]


def test_a_zip_s3path_with_nothing_there_or_near_is_contradicted(s3):
    found = ev.verify_object(s3_gateway(s3), f"{BUCKET}/{ZIP_KEY}", BUCKET, KEY_ARN, prefix=PREFIX, hints=HINTS)

    assert found["outcome"] == "contradicted" and found["problem"].startswith(f"no object at S3Path {BUCKET}/{ZIP_KEY}")


def test_tampered_archive_is_a_sha384_mismatch(s3):
    body = make_zip(messages(10))
    tampered = bytearray(body)
    tampered[len(body) // 3] ^= 0x01  # inside the stored data of a message: the central directory is intact
    put(s3, LOG_KEY, export_log(body, 10))
    put(s3, ZIP_KEY, bytes(tampered))

    found = verify(s3, bytes(tampered))

    assert found["verified"] is False
    assert "sha384 mismatch" in found["problem"]
    assert f"s3://{BUCKET}/{ZIP_KEY}" in found["problem"]
    assert found["sha384"] == hashlib.sha384(bytes(tampered)).hexdigest()
    assert found["log_sha384"] == hashlib.sha384(body).hexdigest()
    assert found["archive_entries"] == 10  # the count still agrees
    assert "entry count" not in found["problem"]


def test_entry_count_mismatch(s3):
    body = make_zip(messages(10))
    put_export(s3, body, 11)

    found = verify(s3, body)

    assert found["verified"] is False
    assert "sha384" not in found["problem"]
    assert "entry count mismatch" in found["problem"]
    assert "holds 10 files" in found["problem"] and "totalMessages 11" in found["problem"]
    assert found["archive_entries"] == 10 and found["log_messages"] == 11


def test_missing_log_is_a_problem_not_an_error(s3):
    body = make_zip(messages(3))
    put_export(s3, body, 3, log_key=None)
    put(s3, f"{FOLDER}/someone-else.log.json", export_log(body, 3))

    found = verify(s3, body)

    assert found["verified"] is False
    assert found["problem"].startswith(f"no export log found next to s3://{BUCKET}/{ZIP_KEY}; looked for ")
    for candidate in ev.log_candidates(ZIP_KEY):
        assert candidate in found["problem"]
    assert JOB_ID in found["problem"]
    assert found["sha384"] == hashlib.sha384(body).hexdigest()  # the archive was still hashed and counted
    assert found["archive_entries"] == 3
    assert found["log_key"] is None


def test_log_under_an_unexpected_name_is_found_by_listing(s3):
    body = make_zip(messages(4))
    put_export(s3, body, 4, log_key=None)
    document = json.loads(export_log(body, 4))
    renamed = {"SHA384HASH": document["sha384Hash"], "TotalMessages": "4", "JobID": JOB_ID}
    unexpected = f"{FOLDER}/export-report_{JOB_ID.upper()}.txt"
    put(s3, unexpected, json.dumps(renamed).encode())
    put(s3, f"{FOLDER}/{JOB_ID}-copy.zip", b"PK not a log")
    put(s3, f"{FOLDER}/notes-{JOB_ID}.json", b"not json at all")
    put(s3, f"{FOLDER}/other-job.log.json", export_log(b"other", 99))
    counter = GetCounter(s3)
    listings = []
    s3.meta.events.register("before-parameter-build.s3.ListObjectsV2", lambda params, **kwargs: listings.append(params))

    found = verify(s3, body)

    assert found["verified"] is True, found
    assert found["log_key"] == unexpected
    assert found["log_messages"] == 4
    assert len(listings) == 1
    assert listings[0]["Prefix"] == f"{FOLDER}/"
    read = [call["key"] for call in counter.calls]
    assert f"{FOLDER}/{JOB_ID}-copy.zip" not in read and f"{FOLDER}/other-job.log.json" not in read


def test_without_a_job_id_the_listing_looks_for_the_archive_name(s3):
    body = make_zip(messages(3))
    put_export(s3, body, 3, log_key=f"{FOLDER}/report-{JOB_ID}.json")

    found = ev.deep_verify(s3_gateway(s3), BUCKET, ZIP_KEY, size=len(body))

    assert found["verified"] is True, found
    assert found["log_key"] == f"{FOLDER}/report-{JOB_ID}.json"


def test_log_of_another_job_is_refused(s3):
    body = make_zip(messages(2))
    put_export(s3, body, 2, log=export_log(body, 2, jobId="another-job"))

    found = verify(s3, body)

    assert found["verified"] is False
    assert "the log of job another-job" in found["problem"]


@pytest.mark.parametrize("name", [f"{JOB_ID}.json", f"{JOB_ID}.zip.log", f"{JOB_ID}.log"])
def test_sibling_log_names(s3, name):
    body = make_zip(messages(2))
    put_export(s3, body, 2, log_key=f"{FOLDER}/{name}")
    listings = []
    s3.meta.events.register("before-parameter-build.s3.ListObjectsV2", lambda params, **kwargs: listings.append(params))

    found = verify(s3, body)

    assert found["verified"] is True, found
    assert found["log_key"] == f"{FOLDER}/{name}"
    assert listings == []


def test_directory_entries_are_not_counted(s3):
    body = make_zip(messages(6), directories=("Inbox", "Sent Items", "Calendar/"))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert len(archive.infolist()) == 9
    put_export(s3, body, 6)

    found = verify(s3, body)

    assert found["verified"] is True, found
    assert found["archive_entries"] == 6


def test_many_entries_with_few_ranged_gets(s3):
    body = make_zip(messages(2000, size=20), compression=zipfile.ZIP_DEFLATED)
    etag = put_export(s3, body, 2000)
    counter = GetCounter(s3)
    reader = ev.S3RangeReader(s3_gateway(s3), BUCKET, ZIP_KEY, etag=etag, block_size=64 * 1024)

    assert ev.count_archive_entries(reader) == 2000
    assert reader.size == len(body)
    assert 1 <= reader.requests <= 3
    assert len(counter.ranged()) == reader.requests
    assert reader.fetched_bytes < len(body)

    found = verify(s3, body, etag, block_size=64 * 1024)
    assert found["verified"] is True, found
    assert found["archive_entries"] == 2000
    assert found["range_requests"] <= 3


def _count_local(body, block_size=ev.CENTRAL_DIRECTORY_BLOCK):
    reader = io.BytesIO(body)
    reader.size = len(body)
    return ev.count_archive_entries(reader, block_size=block_size)


@pytest.mark.parametrize("block_size", [64, 4096, ev.CENTRAL_DIRECTORY_BLOCK])
def test_entries_are_counted_like_zipfile_counts_them_in_any_block_size(block_size):
    body = make_zip(messages(300, size=5), directories=["Inbox", "Sent Items", "Inbox/2026"])
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        expected = sum(1 for info in archive.infolist() if not info.is_dir())
    assert expected == 300
    assert _count_local(body, block_size) == 300


def test_archives_with_a_comment_or_data_in_front_are_counted():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.eml", b"a")
        archive.writestr("b.eml", b"b")
        archive.comment = b"PK\x05\x06 looks like an end record but is a comment"
    assert _count_local(buffer.getvalue()) == 2
    assert _count_local(b"#!/bin/sh\nexit 0\n" + make_zip(messages(3))) == 3


def test_a_zip64_archive_with_more_than_65535_entries_is_counted():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(70000):
            archive.writestr(f"m/{index}", b"")
    body = buffer.getvalue()
    assert b"PK\x06\x06" in body[-200:]  # zipfile wrote the zip64 end record
    assert _count_local(body, block_size=1024 * 1024) == 70000


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: body[:-30],  # the end record cut off
        lambda body: body[: len(body) // 2] + body[-22:],  # the central directory cut in half
        lambda body: b"not a zip at all" * 4,
    ],
)
def test_damaged_archives_are_bad_zip_files(damage):
    with pytest.raises(zipfile.BadZipFile):
        _count_local(damage(make_zip(messages(50))))


def test_large_archive_is_downloaded_in_chunks(s3):
    body = make_zip({f"Inbox/{number}.eml": bytes(range(256)) * 64 for number in range(40)})
    put_export(s3, body, 40)
    beats = []

    found = verify(s3, body, chunk_size=4096, progress=lambda: beats.append(1))

    assert found["verified"] is True, found
    assert len(beats) == -(-len(body) // 4096)


def test_denied_download_names_the_permissions(s3):
    body = make_zip(messages(2))
    put_export(s3, body, 2)
    refusal = Refusal(lambda key: key == ZIP_KEY)
    s3.meta.events.register("before-call.s3.GetObject", refusal)

    found = verify(s3, body)

    assert refusal.refused == 1
    assert found["verified"] is False
    assert "refused GetObject" in found["problem"]
    assert "kms:Decrypt" in found["problem"] and "s3:GetObject" in found["problem"]
    assert found["sha384"] is None


def test_a_ranged_read_timing_out_is_an_error_not_a_broken_archive(s3):
    body = make_zip(messages(3))
    put_export(s3, body, 3)

    def times_out(params, **kwargs):
        if request_key(params) == ZIP_KEY and "Range" in params.get("headers", {}):
            raise botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1")
        return None

    s3.meta.events.register("before-call.s3.GetObject", times_out)
    # Nothing is recorded as a problem of the archive: the pass fails, and a later pass checks the archive again.
    with pytest.raises(ev.RangeReadError, match="ranged GET of s3://"):
        verify(s3, body)


def test_denied_log_reads_and_listing_are_noted(s3):
    body = make_zip(messages(2))
    put_export(s3, body, 2)
    s3.meta.events.register("before-call.s3.GetObject", Refusal(lambda key: key != ZIP_KEY))
    s3.meta.events.register("before-call.s3.ListObjectsV2", Refusal(lambda key: True))

    found = verify(s3, body)

    assert found["verified"] is False
    assert found["problem"].startswith("no export log found next to")
    assert "S3 refused GetObject of" in found["problem"]
    assert "s3:ListBucket" in found["problem"]


def test_other_errors_propagate(s3):
    body = make_zip(messages(2))
    put_export(s3, body, 2)

    with pytest.raises(S3BucketMissing) as error:
        ev.deep_verify(s3_gateway(s3), "no-such-bucket-here", ZIP_KEY, size=len(body))
    assert error.value.code == "NoSuchBucket"
    assert "the export archive s3://no-such-bucket-here/" in error.value.message


def test_replaced_object_is_a_problem(s3):
    body = make_zip(messages(2))
    put_export(s3, body, 2)

    found = verify(s3, body, etag='"0123456789abcdef0123456789abcdef"')

    assert found["verified"] is False
    assert "was replaced while it was verified" in found["problem"]


def test_not_a_zip(s3):
    body = b"this is not a zip archive at all" * 10
    put_export(s3, body, 1)

    found = verify(s3, body)

    assert found["verified"] is False
    assert "is not a readable zip archive" in found["problem"]
    assert found["sha384"] == found["log_sha384"]


def test_interrupted_download_resumes_where_it_stopped(s3):
    body = make_zip(messages(30))
    put_export(s3, body, 30)

    class Interrupted:
        def __init__(self, inner):
            self.inner = inner

        def iter_chunks(self, chunk_size):
            for chunk in self.inner.iter_chunks(chunk_size):
                yield chunk
                break
            raise ev.botocore.exceptions.ResponseStreamingError(error="connection reset")

        def close(self):
            self.inner.close()

    class Flaky:
        def __init__(self, client):
            self.client = client
            self.requests = []

        def get_object(self, **kwargs):
            self.requests.append(kwargs.get("Range"))
            response = self.client.get_object(**kwargs)
            if len(self.requests) == 1:
                response["Body"] = Interrupted(response["Body"])
            return response

    flaky = Flaky(s3)
    digest, read = ev.sha384_of_object(s3_gateway(flaky), BUCKET, ZIP_KEY, size=len(body), chunk_size=1000)
    assert (digest, read) == (hashlib.sha384(body).hexdigest(), len(body))
    assert flaky.requests == [None, "bytes=1000-"]


# The pieces


def test_log_candidates():
    assert ev.log_candidates("p/e/j.zip") == [
        "p/e/j.log.json",
        "p/e/j.json",
        "p/e/j.zip.log",
        "p/e/j.zip.log.json",
        "p/e/j.log",
    ]
    assert ev.log_candidates("p/e/j.ZIP")[0] == "p/e/j.log.json"
    assert ev.log_candidates("p/e/j") == ["p/e/j.log.json", "p/e/j.json", "p/e/j.log"]


def test_range_reader_reads_and_seeks(s3):
    body = bytes(range(256)) * 40
    put(s3, "blob", body)
    reader = ev.S3RangeReader(s3_gateway(s3), BUCKET, "blob", block_size=1000, max_segments=2)
    assert reader.seekable() and reader.readable() and not reader.writable()
    assert reader.seek(0, io.SEEK_END) == len(body)
    assert reader.seek(-22, io.SEEK_END) == len(body) - 22
    assert reader.read() == body[-22:]
    assert reader.requests == 1
    reader.seek(-500, io.SEEK_END)
    assert reader.read(100) == body[-500:-400]
    assert reader.requests == 1  # served from the block fetched at the end
    reader.seek(10)
    assert reader.read(5) == body[10:15]
    assert reader.tell() == 15
    assert reader.seek(5, io.SEEK_CUR) == 20
    assert reader.read(3000) == body[20:3020]
    assert reader.read(0) == b""
    reader.seek(len(body) + 5)
    assert reader.read(10) == b""
    buffer = bytearray(4)
    reader.seek(1)
    assert reader.readinto(buffer) == 4 and bytes(buffer) == body[1:5]
    with pytest.raises(OSError):
        reader.seek(-1)
    with pytest.raises(ValueError):
        reader.seek(0, 7)
    reader.close()
    with pytest.raises(ValueError):
        reader.read(1)


# Verify levels in the manifest and the campaign


def test_verify_choices():
    assert VERIFY_CHOICES == ("basic", "deep", "none")
    for level in VERIFY_CHOICES:
        assert validate_verify(level) == level
    for wrong in (True, False, None, "full"):
        with pytest.raises(ParameterError):
            validate_verify(wrong)


def test_deep_is_a_valid_module_parameter():
    params = {
        "organization_id": ORG_ID,
        "campaign": CAMPAIGN,
        "role_arn": ROLE_ARN,
        "kms_key_arn": KEY_ARN,
        "s3_bucket": BUCKET,
        "s3_prefix": PREFIX,
        "max_concurrent_jobs": 10,
        "max_attempts": 3,
        "verify": "deep",
    }
    assert validate_organization_export_params(params, REGION)["verify"] == "deep"


def completed_manifest():
    manifest = mf.new_manifest(CAMPAIGN, ORG_ID, REGION, BUCKET, PREFIX, KEY_ARN, ROLE_ARN, START)
    mf.add_mailboxes(manifest, [{"id": ENTITY, "email": "alice@example.com", "name": "alice"}], START)
    entry = manifest["mailboxes"][ENTITY]
    entry["state"] = "COMPLETED"
    entry["attempts"] = [
        {"attempt": 1, "client_token": "t", "job_id": JOB_ID, "state": "COMPLETED", "s3_path": ZIP_KEY}
    ]
    entry["object"] = {
        "level": "basic",
        "key": ZIP_KEY,
        "size": 10,
        "etag": '"e"',
        "sse": "aws:kms",
        "kms_key_id": KEY_ARN,
        "verified": True,
        "sha384": None,
        "problem": None,
    }
    return manifest


def test_object_records_have_a_known_level():
    manifest = completed_manifest()
    assert mf.validate_manifest(manifest) is manifest
    assert mf.object_level(manifest["mailboxes"][ENTITY]["object"]) == "basic"
    assert mf.object_level(None) is None
    record = mf.record_object(manifest, ENTITY, START, level="deep", archive_entries=3)
    assert set(record) == set(mf.OBJECT_FIELDS)
    assert record["key"] == ZIP_KEY and record["verified"] is True and record["log_key"] is None
    for level in ("forensic", None):
        manifest["mailboxes"][ENTITY]["object"]["level"] = level
        with pytest.raises(mf.ManifestError, match="unknown verify level"):
            mf.validate_manifest(manifest)


def test_check_object_basic_then_deep(s3):
    body = make_zip(messages(5))
    put_export(s3, body, 5)
    manifest = completed_manifest()
    manifest["mailboxes"][ENTITY]["object"] = None

    fields, downloaded = ev.check_object(s3_gateway(s3), manifest, ENTITY, "basic", START)
    assert downloaded == 0
    assert fields["level"] == "basic" and fields["verified"] is True and fields["sha384"] is None
    assert fields["checked"] == "2026-11-22T12:00:00+00:00"

    fields, downloaded = ev.check_object(s3_gateway(s3), manifest, ENTITY, "deep", START)
    assert downloaded == len(body)
    assert fields["level"] == "deep" and fields["verified"] is True
    assert fields["sha384"] == hashlib.sha384(body).hexdigest()
    assert fields["archive_entries"] == 5 and fields["log_messages"] == 5 and fields["log_key"] == LOG_KEY
    assert set(fields) == set(mf.OBJECT_FIELDS)


def test_check_object_deep_skips_the_download_when_the_basic_check_fails(s3):
    body = make_zip(messages(5))
    s3.put_object(Bucket=BUCKET, Key=ZIP_KEY, Body=body)  # not SSE-KMS
    counter = GetCounter(s3)
    manifest = completed_manifest()

    fields, downloaded = ev.check_object(s3_gateway(s3), manifest, ENTITY, "deep", START)

    assert downloaded == 0 and counter.calls == []
    assert fields["verified"] is False and fields["level"] == "deep"
    assert "SSE-KMS" in fields["problem"]


class Campaign(FakeCampaign):
    """Three mailboxes (alice, bob, room1) of a fake WorkMail whose exports land in the moto S3."""

    def __init__(self, s3):
        super().__init__(s3, CAMPAIGN, START)
        self.bodies = {}

    def complete_running(self, tamper=None):
        for job in list(self.fake.jobs.values()):
            if job["State"] != "RUNNING":
                continue
            self.fake.set_job(job["JobId"], State="COMPLETED", EstimatedProgress=100, EndTime=self.fake.clock.now())
            count = 3 + len(self.bodies)
            body = make_zip(messages(count), directories=("Inbox",))
            stem = job["S3Path"][: -len(".zip")]
            put(self.s3, f"{stem}.log.json", export_log(body, count, jobId=job["JobId"]))
            if job["EntityId"] == tamper:
                body = body[:-30] + bytes(30)
            put(self.s3, job["S3Path"], body)
            self.bodies[job["EntityId"]] = body


def test_a_campaign_checked_basic_then_deep_is_deep_checked_once(s3):
    run = Campaign(s3)
    first = run.run(verify="basic")
    assert first["started"] == 3
    run.fake.clock.advance(minutes=10)
    run.complete_running()

    second = run.run(verify="basic")
    assert second["verify"] == "basic"
    assert second["checked_now"] == 3 and second["verified_now"] == 3 and second["downloaded_bytes"] == 0
    assert all(entry["object"]["level"] == "basic" for entry in run.manifest["mailboxes"].values())

    beats = []
    third = run.run(verify="deep", heartbeat=lambda: beats.append(1))
    assert third["checked_now"] == 3 and third["verified_now"] == 3, third["verification_problems"]
    assert third["downloaded_bytes"] == sum(len(body) for body in run.bodies.values())
    assert third["summary"]["verified"] == 3
    assert len(beats) >= 2  # between the objects (and after every chunk)
    for entity_id, entry in run.manifest["mailboxes"].items():
        record = entry["object"]
        assert record["level"] == "deep" and record["verified"] is True
        assert record["sha384"] == hashlib.sha384(run.bodies[entity_id]).hexdigest() == record["log_sha384"]
        assert record["archive_entries"] == record["log_messages"]

    fourth = run.run(verify="deep")
    assert fourth["checked_now"] == 0 and fourth["downloaded_bytes"] == 0
    fifth = run.run(verify="basic")
    assert fifth["checked_now"] == 0
    run.manifest, run.etag = run.store.load(CAMPAIGN, ORG_ID)
    assert run.manifest["mailboxes"][run.fake.users[0]["Id"]]["object"]["level"] == "deep"


def test_a_failed_deep_check_is_reported_once(s3):
    run = Campaign(s3)
    run.run(verify="deep")
    run.fake.clock.advance(minutes=10)
    bob = run.fake.users[1]["Id"]
    run.complete_running(tamper=bob)

    second = run.run(verify="deep")
    assert second["checked_now"] == 3 and second["verified_now"] == 2
    assert [problem["id"] for problem in second["verification_problems"]] == [bob]
    assert second["verification_problems"][0]["level"] == "deep"
    assert "sha384 mismatch" in second["verification_problems"][0]["problem"]
    assert run.manifest["mailboxes"][bob]["state"] == "COMPLETED"
    assert run.manifest["mailboxes"][bob]["object"]["verified"] is False
    assert second["summary"]["verified"] == 2 and second["summary"]["completed"] == 3

    third = run.run(verify="deep")
    assert third["checked_now"] == 0 and third["verification_problems"] == []
    assert third["summary"]["verified"] == 2


def test_verify_none_checks_nothing(s3):
    run = Campaign(s3)
    run.run(verify="none")
    run.fake.clock.advance(minutes=10)
    run.complete_running()
    heads = []
    s3.meta.events.register("before-parameter-build.s3.HeadObject", lambda params, **kwargs: heads.append(params))
    counter = GetCounter(s3)
    result = run.run(verify="none")
    assert result["verify"] == "none" and result["checked_now"] == 0
    assert result["summary"]["completed"] == 3 and result["summary"]["verified"] == 0
    assert all(entry["object"] is None for entry in run.manifest["mailboxes"].values())
    # No export object was looked at: neither a HeadObject nor a GetObject of anything but the manifest.
    assert heads == []
    assert all(call["key"].endswith("manifest.json") for call in counter.calls)
