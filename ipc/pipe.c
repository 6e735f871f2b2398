// SPDX-License-Identifier: MIT
/*
 * Anonymous pipe: two pipe(2)s, one per direction (A->B and B->A), created in the parent and
 * inherited by forked workers. A byte stream with no message boundaries, so the harness
 * loops over partial reads. Writes up to PIPE_BUF bytes are atomic, which is what would make
 * several producers safe; larger messages from several producers could interleave, so the
 * pipe does not claim MULTI_PROD. The kernel buffer size is recorded as an effective
 * parameter (F_GETPIPE_SZ); it is left at the kernel's default unless --pipe-size asks for
 * another (F_SETPIPE_SZ on both pipes).
 *
 * F_SETPIPE_SZ rounds the size up to a power-of-two number of pages (more than asked: not
 * a clamp). Over /proc/sys/fs/pipe-max-size, or once the user's pipes hold more than
 * fs.pipe-user-pages-hard, an unprivileged caller gets EPERM instead of a smaller pipe;
 * CAP_SYS_RESOURCE lifts both. EPERM is therefore the kernel's clamp, taken through
 * ipcb_request_check(): a FAILED case, or with --allow-clamp a pipe of pipe-max-size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "pipe.h"
#include "request.h"
#include "syslimits.h"

#define PIPE_MAX_PROC "/proc/sys/fs/pipe-max-size"

enum { AB_R, AB_W, BA_R, BA_W };

static struct pipe_settings {
	size_t size;          /* --pipe-size, 0 = the kernel's default */
} pipe_cfg;

const struct ipcb_opt ipcb_pipe_opts[] = {
	{ .name = "pipe-size", .type = IPCB_OPT_SIZE,
	  .offset = offsetof(struct pipe_settings, size), .min = 1, .max = 1 << 30,
	  .metavar = "BYTES", .base = &pipe_cfg,
	  .help = "pipe, fifo: buffer size of each pipe (F_SETPIPE_SZ; the kernel rounds it up to a "
		  "power-of-two number of pages; over fs.pipe-max-size it is a clamp, see "
		  "--allow-clamp; default: the kernel's, 64 KiB)" },
	{ .name = NULL },
};

static long pipe_max_size(void)
{
	long v = -1;

	return ipcb_read_proc_long(PIPE_MAX_PROC, &v) < 0 ? -1 : v;
}

/* Give the pipe whose write end is fd --pipe-size bytes, or what the rule lets it have.
 * Returns the size granted, or -errno (-ERANGE: clamped and not allowed). */
static int pipe_resize(struct ipcb_chan *ch, int fd)
{
	long long asked = (long long)pipe_cfg.size;
	char limit[64];
	int got = fcntl(fd, F_SETPIPE_SZ, (int)asked), rc;

	if (got < 0 && errno == EPERM) {
		long max = pipe_max_size();
		if (max <= 0)
			return -EPERM;
		snprintf(limit, sizeof(limit), "fs.pipe-max-size=%ld", max);
		if ((rc = ipcb_request_check(ch, "--pipe-size", asked, max, limit)) < 0)
			return rc;
		got = fcntl(fd, F_SETPIPE_SZ, (int)max);
	}
	if (got < 0)
		return -errno;
	/* No kernel shrinks a pipe below a successful F_SETPIPE_SZ; checked all the same. */
	rc = ipcb_request_check(ch, "--pipe-size", asked, got, NULL);
	return rc < 0 ? rc : got;
}

int ipcb_pipe_size(struct ipcb_chan *ch, int w1, int w2)
{
	if (pipe_cfg.size) {
		int a = pipe_resize(ch, w1), b;
		if (a < 0)
			return a;
		if ((b = pipe_resize(ch, w2)) < 0)
			return b;
		snprintf(ch->effective, sizeof(ch->effective), "pipe_sz_req=%zu;pipe_sz=%d",
			 pipe_cfg.size, a < b ? a : b);
		return 0;
	}
	int sz = fcntl(w1, F_GETPIPE_SZ);
	if (sz < 0)
		return -errno;
	snprintf(ch->effective, sizeof(ch->effective), "pipe_sz=%d", sz);
	return 0;
}

static int pipe_setup(struct ipcb_chan *ch)
{
	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	if (pipe2(&ch->fd[AB_R], O_CLOEXEC) < 0 || pipe2(&ch->fd[BA_R], O_CLOEXEC) < 0)
		return -errno;
	return ipcb_pipe_size(ch, ch->fd[AB_W], ch->fd[BA_W]);
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
	.opts = ipcb_pipe_opts,
	.setup = pipe_setup,
	.attach = pipe_attach,
	.send = pipe_send,
	.recv = pipe_recv,
	.teardown = pipe_teardown,
};
