/* SPDX-License-Identifier: MIT */
/*
 * Sink tests: rows with awkward strings and extreme numbers go through the CSV sink and come
 * back, field by field, through the strict reader; no temporary file survives close, and
 * abort leaves nothing at all; the JSON sink writes metadata.json that jansson loads, with
 * the keys and values results/README.md promises.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "csv.h"
#include "sink.h"
#include "testutil.h"
#include "topo.h"

/*
 * topo.c may not be linked into this test. A weak ipcb_topo_info stands in for it with
 * known values; when the real module is linked, its definition wins, ipcb_topo_load is
 * non-NULL, and the test uses a synthetic topology instead of the fake pointer.
 */
__attribute__((weak)) int ipcb_topo_load(struct ipcb_topo **out, const char *synthetic);
__attribute__((weak)) void ipcb_topo_free(struct ipcb_topo *t);

__attribute__((weak)) void ipcb_topo_info(const struct ipcb_topo *t, struct ipcb_topo_info *out)
{
	(void)t;
	memset(out, 0, sizeof(*out));
	out->packages = 2;
	out->cores = 8;
	out->pus = 16;
	out->numa_nodes = 2;
	out->l1d_kib = 48;
	out->l2_kib = 1280;
	out->l3_kib = 30720;
	out->l3_count = 2;
	snprintf(out->cpu_model, sizeof(out->cpu_model), "Test CPU \"model\" @ 1.0GHz");
	out->synthetic = 1;
}

static char *make_dir(void)
{
	char tmpl[] = "/tmp/ipcb_sink_test.XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

/* Number of entries in dir (besides . and ..); names ending in ".tmp" counted in *tmps. */
static int count_entries(const char *dir, int *tmps)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	*tmps = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (len >= 4 && !strcmp(e->d_name + len - 4, ".tmp"))
			(*tmps)++;
	}
	closedir(d);
	return n;
}

static void remove_dir(const char *dir)
{
	static const char *const names[] = {
		"results.csv", "results.csv.tmp", "metadata.json", "metadata.json.tmp",
	};
	char path[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* Same double, bit for bit (so -0.0 and 0.0 differ), or both NaN. */
static int same_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static const struct ipcb_row rows[] = {
	{
		.bench = "pingpong", .mech = "pipe", .impl = "c", .mode = "process",
		.workers = 2, .cpus = "0;1", .cpus_seen = "0;1", .placement = "compact",
		.mem = "none(single node)", .size_bytes = 64, .params = "depth=8;batch=1",
		.rep = "1", .metric = "rtt_p50_ns", .unit = "ns", .value = 0.1,
		.ci_low = NAN, .ci_high = NAN, .samples = 100000, .ops_per_sample = 1,
		.status = "ok", .reason = NULL,
	},
	{
		.bench = "comma,bench", .mech = "say \"hi\"", .impl = "\"", .mode = ",",
		.workers = INT_MAX, .cpus = "", .cpus_seen = NULL, .placement = "  spaced  ",
		.mem = "line1\nline2", .size_bytes = UINT64_MAX, .params = "a=\"1,2\"\r\nb=3",
		.rep = "median", .metric = "msgs_per_s", .unit = "msgs/s",
		.value = 123456789.12345679, .ci_low = 1e-300, .ci_high = DBL_MAX,
		.samples = UINT64_MAX, .ops_per_sample = 0, .status = "NOISY",
		.reason = "spread 12% > 10%, \"noisy\"\nsecond line",
	},
	{
		.bench = "stream", .mech = "shm-ring", .impl = "python", .mode = "thread",
		.workers = 0, .cpus = "3", .cpus_seen = "3;\xc2\xb5", .placement = "list",
		.mem = "\"\"", .size_bytes = 0, .params = "\r", .rep = NULL, .metric = "",
		.unit = "", .value = NAN, .ci_low = -0.0, .ci_high = 4.9406564584124654e-324,
		.samples = 0, .ops_per_sample = 1, .status = "FAILED",
		.reason = "worker 1 killed by signal 9,\n\"SIGKILL\"",
	},
	{
		.bench = "", .mech = "", .impl = "", .mode = "", .workers = 1, .cpus = ",,,",
		.cpus_seen = "\"", .placement = "\n", .mem = "", .size_bytes = 1,
		.params = "x", .rep = "30", .metric = "bytes_per_s", .unit = "B/s",
		.value = -1.5e308, .ci_low = INFINITY, .ci_high = -INFINITY, .samples = 7,
		.ops_per_sample = 16, .status = "RACE", .reason = "lost 3 updates",
	},
};
#define NROWS ((int)(sizeof(rows) / sizeof(rows[0])))

static void test_registry(void)
{
	int n = 0;

	for (const struct ipcb_sink *const *s = ipcb_sinks; *s; s++, n++) {
		CHECK((*s)->name && (*s)->summary);
		CHECK((*s)->open && (*s)->row && (*s)->close && (*s)->abort);
		CHECK(ipcb_sink_find((*s)->name) == *s);
	}
	CHECK(n == 3);
	CHECK(ipcb_sink_find("csv") == &ipcb_sink_csv);
	CHECK(ipcb_sink_find("json") == &ipcb_sink_json);
	CHECK(ipcb_sink_find("gbench_json") == &ipcb_sink_gbench_json);
	CHECK(ipcb_sink_find("nope") == NULL);
}

static void check_rec(const struct ipcb_csv_rec *rec, const struct ipcb_row *w, const char *run_id)
{
	const char *want[IPCB_CSV_NCOLS] = {
		[IPCB_COL_RUN_ID] = run_id, [IPCB_COL_BENCH] = w->bench, [IPCB_COL_MECH] = w->mech,
		[IPCB_COL_IMPL] = w->impl, [IPCB_COL_MODE] = w->mode, [IPCB_COL_CPUS] = w->cpus,
		[IPCB_COL_CPUS_SEEN] = w->cpus_seen, [IPCB_COL_PLACEMENT] = w->placement,
		[IPCB_COL_MEM] = w->mem, [IPCB_COL_PARAMS] = w->params, [IPCB_COL_REP] = w->rep,
		[IPCB_COL_METRIC] = w->metric, [IPCB_COL_UNIT] = w->unit,
		[IPCB_COL_STATUS] = w->status, [IPCB_COL_REASON] = w->reason,
	};
	static const int numeric[] = {
		IPCB_COL_WORKERS, IPCB_COL_SIZE_BYTES, IPCB_COL_VALUE, IPCB_COL_CI_LOW,
		IPCB_COL_CI_HIGH, IPCB_COL_SAMPLES, IPCB_COL_OPS_PER_SAMPLE,
	};

	for (int c = 0; c < IPCB_CSV_NCOLS; c++) {
		int is_num = 0;

		for (size_t k = 0; k < sizeof(numeric) / sizeof(numeric[0]); k++)
			is_num |= numeric[k] == c;
		if (is_num)
			continue;
		CHECKF(strcmp(rec->col[c], str_or_empty(want[c])) == 0,
		       "line %ld column %d: got [%s] want [%s]", rec->line, c, rec->col[c],
		       str_or_empty(want[c]));
	}
	CHECK(rec->workers == w->workers);
	CHECK(rec->size_bytes == w->size_bytes);
	CHECK(rec->samples == w->samples);
	CHECK(rec->ops_per_sample == w->ops_per_sample);
	CHECKF(same_double(rec->value, w->value), "value %.17g vs %.17g", rec->value, w->value);
	CHECKF(same_double(rec->ci_low, w->ci_low), "ci_low %.17g vs %.17g", rec->ci_low, w->ci_low);
	CHECKF(same_double(rec->ci_high, w->ci_high), "ci_high %.17g vs %.17g", rec->ci_high,
	       w->ci_high);
	if (!w->rep || !*w->rep)
		CHECK(rec->rep == IPCB_CSV_REP_NONE);
	else if (!strcmp(w->rep, "median"))
		CHECK(rec->rep == IPCB_CSV_REP_MEDIAN);
	else
		CHECK(rec->rep == atoi(w->rep));
}

static void test_csv_roundtrip(void)
{
	const char *run_id = "2024-05-01T12-00-00,\"odd\" id";
	struct ipcb_sink_state *st = NULL;
	struct ipcb_csv_reader *rd = NULL;
	struct ipcb_csv_rec rec;
	char path[512], err[512];
	char *dir = make_dir();
	int ret, tmps, n;

	CHECK(dir != NULL);
	if (!dir)
		return;
	ret = ipcb_sink_csv.open(&st, dir, run_id);
	CHECK(ret == 0);
	if (ret)
		goto out;
	/* while open, only the temporary file exists */
	CHECK(count_entries(dir, &tmps) == 1 && tmps == 1);
	for (int i = 0; i < NROWS; i++)
		CHECK(ipcb_sink_csv.row(st, &rows[i]) == 0);
	CHECK(ipcb_sink_csv.close(st, NULL) == 0);
	CHECK(count_entries(dir, &tmps) == 1 && tmps == 0);

	snprintf(path, sizeof(path), "%s/results.csv", dir);
	ret = ipcb_csv_open(&rd, path, err, sizeof(err));
	CHECKF(ret == 0, "%s", err);
	if (ret)
		goto out;
	n = 0;
	while ((ret = ipcb_csv_next(rd, &rec)) == 1) {
		CHECK(n < NROWS);
		if (n < NROWS)
			check_rec(&rec, &rows[n], run_id);
		n++;
	}
	CHECKF(ret == 0, "%s", ipcb_csv_error(rd));
	CHECK(n == NROWS);
	ipcb_csv_close(rd);
out:
	remove_dir(dir);
	free(dir);
}

static void test_csv_abort(void)
{
	struct ipcb_sink_state *st = NULL;
	char *dir = make_dir();
	int tmps;

	CHECK(dir != NULL);
	if (!dir)
		return;
	CHECK(ipcb_sink_csv.open(&st, dir, "r") == 0);
	if (st) {
		CHECK(ipcb_sink_csv.row(st, &rows[0]) == 0);
		ipcb_sink_csv.abort(st);
	}
	CHECK(count_entries(dir, &tmps) == 0);

	/* the JSON sink writes nothing before close, so abort leaves nothing either */
	st = NULL;
	CHECK(ipcb_sink_json.open(&st, dir, "r") == 0);
	if (st) {
		CHECK(ipcb_sink_json.row(st, &rows[0]) == 0);
		ipcb_sink_json.abort(st);
	}
	CHECK(count_entries(dir, &tmps) == 0);
	remove_dir(dir);
	free(dir);
}

/* Random bit patterns (every exponent, subnormals, infinities) come back bit for bit. */
static void test_csv_doubles(void)
{
	enum { N = 5000 };
	struct ipcb_sink_state *st = NULL;
	struct ipcb_csv_reader *rd = NULL;
	struct ipcb_csv_rec rec;
	struct ipcb_row r = rows[0];
	static double vals[N];
	char path[512], err[512];
	char *dir = make_dir();
	uint64_t x = 0x9e3779b97f4a7c15u;
	int n = 0, bad = 0, ret;

	CHECK(dir != NULL);
	if (!dir)
		return;
	for (int i = 0; i < N; i++) {
		do {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(&vals[i], &x, sizeof(double));
		} while (isnan(vals[i]));
	}
	CHECK(ipcb_sink_csv.open(&st, dir, "d") == 0);
	if (!st)
		goto out;
	for (int i = 0; i < N; i++) {
		r.value = vals[i];
		r.ci_low = i ? vals[i - 1] : 0.1;
		r.ci_high = (double)i / 7;
		ret = ipcb_sink_csv.row(st, &r);
		if (ret)
			break;
	}
	CHECK(ipcb_sink_csv.close(st, NULL) == 0);
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	CHECK(ipcb_csv_open(&rd, path, err, sizeof(err)) == 0);
	if (!rd)
		goto out;
	while (ipcb_csv_next(rd, &rec) == 1 && n < N) {
		bad += !same_double(rec.value, vals[n]);
		bad += !same_double(rec.ci_low, n ? vals[n - 1] : 0.1);
		bad += !same_double(rec.ci_high, (double)n / 7);
		n++;
	}
	CHECKF(bad == 0, "%d doubles changed", bad);
	CHECK(n == N);
	ipcb_csv_close(rd);
out:
	remove_dir(dir);
	free(dir);
}

static void test_open_errors(void)
{
	struct ipcb_sink_state *st = NULL;

	CHECK(ipcb_sink_csv.open(&st, "/nonexistent/ipcb/dir", "r") == -ENOENT);
	CHECK(st == NULL);
}

static const char *jstr(json_t *root, const char *a, const char *b)
{
	json_t *o = json_object_get(root, a);

	if (b)
		o = json_object_get(o, b);
	return json_string_value(o);
}

static json_int_t jint(json_t *root, const char *a, const char *b)
{
	json_t *o = json_object_get(root, a);

	if (b)
		o = json_object_get(o, b);
	return json_is_integer(o) ? json_integer_value(o) : -12345;
}

static void test_json(int with_topo)
{
	struct ipcb_topo *real = NULL;
	struct ipcb_topo_info ti;
	struct ipcb_sink_state *st = NULL;
	struct ipcb_run_meta meta = {
		.run_id = "run-42", .out_dir = NULL,
		.argv_joined = "ipcbench run pingpong --mech 'a b' \xff\xfe",
		.version = "0.1.0", .git_commit = "abc123", .build_type = "RelWithDebInfo",
		.compiler = "gcc 12.2.0", .cflags = "-O2 -g", .sanitizer = 1,
		.clock = "CLOCK_MONOTONIC", .clock_cost_ns = 19.5, .clock_resolution_ns = NAN,
		.cores_note = "clamped 8 -> 2",
		.start_unix_ns = INT64_C(1700000000123456789),
		.end_unix_ns = INT64_C(1700000061999000000),
		.partial = 1, .cases_ok = 10, .cases_failed = 1, .cases_skipped = 2,
		.cases_noisy = 3,
	};
	char *dir = make_dir();
	char path[512];
	json_error_t jerr;
	json_t *root, *m;
	int tmps;

	CHECK(dir != NULL);
	if (!dir)
		return;
	if (with_topo) {
		if (ipcb_topo_load) {
			CHECK(ipcb_topo_load(&real, "pack:2 core:2 pu:2") == 0);
			meta.topo = real;
		} else {
			meta.topo = (const struct ipcb_topo *)&meta;  /* the stub never reads it */
		}
		ipcb_topo_info(meta.topo, &ti);
	}
	CHECK(ipcb_sink_json.open(&st, dir, "ignored-id") == 0);
	if (!st)
		goto out;
	CHECK(ipcb_sink_json.close(st, &meta) == 0);
	CHECK(count_entries(dir, &tmps) == 1 && tmps == 0);

	snprintf(path, sizeof(path), "%s/metadata.json", dir);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	CHECKF(root != NULL, "%s:%d: %s", path, jerr.line, jerr.text);
	if (!root)
		goto out;
	CHECK(json_is_object(root));
	CHECK(jint(root, "csv_schema", NULL) == IPCB_CSV_SCHEMA);
	CHECK(jint(root, "metadata_schema", NULL) == 1);
	CHECK(!strcmp(str_or_empty(jstr(root, "run_id", NULL)), "run-42"));
	CHECK(!strcmp(str_or_empty(jstr(root, "command_line", NULL)),
		      "ipcbench run pingpong --mech 'a b' ??"));
	CHECK(!strcmp(str_or_empty(jstr(root, "build", "version")), "0.1.0"));
	CHECK(!strcmp(str_or_empty(jstr(root, "build", "git_commit")), "abc123"));
	CHECK(!strcmp(str_or_empty(jstr(root, "build", "build_type")), "RelWithDebInfo"));
	CHECK(!strcmp(str_or_empty(jstr(root, "build", "compiler")), "gcc 12.2.0"));
	CHECK(!strcmp(str_or_empty(jstr(root, "build", "cflags")), "-O2 -g"));
	CHECK(json_is_true(json_object_get(json_object_get(root, "build"), "sanitizer")));
	CHECK(!strcmp(str_or_empty(jstr(root, "clock", "name")), "CLOCK_MONOTONIC"));
	CHECK(json_real_value(json_object_get(json_object_get(root, "clock"), "cost_ns")) == 19.5);
	CHECK(json_is_null(json_object_get(json_object_get(root, "clock"), "resolution_ns")));
	CHECK(!strcmp(str_or_empty(jstr(root, "cores_note", NULL)), "clamped 8 -> 2"));
	CHECK(!strcmp(str_or_empty(jstr(root, "start_time", NULL)), "2023-11-14T22:13:20.123Z"));
	CHECK(!strcmp(str_or_empty(jstr(root, "end_time", NULL)), "2023-11-14T22:14:21.999Z"));
	CHECK(jint(root, "start_unix_ns", NULL) == INT64_C(1700000000123456789));
	CHECK(json_is_true(json_object_get(root, "partial")));
	CHECK(jint(root, "cases", "ok") == 10);
	CHECK(jint(root, "cases", "failed") == 1);
	CHECK(jint(root, "cases", "skipped") == 2);
	CHECK(jint(root, "cases", "noisy") == 3);

	m = json_object_get(root, "machine");
	CHECK(json_is_object(m));
	CHECK(jstr(m, "kernel", NULL) && strlen(jstr(m, "kernel", NULL)) > 0);
	CHECK(jstr(m, "hostname", NULL) != NULL);
	if (with_topo) {
		CHECK(!strcmp(str_or_empty(jstr(m, "cpu_model", NULL)), ti.cpu_model));
		CHECK(jint(m, "packages", NULL) == ti.packages);
		CHECK(jint(m, "cores", NULL) == ti.cores);
		CHECK(jint(m, "pus", NULL) == ti.pus);
		CHECK(jint(m, "numa_nodes", NULL) == ti.numa_nodes);
		CHECK(jint(m, "caches", "l1d_kib") == ti.l1d_kib);
		CHECK(jint(m, "caches", "l2_kib") == ti.l2_kib);
		CHECK(jint(m, "caches", "l3_kib") == ti.l3_kib);
		CHECK(jint(m, "caches", "l3_count") == ti.l3_count);
	} else {
		CHECK(json_is_null(json_object_get(m, "cpu_model")));
		CHECK(json_is_null(json_object_get(m, "caches")));
	}
	json_decref(root);

	/* close without metadata is refused, and still frees the state */
	st = NULL;
	CHECK(ipcb_sink_json.open(&st, dir, NULL) == 0);
	if (st)
		CHECK(ipcb_sink_json.close(st, NULL) == -EINVAL);
out:
	if (real && ipcb_topo_free)
		ipcb_topo_free(real);
	remove_dir(dir);
	free(dir);
}

int main(void)
{
	test_registry();
	test_csv_roundtrip();
	test_csv_doubles();
	test_csv_abort();
	test_open_errors();
	test_json(0);
	test_json(1);
	return TEST_END();
}
