/* SPDX-License-Identifier: MIT */
/*
 * The figure kinds beyond size sweeps (plot_test.c has those): latency percentiles at one
 * size, the counter against workers with lost updates marked, pool speedup against
 * pool_size, spawn groups, Manager bars and the c2c heatmap -- the data files they get
 * (rows, order, NaN where a series lacks a case, which series lost updates) and, when
 * gnuplot is installed, non-trivial PNG and SVG images. Then the overlay of two runs: the
 * run's label starts every legend entry, and the heatmap is not overlaid.
 *
 * Scripts as in plot_test.c: argv[1], $IPCBENCH_PLOTS_DIR, or the source tree's plots/.
 * IPCB_KEEP=1 in the environment keeps the temporary directories.
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

#include "plot.h"
#include "testutil.h"

#ifndef IPCB_PLOTS_DIR
#define IPCB_PLOTS_DIR "plots"
#endif

static const char *plots_src = IPCB_PLOTS_DIR;
static int have_gnuplot = 1;

static const char header[] = IPCB_TEST_CSV_HEADER;

static void med(FILE *f, const char *bench, const char *mech, const char *mode, int workers,
		const char *cpus, unsigned size, const char *params, const char *metric,
		const char *unit, double v, const char *status)
{
	fprintf(f, "r,%s,%s,c,%s,%d,%s,%s,compact,none,%u,%s,median,%s,%s,%.17g,%.17g,%.17g,5,1,"
		"%s,\n", bench, mech, mode, workers, cpus, cpus, size, params, metric, unit, v,
		v * 0.98, v * 1.03, status);
}

static int write_run(const char *dir, double scale)
{
	static const char *const pct[] = { "p50", "p90", "p99", "p999", "max" };
	static const double pf[] = { 1, 1.3, 2.5, 6, 30 };
	char path[600], m[64], p[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/results.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(header, f);
	/* pingpong: pipe and shm-ring have every percentile at 64 and 4096; udp only at 4096,
	 * so 4096 has the most series and is the size shown */
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < 5; k++) {
			unsigned size = s ? 4096 : 64;

			snprintf(m, sizeof(m), "rtt_%s_ns", pct[k]);
			med(f, "pingpong", "pipe", "process", 2, "0;1", size, "", m, "ns",
			    4000 * pf[k] * scale, "ok");
			med(f, "pingpong", "shm-ring", "process", 2, "0;1", size, "", m, "ns",
			    400 * pf[k] * scale, k == 4 ? "NOISY" : "ok");
			if (s)
				med(f, "pingpong", "udp", "process", 2, "0;1", size, "", m, "ns",
				    9000 * pf[k] * scale, "ok");
		}
	/* counter: none races from 2 workers on */
	for (int w = 1; w <= 4; w *= 2) {
		const char *st = w > 1 ? "RACE" : "ok";

		med(f, "counter", "none", "process", w, "0", 0, "", "updates_per_s", "updates/s",
		    5e8 * w / scale, st);
		med(f, "counter", "none", "process", w, "0", 0, "", "ns_per_update", "ns",
		    2 * scale / w, st);
		med(f, "counter", "none", "process", w, "0", 0, "", "lost_updates", "count",
		    (w - 1) * 1000.0, st);
		med(f, "counter", "atomic-add", "process", w, "0", 0, "", "updates_per_s",
		    "updates/s", 1e8 / scale, "ok");
		med(f, "counter", "atomic-add", "process", w, "0", 0, "", "ns_per_update", "ns",
		    10 * scale, "ok");
		med(f, "counter", "atomic-add", "process", w, "0", 0, "", "lost_updates", "count", 0,
		    "ok");
	}
	/* pool: x is params pool_size, the series is the rest of params */
	for (int ps = 1; ps <= 4; ps *= 2)
		for (int a = 0; a < 2; a++) {
			snprintf(p, sizeof(p), "api=%s;chunk=1;pool_size=%d", a ? "map" : "apply_async",
				 ps);
			med(f, "pool", "", "process", ps + 1, "0", 0, p, "tasks_per_s", "ops/s",
			    1000.0 * ps * (a ? 0.9 : 1) / scale, "ok");
			med(f, "pool", "", "process", ps + 1, "0", 0, p, "speedup", "x",
			    ps * (a ? 0.9 : 1.0), "ok");
		}
	/* spawn: vfork only in process mode */
	for (int t = 0; t < 2; t++) {
		static const char *const kinds[] = { "fork", "vfork", "posix-spawn" };

		for (int k = 0; k < 3; k++) {
			if (t && k == 1)
				continue;
			snprintf(p, sizeof(p), "kind=%s;parent_mem_bytes=%d;huge=none%s", kinds[k],
				 k == 2 ? 1 << 30 : 0, k == 2 ? ";program=/bin/true" : "");
			med(f, "spawn", "", t ? "thread" : "process", 1, "0", 0, p, "spawn_p50_ns",
			    "ns", 50000.0 * (k + 1) * scale, "ok");
			med(f, "spawn", "", t ? "thread" : "process", 1, "0", 0, p, "spawn_p99_ns",
			    "ns", 90000.0 * (k + 1) * scale, "ok");
		}
	}
	/* manager */
	med(f, "manager", "proxy", "process", 2, "0;1", 8, "", "op_p50_ns", "ns", 30000 * scale,
	    "ok");
	med(f, "manager", "shm-value", "process", 2, "0;1", 8, "", "op_p50_ns", "ns", 40 * scale,
	    "ok");
	/* c2c: CPUs 0, 2, 5 (not contiguous); one pair given as cpus only */
	med(f, "c2c", "", "process", 2, "0;2", 0, "cpu_a=0;cpu_b=2;relation=l3", "rtt_p50_ns", "ns",
	    90, "ok");
	med(f, "c2c", "", "process", 2, "0;5", 0, "cpu_a=0;cpu_b=5;relation=package",
	    "rtt_p50_ns", "ns", 250, "ok");
	med(f, "c2c", "", "process", 2, "2;5", 0, "relation=package", "rtt_p50_ns", "ns", 260,
	    "ok");
	if (fclose(f))
		return -1;
	snprintf(path, sizeof(path), "%s/metadata.json", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"run_id\": \"r\", \"machine\": {\"cpu_model\": \"Test CPU\", \"hostname\": "
		"\"h\", \"pus\": 6}}\n");
	return fclose(f);
}

static char *read_file(const char *dir, const char *name)
{
	char path[700], *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
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

static long fsize(const char *dir, const char *name)
{
	char path[700];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* The image of a figure exists in both formats and is not trivially small. */
static void check_images(const char *dir, const char *base)
{
	char name[200];

	if (!have_gnuplot)
		return;
	snprintf(name, sizeof(name), "%s.png", base);
	CHECKF(fsize(dir, name) > 5000, "%s/%s: %ld bytes", dir, name, fsize(dir, name));
	snprintf(name, sizeof(name), "%s.svg", base);
	CHECKF(fsize(dir, name) > 5000, "%s/%s: %ld bytes", dir, name, fsize(dir, name));
}

static void test_one_run(void)
{
	char tmpl[] = "/tmp/ipcb_plot_kinds.XXXXXX", *dir = mkdtemp(tmpl), plots[600], err[1024];
	char *s;
	int ret;

	CHECK(dir != NULL);
	if (!dir)
		return;
	CHECK(write_run(dir, 1) == 0);
	ret = ipcb_plot_run(dir, plots_src, err, sizeof(err));
	if (ret == -ENOENT && strstr(err, "gnuplot not found")) {
		printf("SKIP images: %s\n", err);
		have_gnuplot = 0;
	} else {
		/* latency_size, latency_pct, counter, pool, spawn, manager, c2c */
		CHECKF(ret == 7, "ret %d: %s", ret, err);
	}
	snprintf(plots, sizeof(plots), "%s/plots", dir);

	/* percentiles at 4096 (three series there), sorted pipe, shm-ring, udp */
	s = read_file(plots, "pingpong-latency_pct-3.dat");
	CHECKF(s && strstr(s, "series: udp") && strstr(s, "\n2\t9000\t") &&
	       strstr(s, "\n10000\t270000\t"), "%s", s ? s : "(none)");
	free(s);
	CHECK(fsize(plots, "pingpong-latency_pct-4.dat") < 0);
	check_images(plots, "pingpong-latency_pct");

	/* counter: one file per primitive, x = workers, lost updates marked for none only */
	s = read_file(plots, "counter-counter_workers-2.dat");
	CHECKF(s && strstr(s, "series: none") && strstr(s, "\n4\t2000000000\t") &&
	       strstr(s, "\t3000\t2940\t3090\n"), "%s", s ? s : "(none)");
	free(s);
	check_images(plots, "counter-counter_workers");

	/* pool: x is pool_size, series per api, workers (pool_size + 1) not a series */
	s = read_file(plots, "pool-pool_speedup-2.dat");
	CHECKF(s && strstr(s, "series: pool api=map") && strstr(s, "# pool_size\tspeedup") &&
	       strstr(s, "\n4\t3.6\t3.528\t3.708\t3600\t"), "%s", s ? s : "(none)");
	free(s);
	CHECK(fsize(plots, "pool-pool_speedup-3.dat") < 0);
	check_images(plots, "pool-pool_speedup");

	/* spawn: the same three cases in both series, NaN where thread mode has no vfork */
	s = read_file(plots, "spawn-spawn_bars-2.dat");
	CHECKF(s && strstr(s, "series: spawn thread") && strstr(s, "\nfork\t50000\t") &&
	       strstr(s, "\nvfork\tNaN\tNaN\tNaN\tNaN") && strstr(s, "\nposix-spawn_1GiB\t150000"),
	       "%s", s ? s : "(none)");
	free(s);
	check_images(plots, "spawn-spawn_bars");

	s = read_file(plots, "manager-manager_bars.dat");
	CHECKF(s && strstr(s, "\nproxy 8 B\t30000\t") && strstr(s, "\nshm-value 8 B\t40\t"), "%s",
	       s ? s : "(none)");
	free(s);
	check_images(plots, "manager-manager_bars");

	/* c2c: pairs in cpu_a < cpu_b order, CPUs from cpus when params lack them */
	s = read_file(plots, "c2c-c2c_heatmap.dat");
	CHECKF(s && strstr(s, "\n0\t2\t90\t88.2\t92.7\tl3\n") &&
	       strstr(s, "\n0\t5\t250\t245\t257.5\tpackage\n") && strstr(s, "\n2\t5\t260\t"),
	       "%s", s ? s : "(none)");
	free(s);
	check_images(plots, "c2c-c2c_heatmap");
	check_images(plots, "pingpong-latency_size");
	CHECK(fsize(plots, "pingpong-throughput_size.png") < 0);   /* no rows: no figure */
	ipcb_test_rmtree(dir);
}

static void test_overlay(void)
{
	char tmpl[] = "/tmp/ipcb_plot_overlay.XXXXXX", *root = mkdtemp(tmpl);
	char a[600], b[600], out[600], err[1024];
	const char *dirs[2] = { a, b }, *labels[2] = { "A h1", "B h2" };
	char *s;
	int ret;

	CHECK(root != NULL);
	if (!root)
		return;
	snprintf(a, sizeof(a), "%s/a", root);
	snprintf(b, sizeof(b), "%s/b", root);
	snprintf(out, sizeof(out), "%s/cmp/report-plots", root);
	CHECK(mkdir(a, 0755) == 0 && mkdir(b, 0755) == 0);
	CHECK(write_run(a, 1) == 0 && write_run(b, 1.5) == 0);
	ret = ipcb_plot_overlay(dirs, labels, 2, out, plots_src, err, sizeof(err));
	if (have_gnuplot)
		CHECKF(ret == 6, "ret %d: %s", ret, err);      /* every kind but the heatmap */
	else
		CHECK(ret == -ENOENT);
	CHECK(fsize(out, "c2c-c2c_heatmap.dat") < 0);
	s = read_file(out, "pingpong-latency_size-4.dat");
	CHECKF(s && strstr(s, "series: B h2: pipe"), "%s", s ? s : "(none)");
	free(s);
	s = read_file(out, "spawn-spawn_bars-4.dat");
	CHECKF(s && strstr(s, "series: B h2: spawn thread") && strstr(s, "\nfork\t75000\t"), "%s",
	       s ? s : "(none)");
	free(s);
	check_images(out, "pingpong-latency_size");
	check_images(out, "spawn-spawn_bars");
	CHECK(ipcb_plot_overlay(dirs, labels, 0, out, plots_src, err, sizeof(err)) == -EINVAL);
	ipcb_test_rmtree(root);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		plots_src = argv[1];
	else if (getenv("IPCBENCH_PLOTS_DIR"))
		plots_src = getenv("IPCBENCH_PLOTS_DIR");
	test_one_run();
	test_overlay();
	return TEST_END();
}
