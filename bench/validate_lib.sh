# SPDX-License-Identifier: MIT
# Shared set-up of the bench/validate_*.sh scripts that compare ipcbench with standalone
# probes (bench/probes/*.c). Sourced, not run:
#
#   . "$(dirname "$0")/validate_lib.sh"
#   validate_init NAME "$@" -- PROBE...
#
# validate_init checks BUILD_DIR (the first argument: usage and exit 2 without it, exit 2
# when BUILD_DIR/ipcbench is missing), reads the common environment -- CPUS=A,B (default
# 0,1), CC (default cc), PROBE_SECONDS (default 1), PROBE_RUNS (default 3), IPCB_ARGS --
# compiles each PROBE into BUILD_DIR/probes/, and makes a scratch directory removed at exit.
# It sets: src bin cpu_a cpu_b cc secs runs extra probes work. Then:
#   kv LINE KEY               the value of KEY=value in a probe's one-line output
#   median_run KEY CMD...     runs CMD $runs times; prints the whole line of the run whose
#                             KEY is the median
validate_init() {
	vname=$1
	shift
	local build=${1:-} p
	if [ -z "$build" ] || [ "$build" = "-h" ] || [ "$build" = "--help" ] || [ "$build" = "--" ]; then
		echo "usage: $0 BUILD_DIR   (with BUILD_DIR/ipcbench built)" >&2
		exit 2
	fi
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
	[ $# -gt 0 ] && shift
	src=$(cd "$(dirname "$0")" && pwd)
	bin=$build/ipcbench
	if [ ! -x "$bin" ]; then
		echo "$vname: $bin: not found or not executable (build first)" >&2
		exit 2
	fi
	cpus=${CPUS:-0,1}
	cpu_a=${cpus%%,*}
	cpu_b=${cpus##*,}
	cc=${CC:-cc}
	secs=${PROBE_SECONDS:-1}
	runs=${PROBE_RUNS:-3}
	extra=${IPCB_ARGS:-}
	probes=$build/probes
	mkdir -p "$probes" || exit 2
	work=$(mktemp -d "/tmp/$vname.XXXXXX") || exit 2
	# shellcheck disable=SC2064 # expand $work now
	trap "rm -rf '$work'" EXIT
	for p in "$@"; do
		if ! $cc -std=gnu11 -O2 -Wall -Wextra -pthread -o "$probes/$p" "$src/probes/$p.c"; then
			echo "$vname: cannot compile $src/probes/$p.c" >&2
			exit 2
		fi
	done
}

kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

median_run() { # key command...
	local key=$1 i out
	shift
	for ((i = 0; i < runs; i++)); do
		out=$("$@") || { echo "$vname: $* failed" >&2; continue; }
		printf '%s %s\n' "$(kv "$out" "$key")" "$out"
	done | sort -g | awk '{ l[NR] = $0 } END { if (NR) { sub(/^[^ ]* /, "", l[int((NR + 1) / 2)]); print l[int((NR + 1) / 2)] } }'
}
