/* SPDX-License-Identifier: MIT */
/*
 * Tests for the log-linear histogram: bucket geometry (contiguous, covering, bounded width),
 * indexing at the edges and at random, the midpoint error bound, percentiles against exact
 * sorted-array ranks, exact moments, merge and record_n against plain recording.
 * All random input comes from a fixed-seed generator, so a failure reproduces.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "testutil.h"

#define LAST_BUCKET (IPCB_HIST_BUCKETS - 1)
/* a midpoint is at most half a width from any value of its bucket: 1/(2*SUB) relative */
#define MID_REL_ERR (1.0 / (2.0 * IPCB_HIST_SUB) + 1e-12)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* splitmix64: small, fixed-seed, good enough to spread values over all octaves */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in (0, 1]: 53 random bits, shifted off zero so log() stays finite */
static double rng_unit(void)
{
	return ((double)(rng_next() >> 11) + 1.0) / 9007199254740992.0;
}

static double rel_diff(double a, double b)
{
	if (a == b)
		return 0.0;
	return fabs(a - b) / fmax(fabs(a), fabs(b));
}

static struct ipcb_hist *hist_new(void)
{
	struct ipcb_hist *h = malloc(sizeof(*h));

	if (!h) {
		fprintf(stderr, "hist_test: out of memory\n");
		exit(2);
	}
	ipcb_hist_init(h);
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The index as hist.h describes it, spelled out the slow way (loop instead of clz). */
static unsigned naive_index(uint64_t v)
{
	unsigned e = 0, k;

	if (v < IPCB_HIST_SUB)
		return (unsigned)v;
	while (e < 63 && (v >> (e + 1)) != 0)
		e++;
	k = e - IPCB_HIST_SUB_BITS + 1;
	return k * IPCB_HIST_SUB + (unsigned)((v >> (e - IPCB_HIST_SUB_BITS)) - IPCB_HIST_SUB);
}

/* v lies in bucket i: [lo, hi), except the saturated last bucket, which is [lo, UINT64_MAX]. */
static int in_bucket(uint64_t v, unsigned i)
{
	uint64_t lo, hi;

	ipcb_hist_bucket_range(i, &lo, &hi);
	if (i == LAST_BUCKET)
		return v >= lo && v <= hi;
	return v >= lo && v < hi;
}

static void check_index(uint64_t v)
{
	unsigned i = ipcb_hist_index(v);

	CHECKF(i < IPCB_HIST_BUCKETS, "v=%llu i=%u", (unsigned long long)v, i);
	CHECKF(i == naive_index(v), "v=%llu i=%u naive=%u", (unsigned long long)v, i,
	       naive_index(v));
	CHECKF(in_bucket(v, i), "v=%llu not in its bucket %u", (unsigned long long)v, i);
}

static void test_geometry(void)
{
	uint64_t lo, hi, next_lo, next_hi;
	unsigned i, bad_adj = 0, bad_width = 0, bad_ends = 0;

	ipcb_hist_bucket_range(0, &lo, &hi);
	CHECK(lo == 0 && hi == 1);

	for (i = 0; i < LAST_BUCKET; i++) {
		ipcb_hist_bucket_range(i, &lo, &hi);
		ipcb_hist_bucket_range(i + 1, &next_lo, &next_hi);
		if (!(hi > lo && hi == next_lo)) {
			if (bad_adj++ < 5)
				CHECKF(0, "bucket %u [%llu,%llu) not adjacent to [%llu,..)", i,
				       (unsigned long long)lo, (unsigned long long)hi,
				       (unsigned long long)next_lo);
		}
		/* width <= max(1, lo/SUB) is what bounds the relative error */
		if (hi - lo > (lo / IPCB_HIST_SUB > 1 ? lo / IPCB_HIST_SUB : 1))
			bad_width++;
		/* the first and last value of every bucket map back to it */
		if (ipcb_hist_index(lo) != i || ipcb_hist_index(hi - 1) != i)
			bad_ends++;
	}
	CHECKF(bad_adj == 0, "%u buckets not adjacent", bad_adj);
	CHECKF(bad_width == 0, "%u buckets wider than lo/SUB", bad_width);
	CHECKF(bad_ends == 0, "%u buckets whose ends index elsewhere", bad_ends);

	/* the last bucket reaches the top of uint64_t: nothing is left uncovered */
	ipcb_hist_bucket_range(LAST_BUCKET, &lo, &hi);
	CHECK(lo == (uint64_t)(2 * IPCB_HIST_SUB - 1) << (64 - IPCB_HIST_SUB_BITS - 1));
	CHECK(hi == UINT64_MAX);
	CHECK(ipcb_hist_index(lo) == LAST_BUCKET);
	CHECK(ipcb_hist_index(UINT64_MAX) == LAST_BUCKET);

	/* octave 0 is exact */
	for (i = 0; i < IPCB_HIST_SUB; i++) {
		ipcb_hist_bucket_range(i, &lo, &hi);
		CHECK(lo == i && hi == i + 1u);
	}
}

static void test_index(void)
{
	static const uint64_t edges[] = {
		0, 1, 2, IPCB_HIST_SUB - 1, IPCB_HIST_SUB, IPCB_HIST_SUB + 1,
		2 * IPCB_HIST_SUB - 1, 2 * IPCB_HIST_SUB, 1000, 1000000, 1000000000,
		(uint64_t)1 << 62, ((uint64_t)1 << 63) - 1, (uint64_t)1 << 63,
		((uint64_t)1 << 63) + 1, UINT64_MAX - 1, UINT64_MAX,
	};
	unsigned i, b;
	uint64_t v;

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_index(edges[i]);
	CHECK(ipcb_hist_index(0) == 0);
	CHECK(ipcb_hist_index(IPCB_HIST_SUB - 1) == IPCB_HIST_SUB - 1);
	CHECK(ipcb_hist_index(IPCB_HIST_SUB) == IPCB_HIST_SUB);
	CHECK(ipcb_hist_index(UINT64_MAX) == IPCB_HIST_BUCKETS - 1);

	/* every power of two and its neighbours */
	for (b = 0; b < 64; b++) {
		v = (uint64_t)1 << b;
		check_index(v - 1);
		check_index(v);
		check_index(v + 1);
	}

	/* random values, each with a random bit length so all octaves get traffic */
	for (i = 0; i < 200000; i++) {
		uint64_t r = rng_next();

		v = r >> (rng_next() % 64);
		b = ipcb_hist_index(v);
		if (b >= IPCB_HIST_BUCKETS || b != naive_index(v) || !in_bucket(v, b)) {
			CHECKF(0, "random v=%llu -> %u", (unsigned long long)v, b);
			break;
		}
	}
	CHECK(i == 200000);
}

/*
 * The midpoint a percentile reports, measured through the public API: with the two extreme
 * values of bucket i recorded, rank 1 (p = 50 of 2) falls in bucket i and the clamp to
 * [min, max] = [lo, last] does not move a midpoint that lies inside the bucket.
 */
static void test_midpoint_error(void)
{
	struct ipcb_hist *h = hist_new();
	unsigned i, bad = 0;
	double worst = 0.0;

	for (i = 0; i < IPCB_HIST_BUCKETS; i++) {
		uint64_t lo, hi, last, mid;
		double err;

		ipcb_hist_bucket_range(i, &lo, &hi);
		last = i == LAST_BUCKET ? hi : hi - 1;
		ipcb_hist_init(h);
		ipcb_hist_record(h, lo);
		ipcb_hist_record(h, last);
		mid = ipcb_hist_percentile(h, 50.0);
		if (mid < lo || mid > last) {
			bad++;
			continue;
		}
		if (lo == 0) {
			err = mid == 0 ? 0.0 : 1.0;
		} else {
			err = fmax((double)(mid - lo) / (double)lo,
				   (double)(last - mid) / (double)last);
		}
		if (err > worst)
			worst = err;
		/* octaves 0 and 1 have width 1: the value itself, no error at all */
		if (i < 2 * IPCB_HIST_SUB && mid != lo)
			bad++;
	}
	CHECKF(bad == 0, "%u buckets with a midpoint outside or inexact", bad);
	CHECKF(worst <= 0.004, "worst midpoint relative error %.6f", worst);
	CHECKF(worst <= MID_REL_ERR, "worst %.6f above 1/(2*SUB)", worst);
	/* and the bound is nearly reached: the buckets are not finer than advertised */
	CHECKF(worst > 0.9 / (2.0 * IPCB_HIST_SUB), "worst %.6f", worst);
	free(h);
}

static void test_empty(void)
{
	struct ipcb_hist *h = hist_new();
	static const double ps[] = { 0, 1, 50, 99, 99.9, 100 };
	unsigned i, nonzero = 0;

	CHECK(h->count == 0);
	CHECK(h->min == UINT64_MAX && h->max == 0);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		CHECKF(ipcb_hist_percentile(h, ps[i]) == 0, "p%g", ps[i]);
	CHECK(ipcb_hist_mean(h) == 0.0);
	CHECK(ipcb_hist_stddev(h) == 0.0);
	for (i = 0; i < IPCB_HIST_BUCKETS; i++)
		nonzero += h->buckets[i] != 0;
	CHECK(nonzero == 0);
	free(h);
}

/* Every percentile of a histogram holding copies of one value is that value. */
static void check_constant(uint64_t v, unsigned n)
{
	static const double ps[] = { -5, 0, 0.001, 1, 10, 50, 90, 99, 99.9, 99.99, 100, 250 };
	struct ipcb_hist *h = hist_new();
	unsigned i;

	for (i = 0; i < n; i++)
		ipcb_hist_record(h, v);
	CHECK(h->count == n);
	CHECK(h->min == v && h->max == v);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t got = ipcb_hist_percentile(h, ps[i]);

		CHECKF(got == v, "n=%u v=%llu p%g -> %llu", n, (unsigned long long)v, ps[i],
		       (unsigned long long)got);
	}
	CHECKF(ipcb_hist_percentile(h, NAN) == v, "p=NaN");
	CHECK(ipcb_hist_mean(h) == (double)v);
	CHECK(ipcb_hist_stddev(h) == 0.0);
	free(h);
}

static void test_constant_and_single(void)
{
	/* values chosen off their bucket midpoints, so only the clamp makes them exact */
	check_constant(12345, 1000);
	check_constant(1000000000007ull, 1000);
	check_constant(3, 50);
	check_constant(UINT64_MAX, 10);
	check_constant(0, 10);
	check_constant(777777, 1);
	check_constant(1, 1);
	check_constant(UINT64_MAX, 1);
}

/* Ranks round up: rank = ceil(p/100 * count), at least 1. Octave 0 values are exact. */
static void test_rank_rounding(void)
{
	struct ipcb_hist *h = hist_new();

	ipcb_hist_record(h, 40);
	ipcb_hist_record(h, 10);
	ipcb_hist_record(h, 30);
	ipcb_hist_record(h, 20);
	CHECK(ipcb_hist_percentile(h, 1e-9) == 10);     /* rank 0.00000004 -> 1 */
	CHECK(ipcb_hist_percentile(h, 25) == 10);       /* rank 1 exactly */
	CHECK(ipcb_hist_percentile(h, 26) == 20);       /* rank 1.04 -> 2 */
	CHECK(ipcb_hist_percentile(h, 50) == 20);
	CHECK(ipcb_hist_percentile(h, 50.5) == 30);
	CHECK(ipcb_hist_percentile(h, 75) == 30);
	CHECK(ipcb_hist_percentile(h, 99.999) == 40);
	/* p so small that p*count/100 underflows to 0 is still rank 1 */
	CHECK(ipcb_hist_percentile(h, 4.9e-324) == 10);

	/*
	 * 1000 and 1003 share the bucket [1000, 1004), midpoint 1002: p = 0 and p = NaN must
	 * give min itself, not the bucket midpoint; p = 100 gives max.
	 */
	ipcb_hist_init(h);
	ipcb_hist_record(h, 1000);
	ipcb_hist_record(h, 1003);
	CHECK(ipcb_hist_index(1000) == ipcb_hist_index(1003));
	CHECK(ipcb_hist_percentile(h, 50) == 1002);
	CHECK(ipcb_hist_percentile(h, 4.9e-324) == 1002);     /* rank 1, not rank 0 */
	CHECK(ipcb_hist_percentile(h, 0) == 1000);
	CHECK(ipcb_hist_percentile(h, -1) == 1000);
	CHECK(ipcb_hist_percentile(h, NAN) == 1000);
	CHECK(ipcb_hist_percentile(h, 100) == 1003);
	free(h);
}

static void test_uniform(void)
{
	struct ipcb_hist *h = hist_new();
	const uint64_t n = 1000000;
	uint64_t v, p50, p99, p90, p999;

	for (v = 1; v <= n; v++)
		ipcb_hist_record(h, v);
	p50 = ipcb_hist_percentile(h, 50);
	p90 = ipcb_hist_percentile(h, 90);
	p99 = ipcb_hist_percentile(h, 99);
	p999 = ipcb_hist_percentile(h, 99.9);
	CHECKF(rel_diff((double)p50, 500000) <= 0.01, "p50 %llu", (unsigned long long)p50);
	CHECKF(rel_diff((double)p90, 900000) <= 0.01, "p90 %llu", (unsigned long long)p90);
	CHECKF(rel_diff((double)p99, 990000) <= 0.01, "p99 %llu", (unsigned long long)p99);
	CHECKF(rel_diff((double)p999, 999000) <= 0.01, "p99.9 %llu", (unsigned long long)p999);
	/* sample of rank r is r itself: the report must come from r's bucket */
	CHECK(ipcb_hist_index(p50) == ipcb_hist_index(500000));
	CHECK(ipcb_hist_index(p99) == ipcb_hist_index(990000));
	CHECK(ipcb_hist_percentile(h, 0) == 1);
	CHECK(ipcb_hist_percentile(h, 100) == n);
	/* p = 1e-4 is rank 1, the value 1, which octave 0 holds exactly */
	CHECK(ipcb_hist_percentile(h, 1e-4) == 1);
	/* 1..n: mean (n+1)/2, sample variance n(n+1)/12 */
	CHECKF(rel_diff(ipcb_hist_mean(h), (n + 1) / 2.0) <= 1e-12, "mean %.6f",
	       ipcb_hist_mean(h));
	CHECKF(rel_diff(ipcb_hist_stddev(h), sqrt((double)n * (n + 1) / 12.0)) <= 1e-9,
	       "stddev %.6f", ipcb_hist_stddev(h));
	free(h);
}

/*
 * Exponential latencies (mean 20 us, plus a few values spanning the octaves) against the
 * exact percentile of the sorted array, rank ceil(p*N/100) computed in integers here.
 */
static void test_exponential(void)
{
	/* percentiles in basis points, so the exact rank needs no floating point */
	static const unsigned bps[] = { 1, 10, 100, 1000, 2500, 5000, 7500, 9000, 9900, 9990,
					9999 };
	const unsigned n = 200000;
	struct ipcb_hist *h = hist_new();
	uint64_t *x = malloc(n * sizeof(*x));
	long double sum = 0, ss = 0, mean;
	unsigned i;

	if (!x) {
		fprintf(stderr, "hist_test: out of memory\n");
		exit(2);
	}
	for (i = 0; i < n; i++) {
		x[i] = (uint64_t)(-log(rng_unit()) * 20000.0);
		ipcb_hist_record(h, x[i]);
		sum += x[i];
	}
	qsort(x, n, sizeof(*x), cmp_u64);
	CHECK(h->min == x[0] && h->max == x[n - 1]);
	CHECK(ipcb_hist_percentile(h, 0) == x[0]);
	CHECK(ipcb_hist_percentile(h, 100) == x[n - 1]);

	for (i = 0; i < sizeof(bps) / sizeof(bps[0]); i++) {
		uint64_t rank = ((uint64_t)bps[i] * n + 9999) / 10000;
		uint64_t exact = x[rank - 1];
		uint64_t got = ipcb_hist_percentile(h, bps[i] / 100.0);

		CHECKF(rel_diff((double)got, (double)exact) <= 0.01, "p%g got %llu exact %llu",
		       bps[i] / 100.0, (unsigned long long)got, (unsigned long long)exact);
		CHECKF(exact == 0 ? got == 0 :
		       fabs((double)got - (double)exact) / (double)exact <= MID_REL_ERR,
		       "p%g got %llu exact %llu beyond the bucket bound", bps[i] / 100.0,
		       (unsigned long long)got, (unsigned long long)exact);
		CHECKF(ipcb_hist_index(got) == ipcb_hist_index(exact), "p%g from bucket %u not %u",
		       bps[i] / 100.0, ipcb_hist_index(got), ipcb_hist_index(exact));
	}

	/* moments against the two-pass computation */
	mean = sum / n;
	for (i = 0; i < n; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	CHECKF(rel_diff(ipcb_hist_mean(h), (double)mean) <= 1e-9, "mean %.9f vs %.9f",
	       ipcb_hist_mean(h), (double)mean);
	CHECKF(rel_diff(ipcb_hist_stddev(h), sqrt((double)(ss / (n - 1)))) <= 1e-9,
	       "stddev %.9f vs %.9f", ipcb_hist_stddev(h), sqrt((double)(ss / (n - 1))));
	free(x);
	free(h);
}

static void check_same(const struct ipcb_hist *a, const struct ipcb_hist *b, const char *what)
{
	CHECKF(memcmp(a->buckets, b->buckets, sizeof(a->buckets)) == 0, "%s: buckets", what);
	CHECKF(a->count == b->count, "%s: count %llu vs %llu", what,
	       (unsigned long long)a->count, (unsigned long long)b->count);
	CHECKF(a->min == b->min && a->max == b->max, "%s: min/max", what);
	CHECKF(rel_diff(ipcb_hist_mean(a), ipcb_hist_mean(b)) <= 1e-9, "%s: mean %.12g vs %.12g",
	       what, ipcb_hist_mean(a), ipcb_hist_mean(b));
	CHECKF(rel_diff(ipcb_hist_stddev(a), ipcb_hist_stddev(b)) <= 1e-9,
	       "%s: stddev %.12g vs %.12g", what, ipcb_hist_stddev(a), ipcb_hist_stddev(b));
}

static void test_merge(void)
{
	struct ipcb_hist *whole = hist_new(), *a = hist_new(), *b = hist_new(), *e = hist_new();
	struct ipcb_hist *copy = hist_new();
	const unsigned n = 100000;
	unsigned i;

	/* halves from different distributions, so the means differ and Chan's term matters */
	for (i = 0; i < n; i++) {
		uint64_t v = i < n / 2 ? (uint64_t)(-log(rng_unit()) * 5000.0) :
			     1000000 + (rng_next() % 3000000);

		ipcb_hist_record(whole, v);
		ipcb_hist_record(i < n / 2 ? a : b, v);
	}
	CHECK(rel_diff(ipcb_hist_mean(a), ipcb_hist_mean(b)) > 0.5);
	ipcb_hist_merge(a, b);
	check_same(a, whole, "halves");

	/* empty is the identity on either side */
	*copy = *a;
	ipcb_hist_merge(a, e);
	CHECK(memcmp(a, copy, sizeof(*a)) == 0);
	ipcb_hist_merge(e, a);
	check_same(e, a, "into empty");
	CHECK(e->mean == a->mean && e->m2 == a->m2);

	/* merging a histogram with itself doubles counts, keeps the mean */
	*copy = *whole;
	ipcb_hist_merge(copy, whole);
	CHECK(copy->count == 2 * whole->count);
	CHECK(rel_diff(ipcb_hist_mean(copy), ipcb_hist_mean(whole)) <= 1e-12);
	CHECK(ipcb_hist_percentile(copy, 50) == ipcb_hist_percentile(whole, 50));

	free(copy);
	free(e);
	free(b);
	free(a);
	free(whole);
}

static void test_record_n(void)
{
	struct ipcb_hist *a = hist_new(), *b = hist_new(), *copy = hist_new();
	static const uint64_t vals[] = { 0, 5, 127, 128, 4321, 987654321, UINT64_MAX };
	unsigned i, j;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		ipcb_hist_init(a);
		ipcb_hist_init(b);
		/* some prior content, so the closed form has a mean to move away from */
		for (j = 0; j < 100; j++) {
			uint64_t v = 1000 + j * 37;

			ipcb_hist_record(a, v);
			ipcb_hist_record(b, v);
		}
		ipcb_hist_record_n(a, vals[i], 1000);
		for (j = 0; j < 1000; j++)
			ipcb_hist_record(b, vals[i]);
		check_same(a, b, "record_n after prefix");
	}

	/* on an empty histogram */
	ipcb_hist_init(a);
	ipcb_hist_init(b);
	ipcb_hist_record_n(a, 4242, 3);
	for (j = 0; j < 3; j++)
		ipcb_hist_record(b, 4242);
	check_same(a, b, "record_n on empty");
	ipcb_hist_init(a);
	ipcb_hist_init(b);
	ipcb_hist_record_n(a, 99999, 1);
	ipcb_hist_record(b, 99999);
	check_same(a, b, "record_n n=1");

	/* n = 0 changes nothing */
	*copy = *a;
	ipcb_hist_record_n(a, 5, 0);
	CHECK(memcmp(a, copy, sizeof(*a)) == 0);

	/* a count no loop could reach: closed form, exact moments */
	ipcb_hist_init(a);
	ipcb_hist_record_n(a, 100, (uint64_t)1 << 40);
	ipcb_hist_record_n(a, 300, (uint64_t)1 << 40);
	CHECK(a->count == (uint64_t)1 << 41);
	CHECK(a->buckets[ipcb_hist_index(100)] == (uint64_t)1 << 40);
	CHECK(ipcb_hist_mean(a) == 200.0);
	/* half at 100, half at 300: sample stddev 100 * sqrt(N/(N-1)) */
	CHECK(rel_diff(ipcb_hist_stddev(a), 100.0) <= 1e-9);
	CHECK(ipcb_hist_percentile(a, 50) == 100);
	CHECK(ipcb_hist_percentile(a, 50.0001) == 300);

	free(copy);
	free(b);
	free(a);
}

int main(void)
{
	test_geometry();
	test_index();
	test_midpoint_error();
	test_empty();
	test_constant_and_single();
	test_rank_rounding();
	test_uniform();
	test_exponential();
	test_merge();
	test_record_n();
	return TEST_END();
}
