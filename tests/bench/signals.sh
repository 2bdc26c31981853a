#!/bin/bash
# Benchmark (SPEC 8, issue 13): time from SIGTERM sent to the supervisor until the command's
# handler runs, trainlauncher (published binary) vs tini, each as an ordinary child and as PID 1
# of a new PID namespace (`unshare --pid --fork --mount-proc`: the launcher's init, then the
# launcher, then the command's group). Median, p99 and max over the tries.
#   tests/bench/signals.sh [--quick]      100 tries per row (20 with --quick)
# Prints a Markdown table on stdout. With BENCH_FIGURES=FILE it also appends
# `signals.<row>.median_ms=N` lines there (tests/bench/run.sh reads them for its goal table).
# Fails (exit 1) instead of printing a figure it did not measure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
case "${1-}" in
  --quick) tries=20 ;;
  "") tries=100 ;;
  *) echo "usage: tests/bench/signals.sh [--quick]" >&2; exit 2 ;;
esac
bin=${TRAINLAUNCHER_BIN:-$root/artifacts/bin/trainlauncher}
[ -x "$bin" ] || dotnet publish "$root/src/TrainLauncher" -c Release -o "$root/artifacts/bin" >/dev/null
bash "$root/tests/setup/tini.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/sigbench" "$root/tests/bench/sigbench.c"

# The pid to signal: the process itself, or under unshare its child (PID 1 inside).
target_of() { # MODE PID
  local mode=$1 pid=$2 child=""
  if [ "$mode" = child ]; then echo "$pid"; return; fi
  while [ -z "$child" ]; do
    child=$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true)
    kill -0 "$pid" 2>/dev/null || { echo "signals.sh: unshare exited before its child started" >&2; exit 1; }
  done
  echo "$child"
}

measure() { # ROW MODE COMMAND-PREFIX...
  local row=$1 mode=$2; shift 2
  local prefix=()
  [ "$mode" = pid1 ] && prefix=(unshare --pid --fork --mount-proc)
  : > "$work/$row.ms"
  for _ in $(seq "$tries"); do
    rm -f "$work/ready" "$work/handled"
    env -i PATH=/usr/bin:/bin HOME="$work" DLS_USER_HOME_DIR="$work" TRAINLAUNCHER_HEALTH_PORT=0 \
      "${prefix[@]}" "$@" "$work/sigbench" handler "$work/ready" "$work/handled" >/dev/null 2>&1 &
    local pid=$!
    while [ ! -e "$work/ready" ]; do
      kill -0 "$pid" 2>/dev/null || { echo "signals.sh: $row: the supervisor exited before the command was ready" >&2; exit 1; }
      sleep 0.005
    done
    local sent; sent=$("$work/sigbench" send "$(target_of "$mode" "$pid")")
    wait "$pid" || true
    [ -s "$work/handled" ] || { echo "signals.sh: $row: the command's handler never ran" >&2; exit 1; }
    local handled; handled=$(cat "$work/handled")
    echo "scale=3; ($handled - $sent) / 1000000" | bc >> "$work/$row.ms"
  done
  local n; n=$(grep -c . "$work/$row.ms" || true)
  [ "$n" = "$tries" ] || { echo "signals.sh: $row: $n of $tries tries measured" >&2; exit 1; }
  sort -g "$work/$row.ms" | awk -v row="$row" -v figures="${BENCH_FIGURES:-}" '{ v[NR] = $1 } END {
    p99 = int(NR * 0.99 + 0.5); if (p99 < 1) p99 = 1; if (p99 > NR) p99 = NR
    median = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
    printf "| %s | %d | %.3f ms | %.3f ms | %.3f ms |\n", row, NR, median, v[p99], v[NR]
    if (figures != "") printf "signals.%s.median_ms=%.3f\n", row, median >> figures }'
}

echo "| supervisor | tries | median | p99 | max |"
echo "|---|---:|---:|---:|---:|"
measure trainlauncher child "$bin" --no-stdbuf --
measure tini child tini -s -g --
measure trainlauncher-pid1 pid1 "$bin" --no-stdbuf --
measure tini-pid1 pid1 tini -g --
