"""A local AWS for mailops.workmail: moto's server plus an Amazon WorkMail mailbox-export backend.

The WorkMail backend is registered into moto's own server process (see ``plugin.py``), so an export job
checks the IAM role, KMS key and S3 bucket that were created through moto and writes its output into the
moto bucket. ``server.py`` is the launcher; ``harness.py`` starts it from tests.
"""

EMULATOR_VERSION = "1.0.0"

# The moto release whose internals plugin.py relies on (backend_url_patterns, lazy backend loading by module
# name, BaseResponse dispatch). test_emulator_smoke.py fails loudly when the installed moto differs.
PINNED_MOTO_VERSION = "5.2.5"

# Amazon WorkMail exists in these regions only (botocore's endpoint data agrees).
WORKMAIL_REGIONS = ("eu-west-1", "us-east-1", "us-west-2")

# moto's default account: STS GetCallerIdentity answers it for dummy credentials.
DEFAULT_ACCOUNT_ID = "123456789012"

# The service principal that assumes the export role.
EXPORT_SERVICE_PRINCIPAL = "export.workmail.amazonaws.com"

# The service principal that assumes the forecast export role.
FORECAST_SERVICE_PRINCIPAL = "forecast.amazonaws.com"
