// SPDX-License-Identifier: MIT
/*
 * Every lock and counter of the sync registry (sync/primitives.def), uncontended: one
 * worker, its state in shared memory as the harness places it, the cost of one protected
 * update (lock, add, unlock; or the counter's atomic add). It goes through the primitive's
 * batch entry run(), the same one the counter_race pattern uses, so the indirect call is
 * outside the measured loop and the lock and unlock are inlined as they are under
 * contention. Wait primitives are left out: a post then a wait in one thread means
 * something different for each of them (a condition loses the post); the POSIX semaphore's
 * post+wait is measured directly in syscalls.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../sync/sync.h"
#include "micro.h"

/* run() takes pairs: a deposit and a withdrawal, two protected updates. */
#define PAIRS (MICRO_BATCH / 2)

static void bm_sync(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	const struct ipcb_sync *sy = def->user;
	struct ipcb_sync_inst si;
	struct ipcb_sync_ctx x;
	uint64_t updates = 0;
	int64_t *balance, amount;
	char why[256], msg[320];
	int rc;

	rc = ipcb_sync_inst_new(&si, sy, 1, 64, NULL, why, sizeof(why));
	if (rc == -ENOTSUP) {
		ipcb_gbench_skip(st, why);
		return;
	}
	if (rc < 0) {
		ipcb_gbench_fail(st, why);
		return;
	}
	rc = ipcb_sync_ctx_attach(&x, &si, 0);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s: attach: %s (errno %d)", sy->name, strerror(-rc),
			 -rc);
		ipcb_gbench_fail(st, msg);
		ipcb_sync_inst_free(&si);
		return;
	}
	balance = si.data;
	while (ipcb_gbench_keep_running_batch(st, 2 * PAIRS)) {
		rc = sy->run(&x, balance, PAIRS, 1);
		if (rc < 0)
			break;
	}
	ipcb_gbench_clobber_memory();
	ipcb_sync_balance_split(*balance, &updates, &amount);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s: run: %s (errno %d)", sy->name, strerror(-rc), -rc);
		ipcb_gbench_fail(st, msg);
	} else if (updates != ipcb_gbench_iterations(st) || amount != 0) {
		snprintf(msg, sizeof(msg), "%s: %llu updates and a balance of %lld after %llu "
			 "uncontended updates", sy->name, (unsigned long long)updates,
			 (long long)amount, (unsigned long long)ipcb_gbench_iterations(st));
		ipcb_gbench_fail(st, msg);
	}
	ipcb_sync_ctx_detach(&x);
	ipcb_sync_inst_free(&si);
}

/* One def per primitive, kept for the whole run (the shim holds pointers to them). */
#define MAX_SYNCS 128
static struct ipcb_gbench_def sync_defs[MAX_SYNCS];
static char sync_names[MAX_SYNCS][48];

int ipcb_micro_register_sync(void)
{
	int n = 0;

	for (const struct ipcb_sync *const *s = ipcb_syncs; *s; s++) {
		const struct ipcb_sync *sy = *s;
		if (!(sy->caps & (IPCB_SYNC_LOCK | IPCB_SYNC_COUNTER)) || !sy->run)
			continue;
		if (n == MAX_SYNCS)
			return -ENOSPC;
		snprintf(sync_names[n], sizeof(sync_names[n]), "sync.%s", sy->name);
		sync_defs[n].name = sync_names[n];
		sync_defs[n].run = bm_sync;
		sync_defs[n].user = sy;
		n++;
	}
	return ipcb_micro_register_all_of(sync_defs, n);
}
