#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Hold ipcbench's ping-pong latency against independent measurements of the same thing:
#   - `perf bench sched pipe` pinned to CPU 0 (if perf is installed): the kernel tree's own
#     pipe ping-pong; it reports a mean per round trip only;
#   - bench/probes/probe_pingpong.c: a plain pinned ping-pong with its own clock, no ipcbench
#     code, over pipe, Unix stream socket, POSIX mq and eventfd;
#   - `ipcbench run pingpong --mech pipe,unix-stream,posix-mq,eventfd --sizes 8`, with both
#     workers on CPU 0 (--cpus 0,0) and on CPUs 0 and 1 (--cpus 0,1).
# and print one table: probe vs ipcbench p50 and mean per mechanism and placement, with
# the ratio ipcbench / probe. A ratio near 1 says the harness adds little; far from 1 is
# worth a look (noise first: run it twice). A mechanism ipcbench does not offer yet, or
# that it skipped, shows "n/a" instead of failing the script.
#
# usage: bench/validate_latency.sh BUILD_DIR
#   env: PROBE_SECONDS (default 2) measured time per probe run;
#        IPCB_ARGS extra arguments for ipcbench (default "--reps 3 --duration 1s");
#        CC (default cc).
# Exit status: 0 when the table was printed, 1 when a tool it needs failed, 2 bad usage.
set -u

die() { echo "validate_latency: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "validate_latency: no directory $1" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")/.." && pwd)
IPCB=$BUILD/ipcbench
[ -x "$IPCB" ] || die "$IPCB is not built"
CC=${CC:-cc}
PROBE_SECONDS=${PROBE_SECONDS:-2}
IPCB_ARGS=${IPCB_ARGS:---reps 3 --duration 1s}
MECHS="pipe unix-stream posix-mq eventfd"
SIZE=8

WORK=$(mktemp -d /tmp/ipcb-validate.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$WORK"' EXIT

# ---- placements: 0,0 always; 0,1 when a second CPU is allowed ----
PLACES="0,0"
if taskset -c 1 true 2>/dev/null; then
	PLACES="0,0 0,1"
else
	echo "validate_latency: CPU 1 is not available: only --cpus 0,0 is measured" >&2
fi

# ---- probes ----
"$CC" -O2 -std=gnu11 -Wall -Wextra -o "$WORK/probe_pingpong" \
	"$SRC/bench/probes/probe_pingpong.c" -lrt || die "cannot compile the probe"

# results go into files named <source>.<mech>.<cpus>.{p50,mean}
put() { printf '%s\n' "$4" > "$WORK/$1.$2.$3"; }
get() { if [ -s "$WORK/$1.$2.$3" ]; then cat "$WORK/$1.$2.$3"; else echo n/a; fi; }

for place in $PLACES; do
	a=${place%,*}
	b=${place#*,}
	for m in $MECHS; do
		out=$("$WORK/probe_pingpong" "$m" "$SIZE" "$a" "$b" "$PROBE_SECONDS" 2>"$WORK/err") || {
			echo "validate_latency: probe $m $place failed: $(cat "$WORK/err")" >&2
			continue
		}
		for k in p50 mean; do
			v=$(printf '%s\n' "$out" | tr ' ' '\n' | sed -n "s/^${k}_ns=//p")
			put probe "$m.$place" "$k" "$v"
		done
	done
done

# ---- perf bench sched pipe (pipe, both tasks on CPU 0; a mean only) ----
PERF_NOTE=""
if command -v perf >/dev/null 2>&1; then
	if out=$(taskset -c 0 perf bench sched pipe -l 200000 2>&1); then
		us=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9.]*\) usecs\/op.*/\1/p' | head -n 1)
		[ -n "$us" ] && put perf "pipe.0,0" mean "$(awk -v u="$us" 'BEGIN { printf "%.0f", u * 1000 }')"
	else
		PERF_NOTE="perf bench sched pipe failed: $(printf '%s' "$out" | head -n 1)"
	fi
else
	PERF_NOTE="perf not installed: no perf row"
fi

# ---- ipcbench ----
# Offer only the mechanisms ipcbench knows; a placeholder is SKIPPED by the run itself.
have=""
# first column of the "mechanisms:" section of `ipcbench list`
known=$("$IPCB" list 2>/dev/null | awk '/^mechanisms:/ { f = 1; next } /^[^ ]/ { f = 0 } f { print $1 }')
for m in $MECHS; do
	if printf '%s\n' "$known" | grep -qx -- "$m"; then
		have="${have:+$have,}$m"
	else
		echo "validate_latency: ipcbench does not list $m: n/a" >&2
	fi
done
[ -n "$have" ] || die "ipcbench lists none of $MECHS"

for place in $PLACES; do
	# shellcheck disable=SC2086  # IPCB_ARGS is a list of words
	"$IPCB" run pingpong --mech "$have" --sizes "$SIZE" --cpus "$place" --no-plots \
		--progress off --out "$WORK/res.$place" $IPCB_ARGS >"$WORK/ipcb.$place.log" 2>&1
	rc=$?
	csv=$(find "$WORK/res.$place" -name results.csv 2>/dev/null | head -n 1)
	if [ -z "$csv" ]; then
		echo "validate_latency: ipcbench --cpus $place wrote no results (exit $rc):" >&2
		tail -n 5 "$WORK/ipcb.$place.log" >&2
		continue
	fi
	[ "$rc" -eq 0 ] || echo "validate_latency: ipcbench --cpus $place exited $rc (FAILED cases show n/a)" >&2
	# Median rows of ok or NOISY cases. Columns: 3 mech, 13 rep, 14 metric, 16 value,
	# 21 status; the fields read here never hold commas.
	awk -F, -v dir="$WORK" -v place="$place" '
		$13 == "median" && ($21 == "ok" || $21 == "NOISY") &&
		($14 == "rtt_p50_ns" || $14 == "rtt_mean_ns") {
			k = $14 == "rtt_p50_ns" ? "p50" : "mean"
			printf "%.0f\n", $16 > (dir "/ipcb." $3 "." place "." k)
		}' "$csv"
	grep -h "SKIPPED\|FAILED" "$WORK/ipcb.$place.log" | sed 's/^/  /' >&2
done

# ---- table ----
ratio() {
	case "$1$2" in
	*n/a*) echo n/a ;;
	*) awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "n/a" }' ;;
	esac
}
us() {
	case "$1" in
	n/a) echo n/a ;;
	*) awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }' ;;
	esac
}

echo
echo "ping-pong round trip, $SIZE-byte messages, microseconds (ratio = ipcbench / probe)"
printf '%-13s %-5s | %9s %9s %6s | %9s %9s %6s\n' mech cpus "probe p50" "ipcb p50" ratio \
	"probe avg" "ipcb avg" ratio
printf -- '--------------------+------------------------------+-----------------------------\n'
for place in $PLACES; do
	for m in $MECHS; do
		pp=$(get probe "$m.$place" p50); pm=$(get probe "$m.$place" mean)
		ip=$(get ipcb "$m.$place" p50); im=$(get ipcb "$m.$place" mean)
		printf '%-13s %-5s | %9s %9s %6s | %9s %9s %6s\n' "$m" "$place" "$(us "$pp")" \
			"$(us "$ip")" "$(ratio "$ip" "$pp")" "$(us "$pm")" "$(us "$im")" \
			"$(ratio "$im" "$pm")"
	done
	if [ "$place" = "0,0" ]; then
		pf=$(get perf "pipe.0,0" mean); im=$(get ipcb "pipe.0,0" mean)
		printf '%-13s %-5s | %9s %9s %6s | %9s %9s %6s\n' "pipe(perf)" "$place" n/a \
			"$(us "$(get ipcb "pipe.0,0" p50)")" n/a "$(us "$pf")" "$(us "$im")" \
			"$(ratio "$im" "$pf")"
	fi
done
[ -z "$PERF_NOTE" ] || echo "note: $PERF_NOTE"
echo "probe: $PROBE_SECONDS s per row after 0.2 s warm-up; ipcbench: $IPCB_ARGS (median of repetitions)"
exit 0
