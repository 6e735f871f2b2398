// SPDX-License-Identifier: MIT
/*
 * Raw cache-line ping-pong between two CPUs: the physical floor under any shared-memory
 * ping-pong, for bench/validate_ring.sh. No ring, no copy, no check: a round trip is one
 * write seen by the other CPU and one write seen back.
 *
 * Three variants, all in two processes (fork, MAP_SHARED) pinned to CPU A and CPU B:
 *   one-line:  one 8-byte word on one cache line; A stores 2i+1 and waits for 2i+2, B waits
 *              for 2i+1 and stores 2i+2 (as rigtorp/c2clat does);
 *   two-lines: a "ping" line written only by A and a "pong" line written only by B (the
 *              shape of a duplex ring's two producer indices);
 *   payload:   a message of -m bytes (default 64) that must really travel: two rings (one
 *              per direction) of SLOTS slots, each slot a sequence word and the payload
 *              padded to whole lines (a 64-byte message: two lines). The sender copies the
 *              message in and stores the sequence word last (release); the receiver polls
 *              that word, copies the message out and echoes it on the other ring. With -s
 *              the message is stamped by A and checked by B and A (harness/msg.h, sparse,
 *              as ipcbench's ping-pong does). This is the floor for a message that carries
 *              its payload through lines each written by one side: no index, no space
 *              accounting, no wait modes, no call through a table;
 *   mailbox:   the same message, but B writes its echo into the slot it has just read
 *              (A's sequence word 2i+1, B's 2i+2), so the lines go back and forth as in
 *              one-line: the shape a request/response mailbox can have and a pair of
 *              one-way rings cannot.
 * A times batches of -B round trips (default 1000) and keeps the mean of each batch; the
 * result is the median (p50) and the minimum of the batch means over the run, like
 * ipcbench's ping-pong histogram of per-batch means (pass ipcbench's ops_per_sample as -B to
 * compare like with like). Prints on one line "one_line_p50_ns=.. one_line_min_ns=..
 * two_lines_p50_ns=.. two_lines_min_ns=.. payload_p50_ns=.. payload_min_ns=.. mailbox_p50_ns=..
 * mailbox_min_ns=.. batch=..
 * payload_bytes=.." and exits 1 when a stamped message fails its check.
 *
 * Build: cc -O2 -o cacheline_pingpong cacheline_pingpong.c
 * Usage: cacheline_pingpong [-a CPU] [-b CPU] [-d SECONDS] [-B ROUND_TRIPS] [-m BYTES] [-s]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../harness/msg.h"

#define MAX_SAMPLES (1 << 20)
#define SLOTS 1024            /* per direction: 64 KiB of one-line slots, stays in L2 */
#define MAX_MSG 4096

struct shared {
	alignas(128) _Atomic uint64_t ping;
	alignas(128) _Atomic uint64_t pong;
	alignas(128) _Atomic int done;
	_Atomic int errors;
	alignas(128) double samples[MAX_SAMPLES];
};

static int cpu_a = 0, cpu_b = 1, stamp = 0;
static double duration_s = 1.0;
static int batch = 1000;
static size_t msg_bytes = 64, slot_bytes;
static unsigned char *rings[2];   /* payload variant: [0] A->B, [1] B->A */

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		perror("cacheline_pingpong: sched_setaffinity");
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* Payload variant: the slot of message i on ring r, its word, send and receive. */
static inline unsigned char *slot(int r, uint64_t i)
{
	return rings[r] + (i % SLOTS) * slot_bytes;
}

static inline void put(int r, uint64_t i, const unsigned char *buf)
{
	unsigned char *p = slot(r, i);
	memcpy(p + 8, buf, msg_bytes);
	atomic_store_explicit((_Atomic uint64_t *)(void *)p, i + 1, memory_order_release);
}

/* 0, or 1 when told to stop while waiting. */
static inline int get(struct shared *sh, int r, uint64_t i, unsigned char *buf)
{
	unsigned char *p = slot(r, i);
	while (atomic_load_explicit((_Atomic uint64_t *)(void *)p, memory_order_acquire) != i + 1) {
		if (atomic_load_explicit(&sh->done, memory_order_relaxed))
			return 1;
		relax();
	}
	memcpy(buf, p + 8, msg_bytes);
	return 0;
}

static inline void check(struct shared *sh, const unsigned char *buf, uint64_t i)
{
	uint32_t got;
	uint16_t prod;
	if (ipcb_msg_check(buf, msg_bytes, 0, &got, &prod) != IPCB_MSG_OK || got != (uint32_t)i)
		atomic_fetch_add_explicit(&sh->errors, 1, memory_order_relaxed);
}

/* Mailbox variant: wait for word w in message i's slot of ring 0, copy the message out.
 * 0, or 1 when told to stop while waiting. */
static inline int mb_get(struct shared *sh, uint64_t i, uint64_t w, unsigned char *buf)
{
	unsigned char *p = slot(0, i);
	while (atomic_load_explicit((_Atomic uint64_t *)(void *)p, memory_order_acquire) != w) {
		if (atomic_load_explicit(&sh->done, memory_order_relaxed))
			return 1;
		relax();
	}
	memcpy(buf, p + 8, msg_bytes);
	return 0;
}

static inline void mb_put(uint64_t i, uint64_t w, const unsigned char *buf)
{
	unsigned char *p = slot(0, i);
	memcpy(p + 8, buf, msg_bytes);
	atomic_store_explicit((_Atomic uint64_t *)(void *)p, w, memory_order_release);
}

/* One round trip of the variant; v: 0 one-line, 1 two-lines, 2 payload, 3 mailbox. */
static inline void round_trip(struct shared *sh, int v, uint64_t i, unsigned char *buf)
{
	_Atomic uint64_t *out = &sh->ping, *in = v == 1 ? &sh->pong : &sh->ping;

	if (v == 3) {
		if (stamp)
			ipcb_msg_stamp(buf, msg_bytes, i, 0, 0, 0);
		mb_put(i, 2 * i + 1, buf);
		(void)mb_get(sh, i, 2 * i + 2, buf);
		if (stamp)
			check(sh, buf, i);
		return;
	}
	if (v == 2) {
		if (stamp)
			ipcb_msg_stamp(buf, msg_bytes, i, 0, 0, 0);
		put(0, i, buf);
		(void)get(sh, 1, i, buf);
		if (stamp)
			check(sh, buf, i);
		return;
	}
	atomic_store_explicit(out, 2 * i + 1, memory_order_release);
	while (atomic_load_explicit(in, memory_order_acquire) != 2 * i + 2)
		relax();
}

/* One variant: returns the number of samples in sh->samples. */
static int run(struct shared *sh, int v)
{
	_Atomic uint64_t *in_b = &sh->ping, *out_b = v == 1 ? &sh->pong : &sh->ping;
	uint64_t i = 0, t0, t, end;
	int n = 0;
	pid_t pid;

	atomic_store(&sh->ping, 0);
	atomic_store(&sh->pong, 0);
	atomic_store(&sh->done, 0);
	if (v >= 2)
		memset(rings[0], 0, 2 * SLOTS * slot_bytes);
	pid = fork();
	if (pid < 0) {
		perror("cacheline_pingpong: fork");
		exit(1);
	}
	if (pid == 0) {
		unsigned char buf[MAX_MSG];
		pin(cpu_b);
		for (uint64_t k = 0; v == 3; k++) {
			if (mb_get(sh, k, 2 * k + 1, buf))
				_exit(0);
			if (stamp)
				check(sh, buf, k);
			mb_put(k, 2 * k + 2, buf);
		}
		for (uint64_t k = 0; v == 2; k++) {
			if (get(sh, 0, k, buf))
				_exit(0);
			if (stamp)
				check(sh, buf, k);
			put(1, k, buf);
		}
		for (uint64_t k = 0;; k++) {
			while (atomic_load_explicit(in_b, memory_order_acquire) != 2 * k + 1) {
				if (atomic_load_explicit(&sh->done, memory_order_relaxed))
					_exit(0);
				relax();
			}
			atomic_store_explicit(out_b, 2 * k + 2, memory_order_release);
		}
	}
	unsigned char buf[MAX_MSG];
	memset(buf, 0x5a, sizeof(buf));
	pin(cpu_a);
	/* warm-up: 10% of the run */
	end = now_ns() + (uint64_t)(duration_s * 1e8);
	t = now_ns();
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1)
			end = t + (uint64_t)(duration_s * 1e9);
		do {
			t0 = t;
			for (int b = 0; b < batch; b++, i++)
				round_trip(sh, v, i, buf);
			t = now_ns();
			if (phase == 1 && n < MAX_SAMPLES)
				sh->samples[n++] = (double)(t - t0) / batch;
		} while (t < end);
	}
	atomic_store(&sh->done, 1);
	waitpid(pid, NULL, 0);
	qsort(sh->samples, (size_t)n, sizeof(double), cmp);
	return n;
}

int main(int argc, char **argv)
{
	struct shared *sh;
	double p50[4], mn[4];
	int opt;

	while ((opt = getopt(argc, argv, "a:b:d:B:m:s")) != -1) {
		switch (opt) {
		case 'a': cpu_a = atoi(optarg); break;
		case 'b': cpu_b = atoi(optarg); break;
		case 'd': duration_s = atof(optarg); break;
		case 'B': batch = atoi(optarg); break;
		case 'm': msg_bytes = (size_t)atol(optarg); break;
		case 's': stamp = 1; break;
		default:
			goto usage;
		}
	}
	if (batch < 1 || msg_bytes < IPCB_MSG_MIN || msg_bytes > MAX_MSG || optind != argc)
		goto usage;
	slot_bytes = (8 + msg_bytes + 63) & ~(size_t)63;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rings[0] = mmap(NULL, 2 * SLOTS * slot_bytes, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || rings[0] == MAP_FAILED) {
		perror("cacheline_pingpong: mmap");
		return 1;
	}
	rings[1] = rings[0] + SLOTS * slot_bytes;
	for (int v = 0; v < 4; v++) {
		int n = run(sh, v);
		if (n == 0) {
			fprintf(stderr, "cacheline_pingpong: no samples\n");
			return 1;
		}
		p50[v] = sh->samples[n / 2];
		mn[v] = sh->samples[0];
	}
	if (atomic_load(&sh->errors)) {
		fprintf(stderr, "cacheline_pingpong: %d stamped messages failed their check\n",
			atomic_load(&sh->errors));
		return 1;
	}
	printf("one_line_p50_ns=%.1f one_line_min_ns=%.1f two_lines_p50_ns=%.1f "
	       "two_lines_min_ns=%.1f payload_p50_ns=%.1f payload_min_ns=%.1f mailbox_p50_ns=%.1f "
	       "mailbox_min_ns=%.1f batch=%d payload_bytes=%zu stamped=%d\n", p50[0], mn[0], p50[1],
	       mn[1], p50[2], mn[2], p50[3], mn[3], batch, msg_bytes, stamp);
	return 0;
usage:
	fprintf(stderr, "usage: cacheline_pingpong [-a CPU] [-b CPU] [-d SECONDS] [-B ROUND_TRIPS] "
		"[-m BYTES (8..%d)] [-s]\n", MAX_MSG);
	return 2;
}
