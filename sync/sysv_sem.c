// SPDX-License-Identifier: MIT
/*
 * sysv-sem: a System V semaphore set of two: #0 is a lock (value 1; semop -1 / +1 with
 * SEM_UNDO, so a worker that dies holding it gives it back), #1 a signal (value 0, post/wait,
 * no undo). Every operation is a system call, contended or not; SEM_UNDO adds the kernel's
 * per-process undo bookkeeping to each one. The set has no name: its id is registered for
 * removal as soon as it exists.
 * The kernel orders semop; ThreadSanitizer cannot see it, so the lock is annotated.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sem.h>

#include "../ipc/names.h"
#include "sync.h"

struct sysv_sem_state {
	_Alignas(64) int id;
	_Alignas(64) uint64_t tsan_token;
};

static int sysv_sem_init(void *st, int nworkers, char *why, size_t len)
{
	struct sysv_sem_state *s = st;
	unsigned short vals[2] = { 1, 0 };
	union { int val; struct semid_ds *buf; unsigned short *array; } arg = { .array = vals };
	int rc;

	(void)nworkers;
	s->id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	if (s->id < 0) {
		rc = -errno;
		snprintf(why, len, "semget: %s (errno %d)", strerror(-rc), -rc);
		return rc == -ENOSPC || rc == -ENOSYS ? -ENOTSUP : rc;
	}
	rc = ipcb_name_sysv(IPCB_NAME_SYSV_SEM, s->id);
	if (rc == 0 && semctl(s->id, 0, SETALL, arg) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(why, len, "semctl(SETALL) of set %d: %s (errno %d)", s->id, strerror(-rc),
			 -rc);
		(void)ipcb_name_remove(IPCB_NAME_SYSV_SEM, NULL, s->id);
		return rc;
	}
	return 0;
}

static void sysv_sem_fini(void *st)
{
	struct sysv_sem_state *s = st;
	int rc = ipcb_name_remove(IPCB_NAME_SYSV_SEM, NULL, s->id);

	if (rc < 0)
		fprintf(stderr, "ipcbench: sysv-sem: remove set %d: %s (errno %d)\n", s->id,
			strerror(-rc), -rc);
}

static inline int semop1(int id, unsigned short num, short op, short flg)
{
	struct sembuf b = { .sem_num = num, .sem_op = op, .sem_flg = flg };

	while (semop(id, &b, 1) < 0)
		if (errno != EINTR)
			return errno == EAGAIN ? -EBUSY : -errno;
	return 0;
}

static inline int sysv_sem_lock(struct ipcb_sync_ctx *x)
{
	struct sysv_sem_state *s = x->st;
	int rc = semop1(s->id, 0, -1, SEM_UNDO);

	if (rc == 0)
		IPCB_TSAN_ACQUIRE(&s->tsan_token);
	return rc;
}

static inline void sysv_sem_unlock(struct ipcb_sync_ctx *x)
{
	struct sysv_sem_state *s = x->st;

	IPCB_TSAN_RELEASE(&s->tsan_token);
	(void)semop1(s->id, 0, 1, SEM_UNDO);
}

static int sysv_sem_trylock(struct ipcb_sync_ctx *x)
{
	struct sysv_sem_state *s = x->st;
	int rc = semop1(s->id, 0, -1, SEM_UNDO | IPC_NOWAIT);

	if (rc == 0)
		IPCB_TSAN_ACQUIRE(&s->tsan_token);
	return rc;
}

static int sysv_sem_wait(struct ipcb_sync_ctx *x)
{
	struct sysv_sem_state *s = x->st;
	int rc = semop1(s->id, 1, -1, 0);

	if (rc == 0)
		IPCB_TSAN_ACQUIRE(&s->tsan_token);
	return rc;
}

static int sysv_sem_post(struct ipcb_sync_ctx *x)
{
	struct sysv_sem_state *s = x->st;

	IPCB_TSAN_RELEASE(&s->tsan_token);
	return semop1(s->id, 1, 1, 0);
}

IPCB_SYNC_RUN_LOCKED(sysv_sem, sysv_sem_lock, sysv_sem_unlock)

const struct ipcb_sync ipcb_sync_sysv_sem = {
	.name = "sysv-sem",
	.summary = "System V semaphore (semop, SEM_UNDO on the lock) as lock and signal",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_WAIT | IPCB_SYNC_PSHARED | IPCB_SYNC_NAMED,
	.state_size = sizeof(struct sysv_sem_state),
	.state_align = 64,
	.init = sysv_sem_init,
	.fini = sysv_sem_fini,
	.lock = sysv_sem_lock,
	.unlock = sysv_sem_unlock,
	.trylock = sysv_sem_trylock,
	.wait = sysv_sem_wait,
	.post = sysv_sem_post,
	.run = sysv_sem_run,
};
