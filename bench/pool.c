// SPDX-License-Identifier: MIT
/*
 * Process pool: throughput, scaling and task latency of a pool of P workers fed through a
 * shared-memory task queue (ipc/shm_queue.h, our multiprocessing.JoinableQueue), the C
 * counterpart of multiprocessing.Pool.
 *
 * Workers of one case: 0 is the submitter (Pool's caller), 1 the collector (Pool's result
 * handler, which hands results back to the caller), 2 .. P+1 the pool. Tasks go submitter
 * -> task queue -> a pool worker, which does the task's work, puts a result into the result
 * queue and marks the task done (task_done); the collector takes every result. Three ways
 * to submit, as Pool offers them:
 *   map            calls of MAP_ITEMS items split into chunks of C items (C = 1, 64, or
 *                  Python's default ceil(items / (4 P)), "auto"); each call waits for all
 *                  of its tasks (join on the task queue) before the next call starts;
 *   apply_async    one item per task, at most 2 P tasks in flight (a credit queue of that
 *                  capacity: the submitter puts a credit before a task, the collector takes
 *                  one per result), so latency is service plus a short queue, not a flood;
 *   imap_unordered one item per task, submitted as fast as the bounded task queue
 *                  (TASK_QUEUE_CAP) takes them; results in completion order.
 * The work of an item is a calibrated spin loop (a dependent multiply-add chain the
 * compiler cannot shorten, its result sent back and folded by the collector) of 0 (empty),
 * 1 us, 10 us, 100 us or 1 ms; the calibration runs once in the parent before any worker.
 *
 * Measured window: the submitter starts at the gate, publishes t0 = start + warm-up, and
 * submits until t_end: t0 + duration, or later until at least one whole map call (16 P
 * tasks for the others) was submitted after t0, so coarse tasks still give a number; a map
 * call in progress is finished. tasks_per_s counts items whose result reached the collector
 * inside [t0, t_end), over that time: the pool is kept busy for the whole window, and the
 * drain after it is not counted. Latency is
 * submit (just before the put) to the collector's get, for every item submitted at or after
 * t0 (a chunk's items share their chunk's latency). Derived, per repetition:
 *   overhead_ns_per_task = min(P, CPUs) x window / items - grain (what a CPU spent per item
 *                          beyond the work itself);
 *   speedup = tasks/s over the median tasks/s of P = 1 (same api and grain; present when
 *             P = 1 is in --pool-sizes and ran first); efficiency = speedup / P;
 *   sweet_spot_pool_size / sweet_spot_tasks_per_s on the largest P of each api and grain:
 *             the P with the highest median tasks/s among those run.
 *
 * Integrity: every item's result arrives exactly once. The submitter counts the items it
 * submitted and sums their ids and squared ids; the collector does the same for what
 * arrives; finish() requires all three to match (a lost item and a duplicate cannot cancel
 * out in both sums). A pool worker that dies holding a task is a dead worker for the harness:
 * the repetition FAILS with that worker named (the held task would otherwise stall join()),
 * so a task is never dropped silently. Queues and the window's start live in one shared
 * mapping made by the first plan() call (parent, before any fork) and re-initialised by the
 * submitter before the start gate of each repetition.
 *
 * Placement: worker i runs on the run's CPU list round-robin (submitter, collector, then
 * the pool), so P may exceed the CPUs (the default sweep is 1 .. 2 x CPUs); the queues then
 * sleep at once instead of polling.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../harness/clock.h"
#include "../harness/opt.h"
#include "../harness/run.h"
#include "../ipc/shm_queue.h"
#include "../ipc/transport.h"
#include "pattern.h"
#include "pool.h"

#define POOL_MAX_SIZE (IPCB_MAX_WORKERS - 2)  /* + submitter + collector */
#define POOL_MAX_SIZES IPCB_POOL_MAX_SIZES
#define MAP_ITEMS 256
#define TASK_QUEUE_CAP 64
#define RESULT_QUEUE_CAP 1024
#define SLICE_NS 200000000ull                /* blocking calls re-check ctl->stop this often */
#define MAX_REPS_KEPT 64

enum pool_api { API_MAP_1, API_MAP_AUTO, API_MAP_64, API_APPLY, API_IMAP, API_N };
static const char *const api_names[API_N] = { "map", "map", "map", "apply_async",
					      "imap_unordered" };
static const uint64_t grains_ns[] = { 0, 1000, 10000, 100000, 1000000 };
static const char *const grain_names[] = { "empty", "1us", "10us", "100us", "1ms" };
#define NGRAINS ((int)(sizeof(grains_ns) / sizeof(grains_ns[0])))

static struct pool_settings {
	const char *sizes;        /* --pool-sizes, NULL = default */
} pool_cfg;

/* Parse a pool-size list into out[]; count, or -EINVAL with a message. */
static int parse_sizes(const char *s, int *out, char *err, size_t errlen)
{
	return ipcb_parse_counts(s, "pool-sizes", 1, POOL_MAX_SIZE, out, POOL_MAX_SIZES, err,
				 errlen);
}

static int check_sizes(const char *v, char *err, size_t errlen)
{
	int tmp[POOL_MAX_SIZES];
	return parse_sizes(v, tmp, err, errlen) < 0 ? -EINVAL : 0;
}

static const struct ipcb_opt pool_opts[] = {
	{ .name = "pool-sizes", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct pool_settings, sizes), .metavar = "LIST", .base = &pool_cfg,
	  .check = check_sizes,
	  .help = "pool: pool sizes to run, each 1 .. 1022 (default: 1, 2, 4, ... up to 2 x CPUs, "
		  "and the CPU count; Python's Pool runs those up to 64)" },
	{ .name = NULL },
};

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;
	return (a > b) - (a < b);
}

/* Shared with bench/python.c, so Python's Pool runs the sizes ours runs and every pair can
 * be compared (declared in pool.h). */
int ipcb_pool_sizes(const struct ipcb_config *cfg, int *out)
{
	int n = 0, k = 0;
	char err[200];

	if (pool_cfg.sizes) {
		n = parse_sizes(pool_cfg.sizes, out, err, sizeof(err));
		if (n < 0)
			return n;
	} else {
		int cpus = cfg->n_cpus > 0 ? cfg->n_cpus : 1, top = 2 * cpus;
		if (top > POOL_MAX_SIZE)
			top = POOL_MAX_SIZE;
		for (int p = 1; p <= top && n < POOL_MAX_SIZES - 2; p *= 2)
			out[n++] = p;
		out[n++] = cpus < top ? cpus : top;
		out[n++] = top;
	}
	qsort(out, (size_t)n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++)
		if (k == 0 || out[k - 1] != out[i])
			out[k++] = out[i];
	return k;
}

/* ---- the work: a calibrated spin ---- */

static double iters_per_ns;  /* set by calibrate() in the parent, inherited by workers */

/* n steps of a 64-bit LCG; each step depends on the last, and the empty asm makes x opaque
 * to the optimiser, so the loop cannot be shortened or removed. */
static uint64_t __attribute__((noinline)) burn(uint64_t n, uint64_t x)
{
	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

static void calibrate(void)
{
	double best = 0;

	if (iters_per_ns > 0)
		return;
	for (int r = 0; r < 5; r++) {
		uint64_t n = 2000000, t0 = ipcb_now_ns();
		volatile uint64_t sink = burn(n, (uint64_t)r);
		uint64_t dt = ipcb_now_ns() - t0;
		(void)sink;
		double rate = (double)n / (double)(dt ? dt : 1);
		if (rate > best)
			best = rate;   /* fastest run: least disturbed */
	}
	iters_per_ns = best;
}

/* ---- shared state ---- */

struct pool_shm {
	_Alignas(IPCB_CACHELINE) _Atomic uint64_t t0_ns;   /* window start, 0 until published */
	_Atomic uint64_t t_end_ns;                         /* window end, 0 until published */
	_Alignas(IPCB_CACHELINE) char queues[];
};

struct pool_task {
	uint64_t first;           /* id of the first item */
	uint32_t count;           /* items in this task (the chunk) */
	uint32_t flags;
	uint64_t t_submit_ns;
};

struct pool_result {
	uint64_t first;
	uint32_t count, flags;
	uint64_t t_submit_ns;
	uint64_t id_sum, id_sq_sum;
	uint64_t work;
};

enum { F_MEASURED = 1, F_STOP = 2 };

static struct pool_shm *shm;
static size_t shm_len, q_len;

static size_t queue_bytes(size_t cap)
{
	struct ipcb_shm_queue_params p = { .capacity = cap, .item_size = sizeof(struct pool_result),
					   .flags = IPCB_SHM_QUEUE_JOINABLE };
	return (ipcb_shm_queue_size(&p) + IPCB_CACHELINE - 1) & ~(size_t)(IPCB_CACHELINE - 1);
}

/* Map the shared state once, big enough for any case (parent, before any fork). */
static int shm_map(void)
{
	if (shm)
		return 0;
	q_len = queue_bytes(RESULT_QUEUE_CAP > 2 * POOL_MAX_SIZE ? RESULT_QUEUE_CAP
								  : 2 * POOL_MAX_SIZE);
	shm_len = sizeof(struct pool_shm) + 3 * q_len;
	void *p = mmap(NULL, shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	shm = p;
	return 0;
}

static void *queue_mem(int i)
{
	return shm->queues + (size_t)i * q_len;
}

/* ---- per-run statistics for speedup and the sweet spot (parent, finish) ---- */

static struct pool_stat {
	int n;
	double v[MAX_REPS_KEPT];
} stats[API_N][NGRAINS][POOL_MAX_SIZES];

static double stat_median(const struct pool_stat *s)
{
	double t[MAX_REPS_KEPT];
	int n = s->n < MAX_REPS_KEPT ? s->n : MAX_REPS_KEPT;

	if (!n)
		return 0;
	memcpy(t, s->v, (size_t)n * sizeof(double));
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* ---- planning ---- */

struct pool_variant {
	enum pool_api api;
	int grain, psize_idx, psize, nsizes;
	int chunk;
};

static int decode(const struct ipcb_config *cfg, int v, struct pool_variant *out)
{
	int sizes[POOL_MAX_SIZES];
	int n = ipcb_pool_sizes(cfg, sizes);

	if (n <= 0 || v < 0 || v >= API_N * NGRAINS * n)
		return -EINVAL;
	out->nsizes = n;
	out->psize_idx = v % n;
	out->psize = sizes[v % n];
	out->grain = (v / n) % NGRAINS;
	out->api = (enum pool_api)(v / n / NGRAINS);
	switch (out->api) {
	case API_MAP_1:
		out->chunk = 1;
		break;
	case API_MAP_AUTO:   /* Python: divmod(len, 4 * processes), rounded up */
		out->chunk = (MAP_ITEMS + 4 * out->psize - 1) / (4 * out->psize);
		break;
	case API_MAP_64:
		out->chunk = 64;
		break;
	default:
		out->chunk = 1;
	}
	return 0;
}

static int pool_variants(const struct ipcb_config *cfg)
{
	int sizes[POOL_MAX_SIZES];
	int n = ipcb_pool_sizes(cfg, sizes);

	memset(stats, 0, sizeof(stats));   /* a new plan: a new run */
	return n > 0 ? API_N * NGRAINS * n : 0;
}

static int pool_plan(struct ipcb_case *c, char *why, size_t len)
{
	const struct ipcb_config *cfg = c->cfg;
	struct pool_variant pv;
	size_t l;
	int rc;

	if (decode(cfg, c->variant, &pv) < 0) {
		snprintf(why, len, "pool: no variant %d", c->variant);
		return -ENOTSUP;
	}
	if ((rc = shm_map()) < 0) {
		snprintf(why, len, "pool: cannot map %zu bytes of shared memory: %s", shm_len,
			 strerror(-rc));
		return -ENOTSUP;
	}
	calibrate();
	c->nworkers = pv.psize + 2;
	for (int i = 0; i < c->nworkers; i++) {
		c->roles[i] = i < 2 ? IPCB_ROLE_A : IPCB_ROLE_B;
		c->cpus[i] = cfg->unpinned || cfg->n_cpus <= 0 ? -1 : cfg->cpu_list[i % cfg->n_cpus];
	}
	c->cpus_fixed = 1;
	l = strlen(c->label);
	if (pv.api <= API_MAP_64)
		snprintf(c->label + l, sizeof(c->label) - l, " map c=%s%d %s P=%d",
			 pv.api == API_MAP_AUTO ? "auto:" : "", pv.chunk, grain_names[pv.grain],
			 pv.psize);
	else
		snprintf(c->label + l, sizeof(c->label) - l, " %s %s P=%d", api_names[pv.api],
			 grain_names[pv.grain], pv.psize);
	l = strlen(c->params);
	/* "auto" stays "auto" at every P (so one series spans the sizes); the chunk it gave is
	 * in the label and in the chunk_items metric. */
	if (pv.api == API_MAP_AUTO)
		snprintf(c->params + l, sizeof(c->params) - l, "%sapi=map;chunk=auto;grain_ns=%llu;"
			 "pool_size=%d", l ? ";" : "", (unsigned long long)grains_ns[pv.grain],
			 pv.psize);
	else
		snprintf(c->params + l, sizeof(c->params) - l, "%sapi=%s;chunk=%d;grain_ns=%llu;"
			 "pool_size=%d", l ? ";" : "", api_names[pv.api], pv.chunk,
			 (unsigned long long)grains_ns[pv.grain], pv.psize);
	return 0;
}

/* ---- workers ---- */

struct pool_run {
	struct ipcb_wctx *w;
	struct pool_variant pv;
	struct ipcb_shm_queue *tq, *rq, *cq;
};

static int q_put(struct pool_run *r, struct ipcb_shm_queue *q, const void *item, size_t len)
{
	for (;;) {
		int rc = ipcb_shm_queue_put(q, item, len, SLICE_NS);
		if (rc != -ETIMEDOUT)
			return rc;
		if (atomic_load_explicit(&r->w->ctl->stop, memory_order_relaxed))
			return -ECANCELED;
	}
}

static ssize_t q_get(struct pool_run *r, struct ipcb_shm_queue *q, void *buf, size_t len)
{
	for (;;) {
		ssize_t rc = ipcb_shm_queue_get(q, buf, len, SLICE_NS);
		if (rc != -ETIMEDOUT)
			return rc;
		if (atomic_load_explicit(&r->w->ctl->stop, memory_order_relaxed))
			return -ECANCELED;
	}
}

static int q_join(struct pool_run *r)
{
	for (;;) {
		int rc = ipcb_shm_queue_join(r->tq, SLICE_NS);
		if (rc != -ETIMEDOUT)
			return rc;
		if (atomic_load_explicit(&r->w->ctl->stop, memory_order_relaxed))
			return -ECANCELED;
	}
}

/* The queues of this case, made fresh by the submitter before the gate. */
static int init_queues(struct pool_run *r, int make)
{
	const struct ipcb_case *c = r->w->c;
	int shared_cpus = c->cpus[0] < 0 || c->nworkers > c->cfg->n_cpus;
	struct ipcb_shm_queue_params tp = {
		.capacity = TASK_QUEUE_CAP, .item_size = sizeof(struct pool_task),
		.flags = IPCB_SHM_QUEUE_JOINABLE, .spin = shared_cpus ? 0 : 100 };
	struct ipcb_shm_queue_params rp = tp, cp = tp;
	int rc;

	rp.capacity = RESULT_QUEUE_CAP;
	rp.item_size = sizeof(struct pool_result);
	rp.flags = 0;
	cp.capacity = 2 * (size_t)r->pv.psize;
	cp.item_size = sizeof(uint64_t);
	cp.flags = 0;
	if (!make) {
		r->tq = queue_mem(0);
		r->rq = queue_mem(1);
		r->cq = queue_mem(2);
		return 0;
	}
	atomic_store(&shm->t0_ns, 0);
	atomic_store(&shm->t_end_ns, 0);
	if ((rc = ipcb_shm_queue_init(queue_mem(0), q_len, &tp, &r->tq)) < 0 ||
	    (rc = ipcb_shm_queue_init(queue_mem(1), q_len, &rp, &r->rq)) < 0 ||
	    (rc = ipcb_shm_queue_init(queue_mem(2), q_len, &cp, &r->cq)) < 0)
		return ipcb_worker_fail(r->w, rc, "pool: queue set-up");
	return 0;
}

static int submit(struct pool_run *r, struct pool_task *t, uint64_t t0)
{
	struct ipcb_slot *s = r->w->slot;
	int rc;

	if (r->pv.api == API_APPLY) {
		uint64_t credit = t->first;
		if ((rc = q_put(r, r->cq, &credit, sizeof(credit))) < 0)
			return rc;
	}
	t->t_submit_ns = ipcb_now_ns();
	t->flags = t->t_submit_ns >= t0 ? F_MEASURED : 0;
	if ((rc = q_put(r, r->tq, t, sizeof(*t))) < 0)
		return rc;
	for (uint64_t id = t->first; id < t->first + t->count; id++) {
		s->u[1] += id;
		s->u[2] += id * id;
	}
	s->u[0] += t->count;
	return 0;
}

static int submitter(struct pool_run *r)
{
	const struct ipcb_config *cfg = r->w->c->cfg;
	struct ipcb_slot *s = r->w->slot;
	uint64_t next = 0, t0, t1, t_end, first_measured = UINT64_MAX;
	uint64_t min_measured = r->pv.api <= API_MAP_64 ? MAP_ITEMS : 16 * (uint64_t)r->pv.psize;
	struct pool_task t;
	int rc;

	ipcb_worker_begin(r->w);
	t0 = s->t_begin_ns + cfg->warmup_ns;
	t1 = t0 + cfg->duration_ns;
	atomic_store_explicit(&shm->t0_ns, t0, memory_order_release);
	do {
		if (first_measured == UINT64_MAX && ipcb_now_ns() >= t0)
			first_measured = next;
		if (r->pv.api <= API_MAP_64) {
			for (int done = 0; done < MAP_ITEMS; done += (int)t.count) {
				t.first = next;
				t.count = (uint32_t)(MAP_ITEMS - done < r->pv.chunk ? MAP_ITEMS - done
										    : r->pv.chunk);
				if ((rc = submit(r, &t, t0)) < 0)
					goto fail;
				next += t.count;
			}
			if ((rc = q_join(r)) < 0)
				goto fail;
		} else {
			t.first = next++;
			t.count = 1;
			if ((rc = submit(r, &t, t0)) < 0)
				goto fail;
		}
		t_end = ipcb_now_ns();
	} while (t_end < t1 || first_measured == UINT64_MAX || next - first_measured < min_measured);
	/* The window closes when submission stops: at t1, or later when too few items had been
	 * submitted since t0 (coarse tasks, long map calls) to say anything. */
	atomic_store(&shm->t_end_ns, t_end);
	ipcb_worker_end(r->w);
	s->u[5] = t0;
	s->u[6] = t_end;

	/* Drain: every task done (so every result is in the result queue), then tell the
	 * collector and the pool to stop. */
	if ((rc = q_join(r)) < 0)
		goto fail;
	struct pool_result stop = { .flags = F_STOP };
	if ((rc = q_put(r, r->rq, &stop, sizeof(stop))) < 0)
		goto fail;
	memset(&t, 0, sizeof(t));
	t.flags = F_STOP;
	for (int i = 0; i < r->pv.psize; i++)
		if ((rc = q_put(r, r->tq, &t, sizeof(t))) < 0)
			goto fail;
	s->msgs = s->u[0];
	return 0;
fail:
	if (rc == -ECANCELED)
		return rc;
	return ipcb_worker_fail(r->w, rc, "pool submitter: task %llu", (unsigned long long)next);
}

static int collector(struct pool_run *r)
{
	struct ipcb_slot *s = r->w->slot;
	struct pool_result res;
	uint64_t window = 0, work = 0, t0 = 0;
	ssize_t n;

	ipcb_worker_begin(r->w);
	for (;;) {
		n = q_get(r, r->rq, &res, sizeof(res));
		if (n < 0)
			return n == -ECANCELED ? (int)n : ipcb_worker_fail(r->w, (int)n,
				"pool collector: get after %llu results", (unsigned long long)s->u[0]);
		if (res.flags & F_STOP)
			break;
		uint64_t now = ipcb_now_ns(), t_end = atomic_load(&shm->t_end_ns);
		if (!t0)
			t0 = atomic_load_explicit(&shm->t0_ns, memory_order_acquire);
		s->u[0] += res.count;
		s->u[1] += res.id_sum;
		s->u[2] += res.id_sq_sum;
		work ^= res.work;
		if (res.flags & F_MEASURED)
			ipcb_hist_record_n(&s->hist, now - res.t_submit_ns, res.count);
		/* t_end read after now: if it is still 0, the window closed after now. */
		if (t0 && now >= t0 && (!t_end || now < t_end))
			window += res.count;
		if (r->pv.api == API_APPLY) {
			uint64_t credit;
			n = q_get(r, r->cq, &credit, sizeof(credit));
			if (n < 0)
				return n == -ECANCELED ? (int)n : ipcb_worker_fail(r->w, (int)n,
					"pool collector: credit");
		}
	}
	ipcb_worker_end(r->w);
	s->msgs = s->u[0];
	s->u[3] = window;
	s->u[4] = work;
	return 0;
}

/* Fault injection for tests: the first pool worker kills itself holding its N-th task. */
static uint64_t kill_after(const struct ipcb_wctx *w)
{
	const char *e = getenv("IPCBENCH_TEST_POOL_KILL");
	return e && w->id == 2 && !w->thread_mode ? strtoull(e, NULL, 10) : 0;
}

static int pool_member(struct pool_run *r)
{
	struct ipcb_slot *s = r->w->slot;
	uint64_t iters = (uint64_t)((double)grains_ns[r->pv.grain] * iters_per_ns + 0.5);
	uint64_t die = kill_after(r->w), got = 0;
	struct pool_task t;
	struct pool_result res;
	ssize_t n;
	int rc;

	ipcb_worker_begin(r->w);
	for (;;) {
		n = q_get(r, r->tq, &t, sizeof(t));
		if (n < 0)
			return n == -ECANCELED ? (int)n : ipcb_worker_fail(r->w, (int)n,
				"pool worker: get after %llu tasks", (unsigned long long)s->msgs);
		if (t.flags & F_STOP) {
			(void)ipcb_shm_queue_task_done(r->tq);
			break;
		}
		if (die && ++got == die)
			raise(SIGKILL);
		memset(&res, 0, sizeof(res));
		res.first = t.first;
		res.count = t.count;
		res.flags = t.flags;
		res.t_submit_ns = t.t_submit_ns;
		for (uint64_t id = t.first; id < t.first + t.count; id++) {
			res.work ^= iters ? burn(iters, id) : id;
			res.id_sum += id;
			res.id_sq_sum += id * id;
		}
		if ((rc = q_put(r, r->rq, &res, sizeof(res))) < 0)
			return rc == -ECANCELED ? rc : ipcb_worker_fail(r->w, rc,
				"pool worker: result of task %llu", (unsigned long long)t.first);
		if ((rc = ipcb_shm_queue_task_done(r->tq)) < 0)
			return ipcb_worker_fail(r->w, rc, "pool worker: task_done");
		s->msgs += t.count;
	}
	ipcb_worker_end(r->w);
	return 0;
}

static int pool_worker(struct ipcb_wctx *w)
{
	struct pool_run r = { .w = w };
	int rc;

	if (!shm || decode(w->c->cfg, w->c->variant, &r.pv) < 0)
		return ipcb_worker_fail(w, -EINVAL, "pool: not planned");
	rc = init_queues(&r, w->id == 0);
	if (rc < 0)
		return rc;
	rc = ipcb_worker_gate(w);
	if (rc == 0)
		rc = w->id == 0 ? submitter(&r) : w->id == 1 ? collector(&r) : pool_member(&r);
	return rc == -ECANCELED ? 0 : rc;
}

static int pool_finish(const struct ipcb_case *c, struct ipcb_slot *slots, struct ipcb_metrics *m,
		       char *why, size_t len)
{
	const struct ipcb_config *cfg = c->cfg;
	const struct ipcb_slot *sub = &slots[0], *col = &slots[1];
	struct pool_variant pv;
	uint64_t done = 0;

	if (decode(cfg, c->variant, &pv) < 0) {
		snprintf(why, len, "pool: no variant %d", c->variant);
		return -EPROTO;
	}
	for (int i = 2; i < c->nworkers; i++)
		done += slots[i].msgs;
	if (sub->u[0] != col->u[0] || sub->u[1] != col->u[1] || sub->u[2] != col->u[2] ||
	    done != sub->u[0] || !sub->u[0]) {
		snprintf(why, len, "integrity: %llu items submitted, %llu processed by the pool, "
			 "%llu results collected (id sums %llu / %llu)", (unsigned long long)sub->u[0],
			 (unsigned long long)done, (unsigned long long)col->u[0],
			 (unsigned long long)sub->u[1], (unsigned long long)col->u[1]);
		return -EPROTO;
	}
	double win_ns = (double)(sub->u[6] - sub->u[5]);
	double window = (double)col->u[3];
	double tps = win_ns > 0 ? window / (win_ns / 1e9) : 0;
	int eff_p = pv.psize < cfg->n_cpus ? pv.psize : cfg->n_cpus;

	ipcb_metrics_add(m, "tasks_per_s", "ops/s", tps, col->u[3], 1, 0);
	ipcb_metrics_add_hist(m, "task_latency", &col->hist, 1);
	ipcb_metrics_add(m, "overhead_ns_per_task", "ns", window > 0 ?
			 (double)eff_p * win_ns / window -
			 (double)grains_ns[pv.grain] : 0, col->u[3], 1, 1);
	ipcb_metrics_add(m, "tasks", "count", (double)col->u[0], 1, 1, 0);
	ipcb_metrics_add(m, "chunk_items", "count", pv.chunk, 1, 1, 0);

	struct pool_stat *st = &stats[pv.api][pv.grain][pv.psize_idx];
	if (st->n < MAX_REPS_KEPT)
		st->v[st->n++] = tps;
	/* Speedup against P = 1 (the first size when the list holds 1; its cases ran first). */
	int sizes[POOL_MAX_SIZES];
	(void)ipcb_pool_sizes(cfg, sizes);
	if (sizes[0] == 1 && pv.psize_idx > 0 && stats[pv.api][pv.grain][0].n) {
		double base = stat_median(&stats[pv.api][pv.grain][0]);
		double sp = base > 0 ? tps / base : 0;
		ipcb_metrics_add(m, "speedup", "x", sp, 1, 1, 0);
		ipcb_metrics_add(m, "efficiency", "fraction", sp / pv.psize, 1, 1, 0);
	} else if (pv.psize == 1) {
		ipcb_metrics_add(m, "speedup", "x", 1, 1, 1, 0);
		ipcb_metrics_add(m, "efficiency", "fraction", 1, 1, 1, 0);
	}
	/* Sweet spot: on the largest size, the best median tasks/s of every size run. */
	if (pv.psize_idx == pv.nsizes - 1) {
		int best = pv.psize;
		double best_tps = tps;
		for (int i = 0; i < pv.psize_idx; i++) {
			const struct pool_stat *o = &stats[pv.api][pv.grain][i];
			double v = stat_median(o);
			if (o->n && v > best_tps) {
				best_tps = v;
				best = sizes[i];
			}
		}
		ipcb_metrics_add(m, "sweet_spot_pool_size", "count", best, 1, 1, 0);
		ipcb_metrics_add(m, "sweet_spot_tasks_per_s", "ops/s", best_tps, 1, 1, 0);
	}
	return 0;
}

const struct ipcb_pattern ipcb_pattern_pool = {
	.name = "pool",
	.summary = "process pool over a shared-memory task queue: map (chunk sweep), apply_async, "
		   "imap_unordered; tasks/s, speedup, per-task overhead and latency by grain",
	.uses_transport = 0,
	.sized = 0,
	.headline = { "tasks_per_s", "task_latency_p50_ns", "speedup" },
	.opts = pool_opts,
	.variants = pool_variants,
	.plan = pool_plan,
	.worker = pool_worker,
	.finish = pool_finish,
};
