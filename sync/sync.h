/* SPDX-License-Identifier: MIT */
/*
 * Sync primitives: locks, counters and wait objects for processes, one ops table per
 * primitive, listed in sync/primitives.def.
 *
 * Lifecycle and who calls what (the same shape as ipc/transport.h):
 *   parent:  unsupported() -> init(st, nworkers)           -> [workers run] -> fini(st)
 *   worker:                   attach(x) -> lock/unlock, add/load, wait/post, run ... -> detach(x)
 * The harness places the state (state_size + nworkers * per_worker bytes, state_align
 * aligned, zeroed) in MAP_SHARED memory before the workers start, so forked workers and
 * threads see the same object at the same address. A primitive keeps every hot field on a
 * cache line of its own. Named objects (lock files, named semaphores, System V ids) come
 * from ipc/names.h in init and are removed by fini.
 *
 * The balance word. Patterns that race on a counter ("counter", "value") keep it in the
 * form (updates << 32) + amount: a deposit adds IPCB_SYNC_TICK + n, a withdrawal
 * IPCB_SYNC_TICK - n. A lost update loses its tick, so the high half counts the updates
 * that survived (lost = expected - survived, exact, never cancelling out), and the low half
 * is the balance a user sees (0 when nothing was lost, and usually not when something was).
 *
 * Operation groups are chosen by caps: LOCK -> lock/unlock (trylock optional); COUNTER ->
 * add/load; WAIT -> wait/post (reset optional); BARRIER -> wait alone. Every LOCK or
 * COUNTER primitive has run(), the batch entry: `pairs` deposit/withdraw pairs with the
 * locking inside, so the indirect call through this table sits outside the hot loop.
 */
#ifndef IPCB_SYNC_H
#define IPCB_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "../harness/mem.h"

enum {
	IPCB_SYNC_LOCK      = 1u << 0,  /* lock/unlock: mutual exclusion */
	IPCB_SYNC_COUNTER   = 1u << 1,  /* add/load: a counter that needs no lock */
	IPCB_SYNC_WAIT      = 1u << 2,  /* wait/post: a worker sleeps until another posts */
	IPCB_SYNC_LOCKFREE  = 1u << 3,  /* no lock at all: atomic instructions only */
	IPCB_SYNC_PSHARED   = 1u << 4,  /* works between processes, not only threads */
	IPCB_SYNC_RACY      = 1u << 5,  /* deliberately wrong: loses updates (the baseline) */
	IPCB_SYNC_BARRIER   = 1u << 6,  /* wait() returns once all nworkers have arrived */
	IPCB_SYNC_PERPROC   = 1u << 7,  /* ownership is per process: threads of one process do
					 * not exclude each other (classic fcntl locks) */
	IPCB_SYNC_RECURSIVE = 1u << 8,  /* the owner may lock again (RLock) */
	IPCB_SYNC_NAMED     = 1u << 9,  /* creates a named object (cleanup-registered) */
};

/* Amount of one tick in the balance word (see the header comment). */
#define IPCB_SYNC_TICK ((uint64_t)1 << 32)
/* Updates one repetition may make in all: the tick count must not wrap. */
#define IPCB_SYNC_MAX_UPDATES ((uint64_t)UINT32_MAX)

/* One worker's handle on a primitive. Owned by the worker (its stack), never shared. */
struct ipcb_sync_ctx {
	const struct ipcb_sync *sy;
	void *st;                /* the shared state */
	int id, nworkers;        /* this worker, 0..nworkers-1 */
	int fd;                  /* attach may open one (file locks); -1 otherwise */
	uint32_t owner;          /* id + 1: a non-zero owner tag (recursive locks) */
	uint64_t priv[4];        /* primitive-private per-worker words */
};

struct ipcb_sync {
	const char *name;        /* CLI name, hyphenated: "pthread-mutex" */
	const char *summary;     /* one line for `ipcbench list` */
	uint32_t caps;           /* IPCB_SYNC_* */
	size_t state_size;       /* shared state, fixed part */
	size_t state_align;      /* its alignment (>= 8; 64 keeps hot fields apart) */
	size_t per_worker;       /* shared bytes added per worker (queue-lock nodes), or 0 */

	/* Parent, any time. NULL if usable here, else a static reason (case SKIPPED). May be
	 * NULL (always usable). */
	const char *(*unsupported)(void);

	/* Parent, before the workers start. st is zeroed shared memory of the size above.
	 * Returns 0, or -errno with why filled; -ENOTSUP and -ENOSYS make the case SKIPPED.
	 * On failure init leaves nothing behind (fini is not called). Does not block. */
	int (*init)(void *st, int nworkers, char *why, size_t len);
	/* Parent, after every worker has exited or been killed; only after a successful init.
	 * Releases what init made, named objects included. Must not depend on the workers. */
	void (*fini)(void *st);

	/* Worker, once, before the start gate (x->st, id, nworkers, fd = -1 already set).
	 * Returns 0 or -errno. May be NULL. */
	int (*attach)(struct ipcb_sync_ctx *x);
	/* Worker, once, at the end. Never fails. May be NULL. */
	void (*detach)(struct ipcb_sync_ctx *x);

	/* LOCK. lock blocks until acquired; returns 0 or -errno (a robust mutex whose owner
	 * died is made consistent and counts as acquired). unlock by the owner only.
	 * trylock returns 0, or -EBUSY when held; may be NULL. */
	int (*lock)(struct ipcb_sync_ctx *x);
	void (*unlock)(struct ipcb_sync_ctx *x);
	int (*trylock)(struct ipcb_sync_ctx *x);

	/* COUNTER. add returns the value before; load reads it. The counter lives in the
	 * primitive's state (not the pattern's balance). */
	int64_t (*add)(struct ipcb_sync_ctx *x, int64_t delta);
	int64_t (*load)(struct ipcb_sync_ctx *x);

	/* WAIT. post wakes one waiter (semaphores, condition) or all of them (event); wait
	 * blocks until posted and consumes the post (an event is reset by reset(), which may
	 * be NULL elsewhere). BARRIER: wait alone, returns when nworkers have called it.
	 * Return 0 or -errno. */
	int (*wait)(struct ipcb_sync_ctx *x);
	int (*post)(struct ipcb_sync_ctx *x);
	void (*reset)(struct ipcb_sync_ctx *x);
	/* WAIT, optional: wake every worker waiting now (Condition.notify_all; an event's post
	 * already does). Returns 0 or -errno. NULL where "all" has no meaning (semaphores). */
	int (*post_all)(struct ipcb_sync_ctx *x);

	/* LOCK, optional: how many times a locker found the owner dead and took the lock over
	 * (a robust mutex: lock() returns 0 then, and this count is how the loss is seen, since
	 * the dead owner's critical section may be half done). Parent or worker, any time after
	 * init. NULL: the primitive cannot tell. */
	uint64_t (*owner_deaths)(void *st);

	/* LOCK or COUNTER: `pairs` times, deposit (balance += TICK + amount) then withdraw
	 * (balance += TICK - amount), each update protected by the primitive. balance is
	 * pattern memory shared by every worker, on a line of its own; all workers together
	 * make fewer than IPCB_SYNC_MAX_UPDATES updates on it. Returns 0 or -errno. */
	int (*run)(struct ipcb_sync_ctx *x, int64_t *balance, uint64_t pairs, int64_t amount);
};

#define IPCB_SYNC(n) extern const struct ipcb_sync ipcb_sync_##n;
#include "primitives.def"
#undef IPCB_SYNC

extern const struct ipcb_sync *const ipcb_syncs[];  /* NULL-terminated, primitives.def order */
/* The primitive called name ("pthread-mutex"), or NULL. */
const struct ipcb_sync *ipcb_sync_find(const char *name);

/*
 * One instance for one repetition: the primitive's state and the pattern's data (balance,
 * Value, Array, time stamps) in one zeroed MAP_SHARED mapping, each cache-line aligned.
 * The struct itself is the parent's; forked workers get a copy whose pointers stay valid.
 */
struct ipcb_sync_inst {
	const struct ipcb_sync *sy;
	void *st;                /* primitive state */
	void *data;              /* pattern data (data_bytes, zeroed), or NULL */
	size_t data_bytes;
	int nworkers;
	void *map;
	size_t map_len;
	char applied[96];        /* the --mem policy applied to map (ipcb_mem_alloc) */
	int live;                /* init succeeded: fini is owed */
};

/* Parent. Map and initialise sy for nworkers with data_bytes of pattern data, placed by req
 * (NULL: no policy). Returns 0; -ENOTSUP when sy is unsupported here (why says why: the case
 * is SKIPPED); or -errno (why says what failed). On failure nothing is left to free. */
int ipcb_sync_inst_new(struct ipcb_sync_inst *si, const struct ipcb_sync *sy, int nworkers,
		       size_t data_bytes, const struct ipcb_mem_req *req, char *why, size_t len);
/* Parent. fini + unmap. Idempotent; safe on a zeroed struct. */
void ipcb_sync_inst_free(struct ipcb_sync_inst *si);

/* The worker counts the sync patterns sweep for a CPU budget: 1, 2, 4, ... below the
 * budget, then the budget itself. sweep_len is how many (a pattern's variants()); workers
 * the i-th of them (its plan(), with c->variant). */
int ipcb_sync_sweep_len(int budget);
int ipcb_sync_sweep_workers(int budget, int i);

/* Worker. Fill x for worker id and call the primitive's attach. Returns 0 or -errno. */
int ipcb_sync_ctx_attach(struct ipcb_sync_ctx *x, const struct ipcb_sync_inst *si, int id);
/* Worker. The primitive's detach; closes x->fd if still open. */
void ipcb_sync_ctx_detach(struct ipcb_sync_ctx *x);

/* The deposit/withdraw loop for a LOCK primitive, with lock and unlock inlined: used by each
 * lock's run(). Statement macro; `lk`/`ulk` are static functions taking the ctx. */
#define IPCB_SYNC_RUN_LOCKED(prefix, lk, ulk)                                          \
	static int prefix##_run(struct ipcb_sync_ctx *x, int64_t *balance, uint64_t pairs, \
				int64_t amount)                                                \
	{                                                                              \
		for (uint64_t i_ = 0; i_ < pairs; i_++) {                              \
			int rc_ = lk(x);                                               \
			if (rc_ < 0)                                                   \
				return rc_;                                            \
			*balance = (int64_t)((uint64_t)*balance + IPCB_SYNC_TICK +    \
					     (uint64_t)amount);                        \
			ulk(x);                                                        \
			rc_ = lk(x);                                                   \
			if (rc_ < 0)                                                   \
				return rc_;                                            \
			*balance = (int64_t)((uint64_t)*balance + IPCB_SYNC_TICK -    \
					     (uint64_t)amount);                        \
			ulk(x);                                                        \
		}                                                                      \
		return 0;                                                              \
	}

/* Decode a balance word: the updates that survived (modulo 2^32: exact while fewer than
 * IPCB_SYNC_MAX_UPDATES were made) and the visible balance (exact while |balance| < 2^31).
 * The word is an int64_t, updated in unsigned arithmetic (or by the __atomic builtins,
 * which wrap): it wraps past 2^63, it never overflows. */
static inline void ipcb_sync_balance_split(uint64_t word, uint64_t *updates, int64_t *amount)
{
	int64_t a = (int64_t)(int32_t)(uint32_t)(word & 0xffffffffu);
	*amount = a;
	*updates = (uint32_t)((word - (uint64_t)a) >> 32);
}

/* Busy-wait hint for spinning loops. */
static inline void ipcb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * ThreadSanitizer cannot see ordering made by the kernel (flock, fcntl, semop, futex words it
 * does not intercept). Primitives built on those annotate their acquire and release so a
 * thread-mode run under TSan checks the critical sections, not the kernel. No-ops otherwise.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define IPCB_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#define IPCB_TSAN_RELEASE(p) __tsan_release((void *)(p))
#else
#define IPCB_TSAN_ACQUIRE(p) ((void)(p))
#define IPCB_TSAN_RELEASE(p) ((void)(p))
#endif

/* Futex helpers for primitives built on futexes (shared, not PRIVATE: processes too).
 * wait returns 0 when woken or the value differed, -EINTR, -ETIMEDOUT. */
#define IPCB_FUTEX_ALL 0x7fffffff   /* wake count meaning "every waiter" */
int ipcb_futex_wait(uint32_t *addr, uint32_t val);
void ipcb_futex_wake(uint32_t *addr, int n);

#endif
