#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Measure the shm-ring transport against the targets the project set for it, next to three
# standalone probes (bench/probes/, compiled here, never part of the library):
#
#   spsc_ref            a classic padded SPSC ring with cached indices (Rigtorp's idea),
#                       64-byte messages between two pinned processes
#   cacheline_pingpong  a raw cache-line ping-pong between the two CPUs (the floor), and
#                       the same round trip carrying a stamped 64-byte message through two
#                       bare slot rings (the floor for a message that carries its payload)
#   memcpy_bw           single-core memcpy bandwidth at 1 MiB
#
# and then ipcbench itself:
#   ipcbench run stream   --mech shm-ring --sizes 64,1M --cpus A,B
#   ipcbench run pingpong --mech shm-ring --sizes 8,64 --cpus A,B --shm-ring-wait spin
#
# Targets (printed as PASS or MISS; recorded, never asserted: the script exits 0 once it
# has measured, 2 when it cannot run at all):
#   1. ring stream rate at 64 B        >= 1.0 x the reference ring
#   2. ring ping-pong p50 (8 B, 64 B)  <= 1.5 x the raw cache-line ping-pong p50
#   3. ring stream bandwidth at 1 MiB  >= 0.5 x single-core memcpy bandwidth
#
# Like for like: ipcbench's stream stamps every message before sending and checks it after
# receiving (harness/msg.h, sparse mode). Target 1 is judged against the reference ring
# doing the same per-message work (spsc_ref -s); the bare reference (sequence number only)
# is printed beside it for information. Both rings get the same capacity (4 MiB).
#
# Target 2 is judged by BUILD/ring_pingpong (built by CMake with the core library), which
# runs the one-line floor, the ring itself (the real transport through its ops table, each
# message stamped and checked as ipcbench's ping-pong does) and two bare one-way slot rings
# carrying the same stamped message, in turn, 200 round trips of each per round, for
# thousands of short rounds, and takes the ratio round by round. Some machines (virtual
# ones especially) switch every few seconds between states where a line transfer costs
# very different times (here a one-line round trip of ~45 ns or ~400 ns): two numbers
# taken one after the other may come from different states, numbers taken in the same
# round cannot. Ratios are printed for the rounds of the quickest state and, when there
# are enough of them, for the others. It is judged at 8 bytes (the smallest message: a
# length word and payload fit one line) and at 64 bytes (two lines each way). The bare
# slot rings show what any design that gives each direction lines of its own pays above
# the one-line floor (where both CPUs write the same line, which the ring's two one-way
# directions cannot do): the ring's own cost is ring / slots.
# ipcbench's own ping-pong p50 is printed beside the floor probe run right after it
# (cacheline_pingpong at ipcbench's batch), for information: those two are taken one after
# the other. The one-line floor is also measured before and after everything, and a run
# whose two disagree by more than 25% says so.
#
# Usage: bench/validate_ring.sh BUILD_DIR
# Environment: CPUS=A,B (default 0,1); CC (default cc); IPCB_ARGS extra ipcbench options
# (e.g. "--reps 9 --duration 1s"); PROBE_SECONDS per probe run (default 1); PROBE_RUNS runs
# of each probe, the median kept (default 3).
# Numbers from a loaded machine are not worth much: run it on an otherwise idle one.
set -u

. "$(dirname "$0")/validate_lib.sh"
validate_init validate_ring "$@" -- spsc_ref cacheline_pingpong memcpy_bw

# The one-line floor at 1000 round trips per sample: taken first and last (see above).
state() { kv "$("$probes/cacheline_pingpong" -a "$cpu_a" -b "$cpu_b" -d 0.2)" one_line_p50_ns; }

echo "== probes (CPUs $cpu_a,$cpu_b; median of $runs runs each) =="
uptime | sed 's/^/machine load before: /'
state_before=$(state)
ref_raw_out=$(median_run msgs_per_s "$probes/spsc_ref" -a "$cpu_a" -b "$cpu_b" -d "$secs")
ref_out=$(median_run msgs_per_s "$probes/spsc_ref" -s -a "$cpu_a" -b "$cpu_b" -d "$secs")
mc_out=$(median_run memcpy_bytes_per_s "$probes/memcpy_bw" -c "$cpu_a" -s 1048576 -d "$secs")
echo "spsc_ref (bare):            $ref_raw_out"
echo "spsc_ref (stamp+check):     $ref_out"
echo "memcpy_bw:                  $mc_out"

ref_raw=$(kv "$ref_raw_out" msgs_per_s)
ref=$(kv "$ref_out" msgs_per_s)
mc=$(kv "$mc_out" memcpy_bytes_per_s)

echo
echo "== ipcbench =="
# shellcheck disable=SC2086 # IPCB_ARGS is a list of options on purpose
"$bin" run stream --mech shm-ring --sizes 64,1M --cpus "$cpu_a,$cpu_b" --no-plots \
	--progress off --out "$work/stream" $extra || echo "ipcbench stream exited $?" >&2
# shellcheck disable=SC2086
"$bin" run pingpong --mech shm-ring --sizes 8,64 --cpus "$cpu_a,$cpu_b" --shm-ring-wait spin \
	--no-plots --progress off --out "$work/pingpong" $extra || echo "ipcbench pingpong exited $?" >&2

# The median row of a metric: value and status (columns found by name in the header).
median() { # csv size metric
	awk -F, -v size="$2" -v metric="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["rep"] == "median" && $col["size_bytes"] == size && $col["metric"] == metric {
			print $col["value"], $col["status"], $col["params"], $col["ops_per_sample"]; exit }' "$1"
}
csv_s=$(ls "$work"/stream/*/results.csv 2>/dev/null | head -1)
csv_p=$(ls "$work"/pingpong/*/results.csv 2>/dev/null | head -1)
read -r ring64 st64 par64 _ <<<"$( [ -n "$csv_s" ] && median "$csv_s" 64 msgs_per_s)"
read -r ring1m st1m par1m _ <<<"$( [ -n "$csv_s" ] && median "$csv_s" 1048576 bytes_per_s)"
read -r rtt strtt parrtt ops <<<"$( [ -n "$csv_p" ] && median "$csv_p" 64 rtt_p50_ns)"
read -r rtt8 _ _ ops8 <<<"$( [ -n "$csv_p" ] && median "$csv_p" 8 rtt_p50_ns)"

# The floor, right after the ring and with the ring's batch (ops_per_sample) per sample.
echo
echo "== floor probe (CPUs $cpu_a,$cpu_b; ${ops:-1000} round trips per sample, as ipcbench; median of $runs runs) =="
cl_out=$(median_run one_line_p50_ns "$probes/cacheline_pingpong" -a "$cpu_a" -b "$cpu_b" -d "$secs" \
	-B "${ops:-1000}" -m 64 -s)
echo "cacheline_pingpong:         $cl_out"
cl1=$(kv "$cl_out" one_line_p50_ns)
cl2=$(kv "$cl_out" two_lines_p50_ns)
clp=$(kv "$cl_out" payload_p50_ns)
clm=$(kv "$cl_out" mailbox_p50_ns)
if [ -n "$ops8" ] && [ "$ops8" != "${ops:-}" ]; then
	cl8_out=$(median_run one_line_p50_ns "$probes/cacheline_pingpong" -a "$cpu_a" -b "$cpu_b" \
		-d "$secs" -B "$ops8" -m 8 -s)
	echo "cacheline_pingpong (8 B):   $cl8_out"
	cl1_8=$(kv "$cl8_out" one_line_p50_ns)
else
	cl1_8=$cl1
fi

echo
echo "== ring ping-pong and its floors in the same rounds (BUILD/ring_pingpong) =="
rp="$(dirname "$bin")/ring_pingpong"
rp8_out= rp64_out=
if [ -x "$rp" ]; then
	rp_secs=$(awk -v s="$secs" 'BEGIN { print (s < 2 ? 2 : s) }')
	rp8_out=$("$rp" -a "$cpu_a" -b "$cpu_b" -d "$rp_secs" -m 8) || echo "ring_pingpong -m 8 failed" >&2
	rp64_out=$("$rp" -a "$cpu_a" -b "$cpu_b" -d "$rp_secs" -m 64) || echo "ring_pingpong -m 64 failed" >&2
	echo "8 B:  $rp8_out"
	echo "64 B: $rp64_out"
else
	echo "$rp: not built (cmake --build BUILD builds it with ipcbench)" >&2
fi

echo
echo "== targets =="
# verdict NAME MEASURED REFERENCE RATIO_OP LIMIT UNIT-TEXT
verdict() {
	awk -v name="$1" -v m="${2:-}" -v r="${3:-}" -v op="$4" -v lim="$5" -v what="$6" -v st="${7:-}" '
	BEGIN {
		if (m == "" || r == "" || r + 0 == 0) {
			printf "%-44s no measurement (%s)  MISS\n", name, (m == "" ? "ring" : "reference"); exit
		}
		q = m / r
		ok = (op == ">=") ? (q >= lim) : (q <= lim)
		printf "%-44s %s  ratio %.2f (target %s %.2f)%s  %s\n", name, what, q, op, lim,
		       (st != "" && st != "ok") ? "  [" st "]" : "", ok ? "PASS" : "MISS"
	}'
}
fmt() { awk -v x="${1:-0}" -v d="$2" 'BEGIN { printf "%.3g %s", x / d, (d == 1e6 ? "M/s" : d == 1e9 ? "GB/s" : "ns") }'; }
verdict "1. stream 64 B vs reference ring" "$ring64" "$ref" ">=" 1.0 \
	"ring $(fmt "$ring64" 1e6), reference $(fmt "$ref" 1e6) (bare $(fmt "$ref_raw" 1e6))" "$st64"
# Target 2 from the rounds (see the header): ratio NAME OUTPUT
ratio_verdict() {
	awk -v name="$1" -v out="$2" 'BEGIN {
		n = split(out, kv, " ")
		for (i = 1; i <= n; i++) { j = index(kv[i], "="); v[substr(kv[i], 1, j - 1)] = substr(kv[i], j + 1) }
		if (v["ring_per_one_line_fast"] == "") { printf "%-44s no measurement  MISS\n", name; exit }
		q = v["ring_per_one_line_fast"] + 0
		printf "%-44s ring %s ns, one line %s ns  ratio %.2f (target <= 1.50)  %s\n", name,
		       v["ring_p50_ns_fast"], v["one_line_p50_ns_fast"], q, q <= 1.5 ? "PASS" : "MISS"
		printf "   same rounds: stamped message through bare one-way slot rings %s ns = %sx the floor; ring / slots %sx\n",
		       v["slots_p50_ns_fast"], v["slots_per_one_line_fast"], v["ring_per_slots_fast"]
		printf "   quickest state: %d of %d rounds", v["rounds_fast"], v["rounds"]
		if (v["rounds_other"] + 0 >= v["rounds"] / 10)
			printf "; the other rounds: one line %s ns, ring %s ns, ratio %s (slots %s)",
			       v["one_line_p50_ns_other"], v["ring_p50_ns_other"], v["ring_per_one_line_other"],
			       v["slots_per_one_line_other"]
		printf "\n" }'
}
ratio_verdict "2a. ping-pong 8 B p50 vs cache-line floor" "$rp8_out"
ratio_verdict "2b. ping-pong 64 B p50 vs cache-line floor" "$rp64_out"
awk -v r="${rtt:-}" -v c="${cl1:-}" -v b="${cl2:-}" -v p="${clp:-}" -v mb="${clm:-}" -v r8="${rtt8:-}" -v a8="${cl1_8:-}" 'BEGIN {
	printf "   ipcbench run pingpong, then the floor probe (one after the other, see above):\n"
	if (r8 != "" && a8 > 0)
		printf "   8 B: ring %.0f ns, one line %.0f ns -> %.2fx\n", r8, a8, r8 / a8
	if (r != "" && c > 0)
		printf "   64 B: ring %.0f ns, one line %.0f ns -> %.2fx\n", r, c, r / c
	if (r != "" && b > 0)
		printf "   one line per direction %.0f ns -> ring %.2fx\n", b, r / b
	if (r != "" && p > 0)
		printf "   64 B stamped message through bare slot rings (2 lines each way) %.0f ns -> ring %.2fx\n", p, r / p
	if (r != "" && mb > 0)
		printf "   the same message, echoed in the lines it came in (a mailbox) %.0f ns -> ring %.2fx\n", mb, r / mb }'
verdict "3. stream 1 MiB vs memcpy bandwidth" "$ring1m" "$mc" ">=" 0.5 \
	"ring $(fmt "$ring1m" 1e9), memcpy $(fmt "$mc" 1e9)" "$st1m"
echo
echo "ring parameters: 64 B stream: ${par64:-?}; 1 MiB stream: ${par1m:-?}; ping-pong: ${parrtt:-?}"
state_after=$(state)
awk -v a="${state_before:-0}" -v b="${state_after:-0}" 'BEGIN {
	printf "one-line floor (1000 round trips per sample) before %.1f ns, after %.1f ns", a, b
	if (a <= 0 || b <= 0 || a / b > 1.25 || b / a > 1.25)
		printf "  WARNING: the machine changed state during the run, ratios not trustworthy"
	printf "\n" }'
uptime | sed 's/^/machine load after: /'
exit 0
