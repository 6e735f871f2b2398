// SPDX-License-Identifier: MIT
/*
 * cas-loop: read, compute, compare-and-swap, retry on failure: how any update that has no
 * single instruction (a maximum, a float, a record) is made atomic. Under contention a
 * worker may retry many times; the retries are the price shown against atomic-add.
 */
#include "sync.h"

struct cas_loop_state {
	_Alignas(64) int64_t counter;
};

static inline int64_t cas_add(int64_t *p, uint64_t d)
{
	int64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
	/* On failure old is reloaded with the current value. Unsigned sum: wraps. */
	while (!__atomic_compare_exchange_n(p, &old, (int64_t)((uint64_t)old + d), 1,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	return old;
}

static int64_t cas_loop_add(struct ipcb_sync_ctx *x, int64_t d)
{
	struct cas_loop_state *s = x->st;
	return cas_add(&s->counter, (uint64_t)d);
}

static int64_t cas_loop_load(struct ipcb_sync_ctx *x)
{
	struct cas_loop_state *s = x->st;
	return __atomic_load_n(&s->counter, __ATOMIC_SEQ_CST);
}

static int cas_loop_run(struct ipcb_sync_ctx *x, int64_t *balance, uint64_t pairs,
			int64_t amount)
{
	(void)x;
	for (uint64_t i = 0; i < pairs; i++) {
		(void)cas_add(balance, IPCB_SYNC_TICK + (uint64_t)amount);
		(void)cas_add(balance, IPCB_SYNC_TICK - (uint64_t)amount);
	}
	return 0;
}

const struct ipcb_sync ipcb_sync_cas_loop = {
	.name = "cas-loop",
	.summary = "compare-and-swap retry loop per update, no lock",
	.caps = IPCB_SYNC_COUNTER | IPCB_SYNC_LOCKFREE | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct cas_loop_state),
	.state_align = 64,
	.add = cas_loop_add,
	.load = cas_loop_load,
	.run = cas_loop_run,
};
