// SPDX-License-Identifier: MIT
/*
 * The shm-ring transport next to its references, measured in the same rounds, for
 * bench/validate_ring.sh. Unlike the standalone probes this one links ipcbench's core
 * library and drives the real transport through its ops table, so CMake builds it
 * (BUILD/ring_rounds).
 *
 * Why rounds: some machines (the 2-vCPU KVM guests this project is developed on) switch
 * every few seconds between states where a cache-line transfer costs very different times
 * (there: a one-line round trip of ~45 ns or ~400 ns). Two numbers taken one after the other
 * may then come from different states, and their ratio means nothing. Here one pair of
 * processes, pinned with the harness's hwloc binding, runs the variants in turn, a short
 * stretch of each per round, for thousands of rounds, and every ratio is taken round by
 * round: both of its sides were measured within a few milliseconds of each other.
 *
 * Every round starts with the one-line variant (200 round trips of one 8-byte word on one
 * line, written in turn by both CPUs: the floor the project's ping-pong target names). Its
 * per-round mean also tells the machine's state: rounds under twice its 5th percentile are
 * the quick state (suffix _fast; the two states seen here differ eightfold, the spread within
 * one is well under 2x), the rest are the slow state and rounds the scheduler interrupted
 * (suffix _other).
 *
 * -p (default), ping-pong of -m bytes (default 8), -B round trips per variant per round:
 *   slots: the message through two bare one-way slot rings (one per direction, 1024 slots
 *          each, a slot a sequence word and the payload in whole lines), stamped by A and
 *          checked by B and A (harness/msg.h, sparse, as ipcbench's ping-pong does): the least
 *          a design pays whose directions have lines of their own (no index, no space
 *          accounting, no wait mode, no call through a table);
 *   ring:  the same stamped message through the shm-ring transport (--shm-ring-wait spin,
 *          capacity -r bytes, default ipcbench's).
 *   Ratios (of per-round mean round trips): slots_per_one_line, ring_per_one_line (the
 *   target: <= 1.5), ring_per_slots.
 * -S, streaming from A to B, each message stamped by A and checked by B (sparse), B
 *   acknowledging the last one (A times from its first send to the acknowledgement):
 *   ref:    -n 64-byte messages (default 1 Mi) through the classic padded ring with cached
 *           indices (spsc_ref.h, 4 MiB of slots, as ipcbench's default ring);
 *   ring64: the same -n messages through the shm-ring transport;
 *   memcpy: 128 copies of 1 MiB on CPU A alone (single-core memcpy bandwidth);
 *   ring1m: 128 messages of 1 MiB through a second shm-ring channel.
 *   The stretches are long enough (~20 ms) for both rings to reach their steady state, where
 *   the rates agree with the long runs of ipcbench and of the standalone probes; short ones
 *   measure the start of a stream instead, a different regime (measured at -n 4096, the
 *   ring from empty and a consumer that keeps up: 0.43x the reference; at 1 Mi: 1.39x).
 *   Ratios: ring64_rate_per_ref (ref time / ring64 time; the target: >= 1.0) and
 *   ring1m_bw_per_memcpy (memcpy time / ring1m time; the target: >= 0.5).
 *
 * Output, one line of key=value: mode=, rounds=, then for every round, the quick-state rounds
 * and the others: each variant's p50 of its per-round mean (ns per round trip, per message or
 * per MiB), each ratio's median over the rounds, the number of rounds; last the ring's
 * effective parameters. Exit 1 when a message fails its check or the transport fails, 2 on
 * bad arguments; killed by SIGALRM (30 s after -d) if a side stops answering.
 *
 * Usage: ring_rounds [-p | -S] [-a CPU] [-b CPU] [-d SECONDS] [-B ROUND_TRIPS] [-m BYTES]
 *                    [-n MESSAGES] [-r RING_BYTES]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../harness/clock.h"
#include "../../harness/msg.h"
#include "../../harness/opt.h"
#include "../../harness/topo.h"
#include "../../ipc/transport.h"
#include "../../sync/sync.h"
#include "spsc_ref.h"

#define SLOTS 1024
#define MAX_MSG 4096
#define MAX_ROUNDS (1 << 18)
#define STREAM_MSGS (1 << 20) /* default -n: 64-byte messages per round (ref, ring64) */
#define BIG (1 << 20)
#define BIG_MSGS 128          /* 1 MiB messages (or copies) per round */
#define REF_SLOTS 65536       /* 65536 x 64 B = 4 MiB */
#define MAXV 5

enum { V_LINE };
enum { P_SLOTS = 1, P_RING };
enum { S_REF = 1, S_RING64, S_MEMCPY, S_RING1M };

struct ratio { int num, den; const char *key; };

static const char *const p_names[] = { "one_line", "slots", "ring" };
static const struct ratio p_ratios[] = {
	{ P_SLOTS, V_LINE, "slots_per_one_line" },
	{ P_RING, V_LINE, "ring_per_one_line" },
	{ P_RING, P_SLOTS, "ring_per_slots" },
};
static const char *const s_names[] = { "one_line", "ref", "ring64", "memcpy", "ring1m" };
static const struct ratio s_ratios[] = {
	{ S_REF, S_RING64, "ring64_rate_per_ref" },
	{ S_MEMCPY, S_RING1M, "ring1m_bw_per_memcpy" },
};

static int stream_mode, cpu_a = 0, cpu_b = 1, batch = 200, nv, stream_msgs = STREAM_MSGS;
/* Untimed one-line round trips before the timed ones: in stream mode the line follows
 * tens of MiB of streaming, and right after it a round trip is slow whatever the machine's
 * state (measured: 225-450 ns without these, 45 ns after 10 000 in the quick state). */
static int line_warm;
static double duration_s = 2.0;
static size_t msg = 8, slot_bytes;
static const char *const *names;

/* Shared control lines: B's acknowledgements (stream mode) and A's round counter. */
struct ctl {
	_Alignas(128) _Atomic uint64_t ack;    /* stream: B's count of finished stretches */
	_Alignas(128) _Atomic int64_t go;      /* rounds A has started; -1: stop */
};
static struct ctl *ctl;
/* The one-line variant's words: round r uses line r % WORD_LINES, one per 4 KiB page (a
 * line's round trip depends on where its physical address is homed: measured here, one
 * fixed line gave 42-68 ns from run to run; many lines give their median). */
#define WORD_LINES 256
static unsigned char *words;
static unsigned char *slots_mem;
static struct spsc_ref *ref;
static unsigned char *big_src, *big_dst;
static struct ipcb_chan chan[2];        /* [0] the -m (or 64-byte) ring, [1] the 1 MiB ring */
static struct ipcb_end end[2];
static const struct ipcb_transport *tr = &ipcb_transport_shm_ring;
static struct ipcb_topo *topo;

/* Pin the calling process to one CPU the way ipcbench pins its workers (hwloc). */
static int pin(int cpu)
{
	char err[160];
	int rc = ipcb_topo_bind(topo, cpu, 0, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "ring_rounds: cannot pin to CPU %d: %s\n", cpu, err);
	return rc;
}

static inline unsigned char *slot(int dir, uint64_t i)
{
	return slots_mem + (size_t)dir * SLOTS * slot_bytes + (i % SLOTS) * slot_bytes;
}

static inline void slot_put(int dir, uint64_t i, const unsigned char *buf)
{
	unsigned char *p = slot(dir, i);
	memcpy(p + 8, buf, msg);
	atomic_store_explicit((_Atomic uint64_t *)(void *)p, i + 1, memory_order_release);
}

static inline void slot_get(int dir, uint64_t i, unsigned char *buf)
{
	unsigned char *p = slot(dir, i);
	while (atomic_load_explicit((_Atomic uint64_t *)(void *)p, memory_order_acquire) != i + 1)
		ipcb_cpu_relax();
	memcpy(buf, p + 8, msg);
}

/* 0 when buf is message i of len bytes, else 1. */
static inline int bad(const unsigned char *buf, size_t len, uint64_t i)
{
	uint32_t got = 0;
	uint16_t prod;
	return ipcb_msg_check(buf, len, 0, &got, &prod) != IPCB_MSG_OK || got != (uint32_t)i;
}

/* The one-line variant's word for round r. */
static _Atomic uint64_t *line_word(int64_t r)
{
	return (_Atomic uint64_t *)(void *)(words + (size_t)(r % WORD_LINES) * 4096);
}

static inline void one_line(int a, _Atomic uint64_t *w, uint64_t i)
{
	if (a) {
		atomic_store_explicit(w, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(w, memory_order_acquire) != 2 * i + 2)
			ipcb_cpu_relax();
	} else {
		while (atomic_load_explicit(w, memory_order_acquire) != 2 * i + 1)
			ipcb_cpu_relax();
		atomic_store_explicit(w, 2 * i + 2, memory_order_release);
	}
}

/* One ping-pong round trip of variant v as A (a = 1) or B; i counts the variant's round
 * trips. Returns the number of failed checks, or -1 when the transport failed. */
static int pingpong_step(int v, int a, uint64_t i, unsigned char *buf)
{
	int b;

	switch (v) {
	case P_SLOTS:
		if (a) {
			ipcb_msg_stamp(buf, msg, i, 0, 0, 0);
			slot_put(0, i, buf);
			slot_get(1, i, buf);
			return bad(buf, msg, i);
		}
		slot_get(0, i, buf);
		b = bad(buf, msg, i);
		slot_put(1, i, buf);   /* echoed even when bad: A sees it and stops the run */
		return b;
	default:
		if (a) {
			ipcb_msg_stamp(buf, msg, i, 0, 0, 0);
			if (tr->send(&end[0], buf, msg) != (ssize_t)msg ||
			    tr->recv(&end[0], buf, MAX_MSG) != (ssize_t)msg)
				return -1;
			return bad(buf, msg, i);
		}
		if (tr->recv(&end[0], buf, MAX_MSG) != (ssize_t)msg)
			return -1;
		b = bad(buf, msg, i);
		return tr->send(&end[0], buf, msg) == (ssize_t)msg ? b : -1;
	}
}

/* One stretch of streaming variant v as A or B; *seq counts the variant's messages.
 * Returns the number of failed checks, or -1 when the transport failed. */
static int stream_step(int v, int a, uint64_t *seq, unsigned char *buf)
{
	int n = v == S_RING1M ? BIG_MSGS : stream_msgs, errs = 0;
	size_t len = v == S_RING1M ? BIG : 64;
	struct ipcb_end *e = &end[v == S_RING1M];

	if (v == S_MEMCPY) {
		if (a)
			for (int k = 0; k < BIG_MSGS; k++) {
				memcpy(big_dst, big_src, BIG);
				__asm__ __volatile__("" ::: "memory");   /* keep every copy */
			}
		return 0;
	}
	for (int k = 0; k < n; k++, (*seq)++) {
		if (a) {
			ipcb_msg_stamp(buf, len, *seq, 0, 0, 0);
			if (v == S_REF)
				spsc_ref_push(ref, buf);
			else if (tr->send(e, buf, len) != (ssize_t)len)
				return -1;
		} else {
			if (v == S_REF)
				spsc_ref_pop(ref, buf);
			else if (tr->recv(e, buf, BIG) != (ssize_t)len)
				return -1;
			errs += bad(buf, len, *seq);
		}
	}
	if (!a)
		atomic_fetch_add_explicit(&ctl->ack, 1, memory_order_release);
	return errs;
}

/* Side B: follow A's rounds until A says stop. Exit status: 0, or 1 on any failure. */
static int side_b(unsigned char *buf)
{
	uint64_t count[MAXV] = { 0 };
	int bad_msgs = 0;

	for (int64_t r = 0;; r++) {
		int64_t g;
		while ((g = atomic_load_explicit(&ctl->go, memory_order_acquire)) == r)
			ipcb_cpu_relax();
		if (g < 0)
			break;
		_Atomic uint64_t *w = line_word(r);
		for (int k = 0; k < line_warm + batch; k++)
			one_line(0, w, count[V_LINE]++);
		for (int v = 1; v < nv; v++) {
			int rc = 0;
			if (stream_mode)
				rc = stream_step(v, 0, &count[v], buf);
			else
				for (int k = 0; k < batch; k++) {
					int x = pingpong_step(v, 0, count[v]++, buf);
					if (x < 0) {   /* the transport failed: nothing more to echo */
						rc = x;
						break;
					}
					rc += x;   /* a bad message is echoed on: A sees it too */
				}
			if (rc < 0)
				return 1;
			bad_msgs += rc;
		}
	}
	return bad_msgs ? 1 : 0;
}

/* ---- results ---- */

static double *mean;                     /* [round][variant]: ns per op */
static int first, nr;                    /* first kept round, rounds kept */
static double fast_limit;
#define M(i, v) mean[(size_t)(first + (i)) * MAXV + (v)]

static int in_state(int st, double one_line_ns)
{
	return st == 0 || (st == 1) == (one_line_ns <= fast_limit);
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n ? v[n / 2] : 0;
}

static void report(const struct ratio *ratios, int nratios, double *col)
{
	static const char *const sfx[3] = { "", "_fast", "_other" };

	for (int i = 0; i < nr; i++)
		col[i] = M(i, V_LINE);
	qsort(col, (size_t)nr, sizeof(*col), cmp);
	fast_limit = nr ? col[nr / 20] * 2 : 0;
	printf("mode=%s rounds=%d batch=%d msg_bytes=%zu", stream_mode ? "stream" : "pingpong", nr,
	       batch, stream_mode ? (size_t)64 : msg);
	for (int st = 0; st < 3; st++) {   /* every round, the quick state, the others */
		int k = 0;
		for (int v = 0; v < nv; v++) {
			k = 0;
			for (int i = 0; i < nr; i++)
				if (in_state(st, M(i, V_LINE)))
					col[k++] = M(i, v);
			printf(" %s_p50_ns%s=%.1f", names[v], sfx[st], median(col, k));
		}
		for (int q = 0; q < nratios; q++) {
			k = 0;
			for (int i = 0; i < nr; i++)
				if (in_state(st, M(i, V_LINE)))
					col[k++] = M(i, ratios[q].num) / M(i, ratios[q].den);
			printf(" %s%s=%.2f", ratios[q].key, sfx[st], median(col, k));
		}
		if (st)
			printf(" rounds%s=%d", sfx[st], k);
	}
	printf(" ring=\"%s\"\n", chan[0].effective);
}

/* ---- set-up ---- */

static int set_ring_bytes(const char *bytes)
{
	char *argv[] = { (char *)"ring_rounds", (char *)"--shm-ring-wait", (char *)"spin",
			 (char *)"--shm-ring-bytes", (char *)bytes };
	struct ipcb_config cfg;
	char err[256] = "";
	int npos;

	ipcb_config_defaults(&cfg);
	if (ipcb_opt_parse(&cfg, 5, argv, 1, NULL, 0, &npos, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "ring_rounds: %s\n", err);
	return -1;
}

static int open_chan(struct ipcb_chan *ch, size_t size)
{
	ch->tr = tr;
	ch->msg_size = size;
	ch->n_a = ch->n_b = 1;
	if ((errno = -tr->setup(ch)) == 0)
		return 0;
	fprintf(stderr, "ring_rounds: shm-ring setup: %s %s\n", strerror(errno), ch->why);
	return -1;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
	const char *ring_bytes = "0";
	static unsigned char buf[BIG];
	uint64_t count[MAXV] = { 0 };
	double *col;
	int opt, rounds = 0, errors = 0, status, nchan;
	pid_t pid;

	while ((opt = getopt(argc, argv, "pSa:b:d:B:m:n:r:")) != -1) {
		switch (opt) {
		case 'p': stream_mode = 0; break;
		case 'S': stream_mode = 1; break;
		case 'a': cpu_a = atoi(optarg); break;
		case 'b': cpu_b = atoi(optarg); break;
		case 'd': duration_s = atof(optarg); break;
		case 'B': batch = atoi(optarg); break;
		case 'm': msg = (size_t)atol(optarg); break;
		case 'n': stream_msgs = atoi(optarg); break;
		case 'r': ring_bytes = optarg; break;
		default:
			fprintf(stderr, "usage: ring_rounds [-p | -S] [-a CPU] [-b CPU] [-d SECONDS] "
				"[-B ROUND_TRIPS] [-m BYTES] [-n MESSAGES] [-r RING_BYTES]\n");
			return 2;
		}
	}
	if (batch < 1 || stream_msgs < 1 || duration_s <= 0 || msg < IPCB_MSG_MIN || msg > MAX_MSG) {
		fprintf(stderr, "ring_rounds: need -B >= 1, -n >= 1, -d > 0 and %d <= -m <= %d\n",
			IPCB_MSG_MIN, MAX_MSG);
		return 2;
	}
	names = stream_mode ? s_names : p_names;
	nv = stream_mode ? 5 : 3;
	if (stream_mode) {
		msg = 64;
		line_warm = 10000;
	}
	slot_bytes = (8 + msg + 63) / 64 * 64;
	ctl = map(sizeof(*ctl));
	words = map((size_t)WORD_LINES * 4096);
	slots_mem = stream_mode ? NULL : map(2 * SLOTS * slot_bytes);
	ref = stream_mode ? map(spsc_ref_bytes(REF_SLOTS)) : NULL;
	big_src = stream_mode ? malloc(BIG) : NULL;
	big_dst = stream_mode ? malloc(BIG) : NULL;
	mean = malloc(sizeof(double) * MAXV * MAX_ROUNDS);
	col = malloc(sizeof(double) * MAX_ROUNDS);
	if (!ctl || !words || (stream_mode ? !ref || !big_src || !big_dst : !slots_mem) || !mean || !col) {
		perror("ring_rounds: memory");
		return 1;
	}
	if (stream_mode) {
		spsc_ref_init(ref, REF_SLOTS);
		memset(big_src, 0x5a, BIG);
		memset(big_dst, 0, BIG);
	}
	if (set_ring_bytes(ring_bytes) < 0)
		return 2;
	if ((errno = -ipcb_topo_load(&topo, NULL)) != 0) {
		fprintf(stderr, "ring_rounds: hwloc topology: %s\n", strerror(errno));
		return 1;
	}
	/* Both CPUs checked before the fork: a child that cannot pin would leave A waiting. */
	if (!ipcb_topo_has_pu(topo, cpu_a) || !ipcb_topo_has_pu(topo, cpu_b)) {
		fprintf(stderr, "ring_rounds: CPU %d or %d does not exist or is not allowed here\n",
			cpu_a, cpu_b);
		return 2;
	}
	nchan = stream_mode ? 2 : 1;
	for (int c = 0; c < nchan; c++)
		if (open_chan(&chan[c], c ? BIG : msg) < 0)
			return 1;

	pid_t parent = getpid();
	pid = fork();
	if (pid < 0) {
		perror("ring_rounds: fork");
		return 1;
	}
	if (pid == 0) {
		/* B dies with A, whatever A dies of (the watchdog below included). */
		int rc = prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() == parent ? pin(cpu_b) : -1;
		for (int c = 0; c < nchan && rc == 0; c++)
			rc = tr->attach(&chan[c], &end[c], IPCB_ROLE_B);
		if (rc == 0)
			rc = side_b(buf);
		for (int c = 0; c < nchan; c++)
			if (end[c].priv)
				tr->detach(&end[c]);
		_exit(rc ? 1 : 0);
	}
	/* Watchdog: a side that stopped answering (B failed while A waits for it) ends the
	 * probe by SIGALRM instead of hanging it; no stretch of a round takes seconds. */
	alarm((unsigned)duration_s + 30);
	int rc = pin(cpu_a);
	for (int c = 0; c < nchan && rc == 0; c++)
		rc = tr->attach(&chan[c], &end[c], IPCB_ROLE_A);
	if (rc < 0) {
		kill(pid, SIGKILL);
		return 1;
	}
	uint64_t stop = ipcb_now_ns() + (uint64_t)(duration_s * 1e9), acks = 0;
	while (rounds < MAX_ROUNDS && errors == 0) {
		atomic_store_explicit(&ctl->go, rounds + 1, memory_order_release);
		_Atomic uint64_t *w = line_word(rounds);
		for (int k = 0; k < line_warm; k++)
			one_line(1, w, count[V_LINE]++);
		uint64_t t0 = ipcb_now_ns();
		for (int k = 0; k < batch; k++)
			one_line(1, w, count[V_LINE]++);
		mean[(size_t)rounds * MAXV + V_LINE] = (double)(ipcb_now_ns() - t0) / batch;
		for (int v = 1; v < nv && errors == 0; v++) {
			int n = 0;
			t0 = ipcb_now_ns();
			if (stream_mode) {
				int r = stream_step(v, 1, &count[v], buf);
				errors += r != 0;
				if (v != S_MEMCPY) {   /* until B has checked the last message */
					acks++;
					while (errors == 0 &&
					       atomic_load_explicit(&ctl->ack, memory_order_acquire) < acks)
						ipcb_cpu_relax();
				}
				n = v == S_RING1M || v == S_MEMCPY ? BIG_MSGS : stream_msgs;
			} else {
				for (int k = 0; k < batch && errors == 0; k++)
					errors += pingpong_step(v, 1, count[v]++, buf) != 0;
				n = batch;
			}
			mean[(size_t)rounds * MAXV + v] = (double)(ipcb_now_ns() - t0) / n;
		}
		rounds++;
		if (ipcb_now_ns() >= stop)
			break;
	}
	atomic_store_explicit(&ctl->go, -1, memory_order_release);
	if (errors)
		kill(pid, SIGKILL);   /* B may be waiting for a message A will not send */
	for (int c = 0; c < nchan; c++)
		tr->detach(&end[c]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errors++;
	alarm(0);
	for (int c = 0; c < nchan; c++)
		tr->teardown(&chan[c]);
	if (errors) {
		fprintf(stderr, "ring_rounds: a message failed its check or the transport failed\n");
		return 1;
	}
	/* Rounds 0..rounds/20 are a warm-up (first touches of the rings): dropped. */
	first = rounds / 20;
	nr = rounds - first;
	if (stream_mode)
		report(s_ratios, 2, col);
	else
		report(p_ratios, 3, col);
	return 0;
}
