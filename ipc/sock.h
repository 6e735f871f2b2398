/* SPDX-License-Identifier: MIT */
/*
 * The socket core: what every socket transport (socketpair-*, unix-stream, tcp, udp) has in
 * common, so each transport file is only its setup and its ops table.
 *
 * A socket channel is one connected, duplex pair of sockets made by the parent in setup:
 * role A reads and writes ch->fd[IPCB_SOCK_FD_A], role B ch->fd[IPCB_SOCK_FD_B]. Workers
 * inherit both (fork) or share them (threads); attach only picks one, detach closes nothing,
 * and teardown in the parent closes every fd and removes the socket path, if any.
 * Buffer sizes are left at the kernel's defaults unless a datagram would not fit; what was
 * asked for and what getsockopt() reports are written to ch->effective either way.
 */
#ifndef IPCB_SOCK_H
#define IPCB_SOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "opt.h"
#include "transport.h"

/* Slots in ch->fd. LISTEN is the bound listening socket of a named (AF_UNIX path) channel,
 * kept until teardown, which reads the path back from it to unlink it. */
enum { IPCB_SOCK_FD_A = 0, IPCB_SOCK_FD_B = 1, IPCB_SOCK_FD_LISTEN = 2 };

/* Parent, setup. An anonymous connected pair, socketpair(AF_UNIX, type). Sets every ch->fd
 * first, so the channel is safe to teardown on any return. Returns 0 or -errno (-EMFILE,
 * -ENFILE, -ENOMEM). */
int ipcb_sock_pair_anon(struct ipcb_chan *ch, int type);

/* Parent, setup. A pair over a listening AF_UNIX socket of the given type (SOCK_STREAM or
 * SOCK_SEQPACKET) bound to a fresh ipcb_name_new() path with mode 0600: the parent connects
 * A and accepts B (checking the peer is itself), so workers inherit connected fds. The path
 * stays until teardown. Returns 0 or -errno (socket, bind, chmod, listen, connect, accept
 * errors; -ETIMEDOUT if our own connection did not show up; -ENOSPC from the name list). */
int ipcb_sock_pair_unix(struct ipcb_chan *ch, int type);

/* Parent, setup. A pair on 127.0.0.1 with ephemeral ports. SOCK_STREAM: TCP through a
 * listener (closed again once B is accepted), TCP_NODELAY on both ends. SOCK_DGRAM: two
 * bound UDP sockets connected to each other, so each hears only its peer. Returns 0 or
 * -errno as for ipcb_sock_pair_unix. */
int ipcb_sock_pair_inet(struct ipcb_chan *ch, int type);

/* Parent, setup, after a pair was made. Make sure one datagram of ch->msg_size bytes fits:
 * raise SO_SNDBUF on both ends if the default is too small (never lower it), then send one
 * such datagram each way without blocking and read it back. overhead is what the kernel
 * keeps out of SO_SNDBUF for a datagram (32 for AF_UNIX, see unix_dgram_sendmsg()). Writes
 * the buffer sizes and the limit to ch->effective. Returns 0, -EMSGSIZE with ch->why set
 * when the kernel caps the buffer below what the message needs, or -errno. */
int ipcb_sock_fit_dgram(struct ipcb_chan *ch, size_t overhead);

/* Parent, setup. Write the effective buffer sizes (and extra, "k=v;...", if not NULL) to
 * ch->effective for a pair whose buffers were left alone. Returns 0 or -errno. */
int ipcb_sock_describe(struct ipcb_chan *ch, const char *extra);

/* --sock-buf: the options table every socket transport lists (.opts). */
extern const struct ipcb_opt ipcb_sock_opts[];

/* Ops for the table (see transport.h for the contracts). attach: e gets fd A or B as both
 * rfd and wfd; returns 0, or -EBADF when setup did not make the pair. send: one send()
 * without SIGPIPE (a closed peer gives -EPIPE). recv: a byte stream read. recv_dgram: one
 * whole datagram; -EMSGSIZE when it is longer than len (it is then discarded). */
int ipcb_sock_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role);
ssize_t ipcb_sock_send(struct ipcb_end *e, const void *buf, size_t len);
ssize_t ipcb_sock_recv(struct ipcb_end *e, void *buf, size_t len);
ssize_t ipcb_sock_recv_dgram(struct ipcb_end *e, void *buf, size_t len);

/* Parent. Remove the socket path (if a LISTEN fd holds one) and close every fd. Idempotent.
 * A path that cannot be removed stays on the name list, whose cleanup reports it. */
void ipcb_sock_teardown(struct ipcb_chan *ch);

#endif
