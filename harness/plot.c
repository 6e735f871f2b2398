/* SPDX-License-Identifier: MIT */
/*
 * `ipcbench plot`: results.csv -> per-series data files -> gnuplot templates -> PNG + SVG.
 *
 * Plotting works on files only, so a laptop can plot a server's run. The data is chosen
 * here and the look lives in plots/<script>.gp: this file picks the rows, groups them into
 * figures (kind x bench) and series, writes small tab-separated data files, and runs
 * gnuplot once per figure and format with the file names, legend titles, units and output
 * name passed as -e variables. The scripts are plain gnuplot and can be rerun by hand on
 * the data files.
 *
 * Figure kinds (the table plot_kinds[]; results/README.md lists what each expects):
 *   lines    x = size (latency_size, throughput_size), a percentile position (latency_pct),
 *            the worker count (counter_workers) or a parameter (pool_speedup: pool_size);
 *            one data file per series
 *   groups   one data file per series with the same cases (rows) in the same order, a row
 *            per case named from its params (spawn_bars)
 *   bars     one bar per series and size (manager_bars); one data file
 *   heatmap  one line per CPU pair from params cpu_a=..;cpu_b=.. (c2c_heatmap); one figure
 *            per series
 * A kind with no rows makes no figure. The same code draws overlays of several runs
 * (ipcb_plot_overlay, for the platform comparison of `ipcbench report`): the run is then
 * one more part of a series, and its label starts the legend entry.
 *
 * Rows: summary rows only (rep "median"), with status ok or NOISY (a noisy median is still
 * the best estimate; FAILED, SKIPPED and PARTIAL rows carry no value; RACE rows only where
 * the kind shows the race, the counter), a value, and a size > 0 where sizes are on a log
 * axis. If a series has two rows for one x and metric (the same case run twice with other
 * CPUs, say), the first in the file wins.
 *
 * gnuplot runs in the output directory with stdin from /dev/null and its output appended
 * to gnuplot.log there; data file names are made of [A-Za-z0-9._-] only, so they can be
 * passed as one space-separated string.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "compare.h"
#include "csv.h"
#include "plot.h"
#include "pyvsc.h"

/* What the x axis of a kind is, which also decides how its figure is drawn. */
enum plot_x {
	PX_SIZE,      /* lines against size_bytes */
	PX_PCT,       /* lines against percentile position, at one size */
	PX_WORKERS,   /* lines against the worker count */
	PX_PARAM,     /* lines against a numeric params item (kind->x_param) */
	PX_CASES,     /* grouped bars: a row per case (named from params) in every series */
	PX_BARS,      /* bars, one per series and size */
	PX_MATRIX,    /* heatmap over (cpu_a, cpu_b) */
	PX_PAIRS,     /* Python vs C: one bar per pair of pyvsc.c's table, not row-driven */
};

#define PLOT_MAXSLOT 10

struct plot_kind {
	const char *name, *script, *caption;
	const char *bench;          /* only rows of this bench, or NULL for any */
	enum plot_x x;
	int need_size;              /* rows need size_bytes > 0 (a log size axis) */
	int race_ok;                /* RACE rows are plotted (the counter shows the race) */
	int overlay;                /* drawn across runs by ipcb_plot_overlay */
	int ncols;                  /* value groups (v, lo, hi) per line of a data file */
	const char *metric[PLOT_MAXSLOT];
	const char *x_param;        /* PX_PARAM: the params key on the x axis */
};

static const struct plot_kind plot_kinds[] = {
	{ .name = "latency_size", .script = "latency_size.gp",
	  .caption = "round-trip latency vs message size", .x = PX_SIZE, .need_size = 1,
	  .overlay = 1, .ncols = 2, .metric = { "rtt_p50_ns", "rtt_p99_ns" } },
	{ .name = "throughput_size", .script = "throughput_size.gp",
	  .caption = "throughput vs message size", .x = PX_SIZE, .need_size = 1, .overlay = 1,
	  .ncols = 2, .metric = { "msgs_per_s", "bytes_per_s" } },
	/* slots 0-4 (round trips) or 5-9 (time per message): p50 p90 p99 p99.9 max */
	{ .name = "latency_pct", .script = "latency_pct.gp", .caption = "latency percentiles",
	  .x = PX_PCT, .need_size = 1, .overlay = 1, .ncols = 1,
	  .metric = { "rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns", "rtt_max_ns",
		      "per_msg_p50_ns", "per_msg_p90_ns", "per_msg_p99_ns", "per_msg_p999_ns",
		      "per_msg_max_ns" } },
	{ .name = "counter_workers", .script = "counter_workers.gp",
	  .caption = "updates vs workers, per lock type", .bench = "counter", .x = PX_WORKERS,
	  .race_ok = 1, .overlay = 1, .ncols = 3,
	  .metric = { "updates_per_s", "ns_per_update", "lost_updates" } },
	/* the pool bench computes speedup itself (over pool_size=1 of the same api and grain) */
	{ .name = "pool_speedup", .script = "pool_speedup.gp",
	  .caption = "speedup and throughput vs pool size", .bench = "pool", .x = PX_PARAM,
	  .overlay = 1, .ncols = 2, .metric = { "speedup", "tasks_per_s" },
	  .x_param = "pool_size" },
	{ .name = "spawn_bars", .script = "spawn_bars.gp", .caption = "cost of starting a child",
	  .bench = "spawn", .x = PX_CASES, .overlay = 1, .ncols = 2,
	  .metric = { "spawn_p50_ns", "spawn_p99_ns" } },
	{ .name = "manager_bars", .script = "bars.gp",
	  .caption = "Manager proxy vs shared memory, time per operation", .bench = "manager",
	  .x = PX_BARS, .overlay = 1, .ncols = 2, .metric = { "op_p50_ns", "op_p99_ns" } },
	{ .name = "c2c_heatmap", .script = "c2c_heatmap.gp",
	  .caption = "core-to-core round trip of a cache line (p50)", .bench = "c2c",
	  .x = PX_MATRIX, .ncols = 1, .metric = { "rtt_p50_ns" } },
	/* no metric: the pairs come from harness/pyvsc.c, after the row-driven kinds */
	{ .name = "python_vs_c", .script = "python_vs_c.gp",
	  .caption = "Python multiprocessing vs C doing the same job", .bench = "python",
	  .x = PX_PAIRS },
};
#define PLOT_NKINDS ((int)(sizeof(plot_kinds) / sizeof(plot_kinds[0])))

/* The x positions of p50, p90, p99, p99.9 and max on the percentile axis: 1 / (1 - q),
 * so each "nine" is one decade; max is drawn one decade past p99.9. */
static const double plot_pct_x[5] = { 2, 10, 100, 1000, 10000 };

/* Columns that make a series; the legend always names the first (mech). */
static const int plot_series_cols[] = {
	IPCB_COL_MECH, IPCB_COL_IMPL, IPCB_COL_MODE, IPCB_COL_WORKERS, IPCB_COL_PLACEMENT,
	IPCB_COL_PARAMS,
};
#define PLOT_NSER ((int)(sizeof(plot_series_cols) / sizeof(plot_series_cols[0])))
#define KEY_WORKERS 3
#define KEY_PARAMS 5

static const char *const plot_formats[] = { "png", "svg" };

/* One plottable summary row for one kind and slot, with copies of its strings. */
struct plot_pt {
	int kind, slot, run;
	long line;
	uint64_t size;
	double x, y;              /* y: second coordinate of a heatmap cell */
	double v, lo, hi;
	const char *bench, *unit;
	const char *key[PLOT_NSER];
	char strs[];
};

struct plot_pts {
	struct plot_pt **v;
	size_t n, cap;
};

/* A figure whose data files are written, waiting for gnuplot. */
struct plot_fig {
	const struct plot_kind *kind;
	char *base;      /* "<bench>-<kind>" */
	char *assign;    /* gnuplot -e text, without fmt and outfile */
};

struct plot_ctx {
	const char *const *run_dirs;
	const char *const *run_labels;   /* overlay: legend prefix per run; NULL for one run */
	int nruns;
	int overlay;
	char *plots_dir;
	char *subtitle;
	char *first_run_id;      /* from the first record of the first run */
	struct plot_fig *figs;
	int nfigs;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int plot_fail(struct plot_ctx *c, int ret, const char *fmt, ...)
{
	va_list ap;

	if (c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Does key k (index into plot_series_cols) tell series of this kind apart? The worker
 * count is the x axis of PX_WORKERS (and follows the pool size of PX_PARAM); the params of
 * a heatmap hold its coordinates, those of PX_CASES name its rows. (PX_PARAM points carry
 * their params without the x item.) */
static int plot_key_used(const struct plot_kind *kind, int k)
{
	if ((kind->x == PX_WORKERS || kind->x == PX_PARAM) && k == KEY_WORKERS)
		return 0;
	if ((kind->x == PX_MATRIX || kind->x == PX_CASES) && k == KEY_PARAMS)
		return 0;
	return 1;
}

/* Is the size part of a series (it is the x axis, or fixed per figure, otherwise)? */
static int plot_size_in_series(const struct plot_kind *kind)
{
	return kind->x != PX_SIZE && kind->x != PX_PCT;
}

/* Integer value of item key in a "k=v;k=v" list, or -1. */
static long plot_param_long(const char *params, const char *key)
{
	size_t kl = strlen(key);

	while (*params) {
		size_t l = strcspn(params, ";");

		if (l > kl && !strncmp(params, key, kl) && params[kl] == '=') {
			char *end;
			long v = strtol(params + kl + 1, &end, 10);

			return end == params + l && end != params + kl + 1 && v >= 0 ? v : -1;
		}
		params += l + (params[l] == ';');
	}
	return -1;
}

/* The coordinates of a row for a kind; -1 when the row cannot be placed (a heatmap row
 * without two CPUs). */
static int plot_xy(const struct plot_kind *kind, int slot, const struct ipcb_csv_rec *rec,
		   double *x, double *y)
{
	*y = 0;
	switch (kind->x) {
	case PX_SIZE:
	case PX_BARS:
		*x = (double)rec->size_bytes;
		return 0;
	case PX_PCT:
		*x = plot_pct_x[slot % 5];
		return 0;
	case PX_WORKERS:
		*x = rec->workers;
		return 0;
	case PX_PARAM: {
		long v = plot_param_long(rec->col[IPCB_COL_PARAMS], kind->x_param);

		if (v < 0)
			return -1;
		*x = (double)v;
		return 0;
	}
	case PX_CASES:
		*x = (double)rec->line;      /* rows in file order */
		return 0;
	case PX_MATRIX: {
		long a = plot_param_long(rec->col[IPCB_COL_PARAMS], "cpu_a");
		long b = plot_param_long(rec->col[IPCB_COL_PARAMS], "cpu_b");

		if (a < 0 || b < 0) {
			/* else the CPUs the two workers were given, "a;b" */
			const char *s = rec->col[IPCB_COL_CPUS];
			char *end;

			a = strtol(s, &end, 10);
			if (end == s || *end != ';')
				return -1;
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || *end)
				return -1;
		}
		if (a < 0 || b < 0 || a == b || a > 65535 || b > 65535)
			return -1;
		*x = (double)a;
		*y = (double)b;
		return 0;
	}
	case PX_PAIRS:
		return -1;      /* not made from single rows */
	}
	return -1;
}

/* params without the "eff." items and without the item key=... (key may be NULL). NULL
 * when out of memory. */
static char *plot_params_requested(const char *params, const char *key)
{
	size_t kl = key ? strlen(key) : 0, off = 0;
	char *out = malloc(strlen(params) + 1);

	if (!out)
		return NULL;
	while (*params) {
		size_t l = strcspn(params, ";");
		int drop = (l > 4 && !strncmp(params, "eff.", 4)) ||
			   (key && l > kl && !strncmp(params, key, kl) && params[kl] == '=');
		if (!drop && l) {
			if (off)
				out[off++] = ';';
			memcpy(out + off, params, l);
			off += l;
		}
		params += l + (params[l] == ';');
	}
	out[off] = 0;
	return out;
}

static struct plot_pt *plot_pt_new(const struct ipcb_csv_rec *rec, int kind, int slot, int run,
				   double x, double y)
{
	const char *src[PLOT_NSER + 2];
	size_t len = 0, off = 0;
	struct plot_pt *p;
	const char **dst[PLOT_NSER + 2];
	char *params = NULL;

	src[0] = rec->col[IPCB_COL_BENCH];
	src[1] = rec->col[IPCB_COL_UNIT];
	for (int k = 0; k < PLOT_NSER; k++)
		src[k + 2] = rec->col[plot_series_cols[k]];
	/* A series is named by what was asked for: effective values the kernel chose
	 * ("eff." items, which may change with the message size) do not split a line. */
	params = plot_params_requested(rec->col[IPCB_COL_PARAMS],
				       plot_kinds[kind].x == PX_PARAM ? plot_kinds[kind].x_param : NULL);
	if (!params)
		return NULL;
	src[KEY_PARAMS + 2] = params;
	for (int k = 0; k < PLOT_NSER + 2; k++)
		len += strlen(src[k]) + 1;
	p = malloc(sizeof(*p) + len);
	if (!p) {
		free(params);
		return NULL;
	}
	dst[0] = &p->bench;
	dst[1] = &p->unit;
	for (int k = 0; k < PLOT_NSER; k++)
		dst[k + 2] = &p->key[k];
	for (int k = 0; k < PLOT_NSER + 2; k++) {
		size_t l = strlen(src[k]) + 1;

		memcpy(p->strs + off, src[k], l);
		*dst[k] = p->strs + off;
		off += l;
	}
	free(params);
	p->kind = kind;
	p->slot = slot;
	p->run = run;
	p->line = rec->line;
	p->size = rec->size_bytes;
	p->x = x;
	p->y = y;
	p->v = rec->value;
	/* a median without an interval gets a zero-width one, so gnuplot keeps the point */
	p->lo = isnan(rec->ci_low) ? rec->value : rec->ci_low;
	p->hi = isnan(rec->ci_high) ? rec->value : rec->ci_high;
	return p;
}

static int plot_pts_add(struct plot_pts *a, struct plot_pt *p)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct plot_pt **v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = p;
	return 0;
}

static void plot_pts_free(struct plot_pts *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

static int plot_same_series(const struct plot_pt *a, const struct plot_pt *b)
{
	const struct plot_kind *kind = &plot_kinds[a->kind];

	if (a->run != b->run)
		return 0;
	for (int k = 0; k < PLOT_NSER; k++)
		if (plot_key_used(kind, k) && strcmp(a->key[k], b->key[k]))
			return 0;
	return !plot_size_in_series(kind) || a->size == b->size;
}

static int plot_cmp(const void *pa, const void *pb)
{
	const struct plot_pt *a = *(const struct plot_pt *const *)pa;
	const struct plot_pt *b = *(const struct plot_pt *const *)pb;
	const struct plot_kind *kind = &plot_kinds[a->kind];
	int d;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	d = strcmp(a->bench, b->bench);
	if (d)
		return d;
	if (a->run != b->run)
		return a->run < b->run ? -1 : 1;
	for (int k = 0; k < PLOT_NSER; k++) {
		if (!plot_key_used(kind, k))
			continue;
		d = strcmp(a->key[k], b->key[k]);
		if (d)
			return d;
	}
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->y != b->y)
		return a->y < b->y ? -1 : 1;
	if (a->slot != b->slot)
		return a->slot - b->slot;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Keep the plottable rows of run number run. Returns 0 or -errno (message set). */
static int plot_load_run(struct plot_ctx *c, int run, struct plot_pts *pts)
{
	struct ipcb_csv_reader *r;
	struct ipcb_csv_rec rec;
	char *path;
	int ret;

	if (asprintf(&path, "%s/results.csv", c->run_dirs[run]) < 0)
		return plot_fail(c, -ENOMEM, "out of memory");
	ret = ipcb_csv_open(&r, path, c->err, c->errlen);
	free(path);
	if (ret < 0)
		return ret;
	while ((ret = ipcb_csv_next(r, &rec)) == 1) {
		const char *status = rec.col[IPCB_COL_STATUS];
		const char *metric = rec.col[IPCB_COL_METRIC];
		int race;

		if (run == 0 && !c->first_run_id) {
			c->first_run_id = strdup(rec.col[IPCB_COL_RUN_ID]);
			if (!c->first_run_id) {
				ret = -ENOMEM;
				break;
			}
		}
		if (rec.rep != IPCB_CSV_REP_MEDIAN || isnan(rec.value) || !*metric)
			continue;
		race = !strcmp(status, "RACE");
		if (strcmp(status, "ok") && strcmp(status, "NOISY") && !race)
			continue;
		for (int k = 0; k < PLOT_NKINDS; k++) {
			const struct plot_kind *kind = &plot_kinds[k];

			if (c->overlay && !kind->overlay)
				continue;
			if (kind->bench && strcmp(kind->bench, rec.col[IPCB_COL_BENCH]))
				continue;
			if ((kind->need_size && rec.size_bytes == 0) || (race && !kind->race_ok))
				continue;
			for (int s = 0; s < PLOT_MAXSLOT && kind->metric[s]; s++) {
				struct plot_pt *p;
				double x, y;

				if (strcmp(metric, kind->metric[s]))
					continue;
				if (plot_xy(kind, s, &rec, &x, &y) < 0)
					continue;
				p = plot_pt_new(&rec, k, s, run, x, y);
				if (!p || plot_pts_add(pts, p) < 0) {
					free(p);
					ret = -ENOMEM;
					goto out;
				}
			}
		}
	}
out:
	if (ret == -ENOMEM)
		plot_fail(c, ret, "out of memory");
	else if (ret < 0)
		snprintf(c->err, c->errlen, "%s", ipcb_csv_error(r));
	ipcb_csv_close(r);
	return ret < 0 ? ret : 0;
}

/* Copy s into a file name part: [A-Za-z0-9._-] kept, anything else '_', at most 48. */
static void plot_file_part(char *out, size_t len, const char *s)
{
	size_t i = 0;

	for (; *s && i + 1 < len && i < 48; s++) {
		unsigned char ch = (unsigned char)*s;
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || (ch == '.' && i);

		out[i++] = ok ? (char)ch : '_';
	}
	if (i == 0 && len > 1)
		out[i++] = '_';
	out[i] = '\0';
}

/* Text safe inside a gnuplot single-quoted string and a double-quoted word() item: no
 * quotes (they become '`'), no control characters; at most max bytes. */
static void plot_put_text(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; *s && i < max; s++, i++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\'' || ch == '"')
			ch = '`';
		else if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		putc(ch, f);
	}
}

/* gnuplot assignment name='text' (single quotes: nothing is interpreted in them). */
static void plot_assign(FILE *f, const char *name, const char *text, size_t max)
{
	fprintf(f, "%s='", name);
	plot_put_text(f, text, max);
	fputs("'; ", f);
}

static void plot_put_double(FILE *f, double v)
{
	if (isnan(v)) {
		fputs("NaN", f);
	} else {
		char buf[IPCB_CSV_DOUBLE_LEN];

		ipcb_csv_format_double(buf, v);
		fputs(buf, f);
	}
}

/* "64 B", "4 KiB", "1 MiB" */
static void plot_size_text(uint64_t size, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (i < 4 && size >= 1024 && size % 1024 == 0) {
		size /= 1024;
		i++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)size, u[i]);
}

static FILE *plot_create(struct plot_ctx *c, const char *name, char **path_out)
{
	char *path;
	FILE *f;

	*path_out = NULL;
	if (asprintf(&path, "%s/%s", c->plots_dir, name) < 0) {
		plot_fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	f = fopen(path, "we");
	if (!f) {
		int e = errno;

		plot_fail(c, -e, "create (%s): %s (errno %d)", path, strerror(e), e);
		free(path);
		errno = e;
		return NULL;
	}
	*path_out = path;
	return f;
}

static int plot_finish_file(struct plot_ctx *c, FILE *f, char *path)
{
	int ret = 0;

	errno = 0;
	if (ferror(f) | (fclose(f) != 0)) {
		ret = errno ? -errno : -EIO;
		plot_fail(c, ret, "write (%s): %s (errno %d)", path, strerror(-ret), -ret);
	}
	free(path);
	return ret;
}

/* One line of a lines data file: x, then (v, lo, hi) per column. */
struct plot_line {
	double x;
	double v[3][3];
};

/* Write the data file of one series of a lines figure (points pts[0..n-1], sorted by x
 * then slot). */
static int plot_write_series(struct plot_ctx *c, const char *name, const char *label,
			     const struct plot_kind *kind, struct plot_pt **pts, size_t n)
{
	struct plot_line *ln;
	size_t nl = 0;
	char *path;
	FILE *f;

	ln = calloc(n + 1, sizeof(*ln));
	if (!ln)
		return plot_fail(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n;) {
		double x = pts[i]->x;
		struct plot_line *l = &ln[nl++];

		l->x = x;
		for (int a = 0; a < 3; a++)
			for (int b = 0; b < 3; b++)
				l->v[a][b] = NAN;
		for (; i < n && pts[i]->x == x; i++) {
			const struct plot_pt *p = pts[i];
			int col = kind->x == PX_PCT ? 0 : p->slot;

			if (col < 3 && isnan(l->v[col][0])) {
				l->v[col][0] = p->v;
				l->v[col][1] = p->lo;
				l->v[col][2] = p->hi;
			}
		}
	}
	f = plot_create(c, name, &path);
	if (!f) {
		free(ln);
		return -errno;
	}
	fprintf(f, "# ipcbench %s data, series: ", kind->name);
	plot_put_text(f, label, 400);
	fprintf(f, "\n# %s", kind->x == PX_SIZE ? "size_bytes" : kind->x == PX_PCT ?
		"percentile_x(2=p50,10=p90,100=p99,1000=p99.9,10000=max)" :
		kind->x == PX_PARAM ? kind->x_param : "workers");
	for (int col = 0; col < kind->ncols; col++)
		fprintf(f, "\t%s\tci_low\tci_high",
			kind->x == PX_PCT ? "latency_ns" : kind->metric[col]);
	putc('\n', f);
	for (size_t i = 0; i < nl; i++) {
		plot_put_double(f, ln[i].x);
		for (int col = 0; col < kind->ncols; col++)
			for (int b = 0; b < 3; b++) {
				putc('\t', f);
				plot_put_double(f, ln[i].v[col][b]);
			}
		putc('\n', f);
	}
	free(ln);
	return plot_finish_file(c, f, path);
}

/* 1 if the ';'-separated list has the item it[0..len-1]. */
static int plot_params_have(const char *list, const char *it, size_t len)
{
	while (*list) {
		size_t l = strcspn(list, ";");

		if (l == len && !memcmp(list, it, len))
			return 1;
		list += l + (list[l] == ';');
	}
	return 0;
}

/* Do p and q belong to the same run and mechanism (the set a legend compares within)? */
static int plot_peer(const struct plot_pt *p, const struct plot_pt *q)
{
	return p->run == q->run && !strcmp(p->key[0], q->key[0]);
}

/* Append one part of a label, a space before all but the first. */
__attribute__((format(printf, 3, 4)))
static void plot_part(FILE *fl, int *first, const char *fmt, ...)
{
	va_list ap;

	if (!*first)
		putc(' ', fl);
	*first = 0;
	va_start(ap, fmt);
	vfprintf(fl, fmt, ap);
	va_end(ap);
}

/*
 * Legend text of the series whose first point is p, among the figure's points pts[0..n-1]:
 * the run's label in an overlay, the mechanism (or the bench when there is none; a bar's
 * label leaves the bench to the title), then only what tells p apart from other series of
 * the same run and mechanism -- a differing impl, mode, workers, placement or size, and
 * those params items that some of them lack. Mechanisms differ in their own parameters,
 * and runs in their effective values, so comparing across them would put every parameter
 * in every label.
 */
static void plot_label(const struct plot_ctx *c, FILE *fl, struct plot_pt **pts, size_t n,
		       const struct plot_pt *p)
{
	const struct plot_kind *kind = &plot_kinds[p->kind];
	int first = 1;

	if (c->overlay)
		fprintf(fl, "%s: ", c->run_labels[p->run]);
	if (*p->key[0])
		plot_part(fl, &first, "%s", p->key[0]);
	else if (kind->x != PX_BARS)
		plot_part(fl, &first, "%s", p->bench);
	for (int k = 1; k < PLOT_NSER; k++) {
		const char *v = p->key[k];
		int differs = 0;

		if (!plot_key_used(kind, k))
			continue;
		for (size_t i = 0; i < n && !differs; i++)
			differs = plot_peer(pts[i], p) && strcmp(pts[i]->key[k], v);
		if (!differs)
			continue;
		if (plot_series_cols[k] == IPCB_COL_WORKERS) {
			plot_part(fl, &first, "workers=%s", v);
		} else if (plot_series_cols[k] == IPCB_COL_PARAMS) {
			while (*v) {
				size_t l = strcspn(v, ";");
				int everywhere = 1;

				for (size_t i = 0; i < n && everywhere; i++)
					everywhere = !plot_peer(pts[i], p) ||
						     plot_params_have(pts[i]->key[k], v, l);
				if (!everywhere)
					plot_part(fl, &first, "%.*s", (int)l, v);
				v += l + (v[l] == ';');
			}
		} else {
			plot_part(fl, &first, "%s", *v ? v : "-");
		}
	}
	if (plot_size_in_series(kind) && kind->x != PX_BARS) {
		int differs = 0;

		for (size_t i = 0; i < n && !differs; i++)
			differs = plot_peer(pts[i], p) && pts[i]->size != p->size;
		if (differs) {
			char sz[32];

			plot_size_text(p->size, sz, sizeof(sz));
			plot_part(fl, &first, "%s", sz);
		}
	}
	if (first)
		fputs(p->bench, fl);     /* nothing told it apart: a bar of a mechanism-less bench */
}

static char *plot_label_str(const struct plot_ctx *c, struct plot_pt **pts, size_t n,
			    const struct plot_pt *p)
{
	char *label = NULL;
	size_t len;
	FILE *fl = open_memstream(&label, &len);

	if (!fl)
		return NULL;
	plot_label(c, fl, pts, n, p);
	if (fclose(fl) != 0) {
		free(label);
		return NULL;
	}
	return label;
}

/* Queue a figure: base and assign are taken over (freed on failure too). */
static int plot_queue(struct plot_ctx *c, const struct plot_kind *kind, char *base, char *assign)
{
	struct plot_fig *figs = realloc(c->figs, (size_t)(c->nfigs + 1) * sizeof(*figs));

	if (!figs) {
		free(base);
		free(assign);
		return plot_fail(c, -ENOMEM, "out of memory");
	}
	c->figs = figs;
	c->figs[c->nfigs].kind = kind;
	c->figs[c->nfigs].base = base;
	c->figs[c->nfigs].assign = assign;
	c->nfigs++;
	return 0;
}

/* The assignments every figure gets: title lines. */
static void plot_assign_titles(struct plot_ctx *c, FILE *fa, const struct plot_kind *kind,
			       const char *bench, const char *extra)
{
	char *t;

	if (asprintf(&t, "%s: %s%s%s%s", bench, kind->caption, extra ? " " : "", extra ? extra : "",
		     c->overlay ? ", runs overlaid" : "") < 0)
		t = NULL;
	plot_assign(fa, "plot_title", t ? t : kind->caption, 400);
	free(t);
	plot_assign(fa, "plot_subtitle", c->subtitle, 600);
}

/* machine.pus of dir/metadata.json, 0 when unknown. */
static int plot_run_pus(const char *dir)
{
	json_t *root = NULL;
	char *path;
	int n = 0;

	if (asprintf(&path, "%s/metadata.json", dir) >= 0) {
		root = json_load_file(path, 0, NULL);
		free(path);
	}
	n = (int)json_integer_value(json_object_get(json_object_get(root, "machine"), "pus"));
	json_decref(root);
	return n > 0 ? n : 0;
}

/*
 * The latency_pct figure shows one size: the one with most series that have p50, p90 and
 * p99 (the smallest on a tie), from the round-trip metrics if there are any, else the
 * per-message ones. Keeps those points in out[] (pts order) and returns their count.
 */
static size_t plot_pct_select(struct plot_pt **pts, size_t n, struct plot_pt **out,
			      uint64_t *size_out)
{
	int group = 1;
	uint64_t best_size = 0;
	int best_count = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (pts[i]->slot < 5)
			group = 0;
	/* for each size (points sorted by series, then size), count qualifying series */
	for (size_t i = 0; i < n; i++) {
		uint64_t size = pts[i]->size;
		int count = 0, seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = pts[j]->size == size;
		if (seen)
			continue;
		for (size_t a = 0, b; a < n; a = b) {
			int have = 0;

			for (b = a + 1; b < n && plot_same_series(pts[a], pts[b]); b++)
				;
			for (size_t k = a; k < b; k++)
				if (pts[k]->size == size && pts[k]->slot / 5 == group &&
				    pts[k]->slot % 5 < 3)
					have |= 1 << (pts[k]->slot % 5);
			count += have == 7;
		}
		if (count > best_count || (count == best_count && count && size < best_size)) {
			best_count = count;
			best_size = size;
		}
	}
	if (!best_count)
		return 0;
	for (size_t a = 0, b; a < n; a = b) {
		int have = 0;

		for (b = a + 1; b < n && plot_same_series(pts[a], pts[b]); b++)
			;
		for (size_t k = a; k < b; k++)
			if (pts[k]->size == best_size && pts[k]->slot / 5 == group &&
			    pts[k]->slot % 5 < 3)
				have |= 1 << (pts[k]->slot % 5);
		if (have != 7)
			continue;
		for (size_t k = a; k < b; k++)
			if (pts[k]->size == best_size && pts[k]->slot / 5 == group)
				out[m++] = pts[k];
	}
	*size_out = best_size;
	return m;
}

/* A lines figure: pts[0..n-1] share kind and bench. One data file per series. */
static int plot_fig_lines(struct plot_ctx *c, struct plot_pt **pts, size_t n)
{
	const struct plot_kind *kind = &plot_kinds[pts[0]->kind];
	int have[3] = { 0 }, series = 0, ret = 0, lost = 0;
	const char *unit[3] = { NULL, NULL, NULL };
	char bench[64], name[160], extra[96] = "";
	char *files = NULL, *titles = NULL, *assign = NULL, *base = NULL, *label = NULL;
	char *lost_files = NULL;
	size_t files_len, titles_len, assign_len, lost_len;
	struct plot_pt **sel = NULL;
	FILE *ff = NULL, *ft = NULL, *fa = NULL, *fl = NULL;

	if (kind->x == PX_PCT) {
		uint64_t size = 0;
		char sz[32];

		sel = malloc(n * sizeof(*sel));
		if (!sel)
			return plot_fail(c, -ENOMEM, "out of memory");
		n = plot_pct_select(pts, n, sel, &size);
		if (!n) {
			free(sel);
			return 0;       /* no series with p50, p90 and p99: no figure */
		}
		pts = sel;
		plot_size_text(size, sz, sizeof(sz));
		snprintf(extra, sizeof(extra), "at %s (%s)", sz,
			 pts[0]->slot < 5 ? "round trip" : "time per message");
	}
	for (size_t i = 0; i < n; i++) {
		int col = kind->x == PX_PCT ? 0 : pts[i]->slot;

		have[col] = 1;
		if (!unit[col])
			unit[col] = pts[i]->unit;
		if (kind->x == PX_WORKERS && col == 2 && pts[i]->v > 0)
			lost = 1;
	}
	plot_file_part(bench, sizeof(bench), pts[0]->bench);
	if (asprintf(&base, "%s-%s", bench, kind->name) < 0) {
		base = NULL;
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	ff = open_memstream(&files, &files_len);
	ft = open_memstream(&titles, &titles_len);
	fl = open_memstream(&lost_files, &lost_len);
	if (!ff || !ft || !fl) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0, j; i < n; i = j) {
		int series_lost = 0;

		for (j = i + 1; j < n && plot_same_series(pts[i], pts[j]); j++)
			;
		series++;
		for (size_t k = i; k < j; k++)
			series_lost |= kind->x == PX_WORKERS && pts[k]->slot == 2 && pts[k]->v > 0;
		label = plot_label_str(c, pts, n, pts[i]);
		if (!label) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		snprintf(name, sizeof(name), "%s-%d.dat", base, series);
		ret = plot_write_series(c, name, label, kind, pts + i, j - i);
		if (ret)
			goto out;
		fprintf(ff, "%s%s", series > 1 ? " " : "", name);
		if (series_lost)
			fprintf(fl, "%s%s", ftell(fl) ? " " : "", name);
		fprintf(ft, "%s\"", series > 1 ? " " : "");
		plot_put_text(ft, label, 80);
		putc('"', ft);
		free(label);
		label = NULL;
	}
	ret = fclose(ff);
	ret |= fclose(ft);
	ret |= fclose(fl);
	ff = ft = fl = NULL;
	if (ret) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}

	fa = open_memstream(&assign, &assign_len);
	if (!fa) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	plot_assign(fa, "files", files, SIZE_MAX);
	/* titles holds double-quoted items: quoting it again with plot_assign would turn
	 * those quotes into '`'. Its items were cleaned by plot_put_text already. */
	fprintf(fa, "titles='%s'; ", titles);
	plot_assign_titles(c, fa, kind, pts[0]->bench, extra[0] ? extra : NULL);
	plot_assign(fa, "unit1", unit[0] ? unit[0] : "", 400);
	plot_assign(fa, "unit2", unit[1] ? unit[1] : (unit[0] ? unit[0] : ""), 400);
	plot_assign(fa, "unit3", unit[2] ? unit[2] : "", 400);
	fprintf(fa, "have1=%d; have2=%d; have3=%d; have_lost=%d; ", have[0], have[1], have[2],
		lost);
	plot_assign(fa, "lost_files", lost_files, SIZE_MAX);
	/* a CPU count line only makes sense for one machine */
	if (kind->x == PX_PARAM && !c->overlay)
		fprintf(fa, "ncpus=%d; ", plot_run_pus(c->run_dirs[0]));
	if (fclose(fa) != 0) {
		fa = NULL;
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	fa = NULL;
	ret = plot_queue(c, kind, base, assign);
	base = assign = NULL;
out:
	if (ff)
		fclose(ff);
	if (ft)
		fclose(ft);
	if (fl)
		fclose(fl);
	if (fa)
		fclose(fa);
	free(files);
	free(titles);
	free(lost_files);
	free(assign);
	free(label);
	free(base);
	free(sel);
	return ret;
}

/* The value of item it for a case name: sizes (keys ending in "_bytes") as "1GiB", nothing
 * for "none" and "0". */
static void plot_case_part(FILE *f, int *first, const char *k, size_t kl, const char *v,
			   size_t vl)
{
	char buf[32];

	if ((vl == 4 && !memcmp(v, "none", 4)) || (vl == 1 && *v == '0'))
		return;
	if (kl > 6 && !memcmp(k + kl - 6, "_bytes", 6)) {
		char num[32], *end;
		unsigned long long b;

		snprintf(num, sizeof(num), "%.*s", (int)(vl < 31 ? vl : 31), v);
		b = strtoull(num, &end, 10);
		if (!*end && end != num) {
			plot_size_text(b, buf, sizeof(buf));
			memmove(strchr(buf, ' '), strchr(buf, ' ') + 1, strlen(strchr(buf, ' ')));
			v = buf;
			vl = strlen(buf);
		}
	}
	fprintf(f, "%s%.*s", *first ? "" : "_", (int)vl, v);
	*first = 0;
}

/* 1 if every point has params key k, and some two have different values for it. */
static int plot_case_key(struct plot_pt **pts, size_t n, const char *k, size_t kl)
{
	const char *first = NULL;
	size_t first_len = 0;
	int varies = 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = pts[i]->key[KEY_PARAMS];
		int found = 0;

		while (*s && !found) {
			size_t l = strcspn(s, ";");

			if (l > kl && !strncmp(s, k, kl) && s[kl] == '=') {
				const char *v = s + kl + 1;
				size_t vl = l - kl - 1;

				found = 1;
				if (!first) {
					first = v;
					first_len = vl;
				} else if (vl != first_len || memcmp(v, first, vl)) {
					varies = 1;
				}
			}
			s += l + (s[l] == ';');
		}
		if (!found)
			return 0;
	}
	return varies;
}

/* The case name of p among the figure's points: the values of the params items that every
 * point has and that differ between points, joined by '_' ("fork", "fork_1GiB_thp"). */
static char *plot_case_name(struct plot_pt **pts, size_t n, const struct plot_pt *p)
{
	const char *s = p->key[KEY_PARAMS];
	char *out = NULL;
	size_t len;
	int first = 1;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	while (*s) {
		size_t l = strcspn(s, ";");
		const char *eq = memchr(s, '=', l);

		if (eq && plot_case_key(pts, n, s, (size_t)(eq - s)))
			plot_case_part(f, &first, s, (size_t)(eq - s), eq + 1,
				       l - (size_t)(eq - s) - 1);
		s += l + (s[l] == ';');
	}
	if (first)
		fputs(p->bench, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	/* no spaces: the scripts' xtic labels, and word() on the legend */
	for (char *q = out; *q; q++)
		if (*q == ' ' || *q == '\t')
			*q = '_';
	return out;
}

/*
 * Grouped bars (spawn_bars.gp): one data file per series, each with a row for every case
 * of the figure in the same order (the order the cases first appear in the file), NaN
 * where the series has no number for it, so the groups line up.
 */
static int plot_fig_cases(struct plot_ctx *c, struct plot_pt **pts, size_t n)
{
	const struct plot_kind *kind = &plot_kinds[pts[0]->kind];
	char **name = calloc(n + 1, sizeof(*name)), bench[64], file[160];
	size_t *order = malloc((n + 1) * sizeof(*order)), ncase = 0;
	char *files = NULL, *titles = NULL, *assign = NULL, *base = NULL;
	size_t files_len, titles_len, assign_len;
	FILE *ff = NULL, *ft = NULL, *fa = NULL;
	int ret = 0, series = 0;

	if (!name || !order) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		name[i] = plot_case_name(pts, n, pts[i]);
		if (!name[i]) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
	}
	/* distinct names by first line in the file */
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < ncase && strcmp(name[order[k]], name[i]); k++)
			;
		if (k == ncase)
			order[ncase++] = i;
		else if (pts[i]->line < pts[order[k]]->line)
			order[k] = i;
	}
	for (size_t a = 1; a < ncase; a++)
		for (size_t b = a; b > 0 && pts[order[b - 1]]->line > pts[order[b]]->line; b--) {
			size_t t = order[b];
			order[b] = order[b - 1];
			order[b - 1] = t;
		}
	plot_file_part(bench, sizeof(bench), pts[0]->bench);
	if (asprintf(&base, "%s-%s", bench, kind->name) < 0) {
		base = NULL;
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	ff = open_memstream(&files, &files_len);
	ft = open_memstream(&titles, &titles_len);
	if (!ff || !ft) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0, j; i < n; i = j) {
		char *label, *path;
		FILE *f;

		for (j = i + 1; j < n && plot_same_series(pts[i], pts[j]); j++)
			;
		series++;
		label = plot_label_str(c, pts, n, pts[i]);
		if (!label) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		snprintf(file, sizeof(file), "%s-%d.dat", base, series);
		f = plot_create(c, file, &path);
		if (!f) {
			free(label);
			ret = -errno;
			goto out;
		}
		fprintf(f, "# ipcbench %s data, series: ", kind->name);
		plot_put_text(f, label, 400);
		fprintf(f, "\n# case\t%s\tci_low\tci_high\t%s\tci_low\tci_high\n", kind->metric[0],
			kind->metric[1]);
		for (size_t k = 0; k < ncase; k++) {
			double v[2][3] = { { NAN, NAN, NAN }, { NAN, NAN, NAN } };

			for (size_t q = i; q < j; q++) {
				int sl = pts[q]->slot & 1;

				if (strcmp(name[q], name[order[k]]) || !isnan(v[sl][0]))
					continue;
				v[sl][0] = pts[q]->v;
				v[sl][1] = pts[q]->lo;
				v[sl][2] = pts[q]->hi;
			}
			plot_put_text(f, name[order[k]], 80);
			for (int sl = 0; sl < 2; sl++)
				for (int b = 0; b < 3; b++) {
					putc('\t', f);
					plot_put_double(f, v[sl][b]);
				}
			putc('\n', f);
		}
		ret = plot_finish_file(c, f, path);
		if (ret) {
			free(label);
			goto out;
		}
		fprintf(ff, "%s%s", series > 1 ? " " : "", file);
		fprintf(ft, "%s\"", series > 1 ? " " : "");
		plot_put_text(ft, label, 80);
		putc('"', ft);
		free(label);
	}
	ret = fclose(ff);
	ret |= fclose(ft);
	ff = ft = NULL;
	fa = ret ? NULL : open_memstream(&assign, &assign_len);
	if (!fa) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	plot_assign(fa, "files", files, SIZE_MAX);
	fprintf(fa, "titles='%s'; ", titles);
	plot_assign_titles(c, fa, kind, pts[0]->bench, NULL);
	ret = fclose(fa);
	fa = NULL;
	if (ret) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	ret = plot_queue(c, kind, base, assign);
	base = assign = NULL;
out:
	if (ff)
		fclose(ff);
	if (ft)
		fclose(ft);
	if (fa)
		fclose(fa);
	for (size_t i = 0; name && i < n; i++)
		free(name[i]);
	free(name);
	free(order);
	free(files);
	free(titles);
	free(assign);
	free(base);
	return ret;
}

/* A bars figure: one data file, one line per series and size: label, then (v, lo, hi) of
 * the two metrics. */
static int plot_fig_bars(struct plot_ctx *c, struct plot_pt **pts, size_t n)
{
	const struct plot_kind *kind = &plot_kinds[pts[0]->kind];
	const char *unit[2] = { NULL, NULL };
	char bench[64], name[160], *path, *base = NULL, *assign = NULL;
	size_t assign_len;
	int have[2] = { 0 }, nbars = 0, ret;
	FILE *f, *fa;

	for (size_t i = 0; i < n; i++) {
		have[pts[i]->slot & 1] = 1;
		if (!unit[pts[i]->slot & 1])
			unit[pts[i]->slot & 1] = pts[i]->unit;
	}
	if (!have[0])
		return 0;            /* the second metric alone makes no bar */
	plot_file_part(bench, sizeof(bench), pts[0]->bench);
	if (asprintf(&base, "%s-%s", bench, kind->name) < 0)
		return plot_fail(c, -ENOMEM, "out of memory");
	snprintf(name, sizeof(name), "%s.dat", base);
	f = plot_create(c, name, &path);
	if (!f) {
		free(base);
		return -errno;
	}
	fprintf(f, "# ipcbench %s data: label\t%s\tci_low\tci_high\t%s\tci_low\tci_high\n",
		kind->name, kind->metric[0], kind->metric[1] ? kind->metric[1] : "-");
	for (size_t i = 0, j; i < n; i = j) {
		double v[2][3] = { { NAN, NAN, NAN }, { NAN, NAN, NAN } };
		char *label, sz[32];

		for (j = i + 1; j < n && plot_same_series(pts[i], pts[j]); j++)
			;
		for (size_t k = i; k < j; k++) {
			int s = pts[k]->slot & 1;

			if (isnan(v[s][0])) {
				v[s][0] = pts[k]->v;
				v[s][1] = pts[k]->lo;
				v[s][2] = pts[k]->hi;
			}
		}
		if (isnan(v[0][0]))
			continue;
		label = plot_label_str(c, pts, n, pts[i]);
		if (!label) {
			fclose(f);
			free(path);
			free(base);
			return plot_fail(c, -ENOMEM, "out of memory");
		}
		plot_put_text(f, label, 80);
		if (pts[i]->size) {
			plot_size_text(pts[i]->size, sz, sizeof(sz));
			fprintf(f, " %s", sz);
		}
		free(label);
		for (int s = 0; s < 2; s++)
			for (int b = 0; b < 3; b++) {
				putc('\t', f);
				plot_put_double(f, v[s][b]);
			}
		putc('\n', f);
		nbars++;
	}
	ret = plot_finish_file(c, f, path);
	if (ret) {
		free(base);
		return ret;
	}
	fa = open_memstream(&assign, &assign_len);
	if (!fa) {
		free(base);
		return plot_fail(c, -ENOMEM, "out of memory");
	}
	plot_assign(fa, "file", name, SIZE_MAX);
	plot_assign_titles(c, fa, kind, pts[0]->bench, NULL);
	plot_assign(fa, "unit1", unit[0] ? unit[0] : "", 400);
	plot_assign(fa, "unit2", unit[1] ? unit[1] : (unit[0] ? unit[0] : ""), 400);
	plot_assign(fa, "name1", kind->metric[0], 400);
	plot_assign(fa, "name2", kind->metric[1] ? kind->metric[1] : "", 400);
	fprintf(fa, "nbars=%d; have2=%d; ", nbars, have[1]);
	if (fclose(fa) != 0) {
		free(base);
		free(assign);
		return plot_fail(c, -ENOMEM, "out of memory");
	}
	return plot_queue(c, kind, base, assign);
}

/* Value of item key in a "k=v;k=v" list into buf ("-" when absent). */
static void plot_param_text(const char *params, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);

	snprintf(buf, len, "-");
	while (*params) {
		size_t l = strcspn(params, ";");

		if (l > kl && !strncmp(params, key, kl) && params[kl] == '=') {
			snprintf(buf, len, "%.*s", (int)(l - kl - 1), params + kl + 1);
			return;
		}
		params += l + (params[l] == ';');
	}
}

/*
 * Heatmaps: one figure per series (mechanism, ...), in the format plots/c2c_heatmap.gp
 * reads: one line per measured pair with cpu_a < cpu_b (the script mirrors it and greys
 * the diagonal), "cpu_a cpu_b value ci_low ci_high relation"; a pair given twice keeps its
 * first row.
 */
static int plot_fig_heatmap(struct plot_ctx *c, struct plot_pt **pts, size_t n)
{
	const struct plot_kind *kind = &plot_kinds[pts[0]->kind];
	char bench[64];
	int fig = 0, nseries = 0, ret = 0;

	for (size_t i = 0, j; i < n; i = j, nseries++)
		for (j = i + 1; j < n && plot_same_series(pts[i], pts[j]); j++)
			;
	plot_file_part(bench, sizeof(bench), pts[0]->bench);
	for (size_t i = 0, j; i < n && !ret; i = j) {
		char *base = NULL, *assign = NULL, *label = NULL, *path, name[160], rel[64];
		double pa = -1, pb = -1;
		size_t assign_len;
		FILE *f, *fa;

		for (j = i + 1; j < n && plot_same_series(pts[i], pts[j]); j++)
			;
		fig++;
		if (nseries > 1 && asprintf(&base, "%s-%s-%d", bench, kind->name, fig) < 0)
			base = NULL;
		else if (nseries <= 1 && asprintf(&base, "%s-%s", bench, kind->name) < 0)
			base = NULL;
		label = plot_label_str(c, pts + i, j - i, pts[i]);
		if (!base || !label) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto next;
		}
		snprintf(name, sizeof(name), "%s.dat", base);
		f = plot_create(c, name, &path);
		if (!f) {
			ret = -errno;
			goto next;
		}
		fprintf(f, "# ipcbench %s data, series: ", kind->name);
		plot_put_text(f, label, 400);
		fprintf(f, "\n# cpu_a\tcpu_b\t%s\tci_low\tci_high\trelation\n", kind->metric[0]);
		/* sorted by (x, y) within the series; (b, a) rows are turned into (a, b) */
		for (size_t k = i; k < j; k++) {
			const struct plot_pt *p = pts[k];
			double a = p->x < p->y ? p->x : p->y, b = p->x < p->y ? p->y : p->x;

			if (a == pa && b == pb)
				continue;
			pa = a;
			pb = b;
			plot_param_text(p->key[KEY_PARAMS], "relation", rel, sizeof(rel));
			fprintf(f, "%.0f\t%.0f\t", a, b);
			plot_put_double(f, p->v);
			putc('\t', f);
			plot_put_double(f, p->lo);
			putc('\t', f);
			plot_put_double(f, p->hi);
			putc('\t', f);
			plot_put_text(f, rel, 40);
			putc('\n', f);
		}
		ret = plot_finish_file(c, f, path);
		if (ret)
			goto next;
		fa = open_memstream(&assign, &assign_len);
		if (!fa) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto next;
		}
		plot_assign(fa, "file", name, SIZE_MAX);
		plot_assign_titles(c, fa, kind, label, NULL);
		if (fclose(fa) != 0) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto next;
		}
		ret = plot_queue(c, kind, base, assign);
		base = assign = NULL;
next:
		free(base);
		free(assign);
		free(label);
	}
	return ret;
}

/*
 * Python vs C (plots/python_vs_c.gp): one line per pair of harness/pyvsc.c's table that
 * the run has a Python case for, in the table's order, "label  slower  slower_lo
 * slower_hi  text": how many times slower Python is than C (NaN when there is no ratio),
 * the same from the ends of the two intervals, and what to print by the bar -- the two
 * medians, the lost updates side by side, or why there is no C counterpart. No figure
 * when no line has two numbers: a chart of missing counterparts says nothing.
 */
static int plot_fig_pyvsc(struct plot_ctx *c)
{
	const struct plot_kind *kind = NULL;
	struct ipcb_pyvsc_line *v = NULL;
	struct ipcb_results res;
	char err[256], name[160], *path, *base = NULL, *assign = NULL;
	size_t assign_len;
	int n = 0, nbars = 0, any = 0, ret;
	FILE *f, *fa;

	for (int k = 0; k < PLOT_NKINDS; k++)
		if (plot_kinds[k].x == PX_PAIRS)
			kind = &plot_kinds[k];
	/* the rows were read once already; a failure here is a failure there */
	if (ipcb_results_load(c->run_dirs[0], &res, err, sizeof(err)) < 0)
		return 0;
	ret = ipcb_pyvsc_pairs(&res, &v, &n);
	if (ret < 0) {
		ipcb_results_free(&res);
		return plot_fail(c, ret, "out of memory");
	}
	for (int i = 0; i < n; i++)
		any |= v[i].c != NULL;
	if (!any)
		goto out;
	if (asprintf(&base, "python-%s", kind->name) < 0) {
		base = NULL;
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(name, sizeof(name), "%s.dat", base);
	f = plot_create(c, name, &path);
	if (!f) {
		ret = -errno;
		goto out;
	}
	fprintf(f, "# ipcbench %s data: label\ttimes_slower\tlow\thigh\ttext\n", kind->name);
	for (int i = 0; i < n; i++) {
		const struct ipcb_pyvsc_line *l = &v[i];
		char pv[64], cv[64], *label = NULL, *text = NULL;

		if (asprintf(&label, "%s vs %s", l->job, l->c_job) < 0)
			label = NULL;
		ipcb_fmt_value(l->py_m->median, l->py_m->unit, pv, sizeof(pv));
		if (l->c)
			ipcb_fmt_value(l->c_m->median, l->c_m->unit, cv, sizeof(cv));
		if (!l->c) {
			if (asprintf(&text, "%s", l->why) < 0)
				text = NULL;
		} else if (l->kind == IPCB_PYVSC_COUNT) {
			if (asprintf(&text, "%s: Python %.0f, C %.0f", l->metric, l->py_m->median,
				     l->c_m->median) < 0)
				text = NULL;
		} else if (isnan(l->slower)) {
			if (asprintf(&text, "no ratio: Python %s, C %s", pv, cv) < 0)
				text = NULL;
		} else {
			char r[32];

			ipcb_pyvsc_fmt_ratio(l->slower >= 1 ? l->slower : 1 / l->slower, r,
					     sizeof(r));
			if (asprintf(&text, "%sx %s: Python %s, C %s", r,
				     l->slower >= 1 ? "slower" : "faster", pv, cv) < 0)
				text = NULL;
		}
		if (!label || !text) {
			free(label);
			free(text);
			fclose(f);
			free(path);
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		plot_put_text(f, label, 120);
		putc('\t', f);
		plot_put_double(f, l->slower);
		putc('\t', f);
		plot_put_double(f, l->slower_lo);
		putc('\t', f);
		plot_put_double(f, l->slower_hi);
		putc('\t', f);
		plot_put_text(f, text, 110);
		putc('\n', f);
		free(label);
		free(text);
		nbars++;
	}
	ret = plot_finish_file(c, f, path);
	if (ret)
		goto out;
	fa = open_memstream(&assign, &assign_len);
	if (!fa) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	plot_assign(fa, "file", name, SIZE_MAX);
	plot_assign_titles(c, fa, kind, "python", NULL);
	fprintf(fa, "nbars=%d; ", nbars);
	if (fclose(fa) != 0) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	ret = plot_queue(c, kind, base, assign);
	base = assign = NULL;
out:
	free(base);
	free(assign);
	free(v);
	ipcb_results_free(&res);
	return ret;
}

static int plot_figure(struct plot_ctx *c, struct plot_pt **pts, size_t n)
{
	switch (plot_kinds[pts[0]->kind].x) {
	case PX_BARS:
		return plot_fig_bars(c, pts, n);
	case PX_CASES:
		return plot_fig_cases(c, pts, n);
	case PX_MATRIX:
		return plot_fig_heatmap(c, pts, n);
	default:
		return plot_fig_lines(c, pts, n);
	}
}

/* "<cpu model> on <host>, run <id>" from dir/metadata.json, as far as it is known. */
static char *plot_run_desc(const char *dir, const char *fallback_id)
{
	const char *model = NULL, *host = NULL, *run_id = fallback_id;
	json_t *root = NULL, *m;
	char *path, *out = NULL;
	size_t len;
	FILE *f;

	if (asprintf(&path, "%s/metadata.json", dir) >= 0) {
		root = json_load_file(path, 0, NULL);
		free(path);
	}
	m = json_object_get(root, "machine");
	model = json_string_value(json_object_get(m, "cpu_model"));
	host = json_string_value(json_object_get(m, "hostname"));
	if (json_string_value(json_object_get(root, "run_id")))
		run_id = json_string_value(json_object_get(root, "run_id"));

	f = open_memstream(&out, &len);
	if (!f) {
		json_decref(root);
		return NULL;
	}
	fputs(model && *model ? model : "unknown machine", f);
	if (host && *host)
		fprintf(f, " on %s", host);
	fprintf(f, ", run %s", run_id && *run_id ? run_id : dir);
	if (json_is_true(json_object_get(json_object_get(root, "build"), "sanitizer")))
		fputs(" [sanitizer build]", f);
	if (json_is_true(json_object_get(root, "partial")))
		fputs(" [partial run]", f);
	json_decref(root);
	if (fclose(f) != 0)
		return NULL;
	return out;
}

/* One run: its description; an overlay: "<label>: <description>" per run, joined. */
static char *plot_subtitle(const struct plot_ctx *c)
{
	char *out = NULL;
	size_t len;
	FILE *f;

	if (!c->overlay)
		return plot_run_desc(c->run_dirs[0], c->first_run_id);
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (int r = 0; r < c->nruns; r++) {
		char *d = plot_run_desc(c->run_dirs[r], NULL);

		fprintf(f, "%s%s: %s", r ? "  |  " : "", c->run_labels[r], d ? d : c->run_dirs[r]);
		free(d);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Full path of an executable called name in $PATH, into buf. 0 or -ENOENT. */
static int plot_find_exe(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat sb;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		size_t dlen;

		end = strchrnul(p, ':');
		dlen = (size_t)(end - p);
		if (dlen == 0)
			snprintf(buf, len, "./%s", name);    /* an empty entry means "." */
		else
			snprintf(buf, len, "%.*s/%s", (int)dlen, p, name);
		if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0)
			return 0;
		if (!*end)
			return -ENOENT;
	}
}

/*
 * Run gnuplot -e "<assign>" <script> in plots_dir and wait for it. Returns 0 when it exits
 * 0 and outfile is there and not empty, -EIO when not (msg names the figure and the log),
 * or -errno from fork/waitpid.
 */
static int plot_gnuplot(const char *plots_dir, const char *gnuplot, const char *script,
			const char *assign, const char *outfile, char *msg, size_t msglen)
{
	char *argv[] = { (char *)"gnuplot", (char *)"-e", (char *)assign, (char *)script, NULL };
	struct stat sb;
	char *out;
	pid_t pid;
	int status, ret;

	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(msg, msglen, "fork (gnuplot): %s (errno %d)", strerror(-ret), -ret);
		return ret;
	}
	if (pid == 0) {
		/* only async-signal-safe calls between fork and exec */
		int fd;

		if (chdir(plots_dir) < 0)
			_exit(126);
		fd = open("/dev/null", O_RDONLY);
		if (fd > 0) {
			dup2(fd, 0);
			close(fd);
		}
		fd = open("gnuplot.log", O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		execv(gnuplot, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			snprintf(msg, msglen, "waitpid (gnuplot): %s (errno %d)", strerror(-ret), -ret);
			return ret;
		}
	}
	if (WIFSIGNALED(status)) {
		snprintf(msg, msglen, "gnuplot killed by signal %d on %s (%s)", WTERMSIG(status),
			 outfile, script);
		return -EIO;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(msg, msglen, "gnuplot failed on %s (%s), exit status %d; see %s/gnuplot.log",
			 outfile, script, WEXITSTATUS(status), plots_dir);
		return -EIO;
	}
	if (asprintf(&out, "%s/%s", plots_dir, outfile) < 0) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	ret = 0;
	if (stat(out, &sb) < 0 || sb.st_size == 0) {
		snprintf(msg, msglen, "gnuplot wrote no image %s; see %s/gnuplot.log", out,
			 plots_dir);
		ret = -EIO;
	}
	free(out);
	return ret;
}

/* Render every queued figure in every format. Returns the number of figures rendered
 * completely, or the first error. */
static int plot_render(struct plot_ctx *c, const char *plots_src_dir)
{
	char gnuplot[4096];
	int done = 0, first_err = 0;

	if (plot_find_exe("gnuplot", gnuplot, sizeof(gnuplot)) < 0)
		return plot_fail(c, -ENOENT, "gnuplot not found: plots skipped (install gnuplot-nox)");
	for (int i = 0; i < c->nfigs; i++) {
		const struct plot_fig *fig = &c->figs[i];
		char *src = NULL, *script = NULL;
		int ok = 1, ret;

		if (asprintf(&src, "%s/%s", plots_src_dir, fig->kind->script) < 0)
			return plot_fail(c, -ENOMEM, "out of memory");
		script = realpath(src, NULL);
		if (!script) {
			ret = -errno;
			plot_fail(c, ret, "gnuplot script (%s): %s (errno %d)", src, strerror(-ret),
				  -ret);
			free(src);
			return ret;
		}
		free(src);
		for (size_t f = 0; f < sizeof(plot_formats) / sizeof(plot_formats[0]); f++) {
			char *assign, outfile[256], msg[512];

			snprintf(outfile, sizeof(outfile), "%s.%s", fig->base, plot_formats[f]);
			if (asprintf(&assign, "%sfmt='%s'; outfile='%s'", fig->assign,
				     plot_formats[f], outfile) < 0) {
				free(script);
				return plot_fail(c, -ENOMEM, "out of memory");
			}
			ret = plot_gnuplot(c->plots_dir, gnuplot, script, assign, outfile, msg,
					   sizeof(msg));
			/* keep the first failure's message: it is the one to fix first */
			if (ret < 0 && !first_err) {
				first_err = ret;
				plot_fail(c, ret, "%s", msg);
			}
			free(assign);
			ok &= ret == 0;
		}
		free(script);
		done += ok;
	}
	return first_err ? first_err : done;
}

/* mkdir -p for the output directory (its parent must exist for a run's plots/). */
static int plot_mkdirs(const char *path)
{
	char *buf = strdup(path);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (char *p = buf + 1; *p && !ret; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			ret = -errno;
		*p = '/';
	}
	if (!ret && mkdir(buf, 0755) < 0 && errno != EEXIST)
		ret = -errno;
	free(buf);
	return ret;
}

/* Load, group, write the data files and render. out_dir receives everything. */
static int plot_make(struct plot_ctx *c, const char *out_dir, const char *plots_src_dir)
{
	struct plot_pts pts = { 0 };
	char *log = NULL;
	int ret = 0, fd;

	if (c->errlen)
		c->err[0] = '\0';
	for (int r = 0; r < c->nruns && ret >= 0; r++)
		ret = plot_load_run(c, r, &pts);
	if (ret < 0)
		goto out;
	if (pts.n == 0) {
		if (c->overlay)
			plot_fail(c, 0, "no plottable rows in the runs given (figures need rep "
				  "\"median\" rows of the metrics results/README.md lists under "
				  "plots/)");
		else
			plot_fail(c, 0, "no plottable rows in %s/results.csv (figures need rep "
				  "\"median\" rows of the metrics results/README.md lists under "
				  "plots/, such as rtt_p50_ns, msgs_per_s or bytes_per_s with a "
				  "size)", c->run_dirs[0]);
		goto out;
	}
	qsort(pts.v, pts.n, sizeof(*pts.v), plot_cmp);

	c->plots_dir = strdup(out_dir);
	if (!c->plots_dir) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	ret = plot_mkdirs(c->plots_dir);
	if (ret < 0) {
		plot_fail(c, ret, "mkdir (%s): %s (errno %d)", c->plots_dir, strerror(-ret), -ret);
		goto out;
	}
	c->subtitle = plot_subtitle(c);
	if (!c->subtitle) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0, j; i < pts.n; i = j) {
		for (j = i + 1; j < pts.n && pts.v[j]->kind == pts.v[i]->kind &&
				!strcmp(pts.v[j]->bench, pts.v[i]->bench); j++)
			;
		ret = plot_figure(c, pts.v + i, j - i);
		if (ret < 0)
			goto out;
	}
	if (!c->overlay) {
		ret = plot_fig_pyvsc(c);
		if (ret < 0)
			goto out;
	}
	if (c->nfigs == 0) {
		plot_fail(c, 0, "no figure to draw: the rows found make no complete series");
		goto out;
	}

	/* a fresh log for this invocation; gnuplot appends to it */
	if (asprintf(&log, "%s/gnuplot.log", c->plots_dir) < 0) {
		log = NULL;
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	ret = plot_render(c, plots_src_dir);
out:
	for (int i = 0; i < c->nfigs; i++) {
		free(c->figs[i].base);
		free(c->figs[i].assign);
	}
	free(c->figs);
	free(log);
	free(c->subtitle);
	free(c->first_run_id);
	free(c->plots_dir);
	plot_pts_free(&pts);
	return ret;
}

int ipcb_plot_run(const char *run_dir, const char *plots_src_dir, char *err, size_t errlen)
{
	const char *dirs[1] = { run_dir };
	struct plot_ctx c = { .run_dirs = dirs, .nruns = 1, .err = err, .errlen = errlen };
	char *out;
	int ret;

	if (asprintf(&out, "%s/plots", run_dir) < 0) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = plot_make(&c, out, plots_src_dir);
	free(out);
	return ret;
}

int ipcb_plot_overlay(const char *const *run_dirs, const char *const *labels, int nruns,
		      const char *out_dir, const char *plots_src_dir, char *err, size_t errlen)
{
	struct plot_ctx c = { .run_dirs = run_dirs, .run_labels = labels, .nruns = nruns,
			      .overlay = 1, .err = err, .errlen = errlen };

	if (nruns < 1) {
		if (errlen)
			snprintf(err, errlen, "no run to plot");
		return -EINVAL;
	}
	return plot_make(&c, out_dir, plots_src_dir);
}

const char *ipcb_plot_kind_name(int i)
{
	return i >= 0 && i < PLOT_NKINDS ? plot_kinds[i].name : NULL;
}
