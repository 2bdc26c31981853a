#!/usr/bin/env bash
# Builds and runs container images without a Docker engine (tests/TrainLauncher.Tests/Images):
# buildah and podman with the vfs storage driver and runc, mmdebstrap for the base rootfs.
# Debian packages, installed once.
set -euo pipefail
packages=(buildah podman runc mmdebstrap uidmap fuse-overlayfs slirp4netns)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@" >/dev/null; }
apt_get install --no-install-recommends "${missing[@]}" 2>/dev/null \
  || { apt_get update && apt_get install --no-install-recommends "${missing[@]}"; }
command -v buildah >/dev/null && command -v podman >/dev/null && command -v mmdebstrap >/dev/null
