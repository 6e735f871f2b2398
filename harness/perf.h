/* SPDX-License-Identifier: MIT */
/*
 * Per-worker event counts: cycles and instructions from perf_event_open(2) (used directly
 * through linux/perf_event.h: the generic events need no library), and the number of CPU
 * migrations, counted exactly rather than sampled.
 *
 *   cycles, instructions   only with --perf: hardware counters over the measured window
 *                          (ipcb_worker_begin .. ipcb_worker_end), reported per message
 *                          next to the CPU time. Not by default, because a per-task perf
 *                          event is switched in and out with its task: on this 2-CPU KVM
 *                          guest even one software event made a 64-byte pipe round trip
 *                          1.5-3 us slower (4.4-4.9 -> 6.1-7.1 us on one CPU, 31 -> 34 us
 *                          across two), so latency from a --perf run is not comparable to
 *                          one without. A machine without a PMU (most virtual machines) or
 *                          whose kernel.perf_event_paranoid forbids them has none: the
 *                          probe says why, once, and no cycle rows are written.
 *   migrations             se.nr_migrations of /proc/thread-self/sched (the scheduler's
 *                          own exact count, read at the gate and at the end: nothing in the
 *                          measured loop); else, with --perf, the cpu-migrations software
 *                          event (exact, works without a PMU); else the sched_getcpu()
 *                          samples. The case's params say which (eff.migrations_by=sched,
 *                          perf or sampling); the pinning check uses the count.
 *
 * Each worker opens its counters for itself (pid 0, any CPU, not inherited), after pinning
 * and before the gate, so in thread mode every thread counts only its own work. A perf
 * count is used only if the counter ran the whole time it was enabled (not multiplexed
 * with other users of the PMU): a scaled estimate is not a count.
 */
#ifndef IPCB_PERF_H
#define IPCB_PERF_H

#include <stdint.h>

enum { IPCB_PERF_CYCLES, IPCB_PERF_INSTRUCTIONS, IPCB_PERF_MIGRATIONS, IPCB_PERF_NEV };

/* How a worker's migrations were counted (struct ipcb_slot.migr_counted). */
enum { IPCB_MIGR_SAMPLED = 0, IPCB_MIGR_SCHED = 1, IPCB_MIGR_PERF = 2 };

struct ipcb_perf {
	int fd[IPCB_PERF_NEV];          /* -1: not counted */
	uint64_t begin[IPCB_PERF_NEV];  /* cycles, instructions at ipcb_worker_begin */
	int64_t sched_migr0;            /* se.nr_migrations at the gate, -1 if unreadable */
};

/* Parent, before workers start: --perf on or off (off: no perf event is opened). */
void ipcb_perf_enable(int on);
int ipcb_perf_enabled(void);

/* Parent, any time (cached; call it before workers start so that they inherit the
 * answer). NULL when --perf is on and cycles and instructions can be counted here, else
 * why not: "off (no --perf)", or the errno: "perf_event_open(cycles): No such file or
 * directory (errno 2): no such counter here (a virtual machine without a PMU?);
 * kernel.perf_event_paranoid=2". */
const char *ipcb_perf_hw_unsupported(void);
/* How migrations are counted here: "sched" (se.nr_migrations), "perf" or "sampling". */
const char *ipcb_perf_migr_method(void);

/* Worker. Open the counters --perf asks for, for the calling thread, stopped. A counter
 * that cannot be opened stays -1 (not an error). Never fails. */
void ipcb_perf_open(struct ipcb_perf *p);
/* Worker. Reset and start every counter, and note se.nr_migrations (at the gate). */
void ipcb_perf_start(struct ipcb_perf *p);
/* Worker. Read perf counter ev into *v. Returns 0, or -1 when it is not counted or did not
 * run the whole time it was enabled. */
int ipcb_perf_read(const struct ipcb_perf *p, int ev, uint64_t *v);
/* Worker. Migrations since ipcb_perf_start, exactly. Returns IPCB_MIGR_SCHED or
 * IPCB_MIGR_PERF with *v set, or IPCB_MIGR_SAMPLED when neither can count. */
int ipcb_perf_migrations(const struct ipcb_perf *p, uint64_t *v);
/* Worker. Stop and close every counter. Idempotent. */
void ipcb_perf_close(struct ipcb_perf *p);

#endif
