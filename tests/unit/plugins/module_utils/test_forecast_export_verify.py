# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The check in S3 of a forecast export: the part files of the job's name, their sizes and their encryption."""

from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export import normalize_job
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export_verify import split_s3_path
from ansible_collections.mailops.workmail.plugins.module_utils.forecast_export_verify import verify_export
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import FakeS3
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.campaign_fakes import s3_gateway
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.forecast_fakes import KMS_KEY_ARN

BUCKET = "example-forecast-exports"
NAME = "demand_2026_export_csv"
OTHER_KEY = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"


def job(path=f"s3://{BUCKET}/forecasts/", kms_key_arn=KMS_KEY_ARN):
    config = {"Path": path, "RoleArn": "arn:aws:iam::123456789012:role/r"}
    if kms_key_arn:
        config["KMSKeyArn"] = kms_key_arn
    return normalize_job({"ForecastExportJobName": NAME, "Destination": {"S3Config": config}, "Status": "ACTIVE"})


def part(stamp, number, folder="forecasts/"):
    return f"{folder}{NAME}_{stamp}_part{number}.csv"


def test_paths_split_into_bucket_and_folder():
    assert split_s3_path("s3://b/x/y") == ("b", "x/y/")
    assert split_s3_path("s3://b/") == ("b", "")
    assert split_s3_path("s3://b") == ("b", "")


def test_the_newest_exports_parts_are_checked_and_verified():
    s3 = FakeS3()
    s3.put_export(BUCKET, part("2026-11-30T08-00-00Z", 0), body=b"a,b\n1,2\n", kms_key_id=KMS_KEY_ARN)
    s3.put_export(BUCKET, part("2026-11-30T08-00-00Z", 1), body=b"a,b\n3,4\n", kms_key_id=KMS_KEY_ARN)
    s3.put_export(BUCKET, part("2026-11-01T08-00-00Z", 0), body=b"old", sse="AES256")
    s3.put_export(BUCKET, f"forecasts/{NAME}_notes.txt", body=b"not a part")
    s3.put_export(BUCKET, "forecasts/other_export_csv_2026-11-30T08-00-00Z_part0.csv", body=b"", sse=None)
    result = verify_export(s3_gateway(s3), job())
    assert result == {
        "verified": True,
        "parts": 2,
        "bytes": 16,
        "part_keys": [part("2026-11-30T08-00-00Z", 0), part("2026-11-30T08-00-00Z", 1)],
        "encryption": "aws:kms",
        "kms_key_arn": KMS_KEY_ARN,
        "older_parts": 1,
        "problems": [],
    }


def test_no_part_is_a_problem_naming_where_it_looked():
    result = verify_export(s3_gateway(FakeS3()), job())
    assert result["verified"] is False
    assert result["problems"] == [
        f"no part file <job name>_<yyyy-MM-ddTHH-mm-ssZ>_part<N> of the job was found under "
        f"s3://{BUCKET}/forecasts/{NAME}_"
    ]


def test_empty_and_wrongly_encrypted_parts_are_problems():
    s3 = FakeS3()
    s3.put_export(BUCKET, part("2026-11-30T08-00-00Z", 0), body=b"", kms_key_id=KMS_KEY_ARN)
    s3.put_export(BUCKET, part("2026-11-30T08-00-00Z", 1), body=b"x", kms_key_id=OTHER_KEY)
    s3.put_export(BUCKET, part("2026-11-30T08-00-00Z", 2), body=b"x", sse="AES256")
    result = verify_export(s3_gateway(s3), job())
    assert result["verified"] is False
    assert len(result["problems"]) == 3
    assert result["problems"][0].endswith("_part0.csv is empty")
    assert f"is encrypted under {OTHER_KEY}, not {KMS_KEY_ARN}" in result["problems"][1]
    assert "not encrypted with SSE-KMS (ServerSideEncryption 'AES256')" in result["problems"][2]
    assert result["encryption"] == "AES256, aws:kms"


def test_without_a_key_the_encryption_is_reported_not_required():
    s3 = FakeS3()
    s3.put_export(BUCKET, part("2026-11-30T08-00-00Z", 0, folder=""), body=b"x", sse="AES256")
    result = verify_export(s3_gateway(s3), job(path=f"s3://{BUCKET}/", kms_key_arn=None))
    assert result["verified"] is True
    assert result["encryption"] == "AES256"


def test_a_refusal_of_s3_is_a_problem():
    s3 = FakeS3()
    s3.fail("list_objects_v2", "AccessDenied", 403, times=5)
    result = verify_export(s3_gateway(s3), job())
    assert result["verified"] is False
    assert "S3 refused ListObjectsV2" in result["problems"][0]
    assert "s3:ListBucket" in result["problems"][0]
