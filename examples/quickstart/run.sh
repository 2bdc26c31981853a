#!/usr/bin/env bash
# Builds the native launcher and runs examples/quickstart/code/train.py through it, the way a
# ModelArts job would: code fetched from DLS_APP_URL into the job dir, a secret decrypted from
# DLS_AES__API_TOKEN (with the stand-in dls-decryptor from tests/tools/standins — the real tool is
# the platform's), output mirrored to stdout and the job log, the command's status returned.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${QUICKSTART_DIR:-/tmp/trainlauncher-quickstart}

bin=$repo/artifacts/bin/trainlauncher
if [ ! -x "$bin" ] || [ -n "$(find "$repo/src" -newer "$bin" -name '*.cs' -print -quit)" ]; then
  echo "== building the native launcher (dotnet publish, about a minute the first time)"
  dotnet publish "$repo/src/TrainLauncher" -c Release -o "$repo/artifacts/bin" --nologo -v quiet >/dev/null
fi

rm -rf "$work" && mkdir -p "$work"
echo standin-key > "$work/key"
export PATH="$repo/tests/tools/standins:$PATH"
export DLS_USER_HOME_DIR="$work/home"
export DLS_APP_URL="$repo/examples/quickstart/code"
export DLS_DECRYPTOR_KEY_FILE="$work/key"
export DLS_AES__API_TOKEN="enc:$(printf 'quickstart-token-123' | base64)"   # the stand-in's "ciphertext"
export TRAINLAUNCHER_LOG_FILE="$work/dls-task-0.log"
export TRAINLAUNCHER_HEALTH_PORT=0

echo "== trainlauncher python3 code/train.py"
set +e
"$bin" python3 code/train.py
status=$?
set -e
echo "== exit status: $status"
echo "== job log ($TRAINLAUNCHER_LOG_FILE):"
cat "$TRAINLAUNCHER_LOG_FILE"
echo "== output: $(cat "$work/home/user-job-dir/output/model.txt")"
exit $status
