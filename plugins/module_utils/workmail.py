# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place that talks to the WorkMail API: retries, pagination and error mapping.

:class:`WorkMailClient` wraps anything with boto3's WorkMail method names (a boto3 client, or a fake in unit
tests). Every call is retried with the collection's retry rule (:mod:`retries`: amazon.aws's jittered backoff
extended to WorkMail's throttling codes, every HTTP 5xx answer and lost connections). ``ListMailboxExportJobs`` has no botocore paginator, so the listing loops
on NextToken itself.

Errors the domain needs are mapped to :mod:`errors` exceptions; every other botocore error propagates unchanged
so a module can hand it to ``fail_json_aws``.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.mailops.workmail.plugins.module_utils.errors import CancelRefusedError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import JobNotFoundError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import LimitError
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.retries import error_code
from ansible_collections.mailops.workmail.plugins.module_utils.times import response_time

PAGE_SIZE = 100


def _error_code(error):
    return error_code(error)[0]


def _error_message(error):
    return error_code(error)[2]


class WorkMailClient:
    """WorkMail operations for the export modules.

    ``client`` is a boto3 WorkMail client (``module.client("workmail")``) or any object with the same method
    names; ``retry`` a :class:`~retries.RetryPolicy` (the default: 10 tries, waiting 3 s growing to at most
    60 s, jittered).
    """

    def __init__(self, client, retry=None):
        self._client = client
        self._retry = retry or RetryPolicy()
        self.last_response_time = None

    def _call(self, operation, extra_retry_codes=None, **kwargs):
        response = self._retry.wrap(getattr(self._client, operation), extra_retry_codes)(**kwargs)
        self._remember_date(response)
        return response

    def _remember_date(self, response):
        moment = response_time(response) if isinstance(response, dict) else None
        if moment is not None:
            self.last_response_time = moment

    def service_time(self):
        """The service's clock (HTTP Date header) at the last answer, or None when unknown."""
        return self.last_response_time

    def _paginate(self, operation, result_key, **kwargs):
        items = []
        seen = set()
        token = None
        while True:
            request = dict(kwargs, MaxResults=PAGE_SIZE)
            if token:
                request["NextToken"] = token
            response = self._call(operation, **request)
            items.extend(response.get(result_key) or [])
            token = response.get("NextToken")
            if not token:
                return items
            if token in seen:
                raise WorkMailError(f"{operation} returned the same NextToken twice; stopping the listing")
            seen.add(token)

    # Organizations

    def list_organizations(self):
        """Every organization ListOrganizations returns in the client's region (all pages): its
        ``OrganizationSummaries`` (OrganizationId, Alias, DefaultMailDomain, State, ErrorMessage)."""
        return self._paginate("list_organizations", "OrganizationSummaries")

    # Mailbox export jobs

    def list_export_jobs(self, organization_id):
        """Every job ListMailboxExportJobs returns (jobs started within the last 7 days), all pages."""
        return self._paginate("list_mailbox_export_jobs", "Jobs", OrganizationId=organization_id)

    def export_jobs_page(self, organization_id):
        """The first page of ListMailboxExportJobs (at most :data:`PAGE_SIZE` jobs), in the order AWS lists them
        (which it does not document)."""
        response = self._call("list_mailbox_export_jobs", OrganizationId=organization_id, MaxResults=PAGE_SIZE)
        return response.get("Jobs") or []

    def describe_export_job(self, organization_id, job_id, not_found_retries=False):
        """DescribeMailboxExportJob, with ``JobId`` added; JobNotFoundError when the job does not exist.

        With ``not_found_retries``, EntityNotFoundException is retried too (for a job that was just started).
        """
        extra = ["EntityNotFoundException"] if not_found_retries else None
        try:
            response = self._call(
                "describe_mailbox_export_job", extra_retry_codes=extra, JobId=job_id, OrganizationId=organization_id
            )
        except is_boto3_error_code("EntityNotFoundException") as e:
            raise JobNotFoundError(job_id, organization_id, aws_message=_error_message(e)) from e
        job = {key: value for key, value in response.items() if key != "ResponseMetadata"}
        job["JobId"] = job_id
        return job

    def start_export_job(
        self,
        organization_id,
        entity_id,
        role_arn,
        kms_key_arn,
        s3_bucket,
        s3_prefix,
        client_token,
        description=None,
    ):
        """StartMailboxExportJob; returns the JobId. LimitExceededException becomes a (raw) LimitError."""
        request = dict(
            ClientToken=client_token,
            OrganizationId=organization_id,
            EntityId=entity_id,
            RoleArn=role_arn,
            KmsKeyArn=kms_key_arn,
            S3BucketName=s3_bucket,
            S3Prefix=s3_prefix,
        )
        if description is not None:
            request["Description"] = description
        try:
            response = self._call("start_mailbox_export_job", **request)
        except is_boto3_error_code("LimitExceededException") as e:
            message = _error_message(e)
            raise LimitError(
                f"AWS refused to start the export: LimitExceededException: {message}", aws_message=message
            ) from e
        return response["JobId"]

    def cancel_export_job(self, organization_id, job_id, client_token):
        """CancelMailboxExportJob.

        JobNotFoundError when the job does not exist; CancelRefusedError (with the botocore error as ``original``)
        for InvalidParameterException, the answer to a job the service will not cancel (AWS: "If the job is near
        completion, it might not be possible to cancel it"), so the caller can look at the job and explain. Every
        other error (AccessDeniedException, OrganizationStateException, ...) propagates unchanged.
        """
        try:
            self._call(
                "cancel_mailbox_export_job", ClientToken=client_token, JobId=job_id, OrganizationId=organization_id
            )
        except is_boto3_error_code("EntityNotFoundException") as e:
            raise JobNotFoundError(job_id, organization_id, aws_message=_error_message(e)) from e
        except is_boto3_error_code("InvalidParameterException") as e:  # pylint: disable=duplicate-except
            raise CancelRefusedError(job_id, _error_code(e), _error_message(e), original=e) from e

    # Entities

    def describe_entity(self, organization_id, email):
        """DescribeEntity by email: ``{"EntityId", "Name", "Type"}``, or None when no entity has that email."""
        try:
            response = self._call("describe_entity", OrganizationId=organization_id, Email=email)
        except is_boto3_error_code("EntityNotFoundException"):
            return None
        return {key: value for key, value in response.items() if key != "ResponseMetadata"}

    def get_mailbox_details(self, organization_id, entity_id):
        """GetMailboxDetails of a user or resource: ``{"size_mb": float, "quota_mb": int or None}`` (MailboxSize and
        MailboxQuota, in MB; ``size_mb`` is None when AWS gives no size), or None when the entity does not exist."""
        try:
            response = self._call("get_mailbox_details", OrganizationId=organization_id, UserId=entity_id)
        except is_boto3_error_code("EntityNotFoundException"):
            return None
        size = response.get("MailboxSize")
        quota = response.get("MailboxQuota")
        return {
            "size_mb": float(size) if size is not None else None,
            "quota_mb": int(quota) if quota is not None else None,
        }

    def list_users(self, organization_id, filters=None):
        """Every user ListUsers returns (all pages), optionally with ListUsers ``Filters``."""
        kwargs = {"OrganizationId": organization_id}
        if filters:
            kwargs["Filters"] = filters
        return self._paginate("list_users", "Users", **kwargs)

    def list_resources(self, organization_id, filters=None):
        """Every resource ListResources returns (all pages); [] when the organization does not support them."""
        kwargs = {"OrganizationId": organization_id}
        if filters:
            kwargs["Filters"] = filters
        try:
            return self._paginate("list_resources", "Resources", **kwargs)
        except is_boto3_error_code("UnsupportedOperationException"):
            return []
