// SPDX-License-Identifier: MIT
/*
 * none: no synchronisation at all, the race everybody is warned about. Each update is a
 * separate load and store (balance = balance + n), so two workers that load the same value
 * both store their own sum and one update is lost.
 *
 * The load and the store are relaxed atomics, not plain accesses: on every target they
 * compile to the same plain instructions (so the race is exactly the unlocked one), but the
 * compiler may not merge the pair of updates of one iteration or hoist the loop, which it
 * would with plain accesses, and the program has no undefined behaviour. The race is in the
 * algorithm (read-modify-write that is not atomic), which is the point. ThreadSanitizer does
 * not report it for that reason; tests still keep it out of TSan runs, as it proves nothing.
 */
#include "sync.h"

static inline void racy_add(int64_t *p, uint64_t d)
{
	uint64_t v = (uint64_t)__atomic_load_n(p, __ATOMIC_RELAXED);
	__atomic_store_n(p, (int64_t)(v + d), __ATOMIC_RELAXED);
}

/* The "lock" of no lock: lets lock-based patterns (Value, Array) run unprotected. */
static int none_lock(struct ipcb_sync_ctx *x)
{
	(void)x;
	return 0;
}

static void none_unlock(struct ipcb_sync_ctx *x)
{
	(void)x;
}

struct none_state {
	_Alignas(64) int64_t counter;
};

static int64_t none_add(struct ipcb_sync_ctx *x, int64_t d)
{
	struct none_state *s = x->st;
	int64_t v = __atomic_load_n(&s->counter, __ATOMIC_RELAXED);
	__atomic_store_n(&s->counter, (int64_t)((uint64_t)v + (uint64_t)d), __ATOMIC_RELAXED);
	return v;
}

static int64_t none_load(struct ipcb_sync_ctx *x)
{
	struct none_state *s = x->st;
	return __atomic_load_n(&s->counter, __ATOMIC_RELAXED);
}

static int none_run(struct ipcb_sync_ctx *x, int64_t *balance, uint64_t pairs,
		    int64_t amount)
{
	(void)x;
	for (uint64_t i = 0; i < pairs; i++) {
		racy_add(balance, IPCB_SYNC_TICK + (uint64_t)amount);
		racy_add(balance, IPCB_SYNC_TICK - (uint64_t)amount);
	}
	return 0;
}

const struct ipcb_sync ipcb_sync_none = {
	.name = "none",
	.summary = "no lock: load, add, store (the deliberate race; loses updates)",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_COUNTER | IPCB_SYNC_LOCKFREE | IPCB_SYNC_PSHARED |
		IPCB_SYNC_RACY,
	.state_size = sizeof(struct none_state),
	.state_align = 64,
	.lock = none_lock,
	.unlock = none_unlock,
	.trylock = none_lock,
	.add = none_add,
	.load = none_load,
	.run = none_run,
};
