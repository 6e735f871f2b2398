/* SPDX-License-Identifier: MIT */
/*
 * The one clock: CLOCK_MONOTONIC in nanoseconds. Never wall-clock time for measurement.
 * A read costs tens of nanoseconds in a VM, so an operation shorter than about a
 * microsecond is timed in batches: ipcb_batch_for() says how many operations one sample
 * must cover to keep the clock's share of a sample under 2%.
 */
#ifndef IPCB_CLOCK_H
#define IPCB_CLOCK_H

#include <stdint.h>
#include <time.h>

#define IPCB_CLOCK_ID CLOCK_MONOTONIC
#define IPCB_CLOCK_NAME "CLOCK_MONOTONIC"

static inline uint64_t ipcb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(IPCB_CLOCK_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ipcb_clock_cal {
	double cost_ns;          /* median cost of one read (back-to-back reads) */
	double cost_p90_ns;
	double resolution_ns;    /* clock_getres() */
	double min_step_ns;      /* smallest non-zero difference seen between two reads */
};

/* Measure the clock (about 20 ms). Also sets the value ipcb_batch_for() uses. */
void ipcb_clock_calibrate(struct ipcb_clock_cal *out);
/* Calibrated cost of one read; calibrates on first use. */
double ipcb_clock_cost_ns(void);
/* Operations per timed sample for an operation of op_ns: the smallest batch for which the
 * two clock reads around a sample are <= 2% of it (1 for op_ns >= 100 reads). Clamped to
 * [1, 2^20]. */
uint64_t ipcb_batch_for(double op_ns);

#endif
