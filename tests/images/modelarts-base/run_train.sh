#!/bin/bash
# Stand-in for the base image's own /home/work/run_train.sh (a protected platform tool that
# user images must not change; the launcher image leaves it alone). Runs its arguments.
exec "$@"
