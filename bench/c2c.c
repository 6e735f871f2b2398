// SPDX-License-Identifier: MIT
/*
 * Core-to-core latency: the round trip of one cache line between two pinned CPUs.
 *
 * One case per pair of distinct CPUs (cpu_a < cpu_b, OS indexes). Worker A on cpu_a and
 * worker B on cpu_b share one 64-bit word alone on a cache line of the control block
 * (ctl->shared[0], cache-line aligned, nothing else written there while they run). A
 * stores an odd value 2k+1 and spins until it reads 2k+2; B spins until it reads 2k+1 and
 * stores 2k+2. Each round trip moves the line A -> B -> A: two cache-to-cache transfers,
 * an invalidation and a miss on each side. Plain acquire loads and release stores (MOV on
 * x86), no pause instruction in the spin (it would add its own latency), no system call.
 * Like rigtorp/c2clat, but with the harness's repetitions, percentiles and checks.
 *
 * A times samples of `batch` round trips (chosen from the warm-up rate so the clock reads
 * and the histogram update stay under 1% of a sample) and records each sample's mean in
 * the histogram; the CSV says so in ops_per_sample. The matrix entry is rtt_p50_ns; one way is about half.
 *
 * Never on one CPU: two spinners sharing a CPU would only measure the scheduler's time
 * slice, so the diagonal is not planned (and an explicit CPU list with fewer than two
 * distinct CPUs, or --unpinned, makes the bench SKIPPED). On a large machine the pairs
 * are sampled (--c2c-pairs N, default 256): one pair of every relation present first
 * (SMT siblings, shared L2/L3, same package, other NUMA node or package), then pairs
 * drawn with a fixed seed, so two runs on one machine measure the same pairs.
 *
 * Integrity: each side checks every value it reads (its own last store, or the next
 * value, or the stop word; anything else is corruption), and both count the round trips;
 * finish() requires the counts to agree. A silent partner (dead or descheduled for
 * seconds) fails the case instead of spinning until the watchdog.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/clock.h"
#include "../harness/opt.h"
#include "../harness/run.h"
#include "../harness/topo.h"
#include "../ipc/transport.h"
#include "pattern.h"

#define C2C_STOP (UINT64_C(1) << 63)
/* Spins between checks of the stop flag and the clock (a spin is a few ns). */
#define C2C_CHECK_SPINS (1u << 16)
#define C2C_SILENT_NS (2ull * 1000000000u)
#define C2C_DEFAULT_PAIRS 256

static struct c2c_settings {
	int max_pairs;
} c2c_cfg = { .max_pairs = C2C_DEFAULT_PAIRS };

static const struct ipcb_opt c2c_opts[] = {
	{ .name = "c2c-pairs", .type = IPCB_OPT_INT,
	  .offset = offsetof(struct c2c_settings, max_pairs), .min = 1, .max = 65536,
	  .metavar = "N", .base = &c2c_cfg,
	  .help = "c2c: measure at most N CPU pairs; with more pairs, a fixed sample that "
		  "covers every CPU relation (default 256)" },
	{ .name = NULL },
};

/* ---- pair selection (parent) ---- */

/* The chosen pairs for one CPU set, computed once and reused by every plan() call. */
static struct {
	int valid, n, limit;
	int cpus[IPCB_MAX_WORKERS];    /* distinct CPUs, ascending */
	const struct ipcb_topo *topo;
	int npick;
	int *a;                        /* npick pairs (cpu_a, cpu_b), sorted */
} sel;

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;
	return (a > b) - (a < b);
}

static int cmp_pair(const void *x, const void *y)
{
	const int *p = x, *q = y;
	if (p[0] != q[0])
		return (p[0] > q[0]) - (p[0] < q[0]);
	return (p[1] > q[1]) - (p[1] < q[1]);
}

/* Distinct CPUs of the run, ascending; -1 for --unpinned. */
static int distinct_cpus(const struct ipcb_config *cfg, int *out)
{
	int tmp[IPCB_MAX_WORKERS], n = 0;

	if (cfg->unpinned)
		return -1;
	memcpy(tmp, cfg->cpu_list, (size_t)cfg->n_cpus * sizeof(int));
	qsort(tmp, (size_t)cfg->n_cpus, sizeof(int), cmp_int);
	for (int i = 0; i < cfg->n_cpus; i++)
		if (n == 0 || out[n - 1] != tmp[i])
			out[n++] = tmp[i];
	return n;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Pair index k (lexicographic over i < j) of n CPUs -> (i, j). */
static void pair_of(long k, int n, int *i, int *j)
{
	int a = 0;
	while (k >= n - 1 - a) {
		k -= n - 1 - a;
		a++;
	}
	*i = a;
	*j = a + 1 + (int)k;
}

/* Fill sel for cfg. Returns the number of pairs, or -errno. */
static int select_pairs(const struct ipcb_config *cfg)
{
	int cpus[IPCB_MAX_WORKERS];
	int n = distinct_cpus(cfg, cpus);
	int limit = c2c_cfg.max_pairs;

	if (n < 2)
		return 0;
	if (sel.valid && sel.n == n && sel.limit == limit && sel.topo == cfg->topo &&
	    memcmp(sel.cpus, cpus, (size_t)n * sizeof(int)) == 0)
		return sel.npick;

	long total = (long)n * (n - 1) / 2;
	int npick = total < limit ? (int)total : limit;
	int *pairs = malloc((size_t)npick * 2 * sizeof(int));
	if (!pairs)
		return -ENOMEM;
	if (total <= limit) {
		for (long k = 0; k < total; k++)
			pair_of(k, n, &pairs[2 * k], &pairs[2 * k + 1]);
	} else {
		/* Partial Fisher-Yates over pair indexes, after moving one pair of each relation
		 * to the front. */
		long *idx = malloc((size_t)total * sizeof(long));
		int got = 0, seen[IPCB_REL_OTHER_PACKAGE + 1] = { 0 };
		uint64_t seed = 0x9e3779b97f4a7c15ull;
		if (!idx) {
			free(pairs);
			return -ENOMEM;
		}
		for (long k = 0; k < total; k++)
			idx[k] = k;
		if (cfg->topo)
			for (long k = 0; k < total && got < npick; k++) {
				int i, j;
				pair_of(k, n, &i, &j);
				enum ipcb_relation r = ipcb_topo_relation(cfg->topo, cpus[i], cpus[j]);
				if (seen[r])
					continue;
				seen[r] = 1;
				long t = idx[got];
				idx[got] = idx[k];
				idx[k] = t;
				got++;
			}
		for (; got < npick; got++) {
			long k = got + (long)(xorshift(&seed) % (uint64_t)(total - got));
			long t = idx[got];
			idx[got] = idx[k];
			idx[k] = t;
		}
		for (int p = 0; p < npick; p++)
			pair_of(idx[p], n, &pairs[2 * p], &pairs[2 * p + 1]);
		free(idx);
	}
	for (int p = 0; p < 2 * npick; p++)
		pairs[p] = cpus[pairs[p]];
	qsort(pairs, (size_t)npick, 2 * sizeof(int), cmp_pair);

	free(sel.a);
	sel.a = pairs;
	sel.npick = npick;
	sel.n = n;
	sel.limit = limit;
	sel.topo = cfg->topo;
	memcpy(sel.cpus, cpus, (size_t)n * sizeof(int));
	sel.valid = 1;
	return npick;
}

static int c2c_variants(const struct ipcb_config *cfg)
{
	int n = select_pairs(cfg);
	return n > 0 ? n : 1;      /* one SKIPPED case says why there is no pair */
}

static int c2c_plan(struct ipcb_case *c, char *why, size_t len)
{
	const struct ipcb_config *cfg = c->cfg;
	int n = select_pairs(cfg), a, b;
	const char *rel = "unknown";
	size_t l;

	if (n < 0) {
		snprintf(why, len, "c2c: cannot choose CPU pairs: %s", strerror(-n));
		return -ENOTSUP;
	}
	if (cfg->unpinned) {
		snprintf(why, len, "c2c needs workers pinned to two CPUs (--unpinned was given)");
		return -ENOTSUP;
	}
	if (n == 0) {
		snprintf(why, len, "c2c needs two distinct CPUs (this run has %d); two spinners "
			 "on one CPU would only measure the scheduler tick", cfg->n_cpus ? 1 : 0);
		return -ENOTSUP;
	}
	if (c->variant < 0 || c->variant >= n) {
		snprintf(why, len, "c2c: no pair %d", c->variant);
		return -ENOTSUP;
	}
	a = sel.a[2 * c->variant];
	b = sel.a[2 * c->variant + 1];
	c->nworkers = 2;
	c->roles[0] = IPCB_ROLE_A;
	c->roles[1] = IPCB_ROLE_B;
	c->cpus[0] = a;
	c->cpus[1] = b;
	c->cpus_fixed = 1;
	if (cfg->topo)
		rel = ipcb_relation_name(ipcb_topo_relation(cfg->topo, a, b));
	l = strlen(c->label);
	snprintf(c->label + l, sizeof(c->label) - l, " %d-%d", a, b);
	l = strlen(c->params);
	snprintf(c->params + l, sizeof(c->params) - l, "%scpu_a=%d;cpu_b=%d;relation=%s",
		 l ? ";" : "", a, b, rel);
	return 0;
}

/* ---- workers ---- */

/* Spin until the word holds want (returns 0) or the stop word (returns 1). Any other value
 * than `mine` (this side's last store) is corruption. -errno after recording why. */
static int spin_for(struct ipcb_wctx *w, _Atomic uint64_t *word, uint64_t want, uint64_t mine)
{
	uint32_t spins = 0;
	uint64_t since = 0;

	for (;;) {
		uint64_t v = atomic_load_explicit(word, memory_order_acquire);
		if (v == want)
			return 0;
		if (v == C2C_STOP)
			return 1;
		if (v != mine) {
			w->slot->corrupt++;
			return ipcb_worker_fail(w, 0, "cache line holds %llu, expected %llu or %llu",
						(unsigned long long)v, (unsigned long long)mine,
						(unsigned long long)want);
		}
		if (++spins % C2C_CHECK_SPINS == 0) {
			uint64_t now = ipcb_now_ns();
			if (atomic_load_explicit(&w->ctl->stop, memory_order_relaxed))
				return -ECANCELED;
			if (!since)
				since = now;
			else if (now - since > C2C_SILENT_NS)
				return ipcb_worker_fail(w, -ETIMEDOUT, "no answer from the other CPU "
							"for %.0f s (waiting for %llu)",
							(double)C2C_SILENT_NS / 1e9,
							(unsigned long long)want);
		}
	}
}

/* Round trip k as A: store 2k+1, wait for 2k+2. */
static inline int a_round(struct ipcb_wctx *w, _Atomic uint64_t *word, uint64_t k)
{
	atomic_store_explicit(word, 2 * k + 1, memory_order_release);
	int rc = spin_for(w, word, 2 * k + 2, 2 * k + 1);
	if (rc == 1)
		return ipcb_worker_fail(w, 0, "B stopped before round trip %llu",
					(unsigned long long)k);
	return rc;
}

static int c2c_a(struct ipcb_wctx *w, _Atomic uint64_t *word)
{
	const struct ipcb_config *cfg = w->c->cfg;
	struct ipcb_slot *s = w->slot;
	uint64_t k = 0, t0, t, n = 0, batch, deadline;
	int rc;

	t0 = ipcb_now_ns();
	do {
		for (int i = 0; i < 64; i++)
			if ((rc = a_round(w, word, k++)) < 0)
				return rc;
		n += 64;
		t = ipcb_now_ns();
	} while (t - t0 < cfg->warmup_ns);
	/* Four times the usual batch: the clock reads and the histogram update between two
	 * samples stay under 1% of a sample, since a round trip is only tens of ns. */
	batch = 4 * ipcb_batch_for((double)(t - t0) / (double)n);
	s->ops_per_sample = batch;

	ipcb_worker_begin(w);
	deadline = s->t_begin_ns + cfg->duration_ns;
	t = s->t_begin_ns;
	do {
		t0 = t;
		for (uint64_t i = 0; i < batch; i++)
			if ((rc = a_round(w, word, k++)) < 0)
				return rc;
		t = ipcb_now_ns();
		ipcb_hist_record(&s->hist, (t - t0 + batch / 2) / batch);
		s->msgs += batch;
		if ((s->hist.count & 255) == 0)
			ipcb_worker_sample_cpu(w);
	} while (t < deadline);
	ipcb_worker_end(w);
	s->u[0] = k;                          /* round trips in all, warm-up included */
	atomic_store_explicit(word, C2C_STOP, memory_order_release);
	return 0;
}

static int c2c_b(struct ipcb_wctx *w, _Atomic uint64_t *word)
{
	struct ipcb_slot *s = w->slot;
	uint64_t k = 0;
	int rc;

	ipcb_worker_begin(w);
	for (;;) {
		rc = spin_for(w, word, 2 * k + 1, 2 * k);
		if (rc < 0)
			return rc;
		if (rc == 1)
			break;
		atomic_store_explicit(word, 2 * k + 2, memory_order_release);
		k++;
	}
	ipcb_worker_end(w);
	s->msgs = k;
	s->u[0] = k;
	return 0;
}

static int c2c_worker(struct ipcb_wctx *w)
{
	_Atomic uint64_t *word = &w->ctl->shared[0];
	int rc;

	if (w->c->cpus[0] == w->c->cpus[1] || w->c->cpus[0] < 0)
		return ipcb_worker_fail(w, -EINVAL, "c2c needs two distinct pinned CPUs");
	rc = ipcb_worker_gate(w);
	if (rc == 0)
		rc = w->role == IPCB_ROLE_A ? c2c_a(w, word) : c2c_b(w, word);
	return rc == -ECANCELED ? 0 : rc;
}

static int c2c_finish(const struct ipcb_case *c, struct ipcb_slot *slots, struct ipcb_metrics *m,
		      char *why, size_t len)
{
	struct ipcb_slot *a = &slots[0], *b = &slots[1];

	if (a->u[0] != b->u[0] || a->corrupt || b->corrupt || !a->msgs) {
		snprintf(why, len, "integrity: A counted %llu round trips, B %llu (corrupt values "
			 "seen: %llu)", (unsigned long long)a->u[0], (unsigned long long)b->u[0],
			 (unsigned long long)(a->corrupt + b->corrupt));
		return -EPROTO;
	}
	ipcb_metrics_add_hist(m, "rtt", &a->hist, a->ops_per_sample);
	ipcb_metrics_add(m, "round_trips", "count", (double)a->msgs, a->hist.count,
			 a->ops_per_sample, 0);
	ipcb_metrics_add(m, "migrations", "count", (double)(a->migrations + b->migrations), 1, 1, 1);
	(void)c;
	return 0;
}

const struct ipcb_pattern ipcb_pattern_c2c = {
	.name = "c2c",
	.summary = "core-to-core matrix: round trip of a cache line between every pair of CPUs",
	.uses_transport = 0,
	.sized = 0,
	.headline = { "rtt_p50_ns", "rtt_p99_ns", NULL },
	.opts = c2c_opts,
	.variants = c2c_variants,
	.plan = c2c_plan,
	.worker = c2c_worker,
	.finish = c2c_finish,
};
