#!/usr/bin/env bash
# Make Debian's chromium available for the report's browser test (tests/integration/test_campaign_report_in_browser.py).
# Present: nothing to do. Missing, as root on a machine with apt-get: installs it quietly, with one line saying so.
# Otherwise: says why on one line and exits 0; the browser test then skips, and its reason shows in pytest's summary.
set -uo pipefail

for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then
    exit 0
  fi
done

if [ "${EUID:-$(id -u)}" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: chromium is missing and this is not root with apt-get; the report's browser test will skip"
  exit 0
fi

start=$SECONDS
echo "ensure-chromium: installing Debian's chromium for the report's browser test (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  echo "ensure-chromium: chromium installed in $((SECONDS - start))s"
else
  echo "ensure-chromium: apt-get could not install chromium; the report's browser test will skip"
fi
exit 0
