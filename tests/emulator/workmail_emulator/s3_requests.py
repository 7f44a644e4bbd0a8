"""Which S3 operation an HTTP request is, from its method, path and query (REST API, path-style or virtual-hosted).

S3 has no operation header (no ``X-Amz-Target``): the operation is the method on the service, a bucket or an object,
qualified by a subresource in the query (``?lifecycle``, ``?tagging``, ``?uploadId=…``). :func:`s3_operation`
names the operations of the S3 API reference that this table knows (:data:`S3_OPERATIONS`); any other request is
:data:`UNKNOWN_OPERATION`, which only a ``*`` fault rule matches.
"""

import re
from urllib.parse import parse_qs

UNKNOWN_OPERATION = "UnknownS3Operation"
WRITE_METHODS = ("PUT", "POST", "DELETE")

# Bucket subresources: (method, subresource) -> operation.
_BUCKET_SUBRESOURCES = {
    ("GET", "acl"): "GetBucketAcl",
    ("PUT", "acl"): "PutBucketAcl",
    ("GET", "cors"): "GetBucketCors",
    ("PUT", "cors"): "PutBucketCors",
    ("DELETE", "cors"): "DeleteBucketCors",
    ("GET", "encryption"): "GetBucketEncryption",
    ("PUT", "encryption"): "PutBucketEncryption",
    ("DELETE", "encryption"): "DeleteBucketEncryption",
    ("GET", "lifecycle"): "GetBucketLifecycleConfiguration",
    ("PUT", "lifecycle"): "PutBucketLifecycleConfiguration",
    ("DELETE", "lifecycle"): "DeleteBucketLifecycle",
    ("GET", "location"): "GetBucketLocation",
    ("GET", "logging"): "GetBucketLogging",
    ("PUT", "logging"): "PutBucketLogging",
    ("GET", "notification"): "GetBucketNotificationConfiguration",
    ("PUT", "notification"): "PutBucketNotificationConfiguration",
    ("GET", "ownershipControls"): "GetBucketOwnershipControls",
    ("PUT", "ownershipControls"): "PutBucketOwnershipControls",
    ("DELETE", "ownershipControls"): "DeleteBucketOwnershipControls",
    ("GET", "policy"): "GetBucketPolicy",
    ("PUT", "policy"): "PutBucketPolicy",
    ("DELETE", "policy"): "DeleteBucketPolicy",
    ("GET", "policyStatus"): "GetBucketPolicyStatus",
    ("GET", "publicAccessBlock"): "GetPublicAccessBlock",
    ("PUT", "publicAccessBlock"): "PutPublicAccessBlock",
    ("DELETE", "publicAccessBlock"): "DeletePublicAccessBlock",
    ("GET", "replication"): "GetBucketReplication",
    ("PUT", "replication"): "PutBucketReplication",
    ("DELETE", "replication"): "DeleteBucketReplication",
    ("GET", "tagging"): "GetBucketTagging",
    ("PUT", "tagging"): "PutBucketTagging",
    ("DELETE", "tagging"): "DeleteBucketTagging",
    ("GET", "versioning"): "GetBucketVersioning",
    ("PUT", "versioning"): "PutBucketVersioning",
    ("GET", "website"): "GetBucketWebsite",
    ("PUT", "website"): "PutBucketWebsite",
    ("DELETE", "website"): "DeleteBucketWebsite",
    ("GET", "object-lock"): "GetObjectLockConfiguration",
    ("PUT", "object-lock"): "PutObjectLockConfiguration",
    ("GET", "accelerate"): "GetBucketAccelerateConfiguration",
    ("PUT", "accelerate"): "PutBucketAccelerateConfiguration",
    ("GET", "requestPayment"): "GetBucketRequestPayment",
    ("PUT", "requestPayment"): "PutBucketRequestPayment",
    ("GET", "uploads"): "ListMultipartUploads",
    ("GET", "versions"): "ListObjectVersions",
    ("POST", "delete"): "DeleteObjects",
}
# Object subresources: (method, subresource) -> operation (uploadId and copies are handled in _object_operation).
_OBJECT_SUBRESOURCES = {
    ("GET", "acl"): "GetObjectAcl",
    ("PUT", "acl"): "PutObjectAcl",
    ("GET", "tagging"): "GetObjectTagging",
    ("PUT", "tagging"): "PutObjectTagging",
    ("DELETE", "tagging"): "DeleteObjectTagging",
    ("GET", "attributes"): "GetObjectAttributes",
    ("GET", "retention"): "GetObjectRetention",
    ("PUT", "retention"): "PutObjectRetention",
    ("GET", "legal-hold"): "GetObjectLegalHold",
    ("PUT", "legal-hold"): "PutObjectLegalHold",
    ("POST", "restore"): "RestoreObject",
    ("POST", "select"): "SelectObjectContent",
    ("POST", "uploads"): "CreateMultipartUpload",
}
_PLAIN = {
    # (method, level) -> operation, level being "service", "bucket" or "object".
    ("GET", "service"): "ListBuckets",
    ("GET", "bucket"): "ListObjects",
    ("HEAD", "bucket"): "HeadBucket",
    ("PUT", "bucket"): "CreateBucket",
    ("DELETE", "bucket"): "DeleteBucket",
    ("GET", "object"): "GetObject",
    ("HEAD", "object"): "HeadObject",
    ("PUT", "object"): "PutObject",
    ("DELETE", "object"): "DeleteObject",
}
_MULTIPART = ("ListParts", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload")
_OTHERS = ("ListObjectsV2", "CopyObject")
# Every operation name s3_operation() can return (besides UNKNOWN_OPERATION): what an S3 fault rule may name.
S3_OPERATIONS = frozenset(
    list(_BUCKET_SUBRESOURCES.values())
    + list(_OBJECT_SUBRESOURCES.values())
    + list(_PLAIN.values())
    + list(_MULTIPART)
    + list(_OTHERS)
)
# <bucket>.s3.<region>.amazonaws.com, <bucket>.s3.amazonaws.com, <bucket>.s3-<region>.amazonaws.com, <bucket>.localhost
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.(?:s3[.-][a-z0-9.-]*amazonaws\.com|localhost)$")


def _bucket_and_key(environ):
    """``(bucket, key)`` of the request; either may be None (ListBuckets has neither)."""
    host = (environ.get("HTTP_HOST") or "").split(":", 1)[0].lower()
    path = environ.get("PATH_INFO") or "/"
    match = _VIRTUAL_HOST.match(host)
    if match:
        key = path[1:]
        return match.group("bucket"), key or None
    parts = path[1:].split("/", 1)
    bucket = parts[0] or None
    key = parts[1] if len(parts) > 1 and parts[1] else None
    return bucket, key


def _object_operation(method, query, environ):
    if "uploadId" in query:
        if method == "PUT":
            return "UploadPartCopy" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "UploadPart"
        return {"GET": "ListParts", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload"}.get(
            method, UNKNOWN_OPERATION
        )
    for (sub_method, subresource), operation in _OBJECT_SUBRESOURCES.items():
        if sub_method == method and subresource in query:
            return operation
    if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        return "CopyObject"
    return _PLAIN.get((method, "object"), UNKNOWN_OPERATION)


def _bucket_operation(method, query):
    for (sub_method, subresource), operation in _BUCKET_SUBRESOURCES.items():
        if sub_method == method and subresource in query:
            return operation
    if method == "GET" and query.get("list-type") == ["2"]:
        return "ListObjectsV2"
    return _PLAIN.get((method, "bucket"), UNKNOWN_OPERATION)


def s3_operation(environ):
    """The S3 API operation name of a WSGI request moto routes to S3, or UNKNOWN_OPERATION."""
    method = (environ.get("REQUEST_METHOD") or "GET").upper()
    query = parse_qs(environ.get("QUERY_STRING") or "", keep_blank_values=True)
    bucket, key = _bucket_and_key(environ)
    if bucket is None:
        return _PLAIN.get((method, "service"), UNKNOWN_OPERATION)
    if key is None:
        return _bucket_operation(method, query)
    return _object_operation(method, query, environ)


def is_write(environ):
    """A request that may change S3's state (PUT, POST or DELETE)."""
    return (environ.get("REQUEST_METHOD") or "").upper() in WRITE_METHODS
