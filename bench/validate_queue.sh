#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Throughput of our multiprocessing.Queue (shm-queue: the lock-free cell array, and its lock +
# condition-words variant) against POSIX message queues and against the design CPython uses
# (a pipe with a process-shared lock around whole messages: bench/probes/pipe_lock_queue.c,
# built here with cc), at 1:1, 2:2 and 4:4 producers:consumers, 64-byte messages, plain
# Queue. Prints a table of median msgs/s and whether the cell array beats both posix-mq and
# the pipe + lock at each layout. Numbers, not a test: it always exits 0 (unless it is
# called wrongly), and a machine busy with other work makes every column noisy.
# Usage: bench/validate_queue.sh BUILD_DIR   (BUILD_DIR holds the ipcbench binary)
set -u
build=${1:?usage: bench/validate_queue.sh BUILD_DIR}
bin=$build/ipcbench
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$bin" ] || { echo "validate_queue: no ipcbench in $build" >&2; exit 2; }
command -v python3 >/dev/null || { echo "validate_queue: needs python3 to read the CSV"; exit 0; }
work=$(mktemp -d /tmp/ipcb-vq.XXXXXX)
trap 'rm -rf "$work"' EXIT

reps=${VQ_REPS:-5} dur=${VQ_DURATION:-0.5s} warm=${VQ_WARMUP:-0.1s}
ncpu=$(nproc)
echo "validate_queue: $ncpu CPUs online; 64-byte messages, $reps repetitions of $dur (warm-up $warm)"
for k in 1 2 4; do
  if [ $((2 * k)) -gt "$ncpu" ]; then
    echo "  note: $k:$k runs $((2 * k)) workers on $ncpu CPUs: OVERSUBSCRIBED (--cores 8 --oversubscribe)"
  fi
done
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
echo "  load average before the run: ${load:-?} (other work on the machine makes every number noisy)"

common="--bench prodcons --prodcons-producers 1,2,4 --prodcons-queue plain --sizes 64
        --cores 8 --oversubscribe --reps $reps --duration $dur --warmup $warm --no-plots
        --progress off"
# one run per shm-queue variant (its option is process-wide); posix-mq rides with the first
"$bin" run $common --mech shm-queue,posix-mq --out "$work/a" >"$work/a.log" 2>&1 ||
  echo "  note: ipcbench (shm-queue, posix-mq) exited $?: $(grep -m3 -E 'FAILED|SKIPPED|ipcbench:' "$work/a.log" | tr '\n' ' ')"
"$bin" run $common --mech shm-queue --shm-queue-impl lock --out "$work/b" >"$work/b.log" 2>&1 ||
  echo "  note: ipcbench (shm-queue lock) exited $?: $(grep -m3 -E 'FAILED|ipcbench:' "$work/b.log" | tr '\n' ' ')"

probe=$work/pipe_lock_queue
if ! cc -O2 -std=gnu11 -pthread -o "$probe" "$here/probes/pipe_lock_queue.c" 2>"$work/cc.log"; then
  echo "  note: cannot build the pipe + lock probe: $(head -3 "$work/cc.log")"
  probe=""
fi
: >"$work/probe.txt"
if [ -n "$probe" ]; then
  wsec=${warm%s} dsec=${dur%s}
  for k in 1 2 4; do
    for _ in $(seq "$reps"); do
      "$probe" -p $k -c $k -s 64 -d "$dsec" -w "$wsec" >>"$work/probe.txt" 2>>"$work/probe.err" ||
        echo "pipe-lock $k:$k failed" >>"$work/probe.txt"
    done
  done
fi

python3 - "$work" <<'PY'
import csv, glob, os, re, statistics, sys
work = sys.argv[1]
res = {}          # (mech, k) -> msgs/s median, or a string saying why not
def load(sub, tag_of):
    for path in glob.glob(os.path.join(work, sub, "*", "results.csv")):
        for r in csv.DictReader(open(path)):
            m = re.search(r"producers=(\d+);consumers=(\d+)", r.get("params", ""))
            k = int(m.group(1)) if m else None
            mech = tag_of(r["mech"])
            if r["status"] in ("SKIPPED", "FAILED"):
                res.setdefault((mech, k), r["status"].lower() + ": " + (r.get("reason") or "")[:60])
            elif r["rep"] == "median" and r["metric"] == "msgs_per_s":
                res[(mech, k)] = float(r["value"])
load("a", lambda m: "shm-queue mpmc" if m == "shm-queue" else m)
load("b", lambda m: "shm-queue lock")
probe = {}
for line in open(os.path.join(work, "probe.txt")):
    m = re.match(r"pipe-lock (\d+):\d+ .*msgs_per_s=(\d+)", line)
    if m:
        probe.setdefault(int(m.group(1)), []).append(float(m.group(2)))
for k, v in probe.items():
    res[("pipe+lock", k)] = statistics.median(v)
cols = ["shm-queue mpmc", "shm-queue lock", "posix-mq", "pipe+lock"]
def fmt(v):
    if isinstance(v, float):
        return "%.2f M/s" % (v / 1e6) if v >= 1e6 else "%.0f k/s" % (v / 1e3)
    return "n/a" if v is None else "(" + v.split(":")[0] + ")"
print()
print("%-6s" % "P:C" + "".join("%17s" % c for c in cols) + "   mpmc beats posix-mq and pipe+lock?")
ncpu = os.cpu_count() or 1
verdicts = []
for k in (1, 2, 4):
    row = [res.get((c, k)) for c in cols]
    mp, mq, pl = row[0], row[2], row[3]
    if not isinstance(mp, float):
        v = "no result for the mpmc queue"
    else:
        beats = [name for name, x in (("posix-mq", mq), ("pipe+lock", pl)) if isinstance(x, float)]
        lost = [name for name, x in (("posix-mq", mq), ("pipe+lock", pl)) if isinstance(x, float) and x >= mp]
        missing = [name for name, x in (("posix-mq", mq), ("pipe+lock", pl)) if not isinstance(x, float)]
        if lost:
            v = "NO (slower than " + ", ".join(lost) + ")"
        else:
            v = "yes" + (" (" + ", ".join("%.1fx %s" % (mp / x, n) for n, x in (("posix-mq", mq), ("pipe+lock", pl)) if isinstance(x, float)) + ")")
        if missing:
            v += "; no number for " + ", ".join(missing)
        verdicts.append(not lost)
    note = " *" if 2 * k > ncpu else ""
    print("%-6s" % ("%d:%d%s" % (k, k, note)) + "".join("%17s" % fmt(x) for x in row) + "   " + v)
print()
print("* oversubscribed: P+C workers share %d CPUs (--cores 8 --oversubscribe); blocked calls" % ncpu)
print("  yield the CPU, then sleep, instead of spinning, and every number depends on the scheduler.")
for c in cols:
    for k in (1, 2, 4):
        x = res.get((c, k))
        if isinstance(x, str):
            print("  %s %d:%d: %s" % (c, k, k, x))
if verdicts:
    print("verdict: the MPMC shm-queue %s posix-mq and the pipe + lock queue at %d of %d layouts"
          % ("beats" if all(verdicts) else "does not always beat", sum(verdicts), len(verdicts)))
PY
exit 0
