/* SPDX-License-Identifier: MIT */
/*
 * Message transports: one ops table per mechanism, listed in ipc/transports.def.
 *
 * A channel joins workers of role A (producers / the ping side) to workers of role B
 * (consumers / the pong side). Messages sent by A arrive at B; a DUPLEX transport also
 * carries B's messages back to A. The parent sets the channel up before the workers start
 * and tears it down after every worker has exited (or been killed), so teardown must not
 * depend on the workers' cooperation.
 *
 * Lifecycle and who calls what:
 *   parent:  unsupported() -> setup(ch)        -> [workers run]        -> teardown(ch)
 *   worker:                   attach(ch, e, role) -> send/recv ... -> detach(e)
 * In process mode workers are forked after setup, so fds and MAP_SHARED memory are
 * inherited; in thread mode they share the parent's. attach/detach must work in both.
 */
#ifndef IPCB_TRANSPORT_H
#define IPCB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	IPCB_CAP_STREAM     = 1u << 0,  /* byte stream: recv may return part of a message */
	IPCB_CAP_DGRAM      = 1u << 1,  /* message boundaries kept: one recv = one message */
	IPCB_CAP_DUPLEX     = 1u << 2,  /* B can send back to A */
	IPCB_CAP_MULTI_PROD = 1u << 3,  /* several A workers may send at once */
	IPCB_CAP_MULTI_CONS = 1u << 4,  /* several B workers may receive at once */
	IPCB_CAP_NAMED      = 1u << 5,  /* creates a named object (cleanup-registered) */
	IPCB_CAP_LOSSY      = 1u << 6,  /* may drop messages (UDP): loss is a metric, not a failure */
	IPCB_CAP_ONE_IN_FLIGHT = 1u << 7, /* a second message sent before the first is received
					   * merges with it (eventfd): ping-pong only */
};

struct ipcb_opt;

enum { IPCB_ROLE_A = 0, IPCB_ROLE_B = 1 };

#define IPCB_CHAN_FDS 8

/* One channel for one case. Zeroed by the harness before setup; fields below "config" are
 * inputs, the rest belong to the transport. */
struct ipcb_mem_req;

struct ipcb_chan {
	const struct ipcb_transport *tr;
	/* config, set by the harness */
	size_t msg_size;          /* largest message the case will send */
	int n_a, n_b;             /* workers of each role */
	int cpus_shared;          /* 1 when some A and B workers share a CPU (or are unpinned):
				   * a busy-waiting transport must yield or block instead */
	int allow_clamp;          /* --allow-clamp: a clamped request is recorded, not an
				   * error (harness/request.h) */
	const struct ipcb_mem_req *mem_req; /* --mem, for a segment the messages live in
				   * (harness/mem.h); NULL: local to the caller */
	/* transport state */
	int fd[IPCB_CHAN_FDS];    /* -1 when unused (setup sets them) */
	void *mem;                /* shared mapping, if any */
	size_t mem_len;
	char effective[192];      /* effective parameters, "pipe_sz=65536", for the CSV */
	char why[160];            /* setup's reason when it returns -EMSGSIZE, -ENOTSUP or
				   * -ERANGE (a clamped request, harness/request.h) */
	char clamped[200];        /* requests clamped under --allow-clamp, for the CSV */
};

/* One worker's end of a channel. Zeroed by the harness before attach. */
struct ipcb_end {
	struct ipcb_chan *ch;
	int role;
	int rfd, wfd;             /* fds this end reads and writes, -1 if none */
	void *priv;
	uint64_t sent, received;  /* whole messages through ipcb_send/recv_msg (fault injection) */
};

struct ipcb_transport {
	const char *name;         /* CLI name, hyphenated: "shm-ring" */
	const char *summary;      /* one line for `ipcbench list` */
	uint32_t caps;            /* IPCB_CAP_* */
	size_t max_msg;           /* largest message carried; 0 = unbounded (stream). A limit
				   * known only at run time is checked by setup (-EMSGSIZE). */
	const struct ipcb_opt *opts; /* --<name>-<opt> options, NULL-name terminated; may be NULL */

	/* Parent, any time. NULL if usable on this machine, else a static string saying why
	 * not (the case is SKIPPED with it). May be NULL (always usable). */
	const char *(*unsupported)(void);

	/* Parent, before the workers start. Creates the mechanism for ch->msg_size, ch->n_a,
	 * ch->n_b. Returns 0 or -errno. -EMSGSIZE (the size is over a system limit) and -ENOTSUP
	 * (this layout cannot work) make the case SKIPPED with the reason written in ch->why;
	 * any other error makes it FAILED (-ERANGE: a request the kernel clamped, ch->why set
	 * by ipcb_request_check()). Named objects come from ipcb_name_new() (names.h).
	 * On failure the channel must still be safe to teardown. Does not block. */
	int (*setup)(struct ipcb_chan *ch);

	/* Worker, once, before the start gate. Binds e to role. Returns 0 or -errno. */
	int (*attach)(struct ipcb_chan *ch, struct ipcb_end *e, int role);

	/* Worker. Send len bytes (len <= ch->msg_size). Blocks until the transport accepted
	 * them. Returns the bytes accepted (a STREAM transport may accept fewer; the caller
	 * loops) or -errno. The caller owns buf. */
	ssize_t (*send)(struct ipcb_end *e, const void *buf, size_t len);

	/* Worker. Receive up to len bytes. Blocks until something arrives. Returns the bytes
	 * received (a DGRAM transport returns exactly one message), 0 when the peer has closed
	 * a stream, or -errno. */
	ssize_t (*recv)(struct ipcb_end *e, void *buf, size_t len);

	/* Worker, once, after its last send/recv. Never fails. May be NULL. */
	void (*detach)(struct ipcb_end *e);

	/* Parent, after every worker has exited or been killed. Releases everything setup
	 * made, including named objects. Idempotent. */
	void (*teardown)(struct ipcb_chan *ch);
};

#define IPCB_TRANSPORT(n) extern const struct ipcb_transport ipcb_transport_##n;
#include "transports.def"
#undef IPCB_TRANSPORT

extern const struct ipcb_transport *const ipcb_transports[];  /* NULL-terminated */
const struct ipcb_transport *ipcb_transport_find(const char *name);

/* Send/receive one whole message of len bytes, looping over partial STREAM transfers.
 * Return 0, -EPIPE when the peer closed, -EMSGSIZE when a DGRAM message had another size,
 * or the transport's -errno. */
int ipcb_send_msg(struct ipcb_end *e, const void *buf, size_t len);
int ipcb_recv_msg(struct ipcb_end *e, void *buf, size_t len);

/*
 * Test-only fault injection, so tests can prove that lost, duplicated and corrupted
 * messages are detected. Set from the environment variable IPCBENCH_TEST_FAULT
 * ("drop@N", "dup@N" or "corrupt@N": the N-th message, from 0, that each sending worker
 * passes to ipcb_send_msg is dropped, sent twice, or sent with its last stamped word
 * flipped; "stall@N": each receiving worker sleeps 10 ms after its N-th message). Off unless that variable is set; costs one predictable branch per message.
 */
enum { IPCB_FAULT_NONE, IPCB_FAULT_DROP, IPCB_FAULT_DUP, IPCB_FAULT_CORRUPT, IPCB_FAULT_STALL };
struct ipcb_fault {
	int kind;
	uint64_t at;
	/* STALL, set by stress mode (harness/stress.c): how long to sleep (0 = 10 ms), and a
	 * word in shared memory counting the stalls that happened (NULL = not counted). */
	uint64_t stall_ns;
	_Atomic uint64_t *stalled;
};
extern struct ipcb_fault ipcb_test_fault;
/* Read IPCBENCH_TEST_FAULT. Returns 0 (also when unset) or -EINVAL for a malformed value. */
int ipcb_fault_from_env(void);

#endif
