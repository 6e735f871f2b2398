// SPDX-License-Identifier: MIT
/*
 * udp: two UDP sockets on 127.0.0.1 (ephemeral ports), each connect()ed to the other, so
 * every send is one datagram to the peer and nothing else is heard. Message boundaries are
 * kept, but UDP has no flow control: when the receiver falls behind, the kernel drops
 * datagrams once its SO_RCVBUF is full. That is what LOSSY means: in stream, loss is counted
 * and reported, not a failure. The largest payload is 65507 bytes (65535 less the IPv4 and
 * UDP headers). Buffer sizes are the kernel's defaults and are recorded.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "sock.h"

#define UDP_MAX_PAYLOAD 65507u

static int udp_setup(struct ipcb_chan *ch)
{
	int rc = ipcb_sock_pair_inet(ch, SOCK_DGRAM);

	if (rc < 0)
		return rc;
	if (ch->msg_size > UDP_MAX_PAYLOAD) {
		snprintf(ch->why, sizeof(ch->why), "a %zu-byte datagram is over the UDP/IPv4 "
			 "limit of %u bytes", ch->msg_size, UDP_MAX_PAYLOAD);
		return -EMSGSIZE;
	}
	return ipcb_sock_describe(ch, NULL);
}

const struct ipcb_transport ipcb_transport_udp = {
	.name = "udp",
	.summary = "UDP over 127.0.0.1, a connected pair (datagrams, may drop)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX | IPCB_CAP_LOSSY,
	.max_msg = UDP_MAX_PAYLOAD,
	.setup = udp_setup,
	.opts = ipcb_sock_opts,
	.attach = ipcb_sock_attach,
	.send = ipcb_sock_send,
	.recv = ipcb_sock_recv_dgram,
	.teardown = ipcb_sock_teardown,
};
