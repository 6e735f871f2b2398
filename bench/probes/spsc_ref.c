// SPDX-License-Identifier: MIT
/*
 * Reference SPSC ring for bench/validate_ring.sh: the classic cache-line-padded ring with
 * cached indices (the idea of Rigtorp's SPSCQueue, written here from the idea), streaming
 * 64-byte messages from CPU A to CPU B, in two processes (default) or two threads.
 *
 * The ring itself is in spsc_ref.h (shared with ring_rounds.c, which runs it in the same
 * rounds as the shm-ring transport).
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

#include "spsc_ref.h"

#define MSG SPSC_REF_MSG

struct msg { unsigned char b[MSG]; };

/* Results and the stop flag, shared by the two sides (the ring is mapped on its own). */
struct shared {
	alignas(SPSC_REF_BLOCK) _Atomic int stop;   /* consumer -> producer: window closed */
	alignas(SPSC_REF_BLOCK) double rate;
	uint64_t errors;
};

struct sides { struct spsc_ref *r; struct shared *sh; };

static uint64_t slots = 65536;   /* 65536 x 64 B = 4 MiB, ipcbench's default ring */
static int stamp, cpu_a = 0, cpu_b = 1;
static double duration_s = 1.0, warmup_s = 0.2;

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

static void produce(struct sides *x)
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
			spsc_ref_push(x->r, m.b);
		}
		if (atomic_load_explicit(&x->sh->stop, memory_order_relaxed))
			break;
	}
	/* The stop message. */
	if (stamp)
		ipcb_msg_stamp(m.b, MSG, seq, 0, 1, 0);
	else
		memset(m.b, 0xff, sizeof(uint64_t));
	spsc_ref_push(x->r, m.b);
}

static void consume(struct sides *x)
{
	struct msg m;
	uint64_t seq = 0, errors = 0, t_first = 0, t_begin = 0, n_begin = 0, t;
	int window = 0;

	pin(cpu_b);
	for (;; seq++) {
		uint32_t got;
		uint16_t prod;
		spsc_ref_pop(x->r, m.b);
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
			x->sh->rate = (double)(seq - n_begin) * 1e9 / (double)(t - t_begin);
			atomic_store_explicit(&x->sh->stop, 1, memory_order_relaxed);
		}
	}
	x->sh->errors = errors;
}

static void *producer_thread(void *arg)
{
	produce(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 0, opt;
	struct sides x;

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
	x.r = mmap(NULL, spsc_ref_bytes(slots), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	x.sh = mmap(NULL, sizeof(*x.sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);
	if (x.r == MAP_FAILED || x.sh == MAP_FAILED) {
		perror("spsc_ref: mmap");
		return 1;
	}
	spsc_ref_init(x.r, slots);
	if (threads) {
		pthread_t tp;
		if (pthread_create(&tp, NULL, producer_thread, &x) != 0)
			return 1;
		consume(&x);
		pthread_join(tp, NULL);
	} else {
		pid_t pid = fork();
		if (pid < 0) {
			perror("spsc_ref: fork");
			return 1;
		}
		if (pid == 0) {
			produce(&x);
			_exit(0);
		}
		consume(&x);
		if (waitpid(pid, NULL, 0) != pid)
			return 1;
	}
	printf("msgs_per_s=%.0f errors=%llu\n", x.sh->rate, (unsigned long long)x.sh->errors);
	return x.sh->errors ? 1 : 0;
}
