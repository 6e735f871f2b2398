// SPDX-License-Identifier: MIT
/* socketpair-seqpacket: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *socketpair_seqpacket_unsupported(void)
{
	return "not implemented yet";
}

static int socketpair_seqpacket_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void socketpair_seqpacket_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_socketpair_seqpacket = {
	.name = "socketpair-seqpacket",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = socketpair_seqpacket_unsupported,
	.setup = socketpair_seqpacket_setup,
	.teardown = socketpair_seqpacket_teardown,
};
