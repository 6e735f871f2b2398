/* SPDX-License-Identifier: MIT */
/* The pool bench's size sweep, shared with the Python Pool counterpart (bench/python.c). */
#ifndef IPCB_BENCH_POOL_H
#define IPCB_BENCH_POOL_H

#include "../harness/run.h"

#define IPCB_POOL_MAX_SIZES 32   /* entries of a pool-size list */

/* The pool sizes of this run, ascending, without duplicates: --pool-sizes, or 1, 2, 4, ...
 * up to 2 x CPUs plus the CPU count. out[] holds IPCB_POOL_MAX_SIZES. Returns the count, or
 * -EINVAL for a list the option check would have refused. */
int ipcb_pool_sizes(const struct ipcb_config *cfg, int *out);

#endif
