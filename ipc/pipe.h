/* SPDX-License-Identifier: MIT */
/*
 * What the pipe and the FIFO share (a FIFO is a pipe reached through a name): the
 * --pipe-size option and the code that applies it.
 */
#ifndef IPCB_PIPE_H
#define IPCB_PIPE_H

#include "opt.h"
#include "transport.h"

/* --pipe-size: the options table of both transports (.opts). */
extern const struct ipcb_opt ipcb_pipe_opts[];

/* Parent, setup. Give the two pipes whose write ends are w1 and w2 the size --pipe-size
 * asks for (F_SETPIPE_SZ, judged by ipcb_request_check()), or leave the kernel's default
 * without it, and write the size to ch->effective ("pipe_sz_req=..;pipe_sz=.." or
 * "pipe_sz=.."). Returns 0 or -errno (-ERANGE: a clamp refused, ch->why set). */
int ipcb_pipe_size(struct ipcb_chan *ch, int w1, int w2);

#endif
