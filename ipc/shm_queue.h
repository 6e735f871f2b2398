/* SPDX-License-Identifier: MIT */
/*
 * A bounded multi-producer multi-consumer queue of fixed-size items in shared memory that
 * blocks on futexes: our multiprocessing.Queue (and, with IPCB_SHM_QUEUE_JOINABLE, our
 * JoinableQueue). The caller provides the memory (MAP_SHARED anonymous before fork(), or any
 * memory for threads of one process); every operation works from any process or thread that
 * maps it, so there is no attach step and nothing to free. The design and the measurements
 * behind it are in shm_queue.c.
 *
 * Timeouts: every blocking call takes timeout_ns. IPCB_SHM_QUEUE_NOWAIT (0) never sleeps and
 * returns -EAGAIN when the call would block (Python's block=False); IPCB_SHM_QUEUE_FOREVER
 * blocks until it can proceed; anything else is a relative timeout after which the call
 * returns -ETIMEDOUT (Python's Full/Empty after `timeout`). Signals do not interrupt a call
 * (like Python since PEP 475): EINTR is retried inside with the remaining time.
 *
 * A process that dies inside put() or get() leaves its cell claimed, and the queue stalls
 * at that cell (the lock variant: holding the lock). The benchmark's watchdog catches it;
 * the queue does not try to recover.
 */
#ifndef IPCB_SHM_QUEUE_H
#define IPCB_SHM_QUEUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IPCB_SHM_QUEUE_NOWAIT ((uint64_t)0)
#define IPCB_SHM_QUEUE_FOREVER UINT64_MAX

#define IPCB_SHM_QUEUE_CAP_MAX ((size_t)1 << 30)       /* items */
#define IPCB_SHM_QUEUE_ITEM_MAX ((size_t)1 << 28)      /* bytes per item (256 MiB) */

enum {
	IPCB_SHM_QUEUE_JOINABLE = 1u << 0,  /* count unfinished tasks: task_done() and join() */
	IPCB_SHM_QUEUE_LOCKED   = 1u << 1,  /* the lock + two condition words variant instead of
					     * the lock-free cell array (kept for comparison) */
	IPCB_SHM_QUEUE_YIELD    = 1u << 2,  /* spin polls give the CPU away (sched_yield) instead
					     * of pausing: for peers that may share this CPU */
};

struct ipcb_shm_queue_params {
	size_t capacity;          /* items, 1 .. IPCB_SHM_QUEUE_CAP_MAX (any value, not only 2^k) */
	size_t item_size;         /* largest item in bytes, 1 .. IPCB_SHM_QUEUE_ITEM_MAX */
	unsigned flags;           /* IPCB_SHM_QUEUE_* */
	unsigned spin;            /* polls before a blocked call sleeps; 0 sleeps at once. With
				   * IPCB_SHM_QUEUE_YIELD each poll is a sched_yield(), else a
				   * CPU pause: use a few yields when producers and consumers may
				   * share CPUs, hundreds of pauses when each has its own */
};

/*
 * The unfinished-task counter of a JoinableQueue on its own, 16 bytes: every put adds one,
 * every task_done() takes one, join() sleeps until it is zero. The queue embeds one in
 * JOINABLE mode; it can also sit next to any other queue (bench/prodcons.c puts one in the
 * control block to give every transport JoinableQueue semantics). Zeroed memory is a valid
 * empty counter.
 */
struct ipcb_shm_join {
	_Atomic uint64_t unfinished;
	_Atomic uint32_t ev;      /* futex word: bumped when unfinished reaches 0 with joiners */
	_Atomic uint32_t waiters; /* joiners between registering and leaving join() */
};

struct ipcb_shm_queue;        /* lives at the start of the caller's memory */

/* Bytes of memory a queue with these parameters needs, or 0 when they are out of range. */
size_t ipcb_shm_queue_size(const struct ipcb_shm_queue_params *p);

/* Make mem (mem_len bytes, 64-byte aligned, e.g. from mmap) an empty queue. Parent, before
 * any other party touches it. Returns the queue (== mem) in *out and 0, or -EINVAL (bad
 * parameters or alignment) or -ENOSPC (mem_len < ipcb_shm_queue_size()). */
int ipcb_shm_queue_init(void *mem, size_t mem_len, const struct ipcb_shm_queue_params *p,
			struct ipcb_shm_queue **out);

/* Copy len bytes (1 .. item_size) from item into the queue, waiting for room up to
 * timeout_ns. Returns 0, -EAGAIN (NOWAIT and full), -ETIMEDOUT, or -EMSGSIZE (len out of
 * range; nothing is queued). "Full" may also mean that a consumer has taken the oldest item
 * but not finished copying it out. */
int ipcb_shm_queue_put(struct ipcb_shm_queue *q, const void *item, size_t len,
		       uint64_t timeout_ns);

/* Take the oldest item, waiting for one up to timeout_ns, into buf (len >= item_size, so an
 * item is never cut). Returns the item's length, -EAGAIN (NOWAIT and empty, which includes
 * "its producer is still copying it in"), -ETIMEDOUT, or -EMSGSIZE (len < item_size;
 * nothing is taken). */
ssize_t ipcb_shm_queue_get(struct ipcb_shm_queue *q, void *buf, size_t len, uint64_t timeout_ns);

/* Approximate, like Python's: exact only while no put or get is in progress. */
size_t ipcb_shm_queue_qsize(const struct ipcb_shm_queue *q);
int ipcb_shm_queue_empty(const struct ipcb_shm_queue *q);
int ipcb_shm_queue_full(const struct ipcb_shm_queue *q);
size_t ipcb_shm_queue_capacity(const struct ipcb_shm_queue *q);
size_t ipcb_shm_queue_item_size(const struct ipcb_shm_queue *q);

/* JoinableQueue: mark one item taken with get() as processed. Returns 0, -EINVAL when
 * called more times than items were put (Python's ValueError; the count stays at 0), or
 * -EOPNOTSUPP on a queue made without IPCB_SHM_QUEUE_JOINABLE. */
int ipcb_shm_queue_task_done(struct ipcb_shm_queue *q);

/* JoinableQueue: wait until every item put so far has been marked done (returns at once
 * when none is pending). Returns 0, -EAGAIN (NOWAIT and items pending), -ETIMEDOUT, or
 * -EOPNOTSUPP on a queue made without IPCB_SHM_QUEUE_JOINABLE. */
int ipcb_shm_queue_join(struct ipcb_shm_queue *q, uint64_t timeout_ns);

/* Items put and not yet marked done (0 on a queue that is not joinable). */
uint64_t ipcb_shm_queue_unfinished(const struct ipcb_shm_queue *q);

/* The counter alone (see struct ipcb_shm_join). add: n more pending tasks. done: one task
 * finished; returns the number still pending (>= 0), or -EINVAL when none was pending.
 * wait: as ipcb_shm_queue_join(). */
void ipcb_shm_join_add(struct ipcb_shm_join *j, uint64_t n);
int64_t ipcb_shm_join_done(struct ipcb_shm_join *j);
int ipcb_shm_join_wait(struct ipcb_shm_join *j, uint64_t timeout_ns);

#endif
