#!/usr/bin/env bash
# Coverage-guided fuzzing of the launcher's parsers of outside input: afl++ drives the
# SharpFuzz harness (TrainLauncher.Fuzz) with the launcher's assemblies instrumented.
#
#   bash tests/fuzz/run.sh [--minutes N] [--build-only] [TARGET...]
#
# Targets: options cluster listing image health ranktable errorfile (default: all), each for N minutes (default 10),
# one after another, from the seeds in corpus/TARGET with the words in dict/TARGET.dict. Ends
# with one line per target: executions, time, crashes and hangs (distinct causes listed below
# it, replayed on the uninstrumented build). Findings stay in tests/fuzz/.work/findings/TARGET
# (or $FUZZ_WORK/findings/TARGET).
# --build-only: build the harness and stop (what a check that it compiles needs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
minutes=10 build_only=0 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(options cluster listing image health ranktable errorfile)

project="$here/TrainLauncher.Fuzz"
work="${FUZZ_WORK:-$here/.work}" # FUZZ_WORK: another folder, for a second run beside this one
echo "== building the harness"
dotnet build "$project" --nologo -v quiet
[ "$build_only" = 1 ] && exit 0

bash "$here/setup.sh"
echo "== publishing and instrumenting"
rm -rf "$work/bin"
dotnet publish "$project" -c Release -o "$work/bin" --nologo -v quiet
# Our code and the S3 SDK whose unmarshaller reads listings; the framework's own assemblies
# are ReadyToRun images SharpFuzz cannot instrument.
for dll in trainlauncher.dll AWSSDK.Core.dll AWSSDK.S3.dll; do
  (cd "$here" && dotnet sharpfuzz "$work/bin/$dll")
done
replay="$project/bin/Debug/net10.0/TrainLauncher.Fuzz"

summary=()
for target in "${targets[@]}"; do
  findings="$work/findings/$target"
  rm -rf "$findings"
  mkdir -p "$findings"
  dict=()
  [ -f "$here/dict/$target.dict" ] && dict=(-x "$here/dict/$target.dict")
  echo "== fuzzing $target for $minutes min"
  # Our binary is a .NET apphost (the instrumentation is in the IL): skip afl's binary check;
  # the machine's cores are shared: no CPU binding.
  AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    afl-fuzz -V $((minutes * 60)) -i "$here/corpus/$target" -o "$findings" "${dict[@]}" -t 10000 -m none \
      -- "$work/bin/TrainLauncher.Fuzz" "$target" > "$findings/afl.log" 2>&1 || {
        echo "afl-fuzz failed; the end of its log:"; tail -20 "$findings/afl.log"; exit 1; }
  stats="$findings/default/fuzzer_stats"
  stat() { awk -v k="$1" '$1 == k { print $3 }' "$stats"; }
  crashes=$(stat saved_crashes) hangs=$(stat saved_hangs)
  summary+=("$(printf '%-8s %4s min  %10s executions  %6s/s  %3s crashes  %3s hangs  %4s corpus' \
    "$target" "$minutes" "$(stat execs_done)" "$(stat execs_per_sec)" "$crashes" "$hangs" "$(stat corpus_count)")")
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    echo "-- distinct causes (replayed without instrumentation):"
    shopt -s nullglob
    timeout 600 "$replay" "$target" "$findings"/default/crashes/id:* "$findings"/default/hangs/id:* \
      | awk -F'\t' 'NF == 3 { n[$2]++; if (!($2 in e)) e[$2] = $3 } END { for (c in n) printf "%6d  %s\n        e.g. %.160s\n", n[c], c, e[c] }' || true
    shopt -u nullglob
  fi
done
echo "== results"
printf '%s\n' "${summary[@]}"
