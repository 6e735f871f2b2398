// SPDX-License-Identifier: MIT
/*
 * Counter race: N workers each run deposit/withdraw pairs (balance = balance + n;
 * balance = balance - n) on one shared balance, protected by the primitive under test.
 * With a lock or an atomic update the balance ends where it started; with `none` updates
 * are lost and it drifts.
 *
 * How it is counted. The balance word carries an update count in its high half (see
 * sync/sync.h, IPCB_SYNC_TICK), so a lost update is counted exactly: lost = updates done -
 * updates the word remembers. A correct primitive with a loss FAILS the case; the racy
 * baseline with a loss is status RACE (expected), not a failure. One worker is the
 * uncontended cost of the same loop.
 *
 * How it is timed. The loop is the primitive's own run() (locking inlined in the loop), in
 * chunks sized during the warm-up so a chunk lasts about 100 us; every worker stops at the
 * same deadline (measured from the moment the gate opened), so the measured windows overlap.
 * ns_per_update is the shared counter's view (window / every worker's updates: the inverse
 * of throughput); worker_ns_per_update what one worker waits per update (its own window /
 * its updates). Excluded: warm-up, attach, the clock reads between chunks (< 1%).
 * A repetition stops early if the workers together near 2^32 updates, the most the balance
 * word can count (about a second of the racy loop on one core).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../harness/clock.h"
#include "../harness/run.h"
#include "../sync/sync.h"
#include "pattern.h"

#define CHUNK_NS 100000u     /* a chunk of pairs lasts about this long */
#define CHUNK_MAX (1u << 20)

/* Slot words (pattern-private). */
enum { U_BALANCE, U_LAST, U_PAIRS_ALL };

static int sync_sweep(const struct ipcb_config *cfg)
{
	return ipcb_sync_sweep_len(cfg->budget);
}

static int counter_plan(struct ipcb_case *c, char *why, size_t len)
{
	size_t l = strlen(c->label);

	c->nworkers = ipcb_sync_sweep_workers(c->cfg->budget, c->variant);
	snprintf(c->label + l, sizeof(c->label) - l, " x%d", c->nworkers);
	if (!c->sy->run) {
		snprintf(why, len, "%s has no batch update loop", c->sy->name);
		return -ENOTSUP;
	}
	for (int i = 0; i < c->nworkers; i++)
		c->roles[i] = 0;
	c->sync_data = 64;   /* the balance, on a line of its own */
	return 0;
}

/* Run pairs until the clock passes `until` or `room` pairs are done; returns pairs done or
 * -errno. */
static int64_t run_until(struct ipcb_sync_ctx *x, int64_t *bal, uint64_t chunk, int64_t amount,
			 uint64_t until, uint64_t room, uint64_t *now)
{
	uint64_t done = 0;
	int rc;

	do {
		if (done + chunk > room)
			break;
		rc = x->sy->run(x, bal, chunk, amount);
		if (rc < 0)
			return rc;
		done += chunk;
		*now = ipcb_now_ns();
	} while (*now < until);
	return (int64_t)done;
}

static int counter_worker(struct ipcb_wctx *w)
{
	const struct ipcb_config *cfg = w->c->cfg;
	struct ipcb_slot *s = w->slot;
	struct ipcb_sync_ctx x;
	int64_t *bal = w->si->data;
	int64_t amount = w->id + 1;
	/* This worker's share of the updates the balance word can count (IPCB_SYNC_TICK). */
	uint64_t room = IPCB_SYNC_MAX_UPDATES / 2 / (uint64_t)w->c->nworkers;
	uint64_t chunk = 16, pairs = 0, t0, t, warm_end, end;
	int64_t got;
	int rc;

	rc = ipcb_sync_ctx_attach(&x, w->si, w->id);
	if (rc < 0)
		return ipcb_worker_fail(w, rc, "attach to %s", w->c->sy->name);
	rc = ipcb_worker_gate(w);
	if (rc < 0)
		goto out;
	warm_end = w->ctl->t_go_ns + cfg->warmup_ns;
	end = warm_end + cfg->duration_ns;

	/* Warm-up: grow the chunk until it lasts CHUNK_NS, then run until warm_end. */
	do {
		t0 = ipcb_now_ns();
		if ((rc = x.sy->run(&x, bal, chunk, amount)) < 0)
			goto fail;
		pairs += chunk;
		t = ipcb_now_ns();
		if (t - t0 < CHUNK_NS / 2 && chunk < CHUNK_MAX)
			chunk *= 2;
	} while (t < warm_end && pairs + chunk < room / 4);

	ipcb_worker_begin(w);
	got = run_until(&x, bal, chunk, amount, end, room - pairs, &t);
	if (got < 0) {
		rc = (int)got;
		goto fail;
	}
	ipcb_worker_end(w);
	pairs += (uint64_t)got;
	s->msgs = 2 * (uint64_t)got;
	s->ops_per_sample = 2 * chunk;
	s->u[U_PAIRS_ALL] = pairs;
	/* The last worker out reads the balance: every other worker's updates happened before
	 * its increment of the shared word, which this acq_rel increment reads. */
	if (atomic_fetch_add_explicit(&w->ctl->shared[0], 1, memory_order_acq_rel) + 1 ==
	    (uint64_t)w->c->nworkers) {
		s->u[U_BALANCE] = (uint64_t)__atomic_load_n(bal, __ATOMIC_ACQUIRE);
		s->u[U_LAST] = 1;
	}
	rc = 0;
	goto out;
fail:
	rc = ipcb_worker_fail(w, rc, "%s update", w->c->sy->name);
out:
	ipcb_sync_ctx_detach(&x);
	return rc == -ECANCELED ? 0 : rc;
}

static int counter_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			  struct ipcb_metrics *m, char *why, size_t len)
{
	uint64_t expected = 0, measured = 0, survived, lost, t_begin = UINT64_MAX, t_end = 0;
	uint64_t chunk_ops = 1, migrations = 0;
	double worker_ns = 0;
	int64_t balance = 0;
	uint64_t word = 0;
	int have = 0;

	for (int i = 0; i < c->nworkers; i++) {
		struct ipcb_slot *s = &slots[i];
		expected += 2 * s->u[U_PAIRS_ALL];
		measured += s->msgs;
		if (s->u[U_LAST]) {
			word = s->u[U_BALANCE];
			have = 1;
		}
		if (s->t_begin_ns < t_begin)
			t_begin = s->t_begin_ns;
		if (s->t_end_ns > t_end)
			t_end = s->t_end_ns;
		worker_ns += (double)(s->t_end_ns - s->t_begin_ns) / (double)(s->msgs ? s->msgs : 1);
		chunk_ops = s->ops_per_sample;
		migrations += s->migrations;
	}
	if (!have || measured == 0) {
		snprintf(why, len, "integrity: no worker reported the final balance");
		return -EPROTO;
	}
	ipcb_sync_balance_split(word, &survived, &balance);
	if (survived > expected) {
		snprintf(why, len, "integrity: the balance counts %llu updates, only %llu were made",
			 (unsigned long long)survived, (unsigned long long)expected);
		return -EPROTO;
	}
	lost = expected - survived;

	double window = (double)(t_end - t_begin);
	ipcb_metrics_add(m, "ns_per_update", "ns", window / (double)measured, measured, chunk_ops, 1);
	ipcb_metrics_add(m, "updates_per_s", "updates/s", (double)measured * 1e9 / window, measured,
			 chunk_ops, 0);
	ipcb_metrics_add(m, "worker_ns_per_update", "ns", worker_ns / c->nworkers, measured,
			 chunk_ops, 1);
	ipcb_metrics_add(m, "lost_updates", "count", (double)lost, expected, 1, 1);
	ipcb_metrics_add(m, "final_balance", "amount", (double)balance, expected, 1, 1);
	ipcb_metrics_add(m, "migrations", "count", (double)migrations, 1, 1, 1);

	if (lost && (c->sy->caps & IPCB_SYNC_RACY)) {
		snprintf(why, len, "lost %llu of %llu updates (final balance %lld, expected 0)",
			 (unsigned long long)lost, (unsigned long long)expected, (long long)balance);
		return IPCB_FINISH_RACE;
	}
	if (lost || balance != 0) {
		snprintf(why, len, "integrity: %s lost %llu of %llu updates (final balance %lld, "
			 "expected 0)", c->sy->name, (unsigned long long)lost,
			 (unsigned long long)expected, (long long)balance);
		return -EPROTO;
	}
	return 0;
}

const struct ipcb_pattern ipcb_pattern_counter = {
	.name = "counter",
	.summary = "counter race: N workers deposit/withdraw on one balance; lost updates, ns/update",
	.uses_sync = 1,
	.sync_needs = IPCB_SYNC_LOCK | IPCB_SYNC_COUNTER,
	.headline = { "ns_per_update", "lost_updates", NULL },
	.variants = sync_sweep,
	.plan = counter_plan,
	.worker = counter_worker,
	.finish = counter_finish,
};
