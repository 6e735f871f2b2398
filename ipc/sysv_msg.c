// SPDX-License-Identifier: MIT
/*
 * System V message queues (msgop(2)): one private queue per direction (A->B and B->A),
 * created with IPC_PRIVATE in the parent and registered with ipcb_name_sysv() at once so
 * the parent removes them (IPC_RMID) whatever happens. Each direction also has its own
 * mtype and each receiver asks for that type only, so a message that reached the wrong
 * queue would be noticed as a hang, not taken for data. Boundaries are kept and the kernel
 * serialises senders and receivers: several producers and consumers may share a queue.
 *
 * Limits: a message may not exceed kernel.msgmax (/proc/sys/kernel/msgmax), and must fit
 * the queue's byte budget msg_qbytes (kernel.msgmnb at creation), otherwise msgsnd would
 * wait for room that never comes; either makes the case SKIPPED (-EMSGSIZE) with the limit
 * named. msg_qbytes is recorded, as it decides how many messages can be in flight
 * (msg_qbytes / size). It is not raised, which only a privileged caller could do.
 *
 * Cost the API imposes and that is therefore measured: msgsnd takes the mtype and the text
 * in one buffer, so every send copies the caller's message behind a long in a per-end
 * buffer, and every receive copies out of one. Excluded: IPC_NOWAIT, MSG_COPY, type ranges.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include "names.h"
#include "syslimits.h"
#include "transport.h"

#define MSGMAX_PROC "/proc/sys/kernel/msgmax"

/* ch->fd[] holds the two queue ids (System V ids, not descriptors: never close them). */
enum { Q_AB, Q_BA };
/* mtype of each direction (must be > 0). */
enum { MTYPE_AB = 1, MTYPE_BA = 2 };

struct sysv_msg_buf {
	long mtype;
	char mtext[];
};

/* One worker's end: its queues and types, and the buffer msgsnd/msgrcv need. */
struct sysv_msg_end {
	int qtx, qrx;
	long mtype_tx, mtype_rx;
	size_t cap;                  /* mtext bytes in buf */
	struct sysv_msg_buf *buf;
};

static const char *sysv_msg_unsupported(void)
{
	long v;

	if (ipcb_read_proc_long(MSGMAX_PROC, &v) < 0)
		return "no System V message queues here (" MSGMAX_PROC " unreadable: kernel "
		       "without CONFIG_SYSVIPC?)";
	return NULL;
}

static int sysv_msg_create(struct ipcb_chan *ch, int dir)
{
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	int rc;

	if (id < 0) {
		if (errno == ENOSPC) {
			snprintf(ch->why, sizeof(ch->why), "msgget: the system's queue limit "
				 "kernel.msgmni (/proc/sys/kernel/msgmni) is reached");
			return -ENOTSUP;
		}
		return -errno;
	}
	rc = ipcb_name_sysv(IPCB_NAME_SYSV_MSG, id);
	if (rc < 0) {
		(void)msgctl(id, IPC_RMID, NULL);   /* not registered: nobody else would */
		return rc;
	}
	ch->fd[dir] = id;
	return 0;
}

static int sysv_msg_setup(struct ipcb_chan *ch)
{
	struct msqid_ds ds;
	long msgmax;
	int rc;

	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	if ((rc = ipcb_read_proc_long(MSGMAX_PROC, &msgmax)) < 0)
		return rc;
	if (ch->msg_size == 0 || ch->msg_size > (size_t)msgmax) {
		snprintf(ch->why, sizeof(ch->why), "a message of %zu bytes is over the System V "
			 "limit msgmax=%ld (/proc/sys/kernel/msgmax, sysctl kernel.msgmax)",
			 ch->msg_size, msgmax);
		return -EMSGSIZE;
	}
	if ((rc = sysv_msg_create(ch, Q_AB)) < 0 || (rc = sysv_msg_create(ch, Q_BA)) < 0)
		return rc;   /* teardown removes what was created */
	if (msgctl(ch->fd[Q_AB], IPC_STAT, &ds) < 0)
		return -errno;
	if (ch->msg_size > ds.msg_qbytes) {
		snprintf(ch->why, sizeof(ch->why), "a message of %zu bytes does not fit the queue "
			 "budget msg_qbytes=%lu (/proc/sys/kernel/msgmnb, sysctl kernel.msgmnb)",
			 ch->msg_size, (unsigned long)ds.msg_qbytes);
		return -EMSGSIZE;
	}
	snprintf(ch->effective, sizeof(ch->effective), "msgmax=%ld;msg_qbytes=%lu", msgmax,
		 (unsigned long)ds.msg_qbytes);
	return 0;
}

static int sysv_msg_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	struct sysv_msg_end *se = calloc(1, sizeof(*se));

	if (!se)
		return -ENOMEM;
	se->cap = ch->msg_size;
	se->buf = malloc(sizeof(struct sysv_msg_buf) + se->cap);
	if (!se->buf) {
		free(se);
		return -ENOMEM;
	}
	if (role == IPCB_ROLE_A) {
		se->qtx = ch->fd[Q_AB];
		se->qrx = ch->fd[Q_BA];
		se->mtype_tx = MTYPE_AB;
		se->mtype_rx = MTYPE_BA;
	} else {
		se->qtx = ch->fd[Q_BA];
		se->qrx = ch->fd[Q_AB];
		se->mtype_tx = MTYPE_BA;
		se->mtype_rx = MTYPE_AB;
	}
	e->ch = ch;
	e->role = role;
	e->rfd = -1;
	e->wfd = -1;
	e->priv = se;
	return 0;
}

static ssize_t sysv_msg_send(struct ipcb_end *e, const void *buf, size_t len)
{
	struct sysv_msg_end *se = e->priv;

	if (len > se->cap)
		return -EMSGSIZE;
	se->buf->mtype = se->mtype_tx;
	memcpy(se->buf->mtext, buf, len);
	if (msgsnd(se->qtx, se->buf, len, 0) < 0)
		return -errno;
	return (ssize_t)len;
}

static ssize_t sysv_msg_recv(struct ipcb_end *e, void *buf, size_t len)
{
	struct sysv_msg_end *se = e->priv;
	ssize_t n = msgrcv(se->qrx, se->buf, se->cap, se->mtype_rx, 0);

	if (n < 0)
		return errno == E2BIG ? -EMSGSIZE : -errno;
	if ((size_t)n > len)
		return -EMSGSIZE;   /* the message is consumed: a datagram does not split */
	memcpy(buf, se->buf->mtext, (size_t)n);
	return n;
}

static void sysv_msg_detach(struct ipcb_end *e)
{
	struct sysv_msg_end *se = e->priv;

	if (se) {
		free(se->buf);
		free(se);
	}
	e->priv = NULL;
}

static void sysv_msg_teardown(struct ipcb_chan *ch)
{
	for (int i = Q_AB; i <= Q_BA; i++) {
		if (ch->fd[i] >= 0)
			(void)ipcb_name_remove(IPCB_NAME_SYSV_MSG, NULL, ch->fd[i]);
		ch->fd[i] = -1;
	}
}

const struct ipcb_transport ipcb_transport_sysv_msg = {
	.name = "sysv-msg",
	.summary = "System V message queues (msgsnd/msgrcv), one per direction",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX | IPCB_CAP_MULTI_PROD | IPCB_CAP_MULTI_CONS,
	.max_msg = 0,   /* msgmax is known only at run time: setup checks it */
	.unsupported = sysv_msg_unsupported,
	.setup = sysv_msg_setup,
	.attach = sysv_msg_attach,
	.send = sysv_msg_send,
	.recv = sysv_msg_recv,
	.detach = sysv_msg_detach,
	.teardown = sysv_msg_teardown,
};
