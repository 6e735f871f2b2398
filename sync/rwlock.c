// SPDX-License-Identifier: MIT
/*
 * rwlock: a process-shared pthread rwlock (PTHREAD_PROCESS_SHARED). The counter race takes
 * it for writing (every update writes), so it shows what the reader/writer bookkeeping
 * costs over a plain mutex when there are no readers to share with. Writer-preferring
 * (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) so a stream of readers elsewhere cannot
 * starve writers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sync.h"

struct rwlock_state {
	_Alignas(64) pthread_rwlock_t rw;
};

static int rwlock_init(void *st, int nworkers, char *why, size_t len)
{
	struct rwlock_state *s = st;
	pthread_rwlockattr_t a;
	int rc;

	(void)nworkers;
	if ((rc = pthread_rwlockattr_init(&a)) != 0)
		goto out;
	rc = pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (rc == 0)
		rc = pthread_rwlock_init(&s->rw, &a);
	pthread_rwlockattr_destroy(&a);
out:
	if (rc != 0)
		snprintf(why, len, "pthread_rwlock_init (shared): %s (errno %d)", strerror(rc), rc);
	return -rc;
}

static void rwlock_fini(void *st)
{
	struct rwlock_state *s = st;
	(void)pthread_rwlock_destroy(&s->rw);
}

static inline int rwlock_lock(struct ipcb_sync_ctx *x)
{
	struct rwlock_state *s = x->st;
	return -pthread_rwlock_wrlock(&s->rw);
}

static inline void rwlock_unlock(struct ipcb_sync_ctx *x)
{
	struct rwlock_state *s = x->st;
	(void)pthread_rwlock_unlock(&s->rw);
}

static int rwlock_trylock(struct ipcb_sync_ctx *x)
{
	struct rwlock_state *s = x->st;
	return -pthread_rwlock_trywrlock(&s->rw);
}

IPCB_SYNC_RUN_LOCKED(rwlock, rwlock_lock, rwlock_unlock)

const struct ipcb_sync ipcb_sync_rwlock = {
	.name = "rwlock",
	.summary = "process-shared pthread rwlock, taken for writing",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct rwlock_state),
	.state_align = 64,
	.init = rwlock_init,
	.fini = rwlock_fini,
	.lock = rwlock_lock,
	.unlock = rwlock_unlock,
	.trylock = rwlock_trylock,
	.run = rwlock_run,
};
