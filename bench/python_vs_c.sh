#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Python's multiprocessing against ipcbench's C doing the same job, on the same CPUs.
#
# Runs the C counterparts (pingpong/stream/prodcons over shm-queue, posix-mq and
# socketpair-stream; the counter race and Value/Array under pthread-mutex and none, the
# counter also in thread mode; pool; spawn; the Manager proxy server over a Unix socket
# with a thread per client, as Python's) and the python bench, each `--quick` pinned to
# --cpus, then prints the ratio table Python / C from the median rows, and writes it as
# python_vs_c.dat (+ python_vs_c.png when gnuplot is there, plots/python_vs_c.gp).
#
#   bench/python_vs_c.sh [--cpus 0,1] [--out DIR] [--ipcbench PATH] [--reps N]
#   bench/python_vs_c.sh --from DIR      only the table, from the runs already in DIR
#
# A ratio above 1 on a time (rtt_p50_ns, ns_per_update, op_p50_ns, spawn_p50_ns) or
# below 1 on a rate (msgs_per_s, tasks_per_s) means Python is slower; `slower` says by how
# much either way. Lost updates are counts, shown side by side (no ratio). A pair whose
# rows are missing (a case SKIPPED, FAILED or not run) prints "n/a".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ipcbench=${IPCBENCH:-$root/build/ipcbench}
cpus=0,1
out=""
from=""
reps=""
while [ $# -gt 0 ]; do
	case $1 in
	--cpus) cpus=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--ipcbench) ipcbench=$2; shift 2 ;;
	--reps) reps="--reps $2"; shift 2 ;;
	--from) from=$2; shift 2 ;;
	-h|--help) sed -n '3,20p' "$0"; exit 0 ;;
	*) echo "python_vs_c.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
command -v python3 >/dev/null || { echo "python_vs_c.sh: python3 not found: nothing to compare" >&2; exit 77; }

if [ -z "$from" ]; then
	[ -x "$ipcbench" ] || { echo "python_vs_c.sh: no ipcbench at $ipcbench (--ipcbench)" >&2; exit 2; }
	out=${out:-$(mktemp -d /tmp/ipcb-python-vs-c-XXXXXX)}
	mkdir -p "$out"
	common=(--quick --no-plots --progress off --cpus "$cpus" --out "$out" $reps)
	run() { echo "+ ipcbench run $*" >&2; "$ipcbench" run "$@" "${common[@]}" >/dev/null || true; }
	run pingpong,stream,prodcons --mech shm-queue,posix-mq,socketpair-stream --sizes 64 \
		--prodcons-producers 1 --prodcons-consumers 1
	run counter,value --mech pthread-mutex,none
	run counter --mech none --mode thread
	run pool --pool-sizes 1,2
	run spawn
	run manager --manager-transport unix --manager-server thread
	run python --sizes 64
	from=$out
fi

python3 - "$from" "$root/plots/python_vs_c.gp" <<'EOF'
import csv, glob, os, subprocess, sys, shutil

top, gp = sys.argv[1], sys.argv[2]
rows = []
for path in glob.glob(os.path.join(top, "*", "results.csv")):
    if os.path.islink(os.path.dirname(path)):
        continue
    with open(path, newline="") as f:
        rows += [r for r in csv.DictReader(f) if r["rep"] == "median"
                 and r["status"] in ("ok", "NOISY", "RACE") and r["value"] != ""]

def params(r):
    return dict(kv.split("=", 1) for kv in r["params"].split(";") if "=" in kv)

def pick(bench, mech, metric, impl, mode="process", workers=None, **want):
    for r in rows:
        if (r["bench"], r["mech"], r["metric"], r["impl"], r["mode"]) != (bench, mech, metric, impl, mode):
            continue
        if workers is not None and int(r["workers"]) != workers:
            continue
        p = params(r)
        if all(p.get(k) == str(v) for k, v in want.items()):
            return float(r["value"])
    return None

# (job, python selection, C selection, metric, kind) where kind is "time", "rate" or "count"
S = dict
pairs = [
    ("Queue ping-pong vs shm-queue", S(b="python", m="mp-queue", x=S(api="put/get")), S(b="pingpong", m="shm-queue"), "rtt_p50_ns", "time"),
    ("Queue ping-pong vs posix-mq", S(b="python", m="mp-queue", x=S(api="put/get")), S(b="pingpong", m="posix-mq"), "rtt_p50_ns", "time"),
    ("SimpleQueue ping-pong vs shm-queue", S(b="python", m="mp-simplequeue", x=S(api="put/get")), S(b="pingpong", m="shm-queue"), "rtt_p50_ns", "time"),
    ("Pipe ping-pong vs socketpair-stream", S(b="python", m="mp-pipe", x=S(api="send_bytes/recv_bytes")), S(b="pingpong", m="socketpair-stream"), "rtt_p50_ns", "time"),
    ("Queue stream vs shm-queue", S(b="python", m="mp-queue", x=S(queue_depth=64), w=2), S(b="stream", m="shm-queue"), "msgs_per_s", "rate"),
    ("Queue stream vs posix-mq", S(b="python", m="mp-queue", x=S(queue_depth=64), w=2), S(b="stream", m="posix-mq"), "msgs_per_s", "rate"),
    ("Pipe stream vs socketpair-stream", S(b="python", m="mp-pipe", x=S(), w=2), S(b="stream", m="socketpair-stream"), "msgs_per_s", "rate"),
    ("Queue 1:1 prodcons vs shm-queue", S(b="python", m="mp-queue", x=S(queue="plain")), S(b="prodcons", m="shm-queue", x=S(queue="plain")), "msgs_per_s", "rate"),
    ("JoinableQueue 1:1 vs shm-queue joinable", S(b="python", m="mp-joinablequeue", x=S(queue="joinable")), S(b="prodcons", m="shm-queue", x=S(queue="joinable")), "msgs_per_s", "rate"),
    ("Value(get_lock) x1 vs mutex counter", S(b="python", m="mp-value-lock", w=1), S(b="counter", m="pthread-mutex", w=1), "ns_per_update", "time"),
    ("Value(get_lock) x2 vs mutex counter", S(b="python", m="mp-value-lock", w=2), S(b="counter", m="pthread-mutex", w=2), "ns_per_update", "time"),
    ("Value(lock=False) x2 vs none: lost", S(b="python", m="mp-value-nolock", w=2), S(b="counter", m="none", w=2), "lost_updates", "count"),
    ("Value(lock=True, no get_lock) x2: lost", S(b="python", m="mp-value-naive", w=2), S(b="counter", m="none", w=2), "lost_updates", "count"),
    ("threads, no Lock x2 vs none (threads): lost", S(b="python", m="thread-balance-nolock", w=2), S(b="counter", m="none", w=2, mode="thread"), "lost_updates", "count"),
    ("threads + Lock x2 vs mutex counter (procs)", S(b="python", m="thread-balance-lock", w=2), S(b="counter", m="pthread-mutex", w=2), "ns_per_update", "time"),
    ("Array(lock=True) x2 vs mutex Array", S(b="python", m="mp-array-lock", w=2), S(b="value", m="pthread-mutex", w=2), "array_ns_per_record", "time"),
    ("Manager dict set/get vs manager get", S(b="python", m="mp-manager-dict"), S(b="manager", m="manager-unix", x=S(op="get", server="thread", sweep="latency")), "op_p50_ns", "time"),
    ("Manager list append/pop vs append_pop", S(b="python", m="mp-manager-list"), S(b="manager", m="manager-unix", x=S(op="append_pop", server="thread", sweep="latency")), "op_p50_ns", "time"),
    ("Manager Value get/set vs incr", S(b="python", m="mp-manager-value"), S(b="manager", m="manager-unix", x=S(op="incr", server="thread", sweep="latency")), "op_p50_ns", "time"),
]
for api in ("map", "apply_async"):
    for g, gn in ((0, "empty"), (1000, "1us"), (100000, "100us")):
        for P in (1, 2):
            x = S(api=api, grain_ns=g, pool_size=P)
            if api == "map":
                x["chunk"] = "auto"
            pairs.append(("Pool(%d).%s %s vs pool" % (P, api, gn), S(b="python", m="mp-pool", x=dict(x)),
                          S(b="pool", m="", x=dict(x)), "tasks_per_s", "rate"))
pairs += [
    ("Process fork start+join vs fork", S(b="python", m="mp-process-fork"), S(b="spawn", m="", x=S(kind="fork", parent_mem_bytes=0, huge="none")), "spawn_p50_ns", "time"),
    ("Process forkserver vs fork", S(b="python", m="mp-process-forkserver"), S(b="spawn", m="", x=S(kind="fork", parent_mem_bytes=0, huge="none")), "spawn_p50_ns", "time"),
    ("Process spawn vs fork-exec", S(b="python", m="mp-process-spawn"), S(b="spawn", m="", x=S(kind="fork-exec")), "spawn_p50_ns", "time"),
]

def sel(s, metric, impl):
    return pick(s["b"], s["m"], metric, impl, s.get("mode", "process"), s.get("w"), **s.get("x", {}))

def fmt(v, kind, metric):
    if v is None:
        return "n/a"
    if kind == "count":
        return "%.0f" % v
    if kind == "time":
        return "%.3g us" % (v / 1e3) if v >= 1e3 else "%.3g ns" % v
    return "%.3g/s" % v

print("%-44s %-20s %12s %12s %9s %8s" % ("job (Python vs C)", "metric", "Python", "C", "Py/C", "slower"))
dat = []
for job, ps, cs, metric, kind in pairs:
    pv, cv = sel(ps, metric, "python"), sel(cs, metric, "c")
    ratio = slower = None
    if pv is not None and cv and kind != "count":
        ratio = pv / cv
        slower = ratio if kind == "time" else (1 / ratio if ratio else None)
    print("%-44s %-20s %12s %12s %9s %8s" % (job, metric, fmt(pv, kind, metric), fmt(cv, kind, metric),
          "%.3g" % ratio if ratio else ("-" if kind == "count" else "n/a"),
          "%.3gx" % slower if slower else ("-" if kind == "count" else "n/a")))
    if slower:
        dat.append((job, pv, cv, ratio, slower))
dpath = os.path.join(top, "python_vs_c.dat")
with open(dpath, "w") as f:
    f.write("# job\tpython\tc\tpython_over_c\tslower\n")
    for job, pv, cv, r, s in dat:
        f.write("%s\t%.6g\t%.6g\t%.6g\t%.6g\n" % (job, pv, cv, r, s))
print("\nratio table: %s" % dpath)
if dat and shutil.which("gnuplot") and os.path.exists(gp):
    png = os.path.join(top, "python_vs_c.png")
    rc = subprocess.call(["gnuplot", "-e", "file='%s'; outfile='%s'; nbars=%d" % (dpath, png, len(dat)), gp],
                         stdin=subprocess.DEVNULL)
    if rc == 0:
        print("plot: %s" % png)
EOF
