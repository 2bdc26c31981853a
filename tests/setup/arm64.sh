#!/usr/bin/env bash
# Runs the linux-arm64 launcher on this x64 machine: qemu's user-mode emulator and the arm64
# glibc it loads (QEMU_LD_PREFIX=/usr/aarch64-linux-gnu). Debian packages, installed once.
set -euo pipefail
if command -v qemu-aarch64-static >/dev/null 2>&1 && [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@" >/dev/null; }
apt_get install --no-install-recommends qemu-user-static libc6-arm64-cross 2>/dev/null \
  || { apt_get update && apt_get install --no-install-recommends qemu-user-static libc6-arm64-cross; }
command -v qemu-aarch64-static >/dev/null
