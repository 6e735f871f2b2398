// SPDX-License-Identifier: MIT
/*
 * atomic-add: one atomic fetch-and-add per update (lock xadd on x86, ldadd or an LL/SC loop
 * on Arm). No lock: the hardware serialises the read-modify-write on the cache line, so the
 * cost is the line's trips between cores. Sequentially consistent, as Python's
 * multiprocessing users would expect from a "synchronized" counter.
 */
#include "sync.h"

struct atomic_add_state {
	_Alignas(64) int64_t counter;
};

static int64_t atomic_add_add(struct ipcb_sync_ctx *x, int64_t d)
{
	struct atomic_add_state *s = x->st;
	return __atomic_fetch_add(&s->counter, d, __ATOMIC_SEQ_CST);
}

static int64_t atomic_add_load(struct ipcb_sync_ctx *x)
{
	struct atomic_add_state *s = x->st;
	return __atomic_load_n(&s->counter, __ATOMIC_SEQ_CST);
}

static int atomic_add_run(struct ipcb_sync_ctx *x, int64_t *balance, uint64_t pairs,
			  int64_t amount)
{
	(void)x;
	for (uint64_t i = 0; i < pairs; i++) {
		/* The __atomic builtins wrap on signed types: no overflow. */
		(void)__atomic_fetch_add(balance, (int64_t)(IPCB_SYNC_TICK + (uint64_t)amount),
					 __ATOMIC_SEQ_CST);
		(void)__atomic_fetch_add(balance, (int64_t)(IPCB_SYNC_TICK - (uint64_t)amount),
					 __ATOMIC_SEQ_CST);
	}
	return 0;
}

const struct ipcb_sync ipcb_sync_atomic_add = {
	.name = "atomic-add",
	.summary = "atomic fetch-and-add per update, no lock",
	.caps = IPCB_SYNC_COUNTER | IPCB_SYNC_LOCKFREE | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct atomic_add_state),
	.state_align = 64,
	.add = atomic_add_add,
	.load = atomic_add_load,
	.run = atomic_add_run,
};
