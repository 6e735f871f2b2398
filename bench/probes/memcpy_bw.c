// SPDX-License-Identifier: MIT
/*
 * Single-core memcpy bandwidth, for bench/validate_ring.sh: what one CPU can copy when
 * nothing crosses to another core. Copies a SIZE-byte buffer (default 1 MiB) into another,
 * both page-aligned and touched first, over and over on one pinned CPU; times rounds of
 * copies and prints the median and the best round as bytes copied per second:
 * "memcpy_bytes_per_s=<median> memcpy_best_bytes_per_s=<best> size=<SIZE>".
 * Bytes copied are counted once (not read + write).
 *
 * Build: cc -O2 -o memcpy_bw memcpy_bw.c
 * Usage: memcpy_bw [-c CPU] [-s BYTES] [-d SECONDS]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 100000

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	size_t size = 1 << 20;
	double duration_s = 1.0;
	int cpu = 0, opt, n = 0, per_round;
	static double rate[MAX_ROUNDS];
	unsigned char *src, *dst;
	cpu_set_t set;
	uint64_t end, t0, t;

	while ((opt = getopt(argc, argv, "c:s:d:")) != -1) {
		switch (opt) {
		case 'c': cpu = atoi(optarg); break;
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'd': duration_s = atof(optarg); break;
		default:
			fprintf(stderr, "usage: memcpy_bw [-c CPU] [-s BYTES] [-d SECONDS]\n");
			return 2;
		}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("memcpy_bw: sched_setaffinity");
	if (posix_memalign((void **)&src, 4096, size) || posix_memalign((void **)&dst, 4096, size)) {
		fprintf(stderr, "memcpy_bw: out of memory\n");
		return 1;
	}
	memset(src, 0x5a, size);
	memset(dst, 0, size);
	/* A round is about 1 ms of copying, so the clock is no part of the result. */
	per_round = (int)(1048576.0 * 64 / (double)size);
	if (per_round < 1)
		per_round = 1;
	for (int i = 0; i < per_round * 10; i++) {   /* warm-up */
		memcpy(dst, src, size);
		__asm__ __volatile__("" : : "r"(dst) : "memory");
	}
	end = now_ns() + (uint64_t)(duration_s * 1e9);
	do {
		t0 = now_ns();
		for (int i = 0; i < per_round; i++) {
			memcpy(dst, src, size);
			__asm__ __volatile__("" : : "r"(dst), "r"(src) : "memory");
		}
		t = now_ns();
		rate[n++] = (double)size * per_round * 1e9 / (double)(t - t0);
	} while (t < end && n < MAX_ROUNDS);
	qsort(rate, (size_t)n, sizeof(double), cmp);
	printf("memcpy_bytes_per_s=%.0f memcpy_best_bytes_per_s=%.0f size=%zu\n", rate[n / 2],
	       rate[n - 1], size);
	return dst[size / 2] == 0x5a ? 0 : 1;
}
