/* SPDX-License-Identifier: MIT */
/*
 * Shared memory for cases: anonymous MAP_SHARED mappings (inherited across fork, no name to
 * leak), placed on NUMA nodes with libnuma. On a single-node machine, or where libnuma says
 * NUMA is unavailable, placement is a recorded no-op, not an error.
 */
#ifndef IPCB_MEM_H
#define IPCB_MEM_H

#include <stddef.h>

enum ipcb_mem_policy { IPCB_MEM_LOCAL, IPCB_MEM_INTERLEAVE, IPCB_MEM_NODE };

struct ipcb_mem_req {
	enum ipcb_mem_policy policy;
	int node;          /* IPCB_MEM_NODE only */
	int local_cpu;     /* IPCB_MEM_LOCAL: the CPU whose node should hold the pages; -1 = caller's */
};

/* Parse "local", "interleave" or "node=N". Returns 0 or -EINVAL. */
int ipcb_mem_parse(const char *s, struct ipcb_mem_req *out);
/* Check the request against this machine (e.g. node N exists). 0, or -EINVAL with a reason. */
int ipcb_mem_check(const struct ipcb_mem_req *req, char *why, size_t len);

/* Map len bytes of zeroed shared memory and apply the policy (pages are touched so the policy
 * takes effect before workers start). applied receives what really happened, e.g.
 * "local:node0", "interleave:0-3", "none(single node)". Returns the mapping or NULL with errno. */
void *ipcb_mem_alloc(size_t len, const struct ipcb_mem_req *req, char *applied, size_t alen);
void ipcb_mem_free(void *p, size_t len);

/* Number of NUMA nodes libnuma sees (1 when NUMA is unavailable). */
int ipcb_mem_nodes(void);

#endif
