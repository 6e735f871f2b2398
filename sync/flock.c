// SPDX-License-Identifier: MIT
/*
 * File locks on a run-prefixed file in /tmp: the cross-language lock (any process that can
 * open the file can take it), and the slowest here, as every lock and unlock is a system
 * call. Locks belong to the open file description, so each worker opens the file itself in
 * attach (a descriptor inherited across fork would share one description, and the "lock"
 * would exclude nobody).
 *   flock        flock(LOCK_EX) / flock(LOCK_UN) on the whole file;
 *   fcntl        F_OFD_SETLKW record lock on byte 0 (open-file-description locks, Linux
 *                3.15+): like classic fcntl locks, but owned by the description, so they
 *                also exclude threads of one process;
 *   fcntl-posix  classic F_SETLKW record locks: owned by the process, so threads of one
 *                process do not exclude each other (process mode only).
 * The kernel orders these locks; ThreadSanitizer cannot see that, so they are annotated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../ipc/names.h"
#include "sync.h"

struct flock_state {
	_Alignas(64) char path[IPCB_NAME_MAX];
	_Alignas(64) uint64_t tsan_token;   /* address for the TSan annotations only */
};

static int flock_init(void *st, int nworkers, char *why, size_t len)
{
	struct flock_state *s = st;
	int rc, fd;

	(void)nworkers;
	rc = ipcb_name_new(IPCB_NAME_PATH, s->path, sizeof(s->path));
	if (rc < 0) {
		snprintf(why, len, "no name for the lock file: %s (errno %d)", strerror(-rc), -rc);
		return rc;
	}
	fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, len, "create lock file (%s): %s (errno %d)", s->path, strerror(-rc), -rc);
		(void)ipcb_name_remove(IPCB_NAME_PATH, s->path, -1);
		return rc;
	}
	(void)close(fd);
	return 0;
}

static void flock_fini(void *st)
{
	struct flock_state *s = st;
	int rc = ipcb_name_remove(IPCB_NAME_PATH, s->path, -1);

	if (rc < 0)
		fprintf(stderr, "ipcbench: flock: remove lock file (%s): %s (errno %d)\n", s->path,
			strerror(-rc), -rc);
}

static int flock_attach(struct ipcb_sync_ctx *x)
{
	struct flock_state *s = x->st;

	x->fd = open(s->path, O_RDWR | O_CLOEXEC);
	return x->fd < 0 ? -errno : 0;
}

static inline int flock_lock(struct ipcb_sync_ctx *x)
{
	struct flock_state *s = x->st;

	while (flock(x->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	IPCB_TSAN_ACQUIRE(&s->tsan_token);
	return 0;
}

static inline void flock_unlock(struct ipcb_sync_ctx *x)
{
	struct flock_state *s = x->st;

	IPCB_TSAN_RELEASE(&s->tsan_token);
	(void)flock(x->fd, LOCK_UN);
}

static int flock_trylock(struct ipcb_sync_ctx *x)
{
	struct flock_state *s = x->st;

	if (flock(x->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	IPCB_TSAN_ACQUIRE(&s->tsan_token);
	return 0;
}

IPCB_SYNC_RUN_LOCKED(flock, flock_lock, flock_unlock)

/* fcntl record locks on byte 0; cmd is F_OFD_SETLK(W) or F_SETLK(W). */
static inline int rec_lock(struct ipcb_sync_ctx *x, int cmd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	while (fcntl(x->fd, cmd, &fl) < 0)
		if (errno != EINTR)
			return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
	return 0;
}

/* Take or drop the record lock with one of the two command families (OFD or classic POSIX);
 * the TSan token makes the kernel's ordering visible to ThreadSanitizer in thread mode. */
static inline int rec_acquire(struct ipcb_sync_ctx *x, int cmd)
{
	struct flock_state *s = x->st;
	int rc = rec_lock(x, cmd, F_WRLCK);

	if (rc == 0)
		IPCB_TSAN_ACQUIRE(&s->tsan_token);
	return rc;
}

static inline void rec_release(struct ipcb_sync_ctx *x, int cmd)
{
	struct flock_state *s = x->st;

	IPCB_TSAN_RELEASE(&s->tsan_token);
	(void)rec_lock(x, cmd, F_UNLCK);
}

static inline int ofd_lock(struct ipcb_sync_ctx *x) { return rec_acquire(x, F_OFD_SETLKW); }
static inline void ofd_unlock(struct ipcb_sync_ctx *x) { rec_release(x, F_OFD_SETLK); }
static int ofd_trylock(struct ipcb_sync_ctx *x) { return rec_acquire(x, F_OFD_SETLK); }
IPCB_SYNC_RUN_LOCKED(ofd, ofd_lock, ofd_unlock)

static inline int posixrec_lock(struct ipcb_sync_ctx *x) { return rec_acquire(x, F_SETLKW); }
static inline void posixrec_unlock(struct ipcb_sync_ctx *x) { rec_release(x, F_SETLK); }
static int posixrec_trylock(struct ipcb_sync_ctx *x) { return rec_acquire(x, F_SETLK); }
IPCB_SYNC_RUN_LOCKED(posixrec, posixrec_lock, posixrec_unlock)

const struct ipcb_sync ipcb_sync_flock = {
	.name = "flock",
	.summary = "flock(LOCK_EX) on a lock file, one open per worker",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED | IPCB_SYNC_NAMED,
	.state_size = sizeof(struct flock_state),
	.state_align = 64,
	.init = flock_init,
	.fini = flock_fini,
	.attach = flock_attach,
	.lock = flock_lock,
	.unlock = flock_unlock,
	.trylock = flock_trylock,
	.run = flock_run,
};

const struct ipcb_sync ipcb_sync_fcntl = {
	.name = "fcntl",
	.summary = "fcntl open-file-description record lock (F_OFD_SETLKW) on a lock file",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED | IPCB_SYNC_NAMED,
	.state_size = sizeof(struct flock_state),
	.state_align = 64,
	.init = flock_init,
	.fini = flock_fini,
	.attach = flock_attach,
	.lock = ofd_lock,
	.unlock = ofd_unlock,
	.trylock = ofd_trylock,
	.run = ofd_run,
};

const struct ipcb_sync ipcb_sync_fcntl_posix = {
	.name = "fcntl-posix",
	.summary = "classic fcntl record lock (F_SETLKW): per process, so process mode only",
	.caps = IPCB_SYNC_LOCK | IPCB_SYNC_PSHARED | IPCB_SYNC_NAMED | IPCB_SYNC_PERPROC,
	.state_size = sizeof(struct flock_state),
	.state_align = 64,
	.init = flock_init,
	.fini = flock_fini,
	.attach = flock_attach,
	.lock = posixrec_lock,
	.unlock = posixrec_unlock,
	.trylock = posixrec_trylock,
	.run = posixrec_run,
};
