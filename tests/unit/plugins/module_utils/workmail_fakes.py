# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An in-memory stand-in for a boto3 WorkMail client, for unit tests without network.

It implements the operations the collection uses with boto3's method and parameter names and answers with
boto3's shapes: ListMailboxExportJobs pages with a real NextToken (MaxResults at most 100, the 7-day window),
DescribeMailboxExportJob, StartMailboxExportJob (ClientToken idempotency, the 10-running-jobs and 24-hour
limits), CancelMailboxExportJob (refused near completion), DescribeEntity, ListUsers and ListResources (paged,
with Filters) and GetMailboxDetails (a size per user and resource). Failures are injected per operation as
botocore ClientErrors.
"""

import copy
import itertools
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from botocore.exceptions import ClientError

ORG_ID = "m-0123456789abcdef0123456789abcdef"
OTHER_ORG_ID = "m-fedcba9876543210fedcba9876543210"
ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/workmail-export"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "example-workmail-exports"
PREFIX = "workmail/example"

# WorkMail ids are lowercase hexadecimal; these contain hex letters so that case mistakes show.
ALICE_ID = "a11ce0d1-2b3c-4d5e-8f60-7a8b9c0d1e2f"
BOB_ID = "b0b0cafe-3c4d-4e5f-9a6b-7c8d9e0f1a2b"
ROOM_ID = "r-0123456789abcdef0123456789abcdef"
GROUP_ID = "6a0b1c2d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"

LIST_FIELDS = (
    "JobId",
    "EntityId",
    "Description",
    "S3BucketName",
    "S3Path",
    "EstimatedProgress",
    "State",
    "StartTime",
    "EndTime",
)
DESCRIBE_FIELDS = (
    "EntityId",
    "Description",
    "RoleArn",
    "KmsKeyArn",
    "S3BucketName",
    "S3Prefix",
    "S3Path",
    "EstimatedProgress",
    "State",
    "ErrorInfo",
    "StartTime",
    "EndTime",
)


def client_error(code, message="injected", status=400, operation="Operation"):
    """A botocore ClientError as boto3 raises it."""
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class FakeClock:
    """A settable clock; starts at this host's current time unless told otherwise."""

    def __init__(self, start=None):
        self.current = start or datetime.now(timezone.utc).replace(microsecond=0)

    def now(self):
        return self.current

    def advance(self, **kwargs):
        self.current += timedelta(**kwargs)
        return self.current


class FakeWorkMail:
    """In-memory WorkMail for one organization (``ORG_ID``)."""

    def __init__(self, organization_id=ORG_ID, clock=None, default_page_size=25):
        self.organization_id = organization_id
        self.clock = clock or FakeClock()
        self.default_page_size = default_page_size
        self.jobs = {}
        self.tokens = {}
        self.users = []
        self.resources = []
        self.groups = []
        self.mailbox_sizes = {}  # entity id -> MailboxSize in MB (0.0 when not set)
        self.mailbox_quota = 51200
        self.calls = []
        self._failures = {}
        self._scripts = {}
        self._ids = itertools.count(1)
        # Behaviour switches
        self.count_unsuccessful_in_24h = True
        self.near_completion = 90
        self.cancel_takes_effect = True
        self.prefix_ignores_case = False

    # Set-up helpers

    def add_user(self, name, email=None, user_id=None, state="ENABLED", role="USER", size_mb=None):
        user = {"Id": user_id or self._new_uuid(), "Name": name, "State": state, "UserRole": role}
        if email:
            user["Email"] = email
        self.users.append(user)
        if size_mb is not None:
            self.mailbox_sizes[user["Id"]] = float(size_mb)
        return user["Id"]

    def add_resource(self, name, email=None, resource_id=None, state="ENABLED", size_mb=None):
        resource_id = resource_id or f"r-fade{next(self._ids):028x}"
        resource = {"Id": resource_id, "Name": name, "State": state, "Type": "ROOM"}
        if email:
            resource["Email"] = email
        self.resources.append(resource)
        if size_mb is not None:
            self.mailbox_sizes[resource_id] = float(size_mb)
        return resource["Id"]

    def add_group(self, name, email, group_id=None):
        group = {"Id": group_id or self._new_uuid(), "Name": name, "Email": email, "State": "ENABLED"}
        self.groups.append(group)
        return group["Id"]

    def add_job(self, entity_id, state="RUNNING", description="", age=None, progress=None, **fields):
        """Preload a job as if started ``age`` (a timedelta) ago."""
        job_id = fields.pop("job_id", None) or self._new_job_id()
        start = self.clock.now() - (age or timedelta(0))
        job = {
            "JobId": job_id,
            "EntityId": entity_id,
            "Description": description,
            "RoleArn": fields.pop("role_arn", ROLE_ARN),
            "KmsKeyArn": fields.pop("kms_key_arn", KEY_ARN),
            "S3BucketName": fields.pop("s3_bucket", BUCKET),
            "S3Prefix": fields.pop("s3_prefix", PREFIX),
            "State": state,
            "EstimatedProgress": progress if progress is not None else (100 if state == "COMPLETED" else 0),
            "StartTime": start,
        }
        job["S3Path"] = f"{job['S3Prefix']}/{entity_id}/{job_id}.zip"
        if state != "RUNNING":
            job["EndTime"] = start + timedelta(minutes=5)
        if state == "FAILED":
            job["ErrorInfo"] = fields.pop("error_info", "The role could not be assumed")
        client_token = fields.pop("client_token", None)
        job.update(fields)
        self.jobs[job_id] = job
        if client_token:
            self.tokens[client_token] = job_id
        return job_id

    def set_job(self, job_id, **fields):
        self.jobs[job_id].update(fields)

    def script(self, job_id, steps):
        """Each later DescribeMailboxExportJob of ``job_id`` first applies the next dict of ``steps``."""
        self._scripts[job_id] = list(steps)

    def fail(self, operation, code, message="injected", status=400, times=1):
        """The next ``times`` calls of ``operation`` raise a ClientError with ``code``."""
        self._failures.setdefault(operation, []).extend([(code, message, status)] * times)

    def count(self, operation):
        return sum(1 for name, dummy in self.calls if name == operation)

    # Internals

    def _new_uuid(self):
        number = next(self._ids)
        return f"{number:08x}-beef-4000-8000-{number:012x}"

    def _new_job_id(self):
        return f"job-{next(self._ids):04d}-{self.clock.now().strftime('%H%M%S')}"

    def _enter(self, operation, kwargs):
        self.calls.append((operation, copy.deepcopy(kwargs)))
        queued = self._failures.get(operation)
        if queued:
            code, message, status = queued.pop(0)
            raise client_error(code, message, status, operation)
        if kwargs.get("OrganizationId") != self.organization_id:
            raise client_error("OrganizationNotFoundException", "organization not found", 400, operation)

    @staticmethod
    def _page(items, max_results, next_token, default_size):
        size = max_results or default_size
        if not 1 <= size <= 100:
            raise client_error("InvalidParameterException", "MaxResults must be between 1 and 100")
        start = 0
        if next_token:
            if not next_token.startswith("page-"):
                raise client_error("InvalidParameterException", "bad NextToken")
            start = int(next_token[5:])
        end = start + size
        chunk = items[start:end]
        token = f"page-{end}" if end < len(items) else None
        return chunk, token

    def _entity_exists(self, entity_id):
        return any(item["Id"].lower() == entity_id.lower() for item in self.users + self.resources)

    # WorkMail operations

    def list_mailbox_export_jobs(self, **kwargs):
        self._enter("list_mailbox_export_jobs", kwargs)
        window = self.clock.now() - timedelta(days=7)
        visible = [job for job in self.jobs.values() if job["StartTime"] > window]
        chunk, token = self._page(visible, kwargs.get("MaxResults"), kwargs.get("NextToken"), self.default_page_size)
        response = {"Jobs": [{key: job[key] for key in LIST_FIELDS if key in job} for job in chunk]}
        if token:
            response["NextToken"] = token
        return response

    def describe_mailbox_export_job(self, **kwargs):
        self._enter("describe_mailbox_export_job", kwargs)
        job = self.jobs.get(kwargs["JobId"])
        if job is None:
            raise client_error(
                "EntityNotFoundException", "The export job was not found", 400, "DescribeMailboxExportJob"
            )
        steps = self._scripts.get(job["JobId"])
        if steps:
            job.update(steps.pop(0))
        return {key: job[key] for key in DESCRIBE_FIELDS if key in job}

    def start_mailbox_export_job(self, **kwargs):
        self._enter("start_mailbox_export_job", kwargs)
        token = kwargs["ClientToken"]
        if token in self.tokens:
            return {"JobId": self.tokens[token]}
        entity_id = kwargs["EntityId"]
        if not self._entity_exists(entity_id):
            raise client_error("EntityNotFoundException", "entity not found", 400, "StartMailboxExportJob")
        running = [job for job in self.jobs.values() if job["State"] == "RUNNING"]
        if len(running) >= 10:
            raise client_error("LimitExceededException", "The request exceeds the limit of the resource.")
        day = self.clock.now() - timedelta(hours=24)
        for job in self.jobs.values():
            counts = job["State"] in ("RUNNING", "COMPLETED") or self.count_unsuccessful_in_24h
            if job["EntityId"].lower() == entity_id.lower() and job["StartTime"] > day and counts:
                raise client_error("LimitExceededException", "The request exceeds the limit of the resource.")
        job_id = self._new_job_id()
        self.jobs[job_id] = {
            "JobId": job_id,
            "EntityId": entity_id,
            "Description": kwargs.get("Description", ""),
            "RoleArn": kwargs["RoleArn"],
            "KmsKeyArn": kwargs["KmsKeyArn"],
            "S3BucketName": kwargs["S3BucketName"],
            "S3Prefix": kwargs["S3Prefix"],
            "S3Path": f"{kwargs['S3Prefix']}/{entity_id}/{job_id}.zip",
            "EstimatedProgress": 0,
            "State": "RUNNING",
            "StartTime": self.clock.now(),
        }
        self.tokens[token] = job_id
        return {"JobId": job_id}

    def cancel_mailbox_export_job(self, **kwargs):
        self._enter("cancel_mailbox_export_job", kwargs)
        job = self.jobs.get(kwargs["JobId"])
        if job is None:
            raise client_error("EntityNotFoundException", "The export job was not found", 400, "CancelMailboxExportJob")
        if job["State"] == "RUNNING":
            if job["EstimatedProgress"] >= self.near_completion:
                raise client_error("InvalidParameterException", "The job is near completion and cannot be cancelled.")
            if self.cancel_takes_effect:
                job["State"] = "CANCELLED"
                job["EndTime"] = self.clock.now()
        return {}

    def describe_entity(self, **kwargs):
        self._enter("describe_entity", kwargs)
        email = kwargs["Email"].lower()
        for kind, items in (("USER", self.users), ("RESOURCE", self.resources), ("GROUP", self.groups)):
            for item in items:
                if (item.get("Email") or "").lower() == email:
                    return {"EntityId": item["Id"], "Name": item["Name"], "Type": kind}
        raise client_error("EntityNotFoundException", "entity not found", 400, "DescribeEntity")

    def _list_entities(self, operation, items, result_key, name_filter, kwargs):
        self._enter(operation, kwargs)
        filters = kwargs.get("Filters") or {}
        prefix = filters.get(name_filter)
        if prefix is not None and self.prefix_ignores_case:
            selected = [item for item in items if item["Name"].lower().startswith(prefix.lower())]
        else:
            selected = [item for item in items if prefix is None or item["Name"].startswith(prefix)]
        chunk, token = self._page(selected, kwargs.get("MaxResults"), kwargs.get("NextToken"), self.default_page_size)
        response = {result_key: copy.deepcopy(chunk)}
        if token:
            response["NextToken"] = token
        return response

    def get_mailbox_details(self, **kwargs):
        self._enter("get_mailbox_details", kwargs)
        user_id = kwargs["UserId"].lower()
        for item in self.users + self.resources:
            if item["Id"].lower() == user_id and item["State"] != "DELETED":
                return {"MailboxQuota": self.mailbox_quota, "MailboxSize": self.mailbox_sizes.get(item["Id"], 0.0)}
        raise client_error("EntityNotFoundException", "entity not found", 400, "GetMailboxDetails")

    def list_users(self, **kwargs):
        return self._list_entities("list_users", self.users, "Users", "UsernamePrefix", kwargs)

    def list_resources(self, **kwargs):
        return self._list_entities("list_resources", self.resources, "Resources", "NamePrefix", kwargs)


def standard_fake(**kwargs):
    """A FakeWorkMail with alice (1200.5 MB), bob (300 MB), the room resource room1 (2.25 MB) and the group staff."""
    fake = FakeWorkMail(**kwargs)
    fake.add_user("alice", "alice@example.com", ALICE_ID, size_mb=1200.5)
    fake.add_user("bob", "bob@example.com", BOB_ID, size_mb=300)
    fake.add_resource("room1", "room1@example.com", ROOM_ID, size_mb=2.25)
    fake.add_group("staff", "staff@example.com", GROUP_ID)
    return fake


def start_params(**overrides):
    """Module parameters of a valid state=present task."""
    params = {
        "state": "present",
        "organization_id": ORG_ID,
        "entity": "alice@example.com",
        "role_arn": ROLE_ARN,
        "kms_key_arn": KEY_ARN,
        "s3_bucket": BUCKET,
        "s3_prefix": PREFIX,
        "description": None,
        "client_token": None,
        "job_id": None,
        "wait": False,
        "wait_timeout": 600,
    }
    params.update(overrides)
    return params
