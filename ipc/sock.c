// SPDX-License-Identifier: MIT
/*
 * The socket core shared by the socket transports (see sock.h): making a connected duplex
 * pair (anonymous, on a named AF_UNIX path, or on loopback TCP/UDP), fitting datagram
 * buffers to the case's message size, the send/recv hooks and teardown.
 *
 * Only what a transport would otherwise repeat lives here; nothing is tuned behind the
 * user's back: buffers keep the kernel's defaults unless the user asks (--sock-buf) or a
 * datagram could not fit, and ch->effective says which sizes the kernel really granted
 * (SO_SNDBUF is doubled by the kernel and capped by net.core.wmem_max, so the request
 * alone says little).
 *
 * --sock-buf sets SO_SNDBUF and SO_RCVBUF on both ends. Linux stores twice the value asked
 * for (room for its bookkeeping: not a clamp) after capping it at net.core.wmem_max or
 * rmem_max, which binds root as well (only SO_SNDBUFFORCE, not used, passes it). Half of
 * what getsockopt() reports is therefore what was granted, and a granted value below the
 * request goes through ipcb_request_check(): FAILED, or recorded with --allow-clamp.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "names.h"
#include "opt.h"
#include "request.h"
#include "sock.h"
#include "syslimits.h"

/* How long setup waits for its own, already made, connection to be acceptable. On loopback
 * it is there when connect() returns; the bound only keeps setup from hanging. */
#define ACCEPT_WAIT_MS 2000
/* Connections from strangers accepted and dropped before giving up. */
#define ACCEPT_TRIES 16

static struct sock_settings {
	size_t buf;           /* --sock-buf, 0 = the kernel's defaults */
} sock_cfg;

const struct ipcb_opt ipcb_sock_opts[] = {
	{ .name = "sock-buf", .type = IPCB_OPT_SIZE,
	  .offset = offsetof(struct sock_settings, buf), .min = 1, .max = 1 << 30,
	  .metavar = "BYTES", .base = &sock_cfg,
	  .help = "socket transports: SO_SNDBUF and SO_RCVBUF of both ends (the kernel doubles "
		  "it; over net.core.wmem_max/rmem_max it is a clamp, see --allow-clamp; default: "
		  "the kernel's)" },
	{ .name = NULL },
};

static void reset(struct ipcb_chan *ch)
{
	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	ch->effective[0] = 0;
	ch->why[0] = 0;
}

static int get_int(int fd, int level, int name, int *out)
{
	socklen_t len = sizeof(*out);

	return getsockopt(fd, level, name, out, &len) < 0 ? -errno : 0;
}

static int set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) < 0 ? -errno : 0;
}

/* Append "k=v" to ch->effective, ';'-separated. */
static void eff_add(struct ipcb_chan *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void eff_add(struct ipcb_chan *ch, const char *fmt, ...)
{
	size_t n = strlen(ch->effective);
	va_list ap;

	if (n && n + 1 < sizeof(ch->effective))
		ch->effective[n++] = ';';
	va_start(ap, fmt);
	vsnprintf(ch->effective + n, sizeof(ch->effective) - n, fmt, ap);
	va_end(ap);
}

/* Is the accepted socket the one our client fd connected? Another process could connect
 * to our listener between listen() and accept(). An unbound AF_UNIX client has no address
 * to compare, so there the peer's credentials say whether it is this process. */
static int is_our_peer(int accepted, int client)
{
	struct sockaddr_storage p, c;
	socklen_t pl = sizeof(p), cl = sizeof(c);

	if (getpeername(accepted, (struct sockaddr *)&p, &pl) < 0)
		return 0;
	if (p.ss_family == AF_UNIX) {
		struct ucred u;
		socklen_t ul = sizeof(u);
		return getsockopt(accepted, SOL_SOCKET, SO_PEERCRED, &u, &ul) == 0 &&
		       u.pid == getpid() && u.uid == geteuid();
	}
	if (getsockname(client, (struct sockaddr *)&c, &cl) < 0)
		return 0;
	return pl == cl && memcmp(&p, &c, pl) == 0;
}

/* Accept on lfd until the connection of client shows up. Returns the fd or -errno. */
static int accept_ours(int lfd, int client)
{
	for (int tries = 0; tries < ACCEPT_TRIES; tries++) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int r = poll(&pfd, 1, ACCEPT_WAIT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return -errno;
		}
		if (is_our_peer(fd, client))
			return fd;
		(void)close(fd);
	}
	return -ETIMEDOUT;
}

int ipcb_sock_pair_anon(struct ipcb_chan *ch, int type)
{
	reset(ch);
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, &ch->fd[IPCB_SOCK_FD_A]) < 0)
		return -errno;
	return 0;
}

int ipcb_sock_pair_unix(struct ipcb_chan *ch, int type)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[IPCB_NAME_MAX];
	int rc, lfd, fd;

	reset(ch);
	rc = ipcb_name_new(IPCB_NAME_PATH, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		rc = -ENAMETOOLONG;
		goto unname;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		rc = -errno;
		goto unname;
	}
	/* Linux creates the socket file with the socket inode's mode less the umask, so a
	 * fchmod() first keeps the path from ever being wider than 0600; the chmod() after
	 * bind() covers kernels that ignore it. Nobody can connect before listen(), so the
	 * order is race-free either way. */
	(void)fchmod(lfd, 0600);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		(void)close(lfd);
		goto unname;
	}
	ch->fd[IPCB_SOCK_FD_LISTEN] = lfd;   /* from here on teardown removes the path */
	if (chmod(path, 0600) < 0 || listen(lfd, 4) < 0)
		return -errno;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ch->fd[IPCB_SOCK_FD_A] = fd;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	fd = accept_ours(lfd, fd);
	if (fd < 0)
		return fd;
	ch->fd[IPCB_SOCK_FD_B] = fd;
	return 0;

unname:
	(void)ipcb_name_remove(IPCB_NAME_PATH, path, -1);   /* nothing was created */
	return rc;
}

/* Throw away anything queued on a UDP socket before it was connected to its peer. */
static void drain(int fd)
{
	char c;

	while (recv(fd, &c, sizeof(c), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
}

static int set_nodelay(int fd)
{
	int on = 0, rc = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);

	if (rc == 0)
		rc = get_int(fd, IPPROTO_TCP, TCP_NODELAY, &on);
	return rc < 0 ? rc : on ? 0 : -EIO;
}

int ipcb_sock_pair_inet(struct ipcb_chan *ch, int type)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in a_addr, b_addr;
	socklen_t alen = sizeof(a_addr), blen = sizeof(b_addr);
	int rc, a, b;

	reset(ch);
	b = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (b < 0)
		return -errno;
	ch->fd[type == SOCK_STREAM ? IPCB_SOCK_FD_LISTEN : IPCB_SOCK_FD_B] = b;
	if (bind(b, (struct sockaddr *)&lo, sizeof(lo)) < 0 ||
	    getsockname(b, (struct sockaddr *)&b_addr, &blen) < 0)
		return -errno;
	a = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (a < 0)
		return -errno;
	ch->fd[IPCB_SOCK_FD_A] = a;

	if (type != SOCK_STREAM) {
		/* Connected both ways: each socket then only accepts its peer's datagrams. */
		if (bind(a, (struct sockaddr *)&lo, sizeof(lo)) < 0 ||
		    getsockname(a, (struct sockaddr *)&a_addr, &alen) < 0 ||
		    connect(a, (struct sockaddr *)&b_addr, blen) < 0 ||
		    connect(b, (struct sockaddr *)&a_addr, alen) < 0)
			return -errno;
		drain(a);
		drain(b);
		return 0;
	}

	if (listen(b, 4) < 0 || connect(a, (struct sockaddr *)&b_addr, blen) < 0)
		return -errno;
	rc = accept_ours(b, a);
	if (rc < 0)
		return rc;
	ch->fd[IPCB_SOCK_FD_B] = rc;
	(void)close(b);
	ch->fd[IPCB_SOCK_FD_LISTEN] = -1;
	/* Nagle would hold back a small message until the previous one is acknowledged: a
	 * round trip would then measure the delayed-ACK timer, not the transport. */
	rc = set_nodelay(a);
	if (rc == 0)
		rc = set_nodelay(ch->fd[IPCB_SOCK_FD_B]);
	if (rc == 0)
		eff_add(ch, "nodelay=1");
	return rc;
}

static long read_proc(const char *path)
{
	long v = -1;

	return ipcb_read_proc_long(path, &v) < 0 ? -1 : v;
}

/* --sock-buf on both ends, judged by the clamp rule. Returns 0 or -errno (-ERANGE: clamped
 * and not allowed, ch->why set). */
static int apply_buf(struct ipcb_chan *ch)
{
	static const struct {
		int name;
		const char *opt, *sysctl, *proc;
	} k[2] = {
		{ SO_SNDBUF, "--sock-buf (SO_SNDBUF)", "net.core.wmem_max",
		  "/proc/sys/net/core/wmem_max" },
		{ SO_RCVBUF, "--sock-buf (SO_RCVBUF)", "net.core.rmem_max",
		  "/proc/sys/net/core/rmem_max" },
	};
	const int ends[2] = { ch->fd[IPCB_SOCK_FD_A], ch->fd[IPCB_SOCK_FD_B] };
	int req = (int)sock_cfg.buf, rc;

	if (!sock_cfg.buf)
		return 0;
	for (int e = 0; e < 2; e++) {
		if (ends[e] < 0)
			return -EBADF;
		for (int i = 0; i < 2; i++) {
			char limit[64];
			int v;
			if ((rc = set_int(ends[e], SOL_SOCKET, k[i].name, req)) < 0 ||
			    (rc = get_int(ends[e], SOL_SOCKET, k[i].name, &v)) < 0)
				return rc;
			snprintf(limit, sizeof(limit), "%s=%ld", k[i].sysctl, read_proc(k[i].proc));
			if ((rc = ipcb_request_check(ch, k[i].opt, req, v / 2, limit)) < 0)
				return rc;
		}
	}
	eff_add(ch, "sock_buf_req=%zu", sock_cfg.buf);
	return 0;
}

/* Append "sndbuf=..;rcvbuf=.." as getsockopt() reports them for fd. */
static int describe_bufs(struct ipcb_chan *ch, int fd)
{
	int snd, rcv, rc = get_int(fd, SOL_SOCKET, SO_SNDBUF, &snd);

	if (rc == 0)
		rc = get_int(fd, SOL_SOCKET, SO_RCVBUF, &rcv);
	if (rc == 0)
		eff_add(ch, "sndbuf=%d;rcvbuf=%d", snd, rcv);
	return rc;
}

int ipcb_sock_describe(struct ipcb_chan *ch, const char *extra)
{
	int rc = apply_buf(ch);

	if (rc == 0)
		rc = describe_bufs(ch, ch->fd[IPCB_SOCK_FD_A]);

	if (rc == 0 && extra && *extra)
		eff_add(ch, "%s", extra);
	return rc;
}

/* Send one datagram of len zero bytes from -> to without blocking and read it back. */
static int probe(struct ipcb_chan *ch, int from, int to, char *buf, size_t len)
{
	ssize_t n = send(from, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0) {
		int err = errno;
		if (err == EMSGSIZE)
			snprintf(ch->why, sizeof(ch->why), "the kernel refused a %zu-byte datagram "
				 "although SO_SNDBUF allows it", len);
		return -err;
	}
	n = recv(to, buf, len, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int ipcb_sock_fit_dgram(struct ipcb_chan *ch, size_t overhead)
{
	const int ends[2] = { ch->fd[IPCB_SOCK_FD_A], ch->fd[IPCB_SOCK_FD_B] };
	size_t need = ch->msg_size + overhead;
	int snd = INT_MAX, req = 0, rc;

	if (ends[0] < 0 || ends[1] < 0)
		return -EBADF;
	if ((rc = apply_buf(ch)) < 0)
		return rc;
	for (int i = 0; i < 2; i++) {
		int v;
		if ((rc = get_int(ends[i], SOL_SOCKET, SO_SNDBUF, &v)) < 0)
			return rc;
		snd = v < snd ? v : snd;
	}
	if ((size_t)snd < need && sock_cfg.buf) {
		/* The user's buffer is kept: the case cannot carry this size with it. */
		snprintf(ch->why, sizeof(ch->why), "a %zu-byte datagram does not fit --sock-buf "
			 "%zu (SO_SNDBUF %d)", ch->msg_size, sock_cfg.buf, snd);
		return -EMSGSIZE;
	}
	if ((size_t)snd < need) {
		/* The kernel doubles the request (room for its own bookkeeping, so about two
		 * messages can be in flight) and caps it at net.core.wmem_max. */
		req = need > INT_MAX / 2 ? INT_MAX / 2 : (int)need;
		snd = INT_MAX;
		for (int i = 0; i < 2; i++) {
			int v;
			if ((rc = set_int(ends[i], SOL_SOCKET, SO_SNDBUF, req)) < 0 ||
			    (rc = get_int(ends[i], SOL_SOCKET, SO_SNDBUF, &v)) < 0)
				return rc;
			snd = v < snd ? v : snd;
		}
	}
	if ((size_t)snd < need) {
		snprintf(ch->why, sizeof(ch->why), "a %zu-byte datagram is over the limit of %zu "
			 "bytes (SO_SNDBUF %d, capped by net.core.wmem_max)", ch->msg_size,
			 (size_t)snd > overhead ? (size_t)snd - overhead : 0, snd);
		return -EMSGSIZE;
	}
	if (req)
		eff_add(ch, "sndbuf_req=%d", req);
	else if (!sock_cfg.buf)
		eff_add(ch, "sndbuf_req=default");
	if ((rc = describe_bufs(ch, ends[0])) < 0)
		return rc;
	eff_add(ch, "dgram_max=%zu", (size_t)snd - overhead);

	/* The arithmetic above mirrors the kernel's check; a real datagram each way proves it
	 * (and would catch a limit that check does not know, such as a failed allocation). */
	char *buf = calloc(1, ch->msg_size ? ch->msg_size : 1);
	if (!buf)
		return -ENOMEM;
	rc = probe(ch, ends[0], ends[1], buf, ch->msg_size);
	if (rc == 0)
		rc = probe(ch, ends[1], ends[0], buf, ch->msg_size);
	free(buf);
	return rc;
}

int ipcb_sock_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	int fd = ch->fd[role == IPCB_ROLE_A ? IPCB_SOCK_FD_A : IPCB_SOCK_FD_B];

	e->ch = ch;
	e->role = role;
	e->rfd = e->wfd = fd;
	return fd < 0 ? -EBADF : 0;
}

ssize_t ipcb_sock_send(struct ipcb_end *e, const void *buf, size_t len)
{
	ssize_t n = send(e->wfd, buf, len, MSG_NOSIGNAL);

	return n < 0 ? -errno : n;
}

ssize_t ipcb_sock_recv(struct ipcb_end *e, void *buf, size_t len)
{
	ssize_t n = recv(e->rfd, buf, len, 0);

	return n < 0 ? -errno : n;
}

ssize_t ipcb_sock_recv_dgram(struct ipcb_end *e, void *buf, size_t len)
{
	/* MSG_TRUNC makes recv() return the datagram's real length, so a longer one is an
	 * error instead of silently cut to fit. */
	ssize_t n = recv(e->rfd, buf, len, MSG_TRUNC);

	if (n < 0)
		return -errno;
	return (size_t)n > len ? -EMSGSIZE : n;
}

void ipcb_sock_teardown(struct ipcb_chan *ch)
{
	int lfd = ch->fd[IPCB_SOCK_FD_LISTEN];

	if (lfd >= 0) {
		struct sockaddr_un addr;
		socklen_t len = sizeof(addr);
		memset(&addr, 0, sizeof(addr));
		if (getsockname(lfd, (struct sockaddr *)&addr, &len) == 0 &&
		    addr.sun_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
			char path[sizeof(addr.sun_path) + 1];
			size_t plen = len - offsetof(struct sockaddr_un, sun_path);
			if (plen > sizeof(addr.sun_path))
				plen = sizeof(addr.sun_path);
			memcpy(path, addr.sun_path, plen);
			path[plen] = 0;
			if (path[0])   /* not an abstract name */
				(void)ipcb_name_remove(IPCB_NAME_PATH, path, -1);
		}
	}
	for (int i = 0; i < IPCB_CHAN_FDS; i++) {
		if (ch->fd[i] >= 0)
			(void)close(ch->fd[i]);
		ch->fd[i] = -1;
	}
}
