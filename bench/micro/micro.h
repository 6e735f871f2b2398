/* SPDX-License-Identifier: MIT */
/*
 * ipcbench-micro: microbenchmarks of the primitives the transports and sync primitives are
 * built from, each in one thread of one process and uncontended (the floor a multi-process
 * number can be compared with). One file per group; each group registers its benchmarks
 * with the Google Benchmark shim (harness/gbench.h) and main.c runs them.
 *
 * Names are "<group>.<what>" (no '/': Google Benchmark appends "/<arg>:<value>"), and the
 * one argument, where there is one, is called "bytes" so `ipcbench --all` can put it in the
 * CSV's size_bytes column.
 */
#ifndef IPCB_MICRO_H
#define IPCB_MICRO_H

#include "../../harness/gbench.h"

/* Operations per call of the keep-running loop for operations of a few nanoseconds, so the
 * call into the shim (not inlined: it crosses into C++) is a small share of the time. */
#define MICRO_BATCH 64

/* Run body MICRO_BATCH times per loop step; the iteration count is the number of bodies. */
#define MICRO_LOOP(st, body)                                                     \
	while (ipcb_gbench_keep_running_batch((st), MICRO_BATCH))                \
		for (int micro_i_ = 0; micro_i_ < MICRO_BATCH; micro_i_++) {     \
			body;                                                    \
		}

/* Register one group. Each returns 0 or the first -errno of ipcb_gbench_register(). */
int ipcb_micro_register_sync(void);
int ipcb_micro_register_atomics(void);
int ipcb_micro_register_syscalls(void);
int ipcb_micro_register_clock(void);
int ipcb_micro_register_ring(void);
int ipcb_micro_register_memcpy(void);
int ipcb_micro_register_process(void);

/* Register every static def in defs[0..n-1]; returns 0 or the first error. */
int ipcb_micro_register_all_of(const struct ipcb_gbench_def *defs, int n);

#endif
