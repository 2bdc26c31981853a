#!/bin/bash
# tini (Debian package): the reference init the supervision tests compare the launcher with.
set -euo pipefail
command -v tini >/dev/null 2>&1 && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq tini >/dev/null
