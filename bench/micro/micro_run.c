// SPDX-License-Identifier: MIT
/*
 * Running ipcbench-micro from ipcbench and importing its Google Benchmark JSON as rows.
 *
 * Google Benchmark's JSON has one object per repetition of each benchmark instance
 * ("run_type": "iteration", "repetition_index" 0..N-1, all with the same "run_name") and
 * then its own aggregates (mean, median, stddev, cv). The aggregates are left to
 * compare.py; the rows here are made like the runner's: a row per repetition and metric,
 * then a median row per metric with ipcbench's own order-statistic interval and NOISY flag,
 * so a microbenchmark reads like any other case in plots and compare. A repetition row
 * covers the repetition's iterations, timed as one sample (samples 1, ops_per_sample the
 * iteration count), except with manual time, where each iteration was timed alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../harness/clock.h"
#include "../../harness/stats.h"
#include "micro_run.h"

#define MICRO_PROGRAM "ipcbench-micro"
#define MICRO_UNAVAILABLE 77   /* IPCB_GBENCH_UNAVAILABLE (gbench.h) */
#define MAX_METRICS 24

int ipcb_micro_path(char *buf, size_t len)
{
	const char *env = getenv("IPCBENCH_MICRO");
	char self[4096];
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		if ((size_t)snprintf(buf, len, "%s", env) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (slash)
		slash[1] = 0;
	else
		self[0] = 0;
	if ((size_t)snprintf(buf, len, "%s%s", self, MICRO_PROGRAM) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int ipcb_micro_exec(int argc, char **argv)
{
	char path[4200];
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int rc = ipcb_micro_path(path, sizeof(path));

	if (!args) {
		fprintf(stderr, "ipcbench: micro: out of memory\n");
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "ipcbench: micro: cannot locate %s: %s (errno %d)\n", MICRO_PROGRAM,
			strerror(-rc), -rc);
		free(args);
		return 1;
	}
	args[0] = path;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	execv(path, args);
	rc = errno;
	fprintf(stderr, "ipcbench: micro: cannot run %s: %s (errno %d)%s\n", path, strerror(rc), rc,
		rc == ENOENT ? "; it is built with ipcbench (target ipcbench-micro), or set "
			       "IPCBENCH_MICRO" : "");
	free(args);
	return 1;
}

/* ---- import ---- */

struct metric {
	char name[64];
	const char *unit;
};

/* What an instance's run_name says: "memcpy/bytes:4096/manual_time". */
struct instance {
	char mech[128], params[320];
	uint64_t size_bytes;
	int workers, manual;
};

static void params_add(char *buf, size_t len, const char *k, const char *v)
{
	size_t off = strlen(buf);
	if (off < len)
		snprintf(buf + off, len - off, "%s%s=%s", off ? ";" : "", k, v);
}

static void parse_run_name(const char *run_name, int threads, struct instance *in)
{
	char copy[512], *save = NULL, *tok;
	int pos = 0;

	memset(in, 0, sizeof(*in));
	in->workers = threads > 0 ? threads : 1;
	snprintf(copy, sizeof(copy), "%s", run_name);
	tok = strtok_r(copy, "/", &save);
	snprintf(in->mech, sizeof(in->mech), "%s", tok ? tok : run_name);
	/* After the family name: the arguments, "name:value" or bare, in order, then the
	 * options Google Benchmark appends (min_time:, iterations:, repeats:, threads:, ...). */
	for (; (tok = strtok_r(NULL, "/", &save)); pos++) {
		char *colon = strchr(tok, ':');
		if (!strcmp(tok, "manual_time")) {
			in->manual = 1;
			params_add(in->params, sizeof(in->params), "time", "manual");
		} else if (!strcmp(tok, "real_time")) {
			params_add(in->params, sizeof(in->params), "time", "real");
		} else if (!strcmp(tok, "process_time")) {
			params_add(in->params, sizeof(in->params), "cpu_time", "process");
		} else if (colon) {
			*colon = 0;
			if (!strcmp(tok, "bytes"))
				in->size_bytes = strtoull(colon + 1, NULL, 10);
			else if (!strcmp(tok, "threads"))
				in->workers = atoi(colon + 1);
			else if (strcmp(tok, "repeats") != 0)
				params_add(in->params, sizeof(in->params), tok, colon + 1);
		} else {
			char k[16];
			snprintf(k, sizeof(k), "arg%d", pos);
			params_add(in->params, sizeof(in->params), k, tok);
		}
	}
}

/* Keys of a run object that are not counters. */
static int is_known_key(const char *k)
{
	static const char *const known[] = {
		"name", "family_index", "per_family_instance_index", "run_name", "run_type",
		"repetitions", "repetition_index", "threads", "iterations", "real_time",
		"cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "error_occurred",
		"error_message", "label", "big_o", "rms", "complexity",
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(k, known[i]))
			return 1;
	return 0;
}

/* Our name and unit for a counter: Google Benchmark's two rates get the CSV's names, the
 * benchmarks' own counters keep theirs, with the unit their suffix gives. */
static void counter_metric(const char *key, struct metric *m)
{
	size_t n = strlen(key);

	if (!strcmp(key, "bytes_per_second")) {
		snprintf(m->name, sizeof(m->name), "bytes_per_s");
		m->unit = "B/s";
		return;
	}
	if (!strcmp(key, "items_per_second")) {
		snprintf(m->name, sizeof(m->name), "items_per_s");
		m->unit = "items/s";
		return;
	}
	snprintf(m->name, sizeof(m->name), "%s", key);
	if (n > 3 && !strcmp(key + n - 3, "_ns"))
		m->unit = "ns";
	else if (n > 6 && !strcmp(key + n - 6, "_per_s"))
		m->unit = "1/s";
	else if (n > 6 && !strcmp(key + n - 6, "_bytes"))
		m->unit = "B";
	else
		m->unit = "count";
}

static double to_ns(json_t *run, const char *key)
{
	const char *unit = json_string_value(json_object_get(run, "time_unit"));
	double v = json_number_value(json_object_get(run, key));
	if (!json_is_number(json_object_get(run, key)))
		return NAN;
	if (!unit || !strcmp(unit, "ns"))
		return v;
	if (!strcmp(unit, "us"))
		return v * 1e3;
	if (!strcmp(unit, "ms"))
		return v * 1e6;
	if (!strcmp(unit, "s"))
		return v * 1e9;
	return NAN;
}

/* Value of metric k (0: ns_per_op, 1: cpu_ns_per_op, then counters by key) in run. */
static double metric_value(json_t *run, int k, const char *const *keys)
{
	if (k == 0)
		return to_ns(run, "real_time");
	if (k == 1)
		return to_ns(run, "cpu_time");
	json_t *v = json_object_get(run, keys[k]);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

struct importer {
	const char *cpus, *placement;
	double noise;
	ipcb_micro_emit_fn emit;
	void *ctx;
	struct ipcb_micro_counts *counts;
};

static void base_row(const struct importer *im, const struct instance *in, struct ipcb_row *r)
{
	memset(r, 0, sizeof(*r));
	r->bench = "micro";
	r->mech = in->mech;
	r->impl = "c";
	r->mode = "process";
	r->workers = in->workers;
	r->cpus = im->cpus;
	r->placement = im->placement;
	r->size_bytes = in->size_bytes;
	r->params = in->params;
	r->value = r->ci_low = r->ci_high = NAN;
}

/* One instance: its repetitions reps[0..n-1], in repetition order. */
static int import_instance(const struct importer *im, json_t **reps, int n)
{
	struct instance in;
	struct ipcb_row row;
	struct metric m[MAX_METRICS];
	const char *keys[MAX_METRICS];
	double *vals = NULL;
	char repname[16], why[200];
	int nm = 2;

	parse_run_name(json_string_value(json_object_get(reps[0], "run_name")),
		       (int)json_integer_value(json_object_get(reps[0], "threads")), &in);
	base_row(im, &in, &row);

	/* An error in any repetition: one row, no numbers. */
	for (int i = 0; i < n; i++) {
		if (!json_is_true(json_object_get(reps[i], "error_occurred")))
			continue;
		const char *msg = json_string_value(json_object_get(reps[i], "error_message"));
		if (!msg)
			msg = "error";
		if (!strncmp(msg, "skipped: ", 9)) {
			row.status = "SKIPPED";
			row.reason = msg + 9;
			im->counts->skipped++;
		} else {
			snprintf(repname, sizeof(repname), "%d", i + 1);
			row.rep = repname;
			row.status = "FAILED";
			row.reason = msg;
			im->counts->failed++;
		}
		im->emit(im->ctx, &row);
		return 0;
	}

	snprintf(m[0].name, sizeof(m[0].name), "ns_per_op");
	m[0].unit = "ns";
	snprintf(m[1].name, sizeof(m[1].name), "cpu_ns_per_op");
	m[1].unit = "ns";
	keys[0] = keys[1] = NULL;
	const char *key;
	json_t *v;
	json_object_foreach(reps[0], key, v) {
		if (nm < MAX_METRICS && json_is_number(v) && !is_known_key(key)) {
			counter_metric(key, &m[nm]);
			keys[nm++] = key;
		}
	}

	vals = calloc((size_t)n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		uint64_t iters = (uint64_t)json_integer_value(json_object_get(reps[i], "iterations"));
		snprintf(repname, sizeof(repname), "%d", i + 1);
		row.rep = repname;
		row.status = "ok";
		row.samples = in.manual ? iters : 1;
		row.ops_per_sample = in.manual ? 1 : iters;
		for (int k = 0; k < nm; k++) {
			row.metric = m[k].name;
			row.unit = m[k].unit;
			row.value = metric_value(reps[i], k, keys);
			if (isfinite(row.value))
				im->emit(im->ctx, &row);
		}
	}

	int noisy = 0;
	row.rep = "median";
	row.samples = (uint64_t)n;
	for (int k = 0; k < nm; k++) {
		struct ipcb_summary sum;
		for (int i = 0; i < n; i++)
			vals[i] = metric_value(reps[i], k, keys);
		if (ipcb_stats_summarize(vals, n, im->noise, &sum) < 0)
			continue;       /* a value missing or not finite in some repetition */
		row.metric = m[k].name;
		row.unit = m[k].unit;
		row.value = sum.median;
		row.ci_low = sum.ci_low;
		row.ci_high = sum.ci_high;
		row.status = sum.noisy ? "NOISY" : "ok";
		why[0] = 0;
		if (sum.noisy)
			snprintf(why, sizeof(why), "%.0f%% interval spans %.1f%% of the median "
				 "(threshold %.1f%%)", sum.ci_level * 100, sum.rel_width * 100,
				 im->noise * 100);
		row.reason = why[0] ? why : NULL;
		im->emit(im->ctx, &row);
		noisy |= k == 0 && sum.noisy;   /* the case is as noisy as its time */
	}
	if (noisy)
		im->counts->noisy++;
	else
		im->counts->ok++;
	free(vals);
	return 0;
}

int ipcb_micro_import(const char *json_path, const char *cpus, const char *placement,
		      double noise, ipcb_micro_emit_fn emit, void *ctx,
		      struct ipcb_micro_counts *counts, char *err, size_t errlen)
{
	struct importer im = { cpus, placement, noise, emit, ctx, counts };
	json_error_t jerr;
	json_t *doc, *runs, **group = NULL;
	size_t nruns, *done = NULL;
	int rc = 0;

	doc = json_load_file(json_path, 0, &jerr);
	if (!doc) {
		if (json_error_code(&jerr) == json_error_cannot_open_file) {
			rc = errno ? -errno : -ENOENT;
			snprintf(err, errlen, "%s: %s", json_path, jerr.text);
			return rc;
		}
		snprintf(err, errlen, "%s:%d:%d: not JSON: %s", json_path, jerr.line, jerr.column,
			 jerr.text);
		return json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : -EINVAL;
	}
	runs = json_object_get(doc, "benchmarks");
	if (!json_is_array(runs)) {
		snprintf(err, errlen, "%s: no \"benchmarks\" array: not Google Benchmark JSON",
			 json_path);
		json_decref(doc);
		return -EINVAL;
	}
	nruns = json_array_size(runs);
	group = calloc(nruns + 1, sizeof(*group));
	done = calloc(nruns + 1, sizeof(*done));
	if (!group || !done) {
		rc = -ENOMEM;
		goto out;
	}
	/* Group the repetitions of each instance (same run_name), in order of appearance;
	 * aggregates are skipped. */
	for (size_t i = 0; i < nruns && rc == 0; i++) {
		json_t *r = json_array_get(runs, i);
		const char *type = json_string_value(json_object_get(r, "run_type"));
		const char *name = json_string_value(json_object_get(r, "run_name"));
		if (done[i] || (type && strcmp(type, "iteration") != 0))
			continue;
		if (!name || !name[0]) {
			snprintf(err, errlen, "%s: benchmark %zu has no run_name", json_path, i);
			rc = -EINVAL;
			break;
		}
		int n = 0;
		for (size_t j = i; j < nruns; j++) {
			json_t *q = json_array_get(runs, j);
			const char *qt = json_string_value(json_object_get(q, "run_type"));
			const char *qn = json_string_value(json_object_get(q, "run_name"));
			if (done[j] || (qt && strcmp(qt, "iteration") != 0) || !qn ||
			    strcmp(qn, name) != 0)
				continue;
			done[j] = 1;
			group[n++] = q;
		}
		rc = import_instance(&im, group, n);
		if (rc < 0)
			snprintf(err, errlen, "%s: %s", json_path, strerror(-rc));
	}
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", json_path);
	free(group);
	free(done);
	json_decref(doc);
	return rc;
}

/* ---- the --all step ---- */

/* Wait for pid for at most budget_ns, killing it on interruption or timeout. Returns the
 * wait status, or -1; *why says what happened when it was not a normal exit. */
static int wait_child(pid_t pid, uint64_t budget_ns, char *why, size_t len)
{
	uint64_t deadline_ns = ipcb_now_ns() + budget_ns;
	int st = 0, killed = 0;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(why, len, "waitpid: %s (errno %d)", strerror(errno), errno);
			return -1;
		}
		if (!killed && ipcb_interrupted) {
			snprintf(why, len, "interrupted");
			(void)kill(pid, SIGTERM);
			killed = 1;
		} else if (!killed && ipcb_now_ns() > deadline_ns) {
			snprintf(why, len, "%s still running after %.0f s: killed", MICRO_PROGRAM,
				 (double)budget_ns / 1e9);
			(void)kill(pid, SIGKILL);
			killed = 1;
		}
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return st;
}

int ipcb_micro_run(const struct ipcb_config *cfg, const char *run_dir, ipcb_micro_emit_fn emit,
		   void *ctx, struct ipcb_run_meta *meta)
{
	char path[4200], out_tmp[4300], out_json[4300], arg_out[4400], arg_reps[64];
	char arg_min[64], arg_filter[1100], cpus[32], why[9000], err[600];
	const char *filter = getenv("IPCBENCH_MICRO_FILTER");
	struct ipcb_micro_counts counts = { 0 };
	struct ipcb_row row;
	struct instance none;
	char *argv[10];
	int argc = 0, cpu = -1, st, status = 0, rc;
	double min_time = (double)cfg->duration_ns / 1e9 / 5;
	pid_t pid;

	memset(&none, 0, sizeof(none));
	none.workers = 1;
	if (!cfg->unpinned && cfg->n_cpus > 0)
		cpu = cfg->cpu_list[0];
	if (cpu >= 0)
		snprintf(cpus, sizeof(cpus), "%d", cpu);
	else
		snprintf(cpus, sizeof(cpus), "unpinned");
	struct importer im = { cpus, cfg->placement, cfg->noise, emit, ctx, &counts };
	base_row(&im, &none, &row);

	rc = ipcb_micro_path(path, sizeof(path));
	if (rc == 0 && access(path, X_OK) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s not available (%s: %s); build the ipcbench-micro "
			 "target or set IPCBENCH_MICRO", MICRO_PROGRAM, path, strerror(-rc));
		row.status = "SKIPPED";
		row.reason = why;
		emit(ctx, &row);
		meta->cases_skipped++;
		fprintf(stderr, "ipcbench: microbenchmarks SKIPPED: %s\n", why);
		return 0;
	}
	if (min_time < 0.005)
		min_time = 0.005;
	snprintf(out_tmp, sizeof(out_tmp), "%s/gbench.json.tmp", run_dir);
	snprintf(out_json, sizeof(out_json), "%s/gbench.json", run_dir);
	snprintf(arg_out, sizeof(arg_out), "--benchmark_out=%s", out_tmp);
	snprintf(arg_reps, sizeof(arg_reps), "--benchmark_repetitions=%d", cfg->reps);
	snprintf(arg_min, sizeof(arg_min), "--benchmark_min_time=%.3f", min_time);
	argv[argc++] = path;
	argv[argc++] = arg_out;
	argv[argc++] = (char *)"--benchmark_out_format=json";
	/* The display goes to /dev/null; as JSON, the context goes with it, not to stderr. */
	argv[argc++] = (char *)"--benchmark_format=json";
	argv[argc++] = arg_reps;
	argv[argc++] = arg_min;
	if (filter && filter[0]) {
		snprintf(arg_filter, sizeof(arg_filter), "--benchmark_filter=%s", filter);
		argv[argc++] = arg_filter;
	}
	argv[argc] = NULL;

	fprintf(stderr, "%sipcbench: microbenchmarks: %s, %d repetitions of at least %.3f s "
		"each, CPU %s\n", cfg->progress == 2 ? "\r\033[K" : "", MICRO_PROGRAM, cfg->reps,
		min_time, cpus);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, sizeof(why), "fork: %s (errno %d)", strerror(errno), errno);
		goto failed;
	}
	if (pid == 0) {
		int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null_fd >= 0)
			(void)dup2(null_fd, STDOUT_FILENO);   /* the console table; JSON is kept */
		if (cpu >= 0) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set) < 0) {
				fprintf(stderr, "ipcbench: micro: cannot pin to CPU %d: %s (errno %d)\n",
					cpu, strerror(errno), errno);
				_exit(126);
			}
		}
		execv(path, argv);
		fprintf(stderr, "ipcbench: micro: cannot run %s: %s (errno %d)\n", path,
			strerror(errno), errno);
		_exit(127);
	}
	/* Generous: the default run takes well under a minute. */
	uint64_t budget_ns = (uint64_t)(120 + 60 * cfg->reps) * 1000000000u;
	why[0] = 0;
	st = wait_child(pid, budget_ns, why, sizeof(why));
	if (st < 0)
		goto failed;
	if (why[0] && !strcmp(why, "interrupted")) {
		(void)unlink(out_tmp);
		row.status = "PARTIAL";
		row.rep = "1";
		row.reason = "interrupted during the microbenchmarks";
		emit(ctx, &row);
		return 0;
	}
	if (why[0])
		goto failed;
	if (WIFEXITED(st) && WEXITSTATUS(st) == MICRO_UNAVAILABLE) {
		(void)unlink(out_tmp);
		row.status = "SKIPPED";
		row.reason = "ipcbench was built without Google Benchmark (libbenchmark-dev, "
			     "-DIPCBENCH_GBENCH): nothing measured";
		emit(ctx, &row);
		meta->cases_skipped++;
		fprintf(stderr, "ipcbench: microbenchmarks SKIPPED: %s\n", row.reason);
		return 0;
	}
	/* 0, or 1 when a benchmark failed (its row says why): the JSON is whole either way. */
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
		if (WIFSIGNALED(st))
			snprintf(why, sizeof(why), "%s killed by signal %d (%s)", MICRO_PROGRAM,
				 WTERMSIG(st), strsignal(WTERMSIG(st)));
		else
			snprintf(why, sizeof(why), "%s exited with status %d", MICRO_PROGRAM,
				 WEXITSTATUS(st));
		goto failed;
	}
	if (rename(out_tmp, out_json) < 0) {
		snprintf(why, sizeof(why), "rename %s: %s (errno %d)", out_tmp, strerror(errno),
			 errno);
		goto failed;
	}
	rc = ipcb_micro_import(out_json, cpus, cfg->placement, cfg->noise, emit, ctx, &counts,
			       err, sizeof(err));
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s", err);
		goto failed;
	}
	meta->cases_ok += counts.ok;
	meta->cases_noisy += counts.noisy;
	meta->cases_failed += counts.failed;
	meta->cases_skipped += counts.skipped;
	fprintf(stderr, "ipcbench: microbenchmarks: %d ok, %d noisy, %d failed, %d skipped "
		"(Google Benchmark JSON: %s)\n", counts.ok, counts.noisy, counts.failed,
		counts.skipped, out_json);
	if (counts.failed)
		status = 1;
	return status;

failed:
	(void)unlink(out_tmp);
	row.status = "FAILED";
	row.rep = "1";
	row.reason = why;
	emit(ctx, &row);
	meta->cases_failed++;
	fprintf(stderr, "ipcbench: microbenchmarks FAILED: %s\n", why);
	return 1;
}
