/* SPDX-License-Identifier: MIT */
/*
 * Google Benchmark JSON sink: benchmarks.json, the run in the schema of Google Benchmark's
 * JSON reporter (--benchmark_out_format=json), so tools made for it -- tools/compare.py
 * (Debian: libbenchmark-tools, /usr/share/benchmark/compare.py), dashboards -- read our
 * results. results.csv stays the reference; this is a view of the same rows.
 *
 * The mapping (results/README.md, "benchmarks.json", says the same for users):
 *   - one benchmark family per case x metric, named
 *       <bench>/<mech>[/size:<bytes>]/workers:<n>[/mode:thread][/impl:<impl>]
 *       [/placement:<p> unless compact][/<params that tell same-named cases apart>]/<metric>
 *     Names do not depend on CPUs or effective values, so the same command on another day or
 *     machine gives the same names and compare.py pairs them;
 *   - each repetition is an entry of run_type "iteration" (repetition_index from 0), and
 *     the median row an entry of run_type "aggregate", aggregate_name "median", named
 *     <family>_median, as Google Benchmark names its own aggregates. compare.py runs its U
 *     test on the repetitions and shows the medians with -a;
 *   - real_time is in ns, and lower must be better (compare.py assumes it): a time metric
 *     (*_ns) is written as it is; a rate (*_per_s) is written as its inverse, the time per
 *     item (1e9 / rate ns), and the rate itself is kept as a counter of the metric's name.
 *     cpu_time repeats real_time: ipcbench measures wall time of the pattern, not the CPU
 *     time of one thread. threads is the number of workers, iterations the timed samples
 *     (on a median entry, the number of repetitions);
 *   - metrics without a direction (counts, fractions) and cases without numbers (FAILED,
 *     SKIPPED, PARTIAL) are left out: compare.py would treat any number as a time, and it
 *     cannot read an entry without one. results.csv has them.
 * Rows are kept in memory (copied) and the document is built with jansson at close, since
 * a name depends on the other cases of the run. Written to benchmarks.json.tmp, renamed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <jansson.h>

#include "compare.h"
#include "sink.h"
#include "topo.h"

struct gb_row {
	char *key;               /* identity: bench, mech, ..., params joined by '\x1f' */
	char *bench, *mech, *impl, *mode, *placement, *params, *metric, *unit, *status;
	char *reason;
	int workers, rep;        /* rep: >= 1, or 0 for the median row */
	uint64_t size, samples;
	double value, ci_low, ci_high;
};

struct ipcb_sink_state {
	char *dir, *run_id;
	struct gb_row *rows;
	size_t n, cap;
};

static void gb_row_free(struct gb_row *r)
{
	free(r->key);
	free(r->bench);
	free(r->mech);
	free(r->impl);
	free(r->mode);
	free(r->placement);
	free(r->params);
	free(r->metric);
	free(r->unit);
	free(r->status);
	free(r->reason);
}

static void gb_state_free(struct ipcb_sink_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		gb_row_free(&st->rows[i]);
	free(st->rows);
	free(st->dir);
	free(st->run_id);
	free(st);
}

static int gb_open(struct ipcb_sink_state **out, const char *dir, const char *run_id)
{
	struct ipcb_sink_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->dir = strdup(dir);
	st->run_id = strdup(run_id ? run_id : "");
	if (!st->dir || !st->run_id) {
		gb_state_free(st);
		return -ENOMEM;
	}
	*out = st;
	return 0;
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

static int gb_row(struct ipcb_sink_state *st, const struct ipcb_row *r)
{
	struct gb_row *g;
	char *end;
	long rep;

	/* only numbers a comparison can use: a repetition or median of a directed metric */
	if (!r->metric || !*r->metric || !r->rep || !isfinite(r->value))
		return 0;
	if (ipcb_metric_direction(r->metric, r->unit) == IPCB_DIR_NONE)
		return 0;
	if (!strcmp(r->rep, "median")) {
		rep = 0;
	} else {
		rep = strtol(r->rep, &end, 10);
		if (*end || rep < 1)
			return 0;
	}
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 256;
		struct gb_row *v = realloc(st->rows, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->rows = v;
		st->cap = cap;
	}
	g = &st->rows[st->n];
	memset(g, 0, sizeof(*g));
	st->n++;
	g->bench = dup0(r->bench);
	g->mech = dup0(r->mech);
	g->impl = dup0(r->impl);
	g->mode = dup0(r->mode);
	g->placement = dup0(r->placement);
	g->params = dup0(r->params);
	g->metric = dup0(r->metric);
	g->unit = dup0(r->unit);
	g->status = dup0(r->status);
	g->reason = dup0(r->reason);
	g->workers = r->workers;
	g->rep = (int)rep;
	g->size = r->size_bytes;
	g->samples = r->samples;
	g->value = r->value;
	g->ci_low = r->ci_low;
	g->ci_high = r->ci_high;
	if (asprintf(&g->key, "%s\x1f%s\x1f%s\x1f%s\x1f%d\x1f%s\x1f%llu\x1f%s", g->bench ? g->bench : "",
		     g->mech ? g->mech : "", g->impl ? g->impl : "", g->mode ? g->mode : "",
		     g->workers, g->placement ? g->placement : "", (unsigned long long)g->size,
		     g->params ? g->params : "") < 0)
		g->key = NULL;
	if (!g->key || !g->bench || !g->mech || !g->impl || !g->mode || !g->placement ||
	    !g->params || !g->metric || !g->unit || !g->status || !g->reason)
		return -ENOMEM;
	return 0;
}

/* The name of a case without its params: bench/mech[/size:N]/workers:N[/...]. */
static char *case_base_name(const struct gb_row *g)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s/%s", g->bench, *g->mech ? g->mech : "-");
	if (g->size)
		fprintf(f, "/size:%llu", (unsigned long long)g->size);
	fprintf(f, "/workers:%d", g->workers);
	if (*g->mode && strcmp(g->mode, "process"))
		fprintf(f, "/mode:%s", g->mode);
	if (*g->impl && strcmp(g->impl, "c"))
		fprintf(f, "/impl:%s", g->impl);
	if (*g->placement && strcmp(g->placement, "compact"))
		fprintf(f, "/placement:%s", g->placement);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* One case of the run: its first row (for the identity) and its name. */
struct gb_case {
	const struct gb_row *first;
	char *base, *name;
};

/* 1 if params has the item it (len bytes) exactly. */
static int params_have(const char *params, const char *it, size_t len)
{
	while (*params) {
		size_t l = strcspn(params, ";");

		if (l == len && !memcmp(params, it, len))
			return 1;
		params += l + (params[l] == ';');
	}
	return 0;
}

/* Names for cases c[0..n-1]: the base name, plus, when other cases share it, the params
 * items not common to all of them ("/kind=fork,huge=none"). */
static int name_cases(struct gb_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t same = 0, len;
		const char *p = c[i].first->params;
		char *s = NULL;
		int sep = 0;
		FILE *f;

		for (size_t j = 0; j < n; j++)
			same += !strcmp(c[j].base, c[i].base);
		f = open_memstream(&s, &len);
		if (!f)
			return -ENOMEM;
		fputs(c[i].base, f);
		while (same > 1 && *p) {
			size_t l = strcspn(p, ";");
			int everywhere = 1;

			for (size_t j = 0; j < n && everywhere; j++)
				if (!strcmp(c[j].base, c[i].base))
					everywhere = params_have(c[j].first->params, p, l);
			if (!everywhere) {
				fprintf(f, "%c%.*s", sep ? ',' : '/', (int)l, p);
				sep = 1;
			}
			p += l + (p[l] == ';');
		}
		if (fclose(f) != 0) {
			free(s);
			return -ENOMEM;
		}
		c[i].name = s;
	}
	return 0;
}

/* Set key in obj (stealing val); *fail notes any failure, so a document is checked once. */
static void put(json_t *obj, const char *key, json_t *val, int *fail)
{
	if (!obj || !val || json_object_set_new(obj, key, val) != 0) {
		if (!obj)
			json_decref(val);
		*fail = 1;
	}
}

/* A finite number as JSON (jansson cannot write NaN or infinity): null otherwise. */
static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *gb_context(const struct ipcb_sink_state *st, const struct ipcb_run_meta *meta,
			  int *fail)
{
	json_t *ctx = json_object(), *caches = json_array();
	struct ipcb_topo_info ti;
	struct utsname u;
	char date[64] = "";

	memset(&ti, 0, sizeof(ti));
	if (meta && meta->topo)
		ipcb_topo_info(meta->topo, &ti);
	if (meta && meta->start_unix_ns) {
		time_t t = (time_t)(meta->start_unix_ns / 1000000000);
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	}
	put(ctx, "date", json_string(date), fail);
	put(ctx, "host_name", json_string(uname(&u) == 0 ? u.nodename : ""), fail);
	put(ctx, "executable", json_string("ipcbench"), fail);
	put(ctx, "num_cpus", json_integer(ti.pus), fail);
	put(ctx, "mhz_per_cpu", json_integer(0), fail);
	put(ctx, "cpu_scaling_enabled", json_false(), fail);
	{
		static const struct { const char *type; int level; } lv[] = {
			{ "Data", 1 }, { "Unified", 2 }, { "Unified", 3 },
		};
		int kib[3] = { ti.l1d_kib, ti.l2_kib, ti.l3_kib };

		for (int i = 0; i < 3; i++) {
			json_t *c;

			if (kib[i] <= 0)
				continue;
			c = json_object();
			put(c, "type", json_string(lv[i].type), fail);
			put(c, "level", json_integer(lv[i].level), fail);
			put(c, "size", json_integer((json_int_t)kib[i] * 1024), fail);
			put(c, "num_sharing", json_integer(0), fail);
			if (!c || json_array_append_new(caches, c) != 0)
				*fail = 1;
		}
	}
	put(ctx, "caches", caches, fail);
	put(ctx, "library_build_type", json_string(meta && meta->build_type &&
						   !strcmp(meta->build_type, "Debug") ?
						   "debug" : "release"), fail);
	put(ctx, "ipcbench_run_id", json_string(meta && meta->run_id ? meta->run_id : st->run_id),
	    fail);
	put(ctx, "ipcbench_version", json_string(meta && meta->version ? meta->version : ""),
	    fail);
	put(ctx, "ipcbench_git_commit", json_string(meta && meta->git_commit ? meta->git_commit :
						     ""), fail);
	put(ctx, "ipcbench_cpu_model", json_string(ti.cpu_model), fail);
	put(ctx, "ipcbench_csv_schema", json_integer(IPCB_CSV_SCHEMA), fail);
	put(ctx, "ipcbench_note", json_string("real_time is ns per operation (rates are "
					      "inverted, the rate is a counter); cpu_time repeats "
					      "real_time; see results/README.md"), fail);
	return ctx;
}

static json_t *gb_entry(const struct gb_case *c, const struct gb_row *g, int family,
			int nreps, int *fail)
{
	enum ipcb_dir dir = ipcb_metric_direction(g->metric, g->unit);
	json_t *e = json_object();
	char *name, *run_name;
	double t;

	if (dir == IPCB_DIR_HIGHER) {
		if (!(g->value > 0))
			return json_null();     /* no finite time per item: left out */
		t = 1e9 / g->value;
	} else {
		t = g->value;
	}
	if (asprintf(&run_name, "%s/%s", c->name, g->metric) < 0) {
		*fail = 1;
		json_decref(e);
		return NULL;
	}
	if (g->rep == 0) {
		if (asprintf(&name, "%s_median", run_name) < 0) {
			*fail = 1;
			free(run_name);
			json_decref(e);
			return NULL;
		}
	} else {
		name = strdup(run_name);
	}
	put(e, "name", name ? json_string(name) : NULL, fail);
	put(e, "family_index", json_integer(family), fail);
	put(e, "per_family_instance_index", json_integer(0), fail);
	put(e, "run_name", json_string(run_name), fail);
	put(e, "run_type", json_string(g->rep ? "iteration" : "aggregate"), fail);
	put(e, "repetitions", json_integer(nreps), fail);
	if (g->rep) {
		put(e, "repetition_index", json_integer(g->rep - 1), fail);
	} else {
		put(e, "aggregate_name", json_string("median"), fail);
		put(e, "aggregate_unit", json_string("time"), fail);
	}
	put(e, "threads", json_integer(g->workers), fail);
	put(e, "iterations", json_integer((json_int_t)g->samples), fail);
	put(e, "real_time", json_real(t), fail);
	put(e, "cpu_time", json_real(t), fail);
	put(e, "time_unit", json_string("ns"), fail);
	if (dir == IPCB_DIR_HIGHER)
		put(e, g->metric, json_real(g->value), fail);
	if (g->rep == 0 && isfinite(g->ci_low) && isfinite(g->ci_high)) {
		char k[128];

		snprintf(k, sizeof(k), "%s_ci_low", g->metric);
		put(e, k, jnum(g->ci_low), fail);
		snprintf(k, sizeof(k), "%s_ci_high", g->metric);
		put(e, k, jnum(g->ci_high), fail);
	}
	if (strcmp(g->status, "ok"))
		put(e, "label", json_string(g->status), fail);
	free(name);
	free(run_name);
	return e;
}

static int gb_build(struct ipcb_sink_state *st, const struct ipcb_run_meta *meta, json_t **out)
{
	struct gb_case *cases = NULL;
	size_t ncases = 0;
	json_t *root = json_object(), *arr = json_array();
	int fail = 0, family = 0, ret = 0;
	size_t *case_of = malloc((st->n + 1) * sizeof(*case_of));
	size_t *start = NULL, *order = NULL, *fill = NULL;

	cases = calloc(st->n + 1, sizeof(*cases));
	if (!cases || !case_of || !root || !arr) {
		ret = -ENOMEM;
		goto out;
	}
	/* cases in order of first appearance (rows of a case are adjacent in practice) */
	for (size_t i = 0; i < st->n; i++) {
		size_t k;

		if (ncases && !strcmp(cases[ncases - 1].first->key, st->rows[i].key)) {
			case_of[i] = ncases - 1;
			continue;
		}
		for (k = 0; k < ncases && strcmp(cases[k].first->key, st->rows[i].key); k++)
			;
		if (k == ncases) {
			cases[k].first = &st->rows[i];
			cases[k].base = case_base_name(&st->rows[i]);
			if (!cases[k].base) {
				ret = -ENOMEM;
				goto out;
			}
			ncases++;
		}
		case_of[i] = k;
	}
	ret = name_cases(cases, ncases);
	if (ret)
		goto out;
	put(root, "context", gb_context(st, meta, &fail), &fail);
	/* the rows of each case together (counting sort, file order kept) */
	start = calloc(ncases + 1, sizeof(*start));
	order = malloc((st->n + 1) * sizeof(*order));
	if (!start || !order) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < st->n; i++)
		start[case_of[i] + 1]++;
	for (size_t c = 0; c < ncases; c++)
		start[c + 1] += start[c];
	fill = malloc((ncases + 1) * sizeof(*fill));
	if (!fill) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(fill, start, (ncases + 1) * sizeof(*fill));
	for (size_t i = 0; i < st->n; i++)
		order[fill[case_of[i]]++] = i;
	/* per case and metric (first appearance): repetitions in file order, then the median */
	for (size_t c = 0; c < ncases; c++) {
		const size_t *r = order + start[c];
		size_t m = start[c + 1] - start[c];

		for (size_t a = 0; a < m; a++) {
			const struct gb_row *g = &st->rows[r[a]];
			int seen = 0, nreps = 0;

			for (size_t b = 0; b < a && !seen; b++)
				seen = !strcmp(st->rows[r[b]].metric, g->metric);
			if (seen)
				continue;
			for (size_t b = a; b < m; b++)
				nreps += st->rows[r[b]].rep > 0 && !strcmp(st->rows[r[b]].metric,
									   g->metric);
			for (int pass = 0; pass < 2; pass++)
				for (size_t b = a; b < m; b++) {
					const struct gb_row *h = &st->rows[r[b]];
					json_t *e;

					if (strcmp(h->metric, g->metric) || (pass == 0) != (h->rep > 0))
						continue;
					e = gb_entry(&cases[c], h, family, nreps ? nreps : 1, &fail);
					if (json_is_null(e))
						continue;
					if (!e || json_array_append_new(arr, e) != 0)
						fail = 1;
				}
			family++;
		}
	}
	json_object_set_new(root, "benchmarks", arr);
	arr = NULL;
	if (fail)
		ret = -ENOMEM;
out:
	for (size_t c = 0; c < ncases; c++) {
		free(cases[c].base);
		free(cases[c].name);
	}
	free(cases);
	free(case_of);
	free(start);
	free(order);
	free(fill);
	json_decref(arr);
	if (ret) {
		json_decref(root);
		return ret;
	}
	*out = root;
	return 0;
}

static int gb_close(struct ipcb_sink_state *st, const struct ipcb_run_meta *meta)
{
	struct ipcb_sink_file sf;
	json_t *root = NULL;
	int err;

	err = gb_build(st, meta, &root);
	if (err)
		goto out;
	err = ipcb_sink_file_open(&sf, st->dir, "benchmarks.json");
	if (err)
		goto out;
	errno = 0;
	if (json_dumpf(root, sf.f, JSON_INDENT(2)) != 0 || putc('\n', sf.f) == EOF)
		err = errno ? -errno : -EIO;
	err = ipcb_sink_file_commit(&sf, err);
out:
	json_decref(root);
	gb_state_free(st);
	return err;
}

static void gb_abort(struct ipcb_sink_state *st)
{
	gb_state_free(st);
}

const struct ipcb_sink ipcb_sink_gbench_json = {
	.name = "gbench_json",
	.summary = "benchmarks.json in Google Benchmark's JSON schema (for its compare.py)",
	.open = gb_open,
	.row = gb_row,
	.close = gb_close,
	.abort = gb_abort,
};
