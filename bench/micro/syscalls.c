// SPDX-License-Identifier: MIT
/*
 * The system-call floor: one process writes a message into a kernel object and reads it
 * back at once, so the time is the two calls and the kernel's copy, with no scheduler, no
 * wake-up and no second CPU (what a transport adds on top is the cross-process part). Also
 * the cheapest system call (getppid, which glibc does not cache), a POSIX semaphore post and
 * wait (no waiter: no system call at all in glibc) and a futex wake with nobody waiting,
 * private and shared (the shared one hashes the page's identity). Every read is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "micro.h"

static void fail_errno(struct ipcb_gbench_state *st, const char *what, int err)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: %s (errno %d)", what, strerror(err), err);
	ipcb_gbench_fail(st, msg);
}

static void bm_getppid(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	(void)def;
	while (ipcb_gbench_keep_running(st))
		ipcb_gbench_use_u64((uint64_t)syscall(SYS_getppid));
}

/* write n bytes to fd[1], read them back from fd[0], each iteration. */
static void write_read(struct ipcb_gbench_state *st, int fd[2], const char *what)
{
	size_t n = (size_t)ipcb_gbench_range(st, 0);
	char *out = malloc(n), *in = malloc(n);
	char msg[160];

	if (!out || !in) {
		ipcb_gbench_fail(st, "out of memory");
		goto out;
	}
	memset(out, 0x5a, n);
	while (ipcb_gbench_keep_running(st)) {
		ssize_t w = write(fd[1], out, n);
		if (w != (ssize_t)n) {
			snprintf(msg, sizeof(msg), "%s: write of %zu bytes", what, n);
			fail_errno(st, msg, w < 0 ? errno : EIO);
			break;
		}
		size_t got = 0;
		while (got < n) {
			ssize_t r = read(fd[0], in + got, n - got);
			if (r <= 0) {
				snprintf(msg, sizeof(msg), "%s: read", what);
				fail_errno(st, msg, r < 0 ? errno : EIO);
				goto out;
			}
			got += (size_t)r;
		}
		if (in[0] != out[0] || in[n - 1] != out[n - 1]) {
			snprintf(msg, sizeof(msg), "%s: read back other bytes than written", what);
			ipcb_gbench_fail(st, msg);
			break;
		}
	}
	ipcb_gbench_set_bytes_processed(st, (int64_t)(ipcb_gbench_iterations(st) * n));
out:
	free(out);
	free(in);
}

static void bm_pipe(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	int fd[2];

	(void)def;
	if (pipe2(fd, O_CLOEXEC) < 0) {
		fail_errno(st, "pipe2", errno);
		return;
	}
	write_read(st, fd, "pipe");
	(void)close(fd[0]);
	(void)close(fd[1]);
}

static void bm_socketpair(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	int fd[2];

	(void)def;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) < 0) {
		fail_errno(st, "socketpair(AF_UNIX, SOCK_STREAM)", errno);
		return;
	}
	write_read(st, fd, "socketpair");
	(void)close(fd[0]);
	(void)close(fd[1]);
}

static void bm_eventfd(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	int fd = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1, v = 0;

	(void)def;
	if (fd < 0) {
		fail_errno(st, "eventfd", errno);
		return;
	}
	while (ipcb_gbench_keep_running(st)) {
		if (write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
			fail_errno(st, "eventfd write", errno);
			break;
		}
		ssize_t r = read(fd, &v, sizeof(v));
		if (r != (ssize_t)sizeof(v) || v != 1) {
			fail_errno(st, "eventfd read (8 bytes, the value 1)", r < 0 ? errno : EIO);
			break;
		}
	}
	(void)close(fd);
}

/* A process-shared semaphore in shared memory, as a cross-process transport would use. */
static void bm_sem(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	sem_t *s = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);

	(void)def;
	if (s == MAP_FAILED) {
		fail_errno(st, "mmap", errno);
		return;
	}
	if (sem_init(s, 1, 0) < 0) {
		fail_errno(st, "sem_init", errno);
		(void)munmap(s, sizeof(sem_t));
		return;
	}
	while (ipcb_gbench_keep_running(st)) {
		if (sem_post(s) < 0) {
			fail_errno(st, "sem_post", errno);
			break;
		}
		while (sem_wait(s) < 0) {
			if (errno != EINTR) {
				fail_errno(st, "sem_wait", errno);
				goto out;
			}
		}
	}
out:
	(void)sem_destroy(s);
	(void)munmap(s, sizeof(sem_t));
}

static void bm_futex_wake(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	int shared = def->user != NULL;
	int op = shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE;
	uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			   (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);

	if (w == MAP_FAILED) {
		fail_errno(st, "mmap", errno);
		return;
	}
	*w = 0;
	while (ipcb_gbench_keep_running(st)) {
		long woken = syscall(SYS_futex, w, op, 1, NULL, NULL, 0);
		if (woken != 0) {
			fail_errno(st, "futex(FUTEX_WAKE) with no waiter", woken < 0 ? errno : EIO);
			break;
		}
	}
	(void)munmap(w, 4096);
}

#define BYTES_ARG { .name = "bytes", .values = { 64, 4096 }, .nvalues = 2 }

static const struct ipcb_gbench_def defs[] = {
	{ .name = "syscall.getppid", .run = bm_getppid },
	{ .name = "syscall.pipe-write-read", .run = bm_pipe, .args = { BYTES_ARG }, .nargs = 1 },
	{ .name = "syscall.socketpair-write-read", .run = bm_socketpair, .args = { BYTES_ARG },
	  .nargs = 1 },
	{ .name = "syscall.eventfd-write-read", .run = bm_eventfd },
	{ .name = "sem.post-wait", .run = bm_sem },
	{ .name = "futex.wake-private", .run = bm_futex_wake },
	{ .name = "futex.wake-shared", .run = bm_futex_wake, .user = "shared" },
};

int ipcb_micro_register_syscalls(void)
{
	return ipcb_micro_register_all_of(defs, (int)(sizeof(defs) / sizeof(defs[0])));
}
