/* SPDX-License-Identifier: MIT */
/*
 * Tests for repetition summaries: the median, the order-statistic interval and its real
 * coverage (checked against binomial sums computed here in two independent ways: exact
 * integer coefficients for small n, Pascal's triangle in probabilities for large n), the
 * noisy flag, refused input, and the Welford helpers against a two-pass computation.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "testutil.h"

#define MAX_EXACT_N 62          /* C(62, 31) and 2^62 still fit in uint64_t */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void *xmalloc(size_t len)
{
	void *p = malloc(len);

	if (!p) {
		fprintf(stderr, "stats_test: out of memory\n");
		exit(2);
	}
	return p;
}

/* Distinct values 10, 20, ..., 10n in shuffled order, so rank r holds exactly 10r. */
static double *shuffled_ranks(int n)
{
	double *x = xmalloc((size_t)n * sizeof(*x));
	int i;

	for (i = 0; i < n; i++)
		x[i] = 10.0 * (i + 1);
	for (i = n - 1; i > 0; i--) {
		int k = (int)(rng_next() % (uint64_t)(i + 1));
		double t = x[i];

		x[i] = x[k];
		x[k] = t;
	}
	return x;
}

/*
 * The rank j of the 95% interval by brute force over exact binomial coefficients: the
 * largest j with j <= n+1-j and sum_{i=j}^{n-j} C(n,i) >= 0.95 * 2^n, else 1.
 */
static int exact_rank(int n, double *level)
{
	uint64_t c[MAX_EXACT_N + 1] = { 1 };
	int i, k, j, best = 1;

	for (i = 1; i <= n; i++) {      /* row i of Pascal's triangle, right to left */
		for (k = i; k > 0; k--)
			c[k] += c[k - 1];
	}
	*level = 0.0;
	for (j = 1; j <= n + 1 - j; j++) {
		uint64_t in = 0;
		long double cov;

		for (i = j; i <= n - j; i++)
			in += c[i];
		cov = (long double)in / (long double)((uint64_t)1 << n);
		if (j == 1)
			*level = (double)cov;
		if (cov >= 0.95L) {
			best = j;
			*level = (double)cov;
		}
	}
	return best;
}

/* The same by Pascal's triangle in probabilities (each row halved), usable for any n. */
static int pascal_rank(int n, double *level)
{
	double *p = xmalloc((size_t)(n + 1) * sizeof(*p)), tail = 0.0;
	int i, k, j;

	p[0] = 1.0;
	for (i = 1; i <= n; i++) {
		p[i] = 0.0;
		for (k = i; k > 0; k--)
			p[k] = (p[k] + p[k - 1]) / 2;
		p[0] /= 2;
	}
	/* grow j while the next pair still covers 95%: coverage(j) = 1 - 2 * P(B <= j-1) */
	tail = p[0];
	for (j = 1; j + 1 <= n - j && 1.0 - 2.0 * (tail + p[j]) >= 0.95; j++)
		tail += p[j];
	*level = 1.0 - 2.0 * tail;
	free(p);
	return j;
}

static void check_interval(int n, int j, double level, const char *how)
{
	double *x = shuffled_ranks(n);
	struct ipcb_summary s;
	int rc = ipcb_stats_summarize(x, n, 0.1, &s);

	CHECKF(rc == 0, "n=%d rc=%d", n, rc);
	CHECKF(s.ci_low == 10.0 * j && s.ci_high == 10.0 * (n + 1 - j),
	       "%s n=%d: ci [%g, %g], want ranks %d and %d", how, n, s.ci_low, s.ci_high, j,
	       n + 1 - j);
	CHECKF(fabs(s.ci_level - level) <= 1e-9, "%s n=%d: level %.12f want %.12f", how, n,
	       s.ci_level, level);
	CHECKF(s.ci_level >= 0.95 || j == 1, "n=%d level %.4f", n, s.ci_level);
	free(x);
}

static void test_median(void)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, keep[4];
	double big[] = { 1.5e308, 1.7e308 };
	struct ipcb_summary s;

	CHECK(ipcb_stats_summarize(odd, 3, 0.1, &s) == 0);
	CHECK(s.n == 3 && s.median == 3 && s.min == 1 && s.max == 5);

	memcpy(keep, even, sizeof(even));
	CHECK(ipcb_stats_summarize(even, 4, 0.1, &s) == 0);
	CHECK(s.n == 4 && s.median == 2.5 && s.min == 1 && s.max == 4);
	CHECK(memcmp(keep, even, sizeof(even)) == 0);   /* the input is not sorted in place */

	/* the mean of the two middle values must not overflow */
	CHECK(ipcb_stats_summarize(big, 2, 0.1, &s) == 0);
	CHECK(isfinite(s.median) && s.median == 1.6e308);

	/* ties */
	{
		double t[] = { 7, 7, 7, 1, 9, 7 };

		CHECK(ipcb_stats_summarize(t, 6, 0.1, &s) == 0);
		CHECK(s.median == 7);
	}
}

static void test_small_n(void)
{
	double one[] = { 42.5 }, five[] = { 12, 10, 14, 11, 13 };
	struct ipcb_summary s;

	CHECK(ipcb_stats_summarize(one, 1, 0.1, &s) == 0);
	CHECK(s.median == 42.5 && s.ci_low == 42.5 && s.ci_high == 42.5);
	CHECK(s.ci_level == 0.0);
	CHECK(s.rel_width == 0.0 && !s.noisy);

	/* n = 5: only min..max is possible, and it covers 1 - 2/32 */
	CHECK(ipcb_stats_summarize(five, 5, 0.5, &s) == 0);
	CHECK(s.median == 12 && s.ci_low == 10 && s.ci_high == 14);
	CHECKF(fabs(s.ci_level - 0.9375) <= 1e-12, "level %.12f", s.ci_level);

	/* n = 2..6 are min..max, with coverage 1 - 2^(1-n) */
	check_interval(2, 1, 0.5, "small");
	check_interval(3, 1, 0.75, "small");
	check_interval(4, 1, 0.875, "small");
	check_interval(5, 1, 0.9375, "small");
	check_interval(6, 1, 0.96875, "small");
}

static void test_interval_ranks(void)
{
	double level;
	int n, j;

	/* n = 30: the published tables give ranks 10 and 21 */
	j = exact_rank(30, &level);
	CHECK(j == 10);
	check_interval(30, j, level, "n=30 exact");

	for (n = 1; n <= MAX_EXACT_N; n++) {
		j = exact_rank(n, &level);
		check_interval(n, j, level, "exact");
	}

	/* both references agree where they overlap, then the second one goes further */
	for (n = 1; n <= MAX_EXACT_N; n++) {
		double l1, l2;

		CHECKF(exact_rank(n, &l1) == pascal_rank(n, &l2) && fabs(l1 - l2) <= 1e-12,
		       "references disagree at n=%d", n);
	}
	for (n = 63; n <= 300; n++) {
		j = pascal_rank(n, &level);
		check_interval(n, j, level, "pascal");
	}
	/* 2^-n underflows past 1074: the interval must still be right */
	j = pascal_rank(1000, &level);
	check_interval(1000, j, level, "pascal");
	j = pascal_rank(1500, &level);
	check_interval(1500, j, level, "pascal");
	/* normal approximation: j ~ n/2 - 1.96*sqrt(n)/2, sanity for the reference itself */
	CHECKF(abs(pascal_rank(1000, &level) - (int)(500 - 0.98 * sqrt(1000.0))) <= 1,
	       "n=1000 rank %d", pascal_rank(1000, &level));
}

static void test_noisy(void)
{
	double tight[15], spread[15], zero[5] = { -1, 0, 0, 0, 1 }, neg[7];
	struct ipcb_summary s;
	int i;

	for (i = 0; i < 15; i++) {
		tight[i] = 1000.0 + (double)(rng_next() % 11) - 5.0;   /* +-0.5% */
		spread[i] = 1000.0 * (0.5 + (double)(rng_next() % 1000) / 1000.0);
		neg[i % 7] = -100.0 - i % 7;
	}
	CHECK(ipcb_stats_summarize(tight, 15, 0.10, &s) == 0);
	CHECKF(!s.noisy, "tight rel_width %.4f", s.rel_width);
	CHECK(s.rel_width > 0.0 && s.rel_width <= 0.011);
	CHECK(s.rel_width == (s.ci_high - s.ci_low) / fabs(s.median));

	CHECK(ipcb_stats_summarize(spread, 15, 0.10, &s) == 0);
	CHECKF(s.noisy, "spread rel_width %.4f", s.rel_width);
	CHECK(s.rel_width == (s.ci_high - s.ci_low) / fabs(s.median));
	/* the threshold is what decides */
	CHECK(ipcb_stats_summarize(spread, 15, s.rel_width, &s) == 0 && !s.noisy);

	/* a negative median uses its magnitude */
	CHECK(ipcb_stats_summarize(neg, 7, 0.10, &s) == 0);
	CHECK(s.median == -103 && s.rel_width > 0.0 && !s.noisy);
	CHECK(fabs(s.rel_width - 6.0 / 103.0) <= 1e-15);

	/* median 0: rel_width is defined as 0 */
	CHECK(ipcb_stats_summarize(zero, 5, 0.10, &s) == 0);
	CHECK(s.median == 0 && s.rel_width == 0.0 && !s.noisy);
}

static void test_invalid(void)
{
	double x[5] = { 1, 2, 3, 4, 5 };
	struct ipcb_summary s;
	int i;

	CHECK(ipcb_stats_summarize(x, 0, 0.1, &s) == -EINVAL);
	CHECK(ipcb_stats_summarize(x, -3, 0.1, &s) == -EINVAL);
	CHECK(ipcb_stats_summarize(NULL, 5, 0.1, &s) == -EINVAL);
	CHECK(ipcb_stats_summarize(x, 5, 0.1, NULL) == -EINVAL);
	for (i = 0; i < 5; i++) {
		double keep = x[i];

		x[i] = NAN;
		CHECKF(ipcb_stats_summarize(x, 5, 0.1, &s) == -EINVAL, "NaN at %d", i);
		x[i] = INFINITY;
		CHECKF(ipcb_stats_summarize(x, 5, 0.1, &s) == -EINVAL, "+inf at %d", i);
		x[i] = -INFINITY;
		CHECKF(ipcb_stats_summarize(x, 5, 0.1, &s) == -EINVAL, "-inf at %d", i);
		x[i] = keep;
	}
	CHECK(ipcb_stats_summarize(x, 5, 0.1, &s) == 0);
}

static void test_welford(void)
{
	struct ipcb_welford w = { 0 };
	double x[1000];
	long double sum = 0, ss = 0, mean;
	int i;

	CHECK(ipcb_welford_stddev(&w) == 0.0);
	ipcb_welford_add(&w, 5.0);
	CHECK(w.n == 1 && w.mean == 5.0 && ipcb_welford_stddev(&w) == 0.0);

	/* a large offset with small noise: a sum of squares would lose every digit here */
	w = (struct ipcb_welford){ 0 };
	for (i = 0; i < 1000; i++) {
		x[i] = 1e9 + (double)(rng_next() % 1000) / 10.0;
		ipcb_welford_add(&w, x[i]);
		sum += x[i];
	}
	mean = sum / 1000;
	for (i = 0; i < 1000; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	CHECK(w.n == 1000);
	CHECKF(fabs(w.mean - (double)mean) <= 1e-9 * (double)mean, "mean %.6f", w.mean);
	CHECKF(fabs(ipcb_welford_stddev(&w) - sqrt((double)(ss / 999))) <=
	       1e-6 * sqrt((double)(ss / 999)), "stddev %.9f vs %.9f", ipcb_welford_stddev(&w),
	       sqrt((double)(ss / 999)));
}

int main(void)
{
	test_median();
	test_small_n();
	test_interval_ranks();
	test_noisy();
	test_invalid();
	test_welford();
	return TEST_END();
}
