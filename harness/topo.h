/* SPDX-License-Identifier: MIT */
/*
 * Machine topology (hwloc, loaded once) and placement policies.
 *
 * CPUs are named everywhere by their OS index (what taskset and sched_getcpu() use). Only
 * PUs this process is allowed to run on count (the cgroup cpuset / taskset mask), so a run
 * under `taskset -c 1` sees one CPU. A synthetic topology string (hwloc syntax, e.g.
 * "pack:2 numa:2 l3:2 core:4 pu:2") replaces the machine for tests; binding is then refused.
 */
#ifndef IPCB_TOPO_H
#define IPCB_TOPO_H

#include <stddef.h>
#include <stdio.h>

struct ipcb_topo;

/* Load this machine (synthetic == NULL) or a synthetic description. Returns 0 or -errno
 * (-EINVAL for a bad synthetic string); *out is set only on success. */
int ipcb_topo_load(struct ipcb_topo **out, const char *synthetic);
void ipcb_topo_free(struct ipcb_topo *t);

/* Number of allowed PUs, and their OS indexes in hwloc logical order (close PUs adjacent).
 * ipcb_topo_pus returns the count written (<= max). */
int ipcb_topo_npus(const struct ipcb_topo *t);
int ipcb_topo_pus(const struct ipcb_topo *t, int *os_idx, int max);
/* 1 if the OS index names an allowed PU, else 0. */
int ipcb_topo_has_pu(const struct ipcb_topo *t, int os_idx);
/* Keep only the listed PUs (OS indexes), as if the process had started with that CPU mask:
 * counts, orders and placements then cover those PUs only. Returns 0, -EINVAL (empty list or
 * a CPU that is not an allowed PU; nothing changed) or -ENOMEM (free the topology). */
int ipcb_topo_restrict(struct ipcb_topo *t, const int *cpus, int n);

/* Counts for metadata and `topo`. */
struct ipcb_topo_info {
	int packages, cores, pus, numa_nodes;
	int l1d_kib, l2_kib, l3_kib;   /* size of the first cache of each level, 0 if unknown */
	int l3_count;
	char cpu_model[128];           /* from hwloc's CPUModel info, "" if unknown */
	int synthetic;                 /* 1 for a synthetic topology */
};
void ipcb_topo_info(const struct ipcb_topo *t, struct ipcb_topo_info *out);

/* Human-readable description: packages, cores, PUs, caches, NUMA nodes, one line per PU
 * with its core/L3/package/NUMA node. */
void ipcb_topo_print(const struct ipcb_topo *t, FILE *f);

/* Relation of two PUs, nearest first. */
enum ipcb_relation {
	IPCB_REL_SAME_PU, IPCB_REL_SMT, IPCB_REL_L2, IPCB_REL_L3,
	IPCB_REL_PACKAGE, IPCB_REL_NUMA, IPCB_REL_OTHER_PACKAGE,
};
enum ipcb_relation ipcb_topo_relation(const struct ipcb_topo *t, int cpu_a, int cpu_b);
const char *ipcb_relation_name(enum ipcb_relation r);
#define IPCB_NREL (IPCB_REL_OTHER_PACKAGE + 1)

/* One representative pair of allowed PUs per relation present on the machine, nearest
 * first: pairs[k] = { a, b } with relation rels[k]. The first PU in logical order is
 * paired with the nearest PU of each relation (same PU: itself), so every class is
 * measured from the same CPU. Returns the number of classes (<= IPCB_NREL). */
int ipcb_topo_class_pairs(const struct ipcb_topo *t, int pairs[][2], enum ipcb_relation *rels);

/* Bind the calling process (thread == 0) or thread (thread == 1) to one PU (OS index).
 * Returns 0 or -errno; on failure writes "cpuset 0x..., flags ...: <strerror>" into err. */
int ipcb_topo_bind(const struct ipcb_topo *t, int os_idx, int thread, char *err, size_t errlen);

/*
 * Placement: choose CPUs for n workers. A policy returns the OS indexes of n PUs in
 * cpus[0..n-1]. When n exceeds the allowed PUs, CPUs are reused round-robin in the same
 * order (oversubscription; the caller decides whether that is allowed).
 *   compact: PUs in logical order (fill a core's SMT siblings, then the next core, ...)
 *   scatter: spread as far apart as possible (one per package, then per NUMA node, per L3,
 *            per core, before reusing a core's siblings) -- hwloc_distrib.
 */
struct ipcb_placement {
	const char *name, *summary;
	int (*place)(const struct ipcb_topo *t, int n, int *cpus);
};
const struct ipcb_placement *ipcb_placement_find(const char *name);
extern const struct ipcb_placement *const ipcb_placements[];   /* NULL-terminated */

/* Parse a CPU list ("0,2,4-7", duplicates allowed: "0,0") into cpus[]; returns the count,
 * or -EINVAL for bad syntax, -E2BIG when more than max entries. */
int ipcb_cpulist_parse(const char *s, int *cpus, int max);
/* Format cpus[0..n-1] as "0;1;1" (semicolons: safe inside a CSV field). */
void ipcb_cpulist_format(const int *cpus, int n, char *buf, size_t len);

/* The hwloc_topology_t, for modules that need hwloc directly (mem.c). */
void *ipcb_topo_hwloc(const struct ipcb_topo *t);

#endif
