# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Campaign unit tests' stand-ins: an in-memory S3 client with S3's conditional writes, and a campaign over it.

PutObject honours ``IfMatch`` (412 PreconditionFailed when the ETag differs, 404 NoSuchKey when the object is
missing) and ``IfNoneMatch="*"`` (412 when the object exists); DeleteObject honours ``IfMatch`` the same way. This
is what moto 5.2.5 does too (checked against ``mock_aws`` and the local server). ETags are quoted MD5s. HeadObject
answers like S3 (ContentLength, ETag, ServerSideEncryption, SSEKMSKeyId; a bare 404 when the object is missing);
:meth:`FakeS3.put_export` stores an object as a WorkMail export writes it (SSE-KMS under the job's key).
"""

import copy
import hashlib
import io

from ansible_collections.mailops.workmail.plugins.module_utils.campaign import PassSettings
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import SavedManifest
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import discover
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import run_pass
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import add_mailboxes
from ansible_collections.mailops.workmail.plugins.module_utils.manifest import new_manifest
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import ManifestStore
from ansible_collections.mailops.workmail.plugins.module_utils.manifest_store import manifest_key
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Gateway
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import BUCKET
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import KEY_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ORG_ID
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import PREFIX
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import REGION
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import ROLE_ARN
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import FakeClock
from ansible_collections.mailops.workmail.tests.unit.plugins.module_utils.workmail_fakes import standard_fake
from botocore.exceptions import ClientError
from botocore.response import StreamingBody


def s3_error(code, status, operation, message="injected"):
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


class FakeS3:
    """Objects of one or more buckets kept in a dict ``{(bucket, key): {"Body", "ETag", ...}}``."""

    def __init__(self):
        self.objects = {}
        self.calls = []
        self._failures = {}
        self.before_put = None  # callable(kwargs) run before a put is evaluated (to simulate a racing writer)

    def fail(self, operation, code, status, times=1):
        self._failures.setdefault(operation, []).extend([(code, status)] * times)

    def count(self, operation):
        return sum(1 for name, dummy in self.calls if name == operation)

    def _enter(self, operation, kwargs):
        self.calls.append((operation, {key: value for key, value in kwargs.items() if key != "Body"}))
        queued = self._failures.get(operation)
        if queued:
            code, status = queued.pop(0)
            raise s3_error(code, status, operation)

    def raw_put(self, bucket, key, body):
        """Write an object unconditionally (another writer); returns its ETag."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        etag = '"' + hashlib.md5(body).hexdigest() + '"'  # nosec - an ETag, not security
        self.objects[(bucket, key)] = {"Body": body, "ETag": etag}
        return etag

    def put_object(self, **kwargs):
        self._enter("put_object", kwargs)
        if self.before_put is not None:
            hook, self.before_put = self.before_put, None
            hook(kwargs)
        location = (kwargs["Bucket"], kwargs["Key"])
        current = self.objects.get(location)
        if_match = kwargs.get("IfMatch")
        if if_match is not None:
            if current is None:
                raise s3_error("NoSuchKey", 404, "PutObject", "The specified key does not exist.")
            if if_match.strip('"') != current["ETag"].strip('"'):
                raise s3_error("PreconditionFailed", 412, "PutObject")
        if kwargs.get("IfNoneMatch") == "*" and current is not None:
            raise s3_error("PreconditionFailed", 412, "PutObject")
        body = kwargs["Body"]
        etag = self.raw_put(kwargs["Bucket"], kwargs["Key"], body)
        stored = self.objects[location]
        for name in ("ContentType", "ServerSideEncryption", "SSEKMSKeyId"):
            if name in kwargs:
                stored[name] = kwargs[name]
        return {"ETag": etag}

    def put_export(self, bucket, key, body=b"PK\x03\x04 exported mailbox", kms_key_id=None, sse="aws:kms"):
        """Store an export's object with the encryption headers S3 reports for it; returns its ETag."""
        etag = self.raw_put(bucket, key, body)
        stored = self.objects[(bucket, key)]
        stored["ContentType"] = "application/zip"
        if sse:
            stored["ServerSideEncryption"] = sse
        if kms_key_id:
            stored["SSEKMSKeyId"] = kms_key_id
        return etag

    def head_object(self, **kwargs):
        self._enter("head_object", kwargs)
        current = self.objects.get((kwargs["Bucket"], kwargs["Key"]))
        if current is None:
            # HeadObject has no body: boto3 reports the status code as the error code.
            raise s3_error("404", 404, "HeadObject", "Not Found")
        answer = copy.deepcopy({key: value for key, value in current.items() if key != "Body"})
        answer["ContentLength"] = len(current["Body"])
        return answer

    def get_object(self, **kwargs):
        self._enter("get_object", kwargs)
        current = self.objects.get((kwargs["Bucket"], kwargs["Key"]))
        if current is None:
            raise s3_error("NoSuchKey", 404, "GetObject", "The specified key does not exist.")
        answer = copy.deepcopy({key: value for key, value in current.items() if key != "Body"})
        answer["Body"] = StreamingBody(io.BytesIO(current["Body"]), len(current["Body"]))
        answer["ContentLength"] = len(current["Body"])
        return answer

    def list_objects_v2(self, **kwargs):
        self._enter("list_objects_v2", kwargs)
        prefix = kwargs.get("Prefix", "")
        contents = []
        for (bucket, key), stored in sorted(self.objects.items()):
            rest = key[len(prefix) :] if key.startswith(prefix) else None
            if bucket == kwargs["Bucket"] and rest is not None and "/" not in rest:
                contents.append({"Key": key, "Size": len(stored["Body"]), "ETag": stored["ETag"]})
        return {"Contents": contents, "IsTruncated": False, "KeyCount": len(contents)}

    def copy_object(self, **kwargs):
        self._enter("copy_object", kwargs)
        source = self.objects.get((kwargs["CopySource"]["Bucket"], kwargs["CopySource"]["Key"]))
        if source is None:
            raise s3_error("NoSuchKey", 404, "CopyObject", "The specified key does not exist.")
        if_match = kwargs.get("CopySourceIfMatch")
        if if_match is not None and if_match.strip('"') != source["ETag"].strip('"'):
            raise s3_error("PreconditionFailed", 412, "CopyObject")
        etag = self.raw_put(kwargs["Bucket"], kwargs["Key"], source["Body"])
        stored = self.objects[(kwargs["Bucket"], kwargs["Key"])]
        for name in ("ServerSideEncryption", "SSEKMSKeyId"):
            if name in kwargs:
                stored[name] = kwargs[name]
        return {"CopyObjectResult": {"ETag": etag}}

    def delete_object(self, **kwargs):
        self._enter("delete_object", kwargs)
        location = (kwargs["Bucket"], kwargs["Key"])
        current = self.objects.get(location)
        if_match = kwargs.get("IfMatch")
        if if_match is not None:
            if current is None:
                raise s3_error("NoSuchKey", 404, "DeleteObject", "The specified key does not exist.")
            if if_match.strip('"') != current["ETag"].strip('"'):
                raise s3_error("PreconditionFailed", 412, "DeleteObject")
        self.objects.pop(location, None)
        return {}


def s3_gateway(client):
    """The collection's S3 gateway over ``client``: two tries for every call, without waiting."""
    return S3Gateway(client, RetryPolicy(retries=2, delay=0, max_delay=0))


class FakeCampaign:
    """A campaign of the mailboxes of a fake WorkMail organization (:func:`workmail_fakes.standard_fake`: alice, bob,
    room1, plus ``extra_users`` users user01, user02, ... of 105, 205, ... MB) exporting to ``s3`` (a FakeS3 or a
    moto client), with its manifest saved; :meth:`run` makes one pass."""

    def __init__(self, s3, campaign, start, extra_users=0):
        self.fake = standard_fake(clock=FakeClock(start))
        for number in range(1, extra_users + 1):
            self.fake.add_user(f"user{number:02d}", f"user{number:02d}@example.com", size_mb=number * 100 + 5)
        self.campaign = campaign
        self.client = WorkMailClient(self.fake, RetryPolicy(retries=2, delay=0, max_delay=0))
        self.s3 = s3
        self.s3_gateway = s3_gateway(s3)
        self.store = ManifestStore(self.s3_gateway, BUCKET, manifest_key(PREFIX, campaign))
        self.manifest = new_manifest(campaign, ORG_ID, REGION, BUCKET, PREFIX, KEY_ARN, ROLE_ARN, self.now())
        add_mailboxes(self.manifest, discover(self.client, ORG_ID, {}, self.manifest), self.now())
        self.etag = self.store.save(self.manifest, None)
        self.passes = 0

    def now(self):
        return self.fake.clock.now()

    def run(self, store=None, heartbeat=None, on_change=None, **settings):
        """One pass (``settings`` are :class:`PassSettings`'s) at the fake clock's time; its result."""
        self.passes += 1
        moment = self.now()
        record = SavedManifest(store or self.store, self.manifest, self.etag, on_change)
        beats = {"heartbeat": heartbeat} if heartbeat is not None else {}
        result = run_pass(self.client, self.s3_gateway, record, lambda: moment, PassSettings(**settings), **beats)
        self.manifest, self.etag = record.manifest, record.etag
        return result

    def reload(self):
        self.manifest, self.etag = self.store.load(self.campaign, ORG_ID)
