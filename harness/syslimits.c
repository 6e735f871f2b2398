// SPDX-License-Identifier: MIT
/* Reading the system limits that IPC cases depend on (see limits.h). */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

#include "syslimits.h"

int ipcb_read_proc_long(const char *path, long *out)
{
	FILE *f = fopen(path, "re");
	long v;
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%ld", &v) == 1;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*out = v;
	return 0;
}

static long read_long(const char *path)
{
	long v = -1;

	return ipcb_read_proc_long(path, &v) < 0 ? -1 : v;
}

static long long soft_limit(int res)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		return -1;
	return rl.rlim_cur == RLIM_INFINITY ? -2 : (long long)rl.rlim_cur;
}

void ipcb_limits_read(struct ipcb_limits *l)
{
	struct statvfs sv;

	l->mq_msg_max = read_long("/proc/sys/fs/mqueue/msg_max");
	l->mq_msgsize_max = read_long("/proc/sys/fs/mqueue/msgsize_max");
	l->mq_queues_max = read_long("/proc/sys/fs/mqueue/queues_max");
	l->rlimit_msgqueue = soft_limit(RLIMIT_MSGQUEUE);
	l->sysv_msgmax = read_long("/proc/sys/kernel/msgmax");
	l->sysv_msgmnb = read_long("/proc/sys/kernel/msgmnb");
	l->sysv_msgmni = read_long("/proc/sys/kernel/msgmni");
	l->rlimit_nofile = soft_limit(RLIMIT_NOFILE);
	l->rlimit_sigpending = soft_limit(RLIMIT_SIGPENDING);
	l->pipe_max_size = read_long("/proc/sys/fs/pipe-max-size");
	l->shm_free_bytes = statvfs("/dev/shm", &sv) == 0 ? (long long)sv.f_bavail * (long long)sv.f_frsize
							   : -1;
}

static void line(FILE *f, const char *what, long long v, const char *unit)
{
	if (v == -2)
		fprintf(f, "  %-34s unlimited\n", what);
	else if (v < 0)
		fprintf(f, "  %-34s unreadable\n", what);
	else
		fprintf(f, "  %-34s %lld%s\n", what, v, unit);
}

void ipcb_limits_print(const struct ipcb_limits *l, FILE *f)
{
	fprintf(f, "limits:\n");
	line(f, "POSIX mq msg_max", l->mq_msg_max, " messages");
	line(f, "POSIX mq msgsize_max", l->mq_msgsize_max, " bytes");
	line(f, "POSIX mq queues_max", l->mq_queues_max, "");
	line(f, "RLIMIT_MSGQUEUE", l->rlimit_msgqueue, " bytes");
	line(f, "System V msgmax", l->sysv_msgmax, " bytes");
	line(f, "System V msgmnb", l->sysv_msgmnb, " bytes");
	line(f, "System V msgmni", l->sysv_msgmni, " queues");
	line(f, "RLIMIT_NOFILE", l->rlimit_nofile, " files");
	line(f, "RLIMIT_SIGPENDING", l->rlimit_sigpending, " signals");
	line(f, "pipe-max-size", l->pipe_max_size, " bytes");
	line(f, "/dev/shm free", l->shm_free_bytes, " bytes");
}
