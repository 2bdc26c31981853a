#!/usr/bin/env bash
# Fetch benchmark (issue 4): the launcher's built-in client vs `rclone copy`, same local s3rver.
#   tests/bench/fetch.sh [--quick]
# The launcher fetches DLS_APP_URL=obs://bench/TREE/ with `--downloader builtin` and runs `true`;
# its binary is $TRAINLAUNCHER_BIN (tests/bench/run.sh passes it), else published here with
# NativeAOT. Prints a Markdown table: medians of 5 runs (3 with --quick), ratios, s3rver CPU over
# wall (it is single-threaded), peak RSS (the launcher's, or `true`'s if larger: it is tiny).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
case "${1-}" in
  --quick) runs=3 ;;
  "") runs=5 ;;
  *) echo "usage: tests/bench/fetch.sh [--quick]" >&2; exit 2 ;;
esac
work="$(mktemp -d /tmp/fetch-bench.XXXXXX)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$root/tests/setup/s3rver.sh"
if ! command -v rclone >/dev/null; then
  apt-get update -qq && apt-get install -y -qq rclone >/dev/null
fi
launcher="${TRAINLAUNCHER_BIN:-}"
if [[ -z "$launcher" ]]; then
  dotnet publish "$root/src/TrainLauncher" -c Release -o "$work/launcher" -v quiet -nologo >/dev/null
  launcher="$work/launcher/trainlauncher"
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/s3"
NODE_OPTIONS=--openssl-legacy-provider node "$root/tests/.deps/node_modules/s3rver/bin/s3rver.js" \
  -d "$work/s3" -a 127.0.0.1 -p "$port" --silent >/dev/null &
server_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# rclone's AWS SDK refuses a custom CA bundle with its own HTTP transport; plain http needs none.
unset AWS_CA_BUNDLE
export OBS_ENDPOINT="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
  RCLONE_CONFIG_BENCH_ENDPOINT="$OBS_ENDPOINT" RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3RVER \
  RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true

echo "seeding: 1000 files of 8 KiB, 4 files of 64 MiB" >&2
mkdir -p "$work/seed/small" "$work/seed/large"
for i in $(seq -w 1 1000); do head -c 8192 /dev/urandom > "$work/seed/small/f$i.bin"; done
for i in 1 2 3 4; do head -c $((64 << 20)) /dev/urandom > "$work/seed/large/model$i.bin"; done
rclone mkdir bench:bench
rclone copy "$work/seed/small" bench:bench/small
rclone copy "$work/seed/large" bench:bench/large

server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
hz="$(getconf CLK_TCK)"

# measure NAME TREE CMD... → appends "wall server_cpu_over_wall peak_rss_kib" to $work/NAME-TREE
measure() {
  local name="$1" tree="$2"; shift 2
  local target="$work/out"
  rm -rf "$target"
  local t0 c0 t1 c1 rss
  c0="$(server_ticks)"; t0="$(date +%s.%N)"
  /usr/bin/time -f %M -o "$work/rss" "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; exit 1; }
  t1="$(date +%s.%N)"; c1="$(server_ticks)"
  rss="$(tail -1 "$work/rss")"
  local files; files="$(find "$target" -type f | wc -l)"
  [[ "$files" == "$([[ $tree == small ]] && echo 1000 || echo 4)" ]] || { echo "$name fetched $files files" >&2; exit 1; }
  python3 -c "w=$t1-$t0; print(f'{w:.3f} {($c1-$c0)/$hz/w:.2f} $rss')" >>"$work/$name-$tree"
}

for tree in small large; do
  for run in $(seq $runs); do
    echo "run $run/$runs: $tree" >&2
    measure launcher "$tree" env DLS_APP_URL="obs://bench/$tree/" DLS_USER_JOB_DIR="$work/out" \
      "$launcher" --downloader builtin --log-level error --health-port 0 --log-file '' --termination-log '' -- true
    measure rclone "$tree" rclone copy "bench:bench/$tree" "$work/out"
  done
done

python3 - "$work" "$runs" <<'PY'
import statistics, sys
work, runs = sys.argv[1], sys.argv[2]
def load(name, tree):
    rows = [list(map(float, l.split())) for l in open(f"{work}/{name}-{tree}")]
    return [statistics.median(c) for c in zip(*rows)]
print(f"| tree | launcher s (median of {runs}) | rclone s (median of {runs}) | rclone / launcher | s3rver CPU/wall, launcher | s3rver CPU/wall, rclone | launcher peak RSS MiB | rclone peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for tree, label in (("small", "1000 × 8 KiB"), ("large", "4 × 64 MiB")):
    l, r = load("launcher", tree), load("rclone", tree)
    print(f"| {label} | {l[0]:.2f} | {r[0]:.2f} | {r[0]/l[0]:.2f}× | {l[1]:.2f} | {r[1]:.2f} | {l[2]/1024:.0f} | {r[2]/1024:.0f} |")
PY
