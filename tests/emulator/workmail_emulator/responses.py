"""The WorkMail JSON-protocol front end, dispatched by moto's BaseResponse machinery.

moto routes ``X-Amz-Target: WorkMailService.<Operation>`` to the method named after the operation in
snake_case. Each method validates the request against botocore's model, then calls the backend.
"""

import json

from moto.core.responses import BaseResponse

from . import WORKMAIL_REGIONS
from .backend import WorkMailError
from .backend import materialise_all
from .backend import workmail_backends
from .state import STATE
from .validation import RequestTypeError
from .validation import validate_request
from .validation import validation_message

CONTENT_TYPE = "application/x-amz-json-1.1"

# Operation name -> backend method name. Every other WorkMail operation answers 501.
OPERATIONS = {
    "StartMailboxExportJob": "start_mailbox_export_job",
    "DescribeMailboxExportJob": "describe_mailbox_export_job",
    "ListMailboxExportJobs": "list_mailbox_export_jobs",
    "CancelMailboxExportJob": "cancel_mailbox_export_job",
    "DescribeOrganization": "describe_organization",
    "ListOrganizations": "list_organizations",
    "DescribeEntity": "describe_entity",
    "DescribeUser": "describe_user",
    "DescribeResource": "describe_resource",
    "ListUsers": "list_users",
    "ListResources": "list_resources",
    "GetMailboxDetails": "get_mailbox_details",
}


class WorkMailResponse(BaseResponse):
    """moto response class for the ``workmail`` service."""

    def __init__(self):
        super().__init__(service_name="workmail")

    def _get_action(self):
        # The JSON protocol names the operation only in X-Amz-Target (moto would also look at the body).
        target = self.headers.get("X-Amz-Target") or ""
        return target.split(".", 1)[1] if target.startswith("WorkMailService.") else ""

    def call_action(self):
        operation = self._get_action()
        if operation not in OPERATIONS:
            body = json.dumps(
                {
                    "__type": "NotImplemented",
                    "message": f"The local WorkMail emulator does not implement {operation or 'this request'}",
                }
            )
            return 501, {"Content-Type": CONTENT_TYPE, "X-Amzn-ErrorType": "NotImplemented"}, body
        return super().call_action()

    def _handle(self, operation):
        if self.region not in WORKMAIL_REGIONS:
            raise WorkMailError(
                "UnrecognizedClientException",
                f"Amazon WorkMail is not available in region {self.region}; it is offered in "
                f"{', '.join(WORKMAIL_REGIONS)} only",
            )
        try:
            params = json.loads(self.body) if self.body else {}
        except ValueError as exc:
            raise WorkMailError("SerializationException", f"The request body is not valid JSON: {exc}") from exc
        try:
            errors = validate_request(operation, params)
        except RequestTypeError as exc:
            raise WorkMailError("SerializationException", str(exc)) from exc
        if errors:
            raise WorkMailError("ValidationException", validation_message(errors))
        with STATE.lock:
            now = STATE.clock.now()
            materialise_all(now)
            backend = workmail_backends[self.current_account][self.region]
            result = getattr(backend, OPERATIONS[operation])(params, now)
        self.response_headers["Content-Type"] = CONTENT_TYPE
        return json.dumps(result), self.response_headers

    def start_mailbox_export_job(self):
        """StartMailboxExportJob."""
        return self._handle("StartMailboxExportJob")

    def describe_mailbox_export_job(self):
        """DescribeMailboxExportJob."""
        return self._handle("DescribeMailboxExportJob")

    def list_mailbox_export_jobs(self):
        """ListMailboxExportJobs."""
        return self._handle("ListMailboxExportJobs")

    def cancel_mailbox_export_job(self):
        """CancelMailboxExportJob."""
        return self._handle("CancelMailboxExportJob")

    def describe_organization(self):
        """DescribeOrganization."""
        return self._handle("DescribeOrganization")

    def list_organizations(self):
        """ListOrganizations."""
        return self._handle("ListOrganizations")

    def describe_entity(self):
        """DescribeEntity."""
        return self._handle("DescribeEntity")

    def describe_user(self):
        """DescribeUser."""
        return self._handle("DescribeUser")

    def describe_resource(self):
        """DescribeResource."""
        return self._handle("DescribeResource")

    def list_users(self):
        """ListUsers."""
        return self._handle("ListUsers")

    def list_resources(self):
        """ListResources."""
        return self._handle("ListResources")

    def get_mailbox_details(self):
        """GetMailboxDetails."""
        return self._handle("GetMailboxDetails")
