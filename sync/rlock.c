// SPDX-License-Identifier: MIT
/*
 * rlock: a recursive lock for processes (multiprocessing.RLock): the owner may lock again,
 * and the lock is free after as many unlocks. Built on a futex mutex (the three-state
 * mutex of Drepper's "Futexes are tricky": 0 free, 1 locked, 2 locked with waiters, so an
 * uncontended lock and unlock stay in user space) plus an owner tag and a depth that only
 * the owner writes. Others read the owner tag, relaxed: it can equal theirs only if they
 * own the lock. In the counter race each update locks once, so the recursion check is the
 * only extra cost over a plain futex mutex.
 */
#include <errno.h>

#include "sync.h"

struct rlock_state {
	_Alignas(64) uint32_t word;     /* futex: 0 free, 1 locked, 2 locked + waiters */
	uint32_t owner;                 /* ctx->owner of the holder, 0 when free */
	uint32_t depth;                 /* owner only */
};

static inline void fmutex_lock(uint32_t *w)
{
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		(void)ipcb_futex_wait(w, 2);
		c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	}
}

static inline void fmutex_unlock(uint32_t *w)
{
	if (__atomic_fetch_sub(w, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(w, 0, __ATOMIC_RELEASE);
		ipcb_futex_wake(w, 1);
	}
}

static inline int rlock_lock(struct ipcb_sync_ctx *x)
{
	struct rlock_state *s = x->st;

	if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == x->owner) {
		s->depth++;
		return 0;
	}
	fmutex_lock(&s->word);
	__atomic_store_n(&s->owner, x->owner, __ATOMIC_RELAXED);
	s->depth = 1;
	return 0;
}

static inline void rlock_unlock(struct ipcb_sync_ctx *x)
{
	struct rlock_state *s = x->st;

	if (--s->depth > 0)
		return;
	__atomic_store_n(&s->owner, 0, __ATOMIC_RELAXED);
	fmutex_unlock(&s->word);
}

static int rlock_trylock(struct ipcb_sync_ctx *x)
{
	struct rlock_state *s = x->st;
	uint32_t c = 0;

	if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == x->owner) {
		s->depth++;
		return 0;
	}
	if (!__atomic_compare_exchange_n(&s->word, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	__atomic_store_n(&s->owner, x->owner, __ATOMIC_RELAXED);
	s->depth = 1;
	return 0;
}

IPCB_SYNC_RUN_LOCKED(rlock, rlock_lock, rlock_unlock)

const struct ipcb_sync ipcb_sync_rlock = {
	.name = "rlock",
	.summary = "recursive lock (RLock): futex mutex + owner and depth",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED | IPCB_SYNC_RECURSIVE,
	.state_size = sizeof(struct rlock_state),
	.state_align = 64,
	.lock = rlock_lock,
	.unlock = rlock_unlock,
	.trylock = rlock_trylock,
	.run = rlock_run,
};
