#!/usr/bin/env bash
# Bench-only tools (not run by the test runner): tini, hyperfine, gcc, GNU time. Idempotent.
set -euo pipefail
need=()
command -v tini >/dev/null || need+=(tini)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v gcc >/dev/null || need+=(gcc)
[ -x /usr/bin/time ] || need+=(time)
command -v stdbuf >/dev/null || need+=(coreutils)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
