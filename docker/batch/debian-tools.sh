#!/bin/sh
# Builds the batch tools tree (docker/batch/Dockerfile, TOOLS=debian) in a throwaway Debian
# stage: installs a headless JRE and zip there with apt, then copies them to DIR with every
# symlink into /etc resolved, so DIR works wherever it is copied: DIR/bin/java, DIR/bin/zip.
# They need the final image's glibc (2.36+), libz, libbz2 and libstdc++, which Debian bases have.
# Usage: debian-tools.sh DIR
set -eu
dir=$1
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless zip >/dev/null
rm -rf /var/lib/apt/lists/*
jre=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)
mkdir -p "$dir/bin"
cp -RL "$jre" "$dir/jre"
cp /usr/bin/zip "$dir/bin/zip"
ln -s ../jre/bin/java "$dir/bin/java"
"$dir/bin/java" -version
"$dir/bin/zip" -v >/dev/null
