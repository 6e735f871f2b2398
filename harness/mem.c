/* SPDX-License-Identifier: MIT */
/*
 * Shared memory for cases: one anonymous MAP_SHARED mapping per segment, inherited by every
 * forked worker, with no name to leak or clean up.
 *
 * NUMA placement uses mbind() from libnuma's numaif.h with node masks built by libnuma,
 * rather than numa_tonode_memory()/numa_interleave_memory(): those return nothing and report
 * failures by printing from inside libnuma, while here a failed mbind must reach the caller
 * as an errno. The policy is set on the still untouched mapping and every page is then
 * written once, so the pages exist where the policy says before any worker starts (for a
 * shared mapping the policy belongs to the shared object, so the children see the same).
 *
 * "Machine has one node" counts the nodes this process may allocate on (libnuma's
 * numa_all_nodes_ptr, i.e. the cpuset's mems), so a run confined to one node records a
 * no-op as well.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <numa.h>
#include <numaif.h>

#include "mem.h"

/* Bigger than any real node number; keeps "node=N" parsing in int range. */
#define IPCB_MEM_MAX_NODE (1 << 20)

int ipcb_mem_parse(const char *s, struct ipcb_mem_req *out)
{
	struct ipcb_mem_req r = { .node = -1, .local_cpu = -1 };
	long v = 0;

	if (!s || !out)
		return -EINVAL;
	if (!strcmp(s, "local")) {
		r.policy = IPCB_MEM_LOCAL;
	} else if (!strcmp(s, "interleave")) {
		r.policy = IPCB_MEM_INTERLEAVE;
	} else if (!strncmp(s, "node=", 5)) {
		s += 5;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (*s - '0');
			if (v > IPCB_MEM_MAX_NODE)
				return -EINVAL;
		}
		if (*s)
			return -EINVAL;
		r.policy = IPCB_MEM_NODE;
		r.node = (int)v;
	} else {
		return -EINVAL;
	}
	*out = r;
	return 0;
}

static int numa_ok(void)
{
	return numa_available() >= 0;
}

int ipcb_mem_nodes(void)
{
	int n;

	if (!numa_ok() || !numa_all_nodes_ptr)
		return 1;
	n = (int)numa_bitmask_weight(numa_all_nodes_ptr);
	return n > 0 ? n : 1;
}

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * A request that cannot work here is refused; one that merely has no effect here (any
 * policy on a machine without NUMA) is accepted. Returns 0 or -EINVAL, why says which.
 */
int ipcb_mem_check(const struct ipcb_mem_req *req, char *why, size_t len)
{
	int ncpus;

	why_set(why, len, 0, "%s", "");
	if (!req)
		return why_set(why, len, -EINVAL, "no request");
	switch (req->policy) {
	case IPCB_MEM_LOCAL:
		if (req->local_cpu < -1)
			return why_set(why, len, -EINVAL, "local: bad cpu %d", req->local_cpu);
		if (req->local_cpu == -1)
			return 0;
		ncpus = numa_ok() ? numa_num_configured_cpus() : (int)sysconf(_SC_NPROCESSORS_CONF);
		if (req->local_cpu >= ncpus)
			return why_set(why, len, -EINVAL, "local: cpu %d does not exist (%d configured)",
				       req->local_cpu, ncpus);
		if (numa_ok() && numa_node_of_cpu(req->local_cpu) < 0)
			return why_set(why, len, -EINVAL, "local: cpu %d has no NUMA node",
				       req->local_cpu);
		return 0;
	case IPCB_MEM_INTERLEAVE:
		return 0;
	case IPCB_MEM_NODE:
		if (req->node < 0)
			return why_set(why, len, -EINVAL, "node=%d: bad node number", req->node);
		if (!numa_ok())
			return req->node == 0 ? 0 :
			       why_set(why, len, -EINVAL,
				       "node=%d: no such node (NUMA unavailable, only node 0)", req->node);
		if (req->node > numa_max_node())
			return why_set(why, len, -EINVAL, "node=%d: no such node (highest is %d)",
				       req->node, numa_max_node());
		if (!numa_all_nodes_ptr || !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)req->node))
			return why_set(why, len, -EINVAL,
				       "node=%d: not allowed for this process or has no memory", req->node);
		return 0;
	}
	return why_set(why, len, -EINVAL, "unknown memory policy %d", (int)req->policy);
}

/* "0-3" or "0;2-3" (semicolons: the string lands in a CSV field). */
static void nodes_format(const struct bitmask *m, char *buf, size_t len)
{
	unsigned long i, j;
	size_t off = 0;
	int k;

	buf[0] = '\0';
	for (i = 0; i < m->size; i++) {
		if (!numa_bitmask_isbitset(m, (unsigned)i))
			continue;
		for (j = i; j + 1 < m->size && numa_bitmask_isbitset(m, (unsigned)(j + 1)); j++)
			;
		if (j == i)
			k = snprintf(buf + off, len - off, "%s%lu", off ? ";" : "", i);
		else
			k = snprintf(buf + off, len - off, "%s%lu-%lu", off ? ";" : "", i, j);
		if (k < 0 || (size_t)k >= len - off)
			return;
		off += (size_t)k;
		i = j;
	}
}

/* Set the policy on [p, p+len). Returns 0 or -errno; what receives the applied policy. */
static int mem_policy(void *p, size_t len, const struct ipcb_mem_req *req, char *what, size_t wlen)
{
	struct bitmask *mask;
	int node, cpu, err = 0;
	char nodes[64];

	if (!numa_ok()) {
		snprintf(what, wlen, "none(numa unavailable)");
		return 0;
	}
	if (ipcb_mem_nodes() <= 1) {
		snprintf(what, wlen, "none(single node)");
		return 0;
	}
	if (req->policy == IPCB_MEM_INTERLEAVE) {
		if (mbind(p, len, MPOL_INTERLEAVE, numa_all_nodes_ptr->maskp,
			  numa_all_nodes_ptr->size + 1, 0) < 0)
			return errno ? -errno : -EINVAL;
		nodes_format(numa_all_nodes_ptr, nodes, sizeof(nodes));
		snprintf(what, wlen, "interleave:%s", nodes);
		return 0;
	}

	if (req->policy == IPCB_MEM_NODE) {
		node = req->node;
	} else {
		cpu = req->local_cpu >= 0 ? req->local_cpu : sched_getcpu();
		if (cpu < 0)
			return errno ? -errno : -EINVAL;
		node = numa_node_of_cpu(cpu);
		if (node < 0)
			return -EINVAL;
	}
	mask = numa_allocate_nodemask();
	if (!mask)
		return -ENOMEM;
	numa_bitmask_setbit(mask, (unsigned)node);
	if (mbind(p, len, MPOL_BIND, mask->maskp, mask->size + 1, 0) < 0)
		err = errno ? -errno : -EINVAL;
	numa_bitmask_free(mask);
	if (err)
		return err;
	if (req->policy == IPCB_MEM_NODE)
		snprintf(what, wlen, "node:%d", node);
	else
		snprintf(what, wlen, "local:node%d", node);
	return 0;
}

/*
 * Errors (NULL, errno): EINVAL (len 0, no request, or a request ipcb_mem_check refuses),
 * ENOMEM and the other mmap errors, or what mbind reported.
 */
void *ipcb_mem_alloc(size_t len, const struct ipcb_mem_req *req, char *applied, size_t alen)
{
	char what[96] = "";
	long page = sysconf(_SC_PAGESIZE);
	volatile char *v;
	size_t off;
	void *p;
	int err;

	if (applied && alen)
		applied[0] = '\0';
	if (!len || !req || ipcb_mem_check(req, NULL, 0)) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	err = mem_policy(p, len, req, what, sizeof(what));
	if (err) {
		(void)munmap(p, len);
		errno = -err;
		return NULL;
	}
	/* Fault every page in now, under the policy, rather than inside a measured loop. */
	if (page <= 0)
		page = 4096;
	v = p;
	for (off = 0; off < len; off += (size_t)page)
		v[off] = 0;
	if (applied && alen)
		snprintf(applied, alen, "%s", what);
	return p;
}

void ipcb_mem_free(void *p, size_t len)
{
	if (p && len)
		(void)munmap(p, len);
}
