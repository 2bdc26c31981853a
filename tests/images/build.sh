#!/usr/bin/env bash
# Builds the images the container specs run (tests/TrainLauncher.Tests/Images/Container*),
# with buildah and podman instead of a Docker engine, and saves each as an OCI archive:
#   debian          mmdebstrap minbase bookworm + python, imported (`podman import`)
#   modelarts-base  tests/images/modelarts-base: the stand-in ModelArts base
#   launcher-cpu    docker/Dockerfile.cpu, LAUNCHER=prebuilt (artifacts/bin/trainlauncher)
#   launcher-cpu-arm64  the same for linux/arm64 (artifacts/bin-arm64/trainlauncher) on an
#                   unpacked arm64 Debian (libc6, libssl3)
#   batch           docker/batch/Dockerfile, TOOLS=debian
#   custom          examples/custom-image/Dockerfile
#   rule-breaker    tests/images/rule-breaker: writes under /usr, adds a setuid file
# The rootfs tars, the debian and modelarts-base images (and their archives) are cached in
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
# vfs keeps a full copy per layer: drop the working containers buildah leaves for the stages
# and the images no tag names (the last run's, intermediate stages), else every run adds ~2 GB.
prune() { buildah "${storage[@]}" rm --all >/dev/null; buildah "${storage[@]}" rmi --prune >/dev/null; }
prune

# Makes (once) the rootfs tar of an mmdebstrap recipe and imports it; prints the image name.
debian_image() {
  local name=$1 arch=$2 recipe=$3 key rootfs image
  key=$(echo "$recipe" | sha256sum | cut -c1-16)
  rootfs=$cache/rootfs-$key.tar image=localhost/$name:$key
  if [[ ! -f "$rootfs" ]]; then
    step "rootfs: $recipe" >&2
    # Bounded and tried twice: one run hung while another apt client held the mirror busy.
    # (mmdebstrap picks the format from the name: it must end in .tar)
    for try in 1 2; do
      rm -rf "$rootfs.partial.tar"
      if timeout 600 $recipe --quiet "$rootfs.partial.tar" >&2; then mv "$rootfs.partial.tar" "$rootfs"; break; fi
      [[ $try == 2 ]] && { echo "mmdebstrap failed twice: $recipe" >&2; exit 1; }
    done
  fi
  if ! exists "$image"; then
    step "import $image" >&2
    podman "${storage[@]}" import --quiet --arch "$arch" "$rootfs" "$image" >/dev/null
  fi
  echo "$image"
}

# Saves an image that only changes with its recipe once, in the cache; links it into OUT_DIR.
cached_archive() {
  local image=$1 name=$2 file
  file=$cache/$name-${image##*:}.oci.tar
  if [[ ! -f "$file" ]]; then
    push "$image" "$file.partial"
    mv "$file.partial" "$file"
  fi
  ln -f "$file" "$out/$name.oci.tar"
}

debian=$(debian_image tl-debian amd64 "mmdebstrap --variant=minbase --include=python3,python3-pip,python3-numpy,python-is-python3 bookworm")
debian_key=${debian##*:}
# arm64: only unpacked (no maintainer scripts: they would need arm64 emulation), enough for the
# launcher image and to run its launcher under qemu against the image's own glibc and libssl.
debian_arm64=$(debian_image tl-debian-arm64 arm64 "mmdebstrap --variant=extract --arch=arm64 --include=libc6,libssl3 bookworm")
cached_archive "$debian_arm64" debian-arm64

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
cached_archive "$base" modelarts-base

cd "$repo"
step "build launcher-cpu (docker/Dockerfile.cpu, LAUNCHER=prebuilt)"
# buildah 1.28 resolves stage names before it sets TARGETARCH itself: pass it.
bud -f docker/Dockerfile.cpu --build-arg BASE_IMAGE="$base" --build-arg LAUNCHER=prebuilt --build-arg TARGETARCH=amd64 -t localhost/tl-launcher-cpu:test .
step "build launcher-cpu-arm64 (the same file, --platform linux/arm64)"
bud --platform linux/arm64 -f docker/Dockerfile.cpu --build-arg BASE_IMAGE="$debian_arm64" --build-arg LAUNCHER=prebuilt \
  --build-arg TARGETARCH=arm64 -t localhost/tl-launcher-cpu-arm64:test .
step "build batch (docker/batch/Dockerfile, TOOLS=debian)"
bud -f docker/batch/Dockerfile --build-arg LAUNCHER_IMAGE=localhost/tl-launcher-cpu:test --build-arg TOOLS=debian \
  --build-arg DEBIAN_IMAGE="$debian" -t localhost/tl-batch:test .
step "build custom (examples/custom-image)"
bud --build-arg LAUNCHER_IMAGE=localhost/tl-launcher-cpu:test -t localhost/tl-custom:test examples/custom-image
step "build rule-breaker"
bud --build-arg LAUNCHER_IMAGE=localhost/tl-launcher-cpu:test -t localhost/tl-rule-breaker:test tests/images/rule-breaker

: > "$out/sizes"
step "push launcher-cpu launcher-cpu-arm64 batch custom rule-breaker"
pushes=()
for name in launcher-cpu launcher-cpu-arm64 batch custom rule-breaker; do
  rm -f "$out/$name.oci.tar"
  push "localhost/tl-$name:test" "$out/$name.oci.tar" &  # diffing vfs layers: side by side
  pushes+=($!)
done
for pid in "${pushes[@]}"; do wait "$pid"; done
for image in "$base" localhost/tl-launcher-cpu:test localhost/tl-batch:test localhost/tl-custom:test "$debian_arm64" localhost/tl-launcher-cpu-arm64:test; do
  echo "$image $(podman "${storage[@]}" image inspect --format '{{.Size}}' "$image")" >> "$out/sizes"
done
printf '%s\n' "base=$base" > "$out/images"
step "done"
