# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The check in S3 of an ACTIVE forecast export job: its part files exist, are not empty and are encrypted with the
job's KMS key.

Amazon Forecast writes a job's export as part files named ``<job name>_<yyyy-MM-ddTHH-mm-ssZ>_part<N>`` under the
destination's path, with no log and no hash, so the check is what S3 says of each part: one ListObjectsV2 of the
path for the job's name (every page), then one HeadObject per part (size and SSE-KMS key, compared with
:func:`export_verify.same_kms_key`, the rule the mailbox exports are checked with). When a job of the same name was
exported before (deleted and created again), only the newest export's parts (the latest timestamp) are checked.

A refusal of S3 (403) is a problem of the result, not an exception; other S3 errors propagate as
:class:`~s3.S3Error`.
"""

import re

from ansible_collections.mailops.workmail.plugins.module_utils.export_verify import same_kms_key
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3AccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Missing

# What an object is to the collection (the ``what`` of the S3 gateway's calls and errors).
EXPORT_PART = "forecast export part"
EXPORT_PATH = "forecast export path"

# The rest of a part's key after ``<path><job name>_``: the timestamp, the part number and an optional extension.
PART_RE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}Z)_part([0-9]+)(?:\.[A-Za-z0-9.]+)?\Z")
PART_NAME = "<job name>_<yyyy-MM-ddTHH-mm-ssZ>_part<N>"


def split_s3_path(path):
    """``(bucket, key prefix)`` of an ``s3://bucket/prefix`` path; the prefix ends with ``/`` unless empty."""
    rest = (path or "")[len("s3://") :] if (path or "").startswith("s3://") else (path or "")
    bucket, dummy, prefix = rest.partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def list_parts(s3, bucket, prefix, name):
    """The part files of job ``name`` under ``prefix``: ``(parts of the newest export, older parts)``, each part
    ``{"key", "size", "timestamp", "number"}``, sorted by part number."""
    start = f"{prefix}{name}_"
    found = []
    token = None
    while True:
        objects, token = s3.list_objects(EXPORT_PATH, bucket, start, continuation_token=token)
        for item in objects:
            match = PART_RE.match(item["Key"][len(start) :])
            if match:
                found.append(
                    {
                        "key": item["Key"],
                        "size": item.get("Size") or 0,
                        "timestamp": match.group(1),
                        "number": int(match.group(2)),
                    }
                )
        if not token:
            break
    newest = max((part["timestamp"] for part in found), default=None)
    parts = sorted((part for part in found if part["timestamp"] == newest), key=lambda part: part["number"])
    return parts, [part for part in found if part["timestamp"] != newest]


def _encryption_problem(uri, answer, kms_key_arn):
    sse = answer.get("ServerSideEncryption")
    if kms_key_arn and sse != "aws:kms":
        return f"{uri} is not encrypted with SSE-KMS (ServerSideEncryption {sse!r})"
    if kms_key_arn and not same_kms_key(answer.get("SSEKMSKeyId"), kms_key_arn):
        return f"{uri} is encrypted under {answer.get('SSEKMSKeyId')}, not {kms_key_arn}"
    return None


def _one_or_all(values):
    """The value when every part has the same one, else the distinct values joined with ``, `` (None when none)."""
    distinct = sorted({value for value in values if value})
    return ", ".join(distinct) if distinct else None


def _check_parts(s3, bucket, parts, kms_key_arn, result):
    """HeadObject of every part: sizes, encryption and keys go into ``result``, what is wrong into its problems."""
    sses, keys = [], []
    for part in parts:
        uri = f"s3://{bucket}/{part['key']}"
        try:
            answer = s3.head(EXPORT_PART, bucket, part["key"])
        except S3AccessDenied as error:
            result["problems"].append(f"S3 refused HeadObject of {uri} ({error.code}); the check needs s3:GetObject")
            continue
        except S3Missing:
            result["problems"].append(f"{uri} disappeared while it was checked")
            continue
        size = answer.get("ContentLength", part["size"]) or 0
        result["bytes"] += size
        if not size:
            result["problems"].append(f"{uri} is empty")
        problem = _encryption_problem(uri, answer, kms_key_arn)
        if problem:
            result["problems"].append(problem)
        sses.append(answer.get("ServerSideEncryption"))
        keys.append(answer.get("SSEKMSKeyId"))
    result["encryption"] = _one_or_all(sses)
    result["kms_key_arn"] = _one_or_all(keys)


def verify_export(s3, job):
    """What S3 shows of the export of ``job`` (a normalized ACTIVE job): ``{"verified", "parts", "bytes", "part_keys",
    "encryption", "kms_key_arn", "older_parts", "problems"}``.

    ``parts`` counts the part files of the newest export of the job's name under its path, ``bytes`` their sizes,
    ``part_keys`` their keys; ``encryption`` and ``kms_key_arn`` are what S3 reports for them (joined with ``, `` when
    the parts differ). ``problems`` says what is wrong: no part file, an empty part, a part not encrypted with
    SSE-KMS under the job's KMS key (when the job has one), or S3 refusing to show them. ``verified`` is True when
    there is none.
    """
    config = job["destination"]["s3_config"]
    bucket, prefix = split_s3_path(config["path"])
    name = job["forecast_export_job_name"]
    result = {"verified": False, "parts": 0, "bytes": 0, "part_keys": [], "encryption": None, "kms_key_arn": None}
    result.update(older_parts=0, problems=[])
    try:
        parts, older = list_parts(s3, bucket, prefix, name)
    except S3AccessDenied as error:
        result["problems"].append(
            f"S3 refused ListObjectsV2 of s3://{bucket}/{prefix} ({error.code}); the check needs s3:ListBucket"
        )
        return result
    result.update(parts=len(parts), part_keys=[part["key"] for part in parts], older_parts=len(older))
    if not parts:
        where = f"s3://{bucket}/{prefix}{name}_"
        result["problems"].append(f"no part file {PART_NAME} of the job was found under {where}")
        return result
    _check_parts(s3, bucket, parts, config.get("kms_key_arn"), result)
    result["verified"] = not result["problems"]
    return result
