/* SPDX-License-Identifier: MIT */
/*
 * Topology and placement tests. Placement is checked on synthetic machines against answers
 * worked out by hand from the hwloc description (OS index == logical index unless the
 * string says otherwise); binding is checked on this machine, whatever its CPU mask (the
 * test must pass on 1 CPU and under `taskset -c 1`).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "topo.h"

/* 2 packages x 2 NUMA nodes x 2 L3 x 4 cores x 2 PUs: 64 PUs, 32 cores, 8 L3, 4 nodes. */
#define BIG "pack:2 numa:2 l3:2 core:4 pu:2"

static int same_ints(const int *a, const int *b, int n)
{
	return !memcmp(a, b, (size_t)n * sizeof(*a));
}

static struct ipcb_topo *load(const char *syn)
{
	struct ipcb_topo *t = NULL;
	int rc = ipcb_topo_load(&t, syn);

	CHECKF(rc == 0 && t, "load \"%s\": %d", syn ? syn : "(machine)", rc);
	return rc ? NULL : t;
}

/* Every pair in cpus[0..n-1] is at least as far apart as rel. */
static int pairs_at_least(const struct ipcb_topo *t, const int *cpus, int n, enum ipcb_relation rel)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (ipcb_topo_relation(t, cpus[i], cpus[j]) < rel)
				return 0;
	return 1;
}

static int place(const struct ipcb_topo *t, const char *policy, int n, int *cpus)
{
	const struct ipcb_placement *p = ipcb_placement_find(policy);

	return p ? p->place(t, n, cpus) : -ENOENT;
}

static void test_big_counts(void)
{
	struct ipcb_topo *t = load(BIG);
	struct ipcb_topo_info in;
	int pus[64], i;

	if (!t)
		return;
	CHECK(ipcb_topo_npus(t) == 64);
	ipcb_topo_info(t, &in);
	CHECK(in.packages == 2);
	CHECK(in.numa_nodes == 4);
	CHECK(in.l3_count == 8);
	CHECK(in.cores == 32);
	CHECK(in.pus == 64);
	CHECK(in.synthetic == 1);
	CHECK(in.l3_kib > 0);           /* hwloc gives synthetic caches a default size */
	CHECK(in.l2_kib == 0);          /* no L2 level in the description */

	CHECK(ipcb_topo_pus(t, pus, 64) == 64);
	for (i = 0; i < 64; i++)
		CHECKF(pus[i] == i, "pus[%d] = %d", i, pus[i]);
	CHECK(ipcb_topo_pus(t, pus, 3) == 3);
	CHECK(ipcb_topo_pus(t, pus, 0) == 0);
	CHECK(ipcb_topo_has_pu(t, 0) && ipcb_topo_has_pu(t, 63));
	CHECK(!ipcb_topo_has_pu(t, 64) && !ipcb_topo_has_pu(t, -1));
	CHECK(ipcb_topo_hwloc(t) != NULL);
	ipcb_topo_free(t);
}

static void test_big_relations(void)
{
	struct ipcb_topo *t = load(BIG);

	if (!t)
		return;
	CHECK(ipcb_topo_relation(t, 5, 5) == IPCB_REL_SAME_PU);
	CHECK(ipcb_topo_relation(t, 0, 1) == IPCB_REL_SMT);          /* one core */
	CHECK(ipcb_topo_relation(t, 1, 0) == IPCB_REL_SMT);
	CHECK(ipcb_topo_relation(t, 0, 2) == IPCB_REL_L3);           /* cores of one L3 */
	CHECK(ipcb_topo_relation(t, 0, 7) == IPCB_REL_L3);
	CHECK(ipcb_topo_relation(t, 0, 8) == IPCB_REL_PACKAGE);      /* other L3, same node */
	CHECK(ipcb_topo_relation(t, 0, 16) == IPCB_REL_NUMA);        /* other node, same package */
	CHECK(ipcb_topo_relation(t, 31, 24) == IPCB_REL_L3);
	CHECK(ipcb_topo_relation(t, 31, 16) == IPCB_REL_PACKAGE);    /* L3s of one node */
	CHECK(ipcb_topo_relation(t, 0, 32) == IPCB_REL_OTHER_PACKAGE);
	CHECK(ipcb_topo_relation(t, 63, 0) == IPCB_REL_OTHER_PACKAGE);
	CHECK(ipcb_topo_relation(t, 0, 999) == IPCB_REL_OTHER_PACKAGE); /* unknown: farthest */
	CHECK(!strcmp(ipcb_relation_name(IPCB_REL_SMT), "smt"));
	CHECK(!strcmp(ipcb_relation_name(IPCB_REL_OTHER_PACKAGE), "other-package"));
	CHECK(!strcmp(ipcb_relation_name((enum ipcb_relation)99), "unknown"));
	ipcb_topo_free(t);
}

static void test_big_placement(void)
{
	static const int compact4[] = { 0, 1, 2, 3 };
	static const int scatter8[] = { 0, 32, 16, 48, 8, 40, 24, 56 };
	struct ipcb_topo *t = load(BIG);
	int cpus[130], seen[64] = { 0 }, i, ok;

	if (!t)
		return;
	CHECK(place(t, "compact", 4, cpus) == 0 && same_ints(cpus, compact4, 4));
	CHECK(ipcb_topo_relation(t, cpus[0], cpus[1]) == IPCB_REL_SMT);

	CHECK(place(t, "scatter", 2, cpus) == 0);
	CHECK(ipcb_topo_relation(t, cpus[0], cpus[1]) == IPCB_REL_OTHER_PACKAGE);
	CHECK(place(t, "scatter", 4, cpus) == 0);
	CHECKF(pairs_at_least(t, cpus, 4, IPCB_REL_NUMA), "4 workers on 4 NUMA nodes");
	CHECK(place(t, "scatter", 8, cpus) == 0 && same_ints(cpus, scatter8, 8));
	CHECKF(pairs_at_least(t, cpus, 8, IPCB_REL_PACKAGE), "8 workers on 8 L3s");
	CHECK(place(t, "scatter", 32, cpus) == 0);
	CHECKF(pairs_at_least(t, cpus, 32, IPCB_REL_L3), "32 workers on 32 cores");
	CHECK(place(t, "scatter", 64, cpus) == 0);
	for (i = 0; i < 64; i++)
		if (cpus[i] >= 0 && cpus[i] < 64)
			seen[cpus[i]]++;
	for (ok = 1, i = 0; i < 64; i++)
		ok &= seen[i] == 1;
	CHECKF(ok, "scatter of 64 is a permutation of the 64 PUs");

	/* Oversubscription wraps round-robin over the same order. */
	CHECK(place(t, "scatter", 65, cpus) == 0 && cpus[64] == cpus[0]);
	CHECK(place(t, "compact", 130, cpus) == 0);
	CHECK(cpus[64] == 0 && cpus[65] == 1 && cpus[128] == 0 && cpus[129] == 1);

	CHECK(place(t, "compact", 0, cpus) == -EINVAL);
	CHECK(place(t, "scatter", -1, cpus) == -EINVAL);
	ipcb_topo_free(t);
}

/* Linux-style numbering: SMT siblings are n apart, so logical order != OS order. */
static void test_os_numbering(void)
{
	static const int compact4[] = { 0, 4, 1, 5 };
	static const int scatter8[] = { 0, 2, 1, 3, 4, 6, 5, 7 };
	struct ipcb_topo *t = load("pack:2 core:2 pu:2(indexes=0,4,1,5,2,6,3,7)");
	int cpus[8], pus[8];

	if (!t)
		return;
	CHECK(ipcb_topo_pus(t, pus, 8) == 8 && pus[1] == 4 && pus[7] == 7);
	CHECK(place(t, "compact", 4, cpus) == 0 && same_ints(cpus, compact4, 4));
	CHECK(place(t, "scatter", 8, cpus) == 0 && same_ints(cpus, scatter8, 8));
	CHECK(ipcb_topo_relation(t, 0, 4) == IPCB_REL_SMT);
	CHECK(ipcb_topo_relation(t, 0, 1) == IPCB_REL_PACKAGE);
	CHECK(ipcb_topo_relation(t, 4, 2) == IPCB_REL_OTHER_PACKAGE);
	ipcb_topo_free(t);
}

static void test_caches_and_l2(void)
{
	struct ipcb_topo *t =
		load("pack:1 l3:1(size=32MiB) l2:2(size=1MiB) l1d:1(size=48KiB) core:1 pu:2");
	struct ipcb_topo_info in;

	if (!t)
		return;
	ipcb_topo_info(t, &in);
	CHECKF(in.l1d_kib == 48 && in.l2_kib == 1024 && in.l3_kib == 32768,
	       "l1d %d l2 %d l3 %d", in.l1d_kib, in.l2_kib, in.l3_kib);
	CHECK(in.l3_count == 1 && in.cores == 2 && in.pus == 4 && in.packages == 1);
	CHECK(in.numa_nodes == 1);
	CHECK(ipcb_topo_relation(t, 0, 1) == IPCB_REL_SMT);
	CHECK(ipcb_topo_relation(t, 0, 2) == IPCB_REL_L3);  /* one L2 per core here */
	ipcb_topo_free(t);

	/* Two cores behind one L2. */
	t = load("pack:1 l3:1 l2:2 core:2 pu:2");
	if (!t)
		return;
	CHECK(ipcb_topo_relation(t, 0, 2) == IPCB_REL_L2);
	CHECK(ipcb_topo_relation(t, 0, 4) == IPCB_REL_L3);
	ipcb_topo_free(t);

	/* No packages, no caches: nodes still separate PUs. */
	t = load("numa:2 core:2 pu:1");
	if (!t)
		return;
	ipcb_topo_info(t, &in);
	CHECK(in.packages == 0 && in.l3_count == 0 && in.l1d_kib == 0 && in.numa_nodes == 2);
	CHECK(ipcb_topo_relation(t, 0, 1) == IPCB_REL_PACKAGE);
	CHECK(ipcb_topo_relation(t, 0, 2) == IPCB_REL_NUMA);
	ipcb_topo_free(t);
}

/* An uneven allowed set: 3 PUs in package 0, 1 in package 1. */
static void test_restricted(void)
{
	static const int keep[] = { 0, 1, 2, 4 };
	struct ipcb_topo *t = load("pack:2 core:4 pu:1");
	int cpus[8], bad = 3;

	if (!t)
		return;
	CHECK(ipcb_topo_restrict(t, keep, 4) == 0);
	CHECK(ipcb_topo_npus(t) == 4);
	CHECK(!ipcb_topo_has_pu(t, 3) && ipcb_topo_has_pu(t, 4));
	CHECK(place(t, "compact", 4, cpus) == 0 && same_ints(cpus, keep, 4));
	CHECK(place(t, "scatter", 2, cpus) == 0);
	CHECKF(ipcb_topo_relation(t, cpus[0], cpus[1]) == IPCB_REL_OTHER_PACKAGE,
	       "scatter on an uneven machine uses both packages: %d %d", cpus[0], cpus[1]);
	CHECK(ipcb_topo_restrict(t, &bad, 1) == -EINVAL);   /* already gone */
	CHECK(ipcb_topo_restrict(t, keep, 0) == -EINVAL);
	CHECK(ipcb_topo_npus(t) == 4);
	ipcb_topo_free(t);
}

static void test_load_errors(void)
{
	static char sentinel;
	struct ipcb_topo *t = (struct ipcb_topo *)&sentinel;  /* untouched on failure */
	char err[256];

	CHECK(ipcb_topo_load(&t, "pack:2 bogus:3") == -EINVAL);
	CHECK(ipcb_topo_load(&t, "") == -EINVAL);
	CHECK(ipcb_topo_load(&t, "pack:0 pu:1") == -EINVAL);
	CHECK(t == (struct ipcb_topo *)&sentinel);
	CHECK(ipcb_topo_load(NULL, BIG) == -EINVAL);

	t = load(BIG);
	if (!t)
		return;
	err[0] = '\0';
	CHECK(ipcb_topo_bind(t, 0, 0, err, sizeof(err)) == -ENOTSUP);
	CHECK(err[0] != '\0');
	CHECK(ipcb_topo_bind(t, 0, 1, err, sizeof(err)) == -ENOTSUP);
	ipcb_topo_free(t);
	ipcb_topo_free(NULL);
}

static void test_print(void)
{
	struct ipcb_topo *t = load(BIG);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int lines = 0;
	char *p;

	if (!t)
		return;
	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	if (f) {
		ipcb_topo_print(t, f);
		fclose(f);
		for (p = buf; p && *p; p++)
			lines += *p == '\n';
		CHECKF(lines == 5 + 64, "%d lines", lines);
		CHECK(strstr(buf, "synthetic") && strstr(buf, "2 packages") && strstr(buf, "4 NUMA nodes"));
		free(buf);
	}
	ipcb_topo_free(t);
}

static void test_registry(void)
{
	int i, j;

	CHECK(ipcb_placement_find("compact") && ipcb_placement_find("scatter"));
	CHECK(ipcb_placement_find("bogus") == NULL && ipcb_placement_find(NULL) == NULL);
	for (i = 0; ipcb_placements[i]; i++) {
		CHECK(ipcb_placements[i]->name && ipcb_placements[i]->summary && ipcb_placements[i]->place);
		CHECK(ipcb_placement_find(ipcb_placements[i]->name) == ipcb_placements[i]);
		for (j = 0; j < i; j++)
			CHECK(strcmp(ipcb_placements[i]->name, ipcb_placements[j]->name));
	}
	CHECK(i >= 2);
}

static void test_cpulist(void)
{
	static const int want[] = { 0, 2, 4, 5, 6, 7 };
	static const char *const bad[] = {
		"", "a", "3-1", "-1", "1,,2", "1,", ",1", "1-", "1-2-3", "1 ", " 1", "+1",
		"1;2", "0x1", "1048577", "99999999999999999999", "2-1048577", "0,2a",
	};
	int cpus[8], trio[] = { 0, 1, 1 }, big[] = { 10, 11 };
	char buf[32];
	size_t i;

	CHECK(ipcb_cpulist_parse("0,2,4-7", cpus, 8) == 6 && same_ints(cpus, want, 6));
	CHECK(ipcb_cpulist_parse("0,0", cpus, 8) == 2 && cpus[0] == 0 && cpus[1] == 0);
	CHECK(ipcb_cpulist_parse("5", cpus, 8) == 1 && cpus[0] == 5);
	CHECK(ipcb_cpulist_parse("3-3", cpus, 8) == 1 && cpus[0] == 3);
	CHECK(ipcb_cpulist_parse("1048576", cpus, 8) == 1 && cpus[0] == 1 << 20);
	CHECK(ipcb_cpulist_parse("007", cpus, 8) == 1 && cpus[0] == 7);
	CHECK(ipcb_cpulist_parse("0-3", cpus, 4) == 4);
	CHECK(ipcb_cpulist_parse("0-7", cpus, 4) == -E2BIG);
	CHECK(ipcb_cpulist_parse("0", cpus, 0) == -E2BIG);
	CHECK(ipcb_cpulist_parse("0-7,a", cpus, 4) == -EINVAL);  /* syntax wins */
	CHECK(ipcb_cpulist_parse(NULL, cpus, 4) == -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(ipcb_cpulist_parse(bad[i], cpus, 8) == -EINVAL, "\"%s\" accepted", bad[i]);

	ipcb_cpulist_format(trio, 3, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0;1;1"));
	ipcb_cpulist_format(trio, 0, buf, sizeof(buf));
	CHECK(!strcmp(buf, ""));
	ipcb_cpulist_format(big, 2, buf, 5);          /* "10;11" needs 6 bytes */
	CHECK(!strcmp(buf, "10"));
	ipcb_cpulist_format(big, 2, buf, 1);
	CHECK(!strcmp(buf, ""));
	/* Round trip through the CSV form. */
	ipcb_cpulist_format(want, 6, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0;2;4;5;6;7"));
}

/* The real machine: what we may run on is exactly the affinity mask, and binding works. */
static void test_machine(void)
{
	struct ipcb_topo *t = load(NULL);
	struct ipcb_topo_info in;
	cpu_set_t mask, now;
	int pus[CPU_SETSIZE], n, i, rc, ok, outside = -1;
	char err[256];

	if (!t)
		return;
	CHECK(sched_getaffinity(0, sizeof(mask), &mask) == 0);
	n = ipcb_topo_pus(t, pus, CPU_SETSIZE);
	CHECKF(n == CPU_COUNT(&mask), "topology sees %d PUs, affinity mask has %d", n, CPU_COUNT(&mask));
	for (ok = 1, i = 0; i < n; i++)
		ok &= pus[i] >= 0 && pus[i] < CPU_SETSIZE && CPU_ISSET(pus[i], &mask);
	CHECK(ok);
	for (i = 0; i < CPU_SETSIZE && outside < 0; i++)
		if (!CPU_ISSET(i, &mask))
			outside = i;
	if (outside >= 0)
		CHECK(!ipcb_topo_has_pu(t, outside));
	ipcb_topo_info(t, &in);
	CHECK(in.pus == n && in.synthetic == 0 && in.packages >= 1 && in.numa_nodes >= 1);
	CHECK(in.cores >= 1 && in.cores <= n);

	for (i = 0; i < n; i++) {
		rc = ipcb_topo_bind(t, pus[i], 0, err, sizeof(err));
		CHECKF(rc == 0, "bind process to %d: %s", pus[i], err);
		CHECKF(sched_getcpu() == pus[i], "process bound to %d runs on %d", pus[i], sched_getcpu());
		rc = ipcb_topo_bind(t, pus[n - 1 - i], 1, err, sizeof(err));
		CHECKF(rc == 0, "bind thread to %d: %s", pus[n - 1 - i], err);
		CHECK(sched_getcpu() == pus[n - 1 - i]);
		CHECK(sched_getaffinity(0, sizeof(now), &now) == 0 && CPU_COUNT(&now) == 1);
		CHECK(ipcb_topo_relation(t, pus[i], pus[i]) == IPCB_REL_SAME_PU);
	}
	if (outside >= 0) {
		err[0] = '\0';
		CHECK(ipcb_topo_bind(t, outside, 0, err, sizeof(err)) == -EINVAL && err[0]);
	}
	CHECK(ipcb_topo_bind(t, 1 << 20, 0, err, sizeof(err)) == -EINVAL);
	CHECK(place(t, "scatter", n, pus) == 0 && place(t, "compact", n + 1, pus) == 0);
	CHECK(sched_setaffinity(0, sizeof(mask), &mask) == 0);   /* undo our binding */
	ipcb_topo_free(t);
}

/* --placement classes on a 2-package NUMA machine: one pair per relation, nearest first,
 * each pair really of its class, all measured from the same first CPU. */
static void test_class_pairs(void)
{
	/* two L3s per NUMA node: same node, other L3 is "package" (same package, same node) */
	static const enum ipcb_relation want[] = { IPCB_REL_SAME_PU, IPCB_REL_SMT, IPCB_REL_L3,
						   IPCB_REL_PACKAGE, IPCB_REL_NUMA,
						   IPCB_REL_OTHER_PACKAGE };
	struct ipcb_topo *t = load(BIG);
	int pairs[IPCB_NREL][2], n;
	enum ipcb_relation rels[IPCB_NREL];

	if (!t)
		return;
	n = ipcb_topo_class_pairs(t, pairs, rels);
	CHECKF(n == (int)(sizeof(want) / sizeof(want[0])), "%d classes on " BIG, n);
	for (int k = 0; k < n && k < (int)(sizeof(want) / sizeof(want[0])); k++) {
		CHECKF(rels[k] == want[k], "class %d is %s, want %s", k, ipcb_relation_name(rels[k]),
		       ipcb_relation_name(want[k]));
		CHECK(ipcb_topo_relation(t, pairs[k][0], pairs[k][1]) == rels[k]);
		CHECK(pairs[k][0] == pairs[0][0]);
	}
	ipcb_topo_free(t);

	/* one package, one L3, two cores of one PU each: same PU and same L3 only */
	t = load("pack:1 l3:1 core:2 pu:1");
	if (!t)
		return;
	n = ipcb_topo_class_pairs(t, pairs, rels);
	CHECK(n == 2 && rels[0] == IPCB_REL_SAME_PU && pairs[0][0] == pairs[0][1]);
	CHECK(n == 2 && rels[1] == IPCB_REL_L3 && pairs[1][0] != pairs[1][1]);
	ipcb_topo_free(t);
}

int main(void)
{
	test_class_pairs();
	test_big_counts();
	test_big_relations();
	test_big_placement();
	test_os_numbering();
	test_caches_and_l2();
	test_restricted();
	test_load_errors();
	test_print();
	test_registry();
	test_cpulist();
	test_machine();
	return TEST_END();
}
