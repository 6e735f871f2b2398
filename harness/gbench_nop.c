// SPDX-License-Identifier: MIT
/*
 * gbench.h without Google Benchmark: the build and the benchmark code stay the same, and
 * ipcb_gbench_main() runs every selected benchmark instance for a few iterations as a smoke
 * test (so the C code paths still execute, e.g. in a CI build with -DIPCBENCH_GBENCH=OFF)
 * and measures nothing: it writes no --benchmark_out file and returns
 * IPCB_GBENCH_UNAVAILABLE. Of Google Benchmark's flags it understands --benchmark_filter
 * (POSIX extended regex, a leading '-' negates) and --benchmark_list_tests; it accepts and
 * ignores the other --benchmark_* flags, and refuses anything else as the library does.
 */
#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench.h"

#define SMOKE_ITERATIONS 16

struct ipcb_gbench_state {
	const struct ipcb_gbench_def *def;
	int64_t args[IPCB_GBENCH_MAX_ARGS];
	uint64_t target, done;
	char err[256];
	int failed;
};

static const struct ipcb_gbench_def **defs;
static size_t ndefs, capdefs;

static int def_valid(const struct ipcb_gbench_def *def)
{
	if (!def || !def->name || !def->name[0] || !def->run || strchr(def->name, '/'))
		return 0;
	if (def->nargs < 0 || def->nargs > IPCB_GBENCH_MAX_ARGS || def->threads < 0 ||
	    def->repetitions < 0 || def->min_time_s < 0 || def->range_multiplier < 0 ||
	    def->range_multiplier == 1)
		return 0;
	for (int i = 0; i < def->nargs; i++) {
		const struct ipcb_gbench_arg *a = &def->args[i];
		if (a->nvalues < 0 || a->nvalues > IPCB_GBENCH_MAX_VALUES)
			return 0;
		if (a->nvalues == 0 && (a->lo > a->hi || a->lo < 0))
			return 0;
	}
	return 1;
}

int ipcb_gbench_register(const struct ipcb_gbench_def *def)
{
	if (!def_valid(def))
		return -EINVAL;
	if (ndefs == capdefs) {
		size_t cap = capdefs ? 2 * capdefs : 32;
		const struct ipcb_gbench_def **n = realloc(defs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		defs = n;
		capdefs = cap;
	}
	defs[ndefs++] = def;
	return 0;
}

int ipcb_gbench_available(void)
{
	return 0;
}

void ipcb_gbench_add_context(const char *key, const char *value)
{
	(void)key;
	(void)value;
}

/* The values of one dimension, as benchmark::CreateRange makes them for lo..hi: lo, the
 * powers of mult strictly between, hi. Returns how many (at most max). */
static int dim_values(const struct ipcb_gbench_def *def, int d, int64_t *out, int max)
{
	const struct ipcb_gbench_arg *a = &def->args[d];
	int64_t mult = def->range_multiplier ? def->range_multiplier : 8;
	int n = 0;

	if (a->nvalues > 0) {
		for (int i = 0; i < a->nvalues && n < max; i++)
			out[n++] = a->values[i];
		return n;
	}
	out[n++] = a->lo;
	for (int64_t p = 1; p < a->hi && n < max; p *= mult) {
		if (p > a->lo)
			out[n++] = p;
		if (p > INT64_MAX / mult)
			break;
	}
	if (a->hi != out[n - 1] && n < max)
		out[n++] = a->hi;
	return n;
}

static void instance_name(const struct ipcb_gbench_def *def, const int64_t *args, char *buf,
			  size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "%s", def->name);

	for (int d = 0; d < def->nargs && off < len; d++) {
		const char *nm = def->args[d].name;
		off += (size_t)snprintf(buf + off, len - off, "/%s%s%lld", nm ? nm : "",
					nm ? ":" : "", (long long)args[d]);
	}
	if (off < len && (def->flags & IPCB_GBENCH_MANUAL_TIME))
		off += (size_t)snprintf(buf + off, len - off, "/manual_time");
	else if (off < len && (def->flags & IPCB_GBENCH_REAL_TIME))
		(void)snprintf(buf + off, len - off, "/real_time");
}

struct selection {
	regex_t re;
	int have_re, negate;
};

static int selected(const struct selection *sel, const char *name)
{
	if (!sel->have_re)
		return 1;
	return (regexec(&sel->re, name, 0, NULL, 0) == 0) != sel->negate;
}

/* Run (or list) every selected instance of def; the cross product of its dimensions is
 * walked like an odometer. Counts into *nsel, *nfailed. */
static void run_def(const struct ipcb_gbench_def *def, const struct selection *sel, int list,
		    size_t *nsel, size_t *nfailed)
{
	int64_t vals[IPCB_GBENCH_MAX_ARGS][IPCB_GBENCH_MAX_VALUES + 64];
	int nv[IPCB_GBENCH_MAX_ARGS], idx[IPCB_GBENCH_MAX_ARGS] = { 0 };
	char name[512];

	for (int d = 0; d < def->nargs; d++)
		nv[d] = dim_values(def, d, vals[d], (int)(sizeof(vals[d]) / sizeof(vals[d][0])));
	for (;;) {
		struct ipcb_gbench_state st = { .def = def };
		for (int d = 0; d < def->nargs; d++)
			st.args[d] = vals[d][idx[d]];
		instance_name(def, st.args, name, sizeof(name));
		if (selected(sel, name)) {
			++*nsel;
			if (list) {
				printf("%s\n", name);
			} else if (def->threads > 1) {
				printf("%-50s not run: needs %d threads together\n", name,
				       def->threads);
			} else {
				st.target = def->iterations && def->iterations < SMOKE_ITERATIONS
						    ? def->iterations
						    : SMOKE_ITERATIONS;
				def->run(&st, def);
				if (st.failed)
					++*nfailed;
				printf("%-50s %s (%llu iterations, not measured)\n", name,
				       st.err[0] ? st.err : "ran",
				       (unsigned long long)st.done);
			}
		}
		int d = def->nargs - 1;
		while (d >= 0 && ++idx[d] == nv[d])
			idx[d--] = 0;
		if (d < 0)
			break;
	}
}

int ipcb_gbench_main(int argc, char **argv)
{
	struct selection sel = { .have_re = 0 };
	int list = 0, bad = 0;
	size_t nsel = 0, nfailed = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strncmp(a, "--benchmark_filter=", 19)) {
			const char *f = a + 19;
			if (sel.have_re)
				regfree(&sel.re);
			sel.have_re = 0;
			sel.negate = f[0] == '-';
			f += sel.negate;
			if (strcmp(f, "all") != 0 && f[0] &&
			    regcomp(&sel.re, f, REG_EXTENDED | REG_NOSUB) != 0) {
				fprintf(stderr, "ipcbench: --benchmark_filter: bad regex '%s'\n", f);
				return 2;
			}
			sel.have_re = strcmp(f, "all") != 0 && f[0];
		} else if (!strcmp(a, "--benchmark_list_tests") ||
			   !strcmp(a, "--benchmark_list_tests=true")) {
			list = 1;
		} else if (strncmp(a, "--benchmark_", 12) != 0) {
			fprintf(stderr, "%s: error: unrecognized command-line flag: %s\n", argv[0], a);
			bad = 1;
		}
	}
	if (bad)
		goto out;
	if (!list)
		fprintf(stderr, "ipcbench: built without Google Benchmark (libbenchmark-dev): "
			"every benchmark runs %d iterations as a smoke test, nothing is measured\n",
			SMOKE_ITERATIONS);
	for (size_t i = 0; i < ndefs; i++)
		run_def(defs[i], &sel, list, &nsel, &nfailed);
	fflush(stdout);
	if (!nsel)
		fprintf(stderr, "ipcbench: no benchmark matches the filter\n");
out:
	if (sel.have_re)
		regfree(&sel.re);
	if (bad || !nsel)
		return 2;
	if (nfailed)
		return 1;
	return list ? 0 : IPCB_GBENCH_UNAVAILABLE;
}

bool ipcb_gbench_keep_running(struct ipcb_gbench_state *st)
{
	return ipcb_gbench_keep_running_batch(st, 1);
}

bool ipcb_gbench_keep_running_batch(struct ipcb_gbench_state *st, uint64_t n)
{
	if (st->err[0] || st->done >= st->target)
		return false;
	st->done += n;
	return true;
}

uint64_t ipcb_gbench_iterations(const struct ipcb_gbench_state *st)
{
	return st->done;
}

int64_t ipcb_gbench_range(const struct ipcb_gbench_state *st, int i)
{
	return i >= 0 && i < st->def->nargs ? st->args[i] : 0;
}

int ipcb_gbench_thread_index(const struct ipcb_gbench_state *st)
{
	(void)st;
	return 0;
}

void ipcb_gbench_pause_timing(struct ipcb_gbench_state *st)
{
	(void)st;
}

void ipcb_gbench_resume_timing(struct ipcb_gbench_state *st)
{
	(void)st;
}

void ipcb_gbench_set_iteration_time(struct ipcb_gbench_state *st, double seconds)
{
	(void)st;
	(void)seconds;
}

void ipcb_gbench_skip(struct ipcb_gbench_state *st, const char *reason)
{
	snprintf(st->err, sizeof(st->err), "skipped: %s", reason ? reason : "");
}

void ipcb_gbench_fail(struct ipcb_gbench_state *st, const char *reason)
{
	snprintf(st->err, sizeof(st->err), "FAILED: %s", reason && reason[0] ? reason : "failed");
	st->failed = 1;
}

void ipcb_gbench_set_items_processed(struct ipcb_gbench_state *st, int64_t items)
{
	(void)st;
	(void)items;
}

void ipcb_gbench_set_bytes_processed(struct ipcb_gbench_state *st, int64_t bytes)
{
	(void)st;
	(void)bytes;
}

void ipcb_gbench_set_counter(struct ipcb_gbench_state *st, const char *name, double value,
			     uint32_t flags)
{
	(void)st;
	(void)name;
	(void)value;
	(void)flags;
}

void ipcb_gbench_set_label(struct ipcb_gbench_state *st, const char *label)
{
	(void)st;
	(void)label;
}
