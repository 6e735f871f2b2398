// SPDX-License-Identifier: MIT
/*
 * unix-stream: AF_UNIX SOCK_STREAM through a named socket, the way unrelated processes
 * meet. In setup the parent binds a listening socket to a fresh /tmp/ipcbench-<pid>-<n>
 * path (mode 0600), connects to it and accepts, so the workers start with a connected pair
 * and the timed loop is the same byte stream as socketpair-stream: the comparison shows
 * what the path costs (nothing after connection, by design). Connection set-up is excluded.
 * The path and the listener stay until teardown, which unlinks the path.
 */
#include <sys/socket.h>

#include "sock.h"

static int unix_stream_setup(struct ipcb_chan *ch)
{
	int rc = ipcb_sock_pair_unix(ch, SOCK_STREAM);

	return rc < 0 ? rc : ipcb_sock_describe(ch, NULL);
}

const struct ipcb_transport ipcb_transport_unix_stream = {
	.name = "unix-stream",
	.summary = "AF_UNIX SOCK_STREAM via a named path (listen/connect/accept), duplex",
	.caps = IPCB_CAP_STREAM | IPCB_CAP_DUPLEX | IPCB_CAP_NAMED,
	.max_msg = 0,
	.setup = unix_stream_setup,
	.opts = ipcb_sock_opts,
	.attach = ipcb_sock_attach,
	.send = ipcb_sock_send,
	.recv = ipcb_sock_recv,
	.teardown = ipcb_sock_teardown,
};
