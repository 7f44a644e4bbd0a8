# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place that talks to KMS: retries and error classes.

The campaign only reads its key (DescribeKey) to check, before it starts jobs, that the key can encrypt the
exports. Every call is retried with the collection's retry rule (:mod:`retries`); an error that is left is raised
once as a :class:`KmsError`, or :class:`KmsKeyMissing` / :class:`KmsAccessDenied`.
"""

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.retries import RetryPolicy
from ansible_collections.mailops.workmail.plugins.module_utils.retries import error_code
from ansible_collections.mailops.workmail.plugins.module_utils.retries import is_client_error

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

_MISSING_CODES = ("NotFoundException",)
_DENIED_CODES = ("AccessDeniedException", "AccessDenied")


class KmsError(WorkMailError):
    """A KMS call about ``key_id`` failed; ``code`` and ``aws_message`` are AWS's, ``aws_error`` the botocore
    exception (None when no answer came)."""

    def __init__(self, operation, key_id, aws_error):
        code, dummy, aws_message = error_code(aws_error)
        said = f"{code}: {aws_message}" if code else aws_message
        super().__init__(f"{operation} of KMS key {key_id} failed: {said}", kms_key_arn=key_id, aws_code=code)
        self.operation = operation
        self.key_id = key_id
        self.code = code
        self.aws_message = aws_message
        self.aws_error = aws_error


class KmsKeyMissing(KmsError):
    """The key does not exist (in the account and region asked)."""


class KmsAccessDenied(KmsError):
    """KMS refused the caller."""


def _classify(operation, key_id, error):
    code = error_code(error)[0] if is_client_error(error) else None
    if code in _MISSING_CODES:
        return KmsKeyMissing(operation, key_id, error)
    if code in _DENIED_CODES:
        return KmsAccessDenied(operation, key_id, error)
    return KmsError(operation, key_id, error)


def _botocore_errors():
    try:
        return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
    except NameError:
        return ()


class KmsGateway:
    """KMS operations of the collection, retried and classified. ``client`` is a boto3 KMS client."""

    def __init__(self, client, retry=None):
        self._client = client
        self._retry = retry or RetryPolicy()

    def describe_key(self, key_id):
        """DescribeKey's ``KeyMetadata`` (``KeyState``, ``KeyUsage``, ``KeySpec``, ``Arn``, ...)."""
        try:
            answer = self._retry.wrap(self._client.describe_key)(KeyId=key_id)
        except _botocore_errors() as error:
            raise _classify("DescribeKey", key_id, error) from error
        return dict(answer.get("KeyMetadata") or {})
