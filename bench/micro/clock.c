// SPDX-License-Identifier: MIT
/*
 * The cost of reading the time: clock_gettime (the vDSO: no system call while the kernel's
 * clocksource is the TSC; a system call of a few hundred ns in VMs whose clocksource is not)
 * for the clock the harness uses and the raw one, and the time-stamp counter itself (rdtsc;
 * rdtscp also waits for earlier instructions). This is the resolution floor of anything
 * timed per operation; the harness batches operations shorter than ~100 clock reads.
 */
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "../../harness/clock.h"
#include "micro.h"

static void bm_gettime(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	clockid_t id = def->user ? CLOCK_MONOTONIC_RAW : IPCB_CLOCK_ID;
	struct timespec ts;

	while (ipcb_gbench_keep_running(st)) {
		clock_gettime(id, &ts);
		ipcb_gbench_use_u64((uint64_t)ts.tv_nsec);
	}
}

static void bm_rdtsc(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
#if HAVE_TSC
	unsigned int aux;

	if (def->user) {
		MICRO_LOOP(st, ipcb_gbench_use_u64(__rdtscp(&aux)));
	} else {
		MICRO_LOOP(st, ipcb_gbench_use_u64(__rdtsc()));
	}
#else
	(void)def;
	ipcb_gbench_skip(st, "no time-stamp counter instruction on this architecture");
#endif
}

static const struct ipcb_gbench_def defs[] = {
	{ .name = "clock.gettime-monotonic", .run = bm_gettime },
	{ .name = "clock.gettime-monotonic-raw", .run = bm_gettime, .user = "raw" },
	{ .name = "clock.rdtsc", .run = bm_rdtsc },
	{ .name = "clock.rdtscp", .run = bm_rdtsc, .user = "p" },
};

int ipcb_micro_register_clock(void)
{
	return ipcb_micro_register_all_of(defs, (int)(sizeof(defs) / sizeof(defs[0])));
}
