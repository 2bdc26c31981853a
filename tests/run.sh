#!/usr/bin/env bash
# Runs every test. Installs what the tests need (tests/setup/*.sh, idempotent), publishes the
# native launcher the tests run, runs the xunit suite and ends with "N passed, N failed[, N skipped]"
# computed from the test results file.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

for setup in tests/setup/*.sh; do
  [ -e "$setup" ] || continue
  echo "== setup: $setup"
  bash "$setup"
done

echo "== publishing the native launcher (linux-x64 and linux-arm64, portable to glibc 2.17)"
dotnet publish src/TrainLauncher -c Release -o artifacts/bin --nologo -v quiet
dotnet publish src/TrainLauncher -c Release -r linux-arm64 -o artifacts/bin-arm64 --nologo -v quiet
export TRAINLAUNCHER_BIN="$repo/artifacts/bin/trainlauncher"
export TRAINLAUNCHER_ARM64_BIN="$repo/artifacts/bin-arm64/trainlauncher"

results="$repo/artifacts/test-results"
rm -rf "$results"
status=0
dotnet test tests/TrainLauncher.Tests --nologo --logger "trx;LogFileName=results.trx" \
  --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=$?

trx="$results/results.trx"
if [ ! -f "$trx" ]; then
  echo "0 passed, 0 failed (no test results: the build or the test host failed)"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
count() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
passed=$(count passed) failed=$(count failed) skipped=$(count notExecuted)
summary="$passed passed, $failed failed"
[ "${skipped:-0}" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] || status=1
exit $status
