// SPDX-License-Identifier: MIT
/*
 * socketpair-seqpacket: one socketpair(AF_UNIX, SOCK_SEQPACKET), duplex. A connected
 * socket that keeps record boundaries: each recv returns one whole message, in order,
 * nothing dropped. In the kernel a record goes through the same path as an AF_UNIX
 * datagram, so it has the same size limit (SO_SNDBUF less 32 bytes): setup raises SO_SNDBUF
 * when the case needs it and returns -EMSGSIZE with the limit when net.core.wmem_max caps
 * it lower (the case is SKIPPED). The buffer sizes asked for and granted are recorded.
 */
#include <sys/socket.h>

#include "sock.h"

/* Bytes of SO_SNDBUF a record cannot use (unix_dgram_sendmsg(): len > sndbuf - 32). */
#define UNIX_SEQPACKET_OVERHEAD 32

static int socketpair_seqpacket_setup(struct ipcb_chan *ch)
{
	int rc = ipcb_sock_pair_anon(ch, SOCK_SEQPACKET);

	return rc < 0 ? rc : ipcb_sock_fit_dgram(ch, UNIX_SEQPACKET_OVERHEAD);
}

const struct ipcb_transport ipcb_transport_socketpair_seqpacket = {
	.name = "socketpair-seqpacket",
	.summary = "socketpair(AF_UNIX, SOCK_SEQPACKET), one duplex pair (ordered records)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.max_msg = 0,   /* run-time limit (SO_SNDBUF), checked by setup */
	.setup = socketpair_seqpacket_setup,
	.opts = ipcb_sock_opts,
	.attach = ipcb_sock_attach,
	.send = ipcb_sock_send,
	.recv = ipcb_sock_recv_dgram,
	.teardown = ipcb_sock_teardown,
};
