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
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
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

int main(void)
{
	test_parse();
	test_check();
	test_alloc();
	return TEST_END();
}
