#!/usr/bin/env bash
# The log path alone (issue 13's throughput and RSS rows), side by side: the launcher, an older
# launcher binary (BEFORE=path, optional: a before/after comparison in one run), the bash replica
# of run_train.sh and `gen | tee`.
#   tests/bench/logpath.sh [SIZE] [ROUNDS]    defaults: 256M, 7 rounds; the RSS pass writes 256 MiB and 1 GiB
# Each throughput row runs twice: stdout to /dev/null (not a pipe: the plain read/write path) and
# stdout into a pipe (`| cat >/dev/null`, as under a container runtime: the tee(2) path).
# Prints Markdown on stdout; progress on stderr.
set -euo pipefail

usage() { echo "usage: tests/bench/logpath.sh [SIZE (e.g. 256M)] [ROUNDS]" >&2; exit 2; }
[ $# -le 2 ] || usage
size=${1:-256M}
runs=${2:-7}
[[ $size =~ ^[0-9]+[KMG]?$ ]] || usage
[[ $runs =~ ^[1-9][0-9]*$ ]] || usage
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bash "$here/setup.sh"
bin=${TRAINLAUNCHER_BIN:-$repo/artifacts/bin/trainlauncher}
before=${BEFORE-}
[ -x "$bin" ] || { echo "logpath.sh: no launcher at $bin (publish it first)" >&2; exit 1; }
[ -z "$before" ] || [ -x "$before" ] || { echo "logpath.sh: BEFORE=$before is not executable" >&2; exit 1; }

work=$(mktemp -d /tmp/tl-logpath.XXXXXX)
task_index=$((90000 + RANDOM))
log=/tmp/dls-task-$task_index.log
export TRAINLAUNCHER_LOG_FILE=$log
trap 'rm -rf "$work" "$log"' EXIT
gcc -O2 -o "$work/gen" "$here/gen.c"
gen=$work/gen
mkdir -p "$work/home" "$work/replica-home" "$work/code"
cp "$here/replica/run_train.sh" "$work/replica-home/run_train.sh"
export DLS_USER_HOME_DIR=$work/home
export PATH=$repo/tests/tools/standins:$PATH
replica="env DLS_TASK_INDEX=$task_index REPLICA_FINAL_SLEEP=0 DLS_APP_URL=$work/code bash $work/replica-home/run_train.sh"

progress() { echo "logpath: $*" >&2; }
# Interleaved rounds: each round runs every command of a table once, so a load change on this
# shared machine hits all of them alike; the figure is each command's median over the rounds.
interleaved_medians() { # commands...; prints one median (seconds) per line, in order
  local round i start end
  local -a times=()
  for round in $(seq "$runs"); do
    for i in $(seq 0 $(($# - 1))); do
      rm -f "$log" "$work/tee.log"
      start=$(date +%s%N)
      bash -c "${@:$((i + 1)):1}" || { echo "logpath: failed: ${@:$((i + 1)):1}" >&2; exit 1; }
      end=$(date +%s%N)
      times[$i]="${times[$i]-} $(( (end - start) / 1000 ))"
    done
    progress "  round $round done"
  done
  for i in $(seq 0 $(($# - 1))); do
    tr ' ' '\n' <<<"${times[$i]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f\n", m / 1e6 }'
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", b / a }'; }

echo "# Log path bench ($size, $runs interleaved rounds, medians)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(uname -r); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- launcher: $bin${before:+; before: $before}"
echo
echo "Ratios: the replica's time over the row's (≥ 1: faster than the replica)."
echo
for kind in blocks lines; do
  for out in devnull pipe; do
    if [ $out = devnull ]; then sink=">/dev/null"; else sink="| cat >/dev/null"; fi
    if [ $kind = blocks ]; then title="64 KiB writes"; tee_cmd="$gen $kind $size | tee $work/tee.log $sink"
    else title="100-byte lines, line-buffered"; tee_cmd="stdbuf -oL $gen $kind $size | tee $work/tee.log $sink"; fi
    labels=("launcher, via dls-pipe" "launcher, log written directly")
    cmds=("$bin --log-level error -- $gen $kind $size $sink" "$bin --log-level error --dls-pipe $work/none -- $gen $kind $size $sink")
    if [ -n "$before" ]; then
      labels+=("before, via dls-pipe" "before, log written directly")
      cmds+=("$before --log-level error -- $gen $kind $size $sink" "$before --log-level error --dls-pipe $work/none -- $gen $kind $size $sink")
    fi
    labels+=("replica (3 s sleep left out)" "\`gen \\| tee file\`")
    cmds+=("$replica $gen $kind $size $sink" "$tee_cmd")
    progress "$title, stdout ${sink#| }"
    mapfile -t medians < <(interleaved_medians "${cmds[@]}")
    t_replica=${medians[$((${#medians[@]} - 2))]}
    echo "## $title, stdout ${sink#| }"
    echo
    echo "| run | median | vs replica |"
    echo "|---|---:|---:|"
    for i in "${!labels[@]}"; do
      echo "| ${labels[$i]} | $(awk -v s="${medians[$i]}" 'BEGIN { printf "%.0f ms", s * 1000 }') | $(ratio "${medians[$i]}" "$t_replica") |"
    done
    echo
  done
done

# Peak RSS (GNU time: max RSS of the launcher process) for 256 MiB and 1 GiB: flat means equal.
echo "## Peak RSS of the launcher (GNU time, max RSS)"
echo
echo "| binary | run | 256 MiB | 1 GiB |"
echo "|---|---|---:|---:|"
peak() { # binary, size, extra args
  rm -f "$log"
  /usr/bin/time -f %M -o "$work/maxrss" "$1" --log-level error $3 -- "$gen" blocks "$2" >/dev/null
  awk -v k="$(tail -1 "$work/maxrss")" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}
for b in "$bin" ${before:+"$before"}; do
  name=launcher; [ "$b" = "$before" ] && name=before
  progress "RSS: $name"
  echo "| $name | via dls-pipe | $(peak "$b" 256M "") | $(peak "$b" 1G "") |"
  echo "| $name | log written directly | $(peak "$b" 256M "--dls-pipe $work/none") | $(peak "$b" 1G "--dls-pipe $work/none") |"
done
