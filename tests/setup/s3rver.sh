#!/usr/bin/env bash
# Installs s3rver (a local S3 server for the storage tests and benchmark) into tests/.deps.
set -euo pipefail
deps="$(cd "$(dirname "$0")/.." && pwd)/.deps"
version=3.7.1
if [[ -f "$deps/node_modules/s3rver/package.json" ]] \
  && grep -q "\"version\": \"$version\"" "$deps/node_modules/s3rver/package.json"; then
  exit 0
fi
command -v npm >/dev/null || { echo "s3rver.sh: npm is required (apt-get install nodejs npm)" >&2; exit 1; }
mkdir -p "$deps"
npm install --prefix "$deps" --no-audit --no-fund --loglevel=error "s3rver@$version" >/dev/null
test -f "$deps/node_modules/s3rver/bin/s3rver.js"
