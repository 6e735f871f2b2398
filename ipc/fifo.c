// SPDX-License-Identifier: MIT
/*
 * Named pipe (FIFO): two mkfifo(3) nodes, one per direction (A->B and B->A). Once both ends
 * are open a FIFO is the same kernel object as an anonymous pipe, so this transport measures
 * the pipe data path reached through a name; the difference from "pipe" should be noise, and
 * a difference that is not is worth a look. The cost of open(2) on the path is setup, not
 * measured.
 *
 * Opening without blocking: open(O_WRONLY) on a FIFO blocks until a reader exists, and the
 * parent is both reader and writer here, so each FIFO is first opened O_RDONLY|O_NONBLOCK
 * (which never waits for a writer), then O_WRONLY (which finds that reader and returns at
 * once), then the read end is switched back to blocking. This avoids O_RDWR on a FIFO, which
 * POSIX leaves undefined. Both nodes are unlinked as soon as both ends are open: workers
 * inherit the descriptors (fork) or share them (threads), so nothing needs the names any
 * more and a parent killed with SIGKILL leaves no node behind.
 *
 * A byte stream like the pipe: writes up to PIPE_BUF bytes are atomic, larger ones from
 * several producers could interleave, so MULTI_PROD is not claimed. The kernel buffer size
 * (F_GETPIPE_SZ) is recorded as an effective parameter, and set as for the pipe when
 * --pipe-size asks (ipc/pipe.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "pipe.h"
#include "transport.h"

enum { AB_R, AB_W, BA_R, BA_W, FIFO_FDS };

/* Create the FIFO for one direction and open both ends into fd[0] (read) and fd[1] (write).
 * Returns 0 or -errno; whatever was opened stays in fd[] for teardown. */
static int fifo_open_pair(int *fd)
{
	char path[IPCB_NAME_MAX];
	int rc, fl;

	rc = ipcb_name_new(IPCB_NAME_PATH, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (mkfifo(path, 0600) < 0)
		return -errno;
	fd[0] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd[0] < 0)
		return -errno;
	fd[1] = open(path, O_WRONLY | O_CLOEXEC);
	if (fd[1] < 0)
		return -errno;
	fl = fcntl(fd[0], F_GETFL);
	if (fl < 0 || fcntl(fd[0], F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	/* Both ends are open: the name has done its job. */
	return ipcb_name_remove(IPCB_NAME_PATH, path, -1);
}

static int fifo_setup(struct ipcb_chan *ch)
{
	int rc;

	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	rc = fifo_open_pair(&ch->fd[AB_R]);
	if (rc == 0)
		rc = fifo_open_pair(&ch->fd[BA_R]);
	if (rc < 0)
		return rc;   /* teardown closes what was opened; the runner removes the names */
	return ipcb_pipe_size(ch, ch->fd[AB_W], ch->fd[BA_W]);
}

static int fifo_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	e->ch = ch;
	e->role = role;
	e->rfd = role == IPCB_ROLE_A ? ch->fd[BA_R] : ch->fd[AB_R];
	e->wfd = role == IPCB_ROLE_A ? ch->fd[AB_W] : ch->fd[BA_W];
	return 0;
}

static ssize_t fifo_send(struct ipcb_end *e, const void *buf, size_t len)
{
	ssize_t n = write(e->wfd, buf, len);
	return n < 0 ? -errno : n;
}

static ssize_t fifo_recv(struct ipcb_end *e, void *buf, size_t len)
{
	ssize_t n = read(e->rfd, buf, len);
	return n < 0 ? -errno : n;
}

static void fifo_teardown(struct ipcb_chan *ch)
{
	for (int i = 0; i < FIFO_FDS; i++) {
		if (ch->fd[i] >= 0)
			(void)close(ch->fd[i]);
		ch->fd[i] = -1;
	}
}

const struct ipcb_transport ipcb_transport_fifo = {
	.name = "fifo",
	.summary = "named pipe (mkfifo), one per direction (byte stream)",
	.caps = IPCB_CAP_STREAM | IPCB_CAP_DUPLEX | IPCB_CAP_NAMED,
	.max_msg = 0,
	.setup = fifo_setup,
	.opts = ipcb_pipe_opts,
	.attach = fifo_attach,
	.send = fifo_send,
	.recv = fifo_recv,
	.teardown = fifo_teardown,
};
