// SPDX-License-Identifier: MIT
/* tcp: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *tcp_unsupported(void)
{
	return "not implemented yet";
}

static int tcp_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void tcp_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_tcp = {
	.name = "tcp",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = tcp_unsupported,
	.setup = tcp_setup,
	.teardown = tcp_teardown,
};
