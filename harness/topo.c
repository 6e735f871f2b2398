/* SPDX-License-Identifier: MIT */
/*
 * Machine topology and placement policies, on top of hwloc.
 *
 * The topology is loaded once per run. On the real machine hwloc is told to ignore every PU
 * outside the process CPU binding (RESTRICT_TO_CPUBINDING) on top of its default of ignoring
 * what the cgroup cpuset forbids, so `taskset -c 1 ipcbench ...` sees exactly one PU and every
 * count, placement and relation below is about the CPUs this run may really use. NUMA nodes
 * keep their memory even when none of their CPUs is allowed (memory is still reachable).
 *
 * Two orders are computed at load time and reused by every placement:
 *   logical: hwloc's logical PU order, where close PUs are adjacent (SMT siblings, then the
 *            next core of the same cache, ...): the "compact" policy.
 *   scatter: a deal over the tree: each object hands out its children's PUs in turns, first
 *            PU of every child, then the second of every child, ... Applied recursively this
 *            gives one PU per package first, then one per NUMA node (hwloc puts a Group over
 *            each NUMA node that no other object matches), per L3, per core, and SMT
 *            siblings last. Every prefix of the order is itself spread as far as possible,
 *            so scatter(n) is simply the first n entries. hwloc_distrib() is not used: it
 *            splits n in proportion to the PUs under each child, so on a restricted machine
 *            (3 allowed PUs in one package, 1 in the other) it places both of 2 workers in
 *            the larger package.
 * When n exceeds the allowed PUs both policies wrap round-robin over their order.
 *
 * Binding is not done here for a synthetic topology (it describes no real machine).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

#include "topo.h"

/* Largest CPU number accepted in a CPU list: far above any machine, small enough that a
 * range cannot overflow an int or run for long. */
#define IPCB_CPULIST_MAX_CPU (1 << 20)

struct ipcb_topo {
	hwloc_topology_t h;
	int synthetic;
	int npus;
	int *logical;   /* OS indexes of the allowed PUs, hwloc logical order */
	int *scatter;   /* the same PUs, scatter order (see the file comment) */
};

static int pu_allowed(const struct ipcb_topo *t, hwloc_obj_t pu)
{
	hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(t->h);

	return pu && pu->type == HWLOC_OBJ_PU && hwloc_bitmap_isset(allowed, pu->os_index);
}

static hwloc_obj_t pu_obj(const struct ipcb_topo *t, int os_idx)
{
	hwloc_obj_t pu;

	if (os_idx < 0)
		return NULL;
	pu = hwloc_get_pu_obj_by_os_index(t->h, (unsigned)os_idx);
	return pu_allowed(t, pu) ? pu : NULL;
}

/*
 * Write the allowed PUs below obj into out[] in scatter order; returns the count or -ENOMEM.
 * out must have room for every PU below obj (the weight of its cpuset bounds that).
 */
static int scatter_fill(const struct ipcb_topo *t, hwloc_obj_t obj, int *out)
{
	int *tmp, *start, *count;
	int weight, total = 0, written = 0, round, i, n;

	if (obj->type == HWLOC_OBJ_PU) {
		if (!pu_allowed(t, obj))
			return 0;
		out[0] = (int)obj->os_index;
		return 1;
	}
	if (!obj->arity || !obj->cpuset)
		return 0;
	weight = hwloc_bitmap_weight(obj->cpuset);
	if (weight <= 0)
		return 0;

	tmp = malloc((size_t)weight * sizeof(*tmp));
	start = malloc(obj->arity * sizeof(*start));
	count = malloc(obj->arity * sizeof(*count));
	if (!tmp || !start || !count) {
		total = -ENOMEM;
		goto out;
	}
	for (i = 0; i < (int)obj->arity; i++) {
		n = scatter_fill(t, obj->children[i], tmp + total);
		if (n < 0) {
			total = n;
			goto out;
		}
		start[i] = total;
		count[i] = n;
		total += n;
	}
	/* Deal: the r-th PU of every child before the (r+1)-th of any. */
	for (round = 0; written < total; round++)
		for (i = 0; i < (int)obj->arity; i++)
			if (round < count[i])
				out[written++] = tmp[start[i] + round];
out:
	free(count);
	free(start);
	free(tmp);
	return total;
}

/* (Re)compute the PU orders after a load or a restriction. Returns 0 or -ENOMEM/-ENODEV. */
static int topo_index(struct ipcb_topo *t)
{
	hwloc_obj_t pu = NULL;
	int n = 0, got;

	free(t->logical);
	free(t->scatter);
	t->logical = t->scatter = NULL;
	t->npus = 0;

	while ((pu = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_PU, pu)))
		if (pu_allowed(t, pu))
			n++;
	if (n == 0)
		return -ENODEV;
	t->logical = calloc((size_t)n, sizeof(*t->logical));
	/* scatter_fill bounds its output by cpuset weight, which can exceed n when the root
	 * cpuset holds disallowed bits; size for the larger of the two. */
	got = hwloc_bitmap_weight(hwloc_get_root_obj(t->h)->cpuset);
	t->scatter = calloc((size_t)(got > n ? got : n), sizeof(*t->scatter));
	if (!t->logical || !t->scatter)
		return -ENOMEM;

	n = 0;
	while ((pu = hwloc_get_next_obj_by_type(t->h, HWLOC_OBJ_PU, pu)))
		if (pu_allowed(t, pu))
			t->logical[n++] = (int)pu->os_index;
	got = scatter_fill(t, hwloc_get_root_obj(t->h), t->scatter);
	if (got < 0)
		return got;
	if (got != n)           /* a PU outside the tree walk: should not happen */
		return -EIO;
	t->npus = n;
	return 0;
}

/*
 * Load this machine (synthetic == NULL) or a synthetic hwloc description.
 * Returns 0, -EINVAL (bad synthetic string), -ENOMEM, -ENODEV (no usable PU) or another
 * -errno from hwloc.
 */
int ipcb_topo_load(struct ipcb_topo **out, const char *synthetic)
{
	struct ipcb_topo *t;
	unsigned long flags;
	int err;

	if (!out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	errno = 0;
	if (hwloc_topology_init(&t->h) < 0) {
		err = errno ? -errno : -ENOMEM;
		free(t);
		return err;
	}
	if (synthetic) {
		t->synthetic = 1;
		if (hwloc_topology_set_synthetic(t->h, synthetic) < 0) {
			err = -EINVAL;
			goto fail;
		}
	} else {
		/* Allowed PUs only (hwloc's default: no INCLUDE_DISALLOWED), further limited to
		 * our CPU binding; never let discovery move us to another CPU. */
		flags = HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM |
			HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING |
			HWLOC_TOPOLOGY_FLAG_DONT_CHANGE_BINDING;
		errno = 0;
		if (hwloc_topology_set_flags(t->h, flags) < 0) {
			err = errno ? -errno : -EINVAL;
			goto fail;
		}
	}
	/* Data caches, cores, packages, NUMA nodes; no I/O, no instruction caches. */
	(void)hwloc_topology_set_io_types_filter(t->h, HWLOC_TYPE_FILTER_KEEP_NONE);
	(void)hwloc_topology_set_icache_types_filter(t->h, HWLOC_TYPE_FILTER_KEEP_NONE);
	errno = 0;
	if (hwloc_topology_load(t->h) < 0) {
		err = errno ? -errno : -EINVAL;
		goto fail;
	}
	err = topo_index(t);
	if (err)
		goto fail;
	*out = t;
	return 0;
fail:
	ipcb_topo_free(t);
	return err;
}

void ipcb_topo_free(struct ipcb_topo *t)
{
	if (!t)
		return;
	if (t->h)
		hwloc_topology_destroy(t->h);
	free(t->scatter);
	free(t->logical);
	free(t);
}

/*
 * Restrict to the listed PUs with hwloc_topology_restrict() (NUMA nodes that lose their CPUs
 * keep their memory, as at load time); for a --cpus option and for testing placement on
 * uneven machines. Errors as in topo.h; on -ENOMEM hwloc may have emptied the topology.
 */
int ipcb_topo_restrict(struct ipcb_topo *t, const int *cpus, int n)
{
	hwloc_bitmap_t set;
	int i, err = 0;

	if (!t || !cpus || n < 1)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!pu_obj(t, cpus[i]))
			return -EINVAL;
	set = hwloc_bitmap_alloc();
	if (!set)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (hwloc_bitmap_set(set, (unsigned)cpus[i]) < 0) {
			err = -ENOMEM;
			goto out;
		}
	errno = 0;
	if (hwloc_topology_restrict(t->h, set, 0) < 0) {
		err = errno ? -errno : -EINVAL;
		goto out;
	}
	err = topo_index(t);
out:
	hwloc_bitmap_free(set);
	return err;
}

int ipcb_topo_npus(const struct ipcb_topo *t)
{
	return t->npus;
}

int ipcb_topo_pus(const struct ipcb_topo *t, int *os_idx, int max)
{
	int n = t->npus < max ? t->npus : max;

	if (n <= 0)
		return 0;
	memcpy(os_idx, t->logical, (size_t)n * sizeof(*os_idx));
	return n;
}

int ipcb_topo_has_pu(const struct ipcb_topo *t, int os_idx)
{
	return pu_obj(t, os_idx) != NULL;
}

void *ipcb_topo_hwloc(const struct ipcb_topo *t)
{
	return t->h;
}

/* Number of objects of a type, 0 when absent (or spread over several depths: Groups). */
static int count_type(const struct ipcb_topo *t, hwloc_obj_type_t type)
{
	int n = hwloc_get_nbobjs_by_type(t->h, type);

	return n > 0 ? n : 0;
}

static int cache_kib(const struct ipcb_topo *t, hwloc_obj_type_t type)
{
	hwloc_obj_t c = hwloc_get_obj_by_type(t->h, type, 0);

	return c && c->attr ? (int)(c->attr->cache.size / 1024) : 0;
}

void ipcb_topo_info(const struct ipcb_topo *t, struct ipcb_topo_info *out)
{
	hwloc_obj_t pkg;
	const char *model = NULL;

	memset(out, 0, sizeof(*out));
	out->packages = count_type(t, HWLOC_OBJ_PACKAGE);
	out->cores = count_type(t, HWLOC_OBJ_CORE);
	out->pus = t->npus;
	out->numa_nodes = count_type(t, HWLOC_OBJ_NUMANODE);
	out->l1d_kib = cache_kib(t, HWLOC_OBJ_L1CACHE);
	out->l2_kib = cache_kib(t, HWLOC_OBJ_L2CACHE);
	out->l3_kib = cache_kib(t, HWLOC_OBJ_L3CACHE);
	out->l3_count = count_type(t, HWLOC_OBJ_L3CACHE);
	pkg = hwloc_get_obj_by_type(t->h, HWLOC_OBJ_PACKAGE, 0);
	if (pkg)
		model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
	if (!model)
		model = hwloc_obj_get_info_by_name(hwloc_get_root_obj(t->h), "CPUModel");
	if (model)
		snprintf(out->cpu_model, sizeof(out->cpu_model), "%s", model);
	out->synthetic = t->synthetic;
}

/*
 * The NUMA node local to a PU: in hwloc 2 nodes hang as memory children of the smallest CPU
 * object covering them, so the nearest ancestor with memory children holds it.
 */
static hwloc_obj_t pu_numa(hwloc_obj_t pu)
{
	hwloc_obj_t anc, m;

	for (anc = pu->parent; anc; anc = anc->parent) {
		for (m = anc->memory_first_child; m; m = m->memory_first_child)
			if (m->type == HWLOC_OBJ_NUMANODE)
				return m;
	}
	return NULL;
}

static void print_idx(FILE *f, hwloc_obj_t o, int os, int width)
{
	if (o)
		fprintf(f, " %*u", width, os ? o->os_index : o->logical_index);
	else
		fprintf(f, " %*s", width, "-");
}

static const char *plural(int n)
{
	return n == 1 ? "" : "s";
}

void ipcb_topo_print(const struct ipcb_topo *t, FILE *f)
{
	struct ipcb_topo_info in;
	hwloc_obj_t pu;
	int i;

	ipcb_topo_info(t, &in);
	fprintf(f, "machine: %s%s\n", in.cpu_model[0] ? in.cpu_model : "(unknown CPU model)",
		in.synthetic ? " (synthetic)" : "");
	fprintf(f, "  %d package%s, %d core%s, %d PU%s allowed, %d NUMA node%s\n",
		in.packages, plural(in.packages), in.cores, plural(in.cores),
		in.pus, plural(in.pus), in.numa_nodes, plural(in.numa_nodes));
	fprintf(f, "  caches: L1d %d KiB, L2 %d KiB, L3 %d KiB x %d\n",
		in.l1d_kib, in.l2_kib, in.l3_kib, in.l3_count);
	fprintf(f, "  cpu: OS index; core, l2, l3, package: logical index; numa: OS index\n");
	fprintf(f, "  %5s %5s %4s %4s %7s %4s\n", "cpu", "core", "l2", "l3", "package", "numa");
	for (i = 0; i < t->npus; i++) {
		pu = hwloc_get_pu_obj_by_os_index(t->h, (unsigned)t->logical[i]);
		if (!pu)
			continue;
		fprintf(f, "  %5d", t->logical[i]);
		print_idx(f, hwloc_get_ancestor_obj_by_type(t->h, HWLOC_OBJ_CORE, pu), 0, 5);
		print_idx(f, hwloc_get_ancestor_obj_by_type(t->h, HWLOC_OBJ_L2CACHE, pu), 0, 4);
		print_idx(f, hwloc_get_ancestor_obj_by_type(t->h, HWLOC_OBJ_L3CACHE, pu), 0, 4);
		print_idx(f, hwloc_get_ancestor_obj_by_type(t->h, HWLOC_OBJ_PACKAGE, pu), 0, 7);
		print_idx(f, pu_numa(pu), 1, 4);
		fputc('\n', f);
	}
}

/*
 * Walk up from the deepest common ancestor: the first core, L2, L3 or package met names the
 * relation. Inside one package (or on a machine without package objects) two PUs with
 * different local NUMA nodes are IPCB_REL_NUMA. A CPU that is not an allowed PU is treated
 * as the farthest possible (IPCB_REL_OTHER_PACKAGE).
 */
enum ipcb_relation ipcb_topo_relation(const struct ipcb_topo *t, int cpu_a, int cpu_b)
{
	hwloc_obj_t a = pu_obj(t, cpu_a), b = pu_obj(t, cpu_b), c;
	int same_pkg = 0;

	if (!a || !b)
		return IPCB_REL_OTHER_PACKAGE;
	if (a == b)
		return IPCB_REL_SAME_PU;
	for (c = hwloc_get_common_ancestor_obj(t->h, a, b); c; c = c->parent) {
		if (c->type == HWLOC_OBJ_CORE || c->type == HWLOC_OBJ_L1CACHE)
			return IPCB_REL_SMT;
		if (c->type == HWLOC_OBJ_L2CACHE)
			return IPCB_REL_L2;
		if (c->type == HWLOC_OBJ_L3CACHE)
			return IPCB_REL_L3;
		if (c->type == HWLOC_OBJ_PACKAGE) {
			same_pkg = 1;
			break;
		}
	}
	if (!same_pkg && count_type(t, HWLOC_OBJ_PACKAGE) > 0)
		return IPCB_REL_OTHER_PACKAGE;
	return pu_numa(a) == pu_numa(b) ? IPCB_REL_PACKAGE : IPCB_REL_NUMA;
}

const char *ipcb_relation_name(enum ipcb_relation r)
{
	switch (r) {
	case IPCB_REL_SAME_PU:       return "same-pu";
	case IPCB_REL_SMT:           return "smt";
	case IPCB_REL_L2:            return "l2";
	case IPCB_REL_L3:            return "l3";
	case IPCB_REL_PACKAGE:       return "package";
	case IPCB_REL_NUMA:          return "numa";
	case IPCB_REL_OTHER_PACKAGE: return "other-package";
	}
	return "unknown";
}

static void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Bind with hwloc_set_cpubind() after checking hwloc supports binding this process/thread.
 * STRICT is asked for first; if the OS cannot do strict binding (ENOSYS/EXDEV) the plain
 * binding is used (on Linux affinity is always strict, so this is for other systems).
 * Returns 0, -ENOTSUP (synthetic topology, or binding unsupported here), -EINVAL (not an
 * allowed PU), or the -errno of the failed call.
 */
int ipcb_topo_bind(const struct ipcb_topo *t, int os_idx, int thread, char *err, size_t errlen)
{
	const struct hwloc_topology_support *sup;
	hwloc_obj_t pu;
	int flags, rc, e;
	char *set = NULL;

	err_set(err, errlen, "%s", "");
	if (t->synthetic) {
		err_set(err, errlen, "cpu %d: synthetic topology, binding refused", os_idx);
		return -ENOTSUP;
	}
	pu = pu_obj(t, os_idx);
	if (!pu) {
		err_set(err, errlen, "cpu %d: not an allowed PU of this process", os_idx);
		return -EINVAL;
	}
	sup = hwloc_topology_get_support(t->h);
	if (!sup || !sup->cpubind ||
	    !(thread ? sup->cpubind->set_thisthread_cpubind : sup->cpubind->set_thisproc_cpubind)) {
		err_set(err, errlen, "cpu %d: hwloc cannot bind the current %s on this system",
			os_idx, thread ? "thread" : "process");
		return -ENOTSUP;
	}
	flags = (thread ? HWLOC_CPUBIND_THREAD : HWLOC_CPUBIND_PROCESS) | HWLOC_CPUBIND_STRICT;
	errno = 0;
	rc = hwloc_set_cpubind(t->h, pu->cpuset, flags);
	if (rc < 0 && (errno == ENOSYS || errno == EXDEV)) {
		flags &= ~HWLOC_CPUBIND_STRICT;
		errno = 0;
		rc = hwloc_set_cpubind(t->h, pu->cpuset, flags);
	}
	if (rc == 0)
		return 0;

	e = errno ? errno : EINVAL;
	if (hwloc_bitmap_asprintf(&set, pu->cpuset) < 0)
		set = NULL;
	err_set(err, errlen, "cpuset %s, flags %s%s: %s", set ? set : "?",
		thread ? "THREAD" : "PROCESS", flags & HWLOC_CPUBIND_STRICT ? "|STRICT" : "",
		strerror(e));
	free(set);
	return -e;
}

/* ---- placement policies ---- */

static int place_args(const struct ipcb_topo *t, int n, const int *cpus)
{
	if (!t || !cpus || n < 1)
		return -EINVAL;
	return t->npus > 0 ? 0 : -ENODEV;
}

static int compact_place(const struct ipcb_topo *t, int n, int *cpus)
{
	int i, err = place_args(t, n, cpus);

	if (err)
		return err;
	for (i = 0; i < n; i++)
		cpus[i] = t->logical[i % t->npus];
	return 0;
}

static int scatter_place(const struct ipcb_topo *t, int n, int *cpus)
{
	int i, err = place_args(t, n, cpus);

	if (err)
		return err;
	for (i = 0; i < n; i++)
		cpus[i] = t->scatter[i % t->npus];
	return 0;
}

static const struct ipcb_placement placement_compact = {
	.name = "compact",
	.summary = "PUs in logical order: a core's SMT siblings, then the next core, cache, package",
	.place = compact_place,
};

static const struct ipcb_placement placement_scatter = {
	.name = "scatter",
	.summary = "as far apart as possible: one per package, NUMA node, L3, core, then siblings",
	.place = scatter_place,
};

const struct ipcb_placement *const ipcb_placements[] = {
	&placement_compact,
	&placement_scatter,
	NULL,
};

const struct ipcb_placement *ipcb_placement_find(const char *name)
{
	int i;

	if (!name)
		return NULL;
	for (i = 0; ipcb_placements[i]; i++)
		if (!strcmp(ipcb_placements[i]->name, name))
			return ipcb_placements[i];
	return NULL;
}

/* ---- CPU lists ---- */

/* One decimal number, digits only (no sign, no blanks), at most IPCB_CPULIST_MAX_CPU. */
static int parse_cpu(const char **sp, int *out)
{
	const char *s = *sp;
	long v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > IPCB_CPULIST_MAX_CPU)
			return -EINVAL;
	}
	*out = (int)v;
	*sp = s;
	return 0;
}

/*
 * Grammar: item (',' item)*, item = cpu | cpu '-' cpu with first <= last. The whole string is
 * checked before -E2BIG is decided, so a syntax error always wins.
 */
int ipcb_cpulist_parse(const char *s, int *cpus, int max)
{
	long count = 0;
	int lo, hi, c, err;

	if (!s || max < 0 || (!cpus && max > 0))
		return -EINVAL;
	for (;;) {
		err = parse_cpu(&s, &lo);
		if (err)
			return err;
		hi = lo;
		if (*s == '-') {
			s++;
			err = parse_cpu(&s, &hi);
			if (err)
				return err;
			if (hi < lo)
				return -EINVAL;
		}
		for (c = lo; c <= hi; c++, count++)
			if (count < max)
				cpus[count] = c;
		if (*s == '\0')
			break;
		if (*s != ',')
			return -EINVAL;
		s++;
	}
	if (count > max)
		return -E2BIG;
	return (int)count;
}

/* Whole entries only: a list that does not fit in buf is cut after the last entry that does. */
void ipcb_cpulist_format(const int *cpus, int n, char *buf, size_t len)
{
	char item[16];
	size_t off = 0;
	int i, k;

	if (!buf || !len)
		return;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(item, sizeof(item), "%s%d", i ? ";" : "", cpus[i]);
		if (k < 0 || off + (size_t)k >= len)
			break;
		memcpy(buf + off, item, (size_t)k + 1);
		off += (size_t)k;
	}
}

int ipcb_topo_class_pairs(const struct ipcb_topo *t, int pairs[][2], enum ipcb_relation *rels)
{
	int found[IPCB_NREL] = { 0 }, n = 0;

	if (t->npus < 1)
		return 0;
	/* The relation to PU 0 of every PU, in logical order: the nearest of each class first. */
	for (int i = 0; i < t->npus; i++) {
		enum ipcb_relation r = ipcb_topo_relation(t, t->logical[0], t->logical[i]);
		if (r >= 0 && r < IPCB_NREL && !found[r]) {
			found[r] = 1;
			pairs[r][0] = t->logical[0];
			pairs[r][1] = t->logical[i];
		}
	}
	for (int r = 0; r < IPCB_NREL; r++)
		if (found[r]) {
			pairs[n][0] = pairs[r][0];
			pairs[n][1] = pairs[r][1];
			rels[n++] = (enum ipcb_relation)r;
		}
	return n;
}
