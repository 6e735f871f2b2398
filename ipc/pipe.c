// SPDX-License-Identifier: MIT
/*
 * Anonymous pipe: two pipe(2)s, one per direction (A->B and B->A), created in the parent and
 * inherited by forked workers. A byte stream with no message boundaries, so the harness
 * loops over partial reads. Writes up to PIPE_BUF bytes are atomic, which is what would make
 * several producers safe; larger messages from several producers could interleave, so the
 * pipe does not claim MULTI_PROD. The kernel buffer size is recorded as an effective
 * parameter (F_GETPIPE_SZ); it is not changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "transport.h"

enum { AB_R, AB_W, BA_R, BA_W };

static int pipe_setup(struct ipcb_chan *ch)
{
	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	if (pipe2(&ch->fd[AB_R], O_CLOEXEC) < 0 || pipe2(&ch->fd[BA_R], O_CLOEXEC) < 0)
		return -errno;
	int sz = fcntl(ch->fd[AB_W], F_GETPIPE_SZ);
	snprintf(ch->effective, sizeof(ch->effective), "pipe_sz=%d", sz);
	return 0;
}

static int pipe_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	e->ch = ch;
	e->role = role;
	e->rfd = role == IPCB_ROLE_A ? ch->fd[BA_R] : ch->fd[AB_R];
	e->wfd = role == IPCB_ROLE_A ? ch->fd[AB_W] : ch->fd[BA_W];
	return 0;
}

static ssize_t pipe_send(struct ipcb_end *e, const void *buf, size_t len)
{
	ssize_t n = write(e->wfd, buf, len);
	return n < 0 ? -errno : n;
}

static ssize_t pipe_recv(struct ipcb_end *e, void *buf, size_t len)
{
	ssize_t n = read(e->rfd, buf, len);
	return n < 0 ? -errno : n;
}

static void pipe_teardown(struct ipcb_chan *ch)
{
	for (int i = 0; i < 4; i++) {
		if (ch->fd[i] >= 0)
			(void)close(ch->fd[i]);
		ch->fd[i] = -1;
	}
}

const struct ipcb_transport ipcb_transport_pipe = {
	.name = "pipe",
	.summary = "anonymous pipe(2), one per direction (byte stream)",
	.caps = IPCB_CAP_STREAM | IPCB_CAP_DUPLEX,
	.max_msg = 0,
	.setup = pipe_setup,
	.attach = pipe_attach,
	.send = pipe_send,
	.recv = pipe_recv,
	.teardown = pipe_teardown,
};
