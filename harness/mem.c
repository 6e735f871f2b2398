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
#include <stdlib.h>
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

/* ---- where the pages really are ---- */

/* "0;2-3" (nodes_format's form) into w->nodes. */
static int nodes_parse(const char *s, struct ipcb_mem_want *w)
{
	long a, b;
	char *end;

	w->nnodes = 0;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		a = strtol(s, &end, 10);
		b = a;
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			b = strtol(s, &end, 10);
		}
		if (b < a || b > IPCB_MEM_MAX_NODE)
			return -EINVAL;
		for (long i = a; i <= b; i++) {
			if (w->nnodes >= IPCB_MEM_WANT_MAX)
				return -EINVAL;
			w->nodes[w->nnodes++] = (int)i;
		}
		if (*end == ';' && end[1])
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	return w->nnodes ? 0 : -EINVAL;
}

static int node_parse(const char *s, int *node)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*end || v > IPCB_MEM_MAX_NODE)
		return -EINVAL;
	*node = (int)v;
	return 0;
}

int ipcb_mem_want_of(const char *applied, struct ipcb_mem_want *w)
{
	if (!applied || !w)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	if (!strncmp(applied, "none(", 5)) {
		w->kind = IPCB_MEM_WANT_ANY;
		return 0;
	}
	if (!strncmp(applied, "node:", 5)) {
		w->kind = IPCB_MEM_WANT_NODE;
		return node_parse(applied + 5, &w->node);
	}
	if (!strncmp(applied, "local:node", 10)) {
		w->kind = IPCB_MEM_WANT_NODE;
		return node_parse(applied + 10, &w->node);
	}
	if (!strncmp(applied, "interleave:", 11)) {
		w->kind = IPCB_MEM_WANT_INTERLEAVE;
		return nodes_parse(applied + 11, w);
	}
	return -EINVAL;
}

static void want_format(const struct ipcb_mem_want *w, char *buf, size_t len)
{
	size_t off;

	if (w->kind == IPCB_MEM_WANT_NODE) {
		snprintf(buf, len, "node%d", w->node);
		return;
	}
	if (w->kind == IPCB_MEM_WANT_ANY) {
		snprintf(buf, len, "any node");
		return;
	}
	off = (size_t)snprintf(buf, len, "interleave over node");
	for (int i = 0; i < w->nnodes && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? "," : "", w->nodes[i]);
}

static int want_has(const struct ipcb_mem_want *w, int node)
{
	for (int i = 0; i < w->nnodes; i++)
		if (w->nodes[i] == node)
			return 1;
	return 0;
}

int ipcb_mem_judge(const struct ipcb_mem_want *w, const int *status, size_t n, size_t of,
		   char *eff, size_t elen, char *why, size_t wlen)
{
	size_t absent = 0, present, off = 0, *count, fair;
	int maxnode = -1, bad = -1, err = 0;
	char want[128];
	int k;

	why_set(why, wlen, 0, "%s", "");
	if (eff && elen)
		eff[0] = '\0';
	if (!w || (!status && n))
		return why_set(why, wlen, -EINVAL, "no want or no status");
	for (size_t i = 0; i < n; i++) {
		if (status[i] >= 0) {
			if (status[i] > maxnode)
				maxnode = status[i];
		} else if (status[i] == -ENOENT) {
			absent++;
		} else {
			return why_set(why, wlen, status[i] < -4095 ? -EINVAL : status[i],
				       "cannot locate page %zu of %zu: %s (status %d)", i, n,
				       strerror(-status[i]), status[i]);
		}
	}
	if (maxnode > IPCB_MEM_MAX_NODE)
		return why_set(why, wlen, -EINVAL, "page on node %d: no such node", maxnode);
	present = n - absent;
	count = calloc((size_t)maxnode + 2, sizeof(*count));
	if (!count)
		return why_set(why, wlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (status[i] >= 0)
			count[status[i]]++;

	/* The text: one "nodeN:k/n" per node holding pages, in node order. */
	char buf[256];
	buf[0] = '\0';
	for (int nd = 0; nd <= maxnode && off < sizeof(buf); nd++) {
		if (!count[nd])
			continue;
		k = snprintf(buf + off, sizeof(buf) - off, "%snode%d:%zu/%zu", off ? "," : "", nd,
			     count[nd], n);
		off += k > 0 ? (size_t)k : 0;
	}
	if (absent && off < sizeof(buf)) {
		k = snprintf(buf + off, sizeof(buf) - off, "%sabsent:%zu/%zu", off ? "," : "",
			     absent, n);
		off += k > 0 ? (size_t)k : 0;
	}
	if (n < of && off < sizeof(buf))
		(void)snprintf(buf + off, sizeof(buf) - off, "(sample of %zu pages)", of);
	if (!n)
		snprintf(buf, sizeof(buf), "no pages");
	if (eff && elen)
		snprintf(eff, elen, "%s", buf);

	/* The verdict, on the present pages only. */
	if (w->kind == IPCB_MEM_WANT_NODE) {
		for (int nd = 0; nd <= maxnode && bad < 0; nd++)
			if (count[nd] && nd != w->node)
				bad = nd;
	} else if (w->kind == IPCB_MEM_WANT_INTERLEAVE) {
		for (int nd = 0; nd <= maxnode && bad < 0; nd++)
			if (count[nd] && !want_has(w, nd))
				bad = nd;
		fair = w->nnodes ? present / (size_t)w->nnodes / 2 : 0;
		if (fair < 1)
			fair = 1;
		for (int i = 0; i < w->nnodes && bad < 0 && present >= (size_t)w->nnodes; i++)
			if (w->nodes[i] > maxnode || count[w->nodes[i]] < fair)
				bad = w->nodes[i];
	}
	if (bad >= 0) {
		want_format(w, want, sizeof(want));
		err = why_set(why, wlen, -ERANGE, "asked %s, pages on %s", want, buf);
	}
	free(count);
	return err;
}

int ipcb_mem_verify(const void *p, size_t len, const char *applied, char *eff, size_t elen,
		    char *why, size_t wlen)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ipcb_mem_want w;
	size_t of, n, i, win, gap;
	void **pages;
	int *status, rc;

	why_set(why, wlen, 0, "%s", "");
	if (eff && elen)
		eff[0] = '\0';
	if (!p || !len || ipcb_mem_want_of(applied, &w) < 0)
		return why_set(why, wlen, -EINVAL, "bad segment or applied policy \"%s\"",
			       applied ? applied : "");
	if (page <= 0)
		page = 4096;
	of = (len + (size_t)page - 1) / (size_t)page;
	n = of <= IPCB_MEM_VERIFY_PAGES ? of : IPCB_MEM_VERIFY_PAGES;
	if (!numa_ok()) {
		if (eff && elen)
			snprintf(eff, elen, "unverified(numa unavailable)");
		return 0;
	}
	pages = calloc(n, sizeof(*pages));
	status = calloc(n, sizeof(*status));
	if (!pages || !status) {
		free(pages);
		free(status);
		return why_set(why, wlen, -ENOMEM, "out of memory");
	}
	if (n == of) {
		for (i = 0; i < n; i++)
			pages[i] = (char *)p + i * (size_t)page;
	} else {
		/* Windows of consecutive pages, the first at the start, the last at the end. */
		win = n / IPCB_MEM_VERIFY_WINDOWS;
		gap = (of - win) / (IPCB_MEM_VERIFY_WINDOWS - 1);
		for (i = 0; i < n; i++)
			pages[i] = (char *)p + ((i / win) * gap + i % win) * (size_t)page;
	}
	/* Query mode: nodes = NULL moves nothing and writes each page's node into status. */
	rc = numa_move_pages(0, (unsigned long)n, pages, NULL, status, 0);
	if (rc < 0) {
		if (eff && elen)
			snprintf(eff, elen, "unverified(move_pages: %s)", strerror(errno));
		rc = 0;
	} else {
		rc = ipcb_mem_judge(&w, status, n, of, eff, elen, why, wlen);
	}
	free(pages);
	free(status);
	return rc;
}
