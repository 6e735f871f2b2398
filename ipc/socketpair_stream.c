// SPDX-License-Identifier: MIT
/* socketpair-stream: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *socketpair_stream_unsupported(void)
{
	return "not implemented yet";
}

static int socketpair_stream_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void socketpair_stream_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_socketpair_stream = {
	.name = "socketpair-stream",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = socketpair_stream_unsupported,
	.setup = socketpair_stream_setup,
	.teardown = socketpair_stream_teardown,
};
