// SPDX-License-Identifier: MIT
/* posix-mq: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *posix_mq_unsupported(void)
{
	return "not implemented yet";
}

static int posix_mq_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void posix_mq_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_posix_mq = {
	.name = "posix-mq",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = posix_mq_unsupported,
	.setup = posix_mq_setup,
	.teardown = posix_mq_teardown,
};
