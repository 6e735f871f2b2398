// SPDX-License-Identifier: MIT
/*
 * Process-shared pthread mutexes (PTHREAD_PROCESS_SHARED in shared memory), the lock under
 * multiprocessing.Lock on Linux's glibc-based builds (there a semaphore, here the mutex for
 * comparison). Three variants share this file: plain (a futex; uncontended lock and unlock
 * stay in user space), robust (the kernel tracks the owner: a worker that dies holding it
 * hands EOWNERDEAD to the next locker, which makes it consistent and goes on) and
 * priority-inheritance (every contended operation goes through the kernel's PI futex, so it
 * costs more even at equal priority; that cost is what is measured).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sync.h"

struct pmutex_state {
	_Alignas(64) pthread_mutex_t m;
	/* Robust: owners found dead (EOWNERDEAD). Cold, so on a line of its own. */
	_Alignas(64) uint64_t owner_deaths;
};

static int pmutex_init_kind(void *st, int robust, int pi, char *why, size_t len)
{
	struct pmutex_state *s = st;
	pthread_mutexattr_t a;
	int rc;

	if ((rc = pthread_mutexattr_init(&a)) != 0)
		goto fail_noattr;
	if ((rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) != 0)
		goto fail;
	if (robust && (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) != 0)
		goto fail;
	if (pi && (rc = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT)) != 0)
		goto fail;
	rc = pthread_mutex_init(&s->m, &a);
fail:
	pthread_mutexattr_destroy(&a);
fail_noattr:
	if (rc != 0) {
		snprintf(why, len, "pthread_mutex_init (shared%s%s): %s (errno %d)",
			 robust ? ", robust" : "", pi ? ", priority inheritance" : "", strerror(rc), rc);
		return rc == ENOTSUP ? -ENOTSUP : -rc;
	}
	return 0;
}

static int pmutex_init(void *st, int nworkers, char *why, size_t len)
{
	(void)nworkers;
	return pmutex_init_kind(st, 0, 0, why, len);
}

static int pmutex_robust_init(void *st, int nworkers, char *why, size_t len)
{
	(void)nworkers;
	return pmutex_init_kind(st, 1, 0, why, len);
}

static int pmutex_pi_init(void *st, int nworkers, char *why, size_t len)
{
	(void)nworkers;
	return pmutex_init_kind(st, 0, 1, why, len);
}

static void pmutex_fini(void *st)
{
	struct pmutex_state *s = st;
	(void)pthread_mutex_destroy(&s->m);
}

/* Robust: we hold the lock and its owner died inside the critical section. Mark the mutex
 * consistent (else the next unlock makes it unrecoverable for everyone) and count the death,
 * so the caller can see it: the data the dead owner was updating is for the caller to judge
 * (the counter bench's balance word still shows any update it lost). */
static __attribute__((noinline, cold)) int pmutex_recover(struct pmutex_state *s)
{
	int rc = pthread_mutex_consistent(&s->m);

	if (rc == 0)
		__atomic_fetch_add(&s->owner_deaths, 1, __ATOMIC_RELAXED);
	return -rc;
}

static uint64_t pmutex_owner_deaths(void *st)
{
	struct pmutex_state *s = st;
	return __atomic_load_n(&s->owner_deaths, __ATOMIC_RELAXED);
}

static inline int pmutex_lock(struct ipcb_sync_ctx *x)
{
	struct pmutex_state *s = x->st;
	int rc = pthread_mutex_lock(&s->m);

	if (__builtin_expect(rc == EOWNERDEAD, 0))
		return pmutex_recover(s);
	return -rc;
}

static inline void pmutex_unlock(struct ipcb_sync_ctx *x)
{
	struct pmutex_state *s = x->st;
	(void)pthread_mutex_unlock(&s->m);
}

static int pmutex_trylock(struct ipcb_sync_ctx *x)
{
	struct pmutex_state *s = x->st;
	int rc = pthread_mutex_trylock(&s->m);

	if (rc == EOWNERDEAD)
		return pmutex_recover(s);
	return -rc;
}

IPCB_SYNC_RUN_LOCKED(pmutex, pmutex_lock, pmutex_unlock)

#define PMUTEX_TABLE(id, cli, init_fn, deaths, text)                            \
	const struct ipcb_sync ipcb_sync_##id = {                               \
		.name = cli,                                                    \
		.summary = text,                                                \
		.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED,                     \
		.state_size = sizeof(struct pmutex_state),                      \
		.state_align = 64,                                              \
		.init = init_fn,                                                \
		.fini = pmutex_fini,                                            \
		.lock = pmutex_lock,                                            \
		.unlock = pmutex_unlock,                                        \
		.trylock = pmutex_trylock,                                      \
		.run = pmutex_run,                                              \
		.owner_deaths = deaths,                                         \
	};

PMUTEX_TABLE(pthread_mutex, "pthread-mutex", pmutex_init, NULL,
	     "process-shared pthread mutex (futex; user space when uncontended)")
PMUTEX_TABLE(pthread_mutex_robust, "pthread-mutex-robust", pmutex_robust_init,
	     pmutex_owner_deaths,
	     "process-shared robust pthread mutex (survives an owner's death)")
PMUTEX_TABLE(pthread_mutex_pi, "pthread-mutex-pi", pmutex_pi_init, NULL,
	     "process-shared priority-inheritance pthread mutex (kernel PI futex)")
