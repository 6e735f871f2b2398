// SPDX-License-Identifier: MIT
/* udp: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *udp_unsupported(void)
{
	return "not implemented yet";
}

static int udp_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void udp_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_udp = {
	.name = "udp",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = udp_unsupported,
	.setup = udp_setup,
	.teardown = udp_teardown,
};
