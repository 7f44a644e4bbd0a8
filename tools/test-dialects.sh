#!/usr/bin/env bash
# The campaign's and the single-mailbox module's integration tests under each combination of the local AWS's
# dialects (tests/emulator/README.md, "Dialects"): the answers AWS leaves undocumented, other than the defaults
# `make test` uses. Every combination runs; the script fails when any fails. A log that is not beside its archive
# (export_log elsewhere or none) leaves deep checks unchecked by design: tests/integration/test_campaign_dialects.py
# (in `make test`) covers those two.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2

tests=(
  tests/integration/test_workmail_mailbox_export.py
  tests/integration/test_workmail_organization_export.py
  tests/integration/test_organization_export_verify.py
  tests/integration/test_organization_campaign.py
  tests/integration/test_campaign_real_world.py
)
combinations=(
  "s3_path=key,export_log=guide,total_messages=messages_only,client_token_memory=7d,listing_order=oldest_first"
  "s3_path=s3_uri,archive_layout=job,token_mismatch_error=ConflictException,mailbox_24h_counts=successful,listing_order=job_id"
  "s3_path=folder,archive_layout=email_time,export_log=guide,client_token_memory=none,mailbox_24h_error=InvalidParameterException"
  "describe_retention_days=1,token_mismatch_error=IdempotentParameterMismatchException,total_messages=messages_only"
)
failed=()
for dialects in "${combinations[@]}"; do
  printf '\n=== dialects: %s\n' "$dialects"
  if ! EMULATOR_DIALECTS="$dialects" .venv/bin/python -m pytest -q -p no:cacheprovider -n auto "${tests[@]}"; then
    failed+=("$dialects")
  fi
done
printf '\n=== summary\n'
for dialects in "${combinations[@]}"; do
  if [[ " ${failed[*]-} " == *" $dialects "* ]]; then echo "FAILED  $dialects"; else echo "passed  $dialects"; fi
done
[ ${#failed[@]} -eq 0 ]
