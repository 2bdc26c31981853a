"""A tiny "training" job for the quickstart: progress lines, one decrypted variable, one output file."""
import hashlib
import os
import time

token = os.environ.get("API_TOKEN")
if token is None:
    raise SystemExit("API_TOKEN is missing: the launcher should have decrypted DLS_AES__API_TOKEN")
# Never print a secret: show that it arrived by a short fingerprint only.
print(f"API_TOKEN received ({len(token)} chars, sha256 {hashlib.sha256(token.encode()).hexdigest()[:8]}...)")

loss = 1.0
for epoch in range(1, 6):
    loss *= 0.6
    print(f"epoch {epoch}/5 loss={loss:.4f}")
    time.sleep(0.05)

out_dir = os.path.join(os.getcwd(), "output")
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "model.txt"), "w") as f:
    f.write(f"final loss {loss:.4f}\n")
print(f"wrote {os.path.join(out_dir, 'model.txt')}")
