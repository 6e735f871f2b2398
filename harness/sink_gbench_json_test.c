/* SPDX-License-Identifier: MIT */
/*
 * Google Benchmark JSON sink: rows in, benchmarks.json out, checked with jansson (names,
 * repetitions and medians, rates inverted into times with the rate kept as a counter,
 * counts and failed cases left out, names made unique by params only when needed); then
 * Google Benchmark's own tools/compare.py (Debian: libbenchmark-tools) reads a base and a
 * new file and must report the 10% slowdown we put in. That part is skipped, with a
 * message, when no python3 with scipy and numpy or no compare.py is found.
 *
 * compare.py is looked up in $IPCB_GBENCH_COMPARE, then with `dpkg -L libbenchmark-tools`,
 * then at /usr/share/benchmark/compare.py; python in $IPCB_PYTHON, then python3 on PATH,
 * then /usr/bin/python3. IPCB_KEEP=1 keeps the temporary directory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sink.h"
#include "testutil.h"

static const double jit[10] = { 1.000, 1.003, 0.997, 1.001, 0.999, 1.004, 0.996, 1.002,
				0.998, 1.0005 };

/* One run through the sink: pingpong pipe 64 (rtt_p50_ns, round_trips), stream pipe 64
 * with two batch values (msgs_per_s), a FAILED fifo case. slow scales times up and rates
 * down. */
static int write_run(const char *dir, const char *run_id, double slow)
{
	const struct ipcb_sink *s = &ipcb_sink_gbench_json;
	struct ipcb_sink_state *st;
	struct ipcb_run_meta meta = { .run_id = run_id, .version = "9.9", .git_commit = "abc",
				      .build_type = "Release", .start_unix_ns = 1700000000000000000 };
	struct ipcb_row r = {
		.bench = "pingpong", .mech = "pipe", .impl = "c", .mode = "process", .workers = 2,
		.cpus = "0;1", .cpus_seen = "0;1", .placement = "compact", .mem = "none",
		.size_bytes = 64, .params = "verify=sparse;pipe_sz=65536", .samples = 1000,
		.ops_per_sample = 1, .status = "ok", .ci_low = NAN, .ci_high = NAN,
	};
	char rep[16];
	int ret = s->open(&st, dir, run_id);

	if (ret < 0)
		return ret;
	for (int i = 0; i < 10; i++) {
		snprintf(rep, sizeof(rep), "%d", i + 1);
		r.rep = rep;
		r.metric = "rtt_p50_ns";
		r.unit = "ns";
		r.value = 4000 * slow * jit[i];
		ret |= s->row(st, &r);
		r.metric = "round_trips";
		r.unit = "count";
		r.value = 123456;
		ret |= s->row(st, &r);
	}
	r.rep = "median";
	r.metric = "rtt_p50_ns";
	r.unit = "ns";
	r.value = 4000 * slow;
	r.ci_low = 3990 * slow;
	r.ci_high = 4010 * slow;
	r.samples = 10;
	ret |= s->row(st, &r);
	/* two stream cases that differ only in a param */
	r.bench = "stream";
	for (int b = 0; b < 2; b++) {
		r.params = b ? "verify=sparse;batch=8" : "verify=sparse;batch=1";
		r.ci_low = r.ci_high = NAN;
		r.samples = 1000;
		for (int i = 0; i < 10; i++) {
			snprintf(rep, sizeof(rep), "%d", i + 1);
			r.rep = rep;
			r.metric = "msgs_per_s";
			r.unit = "msgs/s";
			r.value = 1e6 * (b + 1) / slow * jit[i];
			ret |= s->row(st, &r);
		}
		r.rep = "median";
		r.value = 1e6 * (b + 1) / slow;
		r.samples = 10;
		ret |= s->row(st, &r);
	}
	/* a failed case: no entry */
	r.bench = "pingpong";
	r.mech = "fifo";
	r.params = "verify=sparse";
	r.rep = "3";
	r.metric = "";
	r.unit = "";
	r.value = NAN;
	r.status = "FAILED";
	r.reason = "worker 1 died";
	ret |= s->row(st, &r);
	if (ret) {
		s->abort(st);
		return ret;
	}
	return s->close(st, &meta);
}

static json_t *entry(json_t *bm, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(bm, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "name")), name))
			return e;
	return NULL;
}

static int count_named(json_t *bm, const char *name)
{
	size_t i;
	json_t *e;
	int n = 0;

	json_array_foreach(bm, i, e)
		n += !strcmp(json_string_value(json_object_get(e, "name")), name);
	return n;
}

static void test_json(const char *dir)
{
	char path[700];
	json_error_t je;
	json_t *root, *bm, *e, *ctx;
	size_t i;

	snprintf(path, sizeof(path), "%s/benchmarks.json", dir);
	root = json_load_file(path, 0, &je);
	CHECKF(root != NULL, "%s: %s", path, je.text);
	if (!root)
		return;
	ctx = json_object_get(root, "context");
	CHECK(!strcmp(json_string_value(json_object_get(ctx, "executable")), "ipcbench"));
	CHECK(!strcmp(json_string_value(json_object_get(ctx, "library_build_type")), "release"));
	CHECK(!strcmp(json_string_value(json_object_get(ctx, "ipcbench_run_id")), "base"));
	CHECK(!strcmp(json_string_value(json_object_get(ctx, "date")), "2023-11-14T22:13:20+00:00"));
	bm = json_object_get(root, "benchmarks");
	CHECK(json_is_array(bm));
	/* 10 repetitions + 1 median, for 3 case x metric families */
	CHECKF(json_array_size(bm) == 33, "%zu entries", json_array_size(bm));
	CHECK(count_named(bm, "pingpong/pipe/size:64/workers:2/rtt_p50_ns") == 10);
	e = entry(bm, "pingpong/pipe/size:64/workers:2/rtt_p50_ns");
	CHECK(e && !strcmp(json_string_value(json_object_get(e, "run_type")), "iteration"));
	CHECK(e && json_integer_value(json_object_get(e, "repetitions")) == 10);
	CHECK(e && json_integer_value(json_object_get(e, "repetition_index")) == 0);
	CHECK(e && json_integer_value(json_object_get(e, "threads")) == 2);
	CHECK(e && json_real_value(json_object_get(e, "real_time")) == 4000);
	CHECK(e && json_real_value(json_object_get(e, "cpu_time")) == 4000);
	CHECK(e && !strcmp(json_string_value(json_object_get(e, "time_unit")), "ns"));
	e = entry(bm, "pingpong/pipe/size:64/workers:2/rtt_p50_ns_median");
	CHECK(e && !strcmp(json_string_value(json_object_get(e, "run_type")), "aggregate"));
	CHECK(e && !strcmp(json_string_value(json_object_get(e, "aggregate_name")), "median"));
	CHECK(e && !strcmp(json_string_value(json_object_get(e, "run_name")),
			   "pingpong/pipe/size:64/workers:2/rtt_p50_ns"));
	CHECK(e && json_real_value(json_object_get(e, "rtt_p50_ns_ci_low")) == 3990);
	/* the two stream cases differ in batch only: their names say it */
	e = entry(bm, "stream/pipe/size:64/workers:2/batch=8/msgs_per_s_median");
	CHECK(e != NULL);
	CHECK(e && fabs(json_real_value(json_object_get(e, "real_time")) - 500) < 1e-9);
	CHECK(e && json_real_value(json_object_get(e, "msgs_per_s")) == 2e6);
	CHECK(entry(bm, "stream/pipe/size:64/workers:2/batch=1/msgs_per_s") != NULL);
	/* no count, no failed case; repetitions before their median */
	json_array_foreach(bm, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		CHECKF(!strstr(n, "round_trips") && !strstr(n, "fifo"), "%s", n);
	}
	json_decref(root);
}

/* A python3 that can import what compare.py imports, into py. */
static int find_python(char *py, size_t len)
{
	const char *cands[] = { getenv("IPCB_PYTHON"), "python3", "/usr/bin/python3" };
	char cmd[600];

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (!cands[i] || !*cands[i])
			continue;
		snprintf(cmd, sizeof(cmd), "%s -c 'import scipy, numpy' >/dev/null 2>&1", cands[i]);
		if (system(cmd) == 0) {
			snprintf(py, len, "%s", cands[i]);
			return 0;
		}
	}
	return -1;
}

static int find_compare_py(char *out, size_t len)
{
	const char *env = getenv("IPCB_GBENCH_COMPARE");
	FILE *p;

	if (env && access(env, R_OK) == 0) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	p = popen("dpkg -L libbenchmark-tools 2>/dev/null | grep '/compare\\.py$'", "r");
	if (p) {
		char line[512] = "";

		if (fgets(line, sizeof(line), p)) {
			line[strcspn(line, "\n")] = '\0';
			if (access(line, R_OK) == 0)
				snprintf(out, len, "%s", line);
		}
		pclose(p);
		if (*out)
			return 0;
	}
	if (access("/usr/share/benchmark/compare.py", R_OK) == 0) {
		snprintf(out, len, "/usr/share/benchmark/compare.py");
		return 0;
	}
	return -1;
}

static void test_compare_py(const char *base, const char *new_)
{
	char py[256], tool[512] = "", cmd[2048], out[65536];
	size_t n = 0;
	FILE *p;
	int st;

	if (find_compare_py(tool, sizeof(tool)) < 0) {
		printf("SKIP compare.py: not found (apt-get install libbenchmark-tools, or set "
		       "IPCB_GBENCH_COMPARE)\n");
		return;
	}
	if (find_python(py, sizeof(py)) < 0) {
		printf("SKIP compare.py: no python3 with scipy and numpy (apt-get install "
		       "python3-scipy, or set IPCB_PYTHON)\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s %s --no-color benchmarks %s/benchmarks.json "
		 "%s/benchmarks.json 2>&1", py, tool, base, new_);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!p)
		return;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	CHECKF(st == 0, "%s exited %d:\n%s", cmd, st, out);
	/* 10% slower: +0.1000 on the time (and on the time per message of a rate 1/1.1 of
	 * the base's), nothing else changed */
	CHECKF(strstr(out, "pingpong/pipe/size:64/workers:2/rtt_p50_ns_median") != NULL, "%s", out);
	CHECKF(strstr(out, "stream/pipe/size:64/workers:2/batch=8/msgs_per_s_median") != NULL, "%s",
	       out);
	CHECKF(strstr(out, "+0.1000") != NULL && !strstr(out, "-0.0"), "%s", out);
	/* and its U test ran on the 10 repetitions */
	CHECKF(strstr(out, "rtt_p50_ns_pvalue") && strstr(out, "Repetitions: 10 vs 10"), "%s", out);
	printf("compare.py (%s, %s) read our output:\n%s", tool, py, out);
}

int main(void)
{
	char tmpl[] = "/tmp/ipcb_gbench_json_test.XXXXXX", base[600], new_[600];
	char *root = mkdtemp(tmpl);

	CHECK(root != NULL);
	if (!root)
		return TEST_END();
	snprintf(base, sizeof(base), "%s/base", root);
	snprintf(new_, sizeof(new_), "%s/new", root);
	CHECK(mkdir(base, 0755) == 0 && mkdir(new_, 0755) == 0);
	CHECK(write_run(base, "base", 1.0) == 0);
	CHECK(write_run(new_, "new", 1.1) == 0);
	test_json(base);
	test_compare_py(base, new_);
	ipcb_test_rmtree(root);
	return TEST_END();
}
