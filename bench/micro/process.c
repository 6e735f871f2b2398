// SPDX-License-Identifier: MIT
/*
 * The one cross-process case: a round trip over two pipes to a forked echo process, timed
 * by the parent around each round trip and reported as manual time (the library's own
 * timer would also count the fork and the time the loop is idle). It is the pingpong
 * pattern's pipe case in miniature, a cross-check between the two harnesses; the echo
 * process is unpinned, so the number includes whatever the scheduler does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../harness/clock.h"
#include "micro.h"

static int read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

/* The echo process: reads n bytes, writes them back, until end of file. */
static void __attribute__((noreturn)) echo(int in, int out, size_t n)
{
	char buf[4096];

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (read_full(in, buf, n) == 0)
		if (write(out, buf, n) != (ssize_t)n)
			_exit(1);
	_exit(0);
}

static void bm_roundtrip(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	size_t n = (size_t)ipcb_gbench_range(st, 0);
	int to[2] = { -1, -1 }, from[2] = { -1, -1 }, rc = 0, wst;
	char buf[4096], msg[160];
	pid_t pid;

	(void)def;
	if (n == 0 || n > sizeof(buf)) {
		ipcb_gbench_fail(st, "message size out of 1..4096");
		return;
	}
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(msg, sizeof(msg), "pipe2: %s (errno %d)", strerror(-rc), -rc);
		ipcb_gbench_fail(st, msg);
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(msg, sizeof(msg), "fork: %s (errno %d)", strerror(-rc), -rc);
		ipcb_gbench_fail(st, msg);
		goto out;
	}
	if (pid == 0) {
		(void)close(to[1]);
		(void)close(from[0]);
		echo(to[0], from[1], n);
	}
	(void)close(to[0]);
	(void)close(from[1]);
	to[0] = from[1] = -1;
	memset(buf, 0x5a, n);
	while (ipcb_gbench_keep_running(st)) {
		uint64_t t0 = ipcb_now_ns();
		if (write(to[1], buf, n) != (ssize_t)n) {
			rc = -EIO;
			break;
		}
		rc = read_full(from[0], buf, n);
		uint64_t t1 = ipcb_now_ns();
		if (rc < 0)
			break;
		ipcb_gbench_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
	}
	(void)close(to[1]);
	to[1] = -1;
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "round trip: %s (errno %d)", strerror(-rc), -rc);
		ipcb_gbench_fail(st, msg);
	} else if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
		ipcb_gbench_fail(st, "the echo process failed");
	}
	ipcb_gbench_set_items_processed(st, (int64_t)ipcb_gbench_iterations(st));
out:
	for (int i = 0; i < 2; i++) {
		if (to[i] >= 0)
			(void)close(to[i]);
		if (from[i] >= 0)
			(void)close(from[i]);
	}
}

static const struct ipcb_gbench_def defs[] = {
	{ .name = "process.pipe-roundtrip",
	  .run = bm_roundtrip,
	  .flags = IPCB_GBENCH_MANUAL_TIME,
	  .args = { { .name = "bytes", .values = { 64 }, .nvalues = 1 } },
	  .nargs = 1 },
};

int ipcb_micro_register_process(void)
{
	return ipcb_micro_register_all_of(defs, (int)(sizeof(defs) / sizeof(defs[0])));
}
