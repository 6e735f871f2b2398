/* SPDX-License-Identifier: MIT */
/*
 * `ipcbench report`: Markdown and self-contained HTML from result files (see report.h).
 *
 * The report is written once as a small document model -- headings, paragraphs, tables,
 * figures -- with every call emitting both formats, so the two cannot drift apart. The
 * numbers are the "median" rows of results.csv (the value and its interval as the run
 * wrote them: nothing is recomputed), the machine description is metadata.json read with
 * jansson, and the figures come from plot.c. A ratio between runs is the ratio of medians
 * and says which way is better; whether a difference is real is `ipcbench compare`'s job
 * (a rank test on the repetitions), which the report points to rather than repeats.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "../bench/pattern.h"
#include "compare.h"
#include "plot.h"
#include "pyvsc.h"
#include "report.h"
#include "sink.h"

#ifndef IPCB_VERSION
#define IPCB_VERSION "0.0.0"
#endif

#define REPORT_MAXRUNS 26      /* labelled A..Z */

struct rrun {
	const char *dir;
	struct ipcb_results res;
	json_t *meta;            /* metadata.json, NULL when unreadable */
	char meta_note[256];     /* why it is NULL */
	char label[4];           /* "A" */
	char legend[160];        /* "A box1": overlay legends */
	int *to0;                /* per case of this run: its match in run 0, or -1 */
	int *from0;              /* per case of run 0: its match in this run, or -1 */
};

__attribute__((format(printf, 3, 4)))
static int rep_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- the document model */

struct doc {
	FILE *md, *html;
	int ncols;
	const char *align;       /* per column of the open table: 'l' or 'r' */
};

/* Markdown text: characters with a meaning escaped, line breaks folded. */
static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\`*_[]<>|#", *s))
			putc('\\', f);
		putc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
}

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: putc(*s, f);
		}
	}
}

static void doc_h(struct doc *d, int level, const char *text)
{
	fprintf(d->md, "%.*s ", level, "######");
	md_text(d->md, text);
	fputs("\n\n", d->md);
	fprintf(d->html, "<h%d>", level);
	html_text(d->html, text);
	fprintf(d->html, "</h%d>\n", level);
}

__attribute__((format(printf, 2, 3)))
static void doc_p(struct doc *d, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	md_text(d->md, s);
	fputs("\n\n", d->md);
	fputs("<p>", d->html);
	html_text(d->html, s);
	fputs("</p>\n", d->html);
	free(s);
}

static void doc_table(struct doc *d, int ncols, const char *const *head, const char *align)
{
	d->ncols = ncols;
	d->align = align;
	fputs("|", d->md);
	for (int c = 0; c < ncols; c++) {
		putc(' ', d->md);
		md_text(d->md, head[c]);
		fputs(" |", d->md);
	}
	fputs("\n|", d->md);
	for (int c = 0; c < ncols; c++)
		fputs(align[c] == 'r' ? " ---: |" : " --- |", d->md);
	fputs("\n", d->md);
	fputs("<table>\n<tr>", d->html);
	for (int c = 0; c < ncols; c++) {
		fputs("<th>", d->html);
		html_text(d->html, head[c]);
		fputs("</th>", d->html);
	}
	fputs("</tr>\n", d->html);
}

static void doc_row(struct doc *d, char *const *cells)
{
	fputs("|", d->md);
	for (int c = 0; c < d->ncols; c++) {
		putc(' ', d->md);
		md_text(d->md, cells[c] ? cells[c] : "");
		fputs(" |", d->md);
	}
	fputs("\n", d->md);
	fputs("<tr>", d->html);
	for (int c = 0; c < d->ncols; c++) {
		fputs(d->align[c] == 'r' ? "<td class=\"n\">" : "<td>", d->html);
		html_text(d->html, cells[c] ? cells[c] : "");
		fputs("</td>", d->html);
	}
	fputs("</tr>\n", d->html);
}

static void doc_table_end(struct doc *d)
{
	fputs("\n", d->md);
	fputs("</table>\n", d->html);
	d->ncols = 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The file at path as base64 into f. Returns 0 or -errno. */
static int put_base64_file(FILE *f, const char *path)
{
	unsigned char in[3 * 1024];
	FILE *src = fopen(path, "rbe");
	size_t n;

	if (!src)
		return -errno;
	while ((n = fread(in, 1, sizeof(in), src)) > 0) {
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned)in[i] << 16;
			size_t left = n - i;

			if (left > 1)
				v |= (unsigned)in[i + 1] << 8;
			if (left > 2)
				v |= in[i + 2];
			putc(b64[(v >> 18) & 63], f);
			putc(b64[(v >> 12) & 63], f);
			putc(left > 1 ? b64[(v >> 6) & 63] : '=', f);
			putc(left > 2 ? b64[v & 63] : '=', f);
		}
		if (n < sizeof(in))
			break;
	}
	n = (size_t)ferror(src);
	fclose(src);
	return n ? -EIO : 0;
}

/* A figure: linked in the Markdown (md_src relative to it), inlined in the HTML. */
static void doc_img(struct doc *d, const char *md_src, const char *png, const char *caption)
{
	fputs("![", d->md);
	md_text(d->md, caption);
	fprintf(d->md, "](%s)\n\n", md_src);
	fputs("<figure><img alt=\"", d->html);
	html_text(d->html, caption);
	fputs("\" src=\"data:image/png;base64,", d->html);
	if (put_base64_file(d->html, png) < 0)
		fputs("\"><figcaption>(the image could not be read)", d->html);
	else
		fputs("\"><figcaption>", d->html);
	html_text(d->html, caption);
	fputs("</figcaption></figure>\n", d->html);
}

/* ---------------------------------------------------------------- metadata */

/* The value at a dotted path ("machine.cpu_model") as text, or NULL. */
static const char *jget(json_t *root, const char *path, char *buf, size_t len)
{
	char key[64];
	json_t *v = root;

	while (v && *path) {
		size_t l = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)(l < 63 ? l : 63), path);
		v = json_object_get(v, key);
		path += l + (path[l] == '.');
	}
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.4g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		return NULL;
	return buf;
}

static void meta_load(struct rrun *r)
{
	json_error_t je;
	char *path;

	if (asprintf(&path, "%s/metadata.json", r->dir) < 0)
		return;
	r->meta = json_load_file(path, 0, &je);
	if (!r->meta)
		snprintf(r->meta_note, sizeof(r->meta_note), "%s: %s (line %d)", path, je.text,
			 je.line);
	free(path);
}

/* One row of the machines table: the field at each path, joined by " / ". */
static void machine_row(struct doc *d, struct rrun *runs, int n, const char *name,
			const char *const *paths, const char *suffix)
{
	char *cells[REPORT_MAXRUNS + 1] = { (char *)name };
	int any = 0;

	for (int r = 0; r < n; r++) {
		char *s = NULL, buf[64];
		size_t len;
		FILE *f = open_memstream(&s, &len);

		if (!f)
			continue;
		for (int p = 0; paths[p]; p++) {
			const char *v = jget(runs[r].meta, paths[p], buf, sizeof(buf));

			fprintf(f, "%s%s", p ? " / " : "", v && *v ? v : "-");
			any |= v && *v;
		}
		if (suffix)
			fputs(suffix, f);
		if (fclose(f) == 0)
			cells[r + 1] = s;
		else
			free(s);
	}
	if (any)
		doc_row(d, cells);
	for (int r = 0; r < n; r++)
		free(cells[r + 1]);
}

static void machines(struct doc *d, struct rrun *runs, int n)
{
	static const struct {
		const char *name, *suffix;
		const char *paths[5];
	} rows[] = {
		{ "run", NULL, { "run_id" } },
		{ "host", NULL, { "machine.hostname" } },
		{ "CPU model", NULL, { "machine.cpu_model" } },
		{ "packages / cores / PUs", NULL,
		  { "machine.packages", "machine.cores", "machine.pus" } },
		{ "NUMA nodes", NULL, { "machine.numa_nodes" } },
		{ "L1d / L2 / L3 (KiB) / L3 count", NULL,
		  { "machine.caches.l1d_kib", "machine.caches.l2_kib", "machine.caches.l3_kib",
		    "machine.caches.l3_count" } },
		{ "synthetic topology", NULL, { "machine.synthetic" } },
		{ "kernel", NULL, { "machine.kernel" } },
		{ "cpufreq governor / turbo", NULL,
		  { "fingerprint.cpufreq_governor", "fingerprint.turbo" } },
		{ "SMT / transparent huge pages", NULL,
		  { "fingerprint.smt_control", "fingerprint.transparent_hugepages" } },
		{ "kernel command line flags", NULL, { "fingerprint.kernel_cmdline_flags" } },
		{ "CPUs allowed", NULL, { "fingerprint.cpus_allowed" } },
		{ "ipcbench version / commit", NULL, { "build.version", "build.git_commit" } },
		{ "build type / compiler", NULL, { "build.build_type", "build.compiler" } },
		{ "sanitizer build", NULL, { "build.sanitizer" } },
		{ "clock / cost of a read (ns)", NULL, { "clock.name", "clock.cost_ns" } },
		{ "placement / mode", NULL, { "run.placement", "run.mode" } },
		{ "cores note", NULL, { "cores_note" } },
		{ "started / ended (UTC)", NULL, { "start_time", "end_time" } },
		{ "cases ok / failed / skipped / noisy", NULL,
		  { "cases.ok", "cases.failed", "cases.skipped", "cases.noisy" } },
		{ "interrupted (partial)", NULL, { "partial" } },
		{ "command line", NULL, { "command_line" } },
	};
	const char *head[REPORT_MAXRUNS + 1] = { "" };
	char align[REPORT_MAXRUNS + 2] = "l";
	char labels[REPORT_MAXRUNS][300];

	for (int r = 0; r < n; r++) {
		snprintf(labels[r], sizeof(labels[r]), "%s%s%s", n > 1 ? runs[r].label : "",
			 n > 1 ? ": " : "", runs[r].dir);
		head[r + 1] = labels[r];
		align[r + 1] = 'l';
	}
	align[n + 1] = '\0';
	doc_h(d, 2, n > 1 ? "Machines and runs" : "Machine and run");
	doc_table(d, n + 1, head, align);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		machine_row(d, runs, n, rows[i].name, rows[i].paths, rows[i].suffix);
	doc_table_end(d);
	for (int r = 0; r < n; r++)
		if (!runs[r].meta)
			doc_p(d, "%s: no machine description: %s", n > 1 ? runs[r].label : runs[r].dir,
			      runs[r].meta_note);
}

/* ---------------------------------------------------------------- tables */

/* Up to 3 headline metrics of bench: the pattern's own when ipcbench knows the bench,
 * else the first metrics with a direction that its cases have in run 0 (else any). */
static int headlines(const char *bench, struct rrun *runs, int n, const char *out[3])
{
	const struct ipcb_pattern *p = ipcb_pattern_find(bench);
	int k = 0;

	if (p) {
		for (int h = 0; h < 3 && p->headline[h]; h++)
			out[k++] = p->headline[h];
		if (k)
			return k;
	}
	for (int pass = 0; pass < 2 && !k; pass++)
		for (int r = 0; r < n && k < 3; r++)
			for (int i = 0; i < runs[r].res.nc && k < 3; i++) {
				const struct ipcb_rcase *c = &runs[r].res.c[i];

				if (strcmp(c->bench, bench))
					continue;
				for (int m = 0; m < c->nm && k < 3; m++) {
					int dup = 0;

					if (!pass && ipcb_metric_direction(c->m[m].name, c->m[m].unit) ==
						     IPCB_DIR_NONE)
						continue;
					for (int q = 0; q < k; q++)
						dup |= !strcmp(out[q], c->m[m].name);
					if (!dup)
						out[k++] = c->m[m].name;
				}
			}
	return k;
}

static const char *metric_unit(struct rrun *runs, int n, const char *bench, const char *metric)
{
	for (int r = 0; r < n; r++)
		for (int i = 0; i < runs[r].res.nc; i++) {
			const struct ipcb_rmetric *m;

			if (strcmp(runs[r].res.c[i].bench, bench))
				continue;
			m = ipcb_rcase_metric(&runs[r].res.c[i], metric);
			if (m)
				return m->unit;
		}
	return "";
}

/* "4.21 us [4.10, 4.35]" (NOISY, RACE appended), or "-". */
static char *value_cell(const struct ipcb_rmetric *m)
{
	char v[64], lo[64], hi[64], *s;

	if (!m || !m->has_median)
		return strdup("-");
	ipcb_fmt_value(m->median, m->unit, v, sizeof(v));
	if (isnan(m->ci_low) || isnan(m->ci_high) || m->ci_low == m->ci_high) {
		if (asprintf(&s, "%s%s%s", v, m->noisy ? " NOISY" : "", m->race ? " RACE" : "") < 0)
			return NULL;
		return s;
	}
	ipcb_fmt_value(m->ci_low, m->unit, lo, sizeof(lo));
	ipcb_fmt_value(m->ci_high, m->unit, hi, sizeof(hi));
	/* "249k msgs/s [242k, 259k]": the bounds drop a unit word they share with the value */
	{
		const char *sp = strrchr(v, ' ');
		size_t ul = sp ? strlen(sp) : 0, ll = strlen(lo), hl = strlen(hi);

		if (ul && ll > ul && hl > ul && !strcmp(lo + ll - ul, sp) &&
		    !strcmp(hi + hl - ul, sp)) {
			lo[ll - ul] = '\0';
			hi[hl - ul] = '\0';
		}
	}
	if (asprintf(&s, "%s [%s, %s]%s%s", v, lo, hi, m->noisy ? " NOISY" : "",
		     m->race ? " RACE" : "") < 0)
		return NULL;
	return s;
}

static int case_has_numbers(const struct ipcb_rcase *c)
{
	for (int i = 0; i < c->nm; i++)
		if (c->m[i].has_median)
			return 1;
	return 0;
}

/* "ok", "NOISY", "RACE" or the failure with its reason's first line. */
static char *status_cell(const struct ipcb_rcase *c, const char *const *hl, int nh)
{
	int noisy = 0, race = 0;
	char *s;

	if (c->fail_status && !case_has_numbers(c)) {
		size_t l = strcspn(c->fail_reason ? c->fail_reason : "", "\r\n");

		if (asprintf(&s, "%s%s%.*s", c->fail_status, l ? ": " : "", (int)(l > 160 ? 160 : l),
			     c->fail_reason ? c->fail_reason : "") < 0)
			return NULL;
		return s;
	}
	for (int h = 0; h < nh; h++) {
		const struct ipcb_rmetric *m = ipcb_rcase_metric(c, hl[h]);

		noisy |= m && m->noisy;
		race |= m && m->race;
	}
	return strdup(race ? "RACE" : noisy ? "NOISY" : "ok");
}

static int reps_of(const struct ipcb_rcase *c, const char *metric)
{
	const struct ipcb_rmetric *m = ipcb_rcase_metric(c, metric);

	return m ? m->nreps : 0;
}

/* One run: a table per bench, a row per case, a column per headline metric. */
static int bench_table_single(struct doc *d, struct rrun *r, const char *bench)
{
	const char *hl[3], *head[5];
	char heads[3][96], align[6] = "l", *cells[5];
	int nh = headlines(bench, r, 1, hl), ret = 0, minreps = 1 << 30, maxreps = 0;

	head[0] = "case";
	for (int h = 0; h < nh; h++) {
		snprintf(heads[h], sizeof(heads[h]), "%s", hl[h]);
		head[h + 1] = heads[h];
		align[h + 1] = 'r';
	}
	head[nh + 1] = "status";
	align[nh + 1] = 'l';
	align[nh + 2] = '\0';
	doc_table(d, nh + 2, head, align);
	for (int i = 0; i < r->res.nc && !ret; i++) {
		const struct ipcb_rcase *c = &r->res.c[i];

		if (strcmp(c->bench, bench))
			continue;
		memset(cells, 0, sizeof(cells));
		cells[0] = strdup(c->label ? c->label : c->mech);
		for (int h = 0; h < nh; h++) {
			int nr = reps_of(c, hl[h]);

			cells[h + 1] = value_cell(ipcb_rcase_metric(c, hl[h]));
			if (nr) {
				minreps = nr < minreps ? nr : minreps;
				maxreps = nr > maxreps ? nr : maxreps;
			}
		}
		cells[nh + 1] = status_cell(c, hl, nh);
		for (int k = 0; k < nh + 2; k++)
			if (!cells[k])
				ret = -ENOMEM;
		if (!ret)
			doc_row(d, cells);
		for (int k = 0; k < nh + 2; k++)
			free(cells[k]);
	}
	doc_table_end(d);
	if (maxreps) {
		char nreps[48];

		if (minreps == maxreps)
			snprintf(nreps, sizeof(nreps), "%d", minreps);
		else
			snprintf(nreps, sizeof(nreps), "%d to %d", minreps, maxreps);
		doc_p(d, "Median over %s repetitions [its 95%% interval: two order statistics of "
		      "the repetitions, distribution-free; with 5 or fewer repetitions it is "
		      "min..max and covers less, see results/README.md].", nreps);
	}
	return ret;
}

/* Several runs: per bench and headline metric, the runs side by side with ratios. */
static int bench_tables_multi(struct doc *d, struct rrun *runs, int n, const char *bench)
{
	const char *hl[3];
	int nh = headlines(bench, runs, n, hl), ret = 0;

	for (int h = 0; h < nh && !ret; h++) {
		const char *head[2 * REPORT_MAXRUNS + 1];
		char names[2 * REPORT_MAXRUNS][48], align[2 * REPORT_MAXRUNS + 2], title[200];
		char *cells[2 * REPORT_MAXRUNS + 1];
		const char *unit = metric_unit(runs, n, bench, hl[h]);
		enum ipcb_dir dir = ipcb_metric_direction(hl[h], unit);
		int ncols = 0;

		snprintf(title, sizeof(title), "%s: %s (%s)", bench, hl[h],
			 dir == IPCB_DIR_LOWER ? "lower is better" :
			 dir == IPCB_DIR_HIGHER ? "higher is better" : "no better direction");
		doc_h(d, 4, title);
		head[ncols] = "case";
		align[ncols++] = 'l';
		for (int r = 0; r < n; r++) {
			snprintf(names[2 * r], sizeof(names[0]), "%s", runs[r].label);
			head[ncols] = names[2 * r];
			align[ncols++] = 'r';
			if (r) {
				snprintf(names[2 * r + 1], sizeof(names[0]), "%s/%s", runs[r].label,
					 runs[0].label);
				head[ncols] = names[2 * r + 1];
				align[ncols++] = 'r';
			}
		}
		align[ncols] = '\0';
		doc_table(d, ncols, head, align);
		/* run 0's cases, then each other run's cases that run 0 lacks */
		for (int r0 = 0; r0 < n && !ret; r0++)
			for (int i = 0; i < runs[r0].res.nc && !ret; i++) {
				const struct ipcb_rcase *c = &runs[r0].res.c[i];
				const struct ipcb_rmetric *m0 = NULL;
				int k = 0;

				if (strcmp(c->bench, bench) || (r0 && runs[r0].to0[i] >= 0))
					continue;
				memset(cells, 0, sizeof(cells));
				cells[k++] = strdup(c->label ? c->label : c->mech);
				for (int r = 0; r < n; r++) {
					const struct ipcb_rcase *cr = NULL;
					const struct ipcb_rmetric *m;

					if (r == r0)
						cr = c;
					else if (r0 == 0 && runs[r].from0[i] >= 0)
						cr = &runs[r].res.c[runs[r].from0[i]];
					m = cr ? ipcb_rcase_metric(cr, hl[h]) : NULL;
					if (cr && (!m || !m->has_median) && cr->fail_status) {
						cells[k++] = strdup(cr->fail_status);
					} else {
						cells[k++] = value_cell(m);
					}
					if (r == 0)
						m0 = m;
					if (!r)
						continue;
					if (m0 && m0->has_median && m && m->has_median &&
					    m0->median != 0) {
						double q = m->median / m0->median;
						const char *w = "";

						if (dir != IPCB_DIR_NONE && q != 1)
							w = (dir == IPCB_DIR_LOWER) == (q < 1) ?
							    " better" : " worse";
						if (asprintf(&cells[k++], "%.3gx%s", q, w) < 0)
							cells[k - 1] = NULL;
					} else {
						cells[k++] = strdup("-");
					}
				}
				for (int q = 0; q < ncols; q++)
					if (!cells[q])
						ret = -ENOMEM;
				if (!ret)
					doc_row(d, cells);
				for (int q = 0; q < ncols; q++)
					free(cells[q]);
			}
		doc_table_end(d);
	}
	if (nh)
		doc_p(d, "Cells: median over the repetitions [its 95%% interval]. A ratio is "
		      "that run's median over %s's; better or worse by the metric's direction. "
		      "The ratio is not a test: ipcbench compare %s %s runs a rank test on the "
		      "repetitions.", runs[0].label, runs[0].dir, n > 1 ? runs[1].dir : "NEW");
	return ret;
}

/* The cases of bench, in every run, that a reader of its table must see spelled out:
 * with notes = 0 those that gave no number (their status and reason); with notes = 1 those
 * whose numbers came with a warning on ok rows (a request the kernel clamped, run with
 * --allow-clamp). Nothing when there is none. */
static int bench_case_list(struct doc *d, struct rrun *runs, int n, const char *bench, int notes)
{
	static const char *const fail_head[] = { "case", "run", "status", "reason" };
	static const char *const note_head[] = { "case", "run", "note" };
	static char empty[1];
	const int ncol = notes ? 3 : 4;
	int any = 0;

	for (int r = 0; r < n; r++)
		for (int i = 0; i < runs[r].res.nc; i++) {
			const struct ipcb_rcase *c = &runs[r].res.c[i];
			char *cells[4];

			if (strcmp(c->bench, bench))
				continue;
			if (notes ? !c->note || !case_has_numbers(c)
				  : !c->fail_status || case_has_numbers(c))
				continue;
			if (!any) {
				doc_p(d, notes ? "Cases whose numbers carry a warning:"
					       : "Cases without numbers:");
				doc_table(d, ncol, notes ? note_head : fail_head, notes ? "lll" : "llll");
				any = 1;
			}
			cells[0] = c->label ? c->label : c->mech;
			cells[1] = n > 1 ? runs[r].label : runs[r].res.run_id;
			if (notes) {
				cells[2] = c->note;
			} else {
				cells[2] = c->fail_status;
				cells[3] = c->fail_reason ? c->fail_reason : empty;
			}
			doc_row(d, cells);
		}
	if (any)
		doc_table_end(d);
	return 0;
}

/* ---------------------------------------------------------------- Python vs C */

/* The Python rows of run r next to their C counterparts (harness/pyvsc.c's table): both
 * medians with their intervals, the ratio Python / C and what it means. Nothing when the
 * run has no Python row. */
static int python_vs_c(struct doc *d, struct rrun *runs, int n, int r)
{
	static const char *const head[] = { "Python", "C counterpart", "metric",
		"Python median [95% interval]", "C median [95% interval]", "Python / C", "" };
	struct ipcb_pyvsc_line *v;
	char title[64];
	int nl, ret, py = 0;

	ret = ipcb_pyvsc_pairs(&runs[r].res, &v, &nl);
	if (ret < 0)
		return ret;
	for (int i = 0; i < runs[r].res.nc; i++)
		py |= !strcmp(runs[r].res.c[i].impl, "python");
	if (!py) {
		free(v);
		return 0;
	}
	snprintf(title, sizeof(title), "Python vs C%s%s", n > 1 ? ", run " : "",
		 n > 1 ? runs[r].label : "");
	doc_h(d, 2, title);
	if (!nl) {
		doc_p(d, "The Python rows of this run have no number that a C job is paired "
		      "with (harness/pyvsc.c).");
		free(v);
		return 0;
	}
	doc_p(d, "Each Python multiprocessing case next to the C mechanism of this run that "
	      "does the same job, at the same size, worker count and CPUs where those matter. "
	      "Python / C is the ratio of the medians: above 1 on a time, or below 1 on a rate, "
	      "Python is slower; the range after it comes from the ends of the two intervals. "
	      "Lost updates are counts, side by side, without a ratio. A counterpart that is "
	      "not in this run is said so, never estimated.");
	doc_table(d, 7, head, "lllrrrl");
	for (int i = 0; i < nl && !ret; i++) {
		const struct ipcb_pyvsc_line *l = &v[i];
		char *cells[7] = { NULL };

		cells[0] = strdup(l->job);
		cells[1] = strdup(l->c_job);
		cells[2] = strdup(l->metric);
		cells[3] = value_cell(l->py_m);
		cells[4] = l->c ? value_cell(l->c_m) : strdup("-");
		if (!isnan(l->ratio)) {
			char q[32];

			ipcb_pyvsc_fmt_ratio(l->ratio, q, sizeof(q));
			cells[5] = strdup(q);
		} else {
			cells[5] = strdup("-");
		}
		if (!l->c) {
			cells[6] = strdup(l->why);
		} else if (l->kind == IPCB_PYVSC_COUNT) {
			cells[6] = strdup("counts side by side");
		} else if (isnan(l->slower)) {
			cells[6] = strdup("no ratio (a median is 0)");
		} else {
			/* faster: the range turns over with the ratio */
			int slow = l->slower >= 1;
			char q[32], lo[32], hi[32];

			ipcb_pyvsc_fmt_ratio(slow ? l->slower : 1 / l->slower, q, sizeof(q));
			ipcb_pyvsc_fmt_ratio(slow ? l->slower_lo : 1 / l->slower_hi, lo, sizeof(lo));
			ipcb_pyvsc_fmt_ratio(slow ? l->slower_hi : 1 / l->slower_lo, hi, sizeof(hi));
			if (asprintf(&cells[6], "Python %sx %s (%s to %s)", q,
				     slow ? "slower" : "faster", lo, hi) < 0)
				cells[6] = NULL;
		}
		for (int k = 0; k < 7; k++)
			if (!cells[k])
				ret = -ENOMEM;
		if (!ret)
			doc_row(d, cells);
		for (int k = 0; k < 7; k++)
			free(cells[k]);
	}
	doc_table_end(d);
	free(v);
	return ret;
}

/* ---------------------------------------------------------------- figures */

/* Path of file relative to directory dir (both existing), or an absolute path. */
static char *rel_path(const char *dir, const char *file)
{
	char *a = realpath(dir, NULL), *b = realpath(file, NULL), *out = NULL;
	size_t common = 0, i = 0;
	FILE *f;
	size_t len;

	if (!a || !b) {
		free(a);
		free(b);
		return strdup(file);
	}
	/* longest common prefix that ends at a '/' boundary of both */
	for (i = 0; a[i] && a[i] == b[i]; i++)
		if (a[i] == '/')
			common = i;
	if (!a[i] && b[i] == '/')
		common = i;
	f = open_memstream(&out, &len);
	if (f) {
		for (const char *p = a + common; *p; p++)
			if (*p == '/')
				fputs("../", f);
		fputs(b + common + 1, f);
		if (fclose(f) != 0) {
			free(out);
			out = NULL;
		}
	}
	free(a);
	free(b);
	return out;
}

struct fig {
	char *path, *name;
	int kind;
};

static int fig_cmp(const void *pa, const void *pb)
{
	const struct fig *a = pa, *b = pb;

	return a->kind != b->kind ? a->kind - b->kind : strcmp(a->name, b->name);
}

/* The PNGs in dir, ordered by figure kind, then name. */
static int list_figs(const char *dir, struct fig **out)
{
	struct fig *v = NULL;
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	*out = NULL;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		struct fig *nv;
		int kind = 1000;

		if (l < 5 || strcmp(e->d_name + l - 4, ".png"))
			continue;
		for (int k = 0; ipcb_plot_kind_name(k); k++) {
			char pat[80];

			snprintf(pat, sizeof(pat), "-%s", ipcb_plot_kind_name(k));
			if (strstr(e->d_name, pat))
				kind = k;
		}
		nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n].kind = kind;
		v[n].name = strndup(e->d_name, l - 4);
		if (asprintf(&v[n].path, "%s/%s", dir, e->d_name) < 0)
			v[n].path = NULL;
		if (!v[n].name || !v[n].path) {
			free(v[n].name);
			free(v[n].path);
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), fig_cmp);
	*out = v;
	return n;
}

static void figures(struct doc *d, struct rrun *runs, int n, const char *out_dir,
		    const char *plots_src)
{
	char err[1024], *fig_dir = NULL;
	struct fig *figs;
	int ret, nf;

	doc_h(d, 2, n > 1 ? "Figures: the runs overlaid" : "Figures");
	if (n == 1) {
		ret = ipcb_plot_run(runs[0].dir, plots_src, err, sizeof(err));
		if (asprintf(&fig_dir, "%s/plots", runs[0].dir) < 0)
			fig_dir = NULL;
	} else {
		const char *dirs[REPORT_MAXRUNS], *labels[REPORT_MAXRUNS];

		for (int r = 0; r < n; r++) {
			dirs[r] = runs[r].dir;
			labels[r] = runs[r].legend;
		}
		if (asprintf(&fig_dir, "%s/report-plots", out_dir) < 0)
			fig_dir = NULL;
		ret = fig_dir ? ipcb_plot_overlay(dirs, labels, n, fig_dir, plots_src, err,
						  sizeof(err)) : -ENOMEM;
		if (ret == -ENOMEM && !fig_dir)
			snprintf(err, sizeof(err), "out of memory");
	}
	if (ret <= 0 && err[0])
		doc_p(d, "%s%s", ret < 0 ? "Figures incomplete: " : "", err);
	if (!fig_dir)
		return;
	if (n > 1)
		doc_p(d, "One line per run and series; the legend starts with the run (%s%s).",
		      runs[0].legend, n > 2 ? ", ..." : n > 1 ? ", then the others" : "");
	nf = list_figs(fig_dir, &figs);
	for (int i = 0; i < nf; i++) {
		char *rel = rel_path(out_dir, figs[i].path);

		doc_img(d, rel ? rel : figs[i].path, figs[i].path, figs[i].name);
		free(rel);
		free(figs[i].path);
		free(figs[i].name);
	}
	free(figs);
	if (!nf && ret >= 0)
		doc_p(d, "No figure: no figure kind has rows in %s.", n > 1 ? "these runs" :
		      "this run");
	free(fig_dir);
}

/* ---------------------------------------------------------------- the report */

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<title>%s</title>\n<style>\n"
	"body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
	"color:#222}\n"
	"table{border-collapse:collapse;margin:0.5em 0 1em}\n"
	"th,td{border:1px solid #ccc;padding:0.25em 0.6em;vertical-align:top}\n"
	"th{background:#f2f2f2;text-align:left}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"figure{margin:1em 0}\nimg{max-width:100%%;border:1px solid #eee}\n"
	"figcaption{color:#666;font-size:90%%}\nh4{margin-bottom:0.2em}\n"
	"</style>\n</head>\n<body>\n";

/* Benches in order of first appearance over the runs. */
static int bench_list(struct rrun *runs, int n, const char ***out)
{
	const char **v = NULL;
	int nb = 0;

	for (int r = 0; r < n; r++)
		for (int i = 0; i < runs[r].res.nc; i++) {
			const char *b = runs[r].res.c[i].bench;
			const char **nv;
			int k;

			for (k = 0; k < nb && strcmp(v[k], b); k++)
				;
			if (k < nb)
				continue;
			nv = realloc(v, (size_t)(nb + 1) * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			v[nb++] = b;
		}
	*out = v;
	return nb;
}

static int write_doc(struct doc *d, struct rrun *runs, int n, const char *out_dir,
		     const char *plots_src)
{
	const char **benches = NULL;
	char title[512], now[64];
	time_t t = time(NULL);
	struct tm tm;
	int nb, ret = 0;

	if (n == 1)
		snprintf(title, sizeof(title), "ipcbench report: run %s",
			 *runs[0].res.run_id ? runs[0].res.run_id : runs[0].dir);
	else
		snprintf(title, sizeof(title), "ipcbench platform comparison of %d runs", n);
	fprintf(d->html, html_head, "ipcbench report");
	doc_h(d, 1, title);
	now[0] = '\0';
	if (gmtime_r(&t, &tm))
		strftime(now, sizeof(now), "%Y-%m-%d %H:%M UTC", &tm);
	doc_p(d, "Written by ipcbench %s on %s from the result files only (results.csv, "
	      "metadata.json); nothing was run again.", IPCB_VERSION, now);
	if (n > 1) {
		for (int r = 0; r < n; r++) {
			char b1[64], b2[64];
			const char *host = jget(runs[r].meta, "machine.hostname", b1, sizeof(b1));
			const char *cpu = jget(runs[r].meta, "machine.cpu_model", b2, sizeof(b2));

			doc_p(d, "%s = %s (run %s, host %s, %s)", runs[r].label, runs[r].dir,
			      *runs[r].res.run_id ? runs[r].res.run_id : "-", host ? host : "-",
			      cpu ? cpu : "unknown CPU");
		}
		doc_p(d, "Cases are matched across runs as ipcbench compare matches them: bench, "
		      "mechanism, implementation, mode, workers, placement, size and requested "
		      "parameters (results/README.md, Comparing runs).");
	}
	machines(d, runs, n);
	nb = bench_list(runs, n, &benches);
	if (nb < 0)
		return -ENOMEM;
	doc_h(d, 2, "Results by bench");
	for (int b = 0; b < nb && !ret; b++) {
		doc_h(d, 3, benches[b]);
		ret = n == 1 ? bench_table_single(d, &runs[0], benches[b])
			     : bench_tables_multi(d, runs, n, benches[b]);
		if (!ret)
			ret = bench_case_list(d, runs, n, benches[b], 0);
		if (!ret)
			ret = bench_case_list(d, runs, n, benches[b], 1);
	}
	if (!nb)
		doc_p(d, "No rows.");
	free(benches);
	for (int r = 0; r < n && !ret; r++)
		ret = python_vs_c(d, runs, n, r);
	if (ret)
		return ret;
	figures(d, runs, n, out_dir, plots_src);
	fputs("</body>\n</html>\n", d->html);
	return 0;
}

static int make_dirs(const char *path)
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

int ipcb_report_write(const char *const *dirs, int n, const char *out_dir,
		      const char *plots_src_dir, char *err, size_t errlen)
{
	struct rrun *runs;
	struct ipcb_sink_file md = { 0 }, html = { 0 };
	struct doc d = { 0 };
	int ret = 0, loaded = 0;

	if (errlen)
		err[0] = '\0';
	if (n < 1 || n > REPORT_MAXRUNS)
		return rep_fail(err, errlen, "report takes 1 to %d runs, got %d", REPORT_MAXRUNS, n);
	runs = calloc((size_t)n, sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	for (int r = 0; r < n; r++, loaded++) {
		runs[r].dir = dirs[r];
		ret = ipcb_results_load(dirs[r], &runs[r].res, err, errlen);
		if (ret < 0) {
			if (ret != -ENOMEM)
				ret = -EINVAL;
			goto out;
		}
		meta_load(&runs[r]);
		snprintf(runs[r].label, sizeof(runs[r].label), "%c", 'A' + r);
	}
	{
		struct ipcb_results *res[REPORT_MAXRUNS];

		for (int r = 0; r < n; r++)
			res[r] = &runs[r].res;
		ret = ipcb_results_label(res, n);
		if (ret < 0)
			goto out;
	}
	/* legends: "A host" when the hosts tell the runs apart, else "A run-id" */
	for (int r = 0; r < n; r++) {
		char buf[64];
		const char *host = jget(runs[r].meta, "machine.hostname", buf, sizeof(buf));
		int distinct = host && *host;

		for (int q = 0; q < n && distinct; q++) {
			char b2[64];
			const char *h2 = jget(runs[q].meta, "machine.hostname", b2, sizeof(b2));

			distinct = q == r || !h2 || strcmp(h2, host);
		}
		snprintf(runs[r].legend, sizeof(runs[r].legend), "%s %s", runs[r].label,
			 distinct ? host : *runs[r].res.run_id ? runs[r].res.run_id : runs[r].dir);
	}
	for (int r = 1; r < n; r++) {
		runs[r].to0 = malloc(((size_t)runs[r].res.nc + 1) * sizeof(int));
		runs[r].from0 = malloc(((size_t)runs[0].res.nc + 1) * sizeof(int));
		if (!runs[r].to0 || !runs[r].from0) {
			ret = -ENOMEM;
			goto out;
		}
		ret = ipcb_results_match(&runs[0].res, &runs[r].res, runs[r].from0, runs[r].to0);
		if (ret < 0)
			goto out;
		if (ret == 0) {
			ret = rep_fail(err, errlen, "no case in common between %s (%d cases) and %s "
				       "(%d cases): a comparison needs the same benches, "
				       "mechanisms, sizes and worker counts in both",
				       runs[0].res.csv_path, runs[0].res.nc, runs[r].res.csv_path,
				       runs[r].res.nc);
			goto out;
		}
	}
	ret = make_dirs(out_dir);
	if (ret < 0) {
		snprintf(err, errlen, "mkdir (%s): %s (errno %d)", out_dir, strerror(-ret), -ret);
		goto out;
	}
	ret = ipcb_sink_file_open(&md, out_dir, "report.md");
	if (ret == 0) {
		ret = ipcb_sink_file_open(&html, out_dir, "report.html");
		if (ret < 0)
			ipcb_sink_file_discard(&md);
	}
	if (ret < 0) {
		snprintf(err, errlen, "create (%s/report.md, report.html): %s (errno %d)", out_dir,
			 strerror(-ret), -ret);
		goto out;
	}
	d.md = md.f;
	d.html = html.f;
	ret = write_doc(&d, runs, n, out_dir, plots_src_dir);
	if (ret < 0) {
		ipcb_sink_file_discard(&md);
		ipcb_sink_file_discard(&html);
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = ipcb_sink_file_commit(&md, ferror(md.f) ? -EIO : 0);
	if (ret < 0) {
		ipcb_sink_file_discard(&html);
		snprintf(err, errlen, "write (%s/report.md): %s (errno %d)", out_dir,
			 strerror(-ret), -ret);
		goto out;
	}
	ret = ipcb_sink_file_commit(&html, ferror(html.f) ? -EIO : 0);
	if (ret < 0)
		snprintf(err, errlen, "write (%s/report.html): %s (errno %d)", out_dir,
			 strerror(-ret), -ret);
out:
	if (ret == -ENOMEM && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	for (int r = 0; r < loaded; r++) {
		ipcb_results_free(&runs[r].res);
		json_decref(runs[r].meta);
		free(runs[r].to0);
		free(runs[r].from0);
	}
	free(runs);
	return ret;
}

int ipcb_report_cmd(int argc, char **argv, const char *plots_src_dir)
{
	const char *dirs[REPORT_MAXRUNS], *out = NULL;
	char err[1024];
	int n = 0, ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: ipcbench report RUN [RUN...] [--out DIR]\n"
			       "  one run: report.md and report.html (self-contained) with the\n"
			       "  machine, a summary table per bench and the plots; several runs: a\n"
			       "  platform comparison, runs side by side with ratios and overlay plots.\n"
			       "  --out DIR   where to write (default: the first run's directory)\n");
			return 0;
		}
		if (!strcmp(argv[i], "--out") || !strncmp(argv[i], "--out=", 6)) {
			if (argv[i][5] == '=') {
				out = argv[i] + 6;
			} else if (i + 1 < argc) {
				out = argv[++i];
			} else {
				fprintf(stderr, "ipcbench: report: --out needs a directory\n");
				return 2;
			}
			if (!*out) {
				fprintf(stderr, "ipcbench: report: --out needs a directory\n");
				return 2;
			}
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ipcbench: report: unknown option %s (ipcbench report --help)\n",
				argv[i]);
			return 2;
		}
		if (n == REPORT_MAXRUNS) {
			fprintf(stderr, "ipcbench: report: at most %d runs\n", REPORT_MAXRUNS);
			return 2;
		}
		dirs[n++] = argv[i];
	}
	if (n == 0) {
		fprintf(stderr, "ipcbench: report needs at least one run directory: ipcbench report "
			"RUN [RUN...] [--out DIR]\n");
		return 2;
	}
	for (int r = 0; r < n; r++) {
		struct stat sb;

		if (stat(dirs[r], &sb) < 0 || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "ipcbench: report: %s: %s\n", dirs[r],
				stat(dirs[r], &sb) < 0 ? strerror(errno) : "not a run directory");
			return 2;
		}
	}
	if (!out)
		out = dirs[0];
	ret = ipcb_report_write(dirs, n, out, plots_src_dir, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "ipcbench: report: %s\n", err);
		return ret == -EINVAL ? 2 : 1;
	}
	printf("report written to %s/report.md and %s/report.html\n", out, out);
	return 0;
}
