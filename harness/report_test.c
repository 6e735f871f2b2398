/* SPDX-License-Identifier: MIT */
/*
 * report tests on synthetic runs: one run gives report.md and a self-contained report.html
 * (machine table from metadata.json, a summary table per bench with medians and
 * intervals, the failed case and its reason, the figures linked in the Markdown and inlined
 * as base64 PNG in the HTML, nothing fetched from elsewhere); two runs give a platform
 * comparison with the ratio per case and overlay figures, written to --out. Without
 * gnuplot the report is still written and says why it has no figure. Bad input -- a
 * missing run, a malformed results.csv, runs with no case in common, bad arguments -- exits
 * 2 with a message naming the file (and line).
 *
 * Scripts as in plot_test.c: argv[1], $IPCBENCH_PLOTS_DIR, or the source tree's plots/.
 * IPCB_KEEP=1 in the environment keeps the temporary directories.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "testutil.h"

#ifndef IPCB_PLOTS_DIR
#define IPCB_PLOTS_DIR "plots"
#endif

static const char *plots_src = IPCB_PLOTS_DIR;

static const char header[] = IPCB_TEST_CSV_HEADER;

static const char clamp_note[] =
	"--pipe-size 4194304 clamped to 1048576 by fs.pipe-max-size=1048576";

/* A run: pingpong pipe and shm-ring at 64 and 4096 B (5 repetitions and the median of
 * rtt_p50_ns and rtt_p99_ns; pipe 4 KiB's rows carry a clamp warning), fifo FAILED; times
 * scaled by scale. */
static int write_run(const char *dir, const char *run_id, const char *host, double scale)
{
	static const char *const mech[] = { "pipe", "shm-ring" };
	static const double f[5] = { 1.0, 1.002, 0.998, 1.001, 0.999 };
	char path[600];
	FILE *fp;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(header, fp);
	for (int m = 0; m < 2; m++)
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < 2; k++) {
				double base = (m ? 400 : 4000) * (s ? 1.5 : 1) * (k ? 2.5 : 1) * scale;
				const char *metric = k ? "rtt_p99_ns" : "rtt_p50_ns";

				/* pipe 4 KiB ran with a clamped request (--allow-clamp) */
				const char *note = !m && s ? clamp_note : "";

				for (int r = 0; r < 5; r++)
					fprintf(fp, "%s,pingpong,%s,c,process,2,0;1,0;1,compact,none,%d,"
						"verify=sparse,%d,%s,ns,%.17g,,,1000,1,ok,%s\n", run_id,
						mech[m], s ? 4096 : 64, r + 1, metric, base * f[r], note);
				fprintf(fp, "%s,pingpong,%s,c,process,2,0;1,0;1,compact,none,%d,"
					"verify=sparse,median,%s,ns,%.17g,%.17g,%.17g,5,1,%s,%s\n", run_id,
					mech[m], s ? 4096 : 64, metric, base, base * 0.998, base * 1.002,
					m && s ? "NOISY" : "ok", note);
			}
	fprintf(fp, "%s,pingpong,fifo,c,process,2,0;1,,compact,none,64,verify=sparse,2,,,,,,0,1,"
		"FAILED,\"worker 1 died, signal 9\"\n", run_id);
	if (fclose(fp))
		return -1;
	snprintf(path, sizeof(path), "%s/metadata.json", dir);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fprintf(fp, "{\"run_id\": \"%s\", \"command_line\": \"ipcbench run pingpong\", "
		"\"build\": {\"version\": \"0.1.0\", \"git_commit\": \"abc123\", \"build_type\": "
		"\"Release\", \"compiler\": \"GNU 12\", \"sanitizer\": false}, "
		"\"clock\": {\"name\": \"CLOCK_MONOTONIC\", \"cost_ns\": 20.5}, "
		"\"machine\": {\"cpu_model\": \"Test CPU <3GHz>\", \"packages\": 1, \"cores\": 4, "
		"\"pus\": 8, \"numa_nodes\": 1, \"caches\": {\"l1d_kib\": 48, \"l2_kib\": 1280, "
		"\"l3_kib\": 30720, \"l3_count\": 1}, \"kernel\": \"Linux 6.1.0 x86_64\", "
		"\"hostname\": \"%s\"}, \"fingerprint\": {\"cpufreq_governor\": \"performance\"}, "
		"\"start_time\": \"2024-05-01T12:00:00.000Z\", \"cases\": {\"ok\": 3, \"failed\": 1, "
		"\"skipped\": 0, \"noisy\": 1}, \"partial\": false}\n", run_id, host);
	return fclose(fp);
}

static char *slurp(const char *path)
{
	char *buf;
	long n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; p && (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* ipcb_report_cmd with stderr captured into errbuf (stdout left alone). */
static int run_cmd(char *errbuf, size_t errlen, int argc, ...)
{
	char *argv[16], tmpl[] = "/tmp/ipcb_report_err.XXXXXX";
	int fe = mkstemp(tmpl), save, rc;
	va_list ap;
	ssize_t n;

	va_start(ap, argc);
	argv[0] = (char *)"report";
	for (int i = 1; i < argc && i < 15; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	fflush(stderr);
	save = dup(2);
	dup2(fe, 2);
	rc = ipcb_report_cmd(argc, argv, plots_src);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	n = pread(fe, errbuf, errlen - 1, 0);
	errbuf[n > 0 ? n : 0] = '\0';
	close(fe);
	unlink(tmpl);
	return rc;
}

static int have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* The HTML needs nothing from outside: no src or href other than data: URIs. */
static void check_self_contained(const char *html)
{
	CHECK(html && !strncmp(html, "<!DOCTYPE html>", 15));
	CHECK(html && strstr(html, "</html>"));
	CHECK(html && !strstr(html, "src=\"http") && !strstr(html, "href=") &&
	      !strstr(html, "<link") && !strstr(html, "<script"));
	CHECK(count(html, "src=\"") == count(html, "src=\"data:image/png;base64,"));
}

static void test_single(const char *root)
{
	char run[600], path[700], err[2048];
	char *md, *html;

	snprintf(run, sizeof(run), "%s/r1", root);
	CHECK(write_run(run, "r1", "host1", 1) == 0);
	CHECK(run_cmd(err, sizeof(err), 2, run) == 0);
	snprintf(path, sizeof(path), "%s/report.md", run);
	md = slurp(path);
	snprintf(path, sizeof(path), "%s/report.html", run);
	html = slurp(path);
	CHECK(md && html);
	if (!md || !html)
		goto out;
	CHECK(strstr(md, "# ipcbench report: run r1\n"));
	CHECK(strstr(md, "## Machine and run\n"));
	CHECKF(strstr(md, "| CPU model | Test CPU \\<3GHz\\> |"), "%s", md);
	CHECK(strstr(md, "| packages / cores / PUs | 1 / 4 / 8 |"));
	CHECK(strstr(md, "| ipcbench version / commit | 0.1.0 / abc123 |"));
	CHECK(strstr(md, "### pingpong\n"));
	CHECK(strstr(md, "| case | rtt\\_p50\\_ns | rtt\\_p99\\_ns | status |"));
	CHECKF(strstr(md, "| pipe 64 B | 4.00 us \\[3.99, 4.01\\] | 10.00 us \\[9.98, 10.02\\] "
			  "| ok |"), "%s", md);
	CHECK(strstr(md, "| shm-ring 4 KiB | 600.0 ns \\[598.8, 601.2\\] NOISY |"));
	CHECK(strstr(md, "| fifo 64 B | - | - | FAILED: worker 1 died, signal 9 |"));
	CHECK(strstr(md, "Median over 5 repetitions"));
	/* the clamp warning of pipe 4 KiB is shown, and only for that case */
	CHECKF(strstr(md, "Cases whose numbers carry a warning:") &&
	       strstr(md, "| pipe 4 KiB | r1 | "), "%s", md);
	CHECK(count(md, "clamped to 1048576") == 1);
	CHECK(strstr(html, "<td>Test CPU &lt;3GHz&gt;</td>"));
	check_self_contained(html);
	if (have_gnuplot()) {
		CHECKF(strstr(md, "![pingpong\\-latency\\_size](plots/pingpong-latency_size.png)") ||
		       strstr(md, "](plots/pingpong-latency_size.png)"), "%s", md);
		CHECK(count(html, "<figure><img") == 1);   /* latency_size (no p90: no pct) */
		CHECK(strstr(html, "src=\"data:image/png;base64,iVBORw0KGgo"));
	} else {
		printf("SKIP figure checks: gnuplot not installed\n");
	}
out:
	free(md);
	free(html);
}

static void test_compare_runs(const char *root)
{
	char a[600], b[600], c[600], out[600], path[700], err[2048];
	char *md, *html;

	snprintf(a, sizeof(a), "%s/r1", root);
	snprintf(b, sizeof(b), "%s/r2", root);
	snprintf(c, sizeof(c), "%s/r3", root);
	snprintf(out, sizeof(out), "%s/cmp/deeper", root);
	CHECK(write_run(b, "r2", "host2", 1.1) == 0);
	CHECK(write_run(c, "r3", "host2", 0.5) == 0);
	CHECK(run_cmd(err, sizeof(err), 6, a, b, c, "--out", out) == 0);
	snprintf(path, sizeof(path), "%s/report.md", out);
	md = slurp(path);
	snprintf(path, sizeof(path), "%s/report.html", out);
	html = slurp(path);
	CHECK(md && html);
	if (!md || !html)
		goto out;
	CHECK(strstr(md, "# ipcbench platform comparison of 3 runs\n"));
	CHECK(strstr(md, "| case | A | B | B/A | C | C/A |"));
	CHECKF(strstr(md, "| 1.1x worse |") && strstr(md, "| 0.5x better |"), "%s", md);
	CHECK(strstr(md, "#### pingpong: rtt\\_p50\\_ns (lower is better)"));
	/* fifo failed everywhere: FAILED in every run's column, listed with each run */
	CHECK(strstr(md, "| fifo 64 B | FAILED | FAILED | - | FAILED | - |"));
	CHECK(count(md, "| fifo 64 B | B | FAILED | worker 1 died, signal 9 |") == 1);
	check_self_contained(html);
	if (have_gnuplot()) {
		/* overlays next to the report; legends by host where hosts differ, else run */
		CHECK(strstr(md, "](report-plots/pingpong-latency_size.png)"));
		snprintf(path, sizeof(path), "%s/report-plots/pingpong-latency_size-1.dat", out);
		free(md);
		md = slurp(path);
		CHECKF(md && strstr(md, "series: A host1: pipe"), "%s", md ? md : "(none)");
		snprintf(path, sizeof(path), "%s/report-plots/pingpong-latency_size-6.dat", out);
		free(md);
		md = slurp(path);
		CHECKF(md && strstr(md, "series: C r3: shm-ring"), "%s", md ? md : "(none)");
		CHECK(count(html, "<figure><img") == 1);
	}
out:
	free(md);
	free(html);
}

static void test_no_gnuplot(const char *root)
{
	char run[600], empty[600], path[700], err[2048], *saved, *md;

	snprintf(run, sizeof(run), "%s/r4", root);
	snprintf(empty, sizeof(empty), "%s/empty-path", root);
	CHECK(write_run(run, "r4", "host4", 1) == 0);
	CHECK(mkdir(empty, 0755) == 0);
	saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", empty, 1);
	CHECK(run_cmd(err, sizeof(err), 2, run) == 0);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	snprintf(path, sizeof(path), "%s/report.md", run);
	md = slurp(path);
	CHECKF(md && strstr(md, "gnuplot not found") && strstr(md, "| pipe 64 B |"), "%s",
	       md ? md : "(none)");
	free(md);
}

static void test_bad_input(const char *root)
{
	char a[600], bad[600], other[600], missing[600], csv[700], err[2048];
	FILE *f;

	snprintf(a, sizeof(a), "%s/r1", root);
	snprintf(bad, sizeof(bad), "%s/bad", root);
	snprintf(other, sizeof(other), "%s/other", root);
	snprintf(missing, sizeof(missing), "%s/nope", root);
	CHECK(run_cmd(err, sizeof(err), 2, missing) == 2);
	CHECKF(strstr(err, missing) && strstr(err, "No such file"), "%s", err);
	CHECK(run_cmd(err, sizeof(err), 1) == 2);
	CHECK(strstr(err, "at least one run"));
	CHECK(run_cmd(err, sizeof(err), 3, a, "--bogus") == 2);
	CHECK(run_cmd(err, sizeof(err), 3, a, "--out") == 2);

	/* a non-numeric value on line 3 */
	CHECK(mkdir(bad, 0755) == 0);
	snprintf(csv, sizeof(csv), "%s/results.csv", bad);
	f = fopen(csv, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(header, f);
		fputs("x,pingpong,pipe,c,process,2,0;1,0;1,compact,none,64,,median,rtt_p50_ns,ns,1,,,"
		      "5,1,ok,\nx,pingpong,pipe,c,process,2,0;1,0;1,compact,none,64,,median,"
		      "rtt_p99_ns,ns,slow,,,5,1,ok,\n", f);
		fclose(f);
	}
	CHECK(run_cmd(err, sizeof(err), 3, a, bad) == 2);
	CHECKF(strstr(err, csv) && strstr(err, ":3: ") && strstr(err, "slow"), "%s", err);

	/* well-formed, but nothing in common with the first run */
	CHECK(mkdir(other, 0755) == 0);
	snprintf(csv, sizeof(csv), "%s/results.csv", other);
	f = fopen(csv, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(header, f);
		fputs("y,stream,tcp,c,process,2,0;1,0;1,compact,none,64,,median,msgs_per_s,msgs/s,1,,,"
		      "5,1,ok,\n", f);
		fclose(f);
	}
	CHECK(run_cmd(err, sizeof(err), 3, a, other) == 2);
	CHECKF(strstr(err, "no case in common") && strstr(err, csv), "%s", err);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/ipcb_report_test.XXXXXX", *root;

	if (argc > 1)
		plots_src = argv[1];
	else if (getenv("IPCBENCH_PLOTS_DIR"))
		plots_src = getenv("IPCBENCH_PLOTS_DIR");
	root = mkdtemp(tmpl);
	CHECK(root != NULL);
	if (!root)
		return TEST_END();
	test_single(root);
	test_compare_runs(root);
	test_no_gnuplot(root);
	test_bad_input(root);
	ipcb_test_rmtree(root);
	return TEST_END();
}
