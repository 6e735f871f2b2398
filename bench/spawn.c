// SPDX-License-Identifier: MIT
/*
 * Spawn cost: how long it takes to start a unit of execution and see it finish.
 *
 * One worker (the "parent" of this bench) starts a child and waits for it, again and again;
 * one operation is the whole cycle, measured from just before the call that creates the
 * child to just after the wait that reaped it:
 *   fork         fork(); the child _exit(0)s; waitpid
 *   vfork        vfork(); the child _exit(0)s (the parent is suspended until then); waitpid
 *   clone-vm     clone(CLONE_VM | SIGCHLD) on a small private stack: a process that shares
 *                the address space, so no page table is copied; waitpid
 *   posix-spawn  posix_spawn() of a tiny program (/bin/true); waitpid
 *   fork-exec    fork(); the child execve()s the tiny program; waitpid
 *   pthread      pthread_create(); the thread returns its argument; pthread_join
 * and fork again (and posix-spawn once, for contrast) while the parent holds 1 MiB, 100 MiB
 * or 1 GiB of private anonymous memory it has written to: fork copies the page tables and
 * takes a reference on every page (the copy-on-write setup), the child's exit drops them, so
 * the cost grows with the parent's resident memory. With huge pages (a hugetlb mapping when
 * the pool has enough free pages, else transparent huge pages via madvise) the same memory
 * is mapped by 512 times fewer entries. A huge-page case is SKIPPED with the reason when
 * neither is available, and FAILS if the kernel gave less than half of the memory as huge
 * pages (the number would not be what its label says); the share obtained is a metric.
 *
 * Every cycle is one histogram sample (spawns take tens of microseconds, far above the
 * clock's cost; ipcb_batch_for() decides, as elsewhere). Slow cycles (fork of 1 GiB) still
 * get at least MIN_SAMPLES samples: the measured window is extended past --duration for
 * them, up to a quarter of the watchdog's timeout.
 *
 * Children inherit the parent's CPU pin, so child and parent share one CPU: the cost
 * includes the switches to the child and back, as it does for a pinned real program.
 * Excluded: allocating and touching the memory (before the start gate), and warm-up.
 * Integrity: every child must exit with status 0 and be reaped exactly once (a thread must
 * return the value it was given); anything else FAILS the case.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/clock.h"
#include "../harness/run.h"
#include "../ipc/transport.h"
#include "pattern.h"

extern char **environ;

#define MIN_SAMPLES 20
#define TINY_PROGRAM "/bin/true"
#define CLONE_STACK_BYTES (64 * 1024)
#define HUGE_2M ((size_t)2 << 20)
#define MIB ((size_t)1 << 20)

enum spawn_kind { K_FORK, K_VFORK, K_CLONE_VM, K_POSIX_SPAWN, K_FORK_EXEC, K_PTHREAD };
static const char *const kind_names[] = { "fork", "vfork", "clone-vm", "posix-spawn",
					  "fork-exec", "pthread" };

enum huge_mode { HUGE_NONE, HUGE_WANTED };

/* The sweep: one case per line. */
static const struct spawn_variant {
	enum spawn_kind kind;
	size_t mem_bytes;         /* touched private memory the parent holds */
	enum huge_mode huge;
} variants[] = {
	{ K_FORK, 0, HUGE_NONE },
	{ K_VFORK, 0, HUGE_NONE },
	{ K_CLONE_VM, 0, HUGE_NONE },
	{ K_POSIX_SPAWN, 0, HUGE_NONE },
	{ K_FORK_EXEC, 0, HUGE_NONE },
	{ K_PTHREAD, 0, HUGE_NONE },
	{ K_FORK, 1 * MIB, HUGE_NONE },
	{ K_FORK, 100 * MIB, HUGE_NONE },
	{ K_FORK, 1024 * MIB, HUGE_NONE },
	{ K_FORK, 100 * MIB, HUGE_WANTED },
	{ K_FORK, 1024 * MIB, HUGE_WANTED },
	{ K_POSIX_SPAWN, 1024 * MIB, HUGE_NONE },
};
#define NVARIANTS ((int)(sizeof(variants) / sizeof(variants[0])))

/* Which huge-page source a case will use: written into params by plan() and read back by
 * the worker from its own case, so the parent's decision is the one applied. */
enum huge_src { SRC_NONE, SRC_HUGETLB, SRC_THP };
static const char *const src_names[] = { "none", "hugetlb", "thp" };

static int spawn_variants(const struct ipcb_config *cfg)
{
	(void)cfg;
	return NVARIANTS;
}

/* A number from /proc/meminfo ("HugePages_Free:", in pages or kB as the file says). */
static long meminfo_value(const char *key)
{
	char line[256];
	long v = -1;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0) {
			v = strtol(line + klen, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled, or "" if unknown. */
static void thp_mode(char *out, size_t len)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	out[0] = 0;
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;
		if (a && b && (size_t)(b - a) < len) {
			memcpy(out, a + 1, (size_t)(b - a - 1));
			out[b - a - 1] = 0;
		}
	}
	fclose(f);
}

/* Decide where huge pages for bytes would come from; SRC_NONE with a reason if nowhere. */
static enum huge_src huge_source(size_t bytes, char *why, size_t len)
{
	long free_pages = meminfo_value("HugePages_Free:");
	long page_kib = meminfo_value("Hugepagesize:");
	char thp[32];

	if (free_pages > 0 && page_kib > 0 &&
	    (size_t)free_pages * (size_t)page_kib * 1024 >= bytes)
		return SRC_HUGETLB;
	thp_mode(thp, sizeof(thp));
	if (strcmp(thp, "always") == 0 || strcmp(thp, "madvise") == 0)
		return SRC_THP;
	snprintf(why, len, "no huge pages: the hugetlb pool has %ld free pages of %ld KiB "
		 "(%zu MiB needed) and transparent huge pages are '%s'", free_pages < 0 ? 0 :
		 free_pages, page_kib < 0 ? 0 : page_kib, bytes / MIB, thp[0] ? thp : "unavailable");
	return SRC_NONE;
}

static void mem_label(size_t bytes, char *buf, size_t len)
{
	if (bytes >= 1024 * MIB && bytes % (1024 * MIB) == 0)
		snprintf(buf, len, "%zuGiB", bytes / (1024 * MIB));
	else
		snprintf(buf, len, "%zuMiB", bytes / MIB);
}

static int spawn_plan(struct ipcb_case *c, char *why, size_t len)
{
	const struct spawn_variant *v;
	enum huge_src src = SRC_NONE;
	size_t l;

	if (c->variant < 0 || c->variant >= NVARIANTS) {
		snprintf(why, len, "spawn: no variant %d", c->variant);
		return -ENOTSUP;
	}
	v = &variants[c->variant];
	c->nworkers = 1;
	c->roles[0] = IPCB_ROLE_A;

	l = strlen(c->label);
	snprintf(c->label + l, sizeof(c->label) - l, " %s", kind_names[v->kind]);
	if (v->mem_bytes) {
		char m[32];
		mem_label(v->mem_bytes, m, sizeof(m));
		l = strlen(c->label);
		snprintf(c->label + l, sizeof(c->label) - l, " %s", m);
	}
	if (v->huge == HUGE_WANTED) {
		char reason[200];
		src = huge_source(v->mem_bytes, reason, sizeof(reason));
		l = strlen(c->label);
		snprintf(c->label + l, sizeof(c->label) - l, " huge");
		if (src == SRC_NONE) {
			snprintf(why, len, "%s", reason);
			return -ENOTSUP;
		}
	}
	l = strlen(c->params);
	snprintf(c->params + l, sizeof(c->params) - l, "%skind=%s;parent_mem_bytes=%zu;huge=%s",
		 l ? ";" : "", kind_names[v->kind], v->mem_bytes, src_names[src]);
#ifdef __SANITIZE_THREAD__
	/* ThreadSanitizer cannot follow a raw clone(CLONE_VM) child: it reports and exits 66. */
	if (v->kind == K_CLONE_VM) {
		snprintf(why, len, "clone-vm is not supported in a ThreadSanitizer build");
		return -ENOTSUP;
	}
#endif
	if (v->kind == K_POSIX_SPAWN || v->kind == K_FORK_EXEC) {
		if (access(TINY_PROGRAM, X_OK) != 0) {
			snprintf(why, len, "spawn: %s is not executable here (%s)", TINY_PROGRAM,
				 strerror(errno));
			return -ENOTSUP;
		}
		l = strlen(c->params);
		snprintf(c->params + l, sizeof(c->params) - l, ";program=%s", TINY_PROGRAM);
	}
	return 0;
}

/* The huge-page source plan() chose, read back from the case's params. */
static enum huge_src case_huge_src(const struct ipcb_case *c)
{
	if (strstr(c->params, "huge=hugetlb"))
		return SRC_HUGETLB;
	if (strstr(c->params, "huge=thp"))
		return SRC_THP;
	return SRC_NONE;
}

/* ---- worker ---- */

struct spawn_state {
	enum spawn_kind kind;
	char *const *argv;
	void *stack;              /* clone-vm child stack (CLONE_STACK_BYTES) */
	uint64_t spawned, reaped_ok;
};

/* Wait for pid; 0 when it exited with status 0, else a reason in the slot. */
static int reap(struct ipcb_wctx *w, struct spawn_state *st, pid_t pid)
{
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, __WALL)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return ipcb_worker_fail(w, -errno, "%s: waitpid(%d) of child %llu",
					kind_names[st->kind], (int)pid,
					(unsigned long long)st->spawned);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		st->reaped_ok++;
		return 0;
	}
	w->slot->corrupt++;
	if (WIFSIGNALED(status))
		return ipcb_worker_fail(w, 0, "%s: child %llu was killed by signal %d",
					kind_names[st->kind], (unsigned long long)st->spawned,
					WTERMSIG(status));
	return ipcb_worker_fail(w, 0, "%s: child %llu exited with code %d%s",
				kind_names[st->kind], (unsigned long long)st->spawned,
				WEXITSTATUS(status), WEXITSTATUS(status) == 127 ?
				" (exec of " TINY_PROGRAM " failed)" : "");
}

/* Kept apart so no local of the caller lives across vfork (gcc's -Wclobbered). */
static pid_t do_vfork(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	return pid;
}

static int clone_child(void *arg)
{
	(void)arg;
	return 0;
}

static void *thread_child(void *arg)
{
	return arg;
}

/* One create + wait cycle. 0, or -errno with the reason in the slot. */
static int spawn_once(struct ipcb_wctx *w, struct spawn_state *st)
{
	pid_t pid;
	int rc;

	st->spawned++;
	switch (st->kind) {
	case K_FORK:
		pid = fork();
		if (pid == 0)
			_exit(0);
		break;
	case K_VFORK:
		pid = do_vfork();
		break;
	case K_CLONE_VM:
		pid = clone(clone_child, (char *)st->stack + CLONE_STACK_BYTES,
			    CLONE_VM | SIGCHLD, NULL);
		break;
	case K_POSIX_SPAWN:
		rc = posix_spawn(&pid, TINY_PROGRAM, NULL, NULL, st->argv, environ);
		if (rc != 0)
			return ipcb_worker_fail(w, -rc, "posix_spawn of %s", TINY_PROGRAM);
		break;
	case K_FORK_EXEC:
		pid = fork();
		if (pid == 0) {
			execve(TINY_PROGRAM, st->argv, environ);
			_exit(127);
		}
		break;
	case K_PTHREAD: {
		pthread_t t;
		void *ret = NULL;
		void *arg = (void *)(uintptr_t)st->spawned;
		rc = pthread_create(&t, NULL, thread_child, arg);
		if (rc != 0)
			return ipcb_worker_fail(w, -rc, "pthread_create %llu",
						(unsigned long long)st->spawned);
		rc = pthread_join(t, &ret);
		if (rc != 0)
			return ipcb_worker_fail(w, -rc, "pthread_join %llu",
						(unsigned long long)st->spawned);
		if (ret != arg) {
			w->slot->corrupt++;
			return ipcb_worker_fail(w, 0, "thread %llu returned %p, not its argument",
						(unsigned long long)st->spawned, ret);
		}
		st->reaped_ok++;
		return 0;
	}
	default:
		return ipcb_worker_fail(w, -EINVAL, "unknown spawn kind %d", (int)st->kind);
	}
	if (pid < 0)
		return ipcb_worker_fail(w, -errno, "%s of child %llu", kind_names[st->kind],
					(unsigned long long)st->spawned);
	return reap(w, st, pid);
}

/* AnonHugePages of this process in bytes, or 0 when unknown. */
static size_t anon_huge_bytes(void)
{
	char line[256];
	size_t kib = 0;
	FILE *f = fopen("/proc/self/smaps_rollup", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "AnonHugePages:", 14) == 0) {
			kib = (size_t)strtoull(line + 14, NULL, 10);
			break;
		}
	fclose(f);
	return kib * 1024;
}

/* The parent's memory: mapped, advised and written page by page before the gate. */
struct held_mem {
	void *map;                /* what munmap gets */
	size_t map_len;
	double huge_share;        /* fraction backed by huge pages (-1: not asked for) */
};

static int hold_memory(struct ipcb_wctx *w, size_t bytes, enum huge_src src, struct held_mem *h)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p;

	h->map = NULL;
	h->map_len = 0;
	h->huge_share = -1;
	if (!bytes)
		return 0;
	if (src == SRC_HUGETLB) {
		h->map_len = (bytes + HUGE_2M - 1) & ~(HUGE_2M - 1);
		p = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			return ipcb_worker_fail(w, -errno, "mmap of %zu MiB of hugetlb pages",
						bytes / MIB);
		h->map = p;
		memset(p, 1, bytes);
		h->huge_share = 1;
		return 0;
	}
	/* THP needs 2 MiB-aligned extents: map 2 MiB more and use the aligned inside. */
	h->map_len = bytes + (src == SRC_THP ? HUGE_2M : 0);
	p = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return ipcb_worker_fail(w, -errno, "mmap of %zu MiB", bytes / MIB);
	h->map = p;
	if (src == SRC_THP) {
		size_t before = anon_huge_bytes();
		char *a = (char *)(((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
		if (madvise(a, bytes, MADV_HUGEPAGE) < 0)
			return ipcb_worker_fail(w, -errno, "madvise(MADV_HUGEPAGE) of %zu MiB",
						bytes / MIB);
		for (size_t off = 0; off < bytes; off += (size_t)page)
			a[off] = 1;
		size_t got = anon_huge_bytes();
		got = got > before ? got - before : 0;
		h->huge_share = (double)got / (double)bytes;
		if (h->huge_share < 0.5)
			return ipcb_worker_fail(w, 0, "transparent huge pages: only %.0f%% of %zu MiB "
						"became huge pages (memory fragmented? see "
						"/sys/kernel/mm/transparent_hugepage/defrag)",
						h->huge_share * 100, bytes / MIB);
		return 0;
	}
	(void)madvise(p, bytes, MADV_NOHUGEPAGE);  /* small pages, whatever THP's default */
	for (size_t off = 0; off < bytes; off += (size_t)page)
		p[off] = 1;
	return 0;
}

static void release_memory(struct held_mem *h)
{
	if (h->map)
		(void)munmap(h->map, h->map_len);
	h->map = NULL;
}

static int spawn_worker(struct ipcb_wctx *w)
{
	const struct ipcb_config *cfg = w->c->cfg;
	const struct spawn_variant *v = &variants[w->c->variant];
	struct ipcb_slot *s = w->slot;
	char arg0[] = "true";
	char *argv[] = { arg0, NULL };
	struct spawn_state st = { .kind = v->kind, .argv = argv };
	struct held_mem mem;
	uint64_t t0, t, n = 0, batch, deadline, cap;
	int rc;

	rc = hold_memory(w, v->mem_bytes, case_huge_src(w->c), &mem);
	if (rc < 0)
		goto out;
	if (v->kind == K_CLONE_VM) {
		st.stack = mmap(NULL, CLONE_STACK_BYTES, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (st.stack == MAP_FAILED) {
			st.stack = NULL;
			rc = ipcb_worker_fail(w, -errno, "clone stack of %d bytes",
					      CLONE_STACK_BYTES);
			goto out;
		}
	}
	rc = ipcb_worker_gate(w);
	if (rc < 0)
		goto out;

	/* Warm-up: at least one cycle, then until warmup_ns has passed. */
	t0 = ipcb_now_ns();
	do {
		if ((rc = spawn_once(w, &st)) < 0)
			goto out;
		n++;
		t = ipcb_now_ns();
	} while (t - t0 < cfg->warmup_ns);
	batch = ipcb_batch_for((double)(t - t0) / (double)n);
	s->ops_per_sample = batch;
	s->u[2] = st.spawned;          /* cycles of the warm-up */

	ipcb_worker_begin(w);
	deadline = s->t_begin_ns + cfg->duration_ns;
	cap = s->t_begin_ns + cfg->timeout_ns / 4;
	t = s->t_begin_ns;
	do {
		t0 = t;
		for (uint64_t b = 0; b < batch; b++)
			if ((rc = spawn_once(w, &st)) < 0)
				goto out;
		t = ipcb_now_ns();
		ipcb_hist_record(&s->hist, (t - t0 + batch / 2) / batch);
		s->msgs += batch;
		if ((s->msgs & 63) == 0)
			ipcb_worker_sample_cpu(w);
	} while (t < cap && (t < deadline || s->hist.count < MIN_SAMPLES));
	ipcb_worker_end(w);
	s->u[0] = st.spawned;
	s->u[1] = st.reaped_ok;
	if (mem.huge_share >= 0) {
		s->u[3] = (uint64_t)(mem.huge_share * 1e6 + 0.5);
		s->u[4] = 1;
	}
	rc = 0;
out:
	if (st.stack)
		(void)munmap(st.stack, CLONE_STACK_BYTES);
	release_memory(&mem);
	return rc == -ECANCELED ? 0 : rc;
}

static int spawn_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			struct ipcb_metrics *m, char *why, size_t len)
{
	const struct ipcb_slot *s = &slots[0];
	double window_s = (double)(s->t_end_ns - s->t_begin_ns) / 1e9;

	if (s->u[0] != s->u[1] || s->corrupt || s->msgs + s->u[2] != s->u[0] || !s->msgs) {
		snprintf(why, len, "integrity: %llu children started, %llu finished cleanly, %llu "
			 "timed + %llu warm-up, %llu bad exits", (unsigned long long)s->u[0],
			 (unsigned long long)s->u[1], (unsigned long long)s->msgs,
			 (unsigned long long)s->u[2], (unsigned long long)s->corrupt);
		return -EPROTO;
	}
	ipcb_metrics_add_hist(m, "spawn", &s->hist, s->ops_per_sample);
	ipcb_metrics_add(m, "spawns", "count", (double)s->msgs, s->hist.count,
			 s->ops_per_sample, 0);
	ipcb_metrics_add(m, "spawns_per_s", "ops/s", window_s > 0 ? (double)s->msgs / window_s : 0,
			 s->hist.count, s->ops_per_sample, 0);
	ipcb_metrics_add(m, "parent_cpu_ns_per_spawn", "ns", (double)(s->utime_ns + s->stime_ns) /
			 (double)s->msgs, 1, 1, 1);
	if (s->u[4])
		ipcb_metrics_add(m, "huge_share", "fraction", (double)s->u[3] / 1e6, 1, 1, 0);
	ipcb_metrics_add(m, "migrations", "count", (double)s->migrations, 1, 1, 1);
	(void)c;
	return 0;
}

const struct ipcb_pattern ipcb_pattern_spawn = {
	.name = "spawn",
	.summary = "cost of fork/vfork/clone/posix_spawn/exec/pthread_create, and of fork with "
		   "1 MiB..1 GiB of parent memory (with and without huge pages)",
	.uses_transport = 0,
	.sized = 0,
	.headline = { "spawn_p50_ns", "spawn_p99_ns", NULL },
	.variants = spawn_variants,
	.plan = spawn_plan,
	.worker = spawn_worker,
	.finish = spawn_finish,
};
