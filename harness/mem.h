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

/*
 * Where a segment's pages should be, as ipcb_mem_alloc applied the policy: anywhere (no
 * policy set: one node, or NUMA unavailable), on one node (node=N, and local, which binds
 * to the node of its CPU), or spread over a set of nodes (interleave).
 */
enum ipcb_mem_want_kind { IPCB_MEM_WANT_ANY, IPCB_MEM_WANT_NODE, IPCB_MEM_WANT_INTERLEAVE };
#define IPCB_MEM_WANT_MAX 64
struct ipcb_mem_want {
	enum ipcb_mem_want_kind kind;
	int node;                        /* WANT_NODE */
	int nnodes;                      /* WANT_INTERLEAVE: nodes[0..nnodes) */
	int nodes[IPCB_MEM_WANT_MAX];
};

/* The want behind an applied string of ipcb_mem_alloc ("node:1", "local:node0",
 * "interleave:0;2-3", "none(...)"). 0, or -EINVAL for a string alloc never writes. */
int ipcb_mem_want_of(const char *applied, struct ipcb_mem_want *w);

/*
 * Judge where pages are against a want. status[0..n) is what move_pages(2) in query mode
 * wrote for n pages (a node number, or -errno); of is the segment's page count (n < of when
 * the pages are a sample). eff receives the placement seen, e.g. "node0:64/64",
 * "node0:32/64,node1:32/64", with ",absent:K/n" for pages not present (-ENOENT: not
 * judged, they are nowhere) and "(sample of OF pages)" when sampled.
 *
 * Returns 0 when the present pages are where the want says: NODE, every one on that node;
 * INTERLEAVE, none outside the set and, when there are at least as many pages as nodes,
 * every node of the set holding at least half its fair share (present/nnodes/2, and at
 * least one page) -- a strict count per node would fail a correct interleave whose node
 * ran short of free memory, while one node holding all or nearly all pages is what a
 * policy that did not take effect looks like. ANY always passes.
 * -ERANGE when they are not (why names the want and the placement seen); -EFAULT or
 * another -errno when a page's status was an error other than -ENOENT (why names the
 * page): the pages could not be located, which is a failure, not a placement.
 */
int ipcb_mem_judge(const struct ipcb_mem_want *w, const int *status, size_t n, size_t of,
		   char *eff, size_t elen, char *why, size_t wlen);

/*
 * Ask the kernel where the pages of [p, p+len) are (numa_move_pages with nodes = NULL, query
 * mode) and judge them against applied (ipcb_mem_alloc's string). Every page is queried up
 * to IPCB_MEM_VERIFY_PAGES pages; a bigger segment is sampled as IPCB_MEM_VERIFY_WINDOWS
 * windows of consecutive pages spread evenly over it (consecutive, because an interleave
 * alternates page by page and an evenly strided sample could land on one node only).
 * Where the query cannot be made (NUMA unavailable, move_pages refused) eff says
 * "unverified(<why>)" and 0 is returned: nothing was seen, so nothing is claimed.
 * Otherwise as ipcb_mem_judge.
 */
#define IPCB_MEM_VERIFY_PAGES 16384
#define IPCB_MEM_VERIFY_WINDOWS 16
int ipcb_mem_verify(const void *p, size_t len, const char *applied, char *eff, size_t elen,
		    char *why, size_t wlen);

#endif
