/* SPDX-License-Identifier: MIT */
/*
 * System limits that decide whether an IPC case can run at all, read once so they can be
 * shown (`ipcbench topo`), recorded (metadata.json) and checked before a case instead of
 * failing in its middle. -1 means "could not be read".
 */
#ifndef IPCB_SYSLIMITS_H
#define IPCB_SYSLIMITS_H

#include <stdio.h>

struct ipcb_limits {
	long mq_msg_max, mq_msgsize_max, mq_queues_max;   /* /proc/sys/fs/mqueue */
	long long rlimit_msgqueue;                        /* bytes, RLIMIT_MSGQUEUE soft */
	long sysv_msgmax, sysv_msgmnb, sysv_msgmni;       /* /proc/sys/kernel */
	long long rlimit_nofile, rlimit_sigpending;       /* soft limits */
	long pipe_max_size;                               /* /proc/sys/fs/pipe-max-size */
	long long shm_free_bytes;                         /* free space in /dev/shm */
};

void ipcb_limits_read(struct ipcb_limits *l);
/* Read the integer at the start of a /proc (or /sys) file into *out. Returns 0, or -errno
 * (-EINVAL when the file does not start with a number); *out is untouched on failure. */
int ipcb_read_proc_long(const char *path, long *out);
void ipcb_limits_print(const struct ipcb_limits *l, FILE *f);

#endif
