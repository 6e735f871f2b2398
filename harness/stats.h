/* SPDX-License-Identifier: MIT */
/*
 * Summaries over repetitions: median with a distribution-free 95% confidence interval, and
 * a noisy flag. Repetitions are few (3..30) and not normal, so the interval comes from order
 * statistics (binomial ranks), not from a t-distribution.
 */
#ifndef IPCB_STATS_H
#define IPCB_STATS_H

#include <stdbool.h>

struct ipcb_summary {
	int n;                 /* number of values summarised */
	double median;
	double ci_low, ci_high;/* order-statistic interval around the median */
	double ci_level;       /* its real coverage (e.g. 0.9375 for n = 5: min..max) */
	double min, max;
	double rel_width;      /* (ci_high - ci_low) / |median|; 0 when median is 0 */
	bool noisy;            /* rel_width > the noise threshold given to ipcb_stats_summarize */
};

/* Summarise x[0..n-1] (the array is not modified). noise_threshold is a fraction (0.10 =
 * 10%). Returns 0, or -EINVAL when n < 1 or a value is not finite. */
int ipcb_stats_summarize(const double *x, int n, double noise_threshold, struct ipcb_summary *out);

/* Welford running mean / variance, for scalar streams. */
struct ipcb_welford { double n, mean, m2; };
void ipcb_welford_add(struct ipcb_welford *w, double x);
double ipcb_welford_stddev(const struct ipcb_welford *w);

#endif
