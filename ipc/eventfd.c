// SPDX-License-Identifier: MIT
/*
 * eventfd(2) as a message channel: one eventfd per direction (A->B and B->A), the 8-byte
 * message carried as the counter value. This measures the cheapest kernel wake-up path with
 * a payload: one 8-byte write and one 8-byte read per message, no buffer.
 *
 * An eventfd is a counter, not a queue: a second write before the read adds to the first,
 * so only one message may be in flight per direction (IPCB_CAP_ONE_IN_FLIGHT; the planner
 * keeps it out of streaming patterns, ping-pong is fine). Messages are exactly 8 bytes.
 *
 * Encoding: the counter cannot carry every 64-bit value. Writing 0 adds nothing and wakes
 * nobody, and 0xffffffffffffffff is refused (EINVAL). The message's 8 bytes, read as a host
 * integer h, are therefore written as h + 1 and the reader subtracts 1, which carries every
 * h except 0xfffffffffffffffe and 0xffffffffffffffff; those two are refused with -ERANGE.
 * With the harness header (msg.h) they would need producer id 0xffff and a sequence number
 * of 0xfffffffe or more, so no pattern sends them. A header of all zeros (sequence 0,
 * producer 0, tag 0) is carried like any other value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "transport.h"

#define EVENTFD_MSG 8u
#define EVENTFD_OFFSET 1u   /* added on send, subtracted on receive (see the header) */

enum { EV_AB, EV_BA };

static int eventfd_setup(struct ipcb_chan *ch)
{
	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	if (ch->msg_size != EVENTFD_MSG) {
		snprintf(ch->why, sizeof(ch->why), "an eventfd carries exactly one 8-byte counter, "
			 "not a %zu-byte message", ch->msg_size);
		return -EMSGSIZE;
	}
	ch->fd[EV_AB] = eventfd(0, EFD_CLOEXEC);
	if (ch->fd[EV_AB] < 0)
		return -errno;
	ch->fd[EV_BA] = eventfd(0, EFD_CLOEXEC);
	if (ch->fd[EV_BA] < 0)
		return -errno;
	return 0;
}

static int eventfd_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	e->ch = ch;
	e->role = role;
	e->rfd = role == IPCB_ROLE_A ? ch->fd[EV_BA] : ch->fd[EV_AB];
	e->wfd = role == IPCB_ROLE_A ? ch->fd[EV_AB] : ch->fd[EV_BA];
	return 0;
}

static ssize_t eventfd_send(struct ipcb_end *e, const void *buf, size_t len)
{
	uint64_t v;
	ssize_t n;

	if (len != EVENTFD_MSG)
		return -EMSGSIZE;
	memcpy(&v, buf, sizeof(v));
	if (v >= UINT64_MAX - EVENTFD_OFFSET)
		return -ERANGE;
	v += EVENTFD_OFFSET;
	n = write(e->wfd, &v, sizeof(v));
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(v) ? (ssize_t)len : -EIO;
}

static ssize_t eventfd_recv(struct ipcb_end *e, void *buf, size_t len)
{
	uint64_t v;
	ssize_t n;

	if (len < EVENTFD_MSG)
		return -EMSGSIZE;
	n = read(e->rfd, &v, sizeof(v));
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(v))
		return -EIO;
	v -= EVENTFD_OFFSET;
	memcpy(buf, &v, sizeof(v));
	return EVENTFD_MSG;
}

static void eventfd_teardown(struct ipcb_chan *ch)
{
	for (int i = EV_AB; i <= EV_BA; i++) {
		if (ch->fd[i] >= 0)
			(void)close(ch->fd[i]);
		ch->fd[i] = -1;
	}
}

const struct ipcb_transport ipcb_transport_eventfd = {
	.name = "eventfd",
	.summary = "eventfd(2) counter carrying the 8-byte header, one per direction "
		   "(one message in flight)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX | IPCB_CAP_ONE_IN_FLIGHT,
	.max_msg = EVENTFD_MSG,
	.setup = eventfd_setup,
	.attach = eventfd_attach,
	.send = eventfd_send,
	.recv = eventfd_recv,
	.teardown = eventfd_teardown,
};
