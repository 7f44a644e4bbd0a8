# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's AnsibleAWSModule: amazon.aws's module class with mailops.workmail in the user agent."""

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.mailops.workmail.plugins.module_utils.common import COLLECTION_NAME
from ansible_collections.mailops.workmail.plugins.module_utils.common import COLLECTION_VERSION
from ansible_collections.mailops.workmail.plugins.module_utils.s3 import S3Gateway
from ansible_collections.mailops.workmail.plugins.module_utils.workmail import WorkMailClient


class WorkMailAnsibleModule(AnsibleAWSModule):
    """AnsibleAWSModule whose AWS clients identify themselves as ``mailops.workmail/<version>``.

    amazon.aws (10.x and 11.x) builds the user agent from a process-wide collection info that
    ``set_collection_info`` replaces; clients created after ``__init__`` carry this collection's name.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def workmail_client(self):
        """A :class:`WorkMailClient` over a boto3 WorkMail client built from the connection options."""
        return WorkMailClient(self.client("workmail"))

    def s3_gateway(self):
        """An :class:`~s3.S3Gateway` over a boto3 S3 client built from the connection options."""
        return S3Gateway(self.client("s3"))

    def fail_json_workmail(self, error, **kwargs):
        """fail_json for a :class:`~errors.WorkMailError`: its message and its details.

        An error that carries its botocore error as ``aws_error`` (a :class:`~errors.JobAWSError`, an
        :class:`~s3.S3Error`) goes through ``fail_json_aws``, so the result has AWS's error code and message as
        well as the error's details.
        """
        result = dict(error.details)
        result.update(kwargs)
        aws_error = getattr(error, "aws_error", None)
        if aws_error is not None:
            self.fail_json_aws(aws_error, msg=error.message, **result)
        self.fail_json(msg=error.message, **result)
