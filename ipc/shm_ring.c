// SPDX-License-Identifier: MIT
/* shm-ring: placeholder until the transport is written (it reports itself unavailable). */
#include <errno.h>

#include "transport.h"

static const char *shm_ring_unsupported(void)
{
	return "not implemented yet";
}

static int shm_ring_setup(struct ipcb_chan *ch)
{
	(void)ch;
	return -ENOTSUP;
}

static void shm_ring_teardown(struct ipcb_chan *ch)
{
	(void)ch;
}

const struct ipcb_transport ipcb_transport_shm_ring = {
	.name = "shm-ring",
	.summary = "(not implemented yet)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.unsupported = shm_ring_unsupported,
	.setup = shm_ring_setup,
	.teardown = shm_ring_teardown,
};
