// SPDX-License-Identifier: MIT
/* Clock calibration: the cost of a read, its resolution, and the batching rule. */
#include <math.h>
#include <stdlib.h>

#include "clock.h"

static double cost_cached = -1.0;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void ipcb_clock_calibrate(struct ipcb_clock_cal *out)
{
	enum { ROUNDS = 41, READS = 2000 };
	double per_read[ROUNDS];
	uint64_t min_step = UINT64_MAX;
	struct timespec res;

	/* Warm the vDSO page and the caches first. */
	for (int i = 0; i < 10000; i++)
		(void)ipcb_now_ns();

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = ipcb_now_ns(), prev = t0, t = t0;
		for (int i = 0; i < READS; i++) {
			t = ipcb_now_ns();
			if (t > prev && t - prev < min_step)
				min_step = t - prev;
			prev = t;
		}
		per_read[r] = (double)(t - t0) / READS;
	}
	qsort(per_read, ROUNDS, sizeof(per_read[0]), cmp_double);
	clock_getres(IPCB_CLOCK_ID, &res);

	out->cost_ns = per_read[ROUNDS / 2];
	out->cost_p90_ns = per_read[(ROUNDS * 9) / 10];
	out->resolution_ns = (double)res.tv_sec * 1e9 + (double)res.tv_nsec;
	out->min_step_ns = min_step == UINT64_MAX ? NAN : (double)min_step;
	cost_cached = out->cost_ns;
}

double ipcb_clock_cost_ns(void)
{
	if (cost_cached < 0) {
		struct ipcb_clock_cal c;
		ipcb_clock_calibrate(&c);
	}
	return cost_cached;
}

uint64_t ipcb_batch_for(double op_ns)
{
	double two_reads = 2.0 * ipcb_clock_cost_ns();

	if (!(op_ns > 0))
		return 1;
	/* Two reads per sample must be <= 2% of it: batch * op_ns >= two_reads / 0.02. */
	double b = ceil(two_reads / (0.02 * op_ns));
	if (b < 1)
		b = 1;
	if (b > (double)(1u << 20))
		b = (double)(1u << 20);
	return (uint64_t)b;
}
