/* SPDX-License-Identifier: MIT */
/*
 * Plot tests: a synthetic run (2 mechanisms x 3 sizes, pingpong latency and stream
 * throughput, plus rows that must be left out) becomes data files with the right rows in
 * size order and, when gnuplot is installed, non-empty PNG and SVG figures. Also: a figure
 * kind without data is skipped, gnuplot missing from PATH gives -ENOENT and the agreed
 * message, a malformed results.csv is refused with the reader's message.
 *
 * The gnuplot scripts are looked up in argv[1], else $IPCBENCH_PLOTS_DIR (as ipcbench
 * does), else IPCB_PLOTS_DIR (the build defines it as the source tree's plots/), else
 * "plots". IPCB_KEEP=1 in the environment keeps the temporary run directories.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "plot.h"
#include "testutil.h"

#ifndef IPCB_PLOTS_DIR
#define IPCB_PLOTS_DIR "plots"
#endif

static const char *plots_src = IPCB_PLOTS_DIR;

static char *make_run_dir(void)
{
	char tmpl[] = "/tmp/ipcb_plot_test.XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

static void put_header(FILE *f)
{
	static const char *const names[] = {
#define X(e, s) s,
		IPCB_CSV_COLUMNS(X)
#undef X
	};

	for (int i = 0; i < IPCB_CSV_NCOLS; i++)
		fprintf(f, "%s%s", i ? "," : "", names[i]);
	putc('\n', f);
}

/* run_id,bench,mech,impl,mode,workers,cpus,cpus_seen,placement,mem,size_bytes,params,rep,
 * metric,unit,value,ci_low,ci_high,samples,ops_per_sample,status,reason */
static void put_row(FILE *f, const char *bench, const char *mech, unsigned long size,
		    const char *rep, const char *metric, const char *unit, double v,
		    const char *status)
{
	fprintf(f, "run-7,%s,%s,c,process,2,0;1,0;1,compact,none,%lu,,%s,%s,%s,%.17g,%.17g,%.17g,"
		"10,1,%s,\n", bench, mech, size, rep, metric, unit, v, v * 0.95, v * 1.1, status);
}

static int write_results(const char *dir, int with_stream)
{
	static const char *const mechs[] = { "pipe", "shm-ring" };
	static const unsigned long sizes[] = { 65536, 64, 4096 };   /* not in order on purpose */
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/results.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	put_header(f);
	for (int m = 0; m < 2; m++) {
		for (int s = 0; s < 3; s++) {
			double base = (m ? 300.0 : 2000.0) + (double)sizes[s] / (m ? 20 : 8);

			/* repetition rows: not plotted */
			put_row(f, "pingpong", mechs[m], sizes[s], "1", "rtt_p50_ns", "ns", 1.0, "ok");
			put_row(f, "pingpong", mechs[m], sizes[s], "median", "rtt_p50_ns", "ns", base,
				s == 2 ? "NOISY" : "ok");
			put_row(f, "pingpong", mechs[m], sizes[s], "median", "rtt_p99_ns", "ns",
				base * 3, "ok");
			if (!with_stream)
				continue;
			put_row(f, "stream", mechs[m], sizes[s], "median", "msgs_per_s", "msgs/s",
				1e9 / base, "ok");
			put_row(f, "stream", mechs[m], sizes[s], "median", "bytes_per_s", "B/s",
				1e9 / base * (double)sizes[s], "ok");
		}
	}
	/* left out: a failed case, a metric no figure shows, a size of 0 */
	fprintf(f, "run-7,pingpong,fifo,c,process,2,0;1,,compact,none,64,,median,,,,,,0,1,FAILED,"
		"\"worker 1 exited, status 3\"\n");
	put_row(f, "pingpong", "pipe", 64, "median", "rtt_max_ns", "ns", 99999, "ok");
	put_row(f, "spawn", "fork", 0, "median", "rtt_p50_ns", "ns", 50000, "ok");
	if (fclose(f) != 0)
		return -1;

	snprintf(path, sizeof(path), "%s/metadata.json", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"run_id\": \"run-7\", \"machine\": {\"cpu_model\": \"Synthetic CPU 'X' @ 3GHz\","
		" \"hostname\": \"testhost\"}, \"partial\": false}\n");
	return fclose(f) == 0 ? 0 : -1;
}

static long file_size(const char *dir, const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/plots/%s", dir, name);
	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static int file_starts_with(const char *dir, const char *name, const char *magic, size_t n)
{
	char path[512], buf[256] = { 0 };
	size_t got;
	FILE *f;

	snprintf(path, sizeof(path), "%s/plots/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n)
		return got >= n && memcmp(buf, magic, n) == 0;
	return strstr(buf, magic) != NULL;
}

/* Read the data lines of a data file: up to max rows of 7 numbers. Returns the row count,
 * -1 when the file is missing, -2 for a line that is not 7 tab-separated numbers. */
static int read_data(const char *dir, const char *name, double rows[][7], int max)
{
	char path[512], line[1024];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/plots/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		if (line[0] == '#')
			continue;
		if (n == max) {
			n = -2;
			break;
		}
		for (int k = 0; k < 7; k++) {
			rows[n][k] = strtod(p, &end);
			if (end == p || (*end != (k < 6 ? '\t' : '\n'))) {
				fclose(f);
				return -2;
			}
			p = end + 1;
		}
		n++;
	}
	fclose(f);
	return n;
}

/* The values write_results() puts in, as the reader gets them back: exactly. */
static int row_matches(const double *got, unsigned long size, double v1, double v2)
{
	const double want[7] = { (double)size, v1, v1 * 0.95, v1 * 1.1, v2, v2 * 0.95, v2 * 1.1 };

	for (int k = 0; k < 7; k++)
		if (got[k] != want[k]) {
			fprintf(stderr, "size %lu column %d: got %.17g want %.17g\n", size, k + 1,
				got[k], want[k]);
			return 0;
		}
	return 1;
}

static void check_data_files(const char *dir, int with_stream)
{
	static const unsigned long sizes[] = { 64, 4096, 65536 };
	double rows[8][7];
	int n;

	/* series 1 is pipe, 2 is shm-ring (sorted by mech); sizes ascending; p99 beside p50 */
	for (int m = 0; m < 2; m++) {
		char name[64];

		snprintf(name, sizeof(name), "pingpong-latency_size-%d.dat", m + 1);
		n = read_data(dir, name, rows, 8);
		CHECKF(n == 3, "%s: %d rows", name, n);
		for (int i = 0; i < 3 && i < n; i++) {
			double base = (m ? 300.0 : 2000.0) + (double)sizes[i] / (m ? 20 : 8);

			CHECK(row_matches(rows[i], sizes[i], base, base * 3));
		}
		if (!with_stream)
			continue;
		snprintf(name, sizeof(name), "stream-throughput_size-%d.dat", m + 1);
		n = read_data(dir, name, rows, 8);
		CHECKF(n == 3, "%s: %d rows", name, n);
		for (int i = 0; i < 3 && i < n; i++) {
			double base = (m ? 300.0 : 2000.0) + (double)sizes[i] / (m ? 20 : 8);

			CHECK(row_matches(rows[i], sizes[i], 1e9 / base,
					  1e9 / base * (double)sizes[i]));
		}
	}
	CHECK(file_size(dir, "pingpong-latency_size-3.dat") < 0);   /* fifo failed: no series */
	CHECK(file_size(dir, "spawn-latency_size-1.dat") < 0);      /* size 0: not plotted */
	if (!with_stream)
		CHECK(file_size(dir, "stream-throughput_size-1.dat") < 0);
}

static void test_plot(void)
{
	char *dir = make_run_dir();
	char err[512];
	int ret;

	CHECK(dir != NULL);
	if (!dir)
		return;
	CHECK(write_results(dir, 1) == 0);
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	check_data_files(dir, 1);
	if (ret == -ENOENT && strstr(err, "gnuplot not found")) {
		printf("SKIP figure checks: %s\n", err);
		goto out;
	}
	CHECKF(ret == 2, "ret %d: %s", ret, err);
	CHECK(file_size(dir, "pingpong-latency_size.png") > 1000);
	CHECK(file_size(dir, "pingpong-latency_size.svg") > 1000);
	CHECK(file_size(dir, "stream-throughput_size.png") > 1000);
	CHECK(file_size(dir, "stream-throughput_size.svg") > 1000);
	CHECK(file_starts_with(dir, "pingpong-latency_size.png", "\x89PNG\r\n", 6));
	CHECK(file_starts_with(dir, "stream-throughput_size.png", "\x89PNG\r\n", 6));
	CHECK(file_starts_with(dir, "pingpong-latency_size.svg", "<svg", 0));
	CHECK(file_starts_with(dir, "stream-throughput_size.svg", "<svg", 0));
	/* throughput has no latency figure and vice versa */
	CHECK(file_size(dir, "stream-latency_size.png") < 0);
	CHECK(file_size(dir, "pingpong-throughput_size.png") < 0);
out:
	ipcb_test_rmtree(dir);
	free(dir);
}

/* Only latency rows: the throughput kind has no data and is skipped, not failed. */
static void test_kind_without_data(void)
{
	char *dir = make_run_dir();
	char err[512];
	int ret;

	CHECK(dir != NULL);
	if (!dir)
		return;
	CHECK(write_results(dir, 0) == 0);
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	check_data_files(dir, 0);
	if (ret == -ENOENT && strstr(err, "gnuplot not found")) {
		printf("SKIP figure checks: %s\n", err);
	} else {
		CHECKF(ret == 1, "ret %d: %s", ret, err);
		CHECK(file_size(dir, "pingpong-latency_size.png") > 1000);
		CHECK(file_size(dir, "stream-throughput_size.png") < 0);
	}
	ipcb_test_rmtree(dir);
	free(dir);
}

/* Two series of one mechanism: the legend adds the column that tells them apart. */
static void test_labels(void)
{
	static const char *const want[] = {
		"fifo batch=1", "fifo batch=8", "pipe c", "pipe python",
	};
	char *dir = make_run_dir();
	char path[512], line[256], err[512];
	FILE *f;
	int ret;

	CHECK(dir != NULL);
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		goto out;
	put_header(f);
	for (int i = 0; i < 2; i++)
		fprintf(f, "r,pingpong,pipe,%s,process,2,0;1,0;1,compact,none,%d,depth=4,median,"
			"rtt_p50_ns,ns,%d,,,10,1,ok,\n", i ? "python" : "c", 64 << i, 1000 + i);
	fprintf(f, "r,pingpong,pipe,python,process,2,0;1,0;1,compact,none,64,depth=4,median,"
		"rtt_p50_ns,ns,5000,,,10,1,ok,\n");
	/* two fifo series differing in one parameter item; the other mechanisms' items
	 * (depth=4) are not fifo's business */
	for (int i = 0; i < 2; i++)
		fprintf(f, "r,pingpong,fifo,c,process,2,0;1,0;1,compact,none,64,%s,median,"
			"rtt_p50_ns,ns,%d,,,10,1,ok,\n", i ? "v=1;batch=8" : "v=1;batch=1", 700 + i);
	fclose(f);
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	CHECKF(ret == 1 || (ret == -ENOENT && strstr(err, "gnuplot not found")), "%d %s", ret, err);
	/* series sorted by mech, impl, ..., params */
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/plots/pingpong-latency_size-%d.dat", dir, i + 1);
		f = fopen(path, "r");
		CHECK(f != NULL);
		if (!f)
			continue;
		CHECK(fgets(line, sizeof(line), f) != NULL);
		line[strcspn(line, "\n")] = '\0';
		CHECKF(!strcmp(line + strlen("# ipcbench latency_size data, series: "), want[i]),
		       "%s", line);
		fclose(f);
	}
	/* no p99 anywhere: the script leaves the dashed lines out instead of failing */
	CHECK(ret < 0 || file_size(dir, "pingpong-latency_size.png") > 1000);
out:
	ipcb_test_rmtree(dir);
	free(dir);
}

static void test_no_gnuplot(void)
{
	char *dir = make_run_dir(), *empty = make_run_dir();
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	char err[512];
	int ret;

	CHECK(dir && empty);
	if (!dir || !empty)
		goto out;
	CHECK(write_results(dir, 1) == 0);
	setenv("PATH", empty, 1);
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	if (saved)
		setenv("PATH", saved, 1);
	else
		unsetenv("PATH");
	CHECK(ret == -ENOENT);
	CHECKF(!strcmp(err, "gnuplot not found: plots skipped (install gnuplot-nox)"), "%s", err);
	check_data_files(dir, 1);      /* the data is there for later */
out:
	if (dir)
		ipcb_test_rmtree(dir);
	if (empty)
		ipcb_test_rmtree(empty);
	free(dir);
	free(empty);
	free(saved);
}

static void test_bad_input(void)
{
	char *dir = make_run_dir();
	char path[512], want[600], err[512];
	FILE *f;
	int ret;

	CHECK(dir != NULL);
	if (!dir)
		return;
	/* no results.csv */
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	CHECKF(ret == -ENOENT && strstr(err, "results.csv"), "%d %s", ret, err);

	/* a truncated row on line 3 */
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		put_header(f);
		put_row(f, "pingpong", "pipe", 64, "median", "rtt_p50_ns", "ns", 100, "ok");
		fprintf(f, "run-7,pingpong,pipe,c\n");
		fclose(f);
	}
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:3: ", path);
	CHECKF(ret == -EINVAL && !strncmp(err, want, strlen(want)), "%d %s", ret, err);

	/* header only: nothing to plot is not an error */
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		put_header(f);
		fclose(f);
	}
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	CHECKF(ret == 0 && strstr(err, "no plottable rows"), "%d %s", ret, err);

	/* a missing script is reported */
	CHECK(write_results(dir, 0) == 0);
	ret = ipcb_plot_run(dir, "/nonexistent/plots", err, sizeof(err));
	CHECKF(ret == -ENOENT && (strstr(err, "latency_size.gp") || strstr(err, "gnuplot not found")),
	       "%d %s", ret, err);
	ipcb_test_rmtree(dir);
	free(dir);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		plots_src = argv[1];
	else if (getenv("IPCBENCH_PLOTS_DIR"))
		plots_src = getenv("IPCBENCH_PLOTS_DIR");
	test_plot();
	test_kind_without_data();
	test_labels();
	test_no_gnuplot();
	test_bad_input();
	return TEST_END();
}
