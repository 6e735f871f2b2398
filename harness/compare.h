/* SPDX-License-Identifier: MIT */
/*
 * Post-processing on result files: loading a results.csv into cases, matching the cases of
 * two runs, the Mann-Whitney U test, and `ipcbench compare BASE NEW` (regression verdicts).
 * Nothing here runs a benchmark; everything reads files written by the csv sink.
 *
 * What identifies a case (results/README.md, "Comparing runs", says the same for users):
 * bench, mech, impl, mode, workers, placement and size_bytes must be equal, and params must
 * agree, tried in this order on the cases still unmatched:
 *   1. params equal;
 *   2. one params is the other followed by more items: a FAILED/SKIPPED row carries only
 *      the requested parameters, the rows of a case that ran add the effective values the
 *      mechanism reported ("pipe_sz=65536");
 *   3. the same keys in the same order with some values different -- effective values that
 *      differ between machines or kernels (socket buffer sizes, pipe size, the wait policy a
 *      ring chose) -- where every differing key has one value among the cases of its run
 *      with the same columns (a key whose value tells cases of a run apart is what the run
 *      swept, c2c's cpu_b or the pool's pool_size, never an effective value). The pairing is
 *      kept only when it is the best for both sides (fewest differing items) and
 *      unambiguous; the differing items are shown next to the verdict.
 * cpus, cpus_seen and mem are not part of the identity: they describe where a case ran, and
 * the same command on another machine runs the same cases on other CPUs.
 */
#ifndef IPCB_COMPARE_H
#define IPCB_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- metric direction ---- */

enum ipcb_dir { IPCB_DIR_LOWER = -1, IPCB_DIR_NONE = 0, IPCB_DIR_HIGHER = 1 };

/* Which way is better for a metric, from its name, else its unit: times (a name ending in
 * "_ns", or with "ns_per_" in it: "rtt_p50_ns", "ns_per_update", "cpu_a_ns_per_rt"; unit
 * "ns") are better lower; rates (a name ending in "_per_s"; a unit ending in "/s") higher;
 * anything else (counts, fractions) has no direction and is never judged. */
enum ipcb_dir ipcb_metric_direction(const char *metric, const char *unit);

/* ---- Mann-Whitney U test ---- */

struct ipcb_mwu {
	double u;        /* U of x: pairs (x_i, y_j) with x_i > y_j, plus half the ties */
	double z;        /* normal score used (0 for the exact test) */
	double p;        /* two-sided p-value, in (0, 1] */
	int exact;       /* 1: exact null distribution; 0: normal approximation */
};

/* Largest nx * ny for which the exact distribution is computed (when there are no ties). */
#define IPCB_MWU_EXACT_MAX 2500

/*
 * Two-sided Mann-Whitney U test of x[0..nx-1] against y[0..ny-1]: is a value of one sample
 * as likely to be above as below a value of the other? Exact when there are no ties and
 * nx * ny <= IPCB_MWU_EXACT_MAX (probabilities of U from the recursion over the largest
 * element, no factorials), else the normal approximation with tie correction and continuity
 * correction, as scipy.stats.mannwhitneyu(method="asymptotic") computes it. Returns 0, or
 * -EINVAL when a sample is empty or holds a non-finite value, -ENOMEM.
 */
int ipcb_mwu_test(const double *x, int nx, const double *y, int ny, struct ipcb_mwu *out);

/* Smallest two-sided p the test can give for these sizes (no ties): 2 / C(nx+ny, nx),
 * capped at 1. With 3 and 3 repetitions it is 0.1: no difference can be significant at 5%. */
double ipcb_mwu_min_p(int nx, int ny);

/* ---- results in memory ---- */

struct ipcb_rmetric {
	char *name, *unit;
	double *reps;          /* finite values of the repetition rows, file order */
	int nreps, cap;
	double median, ci_low, ci_high;   /* the "median" row; NAN when there is none */
	int has_median;
	int noisy;             /* the median row says NOISY */
	int race;              /* some row says RACE */
	long line;             /* first row of this metric */
};

struct ipcb_rcase {
	/* identity */
	char *bench, *mech, *impl, *mode, *placement, *params;
	int workers;
	uint64_t size;
	/* context */
	char *cpus;            /* of the first row */
	long line;             /* first row of the case */
	char *fail_status;     /* "FAILED", "SKIPPED" or "PARTIAL" when a row without a metric
				* said so, else NULL */
	char *fail_reason;
	char *note;            /* the reason on an ok row with a number (a request the kernel
				* clamped, run with --allow-clamp): first one seen, else NULL */
	struct ipcb_rmetric *m;
	int nm;
	char *label;           /* set by ipcb_results_label */
};

struct ipcb_results {
	char *csv_path;        /* what was read */
	char *dir;             /* the directory it is in (metadata.json, plots/) */
	char *run_id;          /* of the first row, "" for a file without rows */
	struct ipcb_rcase *c;
	int nc;
	long rows;
};

/*
 * Read path (a run directory, which must hold results.csv, or a results.csv itself) into
 * r, one ipcb_rcase per distinct case in file order. Returns 0, or -errno with a message in
 * err that names the file (and line): -ENOENT and other fopen errors, -EINVAL/-E2BIG/-EIO
 * from the strict reader, -ENOMEM. On failure r holds nothing.
 */
int ipcb_results_load(const char *path, struct ipcb_results *r, char *err, size_t errlen);
void ipcb_results_free(struct ipcb_results *r);

/* The metric called name in c, or NULL. */
const struct ipcb_rmetric *ipcb_rcase_metric(const struct ipcb_rcase *c, const char *name);

/*
 * Match the cases of a and b by the rules at the top of this file. ma[i] receives the index
 * in b of a->c[i]'s match or -1; mb likewise (either may be NULL). Returns the number of
 * matched pairs, or -ENOMEM.
 */
int ipcb_results_match(const struct ipcb_results *a, const struct ipcb_results *b, int *ma,
		       int *mb);

/* The params items of a and b that differ ("pipe_sz=65536 -> 131072; sndbuf=- -> 4096"),
 * or "" when params are equal. */
void ipcb_rcase_params_diff(const struct ipcb_rcase *a, const struct ipcb_rcase *b, char *buf,
			    size_t len);

/*
 * Give every case of runs[0..n-1] a short label: the mechanism, the size ("64 B", "4 KiB"),
 * then those of impl, mode, workers, placement and params items that vary among the cases
 * of the same bench and mech within one run. Returns 0 or -ENOMEM.
 */
int ipcb_results_label(struct ipcb_results *const *runs, int n);

/* "64 B", "4 KiB", "1.5 MiB" into buf. */
void ipcb_fmt_size(uint64_t bytes, char *buf, size_t len);
/* A value with its unit for people: "812.3 ns", "4.21 us", "1.23 M msgs/s", "17 count". */
void ipcb_fmt_value(double v, const char *unit, char *buf, size_t len);

/*
 * The metrics compare judges by default for a case of bench: the bench's headline metrics
 * when this ipcbench knows the bench (bench/patterns.def), else every directed metric whose
 * name ends in "_p50_ns", "_p99_ns" or "_per_s". 1 if metric is one of them.
 */
int ipcb_compare_default_metric(const char *bench, const char *metric, const char *unit);

/* ---- ipcbench compare ---- */

enum ipcb_cmp_verdict {
	IPCB_V_WORSE, IPCB_V_BETTER, IPCB_V_SAME, IPCB_V_INCONCLUSIVE, IPCB_V_MISSING,
	IPCB_V_NEW, IPCB_V_NKINDS
};
/* "worse", "better", "same", "inconclusive", "missing", "new" */
const char *ipcb_cmp_verdict_name(enum ipcb_cmp_verdict v);

struct ipcb_compare_opts {
	double threshold;      /* relative change of the median that matters, 0.05 = 5% */
	double alpha;          /* significance level of the U test, 0.05 */
	const char *metrics;   /* "a,b,c", "all", or NULL for the defaults */
};

/* One line of the verdict table. Strings are owned by the result. */
struct ipcb_cmp_line {
	enum ipcb_cmp_verdict v;
	char *bench, *label, *metric, *unit, *note;
	double base, new_, change, p;   /* medians, new/base - 1, U test p; NAN when none */
	int nbase, nnew;                /* repetitions */
};

struct ipcb_compare_result {
	struct ipcb_cmp_line *v;
	int n, cap;
	int count[IPCB_V_NKINDS];
	int matched;           /* cases found in both runs */
};

/*
 * Judge every case of new_ against base. Per case and metric (a case that FAILED or was
 * SKIPPED gets one line without a metric):
 *   FAILED in new_ while base has numbers          worse (a regression)
 *   numbers in new_ while base FAILED              better
 *   SKIPPED/PARTIAL/absent in new_, present in base  missing; the reverse: new
 *   a metric on one side only                      missing / new
 *   |new/base - 1| < threshold                     same
 *   NOISY median row in either run                 inconclusive
 *   beyond the threshold, U test p < alpha         worse or better, by the metric's direction
 *   beyond the threshold, p >= alpha               inconclusive (not shown to be real)
 * Returns 0, or -EINVAL with a message in err (a metric named in opts is unknown or has no
 * direction; no case in common), -ENOMEM.
 */
int ipcb_compare_runs(const struct ipcb_results *base, const struct ipcb_results *new_,
		      const struct ipcb_compare_opts *opts, struct ipcb_compare_result *res,
		      char *err, size_t errlen);
void ipcb_compare_result_free(struct ipcb_compare_result *res);

/* The verdict table as Markdown (md = 1) or aligned text for a terminal (md = 0; lines
 * judged "same" are left out unless all is set). */
void ipcb_compare_print(FILE *f, const struct ipcb_compare_result *res,
			const struct ipcb_results *base, const struct ipcb_results *new_,
			const struct ipcb_compare_opts *opts, int md, int all);

/* Outcome of `ipcbench compare`; main() turns it into the exit status 0, 1, 2. */
enum ipcb_compare_outcome {
	IPCB_COMPARE_OK = 0, IPCB_COMPARE_REGRESSION = 1, IPCB_COMPARE_BAD_INPUT = 2
};

/* `ipcbench compare BASE NEW [--threshold 5%] [--metric A,B|all] [--alpha 0.05]
 * [--md FILE] [--verbose]`: argv[0] is "compare". Prints the table on stdout, errors on
 * stderr, writes the Markdown table to --md or <NEW's directory>/compare.md. */
enum ipcb_compare_outcome ipcb_compare_cmd(int argc, char **argv);

#endif
