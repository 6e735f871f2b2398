#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Python's multiprocessing against ipcbench's C doing the same job, in ONE run on the same
# CPUs, then `ipcbench report` on it. The pairing and the ratios are ipcbench's own
# (harness/pyvsc.c): the report's "Python vs C" table and the plot python-python_vs_c.png.
# This script only knows which C cases to run so that every Python case has its
# counterpart: pingpong/stream/prodcons 1:1 over shm-queue, posix-mq and
# socketpair-stream at 64 B; counter and value under pthread-mutex and none; pool; spawn;
# the Manager proxy server over a Unix socket with a thread per client (as Python's).
#
#   bench/python_vs_c.sh [--cpus 0,1] [--out DIR] [--ipcbench PATH] [--reps N]
#   bench/python_vs_c.sh --from RUN_DIR     only the report, of a run already made
#
# Prints the "Python vs C" section of the report. Exit status: ipcbench's (2 bad input).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ipcbench=${IPCBENCH:-$root/build/ipcbench}
cpus=0,1
out=""
from=""
reps=()
while [ $# -gt 0 ]; do
	case $1 in
	--cpus) cpus=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--ipcbench) ipcbench=$2; shift 2 ;;
	--reps) reps=(--reps "$2"); shift 2 ;;
	--from) from=$2; shift 2 ;;
	-h|--help) sed -n '3,15p' "$0"; exit 0 ;;
	*) echo "python_vs_c.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -x "$ipcbench" ] || { echo "python_vs_c.sh: no ipcbench at $ipcbench (--ipcbench)" >&2; exit 2; }

if [ -z "$from" ]; then
	out=${out:-$(mktemp -d /tmp/ipcb-python-vs-c-XXXXXX)}
	"$ipcbench" run pingpong,stream,prodcons,counter,value,manager,pool,spawn,python --quick \
		--mech shm-queue,posix-mq,socketpair-stream,pthread-mutex,none --sizes 64 \
		--prodcons-producers 1 --prodcons-consumers 1 --manager-transport unix \
		--manager-server thread --cpus "$cpus" --out "$out" --progress off "${reps[@]}" \
		>/dev/null || [ $? -eq 1 ]       # a FAILED case is reported, not fatal here
	from=$out/latest
fi
"$ipcbench" report "$from"
sed -n '/^## Python vs C/,/^## /p' "$from/report.md" | sed '$d'
