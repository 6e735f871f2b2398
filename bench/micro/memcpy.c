// SPDX-License-Identifier: MIT
/*
 * memcpy at the message sizes the transports move (64 B .. 1 MiB, the sizes of --sizes):
 * the copy a shared-memory transport cannot avoid, and the one a kernel transport makes
 * twice. Source and destination are 64-byte aligned and stay warm in the cache while they
 * fit, so this is the best case; the destination escapes, so no copy can be dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "micro.h"

static void bm_memcpy(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	size_t n = (size_t)ipcb_gbench_range(st, 0);
	char *src = aligned_alloc(64, n), *dst = aligned_alloc(64, n);

	(void)def;
	if (!src || !dst) {
		ipcb_gbench_fail(st, "out of memory");
		goto out;
	}
	memset(src, 0x5a, n);
	memset(dst, 0, n);
	ipcb_gbench_escape(src);
	ipcb_gbench_escape(dst);
	while (ipcb_gbench_keep_running(st)) {
		memcpy(dst, src, n);
		ipcb_gbench_clobber_memory();
	}
	if (dst[n - 1] != 0x5a)
		ipcb_gbench_fail(st, "the copy did not arrive");
	ipcb_gbench_set_bytes_processed(st, (int64_t)(ipcb_gbench_iterations(st) * n));
out:
	free(src);
	free(dst);
}

static const struct ipcb_gbench_def defs[] = {
	{ .name = "memcpy",
	  .run = bm_memcpy,
	  .args = { { .name = "bytes", .lo = 64, .hi = 1 << 20 } },
	  .nargs = 1,
	  .range_multiplier = 4 },
};

int ipcb_micro_register_memcpy(void)
{
	return ipcb_micro_register_all_of(defs, (int)(sizeof(defs) / sizeof(defs[0])));
}
