/* SPDX-License-Identifier: MIT */
/*
 * `ipcbench compare BASE NEW`: did NEW get worse than BASE? Files only: both runs are read
 * from their results.csv, nothing is re-run, so CI can compare a fresh run against a
 * tracked baseline and a laptop can judge a server's runs.
 *
 * A verdict needs two things at once, for each case and metric:
 *   - a change that matters: the ratio of the medians of the repetitions, new / base, is
 *     more than --threshold away from 1 (5% by default), in the metric's bad direction
 *     (lower is better for times, higher for rates; see ipcb_metric_direction);
 *   - a change that is real: the repetition values of the two runs differ by a two-sided
 *     Mann-Whitney U test at level --alpha (0.05). The test uses ranks only, so it needs no
 *     assumption about the distribution of repetitions (they are not normal: a repetition
 *     that met an interrupt is slow, never fast), and one outlier cannot carry it.
 * A change beyond the threshold that the test cannot confirm (too few repetitions, or
 * overlapping values) is "inconclusive", and so is any would-be verdict on a metric whose
 * median row was flagged NOISY in either run: noise never raises an alarm.
 *
 * The threshold guards against differences that are real but too small to care about (the
 * test alone flags a 0.5% shift once there are enough repetitions); the test guards against
 * differences that are large but not real (two repetitions each). What is deliberately not
 * here: any correction for testing many metrics at once (the threshold does that job in
 * practice), and any comparison of the FAILED reasons themselves.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../bench/pattern.h"
#include "compare.h"
#include "csv.h"
#include "sink.h"

__attribute__((format(printf, 3, 4)))
static int cmp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- direction */

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

enum ipcb_dir ipcb_metric_direction(const char *metric, const char *unit)
{
	if (metric && *metric) {
		if (ends_with(metric, "_ns") || strstr(metric, "ns_per_"))
			return IPCB_DIR_LOWER;
		if (ends_with(metric, "_per_s"))
			return IPCB_DIR_HIGHER;
	}
	if (unit && *unit) {
		if (!strcmp(unit, "ns"))
			return IPCB_DIR_LOWER;
		if (ends_with(unit, "/s"))
			return IPCB_DIR_HIGHER;
	}
	return IPCB_DIR_NONE;
}

/* ---------------------------------------------------------------- Mann-Whitney U */

double ipcb_mwu_min_p(int nx, int ny)
{
	double c = 1;

	if (nx < 1 || ny < 1)
		return 1;
	/* C(nx+ny, nx) as a running product; exact enough for a bound */
	for (int i = 1; i <= nx; i++)
		c = c * (double)(ny + i) / (double)i;
	return c <= 2 ? 1 : 2 / c;
}

/*
 * Exact null distribution of U for sizes nx, ny without ties. With i x's and j y's, the
 * largest of the i + j values is an x with probability i / (i + j); it then beats all j
 * y's. So P_{i,j}(u) = i/(i+j) P_{i-1,j}(u - j) + j/(i+j) P_{i,j-1}(u), P_{i,0} = P_{0,j} =
 * [u = 0]. Only sums of positive terms: no cancellation, no factorials, no overflow. Two
 * layers of (ny + 1) rows of nx*ny + 1 probabilities (2 MB at the limit of 50 x 50).
 */
static int mwu_exact_p(int nx, int ny, double u, double *p)
{
	size_t w = (size_t)nx * (size_t)ny + 1, rows = (size_t)ny + 1;
	double *prev, *cur, le = 0, ge = 0;
	long uo = lround(u);

	prev = calloc(rows * w, sizeof(double));
	cur = calloc(rows * w, sizeof(double));
	if (!prev || !cur) {
		free(prev);
		free(cur);
		return -ENOMEM;
	}
	for (size_t j = 0; j < rows; j++)
		prev[j * w] = 1;
	for (int i = 1; i <= nx; i++) {
		memset(cur, 0, rows * w * sizeof(double));
		cur[0] = 1;
		for (int j = 1; j <= ny; j++) {
			double a = (double)i / (i + j), b = (double)j / (i + j);
			double *c = cur + (size_t)j * w, *left = cur + (size_t)(j - 1) * w;
			const double *up = prev + (size_t)j * w;

			for (int k = 0; k <= i * j; k++) {
				double v = b * left[k];

				if (k >= j)
					v += a * up[k - j];
				c[k] = v;
			}
		}
		double *t = prev;
		prev = cur;
		cur = t;
	}
	for (size_t k = 0; k < w; k++) {
		double q = prev[(size_t)ny * w + k];

		if ((long)k <= uo)
			le += q;
		if ((long)k >= uo)
			ge += q;
	}
	free(prev);
	free(cur);
	*p = 2 * (le < ge ? le : ge);
	if (*p > 1)
		*p = 1;
	return 0;
}

struct mwu_item {
	double v;
	int from_x;
};

static int mwu_item_cmp(const void *pa, const void *pb)
{
	const struct mwu_item *a = pa, *b = pb;

	return a->v < b->v ? -1 : a->v > b->v;
}

int ipcb_mwu_test(const double *x, int nx, const double *y, int ny, struct ipcb_mwu *out)
{
	int n = nx + ny, ties = 0;
	double r1 = 0, tie_sum = 0, mu, sigma2, u1, d;
	struct mwu_item *it;

	if (nx < 1 || ny < 1)
		return -EINVAL;
	for (int i = 0; i < nx; i++)
		if (!isfinite(x[i]))
			return -EINVAL;
	for (int i = 0; i < ny; i++)
		if (!isfinite(y[i]))
			return -EINVAL;
	it = malloc((size_t)n * sizeof(*it));
	if (!it)
		return -ENOMEM;
	for (int i = 0; i < nx; i++)
		it[i] = (struct mwu_item){ x[i], 1 };
	for (int i = 0; i < ny; i++)
		it[nx + i] = (struct mwu_item){ y[i], 0 };
	qsort(it, (size_t)n, sizeof(*it), mwu_item_cmp);
	/* mid-ranks: a group of t equal values at ranks i+1 .. i+t each gets i + (t+1)/2 */
	for (int i = 0, j; i < n; i = j) {
		double rank;

		for (j = i + 1; j < n && it[j].v == it[i].v; j++)
			;
		rank = i + (double)(j - i + 1) / 2;
		for (int k = i; k < j; k++)
			if (it[k].from_x)
				r1 += rank;
		if (j - i > 1) {
			double t = j - i;

			ties = 1;
			tie_sum += t * t * t - t;
		}
	}
	free(it);
	u1 = r1 - (double)nx * (nx + 1) / 2;
	memset(out, 0, sizeof(*out));
	out->u = u1;
	if (!ties && (long)nx * ny <= IPCB_MWU_EXACT_MAX) {
		out->exact = 1;
		return mwu_exact_p(nx, ny, u1, &out->p);
	}
	/* normal approximation: mean nx*ny/2, variance nx*ny/12 * ((n+1) - sum(t^3-t)/(n(n-1))) */
	mu = (double)nx * ny / 2;
	sigma2 = (double)nx * ny / 12 * ((n + 1) - tie_sum / ((double)n * (n - 1)));
	if (sigma2 <= 0) {        /* every value equal */
		out->p = 1;
		return 0;
	}
	d = fabs(u1 - mu) - 0.5;   /* continuity correction */
	out->z = d / sqrt(sigma2);
	out->p = erfc(out->z / sqrt(2));
	if (out->p > 1)
		out->p = 1;
	return 0;
}

/* ---------------------------------------------------------------- loading */

/* FNV-1a over the identity of a case: the table that groups rows into cases. */
static uint64_t key_hash(const char *const *f, int n)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < n; i++) {
		for (const char *s = f[i]; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ 0x1f) * 1099511628211ull;
	}
	return h;
}

/* The identity columns of a record, in a fixed order (size and workers as text). */
static const int key_cols[] = {
	IPCB_COL_BENCH, IPCB_COL_MECH, IPCB_COL_IMPL, IPCB_COL_MODE, IPCB_COL_WORKERS,
	IPCB_COL_PLACEMENT, IPCB_COL_SIZE_BYTES, IPCB_COL_PARAMS,
};
#define NKEY ((int)(sizeof(key_cols) / sizeof(key_cols[0])))

struct loader {
	struct ipcb_results *r;
	int *slot;              /* open addressing: index into r->c, -1 empty */
	uint64_t *hash;         /* per case */
	size_t nslots;
	int cap;
};

static int case_has_key(const struct ipcb_rcase *c, const struct ipcb_csv_rec *rec)
{
	return !strcmp(c->bench, rec->col[IPCB_COL_BENCH]) &&
	       !strcmp(c->mech, rec->col[IPCB_COL_MECH]) &&
	       !strcmp(c->impl, rec->col[IPCB_COL_IMPL]) &&
	       !strcmp(c->mode, rec->col[IPCB_COL_MODE]) && c->workers == rec->workers &&
	       !strcmp(c->placement, rec->col[IPCB_COL_PLACEMENT]) && c->size == rec->size_bytes &&
	       !strcmp(c->params, rec->col[IPCB_COL_PARAMS]);
}

static int loader_grow(struct loader *L)
{
	size_t n = L->nslots ? L->nslots * 2 : 256;
	int *slot = malloc(n * sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		slot[i] = -1;
	for (int i = 0; i < L->r->nc; i++) {
		size_t s = L->hash[i] & (n - 1);

		while (slot[s] >= 0)
			s = (s + 1) & (n - 1);
		slot[s] = i;
	}
	free(L->slot);
	L->slot = slot;
	L->nslots = n;
	return 0;
}

/* The case of rec, created if new. Returns its index or -ENOMEM. */
static int loader_case(struct loader *L, const struct ipcb_csv_rec *rec)
{
	struct ipcb_results *r = L->r;
	const char *f[NKEY];
	struct ipcb_rcase *c;
	uint64_t h;
	size_t s;

	/* rows of one case are adjacent in files the runner writes */
	if (r->nc && case_has_key(&r->c[r->nc - 1], rec))
		return r->nc - 1;
	for (int i = 0; i < NKEY; i++)
		f[i] = rec->col[key_cols[i]];
	h = key_hash(f, NKEY);
	if ((size_t)(r->nc + 1) * 2 > L->nslots && loader_grow(L) < 0)
		return -ENOMEM;
	for (s = h & (L->nslots - 1); L->slot[s] >= 0; s = (s + 1) & (L->nslots - 1))
		if (L->hash[L->slot[s]] == h && case_has_key(&r->c[L->slot[s]], rec))
			return L->slot[s];
	if (r->nc == L->cap) {
		int cap = L->cap ? L->cap * 2 : 64;
		struct ipcb_rcase *nc = realloc(r->c, (size_t)cap * sizeof(*nc));
		uint64_t *nh;

		if (!nc)
			return -ENOMEM;
		r->c = nc;
		nh = realloc(L->hash, (size_t)cap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		L->hash = nh;
		L->cap = cap;
	}
	c = &r->c[r->nc];
	memset(c, 0, sizeof(*c));
	c->bench = strdup(rec->col[IPCB_COL_BENCH]);
	c->mech = strdup(rec->col[IPCB_COL_MECH]);
	c->impl = strdup(rec->col[IPCB_COL_IMPL]);
	c->mode = strdup(rec->col[IPCB_COL_MODE]);
	c->placement = strdup(rec->col[IPCB_COL_PLACEMENT]);
	c->params = strdup(rec->col[IPCB_COL_PARAMS]);
	c->cpus = strdup(rec->col[IPCB_COL_CPUS]);
	c->workers = rec->workers;
	c->size = rec->size_bytes;
	c->line = rec->line;
	L->hash[r->nc] = h;
	r->nc++;     /* counted before the check so ipcb_results_free releases it */
	if (!c->bench || !c->mech || !c->impl || !c->mode || !c->placement || !c->params ||
	    !c->cpus)
		return -ENOMEM;
	L->slot[s] = r->nc - 1;
	return r->nc - 1;
}

static struct ipcb_rmetric *case_metric_add(struct ipcb_rcase *c, const struct ipcb_csv_rec *rec)
{
	const char *name = rec->col[IPCB_COL_METRIC];
	struct ipcb_rmetric *m;

	for (int i = c->nm - 1; i >= 0; i--)
		if (!strcmp(c->m[i].name, name))
			return &c->m[i];
	m = realloc(c->m, (size_t)(c->nm + 1) * sizeof(*m));
	if (!m)
		return NULL;
	c->m = m;
	m = &c->m[c->nm];
	memset(m, 0, sizeof(*m));
	m->median = m->ci_low = m->ci_high = NAN;
	m->line = rec->line;
	m->name = strdup(name);
	m->unit = strdup(rec->col[IPCB_COL_UNIT]);
	c->nm++;
	return m->name && m->unit ? m : NULL;
}

static int rec_add(struct loader *L, const struct ipcb_csv_rec *rec)
{
	const char *status = rec->col[IPCB_COL_STATUS];
	const char *metric = rec->col[IPCB_COL_METRIC];
	int failed = !strcmp(status, "FAILED") || !strcmp(status, "SKIPPED") ||
		     !strcmp(status, "PARTIAL");
	struct ipcb_rmetric *m;
	struct ipcb_rcase *c;
	int ci;

	ci = loader_case(L, rec);
	if (ci < 0)
		return ci;
	c = &L->r->c[ci];
	if (failed || !*metric) {
		if (!failed)
			return 0;          /* an ok row without a metric carries nothing */
		/* FAILED outranks PARTIAL outranks SKIPPED when a file holds several */
		if (!c->fail_status || (!strcmp(status, "FAILED") &&
					strcmp(c->fail_status, "FAILED")) ||
		    (!strcmp(status, "PARTIAL") && !strcmp(c->fail_status, "SKIPPED"))) {
			free(c->fail_status);
			free(c->fail_reason);
			c->fail_status = strdup(status);
			c->fail_reason = strdup(rec->col[IPCB_COL_REASON]);
			if (!c->fail_status || !c->fail_reason)
				return -ENOMEM;
		}
		return 0;
	}
	if (!c->note && !strcmp(status, "ok") && *rec->col[IPCB_COL_REASON]) {
		c->note = strdup(rec->col[IPCB_COL_REASON]);
		if (!c->note)
			return -ENOMEM;
	}
	m = case_metric_add(c, rec);
	if (!m)
		return -ENOMEM;
	if (!strcmp(status, "RACE"))
		m->race = 1;
	if (rec->rep == IPCB_CSV_REP_MEDIAN) {
		m->has_median = !isnan(rec->value);
		m->median = rec->value;
		m->ci_low = rec->ci_low;
		m->ci_high = rec->ci_high;
		m->noisy |= !strcmp(status, "NOISY");
	} else if (rec->rep >= 1 && isfinite(rec->value)) {
		if (m->nreps == m->cap) {
			int cap = m->cap ? m->cap * 2 : 8;
			double *v = realloc(m->reps, (size_t)cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			m->reps = v;
			m->cap = cap;
		}
		m->reps[m->nreps++] = rec->value;
	}
	return 0;
}

int ipcb_results_load(const char *path, struct ipcb_results *r, char *err, size_t errlen)
{
	struct loader L = { .r = r };
	struct ipcb_csv_reader *rd = NULL;
	struct ipcb_csv_rec rec;
	struct stat sb;
	int ret;

	memset(r, 0, sizeof(*r));
	if (errlen)
		err[0] = '\0';
	if (stat(path, &sb) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s (errno %d)", path, strerror(-ret), -ret);
		return ret;
	}
	if (S_ISDIR(sb.st_mode)) {
		r->dir = strdup(path);
		if (asprintf(&r->csv_path, "%s/results.csv", path) < 0)
			r->csv_path = NULL;
	} else {
		const char *slash = strrchr(path, '/');

		r->csv_path = strdup(path);
		r->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path))
			       : strdup(".");
	}
	if (!r->dir || !r->csv_path) {
		ret = -ENOMEM;
		goto nomem;
	}
	ret = ipcb_csv_open(&rd, r->csv_path, err, errlen);
	if (ret < 0)
		goto fail;
	while ((ret = ipcb_csv_next(rd, &rec)) == 1) {
		r->rows++;
		if (!r->run_id) {
			r->run_id = strdup(rec.col[IPCB_COL_RUN_ID]);
			if (!r->run_id) {
				ret = -ENOMEM;
				break;
			}
		}
		ret = rec_add(&L, &rec);
		if (ret < 0)
			break;
	}
	if (ret == 0 && !r->run_id) {
		r->run_id = strdup("");
		if (!r->run_id)
			ret = -ENOMEM;
	}
	if (ret == -ENOMEM)
		goto nomem;
	if (ret < 0) {
		snprintf(err, errlen, "%s", ipcb_csv_error(rd));
		goto fail;
	}
	ipcb_csv_close(rd);
	free(L.slot);
	free(L.hash);
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", r->csv_path ? r->csv_path : path);
fail:
	ipcb_csv_close(rd);
	free(L.slot);
	free(L.hash);
	ipcb_results_free(r);
	return ret;
}

void ipcb_results_free(struct ipcb_results *r)
{
	for (int i = 0; i < r->nc; i++) {
		struct ipcb_rcase *c = &r->c[i];

		for (int k = 0; k < c->nm; k++) {
			free(c->m[k].name);
			free(c->m[k].unit);
			free(c->m[k].reps);
		}
		free(c->m);
		free(c->bench);
		free(c->mech);
		free(c->impl);
		free(c->mode);
		free(c->placement);
		free(c->params);
		free(c->cpus);
		free(c->fail_status);
		free(c->fail_reason);
		free(c->note);
		free(c->label);
	}
	free(r->c);
	free(r->csv_path);
	free(r->dir);
	free(r->run_id);
	memset(r, 0, sizeof(*r));
}

const struct ipcb_rmetric *ipcb_rcase_metric(const struct ipcb_rcase *c, const char *name)
{
	for (int i = 0; i < c->nm; i++)
		if (!strcmp(c->m[i].name, name))
			return &c->m[i];
	return NULL;
}

/* ---------------------------------------------------------------- params items */

struct item {
	const char *k, *v;
	size_t kl, vl;
};

/* Split "k=v;k2=v2" into items (at most max). An item without '=' is a key with an empty
 * value. Returns the count (items beyond max are dropped). */
static int items_split(const char *s, struct item *it, int max)
{
	int n = 0;

	while (*s && n < max) {
		size_t l = strcspn(s, ";");
		const char *eq = memchr(s, '=', l);

		it[n].k = s;
		it[n].kl = eq ? (size_t)(eq - s) : l;
		it[n].v = eq ? eq + 1 : s + l;
		it[n].vl = eq ? l - it[n].kl - 1 : 0;
		n++;
		s += l + (s[l] == ';');
	}
	return n;
}

#define MAX_ITEMS 64

static int item_key_eq(const struct item *a, const struct item *b)
{
	return a->kl == b->kl && !memcmp(a->k, b->k, a->kl);
}

static int item_val_eq(const struct item *a, const struct item *b)
{
	return a->vl == b->vl && !memcmp(a->v, b->v, a->vl);
}

void ipcb_rcase_params_diff(const struct ipcb_rcase *a, const struct ipcb_rcase *b, char *buf,
			    size_t len)
{
	struct item ia[MAX_ITEMS], ib[MAX_ITEMS];
	int na = items_split(a->params, ia, MAX_ITEMS), nb = items_split(b->params, ib, MAX_ITEMS);
	size_t off = 0;

	if (len)
		buf[0] = '\0';
#define PUT(...) do {                                                                   \
		if (off < len) {                                                        \
			int w_ = snprintf(buf + off, len - off, __VA_ARGS__);           \
			off += w_ > 0 ? (size_t)w_ : 0;                                 \
		}                                                                       \
	} while (0)
	for (int i = 0; i < na; i++) {
		int j;

		for (j = 0; j < nb && !item_key_eq(&ia[i], &ib[j]); j++)
			;
		if (j < nb && item_val_eq(&ia[i], &ib[j]))
			continue;
		PUT("%s%.*s=%.*s -> %.*s", off ? "; " : "", (int)ia[i].kl, ia[i].k, (int)ia[i].vl,
		    ia[i].v, j < nb ? (int)ib[j].vl : 1, j < nb ? ib[j].v : "-");
	}
	for (int j = 0; j < nb; j++) {
		int i;

		for (i = 0; i < na && !item_key_eq(&ia[i], &ib[j]); i++)
			;
		if (i == na)
			PUT("%s%.*s=- -> %.*s", off ? "; " : "", (int)ib[j].kl, ib[j].k,
			    (int)ib[j].vl, ib[j].v);
	}
#undef PUT
}

/* ---------------------------------------------------------------- matching */

static int same_columns(const struct ipcb_rcase *a, const struct ipcb_rcase *b)
{
	return !strcmp(a->bench, b->bench) && !strcmp(a->mech, b->mech) &&
	       !strcmp(a->impl, b->impl) && !strcmp(a->mode, b->mode) &&
	       a->workers == b->workers && !strcmp(a->placement, b->placement) &&
	       a->size == b->size;
}

/* 1 if s is p followed by ";more" */
static int params_extends(const char *s, const char *p)
{
	size_t l = strlen(p);

	if (!l)
		return *s != '\0';
	return !strncmp(s, p, l) && s[l] == ';' && s[l + 1];
}

static int col_cmp(const struct ipcb_rcase *a, const struct ipcb_rcase *b)
{
	int d;

	if ((d = strcmp(a->bench, b->bench)) || (d = strcmp(a->mech, b->mech)) ||
	    (d = strcmp(a->impl, b->impl)) || (d = strcmp(a->mode, b->mode)) ||
	    (d = strcmp(a->placement, b->placement)))
		return d;
	if (a->workers != b->workers)
		return a->workers < b->workers ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return 0;
}

/* Index order of a run's cases by their columns (not params), for range lookups. */
static int idx_cmp(const void *pa, const void *pb, void *run)
{
	const struct ipcb_results *r = run;
	int a = *(const int *)pa, b = *(const int *)pb;
	int d = col_cmp(&r->c[a], &r->c[b]);

	return d ? d : (a > b) - (a < b);
}

/* First index in ord (sorted) whose case has the columns of c; *end gets the range end. */
static int col_range(const struct ipcb_results *r, const int *ord, const struct ipcb_rcase *c,
		     int *end)
{
	int lo = 0, hi = r->nc;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (col_cmp(&r->c[ord[mid]], c) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (*end = lo; *end < r->nc && !col_cmp(&r->c[ord[*end]], c); (*end)++)
		;
	return lo;
}

/* A run and the order of its cases by columns: where a case's siblings are. */
struct run_ix {
	const struct ipcb_results *r;
	const int *ord;
};

/* The value of params key k (kl bytes) in s: *v, *vl; 0 when s has no such key. */
static int param_value(const char *s, const char *k, size_t kl, const char **v, size_t *vl)
{
	struct item it[MAX_ITEMS];
	int n = items_split(s, it, MAX_ITEMS);

	for (int i = 0; i < n; i++)
		if (it[i].kl == kl && !memcmp(it[i].k, k, kl)) {
			*v = it[i].v;
			*vl = it[i].vl;
			return 1;
		}
	return 0;
}

/* 1 if params key k has one value in every case of the run with c's columns: it does not
 * tell cases of the run apart, so it is not what the run swept (c2c's cpu_b, pool_size),
 * and may be an effective value. */
static int key_constant(const struct run_ix *x, const struct ipcb_rcase *c, const char *k,
			size_t kl)
{
	const char *v0, *v;
	size_t l0, l;
	int end, has0 = param_value(c->params, k, kl, &v0, &l0);

	for (int q = col_range(x->r, x->ord, c, &end); q < end; q++) {
		const struct ipcb_rcase *o = &x->r->c[x->ord[q]];
		int has = param_value(o->params, k, kl, &v, &l);

		if (o == c || o->fail_status)    /* a failure row lacks the effective part */
			continue;
		if (has != has0 || (has && (l != l0 || memcmp(v, v0, l))))
			return 0;
	}
	return 1;
}

/*
 * Pass 3: the number of differing values when a and b have the same keys in the same
 * order and every differing key is constant within each run, else -1.
 */
static int params_value_diffs(const struct run_ix *xa, const struct ipcb_rcase *a,
			      const struct run_ix *xb, const struct ipcb_rcase *b)
{
	struct item ia[MAX_ITEMS], ib[MAX_ITEMS];
	int na = items_split(a->params, ia, MAX_ITEMS), nb = items_split(b->params, ib, MAX_ITEMS);
	int d = 0;

	if (na != nb || na == 0)
		return -1;
	for (int i = 0; i < na; i++) {
		if (!item_key_eq(&ia[i], &ib[i]))
			return -1;
		if (item_val_eq(&ia[i], &ib[i]))
			continue;
		if (!key_constant(xa, a, ia[i].k, ia[i].kl) || !key_constant(xb, b, ib[i].k, ib[i].kl))
			return -1;
		d++;
	}
	return d;
}

/* Score of a pair in a pass: 0 no match; pass 1: 1 when params are equal; pass 2: 1 when
 * one params extends the other; pass 3: 1 + the number of differing values. */
static int pair_score(const struct run_ix *xa, const struct ipcb_rcase *a,
		      const struct run_ix *xb, const struct ipcb_rcase *b, int pass)
{
	int d;

	if (!same_columns(a, b))
		return 0;
	if (pass == 1)
		return !strcmp(a->params, b->params);
	if (pass == 2)
		return params_extends(a->params, b->params) || params_extends(b->params, a->params);
	d = params_value_diffs(xa, a, xb, b);
	return d > 0 ? 1 + d : 0;
}

/* For a->c[i], the unmatched candidate in b with the best (lowest) score for this pass, if
 * it is the only one with that score. -1 if none or ambiguous. */
static int best_candidate(const struct run_ix *xa, int i, const struct run_ix *xb,
			  const int *mb, int pass)
{
	int end, best = -1, best_score = 1 << 30, ambiguous = 0;

	for (int k = col_range(xb->r, xb->ord, &xa->r->c[i], &end); k < end; k++) {
		int j = xb->ord[k], s;

		if (mb[j] >= 0)
			continue;
		s = pair_score(xa, &xa->r->c[i], xb, &xb->r->c[j], pass);
		if (!s)
			continue;
		if (s < best_score) {
			best_score = s;
			best = j;
			ambiguous = 0;
		} else if (s == best_score) {
			ambiguous = 1;
		}
	}
	return ambiguous ? -1 : best;
}

int ipcb_results_match(const struct ipcb_results *a, const struct ipcb_results *b, int *ma_out,
		       int *mb_out)
{
	int *ma = malloc(((size_t)a->nc + 1) * sizeof(int));
	int *mb = malloc(((size_t)b->nc + 1) * sizeof(int));
	int *orda = malloc(((size_t)a->nc + 1) * sizeof(int));
	int *ordb = malloc(((size_t)b->nc + 1) * sizeof(int));
	int matched = 0;

	if (!ma || !mb || !orda || !ordb) {
		free(ma);
		free(mb);
		free(orda);
		free(ordb);
		return -ENOMEM;
	}
	for (int i = 0; i < a->nc; i++)
		ma[i] = -1, orda[i] = i;
	for (int j = 0; j < b->nc; j++)
		mb[j] = -1, ordb[j] = j;
	qsort_r(orda, (size_t)a->nc, sizeof(int), idx_cmp, (void *)a);
	qsort_r(ordb, (size_t)b->nc, sizeof(int), idx_cmp, (void *)b);
	struct run_ix xa = { a, orda }, xb = { b, ordb };

	for (int pass = 1; pass <= 3; pass++) {
		for (int i = 0; i < a->nc; i++) {
			int j;

			if (ma[i] >= 0)
				continue;
			j = best_candidate(&xa, i, &xb, mb, pass);
			/* keep it only if a->c[i] is also b->c[j]'s unambiguous best */
			if (j < 0 || (pass > 1 && best_candidate(&xb, j, &xa, ma, pass) != i))
				continue;
			ma[i] = j;
			mb[j] = i;
			matched++;
		}
	}
	if (ma_out)
		memcpy(ma_out, ma, (size_t)a->nc * sizeof(int));
	if (mb_out)
		memcpy(mb_out, mb, (size_t)b->nc * sizeof(int));
	free(ma);
	free(mb);
	free(orda);
	free(ordb);
	return matched;
}

/* ---------------------------------------------------------------- labels and formats */

void ipcb_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.3g %s", v, units[u]);
}

void ipcb_fmt_value(double v, const char *unit, char *buf, size_t len)
{
	double a = fabs(v);

	if (isnan(v)) {
		snprintf(buf, len, "-");
	} else if (unit && !strcmp(unit, "ns")) {
		if (a < 1e3)
			snprintf(buf, len, "%.1f ns", v);
		else if (a < 1e6)
			snprintf(buf, len, "%.2f us", v / 1e3);
		else if (a < 1e9)
			snprintf(buf, len, "%.2f ms", v / 1e6);
		else
			snprintf(buf, len, "%.3f s", v / 1e9);
	} else if (unit && ends_with(unit, "/s")) {
		static const char *const pre[] = { "", "k", "M", "G", "T", "P" };
		int p = 0;

		while (a >= 1000 && p < 5) {
			a /= 1000;
			v /= 1000;
			p++;
		}
		snprintf(buf, len, "%.3g%s %s", v, pre[p], unit);
	} else {
		snprintf(buf, len, "%.4g%s%s", v, unit && *unit ? " " : "", unit ? unit : "");
	}
}

/* What varies among the cases of one (bench, mech) group within one run. */
struct vary {
	int impl, mode, workers, placement;
	char **keys;       /* params keys that vary */
	int nkeys;
};

static int vary_add_key(struct vary *v, const char *k, size_t kl)
{
	char **nk;

	for (int i = 0; i < v->nkeys; i++)
		if (strlen(v->keys[i]) == kl && !memcmp(v->keys[i], k, kl))
			return 0;
	nk = realloc(v->keys, (size_t)(v->nkeys + 1) * sizeof(*nk));
	if (!nk)
		return -ENOMEM;
	v->keys = nk;
	v->keys[v->nkeys] = strndup(k, kl);
	if (!v->keys[v->nkeys])
		return -ENOMEM;
	v->nkeys++;
	return 0;
}

static int vary_has_key(const struct vary *v, const char *k, size_t kl)
{
	for (int i = 0; i < v->nkeys; i++)
		if (strlen(v->keys[i]) == kl && !memcmp(v->keys[i], k, kl))
			return 1;
	return 0;
}

/* 1 if params s has item k with value equal to it's (k, v). */
static int params_has_item(const char *s, const struct item *it)
{
	struct item x[MAX_ITEMS];
	int n = items_split(s, x, MAX_ITEMS);

	for (int i = 0; i < n; i++)
		if (item_key_eq(&x[i], it))
			return item_val_eq(&x[i], it);
	return 0;
}

struct lab_ref {
	struct ipcb_rcase *c;
	int run;
};

static int lab_cmp(const void *pa, const void *pb)
{
	const struct lab_ref *a = pa, *b = pb;
	int d = strcmp(a->c->bench, b->c->bench);

	if (!d)
		d = strcmp(a->c->mech, b->c->mech);
	if (!d)
		d = a->run - b->run;
	return d ? d : (a->c > b->c) - (a->c < b->c);
}

static int label_one(struct ipcb_rcase *c, const struct vary *v)
{
	struct item it[MAX_ITEMS];
	char size[32];
	size_t len;
	FILE *f;
	int n;

	free(c->label);
	c->label = NULL;
	f = open_memstream(&c->label, &len);
	if (!f)
		return -ENOMEM;
	fputs(*c->mech ? c->mech : c->bench, f);
	if (c->size) {
		ipcb_fmt_size(c->size, size, sizeof(size));
		fprintf(f, " %s", size);
	}
	if (v->impl)
		fprintf(f, " %s", c->impl);
	if (v->mode)
		fprintf(f, " %s", c->mode);
	if (v->workers)
		fprintf(f, " workers=%d", c->workers);
	if (v->placement)
		fprintf(f, " %s", c->placement);
	n = items_split(c->params, it, MAX_ITEMS);
	for (int i = 0; i < n; i++)
		if (vary_has_key(v, it[i].k, it[i].kl))
			fprintf(f, " %.*s=%.*s", (int)it[i].kl, it[i].k, (int)it[i].vl, it[i].v);
	return fclose(f) == 0 && c->label ? 0 : -ENOMEM;
}

int ipcb_results_label(struct ipcb_results *const *runs, int n)
{
	struct lab_ref *v;
	size_t total = 0, k = 0;
	int ret = 0;

	for (int r = 0; r < n; r++)
		total += (size_t)runs[r]->nc;
	v = malloc((total + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int r = 0; r < n; r++)
		for (int i = 0; i < runs[r]->nc; i++)
			v[k++] = (struct lab_ref){ &runs[r]->c[i], r };
	qsort(v, total, sizeof(*v), lab_cmp);
	for (size_t g = 0, e; g < total && !ret; g = e) {
		struct vary vy = { 0 };

		for (e = g + 1; e < total && !strcmp(v[e].c->bench, v[g].c->bench) &&
				!strcmp(v[e].c->mech, v[g].c->mech); e++)
			;
		/* within each run of the group: compare every case with the run's first */
		for (size_t s = g, t; s < e && !ret; s = t) {
			const struct ipcb_rcase *first = v[s].c;

			for (t = s; t < e && v[t].run == v[s].run; t++) {
				const struct ipcb_rcase *c = v[t].c;
				struct item it[MAX_ITEMS];
				int ni;

				vy.impl |= strcmp(c->impl, first->impl) != 0;
				vy.mode |= strcmp(c->mode, first->mode) != 0;
				vy.workers |= c->workers != first->workers;
				vy.placement |= strcmp(c->placement, first->placement) != 0;
				/* an item varies when some other case of the run lacks it as is */
				ni = items_split(c->params, it, MAX_ITEMS);
				for (int i = 0; i < ni && !ret; i++) {
					if (vary_has_key(&vy, it[i].k, it[i].kl))
						continue;
					for (size_t u = s; u < e && v[u].run == v[s].run; u++)
						if (!params_has_item(v[u].c->params, &it[i])) {
							ret = vary_add_key(&vy, it[i].k, it[i].kl);
							break;
						}
				}
			}
		}
		for (size_t s = g; s < e && !ret; s++)
			ret = label_one(v[s].c, &vy);
		for (int i = 0; i < vy.nkeys; i++)
			free(vy.keys[i]);
		free(vy.keys);
	}
	free(v);
	return ret;
}

/* ---------------------------------------------------------------- verdicts */

static const char *const verdict_names[IPCB_V_NKINDS] = {
	"worse", "better", "same", "inconclusive", "missing", "new",
};

const char *ipcb_cmp_verdict_name(enum ipcb_cmp_verdict v)
{
	return v >= 0 && v < IPCB_V_NKINDS ? verdict_names[v] : "?";
}

int ipcb_compare_default_metric(const char *bench, const char *metric, const char *unit)
{
	const struct ipcb_pattern *p = ipcb_pattern_find(bench);

	if (p) {
		for (int h = 0; h < 3 && p->headline[h]; h++)
			if (!strcmp(p->headline[h], metric))
				return 1;
		return 0;
	}
	return ipcb_metric_direction(metric, unit) != IPCB_DIR_NONE &&
	       (ends_with(metric, "_p50_ns") || ends_with(metric, "_p99_ns") ||
		ends_with(metric, "_per_s"));
}

/* 1 if name is an item of the comma-separated list. */
static int in_list(const char *list, const char *name)
{
	size_t l = strlen(name);

	while (*list) {
		size_t n = strcspn(list, ",");

		if (n == l && !strncmp(list, name, l))
			return 1;
		list += n + (list[n] == ',');
	}
	return 0;
}

static int metric_selected(const struct ipcb_compare_opts *o, const char *bench,
			   const struct ipcb_rmetric *m)
{
	if (ipcb_metric_direction(m->name, m->unit) == IPCB_DIR_NONE)
		return 0;
	if (!o->metrics)
		return ipcb_compare_default_metric(bench, m->name, m->unit);
	if (!strcmp(o->metrics, "all"))
		return 1;
	return in_list(o->metrics, m->name);
}

/* Reps of m, or its median alone when a file carries no repetition rows. */
static const double *metric_values(const struct ipcb_rmetric *m, int *n)
{
	if (m->nreps) {
		*n = m->nreps;
		return m->reps;
	}
	*n = m->has_median ? 1 : 0;
	return &m->median;
}

static double median_of(const double *x, int n)
{
	double *t = malloc((size_t)n * sizeof(*t)), med;

	if (!t)
		return NAN;
	memcpy(t, x, (size_t)n * sizeof(*t));
	for (int i = 1; i < n; i++)      /* insertion sort: n is a repetition count */
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			double s = t[j];
			t[j] = t[j - 1];
			t[j - 1] = s;
		}
	med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	free(t);
	return med;
}

static struct ipcb_cmp_line *verdict_add(struct ipcb_compare_result *res, enum ipcb_cmp_verdict v,
					const struct ipcb_rcase *c, const char *metric,
					const char *unit)
{
	struct ipcb_cmp_line *d;

	if (res->n == res->cap) {
		int cap = res->cap ? res->cap * 2 : 64;
		struct ipcb_cmp_line *nv = realloc(res->v, (size_t)cap * sizeof(*nv));

		if (!nv)
			return NULL;
		res->v = nv;
		res->cap = cap;
	}
	d = &res->v[res->n];
	memset(d, 0, sizeof(*d));
	d->v = v;
	d->base = d->new_ = d->change = d->p = NAN;
	d->bench = strdup(c->bench);
	d->label = strdup(c->label ? c->label : c->mech);
	d->metric = strdup(metric ? metric : "");
	d->unit = strdup(unit ? unit : "");
	res->n++;
	res->count[v]++;
	if (!d->bench || !d->label || !d->metric || !d->unit)
		return NULL;
	return d;
}

__attribute__((format(printf, 2, 3)))
static int verdict_note(struct ipcb_cmp_line *d, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (d->note && *d->note) {
		char *t;

		n = asprintf(&t, "%s; %s", d->note, s);
		free(s);
		if (n < 0)
			return -ENOMEM;
		s = t;
	}
	free(d->note);
	d->note = s;
	return 0;
}

/* Reason text fit for one table cell: first line, at most 120 bytes. */
static void short_reason(const char *r, char *buf, size_t len)
{
	size_t n = strcspn(r ? r : "", "\r\n");

	if (n > 120)
		n = 120;
	snprintf(buf, len, "%.*s%s", (int)n, r ? r : "", r && r[n] ? "..." : "");
}

static int judge_metric(struct ipcb_compare_result *res, const struct ipcb_compare_opts *o,
			const struct ipcb_rcase *cb, const struct ipcb_rmetric *mb,
			const struct ipcb_rmetric *mn, const char *pdiff)
{
	const struct ipcb_rmetric *any = mb ? mb : mn;
	enum ipcb_dir dir = ipcb_metric_direction(any->name, any->unit);
	const double *xb = NULL, *xn = NULL;
	int nb = 0, nn = 0;
	struct ipcb_cmp_line *d;
	struct ipcb_mwu t;

	if (mb)
		xb = metric_values(mb, &nb);
	if (mn)
		xn = metric_values(mn, &nn);
	if (!nb || !nn) {
		if (!nb && !nn)
			return 0;
		d = verdict_add(res, nb ? IPCB_V_MISSING : IPCB_V_NEW, cb, any->name, any->unit);
		if (!d)
			return -ENOMEM;
		d->nbase = nb;
		d->nnew = nn;
		d->base = nb ? (mb->has_median ? mb->median : median_of(xb, nb)) : NAN;
		d->new_ = nn ? (mn->has_median ? mn->median : median_of(xn, nn)) : NAN;
		return verdict_note(d, "metric only in %s", nb ? "BASE" : "NEW");
	}
	double base = mb->has_median ? mb->median : median_of(xb, nb);
	double nw = mn->has_median ? mn->median : median_of(xn, nn);
	double change;

	if (base == 0)
		change = nw == 0 ? 0 : (nw > 0 ? INFINITY : -INFINITY);
	else
		change = nw / base - 1;
	if (ipcb_mwu_test(xb, nb, xn, nn, &t) < 0)
		t.p = NAN;

	enum ipcb_cmp_verdict v;
	int bad = (dir == IPCB_DIR_LOWER && change > 0) || (dir == IPCB_DIR_HIGHER && change < 0);
	int noisy = mb->noisy || mn->noisy;

	if (fabs(change) < o->threshold)
		v = IPCB_V_SAME;
	else if (!(t.p < o->alpha) || noisy)
		v = IPCB_V_INCONCLUSIVE;
	else
		v = bad ? IPCB_V_WORSE : IPCB_V_BETTER;
	d = verdict_add(res, v, cb, any->name, any->unit);
	if (!d)
		return -ENOMEM;
	d->base = base;
	d->new_ = nw;
	d->change = change;
	d->p = t.p;
	d->nbase = nb;
	d->nnew = nn;
	if (v == IPCB_V_INCONCLUSIVE && !(t.p < o->alpha)) {
		double minp = ipcb_mwu_min_p(nb, nn);

		if (minp >= o->alpha) {
			if (verdict_note(d, "%d vs %d repetitions cannot reach p < %g (at best %.3g)",
					 nb, nn, o->alpha, minp) < 0)
				return -ENOMEM;
		} else if (verdict_note(d, "not significant (p >= %g)", o->alpha) < 0) {
			return -ENOMEM;
		}
	}
	if (noisy && verdict_note(d, "NOISY in %s", mb->noisy && mn->noisy ? "both runs" :
				  mb->noisy ? "BASE" : "NEW") < 0)
		return -ENOMEM;
	if ((mb->race || mn->race) && verdict_note(d, "RACE (deliberately unlocked)") < 0)
		return -ENOMEM;
	if (pdiff && *pdiff && verdict_note(d, "params differ: %s", pdiff) < 0)
		return -ENOMEM;
	return 0;
}

/* Judge a matched pair of cases. */
static int judge_case(struct ipcb_compare_result *res, const struct ipcb_compare_opts *o,
		      const struct ipcb_rcase *cb, const struct ipcb_rcase *cn)
{
	char pdiff[512], why[160];
	int has_b = 0, has_n = 0;
	struct ipcb_cmp_line *d;

	ipcb_rcase_params_diff(cb, cn, pdiff, sizeof(pdiff));
	for (int i = 0; i < cb->nm; i++)
		has_b |= cb->m[i].nreps > 0 || cb->m[i].has_median;
	for (int i = 0; i < cn->nm; i++)
		has_n |= cn->m[i].nreps > 0 || cn->m[i].has_median;
	/* a failure row wins over numbers in the same file (a case run twice) */
	if (cn->fail_status && !strcmp(cn->fail_status, "FAILED"))
		has_n = 0;
	if (cb->fail_status && !strcmp(cb->fail_status, "FAILED"))
		has_b = 0;

	if (!has_b || !has_n) {
		enum ipcb_cmp_verdict v;
		const char *sb = cb->fail_status ? cb->fail_status : "no numbers";
		const char *sn = cn->fail_status ? cn->fail_status : "no numbers";

		if (has_b) {
			/* BASE passed: FAILED in NEW is a regression, anything else is missing */
			v = !strcmp(sn, "FAILED") ? IPCB_V_WORSE : IPCB_V_MISSING;
			short_reason(cn->fail_reason, why, sizeof(why));
			d = verdict_add(res, v, cb, NULL, NULL);
			if (!d || verdict_note(d, "%s in NEW%s%s", sn, *why ? ": " : "", why) < 0)
				return -ENOMEM;
		} else if (has_n) {
			v = !strcmp(sb, "FAILED") ? IPCB_V_BETTER : IPCB_V_NEW;
			short_reason(cb->fail_reason, why, sizeof(why));
			d = verdict_add(res, v, cb, NULL, NULL);
			if (!d || verdict_note(d, "%s in BASE%s%s; passes in NEW", sb,
					       *why ? ": " : "", why) < 0)
				return -ENOMEM;
		} else {
			/* neither has numbers: the same failure is "same", a new one is not a
			 * regression of something that passed, but worth a look */
			v = !strcmp(sb, sn) ? IPCB_V_SAME : IPCB_V_INCONCLUSIVE;
			short_reason(cn->fail_reason, why, sizeof(why));
			d = verdict_add(res, v, cb, NULL, NULL);
			if (!d || verdict_note(d, "%s in BASE, %s in NEW%s%s", sb, sn,
					       *why ? ": " : "", why) < 0)
				return -ENOMEM;
		}
		return 0;
	}
	for (int i = 0; i < cb->nm; i++) {
		const struct ipcb_rmetric *mb = &cb->m[i];

		if (!metric_selected(o, cb->bench, mb))
			continue;
		if (judge_metric(res, o, cb, mb, ipcb_rcase_metric(cn, mb->name), pdiff) < 0)
			return -ENOMEM;
	}
	for (int i = 0; i < cn->nm; i++) {
		const struct ipcb_rmetric *mn = &cn->m[i];

		if (!metric_selected(o, cn->bench, mn) || ipcb_rcase_metric(cb, mn->name))
			continue;
		if (judge_metric(res, o, cb, NULL, mn, pdiff) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Check every name of opts->metrics: known in one of the runs, and with a direction. */
static int check_metrics(const struct ipcb_compare_opts *o, const struct ipcb_results *a,
			 const struct ipcb_results *b, char *err, size_t errlen)
{
	const char *s = o->metrics;

	if (!s || !strcmp(s, "all"))
		return 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		char name[128];
		const char *unit = NULL;

		snprintf(name, sizeof(name), "%.*s", (int)(n < 127 ? n : 127), s);
		for (int r = 0; r < 2 && !unit; r++) {
			const struct ipcb_results *x = r ? b : a;

			for (int i = 0; i < x->nc && !unit; i++) {
				const struct ipcb_rmetric *m = ipcb_rcase_metric(&x->c[i], name);

				if (m)
					unit = m->unit;
			}
		}
		if (!*name)
			return cmp_fail(err, errlen, "--metric: empty metric name in \"%s\"",
					o->metrics);
		if (!unit)
			return cmp_fail(err, errlen, "--metric %s: no row of this metric in %s or %s",
					name, a->csv_path, b->csv_path);
		if (ipcb_metric_direction(name, unit) == IPCB_DIR_NONE)
			return cmp_fail(err, errlen, "--metric %s (unit %s): no direction, so no "
					"verdict; compare judges times (*_ns, lower is better) and "
					"rates (*_per_s, higher is better)", name, unit);
		s += n + (s[n] == ',');
	}
	return 0;
}

int ipcb_compare_runs(const struct ipcb_results *base, const struct ipcb_results *new_,
		      const struct ipcb_compare_opts *o, struct ipcb_compare_result *res,
		      char *err, size_t errlen)
{
	int *ma = NULL, *mb = NULL, ret;
	struct ipcb_cmp_line *d;

	memset(res, 0, sizeof(*res));
	if (errlen)
		err[0] = '\0';
	ret = check_metrics(o, base, new_, err, errlen);
	if (ret < 0)
		return ret;
	ma = malloc(((size_t)base->nc + 1) * sizeof(int));
	mb = malloc(((size_t)new_->nc + 1) * sizeof(int));
	if (!ma || !mb) {
		ret = -ENOMEM;
		goto out;
	}
	ret = ipcb_results_match(base, new_, ma, mb);
	if (ret < 0)
		goto out;
	res->matched = ret;
	if (ret == 0) {
		ret = cmp_fail(err, errlen, "no case in common between %s (%d cases, run %s) and "
			       "%s (%d cases, run %s): were they run with the same benches, "
			       "mechanisms, sizes and worker counts?", base->csv_path, base->nc,
			       *base->run_id ? base->run_id : "-", new_->csv_path, new_->nc,
			       *new_->run_id ? new_->run_id : "-");
		goto out;
	}
	ret = 0;
	for (int i = 0; i < base->nc && !ret; i++) {
		if (ma[i] >= 0) {
			ret = judge_case(res, o, &base->c[i], &new_->c[ma[i]]);
			continue;
		}
		d = verdict_add(res, IPCB_V_MISSING, &base->c[i], NULL, NULL);
		if (!d || verdict_note(d, "not in NEW") < 0)
			ret = -ENOMEM;
	}
	for (int j = 0; j < new_->nc && !ret; j++) {
		if (mb[j] >= 0)
			continue;
		d = verdict_add(res, IPCB_V_NEW, &new_->c[j], NULL, NULL);
		if (!d || verdict_note(d, "not in BASE%s%s", new_->c[j].fail_status ? "; " : "",
				       new_->c[j].fail_status ? new_->c[j].fail_status : "") < 0)
			ret = -ENOMEM;
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
out:
	if (ret == -ENOMEM && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	free(ma);
	free(mb);
	if (ret < 0)
		ipcb_compare_result_free(res);
	return ret;
}

void ipcb_compare_result_free(struct ipcb_compare_result *res)
{
	for (int i = 0; i < res->n; i++) {
		free(res->v[i].bench);
		free(res->v[i].label);
		free(res->v[i].metric);
		free(res->v[i].unit);
		free(res->v[i].note);
	}
	free(res->v);
	memset(res, 0, sizeof(*res));
}

/* ---------------------------------------------------------------- printing */

enum { COL_VERDICT, COL_BENCH, COL_CASE, COL_METRIC, COL_BASE, COL_NEW, COL_CHANGE, COL_P,
       COL_REPS, COL_NOTE, NCOLS };

static const char *const col_head[NCOLS] = {
	"verdict", "bench", "case", "metric", "BASE", "NEW", "change", "p", "reps", "note",
};

static void verdict_cells(const struct ipcb_cmp_line *d, char cell[NCOLS][640])
{
	snprintf(cell[COL_VERDICT], 640, "%s", ipcb_cmp_verdict_name(d->v));
	snprintf(cell[COL_BENCH], 640, "%s", d->bench);
	snprintf(cell[COL_CASE], 640, "%s", d->label);
	snprintf(cell[COL_METRIC], 640, "%s", *d->metric ? d->metric : "-");
	ipcb_fmt_value(d->base, d->unit, cell[COL_BASE], 640);
	ipcb_fmt_value(d->new_, d->unit, cell[COL_NEW], 640);
	if (isnan(d->change))
		snprintf(cell[COL_CHANGE], 640, "-");
	else
		snprintf(cell[COL_CHANGE], 640, "%+.1f%%", d->change * 100);
	if (isnan(d->p))
		snprintf(cell[COL_P], 640, "-");
	else
		snprintf(cell[COL_P], 640, "%.3g", d->p);
	if (d->nbase || d->nnew)
		snprintf(cell[COL_REPS], 640, "%d/%d", d->nbase, d->nnew);
	else
		snprintf(cell[COL_REPS], 640, "-");
	snprintf(cell[COL_NOTE], 640, "%s", d->note ? d->note : "");
}

/* Markdown cell text: '|' escaped, line breaks as spaces. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			putc(' ', f);
		else
			putc(*s, f);
	}
}

static void print_header(FILE *f, const struct ipcb_compare_result *res,
			 const struct ipcb_results *base, const struct ipcb_results *new_,
			 const struct ipcb_compare_opts *o, int md)
{
	const char *b = md ? "- " : "";

	if (md)
		fprintf(f, "# ipcbench compare\n\n");
	fprintf(f, "%sBASE: %s (run %s)\n", b, base->csv_path, *base->run_id ? base->run_id : "-");
	fprintf(f, "%sNEW:  %s (run %s)\n", b, new_->csv_path, *new_->run_id ? new_->run_id : "-");
	fprintf(f, "%srule: a change of the median beyond %g%% that a two-sided Mann-Whitney U "
		"test on the repetitions finds significant (p < %g) is better or worse; times "
		"(*_ns) are better lower, rates (*_per_s) higher; NOISY medians give "
		"inconclusive, never worse\n", b, o->threshold * 100, o->alpha);
	fprintf(f, "%smetrics: %s\n", b, !o->metrics ? "each bench's headline metrics" :
		!strcmp(o->metrics, "all") ? "every time and rate" : o->metrics);
	fprintf(f, "%scases: %d in both, %d only in BASE, %d only in NEW\n", b, res->matched,
		base->nc - res->matched, new_->nc - res->matched);
	if (md)
		putc('\n', f);
}

static void print_summary(FILE *f, const struct ipcb_compare_result *res, int md)
{
	fprintf(f, "%s%d worse, %d better, %d same, %d inconclusive, %d missing, %d new%s\n",
		md ? "**summary:** " : "summary: ", res->count[IPCB_V_WORSE],
		res->count[IPCB_V_BETTER], res->count[IPCB_V_SAME], res->count[IPCB_V_INCONCLUSIVE],
		res->count[IPCB_V_MISSING], res->count[IPCB_V_NEW],
		res->count[IPCB_V_WORSE] ? " -- REGRESSION" : "");
}

void ipcb_compare_print(FILE *f, const struct ipcb_compare_result *res,
			const struct ipcb_results *base, const struct ipcb_results *new_,
			const struct ipcb_compare_opts *o, int md, int all)
{
	static char cell[NCOLS][640];
	size_t w[NCOLS];

	print_header(f, res, base, new_, o, md);
	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(col_head[c]);
	for (int i = 0; i < res->n; i++) {
		if (!md && !all && res->v[i].v == IPCB_V_SAME)
			continue;
		verdict_cells(&res->v[i], cell);
		for (int c = 0; c < NCOLS - 1; c++)
			if (strlen(cell[c]) > w[c])
				w[c] = strlen(cell[c]);
	}
	if (md) {
		fputs("|", f);
		for (int c = 0; c < NCOLS; c++)
			fprintf(f, " %s |", col_head[c]);
		fputs("\n|", f);
		for (int c = 0; c < NCOLS; c++)
			fputs(c >= COL_BASE && c <= COL_REPS ? " ---: |" : " --- |", f);
		putc('\n', f);
	} else {
		for (int c = 0; c < NCOLS; c++)
			fprintf(f, "%-*s%s", c == NCOLS - 1 ? 0 : (int)w[c], col_head[c],
				c == NCOLS - 1 ? "\n" : "  ");
	}
	for (int i = 0; i < res->n; i++) {
		if (!md && !all && res->v[i].v == IPCB_V_SAME)
			continue;
		verdict_cells(&res->v[i], cell);
		if (md) {
			fputs("|", f);
			for (int c = 0; c < NCOLS; c++) {
				putc(' ', f);
				if (c == COL_VERDICT && (res->v[i].v == IPCB_V_WORSE ||
							 res->v[i].v == IPCB_V_BETTER))
					fprintf(f, "**%s**", cell[c]);
				else
					md_cell(f, cell[c]);
				fputs(" |", f);
			}
			putc('\n', f);
			continue;
		}
		for (int c = 0; c < NCOLS; c++) {
			int right = c >= COL_BASE && c <= COL_REPS;

			if (c == NCOLS - 1)
				fprintf(f, "%s\n", cell[c]);
			else
				fprintf(f, right ? "%*s  " : "%-*s  ", (int)w[c], cell[c]);
		}
	}
	if (!md && !all && res->count[IPCB_V_SAME])
		fprintf(f, "(%d lines judged same not shown; --verbose shows them)\n",
			res->count[IPCB_V_SAME]);
	if (md)
		putc('\n', f);
	print_summary(f, res, md);
}

/* ---------------------------------------------------------------- the command */

static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: ipcbench compare BASE NEW [options]\n"
		"  BASE, NEW             run directories (or their results.csv)\n"
		"  --threshold P%%        relative change of the median that matters (default 5%%)\n"
		"  --alpha A             significance level of the U test (default 0.05)\n"
		"  --metric A,B|all      metrics to judge (default: each bench's headline metrics)\n"
		"  --md FILE             write the Markdown table there (default NEW/compare.md)\n"
		"  --verbose             also print the lines judged same\n"
		"Exit status: 0 no regression, 1 a significant regression beyond the threshold\n"
		"(or a case that passed in BASE FAILED in NEW), 2 unusable input.\n");
}

/* "5%", "5" (both percent) or "0.5%". Returns 0 or -EINVAL. */
static int parse_percent(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || (*end && strcmp(end, "%")) || !(v >= 0) || v > 1000)
		return -EINVAL;
	*out = v / 100;
	return 0;
}

/* --name value or --name=value; advances *i. NULL when argv[*i] is not --name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t l = strlen(name);

	if (strncmp(argv[*i], name, l))
		return NULL;
	if (argv[*i][l] == '=')
		return argv[*i] + l + 1;
	if (argv[*i][l])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/* Write the Markdown table to path (temporary file, then rename). */
static int write_md(const char *path, const struct ipcb_compare_result *res,
		    const struct ipcb_results *base, const struct ipcb_results *new_,
		    const struct ipcb_compare_opts *o)
{
	struct ipcb_sink_file sf;
	const char *slash = strrchr(path, '/');
	char *dir;
	int ret;

	dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	if (!dir)
		return -ENOMEM;
	ret = ipcb_sink_file_open(&sf, dir, slash ? slash + 1 : path);
	free(dir);
	if (ret < 0)
		return ret;
	ipcb_compare_print(sf.f, res, base, new_, o, 1, 1);
	return ipcb_sink_file_commit(&sf, ferror(sf.f) ? -EIO : 0);
}

enum ipcb_compare_outcome ipcb_compare_cmd(int argc, char **argv)
{
	struct ipcb_compare_opts o = { .threshold = 0.05, .alpha = 0.05 };
	struct ipcb_results base, nw;
	struct ipcb_compare_result res;
	const char *pos[2] = { NULL, NULL }, *md = NULL;
	char err[1024], *md_path = NULL;
	int npos = 0, verbose = 0, ret;
	enum ipcb_compare_outcome out;

	for (int i = 1; i < argc; i++) {
		int missing = 0;
		const char *v;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			compare_usage(stdout);
			return IPCB_COMPARE_OK;
		}
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			verbose = 1;
		} else if ((v = opt_value(argc, argv, &i, "--threshold", &missing))) {
			if (parse_percent(v, &o.threshold) < 0) {
				fprintf(stderr, "ipcbench: compare: --threshold %s: expected a "
					"percentage such as 5%% (0 to 1000)\n", v);
				return IPCB_COMPARE_BAD_INPUT;
			}
		} else if ((v = opt_value(argc, argv, &i, "--alpha", &missing))) {
			char *end;

			o.alpha = strtod(v, &end);
			if (end == v || *end || !(o.alpha > 0 && o.alpha < 1)) {
				fprintf(stderr, "ipcbench: compare: --alpha %s: expected a number "
					"between 0 and 1 (0.05)\n", v);
				return IPCB_COMPARE_BAD_INPUT;
			}
		} else if ((v = opt_value(argc, argv, &i, "--metric", &missing))) {
			if (!*v) {
				fprintf(stderr, "ipcbench: compare: --metric needs a list of "
					"metrics or \"all\"\n");
				return IPCB_COMPARE_BAD_INPUT;
			}
			o.metrics = v;
		} else if ((v = opt_value(argc, argv, &i, "--md", &missing))) {
			md = v;
		} else if (missing) {
			fprintf(stderr, "ipcbench: compare: %s needs a value\n", argv[i]);
			return IPCB_COMPARE_BAD_INPUT;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ipcbench: compare: unknown option %s (ipcbench compare "
				"--help)\n", argv[i]);
			return IPCB_COMPARE_BAD_INPUT;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			fprintf(stderr, "ipcbench: compare: takes two runs, BASE and NEW; '%s' is "
				"one too many\n", argv[i]);
			return IPCB_COMPARE_BAD_INPUT;
		}
		if (missing) {
			fprintf(stderr, "ipcbench: compare: %s needs a value\n", argv[i]);
			return IPCB_COMPARE_BAD_INPUT;
		}
	}
	if (npos != 2) {
		fprintf(stderr, "ipcbench: compare needs two runs: ipcbench compare BASE NEW "
			"(see ipcbench compare --help)\n");
		return IPCB_COMPARE_BAD_INPUT;
	}
	if (ipcb_results_load(pos[0], &base, err, sizeof(err)) < 0) {
		fprintf(stderr, "ipcbench: compare: BASE: %s\n", err);
		return IPCB_COMPARE_BAD_INPUT;
	}
	if (ipcb_results_load(pos[1], &nw, err, sizeof(err)) < 0) {
		fprintf(stderr, "ipcbench: compare: NEW: %s\n", err);
		ipcb_results_free(&base);
		return IPCB_COMPARE_BAD_INPUT;
	}
	{
		struct ipcb_results *runs[2] = { &base, &nw };

		ret = ipcb_results_label(runs, 2);
	}
	if (ret == 0)
		ret = ipcb_compare_runs(&base, &nw, &o, &res, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "out of memory");
	if (ret < 0) {
		fprintf(stderr, "ipcbench: compare: %s\n", err);
		out = IPCB_COMPARE_BAD_INPUT;
		goto out;
	}
	ipcb_compare_print(stdout, &res, &base, &nw, &o, 0, verbose);
	if (!md && asprintf(&md_path, "%s/compare.md", nw.dir) < 0) {
		md_path = NULL;
		fprintf(stderr, "ipcbench: compare: out of memory\n");
		out = IPCB_COMPARE_BAD_INPUT;
		goto out_res;
	}
	ret = write_md(md ? md : md_path, &res, &base, &nw, &o);
	if (ret < 0) {
		fprintf(stderr, "ipcbench: compare: cannot write %s: %s (errno %d)\n",
			md ? md : md_path, strerror(-ret), -ret);
		out = IPCB_COMPARE_BAD_INPUT;
		goto out_res;
	}
	printf("table written to %s\n", md ? md : md_path);
	out = res.count[IPCB_V_WORSE] ? IPCB_COMPARE_REGRESSION : IPCB_COMPARE_OK;
out_res:
	ipcb_compare_result_free(&res);
out:
	free(md_path);
	ipcb_results_free(&base);
	ipcb_results_free(&nw);
	return out;
}
