// SPDX-License-Identifier: MIT
/*
 * clh: the Craig-Landin-Hagersten queue lock. A locker marks its node busy, swaps it into
 * the tail and spins on its predecessor's node until that one is marked free; unlock marks
 * its own node free, a plain store. So, like MCS, each waiter spins on one line that only
 * its predecessor writes, FIFO, one exchange on the shared tail per acquisition; unlike MCS
 * the unlock needs no atomic read-modify-write and never waits for a successor to link
 * itself, but nodes move: the lock leaves a worker's node in the queue (its successor still
 * reads it), so the worker takes its predecessor's node, free by then, for the next lock.
 * There are nworkers + 1 nodes for that: one per worker plus the one the tail starts on.
 *
 * Which node a worker owns is kept in the shared state (one line per worker, written only
 * by that worker), so a second handle of the same worker (a new attach) carries on with it.
 * No trylock: a CLH locker cannot leave the queue once in it, and checking "free" before
 * joining is open to ABA (the tail can come back to the same node, now busy).
 * Waiters yield after 1024 spins (oversubscription: the predecessor may be preempted).
 * Pointers are valid in every worker: the state is one mapping inherited at one address.
 */
#include <sched.h>

#include "sync.h"

struct clh_node {
	_Alignas(64) uint32_t busy;
};

/* Per worker: the node it locks with next, on a line only this worker writes. */
struct clh_worker {
	_Alignas(64) struct clh_node *mine;
	/* While locked: the predecessor's node, this worker's next one after unlock. */
	struct clh_node *pred;
};

struct clh_state {
	_Alignas(64) struct clh_node *tail;
	struct clh_node first;                  /* the tail's node before any lock, free */
	_Alignas(64) unsigned char area[];      /* nworkers x (clh_worker + clh_node) */
};

#define CLH_PER_WORKER (sizeof(struct clh_worker) + sizeof(struct clh_node))

static struct clh_worker *clh_worker(struct clh_state *s, int id)
{
	return (struct clh_worker *)(void *)(s->area + (size_t)id * CLH_PER_WORKER);
}

static int clh_init(void *st, int nworkers, char *why, size_t len)
{
	struct clh_state *s = st;

	(void)why;
	(void)len;
	s->tail = &s->first;
	for (int i = 0; i < nworkers; i++) {
		struct clh_worker *w = clh_worker(s, i);
		w->mine = (struct clh_node *)(void *)((unsigned char *)w + sizeof(*w));
	}
	return 0;
}

static inline int clh_lock(struct ipcb_sync_ctx *x)
{
	struct clh_worker *w = clh_worker(x->st, x->id);
	struct clh_state *s = x->st;
	struct clh_node *me = w->mine, *pred;
	unsigned n = 0;

	__atomic_store_n(&me->busy, 1, __ATOMIC_RELAXED);
	/* Release: our busy mark is visible before a successor can find our node. */
	pred = __atomic_exchange_n(&s->tail, me, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&pred->busy, __ATOMIC_ACQUIRE)) {
		ipcb_cpu_relax();
		if (++n == 1024) {
			n = 0;
			sched_yield();
		}
	}
	w->pred = pred;
	return 0;
}

static inline void clh_unlock(struct ipcb_sync_ctx *x)
{
	struct clh_worker *w = clh_worker(x->st, x->id);
	struct clh_node *me = w->mine;

	/* Our node stays in the queue for the successor; the predecessor's is ours now (its
	 * owner left it when it unlocked, and nobody else reads it once we stopped). */
	w->mine = w->pred;
	__atomic_store_n(&me->busy, 0, __ATOMIC_RELEASE);
}

IPCB_SYNC_RUN_LOCKED(clh, clh_lock, clh_unlock)

const struct ipcb_sync ipcb_sync_clh = {
	.name = "clh",
	.summary = "CLH queue lock: FIFO, each waiter spins on its predecessor's node",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct clh_state),
	.state_align = 64,
	.per_worker = CLH_PER_WORKER,
	.init = clh_init,
	.lock = clh_lock,
	.unlock = clh_unlock,
	.run = clh_run,
};
