// SPDX-License-Identifier: MIT
/*
 * The manager's client side: a connection and one synchronous call at a time, the way a
 * multiprocessing proxy calls its manager (send the request, block for the reply). The
 * reply is read with the same pure decoder the server uses, so a server that sends garbage
 * gets -EPROTO, never an overrun. A server that dies closes its sockets with it: the
 * blocked recv() returns EOF (-EPIPE) or ECONNRESET at once, so a client never hangs on a
 * dead server.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager.h"

#define BUF_INITIAL 4096u

void ipcb_mgr_close(struct ipcb_mgr_client *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->cap = 0;
}

int ipcb_mgr_connect(struct ipcb_mgr_client *c, const struct sockaddr *addr, socklen_t len,
		     const uint8_t *key, size_t keylen)
{
	int rc, one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	c->buf = malloc(BUF_INITIAL);
	if (!c->buf) {
		rc = -ENOMEM;
		goto fail;
	}
	c->cap = BUF_INITIAL;
	while (connect(c->fd, addr, len) < 0) {
		if (errno != EINTR) {
			rc = -errno;
			goto fail;
		}
	}
	if (addr->sa_family == AF_INET)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (key && (rc = ipcb_mgr_auth_client(c->fd, key, keylen)) < 0)
		goto fail;
	return 0;
fail:
	ipcb_mgr_close(c);
	return rc;
}

static int reserve(struct ipcb_mgr_client *c, size_t need)
{
	if (need <= c->cap)
		return 0;
	if (need > IPCB_MGR_MAX_FRAME + 4u)
		return -EMSGSIZE;
	uint8_t *p = realloc(c->buf, need);
	if (!p)
		return -ENOMEM;
	c->buf = p;
	c->cap = need;
	return 0;
}

int ipcb_mgr_call(struct ipcb_mgr_client *c, int op, const struct ipcb_mgr_arg *args, int nargs)
{
	uint32_t id = ++c->next_id;
	size_t have = 0, off = 0;
	int n, rc;

	if (c->fd < 0)
		return -EBADF;
	if ((rc = reserve(c, ipcb_mgr_frame_size(args, nargs))) < 0)
		return rc;
	n = ipcb_mgr_encode(c->buf, c->cap, (uint8_t)op, id, args, nargs);
	if (n < 0)
		return n;
	while (off < (size_t)n) {
		ssize_t s = send(c->fd, c->buf + off, (size_t)n - off, MSG_NOSIGNAL);
		if (s < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)s;
	}
	for (;;) {
		rc = ipcb_mgr_decode(c->buf, have, 0, &c->reply);
		if (rc > 0)
			break;
		if (rc < 0)
			return -EPROTO;
		if ((rc = reserve(c, c->reply.need)) < 0)
			return rc == -EMSGSIZE ? -EPROTO : rc;
		/* One call in flight: whatever arrives belongs to this reply, so read greedily
		 * (one recv() per reply in the common case). */
		ssize_t r = recv(c->fd, c->buf + have, c->cap - have, 0);
		if (r == 0)
			return -EPIPE;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		have += (size_t)r;
	}
	if (c->reply.id != id && c->reply.id != 0)
		return -EPROTO;
	return c->reply.code;
}

/* A call whose OK reply carries nres arguments; -errno for a refusal or a bad reply. */
static int call(struct ipcb_mgr_client *c, int op, const struct ipcb_mgr_arg *a, int n, int nres)
{
	int st = ipcb_mgr_call(c, op, a, n);

	if (st < 0)
		return st;
	if (st != IPCB_MGR_OK)
		return ipcb_mgr_status_errno(st);
	if (c->reply.id == 0 || c->reply.nargs != nres)
		return -EPROTO;
	return 0;
}

static int copy_out(struct ipcb_mgr_client *c, void *out, size_t cap, size_t *len)
{
	const struct ipcb_mgr_arg *a = &c->reply.arg[0];

	*len = a->len;
	if (a->len > cap)
		return -ENOBUFS;
	if (a->len)
		memcpy(out, a->p, a->len);
	return 0;
}

static int u64_out(struct ipcb_mgr_client *c, uint64_t *v)
{
	if (c->reply.arg[0].len != 8)
		return -EPROTO;
	if (v)
		*v = ipcb_mgr_get_u64(c->reply.arg[0].p);
	return 0;
}

int ipcb_mgr_ping(struct ipcb_mgr_client *c)
{
	return call(c, IPCB_MGR_PING, NULL, 0, 0);
}

int ipcb_mgr_dict_get(struct ipcb_mgr_client *c, const char *key, void *out, size_t cap,
		      size_t *len)
{
	struct ipcb_mgr_arg a = { (const uint8_t *)key, (uint32_t)strlen(key) };
	int rc = call(c, IPCB_MGR_DICT_GET, &a, 1, 1);

	return rc < 0 ? rc : copy_out(c, out, cap, len);
}

int ipcb_mgr_dict_set(struct ipcb_mgr_client *c, const char *key, const void *v, size_t vlen)
{
	struct ipcb_mgr_arg a[2] = { { (const uint8_t *)key, (uint32_t)strlen(key) },
				     { v, (uint32_t)vlen } };

	if (vlen > IPCB_MGR_MAX_VALUE)
		return -EMSGSIZE;
	return call(c, IPCB_MGR_DICT_SET, a, 2, 0);
}

int ipcb_mgr_list_append(struct ipcb_mgr_client *c, const void *v, size_t vlen, uint64_t *n)
{
	struct ipcb_mgr_arg a = { v, (uint32_t)vlen };
	int rc;

	if (vlen > IPCB_MGR_MAX_VALUE)
		return -EMSGSIZE;
	rc = call(c, IPCB_MGR_LIST_APPEND, &a, 1, 1);
	return rc < 0 ? rc : u64_out(c, n);
}

int ipcb_mgr_list_pop(struct ipcb_mgr_client *c, void *out, size_t cap, size_t *len)
{
	int rc = call(c, IPCB_MGR_LIST_POP, NULL, 0, 1);

	return rc < 0 ? rc : copy_out(c, out, cap, len);
}

int ipcb_mgr_value_incr(struct ipcb_mgr_client *c, int64_t delta, int64_t *now)
{
	uint8_t d[8];
	struct ipcb_mgr_arg a = { d, 8 };
	uint64_t v;
	int rc;

	ipcb_mgr_put_u64(d, (uint64_t)delta);
	rc = call(c, IPCB_MGR_VALUE_INCR, &a, 1, 1);
	if (rc < 0 || (rc = u64_out(c, &v)) < 0)
		return rc;
	if (now)
		*now = (int64_t)v;
	return 0;
}

int ipcb_mgr_value_get(struct ipcb_mgr_client *c, int64_t *now)
{
	uint64_t v;
	int rc = call(c, IPCB_MGR_VALUE_GET, NULL, 0, 1);

	if (rc < 0 || (rc = u64_out(c, &v)) < 0)
		return rc;
	if (now)
		*now = (int64_t)v;
	return 0;
}

int ipcb_mgr_queue_put(struct ipcb_mgr_client *c, const void *v, size_t vlen, uint64_t *n)
{
	struct ipcb_mgr_arg a = { v, (uint32_t)vlen };
	int rc;

	if (vlen > IPCB_MGR_MAX_VALUE)
		return -EMSGSIZE;
	rc = call(c, IPCB_MGR_QUEUE_PUT, &a, 1, 1);
	return rc < 0 ? rc : u64_out(c, n);
}

int ipcb_mgr_queue_get(struct ipcb_mgr_client *c, void *out, size_t cap, size_t *len)
{
	int rc = call(c, IPCB_MGR_QUEUE_GET, NULL, 0, 1);

	return rc < 0 ? rc : copy_out(c, out, cap, len);
}

int ipcb_mgr_lock_acquire(struct ipcb_mgr_client *c)
{
	return call(c, IPCB_MGR_LOCK_ACQUIRE, NULL, 0, 0);
}

int ipcb_mgr_lock_release(struct ipcb_mgr_client *c)
{
	return call(c, IPCB_MGR_LOCK_RELEASE, NULL, 0, 0);
}

int ipcb_mgr_stats(struct ipcb_mgr_client *c, struct ipcb_mgr_stats *st)
{
	int rc = call(c, IPCB_MGR_STATS, NULL, 0, 1);
	const uint8_t *p;

	if (rc < 0)
		return rc;
	if (c->reply.arg[0].len != 8 * IPCB_MGR_NSTATS)
		return -EPROTO;
	p = c->reply.arg[0].p;
	st->calls = ipcb_mgr_get_u64(p);
	st->conns = ipcb_mgr_get_u64(p + 8);
	st->auth_ok = ipcb_mgr_get_u64(p + 16);
	st->auth_refused = ipcb_mgr_get_u64(p + 24);
	st->proto_errors = ipcb_mgr_get_u64(p + 32);
	st->truncated = ipcb_mgr_get_u64(p + 40);
	st->locks_recovered = ipcb_mgr_get_u64(p + 48);
	st->value = (int64_t)ipcb_mgr_get_u64(p + 56);
	return 0;
}
