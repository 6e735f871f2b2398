// SPDX-License-Identifier: MIT
/*
 * Raw cache-line ping-pong between two CPUs: the physical floor under any shared-memory
 * ping-pong, for bench/validate_ring.sh. No ring, no copy, no check: a round trip is one
 * write seen by the other CPU and one write seen back.
 *
 * Two variants, both in two processes (fork, MAP_SHARED) pinned to CPU A and CPU B:
 *   one-line:  one 8-byte word on one cache line; A stores 2i+1 and waits for 2i+2, B waits
 *              for 2i+1 and stores 2i+2 (as rigtorp/c2clat does);
 *   two-lines: a "ping" line written only by A and a "pong" line written only by B (the
 *              shape of a duplex ring's two producer indices).
 * A times batches of 1000 round trips and keeps the mean of each batch; the result is the
 * median (p50) and the minimum of the batch means over the run, like ipcbench's ping-pong
 * histogram of per-batch means. Prints "one_line_p50_ns=.. one_line_min_ns=.. two_lines_p50_ns=..
 * two_lines_min_ns=.." on one line.
 *
 * Build: cc -O2 -o cacheline_pingpong cacheline_pingpong.c
 * Usage: cacheline_pingpong [-a CPU] [-b CPU] [-d SECONDS]
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

#define BATCH 1000
#define MAX_SAMPLES (1 << 20)

struct shared {
	alignas(128) _Atomic uint64_t ping;
	alignas(128) _Atomic uint64_t pong;
	alignas(128) _Atomic int done;
	alignas(128) double samples[MAX_SAMPLES];
};

static int cpu_a = 0, cpu_b = 1;
static double duration_s = 1.0;

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

/* One variant: returns the number of samples in sh->samples. */
static int run(struct shared *sh, int two_lines)
{
	_Atomic uint64_t *out_a = &sh->ping, *in_a = two_lines ? &sh->pong : &sh->ping;
	_Atomic uint64_t *in_b = &sh->ping, *out_b = two_lines ? &sh->pong : &sh->ping;
	uint64_t i = 0, t0, t, end;
	int n = 0;
	pid_t pid;

	atomic_store(&sh->ping, 0);
	atomic_store(&sh->pong, 0);
	atomic_store(&sh->done, 0);
	pid = fork();
	if (pid < 0) {
		perror("cacheline_pingpong: fork");
		exit(1);
	}
	if (pid == 0) {
		pin(cpu_b);
		for (uint64_t k = 0;; k++) {
			uint64_t v;
			while ((v = atomic_load_explicit(in_b, memory_order_acquire)) != 2 * k + 1) {
				if (atomic_load_explicit(&sh->done, memory_order_relaxed))
					_exit(0);
				relax();
			}
			atomic_store_explicit(out_b, 2 * k + 2, memory_order_release);
		}
	}
	pin(cpu_a);
	/* warm-up: 10% of the run */
	end = now_ns() + (uint64_t)(duration_s * 1e8);
	t = now_ns();
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1)
			end = t + (uint64_t)(duration_s * 1e9);
		do {
			t0 = t;
			for (int b = 0; b < BATCH; b++, i++) {
				atomic_store_explicit(out_a, 2 * i + 1, memory_order_release);
				while (atomic_load_explicit(in_a, memory_order_acquire) != 2 * i + 2)
					relax();
			}
			t = now_ns();
			if (phase == 1 && n < MAX_SAMPLES)
				sh->samples[n++] = (double)(t - t0) / BATCH;
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
	double p50[2], mn[2];
	int opt;

	while ((opt = getopt(argc, argv, "a:b:d:")) != -1) {
		switch (opt) {
		case 'a': cpu_a = atoi(optarg); break;
		case 'b': cpu_b = atoi(optarg); break;
		case 'd': duration_s = atof(optarg); break;
		default:
			fprintf(stderr, "usage: cacheline_pingpong [-a CPU] [-b CPU] [-d SECONDS]\n");
			return 2;
		}
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("cacheline_pingpong: mmap");
		return 1;
	}
	for (int v = 0; v < 2; v++) {
		int n = run(sh, v);
		if (n == 0) {
			fprintf(stderr, "cacheline_pingpong: no samples\n");
			return 1;
		}
		p50[v] = sh->samples[n / 2];
		mn[v] = sh->samples[0];
	}
	printf("one_line_p50_ns=%.1f one_line_min_ns=%.1f two_lines_p50_ns=%.1f "
	       "two_lines_min_ns=%.1f\n", p50[0], mn[0], p50[1], mn[1]);
	return 0;
}
