// SPDX-License-Identifier: MIT
/*
 * socketpair-dgram: one socketpair(AF_UNIX, SOCK_DGRAM), duplex. Each send is one datagram
 * and each recv returns exactly one; unlike UDP nothing is dropped: a sender blocks while
 * the receiver's queue is full (net.unix.max_dgram_qlen datagrams) or its own SO_SNDBUF is
 * used up.
 *
 * The largest datagram is SO_SNDBUF less 32 bytes of kernel bookkeeping, so the limit is
 * known only at run time: setup raises SO_SNDBUF when the case's size needs it (never
 * lowers it) and, when net.core.wmem_max caps it below that, returns -EMSGSIZE with the
 * limit, which makes the case SKIPPED. The buffer sizes asked for and granted are recorded.
 */
#include <sys/socket.h>

#include "sock.h"

/* Bytes of SO_SNDBUF an AF_UNIX datagram cannot use (unix_dgram_sendmsg(): len > sndbuf - 32). */
#define UNIX_DGRAM_OVERHEAD 32

static int socketpair_dgram_setup(struct ipcb_chan *ch)
{
	int rc = ipcb_sock_pair_anon(ch, SOCK_DGRAM);

	return rc < 0 ? rc : ipcb_sock_fit_dgram(ch, UNIX_DGRAM_OVERHEAD);
}

const struct ipcb_transport ipcb_transport_socketpair_dgram = {
	.name = "socketpair-dgram",
	.summary = "socketpair(AF_UNIX, SOCK_DGRAM), one duplex pair (datagrams up to SO_SNDBUF)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.max_msg = 0,   /* run-time limit (SO_SNDBUF), checked by setup */
	.setup = socketpair_dgram_setup,
	.opts = ipcb_sock_opts,
	.attach = ipcb_sock_attach,
	.send = ipcb_sock_send,
	.recv = ipcb_sock_recv_dgram,
	.teardown = ipcb_sock_teardown,
};
