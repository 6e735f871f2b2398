// SPDX-License-Identifier: MIT
/*
 * perf.c: the counters are off without --perf; with it, cycles and instructions are either
 * counted (and grow with work) or unsupported with the errno said; migrations are counted
 * exactly: a thread moved between CPUs three times after the start is seen to move three
 * times, whichever CPU it ends on (samples at start and end would see at most one change).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "perf.h"
#include "testutil.h"

/* Two CPUs this thread may run on, or -1. */
static int two_cpus(int *a, int *b)
{
	cpu_set_t set;

	*a = *b = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (*a < 0)
			*a = i;
		else if (*b < 0)
			*b = i;
	}
	return *b < 0 ? -1 : 0;
}

static int move_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -1;
	sched_yield();
	return sched_getcpu() == cpu ? 0 : -1;
}

static void off_by_default(void)
{
	struct ipcb_perf p;
	uint64_t v;

	ipcb_perf_enable(0);
	CHECK(strcmp(ipcb_perf_hw_unsupported(), "off (no --perf)") == 0);
	ipcb_perf_open(&p);
	CHECK(p.fd[IPCB_PERF_CYCLES] < 0 && p.fd[IPCB_PERF_INSTRUCTIONS] < 0);
	ipcb_perf_start(&p);
	CHECK(ipcb_perf_read(&p, IPCB_PERF_CYCLES, &v) == -1);
	ipcb_perf_close(&p);
	ipcb_perf_close(&p);   /* idempotent */
}

static void hardware(void)
{
	struct ipcb_perf p;
	uint64_t c0, c1, i0, i1;
	volatile uint64_t sink = 0;

	ipcb_perf_enable(1);
	const char *why = ipcb_perf_hw_unsupported();
	if (why) {
		/* This machine cannot count: the reason names the call and the errno. */
		CHECKF(strstr(why, "perf_event_open(") && strstr(why, "errno"), "why '%s'", why);
		printf("hardware counters unsupported here: %s\n", why);
		return;
	}
	ipcb_perf_open(&p);
	ipcb_perf_start(&p);
	CHECK(ipcb_perf_read(&p, IPCB_PERF_CYCLES, &c0) == 0);
	CHECK(ipcb_perf_read(&p, IPCB_PERF_INSTRUCTIONS, &i0) == 0);
	for (int k = 0; k < 1000000; k++)
		sink += (uint64_t)k;
	CHECK(ipcb_perf_read(&p, IPCB_PERF_CYCLES, &c1) == 0);
	CHECK(ipcb_perf_read(&p, IPCB_PERF_INSTRUCTIONS, &i1) == 0);
	/* A million additions retire at least a million instructions. */
	CHECKF(i1 - i0 >= 1000000 && c1 > c0, "instructions %llu, cycles %llu",
	       (unsigned long long)(i1 - i0), (unsigned long long)(c1 - c0));
	ipcb_perf_close(&p);
}

static void migrations_exact(void)
{
	struct ipcb_perf p;
	uint64_t n = 0;
	int a, b, how;

	ipcb_perf_enable(1);
	if (two_cpus(&a, &b) < 0 || move_to(a) < 0) {
		printf("skipped: fewer than two CPUs to move between\n");
		return;
	}
	ipcb_perf_open(&p);
	ipcb_perf_start(&p);
	how = ipcb_perf_migrations(&p, &n);
	if (how == IPCB_MIGR_SAMPLED) {
		printf("skipped: neither /proc/thread-self/sched nor perf counts migrations\n");
		ipcb_perf_close(&p);
		return;
	}
	CHECK(n == 0);
	CHECK(move_to(b) == 0 && move_to(a) == 0 && move_to(b) == 0);
	CHECK(ipcb_perf_migrations(&p, &n) == how);
	/* Exactly three moves were made; the scheduler may add its own, never fewer. */
	CHECKF(n >= 3, "%llu migrations counted (%s)", (unsigned long long)n,
	       ipcb_perf_migr_method());
	CHECK(strcmp(ipcb_perf_migr_method(), how == IPCB_MIGR_SCHED ? "sched" : "perf") == 0);
	ipcb_perf_close(&p);
}

int main(void)
{
	off_by_default();
	hardware();
	migrations_exact();
	return TEST_END();
}
