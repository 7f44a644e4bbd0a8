# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""s3_lifecycle: rule documents, merging one rule into a configuration, and the S3 calls (against a fake client)."""

import copy
import datetime

import botocore.exceptions
import pytest
from ansible_collections.mailops.workmail.plugins.module_utils import s3_lifecycle
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3AccessDenied
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Gateway
from ansible_collections.mailops.workmail.plugins.module_utils.s3_lifecycle import BucketNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.s3_lifecycle import desired_rule
from ansible_collections.mailops.workmail.plugins.module_utils.s3_lifecycle import merge_rule
from ansible_collections.mailops.workmail.plugins.module_utils.s3_lifecycle import normalize_rule

RULE_ID = "mailops-workmail-expiration"
BUCKET = "example-workmail-exports"

OTHER = {
    "ID": "archive-logs",
    "Status": "Enabled",
    "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "class", "Value": "archive"}]}},
    "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
}
THIRD = {"ID": "tmp", "Status": "Disabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}


def ours(days=30, prefix="workmail/example/", **extra):
    return desired_rule(RULE_ID, prefix, days, **extra)


# desired_rule


def test_desired_rule_minimal():
    assert desired_rule(RULE_ID, "", 7) == {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": 7},
    }


def test_desired_rule_with_every_action():
    rule = desired_rule(RULE_ID, "p/", 90, noncurrent_expiration_days=7, abort_incomplete_multipart_upload_days=1)
    assert rule == {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": "p/"},
        "Expiration": {"Days": 90},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


# normalize_rule


@pytest.mark.parametrize(
    "stored",
    [
        # What the module writes, and what moto 5.2.5 and S3 return for it.
        {"Expiration": {"Days": 30}, "ID": RULE_ID, "Filter": {"Prefix": ""}, "Status": "Enabled"},
        # An empty filter applies to every object, like an empty prefix.
        {"Expiration": {"Days": 30}, "ID": RULE_ID, "Filter": {}, "Status": "Enabled"},
        # The older schema: a top-level Prefix and no Filter.
        {"Expiration": {"Days": 30}, "ID": RULE_ID, "Prefix": "", "Status": "Enabled"},
        # A conjunction of a prefix only.
        {"Expiration": {"Days": 30}, "ID": RULE_ID, "Filter": {"And": {"Prefix": ""}}, "Status": "Enabled"},
        # Fields that mean nothing for the comparison: a false delete-marker flag, None, empty actions, strings.
        {
            "Expiration": {"Days": "30", "ExpiredObjectDeleteMarker": False},
            "ID": RULE_ID,
            "Filter": {"Prefix": None},
            "Status": "Enabled",
            "Transitions": [],
            "NoncurrentVersionTransitions": None,
            "SomethingS3Adds": "ignored",
        },
    ],
)
def test_normalize_rule_equivalent_shapes(stored):
    assert normalize_rule(stored) == normalize_rule(ours(prefix=""))
    assert normalize_rule(stored) == {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": 30},
    }


def test_normalize_rule_keeps_what_matters():
    assert normalize_rule({}) == {}
    assert normalize_rule(None) == {}
    normalized = normalize_rule(OTHER)
    assert normalized["Filter"] == OTHER["Filter"]
    assert normalized["Transitions"] == OTHER["Transitions"]
    assert normalize_rule(dict(THIRD, Status="Enabled")) != normalize_rule(THIRD)
    assert normalize_rule({"ID": "x", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}}) != (
        normalize_rule({"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}})
    )


def test_normalize_rule_does_not_modify_its_argument():
    stored = {"Expiration": {"Days": "30", "ExpiredObjectDeleteMarker": False}, "ID": RULE_ID, "Prefix": "a/"}
    original = copy.deepcopy(stored)
    normalize_rule(stored)
    assert stored == original


# merge_rule: present


def test_add_to_no_configuration():
    changed, rules, before, after = merge_rule([], RULE_ID, ours())
    assert changed is True
    assert rules == [ours()]
    assert before == {}
    assert after == ours()


def test_add_appends_and_keeps_other_rules():
    existing = [OTHER, THIRD]
    snapshot = copy.deepcopy(existing)
    changed, rules, before, after = merge_rule(existing, RULE_ID, ours())
    assert changed is True
    assert rules == [OTHER, THIRD, ours()]
    assert (before, after) == ({}, ours())
    assert existing == snapshot  # not modified


def test_update_replaces_in_place():
    existing = [OTHER, ours(days=30), THIRD]
    changed, rules, before, after = merge_rule(existing, RULE_ID, ours(days=60))
    assert changed is True
    assert rules == [OTHER, ours(days=60), THIRD]
    assert before == ours(days=30)
    assert after == ours(days=60)


@pytest.mark.parametrize(
    "change",
    [
        {"prefix": "other/"},
        {"noncurrent_expiration_days": 7},
        {"abort_incomplete_multipart_upload_days": 1},
    ],
)
def test_update_on_any_difference(change):
    existing = [ours()]
    changed, rules, _before, after = merge_rule(existing, RULE_ID, ours(**change))
    assert changed is True
    assert rules == [ours(**change)] == [after]


def test_update_replaces_a_rule_of_that_id_that_does_more():
    stored = dict(ours(), Transitions=[{"Days": 10, "StorageClass": "GLACIER"}])
    changed, rules, before, after = merge_rule([stored], RULE_ID, ours())
    assert changed is True
    assert rules == [ours()]
    assert before == stored
    assert after == ours()


def test_update_enables_a_disabled_rule():
    changed, rules, _before, _after = merge_rule([dict(ours(), Status="Disabled")], RULE_ID, ours())
    assert changed is True
    assert rules == [ours()]


def test_unchanged_returns_the_rule_as_stored():
    stored = {"Expiration": {"Days": 30}, "ID": RULE_ID, "Filter": {"Prefix": "workmail/example/"}, "Status": "Enabled"}
    existing = [OTHER, stored, THIRD]
    changed, rules, before, after = merge_rule(existing, RULE_ID, ours())
    assert changed is False
    assert rules == existing
    assert before == after == stored


@pytest.mark.parametrize(
    "stored",
    [
        {"Expiration": {"Days": 30}, "ID": RULE_ID, "Filter": {}, "Status": "Enabled"},
        {"Expiration": {"Days": 30}, "ID": RULE_ID, "Prefix": "", "Status": "Enabled"},
        {
            "Expiration": {"Days": 30, "ExpiredObjectDeleteMarker": False},
            "ID": RULE_ID,
            "Filter": {"Prefix": ""},
            "Status": "Enabled",
        },
    ],
)
def test_unchanged_with_s3_alternate_shapes(stored):
    changed, rules, before, after = merge_rule([OTHER, stored], RULE_ID, ours(prefix=""))
    assert changed is False
    assert rules == [OTHER, stored]
    assert before == after == stored


def test_unchanged_ignores_a_top_level_setting_in_the_rule_list_response():
    # get_lifecycle returns TransitionDefaultMinimumObjectSize next to Rules; merge_rule only sees the rules.
    configuration = {"TransitionDefaultMinimumObjectSize": "all_storage_classes_128K", "Rules": [ours()]}
    changed, _rules, _before, _after = merge_rule(configuration["Rules"], RULE_ID, ours())
    assert changed is False


def test_duplicate_ids_are_collapsed_into_one_rule():
    existing = [ours(days=30), OTHER, ours(days=30)]
    changed, rules, _before, _after = merge_rule(existing, RULE_ID, ours(days=30))
    assert changed is True
    assert rules == [ours(days=30), OTHER]


def test_rule_id_of_desired_rule_is_the_one_managed():
    changed, rules, _before, after = merge_rule([], RULE_ID, dict(ours(), ID="something-else"))
    assert changed is True
    assert after["ID"] == RULE_ID
    assert s3_lifecycle.rule_ids(rules) == [RULE_ID]


def test_older_schema_configuration_gets_an_older_schema_rule():
    legacy = {"ID": "legacy", "Status": "Enabled", "Prefix": "old/", "Expiration": {"Days": 5}}
    changed, rules, _before, after = merge_rule([legacy], RULE_ID, ours(prefix="p/"))
    assert changed is True
    assert "Filter" not in after
    assert after["Prefix"] == "p/"
    assert rules == [legacy, after]
    # and the next run sees no difference
    assert merge_rule(rules, RULE_ID, ours(prefix="p/"))[0] is False


def test_mixed_configuration_keeps_the_filter():
    legacy = {"ID": "legacy", "Status": "Enabled", "Prefix": "old/", "Expiration": {"Days": 5}}
    _changed, _rules, _before, after = merge_rule([legacy, OTHER], RULE_ID, ours())
    assert after == ours()


# merge_rule: absent


def test_remove_one_of_several_keeps_the_others_in_order():
    existing = [OTHER, ours(), THIRD]
    changed, rules, before, after = merge_rule(existing, RULE_ID, None)
    assert changed is True
    assert rules == [OTHER, THIRD]
    assert before == ours()
    assert after == {}


def test_remove_the_last_rule_leaves_no_rules():
    changed, rules, before, after = merge_rule([ours()], RULE_ID, None)
    assert changed is True
    assert rules == []
    assert (before, after) == (ours(), {})


def test_remove_missing_rule_is_unchanged():
    existing = [OTHER, THIRD]
    changed, rules, before, after = merge_rule(existing, RULE_ID, None)
    assert changed is False
    assert rules == existing
    assert (before, after) == ({}, {})


def test_remove_from_no_configuration_is_unchanged():
    assert merge_rule([], RULE_ID, None) == (False, [], {}, {})
    assert merge_rule(None, RULE_ID, None) == (False, [], {}, {})


def test_remove_removes_every_rule_of_that_id():
    changed, rules, _before, _after = merge_rule([ours(), OTHER, ours(days=2)], RULE_ID, None)
    assert changed is True
    assert rules == [OTHER]


# to_document


def test_to_document_turns_dates_into_strings():
    rule = {"ID": "x", "Expiration": {"Date": datetime.datetime(2027, 3, 31, tzinfo=datetime.timezone.utc)}}
    assert s3_lifecycle.to_document(rule) == {"ID": "x", "Expiration": {"Date": "2027-03-31T00:00:00+00:00"}}


# Parameters


def params(**overrides):
    values = {
        "bucket": BUCKET,
        "rule_id": RULE_ID,
        "prefix": "",
        "expiration_days": 30,
        "noncurrent_expiration_days": None,
        "abort_incomplete_multipart_upload_days": None,
        "state": "present",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    "overrides, parameter, words",
    [
        ({"bucket": "ab"}, "bucket", "3 to 63"),
        ({"bucket": "Example_Bucket"}, "bucket", "lowercase"),
        ({"bucket": "-bucket"}, "bucket", "begin and end"),
        ({"bucket": "192.168.1.10"}, "bucket", "IP address"),
        ({"bucket": "a..b"}, "bucket", "adjacent dots"),
        ({"rule_id": ""}, "rule_id", "1 to 255"),
        ({"rule_id": "r" * 256}, "rule_id", "1 to 255"),
        ({"prefix": "p" * 1025}, "prefix", "1024 bytes"),
        ({"prefix": "é" * 513}, "prefix", "1024 bytes"),
        ({"expiration_days": 0}, "expiration_days", "1 or more"),
        ({"expiration_days": -3}, "expiration_days", "1 or more"),
        ({"expiration_days": None}, "expiration_days", "required with state=present"),
        ({"noncurrent_expiration_days": 0}, "noncurrent_expiration_days", "1 or more"),
        ({"abort_incomplete_multipart_upload_days": 0}, "abort_incomplete_multipart_upload_days", "1 or more"),
        ({"state": "gone"}, "state", "present or absent"),
    ],
)
def test_invalid_parameters_name_the_parameter(overrides, parameter, words):
    with pytest.raises(ParameterError) as caught:
        s3_lifecycle.validate_expiration_rule_params(params(**overrides))
    assert caught.value.parameter == parameter
    assert caught.value.message.startswith(f"{parameter}: ")
    assert words in caught.value.message


def test_valid_parameters():
    s3_lifecycle.validate_expiration_rule_params(params())
    s3_lifecycle.validate_expiration_rule_params(params(prefix="p" * 1024, rule_id="r" * 255))
    s3_lifecycle.validate_expiration_rule_params(params(state="absent", expiration_days=None))
    s3_lifecycle.validate_expiration_rule_params(
        params(noncurrent_expiration_days=1, abort_incomplete_multipart_upload_days=1)
    )


# The S3 calls, against a fake client


def client_error(code, operation, status=400):
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


class FakeS3:
    """The three lifecycle calls of a boto3 S3 client, over one in-memory bucket."""

    def __init__(self, rules=None, buckets=(BUCKET,), minimum_object_size="all_storage_classes_128K", errors=()):
        self.buckets = set(buckets)
        self.rules = copy.deepcopy(rules) if rules else None
        self.minimum_object_size = minimum_object_size
        self.errors = list(errors)  # raised, in order, by the next calls
        self.calls = []

    def _enter(self, operation, bucket):
        self.calls.append(operation)
        if self.errors:
            raise self.errors.pop(0)
        if bucket not in self.buckets:
            raise client_error("NoSuchBucket", operation, 404)

    def get_bucket_lifecycle_configuration(self, Bucket):
        self._enter("GetBucketLifecycleConfiguration", Bucket)
        if self.rules is None:
            raise client_error("NoSuchLifecycleConfiguration", "GetBucketLifecycleConfiguration", 404)
        response = {"Rules": copy.deepcopy(self.rules), "ResponseMetadata": {"HTTPStatusCode": 200}}
        if self.minimum_object_size:
            response["TransitionDefaultMinimumObjectSize"] = self.minimum_object_size
        return response

    def put_bucket_lifecycle_configuration(self, Bucket, LifecycleConfiguration, **kwargs):
        self._enter("PutBucketLifecycleConfiguration", Bucket)
        self.rules = copy.deepcopy(LifecycleConfiguration["Rules"])
        self.minimum_object_size = kwargs.get("TransitionDefaultMinimumObjectSize", "all_storage_classes_128K")
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def delete_bucket_lifecycle(self, Bucket):
        self._enter("DeleteBucketLifecycle", Bucket)
        self.rules = None
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)


def test_get_rules_without_configuration_is_empty():
    assert s3_lifecycle.get_rules(S3Gateway(FakeS3()), BUCKET) == []


def test_get_lifecycle_keeps_the_top_level_setting():
    configuration = s3_lifecycle.get_lifecycle(
        S3Gateway(FakeS3(rules=[OTHER], minimum_object_size="varies_by_storage_class")), BUCKET
    )
    assert configuration == {"Rules": [OTHER], "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"}


def test_missing_bucket_names_the_bucket():
    with pytest.raises(BucketNotFoundError) as caught:
        s3_lifecycle.get_rules(S3Gateway(FakeS3(buckets=())), BUCKET)
    assert caught.value.message.startswith("bucket: ")
    assert BUCKET in caught.value.message
    assert caught.value.details["bucket"] == BUCKET


def test_put_rules_empty_deletes_the_configuration():
    fake = FakeS3(rules=[OTHER])
    s3_lifecycle.put_rules(S3Gateway(fake), BUCKET, [])
    assert fake.calls == ["DeleteBucketLifecycle"]
    assert fake.rules is None


def test_throttling_is_retried():
    fake = FakeS3(errors=[client_error("SlowDown", "GetBucketLifecycleConfiguration", 503)])
    assert s3_lifecycle.get_rules(S3Gateway(fake), BUCKET) == []
    assert fake.calls == ["GetBucketLifecycleConfiguration"] * 2


def test_other_errors_propagate():
    fake = FakeS3(errors=[client_error("AccessDenied", "GetBucketLifecycleConfiguration", 403)])
    with pytest.raises(S3AccessDenied) as caught:
        s3_lifecycle.get_rules(S3Gateway(fake), BUCKET)
    assert caught.value.message.startswith(
        f"get_bucket_lifecycle_configuration of the lifecycle configuration s3://{BUCKET}"
    )
    assert fake.calls == ["GetBucketLifecycleConfiguration"]


def test_run_adds_then_is_idempotent_and_keeps_the_bucket_setting():
    fake = FakeS3(rules=[OTHER], minimum_object_size="varies_by_storage_class")
    first = s3_lifecycle.run_expiration_rule(S3Gateway(fake), params(prefix="p/"))
    assert first["changed"] is True
    assert first["rule"] == desired_rule(RULE_ID, "p/", 30)
    assert first["rules"] == ["archive-logs", RULE_ID]
    assert first["diff"] == {"before": {}, "after": first["rule"]}
    assert fake.rules == [OTHER, desired_rule(RULE_ID, "p/", 30)]
    assert fake.minimum_object_size == "varies_by_storage_class"

    again = s3_lifecycle.run_expiration_rule(S3Gateway(fake), params(prefix="p/"))
    assert again["changed"] is False
    assert fake.calls == ["GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration"] + [
        "GetBucketLifecycleConfiguration"
    ]


def test_run_check_mode_writes_nothing():
    fake = FakeS3(rules=[OTHER])
    result = s3_lifecycle.run_expiration_rule(S3Gateway(fake), params(), check_mode=True)
    assert result["changed"] is True
    assert result["rules"] == ["archive-logs", RULE_ID]
    assert fake.calls == ["GetBucketLifecycleConfiguration"]
    assert fake.rules == [OTHER]

    fake = FakeS3(rules=[ours()])
    result = s3_lifecycle.run_expiration_rule(S3Gateway(fake), params(state="absent"), check_mode=True)
    assert result["changed"] is True
    assert (result["rule"], result["rules"]) == ({}, [])
    assert fake.calls == ["GetBucketLifecycleConfiguration"]


def test_run_absent_of_last_rule_deletes_the_configuration():
    fake = FakeS3(rules=[ours()])
    result = s3_lifecycle.run_expiration_rule(S3Gateway(fake), params(state="absent", expiration_days=None))
    assert result == {"changed": True, "rule": {}, "rules": [], "diff": {"before": ours(), "after": {}}}
    assert fake.calls == ["GetBucketLifecycleConfiguration", "DeleteBucketLifecycle"]
    assert fake.rules is None
