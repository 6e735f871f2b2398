// SPDX-License-Identifier: MIT
/*
 * The manager (ipc/manager.h): the decoder on every class of malformed input (truncated
 * header, bad version, length over the limit or under the header, unknown op, reserved
 * bits, an argument past the end, negative and oversized counts, trailing bytes, wrong
 * arity and argument sizes); the store's objects; and real servers, forked, of both designs
 * (epoll and threads): every proxy call, pipelined and large requests, malformed frames on
 * the wire (error reply, then the connection closed, the server alive), the Unix socket's
 * mode 0600, the TCP authkey (a good key admitted, a wrong key and no key refused and
 * counted), the lock passed on when its owner is killed (to a waiting client, and free for
 * the next), and a client whose server is killed under it failing at once, also while it
 * was blocked in a call. Every blocking step is bounded (socket timeouts, alarm()).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/clock.h"
#include "manager.h"
#include "names.h"
#include "testutil.h"

#define T_TIMEOUT_S 5
#define FAIL_FAST_NS 2000000000ull

/* ---------------- decoder ---------------- */

static size_t enc(uint8_t *buf, size_t cap, int op, uint32_t id, const struct ipcb_mgr_arg *a,
		  int n)
{
	int rc = ipcb_mgr_encode(buf, cap, (uint8_t)op, id, a, n);
	return rc > 0 ? (size_t)rc : 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void test_decoder(void)
{
	uint8_t buf[1024], d8[8] = { 1 };
	struct ipcb_mgr_arg key = { (const uint8_t *)"key", 3 }, val = { (const uint8_t *)"val", 3 };
	struct ipcb_mgr_arg kv[2] = { key, val };
	struct ipcb_mgr_frame f;
	size_t n;

	/* a good frame decodes, fields intact */
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_SET, 77, kv, 2);
	CHECK(n == IPCB_MGR_HDR + 2 * 4 + 6);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == (int)n);
	CHECK(f.code == IPCB_MGR_DICT_SET && f.id == 77 && f.nargs == 2);
	CHECK(f.arg[0].len == 3 && memcmp(f.arg[0].p, "key", 3) == 0);
	CHECK(f.arg[1].len == 3 && memcmp(f.arg[1].p, "val", 3) == 0);
	/* and every op with its arity */
	struct ipcb_mgr_arg d = { d8, 8 };
	CHECK(ipcb_mgr_decode_request(buf, enc(buf, sizeof(buf), IPCB_MGR_PING, 1, NULL, 0), 0,
				      &f) > 0);
	CHECK(ipcb_mgr_decode_request(buf, enc(buf, sizeof(buf), IPCB_MGR_VALUE_INCR, 1, &d, 1), 0,
				      &f) > 0);
	CHECK(ipcb_mgr_decode_request(buf, enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &key, 1), 0,
				      &f) > 0);

	/* truncated: every prefix of a good frame asks for more, never fails or reads past */
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_SET, 5, kv, 2);
	for (size_t k = 0; k < n; k++) {
		uint8_t *copy = malloc(k ? k : 1);   /* exact size: ASan catches an over-read */
		memcpy(copy, buf, k);
		int rc = ipcb_mgr_decode_request(copy, k, 0, &f);
		CHECKF(rc == 0, "prefix %zu: %d", k, rc);
		CHECK(f.need == (k < 4 ? 4 : n));
		CHECK(f.have_header == (k >= IPCB_MGR_HDR));
		free(copy);
	}

	/* bad version */
	n = enc(buf, sizeof(buf), IPCB_MGR_PING, 9, NULL, 0);
	buf[4] = 2;
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -EPROTONOSUPPORT);
	CHECK(f.have_header && f.id == 9);   /* so the error reply can echo the id */
	buf[4] = 0;
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -EPROTONOSUPPORT);

	/* length over the limit: refused from the length word alone */
	put32(buf, IPCB_MGR_MAX_FRAME + 1);
	CHECK(ipcb_mgr_decode(buf, 4, 0, &f) == -EMSGSIZE);
	put32(buf, 0xffffffffu);
	CHECK(ipcb_mgr_decode(buf, 4, 0, &f) == -EMSGSIZE);
	put32(buf, 1000);
	CHECK(ipcb_mgr_decode(buf, 4, 999, &f) == -EMSGSIZE);   /* a smaller cap */
	/* and under the header */
	put32(buf, IPCB_MGR_HDR_BODY - 1);
	CHECK(ipcb_mgr_decode(buf, 4, 0, &f) == -EMSGSIZE);
	put32(buf, 0);
	CHECK(ipcb_mgr_decode(buf, 4, 0, &f) == -EMSGSIZE);

	/* unknown op: the frame is fine, the request is not */
	n = enc(buf, sizeof(buf), 0, 1, NULL, 0);
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == (int)n);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EOPNOTSUPP);
	n = enc(buf, sizeof(buf), IPCB_MGR_OP_END, 1, NULL, 0);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EOPNOTSUPP);
	n = enc(buf, sizeof(buf), 255, 1, NULL, 0);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EOPNOTSUPP);

	/* reserved bits */
	n = enc(buf, sizeof(buf), IPCB_MGR_PING, 1, NULL, 0);
	buf[7] = 0x80;
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -EBADMSG);

	/* key length past the end of the frame (and far past it) */
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &key, 1);
	put32(buf + IPCB_MGR_HDR, 4);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EBADMSG);
	put32(buf + IPCB_MGR_HDR, 0x7fffffffu);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EBADMSG);
	/* an argument count that needs more length words than there are bytes */
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &key, 1);
	put32(buf + 12, 3);
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -EBADMSG);

	/* negative and oversized counts */
	n = enc(buf, sizeof(buf), IPCB_MGR_PING, 1, NULL, 0);
	put32(buf + 12, 0xffffffffu);
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -EINVAL);
	put32(buf + 12, 0x80000000u);
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -EINVAL);
	put32(buf + 12, IPCB_MGR_MAX_ARGS + 1);
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -E2BIG);
	put32(buf + 12, 0x7fffffffu);
	CHECK(ipcb_mgr_decode(buf, n, 0, &f) == -E2BIG);
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &key, 1);
	put32(buf + IPCB_MGR_HDR, 0xfffffffdu);                  /* argument length -3 */
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EINVAL);

	/* bytes after the last argument */
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &key, 1);
	put32(buf, (uint32_t)(n - 4 + 2));
	buf[n] = buf[n + 1] = 0;
	CHECK(ipcb_mgr_decode(buf, n + 2, 0, &f) == -EBADMSG);

	/* arity and argument sizes */
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, NULL, 0);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EINVAL);
	n = enc(buf, sizeof(buf), IPCB_MGR_PING, 1, &key, 1);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EINVAL);
	struct ipcb_mgr_arg empty = { (const uint8_t *)"", 0 };
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &empty, 1);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EINVAL);
	static uint8_t longkey[IPCB_MGR_MAX_KEY + 1];
	struct ipcb_mgr_arg lk = { longkey, sizeof(longkey) };
	uint8_t big[2048];
	n = enc(big, sizeof(big), IPCB_MGR_DICT_GET, 1, &lk, 1);
	CHECK(ipcb_mgr_decode_request(big, n, 0, &f) == -EINVAL);
	lk.len = IPCB_MGR_MAX_KEY;
	n = enc(big, sizeof(big), IPCB_MGR_DICT_GET, 1, &lk, 1);
	CHECK(ipcb_mgr_decode_request(big, n, 0, &f) > 0);
	struct ipcb_mgr_arg d4 = { d8, 4 };
	n = enc(buf, sizeof(buf), IPCB_MGR_VALUE_INCR, 1, &d4, 1);
	CHECK(ipcb_mgr_decode_request(buf, n, 0, &f) == -EINVAL);

	/* two frames back to back: one at a time */
	n = enc(buf, sizeof(buf), IPCB_MGR_PING, 1, NULL, 0);
	size_t m = enc(buf + n, sizeof(buf) - n, IPCB_MGR_PING, 2, NULL, 0);
	CHECK(ipcb_mgr_decode_request(buf, n + m, 0, &f) == (int)n && f.id == 1);
	CHECK(ipcb_mgr_decode_request(buf + n, m, 0, &f) == (int)m && f.id == 2);

	/* the encoder refuses what the decoder would */
	CHECK(ipcb_mgr_encode(buf, 10, IPCB_MGR_PING, 1, NULL, 0) == -EMSGSIZE);
	CHECK(ipcb_mgr_encode(buf, sizeof(buf), IPCB_MGR_PING, 1, kv, IPCB_MGR_MAX_ARGS + 1) ==
	      -E2BIG);

	/* error statuses map both ways */
	CHECK(ipcb_mgr_status_of(-EMSGSIZE) == IPCB_MGR_ETOOBIG);
	CHECK(ipcb_mgr_status_of(-EPROTONOSUPPORT) == IPCB_MGR_EVERSION);
	CHECK(ipcb_mgr_status_of(-EOPNOTSUPP) == IPCB_MGR_EUNKNOWN);
	CHECK(ipcb_mgr_status_of(-EBADMSG) == IPCB_MGR_EBADMSG);
	CHECK(ipcb_mgr_status_errno(IPCB_MGR_ENOTFOUND) == -ENOENT);
	CHECK(ipcb_mgr_status_errno(200) == -EPROTO);
}

/* ---------------- store ---------------- */

static int exec(struct ipcb_mgr_store *s, uint64_t conn, int op, const struct ipcb_mgr_arg *a,
		int n, struct ipcb_mgr_frame *r, uint64_t *granted)
{
	static uint8_t req[4096], out[4096];
	struct ipcb_mgr_frame f;
	size_t len = enc(req, sizeof(req), op, 42, a, n);
	uint64_t g;

	if (ipcb_mgr_decode_request(req, len, 0, &f) <= 0)
		return -100;
	int rc = ipcb_mgr_store_exec(s, conn, &f, out, sizeof(out), granted ? granted : &g);
	if (rc <= 0)
		return rc == 0 ? -1 : rc;   /* -1: deferred */
	if (ipcb_mgr_decode(out, (size_t)rc, 0, r) != rc || r->id != 42)
		return -101;
	return r->code;
}

static void test_store(void)
{
	struct ipcb_mgr_store *s = ipcb_mgr_store_new();
	struct ipcb_mgr_frame r;
	struct ipcb_mgr_arg k = { (const uint8_t *)"k", 1 }, v1 = { (const uint8_t *)"one", 3 },
			    v2 = { (const uint8_t *)"two", 3 };
	struct ipcb_mgr_arg kv[2] = { k, v1 };
	uint8_t d[8];
	struct ipcb_mgr_arg delta = { d, 8 };
	uint64_t g;
	struct ipcb_mgr_stats st;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(exec(s, 1, IPCB_MGR_DICT_GET, &k, 1, &r, NULL) == IPCB_MGR_ENOTFOUND);
	CHECK(exec(s, 1, IPCB_MGR_DICT_SET, kv, 2, &r, NULL) == IPCB_MGR_OK);
	CHECK(exec(s, 1, IPCB_MGR_DICT_GET, &k, 1, &r, NULL) == IPCB_MGR_OK &&
	      r.nargs == 1 && r.arg[0].len == 3 && memcmp(r.arg[0].p, "one", 3) == 0);
	kv[1] = v2;
	CHECK(exec(s, 1, IPCB_MGR_DICT_SET, kv, 2, &r, NULL) == IPCB_MGR_OK);
	CHECK(exec(s, 1, IPCB_MGR_DICT_GET, &k, 1, &r, NULL) == IPCB_MGR_OK &&
	      memcmp(r.arg[0].p, "two", 3) == 0);
	/* many keys: the table grows and still finds each */
	for (int i = 0; i < 500; i++) {
		char key[16];
		snprintf(key, sizeof(key), "key%d", i);
		struct ipcb_mgr_arg a[2] = { { (const uint8_t *)key, (uint32_t)strlen(key) },
					     { (const uint8_t *)key, (uint32_t)strlen(key) } };
		CHECK(exec(s, 1, IPCB_MGR_DICT_SET, a, 2, &r, NULL) == IPCB_MGR_OK);
	}
	int found = 0;
	for (int i = 0; i < 500; i++) {
		char key[16];
		snprintf(key, sizeof(key), "key%d", i);
		struct ipcb_mgr_arg a = { (const uint8_t *)key, (uint32_t)strlen(key) };
		found += exec(s, 1, IPCB_MGR_DICT_GET, &a, 1, &r, NULL) == IPCB_MGR_OK &&
			 r.arg[0].len == strlen(key) && memcmp(r.arg[0].p, key, strlen(key)) == 0;
	}
	CHECK(found == 500);

	/* list: last in, first out; queue: first in, first out */
	CHECK(exec(s, 1, IPCB_MGR_LIST_POP, NULL, 0, &r, NULL) == IPCB_MGR_EEMPTY);
	CHECK(exec(s, 1, IPCB_MGR_QUEUE_GET, NULL, 0, &r, NULL) == IPCB_MGR_EEMPTY);
	for (int i = 0; i < 40; i++) {   /* past the first ring capacity */
		uint8_t b = (uint8_t)i;
		struct ipcb_mgr_arg a = { &b, 1 };
		CHECK(exec(s, 1, IPCB_MGR_LIST_APPEND, &a, 1, &r, NULL) == IPCB_MGR_OK &&
		      ipcb_mgr_get_u64(r.arg[0].p) == (uint64_t)i + 1);
		CHECK(exec(s, 1, IPCB_MGR_QUEUE_PUT, &a, 1, &r, NULL) == IPCB_MGR_OK);
	}
	int order = 1;
	for (int i = 0; i < 40; i++) {
		order &= exec(s, 1, IPCB_MGR_LIST_POP, NULL, 0, &r, NULL) == IPCB_MGR_OK &&
			 r.arg[0].p[0] == 39 - i;
		order &= exec(s, 1, IPCB_MGR_QUEUE_GET, NULL, 0, &r, NULL) == IPCB_MGR_OK &&
			 r.arg[0].p[0] == i;
	}
	CHECK(order);

	/* Value */
	ipcb_mgr_put_u64(d, 5);
	CHECK(exec(s, 1, IPCB_MGR_VALUE_INCR, &delta, 1, &r, NULL) == IPCB_MGR_OK &&
	      ipcb_mgr_get_u64(r.arg[0].p) == 5);
	ipcb_mgr_put_u64(d, (uint64_t)-7);
	CHECK(exec(s, 1, IPCB_MGR_VALUE_INCR, &delta, 1, &r, NULL) == IPCB_MGR_OK &&
	      (int64_t)ipcb_mgr_get_u64(r.arg[0].p) == -2);

	/* lock: 1 holds, 2 and 3 queue, release hands over in order */
	CHECK(exec(s, 1, IPCB_MGR_LOCK_ACQUIRE, NULL, 0, &r, NULL) == IPCB_MGR_OK);
	CHECK(exec(s, 1, IPCB_MGR_LOCK_ACQUIRE, NULL, 0, &r, NULL) == IPCB_MGR_EARGS);
	CHECK(exec(s, 2, IPCB_MGR_LOCK_ACQUIRE, NULL, 0, &r, NULL) == -1);
	CHECK(exec(s, 3, IPCB_MGR_LOCK_ACQUIRE, NULL, 0, &r, NULL) == -1);
	CHECK(exec(s, 2, IPCB_MGR_LOCK_RELEASE, NULL, 0, &r, NULL) == IPCB_MGR_ENOTOWNER);
	CHECK(exec(s, 1, IPCB_MGR_LOCK_RELEASE, NULL, 0, &r, &g) == IPCB_MGR_OK && g == 2);
	/* the owner (2) drops: 3 gets it, counted */
	CHECK(ipcb_mgr_store_drop(s, 2, &g) == 1 && g == 3);
	/* a waiter that drops leaves the queue */
	CHECK(exec(s, 4, IPCB_MGR_LOCK_ACQUIRE, NULL, 0, &r, NULL) == -1);
	CHECK(ipcb_mgr_store_drop(s, 4, &g) == 0 && g == 0);
	CHECK(exec(s, 3, IPCB_MGR_LOCK_RELEASE, NULL, 0, &r, &g) == IPCB_MGR_OK && g == 0);
	CHECK(exec(s, 5, IPCB_MGR_LOCK_ACQUIRE, NULL, 0, &r, NULL) == IPCB_MGR_OK);

	ipcb_mgr_store_stats(s, &st);
	CHECK(st.locks_recovered == 1 && st.value == -2 && st.calls > 1000);
	CHECK(exec(s, 1, IPCB_MGR_STATS, NULL, 0, &r, NULL) == IPCB_MGR_OK &&
	      r.arg[0].len == 8 * IPCB_MGR_NSTATS);
	ipcb_mgr_store_free(s);
}

/* ---------------- real servers ---------------- */

struct srv {
	pid_t pid;
	struct sockaddr_storage addr;
	socklen_t len;
	char path[IPCB_NAME_MAX];
	int tcp, design;
};

static const uint8_t good_key[] = "the right key, 32 bytes long....";
static const uint8_t bad_key[] = "the wrong key, 32 bytes long....";

static int srv_start(struct srv *s, int tcp, int design)
{
	int fd;

	memset(s, 0, sizeof(*s));
	s->tcp = tcp;
	s->design = design;
	if (tcp) {
		fd = ipcb_mgr_listen_tcp(&s->addr, &s->len);
	} else {
		struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
		fd = ipcb_mgr_listen_unix(s->path, sizeof(s->path));
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", s->path);
		s->len = sizeof(*un);
	}
	if (fd < 0)
		return fd;
	s->pid = fork();
	if (s->pid == 0) {
		struct ipcb_mgr_server_cfg cfg = { .listen_fd = fd, .design = design,
						   .key = tcp ? good_key : NULL,
						   .keylen = sizeof(good_key) - 1 };
		alarm(120);
		_exit(ipcb_mgr_serve(&cfg, NULL) == 0 ? 0 : 1);
	}
	(void)close(fd);   /* only the server listens: a dead server refuses connections */
	return s->pid > 0 ? 0 : -errno;
}

/* Kill the server; 1 if it was still running (it had not crashed). */
static int srv_stop(struct srv *s)
{
	int status, alive = s->pid > 0 && waitpid(s->pid, &status, WNOHANG) == 0;

	if (s->pid > 0) {
		(void)kill(s->pid, SIGKILL);
		(void)waitpid(s->pid, &status, 0);
		s->pid = 0;
	}
	if (s->path[0])
		(void)ipcb_name_remove(IPCB_NAME_PATH, s->path, -1);
	return alive;
}

static void bound(int fd)
{
	struct timeval tv = { .tv_sec = T_TIMEOUT_S };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int cl_connect(struct srv *s, struct ipcb_mgr_client *c, const uint8_t *key)
{
	int rc = ipcb_mgr_connect(c, (struct sockaddr *)&s->addr, s->len, key,
				  key ? sizeof(good_key) - 1 : 0);
	if (rc == 0)
		bound(c->fd);
	return rc;
}

static const uint8_t *key_of(struct srv *s)
{
	return s->tcp ? good_key : NULL;
}

static const char *name_of(struct srv *s)
{
	return s->tcp ? (s->design ? "tcp/threads" : "tcp/epoll")
		      : (s->design ? "unix/threads" : "unix/epoll");
}

/* Every proxy call, with values of several sizes. */
static void test_calls(struct srv *s)
{
	struct ipcb_mgr_client c;
	uint8_t out[64];
	size_t len;
	uint64_t n;
	int64_t v;
	int rc = cl_connect(s, &c, key_of(s));

	CHECKF(rc == 0, "%s: connect: %d", name_of(s), rc);
	if (rc < 0)
		return;
	CHECK(ipcb_mgr_ping(&c) == 0);
	CHECK(ipcb_mgr_dict_get(&c, "nokey", out, sizeof(out), &len) == -ENOENT);
	CHECK(ipcb_mgr_dict_set(&c, "a", "alpha", 5) == 0);
	CHECK(ipcb_mgr_dict_get(&c, "a", out, sizeof(out), &len) == 0 && len == 5 &&
	      memcmp(out, "alpha", 5) == 0);
	CHECK(ipcb_mgr_dict_get(&c, "a", out, 2, &len) == -ENOBUFS && len == 5);
	CHECK(ipcb_mgr_list_append(&c, "x", 1, &n) == 0 && n == 1);
	CHECK(ipcb_mgr_list_append(&c, "y", 1, &n) == 0 && n == 2);
	CHECK(ipcb_mgr_list_pop(&c, out, sizeof(out), &len) == 0 && len == 1 && out[0] == 'y');
	CHECK(ipcb_mgr_list_pop(&c, out, sizeof(out), &len) == 0 && out[0] == 'x');
	CHECK(ipcb_mgr_list_pop(&c, out, sizeof(out), &len) == -ENODATA);
	CHECK(ipcb_mgr_queue_put(&c, "p", 1, &n) == 0 && n == 1);
	CHECK(ipcb_mgr_queue_put(&c, "q", 1, &n) == 0 && n == 2);
	CHECK(ipcb_mgr_queue_get(&c, out, sizeof(out), &len) == 0 && out[0] == 'p');
	CHECK(ipcb_mgr_queue_get(&c, out, sizeof(out), &len) == 0 && out[0] == 'q');
	CHECK(ipcb_mgr_queue_get(&c, out, sizeof(out), &len) == -ENODATA);
	CHECK(ipcb_mgr_value_incr(&c, 3, &v) == 0 && v == 3);
	CHECK(ipcb_mgr_value_incr(&c, -1, &v) == 0 && v == 2);
	CHECK(ipcb_mgr_value_get(&c, &v) == 0 && v == 2);
	CHECK(ipcb_mgr_lock_release(&c) == -EPERM);
	CHECK(ipcb_mgr_lock_acquire(&c) == 0);
	CHECK(ipcb_mgr_lock_release(&c) == 0);

	/* a large value: partial writes and buffer growth on both sides */
	size_t big = 512 * 1024;
	uint8_t *b = malloc(big), *g = malloc(big);
	for (size_t i = 0; i < big; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	CHECK(ipcb_mgr_dict_set(&c, "big", b, big) == 0);
	CHECK(ipcb_mgr_dict_get(&c, "big", g, big, &len) == 0 && len == big &&
	      memcmp(b, g, big) == 0);
	CHECK(ipcb_mgr_dict_set(&c, "big", b, IPCB_MGR_MAX_VALUE + 1) == -EMSGSIZE);
	free(b);
	free(g);

	/* pipelined: two requests in one write, two replies in order */
	uint8_t req[64], rep[256];
	size_t n1 = enc(req, sizeof(req), IPCB_MGR_PING, 1001, NULL, 0);
	size_t n2 = enc(req + n1, sizeof(req) - n1, IPCB_MGR_VALUE_GET, 1002, NULL, 0);
	CHECK(send(c.fd, req, n1 + n2, MSG_NOSIGNAL) == (ssize_t)(n1 + n2));
	size_t have = 0;
	struct ipcb_mgr_frame f;
	int got = 0;
	uint32_t ids[2] = { 0, 0 };
	while (got < 2) {
		ssize_t r = recv(c.fd, rep + have, sizeof(rep) - have, 0);
		if (r <= 0)
			break;
		have += (size_t)r;
		int k;
		while ((k = ipcb_mgr_decode(rep, have, 0, &f)) > 0) {
			ids[got++] = f.id;
			memmove(rep, rep + k, have - (size_t)k);
			have -= (size_t)k;
		}
	}
	CHECKF(got == 2 && ids[0] == 1001 && ids[1] == 1002, "%s: pipelined: %d replies",
	       name_of(s), got);
	ipcb_mgr_close(&c);
}

/* Send raw bytes on a fresh connection; expect an error reply of `status` (or none when
 * status < 0), then the connection closed. */
static void expect_refusal(struct srv *s, const uint8_t *bytes, size_t len, int status,
			   const char *what)
{
	struct ipcb_mgr_client c;
	uint8_t rep[256];
	size_t have = 0;
	struct ipcb_mgr_frame f;
	int rc = cl_connect(s, &c, key_of(s)), closed = 0, code = -1;

	CHECK(rc == 0);
	if (rc < 0)
		return;
	CHECK(send(c.fd, bytes, len, MSG_NOSIGNAL) == (ssize_t)len);
	for (;;) {
		ssize_t r = recv(c.fd, rep + have, sizeof(rep) - have, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			closed = 1;
			break;
		}
		if (r < 0)
			break;   /* timeout: the server kept the connection open */
		have += (size_t)r;
		if (code < 0 && ipcb_mgr_decode(rep, have, 0, &f) > 0)
			code = f.code;
	}
	CHECKF(closed, "%s: %s: the connection was not closed", name_of(s), what);
	CHECKF(code == status, "%s: %s: reply status %d, expected %d", name_of(s), what, code,
	       status);
	ipcb_mgr_close(&c);
}

static void test_malformed(struct srv *s)
{
	uint8_t buf[256];
	size_t n;
	struct ipcb_mgr_client c;
	struct ipcb_mgr_stats st;

	n = enc(buf, sizeof(buf), IPCB_MGR_PING, 1, NULL, 0);
	buf[4] = 9;
	expect_refusal(s, buf, n, IPCB_MGR_EVERSION, "bad version");
	put32(buf, 0xfffffff0u);   /* 4 GiB announced: refused before anything is read */
	expect_refusal(s, buf, 4, IPCB_MGR_ETOOBIG, "length over the limit");
	n = enc(buf, sizeof(buf), 99, 1, NULL, 0);
	expect_refusal(s, buf, n, IPCB_MGR_EUNKNOWN, "unknown op");
	struct ipcb_mgr_arg k = { (const uint8_t *)"key", 3 };
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &k, 1);
	put32(buf + IPCB_MGR_HDR, 200);
	expect_refusal(s, buf, n, IPCB_MGR_EBADMSG, "key past the end");
	n = enc(buf, sizeof(buf), IPCB_MGR_PING, 1, NULL, 0);
	put32(buf + 12, 0xffffffffu);
	expect_refusal(s, buf, n, IPCB_MGR_EARGS, "negative count");

	/* truncated: half a frame, then the client goes away (killed mid-call) */
	n = enc(buf, sizeof(buf), IPCB_MGR_DICT_GET, 1, &k, 1);
	int sent[2];
	char b;
	if (pipe(sent) < 0)
		return;
	pid_t p = fork();
	if (p == 0) {
		struct ipcb_mgr_client d;
		if (cl_connect(s, &d, key_of(s)) == 0 &&
		    send(d.fd, buf, n / 2, MSG_NOSIGNAL) == (ssize_t)(n / 2))
			(void)write(sent[1], "S", 1);
		pause();
		_exit(0);
	}
	(void)close(sent[1]);
	bound(sent[0]);
	CHECK(read(sent[0], &b, 1) == 1);
	(void)close(sent[0]);
	usleep(50000);
	(void)kill(p, SIGKILL);
	(void)waitpid(p, NULL, 0);
	usleep(100000);

	/* the server is alive and counted each */
	CHECK(cl_connect(s, &c, key_of(s)) == 0);
	CHECKF(ipcb_mgr_ping(&c) == 0, "%s: server gone after malformed input", name_of(s));
	/* (a thread-per-client server counts when that client's thread gets to it) */
	for (uint64_t t0 = ipcb_now_ns(); ipcb_now_ns() - t0 < FAIL_FAST_NS; usleep(10000))
		if (ipcb_mgr_stats(&c, &st) < 0 || (st.proto_errors == 5 && st.truncated == 1))
			break;
	CHECKF(st.proto_errors == 5, "%s: proto_errors %llu", name_of(s),
	       (unsigned long long)st.proto_errors);
	CHECKF(st.truncated == 1, "%s: truncated %llu", name_of(s),
	       (unsigned long long)st.truncated);
	ipcb_mgr_close(&c);
}

static void test_socket_mode(struct srv *s)
{
	struct stat st;

	CHECK(stat(s->path, &st) == 0);
	CHECKF(S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0600, "socket mode %o",
	       (unsigned)(st.st_mode & 07777));
	CHECK(strstr(s->path, IPCB_NAME_PREFIX) != NULL);
}

static void test_auth(struct srv *s)
{
	struct ipcb_mgr_client c, bad;
	struct ipcb_mgr_stats st;
	int rc;

	rc = cl_connect(s, &bad, bad_key);
	CHECKF(rc == -EACCES, "%s: wrong key: connect returned %d", name_of(s), rc);
	rc = cl_connect(s, &bad, NULL);   /* no handshake at all: our request is not an answer */
	CHECKF(rc == 0 && ipcb_mgr_ping(&bad) < 0, "%s: a client without the key got through",
	       name_of(s));
	ipcb_mgr_close(&bad);
	usleep(50000);
	rc = cl_connect(s, &c, good_key);
	CHECKF(rc == 0, "%s: good key: %d", name_of(s), rc);
	if (rc < 0)
		return;
	CHECK(ipcb_mgr_ping(&c) == 0);
	CHECK(ipcb_mgr_stats(&c, &st) == 0);
	CHECKF(st.auth_refused == 2 && st.auth_ok >= 1, "%s: refused %llu, ok %llu", name_of(s),
	       (unsigned long long)st.auth_refused, (unsigned long long)st.auth_ok);
	ipcb_mgr_close(&c);
}

/* A child that takes the lock, says so on a pipe, and waits to be killed. */
static pid_t lock_holder(struct srv *s)
{
	int p[2];
	char b;

	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct ipcb_mgr_client c;
		(void)close(p[0]);
		if (cl_connect(s, &c, key_of(s)) == 0 && ipcb_mgr_lock_acquire(&c) == 0)
			(void)write(p[1], "L", 1);
		pause();
		_exit(0);
	}
	(void)close(p[1]);
	bound(p[0]);
	if (read(p[0], &b, 1) != 1) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		pid = -1;
	}
	(void)close(p[0]);
	return pid;
}

static void test_lock_owner_killed(struct srv *s)
{
	struct ipcb_mgr_client c;
	struct ipcb_mgr_stats st;
	int p[2];
	char b = 0;

	/* 1: the owner dies while another client waits: the waiter gets the lock */
	pid_t holder = lock_holder(s);
	CHECK(holder > 0);
	if (holder <= 0 || pipe(p) < 0)
		return;
	pid_t waiter = fork();
	if (waiter == 0) {
		(void)close(p[0]);
		if (cl_connect(s, &c, key_of(s)) == 0) {
			int rc = ipcb_mgr_lock_acquire(&c);   /* blocks until the holder is gone */
			(void)write(p[1], rc == 0 ? "G" : "E", 1);
			if (rc == 0)
				(void)ipcb_mgr_lock_release(&c);
		}
		_exit(0);
	}
	(void)close(p[1]);
	usleep(200000);   /* the waiter is queued by now */
	(void)kill(holder, SIGKILL);
	(void)waitpid(holder, NULL, 0);
	bound(p[0]);
	CHECKF(read(p[0], &b, 1) == 1 && b == 'G', "%s: the waiter did not get the lock (%c)",
	       name_of(s), b ? b : '-');
	(void)close(p[0]);
	(void)waitpid(waiter, NULL, 0);

	/* 2: the owner dies with nobody waiting: the lock is free for the next client */
	holder = lock_holder(s);
	CHECK(holder > 0);
	if (holder <= 0)
		return;
	(void)kill(holder, SIGKILL);
	(void)waitpid(holder, NULL, 0);
	usleep(100000);
	CHECK(cl_connect(s, &c, key_of(s)) == 0);
	uint64_t t0 = ipcb_now_ns();
	CHECKF(ipcb_mgr_lock_acquire(&c) == 0 && ipcb_now_ns() - t0 < FAIL_FAST_NS,
	       "%s: the lock stayed held after its owner died", name_of(s));
	CHECK(ipcb_mgr_lock_release(&c) == 0);
	CHECK(ipcb_mgr_stats(&c, &st) == 0);
	CHECKF(st.locks_recovered == 2, "%s: locks_recovered %llu", name_of(s),
	       (unsigned long long)st.locks_recovered);
	ipcb_mgr_close(&c);
}

/* The server dies: an idle client's next call and a client blocked in a call both fail
 * at once, with the connection's error. */
static void test_server_killed(struct srv *s)
{
	struct ipcb_mgr_client c, h;
	int p[2];
	char b = 0;

	CHECK(cl_connect(s, &c, key_of(s)) == 0);
	CHECK(cl_connect(s, &h, key_of(s)) == 0);
	CHECK(ipcb_mgr_lock_acquire(&h) == 0);
	if (pipe(p) < 0)
		return;
	pid_t blocked = fork();
	if (blocked == 0) {
		struct ipcb_mgr_client w;
		(void)close(p[0]);
		if (cl_connect(s, &w, key_of(s)) == 0) {
			(void)write(p[1], "C", 1);
			int rc = ipcb_mgr_lock_acquire(&w);   /* blocks: h holds it */
			(void)write(p[1], rc == -EPIPE || rc == -ECONNRESET ? "X" : "?", 1);
		}
		_exit(0);
	}
	(void)close(p[1]);
	bound(p[0]);
	CHECK(read(p[0], &b, 1) == 1 && b == 'C');
	usleep(200000);
	CHECK(ipcb_mgr_ping(&c) == 0);
	CHECKF(srv_stop(s) == 1, "%s: the server had died before it was killed", name_of(s));
	uint64_t t0 = ipcb_now_ns();
	int rc = ipcb_mgr_ping(&c);
	uint64_t dt = ipcb_now_ns() - t0;
	CHECKF((rc == -EPIPE || rc == -ECONNRESET) && dt < FAIL_FAST_NS,
	       "%s: call after the server died: %d after %llu ns", name_of(s), rc,
	       (unsigned long long)dt);
	b = 0;
	t0 = ipcb_now_ns();
	CHECKF(read(p[0], &b, 1) == 1 && b == 'X' && ipcb_now_ns() - t0 < FAIL_FAST_NS,
	       "%s: a client blocked in a call did not fail fast (%c)", name_of(s), b ? b : '-');
	(void)close(p[0]);
	(void)waitpid(blocked, NULL, 0);
	/* a new client is refused at once: nobody listens any more */
	struct ipcb_mgr_client n;
	CHECK(cl_connect(s, &n, key_of(s)) < 0);
	ipcb_mgr_close(&c);
	ipcb_mgr_close(&h);
}

int main(void)
{
	alarm(240);
	signal(SIGPIPE, SIG_IGN);
	test_decoder();
	test_store();
	for (int tcp = 0; tcp < 2; tcp++)
		for (int design = 0; design < 2; design++) {
			struct srv s;
			int rc = srv_start(&s, tcp, design);
			CHECKF(rc == 0, "start server: %d", rc);
			if (rc < 0)
				continue;
			if (!tcp)
				test_socket_mode(&s);
			test_calls(&s);
			test_malformed(&s);
			if (tcp)
				test_auth(&s);
			test_lock_owner_killed(&s);
			test_server_killed(&s);   /* kills it */
			(void)srv_stop(&s);
		}
	CHECK(ipcb_names_cleanup() == 0);
	CHECK(ipcb_names_pending() == 0);
	return TEST_END();
}
