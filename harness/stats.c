/* SPDX-License-Identifier: MIT */
/*
 * Summaries over repetitions: median, a distribution-free confidence interval for it, and
 * the noisy flag (see stats.h).
 *
 * The interval. Sort the n values into x(1) <= ... <= x(n). Each value falls below the true
 * median m with probability 1/2, independently, so the number B of values below m is
 * Binomial(n, 1/2), whatever the distribution. The interval [x(j), x(n+1-j)] misses m
 * exactly when fewer than j values, or more than n-j, lie below it, so its coverage is
 *
 *	P(j <= B <= n-j) = 1 - 2 * P(B <= j-1)      (the two tails are mirror images).
 *
 * Coverage falls as j grows, so the narrowest interval with coverage >= 95% is the largest
 * such j. The outermost pair j = 1 reaches 95% only from n = 6 on; below that min..max is
 * the best there is and ci_level says what it really covers: 1 - 2/2^n, i.e. 0.9375 for
 * n = 5 and 0 for n = 1, where the "interval" is the single value.
 *
 * Binomial terms are built in log space with the ratio C(n,i+1)/C(n,i) = (n-i)/(i+1), so
 * 2^-n never underflows (n can exceed 1074) and no lgamma is needed: glibc's lgamma writes
 * the global signgam, which would make this function thread-unsafe for no good reason.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"

#define IPCB_STATS_CI_TARGET 0.95

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Largest j in 1..(n+1)/2 whose interval [x(j), x(n+1-j)] covers the median with
 * probability >= IPCB_STATS_CI_TARGET, or 1 when none does; *level receives its coverage.
 */
static int median_ci_rank(int n, double *level)
{
	double log_pmf = -n * M_LN2;    /* log P(B = 0) = log 2^-n */
	double cdf = exp(log_pmf);      /* P(B <= j-1), for j = 1 */
	int j = 1;

	/* try j+1 while its pair stays on its own side of the middle: j+1 <= n+1-(j+1) */
	while (j + 1 <= n - j) {
		double pmf;

		/* P(B = j) from P(B = j-1): C(n, j) / C(n, j-1) = (n-j+1) / j */
		log_pmf += log((double)(n - j + 1) / j);
		pmf = exp(log_pmf);
		if (1.0 - 2.0 * (cdf + pmf) < IPCB_STATS_CI_TARGET)
			break;
		cdf += pmf;
		j++;
	}
	/* n = 1: cdf = 1/2, the pair (1, 1) is the median itself and covers nothing */
	*level = fmax(0.0, 1.0 - 2.0 * cdf);
	return j;
}

int ipcb_stats_summarize(const double *x, int n, double noise_threshold, struct ipcb_summary *out)
{
	double *s, level;
	int i, j;

	if (n < 1 || !x || !out)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			return -EINVAL;
	}

	s = malloc((size_t)n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		s[i] = x[i];
	qsort(s, (size_t)n, sizeof(*s), cmp_double);

	out->n = n;
	out->min = s[0];
	out->max = s[n - 1];
	if (n % 2)
		out->median = s[n / 2];
	else    /* halve first: the sum of two large finite values may overflow */
		out->median = s[n / 2 - 1] / 2 + s[n / 2] / 2;

	j = median_ci_rank(n, &level);
	out->ci_low = s[j - 1];
	out->ci_high = s[n - j];
	out->ci_level = level;

	out->rel_width = out->median != 0.0 ?
			 (out->ci_high - out->ci_low) / fabs(out->median) : 0.0;
	out->noisy = out->rel_width > noise_threshold;

	free(s);
	return 0;
}

void ipcb_welford_add(struct ipcb_welford *w, double x)
{
	double d = x - w->mean;

	w->n += 1.0;
	w->mean += d / w->n;
	w->m2 += d * (x - w->mean);
}

double ipcb_welford_stddev(const struct ipcb_welford *w)
{
	if (w->n < 2.0 || !(w->m2 > 0.0))
		return 0.0;
	return sqrt(w->m2 / (w->n - 1.0));
}
