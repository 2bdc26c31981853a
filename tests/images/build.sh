#!/usr/bin/env bash
# Builds the images the container specs run (tests/TrainLauncher.Tests/Images/Container*),
# with buildah and podman instead of a Docker engine, and saves each as an OCI archive:
#   debian          mmdebstrap minbase bookworm + python, imported (`podman import`)
#   modelarts-base  tests/images/modelarts-base: the stand-in ModelArts base
#   launcher-cpu    docker/Dockerfile.cpu, LAUNCHER=prebuilt (artifacts/bin/trainlauncher)
#   batch           docker/batch/Dockerfile, TOOLS=debian
#   custom          examples/custom-image/Dockerfile
#   rule-breaker    tests/images/rule-breaker: writes under /usr, adds a setuid file
# The rootfs, the debian and modelarts-base images (and its archive) are cached in
# $TRAINLAUNCHER_IMAGE_CACHE (default /var/cache/trainlauncher-images), keyed by a hash of
# their recipe; the others are built every time (they hold the launcher under test).
# Usage: build.sh OUT_DIR   (writes OUT_DIR/NAME.oci.tar, OUT_DIR/podman-args, OUT_DIR/sizes)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
cache=${TRAINLAUNCHER_IMAGE_CACHE:-/var/cache/trainlauncher-images}
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9

# Sandbox settings (issue 11): vfs storage, chroot isolation, runc with cgroupfs. A storage of
# our own, so other users of buildah/podman on the machine are neither disturbed nor seen.
storage=(--root "$cache/storage" --runroot /run/trainlauncher-images --storage-driver vfs)
printf '%s\n' "${storage[@]}" --runtime runc --cgroup-manager cgroupfs --events-backend file > "$out/podman-args"
bud() { buildah "${storage[@]}" bud --isolation chroot --network host --quiet "$@" >/dev/null; }
exists() { buildah "${storage[@]}" inspect --type image "$1" >/dev/null 2>&1; }
push() { buildah "${storage[@]}" push --quiet --disable-compression "$1" "oci-archive:$2:$1" >/dev/null; }
key() { cat "$@" | sha256sum | cut -c1-16; }
step() { echo "== $(date +%T) $*"; }

packages=python3,python3-pip,python3-numpy,python-is-python3
recipe="mmdebstrap --variant=minbase --include=$packages bookworm"
debian_key=$(echo "$recipe" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$debian_key.tar
if [[ ! -f "$rootfs" ]]; then
  step "rootfs: $recipe"
  # Bounded and tried twice: one run hung while another apt client held the mirror busy.
  # (mmdebstrap picks the format from the name: it must end in .tar)
  for try in 1 2; do
    rm -rf "$rootfs.partial.tar"
    if timeout 600 $recipe --quiet "$rootfs.partial.tar"; then mv "$rootfs.partial.tar" "$rootfs"; break; fi
    [[ $try == 2 ]] && { echo "mmdebstrap failed twice" >&2; exit 1; }
  done
fi
debian=localhost/tl-debian:$debian_key
if ! exists "$debian"; then
  step "import $debian"
  podman "${storage[@]}" import --quiet "$rootfs" "$debian" >/dev/null
fi

base_dir=$repo/tests/images/modelarts-base
standins=$repo/tests/tools/standins
base_key=$(key <(echo "$debian_key") "$base_dir"/* "$standins"/*)
base=localhost/tl-modelarts-base:$base_key
if ! exists "$base"; then
  step "build $base"
  context=$(mktemp -d)
  trap 'rm -rf "$context"' EXIT
  cp -p "$base_dir"/* "$standins"/* "$context/"
  bud --build-arg DEBIAN_IMAGE="$debian" -t "$base" "$context"
fi
if [[ ! -f "$cache/modelarts-base-$base_key.oci.tar" ]]; then
  push "$base" "$cache/modelarts-base-$base_key.oci.tar.tmp"
  mv "$cache/modelarts-base-$base_key.oci.tar.tmp" "$cache/modelarts-base-$base_key.oci.tar"
fi
ln -f "$cache/modelarts-base-$base_key.oci.tar" "$out/modelarts-base.oci.tar"

cd "$repo"
step "build launcher-cpu (docker/Dockerfile.cpu, LAUNCHER=prebuilt)"
# buildah 1.28 resolves stage names before it sets TARGETARCH itself: pass it.
bud -f docker/Dockerfile.cpu --build-arg BASE_IMAGE="$base" --build-arg LAUNCHER=prebuilt --build-arg TARGETARCH=amd64 -t localhost/tl-launcher-cpu:test .
step "build batch (docker/batch/Dockerfile, TOOLS=debian)"
bud -f docker/batch/Dockerfile --build-arg LAUNCHER_IMAGE=localhost/tl-launcher-cpu:test --build-arg TOOLS=debian \
  --build-arg DEBIAN_IMAGE="$debian" -t localhost/tl-batch:test .
step "build custom (examples/custom-image)"
bud --build-arg LAUNCHER_IMAGE=localhost/tl-launcher-cpu:test -t localhost/tl-custom:test examples/custom-image
step "build rule-breaker"
bud --build-arg LAUNCHER_IMAGE=localhost/tl-launcher-cpu:test -t localhost/tl-rule-breaker:test tests/images/rule-breaker

: > "$out/sizes"
for name in launcher-cpu batch custom rule-breaker; do
  step "push $name"
  rm -f "$out/$name.oci.tar"
  push "localhost/tl-$name:test" "$out/$name.oci.tar"
done
for image in "$base" localhost/tl-launcher-cpu:test localhost/tl-batch:test localhost/tl-custom:test; do
  echo "$image $(podman "${storage[@]}" image inspect --format '{{.Size}}' "$image")" >> "$out/sizes"
done
printf '%s\n' "base=$base" > "$out/images"
step "done"
