#!/usr/bin/env bash
# Open MPI, mpi4py and OpenSSH for the MPI example and its test (issue 14, part 5): mpirun on
# node 0 starts its daemons on the other nodes over ssh, so the test runs an sshd of its own.
# Uses the system interpreter on purpose: a pyenv/venv python3 earlier on PATH has no mpi4py.
set -euo pipefail

if command -v mpirun >/dev/null 2>&1 && [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1 \
  && /usr/bin/python3 -c "import mpi4py" >/dev/null 2>&1; then
  exit 0
fi

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

export DEBIAN_FRONTEND=noninteractive
sudo_if_needed apt-get update -qq
sudo_if_needed apt-get install -y -qq --no-install-recommends \
  openmpi-bin python3-mpi4py openssh-server openssh-client >/dev/null
/usr/bin/python3 -c "import mpi4py"
