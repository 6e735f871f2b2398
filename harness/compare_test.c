/* SPDX-License-Identifier: MIT */
/*
 * compare tests: the Mann-Whitney U test against values computed with
 * scipy.stats.mannwhitneyu 1.10 (exact and asymptotic), metric directions, and verdicts on
 * synthetic result files: a 10% slowdown over 10 repetitions is worse (exit 1), a 1%
 * change is same, identical runs are same, a slowdown in a NOISY case is inconclusive, a
 * case that FAILED in NEW but passed in BASE is worse, 3 repetitions cannot be significant,
 * effective params that differ still match, missing and new cases; bad input (missing file,
 * wrong header, truncated row, non-numeric value, no case in common) is refused with the
 * file and line named and exit 2.
 *
 * IPCB_KEEP=1 in the environment keeps the temporary directories.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "csv.h"
#include "testutil.h"

static int near(double a, double b, double rel)
{
	return fabs(a - b) <= rel * fabs(b) + 1e-15;
}

/* ---------------------------------------------------------------- U test */

static void test_mwu(void)
{
	static const struct {
		double x[30], y[30];
		int nx, ny;
		double u, p;
		int exact;
	} k[] = {
		{ { 1, 2, 3, 4, 5 }, { 6, 7, 8, 9, 10 }, 5, 5, 0, 0.007936507936507936, 1 },
		{ { 1, 2, 3 }, { 4, 5, 6 }, 3, 3, 0, 0.1, 1 },
		{ { 3, 1, 4, 1.5, 9.2, 2.6 }, { 5.3, 5.8, 9.7, 9.3, 2.3, 8.4, 6.2 }, 6, 7, 8,
		  0.07342657342657342, 1 },
		{ { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 },
		  { 12.5, 13.5, 14.5, 15.5, 16.5, 17.5, 18.5, 19.5, 20.5, 21.5 }, 10, 10, 28,
		  0.10512243174781875, 1 },
		{ { 5 }, { 1, 2, 3, 4, 6, 7 }, 1, 6, 4, 0.8571428571428571, 1 },
		/* ties: normal approximation with tie and continuity correction */
		{ { 1, 2, 2, 3, 3, 3, 4 }, { 3, 4, 4, 5, 5, 6 }, 7, 6, 3.5, 0.012999854364387305, 0 },
		{ { 1, 1, 1 }, { 1, 1, 1 }, 3, 3, 4.5, 1.0, 0 },
	};
	struct ipcb_mwu t;
	double x[60], y[60];

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		CHECK(ipcb_mwu_test(k[i].x, k[i].nx, k[i].y, k[i].ny, &t) == 0);
		CHECKF(t.u == k[i].u, "case %zu: U %g, want %g", i, t.u, k[i].u);
		CHECKF(near(t.p, k[i].p, 1e-9), "case %zu: p %.17g, want %.17g", i, t.p, k[i].p);
		CHECKF(t.exact == k[i].exact, "case %zu: exact %d", i, t.exact);
		/* swapping the samples gives the other U and the same p */
		CHECK(ipcb_mwu_test(k[i].y, k[i].ny, k[i].x, k[i].nx, &t) == 0);
		CHECK(t.u == k[i].nx * k[i].ny - k[i].u);
		CHECK(near(t.p, k[i].p, 1e-9));
	}
	/* 30 vs 30 without ties: exact (900 <= limit), and scipy's exact value */
	for (int i = 0; i < 30; i++) {
		x[i] = i + 1;
		y[i] = i + 5.5;
	}
	CHECK(ipcb_mwu_test(x, 30, y, 30, &t) == 0);
	CHECK(t.exact && t.u == 325);
	CHECKF(near(t.p, 0.06539911471328003, 1e-9), "30x30 exact p %.17g", t.p);
	/* 60 vs 60 is past the exact limit: the normal approximation, checked against the
	 * formula by hand: U = 1800 - 60*59/2... computed independently below */
	for (int i = 0; i < 60; i++) {
		x[i] = i;
		y[i] = i + 0.5;
	}
	CHECK(ipcb_mwu_test(x, 60, y, 60, &t) == 0);
	CHECK(!t.exact);
	{
		double u = 0, mu = 1800, sd = sqrt(60.0 * 60 * 121 / 12);

		for (int i = 0; i < 60; i++)
			for (int j = 0; j < 60; j++)
				u += x[i] > y[j];
		CHECK(t.u == u);
		CHECK(near(t.p, erfc((fabs(u - mu) - 0.5) / sd / sqrt(2)), 1e-12));
	}
	/* refused input */
	CHECK(ipcb_mwu_test(x, 0, y, 3, &t) == -EINVAL);
	x[0] = NAN;
	CHECK(ipcb_mwu_test(x, 3, y, 3, &t) == -EINVAL);
	/* smallest p by sizes */
	CHECK(near(ipcb_mwu_min_p(3, 3), 0.1, 1e-12));
	CHECK(near(ipcb_mwu_min_p(5, 5), 2.0 / 252, 1e-12));
	CHECK(ipcb_mwu_min_p(1, 1) == 1);
	CHECK(ipcb_mwu_min_p(10, 10) < 1e-4);
}

static void test_direction(void)
{
	CHECK(ipcb_metric_direction("rtt_p50_ns", "ns") == IPCB_DIR_LOWER);
	CHECK(ipcb_metric_direction("ns_per_update", "ns") == IPCB_DIR_LOWER);
	CHECK(ipcb_metric_direction("cpu_a_ns_per_rt", "ns") == IPCB_DIR_LOWER);
	CHECK(ipcb_metric_direction("msgs_per_s", "msgs/s") == IPCB_DIR_HIGHER);
	CHECK(ipcb_metric_direction("updates_per_s", "ops/s") == IPCB_DIR_HIGHER);
	CHECK(ipcb_metric_direction("lost_updates", "count") == IPCB_DIR_NONE);
	CHECK(ipcb_metric_direction("round_trips", "count") == IPCB_DIR_NONE);
	CHECK(ipcb_metric_direction("odd", "ns") == IPCB_DIR_LOWER);
	CHECK(ipcb_metric_direction("odd", "B/s") == IPCB_DIR_HIGHER);
	CHECK(ipcb_compare_default_metric("pingpong", "rtt_p50_ns", "ns"));
	CHECK(!ipcb_compare_default_metric("pingpong", "rtt_max_ns", "ns"));
	CHECK(ipcb_compare_default_metric("no-such-bench", "x_p99_ns", "ns"));
	CHECK(!ipcb_compare_default_metric("no-such-bench", "x_max_ns", "ns"));
}

/* ---------------------------------------------------------------- synthetic runs */

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/ipcb_compare_test.XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

static const char header[] = IPCB_TEST_CSV_HEADER;

/* One case: n repetition rows of metric with values base * f[i], then its median row with
 * status median_status. */
static void put_metric(FILE *f, const char *run, const char *mech, unsigned size,
		       const char *params, const char *metric, const char *unit, double base,
		       const double *fac, int n, const char *median_status)
{
	double v[64], med, lo = INFINITY, hi = -INFINITY;

	for (int i = 0; i < n; i++) {
		v[i] = base * fac[i];
		fprintf(f, "%s,pingpong,%s,c,process,2,0;1,0;1,compact,none,%u,%s,%d,%s,%s,%.17g,,,"
			"1000,1,ok,\n", run, mech, size, params, i + 1, metric, unit, v[i]);
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	fprintf(f, "%s,pingpong,%s,c,process,2,0;1,0;1,compact,none,%u,%s,median,%s,%s,%.17g,"
		"%.17g,%.17g,%d,1,%s,%s\n", run, mech, size, params, metric, unit, med, lo, hi, n,
		median_status, strcmp(median_status, "NOISY") ? "" : "\"interval spans 30%, "
		"threshold 10%\"");
}

/* Jitter of +-0.5% so repetitions are distinct (no ties) and never overlap a 10% shift. */
static const double jit[10] = { 1.000, 1.003, 0.997, 1.001, 0.999, 1.004, 0.996, 1.002,
				0.998, 1.0005 };
static const double wide[10] = { 1.0, 1.3, 0.8, 1.2, 0.9, 1.35, 0.75, 1.1, 0.95, 1.05 };

struct spec {
	double scale;          /* NEW/BASE factor of the rtt case */
	int reps;
	int noisy;             /* NEW's rtt median NOISY, with wide repetitions */
	int fail_fifo;         /* fifo FAILED in NEW */
	int drop_udp;          /* NEW lacks the udp case */
	int new_tcp;           /* NEW has a tcp case BASE does not */
};

/* A run directory with results.csv: pipe 64 (rtt_p50_ns, rtt_p99_ns, round_trips), pipe
 * 4096, fifo 64 (pipe_sz as an effective value), udp 64. */
static int write_run(const char *dir, const char *run, const struct spec *s, int is_new)
{
	char path[512];
	double fac[10];
	FILE *f;

	snprintf(path, sizeof(path), "%s/results.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(header, f);
	for (int i = 0; i < s->reps; i++)
		fac[i] = (is_new ? s->scale : 1) * (is_new && s->noisy ? wide[i] : jit[i]);
	put_metric(f, run, "pipe", 64, "verify=sparse;pipe_sz=65536", "rtt_p50_ns", "ns", 4000,
		   fac, s->reps, is_new && s->noisy ? "NOISY" : "ok");
	put_metric(f, run, "pipe", 64, "verify=sparse;pipe_sz=65536", "rtt_p99_ns", "ns", 9000,
		   fac, s->reps, is_new && s->noisy ? "NOISY" : "ok");
	put_metric(f, run, "pipe", 4096, "verify=sparse;pipe_sz=65536", "rtt_p50_ns", "ns",
		   6000, jit, s->reps, "ok");
	if (is_new && s->fail_fifo)
		fprintf(f, "%s,pingpong,fifo,c,process,2,0;1,,compact,none,64,verify=sparse,3,,,,,,"
			"0,1,FAILED,\"worker 1: bad sequence number 17, expected 16\"\n", run);
	else
		put_metric(f, run, "fifo", 64, is_new ? "verify=sparse;pipe_sz=1048576" :
			   "verify=sparse;pipe_sz=65536", "rtt_p50_ns", "ns", 5000, jit, s->reps,
			   "ok");
	if (!(is_new && s->drop_udp))
		put_metric(f, run, "udp", 64, "verify=sparse", "rtt_p50_ns", "ns", 7000, jit,
			   s->reps, "ok");
	if (is_new && s->new_tcp)
		put_metric(f, run, "tcp", 64, "verify=sparse", "rtt_p50_ns", "ns", 9000, jit,
			   s->reps, "ok");
	/* a count: never judged */
	put_metric(f, run, "pipe", 64, "verify=sparse;pipe_sz=65536", "round_trips", "count",
		   is_new ? 1e6 : 2e6, jit, s->reps, "ok");
	return fclose(f);
}

/* Run `ipcbench compare` with stdout and stderr captured into out/errbuf. */
static int run_cmd(char *out, size_t outlen, char *errbuf, size_t errlen, int argc, ...)
{
	char *argv[16], tmpl_o[] = "/tmp/ipcb_cmp_out.XXXXXX", tmpl_e[] = "/tmp/ipcb_cmp_err.XXXXXX";
	int fo = mkstemp(tmpl_o), fe = mkstemp(tmpl_e), save_o, save_e, rc;
	va_list ap;
	ssize_t n;

	va_start(ap, argc);
	argv[0] = (char *)"compare";
	for (int i = 1; i < argc && i < 15; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	save_o = dup(1);
	save_e = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = (int)ipcb_compare_cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_o, 1);
	dup2(save_e, 2);
	close(save_o);
	close(save_e);
	n = pread(fo, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(fe, errbuf, errlen - 1, 0);
	errbuf[n > 0 ? n : 0] = '\0';
	close(fo);
	close(fe);
	unlink(tmpl_o);
	unlink(tmpl_e);
	return rc;
}

struct pair {
	char *root, base[512], new_[512];
};

static int make_pair(struct pair *p, const struct spec *s)
{
	p->root = tmpdir();
	if (!p->root)
		return -1;
	snprintf(p->base, sizeof(p->base), "%s/base", p->root);
	snprintf(p->new_, sizeof(p->new_), "%s/new", p->root);
	if (mkdir(p->base, 0755) || mkdir(p->new_, 0755))
		return -1;
	if (write_run(p->base, "run-base", s, 0) || write_run(p->new_, "run-new", s, 1))
		return -1;
	return 0;
}

static void free_pair(struct pair *p)
{
	if (p->root)
		ipcb_test_rmtree(p->root);
	free(p->root);
}

/* The verdict line of (label, metric), or NULL. */
static const struct ipcb_cmp_line *find(const struct ipcb_compare_result *r, const char *label,
				       const char *metric)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].label, label) && !strcmp(r->v[i].metric, metric))
			return &r->v[i];
	return NULL;
}

static int judge(const struct spec *s, const char *metrics, double threshold,
		 struct ipcb_compare_result *res, struct pair *p)
{
	struct ipcb_compare_opts o = { .threshold = threshold, .alpha = 0.05, .metrics = metrics };
	struct ipcb_results b, n;
	char err[512];
	int ret;

	if (make_pair(p, s) < 0)
		return -1;
	if (ipcb_results_load(p->base, &b, err, sizeof(err)) < 0 ||
	    ipcb_results_load(p->new_, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct ipcb_results *runs[2] = { &b, &n };
	ret = ipcb_results_label(runs, 2);
	if (!ret)
		ret = ipcb_compare_runs(&b, &n, &o, res, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "compare: %s\n", err);
	ipcb_results_free(&b);
	ipcb_results_free(&n);
	return ret;
}

static void test_slowdown(void)
{
	struct spec s = { .scale = 1.10, .reps = 10 };
	struct ipcb_compare_result r;
	const struct ipcb_cmp_line *v;
	struct pair p = { 0 };
	char out[16384], err[4096];

	CHECK(judge(&s, NULL, 0.05, &r, &p) == 0);
	v = find(&r, "pipe 64 B", "rtt_p50_ns");
	CHECK(v && v->v == IPCB_V_WORSE);
	CHECK(v && near(v->change, 0.10, 1e-3) && v->p < 0.001 && v->nbase == 10 && v->nnew == 10);
	v = find(&r, "pipe 64 B", "rtt_p99_ns");
	CHECK(v && v->v == IPCB_V_WORSE);
	v = find(&r, "pipe 4 KiB", "rtt_p50_ns");
	CHECK(v && v->v == IPCB_V_SAME);
	/* fifo matched although pipe_sz differs; the difference is noted */
	v = find(&r, "fifo 64 B", "rtt_p50_ns");
	CHECK(v && v->v == IPCB_V_SAME);
	CHECK(v && v->note && strstr(v->note, "pipe_sz=65536 -> 1048576"));
	/* a count is not judged */
	CHECK(!find(&r, "pipe 64 B", "round_trips"));
	CHECK(r.count[IPCB_V_WORSE] == 2 && r.matched == 4);
	ipcb_compare_result_free(&r);

	/* the command: exit 1, the table, compare.md in NEW */
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.new_) ==
	      IPCB_COMPARE_REGRESSION);
	CHECKF(strstr(out, "worse") && strstr(out, "+10.0%") && strstr(out, "REGRESSION"),
	       "%s", out);
	{
		char md[600], buf[8192] = "";
		FILE *f;

		snprintf(md, sizeof(md), "%s/compare.md", p.new_);
		f = fopen(md, "r");
		CHECK(f != NULL);
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			fclose(f);
		}
		CHECK(strstr(buf, "| verdict | bench | case |") != NULL);
		CHECK(strstr(buf, "| **worse** | pingpong | pipe 64 B | rtt_p50_ns |") != NULL);
		CHECK(strstr(buf, "| same |") != NULL);      /* md has every line */
	}
	/* a 20% threshold makes it same; --md elsewhere */
	{
		char md[600];

		snprintf(md, sizeof(md), "--md=%s/other.md", p.root);
		CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 6, p.base, p.new_,
			      "--threshold", "20%", md) == IPCB_COMPARE_OK);
		snprintf(md, sizeof(md), "%s/other.md", p.root);
		CHECK(access(md, R_OK) == 0);
	}
	/* only a metric without a regression */
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 6, p.base, p.new_, "--metric",
		      "rtt_max_ns", "--verbose") == IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, "rtt_max_ns") && strstr(err, "no row"), "%s", err);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 4, p.base, p.new_, "--metric=round_trips")
	      == IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, "no direction"), "%s", err);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 4, p.base, p.new_, "--threshold=abc")
	      == IPCB_COMPARE_BAD_INPUT);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 2, p.base) == IPCB_COMPARE_BAD_INPUT);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 4, p.base, p.new_, "--bogus") ==
	      IPCB_COMPARE_BAD_INPUT);
	free_pair(&p);

	/* a faster NEW: better, exit 0 */
	s.scale = 0.9;
	CHECK(judge(&s, "all", 0.05, &r, &p) == 0);
	v = find(&r, "pipe 64 B", "rtt_p50_ns");
	CHECK(v && v->v == IPCB_V_BETTER);
	CHECK(r.count[IPCB_V_WORSE] == 0);
	ipcb_compare_result_free(&r);
	free_pair(&p);
}

static void test_small_change_and_identical(void)
{
	struct spec s = { .scale = 1.01, .reps = 10 };
	struct ipcb_compare_result r;
	const struct ipcb_cmp_line *v;
	struct pair p = { 0 };
	char out[16384], err[4096];

	CHECK(judge(&s, NULL, 0.05, &r, &p) == 0);
	v = find(&r, "pipe 64 B", "rtt_p50_ns");
	CHECK(v && v->v == IPCB_V_SAME);
	CHECK(r.count[IPCB_V_WORSE] == 0 && r.count[IPCB_V_BETTER] == 0);
	ipcb_compare_result_free(&r);
	free_pair(&p);

	s.scale = 1;
	CHECK(judge(&s, "all", 0.05, &r, &p) == 0);
	for (int i = 0; i < r.n; i++)
		CHECKF(r.v[i].v == IPCB_V_SAME, "%s %s: %s", r.v[i].label, r.v[i].metric,
		       ipcb_cmp_verdict_name(r.v[i].v));
	ipcb_compare_result_free(&r);
	/* a run compared with itself: same everywhere, exit 0 */
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.base) == IPCB_COMPARE_OK);
	CHECKF(strstr(out, "0 worse, 0 better, 5 same, 0 inconclusive, 0 missing, 0 new"), "%s",
	       out);
	free_pair(&p);
}

static void test_noise_and_few_reps(void)
{
	struct spec s = { .scale = 1.10, .reps = 10, .noisy = 1 };
	struct ipcb_compare_result r;
	const struct ipcb_cmp_line *v;
	struct pair p = { 0 };
	char out[16384], err[4096];

	CHECK(judge(&s, NULL, 0.05, &r, &p) == 0);
	v = find(&r, "pipe 64 B", "rtt_p50_ns");
	CHECK(v && v->v == IPCB_V_INCONCLUSIVE);
	CHECK(v && v->note && strstr(v->note, "NOISY in NEW"));
	CHECK(r.count[IPCB_V_WORSE] == 0);
	ipcb_compare_result_free(&r);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.new_) == IPCB_COMPARE_OK);
	free_pair(&p);

	/* 3 repetitions each: a 20% slowdown cannot be shown (best p is 0.1) */
	s = (struct spec){ .scale = 1.2, .reps = 3 };
	CHECK(judge(&s, NULL, 0.05, &r, &p) == 0);
	v = find(&r, "pipe 64 B", "rtt_p50_ns");
	CHECK(v && v->v == IPCB_V_INCONCLUSIVE);
	CHECK(v && v->note && strstr(v->note, "cannot reach"));
	ipcb_compare_result_free(&r);
	free_pair(&p);
}

static void test_failed_missing_new(void)
{
	struct spec s = { .scale = 1, .reps = 10, .fail_fifo = 1, .drop_udp = 1, .new_tcp = 1 };
	struct ipcb_compare_result r;
	const struct ipcb_cmp_line *v;
	struct pair p = { 0 };
	char out[16384], err[4096];

	CHECK(judge(&s, NULL, 0.05, &r, &p) == 0);
	/* the FAILED row carries only "verify=sparse": matched to BASE's fifo all the same */
	v = find(&r, "fifo 64 B", "");
	CHECK(v && v->v == IPCB_V_WORSE);
	CHECK(v && v->note && strstr(v->note, "FAILED in NEW: worker 1: bad sequence number"));
	v = find(&r, "udp 64 B", "");
	CHECK(v && v->v == IPCB_V_MISSING);
	v = find(&r, "tcp 64 B", "");
	CHECK(v && v->v == IPCB_V_NEW);
	CHECK(r.count[IPCB_V_WORSE] == 1);
	ipcb_compare_result_free(&r);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.new_) ==
	      IPCB_COMPARE_REGRESSION);
	/* the other way round: FAILED in BASE, passes in NEW */
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.new_, p.base) == IPCB_COMPARE_OK);
	CHECKF(strstr(out, "better") && strstr(out, "FAILED in BASE"), "%s", out);
	free_pair(&p);
}

/* Write text as dir/results.csv. */
static void put_file(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/results.csv", dir);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_bad_input(void)
{
	struct spec s = { .scale = 1, .reps = 5 };
	struct pair p = { 0 };
	char out[16384], err[4096], missing[600], csv[600];

	CHECK(make_pair(&p, &s) == 0);
	snprintf(missing, sizeof(missing), "%s/nope", p.root);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, missing) ==
	      IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, "NEW:") && strstr(err, missing) && strstr(err, "No such file"), "%s",
	       err);
	/* a directory without results.csv */
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.root, p.new_) ==
	      IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, "BASE:") && strstr(err, "results.csv"), "%s", err);

	snprintf(csv, sizeof(csv), "%s/results.csv", p.new_);
	put_file(p.new_, "run_id,bench,mech\nx,y,z\n");
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, csv) ==
	      IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, csv) && strstr(err, ":1: header"), "%s", err);

	put_file(p.new_, "run_id,bench,mech,impl,mode,workers,cpus,cpus_seen,placement,mem,"
		 "size_bytes,params,rep,metric,unit,value,ci_low,ci_high,samples,ops_per_sample,"
		 "status,reason\nr,pingpong,pipe,c,process,2,0;1,0;1,compact,none,64,,1,"
		 "rtt_p50_ns,ns,100,,,10,1,ok,\nr,pingpong,pipe,c,process,2,0;1\n");
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.new_) ==
	      IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, ":3: ") && strstr(err, "truncated"), "%s", err);

	put_file(p.new_, "run_id,bench,mech,impl,mode,workers,cpus,cpus_seen,placement,mem,"
		 "size_bytes,params,rep,metric,unit,value,ci_low,ci_high,samples,ops_per_sample,"
		 "status,reason\nr,pingpong,pipe,c,process,2,0;1,0;1,compact,none,64,,1,"
		 "rtt_p50_ns,ns,fast,,,10,1,ok,\n");
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.new_) ==
	      IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, ":2: ") && strstr(err, "value") && strstr(err, "fast"), "%s", err);

	/* well-formed but nothing in common */
	put_file(p.new_, "run_id,bench,mech,impl,mode,workers,cpus,cpus_seen,placement,mem,"
		 "size_bytes,params,rep,metric,unit,value,ci_low,ci_high,samples,ops_per_sample,"
		 "status,reason\nr,stream,shm-ring,c,process,2,0;1,0;1,compact,none,64,,1,"
		 "msgs_per_s,msgs/s,100,,,10,1,ok,\n");
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.new_) ==
	      IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, "no case in common"), "%s", err);
	/* header only */
	put_file(p.new_, header);
	CHECK(run_cmd(out, sizeof(out), err, sizeof(err), 3, p.base, p.new_) ==
	      IPCB_COMPARE_BAD_INPUT);
	CHECKF(strstr(err, "no case in common") && strstr(err, "0 cases"), "%s", err);
	free_pair(&p);
}

/* Matching rules on hand-made cases: exact first, prefix, same keys with other values. */
static void test_match_and_labels(void)
{
	char *root = tmpdir(), a[600], b[600];
	struct ipcb_results ra, rb;
	char err[512], diff[256];
	int ma[8], mb[8];
	FILE *f;

	CHECK(root != NULL);
	if (!root)
		return;
	snprintf(a, sizeof(a), "%s/a.csv", root);
	snprintf(b, sizeof(b), "%s/b.csv", root);
	f = fopen(a, "w");
	fputs(header, f);
	/* 0: exact; 1: prefix (SKIPPED row in b); 2,3: same keys, other effective value */
	fputs("a,spawn,,c,process,1,0,0,compact,none,0,kind=fork;huge=none,1,spawn_p50_ns,ns,10,,,1,1,ok,\n"
	      "a,spawn,,c,process,1,0,0,compact,none,0,kind=fork;huge=thp;x=1,1,spawn_p50_ns,ns,10,,,1,1,ok,\n"
	      "a,pingpong,shm-ring,c,process,2,0;1,0;1,compact,none,64,verify=sparse;wait=spin,1,rtt_p50_ns,ns,10,,,1,1,ok,\n"
	      "a,pingpong,pipe,c,process,2,0;1,0;1,compact,none,64,verify=sparse;pipe_sz=4096,1,rtt_p50_ns,ns,10,,,1,1,ok,\n",
	      f);
	fclose(f);
	f = fopen(b, "w");
	fputs(header, f);
	fputs("b,pingpong,pipe,c,process,2,0;1,0;1,compact,none,64,verify=sparse;pipe_sz=65536,1,rtt_p50_ns,ns,10,,,1,1,ok,\n"
	      "b,pingpong,shm-ring,c,process,2,0;1,0;1,compact,none,64,verify=sparse;wait=futex,1,rtt_p50_ns,ns,10,,,1,1,ok,\n"
	      "b,spawn,,c,process,1,0,,compact,none,0,kind=fork;huge=thp,,,,,,,0,1,SKIPPED,no huge pages\n"
	      "b,spawn,,c,process,1,0,0,compact,none,0,kind=fork;huge=none,1,spawn_p50_ns,ns,10,,,1,1,ok,\n"
	      "b,pingpong,pipe,c,process,4,0;1,0;1,compact,none,64,verify=sparse;pipe_sz=4096,1,rtt_p50_ns,ns,10,,,1,1,ok,\n",
	      f);
	fclose(f);
	CHECK(ipcb_results_load(a, &ra, err, sizeof(err)) == 0);
	CHECK(ipcb_results_load(b, &rb, err, sizeof(err)) == 0);
	CHECK(ra.nc == 4 && rb.nc == 5);
	CHECK(!strcmp(ra.run_id, "a") && !strcmp(rb.dir, root));
	CHECK(ipcb_results_match(&ra, &rb, ma, mb) == 4);
	CHECK(ma[0] == 3 && ma[1] == 2 && ma[2] == 1 && ma[3] == 0);
	CHECK(mb[4] == -1);     /* other worker count: never the same case */
	CHECK(rb.c[2].fail_status && !strcmp(rb.c[2].fail_status, "SKIPPED"));
	ipcb_rcase_params_diff(&ra.c[3], &rb.c[0], diff, sizeof(diff));
	CHECK(!strcmp(diff, "pipe_sz=4096 -> 65536"));
	ipcb_rcase_params_diff(&ra.c[1], &rb.c[2], diff, sizeof(diff));
	CHECK(!strcmp(diff, "x=1 -> -"));
	{
		struct ipcb_results *runs[2] = { &ra, &rb };

		CHECK(ipcb_results_label(runs, 2) == 0);
	}
	/* spawn: huge varies (and x, which only one case has); pipe: workers vary in b */
	CHECKF(!strcmp(ra.c[0].label, "spawn huge=none"), "%s", ra.c[0].label);
	CHECKF(!strcmp(ra.c[1].label, "spawn huge=thp x=1"), "%s", ra.c[1].label);
	CHECKF(!strcmp(rb.c[4].label, "pipe 64 B workers=4 pipe_sz=4096"), "%s", rb.c[4].label);
	CHECKF(!strcmp(ra.c[2].label, "shm-ring 64 B"), "%s", ra.c[2].label);
	ipcb_results_free(&ra);
	ipcb_results_free(&rb);
	ipcb_test_rmtree(root);
	free(root);
}

/* A swept parameter is never taken for an effective value: c2c pair (0,2) of one machine
 * is not the pair (0,5) of another, even when each is the only one left. */
static void test_no_match_across_sweep(void)
{
	char *root = tmpdir(), a[600], b[600], err[512];
	struct ipcb_results ra, rb;
	int ma[4], mb[4];
	FILE *f;

	CHECK(root != NULL);
	if (!root)
		return;
	snprintf(a, sizeof(a), "%s/a.csv", root);
	snprintf(b, sizeof(b), "%s/b.csv", root);
	f = fopen(a, "w");
	fputs(header, f);
	fputs("a,c2c,,c,process,2,0;1,0;1,compact,none,0,cpu_a=0;cpu_b=1;relation=smt,median,rtt_p50_ns,ns,10,,,1,1,ok,\n"
	      "a,c2c,,c,process,2,0;2,0;2,compact,none,0,cpu_a=0;cpu_b=2;relation=l3,median,rtt_p50_ns,ns,10,,,1,1,ok,\n",
	      f);
	fclose(f);
	f = fopen(b, "w");
	fputs(header, f);
	fputs("b,c2c,,c,process,2,0;1,0;1,compact,none,0,cpu_a=0;cpu_b=1;relation=smt,median,rtt_p50_ns,ns,10,,,1,1,ok,\n"
	      "b,c2c,,c,process,2,0;5,0;5,compact,none,0,cpu_a=0;cpu_b=5;relation=l3,median,rtt_p50_ns,ns,10,,,1,1,ok,\n",
	      f);
	fclose(f);
	CHECK(ipcb_results_load(a, &ra, err, sizeof(err)) == 0);
	CHECK(ipcb_results_load(b, &rb, err, sizeof(err)) == 0);
	CHECK(ipcb_results_match(&ra, &rb, ma, mb) == 1);
	CHECK(ma[0] == 0 && ma[1] == -1 && mb[1] == -1);
	ipcb_results_free(&ra);
	ipcb_results_free(&rb);
	ipcb_test_rmtree(root);
	free(root);
}

static void test_format(void)
{
	char buf[64];

	ipcb_fmt_size(64, buf, sizeof(buf));
	CHECK(!strcmp(buf, "64 B"));
	ipcb_fmt_size(4096, buf, sizeof(buf));
	CHECK(!strcmp(buf, "4 KiB"));
	ipcb_fmt_size(1536 * 1024, buf, sizeof(buf));
	CHECK(!strcmp(buf, "1.5 MiB"));
	ipcb_fmt_value(812.34, "ns", buf, sizeof(buf));
	CHECK(!strcmp(buf, "812.3 ns"));
	ipcb_fmt_value(4210, "ns", buf, sizeof(buf));
	CHECK(!strcmp(buf, "4.21 us"));
	ipcb_fmt_value(1.234e6, "msgs/s", buf, sizeof(buf));
	CHECK(!strcmp(buf, "1.23M msgs/s"));
	ipcb_fmt_value(NAN, "ns", buf, sizeof(buf));
	CHECK(!strcmp(buf, "-"));
	ipcb_fmt_value(17, "count", buf, sizeof(buf));
	CHECK(!strcmp(buf, "17 count"));
}

int main(void)
{
	test_mwu();
	test_direction();
	test_format();
	test_match_and_labels();
	test_no_match_across_sweep();
	test_slowdown();
	test_small_change_and_identical();
	test_noise_and_few_reps();
	test_failed_missing_new();
	test_bad_input();
	return TEST_END();
}
