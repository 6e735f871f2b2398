/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size log-linear latency histogram.
 *
 * Values are unsigned 64-bit integers (nanoseconds by convention). Every power-of-two range
 * [2^e, 2^(e+1)) is split into IPCB_HIST_SUB linear buckets, so a bucket's width is at most
 * value/IPCB_HIST_SUB. A percentile is reported as the midpoint of its bucket, which is off
 * by at most half a bucket width: relative error <= 1/(2*IPCB_HIST_SUB) = 0.39% for 128.
 * Values below IPCB_HIST_SUB are recorded exactly. The struct has no pointers, so it can live
 * in a shared-memory worker slot, and two histograms merge by adding their buckets.
 * min, max, mean and stddev are exact (not bucketed); mean/variance use Welford's update and
 * Chan's parallel formula on merge.
 */
#ifndef IPCB_HIST_H
#define IPCB_HIST_H

#include <stdint.h>

#define IPCB_HIST_SUB_BITS 7
#define IPCB_HIST_SUB (1u << IPCB_HIST_SUB_BITS)          /* 128 linear buckets per octave */
/* octave 0 holds [0, SUB) exactly; octaves 1..(64-SUB_BITS) hold [SUB*2^(k-1), SUB*2^k) */
#define IPCB_HIST_OCTAVES (64 - IPCB_HIST_SUB_BITS + 1)
#define IPCB_HIST_BUCKETS (IPCB_HIST_OCTAVES * IPCB_HIST_SUB)

struct ipcb_hist {
	uint64_t count;
	uint64_t min, max;          /* exact; min = UINT64_MAX when empty */
	double mean, m2;            /* Welford running mean and sum of squared deviations */
	uint64_t buckets[IPCB_HIST_BUCKETS];
};

/* Empty the histogram. */
void ipcb_hist_init(struct ipcb_hist *h);
/* Record one value. Never fails; never allocates. */
void ipcb_hist_record(struct ipcb_hist *h, uint64_t v);
/* Record the same value n times (used for batched samples). */
void ipcb_hist_record_n(struct ipcb_hist *h, uint64_t v, uint64_t n);
/* Add src's samples into dst. */
void ipcb_hist_merge(struct ipcb_hist *dst, const struct ipcb_hist *src);
/* Value at percentile p (0..100): the midpoint of the bucket holding the sample of rank
 * ceil(p/100*count), clamped to [min, max]. p = 0 gives min, p = 100 gives max. 0 if empty. */
uint64_t ipcb_hist_percentile(const struct ipcb_hist *h, double p);
double ipcb_hist_mean(const struct ipcb_hist *h);
/* Sample standard deviation (n-1); 0 when count < 2. */
double ipcb_hist_stddev(const struct ipcb_hist *h);

/* Bucket index of v, and the [lo, hi) value range of bucket i (exposed for tests). */
unsigned ipcb_hist_index(uint64_t v);
void ipcb_hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi);

#endif
