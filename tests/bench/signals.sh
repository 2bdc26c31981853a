#!/bin/bash
# Benchmark (SPEC 8): time from SIGTERM sent to the supervisor until the command's handler runs,
# median and p99 over N tries (default 100), trainlauncher (published binary) vs tini, each as an
# ordinary child. Usage: tests/bench/signals.sh [TRIES]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tries=${1:-100}
bin=$root/artifacts/bin/trainlauncher
[ -x "$bin" ] || dotnet publish "$root/src/TrainLauncher" -c Release -o "$root/artifacts/bin" >/dev/null
bash "$root/tests/setup/tini.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/sigbench" "$root/tests/bench/sigbench.c"

measure() { # NAME COMMAND-PREFIX...
  local name=$1; shift
  : > "$work/$name.ms"
  for _ in $(seq "$tries"); do
    rm -f "$work/ready" "$work/handled"
    env -i PATH=/usr/bin:/bin HOME="$work" DLS_USER_HOME_DIR="$work" TRAINLAUNCHER_HEALTH_PORT=0 \
      "$@" "$work/sigbench" handler "$work/ready" "$work/handled" >/dev/null 2>&1 &
    local pid=$!
    while [ ! -e "$work/ready" ]; do sleep 0.005; done
    local sent; sent=$("$work/sigbench" send "$pid")
    wait "$pid" || true
    local handled; handled=$(cat "$work/handled")
    echo "scale=3; ($handled - $sent) / 1000000" | bc >> "$work/$name.ms"
  done
  sort -g "$work/$name.ms" | awk -v name="$name" '{ v[NR] = $1 } END {
    p99 = int(NR * 0.99 + 0.5); if (p99 < 1) p99 = 1; if (p99 > NR) p99 = NR
    printf "%-13s tries %d  median %.3f ms  p99 %.3f ms  max %.3f ms\n", name, NR, (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2), v[p99], v[NR] }'
}

measure trainlauncher "$bin" --no-stdbuf --
measure tini tini -s -g --
