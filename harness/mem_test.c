/* SPDX-License-Identifier: MIT */
/*
 * Shared memory tests: request parsing and checking, and that a mapping is zeroed, writable,
 * shared with a forked child, and says which NUMA policy it got (on a one-node machine:
 * none; on a multi-node machine the policy named in the request).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "request.h"
#include "testutil.h"
#include "topo.h"

static void test_parse(void)
{
	static const char *const bad[] = {
		"", "loc", "Local", "local ", "interleave=1", "node", "node=", "node=-1", "node=1x",
		"node=a", "node= 1", "node=+1", "node=99999999999", "nodes=1",
	};
	struct ipcb_mem_req r, keep = { .policy = IPCB_MEM_NODE, .node = 7, .local_cpu = 3 };
	size_t i;

	CHECK(ipcb_mem_parse("local", &r) == 0 && r.policy == IPCB_MEM_LOCAL && r.local_cpu == -1);
	CHECK(ipcb_mem_parse("interleave", &r) == 0 && r.policy == IPCB_MEM_INTERLEAVE);
	CHECK(ipcb_mem_parse("node=0", &r) == 0 && r.policy == IPCB_MEM_NODE && r.node == 0);
	CHECK(ipcb_mem_parse("node=12", &r) == 0 && r.policy == IPCB_MEM_NODE && r.node == 12);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = keep;
		CHECKF(ipcb_mem_parse(bad[i], &r) == -EINVAL, "\"%s\" accepted", bad[i]);
		CHECK(r.node == 7 && r.local_cpu == 3);         /* untouched on failure */
	}
	CHECK(ipcb_mem_parse(NULL, &r) == -EINVAL);
	CHECK(ipcb_mem_parse("local", NULL) == -EINVAL);
}

static void test_check(void)
{
	struct ipcb_mem_req r;
	char why[128];

	CHECK(ipcb_mem_parse("node=99", &r) == 0);
	why[0] = '\0';
	CHECK(ipcb_mem_check(&r, why, sizeof(why)) == -EINVAL);
	CHECKF(strstr(why, "99") != NULL, "why: \"%s\"", why);
	CHECK(ipcb_mem_parse("node=0", &r) == 0 && ipcb_mem_check(&r, why, sizeof(why)) == 0);
	CHECK(ipcb_mem_parse("local", &r) == 0 && ipcb_mem_check(&r, why, sizeof(why)) == 0);
	r.local_cpu = 1 << 20;
	CHECK(ipcb_mem_check(&r, why, sizeof(why)) == -EINVAL && why[0]);
	r.local_cpu = -2;
	CHECK(ipcb_mem_check(&r, why, sizeof(why)) == -EINVAL);
	CHECK(ipcb_mem_parse("interleave", &r) == 0 && ipcb_mem_check(&r, NULL, 0) == 0);
	r.policy = (enum ipcb_mem_policy)42;
	CHECK(ipcb_mem_check(&r, why, sizeof(why)) == -EINVAL);
	CHECK(ipcb_mem_check(NULL, why, sizeof(why)) == -EINVAL);
	CHECK(ipcb_mem_nodes() >= 1);
}

/* Zeroed, writable, and shared with a child across fork. */
static void check_mapping(const char *policy, int local_cpu)
{
	struct ipcb_mem_req r;
	size_t len = 3 * (size_t)sysconf(_SC_PAGESIZE) + 1, i;
	char applied[64];
	unsigned char *p;
	int status = -1, zero = 1;
	pid_t pid;

	CHECK(ipcb_mem_parse(policy, &r) == 0);
	r.local_cpu = local_cpu;
	applied[0] = 'x';
	p = ipcb_mem_alloc(len, &r, applied, sizeof(applied));
	CHECKF(p != NULL, "alloc %s: %s", policy, strerror(errno));
	if (!p)
		return;
	for (i = 0; i < len; i++)
		zero &= p[i] == 0;
	CHECK(zero);

	if (ipcb_mem_nodes() == 1 && numa_available() >= 0)
		CHECKF(!strcmp(applied, "none(single node)"), "%s applied \"%s\"", policy, applied);
	else if (ipcb_mem_nodes() == 1)
		CHECKF(!strcmp(applied, "none(numa unavailable)"), "%s applied \"%s\"", policy, applied);
	else if (r.policy == IPCB_MEM_LOCAL)
		CHECKF(!strncmp(applied, "local:node", 10), "applied \"%s\"", applied);
	else if (r.policy == IPCB_MEM_INTERLEAVE)
		CHECKF(!strncmp(applied, "interleave:", 11), "applied \"%s\"", applied);
	else
		CHECKF(!strncmp(applied, "node:", 5), "applied \"%s\"", applied);

	p[0] = 1;
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* Child: see the parent's write, answer at both ends of the mapping. */
		if (p[0] != 1)
			_exit(2);
		p[1] = 0xab;
		p[len - 1] = 0xcd;
		_exit(0);
	}
	if (pid > 0) {
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
		CHECK(p[1] == 0xab && p[len - 1] == 0xcd);
	}
	ipcb_mem_free(p, len);
}

static void test_alloc(void)
{
	struct ipcb_topo *t = NULL;
	struct ipcb_mem_req r = { .policy = IPCB_MEM_NODE, .node = 99, .local_cpu = -1 };
	char applied[64];
	int cpu = -1;

	if (ipcb_topo_load(&t, NULL) == 0) {
		if (ipcb_topo_pus(t, &cpu, 1) != 1)
			cpu = -1;
		ipcb_topo_free(t);
	}
	CHECK(cpu >= 0);
	check_mapping("local", -1);
	check_mapping("local", cpu);
	check_mapping("interleave", -1);
	check_mapping("node=0", -1);

	errno = 0;
	strcpy(applied, "stale");
	CHECK(ipcb_mem_alloc(4096, &r, applied, sizeof(applied)) == NULL && errno == EINVAL);
	CHECK(applied[0] == '\0');
	r.node = 0;
	errno = 0;
	CHECK(ipcb_mem_alloc(0, &r, applied, sizeof(applied)) == NULL && errno == EINVAL);
	CHECK(ipcb_mem_alloc(4096, NULL, applied, sizeof(applied)) == NULL && errno == EINVAL);
	ipcb_mem_free(NULL, 0);
}


/* ---- where pages are: the pure judgement, on synthetic move_pages answers ---- */

static struct ipcb_mem_want want_of(const char *applied)
{
	struct ipcb_mem_want w;

	CHECKF(ipcb_mem_want_of(applied, &w) == 0, "want of \"%s\"", applied);
	return w;
}

/* Judge status[0..n) of a segment of `of` pages; eff must come out as want_eff. */
static int judge(const char *applied, const int *st, size_t n, size_t of, const char *want_eff,
		 char *why, size_t wlen)
{
	struct ipcb_mem_want w = want_of(applied);
	char eff[256];
	int rc = ipcb_mem_judge(&w, st, n, of, eff, sizeof(eff), why, wlen);

	CHECKF(!strcmp(eff, want_eff), "%s: eff \"%s\", want \"%s\"", applied, eff, want_eff);
	return rc;
}

static void test_want_of(void)
{
	static const char *const bad[] = {
		"", "node:", "node:x", "local:node", "local:nodeA", "interleave:", "interleave:a",
		"interleave:3-1", "interleave:0;", "interleave:0,1", "numa", "node:1x",
	};
	struct ipcb_mem_want w;

	w = want_of("none(single node)");
	CHECK(w.kind == IPCB_MEM_WANT_ANY);
	w = want_of("none(numa unavailable)");
	CHECK(w.kind == IPCB_MEM_WANT_ANY);
	w = want_of("node:3");
	CHECK(w.kind == IPCB_MEM_WANT_NODE && w.node == 3);
	w = want_of("local:node1");
	CHECK(w.kind == IPCB_MEM_WANT_NODE && w.node == 1);
	w = want_of("interleave:0;2-4");
	CHECK(w.kind == IPCB_MEM_WANT_INTERLEAVE && w.nnodes == 4 && w.nodes[0] == 0 &&
	      w.nodes[1] == 2 && w.nodes[3] == 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(ipcb_mem_want_of(bad[i], &w) == -EINVAL, "\"%s\" accepted", bad[i]);
	CHECK(ipcb_mem_want_of("interleave:0-99", &w) == -EINVAL);   /* more than the set holds */
	CHECK(ipcb_mem_want_of(NULL, &w) == -EINVAL);
}

static void test_judge(void)
{
	int st[64];
	char why[256];
	size_t i;

	/* node=1 honoured on a two-node machine. */
	for (i = 0; i < 64; i++)
		st[i] = 1;
	CHECK(judge("node:1", st, 64, 64, "node1:64/64", why, sizeof(why)) == 0 && !why[0]);
	CHECK(judge("local:node1", st, 64, 64, "node1:64/64", why, sizeof(why)) == 0);

	/* node=1 missed: three pages went to node 0. FAILED naming both. */
	st[5] = st[6] = st[40] = 0;
	CHECK(judge("node:1", st, 64, 64, "node0:3/64,node1:61/64", why, sizeof(why)) == -ERANGE);
	CHECKF(strstr(why, "asked node1") && strstr(why, "node0:3/64,node1:61/64"), "why \"%s\"",
	       why);

	/* A clean interleave over two nodes, page by page. */
	for (i = 0; i < 64; i++)
		st[i] = (int)(i % 2);
	CHECK(judge("interleave:0-1", st, 64, 64, "node0:32/64,node1:32/64", why,
		    sizeof(why)) == 0);
	/* Uneven but fair enough (a node ran short): 40/24 passes, at least 16 each. */
	for (i = 0; i < 64; i++)
		st[i] = i < 40 ? 0 : 1;
	CHECK(judge("interleave:0-1", st, 64, 64, "node0:40/64,node1:24/64", why,
		    sizeof(why)) == 0);
	/* Skewed: 60/4 is under half the fair share of node 1. */
	for (i = 0; i < 64; i++)
		st[i] = i < 60 ? 0 : 1;
	CHECK(judge("interleave:0-1", st, 64, 64, "node0:60/64,node1:4/64", why, sizeof(why)) ==
	      -ERANGE);
	CHECKF(strstr(why, "interleave over node0,1") && strstr(why, "node1:4/64"),
	       "why \"%s\"", why);
	/* One node holding them all. */
	for (i = 0; i < 64; i++)
		st[i] = 0;
	CHECK(judge("interleave:0-1", st, 64, 64, "node0:64/64", why, sizeof(why)) == -ERANGE);
	/* A page on a node outside the set. */
	for (i = 0; i < 64; i++)
		st[i] = (int)(i % 2);
	st[9] = 2;
	CHECK(judge("interleave:0-1", st, 64, 64, "node0:32/64,node1:31/64,node2:1/64", why,
		    sizeof(why)) == -ERANGE);
	/* One page under an interleave over two nodes: too few pages to spread, not judged. */
	st[0] = 1;
	CHECK(judge("interleave:0-1", st, 1, 1, "node1:1/1", why, sizeof(why)) == 0);

	/* Pages not present (-ENOENT) are counted, not judged; the rest must still be right. */
	for (i = 0; i < 8; i++)
		st[i] = i < 6 ? 1 : -ENOENT;
	CHECK(judge("node:1", st, 8, 8, "node1:6/8,absent:2/8", why, sizeof(why)) == 0);
	st[0] = 0;
	CHECK(judge("node:1", st, 8, 8, "node0:1/8,node1:5/8,absent:2/8", why, sizeof(why)) ==
	      -ERANGE);
	for (i = 0; i < 8; i++)
		st[i] = -ENOENT;
	CHECK(judge("node:1", st, 8, 8, "absent:8/8", why, sizeof(why)) == 0);

	/* A page that cannot be located (-EFAULT: not mapped) fails the check, whatever the want,
	 * and names the page; the placement is not claimed. */
	for (i = 0; i < 8; i++)
		st[i] = 0;
	st[3] = -EFAULT;
	CHECK(judge("none(single node)", st, 8, 8, "", why, sizeof(why)) == -EFAULT);
	CHECKF(strstr(why, "page 3"), "why \"%s\"", why);
	st[3] = -EIO;
	CHECK(judge("node:0", st, 8, 8, "", why, sizeof(why)) == -EIO);

	/* No policy (one node): recorded, never a failure, wherever the pages are. */
	for (i = 0; i < 8; i++)
		st[i] = (int)i % 3;
	CHECK(judge("none(single node)", st, 8, 8, "node0:3/8,node1:3/8,node2:2/8", why,
		    sizeof(why)) == 0);
	/* A sample says so. */
	for (i = 0; i < 8; i++)
		st[i] = 0;
	CHECK(judge("node:0", st, 8, 1000, "node0:8/8(sample of 1000 pages)", why,
		    sizeof(why)) == 0);
	CHECK(ipcb_mem_judge(NULL, st, 8, 8, NULL, 0, NULL, 0) == -EINVAL);
}

/* The real thing on this machine: node=0 and local, pages asked of the kernel. */
static void test_verify(void)
{
	long page = sysconf(_SC_PAGESIZE);
	static const char *const policies[] = { "node=0", "local", "interleave" };
	struct ipcb_mem_req r;
	char applied[96], eff[160], want[64], why[256];
	size_t len = 37 * (size_t)page;
	void *p;

	for (size_t k = 0; k < sizeof(policies) / sizeof(policies[0]); k++) {
		CHECK(ipcb_mem_parse(policies[k], &r) == 0);
		p = ipcb_mem_alloc(len, &r, applied, sizeof(applied));
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECKF(ipcb_mem_verify(p, len, applied, eff, sizeof(eff), why, sizeof(why)) == 0,
		       "%s: %s", policies[k], why);
		if (ipcb_mem_nodes() == 1 && numa_available() >= 0) {
			/* One node: every page there, trivially, and said so. */
			CHECKF(!strcmp(eff, "node0:37/37"), "%s: eff \"%s\"", policies[k], eff);
		} else if (r.policy == IPCB_MEM_NODE) {
			snprintf(want, sizeof(want), "node0:37/37");
			CHECKF(!strcmp(eff, want), "%s: eff \"%s\"", policies[k], eff);
		} else if (numa_available() < 0) {
			CHECKF(!strncmp(eff, "unverified(", 11), "eff \"%s\"", eff);
		}
		ipcb_mem_free(p, len);
	}

	/* A segment bigger than the limit is sampled, and says so. */
	size_t big = ((size_t)IPCB_MEM_VERIFY_PAGES + 100) * (size_t)page;
	CHECK(ipcb_mem_parse("node=0", &r) == 0);
	p = ipcb_mem_alloc(big, &r, applied, sizeof(applied));
	CHECK(p != NULL);
	if (p && numa_available() >= 0) {
		CHECK(ipcb_mem_verify(p, big, applied, eff, sizeof(eff), why, sizeof(why)) == 0);
		snprintf(want, sizeof(want), "node0:%d/%d(sample of %d pages)",
			 IPCB_MEM_VERIFY_PAGES, IPCB_MEM_VERIFY_PAGES, IPCB_MEM_VERIFY_PAGES + 100);
		CHECKF(!strcmp(eff, want), "eff \"%s\", want \"%s\"", eff, want);
	}
	ipcb_mem_free(p, big);

	/* Untouched pages of a plain mapping are absent, not misplaced. */
	p = mmap(NULL, 4 * (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED && numa_available() >= 0) {
		((char *)p)[0] = 1;
		CHECK(ipcb_mem_verify(p, 4 * (size_t)page, "node:0", eff, sizeof(eff), why,
				      sizeof(why)) == 0);
		CHECKF(!strcmp(eff, "node0:1/4,absent:3/4"), "eff \"%s\"", eff);
		(void)munmap(p, 4 * (size_t)page);
	}
	CHECK(ipcb_mem_verify(NULL, 4096, "node:0", eff, sizeof(eff), why, sizeof(why)) == -EINVAL);
	CHECK(ipcb_mem_verify(&r, 4096, "bogus", eff, sizeof(eff), why, sizeof(why)) == -EINVAL);
}

/* A misplaced segment goes through the request rule: FAILED naming both, or recorded once per
 * segment under --allow-clamp. */
static void test_rule(void)
{
	struct ipcb_chan ch;
	const char *miss = "asked node1, pages on node0:64/64";

	memset(&ch, 0, sizeof(ch));
	CHECK(ipcb_request_mismatch(&ch, "--mem (ring)", miss) == -ERANGE);
	CHECKF(strstr(ch.why, "--mem (ring)") && strstr(ch.why, miss), "why \"%s\"", ch.why);
	CHECK(!ch.clamped[0]);

	memset(&ch, 0, sizeof(ch));
	ch.allow_clamp = 1;
	CHECK(ipcb_request_mismatch(&ch, "--mem (ctl)", miss) == 0 && !ch.why[0]);
	CHECK(ipcb_request_mismatch(&ch, "--mem (ctl)", miss) == 0);
	CHECK(ipcb_request_mismatch(&ch, "--mem (ring)", miss) == 0);
	CHECKF(!strcmp(ch.clamped, "--mem (ctl): asked node1, pages on node0:64/64; "
		       "--mem (ring): asked node1, pages on node0:64/64"), "clamped \"%s\"",
	       ch.clamped);

	/* The whole path on a real segment here: placed as asked, nothing recorded. */
	struct ipcb_mem_req r;
	char applied[96], eff[96];
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	memset(&ch, 0, sizeof(ch));
	CHECK(ipcb_mem_parse("node=0", &r) == 0);
	p = ipcb_mem_alloc(8 * (size_t)page, &r, applied, sizeof(applied));
	CHECK(p != NULL);
	if (p && numa_available() >= 0) {
		CHECKF(ipcb_request_mem(&ch, "--mem (ctl)", p, 8 * (size_t)page, applied, eff,
					sizeof(eff)) == 0, "%s", ch.why);
		CHECKF(!strcmp(eff, "node0:8/8") && !ch.clamped[0] && !ch.why[0], "eff \"%s\"",
		       eff);
	}
	ipcb_mem_free(p, 8 * (size_t)page);
	/* Pages that cannot be located fail, with the reason, under --allow-clamp too. */
	ch.allow_clamp = 1;
	CHECK(ipcb_request_mem(&ch, "--mem (ctl)", NULL, 4096, "node:0", eff,
			       sizeof(eff)) == -EINVAL);
	CHECKF(strstr(ch.why, "cannot verify"), "why \"%s\"", ch.why);
}

int main(void)
{
	test_parse();
	test_check();
	test_alloc();
	test_want_of();
	test_judge();
	test_verify();
	test_rule();
	return TEST_END();
}
