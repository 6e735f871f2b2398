/* SPDX-License-Identifier: MIT */
/*
 * `ipcbench plot`: results.csv -> per-series data files -> gnuplot templates -> PNG + SVG.
 *
 * Plotting works on files only, so a laptop can plot a server's run. The data is chosen
 * here and the look lives in plots/<kind>.gp: this file picks the rows, groups them into
 * figures (kind x bench) and series, writes one small tab-separated file per series, and
 * runs gnuplot once per figure and format with the file names, legend titles, units and
 * output name passed as -e variables. The scripts are plain gnuplot and can be rerun by
 * hand on the data files.
 *
 * Rows: summary rows only (rep "median"), with status ok or NOISY (a noisy median is still
 * the best estimate; FAILED, SKIPPED and RACE rows carry no comparable value), a value, and
 * a size > 0 (sizes are on a log axis). If a series has two rows for one size and metric
 * (the same case run twice with other CPUs, say), the first in the file wins.
 *
 * gnuplot runs in run_dir/plots with stdin from /dev/null and its output appended to
 * gnuplot.log there; the data file names are made of [A-Za-z0-9._-] only, so they can be
 * passed as one space-separated string.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "csv.h"
#include "plot.h"

struct plot_kind {
	const char *name, *script, *caption;
	const char *metric[2];   /* columns 2-4 and 5-7 of the data files */
};

static const struct plot_kind plot_kinds[] = {
	{ "latency_size", "latency_size.gp", "round-trip latency vs message size",
	  { "rtt_p50_ns", "rtt_p99_ns" } },
	{ "throughput_size", "throughput_size.gp", "throughput vs message size",
	  { "msgs_per_s", "bytes_per_s" } },
};
#define PLOT_NKINDS ((int)(sizeof(plot_kinds) / sizeof(plot_kinds[0])))

/* Columns that make a series; the legend always names the first (mech). */
static const int plot_series_cols[] = {
	IPCB_COL_MECH, IPCB_COL_IMPL, IPCB_COL_MODE, IPCB_COL_WORKERS, IPCB_COL_PLACEMENT,
	IPCB_COL_PARAMS,
};
#define PLOT_NSER ((int)(sizeof(plot_series_cols) / sizeof(plot_series_cols[0])))

static const char *const plot_formats[] = { "png", "svg" };

/* One plottable summary row, with copies of the strings it is grouped by. */
struct plot_pt {
	int kind, slot;
	long line;
	uint64_t size;
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
	const char *run_dir;
	char *plots_dir;
	char *subtitle;
	char *run_id;            /* from the first record */
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

static struct plot_pt *plot_pt_new(const struct ipcb_csv_rec *rec, int kind, int slot)
{
	const char *src[PLOT_NSER + 2];
	size_t len = 0, off = 0;
	struct plot_pt *p;
	const char **dst[PLOT_NSER + 2];

	src[0] = rec->col[IPCB_COL_BENCH];
	dst[0] = NULL;
	src[1] = rec->col[IPCB_COL_UNIT];
	dst[1] = NULL;
	for (int k = 0; k < PLOT_NSER; k++)
		src[k + 2] = rec->col[plot_series_cols[k]];
	for (int k = 0; k < PLOT_NSER + 2; k++)
		len += strlen(src[k]) + 1;
	p = malloc(sizeof(*p) + len);
	if (!p)
		return NULL;
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
	p->kind = kind;
	p->slot = slot;
	p->line = rec->line;
	p->size = rec->size_bytes;
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
	for (int k = 0; k < PLOT_NSER; k++)
		if (strcmp(a->key[k], b->key[k]))
			return 0;
	return 1;
}

static int plot_cmp(const void *pa, const void *pb)
{
	const struct plot_pt *a = *(const struct plot_pt *const *)pa;
	const struct plot_pt *b = *(const struct plot_pt *const *)pb;
	int d;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	d = strcmp(a->bench, b->bench);
	if (d)
		return d;
	for (int k = 0; k < PLOT_NSER; k++) {
		d = strcmp(a->key[k], b->key[k]);
		if (d)
			return d;
	}
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->slot != b->slot)
		return a->slot - b->slot;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Read results.csv and keep the plottable rows. Returns 0 or -errno (message set). */
static int plot_load(struct plot_ctx *c, struct plot_pts *pts)
{
	struct ipcb_csv_reader *r;
	struct ipcb_csv_rec rec;
	char *path;
	int ret;

	if (asprintf(&path, "%s/results.csv", c->run_dir) < 0)
		return plot_fail(c, -ENOMEM, "out of memory");
	ret = ipcb_csv_open(&r, path, c->err, c->errlen);
	free(path);
	if (ret < 0)
		return ret;
	while ((ret = ipcb_csv_next(r, &rec)) == 1) {
		const char *status = rec.col[IPCB_COL_STATUS];
		const char *metric = rec.col[IPCB_COL_METRIC];
		struct plot_pt *p;

		if (!c->run_id) {
			c->run_id = strdup(rec.col[IPCB_COL_RUN_ID]);
			if (!c->run_id) {
				ret = -ENOMEM;
				break;
			}
		}
		if (rec.rep != IPCB_CSV_REP_MEDIAN || isnan(rec.value) || rec.size_bytes == 0)
			continue;
		if (strcmp(status, "ok") && strcmp(status, "NOISY"))
			continue;
		for (int k = 0; k < PLOT_NKINDS; k++) {
			for (int s = 0; s < 2; s++) {
				if (strcmp(metric, plot_kinds[k].metric[s]))
					continue;
				p = plot_pt_new(&rec, k, s);
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

/* Write the data file of one series (points pts[0..n-1], sorted by size then slot). */
static int plot_write_series(struct plot_ctx *c, const char *name, const char *label,
			     const struct plot_kind *kind, struct plot_pt **pts, size_t n)
{
	char *path;
	FILE *f;
	int ret = 0;

	if (asprintf(&path, "%s/%s", c->plots_dir, name) < 0)
		return plot_fail(c, -ENOMEM, "out of memory");
	f = fopen(path, "we");
	if (!f) {
		ret = -errno;
		plot_fail(c, ret, "create (%s): %s (errno %d)", path, strerror(-ret), -ret);
		free(path);
		return ret;
	}
	fprintf(f, "# ipcbench %s data, series: ", kind->name);
	plot_put_text(f, label, 400);
	fprintf(f, "\n# size_bytes\t%s\tci_low\tci_high\t%s\tci_low\tci_high\n",
		kind->metric[0], kind->metric[1]);
	for (size_t i = 0; i < n;) {
		double v[2][3] = { { NAN, NAN, NAN }, { NAN, NAN, NAN } };
		uint64_t size = pts[i]->size;

		for (; i < n && pts[i]->size == size; i++) {
			struct plot_pt *p = pts[i];

			if (isnan(v[p->slot][0])) {
				v[p->slot][0] = p->v;
				v[p->slot][1] = p->lo;
				v[p->slot][2] = p->hi;
			}
		}
		fprintf(f, "%llu", (unsigned long long)size);
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < 3; k++) {
				putc('\t', f);
				plot_put_double(f, v[s][k]);
			}
		putc('\n', f);
	}
	errno = 0;
	if (ferror(f) | (fclose(f) != 0)) {
		ret = errno ? -errno : -EIO;
		plot_fail(c, ret, "write (%s): %s (errno %d)", path, strerror(-ret), -ret);
	}
	free(path);
	return ret;
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

/*
 * Legend text of the series whose first point is p, among the figure's points pts[0..n-1]:
 * the mechanism, then only what tells p apart from other series of the same mechanism --
 * a differing impl, mode, workers or placement, and those params items that some of them
 * lack. Mechanisms differ in their own parameters, so comparing across mechanisms would
 * put every parameter in every label.
 */
static void plot_label(FILE *fl, struct plot_pt **pts, size_t n, const struct plot_pt *p)
{
	fputs(*p->key[0] ? p->key[0] : "(no mech)", fl);
	for (int k = 1; k < PLOT_NSER; k++) {
		const char *v = p->key[k];
		int differs = 0;

		for (size_t i = 0; i < n && !differs; i++)
			differs = !strcmp(pts[i]->key[0], p->key[0]) && strcmp(pts[i]->key[k], v);
		if (!differs)
			continue;
		if (plot_series_cols[k] == IPCB_COL_WORKERS) {
			fprintf(fl, " workers=%s", v);
		} else if (plot_series_cols[k] == IPCB_COL_PARAMS) {
			while (*v) {
				size_t l = strcspn(v, ";");
				int everywhere = 1;

				for (size_t i = 0; i < n && everywhere; i++)
					everywhere = strcmp(pts[i]->key[0], p->key[0]) ||
						     plot_params_have(pts[i]->key[k], v, l);
				if (!everywhere)
					fprintf(fl, " %.*s", (int)l, v);
				v += l + (v[l] == ';');
			}
		} else {
			fprintf(fl, " %s", *v ? v : "-");
		}
	}
}

/*
 * One figure: pts[0..n-1] share kind and bench. Writes a data file per series and queues
 * the figure with its gnuplot variables. Returns 0 or -errno.
 */
static int plot_figure(struct plot_ctx *c, struct plot_pt **pts, size_t n)
{
	const struct plot_kind *kind = &plot_kinds[pts[0]->kind];
	int have[2] = { 0 };
	const char *unit[2] = { NULL, NULL };
	char bench[64], name[160];
	char *files = NULL, *titles = NULL, *assign = NULL, *base = NULL, *label = NULL;
	size_t files_len, titles_len, assign_len, label_len;
	FILE *ff = NULL, *ft = NULL, *fa = NULL, *fl;
	struct plot_fig *figs;
	int ret = 0, series = 0;

	for (size_t i = 0; i < n; i++) {
		have[pts[i]->slot] = 1;
		if (!unit[pts[i]->slot])
			unit[pts[i]->slot] = pts[i]->unit;
	}
	plot_file_part(bench, sizeof(bench), pts[0]->bench);
	if (asprintf(&base, "%s-%s", bench, kind->name) < 0) {
		base = NULL;
		return plot_fail(c, -ENOMEM, "out of memory");
	}
	ff = open_memstream(&files, &files_len);
	ft = open_memstream(&titles, &titles_len);
	if (!ff || !ft) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}

	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && plot_same_series(pts[i], pts[j]); j++)
			;
		series++;
		fl = open_memstream(&label, &label_len);
		if (!fl) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		plot_label(fl, pts, n, pts[i]);
		if (fclose(fl) != 0) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		snprintf(name, sizeof(name), "%s-%d.dat", base, series);
		ret = plot_write_series(c, name, label, kind, pts + i, j - i);
		if (ret)
			goto out;
		fprintf(ff, "%s%s", series > 1 ? " " : "", name);
		fprintf(ft, "%s\"", series > 1 ? " " : "");
		plot_put_text(ft, label, 80);
		putc('"', ft);
		free(label);
		label = NULL;
	}
	ret = fclose(ff);
	ret |= fclose(ft);
	ff = ft = NULL;
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
	{
		char *t;

		if (asprintf(&t, "%s: %s", pts[0]->bench, kind->caption) < 0) {
			ret = plot_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		plot_assign(fa, "plot_title", t, 400);
		free(t);
	}
	plot_assign(fa, "plot_subtitle", c->subtitle, 400);
	plot_assign(fa, "unit1", unit[0] ? unit[0] : "", 400);
	plot_assign(fa, "unit2", unit[1] ? unit[1] : (unit[0] ? unit[0] : ""), 400);
	fprintf(fa, "have1=%d; have2=%d; ", have[0], have[1]);
	if (fclose(fa) != 0) {
		fa = NULL;
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	fa = NULL;

	figs = realloc(c->figs, (size_t)(c->nfigs + 1) * sizeof(*figs));
	if (!figs) {
		ret = plot_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	c->figs = figs;
	c->figs[c->nfigs].kind = kind;
	c->figs[c->nfigs].base = base;
	c->figs[c->nfigs].assign = assign;
	c->nfigs++;
	base = assign = NULL;
out:
	if (ff)
		fclose(ff);
	if (ft)
		fclose(ft);
	if (fa)
		fclose(fa);
	free(files);
	free(titles);
	free(assign);
	free(label);
	free(base);
	return ret;
}

/* "<cpu model> on <host>, run <id>" from metadata.json, as far as it is known. */
static char *plot_subtitle(const struct plot_ctx *c)
{
	const char *model = NULL, *host = NULL, *run_id = c->run_id;
	json_t *root = NULL, *m;
	char *path, *out = NULL;
	size_t len;
	FILE *f;

	if (asprintf(&path, "%s/metadata.json", c->run_dir) >= 0) {
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
	fprintf(f, ", run %s", run_id && *run_id ? run_id : c->run_dir);
	if (json_is_true(json_object_get(json_object_get(root, "build"), "sanitizer")))
		fputs(" [sanitizer build]", f);
	if (json_is_true(json_object_get(root, "partial")))
		fputs(" [partial run]", f);
	json_decref(root);
	if (fclose(f) != 0)
		return NULL;
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
	char gnuplot[PATH_MAX];
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

int ipcb_plot_run(const char *run_dir, const char *plots_src_dir, char *err, size_t errlen)
{
	struct plot_ctx c = { .run_dir = run_dir, .err = err, .errlen = errlen };
	struct plot_pts pts = { 0 };
	char *log = NULL;
	int ret, fd;

	if (errlen)
		err[0] = '\0';
	ret = plot_load(&c, &pts);
	if (ret < 0)
		goto out;
	if (pts.n == 0) {
		plot_fail(&c, 0, "no plottable rows in %s/results.csv (figures need rep \"median\" "
			  "rows of rtt_p50_ns, rtt_p99_ns, msgs_per_s or bytes_per_s with a size)",
			  run_dir);
		goto out;
	}
	qsort(pts.v, pts.n, sizeof(*pts.v), plot_cmp);

	if (asprintf(&c.plots_dir, "%s/plots", run_dir) < 0) {
		c.plots_dir = NULL;
		ret = plot_fail(&c, -ENOMEM, "out of memory");
		goto out;
	}
	if (mkdir(c.plots_dir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		plot_fail(&c, ret, "mkdir (%s): %s (errno %d)", c.plots_dir, strerror(-ret), -ret);
		goto out;
	}
	c.subtitle = plot_subtitle(&c);
	if (!c.subtitle) {
		ret = plot_fail(&c, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0, j; i < pts.n; i = j) {
		for (j = i + 1; j < pts.n && pts.v[j]->kind == pts.v[i]->kind &&
				!strcmp(pts.v[j]->bench, pts.v[i]->bench); j++)
			;
		ret = plot_figure(&c, pts.v + i, j - i);
		if (ret < 0)
			goto out;
	}

	/* a fresh log for this invocation; gnuplot appends to it */
	if (asprintf(&log, "%s/gnuplot.log", c.plots_dir) < 0) {
		log = NULL;
		ret = plot_fail(&c, -ENOMEM, "out of memory");
		goto out;
	}
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	ret = plot_render(&c, plots_src_dir);
out:
	for (int i = 0; i < c.nfigs; i++) {
		free(c.figs[i].base);
		free(c.figs[i].assign);
	}
	free(c.figs);
	free(log);
	free(c.subtitle);
	free(c.run_id);
	free(c.plots_dir);
	plot_pts_free(&pts);
	return ret;
}
