// SPDX-License-Identifier: MIT
/* Per-worker cycles, instructions and migrations (see perf.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "perf.h"
#include "syslimits.h"

#define SCHED_FILE "/proc/thread-self/sched"

static const struct {
	uint32_t type;
	uint64_t config;
	const char *name;
} events[IPCB_PERF_NEV] = {
	[IPCB_PERF_CYCLES] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles" },
	[IPCB_PERF_INSTRUCTIONS] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions" },
	[IPCB_PERF_MIGRATIONS] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS,
				   "cpu-migrations" },
};

static int perf_on;

void ipcb_perf_enable(int on)
{
	perf_on = on;
}

int ipcb_perf_enabled(void)
{
	return perf_on;
}

/* One counter of the calling thread on any CPU, stopped. User and kernel time both count:
 * the kernel's share is most of the cost of a blocking transport. Returns an fd or -errno. */
static int open_event(int ev)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = events[ev].type;
	a.config = events[ev].config;
	a.disabled = 1;
	a.exclude_hv = 1;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

static long paranoid(void)
{
	long v = -99;

	(void)ipcb_read_proc_long("/proc/sys/kernel/perf_event_paranoid", &v);
	return v;
}

/* Open and close events first..last; the reason the first failure failed, or NULL. */
static const char *probe(int first, int last, char *buf, size_t len)
{
	for (int ev = first; ev <= last; ev++) {
		int fd = open_event(ev);
		if (fd >= 0) {
			(void)close(fd);
			continue;
		}
		const char *hint = fd == -ENOENT || fd == -EOPNOTSUPP ?
			": no such counter here (a virtual machine without a PMU?)" :
			fd == -EACCES || fd == -EPERM ? ": not allowed" : "";
		snprintf(buf, len, "perf_event_open(%s): %s (errno %d)%s; "
			 "kernel.perf_event_paranoid=%ld", events[ev].name, strerror(-fd), -fd, hint,
			 paranoid());
		return buf;
	}
	return NULL;
}

const char *ipcb_perf_hw_unsupported(void)
{
	static char why[200];
	static int done;
	static const char *answer;

	if (!perf_on)
		return "off (no --perf)";
	if (!done) {
		answer = probe(IPCB_PERF_CYCLES, IPCB_PERF_INSTRUCTIONS, why, sizeof(why));
		done = 1;
	}
	return answer;
}

/* se.nr_migrations of the calling thread, or -1. */
static int64_t sched_migrations(void)
{
	char buf[4096];
	int fd = open(SCHED_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *p = strstr(buf, "\nse.nr_migrations");
	if (!p || !(p = strchr(p, ':')))
		return -1;
	char *end;
	long long v = strtoll(p + 1, &end, 10);
	return end == p + 1 || v < 0 ? -1 : v;
}

const char *ipcb_perf_migr_method(void)
{
	static char why[200];
	static int done;
	static const char *answer;

	if (!done) {
		if (sched_migrations() >= 0)
			answer = "sched";
		else if (perf_on && !probe(IPCB_PERF_MIGRATIONS, IPCB_PERF_MIGRATIONS, why,
					   sizeof(why)))
			answer = "perf";
		else
			answer = "sampling";
		done = 1;
	}
	return answer;
}

void ipcb_perf_open(struct ipcb_perf *p)
{
	/* Only what will be used: every open event costs at each context switch. */
	int hw = !ipcb_perf_hw_unsupported(), sw = !strcmp(ipcb_perf_migr_method(), "perf");

	for (int ev = 0; ev < IPCB_PERF_NEV; ev++) {
		int want = ev == IPCB_PERF_MIGRATIONS ? sw : hw;
		p->fd[ev] = want ? open_event(ev) : -1;
		if (p->fd[ev] < 0)
			p->fd[ev] = -1;
		p->begin[ev] = 0;
	}
	p->sched_migr0 = -1;
}

void ipcb_perf_start(struct ipcb_perf *p)
{
	for (int ev = 0; ev < IPCB_PERF_NEV; ev++) {
		if (p->fd[ev] < 0)
			continue;
		(void)ioctl(p->fd[ev], PERF_EVENT_IOC_RESET, 0);
		(void)ioctl(p->fd[ev], PERF_EVENT_IOC_ENABLE, 0);
	}
	p->sched_migr0 = sched_migrations();
}

int ipcb_perf_read(const struct ipcb_perf *p, int ev, uint64_t *v)
{
	uint64_t r[3];   /* value, time enabled, time running */

	if (p->fd[ev] < 0 || read(p->fd[ev], r, sizeof(r)) != (ssize_t)sizeof(r))
		return -1;
	if (r[2] < r[1])
		return -1;   /* multiplexed: only an estimate */
	*v = r[0];
	return 0;
}

int ipcb_perf_migrations(const struct ipcb_perf *p, uint64_t *v)
{
	int64_t now;

	if (p->sched_migr0 >= 0 && (now = sched_migrations()) >= p->sched_migr0) {
		*v = (uint64_t)(now - p->sched_migr0);
		return IPCB_MIGR_SCHED;
	}
	if (ipcb_perf_read(p, IPCB_PERF_MIGRATIONS, v) == 0)
		return IPCB_MIGR_PERF;
	return IPCB_MIGR_SAMPLED;
}

void ipcb_perf_close(struct ipcb_perf *p)
{
	for (int ev = 0; ev < IPCB_PERF_NEV; ev++) {
		if (p->fd[ev] < 0)
			continue;
		(void)ioctl(p->fd[ev], PERF_EVENT_IOC_DISABLE, 0);
		(void)close(p->fd[ev]);
		p->fd[ev] = -1;
	}
}
