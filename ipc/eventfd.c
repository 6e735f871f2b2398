// SPDX-License-Identifier: MIT
/* eventfd: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *eventfd_unsupported(void)
{
	return "not implemented yet";
}

static int eventfd_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void eventfd_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_eventfd = {
	.name = "eventfd",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = eventfd_unsupported,
	.setup = eventfd_setup,
	.teardown = eventfd_teardown,
};
