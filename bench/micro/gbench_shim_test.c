// SPDX-License-Identifier: MIT
/*
 * The Google Benchmark shim, end to end from C: benchmarks registered through gbench.h run
 * under ipcb_gbench_main() with Google Benchmark's own flags, and the JSON it writes has
 * the names (arguments, manual time), iteration counts, counters, label, repetitions and
 * skip/fail outcomes the definitions asked for. Then ipcb_micro_import() turns that JSON,
 * and a canned one with every case the importer handles, into CSV rows.
 * In the nop build: main runs every benchmark a few iterations, writes nothing and
 * returns IPCB_GBENCH_UNAVAILABLE; the canned-JSON part runs the same.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../harness/gbench.h"
#include "../../harness/testutil.h"
#include "micro_run.h"

static int calls_fixed, calls_args, calls_manual, calls_skip, calls_pause, calls_reps;

/* 1000 iterations, counters of every kind, a label. */
static void bm_fixed(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	uint64_t sum = 0;

	calls_fixed++;
	while (ipcb_gbench_keep_running(st)) {
		sum += 3;
		IPCB_GBENCH_DO_NOT_OPTIMIZE(sum);
	}
	ipcb_gbench_set_items_processed(st, (int64_t)ipcb_gbench_iterations(st));
	ipcb_gbench_set_bytes_processed(st, (int64_t)ipcb_gbench_iterations(st) * 64);
	ipcb_gbench_set_counter(st, "widgets", 42, 0);
	ipcb_gbench_set_counter(st, "sum_per_op", (double)sum,
				IPCB_GBENCH_COUNTER_AVG_ITERATIONS);
	ipcb_gbench_set_counter(st, "user_is_set", def->user != NULL, 0);
	ipcb_gbench_set_label(st, "hello");
}

/* Two dimensions: a named range and explicit bare values; the counters echo range(). */
static void bm_args(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	(void)def;
	calls_args++;
	while (ipcb_gbench_keep_running_batch(st, 8))
		ipcb_gbench_clobber_memory();
	ipcb_gbench_set_counter(st, "a0", (double)ipcb_gbench_range(st, 0), 0);
	ipcb_gbench_set_counter(st, "a1", (double)ipcb_gbench_range(st, 1), 0);
	ipcb_gbench_set_counter(st, "a2", (double)ipcb_gbench_range(st, 2), 0);
}

/* Manual time: every iteration "took" exactly 2 ms. */
static void bm_manual(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	(void)def;
	calls_manual++;
	while (ipcb_gbench_keep_running(st))
		ipcb_gbench_set_iteration_time(st, 0.002);
}

static void bm_skip(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	(void)def;
	calls_skip++;
	ipcb_gbench_skip(st, "not on this machine");
}

/* 20 ms of sleep per iteration, all of it with the timer paused. */
static void bm_pause(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	(void)def;
	calls_pause++;
	while (ipcb_gbench_keep_running(st)) {
		ipcb_gbench_pause_timing(st);
		nanosleep(&ts, NULL);
		ipcb_gbench_resume_timing(st);
	}
}

static void bm_reps(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	uint64_t x = 1;

	(void)def;
	calls_reps++;
	while (ipcb_gbench_keep_running(st))
		ipcb_gbench_use_u64(x *= 3);
}

static const struct ipcb_gbench_def defs[] = {
	{ .name = "shim.fixed", .run = bm_fixed, .iterations = 1000, .user = "x" },
	{ .name = "shim.args",
	  .run = bm_args,
	  .args = { { .name = "bytes", .lo = 64, .hi = 4096 },
		    { .values = { 1, 3 }, .nvalues = 2 } },
	  .nargs = 2,
	  .range_multiplier = 4,
	  .iterations = 16 },
	{ .name = "shim.manual", .run = bm_manual, .flags = IPCB_GBENCH_MANUAL_TIME,
	  .iterations = 10, .unit = IPCB_GBENCH_US },
	{ .name = "shim.skip", .run = bm_skip },
	{ .name = "shim.pause", .run = bm_pause, .iterations = 3 },
	{ .name = "shim.reps", .run = bm_reps, .iterations = 100, .repetitions = 3 },
};

/* ---- the JSON Google Benchmark wrote ---- */

static json_t *find_run(json_t *runs, const char *name, int rep)
{
	size_t i;
	json_t *r;

	json_array_foreach(runs, i, r) {
		const char *n = json_string_value(json_object_get(r, "name"));
		const char *t = json_string_value(json_object_get(r, "run_type"));
		json_t *ri = json_object_get(r, "repetition_index");
		if (n && !strcmp(n, name) && t && !strcmp(t, "iteration") &&
		    (!ri || json_integer_value(ri) == rep))
			return r;
	}
	return NULL;
}

static double num(json_t *r, const char *key)
{
	json_t *v = json_object_get(r, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void check_json(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *runs, *r;

	CHECKF(doc != NULL, "JSON output %s: %s", path, doc ? "" : jerr.text);
	if (!doc)
		return;
	runs = json_object_get(doc, "benchmarks");
	CHECKF(json_is_array(runs), "a benchmarks array");
	CHECKF(json_is_object(json_object_get(doc, "context")), "a context object");

	r = find_run(runs, "shim.fixed/iterations:1000", 0);
	CHECKF(r != NULL, "shim.fixed/iterations:1000 is in the JSON");
	if (r) {
		CHECKF(num(r, "iterations") == 1000, "fixed: 1000 iterations, got %g",
		      num(r, "iterations"));
		CHECKF(num(r, "widgets") == 42, "fixed: counter widgets 42, got %g",
		      num(r, "widgets"));
		CHECKF(num(r, "sum_per_op") == 3, "fixed: per-iteration counter 3, got %g",
		      num(r, "sum_per_op"));
		CHECKF(num(r, "user_is_set") == 1, "fixed: def->user reached run()");
		CHECKF(num(r, "items_per_second") > 0, "fixed: items_per_second");
		CHECKF(num(r, "bytes_per_second") > 0, "fixed: bytes_per_second");
		CHECKF(fabs(num(r, "bytes_per_second") / num(r, "items_per_second") - 64) < 1e-6,
		      "fixed: 64 bytes per item");
		CHECKF(!strcmp(json_string_value(json_object_get(r, "label")) ?: "", "hello"),
		      "fixed: label");
		CHECKF(!strcmp(json_string_value(json_object_get(r, "time_unit")) ?: "", "ns"),
		      "fixed: ns by default");
	}

	/* 64..4096 in powers of 4: 64 256 1024 4096; times {1, 3}. */
	static const int sizes[] = { 64, 256, 1024, 4096 };
	for (int i = 0; i < 4; i++)
		for (int j = 1; j <= 3; j += 2) {
			char name[96];
			snprintf(name, sizeof(name), "shim.args/bytes:%d/%d/iterations:16", sizes[i],
				 j);
			r = find_run(runs, name, 0);
			CHECKF(r != NULL, "%s is in the JSON", name);
			if (!r)
				continue;
			CHECKF(num(r, "a0") == sizes[i] && num(r, "a1") == j && num(r, "a2") == 0,
			      "%s: range() gave %g %g %g", name, num(r, "a0"), num(r, "a1"),
			      num(r, "a2"));
			CHECKF(num(r, "iterations") == 16, "%s: 16 iterations (batches of 8)", name);
		}

	r = find_run(runs, "shim.manual/iterations:10/manual_time", 0);
	CHECKF(r != NULL, "shim.manual/iterations:10/manual_time is in the JSON");
	if (r) {
		CHECKF(fabs(num(r, "real_time") - 2000) < 1e-6, "manual: 2000 us an iteration, got %g",
		      num(r, "real_time"));
		CHECKF(!strcmp(json_string_value(json_object_get(r, "time_unit")) ?: "", "us"),
		      "manual: unit us");
	}

	r = find_run(runs, "shim.skip", 0);
	CHECKF(r != NULL, "shim.skip is in the JSON");
	if (r) {
		CHECKF(json_is_true(json_object_get(r, "error_occurred")), "skip: error_occurred");
		CHECKF(!strcmp(json_string_value(json_object_get(r, "error_message")) ?: "",
			      "skipped: not on this machine"),
		      "skip: message");
	}

	/* The paused 20 ms never count; what is left is a loop step. */
	r = find_run(runs, "shim.pause/iterations:3", 0);
	CHECKF(r != NULL, "shim.pause is in the JSON");
	if (r)
		CHECKF(num(r, "real_time") < 10e6, "pause: %g ns an iteration with 20 ms paused",
		      num(r, "real_time"));

	int reps = 0, aggs = 0;
	size_t i;
	json_array_foreach(runs, i, r) {
		const char *n = json_string_value(json_object_get(r, "run_name"));
		const char *t = json_string_value(json_object_get(r, "run_type"));
		if (!n || strcmp(n, "shim.reps/iterations:100/repeats:3") != 0)
			continue;
		if (t && !strcmp(t, "iteration"))
			reps++;
		else
			aggs++;
	}
	CHECKF(reps == 3 && aggs >= 1, "reps: 3 repetitions and aggregates, got %d and %d", reps,
	      aggs);
	json_decref(doc);
}

/* ---- rows ---- */

struct rows {
	int n;
	struct {
		char mech[64], rep[16], metric[40], unit[16], status[16], reason[128],
			params[96];
		uint64_t size, samples, ops;
		double value, lo, hi;
		int workers;
	} r[256];
};

static void collect(void *ctx, const struct ipcb_row *row)
{
	struct rows *rs = ctx;
	if (rs->n == 256)
		return;
	CHECKF(!strcmp(row->bench, "micro"), "bench is micro");
	CHECKF(!strcmp(row->cpus, "3") && !strcmp(row->placement, "compact"),
	      "cpus and placement passed through");
#define CP(f, v) snprintf(rs->r[rs->n].f, sizeof(rs->r[rs->n].f), "%s", (v) ? (v) : "")
	CP(mech, row->mech);
	CP(rep, row->rep);
	CP(metric, row->metric);
	CP(unit, row->unit);
	CP(status, row->status);
	CP(reason, row->reason);
	CP(params, row->params);
#undef CP
	rs->r[rs->n].size = row->size_bytes;
	rs->r[rs->n].samples = row->samples;
	rs->r[rs->n].ops = row->ops_per_sample;
	rs->r[rs->n].value = row->value;
	rs->r[rs->n].lo = row->ci_low;
	rs->r[rs->n].hi = row->ci_high;
	rs->r[rs->n].workers = row->workers;
	rs->n++;
}

static int find_row(const struct rows *rs, const char *mech, const char *rep, const char *metric)
{
	for (int i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].mech, mech) && !strcmp(rs->r[i].rep, rep) &&
		    !strcmp(rs->r[i].metric, metric))
			return i;
	return -1;
}

/* Google Benchmark 1.7's layout, trimmed, with each case the importer must handle. */
static const char canned[] =
	"{\"context\": {\"library_build_type\": \"release\"}, \"benchmarks\": [\n"
	" {\"name\": \"memcpy/bytes:4096\", \"run_name\": \"memcpy/bytes:4096\","
	"  \"run_type\": \"iteration\", \"repetitions\": 3, \"repetition_index\": 0,"
	"  \"threads\": 1, \"iterations\": 1000, \"real_time\": 0.1, \"cpu_time\": 0.1,"
	"  \"time_unit\": \"us\", \"bytes_per_second\": 4.0e10},\n"
	" {\"name\": \"memcpy/bytes:4096\", \"run_name\": \"memcpy/bytes:4096\","
	"  \"run_type\": \"iteration\", \"repetitions\": 3, \"repetition_index\": 1,"
	"  \"threads\": 1, \"iterations\": 1000, \"real_time\": 0.3, \"cpu_time\": 0.3,"
	"  \"time_unit\": \"us\", \"bytes_per_second\": 1.3e10},\n"
	" {\"name\": \"memcpy/bytes:4096\", \"run_name\": \"memcpy/bytes:4096\","
	"  \"run_type\": \"iteration\", \"repetitions\": 3, \"repetition_index\": 2,"
	"  \"threads\": 1, \"iterations\": 1000, \"real_time\": 0.2, \"cpu_time\": 0.2,"
	"  \"time_unit\": \"us\", \"bytes_per_second\": 2.0e10},\n"
	" {\"name\": \"memcpy/bytes:4096_median\", \"run_name\": \"memcpy/bytes:4096\","
	"  \"run_type\": \"aggregate\", \"aggregate_name\": \"median\", \"repetitions\": 3,"
	"  \"threads\": 1, \"iterations\": 3, \"real_time\": 0.2, \"cpu_time\": 0.2,"
	"  \"time_unit\": \"us\"},\n"
	" {\"name\": \"rt/bytes:64/7/manual_time\", \"run_name\": \"rt/bytes:64/7/manual_time\","
	"  \"run_type\": \"iteration\", \"repetitions\": 1, \"repetition_index\": 0,"
	"  \"threads\": 1, \"iterations\": 500, \"real_time\": 5000, \"cpu_time\": 100,"
	"  \"time_unit\": \"ns\", \"round_trips\": 500},\n"
	" {\"name\": \"gone\", \"run_name\": \"gone\", \"run_type\": \"iteration\","
	"  \"repetitions\": 1, \"repetition_index\": 0, \"threads\": 1, \"iterations\": 0,"
	"  \"real_time\": 0, \"cpu_time\": 0, \"time_unit\": \"ns\", \"error_occurred\": true,"
	"  \"error_message\": \"skipped: no TSC\"},\n"
	" {\"name\": \"bad\", \"run_name\": \"bad\", \"run_type\": \"iteration\","
	"  \"repetitions\": 2, \"repetition_index\": 0, \"threads\": 1, \"iterations\": 9,"
	"  \"real_time\": 1, \"cpu_time\": 1, \"time_unit\": \"ns\"},\n"
	" {\"name\": \"bad\", \"run_name\": \"bad\", \"run_type\": \"iteration\","
	"  \"repetitions\": 2, \"repetition_index\": 1, \"threads\": 1, \"iterations\": 0,"
	"  \"real_time\": 0, \"cpu_time\": 0, \"time_unit\": \"ns\", \"error_occurred\": true,"
	"  \"error_message\": \"pipe2: Too many open files (errno 24)\"}\n"
	"]}\n";

static void check_import_canned(const char *dir)
{
	static struct rows rs;
	struct ipcb_micro_counts c = { 0 };
	char path[512], err[256];
	FILE *f;
	int rc, i;

	snprintf(path, sizeof(path), "%s/canned.json", dir);
	f = fopen(path, "w");
	CHECKF(f != NULL, "write %s", path);
	if (!f)
		return;
	fputs(canned, f);
	fclose(f);
	rc = ipcb_micro_import(path, "3", "compact", 0.05, collect, &rs, &c, err, sizeof(err));
	CHECKF(rc == 0, "import canned: %s", err);
	CHECKF(c.ok == 1 && c.noisy == 1 && c.skipped == 1 && c.failed == 1,
	      "counts ok %d noisy %d skipped %d failed %d", c.ok, c.noisy, c.skipped, c.failed);

	i = find_row(&rs, "memcpy", "2", "ns_per_op");
	CHECKF(i >= 0 && fabs(rs.r[i].value - 300) < 1e-9 && rs.r[i].size == 4096 &&
		      rs.r[i].samples == 1 && rs.r[i].ops == 1000 && !strcmp(rs.r[i].unit, "ns"),
	      "memcpy rep 2: 300 ns (us converted), size 4096, one sample of 1000 ops");
	i = find_row(&rs, "memcpy", "1", "bytes_per_s");
	CHECKF(i >= 0 && rs.r[i].value == 4.0e10 && !strcmp(rs.r[i].unit, "B/s"),
	      "bytes_per_second becomes bytes_per_s in B/s");
	i = find_row(&rs, "memcpy", "median", "ns_per_op");
	CHECKF(i >= 0 && fabs(rs.r[i].value - 200) < 1e-9 && fabs(rs.r[i].lo - 100) < 1e-9 &&
		      fabs(rs.r[i].hi - 300) < 1e-9 && rs.r[i].samples == 3 &&
		      !strcmp(rs.r[i].status, "NOISY") && rs.r[i].reason[0],
	      "memcpy median 200 in [100, 300] over 3 repetitions, NOISY at 5%%");
	CHECKF(find_row(&rs, "memcpy", "4", "ns_per_op") < 0, "aggregates are not repetitions");

	i = find_row(&rs, "rt", "1", "ns_per_op");
	CHECKF(i >= 0 && rs.r[i].value == 5000 && rs.r[i].size == 64 && rs.r[i].samples == 500 &&
		      rs.r[i].ops == 1 && !strcmp(rs.r[i].params, "arg1=7;time=manual"),
	      "manual time: each iteration a sample; params '%s'", i >= 0 ? rs.r[i].params : "");
	i = find_row(&rs, "rt", "median", "round_trips");
	CHECKF(i >= 0 && rs.r[i].value == 500 && !strcmp(rs.r[i].unit, "count") &&
		      !strcmp(rs.r[i].status, "ok"),
	      "a user counter is a metric of its own");

	i = find_row(&rs, "gone", "", "");
	CHECKF(i >= 0 && !strcmp(rs.r[i].status, "SKIPPED") && !strcmp(rs.r[i].reason, "no TSC"),
	      "skipped: prefix gives a SKIPPED row with the reason");
	i = find_row(&rs, "bad", "2", "");
	CHECKF(i >= 0 && !strcmp(rs.r[i].status, "FAILED") && strstr(rs.r[i].reason, "errno 24"),
	      "an error gives a FAILED row in its repetition");
	CHECKF(find_row(&rs, "bad", "1", "ns_per_op") < 0, "no numbers from a failed case");

	f = fopen(path, "w");
	if (f) {
		fputs("{\"benchmarks\": [", f);
		fclose(f);
	}
	rc = ipcb_micro_import(path, "3", "compact", 0.05, collect, &rs, &c, err, sizeof(err));
	CHECKF(rc == -EINVAL && strstr(err, "canned.json"), "truncated JSON refused: %s", err);
	snprintf(path, sizeof(path), "%s/none.json", dir);
	rc = ipcb_micro_import(path, "3", "compact", 0.05, collect, &rs, &c, err, sizeof(err));
	CHECKF(rc == -ENOENT, "missing file: %d", rc);
}

static void check_import_real(const char *path)
{
	static struct rows rs;
	struct ipcb_micro_counts c = { 0 };
	char err[256];
	int i;

	int rc = ipcb_micro_import(path, "3", "compact", 0.10, collect, &rs, &c, err, sizeof(err));
	CHECKF(rc == 0, "import the real JSON: %s", err);
	CHECKF(c.skipped == 1 && c.failed == 0 && c.ok + c.noisy == 1 + 8 + 1 + 1 + 1,
	      "every instance counted once (ok %d noisy %d skipped %d)", c.ok, c.noisy,
	      c.skipped);
	i = find_row(&rs, "shim.fixed", "1", "widgets");
	CHECKF(i >= 0 && rs.r[i].value == 42 && rs.r[i].ops == 1000 &&
		      !strcmp(rs.r[i].params, "iterations=1000"),
	      "shim.fixed widgets row");
	i = find_row(&rs, "shim.reps", "median", "ns_per_op");
	CHECKF(i >= 0 && rs.r[i].samples == 3, "shim.reps median over 3 repetitions");
}

int main(void)
{
	char dir[] = "/tmp/gbench_shim_test.XXXXXX", out[128], arg_out[160];
	struct ipcb_gbench_def bad = defs[0];
	int rc;

	CHECKF(mkdtemp(dir) != NULL, "mkdtemp");
	bad.name = "has/slash";
	CHECKF(ipcb_gbench_register(&bad) == -EINVAL, "a '/' in a name is refused");
	bad.name = "shim.norun";
	bad.run = NULL;
	CHECKF(ipcb_gbench_register(&bad) == -EINVAL, "a def without run() is refused");
	bad = defs[1];
	bad.name = "shim.badrange";
	bad.args[0].lo = 10;
	bad.args[0].hi = 1;
	CHECKF(ipcb_gbench_register(&bad) == -EINVAL, "lo > hi is refused");
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		CHECKF(ipcb_gbench_register(&defs[i]) == 0, "register %s", defs[i].name);

	snprintf(out, sizeof(out), "%s/out.json", dir);
	snprintf(arg_out, sizeof(arg_out), "--benchmark_out=%s", out);
	char *argv[] = { (char *)"gbench_shim_test", arg_out, (char *)"--benchmark_out_format=json",
			 (char *)"--benchmark_filter=^shim\\.", NULL };
	rc = ipcb_gbench_main(4, argv);

	if (ipcb_gbench_available()) {
		CHECKF(rc == 0, "main returns 0 (a skip is not a failure), got %d", rc);
		check_json(out);
		check_import_real(out);
	} else {
		CHECKF(rc == IPCB_GBENCH_UNAVAILABLE, "nop main returns %d, got %d",
		      IPCB_GBENCH_UNAVAILABLE, rc);
		CHECKF(access(out, F_OK) < 0, "nop main writes no JSON");
	}
	CHECKF(calls_fixed >= 1 && calls_args >= 8 && calls_manual >= 1 && calls_skip >= 1 &&
		      calls_pause >= 1 && calls_reps >= 1,
	      "every benchmark ran (args: every instance): %d %d %d %d %d %d", calls_fixed,
	      calls_args, calls_manual, calls_skip, calls_pause, calls_reps);

	/* An argument that is not a benchmark flag: exit status 2, as for the library. */
	char *bad_argv[] = { (char *)"gbench_shim_test", (char *)"--no-such-flag", NULL };
	CHECKF(ipcb_gbench_main(2, bad_argv) == 2, "an unknown argument gives 2");

	check_import_canned(dir);

	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return TEST_END();
}
