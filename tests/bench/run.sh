#!/usr/bin/env bash
# Performance bench of issues 8 and 13: the launcher side by side with bare `true`, `tini`, a
# bash replica of the old run_train.sh (replica/run_train.sh), `gen | tee`, rclone (storage.sh)
# and tini again for signals (signals.sh), in one run; it ends with the goal table of issue 13.
#   tests/bench/run.sh           full run (256 MiB passes, 5 runs each, RSS over 1 and 10 GiB; ~15 min on 2 cores)
#   tests/bench/run.sh --quick   smoke check (small sizes, 3 runs)
# Prints a Markdown report on stdout; progress goes to stderr. A figure that was not measured
# is never printed as a number: the bench fails (exit 1) instead.
set -euo pipefail

quick=0 quick_flag=()
case "${1-}" in
  --quick) quick=1 quick_flag=(--quick) ;;
  "") ;;
  *) echo "usage: tests/bench/run.sh [--quick]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bash "$here/setup.sh"

# size: the throughput passes; rss_size and big: two RSS passes, to show the peak does not grow.
if [ $quick = 1 ]; then
  runs=3 start_runs=10 size=64M size_bytes=$((64 << 20)) ticks=100 rss_size=256M big=1G
else
  runs=5 start_runs=30 size=256M size_bytes=$((256 << 20)) ticks=300 rss_size=1G big=10G
fi

progress() { echo "bench: $*" >&2; }

# --- the launcher binary: published with NativeAOT, rebuilt when a source is newer ----------
bin=$repo/artifacts/bin/trainlauncher
publish_log=$(mktemp)
if [ ! -x "$bin" ] || [ -n "$(find "$repo/src" "$repo"/Directory.*.props -newer "$bin" -type f -print -quit)" ]; then
  progress "publishing the NativeAOT binary"
  dotnet publish "$repo/src/TrainLauncher" -c Release -o "$repo/artifacts/bin" > "$publish_log" 2>&1 \
    || { cat "$publish_log" >&2; exit 1; }
  publish_warnings=$(grep -c ': warning ' "$publish_log" || true)
else
  publish_warnings="(not rebuilt)"
fi
rm -f "$publish_log"
bin_size=$(stat -c %s "$bin")

# --- a scratch home for each side; the replica lives in its job home, as the original does --
work=$(mktemp -d /tmp/tl-bench.XXXXXX)
# A task index of our own keeps the replica's log apart; the launcher is told the same path
# (it would refuse DLS_TASK_INDEX >= DLS_TASK_NUMBER as an inconsistent cluster layout).
task_index=$((90000 + RANDOM))
log=/tmp/dls-task-$task_index.log
export TRAINLAUNCHER_LOG_FILE=$log
trap 'rm -rf "$work" "$log" /tmp/dls-downloader.log' EXIT
# Every figure the goal table needs, as name=value lines; the extra scripts append theirs.
export BENCH_FIGURES=$work/figures
: > "$BENCH_FIGURES"
figure() { echo "$1=$2" >> "$BENCH_FIGURES"; }
gcc -O2 -o "$work/gen" "$here/gen.c"
gen=$work/gen
mkdir -p "$work/launcher-home" "$work/replica-home" "$work/code"
echo 'print("train")' > "$work/code/train.py"
cp "$here/replica/run_train.sh" "$work/replica-home/run_train.sh"
export DLS_USER_HOME_DIR=$work/launcher-home
export PATH=$repo/tests/tools/standins:$PATH
replica="env DLS_TASK_INDEX=$task_index DLS_APP_URL=$work/code bash $work/replica-home/run_train.sh"
replica_nosleep="env DLS_TASK_INDEX=$task_index REPLICA_FINAL_SLEEP=0 DLS_APP_URL=$work/code bash $work/replica-home/run_train.sh"
launcher="$bin --log-level error"
launcher_direct="$bin --log-level error --dls-pipe $work/no-dls-pipe"
tee_file=$work/tee.log

# Median wall seconds of one command over RUNS runs (hyperfine; extra options before the command).
median_seconds() {
  local n=$1; shift
  hyperfine --style none --runs "$n" --export-json "$work/hf.json" "$@" >&2
  jq -r '.results[0].median' "$work/hf.json"
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
mbps() { awk -v s="$1" -v b="$size_bytes" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", b / a }'; }  # a and b are times: speed ratio b/a
mark() { awk -v v="$1" -v goal="$2" 'BEGIN { print (v + 0 >= goal + 0) ? "met" : "missed" }'; }

echo "# TrainLauncher bench ($([ $quick = 1 ] && echo quick || echo full))"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
echo "- binary: $bin ($bin_size bytes, $(awk -v b="$bin_size" 'BEGIN { printf "%.1f MiB", b / 1048576 }')), NativeAOT; publish warnings: $publish_warnings"
echo "- runs per figure: $runs (start-up: $start_runs), medians; load: $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo

# --- (1) start-up -----------------------------------------------------------------------------
progress "(1) start-up"
t_true=$(median_seconds "$start_runs" -N --warmup 3 "true")
t_tini=$(median_seconds "$start_runs" -N --warmup 3 "tini -- true")
t_launcher=$(median_seconds "$start_runs" -N --warmup 3 "$bin true")
t_launcher_fetch=$(median_seconds "$start_runs" -N --warmup 3 "env DLS_APP_URL=$work/code $bin true")
t_replica=$(median_seconds "$runs" -N "$replica true")
over=$(awk -v a="$t_launcher" -v b="$t_true" 'BEGIN { printf "%.1f", (a - b) * 1000 }')
echo "## 1. Start-up: wall time of \`X true\`"
echo
echo "| command | median | over bare \`true\` |"
echo "|---|---:|---:|"
echo "| \`true\` | $(ms "$t_true") ms | – |"
echo "| \`tini -- true\` | $(ms "$t_tini") ms | $(awk -v a="$t_tini" -v b="$t_true" 'BEGIN { printf "%.1f", (a - b) * 1000 }') ms |"
echo "| \`trainlauncher true\` | $(ms "$t_launcher") ms | **$over ms** |"
figure startup.over_true_ms "$over"
echo "| \`trainlauncher true\`, with a 1-file code fetch | $(ms "$t_launcher_fetch") ms | $(awk -v a="$t_launcher_fetch" -v b="$t_true" 'BEGIN { printf "%.1f", (a - b) * 1000 }') ms |"
echo "| replica \`run_train.sh true\` (with its 3 s sleep) | $(ms "$t_replica") ms | $(awk -v a="$t_replica" -v b="$t_true" 'BEGIN { printf "%.1f", (a - b) * 1000 }') ms |"
echo

# --- (2) throughput ---------------------------------------------------------------------------
# Every pass writes a fresh log file (removed before each run, outside the timing); stdout is
# /dev/null. "via dls-pipe" = the stand-in dls-pipe (cat > LOG) is on PATH, as on the platform.
throughput_table() { # title, then pairs of label and command (shell syntax allowed)
  local title=$1; shift
  echo "| $title | median | MB/s | launcher (dls-pipe) is ×  | launcher (direct) is × |"
  echo "|---|---:|---:|---:|---:|"
  local -a labels=() times=()
  while [ $# -gt 0 ]; do
    progress "(2) $title: $1"
    labels+=("$1")
    times+=("$(median_seconds "$runs" --warmup 1 --prepare "rm -f $log $tee_file" "$2")")
    shift 2
  done
  local i key=${title%%:*}
  figure "throughput.$key.vs_replica" "$(awk -v a="${times[0]}" -v b="${times[2]}" 'BEGIN { printf "%.2f", b / a }')"
  figure "throughput.$key.vs_tee" "$(awk -v a="${times[0]}" -v b="${times[3]}" 'BEGIN { printf "%.2f", b / a }')"
  for i in "${!labels[@]}"; do
    if [ "$i" -lt 2 ]; then
      echo "| ${labels[$i]} | $(ms "${times[$i]}") ms | $(mbps "${times[$i]}") | – | – |"
    else
      echo "| ${labels[$i]} | $(ms "${times[$i]}") ms | $(mbps "${times[$i]}") | $(ratio "${times[0]}" "${times[$i]}") | $(ratio "${times[1]}" "${times[$i]}") |"
    fi
  done
  echo
}

echo "## 2. Throughput: $size through the log path (stdout → /dev/null, log → a file)"
echo
echo "Ratios are the launcher's speed over the row's (≥ 1 means the launcher is faster)."
echo
throughput_table "blocks: 64 KiB writes" \
  "launcher, via dls-pipe" "$launcher -- $gen blocks $size >/dev/null" \
  "launcher, log written directly" "$launcher_direct -- $gen blocks $size >/dev/null" \
  "replica (3 s sleep left out)" "$replica_nosleep $gen blocks $size >/dev/null" \
  "\`gen \\| tee file >/dev/null\`" "$gen blocks $size | tee $tee_file >/dev/null"
throughput_table "lines: 100 bytes, line-buffered (stdbuf -oL)" \
  "launcher, via dls-pipe" "$launcher -- $gen lines $size >/dev/null" \
  "launcher, log written directly" "$launcher_direct -- $gen lines $size >/dev/null" \
  "replica (3 s sleep left out)" "$replica_nosleep $gen lines $size >/dev/null" \
  "\`stdbuf -oL gen \\| tee file >/dev/null\`" "stdbuf -oL -eL $gen lines $size | tee $tee_file >/dev/null"
throughput_table "nostdbuf: 100-byte lines, launcher with --no-stdbuf" \
  "launcher --no-stdbuf, via dls-pipe" "$launcher --no-stdbuf -- $gen lines $size >/dev/null" \
  "launcher --no-stdbuf, log written directly" "$launcher_direct --no-stdbuf -- $gen lines $size >/dev/null" \
  "replica (line-buffered, as it always is)" "$replica_nosleep $gen lines $size >/dev/null" \
  "\`gen \\| tee file >/dev/null\` (block-buffered)" "$gen lines $size | tee $tee_file >/dev/null"

# --- (3) memory -------------------------------------------------------------------------------
# Polls the launcher's /proc status every 50 ms: VmHWM (peak) and VmRSS, with the log's size
# at that moment, so "RSS after 1 GiB" and "RSS at the end" come from the same run.
rss_run() { # figure name, label, then the launcher's arguments
  local name=$1 label=$2; shift 2
  progress "(3) RSS: $label"
  rm -f "$log"
  /usr/bin/time -f %M -o "$work/maxrss" "$bin" --log-level error "$@" >/dev/null &
  local timer=$! pid="" hwm rss rss_1g="" bytes hwm_last=0 rss_last=0
  while [ -z "$pid" ] && kill -0 "$timer" 2>/dev/null; do pid=$(cat "/proc/$timer/task/$timer/children" 2>/dev/null | cut -d' ' -f1); done
  while [ -r "/proc/$pid/status" ]; do
    local status
    status=$(cat "/proc/$pid/status" 2>/dev/null) || break
    [ -n "$status" ] || break
    hwm=$(awk '/^VmHWM/ { print $2 }' <<<"$status"); rss=$(awk '/^VmRSS/ { print $2 }' <<<"$status")
    [ -n "$hwm" ] || break
    bytes=$(stat -c %s "$log" 2>/dev/null || echo 0)
    if [ -z "$rss_1g" ] && [ "$bytes" -ge $((1 << 30)) ]; then rss_1g=$rss; fi
    hwm_last=$hwm rss_last=$rss
    sleep 0.05
  done
  wait "$timer"
  local peak; peak=$(awk -v k="$(tail -1 "$work/maxrss")" 'BEGIN { printf "%.1f", k / 1024 }')
  [ -n "$name" ] && figure "rss.$name.peak_mib" "$peak"
  echo "| $label | $(awk -v k="$(tail -1 "$work/maxrss")" 'BEGIN { printf "%.1f", k / 1024 }') MiB | $(awk -v k="$hwm_last" 'BEGIN { printf "%.1f", k / 1024 }') MiB | ${rss_1g:+$(awk -v k="$rss_1g" 'BEGIN { printf "%.1f MiB", k / 1024 }')} | $(awk -v k="$rss_last" 'BEGIN { printf "%.1f", k / 1024 }') MiB |"
}
echo "## 3. Memory of the launcher process (goal: peak ≤ 24 MiB, no growth with output size)"
echo
echo "Peak: max RSS from getrusage (GNU time; the largest of the launcher and its children, the launcher"
echo "in practice). The other columns poll the launcher's /proc/PID/status every 50 ms (the last poll"
echo "is up to 50 ms before exit, so a run shorter than that shows its start-up figure)."
echo
echo "| run | peak RSS | last polled VmHWM | RSS when the log passed 1 GiB | last polled RSS |"
echo "|---|---:|---:|---:|---:|"
rss_run small "$rss_size blocks, via dls-pipe" -- "$gen" blocks "$rss_size"
rss_run "" "$rss_size blocks, log written directly" --dls-pipe "$work/no-dls-pipe" -- "$gen" blocks "$rss_size"
rss_run "" "$rss_size lines, line-buffered, via dls-pipe" -- "$gen" lines "$rss_size"
rss_run big "$big blocks, via dls-pipe" -- "$gen" blocks "$big"
rm -f "$log"
echo

# --- (4) line latency -------------------------------------------------------------------------
# gen tick prints a CLOCK_MONOTONIC-stamped line every 10 ms; gen latency stamps each line's
# arrival on the reader's side. Figures: medians over the runs of each run's p50 and p99.
latency_row() { # label, command whose stdout carries the ticks
  local label=$1 cmd=$2 i
  progress "(4) latency: $label"
  for i in $(seq "$runs"); do sh -c "$cmd" | "$gen" latency; done > "$work/lat.txt"
  awk -v label="$label" '
    { for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1], NR] = kv[2] } n = NR }
    function med(key,   i, j, t, a) {
      for (i = 1; i <= n; i++) { a[i] = v[key, i] + 0; for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END { printf "| %s | %.3f ms | %.3f ms | %.3f ms |\n", label, med("p50_ms"), med("p99_ms"), med("max_ms") }' "$work/lat.txt"
}
echo "## 4. Line latency: $ticks lines, one every 10 ms, until each appears on stdout (goal: p50 ≤ replica, p99 ≤ 3 ms)"
echo
echo "| path | p50 | p99 | max |"
echo "|---|---:|---:|---:|"
latency_row "bare pipe: \`gen tick \\| reader\`" "$gen tick $ticks"
latency_row "launcher (via dls-pipe)" "$launcher -- $gen tick $ticks"
latency_row "launcher (log written directly)" "$launcher_direct -- $gen tick $ticks"
latency_row "replica (tail -F of the log; final sleep 1 s)" "env REPLICA_FINAL_SLEEP=1 DLS_APP_URL=$work/code bash $work/replica-home/run_train.sh $gen tick $ticks"
echo

# --- (5) signals and storage: scripts of their own issues -------------------------------------
# ===== Other engineers' benches: tests/bench/signals.sh (SIGTERM-to-handler latency) and
# ===== tests/bench/storage.sh (fetch and upload vs rclone). Each gets the same arguments, the
# ===== binary in TRAINLAUNCHER_BIN, and prints its own Markdown section on stdout.
for extra in signals storage; do
  echo "## 5. ${extra^}"
  echo
  if [ -x "$here/$extra.sh" ] || [ -f "$here/$extra.sh" ]; then
    progress "(5) $extra.sh"
    TRAINLAUNCHER_BIN=$bin bash "$here/$extra.sh" "${quick_flag[@]}"
  else
    echo "(tests/bench/$extra.sh is not there yet)"
  fi
  echo
done

# --- (6) the goals of issue 13, from the figures above ------------------------------------------
value() { # NAME: the figure, or the bench fails
  local v
  v=$(grep -m1 "^$1=" "$BENCH_FIGURES" | cut -d= -f2-)
  [[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || { echo "bench: figure $1 was not measured (got '${v}')" >&2; exit 1; }
  echo "$v"
}
goal_row() { # LABEL FIGURE-TEXT OPERATOR GOAL VALUE
  local met
  met=$(awk -v v="$5" -v g="$4" -v op="$3" 'BEGIN { print ((op == "<=" ? v + 0 <= g + 0 : v + 0 >= g + 0) ? "met" : "**missed**") }')
  echo "| $1 | $2 | $3 $4 | $met |"
}
echo "## 6. Goals (issue 13)"
echo
echo "| figure | measured | goal | |"
echo "|---|---:|---:|---|"
goal_row "\`trainlauncher true\` over bare \`true\` (ms)" "$(value startup.over_true_ms)" "<=" 5 "$(value startup.over_true_ms)"
goal_row "$size in 64 KiB writes via dls-pipe, × the replica" "$(value throughput.blocks.vs_replica)×" ">=" 1.3 "$(value throughput.blocks.vs_replica)"
goal_row "same, × \`gen \\| tee file\`" "$(value throughput.blocks.vs_tee)×" ">=" 1.3 "$(value throughput.blocks.vs_tee)"
goal_row "100-byte lines, line-buffered, × the replica" "$(value throughput.lines.vs_replica)×" ">=" 1.2 "$(value throughput.lines.vs_replica)"
goal_row "fetch 4 × 64 MiB, × rclone" "$(value storage.large.ratio)×" ">=" 1.2 "$(value storage.large.ratio)"
goal_row "fetch 1000 × 8 KiB, × rclone" "$(value storage.small.ratio)×" ">=" 1.3 "$(value storage.small.ratio)"
goal_row "upload 1 GiB + 1000 × 8 KiB, × rclone" "$(value storage.upload.ratio)×" ">=" 1.2 "$(value storage.upload.ratio)"
goal_row "SIGTERM → the command's handler as PID 1, median (ms)" "$(value signals.trainlauncher-pid1.median_ms)" "<=" 1 "$(value signals.trainlauncher-pid1.median_ms)"
goal_row "peak RSS, $rss_size of output (MiB)" "$(value rss.small.peak_mib)" "<=" 24 "$(value rss.small.peak_mib)"
growth=$(awk -v a="$(value rss.small.peak_mib)" -v b="$(value rss.big.peak_mib)" 'BEGIN { printf "%.1f", b - a }')
goal_row "peak RSS growth from $rss_size to $big of output (MiB)" "$growth" "<=" 1 "$growth"
