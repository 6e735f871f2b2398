// SPDX-License-Identifier: MIT
/*
 * mcs: the Mellor-Crummey-Scott queue lock. Each waiter spins on a flag in its own node (one
 * per worker, each on its own cache line, in the shared state), and the holder hands the
 * lock to its successor by clearing that one flag: a hand-off moves one line between two
 * cores, however many wait, where the ticket lock invalidates every waiter. FIFO. The tail
 * pointer is the only line all lockers touch (one exchange per acquisition). Pointers are
 * valid in every worker: the state is one mapping inherited at the same address.
 * Waiters yield after 1024 spins (oversubscription: the successor may be preempted).
 */
#include <errno.h>
#include <sched.h>

#include "sync.h"

struct mcs_node {
	_Alignas(64) struct mcs_node *next;
	uint32_t locked;
};

struct mcs_state {
	_Alignas(64) struct mcs_node *tail;
	_Alignas(64) struct mcs_node nodes[];   /* nworkers of them (per_worker) */
};

static inline int mcs_lock(struct ipcb_sync_ctx *x)
{
	struct mcs_state *s = x->st;
	struct mcs_node *me = &s->nodes[x->id], *prev;
	unsigned n = 0;

	__atomic_store_n(&me->next, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&me->locked, 1, __ATOMIC_RELAXED);
	prev = __atomic_exchange_n(&s->tail, me, __ATOMIC_ACQ_REL);
	if (!prev)
		return 0;
	__atomic_store_n(&prev->next, me, __ATOMIC_RELEASE);
	while (__atomic_load_n(&me->locked, __ATOMIC_ACQUIRE)) {
		ipcb_cpu_relax();
		if (++n == 1024) {
			n = 0;
			sched_yield();
		}
	}
	return 0;
}

static inline void mcs_unlock(struct ipcb_sync_ctx *x)
{
	struct mcs_state *s = x->st;
	struct mcs_node *me = &s->nodes[x->id];
	struct mcs_node *next = __atomic_load_n(&me->next, __ATOMIC_ACQUIRE);

	if (!next) {
		struct mcs_node *expect = me;
		/* No successor visible: if we are still the tail, the lock is free. */
		if (__atomic_compare_exchange_n(&s->tail, &expect, NULL, 0, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return;
		/* A successor swapped the tail but has not linked itself yet. */
		while (!(next = __atomic_load_n(&me->next, __ATOMIC_ACQUIRE)))
			ipcb_cpu_relax();
	}
	__atomic_store_n(&next->locked, 0, __ATOMIC_RELEASE);
}

static int mcs_trylock(struct ipcb_sync_ctx *x)
{
	struct mcs_state *s = x->st;
	struct mcs_node *me = &s->nodes[x->id], *expect = NULL;

	__atomic_store_n(&me->next, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&me->locked, 1, __ATOMIC_RELAXED);
	if (__atomic_compare_exchange_n(&s->tail, &expect, me, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED))
		return 0;
	return -EBUSY;
}

IPCB_SYNC_RUN_LOCKED(mcs, mcs_lock, mcs_unlock)

const struct ipcb_sync ipcb_sync_mcs = {
	.name = "mcs",
	.summary = "MCS queue lock: FIFO, each waiter spins on its own line",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct mcs_state),
	.state_align = 64,
	.per_worker = sizeof(struct mcs_node),
	.lock = mcs_lock,
	.unlock = mcs_unlock,
	.trylock = mcs_trylock,
	.run = mcs_run,
};
