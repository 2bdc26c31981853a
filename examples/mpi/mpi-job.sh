#!/usr/bin/env bash
# The one command of every node of a multi-node MPI job under trainlauncher (README.md here):
#
#   trainlauncher -- bash mpi-job.sh [mpirun options] PROGRAM [ARGS...]
#
# Node 0 (NODE_RANK=0) waits until every other node's sshd answers, runs
#   mpirun --hostfile $TRAINLAUNCHER_HOSTFILE [mpirun options] PROGRAM [ARGS...]
# (mpirun starts the ranks of the other nodes through ssh), then tells the other nodes the job is
# done and exits with mpirun's status. Every other node runs sshd in the foreground until node 0
# tells it the job is done (its status is then 0) or the platform stops it.
# A single-node job (no hostfile) runs mpirun with NPROC_PER_NODE ranks on this node.
#
# Settings (environment):
#   MPI_SSH_PORT       sshd's port on the other nodes (default 22)
#   MPI_SSH_OPTIONS    more ssh client options, e.g. "-i /etc/mpi-keys/id_ed25519"
#   MPI_SSHD_OPTIONS   more sshd options, e.g. "-f /etc/mpi-keys/sshd_config"
#   MPI_SSHD_PIDFILE   where the other nodes' sshd writes its pid (default /run/trainlauncher-mpi-sshd.pid)
#   MPI_WAIT_WORKERS   seconds node 0 waits for the other nodes' sshd (default 600)
set -euo pipefail

port=${MPI_SSH_PORT:-22}
pidfile=${MPI_SSHD_PIDFILE:-/run/trainlauncher-mpi-sshd.pid}
wait_workers=${MPI_WAIT_WORKERS:-600}
# The job's pods are made and remade with new host keys inside the job's own network: like
# Volcano's ssh plugin and the MPI operators, no known_hosts; never a password prompt.
ssh="ssh -p $port -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 ${MPI_SSH_OPTIONS:-}"

# Open MPI refuses root unless told; training containers often run as root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

if [ -z "${TRAINLAUNCHER_HOSTFILE:-}" ]; then
  exec mpirun -np "${NPROC_PER_NODE:-1}" "$@"
fi

if [ "${NODE_RANK:-0}" != 0 ]; then
  # sshd's privilege separation directory, which root's sshd needs: /run starts empty in a container.
  if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; fi
  # shellcheck disable=SC2086 # MPI_SSHD_OPTIONS is a list of options
  exec /usr/sbin/sshd -D -e -p "$port" -o PidFile="$pidfile" ${MPI_SSHD_OPTIONS:-}
fi

# The hostfile lists the nodes in rank order: this node first, then the ones mpirun reaches by ssh.
workers=$(tail -n +2 "$TRAINLAUNCHER_HOSTFILE" | cut -d' ' -f1)
for host in $workers; do
  waited_from=$SECONDS
  until error=$($ssh "$host" true 2>&1); do
    if [ $((SECONDS - waited_from)) -ge "$wait_workers" ]; then
      echo "mpi-job: sshd on $host:$port did not let us in within $wait_workers s (MPI_WAIT_WORKERS): $error" >&2
      exit 1
    fi
    sleep 1
  done
done

status=0
mpirun --hostfile "$TRAINLAUNCHER_HOSTFILE" --mca plm_rsh_agent "$ssh" "$@" || status=$?

# The other nodes' sshd ends on SIGTERM with status 0, and their launchers with it.
for host in $workers; do
  # shellcheck disable=SC2029 # $pidfile is meant to expand here
  $ssh "$host" "kill -TERM \$(cat '$pidfile')" ||
    echo "mpi-job: could not tell $host the job is done: its launcher ends when the platform stops it" >&2
done
exit $status
