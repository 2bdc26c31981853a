#!/bin/bash
# Bench replica of the old ModelArts run_train.sh, step by step as ../../../shared/OLD-FLOW.md
# (steps 1-12) describes it, using whatever dls-* tools are on PATH (tests/tools/standins in the
# bench). Like the original it must live in the job's home dir: the bench copies it there.
# One knob that the original does not have: REPLICA_FINAL_SLEEP (default 3, the original's
# fixed sleep), so the throughput runs can leave that sleep out.

# 1. home = this script's dir; job dir; Python settings.
DLS_USER_HOME_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DLS_USER_HOME_DIR
cd "$DLS_USER_HOME_DIR" || exit 1
job_dir=$DLS_USER_HOME_DIR/user-job-dir
export PYTHONPATH=$job_dir${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1

# 2. DNS over TCP.
if [ -n "${DLS_USE_DNS_TCP:-}" ] && [ "$DLS_USE_DNS_TCP" != 0 ]; then
  dls-dns-fixer
fi

# 3. Unset other jobs' variables (all matches when there is no job id).
own_prefix=$(printf '%s' "${DLS_JOB_ID:-}" | tr 'a-z-' 'A-Z_')
for name in $(compgen -e); do
  if [[ $name =~ ^[A-Z0-9]{6}_[0-9]{8}_ || $name =~ ^KUBERNETES_ ]]; then
    if [ -z "$own_prefix" ] || [[ $name != "$own_prefix"* ]]; then unset "$name"; fi
  fi
done

# 4. Secrets: DLS_AES__NAME -> NAME (the DLS_AES__ variables stay).
aes_names=$(compgen -e | grep '^DLS_AES__')
if [ -n "${DLS_DECRYPTOR_KEY_FILE:-}" ]; then
  for name in $aes_names; do
    export "${name#DLS_AES__}=$(dls-decryptor "$DLS_DECRYPTOR_KEY_FILE" "${!name}")"
  done
elif [ -n "${DLS_KEY_ENDPOINT:-}" ] && [ -n "${DLS_KEY_JOB_ID:-}" ]; then
  names_file=$(mktemp /tmp/dls-aes-names.XXXXXX)
  cipher_file=$(mktemp /tmp/dls-aes-cipher.XXXXXX)
  plain_file=$(mktemp /tmp/dls-aes-plain.XXXXXX)
  for name in $aes_names; do
    echo "${name#DLS_AES__}" >> "$names_file"
    printf '%s\n' "${!name}" >> "$cipher_file"
  done
  dls-key-client < "$cipher_file" > "$plain_file"
  source <(paste -d '\t' "$names_file" "$plain_file" | while IFS=$'\t' read -r n v; do printf 'export %s=%q\n' "$n" "$v"; done)
  rm -f "$names_file" "$cipher_file" "$plain_file"
else
  echo "no related environment variables found for decryption"
fi

# 5. Header.
echo "user: $(id)"
echo "pwd: $job_dir"
echo "app_url: ${DLS_APP_URL:-}"
LOG=/tmp/dls-task-${DLS_TASK_INDEX:-}.log
echo "log_url: $LOG"
echo "command: $*"

# 6. Job dir.
mkdir -p "$job_dir"
cd "$job_dir" || exit 1

# 7. Log file.
umask 022
if command -v dls-pipe >/dev/null 2>&1; then
  dls-pipe "$LOG" create
else
  mkdir -p "$(dirname "$LOG")"
  touch "$LOG"
fi

# 8. Mirror the log to stdout for the rest of the run.
tail -F "$LOG" &
tail_pid=$!

logger() {
  if command -v dls-pipe >/dev/null 2>&1; then
    dls-pipe "$LOG" "$@"
  elif [ "${1:-}" = append ]; then
    cat >> "$LOG"
  else
    cat > "$LOG"
  fi
}

# 9. Code.
if [ -z "${DLS_USE_DOWNLOADER:-}" ] || [ "$DLS_USE_DOWNLOADER" = 0 ]; then
  cp -av "$DLS_APP_URL" ./ 2>&1 | tee /tmp/dls-downloader.log
else
  dls-downloader -r -s "$DLS_APP_URL" -d ./ 2>&1 | tee /tmp/dls-downloader.log
fi
fetch_status=${PIPESTATUS[0]}

# 10. Run (or report the failed download).
if [ "$fetch_status" -eq 0 ]; then
  stdbuf -oL -eL "$@" 2>&1 | logger
  status=${PIPESTATUS[0]}
else
  { echo "App download error: "; cat /tmp/dls-downloader.log; } | logger append
  status=127
fi

# 11. Log upload.
if [ -n "${DLS_USE_UPLOADER:-}" ] && [ "$DLS_USE_UPLOADER" != 0 ]; then
  upload_dir=${DLS_UPLOAD_LOG_OBS_DIR%/}/dls-log-${DLS_DLKS_JOB_ID:-unknown-id}
  if ! dls-downloader -s "$LOG" -d "$upload_dir" > /tmp/dls-downloader.log 2>&1; then
    { echo "Log upload error: "; cat /tmp/dls-downloader.log; } | logger append
  fi
fi

# 12. Let tail catch up, stop it, exit with the command's code.
sleep "${REPLICA_FINAL_SLEEP:-3}"
kill "$tail_pid" 2>/dev/null
exit "$status"
