"""Every rank of an MPI job says who it is, then the ranks all-reduce rank + 1.

Run by mpirun (examples/mpi/README.md): each rank prints
    rank R of N on HOST up
and, after the all-reduce,
    rank R allreduce sum=S world=N
with S = 1 + 2 + ... + N. FAIL_RANK=R makes rank R abort the whole job with status 3
(MPI.COMM_WORLD.Abort), as a crashing rank would.
"""
import os
import socket
import sys

from mpi4py import MPI


def say(line):
    # One write per line: Open MPI gives local ranks a terminal, where print() writes the text
    # and its newline separately, and mpirun passes on whatever arrives first, so another
    # rank's line could land between the two.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
say(f"rank {rank} of {size} on {socket.gethostname()} up")

if os.environ.get("FAIL_RANK") == str(rank):
    say(f"rank {rank} failing on purpose (FAIL_RANK)")
    comm.Abort(3)

total = comm.allreduce(rank + 1, op=MPI.SUM)
say(f"rank {rank} allreduce sum={total} world={size}")
sys.exit(0 if total == size * (size + 1) // 2 else 1)
