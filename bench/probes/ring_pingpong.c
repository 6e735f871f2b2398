// SPDX-License-Identifier: MIT
/*
 * The shm-ring transport's ping-pong next to its floors, measured in the same rounds, for
 * bench/validate_ring.sh. Unlike the other probes this one links ipcbench's core library
 * and drives the real transport through its ops table, so CMake builds it (BUILD/ring_pingpong).
 *
 * Why rounds: some machines (the 2-vCPU KVM guests this project is developed on) switch
 * every few seconds between states where a cache-line transfer costs very different times
 * (there: a one-line round trip of ~45 ns or ~400 ns). Two numbers taken one after the other
 * may then come from different states, and their ratio means nothing. Here one pair of
 * pinned processes (fork, MAP_SHARED) runs the variants in turn, -B round trips of each per
 * round, for many short rounds, and the ratio to the floor is taken round by round: both
 * sides of each ratio were measured within a millisecond of each other.
 *
 * Variants, all with messages of -m bytes (default 8):
 *   one_line: one 8-byte word on one line, written in turn by both CPUs (the floor the
 *             project's target names; as rigtorp/c2clat measures it);
 *   slots:    the message through two bare one-way slot rings (one per direction, 1024 slots
 *             each, a slot being a sequence word and the payload in whole lines), stamped by
 *             A and checked by B and A (harness/msg.h, sparse, as ipcbench's ping-pong does):
 *             the least a message that carries and checks its payload costs when each line
 *             is written by one side only -- no index, no space accounting, no wait mode, no
 *             call through a table;
 *   ring:     the same stamped message through the shm-ring transport itself (setup, attach,
 *             send, recv from ipc/shm_ring.c; --shm-ring-wait spin, capacity -r bytes,
 *             default ipcbench's), stamped and checked the same way.
 * Output, one line of key=value: rounds=, batch=, msg_bytes=, then for every round, for the
 * rounds of the machine's quicker state (suffix _fast: one-line mean under twice its 5th
 * percentile; the states seen here differ eightfold, the spread within one is well under
 * 2x) and for the others (_other: the slower state, and rounds the scheduler interrupted):
 * each variant's p50 of the per-round means, and the
 * medians of the per-round ratios slots/one_line, ring/one_line and ring/slots, with the
 * number of rounds; last the ring's effective parameters.
 * Exit 1 when a message fails its check or the transport fails; 2 on bad arguments.
 *
 * Usage: ring_pingpong [-a CPU] [-b CPU] [-d SECONDS] [-B ROUND_TRIPS] [-m BYTES] [-r BYTES]
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../harness/clock.h"
#include "../../harness/msg.h"
#include "../../harness/opt.h"
#include "../../harness/topo.h"
#include "../../ipc/transport.h"
#include "../../sync/sync.h"

#define SLOTS 1024
#define MAX_MSG 4096
#define MAX_ROUNDS (1 << 18)
enum { V_LINE, V_SLOTS, V_RING, NV };
static const char *const vname[NV] = { "one_line", "slots", "ring" };

static int cpu_a = 0, cpu_b = 1, batch = 200;
static double duration_s = 2.0;
static size_t msg = 8, slot_bytes;
static unsigned char *shm;            /* [word line][slots A->B][slots B->A] */
static struct ipcb_chan chan;
static const struct ipcb_transport *tr = &ipcb_transport_shm_ring;

static struct ipcb_topo *topo;

/* Pin the calling process to one CPU the way ipcbench pins its workers (hwloc). */
static int pin(int cpu)
{
	char err[160];
	int rc = ipcb_topo_bind(topo, cpu, 0, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "ring_pingpong: cannot pin to CPU %d: %s\n", cpu, err);
	return rc;
}

static inline _Atomic uint64_t *word(void)
{
	return (_Atomic uint64_t *)(void *)shm;
}

static inline unsigned char *slot(int dir, uint64_t i)
{
	return shm + 128 + (size_t)dir * SLOTS * slot_bytes + (i % SLOTS) * slot_bytes;
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

/* 0 when buf is message i, else 1. */
static inline int bad(const unsigned char *buf, uint64_t i)
{
	uint32_t got;
	uint16_t prod;
	return ipcb_msg_check(buf, msg, 0, &got, &prod) != IPCB_MSG_OK || got != (uint32_t)i;
}

/* One round trip of variant v as side a (1: A, the timer) or B; i counts this variant's
 * round trips. Returns the number of failed checks (or -1 when the transport failed). */
static inline int step(int v, int a, uint64_t i, struct ipcb_end *e, unsigned char *buf)
{
	_Atomic uint64_t *w = word();

	switch (v) {
	case V_LINE:
		if (a) {
			atomic_store_explicit(w, 2 * i + 1, memory_order_release);
			while (atomic_load_explicit(w, memory_order_acquire) != 2 * i + 2)
				ipcb_cpu_relax();
		} else {
			while (atomic_load_explicit(w, memory_order_acquire) != 2 * i + 1)
				ipcb_cpu_relax();
			atomic_store_explicit(w, 2 * i + 2, memory_order_release);
		}
		return 0;
	case V_SLOTS:
		if (a) {
			ipcb_msg_stamp(buf, msg, i, 0, 0, 0);
			slot_put(0, i, buf);
			slot_get(1, i, buf);
			return bad(buf, i);
		}
		slot_get(0, i, buf);
		if (bad(buf, i))
			return 1;
		slot_put(1, i, buf);
		return 0;
	default:
		if (a) {
			ipcb_msg_stamp(buf, msg, i, 0, 0, 0);
			if (tr->send(e, buf, msg) != (ssize_t)msg || tr->recv(e, buf, MAX_MSG) != (ssize_t)msg)
				return -1;
			return bad(buf, i);
		}
		if (tr->recv(e, buf, MAX_MSG) != (ssize_t)msg)
			return -1;
		if (bad(buf, i))
			return 1;
		return tr->send(e, buf, msg) == (ssize_t)msg ? 0 : -1;
	}
}

/* Per-round mean of variant v in round i (after the warm-up), and the state filter:
 * st 0 every round, 1 the quicker state, 2 the others. */
static double *mean;
static int first, nr;   /* first kept round, rounds kept */
static double fast_limit;
#define M(i, v) mean[(size_t)(first + (i)) * NV + (v)]

static int in_state(int st, double one_line)
{
	return st == 0 || (st == 1) == (one_line <= fast_limit);
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

static int set_ring_bytes(const char *bytes)
{
	char *argv[] = { (char *)"ring_pingpong", (char *)"--shm-ring-wait", (char *)"spin",
			 (char *)"--shm-ring-bytes", (char *)bytes };
	struct ipcb_config cfg;
	char err[256] = "";
	int npos;

	ipcb_config_defaults(&cfg);
	if (ipcb_opt_parse(&cfg, 5, argv, 1, NULL, 0, &npos, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "ring_pingpong: %s\n", err);
	return -1;
}

int main(int argc, char **argv)
{
	const char *ring_bytes = "0";
	unsigned char buf[MAX_MSG];
	struct ipcb_end end;
	uint64_t count[NV] = { 0 };
	double *col, *ratio;
	int opt, rounds = 0, errors = 0, status;
	pid_t pid;

	while ((opt = getopt(argc, argv, "a:b:d:B:m:r:")) != -1) {
		switch (opt) {
		case 'a': cpu_a = atoi(optarg); break;
		case 'b': cpu_b = atoi(optarg); break;
		case 'd': duration_s = atof(optarg); break;
		case 'B': batch = atoi(optarg); break;
		case 'm': msg = (size_t)atol(optarg); break;
		case 'r': ring_bytes = optarg; break;
		default:
			fprintf(stderr, "usage: ring_pingpong [-a CPU] [-b CPU] [-d SECONDS] "
				"[-B ROUND_TRIPS] [-m BYTES] [-r RING_BYTES]\n");
			return 2;
		}
	}
	if (batch < 1 || duration_s <= 0 || msg < IPCB_MSG_MIN || msg > MAX_MSG) {
		fprintf(stderr, "ring_pingpong: need -B >= 1, -d > 0 and %d <= -m <= %d\n",
			IPCB_MSG_MIN, MAX_MSG);
		return 2;
	}
	slot_bytes = (8 + msg + 63) / 64 * 64;
	shm = mmap(NULL, 128 + 2 * SLOTS * slot_bytes, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mean = malloc(sizeof(double) * NV * MAX_ROUNDS);
	col = malloc(sizeof(double) * MAX_ROUNDS);
	ratio = malloc(sizeof(double) * MAX_ROUNDS);
	if (shm == MAP_FAILED || !mean || !col || !ratio) {
		perror("ring_pingpong: memory");
		return 1;
	}
	if (set_ring_bytes(ring_bytes) < 0)
		return 2;
	if ((errno = -ipcb_topo_load(&topo, NULL)) != 0) {
		fprintf(stderr, "ring_pingpong: hwloc topology: %s\n", strerror(errno));
		return 1;
	}
	/* Both CPUs checked before the fork: a child that cannot pin would leave A waiting. */
	if (!ipcb_topo_has_pu(topo, cpu_a) || !ipcb_topo_has_pu(topo, cpu_b)) {
		fprintf(stderr, "ring_pingpong: CPU %d or %d does not exist or is not allowed here\n",
			cpu_a, cpu_b);
		return 2;
	}
	chan.tr = tr;
	chan.msg_size = msg;
	chan.n_a = chan.n_b = 1;
	if ((errno = -tr->setup(&chan)) != 0) {
		fprintf(stderr, "ring_pingpong: shm-ring setup: %s %s\n", strerror(errno), chan.why);
		return 1;
	}

	/* B runs as many rounds as A announces in the word's line before each round: A decides
	 * when to stop (by time), B follows. The count lives after the word, same line. */
	_Atomic int64_t *go = (_Atomic int64_t *)(void *)(shm + 64);
	memset(&end, 0, sizeof(end));
	pid = fork();
	if (pid < 0) {
		perror("ring_pingpong: fork");
		return 1;
	}
	if (pid == 0) {
		int bad_msgs = 0;
		if (pin(cpu_b) < 0 || tr->attach(&chan, &end, IPCB_ROLE_B) < 0)
			_exit(1);
		for (int64_t r = 0;; r++) {
			int64_t g;
			while ((g = atomic_load_explicit(go, memory_order_acquire)) == r)
				ipcb_cpu_relax();
			if (g < 0)
				break;
			for (int v = 0; v < NV; v++)
				for (int k = 0; k < batch; k++) {
					int rc = step(v, 0, count[v]++, &end, buf);
					if (rc < 0)
						_exit(1);
					bad_msgs += rc;
				}
		}
		tr->detach(&end);
		_exit(bad_msgs ? 1 : 0);
	}
	if (pin(cpu_a) < 0 || tr->attach(&chan, &end, IPCB_ROLE_A) < 0) {
		kill(pid, SIGKILL);
		return 1;
	}
	uint64_t stop = ipcb_now_ns() + (uint64_t)(duration_s * 1e9);
	while (rounds < MAX_ROUNDS && errors == 0) {
		atomic_store_explicit(go, rounds + 1, memory_order_release);
		for (int v = 0; v < NV; v++) {
			uint64_t t0 = ipcb_now_ns();
			for (int k = 0; k < batch; k++) {
				int rc = step(v, 1, count[v]++, &end, buf);
				if (rc)
					errors++;
				if (rc < 0)
					break;
			}
			mean[(size_t)rounds * NV + v] = (double)(ipcb_now_ns() - t0) / batch;
		}
		rounds++;
		if (ipcb_now_ns() >= stop)
			break;
	}
	atomic_store_explicit(go, -1, memory_order_release);
	if (errors)
		kill(pid, SIGKILL);   /* B may be waiting for a message A will not send */
	tr->detach(&end);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errors++;
	tr->teardown(&chan);
	if (errors) {
		fprintf(stderr, "ring_pingpong: a message failed its check or the transport failed\n");
		return 1;
	}
	/* Rounds 0..rounds/20 are a warm-up (first touches of the ring): dropped. */
	first = rounds / 20;
	nr = rounds - first;
	for (int i = 0; i < nr; i++)
		col[i] = M(i, V_LINE);
	qsort(col, (size_t)nr, sizeof(*col), cmp);
	fast_limit = nr ? col[nr / 20] * 2 : 0;
	printf("rounds=%d batch=%d msg_bytes=%zu", nr, batch, msg);
	for (int st = 0; st < 3; st++) {   /* all rounds, the quicker state, the others */
		static const char *const sfx[3] = { "", "_fast", "_other" };
		int k = 0;
		for (int v = 0; v < NV; v++) {
			k = 0;
			for (int i = 0; i < nr; i++)
				if (in_state(st, M(i, V_LINE)))
					col[k++] = M(i, v);
			printf(" %s_p50_ns%s=%.1f", vname[v], sfx[st], median(col, k));
		}
		k = 0;
		for (int i = 0; i < nr; i++)
			if (in_state(st, M(i, V_LINE)))
				ratio[k++] = M(i, V_SLOTS) / M(i, V_LINE);
		printf(" slots_per_one_line%s=%.2f", sfx[st], median(ratio, k));
		k = 0;
		for (int i = 0; i < nr; i++)
			if (in_state(st, M(i, V_LINE)))
				ratio[k++] = M(i, V_RING) / M(i, V_LINE);
		printf(" ring_per_one_line%s=%.2f", sfx[st], median(ratio, k));
		k = 0;
		for (int i = 0; i < nr; i++)
			if (in_state(st, M(i, V_LINE)))
				ratio[k++] = M(i, V_RING) / M(i, V_SLOTS);
		printf(" ring_per_slots%s=%.2f", sfx[st], median(ratio, k));
		if (st)
			printf(" rounds%s=%d", sfx[st], k);
	}
	printf(" ring=\"%s\"\n", chan.effective);
	return 0;
}
