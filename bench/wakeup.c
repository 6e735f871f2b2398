// SPDX-License-Identifier: MIT
/*
 * Wake-up latency: how long a sleeping worker takes to run again after another one
 * signals it, for every wait primitive (Event set -> wait, Condition notify -> wake,
 * Semaphore post -> acquire, POSIX/System V semaphores) and the release of a Barrier.
 *
 * Signal primitives (2 workers). The waiter says it is about to wait, and waits. The poster
 * sees that, lets SETTLE_NS pass so the waiter is really asleep in the kernel (otherwise
 * this would time a hand-off between two running workers, not a wake-up), stamps the time
 * and posts. The waiter stamps the time as soon as wait() returns: the difference is one
 * sample. It then resets the object (an Event) and acknowledges; the poster waits for the
 * acknowledgement before the next round, so no post is ever outstanding. Both stamps use
 * the one system-wide monotonic clock, so the workers may sit on different CPUs.
 *
 * Barrier (2..N workers). Each worker stamps its arrival, then waits; when it is released it
 * takes the latest arrival stamp of the round (the last arriver's, the moment the barrier
 * could open) from its own release time: one sample per worker per round, all in one
 * histogram. Worker 0 decides warm-up and the end, writing the decision before it arrives,
 * so every worker leaves after the same round. The end waits for MIN_ROUNDS measured
 * rounds, so a stalled start on a loaded machine still yields a result.
 *
 * Excluded: the settle time, acknowledgements and resets (outside the stamps); warm-up.
 * Included, on purpose: the poster's system call up to the moment the waiter runs.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/clock.h"
#include "../harness/run.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "pattern.h"

#define SETTLE_NS 50000u
#define MIN_ROUNDS 10u    /* measured rounds before the end may come (a loaded machine) */

/* Shared data beside the primitive. */
struct wake_data {
	_Alignas(64) uint64_t waiting;      /* round the waiter is about to wait in (+1) */
	_Alignas(64) uint64_t t_post_ns;    /* poster's stamp of this round */
	uint32_t measure, stop;             /* written before the post / arrival */
	_Alignas(64) uint64_t acked;        /* rounds the waiter has finished */
	/* Barrier, by round parity: a worker can be one round ahead of another, never two
	 * (it cannot pass the next barrier before the slow one arrives there). */
	_Alignas(64) uint32_t b_measure[2], b_stop[2];
	_Alignas(64) uint64_t arrive_ns[2][IPCB_MAX_WORKERS];
};

static int sync_sweep(const struct ipcb_config *cfg)
{
	return ipcb_sync_sweep_len(cfg->budget);
}

static int wakeup_plan(struct ipcb_case *c, char *why, size_t len)
{
	size_t l = strlen(c->label);

	(void)why;
	(void)len;
	c->nworkers = ipcb_sync_sweep_workers(c->cfg->budget, c->variant);
	snprintf(c->label + l, sizeof(c->label) - l, " x%d", c->nworkers);
	if (c->sy->caps & IPCB_SYNC_BARRIER) {
		if (c->nworkers < 2)
			return -ENOENT;
	} else if (c->nworkers != 2) {
		return -ENOENT;    /* one poster, one waiter */
	}
	for (int i = 0; i < c->nworkers; i++)
		c->roles[i] = i == 0 ? IPCB_ROLE_A : IPCB_ROLE_B;
	c->sync_data = sizeof(struct wake_data);
	return 0;
}

/* Spin (politely) until *p >= v or the parent stops the case. */
static int await_u64(struct ipcb_wctx *w, uint64_t *p, uint64_t v)
{
	unsigned n = 0;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < v) {
		ipcb_cpu_relax();
		if (++n % 256 == 0) {
			if (atomic_load_explicit(&w->ctl->stop, memory_order_relaxed))
				return -ECANCELED;
			sched_yield();
		}
	}
	return 0;
}

static int poster(struct ipcb_wctx *w, struct ipcb_sync_ctx *x, struct wake_data *d)
{
	const struct ipcb_config *cfg = w->c->cfg;
	uint64_t warm_end = w->ctl->t_go_ns + cfg->warmup_ns, end = warm_end + cfg->duration_ns;
	uint64_t r, t;
	int rc, measuring = 0;

	for (r = 1;; r++) {
		if ((rc = await_u64(w, &d->waiting, r)) < 0)
			return rc;
		t = ipcb_now_ns();
		if (!measuring && t >= warm_end) {
			measuring = 1;
			ipcb_worker_begin(w);
		}
		int stop = t >= end && w->slot->msgs >= MIN_ROUNDS;
		__atomic_store_n(&d->stop, (uint32_t)stop, __ATOMIC_RELAXED);
		__atomic_store_n(&d->measure, (uint32_t)measuring, __ATOMIC_RELAXED);
		while (ipcb_now_ns() - t < SETTLE_NS)
			ipcb_cpu_relax();
		__atomic_store_n(&d->t_post_ns, ipcb_now_ns(), __ATOMIC_RELEASE);
		if ((rc = x->sy->post(x)) < 0)
			return ipcb_worker_fail(w, rc, "%s post", x->sy->name);
		if (stop)
			break;
		if ((rc = await_u64(w, &d->acked, r)) < 0)
			return rc;
		if (measuring)
			w->slot->msgs++;
	}
	ipcb_worker_end(w);
	return 0;
}

static int waiter(struct ipcb_wctx *w, struct ipcb_sync_ctx *x, struct wake_data *d)
{
	struct ipcb_slot *s = w->slot;
	int rc, began = 0;

	for (uint64_t r = 1;; r++) {
		__atomic_store_n(&d->waiting, r, __ATOMIC_RELEASE);
		if ((rc = x->sy->wait(x)) < 0)
			return ipcb_worker_fail(w, rc, "%s wait", x->sy->name);
		uint64_t t = ipcb_now_ns();
		uint64_t t0 = __atomic_load_n(&d->t_post_ns, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&d->stop, __ATOMIC_RELAXED))
			break;
		if (__atomic_load_n(&d->measure, __ATOMIC_RELAXED)) {
			if (!began) {
				began = 1;
				ipcb_worker_begin(w);
			}
			ipcb_hist_record(&s->hist, t > t0 ? t - t0 : 0);
			s->msgs++;
		}
		if (x->sy->reset)
			x->sy->reset(x);
		__atomic_store_n(&d->acked, r, __ATOMIC_RELEASE);
	}
	if (!began)
		ipcb_worker_begin(w);
	ipcb_worker_end(w);
	return 0;
}

static int barrier_rounds(struct ipcb_wctx *w, struct ipcb_sync_ctx *x, struct wake_data *d)
{
	const struct ipcb_config *cfg = w->c->cfg;
	uint64_t warm_end = w->ctl->t_go_ns + cfg->warmup_ns, end = warm_end + cfg->duration_ns;
	struct ipcb_slot *s = w->slot;
	int n = w->c->nworkers, rc, began = 0;

	for (uint64_t r = 0;; r++) {
		uint64_t *arr = d->arrive_ns[r & 1];
		if (w->id == 0) {
			uint64_t t = ipcb_now_ns();
			__atomic_store_n(&d->b_measure[r & 1], (uint32_t)(t >= warm_end),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&d->b_stop[r & 1], (uint32_t)(t >= end && s->msgs >= MIN_ROUNDS),
					 __ATOMIC_RELAXED);
		}
		__atomic_store_n(&arr[w->id], ipcb_now_ns(), __ATOMIC_RELEASE);
		if ((rc = x->sy->wait(x)) < 0)
			return ipcb_worker_fail(w, rc, "%s wait in round %llu", x->sy->name,
						(unsigned long long)r);
		uint64_t t = ipcb_now_ns(), last = 0;
		for (int i = 0; i < n; i++) {
			uint64_t a = __atomic_load_n(&arr[i], __ATOMIC_ACQUIRE);
			if (a > last)
				last = a;
		}
		if (__atomic_load_n(&d->b_stop[r & 1], __ATOMIC_RELAXED))
			break;
		if (__atomic_load_n(&d->b_measure[r & 1], __ATOMIC_RELAXED)) {
			if (!began) {
				began = 1;
				ipcb_worker_begin(w);
			}
			ipcb_hist_record(&s->hist, t > last ? t - last : 0);
			s->msgs++;
		}
		if (atomic_load_explicit(&w->ctl->stop, memory_order_relaxed))
			return -ECANCELED;
	}
	if (!began)
		ipcb_worker_begin(w);
	ipcb_worker_end(w);
	return 0;
}

static int wakeup_worker(struct ipcb_wctx *w)
{
	struct ipcb_sync_ctx x;
	struct wake_data *d = w->si->data;
	int rc;

	rc = ipcb_sync_ctx_attach(&x, w->si, w->id);
	if (rc < 0)
		return ipcb_worker_fail(w, rc, "attach to %s", w->c->sy->name);
	rc = ipcb_worker_gate(w);
	if (rc == 0) {
		if (x.sy->caps & IPCB_SYNC_BARRIER)
			rc = barrier_rounds(w, &x, d);
		else
			rc = w->id == 0 ? poster(w, &x, d) : waiter(w, &x, d);
	}
	ipcb_sync_ctx_detach(&x);
	return rc == -ECANCELED ? 0 : rc;
}

static int wakeup_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			 struct ipcb_metrics *m, char *why, size_t len)
{
	struct ipcb_hist *all = malloc(sizeof(*all));
	int barrier = !!(c->sy->caps & IPCB_SYNC_BARRIER);
	uint64_t migrations = 0;

	if (!all) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	ipcb_hist_init(all);
	for (int i = barrier ? 0 : 1; i < c->nworkers; i++)
		ipcb_hist_merge(all, &slots[i].hist);
	for (int i = 0; i < c->nworkers; i++)
		migrations += slots[i].migrations;
	if (all->count == 0) {
		free(all);
		snprintf(why, len, "no wake-up was measured (the measured window had no round)");
		return -EPROTO;
	}
	if (!barrier && slots[0].msgs + 1 < slots[1].msgs) {
		snprintf(why, len, "integrity: %llu posts, %llu wake-ups",
			 (unsigned long long)slots[0].msgs, (unsigned long long)slots[1].msgs);
		free(all);
		return -EPROTO;
	}
	ipcb_metrics_add_hist(m, "wake", all, 1);
	ipcb_metrics_add(m, "wakeups", "count", (double)all->count, all->count, 1, 0);
	ipcb_metrics_add(m, "migrations", "count", (double)migrations, 1, 1, 1);
	free(all);
	return 0;
}

const struct ipcb_pattern ipcb_pattern_wakeup = {
	.name = "wakeup",
	.summary = "wake-up latency: Event/Condition/Semaphore post -> wait, Barrier release",
	.uses_sync = 1,
	.sync_needs = IPCB_SYNC_WAIT | IPCB_SYNC_BARRIER,
	.headline = { "wake_p50_ns", "wake_p99_ns", NULL },
	.variants = sync_sweep,
	.plan = wakeup_plan,
	.worker = wakeup_worker,
	.finish = wakeup_finish,
};
