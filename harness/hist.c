/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram (see hist.h for the layout and its error bound).
 *
 * Indexing. For v >= SUB let e = floor(log2 v) >= SUB_BITS and s = e - SUB_BITS. Then
 * v >> s lies in [SUB, 2*SUB): its top bit is the implicit leading one and the SUB_BITS bits
 * below it pick one of SUB linear sub-buckets of width 2^s. Octave k = s + 1 covers
 * [2^e, 2^(e+1)) = [SUB*2^(k-1), SUB*2^k), so
 *
 *	index = k*SUB + ((v >> s) - SUB) = s*SUB + (v >> s).
 *
 * For v < SUB the same formula with s = 0 gives index = v, i.e. octave 0 stores v exactly.
 * Computing e from (v | SUB) forces e >= SUB_BITS, which makes s = 0 for small v and keeps
 * clz away from its undefined zero input, so one formula serves both cases with no branch.
 * The largest index, for v = UINT64_MAX, is (63 - SUB_BITS)*SUB + (2*SUB - 1)
 * = (64 - SUB_BITS + 1)*SUB - 1 = IPCB_HIST_BUCKETS - 1.
 *
 * Mean and variance. Welford's update on record; a run of n equal values and a whole
 * histogram are folded in with Chan et al.'s pairwise formula, which for two groups
 * (n_a, mean_a, m2_a) and (n_b, mean_b, m2_b) with d = mean_b - mean_a, n = n_a + n_b is
 *
 *	mean = mean_a + d * n_b / n,	m2 = m2_a + m2_b + d^2 * n_a * n_b / n.
 *
 * A run of n copies of v is the group (n, v, 0), so record_n costs the same for any n.
 */
#include <math.h>
#include <string.h>

#include "hist.h"

static inline unsigned hist_index(uint64_t v)
{
	unsigned e = 63u - (unsigned)__builtin_clzll(v | IPCB_HIST_SUB);
	unsigned s = e - IPCB_HIST_SUB_BITS;

	return s * IPCB_HIST_SUB + (unsigned)(v >> s);
}

/* Fold a group of n values with mean `mean` and squared-deviation sum m2 into h's moments. */
static void hist_combine(struct ipcb_hist *h, uint64_t n, double mean, double m2)
{
	double na = (double)h->count, nb = (double)n, nt = na + nb;
	double d = mean - h->mean;

	h->mean += d * (nb / nt);
	h->m2 += m2 + d * d * (na * nb / nt);
	h->count += n;
}

void ipcb_hist_init(struct ipcb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned ipcb_hist_index(uint64_t v)
{
	return hist_index(v);
}

/*
 * The last bucket would end at 2^64, which uint64_t cannot hold: its hi saturates to
 * UINT64_MAX and that bucket alone is closed, [lo, UINT64_MAX]. Every other bucket is
 * [lo, hi) with hi equal to the next bucket's lo. An out-of-range i yields an empty [0, 0).
 */
void ipcb_hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi)
{
	unsigned k = i / IPCB_HIST_SUB, s = i % IPCB_HIST_SUB;
	uint64_t l, w;

	if (i >= IPCB_HIST_BUCKETS) {
		*lo = *hi = 0;
		return;
	}
	if (k == 0) {
		l = s;
		w = 1;
	} else {
		l = (uint64_t)(IPCB_HIST_SUB + s) << (k - 1);
		w = (uint64_t)1 << (k - 1);
	}
	*lo = l;
	*hi = l + w < l ? UINT64_MAX : l + w;
}

/*
 * The hot path: one bucket increment, branch-free selects for min/max and the Welford
 * step. The division is the dearest instruction here; keeping exact moments is worth it.
 */
void ipcb_hist_record(struct ipcb_hist *h, uint64_t v)
{
	double x = (double)v, d = x - h->mean;

	h->buckets[hist_index(v)]++;
	h->count++;
	h->min = v < h->min ? v : h->min;
	h->max = v > h->max ? v : h->max;
	h->mean += d / (double)h->count;
	h->m2 += d * (x - h->mean);
}

void ipcb_hist_record_n(struct ipcb_hist *h, uint64_t v, uint64_t n)
{
	if (n == 0)
		return;
	h->buckets[hist_index(v)] += n;
	h->min = v < h->min ? v : h->min;
	h->max = v > h->max ? v : h->max;
	hist_combine(h, n, (double)v, 0.0);
}

void ipcb_hist_merge(struct ipcb_hist *dst, const struct ipcb_hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	for (i = 0; i < IPCB_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->min = src->min < dst->min ? src->min : dst->min;
	dst->max = src->max > dst->max ? src->max : dst->max;
	hist_combine(dst, src->count, src->mean, src->m2);
}

/*
 * Midpoint of bucket i. Octaves 0 and 1 have width 1, so the midpoint is the value itself;
 * elsewhere the width 2^(k-1) is even and lo + width/2 is exact. Its distance to any value
 * of the bucket is at most width/2 <= lo/(2*SUB), the bound given in hist.h. Computed from
 * (k, s) rather than from bucket_range so the saturated last bucket is not off by one.
 */
static uint64_t hist_bucket_mid(unsigned i)
{
	unsigned k = i / IPCB_HIST_SUB, s = i % IPCB_HIST_SUB;

	if (k == 0)
		return s;
	return ((uint64_t)(IPCB_HIST_SUB + s) << (k - 1)) + (((uint64_t)1 << (k - 1)) >> 1);
}

uint64_t ipcb_hist_percentile(const struct ipcb_hist *h, double p)
{
	uint64_t rank, seen = 0, mid;
	double r;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (!(p > 0.0))         /* also catches NaN */
		return h->min;
	if (p >= 100.0)
		return h->max;

	/*
	 * p * count / 100 rather than p / 100 * count: 99 * 1000000 is exact in double while
	 * 0.99 is not, and the latter would round the rank up past a whole number.
	 */
	r = ceil(p * (double)h->count / 100.0);
	if (r < 1.0)
		rank = 1;
	else if (r >= (double)h->count)
		rank = h->count;
	else
		rank = (uint64_t)r;

	for (i = 0; i < IPCB_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	if (i == IPCB_HIST_BUCKETS)     /* buckets disagree with count: corrupt, be safe */
		return h->max;

	mid = hist_bucket_mid(i);
	if (mid < h->min)
		return h->min;
	if (mid > h->max)
		return h->max;
	return mid;
}

double ipcb_hist_mean(const struct ipcb_hist *h)
{
	return h->count ? h->mean : 0.0;
}

double ipcb_hist_stddev(const struct ipcb_hist *h)
{
	if (h->count < 2 || !(h->m2 > 0.0))
		return 0.0;
	return sqrt(h->m2 / (double)(h->count - 1));
}
