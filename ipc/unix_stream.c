// SPDX-License-Identifier: MIT
/* unix-stream: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *unix_stream_unsupported(void)
{
	return "not implemented yet";
}

static int unix_stream_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void unix_stream_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_unix_stream = {
	.name = "unix-stream",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = unix_stream_unsupported,
	.setup = unix_stream_setup,
	.teardown = unix_stream_teardown,
};
