// SPDX-License-Identifier: MIT
/* shm-queue: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *shm_queue_unsupported(void)
{
	return "not implemented yet";
}

static int shm_queue_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void shm_queue_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_shm_queue = {
	.name = "shm-queue",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = shm_queue_unsupported,
	.setup = shm_queue_setup,
	.teardown = shm_queue_teardown,
};
