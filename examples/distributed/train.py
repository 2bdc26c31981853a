"""Distributed smoke test for TrainLauncher: all-reduce and one DDP step on CPU (gloo).

Works under torchrun (one worker per NPROC_PER_NODE) and as one process per node, because
init_method="env://" reads MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK, which the launcher
exports (torchrun overrides WORLD_SIZE/RANK per worker).

Prints, on every rank:
    allreduce sum=<sum over ranks of (rank + 1), per step> world=<n>
    ddp step loss=<loss> weights_in_sync=True
FAIL_RANK=<r>: that rank exits with status 3 before the all-reduce (to test failure handling).
"""
import os
import sys

import torch
import torch.distributed as dist


def main() -> int:
    dist.init_process_group(backend="gloo", init_method="env://")
    rank = dist.get_rank()
    world = dist.get_world_size()
    print(f"rank {rank} of {world} up (master {os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')})", flush=True)

    if os.environ.get("FAIL_RANK") == str(rank):
        print(f"rank {rank} failing on purpose (FAIL_RANK)", flush=True)
        sys.exit(3)

    steps = 3
    total = torch.zeros(1)
    for _ in range(steps):
        value = torch.tensor([float(rank + 1)])
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        total += value
    expected = steps * world * (world + 1) / 2
    print(f"allreduce sum={total.item():g} world={world}", flush=True)
    if total.item() != expected:
        print(f"allreduce wrong: expected {expected:g}", flush=True)
        return 1

    # One DDP training step of a tiny model: gradients are averaged, so weights stay equal.
    torch.manual_seed(rank)  # different data per rank
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs, targets = torch.randn(8, 4), torch.randn(8, 1)
    loss = torch.nn.functional.mse_loss(model(inputs), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    gathered = [torch.zeros_like(weights) for _ in range(world)]
    dist.all_gather(gathered, weights)
    in_sync = all(torch.equal(gathered[0], w) for w in gathered)
    print(f"ddp step loss={loss.item():.4f} weights_in_sync={in_sync}", flush=True)

    dist.barrier()
    dist.destroy_process_group()
    return 0 if in_sync else 1


if __name__ == "__main__":
    sys.exit(main())
