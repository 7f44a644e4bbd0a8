#!/usr/bin/env bash
# Run a command against a fresh local AWS (tests/emulator): tools/with-emulator.sh VENV COMMAND [ARGS...]
#
# Starts the emulator on a free loopback port, exports the AWS_* variables every AWS SDK and amazon.aws
# module reads (AWS_ENDPOINT_URL, dummy credentials, region), runs the command, and stops the emulator.
# EMULATOR_FIXTURE selects the fixture (default: tests/emulator/fixtures/default.yml).
set -euo pipefail
venv=${1:?usage: with-emulator.sh VENV COMMAND [ARGS...]}
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log=$(mktemp "${TMPDIR:-/tmp}/mailops-emulator.XXXXXX")
fifo="$log.fifo"
mkfifo "$fifo"

"$root/$venv/bin/python" "$root/tests/emulator/serve.py" --port 0 --quiet >"$fifo" 2>"$log" &
emulator=$!
cleanup() {
  kill "$emulator" 2>/dev/null || true
  wait "$emulator" 2>/dev/null || true
  rm -f "$fifo" "$log"
}
trap cleanup EXIT

exec 3<"$fifo"
line=""
# Well under a second when the machine is idle; a busy machine has taken over 10 s.
IFS= read -r -t 120 line <&3 || true
case "$line" in
  endpoint=http://*) endpoint=${line#endpoint=} ;;
  *)
    echo "with-emulator.sh: the local AWS did not start; its output:" >&2
    cat "$log" >&2
    exit 1
    ;;
esac
# Keep draining the emulator's stdout so it never blocks on a full pipe.
cat <&3 >/dev/null &

export AWS_ENDPOINT_URL="$endpoint"
# Any credentials work; the secret is one that never appears in normal text (Ansible masks it wherever it is printed).
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=local-aws-dummy-secret
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
echo "local AWS: $endpoint"
"$@"
