// SPDX-License-Identifier: MIT
/* sysv-msg: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *sysv_msg_unsupported(void)
{
	return "not implemented yet";
}

static int sysv_msg_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void sysv_msg_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_sysv_msg = {
	.name = "sysv-msg",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = sysv_msg_unsupported,
	.setup = sysv_msg_setup,
	.teardown = sysv_msg_teardown,
};
