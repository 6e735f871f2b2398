// SPDX-License-Identifier: MIT
/*
 * POSIX message queues (mq_overview(7)): two queues, one per direction (A->B and B->A),
 * each carrying whole messages of up to the case's size at priority 0. Boundaries are kept
 * and the kernel serialises senders and receivers, so several producers and consumers may
 * share a queue.
 *
 * Sizing: mq_msgsize is the case's message size and mq_maxmsg the depth (--posix-mq-depth,
 * default 10), both held to what an unprivileged user may ask for
 * (/proc/sys/fs/mqueue/msgsize_max and msg_max) rather than quietly using a privilege that
 * CAP_SYS_RESOURCE would grant: results from root and from a user then mean the same thing.
 * A message over msgsize_max makes the case SKIPPED (-EMSGSIZE: the queue cannot carry the
 * case). A --posix-mq-depth over msg_max is a request the system clamps, judged by
 * ipcb_request_check(): FAILED, or with --allow-clamp a queue of msg_max messages. The
 * default depth is not a request: without the option it is min(10, msg_max). The two queues must
 * also fit the caller's RLIMIT_MSGQUEUE, which counts, per queue, maxmsg x (msgsize + the
 * kernel's per-message bookkeeping); a layout that cannot fit is SKIPPED with the numbers.
 * The requested and the effective (mq_getattr) depth and size are recorded in the CSV.
 *
 * Names: each queue gets an ipcb_name_new() name, is created O_EXCL in setup and unlinked as
 * soon as both queues are open. Workers inherit the descriptors across fork (or share them
 * as threads), so the names are not needed any more, and a parent killed with SIGKILL leaves
 * nothing in /dev/mqueue.
 *
 * Excluded: mq_notify and mq_timedsend/receive; priorities (every message has priority 0,
 * which keeps FIFO order).
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "names.h"
#include "opt.h"
#include "request.h"
#include "syslimits.h"
#include "transport.h"

#define MQ_PROC "/proc/sys/fs/mqueue/"
/* Upper bound of the kernel's per-message charge against RLIMIT_MSGQUEUE besides the payload:
 * sizeof(struct msg_msg) plus one priority-tree node, 48 + 48 bytes on x86-64 (mqueue.c,
 * mqueue_get_inode). Overestimated so the check errs towards SKIPPED, not a failed mq_open. */
#define MQ_MSG_OVERHEAD 128

enum { Q_AB, Q_BA };

#define MQ_DEPTH_DEFAULT 10

static struct posix_mq_settings {
	int depth;            /* --posix-mq-depth, 0 = not given (MQ_DEPTH_DEFAULT) */
} posix_mq_cfg;

static const struct ipcb_opt posix_mq_opts[] = {
	{ .name = "posix-mq-depth", .type = IPCB_OPT_INT,
	  .offset = offsetof(struct posix_mq_settings, depth), .min = 1, .max = 65536,
	  .metavar = "N", .base = &posix_mq_cfg,
	  .help = "posix-mq: queue depth (mq_maxmsg) per direction; over "
		  "/proc/sys/fs/mqueue/msg_max it is a clamp, see --allow-clamp (default 10, or "
		  "msg_max if lower)" },
	{ .name = NULL },
};

/* One worker's end: the queues it uses and a bounce buffer for short receives. */
struct posix_mq_end {
	mqd_t tx, rx;
	size_t msgsize;       /* mq_msgsize of the queues */
	char *bounce;         /* msgsize bytes */
};

static const char *posix_mq_unsupported(void)
{
	if (access(MQ_PROC "msgsize_max", R_OK) < 0)
		return "no POSIX message queues here (" MQ_PROC " missing: kernel without "
		       "CONFIG_POSIX_MQUEUE?)";
	return NULL;
}

/* Create one queue, open it in fd[dir], and forget its name. Returns 0 or -errno (with the
 * reason in ch->why for the errors that make the case SKIPPED). */
static int posix_mq_create(struct ipcb_chan *ch, int dir, struct mq_attr *attr)
{
	char name[IPCB_NAME_MAX];
	mqd_t q;
	int rc, err;

	rc = ipcb_name_new(IPCB_NAME_MQ, name, sizeof(name));
	if (rc < 0)
		return rc;
	q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, attr);
	if (q == (mqd_t)-1) {
		err = errno;
		if (err == EMFILE) {
			snprintf(ch->why, sizeof(ch->why), "mq_open: this user's queues are over "
				 "RLIMIT_MSGQUEUE (ulimit -q) or the process is out of descriptors");
			return -ENOTSUP;
		}
		if (err == ENOSPC) {
			snprintf(ch->why, sizeof(ch->why), "mq_open: too many queues on the system "
				 "(/proc/sys/fs/mqueue/queues_max)");
			return -ENOTSUP;
		}
		return -err;
	}
	ch->fd[dir] = (int)q;   /* on Linux an mqd_t is a file descriptor */
	return ipcb_name_remove(IPCB_NAME_MQ, name, -1);
}

static int posix_mq_setup(struct ipcb_chan *ch)
{
	struct mq_attr attr, got;
	struct rlimit rl;
	long msgsize_max, msg_max;
	unsigned long long need;
	int rc, depth;

	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	if ((rc = ipcb_read_proc_long(MQ_PROC "msgsize_max", &msgsize_max)) < 0 ||
	    (rc = ipcb_read_proc_long(MQ_PROC "msg_max", &msg_max)) < 0)
		return rc;
	if (ch->msg_size == 0 || ch->msg_size > (size_t)msgsize_max) {
		snprintf(ch->why, sizeof(ch->why), "a message of %zu bytes is over the queue "
			 "limit msgsize_max=%ld (/proc/sys/fs/mqueue/msgsize_max, sysctl "
			 "fs.mqueue.msgsize_max)", ch->msg_size, msgsize_max);
		return -EMSGSIZE;
	}
	memset(&attr, 0, sizeof(attr));
	attr.mq_msgsize = (long)ch->msg_size;
	depth = posix_mq_cfg.depth ? posix_mq_cfg.depth : MQ_DEPTH_DEFAULT;
	attr.mq_maxmsg = depth < msg_max ? depth : msg_max;
	if (posix_mq_cfg.depth) {
		char limit[64];
		snprintf(limit, sizeof(limit), "fs.mqueue.msg_max=%ld", msg_max);
		if ((rc = ipcb_request_check(ch, "--posix-mq-depth", depth, attr.mq_maxmsg,
					     limit)) < 0)
			return rc;
	}

	need = 2ull * (unsigned long long)attr.mq_maxmsg *
	       ((unsigned long long)attr.mq_msgsize + MQ_MSG_OVERHEAD);
	if (getrlimit(RLIMIT_MSGQUEUE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    need > (unsigned long long)rl.rlim_cur) {
		snprintf(ch->why, sizeof(ch->why), "two queues of %ld x %ld bytes need about %llu "
			 "bytes, over RLIMIT_MSGQUEUE=%llu (ulimit -q)", attr.mq_maxmsg,
			 attr.mq_msgsize, need, (unsigned long long)rl.rlim_cur);
		return -EMSGSIZE;
	}

	if ((rc = posix_mq_create(ch, Q_AB, &attr)) < 0 ||
	    (rc = posix_mq_create(ch, Q_BA, &attr)) < 0)
		return rc;   /* teardown closes what was opened; the runner removes the names */
	if (mq_getattr((mqd_t)ch->fd[Q_AB], &got) < 0)
		return -errno;
	snprintf(ch->effective, sizeof(ch->effective),
		 "mq_maxmsg_req=%d;mq_maxmsg=%ld;mq_msgsize_req=%zu;mq_msgsize=%ld",
		 depth, got.mq_maxmsg, ch->msg_size, got.mq_msgsize);
	return 0;
}

static int posix_mq_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	struct posix_mq_end *pe = calloc(1, sizeof(*pe));

	if (!pe)
		return -ENOMEM;
	pe->msgsize = ch->msg_size;
	pe->bounce = malloc(pe->msgsize);
	if (!pe->bounce) {
		free(pe);
		return -ENOMEM;
	}
	pe->tx = (mqd_t)(role == IPCB_ROLE_A ? ch->fd[Q_AB] : ch->fd[Q_BA]);
	pe->rx = (mqd_t)(role == IPCB_ROLE_A ? ch->fd[Q_BA] : ch->fd[Q_AB]);
	e->ch = ch;
	e->role = role;
	e->rfd = (int)pe->rx;
	e->wfd = (int)pe->tx;
	e->priv = pe;
	return 0;
}

static ssize_t posix_mq_send(struct ipcb_end *e, const void *buf, size_t len)
{
	struct posix_mq_end *pe = e->priv;

	if (mq_send(pe->tx, buf, len, 0) < 0)
		return -errno;
	return (ssize_t)len;
}

static ssize_t posix_mq_recv(struct ipcb_end *e, void *buf, size_t len)
{
	struct posix_mq_end *pe = e->priv;
	ssize_t n;

	/* mq_receive refuses a buffer smaller than mq_msgsize, even for a short message. */
	if (len >= pe->msgsize) {
		n = mq_receive(pe->rx, buf, len, NULL);
		return n < 0 ? -errno : n;
	}
	n = mq_receive(pe->rx, pe->bounce, pe->msgsize, NULL);
	if (n < 0)
		return -errno;
	if ((size_t)n > len)
		return -EMSGSIZE;   /* the message is consumed: a datagram does not split */
	memcpy(buf, pe->bounce, (size_t)n);
	return n;
}

static void posix_mq_detach(struct ipcb_end *e)
{
	struct posix_mq_end *pe = e->priv;

	if (pe) {
		free(pe->bounce);
		free(pe);
	}
	e->priv = NULL;
}

static void posix_mq_teardown(struct ipcb_chan *ch)
{
	for (int i = Q_AB; i <= Q_BA; i++) {
		if (ch->fd[i] >= 0)
			(void)mq_close((mqd_t)ch->fd[i]);
		ch->fd[i] = -1;
	}
}

const struct ipcb_transport ipcb_transport_posix_mq = {
	.name = "posix-mq",
	.summary = "POSIX message queues (mq_send/mq_receive), one per direction",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX | IPCB_CAP_NAMED | IPCB_CAP_MULTI_PROD |
		IPCB_CAP_MULTI_CONS,
	.max_msg = 0,   /* msgsize_max is known only at run time: setup checks it */
	.opts = posix_mq_opts,
	.unsupported = posix_mq_unsupported,
	.setup = posix_mq_setup,
	.attach = posix_mq_attach,
	.send = posix_mq_send,
	.recv = posix_mq_recv,
	.detach = posix_mq_detach,
	.teardown = posix_mq_teardown,
};
