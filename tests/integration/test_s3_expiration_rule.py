"""s3_expiration_rule, run by ansible-playbook against the local AWS (moto's S3)."""

import socket

import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
BUCKET = "example-workmail-exports"
RULE_ID = "mailops-workmail-expiration"
PREFIX = "workmail/example/"

OTHER_RULE = {
    "ID": "archive-logs",
    "Status": "Enabled",
    "Filter": {"Prefix": "logs/"},
    "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
    "Expiration": {"Days": 365},
}


@pytest.fixture(name="s3")
def s3_fixture(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def rule_args(**extra):
    args = {"bucket": BUCKET, "prefix": PREFIX, "expiration_days": 30, "region": REGION}
    args.update(extra)
    return args


def stored_rules(s3):
    """The bucket's rules as S3 returns them, or None when it has no lifecycle configuration."""
    try:
        return s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
            return None
        raise


def stored_rule(s3, rule_id=RULE_ID):
    return next((rule for rule in stored_rules(s3) or [] if rule["ID"] == rule_id), None)


def expected_rule(days=30, prefix=PREFIX, **actions):
    rule = {"ID": RULE_ID, "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}
    rule.update(actions)
    return rule


def closed_port_endpoint():
    """An http endpoint on loopback where nothing listens: any AWS call would fail to connect."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_add_then_rerun_is_unchanged(s3, module):
    added = module("s3_expiration_rule", rule_args())
    assert not added.get("failed"), added.get("msg")
    assert added["changed"] is True
    assert added["rule"] == expected_rule()
    assert added["rules"] == [RULE_ID]
    assert stored_rules(s3) == [expected_rule()]

    again = module("s3_expiration_rule", rule_args())
    assert again["changed"] is False
    assert again["rule"] == expected_rule()
    assert again["rules"] == [RULE_ID]


def test_defaults_expire_every_object_of_the_bucket(s3, module):
    added = module("s3_expiration_rule", {"bucket": BUCKET, "expiration_days": 7})
    assert added["changed"] is True
    assert stored_rules(s3) == [expected_rule(days=7, prefix="")]
    assert module("s3_expiration_rule", {"bucket": BUCKET, "expiration_days": 7})["changed"] is False


def test_every_action_round_trips(s3, module):
    args = rule_args(noncurrent_expiration_days=7, abort_incomplete_multipart_upload_days=1)
    added = module("s3_expiration_rule", args)
    assert added["changed"] is True
    want = expected_rule(
        NoncurrentVersionExpiration={"NoncurrentDays": 7},
        AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1},
    )
    assert added["rule"] == want
    assert stored_rule(s3) == want
    assert module("s3_expiration_rule", args)["changed"] is False

    # dropping an action is a change too
    dropped = module("s3_expiration_rule", rule_args(noncurrent_expiration_days=7))
    assert dropped["changed"] is True
    assert "AbortIncompleteMultipartUpload" not in stored_rule(s3)


def test_check_mode_predicts_and_writes_nothing(s3, module):
    predicted = module("s3_expiration_rule", rule_args(), check=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["rule"] == expected_rule()
    assert predicted["rules"] == [RULE_ID]
    assert predicted["diff"] == {"before": {}, "after": expected_rule()}
    assert stored_rules(s3) is None

    module("s3_expiration_rule", rule_args())
    update = module("s3_expiration_rule", rule_args(expiration_days=60), check=True, diff=True)
    assert update["changed"] is True
    assert update["diff"]["before"]["Expiration"] == {"Days": 30}
    assert update["diff"]["after"]["Expiration"] == {"Days": 60}
    assert stored_rules(s3) == [expected_rule(days=30)]

    removal = module("s3_expiration_rule", rule_args(state="absent"), check=True)
    assert removal["changed"] is True
    assert (removal["rule"], removal["rules"]) == ({}, [])
    assert stored_rules(s3) == [expected_rule(days=30)]

    unchanged = module("s3_expiration_rule", rule_args(), check=True, diff=True)
    assert unchanged["changed"] is False


def test_other_rules_are_kept_through_add_update_and_remove(s3, module):
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [OTHER_RULE]})
    other_as_stored = stored_rule(s3, "archive-logs")

    added = module("s3_expiration_rule", rule_args())
    assert added["changed"] is True
    assert added["rules"] == ["archive-logs", RULE_ID]
    assert stored_rules(s3) == [other_as_stored, expected_rule()]

    updated = module("s3_expiration_rule", rule_args(expiration_days=90), diff=True)
    assert updated["changed"] is True
    assert updated["diff"]["before"] == expected_rule(days=30)
    assert updated["diff"]["after"] == expected_rule(days=90)
    assert stored_rules(s3) == [other_as_stored, expected_rule(days=90)]
    assert module("s3_expiration_rule", rule_args(expiration_days=90))["changed"] is False

    removed = module("s3_expiration_rule", rule_args(state="absent"), diff=True)
    assert removed["changed"] is True
    assert removed["rule"] == {}
    assert removed["rules"] == ["archive-logs"]
    assert removed["diff"] == {"before": expected_rule(days=90), "after": {}}
    assert stored_rules(s3) == [other_as_stored]

    again = module("s3_expiration_rule", rule_args(state="absent"))
    assert again["changed"] is False
    assert again["rules"] == ["archive-logs"]
    assert stored_rules(s3) == [other_as_stored]


def test_absent_of_the_last_rule_deletes_the_configuration(s3, module):
    module("s3_expiration_rule", rule_args())
    removed = module("s3_expiration_rule", {"bucket": BUCKET, "state": "absent"})
    assert removed["changed"] is True
    assert removed["rules"] == []
    assert stored_rules(s3) is None

    nothing = module("s3_expiration_rule", {"bucket": BUCKET, "state": "absent"})
    assert nothing["changed"] is False
    assert nothing["rules"] == []


def test_a_rule_in_another_shape_is_recognised(s3, module):
    # The same rule written by someone else: an empty Filter means every object, like an empty prefix.
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={"Rules": [dict(expected_rule(prefix=""), Filter={}), OTHER_RULE]},
    )
    result = module("s3_expiration_rule", rule_args(prefix=""))
    assert result["changed"] is False
    assert result["rules"] == [RULE_ID, "archive-logs"]


def test_a_configuration_in_the_older_schema_gets_a_rule_in_the_older_schema(s3, module):
    legacy = {"ID": "legacy", "Status": "Enabled", "Prefix": "old/", "Expiration": {"Days": 5}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [legacy]})
    added = module("s3_expiration_rule", rule_args())
    assert added["changed"] is True
    mine = stored_rule(s3)
    assert mine["Prefix"] == PREFIX and "Filter" not in mine
    assert stored_rule(s3, "legacy") == legacy
    assert module("s3_expiration_rule", rule_args())["changed"] is False


# moto 5.2.5 always answers TransitionDefaultMinimumObjectSize=all_storage_classes_128K and does not store what a
# PUT sends, so keeping the bucket's own setting is tested in tests/unit (test_s3_lifecycle.py) only. Every PUT of
# these tests sends back the value moto returned.


def test_missing_bucket_fails_naming_the_bucket(aws, module):
    result = module("s3_expiration_rule", rule_args(bucket="no-such-bucket-here"))
    assert result.get("failed")
    assert result["msg"].startswith("bucket:"), result["msg"]
    assert "no-such-bucket-here" in result["msg"]
    assert "NoSuchBucket" in result["msg"]
    assert result["bucket"] == "no-such-bucket-here"

    absent = module("s3_expiration_rule", rule_args(bucket="no-such-bucket-here", state="absent"))
    assert absent.get("failed")
    assert absent["msg"].startswith("bucket:"), absent["msg"]


BAD_INPUTS = [
    ({"expiration_days": 0}, "expiration_days"),
    ({"expiration_days": -1}, "expiration_days"),
    ({"noncurrent_expiration_days": 0}, "noncurrent_expiration_days"),
    ({"abort_incomplete_multipart_upload_days": 0}, "abort_incomplete_multipart_upload_days"),
    ({"bucket": "Bad_Bucket"}, "bucket"),
    ({"bucket": "ab"}, "bucket"),
    ({"bucket": "10.0.0.1"}, "bucket"),
    ({"rule_id": "r" * 256}, "rule_id"),
    ({"rule_id": ""}, "rule_id"),
    ({"prefix": "p" * 1025}, "prefix"),
]


@pytest.mark.parametrize("change,parameter", BAD_INPUTS, ids=[f"{p}-{i}" for i, (_c, p) in enumerate(BAD_INPUTS)])
def test_bad_input_is_refused_before_any_call(s3, module, change, parameter):
    # The endpoint has nothing listening: a call would fail with a connection error, not a parameter error.
    result = module("s3_expiration_rule", rule_args(endpoint_url=closed_port_endpoint(), **change))
    assert result.get("failed")
    assert result["msg"].startswith(f"{parameter}:"), result["msg"]
    assert result["parameter"] == parameter


def test_bad_days_write_nothing(s3, module):
    result = module("s3_expiration_rule", rule_args(expiration_days=0))
    assert result.get("failed")
    assert result["msg"].startswith("expiration_days:"), result["msg"]
    assert stored_rules(s3) is None


def test_expiration_days_is_required_with_state_present(s3, module):
    result = module("s3_expiration_rule", {"bucket": BUCKET, "endpoint_url": closed_port_endpoint()})
    assert result.get("failed")
    assert "expiration_days" in result["msg"]


def test_group_module_defaults_with_organization_id_apply(s3, playbook):
    """module_defaults for group/mailops.workmail.workmail may set organization_id, which the module ignores."""
    result = playbook(f"""
        - hosts: localhost
          gather_facts: false
          module_defaults:
            group/mailops.workmail.workmail:
              region: {REGION}
              organization_id: m-0123456789abcdef0123456789abcdef
          tasks:
            - name: expire exports
              mailops.workmail.s3_expiration_rule:
                bucket: {BUCKET}
                prefix: {PREFIX}
                expiration_days: 30
        """)
    assert not result.failed, result
    assert result.task("expire exports")["changed"] is True
    assert stored_rules(s3) == [expected_rule()]
