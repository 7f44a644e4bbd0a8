# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's AnsibleAWSModule: amazon.aws's module class with mailops.workmail in the user agent."""

import traceback
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import gather_sdk_versions
from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.mailops.workmail.plugins.module_utils.common import COLLECTION_NAME
from ansible_collections.mailops.workmail.plugins.module_utils.common import COLLECTION_VERSION
from ansible_collections.mailops.workmail.plugins.module_utils.kms import KmsGateway
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Gateway
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient


def _address_endpoint_as_given(request, **kwargs):
    """Remove the ``<account id>.`` that S3 Control puts in front of an endpoint's host name."""
    account = request.headers.get("x-amz-account-id")
    account = account.decode("ascii") if isinstance(account, bytes) else account
    parts = urlsplit(request.url)
    if account and parts.netloc.startswith(account + "."):
        request.url = urlunsplit(parts._replace(netloc=parts.netloc[len(account) + 1 :]))


def _tells_aws_message(message, aws_error):
    """Whether ``message`` already contains AWS's error message of ``aws_error`` (a botocore ClientError)."""
    said = ((getattr(aws_error, "response", None) or {}).get("Error") or {}).get("Message")
    return bool(said) and said in message


class WorkMailAnsibleModule(AnsibleAWSModule):
    """AnsibleAWSModule whose AWS clients identify themselves as ``mailops.workmail/<version>``.

    amazon.aws (10.x and 11.x) builds the user agent from a process-wide collection info that
    ``set_collection_info`` replaces; clients created after ``__init__`` carry this collection's name.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def _should_inject_warnings(self):
        """Never pass the warnings to ``exit_json``/``fail_json``: ansible-core returns what :meth:`warn` recorded by
        itself, and deprecates warnings passed to them from 2.19 on (amazon.aws 10.x passes them there, which made
        every task with a warning print a DEPRECATION WARNING)."""
        return False

    def workmail_client(self):
        """A :class:`WorkMailClient` over a boto3 WorkMail client built from the connection options."""
        return WorkMailClient(self.client("workmail"))

    def s3_gateway(self, account_settings=False):
        """An :class:`~s3.S3Gateway` over a boto3 S3 client built from the connection options; with
        ``account_settings``, also over an S3 Control client (the account's public access block)."""
        control = self.s3control_client() if account_settings else None
        return S3Gateway(self.client("s3"), control_client=control)

    def s3control_client(self):
        """A boto3 S3 Control client. S3 Control puts the account id in front of the host name; an endpoint that is
        not AWS's (a local AWS, a proxy by IP address) is addressed as given."""
        client = self.client("s3control")
        host = urlsplit(client.meta.endpoint_url or "").hostname or ""
        if not host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
            client.meta.events.register("before-sign.s3-control", _address_endpoint_as_given)
        return client

    def kms_gateway(self):
        """A :class:`~kms.KmsGateway` over a boto3 KMS client built from the connection options."""
        return KmsGateway(self.client("kms"))

    def fail_json_workmail(self, error, **kwargs):
        """fail_json for a :class:`~errors.WorkMailError`: its message and its details.

        An error that carries its botocore error as ``aws_error`` (a :class:`~errors.JobAWSError`, an
        :class:`~s3.S3Error`) goes through ``fail_json_aws``, so the result has AWS's error code and message as
        well as the error's details.
        """
        result = dict(error.details)
        result.update(kwargs)
        aws_error = getattr(error, "aws_error", None)
        if aws_error is not None and not _tells_aws_message(error.message, aws_error):
            self.fail_json_aws(aws_error, msg=error.message, **result)
        if aws_error is not None:
            # The message already says what AWS said: AWS's answer in the result, its words not twice in msg.
            response = getattr(aws_error, "response", None)
            if response:
                result.update(camel_dict_to_snake_dict(response))
            result.update(gather_sdk_versions())
            self.fail_json(msg=error.message, exception=traceback.format_exc(), **result)
        self.fail_json(msg=error.message, **result)
