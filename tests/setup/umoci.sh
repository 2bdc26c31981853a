#!/usr/bin/env bash
# Installs Debian's umoci, used by the image-checker tests to build a real OCI image layout.
set -euo pipefail
if command -v umoci >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq umoci >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq umoci >/dev/null
fi
command -v umoci >/dev/null
