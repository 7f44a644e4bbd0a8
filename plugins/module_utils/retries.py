# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The retry rule of the collection's AWS gateways (:mod:`workmail`, :mod:`s3`).

amazon.aws's ``AWSRetry.jittered_backoff``, extended to what WorkMail and S3 answer when they are busy or broken:
their throttling codes, HTTP 429, every HTTP 5xx answer, and connections that were dropped or reset before an
answer came. Every call the gateways make is safe to repeat: the reads are reads, StartMailboxExportJob and
CancelMailboxExportJob carry a ClientToken, and S3 writes are either unconditional replacements of the same bytes
or conditional writes whose repetition the S3 gateway recognises.
"""

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

# Error codes retried besides AWSRetry's own list (which lacks ThrottlingException and S3's SlowDown).
RETRY_ERROR_CODES = (
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "InternalServerError",
    "InternalServerException",
    "ServiceUnavailableException",
    "ServiceFailure",
    "OperationAborted",
    "RequestTimeout",
)
# What a lost connection looks like to the retry rule.
CONNECTION_ERROR = "ConnectionError"
DEFAULT_RETRIES = 10
DEFAULT_DELAY = 3
DEFAULT_MAX_DELAY = 60


def is_client_error(error):
    """Is this an answer from AWS (a ClientError), as opposed to a failure to get one?"""
    try:
        return isinstance(error, botocore.exceptions.ClientError)
    except NameError:
        return False


def is_aws_error(error):
    """Is this a botocore error (an answer from AWS, or a failure to get one) that ``fail_json_aws`` reports?"""
    try:
        return isinstance(error, (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError))
    except NameError:
        return False


def error_code(error):
    """``(code, HTTP status, message)`` of a botocore ClientError; ``(None, None, str(error))`` otherwise."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None, None, str(error)
    details = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return details.get("Code"), status, details.get("Message") or str(error)


def _retried_exceptions():
    """ClientError (answers) and botocore's connection failures; nothing when botocore is missing."""
    try:
        return (
            botocore.exceptions.ClientError,
            botocore.exceptions.HTTPClientError,
            botocore.exceptions.ConnectionError,
        )
    except NameError:
        return type(None)


class TransientErrorRetry(AWSRetry):
    """AWSRetry that also retries the codes of :data:`RETRY_ERROR_CODES`, HTTP 429, every HTTP 5xx answer and lost
    connections."""

    base_class = _retried_exceptions()

    @staticmethod
    def status_code_from_exception(error):
        if not is_client_error(error):
            return (CONNECTION_ERROR, None)
        code, status, dummy = error_code(error)
        return (code, status)

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        code, status = response_code
        if code == CONNECTION_ERROR or (isinstance(status, int) and (status == 429 or status >= 500)):
            return True
        extra = list(RETRY_ERROR_CODES) + list(catch_extra_error_codes or ())
        return AWSRetry.found(code, extra)


class RetryPolicy:
    """How often and how long a gateway tries a call: at most ``retries`` tries in all, with a jittered backoff
    starting at ``delay`` seconds and never waiting more than ``max_delay`` seconds at once."""

    def __init__(self, retries=DEFAULT_RETRIES, delay=DEFAULT_DELAY, max_delay=DEFAULT_MAX_DELAY):
        self.retries = retries
        self.delay = delay
        self.max_delay = max_delay

    def wrap(self, function, extra_codes=None):
        """``function`` wrapped in :class:`TransientErrorRetry`'s jittered backoff."""
        decorator = TransientErrorRetry.jittered_backoff(
            retries=self.retries, delay=self.delay, max_delay=self.max_delay, catch_extra_error_codes=extra_codes
        )
        return decorator(function)
