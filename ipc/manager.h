/* SPDX-License-Identifier: MIT */
/*
 * The Manager-style proxy server: one process owns shared objects (a string-keyed dict, a
 * list, a counter Value, a FIFO queue, a lock) and clients use them through calls over a
 * socket, as Python's multiprocessing.managers does with its proxies.
 *
 * Parts (each its own file):
 *   manager_proto.c   the wire format: encoder and a pure decoder over a byte buffer
 *   manager_store.c   the objects and the dispatch of one decoded request
 *   manager_auth.c    the HMAC challenge-response at connect (multiprocessing.connection)
 *   manager_server.c  listeners (Unix path, TCP loopback) and the two server designs:
 *                     one thread per client, or one epoll event loop
 *   manager_client.c  the proxy API a client calls
 *
 * Wire format, version 1. Integers are little-endian. A frame is
 *     u32 len        bytes after this word: IPCB_MGR_HDR_BODY .. IPCB_MGR_MAX_FRAME
 *     u8  version    IPCB_MGR_VERSION
 *     u8  code       request: the op (enum ipcb_mgr_op); reply: the status (enum ipcb_mgr_status)
 *     u16 reserved   0
 *     u32 id         chosen by the client, echoed by the reply
 *     i32 nargs      0 .. IPCB_MGR_MAX_ARGS
 *     nargs x { i32 arglen (0 .. what is left), arglen bytes }
 * and nothing after the last argument. Requests and replies share the format, so one
 * decoder reads both. A decoder error is answered with an error reply (when the header
 * could be read) and the connection is closed: after a bad frame the stream cannot be
 * trusted to be back in step. Nothing is allocated from a length before it was checked
 * against IPCB_MGR_MAX_FRAME.
 *
 * Arguments by op (requests) and what an OK reply carries:
 *   PING          -                           -
 *   DICT_GET      key                         value            (NOTFOUND)
 *   DICT_SET      key, value                  -
 *   LIST_APPEND   value                       u64 new length
 *   LIST_POP      -                           value (the last) (EMPTY)
 *   VALUE_INCR    i64 delta (8 bytes)         i64 new value
 *   VALUE_GET     -                           i64 value
 *   QUEUE_PUT     value                       u64 new length
 *   QUEUE_GET     -                           value (the first)(EMPTY; never blocks)
 *   LOCK_ACQUIRE  -                           -   (blocks: the reply comes when granted)
 *   LOCK_RELEASE  -                           -                (NOTOWNER)
 *   STATS         -                           IPCB_MGR_NSTATS x u64 (struct ipcb_mgr_stats)
 * Keys are 1 .. IPCB_MGR_MAX_KEY bytes. The lock belongs to a connection: when the owner's
 * connection drops, the lock passes to the next waiter (or is freed), and that is counted
 * (locks_recovered) and reported on stderr.
 */
#ifndef IPCB_MANAGER_H
#define IPCB_MANAGER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define IPCB_MGR_VERSION 1
#define IPCB_MGR_HDR_BODY 12u                 /* version .. nargs */
#define IPCB_MGR_HDR (4u + IPCB_MGR_HDR_BODY) /* a whole header, length word included */
#define IPCB_MGR_MAX_FRAME (1u << 20)         /* most bytes after the length word */
#define IPCB_MGR_MAX_ARGS 4
#define IPCB_MGR_MAX_KEY 256
#define IPCB_MGR_MAX_VALUE (IPCB_MGR_MAX_FRAME - IPCB_MGR_HDR_BODY - 8 - IPCB_MGR_MAX_KEY)

enum ipcb_mgr_op {
	IPCB_MGR_PING = 1,
	IPCB_MGR_DICT_GET,
	IPCB_MGR_DICT_SET,
	IPCB_MGR_LIST_APPEND,
	IPCB_MGR_LIST_POP,
	IPCB_MGR_VALUE_INCR,
	IPCB_MGR_VALUE_GET,
	IPCB_MGR_QUEUE_PUT,
	IPCB_MGR_QUEUE_GET,
	IPCB_MGR_LOCK_ACQUIRE,
	IPCB_MGR_LOCK_RELEASE,
	IPCB_MGR_STATS,
	IPCB_MGR_OP_END,
};

enum ipcb_mgr_status {
	IPCB_MGR_OK = 0,
	IPCB_MGR_ENOTFOUND,    /* no such key */
	IPCB_MGR_EEMPTY,       /* list or queue empty */
	IPCB_MGR_EFULL,        /* the store's limits (bytes, keys, items) are reached */
	IPCB_MGR_ENOTOWNER,    /* release of a lock this connection does not hold */
	IPCB_MGR_EBADMSG,      /* malformed frame */
	IPCB_MGR_EVERSION,     /* unsupported protocol version */
	IPCB_MGR_ETOOBIG,      /* frame length over IPCB_MGR_MAX_FRAME */
	IPCB_MGR_EUNKNOWN,     /* unknown op */
	IPCB_MGR_EARGS,        /* wrong number or size of arguments */
	IPCB_MGR_ENOMEM,       /* the server is out of memory */
	IPCB_MGR_STATUS_END,
};

/* One argument: points into the decoded buffer (valid as long as that buffer). */
struct ipcb_mgr_arg {
	const uint8_t *p;
	uint32_t len;
};

/* A decoded frame. */
struct ipcb_mgr_frame {
	uint8_t version, code;
	uint32_t id;
	int nargs;
	struct ipcb_mgr_arg arg[IPCB_MGR_MAX_ARGS];
	size_t need;          /* bytes of the whole frame, length word included, once known */
	int have_header;      /* 1 once version, code and id were read (for an error reply) */
};

/* Server counters (the STATS reply, in this order). */
struct ipcb_mgr_stats {
	uint64_t calls;            /* requests answered (STATS included) */
	uint64_t conns;            /* connections accepted and admitted */
	uint64_t auth_ok;          /* handshakes passed */
	uint64_t auth_refused;     /* handshakes failed: wrong key, garbage, timeout */
	uint64_t proto_errors;     /* connections closed for a malformed frame */
	uint64_t truncated;        /* connections that ended in the middle of a frame */
	uint64_t locks_recovered;  /* locks taken back from a dropped owner */
	int64_t value;             /* the counter Value now */
};
#define IPCB_MGR_NSTATS 8

/* ---- wire format (manager_proto.c): pure functions, no I/O, no allocation ---- */

/* Decode one frame from buf[0..len) into *f, checking every field against the limits
 * above and the bytes present; max_frame (<= IPCB_MGR_MAX_FRAME, 0 = that) caps the length
 * word. Returns the frame's size (> 0) when a whole valid frame is there; 0 when more bytes
 * are needed (f->need says how many in all once the length word is in, else 4); or:
 *   -EMSGSIZE         length word over max_frame, or under the header (known from 4 bytes)
 *   -EPROTONOSUPPORT  version is not IPCB_MGR_VERSION
 *   -EBADMSG          reserved bits set, an argument past the frame's end, bytes after the
 *                     last argument
 *   -EINVAL           nargs or an argument length negative
 *   -E2BIG            nargs over IPCB_MGR_MAX_ARGS
 * Errors other than -EMSGSIZE come only once the whole frame is in. */
int ipcb_mgr_decode(const uint8_t *buf, size_t len, size_t max_frame, struct ipcb_mgr_frame *f);

/* ipcb_mgr_decode, then the request rules: a known op (-EOPNOTSUPP), its arity and
 * argument sizes (-EINVAL: a key empty or over IPCB_MGR_MAX_KEY, a delta not 8 bytes). */
int ipcb_mgr_decode_request(const uint8_t *buf, size_t len, size_t max_frame,
			    struct ipcb_mgr_frame *f);

/* Bytes a frame with these arguments takes. */
size_t ipcb_mgr_frame_size(const struct ipcb_mgr_arg *args, int nargs);
/* Encode a frame into buf[0..cap). Returns its size, or -EMSGSIZE when it does not fit
 * in cap or over IPCB_MGR_MAX_FRAME, -E2BIG for more than IPCB_MGR_MAX_ARGS arguments. */
int ipcb_mgr_encode(uint8_t *buf, size_t cap, uint8_t code, uint32_t id,
		    const struct ipcb_mgr_arg *args, int nargs);

/* The status for a decoder error (an error reply's code). */
enum ipcb_mgr_status ipcb_mgr_status_of(int decode_err);
/* -errno for a reply status (0 for OK): -ENOENT, -ENODATA, -ENOSPC, -EPERM, -EBADMSG,
 * -EPROTONOSUPPORT, -EMSGSIZE, -EOPNOTSUPP, -EINVAL, -ENOMEM, -EPROTO (unknown status). */
int ipcb_mgr_status_errno(int status);
const char *ipcb_mgr_op_name(int op);
const char *ipcb_mgr_status_name(int status);

/* Little-endian helpers. */
static inline void ipcb_mgr_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t ipcb_mgr_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* ---- objects (manager_store.c) ---- */

struct ipcb_mgr_store;

/* A store with its limits (total stored bytes, dict keys, items per list or queue).
 * Returns NULL when out of memory. */
struct ipcb_mgr_store *ipcb_mgr_store_new(void);
void ipcb_mgr_store_free(struct ipcb_mgr_store *s);

/* Execute request f (decoded by ipcb_mgr_decode_request) for connection conn (a non-zero
 * id) and encode the reply into out[0..cap) (cap >= IPCB_MGR_MAX_FRAME + 4 holds any
 * reply). Thread-safe. Returns the reply's size; 0 when the reply is deferred (a
 * LOCK_ACQUIRE that queued: the connection now waits); or -errno. *granted is set to the
 * connection that now owns the lock and waits for its deferred reply (a release handed it
 * over), else 0. */
int ipcb_mgr_store_exec(struct ipcb_mgr_store *s, uint64_t conn, const struct ipcb_mgr_frame *f,
			uint8_t *out, size_t cap, uint64_t *granted);
/* A connection is gone: leave the lock's wait queue; if it held the lock, hand the lock on
 * (counted in locks_recovered; *granted as above) and return 1, else 0. Thread-safe. */
int ipcb_mgr_store_drop(struct ipcb_mgr_store *s, uint64_t conn, uint64_t *granted);
/* Thread server: block until conn owns the lock, the connection is being closed (*closing
 * becomes non-zero), or stop is set. Returns 0 when owned, -ECANCELED otherwise. */
int ipcb_mgr_store_wait_owner(struct ipcb_mgr_store *s, uint64_t conn,
			      const _Atomic int *closing, _Atomic uint32_t *stop);
/* Wake every ipcb_mgr_store_wait_owner() (the server is stopping). */
void ipcb_mgr_store_wake(struct ipcb_mgr_store *s);
/* Add to a counter of the stats (index into struct ipcb_mgr_stats, as u64 words). */
void ipcb_mgr_store_count(struct ipcb_mgr_store *s, int which, uint64_t n);
void ipcb_mgr_store_stats(struct ipcb_mgr_store *s, struct ipcb_mgr_stats *out);
enum { IPCB_MGR_ST_CALLS, IPCB_MGR_ST_CONNS, IPCB_MGR_ST_AUTH_OK, IPCB_MGR_ST_AUTH_REFUSED,
       IPCB_MGR_ST_PROTO, IPCB_MGR_ST_TRUNC, IPCB_MGR_ST_LOCKS };

/* ---- authentication (manager_auth.c): HMAC-SHA256 challenge-response ---- */

#define IPCB_MGR_KEY_MAX 64
#define IPCB_MGR_AUTH_TIMEOUT_MS 2000

/* Server side, on a freshly accepted blocking socket: challenge the client, then answer
 * its challenge (both parties prove the key, as multiprocessing.connection does). Each
 * receive waits at most IPCB_MGR_AUTH_TIMEOUT_MS. Returns 0; -EACCES when the client's
 * answer was wrong (it was told "#FAILURE#"); -EPROTO for a malformed message; -errno. */
int ipcb_mgr_auth_server(int fd, const uint8_t *key, size_t keylen);
/* Client side: the mirror image. -EACCES when the server refused us or failed our
 * challenge. */
int ipcb_mgr_auth_client(int fd, const uint8_t *key, size_t keylen);

/* ---- server (manager_server.c) ---- */

enum ipcb_mgr_design { IPCB_MGR_EPOLL = 0, IPCB_MGR_THREADS = 1 };

struct ipcb_mgr_server_cfg {
	int listen_fd;            /* listening socket (ipcb_mgr_listen_*); not closed */
	int design;               /* enum ipcb_mgr_design */
	const uint8_t *key;       /* authkey, or NULL for no handshake (Unix socket) */
	size_t keylen;
	int expect_clients;       /* > 0: return once that many admitted clients have come
				   * and all have gone; 0: run until *stop */
	_Atomic uint32_t *stop;   /* polled every 50 ms; may be NULL */
	int max_conns;            /* 0: 1024; more are closed at once */
};

/* Serve until done (see expect_clients) or stopped. Blocks. Returns 0 with the final
 * counters in *st (may be NULL), or -errno (epoll, thread or memory failure). */
int ipcb_mgr_serve(const struct ipcb_mgr_server_cfg *cfg, struct ipcb_mgr_stats *st);

/* Parent: a listening AF_UNIX stream socket on a fresh ipcb_name_new() path (registered for
 * cleanup before it exists), mode 0600; path gets the name (IPCB_NAME_MAX bytes). Returns
 * the fd, or -errno (the name is removed again on failure). */
int ipcb_mgr_listen_unix(char *path, size_t len);
/* Parent: a listening TCP socket on 127.0.0.1, ephemeral port, written to *addr. Returns
 * the fd or -errno. */
int ipcb_mgr_listen_tcp(struct sockaddr_storage *addr, socklen_t *addrlen);

/* ---- client proxy (manager_client.c) ---- */

struct ipcb_mgr_client {
	int fd;
	uint32_t next_id;
	uint8_t *buf;             /* request and reply buffer, grown as needed up to a frame */
	size_t cap;
	struct ipcb_mgr_frame reply;   /* the last reply; arguments point into buf */
};

/* Connect to addr (AF_UNIX or AF_INET), TCP_NODELAY on TCP, then authenticate when key is
 * not NULL. Returns 0 or -errno: the connect errors, -EACCES (refused: wrong key),
 * -EPROTO, -ETIMEDOUT. On failure c is closed. */
int ipcb_mgr_connect(struct ipcb_mgr_client *c, const struct sockaddr *addr, socklen_t len,
		     const uint8_t *key, size_t keylen);
void ipcb_mgr_close(struct ipcb_mgr_client *c);

/* One call: send the request, wait for its reply (in c->reply). Returns the reply's status
 * (>= 0), or -errno for the transport: -EPIPE when the server closed the connection,
 * -ECONNRESET, -EPROTO (a reply that is malformed or for another request). Never hangs on a
 * dead server: its sockets close with it. */
int ipcb_mgr_call(struct ipcb_mgr_client *c, int op, const struct ipcb_mgr_arg *args, int nargs);

/* Typed proxies. Each returns 0 or -errno (ipcb_mgr_status_errno for a refusal). Outputs
 * are copied into the caller's buffer (at most cap bytes; *len is the full length, and
 * -ENOBUFS says it did not fit). */
int ipcb_mgr_ping(struct ipcb_mgr_client *c);
int ipcb_mgr_dict_get(struct ipcb_mgr_client *c, const char *key, void *out, size_t cap,
		      size_t *len);
int ipcb_mgr_dict_set(struct ipcb_mgr_client *c, const char *key, const void *v, size_t vlen);
int ipcb_mgr_list_append(struct ipcb_mgr_client *c, const void *v, size_t vlen, uint64_t *n);
int ipcb_mgr_list_pop(struct ipcb_mgr_client *c, void *out, size_t cap, size_t *len);
int ipcb_mgr_value_incr(struct ipcb_mgr_client *c, int64_t delta, int64_t *now);
int ipcb_mgr_value_get(struct ipcb_mgr_client *c, int64_t *now);
int ipcb_mgr_queue_put(struct ipcb_mgr_client *c, const void *v, size_t vlen, uint64_t *n);
int ipcb_mgr_queue_get(struct ipcb_mgr_client *c, void *out, size_t cap, size_t *len);
int ipcb_mgr_lock_acquire(struct ipcb_mgr_client *c);
int ipcb_mgr_lock_release(struct ipcb_mgr_client *c);
int ipcb_mgr_stats(struct ipcb_mgr_client *c, struct ipcb_mgr_stats *st);

#endif
