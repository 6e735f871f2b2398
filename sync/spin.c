// SPDX-License-Identifier: MIT
/*
 * spin: test-and-test-and-set spinlock. Waiters spin reading the word (their own cached
 * copy) and try the exchange only when it looks free, so a held lock costs the holder no
 * line transfers. After 1024 reads without success a waiter yields the CPU: with more
 * workers than CPUs the holder may be the one preempted, and spinning would only burn its
 * time slice. Not fair: the worker that just unlocked often wins again.
 */
#include <errno.h>
#include <sched.h>

#include "sync.h"

struct spin_state {
	_Alignas(64) uint32_t word;
};

static inline int spin_lock(struct ipcb_sync_ctx *x)
{
	struct spin_state *s = x->st;

	while (__atomic_exchange_n(&s->word, 1, __ATOMIC_ACQUIRE)) {
		unsigned n = 0;
		while (__atomic_load_n(&s->word, __ATOMIC_RELAXED)) {
			ipcb_cpu_relax();
			if (++n == 1024) {
				n = 0;
				sched_yield();
			}
		}
	}
	return 0;
}

static inline void spin_unlock(struct ipcb_sync_ctx *x)
{
	struct spin_state *s = x->st;
	__atomic_store_n(&s->word, 0, __ATOMIC_RELEASE);
}

static int spin_trylock(struct ipcb_sync_ctx *x)
{
	struct spin_state *s = x->st;
	if (__atomic_load_n(&s->word, __ATOMIC_RELAXED) ||
	    __atomic_exchange_n(&s->word, 1, __ATOMIC_ACQUIRE))
		return -EBUSY;
	return 0;
}

IPCB_SYNC_RUN_LOCKED(spin, spin_lock, spin_unlock)

const struct ipcb_sync ipcb_sync_spin = {
	.name = "spin",
	.summary = "test-and-test-and-set spinlock (yields after 1024 spins)",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct spin_state),
	.state_align = 64,
	.lock = spin_lock,
	.unlock = spin_unlock,
	.trylock = spin_trylock,
	.run = spin_run,
};
