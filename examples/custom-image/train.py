"""A stand-in training script: reads the platform's URLs, writes a result."""
import os
import sys

import numpy as np


def main() -> int:
    epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 1
    weights = np.zeros(4)
    for epoch in range(epochs):
        weights += 0.1
        print(f"epoch {epoch + 1}/{epochs} loss={1.0 / (epoch + 1):.4f}", flush=True)
    out = os.environ.get("DLS_TRAIN_URL", "(no output url)")
    print(f"done; output would go to {out}; weights={weights.tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
