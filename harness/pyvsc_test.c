/* SPDX-License-Identifier: MIT */
/*
 * Python vs C on synthetic runs. A run with Python rows and their C counterparts: the
 * pairs hold the ratios computed here by hand (25 for a round trip, 0.25 = 4x slower for a
 * rate), the interval ends give the range, lost updates stand side by side without a
 * ratio, a C case on other CPUs and a C job absent from the run give no ratio but a reason,
 * a FAILED C case names its failure; report.md carries the same numbers in its "Python vs
 * C" table and `plot` writes the pair figure's data. A run with Python rows and no C
 * counterpart: no ratio anywhere, a "not in this run" line, no pair figure. A run without
 * Python rows: no "Python vs C" section.
 *
 * Scripts as in report_test.c: argv[1], $IPCBENCH_PLOTS_DIR, or the source tree's plots/.
 * IPCB_KEEP=1 in the environment keeps the temporary directories.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "plot.h"
#include "pyvsc.h"
#include "report.h"
#include "testutil.h"

#ifndef IPCB_PLOTS_DIR
#define IPCB_PLOTS_DIR "plots"
#endif

static const char header[] = IPCB_TEST_CSV_HEADER;

/* One case's metric: a repetition row and the median row. */
static void row(FILE *fp, const char *bench, const char *mech, const char *impl, int workers,
		const char *cpus, int size, const char *params, const char *metric,
		const char *unit, double v, double lo, double hi, const char *status)
{
	fprintf(fp, "r1,%s,%s,%s,process,%d,%s,%s,list,none,%d,%s,1,%s,%s,%.17g,,,100,1,%s,\n",
		bench, mech, impl, workers, cpus, cpus, size, params, metric, unit, v, status);
	fprintf(fp, "r1,%s,%s,%s,process,%d,%s,%s,list,none,%d,%s,median,%s,%s,%.17g,%.17g,"
		"%.17g,1,1,%s,\n", bench, mech, impl, workers, cpus, cpus, size, params, metric,
		unit, v, lo, hi, status);
}

#define PYP "warmup_s=0.05;duration_s=0.1;python_version=3.11.7"
#define CP "verify=sparse;warmup_s=0.05;duration_s=0.1"

/* with_c: the C counterparts too (else only the Python rows). */
static int write_run(const char *dir, int with_py, int with_c)
{
	char path[600];
	FILE *fp;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(header, fp);
	if (with_c) {
		row(fp, "pingpong", "shm-queue", "c", 2, "0;1", 64, CP ";eff.depth=64",
		    "rtt_p50_ns", "ns", 2000, 1990, 2010, "ok");
		row(fp, "stream", "shm-queue", "c", 2, "0;1", 64, CP, "msgs_per_s", "msgs/s",
		    800000, 780000, 820000, "ok");
		row(fp, "counter", "none", "c", 2, "0;1", 0, "warmup_s=0.05;duration_s=0.1",
		    "lost_updates", "count", 1000, 900, 1100, "RACE");
		row(fp, "counter", "none", "c", 2, "0;1", 0, "warmup_s=0.05;duration_s=0.1",
		    "ns_per_update", "ns", 0.5, 0.4, 0.6, "RACE");
		/* the Pipe's counterpart, but both workers on CPU 0 */
		row(fp, "pingpong", "socketpair-stream", "c", 2, "0;0", 64, CP, "rtt_p50_ns", "ns",
		    30000, 29000, 31000, "ok");
		fprintf(fp, "r1,spawn,,c,process,1,0,,list,none,0,%s;kind=fork;parent_mem_bytes=0;"
			"huge=none,,,,,,,0,0,FAILED,\"worker 0 died, signal 9\"\n", CP);
	}
	if (with_py) {
		row(fp, "python", "mp-queue", "python", 2, "0;1", 64, PYP ";api=put/get",
		    "rtt_p50_ns", "ns", 50000, 49000, 51000, "ok");
		row(fp, "python", "mp-queue", "python", 2, "0;1", 64, PYP ";queue_depth=64",
		    "msgs_per_s", "msgs/s", 200000, 190000, 210000, "ok");
		row(fp, "python", "mp-value-nolock", "python", 2, "0;1", 0, PYP ";value=lock=False",
		    "lost_updates", "count", 300, 250, 350, "RACE");
		row(fp, "python", "mp-pipe", "python", 2, "0;1", 64,
		    PYP ";api=send_bytes/recv_bytes", "rtt_p50_ns", "ns", 40000, 39000, 41000, "ok");
		row(fp, "python", "mp-manager-dict", "python", 2, "0;1", 0, PYP ";calls=set/get",
		    "op_p50_ns", "ns", 30000, 29000, 31000, "ok");
		row(fp, "python", "mp-process-fork", "python", 1, "0", 0,
		    PYP ";start_method=fork", "spawn_p50_ns", "ns", 1.6e6, 1.5e6, 1.7e6, "ok");
	}
	return fclose(fp);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (m) {
		int ch;

		while ((ch = getc(f)) != EOF)
			putc(ch, m);
		fclose(m);
	}
	fclose(f);
	return buf;
}

static const struct ipcb_pyvsc_line *find(const struct ipcb_pyvsc_line *v, int n,
					  const char *job, const char *c_job)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].job, job) && !strncmp(v[i].c_job, c_job, strlen(c_job)))
			return &v[i];
	return NULL;
}

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fabs(b);
}

/* The pairs through the API: the numbers by hand. */
static void test_pairs(const char *dir)
{
	struct ipcb_results res;
	struct ipcb_pyvsc_line *v = NULL;
	const struct ipcb_pyvsc_line *l;
	char err[512];
	int n = -1;

	CHECK(ipcb_results_load(dir, &res, err, sizeof(err)) == 0);
	CHECK(ipcb_pyvsc_pairs(&res, &v, &n) == 0);
	/* mp-queue ping-pong x2 (shm-queue, posix-mq), stream x2, lost updates, Pipe,
	 * Manager dict, Process fork */
	CHECKF(n == 8, "%d lines", n);

	l = find(v, n, "Queue ping-pong 64 B", "pingpong shm-queue");
	CHECK(l && l->c && near(l->ratio, 50000.0 / 2000));
	CHECK(l && near(l->slower, 25) && near(l->slower_lo, 49000.0 / 2010) &&
	      near(l->slower_hi, 51000.0 / 1990));
	l = find(v, n, "Queue ping-pong 64 B", "pingpong posix-mq");
	CHECK(l && !l->c && isnan(l->ratio) && strstr(l->why, "not in this run") &&
	      strstr(l->why, "posix-mq"));
	/* a rate: the ratio is Python / C, the slowdown its inverse */
	l = find(v, n, "Queue stream 64 B", "stream shm-queue");
	CHECK(l && l->c && near(l->ratio, 0.25) && near(l->slower, 4));
	CHECK(l && near(l->slower_lo, 780000.0 / 210000) &&
	      near(l->slower_hi, 820000.0 / 190000));
	/* counts: side by side, RACE rows kept, no ratio */
	l = find(v, n, "Value(lock=False) lost updates x2", "counter none");
	CHECK(l && l->c && l->kind == IPCB_PYVSC_COUNT && isnan(l->ratio) &&
	      l->py_m->median == 300 && l->c_m->median == 1000);
	/* the C case ran on other CPUs: no pair */
	l = find(v, n, "Pipe ping-pong 64 B", "pingpong socketpair-stream");
	CHECK(l && !l->c && isnan(l->ratio) && strstr(l->why, "same CPUs") &&
	      strstr(l->why, "0;0"));
	l = find(v, n, "Manager dict set/get", "manager get");
	CHECK(l && !l->c && strstr(l->why, "not in this run"));
	/* a FAILED C case is a failure, not a number */
	l = find(v, n, "Process start+join, fork", "spawn fork");
	CHECK(l && !l->c && isnan(l->ratio) && strstr(l->why, "FAILED") &&
	      strstr(l->why, "signal 9"));
	free(v);
	ipcb_results_free(&res);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/ipcb_pyvsc_test.XXXXXX", a[600], b[600], c[600], path[700], err[1024];
	const char *plots_src = argc > 1 ? argv[1] : getenv("IPCBENCH_PLOTS_DIR");
	char *top = mkdtemp(tmpl), *md;
	int have_gnuplot = system("command -v gnuplot >/dev/null 2>&1") == 0;

	if (!plots_src)
		plots_src = IPCB_PLOTS_DIR;
	if (!top) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(a, sizeof(a), "%s/both", top);
	snprintf(b, sizeof(b), "%s/python-only", top);
	snprintf(c, sizeof(c), "%s/c-only", top);
	CHECK(write_run(a, 1, 1) == 0);
	CHECK(write_run(b, 1, 0) == 0);
	CHECK(write_run(c, 0, 1) == 0);

	test_pairs(a);

	/* the report of the run with both: the ratios computed above, the reasons */
	CHECK(ipcb_report_write((const char *const[]){ a }, 1, a, plots_src, err,
				sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/report.md", a);
	md = slurp(path);
	CHECK(md && strstr(md, "## Python vs C"));
	CHECK(md && strstr(md, "| Queue ping-pong 64 B | pingpong shm-queue | rtt\\_p50\\_ns | "
			   "50.00 us \\[49.00, 51.00\\] | 2.00 us \\[1.99, 2.01\\] | 25 | "
			   "Python 25x slower (24.4 to 25.6) |"));
	CHECK(md && strstr(md, "| 0.25 | Python 4x slower (3.71 to 4.32) |"));
	CHECK(md && strstr(md, "| - | counts side by side |"));
	CHECK(md && strstr(md, "not in this run: no pingpong posix-mq rows"));
	CHECK(md && strstr(md, "not in this run on the same CPUs"));
	free(md);

	/* its figure: one data line per pair, the slowdown in the second column */
	if (ipcb_plot_run(a, plots_src, err, sizeof(err)) < 0 && have_gnuplot)
		CHECKF(0, "plot: %s", err);
	snprintf(path, sizeof(path), "%s/plots/python-python_vs_c.dat", a);
	md = slurp(path);
	CHECK(md && strstr(md, "Queue ping-pong 64 B vs pingpong shm-queue\t25\t"));
	CHECK(md && strstr(md, "Queue stream 64 B vs stream shm-queue\t4\t"));
	CHECK(md && strstr(md, "lost_updates: Python 300, C 1000"));
	CHECK(md && strstr(md, "\tNaN\tNaN\tNaN\tnot in this run: no pingpong posix-mq rows"));
	free(md);
	if (have_gnuplot) {
		struct stat sb;

		snprintf(path, sizeof(path), "%s/plots/python-python_vs_c.png", a);
		CHECK(stat(path, &sb) == 0 && sb.st_size > 0);
	}

	/* Python rows without a C counterpart: a clear line, no ratio, no figure */
	CHECK(ipcb_report_write((const char *const[]){ b }, 1, b, plots_src, err,
				sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/report.md", b);
	md = slurp(path);
	CHECK(md && strstr(md, "## Python vs C"));
	CHECK(md && strstr(md, "| Queue ping-pong 64 B | pingpong shm-queue | rtt\\_p50\\_ns | "
			   "50.00 us \\[49.00, 51.00\\] | - | - | not in this run: no pingpong "
			   "shm-queue rows |"));
	CHECK(md && !strstr(md, "x slower") && !strstr(md, "| 25 |"));
	free(md);
	(void)ipcb_plot_run(b, plots_src, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/plots/python-python_vs_c.dat", b);
	CHECK(access(path, F_OK) != 0);

	/* no Python rows: no section */
	CHECK(ipcb_report_write((const char *const[]){ c }, 1, c, plots_src, err,
				sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/report.md", c);
	md = slurp(path);
	CHECK(md && !strstr(md, "Python vs C"));
	free(md);

	ipcb_test_rmtree(top);
	return TEST_END();
}
