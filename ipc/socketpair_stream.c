// SPDX-License-Identifier: MIT
/*
 * socketpair-stream: one socketpair(AF_UNIX, SOCK_STREAM), duplex, made in the parent and
 * inherited (or shared, in thread mode) by the workers. Measures the kernel's AF_UNIX byte
 * stream with no naming or connection set-up in the way: A uses one end, B the other. A
 * byte stream, so a large message may arrive in parts and the harness loops. Buffer sizes
 * are the kernel's defaults, recorded as effective parameters; set-up cost is excluded.
 */
#include <sys/socket.h>

#include "sock.h"

static int socketpair_stream_setup(struct ipcb_chan *ch)
{
	int rc = ipcb_sock_pair_anon(ch, SOCK_STREAM);

	return rc < 0 ? rc : ipcb_sock_describe(ch, NULL);
}

const struct ipcb_transport ipcb_transport_socketpair_stream = {
	.name = "socketpair-stream",
	.summary = "socketpair(AF_UNIX, SOCK_STREAM), one duplex pair (byte stream)",
	.caps = IPCB_CAP_STREAM | IPCB_CAP_DUPLEX,
	.max_msg = 0,
	.setup = socketpair_stream_setup,
	.opts = ipcb_sock_opts,
	.attach = ipcb_sock_attach,
	.send = ipcb_sock_send,
	.recv = ipcb_sock_recv,
	.teardown = ipcb_sock_teardown,
};
