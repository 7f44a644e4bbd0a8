"""The WorkMail backend: organizations, entities and mailbox export jobs, one backend per account and region.

``workmail_backends`` is a moto ``BackendDict``: moto's server finds it by importing ``moto.workmail`` (which
plugin.py points at this module), and ``BackendDict.reset()`` clears it together with every moto service.
"""

import base64
import hashlib
import hmac
import importlib
import json
import math
import os
import uuid

from moto.core.base_backend import BackendDict
from moto.core.base_backend import BaseBackend
from moto.core.exceptions import JsonRESTError

from . import DEFAULT_ACCOUNT_ID
from .destination import DestinationError
from .destination import check_destination
from .dialects import DAY
from .dialects import PROGRESS_CURVES
from .dialects import TOKEN_MEMORY_SECONDS
from .dialects import TOKEN_MISMATCH_STATUS
from .exporter import archive_key
from .exporter import iso8601
from .exporter import log_key
from .exporter import s3_path
from .exporter import write_export
from .state import STATE

RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"

MAX_RUNNING_JOBS_PER_ORGANIZATION = 10
MAILBOX_EXPORT_INTERVAL = 24 * 3600
LIST_WINDOW = 7 * 24 * 3600
NEAR_COMPLETION_PERCENT = 95
DEFAULT_PAGE_SIZE = 100
URL_BASES = [r"https?://workmail\.(.+)\.amazonaws\.com"]

_TOKEN_SECRET = os.urandom(16)


class WorkMailError(JsonRESTError):
    """A modelled WorkMail error: HTTP 400 with ``__type`` and ``message``."""

    code = 400

    def __init__(self, error_type, message, status=400):
        super().__init__(error_type, message)
        self.code = status
        self.content_type = "application/x-amz-json-1.1"


def invalid_parameter(message):
    """InvalidParameterException."""
    return WorkMailError("InvalidParameterException", message)


def token_mismatch(message):
    """The error of a ClientToken reused with other parameters, as the ``token_mismatch_error`` dialect says."""
    error_type = STATE.dialect("token_mismatch_error")
    return WorkMailError(error_type, message, status=TOKEN_MISMATCH_STATUS[error_type])


class Entity:
    """A user, resource or group of an organization."""

    def __init__(self, spec, created):
        self.id = spec["id"]
        self.type = spec["type"]
        self.name = spec["name"]
        self.email = spec.get("email")
        self.display_name = spec.get("display_name") or spec["name"]
        self.first_name = spec.get("first_name")
        self.last_name = spec.get("last_name")
        self.state = spec["state"]
        self.role = spec.get("role")
        self.resource_type = spec.get("resource_type")
        self.size_mb = spec.get("size_mb", 0.0)
        self.quota_mb = spec.get("quota_mb")
        self.mailbox = spec.get("mailbox", False)
        self.description = spec.get("description")
        self.hidden = spec.get("hidden", False)
        self.enabled_date = created if self.state in ("ENABLED", "DISABLED") else None
        self.disabled_date = created if self.state in ("DISABLED", "DELETED") else None
        self.created = created

    def _dates(self, out):
        if self.enabled_date is not None:
            out["EnabledDate"] = self.enabled_date
        if self.disabled_date is not None:
            out["DisabledDate"] = self.disabled_date
        return out

    def user_summary(self):
        """A member of ListUsers' Users."""
        out = {"Id": self.id}
        if self.email:
            out["Email"] = self.email
        out.update({"Name": self.name, "DisplayName": self.display_name, "State": self.state, "UserRole": self.role})
        return self._dates(out)

    def resource_summary(self):
        """A member of ListResources' Resources."""
        out = {"Id": self.id}
        if self.email:
            out["Email"] = self.email
        out.update({"Name": self.name, "Type": self.resource_type, "State": self.state})
        self._dates(out)
        if self.description:
            out["Description"] = self.description
        return out

    def describe_user(self):
        """DescribeUser's answer."""
        out = {"UserId": self.id, "Name": self.name}
        if self.email:
            out["Email"] = self.email
        out.update({"DisplayName": self.display_name, "State": self.state, "UserRole": self.role})
        self._dates(out)
        if self.mailbox:
            out["MailboxProvisionedDate"] = self.created
        if self.first_name:
            out["FirstName"] = str(self.first_name)
        if self.last_name:
            out["LastName"] = str(self.last_name)
        out["HiddenFromGlobalAddressList"] = bool(self.hidden)
        return out

    def describe_resource(self):
        """DescribeResource's answer."""
        out = {"ResourceId": self.id}
        if self.email:
            out["Email"] = self.email
        out.update(
            {
                "Name": self.name,
                "Type": self.resource_type,
                "BookingOptions": {
                    "AutoAcceptRequests": True,
                    "AutoDeclineRecurringRequests": False,
                    "AutoDeclineConflictingRequests": True,
                },
                "State": self.state,
            }
        )
        self._dates(out)
        if self.description:
            out["Description"] = self.description
        out["HiddenFromGlobalAddressList"] = bool(self.hidden)
        return out

    def admin_view(self):
        """What the admin endpoint reports."""
        out = {"id": self.id, "type": self.type, "name": self.name, "email": self.email, "state": self.state}
        if self.type == "USER":
            out["role"] = self.role
        if self.type == "RESOURCE":
            out["resource_type"] = self.resource_type
        out["mailbox"] = self.mailbox
        out["size_mb"] = self.size_mb
        return out


class Organization:
    """A WorkMail organization and its directory."""

    def __init__(self, spec, account_id, created):
        self.id = spec["id"]
        self.alias = spec["alias"]
        self.region = spec["region"]
        self.state = spec["state"]
        self.default_mail_domain = spec["default_mail_domain"]
        self.account_id = account_id
        self.created = created
        self.directory_id = "d-" + hashlib.sha256(self.id.encode("ascii")).hexdigest()[:10]
        self.entities = {}
        for entity_spec in spec.get("entities", []):
            entity = Entity(entity_spec, created)
            self.entities[entity.id] = entity

    @property
    def arn(self):
        """The organization's ARN (what aws:SourceArn names)."""
        return f"arn:aws:workmail:{self.region}:{self.account_id}:organization/{self.id}"

    def describe(self):
        """DescribeOrganization's answer."""
        return {
            "OrganizationId": self.id,
            "Alias": self.alias,
            "State": self.state,
            "DirectoryId": self.directory_id,
            "DirectoryType": "WorkMailDirectory",
            "DefaultMailDomain": self.default_mail_domain,
            "CompletedDate": self.created,
            "ARN": self.arn,
            "InteroperabilityEnabled": False,
        }

    def summary(self):
        """A member of ListOrganizations' OrganizationSummaries."""
        return {
            "OrganizationId": self.id,
            "Alias": self.alias,
            "DefaultMailDomain": self.default_mail_domain,
            "State": self.state,
        }

    def resolve(self, identifier, types=("USER", "RESOURCE", "GROUP")):
        """Find an entity by id, email or name (email and name case-insensitively)."""
        entity = self.entities.get(identifier) or self.entities.get(identifier.lower())
        if entity is not None and entity.type in types:
            return entity
        lowered = identifier.lower()
        for candidate in self.entities.values():
            if candidate.type in types and candidate.email and candidate.email.lower() == lowered:
                return candidate
        for candidate in self.entities.values():
            if candidate.type in types and candidate.name.lower() == lowered:
                return candidate
        return None

    def admin_view(self):
        """What the admin endpoint reports."""
        by_type = {"USER": "users", "RESOURCE": "resources", "GROUP": "groups"}
        out = {
            "id": self.id,
            "alias": self.alias,
            "region": self.region,
            "state": self.state,
            "arn": self.arn,
            "account_id": self.account_id,
            "default_mail_domain": self.default_mail_domain,
            "users": [],
            "resources": [],
            "groups": [],
        }
        for entity in self.entities.values():
            out[by_type[entity.type]].append(entity.admin_view())
        return out


class ExportJob:
    """A mailbox export job."""

    def __init__(self, **fields):
        self.id = fields["job_id"]
        self.organization_id = fields["organization_id"]
        self.entity_id = fields["entity_id"]
        self.description = fields.get("description")
        self.role_arn = fields["role_arn"]
        self.kms_key_arn = fields["kms_key_arn"]
        self.bucket = fields["bucket"]
        self.prefix = fields["prefix"]
        self.zip_key = fields["zip_key"]
        self.log_key = fields["log_key"]
        # The dialects at the start: they decide the job's S3Path, its output and its log for good.
        self.dialects = dict(fields["dialects"])
        self.client_token = fields["client_token"]
        self.request = fields["request"]
        self.start_time = fields["start_time"]
        self.duration = fields["duration"]
        self.scheduled_end = self.start_time + self.duration
        self.state = RUNNING
        self.error_info = None
        self.end_time = None
        self.final_progress = 0
        self.export_log = None

    @property
    def s3_path(self):
        """Where the archive goes, in the form of the ``s3_path`` dialect (by default ``<bucket>/<key of the zip>``)."""
        return s3_path(self.dialects["s3_path"], self.bucket, self.zip_key)

    @property
    def object_keys(self):
        """The keys the job writes: the archive, and the log unless the job's dialect writes none."""
        return tuple(key for key in (self.zip_key, self.log_key) if key is not None)

    def counts_for_daily_limit(self, counted_states):
        """Does this job hold its mailbox under the once-per-24-hours rule (``mailbox_24h_counts``)?"""
        return counted_states == "all" or self.state in (RUNNING, COMPLETED)

    def progress(self, now):
        """EstimatedProgress: 0-99 while running, 100 when completed, frozen otherwise."""
        if self.state == COMPLETED:
            return 100
        if self.state != RUNNING:
            return self.final_progress
        if self.duration <= 0:
            return 99
        elapsed = max(0.0, now - self.start_time)
        curve = PROGRESS_CURVES[self.dialects.get("progress", "even")]
        return min(99, int(math.floor(curve(min(1.0, elapsed / self.duration)) * 100)))

    def summary(self, now):
        """A member of ListMailboxExportJobs' Jobs."""
        out = {"JobId": self.id, "EntityId": self.entity_id}
        if self.description is not None:
            out["Description"] = self.description
        out.update(
            {
                "S3BucketName": self.bucket,
                "S3Path": self.s3_path,
                "EstimatedProgress": self.progress(now),
                "State": self.state,
                "StartTime": self.start_time,
            }
        )
        if self.end_time is not None:
            out["EndTime"] = self.end_time
        return out

    def describe(self, now):
        """DescribeMailboxExportJob's answer."""
        out = {"EntityId": self.entity_id}
        if self.description is not None:
            out["Description"] = self.description
        out.update(
            {
                "RoleArn": self.role_arn,
                "KmsKeyArn": self.kms_key_arn,
                "S3BucketName": self.bucket,
                "S3Prefix": self.prefix,
                "S3Path": self.s3_path,
                "EstimatedProgress": self.progress(now),
                "State": self.state,
            }
        )
        if self.error_info:
            out["ErrorInfo"] = self.error_info
        out["StartTime"] = self.start_time
        if self.end_time is not None:
            out["EndTime"] = self.end_time
        return out

    def admin_view(self, now):
        """Everything about the job, for the admin endpoint."""
        out = self.describe(now)
        out.update(
            {
                "JobId": self.id,
                "OrganizationId": self.organization_id,
                "ClientToken": self.client_token,
                "ScheduledEndTime": self.scheduled_end,
                "DurationSeconds": self.duration,
                "LogKey": self.log_key,
                "ZipKey": self.zip_key,
            }
        )
        if self.export_log is not None:
            out["ExportLog"] = self.export_log
        return out


# The orders ListMailboxExportJobs may list jobs in (the ``listing_order`` dialect), as sort keys.
LISTING_ORDERS = {
    "newest_first": lambda job: (-job.start_time, job.id),
    "oldest_first": lambda job: (job.start_time, job.id),
    "job_id": lambda job: (job.id,),
}


def _encode_token(kind, scope, position):
    payload = json.dumps({"k": kind, "s": scope, "p": position}, separators=(",", ":"), sort_keys=True)
    mac = hmac.new(_TOKEN_SECRET, payload.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
    return base64.b64encode(f"{mac}.{payload}".encode("utf-8")).decode("ascii")


def _decode_token(token, kind, scope):
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
        mac, payload = raw.split(".", 1)
        expected = hmac.new(_TOKEN_SECRET, payload.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        data = json.loads(payload)
        if hmac.compare_digest(mac, expected) and data.get("k") == kind and data.get("s") == scope:
            return data["p"]
    except (ValueError, UnicodeError, KeyError, TypeError, AttributeError):
        pass
    raise invalid_parameter("NextToken is invalid or expired, or was issued for another request")


def _scope(*parts):
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _page_by_offset(kind, scope, items, params):
    size = params.get("MaxResults") or DEFAULT_PAGE_SIZE
    offset = 0
    if params.get("NextToken"):
        offset = _decode_token(params["NextToken"], kind, scope)
        if not isinstance(offset, int) or offset < 0:
            raise invalid_parameter("NextToken is invalid")
    page = items[offset : offset + size]
    following = offset + len(page)
    token = _encode_token(kind, scope, following) if following < len(items) else None
    return page, token


class WorkMailBackend(BaseBackend):
    """WorkMail in one account and region."""

    def __init__(self, region_name, account_id):
        super().__init__(region_name, account_id)
        self.organizations = {}
        self.jobs = {}
        self.start_tokens = {}
        self.cancel_tokens = {}

    # moto's BaseBackend finds its URL table in "<package>.urls"; this backend carries its own.
    @property
    def url_bases(self):
        return list(URL_BASES)

    @staticmethod
    def _dispatch():
        # responses.py imports this module; look it up at call time instead of importing it at the top.
        return importlib.import_module(f"{__package__}.responses").WorkMailResponse.dispatch

    @property
    def url_paths(self):
        return {"/$": self._dispatch()}

    @property
    def urls(self):
        return {f"{base}/$": self._dispatch() for base in URL_BASES}

    # ----------------------------------------------------------------- organizations and entities
    def add_organization(self, spec, now):
        """Add a normalised fixture organization; refuse an id or alias that exists in this backend."""
        for existing in self.organizations.values():
            if existing.id == spec["id"] or existing.alias.lower() == spec["alias"].lower():
                raise ValueError(f"organization {spec['alias']} ({spec['id']}) already exists")
        organization = Organization(spec, self.account_id, now)
        self.organizations[organization.id] = organization
        return organization

    def _organization(self, organization_id, require_active=True):
        organization = self.organizations.get(organization_id)
        if organization is None:
            raise WorkMailError(
                "OrganizationNotFoundException",
                f"Organization {organization_id} does not exist in region {self.region_name} "
                f"of account {self.account_id}",
            )
        if require_active:
            self._require_active(organization)
        return organization

    @staticmethod
    def _require_active(organization):
        if organization.state != "Active":
            raise WorkMailError(
                "OrganizationStateException",
                f"Organization {organization.id} is in state {organization.state}; the operation requires an "
                "Active organization",
            )

    @staticmethod
    def _entity_not_found(organization, identifier, what="entity"):
        return WorkMailError(
            "EntityNotFoundException", f"No {what} {identifier} exists in organization {organization.id}"
        )

    def describe_organization(self, params, _now):
        """DescribeOrganization."""
        return self._organization(params["OrganizationId"], require_active=False).describe()

    def list_organizations(self, params, _now):
        """ListOrganizations."""
        items = list(self.organizations.values())
        page, token = _page_by_offset("orgs", _scope(self.account_id, self.region_name), items, params)
        out = {"OrganizationSummaries": [org.summary() for org in page]}
        if token:
            out["NextToken"] = token
        return out

    def describe_entity(self, params, _now):
        """DescribeEntity (by email)."""
        organization = self._organization(params["OrganizationId"])
        email = params["Email"].lower()
        for entity in organization.entities.values():
            if entity.email and entity.email.lower() == email:
                return {"EntityId": entity.id, "Name": entity.name, "Type": entity.type}
        raise self._entity_not_found(organization, params["Email"], "entity with email")

    def describe_user(self, params, _now):
        """DescribeUser (by id, email or name)."""
        organization = self._organization(params["OrganizationId"])
        entity = organization.resolve(params["UserId"], types=("USER",))
        if entity is None:
            raise self._entity_not_found(organization, params["UserId"], "user")
        return entity.describe_user()

    def describe_resource(self, params, _now):
        """DescribeResource (by id, email or name)."""
        organization = self._organization(params["OrganizationId"])
        entity = organization.resolve(params["ResourceId"], types=("RESOURCE",))
        if entity is None:
            raise self._entity_not_found(organization, params["ResourceId"], "resource")
        return entity.describe_resource()

    def get_mailbox_details(self, params, _now):
        """GetMailboxDetails for a user or resource."""
        organization = self._organization(params["OrganizationId"])
        entity = organization.resolve(params["UserId"], types=("USER", "RESOURCE"))
        if entity is None:
            raise self._entity_not_found(organization, params["UserId"], "user or resource")
        if not entity.mailbox:
            raise WorkMailError(
                "EntityNotFoundException",
                f"{entity.type.capitalize()} {entity.id} ({entity.state}) has no mailbox in organization "
                f"{organization.id}",
            )
        return {"MailboxQuota": int(entity.quota_mb), "MailboxSize": float(entity.size_mb)}

    def list_users(self, params, _now):
        """ListUsers with its filters."""
        organization = self._organization(params["OrganizationId"])
        filters = params.get("Filters") or {}
        items = []
        for entity in organization.entities.values():
            if entity.type != "USER":
                continue
            if not _prefix(filters.get("UsernamePrefix"), entity.name):
                continue
            if not _prefix(filters.get("DisplayNamePrefix"), entity.display_name):
                continue
            if not _prefix(filters.get("PrimaryEmailPrefix"), entity.email):
                continue
            if filters.get("State") and entity.state != filters["State"]:
                continue
            if filters.get("IdentityProviderUserIdPrefix"):
                continue  # no user of the emulator is linked to an identity provider
            items.append(entity)
        page, token = _page_by_offset("users", _scope(organization.id, filters), items, params)
        out = {"Users": [entity.user_summary() for entity in page]}
        if token:
            out["NextToken"] = token
        return out

    def list_resources(self, params, _now):
        """ListResources with its filters."""
        organization = self._organization(params["OrganizationId"])
        filters = params.get("Filters") or {}
        items = []
        for entity in organization.entities.values():
            if entity.type != "RESOURCE":
                continue
            if not _prefix(filters.get("NamePrefix"), entity.name):
                continue
            if not _prefix(filters.get("PrimaryEmailPrefix"), entity.email):
                continue
            if filters.get("State") and entity.state != filters["State"]:
                continue
            items.append(entity)
        page, token = _page_by_offset("resources", _scope(organization.id, filters), items, params)
        out = {"Resources": [entity.resource_summary() for entity in page]}
        if token:
            out["NextToken"] = token
        return out

    # ----------------------------------------------------------------- mailbox export jobs
    def start_mailbox_export_job(self, params, now):
        """StartMailboxExportJob: idempotency, organization, entity, destination, then the limits."""
        organization = self._organization(params["OrganizationId"], require_active=False)
        request = {
            name: params.get(name)
            for name in ("EntityId", "Description", "RoleArn", "KmsKeyArn", "S3BucketName", "S3Prefix")
        }
        token_key = (organization.id, params["ClientToken"])
        previous = self._remembered_start(token_key, now)
        if previous is not None:
            if previous.request == request:
                return {"JobId": previous.id}
            raise token_mismatch(
                f"ClientToken {params['ClientToken']} was already used with different parameters "
                f"(by job {previous.id}); use a new token for a different request"
            )
        self._require_active(organization)
        entity = self._exportable_entity(organization, params["EntityId"])
        job = self._new_job(organization, entity, params, request, now)
        self._check_job_destination(organization, job)
        self._check_limits(organization, entity, now)
        self.jobs[job.id] = job
        self.start_tokens[token_key] = job.id
        return {"JobId": job.id}

    def _remembered_start(self, token_key, now):
        """The job a ClientToken started within the ``client_token_memory`` dialect's window, or None."""
        previous = self.jobs.get(self.start_tokens.get(token_key, ""))
        memory = TOKEN_MEMORY_SECONDS[STATE.dialect("client_token_memory")]
        if previous is not None and now - previous.start_time < memory:
            return previous
        return None

    def _exportable_entity(self, organization, identifier):
        entity = organization.resolve(identifier)
        if entity is None:
            raise self._entity_not_found(organization, identifier)
        if entity.type == "GROUP":
            raise invalid_parameter(f"EntityId: {identifier} is a group; only users and resources have mailboxes")
        if not entity.mailbox:
            raise invalid_parameter(
                f"EntityId: {entity.type.lower()} {entity.id} ({entity.state}) has no mailbox to export"
            )
        return entity

    @staticmethod
    def _new_job(organization, entity, params, request, now):
        """The job a Start would create, its object keys laid out by the current dialects."""
        dialects = dict(STATE.dialects)
        job_id = str(uuid.uuid4())
        zip_key = archive_key(params["S3Prefix"], dialects["archive_layout"], entity, job_id, now)
        return ExportJob(
            job_id=job_id,
            organization_id=organization.id,
            entity_id=entity.id,
            description=params.get("Description"),
            role_arn=params["RoleArn"],
            kms_key_arn=params["KmsKeyArn"],
            bucket=params["S3BucketName"],
            prefix=params["S3Prefix"],
            zip_key=zip_key,
            log_key=log_key(params["S3Prefix"], zip_key, job_id, dialects["export_log"]),
            dialects=dialects,
            client_token=params["ClientToken"],
            request=request,
            start_time=now,
            duration=STATE.duration_for(entity.size_mb),
        )

    def _check_job_destination(self, organization, job):
        if len(job.s3_path) > 1023:
            raise invalid_parameter("S3Prefix: the prefix is too long for the export's S3 path (1023 characters)")
        try:
            check_destination(self.account_id, organization, job.role_arn, job.kms_key_arn, job.bucket, job.object_keys)
        except DestinationError as exc:
            raise invalid_parameter(str(exc)) from exc

    def _check_limits(self, organization, entity, now):
        org_jobs = [job for job in self.jobs.values() if job.organization_id == organization.id]
        running = [job for job in org_jobs if job.state == RUNNING]
        if len(running) >= MAX_RUNNING_JOBS_PER_ORGANIZATION:
            raise WorkMailError(
                "LimitExceededException",
                f"Organization {organization.id} already has {len(running)} running mailbox export jobs, the "
                f"maximum of {MAX_RUNNING_JOBS_PER_ORGANIZATION} concurrent export jobs per organization; start "
                "this one when a running job has ended",
            )
        counted = STATE.dialect("mailbox_24h_counts")
        recent = [
            job
            for job in org_jobs
            if job.entity_id == entity.id
            and now - job.start_time < MAILBOX_EXPORT_INTERVAL
            and job.counts_for_daily_limit(counted)
        ]
        if recent:
            latest = max(recent, key=lambda job: job.start_time)
            raise WorkMailError(
                STATE.dialect("mailbox_24h_error"),
                f"Mailbox {entity.id} was already exported by job {latest.id}, started at "
                f"{iso8601(latest.start_time)} ({latest.state}); a mailbox can be exported once every 24 hours, "
                f"so it can be exported again after {iso8601(latest.start_time + MAILBOX_EXPORT_INTERVAL)}",
            )

    def _job(self, organization, job_id):
        job = self.jobs.get(job_id)
        if job is None or job.organization_id != organization.id:
            raise self._entity_not_found(organization, job_id, "mailbox export job")
        return job

    def describe_mailbox_export_job(self, params, now):
        """DescribeMailboxExportJob: any job of the organization, unless ``describe_retention_days`` forgets it."""
        organization = self._organization(params["OrganizationId"])
        job = self._job(organization, params["JobId"])
        retention_days = STATE.dialect("describe_retention_days")
        if retention_days is not None and now - job.start_time > retention_days * DAY:
            raise self._entity_not_found(organization, params["JobId"], "mailbox export job")
        return job.describe(now)

    def list_mailbox_export_jobs(self, params, now):
        """ListMailboxExportJobs: jobs started in the last 7 days, in the order of the ``listing_order`` dialect
        (newest first by default). A NextToken holds the order's key of the last job of its page."""
        organization = self._organization(params["OrganizationId"])
        jobs = [
            job
            for job in self.jobs.values()
            if job.organization_id == organization.id and now - job.start_time < LIST_WINDOW
        ]
        order = STATE.dialect("listing_order")
        key = LISTING_ORDERS[order]
        jobs.sort(key=key)
        size = params.get("MaxResults") or DEFAULT_PAGE_SIZE
        scope = _scope(organization.id)
        start = 0
        if params.get("NextToken"):
            cursor = _decode_token(params["NextToken"], "jobs", scope)
            if not isinstance(cursor, list) or len(cursor) != 2 or cursor[0] != order:
                raise invalid_parameter("NextToken is invalid")
            after = tuple(cursor[1])
            start = next((index for index, job in enumerate(jobs) if key(job) > after), len(jobs))
        page = jobs[start : start + size]
        out = {"Jobs": [job.summary(now) for job in page]}
        if start + len(page) < len(jobs) and page:
            out["NextToken"] = _encode_token("jobs", scope, [order, list(key(page[-1]))])
        return out

    def cancel_mailbox_export_job(self, params, now):
        """CancelMailboxExportJob: only a RUNNING job that is not near completion."""
        organization = self._organization(params["OrganizationId"])
        job = self._job(organization, params["JobId"])
        token_key = (organization.id, params["ClientToken"])
        if token_key in self.cancel_tokens:
            if self.cancel_tokens[token_key] == job.id:
                return {}
            raise token_mismatch(
                f"ClientToken {params['ClientToken']} was already used to cancel job {self.cancel_tokens[token_key]}"
            )
        if job.state != RUNNING:
            raise invalid_parameter(
                f"Mailbox export job {job.id} is not running (state {job.state}); only a RUNNING job can be cancelled"
            )
        progress = job.progress(now)
        if progress >= NEAR_COMPLETION_PERCENT:
            raise invalid_parameter(
                f"Mailbox export job {job.id} is near completion (EstimatedProgress {progress}) and cannot be "
                "cancelled"
            )
        job.state = CANCELLED
        job.final_progress = progress
        job.end_time = now
        self.cancel_tokens[token_key] = job.id
        return {}

    # ----------------------------------------------------------------- the simulated passage of time
    def materialise(self, now):
        """Finish every running job whose end time has passed (write its output, or fail it)."""
        due = [job for job in self.jobs.values() if job.state == RUNNING and job.scheduled_end <= now]
        for job in sorted(due, key=lambda item: item.scheduled_end):
            self._finish(job)

    def _finish(self, job):
        job.end_time = job.scheduled_end
        job.final_progress = job.progress(job.scheduled_end)
        organization = self.organizations.get(job.organization_id)
        entity = organization.entities.get(job.entity_id) if organization else None
        if organization is None or entity is None:
            job.state = FAILED
            job.error_info = "The mailbox no longer exists"
            return
        injected = STATE.take_job_failure(job.entity_id)
        if injected is not None:
            job.state = FAILED
            job.error_info = injected
            return
        try:
            destination = check_destination(
                self.account_id, organization, job.role_arn, job.kms_key_arn, job.bucket, job.object_keys
            )
        except DestinationError as exc:
            job.state = FAILED
            job.error_info = f"The export could not write to the destination: {exc}"[:1024]
            return
        job.export_log = write_export(self.account_id, job, entity, destination.key_arn, destination.bucket_key_enabled)
        job.state = COMPLETED

    def admin_jobs(self, now):
        """Every job, for the admin endpoint."""
        return [job.admin_view(now) for job in sorted(self.jobs.values(), key=lambda item: item.start_time)]


def _prefix(prefix, value):
    if not prefix:
        return True
    return bool(value) and value.lower().startswith(prefix.lower())


workmail_backends = BackendDict(WorkMailBackend, "workmail")


def iter_backends():
    """Every WorkMail backend created so far (account, region, backend)."""
    return list(workmail_backends.iter_backends())


def backend_for(region, account_id=DEFAULT_ACCOUNT_ID):
    """The WorkMail backend of an account and region (created on first use)."""
    return workmail_backends[account_id][region]


def materialise_all(now):
    """Advance every job of every account and region to ``now``."""
    with STATE.lock:
        for _account, _region, backend in iter_backends():
            backend.materialise(now)
