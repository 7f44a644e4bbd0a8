# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place that talks to S3: retries and error classes.

:class:`S3Gateway` wraps a boto3 S3 client (or anything with its method names). Every call is retried with the
collection's retry rule (:mod:`retries`: SlowDown, HTTP 5xx, dropped or reset connections, jittered backoff), and
every error that is left is raised once, classified, as an :class:`S3Error` subclass:

- :class:`S3Missing`: the object (or the bucket's configuration asked for) does not exist (NoSuchKey, a bare 404);
- :class:`S3BucketMissing`: the bucket does not exist (NoSuchBucket);
- :class:`S3AccessDenied`: S3 or KMS refused the caller (AccessDenied, 403, KMS.AccessDeniedException);
- :class:`S3PreconditionFailed`: an If-Match / If-None-Match condition failed (412);
- :class:`S3Conflict`: S3 refused a write racing another one on the same key (409);
- :class:`S3Unreachable`: no answer came (the connection failed on every try);
- :class:`S3Error` itself: any other answer.

Callers decide on the class, never on a message. Each error names what the object is to the collection (the
campaign manifest, the campaign lock, an export archive, an export log), its bucket and key, the operation, and
AWS's code and message; ``aws_error`` keeps the botocore exception for ``fail_json_aws``.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.retries import error_code
from ansible_collections.mailops.workmail.plugins.module_utils.retries import is_client_error
from ansible_collections.mailops.workmail.plugins.module_utils.times import response_time

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

# What an object is to the collection (the ``what`` of every gateway call and error).
MANIFEST = "campaign manifest"
LOCK = "campaign lock"
REPORT = "campaign report"
ARCHIVE = "export archive"
EXPORT_LOG = "export log"
EXPORT_FOLDER = "export folder"
LIFECYCLE = "lifecycle configuration"
BUCKET = "export bucket"

_MISSING_OBJECT_CODES = ("NoSuchKey", "404", "NotFound")
_DENIED_CODES = ("AccessDenied", "403", "KMS.AccessDeniedException", "AccessDeniedException")
_PRECONDITION_CODES = ("PreconditionFailed", "412")
_CONFLICT_CODES = ("ConditionalRequestConflict", "409")


class S3Error(WorkMailError):
    """An S3 call failed. ``what`` the object is, ``bucket``, ``key`` (None for bucket-wide calls), ``operation``,
    AWS's ``code``, ``status`` and ``aws_message``; ``aws_error`` is the botocore exception."""

    def __init__(self, operation, what, bucket, key, aws_error):
        code, status, aws_message = error_code(aws_error)
        location = f" s3://{bucket}/{key}" if key is not None else f" s3://{bucket}" if bucket else ""
        said = f"{code}: {aws_message}" if code else aws_message
        super().__init__(
            f"{operation} of the {what}{location} failed: {said}", s3_bucket=bucket, s3_key=key, aws_code=code
        )
        self.operation = operation
        self.what = what
        self.bucket = bucket
        self.key = key
        self.code = code
        self.status = status
        self.aws_message = aws_message
        self.aws_error = aws_error

    @property
    def uri(self):
        return f"s3://{self.bucket}/{self.key}" if self.key is not None else f"s3://{self.bucket}"


class S3Missing(S3Error):
    """The object, or the bucket configuration asked for, does not exist."""


class S3BucketMissing(S3Error):
    """The bucket does not exist."""


class S3AccessDenied(S3Error):
    """S3 (or KMS, for an encrypted object) refused the caller."""


class S3PreconditionFailed(S3Error):
    """An If-Match or If-None-Match condition of the request failed: the object is not the version expected."""


class S3Conflict(S3Error):
    """S3 refused a conditional write that raced another write of the same key."""


class S3Unreachable(S3Error):
    """No answer came from S3: the connection failed on every try."""


def classify(operation, what, bucket, key, error):
    """The :class:`S3Error` subclass instance for a botocore error raised by ``operation``."""
    if not is_client_error(error):
        return S3Unreachable(operation, what, bucket, key, error)
    code, status, dummy = error_code(error)
    if code == "NoSuchBucket":
        return S3BucketMissing(operation, what, bucket, key, error)
    if code in _MISSING_OBJECT_CODES or status == 404:
        return S3Missing(operation, what, bucket, key, error)
    if code in _DENIED_CODES or status == 403:
        return S3AccessDenied(operation, what, bucket, key, error)
    if code in _PRECONDITION_CODES or status == 412:
        return S3PreconditionFailed(operation, what, bucket, key, error)
    if code in _CONFLICT_CODES or status == 409:
        return S3Conflict(operation, what, bucket, key, error)
    return S3Error(operation, what, bucket, key, error)


def _botocore_errors():
    try:
        return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
    except NameError:
        return ()


class S3Gateway:
    """S3 operations of the collection, retried and classified. ``client`` is a boto3 S3 client; ``retry`` a
    :class:`~retries.RetryPolicy` (the default: 10 tries, waiting 3 s growing to at most 60 s, jittered)."""

    def __init__(self, client, retry=None, control_client=None):
        self._client = client
        self._retry = retry or RetryPolicy()
        self._control_client = control_client
        self.last_response_time = None

    def service_time(self):
        """AWS's clock (the HTTP Date header) at S3's last answer, or None when unknown."""
        return self.last_response_time

    def _call(self, operation, what, bucket, key, **kwargs):
        request = dict(kwargs, Bucket=bucket)
        if key is not None:
            request["Key"] = key
        try:
            response = self._retry.wrap(getattr(self._client, operation))(**request)
        except _botocore_errors() as error:
            raise classify(operation, what, bucket, key, error) from error
        moment = response_time(response) if isinstance(response, dict) else None
        if moment is not None:
            self.last_response_time = moment
        return response

    # Objects

    def head(self, what, bucket, key):
        """HeadObject's answer (``ContentLength``, ``ETag``, ``ServerSideEncryption``, ``SSEKMSKeyId``, ...)."""
        return self._call("head_object", what, bucket, key)

    def get(self, what, bucket, key, if_match=None, byte_range=None):
        """GetObject's answer; its ``Body`` is a stream the caller reads and closes. ``byte_range`` is
        ``(first, last)`` (inclusive) or ``(first, None)`` for the rest of the object."""
        request = {}
        if if_match:
            request["IfMatch"] = if_match
        if byte_range is not None:
            first, last = byte_range
            request["Range"] = f"bytes={first}-{'' if last is None else last}"
        return self._call("get_object", what, bucket, key, **request)

    def read(self, what, bucket, key, limit=None):
        """``(body bytes, etag)`` of an object; with ``limit``, at most its first ``limit`` + 1 bytes (an empty
        object reads as ``b""``). :class:`S3Missing` when it does not exist."""
        byte_range = (0, limit) if limit is not None else None
        try:
            response = self.get(what, bucket, key, byte_range=byte_range)
        except S3Error as error:
            if limit is not None and error.status == 416:
                return b"", None  # a range of an empty object
            raise
        body = response["Body"]
        try:
            return body.read(), response.get("ETag")
        finally:
            body.close()

    def read_if_exists(self, what, bucket, key):
        """``(body bytes, etag)``, or ``(None, None)`` when the object does not exist."""
        try:
            return self.read(what, bucket, key)
        except S3Missing:
            return None, None

    def put(self, what, bucket, key, body, content_type, kms_key_arn=None, if_match=None, if_none_match=False):
        """PutObject; returns the new ETag. With ``kms_key_arn`` the object is encrypted with SSE-KMS under that
        key; ``if_match`` (an ETag) or ``if_none_match`` make the write conditional."""
        request = {"Body": body, "ContentType": content_type}
        if kms_key_arn:
            request["ServerSideEncryption"] = "aws:kms"
            request["SSEKMSKeyId"] = kms_key_arn
        if if_match:
            request["IfMatch"] = if_match
        if if_none_match:
            request["IfNoneMatch"] = "*"
        return self._call("put_object", what, bucket, key, **request).get("ETag")

    def replace(self, what, bucket, key, body, content_type, etag, kms_key_arn=None):
        """A conditional PutObject: replaces version ``etag``, or creates the object when ``etag`` is None.

        Returns the new ETag. A failed condition whose current object is byte-for-byte ``body`` is this very write
        answered twice (a retry after a lost answer) and succeeds. Otherwise :class:`S3PreconditionFailed`,
        :class:`S3Conflict` or (``etag`` given, object deleted) :class:`S3Missing`.
        """
        try:
            return self.put(
                what, bucket, key, body, content_type, kms_key_arn, if_match=etag, if_none_match=etag is None
            )
        except (S3PreconditionFailed, S3Conflict, S3Missing):
            current, current_etag = self.read_if_exists(what, bucket, key)
            if current is not None and current == body:
                return current_etag
            raise

    def copy(self, what, bucket, source_key, key, kms_key_arn=None, source_etag=None):
        """CopyObject of ``source_key`` (only of its version ``source_etag`` when given) to ``key`` in the same
        bucket (S3 copies; nothing is downloaded), encrypted with SSE-KMS under ``kms_key_arn`` when given; the
        copy's ETag."""
        request = {"CopySource": {"Bucket": bucket, "Key": source_key}}
        if source_etag:
            request["CopySourceIfMatch"] = source_etag
        if kms_key_arn:
            request["ServerSideEncryption"] = "aws:kms"
            request["SSEKMSKeyId"] = kms_key_arn
        answer = self._call("copy_object", what, bucket, key, **request)
        return (answer.get("CopyObjectResult") or {}).get("ETag")

    def delete(self, what, bucket, key, if_match=None):
        """DeleteObject, only of version ``if_match`` when it is given."""
        request = {"IfMatch": if_match} if if_match else {}
        self._call("delete_object", what, bucket, key, **request)

    def list_folder(self, what, bucket, prefix):
        """One page of ListObjectsV2 of ``prefix`` with ``/`` as delimiter: ``(objects, truncated)``, the objects
        being ``[{"Key", "Size", ...}]``."""
        answer = self._call("list_objects_v2", what, bucket, None, Prefix=prefix, Delimiter="/")
        return list(answer.get("Contents") or []), bool(answer.get("IsTruncated"))

    def list_objects(self, what, bucket, prefix, continuation_token=None):
        """One page of ListObjectsV2 of every object under ``prefix``, at every level (no delimiter):
        ``(objects, next continuation token or None)``."""
        request = {"Prefix": prefix}
        if continuation_token:
            request["ContinuationToken"] = continuation_token
        answer = self._call("list_objects_v2", what, bucket, None, **request)
        token = answer.get("NextContinuationToken") if answer.get("IsTruncated") else None
        return list(answer.get("Contents") or []), token

    # Bucket configuration

    def bucket_region(self, bucket):
        """The region of ``bucket`` (GetBucketLocation; its empty answer is us-east-1). :class:`S3BucketMissing`
        when the bucket does not exist."""
        answer = self._call("get_bucket_location", BUCKET, bucket, None)
        return answer.get("LocationConstraint") or "us-east-1"

    def public_access_block(self, bucket):
        """The bucket's four Block Public Access settings (GetPublicAccessBlock), or None when it has none."""
        try:
            answer = self._call("get_public_access_block", BUCKET, bucket, None)
        except S3Missing:
            return None
        return dict(answer.get("PublicAccessBlockConfiguration") or {})

    def account_public_access_block(self, account_id):
        """The account's four Block Public Access settings (S3 Control's GetPublicAccessBlock), or None when it
        has none. :class:`S3Error` when the gateway has no S3 Control client or the call failed."""
        what = f"public access block of account {account_id}"
        if self._control_client is None:
            raise S3Error("get_public_access_block", what, None, None, "the run has no S3 Control client")
        try:
            answer = self._retry.wrap(self._control_client.get_public_access_block)(AccountId=account_id)
        except _botocore_errors() as error:
            found = classify("get_public_access_block", what, None, None, error)
            if isinstance(found, S3Missing):
                return None
            raise found from error
        return dict(answer.get("PublicAccessBlockConfiguration") or {})

    def get_lifecycle(self, bucket):
        """The bucket's lifecycle configuration without ResponseMetadata, or None when it has none."""
        try:
            answer = self._call("get_bucket_lifecycle_configuration", LIFECYCLE, bucket, None)
        except S3Missing:
            return None
        return {name: value for name, value in answer.items() if name != "ResponseMetadata"}

    def put_lifecycle(self, bucket, configuration, transition_default_minimum_object_size=None):
        """PutBucketLifecycleConfiguration with ``configuration`` (``{"Rules": [...]}``)."""
        request = {"LifecycleConfiguration": configuration}
        if transition_default_minimum_object_size:
            request["TransitionDefaultMinimumObjectSize"] = transition_default_minimum_object_size
        self._call("put_bucket_lifecycle_configuration", LIFECYCLE, bucket, None, **request)

    def delete_lifecycle(self, bucket):
        """DeleteBucketLifecycle."""
        self._call("delete_bucket_lifecycle", LIFECYCLE, bucket, None)
