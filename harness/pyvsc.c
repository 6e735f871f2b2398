/* SPDX-License-Identifier: MIT */
/*
 * The pairing table of Python's multiprocessing against ipcbench's C (see pyvsc.h), and
 * the matching of a run's cases against it.
 *
 * Each entry names a Python case by selector (mech, fixed params items, an item it must
 * not have, smallest worker count) and its C counterpart (bench, mech, mode, fixed items),
 * the metric both report under the same name, and what must agree between the two cases:
 * the message size, the worker count, the CPUs (where the CPU relation changes the number:
 * a round trip between two cores is not one within a core), and the params keys that the
 * two sides sweep alike (the pool's api, chunk, grain and size; prodcons' layout). When
 * several C cases fit (the manager's epoll and thread-per-client servers), the one with
 * more "prefer" items wins: Python's Manager serves each client from a thread.
 *
 * Why these pairs: the Python object and the C mechanism do the same job for the user, not
 * the same syscalls. Queue is a pipe plus a feeder thread plus pickling, our shm-queue a
 * lock-free ring in shared memory and posix-mq the kernel's message queue; Pipe is a
 * socketpair on Linux, so socketpair-stream; Value(lock=True) with get_lock() is a
 * process-shared lock around a shared word, as the mutex counter; Manager proxies are
 * calls to a server process, as our proxy server; Pool is a task queue and workers, as
 * our pool; Process start+join is fork (or fork+exec for the spawn method) plus Python's
 * bootstrap. The ratio is therefore the price of the Python object, not of the kernel.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyvsc.h"

/* What must be equal between the Python case and the C case. */
#define PV_SIZE    1u     /* size_bytes */
#define PV_WORKERS 2u     /* workers */
#define PV_CPUS    4u     /* the CPUs given (the cpus column) */

struct pyvsc_sel {
	const char *bench, *mech;
	const char *mode;      /* NULL: "process" */
	const char *params;    /* items ("k=v;k=v") the case must have, or NULL */
};

struct pyvsc_pair {
	const char *job;       /* the Python side, for people */
	const char *c_job;     /* the C side, for people */
	struct pyvsc_sel py, c;
	const char *py_absent; /* a params key the Python case must not have, or NULL */
	int py_min_workers;    /* 0: any */
	const char *metric;
	enum ipcb_pyvsc_kind kind;
	unsigned same;         /* PV_* */
	const char *keys;      /* params keys equal on both sides, comma-separated, or NULL */
	const char *prefer;    /* params items that make a C case preferred, or NULL */
};

#define PY(m, p) { "python", m, NULL, p }
#define C(b, m, p) { b, m, NULL, p }
#define PP (PV_SIZE | PV_CPUS)
#define WC (PV_WORKERS | PV_CPUS)
#define MGR_C "clients=1;sweep=latency;transport=unix"
#define SPAWN_C "parent_mem_bytes=0;huge=none"

static const struct pyvsc_pair pairs[] = {
	/* ping-pong: one message there and back, to delivery */
	{ "Queue ping-pong", "pingpong shm-queue", PY("mp-queue", "api=put/get"),
	  C("pingpong", "shm-queue", NULL), NULL, 0, "rtt_p50_ns", IPCB_PYVSC_TIME, PP, NULL,
	  NULL },
	{ "Queue ping-pong", "pingpong posix-mq", PY("mp-queue", "api=put/get"),
	  C("pingpong", "posix-mq", NULL), NULL, 0, "rtt_p50_ns", IPCB_PYVSC_TIME, PP, NULL, NULL },
	{ "SimpleQueue ping-pong", "pingpong shm-queue", PY("mp-simplequeue", "api=put/get"),
	  C("pingpong", "shm-queue", NULL), NULL, 0, "rtt_p50_ns", IPCB_PYVSC_TIME, PP, NULL,
	  NULL },
	{ "Pipe ping-pong", "pingpong socketpair-stream",
	  PY("mp-pipe", "api=send_bytes/recv_bytes"), C("pingpong", "socketpair-stream", NULL),
	  NULL, 0, "rtt_p50_ns", IPCB_PYVSC_TIME, PP, NULL, NULL },
	/* streaming: one producer, one consumer, messages received per second */
	{ "Queue stream", "stream shm-queue", PY("mp-queue", "queue_depth=64"),
	  C("stream", "shm-queue", NULL), "producers", 0, "msgs_per_s", IPCB_PYVSC_RATE, PP, NULL,
	  NULL },
	{ "Queue stream", "stream posix-mq", PY("mp-queue", "queue_depth=64"),
	  C("stream", "posix-mq", NULL), "producers", 0, "msgs_per_s", IPCB_PYVSC_RATE, PP, NULL,
	  NULL },
	{ "SimpleQueue stream", "stream shm-queue", PY("mp-simplequeue", NULL),
	  C("stream", "shm-queue", NULL), "producers", 0, "msgs_per_s", IPCB_PYVSC_RATE, PP, NULL,
	  NULL },
	{ "Pipe stream", "stream socketpair-stream", PY("mp-pipe", NULL),
	  C("stream", "socketpair-stream", NULL), NULL, 0, "msgs_per_s", IPCB_PYVSC_RATE, PP, NULL,
	  NULL },
	/* producers/consumers over one queue, the same k:k layout */
	{ "Queue prodcons", "prodcons shm-queue", PY("mp-queue", "queue=plain"),
	  C("prodcons", "shm-queue", "queue=plain"), NULL, 0, "msgs_per_s", IPCB_PYVSC_RATE,
	  PP, "producers,consumers", NULL },
	{ "Queue prodcons", "prodcons posix-mq", PY("mp-queue", "queue=plain"),
	  C("prodcons", "posix-mq", "queue=plain"), NULL, 0, "msgs_per_s", IPCB_PYVSC_RATE,
	  PP, "producers,consumers", NULL },
	{ "JoinableQueue prodcons", "prodcons shm-queue joinable",
	  PY("mp-joinablequeue", "queue=joinable"), C("prodcons", "shm-queue", "queue=joinable"),
	  NULL, 0, "msgs_per_s", IPCB_PYVSC_RATE, PP, "producers,consumers", NULL },
	/* a shared counter: locked cost per update, and the race */
	{ "Value get_lock()", "counter pthread-mutex", PY("mp-value-lock", NULL),
	  C("counter", "pthread-mutex", NULL), NULL, 0, "ns_per_update", IPCB_PYVSC_TIME, WC, NULL,
	  NULL },
	{ "Value(lock=False) alone", "counter none", PY("mp-value-nolock", NULL),
	  C("counter", "none", NULL), NULL, 0, "ns_per_update", IPCB_PYVSC_TIME, WC, NULL, NULL },
	{ "Value(lock=False) lost updates", "counter none", PY("mp-value-nolock", NULL),
	  C("counter", "none", NULL), NULL, 2, "lost_updates", IPCB_PYVSC_COUNT, WC, NULL, NULL },
	{ "Value(lock=True) without get_lock() lost updates", "counter none",
	  PY("mp-value-naive", NULL), C("counter", "none", NULL), NULL, 2, "lost_updates",
	  IPCB_PYVSC_COUNT, WC, NULL, NULL },
	{ "threads, no Lock, lost updates", "counter none (threads)",
	  PY("thread-balance-nolock", NULL), { "counter", "none", "thread", NULL }, NULL, 2,
	  "lost_updates", IPCB_PYVSC_COUNT, WC, NULL, NULL },
	{ "Array(lock=True)", "value pthread-mutex", PY("mp-array-lock", NULL),
	  C("value", "pthread-mutex", NULL), NULL, 0, "array_ns_per_record", IPCB_PYVSC_TIME,
	  WC, NULL, NULL },
	/* Manager proxy calls, one client, against our proxy server over a Unix socket */
	{ "Manager dict set/get", "manager get", PY("mp-manager-dict", NULL),
	  C("manager", "manager-unix", "op=get;" MGR_C), NULL, 0, "op_p50_ns", IPCB_PYVSC_TIME,
	  PV_CPUS, NULL, "server=thread" },
	{ "Manager list append/pop", "manager append_pop", PY("mp-manager-list", NULL),
	  C("manager", "manager-unix", "op=append_pop;" MGR_C), NULL, 0, "op_p50_ns",
	  IPCB_PYVSC_TIME, PV_CPUS, NULL, "server=thread" },
	{ "Manager Value get/set", "manager incr", PY("mp-manager-value", NULL),
	  C("manager", "manager-unix", "op=incr;" MGR_C), NULL, 0, "op_p50_ns", IPCB_PYVSC_TIME,
	  PV_CPUS, NULL, "server=thread" },
	/* Pool: the same api, chunking and pool size; no work, a little, and enough to hide
	 * the dispatch */
	{ "Pool", "pool", PY("mp-pool", "grain_ns=0"), C("pool", "", NULL), NULL, 0,
	  "tasks_per_s", IPCB_PYVSC_RATE, 0, "api,chunk,grain_ns,pool_size", NULL },
	{ "Pool", "pool", PY("mp-pool", "grain_ns=1000"), C("pool", "", NULL), NULL, 0,
	  "tasks_per_s", IPCB_PYVSC_RATE, 0, "api,chunk,grain_ns,pool_size", NULL },
	{ "Pool", "pool", PY("mp-pool", "grain_ns=100000"), C("pool", "", NULL), NULL, 0,
	  "tasks_per_s", IPCB_PYVSC_RATE, 0, "api,chunk,grain_ns,pool_size", NULL },
	/* Process(...).start() + join() by start method */
	{ "Process start+join, fork", "spawn fork", PY("mp-process-fork", NULL),
	  C("spawn", "", "kind=fork;" SPAWN_C), NULL, 0, "spawn_p50_ns", IPCB_PYVSC_TIME, 0, NULL,
	  NULL },
	{ "Process start+join, forkserver", "spawn fork", PY("mp-process-forkserver", NULL),
	  C("spawn", "", "kind=fork;" SPAWN_C), NULL, 0, "spawn_p50_ns", IPCB_PYVSC_TIME, 0, NULL,
	  NULL },
	{ "Process start+join, spawn", "spawn fork-exec", PY("mp-process-spawn", NULL),
	  C("spawn", "", "kind=fork-exec;" SPAWN_C), NULL, 0, "spawn_p50_ns", IPCB_PYVSC_TIME,
	  0, NULL, NULL },
};
#define NPAIRS ((int)(sizeof(pairs) / sizeof(pairs[0])))

/* The value of key in a "k=v;k=v" list (pointer into it, length in *len), or NULL. */
static const char *param_get(const char *params, const char *key, size_t klen, size_t *len)
{
	while (params && *params) {
		size_t l = strcspn(params, ";");

		if (l > klen && !strncmp(params, key, klen) && params[klen] == '=') {
			*len = l - klen - 1;
			return params + klen + 1;
		}
		params += l + (params[l] == ';');
	}
	return NULL;
}

/* 1 if params holds every item of items ("k=v;k=v"; NULL holds nothing to check). */
static int params_have_all(const char *params, const char *items)
{
	while (items && *items) {
		size_t l = strcspn(items, ";"), vl;
		const char *eq = memchr(items, '=', l);
		const char *v;

		if (!eq)
			return 0;
		v = param_get(params, items, (size_t)(eq - items), &vl);
		if (!v || vl != l - (size_t)(eq - items) - 1 || memcmp(v, eq + 1, vl))
			return 0;
		items += l + (items[l] == ';');
	}
	return 1;
}

/* How many items of items params holds. */
static int params_score(const char *params, const char *items)
{
	int n = 0;

	while (items && *items) {
		size_t l = strcspn(items, ";");
		char one[128];

		snprintf(one, sizeof(one), "%.*s", (int)(l < 127 ? l : 127), items);
		n += params_have_all(params, one);
		items += l + (items[l] == ';');
	}
	return n;
}

/* 1 if a and b have the same value for every key of keys ("k,k"), and both have it. */
static int params_keys_equal(const char *a, const char *b, const char *keys)
{
	while (keys && *keys) {
		size_t l = strcspn(keys, ","), al = 0, bl = 0;
		const char *av = param_get(a, keys, l, &al), *bv = param_get(b, keys, l, &bl);

		if (!av || !bv || al != bl || memcmp(av, bv, al))
			return 0;
		keys += l + (keys[l] == ',');
	}
	return 1;
}

static int sel_match(const struct pyvsc_sel *s, const struct ipcb_rcase *c)
{
	return !strcmp(c->bench, s->bench) && !strcmp(c->mech, s->mech) &&
	       !strcmp(c->mode, s->mode ? s->mode : "process") &&
	       params_have_all(c->params, s->params);
}

/* The metric's median when it can stand in a pair: present, and not from a race unless the
 * race is what is counted. */
static const struct ipcb_rmetric *usable(const struct ipcb_rcase *c, const struct pyvsc_pair *p)
{
	const struct ipcb_rmetric *m = ipcb_rcase_metric(c, p->metric);

	if (!m || !m->has_median || isnan(m->median))
		return NULL;
	if (m->race && p->kind != IPCB_PYVSC_COUNT)
		return NULL;
	return m;
}

static double lo_of(const struct ipcb_rmetric *m)
{
	return isnan(m->ci_low) ? m->median : m->ci_low;
}

static double hi_of(const struct ipcb_rmetric *m)
{
	return isnan(m->ci_high) ? m->median : m->ci_high;
}

/* The ratio and "times slower" of a complete line. */
static void line_ratio(struct ipcb_pyvsc_line *l)
{
	double py = l->py_m->median, c = l->c_m->median;

	l->ratio = l->slower = l->slower_lo = l->slower_hi = NAN;
	if (l->kind == IPCB_PYVSC_COUNT || c <= 0 || py <= 0)
		return;
	l->ratio = py / c;
	if (l->kind == IPCB_PYVSC_TIME) {
		l->slower = l->ratio;
		if (hi_of(l->c_m) > 0 && lo_of(l->c_m) > 0) {
			l->slower_lo = lo_of(l->py_m) / hi_of(l->c_m);
			l->slower_hi = hi_of(l->py_m) / lo_of(l->c_m);
		}
	} else {
		l->slower = c / py;
		if (hi_of(l->py_m) > 0 && lo_of(l->py_m) > 0) {
			l->slower_lo = lo_of(l->c_m) / hi_of(l->py_m);
			l->slower_hi = hi_of(l->c_m) / lo_of(l->py_m);
		}
	}
}

/* The Python side's name: the job, then what was matched on (size, workers, keys). */
static void line_job(struct ipcb_pyvsc_line *l, const struct pyvsc_pair *p,
		     const struct ipcb_rcase *py)
{
	size_t off = (size_t)snprintf(l->job, sizeof(l->job), "%s", p->job);
	const char *k = p->keys;

	if ((p->same & PV_SIZE) && off < sizeof(l->job)) {
		char sz[32];

		ipcb_fmt_size(py->size, sz, sizeof(sz));
		off += (size_t)snprintf(l->job + off, sizeof(l->job) - off, " %s", sz);
	}
	if ((p->same & PV_WORKERS) && off < sizeof(l->job))
		off += (size_t)snprintf(l->job + off, sizeof(l->job) - off, " x%d", py->workers);
	while (k && *k && off < sizeof(l->job)) {
		size_t kl = strcspn(k, ","), vl;
		const char *v = param_get(py->params, k, kl, &vl);

		if (v)
			off += (size_t)snprintf(l->job + off, sizeof(l->job) - off, " %.*s=%.*s",
						(int)kl, k, (int)vl, v);
		k += kl + (k[kl] == ',');
	}
}

/* Find the C counterpart of py for pair p: fills l->c (or l->why). */
static void line_match(struct ipcb_pyvsc_line *l, const struct pyvsc_pair *p,
		       const struct ipcb_results *res, const struct ipcb_rcase *py)
{
	/* how far the best candidate got: 0 none of the job, 1 other size/workers/keys,
	 * 2 other CPUs, 3 no number */
	int stage = 0, best_score = -1;
	const struct ipcb_rcase *other_cpus = NULL, *no_number = NULL;

	for (int i = 0; i < res->nc; i++) {
		const struct ipcb_rcase *c = &res->c[i];
		const struct ipcb_rmetric *m;
		int score;

		if (strcmp(c->impl, "c") || !sel_match(&p->c, c))
			continue;
		if (stage < 1)
			stage = 1;
		if (((p->same & PV_SIZE) && c->size != py->size) ||
		    ((p->same & PV_WORKERS) && c->workers != py->workers) ||
		    !params_keys_equal(py->params, c->params, p->keys))
			continue;
		if ((p->same & PV_CPUS) && strcmp(c->cpus, py->cpus)) {
			if (stage < 2) {
				stage = 2;
				other_cpus = c;
			}
			continue;
		}
		m = usable(c, p);
		if (!m) {
			if (stage < 3) {
				stage = 3;
				no_number = c;
			}
			continue;
		}
		score = params_score(c->params, p->prefer);
		if (score > best_score) {
			best_score = score;
			l->c = c;
			l->c_m = m;
		}
	}
	if (l->c) {
		size_t off = strlen(l->c_job);
		const char *pr = p->prefer;

		/* name the choice the preference made ("server=epoll" when no thread server) */
		while (pr && *pr && off < sizeof(l->c_job)) {
			size_t pl = strcspn(pr, ";"), kl = strcspn(pr, "="), vl;
			const char *v = kl < pl ? param_get(l->c->params, pr, kl, &vl) : NULL;

			if (v)
				off += (size_t)snprintf(l->c_job + off, sizeof(l->c_job) - off,
							" (%.*s=%.*s)", (int)kl, pr, (int)vl, v);
			pr += pl + (pr[pl] == ';');
		}
		line_ratio(l);
		return;
	}
	switch (stage) {
	case 0:
		snprintf(l->why, sizeof(l->why), "not in this run: no %s rows", p->c_job);
		break;
	case 1:
		snprintf(l->why, sizeof(l->why), "not in this run: no %s case with the same %s",
			 p->c_job, p->keys ? "size, workers and parameters" :
			 p->same & PV_SIZE ? "message size" : "worker count");
		break;
	case 2:
		snprintf(l->why, sizeof(l->why), "not in this run on the same CPUs: %s ran on "
			 "%.40s, Python on %.40s", p->c_job, other_cpus->cpus, py->cpus);
		break;
	default:
		if (no_number->fail_status)
			snprintf(l->why, sizeof(l->why), "no number: %s %s%s%.100s", p->c_job,
				 no_number->fail_status, no_number->fail_reason ? ": " : "",
				 no_number->fail_reason ? no_number->fail_reason : "");
		else
			snprintf(l->why, sizeof(l->why), "no number: %s has no usable median of %s",
				 p->c_job, p->metric);
	}
}

int ipcb_pyvsc_pairs(const struct ipcb_results *res, struct ipcb_pyvsc_line **out, int *n)
{
	struct ipcb_pyvsc_line *v = NULL;
	int nv = 0, cap = 0;

	*out = NULL;
	*n = 0;
	for (int k = 0; k < NPAIRS; k++) {
		const struct pyvsc_pair *p = &pairs[k];

		for (int i = 0; i < res->nc; i++) {
			const struct ipcb_rcase *py = &res->c[i];
			const struct ipcb_rmetric *m;
			struct ipcb_pyvsc_line *l;
			size_t al;

			if (strcmp(py->impl, "python") || !sel_match(&p->py, py) ||
			    py->workers < p->py_min_workers ||
			    (p->py_absent && param_get(py->params, p->py_absent,
						       strlen(p->py_absent), &al)))
				continue;
			m = usable(py, p);
			if (!m)
				continue;     /* a Python case without a number: nothing to pair */
			if (nv == cap) {
				int nc = cap ? 2 * cap : 32;
				struct ipcb_pyvsc_line *nvv = realloc(v, (size_t)nc * sizeof(*v));

				if (!nvv) {
					free(v);
					return -ENOMEM;
				}
				v = nvv;
				cap = nc;
			}
			l = &v[nv++];
			memset(l, 0, sizeof(*l));
			l->metric = p->metric;
			l->kind = p->kind;
			l->py = py;
			l->py_m = m;
			l->ratio = l->slower = l->slower_lo = l->slower_hi = NAN;
			snprintf(l->c_job, sizeof(l->c_job), "%s", p->c_job);
			line_job(l, p, py);
			line_match(l, p, res, py);
		}
	}
	*out = v;
	*n = nv;
	return 0;
}

void ipcb_pyvsc_fmt_ratio(double v, char *buf, size_t len)
{
	snprintf(buf, len, v >= 1000 && v < 1e15 ? "%.0f" : "%.3g", v);
}
