// SPDX-License-Identifier: MIT
/*
 * The manager server: its listeners and its two designs, chosen per run so they can be
 * compared (--manager-server):
 *   epoll    one thread, one event loop (the shape of redis's ae.c over ae_epoll.c): every
 *            connection non-blocking, level-triggered; a connection is read only while it
 *            has no reply in flight and does not wait for the lock, so a client that
 *            pipelines or stops reading cannot make the server buffer without bound;
 *   threads  an acceptor and one thread per client, each blocking in recv() on its own
 *            socket (multiprocessing's ThreadingMixIn server).
 * Both admit a connection the same way: the handshake when there is a key (blocking, with
 * its own timeout, on the accepting thread: the connection set-up, not a call, so the
 * event loop stalls there by design and only there), then the connection gets an id.
 * Both frame requests with the pure decoder (manager_proto.c) and run them on one store
 * (manager_store.c). A decoder error is answered with an error reply echoing the request
 * id when the header was readable, and the connection is then closed. A connection that
 * ends mid-frame is counted (truncated). A dropped connection leaves the lock's queue and
 * gives the lock back if it held it (the store reports that).
 *
 * Memory per connection: an input buffer that grows to the frame being read (at most
 * IPCB_MGR_MAX_FRAME + 4, the decoder rejects a larger length word before any growth),
 * and, only while a reply could not be sent whole, that reply's unsent tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "manager.h"
#include "names.h"

#define IN_INITIAL 4096u
#define SCRATCH (IPCB_MGR_MAX_FRAME + 4u)
#define POLL_MS 50
#define DEFAULT_MAX_CONNS 1024

struct conn {
	int fd;
	uint64_t id;
	uint8_t *in;
	size_t in_off, in_len, in_cap;   /* bytes in[in_off .. in_len) are unread */
	uint8_t *out;                    /* unsent reply tail (epoll), or NULL */
	size_t out_off, out_len;
	uint32_t wait_id;                /* request id of a queued LOCK_ACQUIRE */
	int waiting, dead, events;
	/* threads design */
	pthread_t th;
	int started;
	_Atomic int closing, finished;
	struct server *sv;
};

struct server {
	const struct ipcb_mgr_server_cfg *cfg;
	struct ipcb_mgr_store *st;
	struct conn **tab;               /* live connections */
	int ntab, max;
	uint64_t next_id;
	int admitted;
	_Atomic int live;
	uint8_t *scratch;                /* epoll: one reply buffer for the loop */
	int ep;
	struct conn **ready;             /* epoll: granted the lock, input to re-scan */
	int nready;
};

static int stopped(const struct server *sv)
{
	return sv->cfg->stop && atomic_load(sv->cfg->stop);
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		(void)close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Make room for `need` unread bytes in c->in (compacting first). 0 or -ENOMEM. */
static int in_reserve(struct conn *c, size_t need)
{
	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (need <= c->in_cap && c->in_len < c->in_cap)
		return 0;
	size_t cap = c->in_cap ? c->in_cap : IN_INITIAL;
	while (cap < need || cap <= c->in_len)
		cap *= 2;
	if (cap > SCRATCH)
		cap = SCRATCH;
	if (cap <= c->in_cap)
		return c->in_len < c->in_cap ? 0 : -EMSGSIZE;
	uint8_t *p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/* Encode an error reply for a decoder error (echoing what the header held). */
static int error_reply(const struct ipcb_mgr_frame *f, int err, uint8_t *buf, size_t cap)
{
	return ipcb_mgr_encode(buf, cap, (uint8_t)ipcb_mgr_status_of(err),
			       f->have_header ? f->id : 0, NULL, 0);
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Accept-time checks and the handshake. Returns a new connection, or NULL (refused, or
 * out of memory: the fd is closed either way). */
static struct conn *admit(struct server *sv, int fd)
{
	const struct ipcb_mgr_server_cfg *cfg = sv->cfg;
	struct conn *c;
	int one = 1;

	if (atomic_load(&sv->live) >= sv->max) {
		(void)close(fd);
		return NULL;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  /* EOPNOTSUPP on Unix */
	if (cfg->key) {
		int rc = ipcb_mgr_auth_server(fd, cfg->key, cfg->keylen);
		if (rc < 0) {
			ipcb_mgr_store_count(sv->st, IPCB_MGR_ST_AUTH_REFUSED, 1);
			(void)close(fd);
			return NULL;
		}
		ipcb_mgr_store_count(sv->st, IPCB_MGR_ST_AUTH_OK, 1);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		(void)close(fd);
		return NULL;
	}
	c->in = malloc(IN_INITIAL);
	if (!c->in) {
		free(c);
		(void)close(fd);
		return NULL;
	}
	c->in_cap = IN_INITIAL;
	c->fd = fd;
	c->id = ++sv->next_id;
	c->sv = sv;
	for (int i = 0; i < sv->max; i++)
		if (!sv->tab[i]) {
			sv->tab[i] = c;
			break;
		}
	sv->admitted++;
	atomic_fetch_add(&sv->live, 1);
	ipcb_mgr_store_count(sv->st, IPCB_MGR_ST_CONNS, 1);
	return c;
}

/* The connection is gone: the store takes the lock back if it held it; say so. */
static void drop(struct server *sv, struct conn *c, uint64_t *granted)
{
	if (ipcb_mgr_store_drop(sv->st, c->id, granted))
		fprintf(stderr, "ipcbench: manager: connection %llu dropped while holding the "
			"lock: released%s\n", (unsigned long long)c->id,
			*granted ? ", passed to the next waiter" : "");
}

static void untab(struct server *sv, struct conn *c)
{
	for (int i = 0; i < sv->max; i++)
		if (sv->tab[i] == c)
			sv->tab[i] = NULL;
}

/* ======== the event loop ======== */

static struct conn *find_conn(struct server *sv, uint64_t id)
{
	for (int i = 0; i < sv->max; i++)
		if (sv->tab[i] && sv->tab[i]->id == id)
			return sv->tab[i];
	return NULL;
}

/* Interest: input only while nothing is in flight; output while a tail is unsent. */
static void ep_update(struct server *sv, struct conn *c)
{
	int ev = EPOLLRDHUP;

	if (c->dead)
		return;
	if (!c->waiting && !c->out)
		ev |= EPOLLIN;
	if (c->out)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	struct epoll_event e = { .events = (uint32_t)ev, .data.ptr = c };
	if (epoll_ctl(sv->ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		c->dead = 1;
	else
		c->events = ev;
}

/* Send a reply now, keeping what the socket would not take. */
static void ep_reply(struct server *sv, struct conn *c, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			c->dead = 1;
			return;
		}
		done += (size_t)n;
	}
	if (done < len) {
		c->out = malloc(len - done);
		if (!c->out) {
			c->dead = 1;
			return;
		}
		memcpy(c->out, buf + done, len - done);
		c->out_off = 0;
		c->out_len = len - done;
	}
	ep_update(sv, c);
}

/* Whoever the lock passed to gets its deferred reply. */
static void ep_grant(struct server *sv, uint64_t id)
{
	struct conn *g = id ? find_conn(sv, id) : NULL;
	uint8_t r[IPCB_MGR_HDR];

	if (!g || !g->waiting)
		return;
	g->waiting = 0;
	int n = ipcb_mgr_encode(r, sizeof(r), IPCB_MGR_OK, g->wait_id, NULL, 0);
	ep_reply(sv, g, r, (size_t)n);
	if (sv->nready < sv->max)
		sv->ready[sv->nready++] = g;   /* its buffered input may hold more requests */
}

/* Run the buffered requests of c, reading more while it has none in flight. */
static void ep_input(struct server *sv, struct conn *c)
{
	struct ipcb_mgr_frame f;

	while (!c->dead && !c->waiting && !c->out) {
		int r = ipcb_mgr_decode_request(c->in + c->in_off, c->in_len - c->in_off, 0, &f);
		if (r > 0) {
			uint64_t granted;
			int n = ipcb_mgr_store_exec(sv->st, c->id, &f, sv->scratch, SCRATCH, &granted);
			c->in_off += (size_t)r;
			if (n < 0) {
				c->dead = 1;
				break;
			}
			if (n == 0) {
				c->waiting = 1;
				c->wait_id = f.id;
				ep_update(sv, c);
			} else {
				ep_reply(sv, c, sv->scratch, (size_t)n);
			}
			ep_grant(sv, granted);
			continue;
		}
		if (r < 0) {
			int n = error_reply(&f, r, sv->scratch, SCRATCH);
			ipcb_mgr_store_count(sv->st, IPCB_MGR_ST_PROTO, 1);
			if (n > 0)
				(void)send(c->fd, sv->scratch, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
			c->dead = 1;
			break;
		}
		if (in_reserve(c, f.need) < 0) {
			c->dead = 1;
			break;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (c->in_len > c->in_off)
			ipcb_mgr_store_count(sv->st, IPCB_MGR_ST_TRUNC, 1);
		c->dead = 1;   /* EOF or error */
	}
}

static void ep_output(struct server *sv, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = 1;
			return;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	ep_update(sv, c);
	ep_input(sv, c);
}

static void ep_close(struct server *sv, struct conn *c)
{
	uint64_t granted;

	(void)epoll_ctl(sv->ep, EPOLL_CTL_DEL, c->fd, NULL);
	for (int i = 0; i < sv->nready; i++)
		if (sv->ready[i] == c)
			sv->ready[i] = NULL;
	untab(sv, c);
	drop(sv, c, &granted);
	atomic_fetch_sub(&sv->live, 1);
	conn_free(c);
	ep_grant(sv, granted);
}

static void ep_accept(struct server *sv)
{
	for (;;) {
		int fd = accept4(sv->cfg->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;   /* EAGAIN: no more; other errors: the client's problem */
		struct conn *c = admit(sv, fd);
		if (!c)
			continue;
		int fl = fcntl(c->fd, F_GETFL);
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
		c->events = EPOLLIN | EPOLLRDHUP;
		if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    epoll_ctl(sv->ep, EPOLL_CTL_ADD, c->fd, &e) < 0) {
			c->events = 0;
			untab(sv, c);
			atomic_fetch_sub(&sv->live, 1);
			conn_free(c);
		}
	}
}

static void ep_reap(struct server *sv)
{
	for (int i = 0; i < sv->max; i++)
		if (sv->tab[i] && sv->tab[i]->dead)
			ep_close(sv, sv->tab[i]);
}

static int serve_epoll(struct server *sv)
{
	struct epoll_event evs[64];
	int rc = 0;

	sv->ep = epoll_create1(EPOLL_CLOEXEC);
	sv->scratch = malloc(SCRATCH);
	sv->ready = calloc((size_t)sv->max, sizeof(*sv->ready));
	if (sv->ep < 0 || !sv->scratch || !sv->ready) {
		rc = sv->ep < 0 ? -errno : -ENOMEM;
		goto out;
	}
	struct epoll_event le = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(sv->ep, EPOLL_CTL_ADD, sv->cfg->listen_fd, &le) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		if (stopped(sv))
			break;
		if (sv->cfg->expect_clients > 0 && sv->admitted >= sv->cfg->expect_clients &&
		    atomic_load(&sv->live) == 0)
			break;
		int n = epoll_wait(sv->ep, evs, 64, POLL_MS);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				ep_accept(sv);
				continue;
			}
			if (c->dead)
				continue;
			if (evs[i].events & EPOLLOUT)
				ep_output(sv, c);
			if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				ep_input(sv, c);
			/* The peer is gone while we were not reading (waiting for the lock). */
			if (!c->dead && c->waiting && (evs[i].events & (EPOLLRDHUP | EPOLLHUP)))
				c->dead = 1;
		}
		while (sv->nready > 0) {
			struct conn *g = sv->ready[--sv->nready];
			if (g && !g->dead)
				ep_input(sv, g);
		}
		ep_reap(sv);
	}
out:
	for (int i = 0; i < sv->max; i++)
		if (sv->tab[i]) {
			uint64_t g;
			(void)ipcb_mgr_store_drop(sv->st, sv->tab[i]->id, &g);
			conn_free(sv->tab[i]);
			sv->tab[i] = NULL;
		}
	if (sv->ep >= 0)
		(void)close(sv->ep);
	free(sv->scratch);
	free(sv->ready);
	return rc;
}

/* ======== one thread per client ======== */

static void *handler(void *p)
{
	struct conn *c = p;
	struct server *sv = c->sv;
	uint8_t *buf = malloc(SCRATCH);
	struct ipcb_mgr_frame f;
	uint64_t granted;

	while (buf && !atomic_load(&c->closing)) {
		int r = ipcb_mgr_decode_request(c->in + c->in_off, c->in_len - c->in_off, 0, &f);
		if (r < 0) {
			int n = error_reply(&f, r, buf, SCRATCH);
			ipcb_mgr_store_count(sv->st, IPCB_MGR_ST_PROTO, 1);
			if (n > 0)
				(void)send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		}
		if (r == 0) {
			if (in_reserve(c, f.need) < 0)
				break;
			ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
			if (n > 0) {
				c->in_len += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (c->in_len > c->in_off && !atomic_load(&c->closing))
				ipcb_mgr_store_count(sv->st, IPCB_MGR_ST_TRUNC, 1);
			break;
		}
		c->in_off += (size_t)r;
		int n = ipcb_mgr_store_exec(sv->st, c->id, &f, buf, SCRATCH, &granted);
		if (n == 0) {   /* queued for the lock: wait here until it is ours */
			if (ipcb_mgr_store_wait_owner(sv->st, c->id, &c->closing, sv->cfg->stop) < 0)
				break;
			n = ipcb_mgr_encode(buf, SCRATCH, IPCB_MGR_OK, f.id, NULL, 0);
		}
		if (n < 0 || send_all(c->fd, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	drop(sv, c, &granted);   /* a waiter wakes on the store's broadcast */
	atomic_store(&c->finished, 1);
	atomic_fetch_sub(&sv->live, 1);
	return NULL;
}

static void th_join(struct server *sv, int i)
{
	struct conn *c = sv->tab[i];

	if (c->started)
		(void)pthread_join(c->th, NULL);
	sv->tab[i] = NULL;
	conn_free(c);
}

static int serve_threads(struct server *sv)
{
	const struct ipcb_mgr_server_cfg *cfg = sv->cfg;
	int rc = 0;

	for (;;) {
		for (int i = 0; i < sv->max; i++)
			if (sv->tab[i] && atomic_load(&sv->tab[i]->finished))
				th_join(sv, i);
		if (stopped(sv))
			break;
		if (cfg->expect_clients > 0 && sv->admitted >= cfg->expect_clients &&
		    atomic_load(&sv->live) == 0)
			break;
		struct pollfd p = { .fd = cfg->listen_fd, .events = POLLIN };
		int n = poll(&p, 1, POLL_MS);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n <= 0)
			continue;
		int fd = accept4(cfg->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct conn *c = admit(sv, fd);
		if (!c)
			continue;
		int e = pthread_create(&c->th, NULL, handler, c);
		if (e != 0) {
			untab(sv, c);
			atomic_fetch_sub(&sv->live, 1);
			conn_free(c);
			continue;
		}
		c->started = 1;
	}
	/* Stop: wake every handler (blocked in recv, or waiting for the lock), then join. */
	for (int i = 0; i < sv->max; i++)
		if (sv->tab[i]) {
			atomic_store(&sv->tab[i]->closing, 1);
			(void)shutdown(sv->tab[i]->fd, SHUT_RDWR);
		}
	ipcb_mgr_store_wake(sv->st);
	for (int i = 0; i < sv->max; i++)
		if (sv->tab[i])
			th_join(sv, i);
	return rc;
}

int ipcb_mgr_serve(const struct ipcb_mgr_server_cfg *cfg, struct ipcb_mgr_stats *out)
{
	struct server sv;
	int rc, fl;

	memset(&sv, 0, sizeof(sv));
	sv.cfg = cfg;
	sv.ep = -1;
	sv.max = cfg->max_conns > 0 ? cfg->max_conns : DEFAULT_MAX_CONNS;
	sv.st = ipcb_mgr_store_new();
	sv.tab = calloc((size_t)sv.max, sizeof(*sv.tab));
	if (!sv.st || !sv.tab) {
		ipcb_mgr_store_free(sv.st);
		free(sv.tab);
		return -ENOMEM;
	}
	/* Readiness is polled: an accept must never block if the client went away meanwhile. */
	fl = fcntl(cfg->listen_fd, F_GETFL);
	if (fl < 0 || fcntl(cfg->listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
	} else {
		rc = cfg->design == IPCB_MGR_THREADS ? serve_threads(&sv) : serve_epoll(&sv);
	}
	if (out)
		ipcb_mgr_store_stats(sv.st, out);
	ipcb_mgr_store_free(sv.st);
	free(sv.tab);
	return rc;
}

/* ======== listeners ======== */

int ipcb_mgr_listen_unix(char *path, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int rc, fd;

	rc = ipcb_name_new(IPCB_NAME_PATH, path, len);
	if (rc < 0)
		return rc;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		rc = -ENAMETOOLONG;
		goto unname;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto unname;
	}
	/* fchmod() before bind() keeps the file from ever being wider than 0600 on Linux; the
	 * chmod() after covers kernels that ignore it; nobody can connect before listen(). */
	(void)fchmod(fd, 0600);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		(void)close(fd);
		goto unname;
	}
	if (chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		(void)close(fd);
		(void)ipcb_name_remove(IPCB_NAME_PATH, path, -1);   /* unlinks what bind made */
		return rc;
	}
	return fd;
unname:
	(void)ipcb_name_remove(IPCB_NAME_PATH, path, -1);
	return rc;
}

int ipcb_mgr_listen_tcp(struct sockaddr_storage *addr, socklen_t *addrlen)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(lo);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&lo, sizeof(lo)) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&lo, &len) < 0) {
		rc = -errno;
		(void)close(fd);
		return rc;
	}
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, &lo, sizeof(lo));
	*addrlen = sizeof(lo);
	return fd;
}
