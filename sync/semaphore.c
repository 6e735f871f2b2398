// SPDX-License-Identifier: MIT
/*
 * semaphore, bounded-semaphore: multiprocessing.Semaphore and BoundedSemaphore for
 * processes, counting semaphores on futexes. acquire takes a unit with a compare-and-swap
 * while the count is positive, and sleeps on the count word when it is zero; release adds a
 * unit and makes the wake-up call only when someone sleeps (same counted-sleeper handshake
 * as event.c). A bounded semaphore refuses a release above its initial value (-EOVERFLOW,
 * Python's ValueError). Two semaphores per state: `lock` of value 1 (lock/unlock: a binary
 * semaphore as a mutex, like multiprocessing.Lock) and `sig` of value 0 (post/wait; bound 1).
 */
#include <errno.h>

#include "sync.h"

struct fsem {
	_Alignas(64) uint32_t count;
	uint32_t bound;                 /* 0 = unbounded */
	_Alignas(64) uint32_t sleepers;
};

struct semaphore_state {
	struct fsem lock, sig;
};

static void fsem_setup(struct semaphore_state *s, int bounded)
{
	s->lock.count = 1;
	s->lock.bound = bounded ? 1 : 0;
	s->sig.count = 0;
	s->sig.bound = bounded ? 1 : 0;
}

static int semaphore_init(void *st, int nworkers, char *why, size_t len)
{
	(void)nworkers;
	(void)why;
	(void)len;
	fsem_setup(st, 0);
	return 0;
}

static int bsemaphore_init(void *st, int nworkers, char *why, size_t len)
{
	(void)nworkers;
	(void)why;
	(void)len;
	fsem_setup(st, 1);
	return 0;
}

static inline int fsem_trywait(struct fsem *f)
{
	uint32_t c = __atomic_load_n(&f->count, __ATOMIC_RELAXED);

	while (c > 0)
		if (__atomic_compare_exchange_n(&f->count, &c, c - 1, 1, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 0;
	return -EBUSY;
}

static inline int fsem_wait(struct fsem *f)
{
	if (fsem_trywait(f) == 0)
		return 0;
	__atomic_fetch_add(&f->sleepers, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t c = __atomic_load_n(&f->count, __ATOMIC_SEQ_CST);
		if (c > 0) {
			if (__atomic_compare_exchange_n(&f->count, &c, c - 1, 1, __ATOMIC_SEQ_CST,
							__ATOMIC_RELAXED))
				break;
			continue;
		}
		int rc = ipcb_futex_wait(&f->count, 0);
		if (rc < 0 && rc != -EINTR) {
			__atomic_fetch_sub(&f->sleepers, 1, __ATOMIC_SEQ_CST);
			return rc;
		}
	}
	__atomic_fetch_sub(&f->sleepers, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static inline int fsem_post(struct fsem *f)
{
	if (f->bound) {
		uint32_t c = __atomic_load_n(&f->count, __ATOMIC_RELAXED);
		do {
			if (c >= f->bound)
				return -EOVERFLOW;
		} while (!__atomic_compare_exchange_n(&f->count, &c, c + 1, 1, __ATOMIC_SEQ_CST,
						      __ATOMIC_RELAXED));
	} else {
		__atomic_fetch_add(&f->count, 1, __ATOMIC_SEQ_CST);
	}
	if (__atomic_load_n(&f->sleepers, __ATOMIC_SEQ_CST))
		ipcb_futex_wake(&f->count, 1);
	return 0;
}

static inline int semaphore_lock(struct ipcb_sync_ctx *x)
{
	struct semaphore_state *s = x->st;
	return fsem_wait(&s->lock);
}

static inline void semaphore_unlock(struct ipcb_sync_ctx *x)
{
	struct semaphore_state *s = x->st;
	(void)fsem_post(&s->lock);
}

static int semaphore_trylock(struct ipcb_sync_ctx *x)
{
	struct semaphore_state *s = x->st;
	return fsem_trywait(&s->lock);
}

static int semaphore_wait(struct ipcb_sync_ctx *x)
{
	struct semaphore_state *s = x->st;
	return fsem_wait(&s->sig);
}

static int semaphore_post(struct ipcb_sync_ctx *x)
{
	struct semaphore_state *s = x->st;
	return fsem_post(&s->sig);
}

IPCB_SYNC_RUN_LOCKED(semaphore, semaphore_lock, semaphore_unlock)

const struct ipcb_sync ipcb_sync_semaphore = {
	.name = "semaphore",
	.summary = "Semaphore on a futex (counting; value 1 as a lock, 0 as a signal)",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_WAIT | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct semaphore_state),
	.state_align = 64,
	.init = semaphore_init,
	.lock = semaphore_lock,
	.unlock = semaphore_unlock,
	.trylock = semaphore_trylock,
	.wait = semaphore_wait,
	.post = semaphore_post,
	.run = semaphore_run,
};

const struct ipcb_sync ipcb_sync_bounded_semaphore = {
	.name = "bounded-semaphore",
	.summary = "BoundedSemaphore on a futex: a release above the initial value is refused",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_WAIT | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct semaphore_state),
	.state_align = 64,
	.init = bsemaphore_init,
	.lock = semaphore_lock,
	.unlock = semaphore_unlock,
	.trylock = semaphore_trylock,
	.wait = semaphore_wait,
	.post = semaphore_post,
	.run = semaphore_run,
};
