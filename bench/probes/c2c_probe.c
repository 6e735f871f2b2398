// SPDX-License-Identifier: MIT
/*
 * c2c_probe: a standalone cache-line ping-pong between two CPUs, to cross-check ipcbench's
 * c2c bench (bench/validate_c2c.sh builds and runs it). Not part of the library: it shares
 * no code with ipcbench on purpose, so a bug in the harness cannot hide in both.
 *
 * Two threads pinned to CPU A and CPU B share one 64-bit word on its own cache line. A
 * stores 2k+1 and spins until it reads 2k+2; B spins until it reads 2k+1 and stores 2k+2.
 * A times SAMPLES samples of BATCH round trips each with CLOCK_MONOTONIC and prints the
 * median and the minimum of the per-sample mean round trip, in ns.
 *
 *   cc -O2 -pthread -o c2c_probe c2c_probe.c && ./c2c_probe [cpu_a cpu_b [samples]]
 * Output: one line "cpu_a=0 cpu_b=1 rtt_p50_ns=123.4 rtt_min_ns=110.2 samples=N batch=M".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 1000
#define WARMUP_ROUNDS 200000
#define STOP (UINT64_C(1) << 63)

static struct {
	_Alignas(64) _Atomic uint64_t word;
	char pad[64 - sizeof(uint64_t)];
} line;

static int cpu_b;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *echo(void *arg)
{
	uint64_t k = 0;
	(void)arg;
	if (pin(cpu_b) != 0) {
		fprintf(stderr, "c2c_probe: cannot pin to CPU %d\n", cpu_b);
		exit(2);
	}
	for (;;) {
		uint64_t v;
		while ((v = atomic_load_explicit(&line.word, memory_order_acquire)) != 2 * k + 1)
			if (v == STOP)
				return NULL;
		atomic_store_explicit(&line.word, 2 * k + 2, memory_order_release);
		k++;
	}
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int cpu_a = argc > 2 ? atoi(argv[1]) : 0;
	int samples = argc > 3 ? atoi(argv[3]) : 2000;
	pthread_t t;
	uint64_t k = 0;
	double *rtt;

	cpu_b = argc > 2 ? atoi(argv[2]) : 1;
	if (cpu_a == cpu_b || samples < 1) {
		fprintf(stderr, "usage: c2c_probe CPU_A CPU_B [SAMPLES] (two distinct CPUs)\n");
		return 2;
	}
	rtt = calloc((size_t)samples, sizeof(double));
	if (!rtt || pin(cpu_a) != 0) {
		fprintf(stderr, "c2c_probe: cannot pin to CPU %d\n", cpu_a);
		return 2;
	}
	if (pthread_create(&t, NULL, echo, NULL) != 0) {
		fprintf(stderr, "c2c_probe: pthread_create: %s\n", strerror(errno));
		return 2;
	}
	for (int i = 0; i < WARMUP_ROUNDS; i++, k++) {
		atomic_store_explicit(&line.word, 2 * k + 1, memory_order_release);
		while (atomic_load_explicit(&line.word, memory_order_acquire) != 2 * k + 2)
			;
	}
	for (int s = 0; s < samples; s++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < BATCH; i++, k++) {
			atomic_store_explicit(&line.word, 2 * k + 1, memory_order_release);
			while (atomic_load_explicit(&line.word, memory_order_acquire) != 2 * k + 2)
				;
		}
		rtt[s] = (double)(now_ns() - t0) / BATCH;
	}
	atomic_store_explicit(&line.word, STOP, memory_order_release);
	pthread_join(t, NULL);
	qsort(rtt, (size_t)samples, sizeof(double), cmp_dbl);
	printf("cpu_a=%d cpu_b=%d rtt_p50_ns=%.1f rtt_min_ns=%.1f samples=%d batch=%d\n", cpu_a,
	       cpu_b, rtt[samples / 2], rtt[0], samples, BATCH);
	free(rtt);
	return 0;
}
