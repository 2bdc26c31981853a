#!/usr/bin/env bash
# Debian's PyTorch (CPU) for the distributed examples and their tests (issue 5).
# Uses the system interpreter on purpose: a pyenv/venv python3 earlier on PATH has no torch.
set -euo pipefail

if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
  exit 0
fi

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

export DEBIAN_FRONTEND=noninteractive
sudo_if_needed apt-get update -qq
sudo_if_needed apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
/usr/bin/python3 -c "import torch" 
