#!/bin/sh
# Started by the batch service as `/bin/sh /home/run.sh [COMMAND...]`: hand over to the launcher.
exec /home/work/trainlauncher/trainlauncher "$@"
