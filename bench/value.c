// SPDX-License-Identifier: MIT
/*
 * Shared Value and Array (multiprocessing.Value / Array), with and without their lock.
 *
 * One case per primitive (any lock, `none` for "no lock", or an atomic counter) and worker
 * count; a repetition runs three phases, every worker in each, separated by a rendezvous:
 *  1. Value: value = value + 1 under the primitive's lock (a counter primitive: its add()).
 *     Operations go through the ops table, as Value.get_lock() does in Python; the counter
 *     bench measures the same update with the call out of the loop. Lost increments are
 *     counted (expected - final).
 *  2. Array (lock primitives only): ARRAY_RECS records of REC_WORDS words. Even workers
 *     write whole records (every word = a fresh sequence number), odd workers read whole
 *     records and count torn reads (words from different writes). With one worker it
 *     alternates. Without a lock, torn reads appear; with one, never.
 *  3. False sharing (`none` only, as it involves no primitive): each worker increments its
 *     own element of a packed array of 8-byte elements (one cache line shared by 8
 *     workers) and then of a padded one (a line each): the difference is the cost of the
 *     line bouncing between cores for data that is not even shared.
 * A correct primitive that loses an increment or tears a read FAILS the case; `none` doing
 * so is RACE (expected). Words are read and written with relaxed atomics, which compile to
 * plain loads and stores: the race is in the algorithm, not undefined behaviour.
 * Timed: each worker's own window per phase. Excluded: the rendezvous between phases.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "../harness/clock.h"
#include "../harness/run.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "pattern.h"

#define ARRAY_RECS 4
#define REC_WORDS 8
#define CHUNK 64

struct value_data {
	_Alignas(64) int64_t value;
	_Alignas(64) uint64_t rec[ARRAY_RECS][REC_WORDS];
	_Alignas(64) uint64_t packed[IPCB_MAX_WORKERS];
	_Alignas(64) struct { _Alignas(64) uint64_t v; } padded[IPCB_MAX_WORKERS];
};

/* Slot words. */
enum { U_INCS, U_VALUE_NS, U_FINAL, U_ARRAY_OPS, U_ARRAY_NS, U_TORN, U_PACKED_NS, U_PADDED_NS };
/* Packed/padded write counts go in slot->msgs / slot->bytes. */

static int sync_sweep(const struct ipcb_config *cfg)
{
	return ipcb_sync_sweep_len(cfg->budget);
}

static int value_plan(struct ipcb_case *c, char *why, size_t len)
{
	size_t l = strlen(c->label);

	(void)why;
	(void)len;
	c->nworkers = ipcb_sync_sweep_workers(c->cfg->budget, c->variant);
	snprintf(c->label + l, sizeof(c->label) - l, " x%d", c->nworkers);
	for (int i = 0; i < c->nworkers; i++)
		c->roles[i] = i % 2 ? IPCB_ROLE_B : IPCB_ROLE_A;
	c->sync_data = sizeof(struct value_data);
	snprintf(c->params + strlen(c->params), sizeof(c->params) - strlen(c->params),
		 ";array_recs=%d;rec_words=%d", ARRAY_RECS, REC_WORDS);
	return 0;
}

/* Every worker arrives at rendezvous k before any leaves it. */
static int rendezvous(struct ipcb_wctx *w, int k)
{
	unsigned n = 0;

	atomic_fetch_add_explicit(&w->ctl->shared[k], 1, memory_order_acq_rel);
	while (atomic_load_explicit(&w->ctl->shared[k], memory_order_acquire) <
	       (uint64_t)w->c->nworkers) {
		if (++n % 64 == 0) {
			if (atomic_load_explicit(&w->ctl->stop, memory_order_relaxed))
				return -ECANCELED;
			sched_yield();
		}
		ipcb_cpu_relax();
	}
	return 0;
}

static int phase_value(struct ipcb_wctx *w, struct ipcb_sync_ctx *x, struct value_data *d,
		       uint64_t until)
{
	const struct ipcb_sync *sy = x->sy;
	int counter = !(sy->caps & IPCB_SYNC_LOCK);
	uint64_t n = 0, t0 = ipcb_now_ns(), t;
	int rc;

	do {
		for (int i = 0; i < CHUNK; i++) {
			if (counter) {
				(void)sy->add(x, 1);
				continue;
			}
			if ((rc = sy->lock(x)) < 0)
				return ipcb_worker_fail(w, rc, "%s lock", sy->name);
			int64_t v = __atomic_load_n(&d->value, __ATOMIC_RELAXED);
			__atomic_store_n(&d->value, v + 1, __ATOMIC_RELAXED);
			sy->unlock(x);
		}
		n += CHUNK;
		t = ipcb_now_ns();
	} while (t < until);
	w->slot->u[U_INCS] = n;
	w->slot->u[U_VALUE_NS] = t - t0;
	return 0;
}

static int write_rec(struct ipcb_sync_ctx *x, struct value_data *d, int r, uint64_t seq)
{
	int rc = x->sy->lock(x);

	if (rc < 0)
		return rc;
	for (int k = 0; k < REC_WORDS; k++)
		__atomic_store_n(&d->rec[r][k], seq, __ATOMIC_RELAXED);
	x->sy->unlock(x);
	return 0;
}

/* 1 when the record was torn, 0 when whole, -errno. */
static int read_rec(struct ipcb_sync_ctx *x, struct value_data *d, int r)
{
	uint64_t v[REC_WORDS];
	int rc = x->sy->lock(x), torn = 0;

	if (rc < 0)
		return rc;
	for (int k = 0; k < REC_WORDS; k++)
		v[k] = __atomic_load_n(&d->rec[r][k], __ATOMIC_RELAXED);
	x->sy->unlock(x);
	for (int k = 1; k < REC_WORDS; k++)
		torn |= v[k] != v[0];
	return torn;
}

static int phase_array(struct ipcb_wctx *w, struct ipcb_sync_ctx *x, struct value_data *d,
		       uint64_t until)
{
	int alone = w->c->nworkers == 1, writer = w->id % 2 == 0;
	uint64_t n = 0, torn = 0, seq = (uint64_t)w->id << 40, t0 = ipcb_now_ns(), t;
	int rc;

	do {
		for (int i = 0; i < CHUNK; i++) {
			int r = (int)((n + (uint64_t)i) % ARRAY_RECS);
			if (writer && (rc = write_rec(x, d, r, ++seq)) < 0)
				return ipcb_worker_fail(w, rc, "%s lock", x->sy->name);
			if (!writer || alone) {
				if ((rc = read_rec(x, d, r)) < 0)
					return ipcb_worker_fail(w, rc, "%s lock", x->sy->name);
				torn += (uint64_t)rc;
			}
		}
		n += CHUNK;
		t = ipcb_now_ns();
	} while (t < until);
	w->slot->u[U_ARRAY_OPS] = n;
	w->slot->u[U_ARRAY_NS] = t - t0;
	w->slot->u[U_TORN] = torn;
	return 0;
}

static uint64_t own_increments(uint64_t *p, uint64_t until, uint64_t *ns)
{
	uint64_t n = 0, t0 = ipcb_now_ns(), t;

	do {
		for (int i = 0; i < CHUNK; i++) {
			uint64_t v = __atomic_load_n(p, __ATOMIC_RELAXED);
			__atomic_store_n(p, v + 1, __ATOMIC_RELAXED);
		}
		n += CHUNK;
		t = ipcb_now_ns();
	} while (t < until);
	*ns = t - t0;
	return n;
}

static int value_worker(struct ipcb_wctx *w)
{
	const struct ipcb_config *cfg = w->c->cfg;
	const struct ipcb_sync *sy = w->c->sy;
	struct value_data *d = w->si->data;
	int has_array = !!(sy->caps & IPCB_SYNC_LOCK), has_fs = !!(sy->caps & IPCB_SYNC_RACY);
	int nph = 1 + has_array + 2 * has_fs;
	uint64_t ph = cfg->duration_ns / (uint64_t)nph, t;
	struct ipcb_sync_ctx x;
	int rc;

	rc = ipcb_sync_ctx_attach(&x, w->si, w->id);
	if (rc < 0)
		return ipcb_worker_fail(w, rc, "attach to %s", sy->name);
	if ((rc = ipcb_worker_gate(w)) < 0)
		goto out;
	ipcb_worker_begin(w);
	t = ipcb_now_ns();
	if ((rc = phase_value(w, &x, d, t + ph)) < 0 || (rc = rendezvous(w, 0)) < 0)
		goto out;
	if (w->id == 0)
		w->slot->u[U_FINAL] = (uint64_t)(sy->caps & IPCB_SYNC_LOCK
				     ? __atomic_load_n(&d->value, __ATOMIC_ACQUIRE) : sy->load(&x));
	if (has_array && ((rc = phase_array(w, &x, d, ipcb_now_ns() + ph)) < 0 ||
			  (rc = rendezvous(w, 1)) < 0))
		goto out;
	if (has_fs) {
		w->slot->msgs = own_increments(&d->packed[w->id], ipcb_now_ns() + ph,
					       &w->slot->u[U_PACKED_NS]);
		if ((rc = rendezvous(w, 2)) < 0)
			goto out;
		w->slot->bytes = own_increments(&d->padded[w->id].v, ipcb_now_ns() + ph,
						&w->slot->u[U_PADDED_NS]);
	}
	ipcb_worker_end(w);
	rc = 0;
out:
	ipcb_sync_ctx_detach(&x);
	return rc == -ECANCELED ? 0 : rc;
}

static int value_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			struct ipcb_metrics *m, char *why, size_t len)
{
	const struct ipcb_sync *sy = c->sy;
	int has_array = !!(sy->caps & IPCB_SYNC_LOCK), has_fs = !!(sy->caps & IPCB_SYNC_RACY);
	uint64_t incs = 0, aops = 0, torn = 0, migrations = 0, wr = 0, rd = 0;
	double v_ns = 0, a_ns = 0, pk_ns = 0, pd_ns = 0;
	int n = c->nworkers;

	for (int i = 0; i < n; i++) {
		const struct ipcb_slot *s = &slots[i];
		incs += s->u[U_INCS];
		v_ns += (double)s->u[U_VALUE_NS] / (double)(s->u[U_INCS] ? s->u[U_INCS] : 1);
		aops += s->u[U_ARRAY_OPS];
		a_ns += (double)s->u[U_ARRAY_NS] / (double)(s->u[U_ARRAY_OPS] ? s->u[U_ARRAY_OPS] : 1);
		torn += s->u[U_TORN];
		if (i % 2 == 0)
			wr += s->u[U_ARRAY_OPS];
		if (i % 2 == 1 || n == 1)
			rd += s->u[U_ARRAY_OPS];
		pk_ns += (double)s->u[U_PACKED_NS] / (double)(s->msgs ? s->msgs : 1);
		pd_ns += (double)s->u[U_PADDED_NS] / (double)(s->bytes ? s->bytes : 1);
		migrations += s->migrations;
	}
	int64_t final = (int64_t)slots[0].u[U_FINAL];
	uint64_t lost = final >= 0 && (uint64_t)final <= incs ? incs - (uint64_t)final : 0;
	if (final < 0 || (uint64_t)final > incs) {
		snprintf(why, len, "integrity: Value is %lld after %llu increments", (long long)final,
			 (unsigned long long)incs);
		return -EPROTO;
	}
	ipcb_metrics_add(m, "value_ns_per_update", "ns", v_ns / n, incs, CHUNK, 1);
	ipcb_metrics_add(m, "value_lost_updates", "count", (double)lost, incs, 1, 1);
	if (has_array) {
		ipcb_metrics_add(m, "array_ns_per_record", "ns", a_ns / n, aops, CHUNK, 1);
		ipcb_metrics_add(m, "array_writes", "count", (double)wr, 1, 1, 0);
		ipcb_metrics_add(m, "array_reads", "count", (double)rd, 1, 1, 0);
		ipcb_metrics_add(m, "torn_reads", "count", (double)torn, rd, 1, 1);
	}
	if (has_fs) {
		ipcb_metrics_add(m, "packed_ns_per_write", "ns", pk_ns / n, 1, CHUNK, 1);
		ipcb_metrics_add(m, "padded_ns_per_write", "ns", pd_ns / n, 1, CHUNK, 1);
	}
	ipcb_metrics_add(m, "migrations", "count", (double)migrations, 1, 1, 1);

	if (!lost && !torn)
		return 0;
	if (sy->caps & IPCB_SYNC_RACY) {
		snprintf(why, len, "lost %llu of %llu Value increments, %llu torn reads of %llu",
			 (unsigned long long)lost, (unsigned long long)incs, (unsigned long long)torn,
			 (unsigned long long)rd);
		return IPCB_FINISH_RACE;
	}
	snprintf(why, len, "integrity: %s lost %llu of %llu Value increments, %llu torn reads of "
		 "%llu", sy->name, (unsigned long long)lost, (unsigned long long)incs,
		 (unsigned long long)torn, (unsigned long long)rd);
	return -EPROTO;
}

const struct ipcb_pattern ipcb_pattern_value = {
	.name = "value",
	.summary = "shared Value/Array: lock vs none vs atomic, torn records, packed vs padded",
	.uses_sync = 1,
	.sync_needs = IPCB_SYNC_LOCK | IPCB_SYNC_COUNTER,
	.headline = { "value_ns_per_update", "torn_reads", NULL },
	.variants = sync_sweep,
	.plan = value_plan,
	.worker = value_worker,
	.finish = value_finish,
};
