#!/usr/bin/env bash
# What tests/fuzz/run.sh needs, idempotent: afl++ (Debian) and the SharpFuzz instrumenter
# (dotnet local tool pinned in dotnet-tools.json).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v afl-fuzz >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi
dotnet tool restore >/dev/null
