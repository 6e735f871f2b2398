# SPDX-License-Identifier: MIT
"""ipcbench's Python side: the same workloads as the C benches, run with multiprocessing.

Usage (the C pattern bench/python.c runs it; a person can too):
    python3 ipcb_mp.py WORKLOAD --cpus 0,1 --duration 0.1 --warmup 0.05 --size 64 --json
    python3 ipcb_mp.py --list

Standard library only, Python 3.9+. Every process (or thread) of a workload pins itself to
its CPU from --cpus with os.sched_setaffinity (worker i on cpus[i], round-robin), and
reports the CPU it was seen on (/proc/thread-self/stat, field 39) at its start and its end;
the main process is worker 0. Times come from time.monotonic_ns() (CLOCK_MONOTONIC, the
clock of the C harness). Timing is to delivery: a ping-pong sample ends when the echo is
back, a stream counts messages when the consumer has them, a pool task when its result
reached the result handler, never when put() returned.

Output (--json): one JSON object on one line on stdout:
    {"ok": true, "python": "3.11.7", "impl": "CPython",
     "cpus_seen": [[first, last, migrations], ...]   one per worker, worker order
     "hist": {"prefix": "rtt", "samples": [ns, ...], "ops_per_sample": 1}   or null
     "metrics": [[name, unit, value, samples, ops_per_sample, lower_is_better], ...]
     "race": "why" or null       a deliberately racy variant lost updates (status RACE)
     "params": "k=v;k=v"}        what the run chose (queue depth, start method, ...)
or {"ok": false, "error": "why"} and exit status 1 when a check failed (a lost, duplicated
or corrupted message, a locked variant that lost an update): no number is reported then.
Metric names are the C benches' (rtt_p50_ns comes from the histogram, msgs_per_s,
lost_updates, tasks_per_s, spawn_p50_ns, ...), so rows line up with theirs.
"""
import argparse
import ctypes
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import struct
import sys
import threading
import time

now = time.monotonic_ns
TICK = 1 << 32           # the balance word's update count lives above this (as sync/sync.h)
QUEUE_DEPTH = 64         # Queue(maxsize): a stream producer cannot run away from the consumer
MAP_ITEMS = 256          # items of one Pool.map call (bench/pool.c's MAP_ITEMS)
STRIDE = 16              # prodcons: one message in STRIDE carries its send time
MIN_SPAWNS = 20          # process start: at least this many samples (bench/spawn.c)


class Fail(Exception):
    """An integrity failure: the case FAILS, no number is reported."""


# ---- pinning and where we ran -------------------------------------------------------

def set_pdeathsig():
    """Die with the parent (the harness kills the interpreter on a timeout)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)     # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def cur_cpu():
    """The CPU this thread runs on now (field 39 of /proc/thread-self/stat)."""
    try:
        with open("/proc/thread-self/stat", "rb") as f:
            s = f.read()
        return int(s[s.rindex(b")") + 2:].split()[36])
    except (OSError, ValueError, IndexError):
        return -1


def cpu_for(cpus, i):
    return cpus[i % len(cpus)] if cpus else -1


def pin(cpu):
    """Pin the calling thread (pid 0 = this thread on Linux) to cpu; -1 = leave it."""
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})


class Seen:
    """First and last CPU of a worker, and the changes seen in between."""

    def __init__(self):
        self.first = self.last = cur_cpu()
        self.migrations = 0

    def sample(self):
        c = cur_cpu()
        if c != self.last:
            self.migrations += 1
            self.last = c

    def out(self):
        self.sample()
        return [self.first, self.last, self.migrations]


def child_setup(cpu):
    set_pdeathsig()
    pin(cpu)
    return Seen()


def cpu_ns():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return int((r.ru_utime + r.ru_stime) * 1e9)


def clock_cost_ns():
    n = 2000
    t0 = now()
    for _ in range(n):
        now()
    return max(1.0, (now() - t0) / n)


def batch_for(op_ns, cost_ns):
    """Operations per sample so two clock reads stay under 2% of a sample (clock.h)."""
    if op_ns <= 0:
        return 1
    return max(1, min(1 << 20, int(math.ceil(100.0 * cost_ns / op_ns))))


def jain(xs):
    s, ss = sum(xs), sum(x * x for x in xs)
    return s * s / (len(xs) * ss) if ss else 0.0


class Result:
    def __init__(self, a):
        self.a = a
        self.metrics = []
        self.hist = None
        self.race = None
        self.seen = []
        self.params = []

    def add(self, name, unit, value, samples=1, ops=1, lower=1):
        self.metrics.append([name, unit, float(value), int(samples), int(ops), int(lower)])

    def set_hist(self, prefix, samples, ops=1):
        self.hist = {"prefix": prefix, "samples": [int(x) for x in samples],
                     "ops_per_sample": int(ops)}

    def json(self):
        return {"ok": True, "python": platform.python_version(),
                "impl": platform.python_implementation(), "cpus_seen": self.seen,
                "hist": self.hist, "metrics": self.metrics, "race": self.race,
                "params": ";".join(self.params)}


def ctx_fork():
    return mp.get_context("fork")


def collect(conns, procs, what):
    """One report from each result connection, then join every process."""
    out = []
    for c, p in zip(conns, procs):
        try:
            out.append(c.recv())
        except EOFError:
            p.join()
            raise Fail("%s (pid %d) ended without a report (exit code %s)"
                       % (what, p.pid, p.exitcode))
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise Fail("%s (pid %d) exited with code %s" % (what, p.pid, p.exitcode))
    for r in out:
        if isinstance(r, dict) and r.get("error"):
            raise Fail(r["error"])
    return out


# ---- message channels: Queue, SimpleQueue, Pipe -------------------------------------

class Chan:
    """One direction of a channel: Queue, SimpleQueue, or one way of a duplex Pipe() (a
    socketpair, as multiprocessing.Pipe() gives by default). The stop marker is None (b""
    on a Pipe)."""

    def __init__(self, kind, q=None, tx=None, rx=None):
        self.kind, self.q, self.tx, self.rx = kind, q, tx, rx

    def send(self, m):
        if self.kind == "pipe":
            self.tx.send_bytes(m)
        else:
            self.q.put(m)

    def recv(self):
        if self.kind == "pipe":
            return self.rx.recv_bytes()
        return self.q.get()

    def send_stop(self):
        self.send(b"" if self.kind == "pipe" else None)

    @staticmethod
    def is_stop(m):
        return not m


def chan_pair(kind, ctx, depth=0):
    """(A to B, B to A)."""
    if kind == "pipe":
        ca, cb = ctx.Pipe()
        return Chan(kind, tx=ca, rx=cb), Chan(kind, tx=cb, rx=ca)
    if kind == "queue":
        mk = (lambda: ctx.Queue(depth)) if depth else ctx.Queue
    else:
        mk = ctx.SimpleQueue
    return Chan(kind, q=mk()), Chan(kind, q=mk())


def make_msg(seq, body):
    return seq.to_bytes(8, "little") + body


class Body:
    """A message of `size` bytes: the sequence number in the first 8, and above 16 bytes the
    last byte is seq & 0xff (a cheap check of the far end); one copy per message."""

    def __init__(self, size):
        self.size = size
        self.mid = bytes(max(0, size - 9)) if size > 16 else bytes(size - 8)

    def msg(self, seq):
        if self.size > 16:
            return b"".join((seq.to_bytes(8, "little"), self.mid, bytes((seq & 0xff,))))
        return seq.to_bytes(8, "little") + self.mid

    def check(self, m, expect, what):
        if len(m) != self.size:
            raise Fail("%s %d: %d bytes, expected %d" % (what, expect, len(m), self.size))
        got = int.from_bytes(m[:8], "little")
        if got != expect:
            raise Fail("%s: expected message %d, got %d" % (what, expect, got))
        if self.size > 16 and m[-1] != expect & 0xff:
            raise Fail("%s %d is corrupt" % (what, expect))


# ---- ping-pong ------------------------------------------------------------------------

def pp_echo(kind_args, cpu, size, res):
    seen = child_setup(cpu)
    to_b, to_a = kind_args
    body = Body(size)
    expect, c0 = 0, cpu_ns()
    try:
        while True:
            m = to_b.recv()
            if Chan.is_stop(m):
                break
            body.check(m, expect, "pong: message")
            to_a.send(m)
            expect += 1
    except Fail as e:
        res.send({"error": str(e)})
        return
    res.send({"echoed": expect, "cpu_ns": cpu_ns() - c0, "seen": seen.out()})


def w_pingpong(a, kind):
    ctx = ctx_fork()
    R = Result(a)
    to_b, to_a = chan_pair(kind, ctx)
    rr, rw = ctx.Pipe(duplex=False)
    p = ctx.Process(target=pp_echo, args=((to_b, to_a), cpu_for(a.cpus, 1), a.size, rw))
    p.start()
    rw.close()
    pin(cpu_for(a.cpus, 0))
    seen = Seen()
    body = Body(a.size)
    seq = 0

    def rt(seq):
        to_b.send(body.msg(seq))
        body.check(to_a.recv(), seq, "ping: echo of message")

    t0 = now()
    n = 0
    while True:                       # warm-up: at least one round trip
        rt(seq)
        seq += 1
        n += 1
        t = now()
        if t - t0 >= a.warmup_ns:
            break
    batch = batch_for((t - t0) / n, clock_cost_ns())
    samples = []
    c0 = cpu_ns()
    tb = now()
    t, end, msgs = tb, tb + a.duration_ns, 0
    while t < end:
        s0 = t
        for _ in range(batch):
            rt(seq)
            seq += 1
        t = now()
        samples.append((t - s0 + batch // 2) // batch)
        msgs += batch
    ca = cpu_ns() - c0
    to_b.send_stop()
    rep = collect([rr], [p], "pong process")[0]
    if rep["echoed"] != seq:
        raise Fail("integrity: A sent %d, B echoed %d" % (seq, rep["echoed"]))
    R.seen = [seen.out(), rep["seen"]]
    R.set_hist("rtt", samples, batch)
    R.add("round_trips", "count", msgs, len(samples), batch, 0)
    R.add("cpu_a_ns_per_rt", "ns", ca / max(1, msgs))
    R.add("cpu_b_ns_per_rt", "ns", rep["cpu_ns"] / max(1, rep["echoed"]))
    R.add("migrations", "count", seen.migrations + rep["seen"][2])
    R.params.append("api=%s" % {"queue": "put/get", "simplequeue": "put/get",
                                "pipe": "send_bytes/recv_bytes"}[kind])
    return R


# ---- streaming --------------------------------------------------------------------------

def st_consume(ch, cpu, size, warmup_ns, ready, res):
    seen = child_setup(cpu)
    ready.set()
    body = Body(size)
    expect, c0 = 0, cpu_ns()
    try:
        m = ch.recv()
        t_first = now()
        open_at = t_first + warmup_ns
        # Warm-up: until the window opens (a clock read per message costs ~1% here).
        while not Chan.is_stop(m):
            body.check(m, expect, "consumer: message")
            expect += 1
            if now() >= open_at:
                break
            m = ch.recv()
        t = now()
        per = (t - t_first) / max(1, expect)
        batch = batch_for(per, clock_cost_ns())
        samples, msgs, tb = [], 0, t
        k, s0 = 0, t
        while not Chan.is_stop(m):
            m = ch.recv()
            if Chan.is_stop(m):
                break
            body.check(m, expect, "consumer: message")
            expect += 1
            msgs += 1
            k += 1
            if k == batch:
                t = now()
                samples.append((t - s0 + batch // 2) // batch)
                s0, k = t, 0
        te = now()
    except Fail as e:
        res.send({"error": str(e)})
        return
    res.send({"got": expect, "msgs": msgs, "window_ns": te - tb, "samples": samples,
              "batch": batch, "cpu_ns": cpu_ns() - c0, "seen": seen.out()})


def w_stream(a, kind):
    ctx = ctx_fork()
    R = Result(a)
    ch = chan_pair(kind, ctx, QUEUE_DEPTH)[0]
    rr, rw = ctx.Pipe(duplex=False)
    ready = ctx.Event()
    p = ctx.Process(target=st_consume, args=(ch, cpu_for(a.cpus, 1), a.size, a.warmup_ns, ready, rw))
    p.start()
    rw.close()
    if not ready.wait(60):
        raise Fail("the consumer process did not start")
    pin(cpu_for(a.cpus, 0))
    seen = Seen()
    body, size = Body(a.size), a.size
    seq, c0 = 0, cpu_ns()
    end = now() + a.warmup_ns + a.duration_ns
    while True:
        for _ in range(16):
            ch.send(body.msg(seq))
            seq += 1
        if now() >= end:
            break
    ch.send_stop()
    ca = cpu_ns() - c0
    rep = collect([rr], [p], "consumer process")[0]
    if rep["got"] != seq:
        raise Fail("integrity: sent %d messages, %d arrived" % (seq, rep["got"]))
    if rep["msgs"] == 0 or rep["window_ns"] <= 0:
        raise Fail("no message arrived inside the measured window")
    w = rep["window_ns"]
    R.seen = [seen.out(), rep["seen"]]
    R.add("msgs_per_s", "msgs/s", rep["msgs"] * 1e9 / w, len(rep["samples"]), rep["batch"], 0)
    R.add("bytes_per_s", "B/s", rep["msgs"] * size * 1e9 / w, len(rep["samples"]),
          rep["batch"], 0)
    R.set_hist("per_msg", rep["samples"], rep["batch"])
    R.add("msgs", "count", rep["msgs"], 1, 1, 0)
    R.add("cpu_a_ns_per_msg", "ns", ca / max(1, seq))
    R.add("cpu_b_ns_per_msg", "ns", rep["cpu_ns"] / max(1, rep["got"]))
    R.add("migrations", "count", seen.migrations + rep["seen"][2])
    if kind == "queue":
        R.params.append("queue_depth=%d" % QUEUE_DEPTH)
    return R


# ---- producer/consumer: Queue and JoinableQueue -------------------------------------------

def pc_producer(q, pid, cpu, size, times, barrier, res):
    seen = child_setup(cpu)
    body = bytes(max(0, size - 16))
    barrier.wait()
    t1 = times[1]
    seq, c0 = 0, cpu_ns()
    while True:
        for _ in range(STRIDE):
            head = (pid << 48) | seq
            stamp = now() if seq % STRIDE == 0 else 0
            if size >= 16:
                q.put(head.to_bytes(8, "little") + stamp.to_bytes(8, "little") + body)
            else:
                q.put(head.to_bytes(8, "little") + bytes(size - 8))
            seq += 1
        if now() >= t1:
            break
    res.send({"sent": seq, "cpu_ns": cpu_ns() - c0, "seen": seen.out()})
    # Exiting joins the Queue's feeder thread: every message is in the pipe after join().


def pc_consumer(q, cid, nprod, cpu, size, joinable, times, barrier, res):
    seen = child_setup(cpu)
    barrier.wait()
    t0, t1 = times[0], times[1]
    cnt, sums, last = [0] * nprod, [0] * nprod, [-1] * nprod
    win, got, lat, t_td = 0, 0, [], 0
    c0 = cpu_ns()
    try:
        while True:
            m = q.get()
            t = now()
            if m is None:
                if joinable:
                    q.task_done()
                break
            if len(m) != size:
                raise Fail("consumer %d: a message of %d bytes, expected %d" % (cid, len(m), size))
            head = int.from_bytes(m[:8], "little")
            p, seq = head >> 48, head & ((1 << 48) - 1)
            if p >= nprod or seq <= last[p]:
                raise Fail("consumer %d: producer %d's message %d after %d (order or corrupt)"
                           % (cid, p, seq, last[p] if p < nprod else -1))
            last[p] = seq
            cnt[p] += 1
            sums[p] += seq
            got += 1
            if t0 <= t < t1:
                win += 1
                if size >= 16:
                    st = int.from_bytes(m[8:16], "little")
                    if st:
                        lat.append(t - st)
            if joinable:
                t_td = now()
                q.task_done()
    except Fail as e:
        res.send({"error": str(e)})
        return
    res.send({"cnt": cnt, "sums": sums, "win": win, "got": got, "lat": lat, "t_td": t_td,
              "cpu_ns": cpu_ns() - c0, "seen": seen.out()})


def w_prodcons(a, joinable):
    ctx = ctx_fork()
    R = Result(a)
    P, C = a.producers, a.consumers
    q = ctx.JoinableQueue(QUEUE_DEPTH) if joinable else ctx.Queue(QUEUE_DEPTH)
    times = ctx.Array("q", 2, lock=False)
    barrier = ctx.Barrier(P + C + 1)
    procs, conns = [], []
    for i in range(P + C):
        rr, rw = ctx.Pipe(duplex=False)
        if i < P:
            args = (q, i, cpu_for(a.cpus, i), a.size, times, barrier, rw)
            target = pc_producer
        else:
            args = (q, i - P, P, cpu_for(a.cpus, i), a.size, joinable, times, barrier, rw)
            target = pc_consumer
        pr = ctx.Process(target=target, args=args)
        pr.start()
        rw.close()
        procs.append(pr)
        conns.append(rr)
    pin(cpu_for(a.cpus, 0))
    t = now()
    times[0] = t + a.warmup_ns
    times[1] = t + a.warmup_ns + a.duration_ns
    barrier.wait(timeout=60)
    prep = collect(conns[:P], procs[:P], "producer")
    t_join = 0
    if joinable:
        q.join()                      # every message of every producer was task_done
        t_join = now()
    for _ in range(C):
        q.put(None)                   # one sentinel per consumer: behind every message (FIFO)
    crep = collect(conns[P:], procs[P:], "consumer")
    for p in range(P):
        sent = prep[p]["sent"]
        n = sum(c["cnt"][p] for c in crep)
        s = sum(c["sums"][p] for c in crep)
        if n != sent or s != sent * (sent - 1) // 2:
            raise Fail("integrity: producer %d sent %d, %d arrived (sequence sum %d, "
                       "expected %d)" % (p, sent, n, s, sent * (sent - 1) // 2))
    win = sum(c["win"] for c in crep)
    if win == 0:
        raise Fail("no message arrived inside the measured window")
    win_ns = times[1] - times[0]
    shares = [c["win"] / win for c in crep]
    lat = [x for c in crep for x in c["lat"]]
    R.seen = [r["seen"] for r in prep] + [r["seen"] for r in crep]
    R.add("msgs_per_s", "msgs/s", win * 1e9 / win_ns, 1, 1, 0)
    R.add("bytes_per_s", "B/s", win * a.size * 1e9 / win_ns, 1, 1, 0)
    R.add("msgs", "count", win, 1, 1, 0)
    R.add("share_min", "ratio", min(shares), C, 1, 0)
    R.add("share_max", "ratio", max(shares), C, 1, 1)
    R.add("jain_fairness", "ratio", jain(shares), C, 1, 0)
    if lat:
        R.set_hist("lat", lat, 1)
    if joinable:
        R.add("join_return_ns", "ns", max(0, t_join - max(c["t_td"] for c in crep)), P, 1, 1)
    got = sum(c["got"] for c in crep)
    cpu = sum(r["cpu_ns"] for r in prep) + sum(r["cpu_ns"] for r in crep)
    R.add("cpu_ns_per_msg", "ns", cpu / max(1, got))
    R.add("migrations", "count", sum(r["seen"][2] for r in prep + crep))
    R.params.append("producers=%d;consumers=%d;queue=%s;queue_depth=%d"
                    % (P, C, "joinable" if joinable else "plain", QUEUE_DEPTH))
    return R


# ---- the balance race: Value (processes) and a global (threads) ------------------------------

def race_loop(update_pair, warm_end, end, chunk=64):
    """Pairs until `end`; returns (pairs in all, measured pairs, t_begin, t_end)."""
    pairs = 0
    t = now()
    while t < warm_end:
        for _ in range(chunk):
            update_pair()
        pairs += chunk
        t = now()
    tb, measured = t, 0
    while t < end:
        for _ in range(chunk):
            update_pair()
        measured += chunk
        t = now()
    return pairs + measured, measured, tb, t


def value_worker(v, variant, wid, cpu, a, barrier, res):
    seen = child_setup(cpu)
    n = wid + 1
    dep, wd = TICK + n, TICK - n
    if variant == "nolock":               # Value('q', lock=False): a bare c_int64
        def pair():
            v.value = v.value + dep
            v.value = v.value + wd
    elif variant == "lock":               # Value('q'): the textbook way, under get_lock()
        lk = v.get_lock()

        def pair():
            with lk:
                v.value = v.value + dep
            with lk:
                v.value = v.value + wd
    else:                                 # "naive": lock=True, but only .value's own lock
        def pair():
            v.value = v.value + dep
            v.value = v.value + wd
    barrier.wait()
    t = now()
    allp, meas, tb, te = race_loop(pair, t + a.warmup_ns, t + a.warmup_ns + a.duration_ns)
    res.send({"pairs": allp, "measured": meas, "tb": tb, "te": te, "seen": seen.out()})


def split_word(word):
    """(updates that survived, balance) from the balance word, as ipcb_sync_balance_split."""
    word &= (1 << 64) - 1
    lo = word & 0xffffffff
    amount = lo - (1 << 32) if lo >= (1 << 31) else lo
    return ((word - amount) >> 32) & 0xffffffff, amount


def race_result(R, a, reports, word, racy, what):
    expected = sum(2 * r["pairs"] for r in reports)
    measured = sum(2 * r["measured"] for r in reports)
    survived, balance = split_word(word)
    if survived > expected:
        raise Fail("integrity: the balance counts %d updates, only %d were made"
                   % (survived, expected))
    lost = expected - survived
    tb = min(r["tb"] for r in reports)
    te = max(r["te"] for r in reports)
    window = max(1, te - tb)
    wns = sum((r["te"] - r["tb"]) / max(1, 2 * r["measured"]) for r in reports) / len(reports)
    R.seen = [r["seen"] for r in reports]
    R.add("ns_per_update", "ns", window / max(1, measured), measured, 128, 1)
    R.add("updates_per_s", "updates/s", measured * 1e9 / window, measured, 128, 0)
    R.add("worker_ns_per_update", "ns", wns, measured, 128, 1)
    R.add("lost_updates", "count", lost, expected, 1, 1)
    R.add("final_balance", "amount", balance, expected, 1, 1)
    R.add("migrations", "count", sum(r["seen"][2] for r in reports))
    if lost and racy:
        R.race = ("%s lost %d of %d updates (final balance %d, expected 0)"
                  % (what, lost, expected, balance))
    elif lost or balance:
        raise Fail("integrity: %s lost %d of %d updates (final balance %d, expected 0)"
                   % (what, lost, expected, balance))


def w_value(a, variant):
    ctx = ctx_fork()
    R = Result(a)
    W = a.workers
    v = ctx.Value("q", 0, lock=(variant != "nolock"))
    barrier = ctx.Barrier(W)
    procs, conns = [], []
    for i in range(W):
        rr, rw = ctx.Pipe(duplex=False)
        pr = ctx.Process(target=value_worker,
                         args=(v, variant, i, cpu_for(a.cpus, i), a, barrier, rw))
        pr.start()
        rw.close()
        procs.append(pr)
        conns.append(rr)
    reps = collect(conns, procs, "Value worker")
    word = v.value if variant == "nolock" else v.get_obj().value
    race_result(R, a, reps, word, variant != "lock",
                {"nolock": "Value(lock=False)", "lock": "Value with get_lock()",
                 "naive": "Value(lock=True) without get_lock()"}[variant])
    R.params.append("value=%s" % {"nolock": "lock=False", "lock": "get_lock",
                                  "naive": "lock=True"}[variant])
    return R


balance = 0


def change_it(dep, wd):
    # The classic: balance = balance + n; balance = balance - n, on a global (the high
    # half of the number counts the updates, so a lost one is counted exactly).
    global balance
    balance = balance + dep
    balance = balance + wd


def w_threads(a, locked):
    global balance
    R = Result(a)
    W = a.workers
    balance = 0
    lock = threading.Lock()
    barrier = threading.Barrier(W)
    reports = [None] * W
    errors = []

    def run(i):
        try:
            pin(cpu_for(a.cpus, i))
            seen = Seen()
            dep, wd = TICK + i + 1, TICK - i - 1
            if locked:
                def pair():
                    with lock:
                        change_it(dep, wd)
            else:
                def pair():
                    change_it(dep, wd)
            barrier.wait()
            t = now()
            allp, meas, tb, te = race_loop(pair, t + a.warmup_ns, t + a.warmup_ns + a.duration_ns)
            reports[i] = {"pairs": allp, "measured": meas, "tb": tb, "te": te,
                          "seen": seen.out()}
        except Exception as e:  # noqa: BLE001 - reported as the case's failure
            errors.append("thread %d: %r" % (i, e))
            barrier.abort()

    ths = [threading.Thread(target=run, args=(i,)) for i in range(W)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if errors:
        raise Fail(errors[0])
    race_result(R, a, reports, balance, not locked,
                "threads on a global %s" % ("with threading.Lock" if locked else "without a lock"))
    R.params.append("workers_are=threads;switch_interval_s=%g" % sys.getswitchinterval())
    return R


# ---- Array: whole-record writes and reads ------------------------------------------------------

RECS, WORDS = 4, 8


def array_worker(arr, locked, wid, nw, cpu, a, barrier, res):
    seen = child_setup(cpu)
    writer_only, reader_only = nw > 1 and wid % 2 == 0, nw > 1 and wid % 2 == 1
    seq = (wid + 1) << 40
    writes = reads = torn = 0
    barrier.wait()
    t = now()
    warm_end, end = t + a.warmup_ns, t + a.warmup_ns + a.duration_ns
    tb, measuring, k = t, False, 0
    while True:
        for _ in range(32):
            r = k % RECS
            k += 1
            lo, hi = r * WORDS, (r + 1) * WORDS
            if writer_only or (not reader_only and k % 2):
                seq += 1
                arr[lo:hi] = [seq] * WORDS   # SynchronizedArray locks around the slice itself
                writes += measuring
            else:
                rec = arr[lo:hi]
                if rec.count(rec[0]) != WORDS:
                    torn += 1
                reads += measuring
        t = now()
        if not measuring and t >= warm_end:
            measuring, tb = True, t
        elif t >= end:
            break
    res.send({"writes": writes, "reads": reads, "torn": torn, "ns": t - tb, "seen": seen.out()})


def w_array(a, locked):
    ctx = ctx_fork()
    R = Result(a)
    W = a.workers
    arr = ctx.Array("q", RECS * WORDS, lock=locked)
    barrier = ctx.Barrier(W)
    procs, conns = [], []
    for i in range(W):
        rr, rw = ctx.Pipe(duplex=False)
        pr = ctx.Process(target=array_worker,
                         args=(arr, locked, i, W, cpu_for(a.cpus, i), a, barrier, rw))
        pr.start()
        rw.close()
        procs.append(pr)
        conns.append(rr)
    reps = collect(conns, procs, "Array worker")
    wr, rd, torn = (sum(r[k] for r in reps) for k in ("writes", "reads", "torn"))
    ns = sum(r["ns"] / max(1, r["writes"] + r["reads"]) for r in reps) / len(reps)
    R.seen = [r["seen"] for r in reps]
    R.add("array_ns_per_record", "ns", ns, wr + rd, 32, 1)
    R.add("array_writes", "count", wr, 1, 1, 0)
    R.add("array_reads", "count", rd, 1, 1, 0)
    R.add("torn_reads", "count", torn, rd, 1, 1)
    R.add("migrations", "count", sum(r["seen"][2] for r in reps))
    if torn and not locked:
        R.race = "Array(lock=False): %d of %d record reads were torn" % (torn, rd)
    elif torn:
        raise Fail("integrity: Array(lock=True) gave %d torn reads of %d" % (torn, rd))
    R.params.append("array_recs=%d;rec_words=%d;array=%s"
                    % (RECS, WORDS, "lock=True" if locked else "lock=False"))
    return R


# ---- Manager proxies: dict, list, Value ------------------------------------------------------

def _server_cpu():
    return cur_cpu()


def _server_setup(cpu, first):
    set_pdeathsig()
    pin(cpu)
    first.value = cur_cpu()


def w_manager(a, what):
    from multiprocessing.managers import SyncManager

    class PinnedManager(SyncManager):
        pass

    PinnedManager.register("where", callable=_server_cpu)
    ctx = ctx_fork()
    R = Result(a)
    first = ctx.Value("i", -1, lock=False)
    m = PinnedManager(ctx=ctx)
    m.start(initializer=_server_setup, initargs=(cpu_for(a.cpus, 1), first))
    try:
        pin(cpu_for(a.cpus, 0))
        seen = Seen()
        size = a.size
        body = bytes(max(0, size - 8))
        if what == "dict":
            d = m.dict()

            def calls(seq):
                v = make_msg(seq, body)
                t0 = now()
                d["k"] = v
                t1 = now()
                g = d["k"]
                t2 = now()
                if g != v:
                    raise Fail("dict proxy: get after set %d returned other bytes" % seq)
                return t1 - t0, t2 - t1
        elif what == "list":
            lst = m.list()

            def calls(seq):
                v = make_msg(seq, body)
                t0 = now()
                lst.append(v)
                t1 = now()
                g = lst.pop()
                t2 = now()
                if g != v:
                    raise Fail("list proxy: pop after append %d returned other bytes" % seq)
                return t1 - t0, t2 - t1
        else:
            val = m.Value("q", 0)

            def calls(seq):
                t0 = now()
                x = val.value
                t1 = now()
                val.value = x + 1
                t2 = now()
                return t1 - t0, t2 - t1
        seq = 0
        t = now()
        warm_end = t + a.warmup_ns
        while True:
            calls(seq)
            seq += 1
            if now() >= warm_end:
                break
        samples = []
        tb = now()
        t, end = tb, tb + a.duration_ns
        while t < end:
            x, y = calls(seq)
            samples.append(x)
            samples.append(y)
            seq += 1
            t = now()
        if what == "value" and val.value != seq:
            raise Fail("Value proxy: %d increments, the value is %d" % (seq, val.value))
        last = m.where()._getvalue()
    finally:
        m.shutdown()
    R.seen = [seen.out(), [first.value, last, int(first.value != last)]]
    R.set_hist("op", samples, 1)    # bench/manager.c's names: op_p50_ns, calls_per_s
    R.add("calls_per_s", "msgs/s", len(samples) * 1e9 / max(1, t - tb), len(samples), 1, 0)
    R.add("calls", "count", len(samples), 1, 1, 0)
    R.params.append("object=%s;calls=%s" % (what, {"dict": "set/get", "list": "append/pop",
                                                   "value": "get/set"}[what]))
    return R


# ---- Pool: map and apply_async ---------------------------------------------------------------

_pool_seen = None
_pool_idx = -1
_pool_calls = 0


def _pool_init(cpus, counter, seen_arr):
    global _pool_seen, _pool_idx
    set_pdeathsig()
    with counter.get_lock():
        _pool_idx = counter.value % (len(seen_arr) // 3)   # a replaced worker reuses a slot
        counter.value += 1
    pin(cpu_for(cpus, 1 + _pool_idx))
    _pool_seen = seen_arr
    c = cur_cpu()
    seen_arr[3 * _pool_idx] = c
    seen_arr[3 * _pool_idx + 1] = c


def _pool_task(args):
    global _pool_calls
    i, grain = args
    if grain:
        end = time.perf_counter_ns() + grain
        while time.perf_counter_ns() < end:
            pass
    _pool_calls += 1
    if _pool_calls % 64 == 1 and _pool_seen is not None:
        c = cur_cpu()
        j = 3 * _pool_idx
        if c != _pool_seen[j + 1]:
            _pool_seen[j + 2] += 1
            _pool_seen[j + 1] = c
    return i


def w_pool(a, api):
    ctx = ctx_fork()
    R = Result(a)
    P, grain = a.pool_size, a.grain_ns
    counter = ctx.Value("i", 0)
    seen_arr = ctx.Array("q", 3 * P, lock=False)
    pin(cpu_for(a.cpus, 0))
    seen = Seen()
    pool = ctx.Pool(P, initializer=_pool_init, initargs=(a.cpus, counter, seen_arr))
    try:
        sub_ids = sub_sq = got_ids = got_sq = 0
        nxt = 0
        chunk = (MAP_ITEMS + 4 * P - 1) // (4 * P)   # what Pool.map chooses by default
        lat = []
        t_start = now()
        t0 = t_start + a.warmup_ns
        if api == "map":
            window_items, tw0, tw1 = 0, 0, 0
            while True:
                items = [(nxt + k, grain) for k in range(MAP_ITEMS)]
                nxt += MAP_ITEMS
                s = now()
                out = pool.map(_pool_task, items)
                e = now()
                for x, _ in items:
                    sub_ids += x
                    sub_sq += x * x
                for x in out:
                    got_ids += x
                    got_sq += x * x
                if s >= t0:
                    if not tw0:
                        tw0 = s
                    window_items += MAP_ITEMS
                    tw1 = e
                    lat.append(e - s)
                    if e >= t0 + a.duration_ns:
                        break
            tps = window_items * 1e9 / max(1, tw1 - tw0)
            win_ns, items_done = tw1 - tw0, window_items
            R.set_hist("map_call", lat, 1)
        else:
            credit = threading.BoundedSemaphore(2 * P)
            done = {"ids": 0, "sq": 0, "n": 0, "win": 0}
            t1 = t0 + a.duration_ns
            mu = threading.Lock()

            def cb(x, s):
                t = now()
                with mu:
                    done["ids"] += x
                    done["sq"] += x * x
                    done["n"] += 1
                    if t0 <= s and t0 <= t < t1:
                        done["win"] += 1
                        lat.append(t - s)
                credit.release()

            errs = []
            submitted = 0
            while True:
                credit.acquire()
                s = now()
                if s >= t1 and done["win"] >= 16 * P:
                    credit.release()
                    break
                if s >= t_start + int(a.max_seconds * 1e9):
                    credit.release()
                    break
                x = nxt
                nxt += 1
                sub_ids += x
                sub_sq += x * x
                submitted += 1
                pool.apply_async(_pool_task, ((x, grain),),
                                 callback=lambda r, s=s: cb(r, s),
                                 error_callback=lambda e: (errs.append(repr(e)), credit.release()))
            for _ in range(2 * P):      # drain: every credit back means every result is in
                credit.acquire()
            if errs:
                raise Fail("apply_async: %s" % errs[0])
            got_ids, got_sq, n = done["ids"], done["sq"], done["n"]
            if n != submitted:
                raise Fail("integrity: %d tasks submitted, %d results" % (submitted, n))
            items_done = done["win"]
            win_ns = t1 - t0
            tps = items_done * 1e9 / win_ns
            chunk = 1
            R.set_hist("task_latency", lat, 1)
        if sub_ids != got_ids or sub_sq != got_sq:
            raise Fail("integrity: id sums of submitted %d / %d and collected %d / %d differ"
                       % (sub_ids, sub_sq, got_ids, got_sq))
        if items_done == 0:
            raise Fail("no task completed inside the measured window")
    finally:
        pool.close()
        pool.join()
    R.seen = [seen.out()] + [[seen_arr[3 * i], seen_arr[3 * i + 1], seen_arr[3 * i + 2]]
                             for i in range(P)]
    ncpu = len(set(a.cpus)) if a.cpus else os.cpu_count()
    eff = min(P, ncpu)
    R.add("tasks_per_s", "ops/s", tps, items_done, 1, 0)
    R.add("overhead_ns_per_task", "ns", eff * win_ns / items_done - grain, items_done, 1, 1)
    R.add("tasks", "count", items_done, 1, 1, 0)
    R.add("chunk_items", "count", chunk, 1, 1, 0)
    if api == "map":
        R.params.append("api=map;chunk=auto;grain_ns=%d;pool_size=%d" % (grain, P))
    else:
        R.params.append("api=apply_async;chunk=1;grain_ns=%d;pool_size=%d" % (grain, P))
    return R


# ---- Process start + join, per start method ---------------------------------------------------

def _noop():
    pass


def w_process(a, method):
    ctx = mp.get_context(method)
    R = Result(a)
    pin(cpu_for(a.cpus, 0))
    seen = Seen()

    def one():
        p = ctx.Process(target=_noop)
        t0 = now()
        p.start()
        p.join()
        t1 = now()
        if p.exitcode != 0:
            raise Fail("a %s child exited with code %s" % (method, p.exitcode))
        return t1 - t0

    t = now()
    warm_end = t + a.warmup_ns
    while True:                       # warm-up: also starts the forkserver once
        one()
        if now() >= warm_end:
            break
    samples = []
    c0 = cpu_ns()
    tb = now()
    end, hard_end = tb + a.duration_ns, tb + max(a.duration_ns, int(a.max_seconds * 1e9))
    t = tb
    while t < end or (len(samples) < MIN_SPAWNS and t < hard_end):
        samples.append(one())
        t = now()
    R.seen = [seen.out()]
    R.set_hist("spawn", samples, 1)
    R.add("spawns", "count", len(samples), len(samples), 1, 0)
    R.add("spawns_per_s", "ops/s", len(samples) * 1e9 / max(1, t - tb), len(samples), 1, 0)
    R.add("parent_cpu_ns_per_spawn", "ns", (cpu_ns() - c0) / max(1, len(samples)))
    R.params.append("start_method=%s" % method)
    return R


# ---- the table ------------------------------------------------------------------------------

WORKLOADS = {
    "queue-pingpong": lambda a: w_pingpong(a, "queue"),
    "simplequeue-pingpong": lambda a: w_pingpong(a, "simplequeue"),
    "pipe-pingpong": lambda a: w_pingpong(a, "pipe"),
    "queue-stream": lambda a: w_stream(a, "queue"),
    "simplequeue-stream": lambda a: w_stream(a, "simplequeue"),
    "pipe-stream": lambda a: w_stream(a, "pipe"),
    "queue-prodcons": lambda a: w_prodcons(a, False),
    "joinablequeue-prodcons": lambda a: w_prodcons(a, True),
    "value-lock": lambda a: w_value(a, "lock"),
    "value-nolock": lambda a: w_value(a, "nolock"),
    "value-naive": lambda a: w_value(a, "naive"),
    "thread-balance-lock": lambda a: w_threads(a, True),
    "thread-balance-nolock": lambda a: w_threads(a, False),
    "array-lock": lambda a: w_array(a, True),
    "array-nolock": lambda a: w_array(a, False),
    "manager-dict": lambda a: w_manager(a, "dict"),
    "manager-list": lambda a: w_manager(a, "list"),
    "manager-value": lambda a: w_manager(a, "value"),
    "pool-map": lambda a: w_pool(a, "map"),
    "pool-apply_async": lambda a: w_pool(a, "apply_async"),
    "process-fork": lambda a: w_process(a, "fork"),
    "process-forkserver": lambda a: w_process(a, "forkserver"),
    "process-spawn": lambda a: w_process(a, "spawn"),
}


def parse(argv):
    ap = argparse.ArgumentParser(description="ipcbench workloads over Python multiprocessing")
    ap.add_argument("workload", nargs="?", choices=sorted(WORKLOADS))
    ap.add_argument("--list", action="store_true", help="list the workloads")
    ap.add_argument("--cpus", default="", help="CPU of each worker, worker order (0,1)")
    ap.add_argument("--duration", type=float, default=0.5, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=0.1, help="warm-up seconds")
    ap.add_argument("--size", type=int, default=64, help="message size in bytes (>= 8)")
    ap.add_argument("--workers", type=int, default=2, help="Value/Array/threads workers")
    ap.add_argument("--producers", type=int, default=1)
    ap.add_argument("--consumers", type=int, default=1)
    ap.add_argument("--pool-size", type=int, default=2)
    ap.add_argument("--grain-ns", type=int, default=0, help="work of one pool item")
    ap.add_argument("--max-seconds", type=float, default=2.0,
                    help="slow cases (spawn) may extend the window to this")
    ap.add_argument("--json", action="store_true", help="one JSON line on stdout")
    a = ap.parse_args(argv)
    if not a.list and not a.workload:
        ap.error("a workload is needed (--list shows them)")
    if a.size < 8:
        ap.error("--size must be at least 8 bytes")
    a.cpus = [int(x) for x in a.cpus.split(",") if x != ""]
    a.duration_ns = int(a.duration * 1e9)
    a.warmup_ns = int(a.warmup * 1e9)
    return a


def main(argv):
    a = parse(argv)
    if a.list:
        print("\n".join(sorted(WORKLOADS)))
        return 0
    set_pdeathsig()
    try:
        out = WORKLOADS[a.workload](a).json()
        rc = 0
    except Fail as e:
        out, rc = {"ok": False, "error": str(e)}, 1
    if a.json:
        sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
    else:
        print(json.dumps(out, indent=1))
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
