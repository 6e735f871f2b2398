// SPDX-License-Identifier: MIT
/*
 * ticket: a fair spinlock. A locker takes a ticket (fetch-add on `next`) and spins until
 * `serving` shows it; unlock advances `serving`. FIFO order, and every waiter reads the same
 * line, so each hand-off invalidates it in every waiter's cache: the cost grows with the
 * number of waiters (the queue locks, mcs, avoid that). The two counters live on separate
 * lines so taking a ticket does not disturb the holder. Waiters yield after 1024 reads:
 * with oversubscription the next ticket holder may be preempted, and FIFO order would make
 * everyone wait for it (the convoy is still visible, only shorter).
 */
#include <errno.h>
#include <sched.h>

#include "sync.h"

struct ticket_state {
	_Alignas(64) uint32_t next;
	_Alignas(64) uint32_t serving;
};

static inline int ticket_lock(struct ipcb_sync_ctx *x)
{
	struct ticket_state *s = x->st;
	uint32_t me = __atomic_fetch_add(&s->next, 1, __ATOMIC_RELAXED);
	unsigned n = 0;

	while (__atomic_load_n(&s->serving, __ATOMIC_ACQUIRE) != me) {
		ipcb_cpu_relax();
		if (++n == 1024) {
			n = 0;
			sched_yield();
		}
	}
	return 0;
}

static inline void ticket_unlock(struct ipcb_sync_ctx *x)
{
	struct ticket_state *s = x->st;
	/* Only the holder writes serving: a plain increment published with release. */
	uint32_t v = __atomic_load_n(&s->serving, __ATOMIC_RELAXED);
	__atomic_store_n(&s->serving, v + 1, __ATOMIC_RELEASE);
}

static int ticket_trylock(struct ipcb_sync_ctx *x)
{
	struct ticket_state *s = x->st;
	uint32_t serving = __atomic_load_n(&s->serving, __ATOMIC_ACQUIRE);
	uint32_t want = serving;

	/* Take a ticket only if it would be served at once. */
	if (__atomic_compare_exchange_n(&s->next, &want, serving + 1, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return 0;
	return -EBUSY;
}

IPCB_SYNC_RUN_LOCKED(ticket, ticket_lock, ticket_unlock)

const struct ipcb_sync ipcb_sync_ticket = {
	.name = "ticket",
	.summary = "ticket spinlock: FIFO, one shared line all waiters read",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct ticket_state),
	.state_align = 64,
	.lock = ticket_lock,
	.unlock = ticket_unlock,
	.trylock = ticket_trylock,
	.run = ticket_run,
};
