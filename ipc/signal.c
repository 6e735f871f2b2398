// SPDX-License-Identifier: MIT
/* signal: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *signal_unsupported(void)
{
	return "not implemented yet";
}

static int signal_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void signal_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_signal = {
	.name = "signal",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = signal_unsupported,
	.setup = signal_setup,
	.teardown = signal_teardown,
};
