// SPDX-License-Identifier: MIT
/*
 * Manager proxies: what a call to an object owned by a server process costs
 * (multiprocessing.Manager), over a Unix socket or TCP on loopback, with the server as an
 * event loop or one thread per client (ipc/manager.h).
 *
 * Worker 0 (role B) is the server; workers 1..N (role A) are the clients, all pinned. The
 * sweep (variants) is transport x server design x one of:
 *   latency   one client calls one operation in a closed loop: ping (no object), get, set,
 *             incr (the Value), append_pop (the list: append, then pop what was appended),
 *             put_get (the queue: put, then get), acquire_release (the lock). Every call is
 *             timed (op_* percentiles, per call; batched only if a call were under 100 clock
 *             reads, ipcb_batch_for).
 *   scale     N clients (--manager-clients, default 1, 2, 4, 8, ... up to the budget - 1)
 *             increment the one Value: calls_per_s as clients are added. The server
 *             serialises every call, so the total flattens once its CPU is busy:
 *             server_cpu_util (the server's CPU time over its window; process mode, or the
 *             epoll design in thread mode) reaching 1 marks the saturation, and
 *             speedup_vs_1_client says what adding clients still buys. A case needing more
 *             workers than the CPU budget is SKIPPED by the planner (--cores,
 *             --oversubscribe).
 *   compare   one client does the same counter workload three ways, a third of the window
 *             each: through the proxy (VALUE_INCR), on a shared-memory Value under a
 *             process-shared lock (the sync registry's pthread-mutex, like
 *             multiprocessing.Value's get_lock()), and with an atomic add on shared memory.
 *             The metrics are the time per increment of each and their ratios
 *             (proxy_vs_shm_ratio: how many locked shared-memory increments one proxy call
 *             costs; proxy_vs_atomic_ratio).
 * The channel (parent, before fork: a "transport" of this file, set by plan() on c->tr, not
 * in transports.def: it carries calls, not messages): a listening socket (a run-prefixed
 * path with mode 0600, or 127.0.0.1 with an ephemeral port and a fresh random authkey for
 * the HMAC handshake), and one shared mapping with the address, the key and the lock and
 * counters of the compare case. Clients connect after the start gate and meet at a
 * rendezvous before warming up, so every client's window overlaps the others'.
 *
 * Integrity (a violation FAILS the case): the server answered exactly the calls the clients
 * made; the Value ends at the sum of all increments; each client's increments are seen in
 * increasing order; get returns what was set, pop and get return what was appended or put;
 * the shared-memory Value and the atomic end at their increment counts.
 * Excluded from the timing: connecting (and the handshake), the rendezvous, warm-up.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "../harness/clock.h"
#include "../harness/opt.h"
#include "../harness/run.h"
#include "../ipc/manager.h"
#include "../ipc/names.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "pattern.h"

#define MAX_CLIENT_COUNTS 32
#define KEY_BYTES 32
#define CONNECT_WAIT_NS 10000000000ull     /* a client gives up on the rendezvous after 10 s */

/* ---- options ---- */

static struct manager_settings {
	const char *server;       /* epoll | thread | both */
	const char *transport;    /* unix | tcp | both */
	const char *clients;      /* client counts of the scale sweep */
	int value_bytes;
} mgr_opt = { .value_bytes = 64 };

static int parse_clients(const char *s, int *out, char *err, size_t errlen)
{
	return ipcb_parse_counts(s, "manager-clients", 1, IPCB_MAX_WORKERS - 1, out,
				 MAX_CLIENT_COUNTS, err, errlen);
}

static int check_clients(const char *v, char *err, size_t errlen)
{
	int tmp[MAX_CLIENT_COUNTS];
	return parse_clients(v, tmp, err, errlen) < 0 ? -EINVAL : 0;
}

static const struct ipcb_opt manager_opts[] = {
	{ .name = "manager-server", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct manager_settings, server), .choices = "epoll|thread|both",
	  .metavar = "DESIGN", .base = &mgr_opt,
	  .help = "manager: server design, an epoll event loop or one thread per client, or "
		  "both side by side (default epoll)" },
	{ .name = "manager-transport", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct manager_settings, transport), .choices = "unix|tcp|both",
	  .metavar = "T", .base = &mgr_opt,
	  .help = "manager: Unix socket (mode 0600), TCP on loopback with an HMAC authkey, or "
		  "both (default both)" },
	{ .name = "manager-clients", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct manager_settings, clients), .metavar = "LIST",
	  .base = &mgr_opt, .check = check_clients,
	  .help = "manager: client counts of the throughput sweep (default 1, 2, 4, 8, ... up "
		  "to the CPU budget - 1; counts over the budget are SKIPPED)" },
	{ .name = "manager-value-bytes", .type = IPCB_OPT_INT,
	  .offset = offsetof(struct manager_settings, value_bytes), .min = 8, .max = 65536,
	  .metavar = "N", .base = &mgr_opt,
	  .help = "manager: bytes of each value set, appended or put (default 64)" },
	{ .name = NULL },
};

/* ---- the sweep ---- */

enum op { OP_PING, OP_GET, OP_SET, OP_INCR, OP_APPEND_POP, OP_PUT_GET, OP_ACQ_REL, NOPS };
static const char *const op_names[NOPS] = { "ping", "get", "set", "incr", "append_pop",
					    "put_get", "acquire_release" };
enum kind { K_LATENCY, K_SCALE, K_COMPARE };
enum { T_UNIX, T_TCP };

struct variant {
	int transport, design, kind, op, clients;
};

static int n_transports(int *first)
{
	const char *t = mgr_opt.transport ? mgr_opt.transport : "both";
	*first = strcmp(t, "tcp") == 0 ? T_TCP : T_UNIX;
	return strcmp(t, "both") == 0 ? 2 : 1;
}

static int n_designs(int *first)
{
	const char *s = mgr_opt.server ? mgr_opt.server : "epoll";
	*first = strcmp(s, "thread") == 0 ? IPCB_MGR_THREADS : IPCB_MGR_EPOLL;
	return strcmp(s, "both") == 0 ? 2 : 1;
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;
	return (a > b) - (a < b);
}

/* The scale sweep's client counts, ascending, without duplicates. */
static int client_counts(const struct ipcb_config *cfg, int *out)
{
	char err[160];
	int n = 0, k = 0;

	if (mgr_opt.clients) {
		n = parse_clients(mgr_opt.clients, out, err, sizeof(err));
		if (n < 0)
			return 0;
	} else {
		int top = cfg->budget - 1 > 8 ? cfg->budget - 1 : 8;
		for (int c = 1; c <= top && n < MAX_CLIENT_COUNTS - 1; c *= 2)
			out[n++] = c;
		if (cfg->budget - 1 > 1)
			out[n++] = cfg->budget - 1;
	}
	qsort(out, (size_t)n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++)
		if (k == 0 || out[k - 1] != out[i])
			out[k++] = out[i];
	return k;
}

static int per_series(const struct ipcb_config *cfg)
{
	int counts[MAX_CLIENT_COUNTS];
	return NOPS + client_counts(cfg, counts) + 1;
}

static int manager_variants(const struct ipcb_config *cfg)
{
	int f;
	return n_transports(&f) * n_designs(&f) * per_series(cfg);
}

static void decode_variant(const struct ipcb_config *cfg, int v, struct variant *out)
{
	int counts[MAX_CLIENT_COUNTS], tf, df;
	int nc = client_counts(cfg, counts), per = NOPS + nc + 1;
	int nd = n_designs(&df), series = v / per, k = v % per;

	(void)n_transports(&tf);
	out->transport = tf + series / nd;
	out->design = nd == 2 ? series % nd : df;
	out->op = OP_INCR;
	out->clients = 1;
	if (k < NOPS) {
		out->kind = K_LATENCY;
		out->op = k;
	} else if (k < NOPS + nc) {
		out->kind = K_SCALE;
		out->clients = counts[k - NOPS];
	} else {
		out->kind = K_COMPARE;
	}
}

/* ---- the channel: listener, key and shared state, made by the parent ---- */

struct mgr_shared {
	int transport;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char path[IPCB_NAME_MAX];           /* Unix: the socket's name, for removal */
	uint8_t key[KEY_BYTES];             /* TCP: the authkey */
	struct ipcb_sync_inst lock;         /* compare: the shared-memory Value's lock */
	int lock_live;
	_Alignas(IPCB_CACHELINE) int64_t shm_value;      /* under `lock` */
	_Alignas(IPCB_CACHELINE) _Atomic int64_t atomic_value;
};

static void mgr_teardown(struct ipcb_chan *ch)
{
	struct mgr_shared *sh = ch->mem;

	if (ch->fd[0] >= 0) {
		(void)close(ch->fd[0]);
		ch->fd[0] = -1;
	}
	if (!sh)
		return;
	if (sh->lock_live) {
		ipcb_sync_inst_free(&sh->lock);
		sh->lock_live = 0;
	}
	if (sh->path[0]) {
		(void)ipcb_name_remove(IPCB_NAME_PATH, sh->path, -1);
		sh->path[0] = 0;
	}
	(void)munmap(ch->mem, ch->mem_len);
	ch->mem = NULL;
}

static int mgr_setup_common(struct ipcb_chan *ch, int transport)
{
	const struct ipcb_sync *sy = ipcb_sync_find("pthread-mutex");
	struct mgr_shared *sh;
	int fd, rc;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	memset(sh, 0, sizeof(*sh));
	ch->mem = sh;
	ch->mem_len = sizeof(*sh);
	sh->transport = transport;
	if (transport == T_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&sh->addr;
		fd = ipcb_mgr_listen_unix(sh->path, sizeof(sh->path));
		if (fd < 0) {
			sh->path[0] = 0;
			snprintf(ch->why, sizeof(ch->why), "cannot listen on a Unix socket: %s",
				 strerror(-fd));
			return fd;
		}
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", sh->path);
		sh->addrlen = sizeof(*un);
		snprintf(ch->effective, sizeof(ch->effective), "socket_mode=0600;auth=none");
	} else {
		fd = ipcb_mgr_listen_tcp(&sh->addr, &sh->addrlen);
		if (fd < 0)
			return fd;
		if (RAND_bytes(sh->key, KEY_BYTES) != 1)
			return -EIO;
		snprintf(ch->effective, sizeof(ch->effective), "auth=hmac-sha256;key_bytes=%d",
			 KEY_BYTES);
	}
	ch->fd[0] = fd;
	if (!sy)
		return -ENOENT;
	rc = ipcb_sync_inst_new(&sh->lock, sy, ch->n_a + ch->n_b, 0, NULL, ch->why,
				sizeof(ch->why));
	if (rc < 0)
		return rc;
	sh->lock_live = 1;
	return 0;
}

static int mgr_setup_unix(struct ipcb_chan *ch)
{
	return mgr_setup_common(ch, T_UNIX);
}

static int mgr_setup_tcp(struct ipcb_chan *ch)
{
	return mgr_setup_common(ch, T_TCP);
}

static const struct ipcb_transport mgr_tr[2] = {
	[T_UNIX] = { .name = "manager-unix", .summary = "manager proxy calls over a Unix socket",
		     .caps = IPCB_CAP_STREAM | IPCB_CAP_DUPLEX | IPCB_CAP_NAMED,
		     .setup = mgr_setup_unix, .teardown = mgr_teardown },
	[T_TCP] = { .name = "manager-tcp", .summary = "manager proxy calls over TCP (authkey)",
		    .caps = IPCB_CAP_STREAM | IPCB_CAP_DUPLEX,
		    .setup = mgr_setup_tcp, .teardown = mgr_teardown },
};

/* ---- plan ---- */

static int manager_plan(struct ipcb_case *c, char *why, size_t len)
{
	struct variant v;
	size_t l;

	(void)why;
	(void)len;
	decode_variant(c->cfg, c->variant, &v);
	c->tr = &mgr_tr[v.transport];
	c->nworkers = 1 + v.clients;
	c->roles[0] = IPCB_ROLE_B;
	for (int i = 1; i < c->nworkers; i++)
		c->roles[i] = IPCB_ROLE_A;
	l = strlen(c->label);
	snprintf(c->label + l, sizeof(c->label) - l, " %s %s %s",
		 v.transport == T_UNIX ? "unix" : "tcp",
		 v.design == IPCB_MGR_EPOLL ? "epoll" : "thread",
		 v.kind == K_COMPARE ? "compare" : op_names[v.op]);
	if (v.kind == K_SCALE) {
		l = strlen(c->label);
		snprintf(c->label + l, sizeof(c->label) - l, " x%d", v.clients);
	}
	l = strlen(c->params);
	snprintf(c->params + l, sizeof(c->params) - l,
		 ";op=%s;clients=%d;server=%s;sweep=%s;transport=%s;value_bytes=%d",
		 v.kind == K_COMPARE ? "incr" : op_names[v.op], v.clients,
		 v.design == IPCB_MGR_EPOLL ? "epoll" : "thread",
		 v.kind == K_LATENCY ? "latency" : v.kind == K_SCALE ? "scale" : "compare",
		 v.transport == T_UNIX ? "unix" : "tcp", mgr_opt.value_bytes);
	return 0;
}

/* ---- workers ---- */

/* Slot words. Server: its counters. Client: calls made and increments made (warm-up
 * included: they are what the server saw), then the compare phases. */
enum { U_CALLS, U_INCRS, U_PX_N, U_PX_NS, U_SHM_N, U_SHM_NS, U_AT_N, U_AT_NS };
enum { S_CALLS, S_CONNS, S_AUTH_OK, S_AUTH_REFUSED, S_PROTO, S_TRUNC, S_LOCKS, S_VALUE };

static int server_worker(struct ipcb_wctx *w, struct variant *v, struct mgr_shared *sh)
{
	struct ipcb_mgr_server_cfg cfg = {
		.listen_fd = w->ch->fd[0], .design = v->design,
		.key = sh->transport == T_TCP ? sh->key : NULL, .keylen = KEY_BYTES,
		.expect_clients = w->c->nworkers - 1, .stop = &w->ctl->stop,
	};
	struct ipcb_mgr_stats st;
	int rc = ipcb_worker_gate(w);

	if (rc < 0)
		return rc;
	ipcb_worker_begin(w);
	rc = ipcb_mgr_serve(&cfg, &st);
	ipcb_worker_end(w);
	if (rc < 0)
		return ipcb_worker_fail(w, rc, "manager server (%s)",
					v->design == IPCB_MGR_EPOLL ? "epoll" : "threads");
	uint64_t *u = w->slot->u;
	u[S_CALLS] = st.calls;
	u[S_CONNS] = st.conns;
	u[S_AUTH_OK] = st.auth_ok;
	u[S_AUTH_REFUSED] = st.auth_refused;
	u[S_PROTO] = st.proto_errors;
	u[S_TRUNC] = st.truncated;
	u[S_LOCKS] = st.locks_recovered;
	u[S_VALUE] = (uint64_t)st.value;
	w->slot->msgs = st.calls;
	return 0;
}

/* Every client arrives before any leaves (or the case is stopped, or 10 s pass). */
static int rendezvous(struct ipcb_wctx *w)
{
	uint64_t need = (uint64_t)w->c->nworkers - 1, t0 = ipcb_now_ns();

	atomic_fetch_add(&w->ctl->shared[0], 1);
	while (atomic_load(&w->ctl->shared[0]) < need) {
		if (atomic_load(&w->ctl->stop))
			return -ECANCELED;
		if (ipcb_now_ns() - t0 > CONNECT_WAIT_NS)
			return ipcb_worker_fail(w, -ETIMEDOUT, "waiting for the other clients");
		sched_yield();
	}
	return 0;
}

struct client {
	struct ipcb_wctx *w;
	struct ipcb_mgr_client mc;
	const struct variant *v;
	uint8_t *val, *got;
	size_t vlen;
	uint64_t i;                 /* operations so far (pairs count two) */
	int64_t last;               /* last Value this client saw */
};

static void stamp(uint8_t *p, size_t len, uint64_t seq, int id)
{
	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(seq * 131u + k + (unsigned)id * 7u);
	ipcb_mgr_put_u64(p, seq);
}

static int call_failed(struct client *cl, int rc, const char *what)
{
	if (rc == -EPIPE || rc == -ECONNRESET)
		return ipcb_worker_fail(cl->w, rc, "manager %s: the server closed the connection "
					"(server died?)", what);
	return ipcb_worker_fail(cl->w, rc, "manager %s", what);
}

static int check_bytes(struct client *cl, size_t len, uint64_t seq, const char *what)
{
	stamp(cl->val, cl->vlen, seq, cl->w->id);
	if (len != cl->vlen || memcmp(cl->got, cl->val, len) != 0) {
		cl->w->slot->corrupt++;
		return ipcb_worker_fail(cl->w, 0, "manager %s returned other bytes than were stored "
					"(item %llu)", what, (unsigned long long)seq);
	}
	return 0;
}

/* One operation of the case (a pair op alternates its halves). 0 or -errno. */
static int one_op(struct client *cl)
{
	struct ipcb_slot *s = cl->w->slot;
	uint64_t i = cl->i++, seq = i / 2;
	size_t len;
	int64_t now;
	int rc = 0;

	s->u[U_CALLS]++;
	switch (cl->v->op) {
	case OP_PING:
		if ((rc = ipcb_mgr_ping(&cl->mc)) < 0)
			return call_failed(cl, rc, "ping");
		return 0;
	case OP_GET:
		if ((rc = ipcb_mgr_dict_get(&cl->mc, "k", cl->got, cl->vlen, &len)) < 0)
			return call_failed(cl, rc, "dict get");
		return check_bytes(cl, len, 0, "dict get");
	case OP_SET:
		stamp(cl->val, cl->vlen, i, cl->w->id);
		if ((rc = ipcb_mgr_dict_set(&cl->mc, "k", cl->val, cl->vlen)) < 0)
			return call_failed(cl, rc, "dict set");
		return 0;
	case OP_INCR:
		if ((rc = ipcb_mgr_value_incr(&cl->mc, 1, &now)) < 0)
			return call_failed(cl, rc, "value increment");
		s->u[U_INCRS]++;
		if (now <= cl->last) {
			s->reorder++;
			return ipcb_worker_fail(cl->w, 0, "manager value went from %lld to %lld on "
						"an increment", (long long)cl->last, (long long)now);
		}
		cl->last = now;
		return 0;
	case OP_APPEND_POP:
	case OP_PUT_GET: {
		int list = cl->v->op == OP_APPEND_POP;
		if (i % 2 == 0) {
			stamp(cl->val, cl->vlen, seq, cl->w->id);
			rc = list ? ipcb_mgr_list_append(&cl->mc, cl->val, cl->vlen, NULL)
				  : ipcb_mgr_queue_put(&cl->mc, cl->val, cl->vlen, NULL);
			return rc < 0 ? call_failed(cl, rc, list ? "list append" : "queue put") : 0;
		}
		rc = list ? ipcb_mgr_list_pop(&cl->mc, cl->got, cl->vlen, &len)
			  : ipcb_mgr_queue_get(&cl->mc, cl->got, cl->vlen, &len);
		if (rc < 0) {
			if (rc == -ENODATA)
				s->lost++;
			return call_failed(cl, rc, list ? "list pop" : "queue get");
		}
		return check_bytes(cl, len, seq, list ? "list pop" : "queue get");
	}
	case OP_ACQ_REL:
		rc = i % 2 == 0 ? ipcb_mgr_lock_acquire(&cl->mc) : ipcb_mgr_lock_release(&cl->mc);
		return rc < 0 ? call_failed(cl, rc, i % 2 ? "lock release" : "lock acquire") : 0;
	default:
		return -EINVAL;
	}
}

/* Latency and scale: warm up, then time every call (or batches of calls). */
static int run_calls(struct client *cl)
{
	struct ipcb_wctx *w = cl->w;
	struct ipcb_slot *s = w->slot;
	const struct ipcb_config *cfg = w->c->cfg;
	uint64_t t0 = ipcb_now_ns(), t, n = 0, batch, deadline;
	int rc;

	do {
		if ((rc = one_op(cl)) < 0)
			return rc;
		n++;
		t = ipcb_now_ns();
	} while (t - t0 < cfg->warmup_ns || n < 2);
	batch = ipcb_batch_for((double)(t - t0) / (double)n);
	s->ops_per_sample = batch;
	ipcb_worker_begin(w);
	deadline = s->t_begin_ns + cfg->duration_ns;
	t = s->t_begin_ns;
	do {
		t0 = t;
		for (uint64_t b = 0; b < batch; b++)
			if ((rc = one_op(cl)) < 0)
				return rc;
		t = ipcb_now_ns();
		ipcb_hist_record(&s->hist, (t - t0 + batch / 2) / batch);
		s->msgs += batch;
		if ((s->msgs & 1023) < batch)
			ipcb_worker_sample_cpu(w);
	} while (t < deadline);
	ipcb_worker_end(w);
	/* Leave no item queued and the lock free: finish the pair in progress. */
	if (cl->i % 2 && (cl->v->op == OP_APPEND_POP || cl->v->op == OP_PUT_GET ||
			  cl->v->op == OP_ACQ_REL))
		return one_op(cl);
	return 0;
}

#define CHUNK 64

/* The compare case: the same increments through the proxy, a locked shared Value and an
 * atomic, each for a third of the window after a warm-up of its own. */
static int run_compare(struct client *cl, struct mgr_shared *sh)
{
	struct ipcb_wctx *w = cl->w;
	const struct ipcb_config *cfg = w->c->cfg;
	uint64_t third = cfg->duration_ns / 3, *u = w->slot->u, t0, t, n;
	struct ipcb_sync_ctx x;
	int rc;

	/* 1. proxy */
	t0 = ipcb_now_ns();
	do {
		if ((rc = one_op(cl)) < 0)
			return rc;
	} while (ipcb_now_ns() - t0 < cfg->warmup_ns);
	ipcb_worker_begin(w);
	n = 0;
	t0 = ipcb_now_ns();
	do {
		for (int k = 0; k < CHUNK; k++)
			if ((rc = one_op(cl)) < 0)
				return rc;
		n += CHUNK;
		t = ipcb_now_ns();
	} while (t - t0 < third);
	u[U_PX_N] = n;
	u[U_PX_NS] = t - t0;

	/* 2. a Value in shared memory under a process-shared lock */
	if ((rc = ipcb_sync_ctx_attach(&x, &sh->lock, w->id)) < 0)
		return ipcb_worker_fail(w, rc, "attach to %s", sh->lock.sy->name);
	const struct ipcb_sync *sy = x.sy;
	uint64_t total = 0;
	for (int phase = 0; phase < 2; phase++) {   /* warm-up, then measured */
		n = 0;
		t0 = ipcb_now_ns();
		do {
			for (int k = 0; k < CHUNK; k++) {
				if ((rc = sy->lock(&x)) < 0) {
					ipcb_sync_ctx_detach(&x);
					return ipcb_worker_fail(w, rc, "%s lock", sy->name);
				}
				sh->shm_value++;
				sy->unlock(&x);
			}
			n += CHUNK;
			t = ipcb_now_ns();
		} while (t - t0 < (phase ? third : cfg->warmup_ns));
		total += n;
	}
	ipcb_sync_ctx_detach(&x);
	u[U_SHM_N] = n;
	u[U_SHM_NS] = t - t0;
	if ((uint64_t)sh->shm_value != total) {
		w->slot->lost++;
		return ipcb_worker_fail(w, 0, "shared Value is %lld after %llu locked increments",
					(long long)sh->shm_value, (unsigned long long)total);
	}

	/* 3. an atomic add in shared memory */
	total = 0;
	for (int phase = 0; phase < 2; phase++) {
		n = 0;
		t0 = ipcb_now_ns();
		do {
			for (int k = 0; k < CHUNK; k++)
				atomic_fetch_add_explicit(&sh->atomic_value, 1, memory_order_relaxed);
			n += CHUNK;
			t = ipcb_now_ns();
		} while (t - t0 < (phase ? third : cfg->warmup_ns));
		total += n;
	}
	ipcb_worker_end(w);
	u[U_AT_N] = n;
	u[U_AT_NS] = t - t0;
	if ((uint64_t)atomic_load(&sh->atomic_value) != total) {
		w->slot->lost++;
		return ipcb_worker_fail(w, 0, "atomic Value is %lld after %llu increments",
					(long long)atomic_load(&sh->atomic_value),
					(unsigned long long)total);
	}
	return 0;
}

static int client_worker(struct ipcb_wctx *w, struct variant *v, struct mgr_shared *sh)
{
	struct client cl = { .w = w, .v = v, .vlen = (size_t)mgr_opt.value_bytes, .last = 0 };
	int rc;

	cl.mc.fd = -1;
	/* A forked client has no use for the server's listener. */
	if (!w->thread_mode)
		(void)close(w->ch->fd[0]);
	cl.val = malloc(cl.vlen);
	cl.got = malloc(cl.vlen);
	if (!cl.val || !cl.got) {
		rc = ipcb_worker_fail(w, -ENOMEM, "value buffers");
		goto out;
	}
	if ((rc = ipcb_worker_gate(w)) < 0)
		goto out;
	rc = ipcb_mgr_connect(&cl.mc, (const struct sockaddr *)&sh->addr, sh->addrlen,
			      sh->transport == T_TCP ? sh->key : NULL, KEY_BYTES);
	if (rc < 0) {
		rc = ipcb_worker_fail(w, rc, "connect to the manager (%s)",
				      sh->transport == T_TCP ? "tcp" : sh->path);
		goto out;
	}
	if ((rc = rendezvous(w)) < 0)
		goto out;
	if (v->op == OP_GET && w->id == 1) {
		stamp(cl.val, cl.vlen, 0, w->id);
		if ((rc = ipcb_mgr_dict_set(&cl.mc, "k", cl.val, cl.vlen)) < 0) {
			rc = call_failed(&cl, rc, "dict set");
			goto out;
		}
		w->slot->u[U_CALLS]++;
	}
	rc = v->kind == K_COMPARE ? run_compare(&cl, sh) : run_calls(&cl);
out:
	ipcb_mgr_close(&cl.mc);
	free(cl.val);
	free(cl.got);
	return rc;
}

static int manager_worker(struct ipcb_wctx *w)
{
	struct variant v;
	int rc;

	decode_variant(w->c->cfg, w->c->variant, &v);
	if (!w->ch || !w->ch->mem)
		return ipcb_worker_fail(w, -EINVAL, "manager: no channel");
	rc = w->role == IPCB_ROLE_B ? server_worker(w, &v, w->ch->mem)
				    : client_worker(w, &v, w->ch->mem);
	return rc == -ECANCELED ? 0 : rc;
}

/* ---- finish ---- */

/* The scale sweep's one-client throughput per series (transport x design), for speedups:
 * the mean over that case's repetitions (cases run in sweep order, one client first). */
static struct {
	double sum;
	int n;
	int reps_case;   /* variant whose repetitions are summed */
} base_rate[2][2] = { { { 0, 0, -1 }, { 0, 0, -1 } }, { { 0, 0, -1 }, { 0, 0, -1 } } };

static int manager_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			  struct ipcb_metrics *m, char *why, size_t len)
{
	struct ipcb_slot *srv = &slots[0];
	struct variant v;
	uint64_t calls = 0, incrs = 0, bad = 0, migrations = srv->migrations;
	double rate = 0;
	struct ipcb_hist h;

	decode_variant(c->cfg, c->variant, &v);
	ipcb_hist_init(&h);
	for (int i = 1; i < c->nworkers; i++) {
		struct ipcb_slot *s = &slots[i];
		calls += s->u[U_CALLS];
		incrs += s->u[U_INCRS];
		bad += s->lost + s->corrupt + s->reorder + s->dup;
		migrations += s->migrations;
		ipcb_hist_merge(&h, &s->hist);
		if (s->t_end_ns > s->t_begin_ns)
			rate += (double)s->msgs * 1e9 / (double)(s->t_end_ns - s->t_begin_ns);
	}
	if (bad) {
		snprintf(why, len, "integrity: %llu wrong, lost or reordered results",
			 (unsigned long long)bad);
		return -EPROTO;
	}
	if (srv->u[S_CALLS] != calls) {
		snprintf(why, len, "integrity: the clients made %llu calls, the server answered %llu",
			 (unsigned long long)calls, (unsigned long long)srv->u[S_CALLS]);
		return -EPROTO;
	}
	if ((int64_t)srv->u[S_VALUE] != (int64_t)incrs) {
		snprintf(why, len, "integrity: the Value is %lld after %llu increments",
			 (long long)srv->u[S_VALUE], (unsigned long long)incrs);
		return -EPROTO;
	}
	if (srv->u[S_CONNS] != (uint64_t)(c->nworkers - 1)) {
		snprintf(why, len, "the server admitted %llu connections of %d clients (%llu "
			 "refused)", (unsigned long long)srv->u[S_CONNS], c->nworkers - 1,
			 (unsigned long long)srv->u[S_AUTH_REFUSED]);
		return -EPROTO;
	}

	if (v.kind == K_COMPARE) {
		const uint64_t *u = slots[1].u;
		double px = (double)u[U_PX_NS] / (double)(u[U_PX_N] ? u[U_PX_N] : 1);
		double shm = (double)u[U_SHM_NS] / (double)(u[U_SHM_N] ? u[U_SHM_N] : 1);
		double at = (double)u[U_AT_NS] / (double)(u[U_AT_N] ? u[U_AT_N] : 1);
		ipcb_metrics_add(m, "proxy_ns_per_incr", "ns", px, u[U_PX_N], CHUNK, 1);
		ipcb_metrics_add(m, "shm_ns_per_incr", "ns", shm, u[U_SHM_N], CHUNK, 1);
		ipcb_metrics_add(m, "atomic_ns_per_incr", "ns", at, u[U_AT_N], CHUNK, 1);
		ipcb_metrics_add(m, "proxy_vs_shm_ratio", "x", px / shm, 1, 1, 1);
		ipcb_metrics_add(m, "proxy_vs_atomic_ratio", "x", px / at, 1, 1, 1);
		ipcb_metrics_add(m, "shm_vs_atomic_ratio", "x", shm / at, 1, 1, 1);
	} else {
		uint64_t ops = slots[1].ops_per_sample;
		ipcb_metrics_add_hist(m, "op", &h, ops);
		ipcb_metrics_add(m, "calls", "count", (double)calls, h.count, ops, 0);
	}
	if (v.kind == K_SCALE) {
		ipcb_metrics_add(m, "calls_per_s", "msgs/s", rate, h.count, 1, 0);
		ipcb_metrics_add(m, "calls_per_s_per_client", "msgs/s", rate / (c->nworkers - 1),
				 h.count, 1, 0);
		if (!c->cfg->thread_mode || v.design == IPCB_MGR_EPOLL) {
			double win = (double)(srv->t_end_ns - srv->t_begin_ns);
			ipcb_metrics_add(m, "server_cpu_util", "fraction",
					 win > 0 ? (double)(srv->utime_ns + srv->stime_ns) / win : 0,
					 1, 1, 0);
		}
		if (srv->u[S_CALLS])
			ipcb_metrics_add(m, "server_cpu_ns_per_call", "ns",
					 (double)(srv->utime_ns + srv->stime_ns) /
					 (double)srv->u[S_CALLS], 1, 1, 1);
		__typeof__(base_rate[0][0]) *b = &base_rate[v.transport][v.design];
		if (v.clients == 1) {
			if (b->reps_case != c->variant) {
				b->sum = 0;
				b->n = 0;
				b->reps_case = c->variant;
			}
			b->sum += rate;
			b->n++;
		}
		if (v.clients == 1)
			ipcb_metrics_add(m, "speedup_vs_1_client", "x", 1.0, 1, 1, 0);
		else if (b->n > 0 && b->sum > 0)
			ipcb_metrics_add(m, "speedup_vs_1_client", "x", rate / (b->sum / b->n), 1, 1, 0);
	}
	ipcb_metrics_add(m, "auth_refused", "count", (double)srv->u[S_AUTH_REFUSED], 1, 1, 1);
	ipcb_metrics_add(m, "locks_recovered", "count", (double)srv->u[S_LOCKS], 1, 1, 1);
	ipcb_metrics_add(m, "migrations", "count", (double)migrations, 1, 1, 1);
	return 0;
}

const struct ipcb_pattern ipcb_pattern_manager = {
	.name = "manager",
	.summary = "Manager proxy calls (dict, list, Value, queue, lock) over Unix/TCP: latency, "
		   "scaling with clients, and proxy vs shared memory vs atomic",
	.headline = { "op_p50_ns", "calls_per_s", "proxy_vs_shm_ratio" },
	.opts = manager_opts,
	.variants = manager_variants,
	.plan = manager_plan,
	.worker = manager_worker,
	.finish = manager_finish,
};
