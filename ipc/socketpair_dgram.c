// SPDX-License-Identifier: MIT
/* socketpair-dgram: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *socketpair_dgram_unsupported(void)
{
	return "not implemented yet";
}

static int socketpair_dgram_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void socketpair_dgram_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_socketpair_dgram = {
	.name = "socketpair-dgram",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = socketpair_dgram_unsupported,
	.setup = socketpair_dgram_setup,
	.teardown = socketpair_dgram_teardown,
};
