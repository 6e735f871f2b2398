// SPDX-License-Identifier: MIT
/*
 * tcp: one TCP connection on 127.0.0.1 (ephemeral port), duplex, made in the parent
 * (listen, connect, accept; the listener is closed again) so the workers start connected.
 * Measures the TCP/IP stack over the loopback device (segments, ACKs, softirq delivery).
 * TCP_NODELAY is set on both ends, so a small message is sent at once
 * instead of waiting on Nagle and the delayed-ACK timer. Buffer sizes are the kernel's
 * (autotuned) defaults; the initial ones are recorded. Handshake and teardown are excluded.
 */
#include <sys/socket.h>

#include "sock.h"

static int tcp_setup(struct ipcb_chan *ch)
{
	int rc = ipcb_sock_pair_inet(ch, SOCK_STREAM);

	return rc < 0 ? rc : ipcb_sock_describe(ch, NULL);
}

const struct ipcb_transport ipcb_transport_tcp = {
	.name = "tcp",
	.summary = "TCP over 127.0.0.1, TCP_NODELAY, one duplex connection (byte stream)",
	.caps = IPCB_CAP_STREAM | IPCB_CAP_DUPLEX,
	.max_msg = 0,
	.setup = tcp_setup,
	.opts = ipcb_sock_opts,
	.attach = ipcb_sock_attach,
	.send = ipcb_sock_send,
	.recv = ipcb_sock_recv,
	.teardown = ipcb_sock_teardown,
};
