// SPDX-License-Identifier: MIT
/* fifo: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *fifo_unsupported(void)
{
	return "not implemented yet";
}

static int fifo_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void fifo_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_fifo = {
	.name = "fifo",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = fifo_unsupported,
	.setup = fifo_setup,
	.teardown = fifo_teardown,
};
