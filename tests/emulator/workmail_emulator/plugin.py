"""Register the WorkMail backend into moto and work around a moto KMS bug.

moto's server picks a backend by matching ``https://<service>.<region>.amazonaws.com`` (built from the SigV4
credential scope) against ``moto.backend_index.backend_url_patterns``, imports ``moto.<service>`` lazily and
reads ``<service>_backends`` from it; the backend's URL table sends requests to a ``BaseResponse`` subclass.
``install()`` hooks into exactly those three points. They are moto internals: the version is pinned and
test_emulator_smoke.py fails when they change.
"""

import datetime
import functools
import re
import sys
import types

import moto
import moto.backend_index

from . import PINNED_MOTO_VERSION

SERVICE = "workmail"
MODULE_NAME = f"moto.{SERVICE}"
URL_PATTERN = re.compile(r"https?://workmail\.(.+)\.amazonaws\.com")
_KMS_METHODS_TAKING_KEY_ID = ("schedule_key_deletion", "cancel_key_deletion", "enable_key", "disable_key")


def moto_version_matches():
    """Is the installed moto the release the plugin was written against?"""
    return moto.__version__ == PINNED_MOTO_VERSION


def _register_url_pattern():
    patterns = moto.backend_index.backend_url_patterns
    if not any(name == SERVICE for name, _pattern in patterns):
        patterns.append((SERVICE, URL_PATTERN))


def _register_module():
    from . import backend  # pylint: disable=import-outside-toplevel
    from . import responses  # pylint: disable=import-outside-toplevel

    module = sys.modules.get(MODULE_NAME)
    if module is None:
        module = types.ModuleType(MODULE_NAME, "Amazon WorkMail (mailops.workmail emulator)")
        sys.modules[MODULE_NAME] = module
        setattr(moto, SERVICE, module)
    module.workmail_backends = backend.workmail_backends
    module.WorkMailBackend = backend.WorkMailBackend
    module.WorkMailResponse = responses.WorkMailResponse


def _accept_key_arn(method):
    @functools.wraps(method)
    def wrapper(self, key_id, *args, **kwargs):
        return method(self, self.get_key_id(key_id), *args, **kwargs)

    wrapper.workmail_emulator_patched = True
    return wrapper


def _patch_kms():
    # moto 5.2.5 indexes its key table with the KeyId as given in ScheduleKeyDeletion, CancelKeyDeletion,
    # EnableKey and DisableKey, so a key ARN (what amazon.aws.kms_key sends for state=absent) fails with
    # HTTP 500. Normalise the ARN to the key id first, as the other KMS operations already do.
    from moto.kms.models import KmsBackend  # pylint: disable=import-outside-toplevel

    for name in _KMS_METHODS_TAKING_KEY_ID:
        method = getattr(KmsBackend, name)
        if not getattr(method, "workmail_emulator_patched", False):
            setattr(KmsBackend, name, _accept_key_arn(method))


def _anyone(principal):
    return principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")


def _bucket_permission(bucket, action, resource):
    """FakeBucket.get_permission, with the statements' conditions evaluated against the request context."""
    from moto.iam.access_control import PermissionResult  # pylint: disable=import-outside-toplevel

    from . import policy  # pylint: disable=import-outside-toplevel
    from .state import STATE  # pylint: disable=import-outside-toplevel

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    context = {"aws:SecureTransport": "true" if STATE.secure_transport else "false"}
    decision = policy.evaluate(
        [policy.load_document(bucket.policy.decode())], action, resource, context, principal_filter=_anyone
    )
    return {policy.ALLOW: PermissionResult.PERMITTED, policy.DENY: PermissionResult.DENIED}.get(
        decision, PermissionResult.NEUTRAL
    )


def _patch_s3_bucket_policy():
    # moto 5.2.5 evaluates a bucket policy's statements for object requests without any request context, and
    # treats a statement whose condition does not hold as a Deny. So the usual TLS-only statement (Deny s3:* when
    # aws:SecureTransport is false) denies every object request. Evaluate the conditions, with this emulator's
    # transport setting as aws:SecureTransport, and let only the statements that apply decide, as S3 does.
    from moto.s3.models import FakeBucket  # pylint: disable=import-outside-toplevel

    if not getattr(FakeBucket.get_permission, "workmail_emulator_patched", False):
        _bucket_permission.workmail_emulator_patched = True
        FakeBucket.get_permission = _bucket_permission


def _blocking_public_access(create_bucket):
    @functools.wraps(create_bucket)
    def wrapper(self, *args, **kwargs):
        from moto.s3.models import PublicAccessBlock  # pylint: disable=import-outside-toplevel

        bucket = create_bucket(self, *args, **kwargs)
        bucket.public_access_block = PublicAccessBlock("true", "true", "true", "true")
        return bucket

    wrapper.workmail_emulator_patched = True
    return wrapper


def _patch_s3_new_bucket_defaults():
    # Since April 2023 S3 turns all four Block Public Access settings on for every new bucket (GetPublicAccessBlock
    # answers them); moto 5.2.5 creates buckets without any, so a bucket nobody configured looked public. Give new
    # buckets S3's settings. DeletePublicAccessBlock still removes them, and then the bucket does not block.
    from moto.s3.models import S3Backend  # pylint: disable=import-outside-toplevel

    if not getattr(S3Backend.create_bucket, "workmail_emulator_patched", False):
        S3Backend.create_bucket = _blocking_public_access(S3Backend.create_bucket)


def _simulated_utcnow():
    from .state import STATE  # pylint: disable=import-outside-toplevel

    return datetime.datetime.fromtimestamp(STATE.clock.now(), tz=datetime.timezone.utc).replace(tzinfo=None)


def _patch_s3_clock():
    # S3 and WorkMail share AWS's clock: an object's LastModified is in simulated time, like the jobs' StartTime and
    # the Date headers, so an archive a job writes is never "older" than the job. moto reads utcnow() in its S3 models.
    import moto.s3.models  # pylint: disable=import-outside-toplevel

    moto.s3.models.utcnow = _simulated_utcnow


def _install_forecast():
    # moto serves Forecast's dataset groups only; add the forecasts and forecast export jobs to its response class.
    from . import forecast_responses  # pylint: disable=import-outside-toplevel

    forecast_responses.install()


def install():
    """Make moto's server (in this process) serve WorkMail and Forecast's export jobs; safe to call more than once."""
    _register_url_pattern()
    _register_module()
    _install_forecast()
    _patch_kms()
    _patch_s3_bucket_policy()
    _patch_s3_new_bucket_defaults()
    _patch_s3_clock()
