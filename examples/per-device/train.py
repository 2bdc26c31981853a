"""One worker of a --per-device job (TrainLauncher): no torchrun, no rendezvous of its own.

The launcher starts this once per visible accelerator and gives each copy its place:
LOCAL_RANK, LOCAL_WORLD_SIZE, RANK and WORLD_SIZE (global), DEVICE_ID, RANK_ID and RANK_SIZE
(Ascend's names; from the HCCL rank table when there is one), and its device's visibility
(CUDA_VISIBLE_DEVICES / ASCEND_RT_VISIBLE_DEVICES). init_method="env://" then needs nothing
else: MASTER_ADDR and MASTER_PORT come from the launcher too.

Prints, on every worker:
    worker RANK=<r> LOCAL_RANK=<l> WORLD_SIZE=<w> DEVICE_ID=<d> RANK_ID=<id>
    allreduce sum=<3 steps x (1 + 2 + ... + world)> world=<w>
FAIL_RANK=<r>: that rank exits with status 3 after joining, before the all-reduce.
"""
import os
import sys

import torch
import torch.distributed as dist


def main() -> int:
    env = os.environ
    print(f"worker RANK={env['RANK']} LOCAL_RANK={env['LOCAL_RANK']} WORLD_SIZE={env['WORLD_SIZE']} "
          f"DEVICE_ID={env['DEVICE_ID']} RANK_ID={env['RANK_ID']}", flush=True)
    dist.init_process_group(backend="gloo", init_method="env://")
    rank, world = dist.get_rank(), dist.get_world_size()

    if env.get("FAIL_RANK") == str(rank):
        print(f"rank {rank} failing on purpose (FAIL_RANK)", flush=True)
        return 3

    steps = 3
    total = torch.zeros(1)
    for _ in range(steps):
        value = torch.tensor([float(rank + 1)])
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        total += value
    print(f"allreduce sum={total.item():g} world={world}", flush=True)
    dist.barrier()
    dist.destroy_process_group()
    return 0 if total.item() == steps * world * (world + 1) / 2 else 1


if __name__ == "__main__":
    sys.exit(main())
