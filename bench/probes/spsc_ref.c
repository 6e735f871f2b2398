// SPDX-License-Identifier: MIT
/*
 * Reference SPSC ring for bench/validate_ring.sh: the classic cache-line-padded ring with
 * cached indices (the idea of Rigtorp's SPSCQueue, written here from the idea), streaming
 * 64-byte messages from CPU A to CPU B, in two processes (default) or two threads.
 *
 * Layout: the producer's index and its cached copy of the consumer's index share one
 * 128-byte block, the consumer's index and its cached copy of the producer's index another,
 * and the slots start on a block of their own. Indices are free-running 64-bit counters,
 * the slot count a power of two. A side re-reads the other's index (acquire) only when its
 * cached copy says full or empty; a push copies the message into its slot and publishes with
 * a release store; a pop copies it out and publishes likewise. Full and empty are waited
 * out by spinning with a pause instruction.
 *
 * With -s, each message is stamped and checked exactly as ipcbench's stream pattern does
 * (harness/msg.h, sparse mode), so the rate can be compared like for like with
 * `ipcbench run stream --mech shm-ring --sizes 64`; without it, a message carries its
 * sequence number only and the consumer checks that.
 *
 * The consumer measures: it opens its window once the warm-up has passed since the first
 * message, reads the clock every 4096 messages, and closes the window after the duration;
 * then it tells the producer to stop. Prints one line: "msgs_per_s=<rate> errors=<n>".
 *
 * Build: cc -O2 -pthread -o spsc_ref spsc_ref.c
 * Usage: spsc_ref [-t] [-s] [-a CPU] [-b CPU] [-c SLOTS] [-d SECONDS] [-w SECONDS]
 */
#define _GNU_SOURCE
#include <pthread.h>
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

#define BLOCK 128
#define MSG 64

struct msg { unsigned char b[MSG]; };

struct ring {
	alignas(BLOCK) _Atomic uint64_t head;   /* producer: next slot to fill */
	uint64_t tail_cache;                    /* producer's copy of tail */
	alignas(BLOCK) _Atomic uint64_t tail;   /* consumer: next slot to empty */
	uint64_t head_cache;                    /* consumer's copy of head */
	alignas(BLOCK) _Atomic int stop;        /* consumer -> producer: window closed */
	alignas(BLOCK) double rate;             /* results */
	uint64_t errors;
	alignas(BLOCK) struct msg slot[];       /* slots: its own block onwards */
};

static uint64_t slots = 65536, mask;   /* 65536 x 64 B = 4 MiB, ipcbench's default ring */
static int stamp, cpu_a = 0, cpu_b = 1;
static double duration_s = 1.0, warmup_s = 0.2;

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
		perror("spsc_ref: sched_setaffinity");
}

static inline void push(struct ring *r, const struct msg *m)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	while (h - r->tail_cache == slots) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - r->tail_cache == slots)
			relax();
	}
	memcpy(&r->slot[h & mask], m, sizeof(*m));
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

static inline void pop(struct ring *r, struct msg *m)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	while (r->head_cache == t) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (r->head_cache == t)
			relax();
	}
	memcpy(m, &r->slot[t & mask], sizeof(*m));
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

static void produce(struct ring *r)
{
	struct msg m;
	uint64_t seq = 0;

	pin(cpu_a);
	memset(&m, 0, sizeof(m));
	for (;;) {
		for (int i = 0; i < 1024; i++, seq++) {
			if (stamp)
				ipcb_msg_stamp(m.b, MSG, seq, 0, 0, 0);
			else
				memcpy(m.b, &seq, sizeof(seq));
			push(r, &m);
		}
		if (atomic_load_explicit(&r->stop, memory_order_relaxed))
			break;
	}
	/* The stop message. */
	if (stamp)
		ipcb_msg_stamp(m.b, MSG, seq, 0, 1, 0);
	else
		memset(m.b, 0xff, sizeof(uint64_t));
	push(r, &m);
}

static void consume(struct ring *r)
{
	struct msg m;
	uint64_t seq = 0, errors = 0, t_first = 0, t_begin = 0, n_begin = 0, t;
	int window = 0;

	pin(cpu_b);
	for (;; seq++) {
		uint32_t got;
		uint16_t prod;
		pop(r, &m);
		if (stamp) {
			int k = ipcb_msg_check(m.b, MSG, 0, &got, &prod);
			if (k == IPCB_MSG_IS_STOP)
				break;
			if (k != IPCB_MSG_OK || got != (uint32_t)seq)
				errors++;
		} else {
			uint64_t s;
			memcpy(&s, m.b, sizeof(s));
			if (s == UINT64_MAX)
				break;
			if (s != seq)
				errors++;
		}
		if (seq == 0)
			t_first = now_ns();
		if ((seq & 4095) || window == 2)
			continue;
		t = now_ns();
		if (window == 0 && t - t_first >= (uint64_t)(warmup_s * 1e9)) {
			window = 1;
			t_begin = t;
			n_begin = seq;
		} else if (window == 1 && t - t_begin >= (uint64_t)(duration_s * 1e9)) {
			window = 2;
			r->rate = (double)(seq - n_begin) * 1e9 / (double)(t - t_begin);
			atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
		}
	}
	r->errors = errors;
}

static void *producer_thread(void *arg)
{
	produce(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 0, opt;
	struct ring *r;
	size_t len;

	while ((opt = getopt(argc, argv, "tsa:b:c:d:w:")) != -1) {
		switch (opt) {
		case 't': threads = 1; break;
		case 's': stamp = 1; break;
		case 'a': cpu_a = atoi(optarg); break;
		case 'b': cpu_b = atoi(optarg); break;
		case 'c': slots = strtoull(optarg, NULL, 0); break;
		case 'd': duration_s = atof(optarg); break;
		case 'w': warmup_s = atof(optarg); break;
		default:
			fprintf(stderr, "usage: spsc_ref [-t] [-s] [-a CPU] [-b CPU] [-c SLOTS] "
				"[-d SECONDS] [-w SECONDS]\n");
			return 2;
		}
	}
	if (slots < 2 || (slots & (slots - 1))) {
		fprintf(stderr, "spsc_ref: -c must be a power of two >= 2\n");
		return 2;
	}
	mask = slots - 1;
	len = sizeof(*r) + slots * sizeof(struct msg);
	r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		perror("spsc_ref: mmap");
		return 1;
	}
	memset(r, 0, len);
	if (threads) {
		pthread_t tp;
		if (pthread_create(&tp, NULL, producer_thread, r) != 0)
			return 1;
		consume(r);
		pthread_join(tp, NULL);
	} else {
		pid_t pid = fork();
		if (pid < 0) {
			perror("spsc_ref: fork");
			return 1;
		}
		if (pid == 0) {
			produce(r);
			_exit(0);
		}
		consume(r);
		if (waitpid(pid, NULL, 0) != pid)
			return 1;
	}
	printf("msgs_per_s=%.0f errors=%llu\n", r->rate, (unsigned long long)r->errors);
	return r->errors ? 1 : 0;
}
