// SPDX-License-Identifier: MIT
/*
 * POSIX semaphores as lock and as signal: multiprocessing.Lock is a semaphore of value 1
 * (sem_wait to lock, sem_post to unlock), Semaphore a counting one. Two objects in one
 * state: `lock` starts at 1 (lock/unlock), `sig` at 0 (post/wait), so one primitive serves
 * both the counter race and the wake-up bench.
 *   posix-sem        unnamed, sem_init(pshared = 1) in the shared mapping;
 *   posix-sem-named  sem_open() of a run-prefixed name. The name is unlinked as soon as the
 *                    parent has opened it (workers inherit the mapping across fork), so no
 *                    exit path can leak it; what differs from the unnamed one is the setup
 *                    (a file in /dev/shm and its mapping), not the operations.
 * glibc's sem_wait/sem_post stay in user space while there is no waiter.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include "../ipc/names.h"
#include "sync.h"

struct psem_state {
	_Alignas(64) sem_t lock;
	_Alignas(64) sem_t sig;
	sem_t *nlock, *nsig;     /* named: the sem_open() mappings; unnamed: &lock, &sig */
};

static int psem_init(void *st, int nworkers, char *why, size_t len)
{
	struct psem_state *s = st;

	(void)nworkers;
	if (sem_init(&s->lock, 1, 1) < 0 || sem_init(&s->sig, 1, 0) < 0) {
		int e = errno;
		snprintf(why, len, "sem_init(pshared): %s (errno %d)", strerror(e), e);
		return -e;
	}
	s->nlock = &s->lock;
	s->nsig = &s->sig;
	return 0;
}

static void psem_fini(void *st)
{
	struct psem_state *s = st;
	(void)sem_destroy(&s->lock);
	(void)sem_destroy(&s->sig);
}

/* Open a fresh named semaphore of value v and unlink its name at once. */
static sem_t *open_unlinked(unsigned v, char *why, size_t len)
{
	char name[IPCB_NAME_MAX];
	int rc = ipcb_name_new(IPCB_NAME_SHM, name, sizeof(name));
	sem_t *sem;

	if (rc < 0) {
		snprintf(why, len, "no name for a semaphore: %s (errno %d)", strerror(-rc), -rc);
		return NULL;
	}
	sem = sem_open(name, O_CREAT | O_EXCL, 0600, v);
	if (sem == SEM_FAILED) {
		int e = errno;
		snprintf(why, len, "sem_open(%s): %s (errno %d)", name, strerror(e), e);
		(void)ipcb_name_remove(IPCB_NAME_SHM, name, -1);
		errno = e;
		return NULL;
	}
	if (sem_unlink(name) < 0) {
		int e = errno;
		snprintf(why, len, "sem_unlink(%s): %s (errno %d)", name, strerror(e), e);
		(void)sem_close(sem);
		(void)ipcb_name_remove(IPCB_NAME_SHM, name, -1);
		errno = e;
		return NULL;
	}
	/* The registered name was for shm_unlink: the semaphore is gone already, forget it. */
	(void)ipcb_name_remove(IPCB_NAME_SHM, name, -1);
	return sem;
}

static int psem_named_init(void *st, int nworkers, char *why, size_t len)
{
	struct psem_state *s = st;

	(void)nworkers;
	s->nlock = open_unlinked(1, why, len);
	if (!s->nlock)
		return -errno;
	s->nsig = open_unlinked(0, why, len);
	if (!s->nsig) {
		int e = errno;
		(void)sem_close(s->nlock);
		return -e;
	}
	return 0;
}

static void psem_named_fini(void *st)
{
	struct psem_state *s = st;
	(void)sem_close(s->nlock);
	(void)sem_close(s->nsig);
}

static inline int sem_wait_intr(sem_t *sem)
{
	while (sem_wait(sem) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static inline int psem_lock(struct ipcb_sync_ctx *x)
{
	struct psem_state *s = x->st;
	return sem_wait_intr(s->nlock);
}

static inline void psem_unlock(struct ipcb_sync_ctx *x)
{
	struct psem_state *s = x->st;
	(void)sem_post(s->nlock);
}

static int psem_trylock(struct ipcb_sync_ctx *x)
{
	struct psem_state *s = x->st;
	return sem_trywait(s->nlock) == 0 ? 0 : (errno == EAGAIN ? -EBUSY : -errno);
}

static int psem_wait(struct ipcb_sync_ctx *x)
{
	struct psem_state *s = x->st;
	return sem_wait_intr(s->nsig);
}

static int psem_post(struct ipcb_sync_ctx *x)
{
	struct psem_state *s = x->st;
	return sem_post(s->nsig) == 0 ? 0 : -errno;
}

IPCB_SYNC_RUN_LOCKED(psem, psem_lock, psem_unlock)

const struct ipcb_sync ipcb_sync_posix_sem = {
	.name = "posix-sem",
	.summary = "unnamed POSIX semaphore (sem_init pshared) as lock and signal",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_WAIT | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct psem_state),
	.state_align = 64,
	.init = psem_init,
	.fini = psem_fini,
	.lock = psem_lock,
	.unlock = psem_unlock,
	.trylock = psem_trylock,
	.wait = psem_wait,
	.post = psem_post,
	.run = psem_run,
};

const struct ipcb_sync ipcb_sync_posix_sem_named = {
	.name = "posix-sem-named",
	.summary = "named POSIX semaphore (sem_open, unlinked once open) as lock and signal",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_WAIT | IPCB_SYNC_PSHARED | IPCB_SYNC_NAMED,
	.state_size = sizeof(struct psem_state),
	.state_align = 64,
	.init = psem_named_init,
	.fini = psem_named_fini,
	.lock = psem_lock,
	.unlock = psem_unlock,
	.trylock = psem_trylock,
	.wait = psem_wait,
	.post = psem_post,
	.run = psem_run,
};
