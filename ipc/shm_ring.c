// SPDX-License-Identifier: MIT
/*
 * shm-ring: a lock-free single-producer single-consumer ring in shared memory, one ring per
 * direction (A->B and B->A), carrying whole messages (DGRAM).
 *
 * What is measured: the cost of handing a message to another CPU through ordinary memory —
 * one copy into the ring in send, one copy out in recv, and the cache-line transfers of the
 * data and of one index. No system call is made on the fast path; the futex wait mode makes
 * one only when a side really sleeps. Deliberately excluded: zero-copy (the transport API
 * passes buffers), several producers or consumers (SPSC only: setup refuses n_a or n_b > 1),
 * and any lock.
 *
 * Layout of the one MAP_SHARED|MAP_ANONYMOUS mapping (made in setup with ipcb_mem_alloc, so
 * forked workers inherit it and threads share it; placed by the case's --mem request, which
 * the harness makes local to the consumer's CPU, or local to the parent's CPU when no request
 * is passed; where its pages really are is asked of the kernel and judged like a clamp):
 *
 *   [ring AB header][ring BA header][config] [data AB ...] [data BA ...]
 *
 * Each header holds the producer's words and the consumer's words on lines of their own
 * (SHM_RING_LINE = 128 bytes, two cache lines: adjacent-line prefetchers pull lines in pairs,
 * so 64 bytes apart is not far enough to keep the two sides from disturbing each other):
 *
 *   producer line: head (bytes ever published), prod_closed, and the consumer's sleep flag
 *                  and futex word (the producer is the one who reads the flag and wakes);
 *   consumer line: tail (bytes ever consumed), cons_closed, and the producer's sleep flag
 *                  and futex word.
 *
 * head and tail are free-running 64-bit byte counters (they never wrap in practice: 2^64
 * bytes at 100 GB/s is 5.8 years), so used = head - tail with no full/empty ambiguity, and
 * the capacity need not be a power of two: each side keeps its own offset into the data
 * area and wraps it with one compare. Each side caches the other's counter in private memory
 * and re-reads the shared one (acquire) only when the cached value says "full" or "empty",
 * so while the ring is neither, a side does not touch the other's line at all (the classic
 * cached-index SPSC ring, as in ck_ring and Rigtorp's SPSCQueue).
 *
 * A message is a record: an 8-byte length word, then the payload, padded to whole cache
 * lines. Records on line boundaries keep the producer, writing the next record, off the lines
 * of the record the consumer is reading (with 8-byte records, a 64-byte message shares a
 * line with its neighbours and, when the consumer keeps up, that line bounces between the
 * CPUs on every message: measured, that costs more than the padding); the price is up to 63
 * bytes per message, one line per message for the smallest ones. The length word never
 * straddles the end of the data area; a payload that does is copied in two pieces. The largest
 * message is the capacity less the length word; setup refuses a case whose size does not fit
 * (-EMSGSIZE, so SKIPPED), and send refuses a bigger one the same way.
 * Ordering: the producer writes the record with plain stores and then publishes head with
 * a release store; the consumer loads head with acquire before reading the record, and
 * publishes tail with release after copying it out; the producer loads tail with acquire
 * before reusing the space. A full ring blocks the producer; nothing is overwritten.
 *
 * Tried and measured, not kept (AMD EPYC, 2 vCPUs under KVM, p50 of the same per-batch means
 * as bench/validate_ring.sh, runs interleaved with the kept version): making the record's
 * length word the publication flag, so the consumer polls the record itself and never reads
 * head (a one-line record for messages up to 56 bytes, the producer zeroing the next word
 * before publishing so that an old payload never reads as a length). Ping-pong did not move
 * (8/56/64 B over 7 interleaved runs: 112-115/115-119/117-120 ns, against 112-118/110-124/
 * 116-123 ns with head), so the index line is not what separates the ring from the one-line
 * floor; 64-byte streaming got less steady (4 of 5 runs 94-114 M/s and one 62 M/s, against
 * 107-110 M/s with head: a consumer that catches up polls the line the producer writes).
 * Measured again in the same rounds (bench/probes/ring_rounds -p with both versions linked
 * in, 8 B, 10 000 rounds of 200 round trips, three runs, quick state): the length-word design
 * without its prefetch of the line after the word 97-108 ns, against 102-106 ns with head,
 * inside the run-to-run spread; two bare one-way slot rings carrying the same stamped
 * message, no ring code, 74-95 ns, and 78-87 ns with the next word zeroed as the length-word
 * design must; the one-line floor 44-51 ns. Three more runs of 6 000 rounds: the length-word
 * design 0.82-0.89x the index design's round trip at 8 B, 0.98-1.04x at 64 B; but ipcbench's
 * 64-byte stream, runs alternated, 88.5 M/s against 112 M/s with the index in the quick
 * state (in the slow one 16.7 against 12.9 M/s). A gain at one size of one pattern for a
 * fifth of the streaming rate: not kept. Nor a hybrid (head kept for a consumer that is
 * behind, the length word polled by one that waits, the producer's line looked at only
 * every 256 polls): ring / bare slots in the same rounds 1.22-1.26 against 1.25-1.35 at 8 B,
 * 1.05-1.08 against 1.09-1.21 at 64 B, stream rate per reference 1.16-1.36 against
 * 1.36-1.38; a few ns, and one unsteady stream in three. (Its first version also showed
 * that "head != tail" is not "data" once a consumer can run ahead of a head store it has
 * not seen.) An inline copy in recv (same method, slow state:
 * one-line ~360 ns): 1% faster at 8 B, 32% slower at 64 B (two 32-byte loads from lines
 * still arriving from the other CPU), so recv calls memcpy. What the ring pays above the bare slot rings (1.1-1.3x in the same rounds)
 * is the software around the copy: the call through the table, space accounting, wait modes.
 *
 * Batching (--shm-ring-batch N): the producer publishes head every N messages. The consumer
 * publishes tail lazily, once it has consumed an eighth of the ring: when the producer
 * outruns the consumer and the ring is full, a tail published per message would be read by
 * the waiting producer after every message, and the tail line and the freed slot would
 * bounce between the two CPUs once per message (the classic ring's worst case); released in
 * eighths, the producer finds room for many messages at each look. Whatever an end holds
 * back (unpublished messages, unreleased space) is flushed whenever it is about to wait,
 * for space in send or for data in recv (so a ping-pong with batching does not deadlock, and
 * a waiting end never leaves its peer waiting on something it could already have), and in
 * detach, so the last message of a run (the stop message) is never held back; no timer is
 * involved.
 *
 * Waiting (--shm-ring-wait): spin polls with a pause instruction; yield calls sched_yield;
 * futex spins a bounded number of times and then sleeps on a shared (not PRIVATE: processes
 * share it) futex word; auto is spin when the two ends run on different CPUs and futex when
 * they share one (ch->cpus_shared), because a spinning peer on a shared CPU only measures
 * the scheduler tick. Sleeping without a lost wake-up (Dekker's pattern, so this is the one
 * place that needs seq_cst): the sleeper reads the futex word, sets its sleep flag, re-checks
 * the index and the closed flag, and sleeps only if nothing changed, with FUTEX_WAIT on the
 * word it read; the waker stores the index, then reads the flag and, if set, clears it, bumps
 * the word and calls FUTEX_WAKE. Both the flag store/index load and the index store/flag load
 * pairs are seq_cst, so at least one side sees the other; a bump after the sleeper read the
 * word makes FUTEX_WAIT return at once. The futex word is a counter of its own rather than
 * the index, so that closing (which changes no index) also wakes a sleeper reliably. In the
 * spin and yield modes nobody sleeps and the index stores are plain release stores.
 *
 * Closing: detach flushes, marks this end's producer and consumer sides closed and wakes the
 * peer, so a peer waiting for data gets 0 (end of stream) once the ring is drained, and a
 * peer waiting for space gets -EPIPE, instead of hanging until the watchdog.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../harness/mem.h"
#include "../harness/request.h"
#include "../harness/opt.h"
#include "transport.h"

#define SHM_RING_LINE 128                          /* see the file comment */
#define SHM_RING_WORD 8                            /* the length word before each payload */
#define SHM_RING_ALIGN 64                          /* records start on a cache line */
#define SHM_RING_DEFAULT_BYTES ((uint64_t)4 << 20)
#define SHM_RING_DEFAULT_MSGS 8                    /* default ring holds at least this many */
#define SHM_RING_BIG_BYTES ((uint64_t)256 << 20)   /* above this, the default holds only 2 */
#define SHM_RING_SPINS_AUTO 1000                   /* futex mode, ends on different CPUs */
#define SHM_RING_RELEASE_DIV 8                     /* consumer publishes tail every cap/8 */

enum shm_ring_wait { SHM_RING_SPIN, SHM_RING_YIELD, SHM_RING_FUTEX };
static const char *const shm_ring_wait_names[] = { "spin", "yield", "futex" };

/* --shm-ring-* options, parsed in the parent before any worker starts. */
static struct shm_ring_settings {
	int bytes;          /* ring capacity per direction; 0 = automatic */
	int batch;          /* publish head every this many messages */
	const char *wait;   /* auto|spin|yield|futex */
	int spins;          /* futex mode: polls before sleeping; -1 = automatic */
} shm_ring_set = { .bytes = 0, .batch = 1, .wait = "auto", .spins = -1 };

/* One direction's shared indices. Zeroed by the mapping. */
struct shm_ring_hdr {
	/* written by the producer (and, rarely, by a consumer going to sleep) */
	alignas(SHM_RING_LINE) _Atomic uint64_t head;
	_Atomic uint32_t prod_closed;
	_Atomic uint32_t cons_sleeping;   /* consumer is (about to be) in FUTEX_WAIT */
	_Atomic uint32_t cons_futex;      /* consumer sleeps on it; producer bumps it to wake */
	/* written by the consumer (and, rarely, by a producer going to sleep) */
	alignas(SHM_RING_LINE) _Atomic uint64_t tail;
	_Atomic uint32_t cons_closed;
	_Atomic uint32_t prod_sleeping;
	_Atomic uint32_t prod_futex;
};

/* The head of the mapping: both rings' indices, then settings fixed by setup. */
struct shm_ring_shared {
	struct shm_ring_hdr ring[2];      /* [0]: A->B, [1]: B->A */
	alignas(SHM_RING_LINE) uint64_t cap;   /* data bytes per direction, multiple of 64 */
	uint64_t data_off[2];             /* offset of each data area from the mapping start */
	int wait, batch, spins;
	_Atomic uint32_t attached[2];     /* per role: refuses a second worker of a role */
};

/* One worker's end: private memory (malloc'd in attach), so the hot fields are never
 * shared. tx is the ring this end produces into, rx the one it consumes from. */
struct shm_ring_end {
	struct shm_ring_shared *sh;
	struct shm_ring_hdr *tx, *rx;
	unsigned char *tx_data, *rx_data;
	uint64_t cap;
	uint64_t tx_head;         /* bytes written, published or not */
	uint64_t tx_tail_cache;   /* last tail seen */
	uint64_t tx_pos;          /* tx_head's offset in the data area */
	uint32_t tx_unpub;        /* messages written since head was last published */
	uint64_t rx_tail;         /* bytes consumed, published or not */
	uint64_t rx_tail_pub;     /* last tail published */
	uint64_t rx_head_cache;   /* last head seen */
	uint64_t rx_pos;          /* rx_tail's offset in the data area */
	uint64_t release;         /* publish tail once this many bytes are consumed */
	int wait, batch, spins;
	int role;
};

/* ---- small helpers ---- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static long futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	/* Shared futex: no FUTEX_PRIVATE_FLAG, since the word may be mapped by two processes. */
	return syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
	(void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Bytes a message of len bytes takes in the ring: length word + payload, in whole lines. */
static inline uint64_t rec_bytes(uint64_t len)
{
	return (SHM_RING_WORD + len + SHM_RING_ALIGN - 1) & ~(uint64_t)(SHM_RING_ALIGN - 1);
}

/*
 * Copy n bytes into the ring. Up to 64 bytes inline, as two overlapping fixed-size moves: a
 * call into the C library's memcpy costs about as much as the copy itself at this size.
 * Only send uses it. Measured on the development machine (AMD EPYC, KVM) with 64-byte
 * messages: inline in send, stream +15% and ping-pong -10 ns a round trip; inline in recv as
 * well, stream another +10% but ping-pong +70 ns a round trip (copying out of lines that
 * have just arrived from the other CPU), so recv calls memcpy.
 */
static inline void copy_bytes(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (n > 64) {
		memcpy(dp, sp, n);
	} else if (n >= 32) {
		__builtin_memcpy(dp, sp, 32);
		__builtin_memcpy(dp + n - 32, sp + n - 32, 32);
	} else if (n >= 16) {
		__builtin_memcpy(dp, sp, 16);
		__builtin_memcpy(dp + n - 16, sp + n - 16, 16);
	} else if (n >= 8) {
		__builtin_memcpy(dp, sp, 8);
		__builtin_memcpy(dp + n - 8, sp + n - 8, 8);
	} else {
		for (size_t i = 0; i < n; i++)
			dp[i] = sp[i];
	}
}

static uint64_t round_up(uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

/* Wake whoever sleeps on *futex if its flag says so (waker side of the file comment). */
static inline void wake_if_sleeping(_Atomic uint32_t *flag, _Atomic uint32_t *futex)
{
	if (atomic_load_explicit(flag, memory_order_seq_cst) &&
	    atomic_exchange_explicit(flag, 0, memory_order_relaxed)) {
		atomic_fetch_add_explicit(futex, 1, memory_order_release);
		futex_wake(futex, 1);
	}
}

/* Make every written message visible to the consumer. */
static inline void publish_head(struct shm_ring_end *s)
{
	s->tx_unpub = 0;
	if (s->wait != SHM_RING_FUTEX) {
		atomic_store_explicit(&s->tx->head, s->tx_head, memory_order_release);
		return;
	}
	/* seq_cst: this store and the flag load below must not be reordered (Dekker). */
	atomic_store_explicit(&s->tx->head, s->tx_head, memory_order_seq_cst);
	wake_if_sleeping(&s->tx->cons_sleeping, &s->tx->cons_futex);
}

static inline void publish_tail(struct shm_ring_end *s)
{
	s->rx_tail_pub = s->rx_tail;
	if (s->wait != SHM_RING_FUTEX) {
		atomic_store_explicit(&s->rx->tail, s->rx_tail, memory_order_release);
		return;
	}
	atomic_store_explicit(&s->rx->tail, s->rx_tail, memory_order_seq_cst);
	wake_if_sleeping(&s->rx->prod_sleeping, &s->rx->prod_futex);
}

/* Publish whatever this end holds back, before it waits for anything: the peer may be
 * waiting for exactly that (this is what makes batching and lazy release deadlock-free). */
static inline void flush_all(struct shm_ring_end *s)
{
	if (s->tx_unpub)
		publish_head(s);
	if (s->rx_tail != s->rx_tail_pub)
		publish_tail(s);
}

/*
 * Sleep on *futex unless ready() already holds: the sleeper side of the protocol in the file
 * comment. ready() is evaluated after the flag is set, with seq_cst loads.
 */
#define SLEEP_UNLESS(flag, futex, ready) do {                                       \
	uint32_t seen_ = atomic_load_explicit((futex), memory_order_acquire);          \
	atomic_store_explicit((flag), 1, memory_order_seq_cst);                        \
	if (!(ready))                                                                  \
		(void)futex_wait((futex), seen_);   /* EAGAIN, EINTR: just re-check */ \
	atomic_store_explicit((flag), 0, memory_order_relaxed);                        \
} while (0)

/* One round of waiting in the end's mode; n (unsigned) counts the rounds of this wait. */
#define WAIT_ROUND(s, n, flag, futex, ready) do {                                   \
	if ((s)->wait == SHM_RING_SPIN ||                                              \
	    ((s)->wait == SHM_RING_FUTEX && (n) < (unsigned)(s)->spins))               \
		cpu_relax();                                                           \
	else if ((s)->wait == SHM_RING_YIELD)                                          \
		(void)sched_yield();                                                   \
	else                                                                           \
		SLEEP_UNLESS(flag, futex, ready);                                      \
} while (0)

/* ---- producer side ---- */

static inline int tx_fits(const struct shm_ring_end *s, uint64_t tail, uint64_t rec)
{
	return s->tx_head + rec - tail <= s->cap;
}

/* Wait until rec bytes are free. 0, or -EPIPE when the consumer has detached. */
static int wait_space(struct shm_ring_end *s, uint64_t rec)
{
	struct shm_ring_hdr *h = s->tx;

	s->tx_tail_cache = atomic_load_explicit(&h->tail, memory_order_acquire);
	if (tx_fits(s, s->tx_tail_cache, rec))
		return 0;
	flush_all(s);             /* the consumer cannot make room for what it cannot see */
	for (unsigned n = 0;; n++) {
		s->tx_tail_cache = atomic_load_explicit(&h->tail, memory_order_acquire);
		if (tx_fits(s, s->tx_tail_cache, rec))
			return 0;
		if (atomic_load_explicit(&h->cons_closed, memory_order_acquire))
			return -EPIPE;
		WAIT_ROUND(s, n, &h->prod_sleeping, &h->prod_futex,
			   tx_fits(s, atomic_load_explicit(&h->tail, memory_order_seq_cst), rec) ||
			   atomic_load_explicit(&h->cons_closed, memory_order_seq_cst));
	}
}

static ssize_t shm_ring_send(struct ipcb_end *e, const void *buf, size_t len)
{
	struct shm_ring_end *s = e->priv;
	uint64_t rec = rec_bytes(len), pos, first;
	unsigned char *d = s->tx_data;
	uint64_t word = len;
	int rc;

	if (len == 0)
		return -EINVAL;       /* a 0-byte recv would read as "peer closed" */
	if (rec > s->cap)
		return -EMSGSIZE;
	if (!tx_fits(s, s->tx_tail_cache, rec) && (rc = wait_space(s, rec)) < 0)
		return rc;

	/* pos is a multiple of 64 below cap, so the payload starts before the end of the area. */
	pos = s->tx_pos;
	memcpy(d + pos, &word, SHM_RING_WORD);
	pos += SHM_RING_WORD;
	first = s->cap - pos;
	if (len <= first) {
		copy_bytes(d + pos, buf, len);
	} else {
		copy_bytes(d + pos, buf, first);
		copy_bytes(d, (const unsigned char *)buf + first, len - first);
	}
	s->tx_pos += rec;
	if (s->tx_pos >= s->cap)
		s->tx_pos -= s->cap;
	s->tx_head += rec;
	if (++s->tx_unpub >= (uint32_t)s->batch)
		publish_head(s);
	return (ssize_t)len;
}

/* ---- consumer side ---- */

/* Wait until the ring holds data. 0, or 1 when it is empty for good (producer detached). */
static int wait_data(struct shm_ring_end *s)
{
	struct shm_ring_hdr *h = s->rx;

	flush_all(s);             /* before blocking: the peer may be waiting on it */
	for (unsigned n = 0;; n++) {
		s->rx_head_cache = atomic_load_explicit(&h->head, memory_order_acquire);
		if (s->rx_head_cache != s->rx_tail)
			return 0;
		if (atomic_load_explicit(&h->prod_closed, memory_order_acquire)) {
			/* The producer flushed before closing: one more look at head. */
			s->rx_head_cache = atomic_load_explicit(&h->head, memory_order_acquire);
			return s->rx_head_cache == s->rx_tail;
		}
		WAIT_ROUND(s, n, &h->cons_sleeping, &h->cons_futex,
			   atomic_load_explicit(&h->head, memory_order_seq_cst) != s->rx_tail ||
			   atomic_load_explicit(&h->prod_closed, memory_order_seq_cst));
	}
}

static ssize_t shm_ring_recv(struct ipcb_end *e, void *buf, size_t len)
{
	struct shm_ring_end *s = e->priv;
	const unsigned char *d = s->rx_data;
	uint64_t word, rec, pos, first, n;

	if (s->rx_head_cache == s->rx_tail) {
		s->rx_head_cache = atomic_load_explicit(&s->rx->head, memory_order_acquire);
		if (s->rx_head_cache == s->rx_tail && wait_data(s))
			return 0;
	}
	pos = s->rx_pos;
	memcpy(&word, d + pos, SHM_RING_WORD);
	rec = rec_bytes(word);
	if (word == 0 || word > s->cap || rec > s->rx_head_cache - s->rx_tail)
		return -EPROTO;       /* a record the producer never wrote: shared memory trampled */
	pos += SHM_RING_WORD;
	n = word < len ? word : len;
	first = s->cap - pos;
	if (n <= first) {
		memcpy(buf, d + pos, n);
	} else {
		memcpy(buf, d + pos, first);
		memcpy((unsigned char *)buf + first, d, n - first);
	}
	s->rx_pos += rec;
	if (s->rx_pos >= s->cap)
		s->rx_pos -= s->cap;
	s->rx_tail += rec;
	if (s->rx_tail - s->rx_tail_pub >= s->release)
		publish_tail(s);
	/* A message longer than buf is consumed whole and reported, not split. */
	return word <= len ? (ssize_t)word : -EMSGSIZE;
}

/* ---- lifecycle ---- */

static int parse_wait(const char *w)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(w, shm_ring_wait_names[i]) == 0)
			return i;
	return -1;   /* "auto" */
}

static int shm_ring_setup(struct ipcb_chan *ch)
{
	const struct shm_ring_settings *set = &shm_ring_set;
	struct ipcb_mem_req req = { .policy = IPCB_MEM_LOCAL, .node = -1, .local_cpu = -1 };
	uint64_t rec = rec_bytes(ch->msg_size ? ch->msg_size : 1), cap, off, len;
	long page = sysconf(_SC_PAGESIZE), pages = sysconf(_SC_PHYS_PAGES);
	struct shm_ring_shared *sh;
	char applied[96], placed[96];
	int wait, rc;

	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	if (ch->n_a > 1 || ch->n_b > 1) {
		snprintf(ch->why, sizeof(ch->why), "single producer, single consumer: needs one "
			 "worker per role (have %d A, %d B)", ch->n_a, ch->n_b);
		return -ENOTSUP;
	}
	if (set->bytes > 0) {
		cap = round_up((uint64_t)set->bytes, 64);
		if (rec > cap) {
			snprintf(ch->why, sizeof(ch->why), "a %zu-byte message needs %llu bytes of "
				 "ring, --shm-ring-bytes is %d", ch->msg_size,
				 (unsigned long long)rec, set->bytes);
			return -EMSGSIZE;
		}
	} else {
		uint64_t want = rec * SHM_RING_DEFAULT_MSGS;
		if (want > SHM_RING_BIG_BYTES)
			want = rec * 2 > SHM_RING_BIG_BYTES ? rec * 2 : SHM_RING_BIG_BYTES;
		cap = round_up(want > SHM_RING_DEFAULT_BYTES ? want : SHM_RING_DEFAULT_BYTES, 64);
	}
	if (page <= 0)
		page = 4096;
	off = round_up(sizeof(*sh), (uint64_t)page);
	len = off + 2 * round_up(cap, (uint64_t)page);
	if (pages > 0 && len > (uint64_t)pages / 2 * (uint64_t)page) {
		snprintf(ch->why, sizeof(ch->why), "two rings of %llu bytes are more than half "
			 "of this machine's memory", (unsigned long long)cap);
		return -EMSGSIZE;
	}

	wait = parse_wait(set->wait);
	if (wait < 0)
		wait = ch->cpus_shared ? SHM_RING_FUTEX : SHM_RING_SPIN;

	sh = ipcb_mem_alloc(len, ch->mem_req ? ch->mem_req : &req, applied, sizeof(applied));
	if (!sh)
		return -errno;
	ch->mem = sh;
	ch->mem_len = len;
	/* The rings are where the messages live: their pages are verified like the control
	 * block's (teardown unmaps on failure). */
	rc = ipcb_request_mem(ch, "--mem (ring)", sh, len, applied, placed, sizeof(placed));
	if (rc < 0)
		return rc;
	sh->cap = cap;
	sh->data_off[0] = off;
	sh->data_off[1] = off + round_up(cap, (uint64_t)page);
	sh->wait = wait;
	sh->batch = set->batch > 0 ? set->batch : 1;
	sh->spins = set->spins >= 0 ? set->spins : ch->cpus_shared ? 0 : SHM_RING_SPINS_AUTO;
	if (wait == SHM_RING_FUTEX)
		snprintf(ch->effective, sizeof(ch->effective), "wait=futex;batch=%d;ring_bytes=%llu;"
			 "spins=%d;mem_chan=%s", sh->batch, (unsigned long long)cap, sh->spins,
			 placed);
	else
		snprintf(ch->effective, sizeof(ch->effective), "wait=%s;batch=%d;ring_bytes=%llu;"
			 "mem_chan=%s", shm_ring_wait_names[wait], sh->batch,
			 (unsigned long long)cap, placed);
	return 0;
}

static int shm_ring_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	struct shm_ring_shared *sh = ch->mem;
	struct shm_ring_end *s;
	int tx = role == IPCB_ROLE_A ? 0 : 1, rx = 1 - tx;

	if (!sh || (role != IPCB_ROLE_A && role != IPCB_ROLE_B))
		return -EINVAL;
	if (atomic_exchange_explicit(&sh->attached[role], 1, memory_order_acq_rel))
		return -EBUSY;        /* a second worker of this role: not SPSC any more */
	s = aligned_alloc(SHM_RING_LINE, round_up(sizeof(*s), SHM_RING_LINE));
	if (!s) {
		atomic_store_explicit(&sh->attached[role], 0, memory_order_release);
		return -ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	s->sh = sh;
	s->role = role;
	s->cap = sh->cap;
	s->wait = sh->wait;
	s->batch = sh->batch;
	s->spins = sh->spins;
	s->tx = &sh->ring[tx];
	s->rx = &sh->ring[rx];
	s->tx_data = (unsigned char *)sh + sh->data_off[tx];
	s->rx_data = (unsigned char *)sh + sh->data_off[rx];
	/* Start where the previous user of this role stopped (0 on a fresh channel), and
	 * reopen the sides a previous detach of this role closed. */
	atomic_store_explicit(&s->tx->prod_closed, 0, memory_order_release);
	atomic_store_explicit(&s->rx->cons_closed, 0, memory_order_release);
	s->tx_head = atomic_load_explicit(&s->tx->head, memory_order_acquire);
	s->tx_tail_cache = atomic_load_explicit(&s->tx->tail, memory_order_acquire);
	s->tx_pos = s->tx_head % s->cap;
	s->rx_tail = atomic_load_explicit(&s->rx->tail, memory_order_acquire);
	s->rx_tail_pub = s->rx_tail;
	s->rx_head_cache = s->rx_tail;
	s->release = s->cap / SHM_RING_RELEASE_DIV;
	s->rx_pos = s->rx_tail % s->cap;
	e->ch = ch;
	e->role = role;
	e->rfd = e->wfd = -1;
	e->priv = s;
	return 0;
}

static void shm_ring_detach(struct ipcb_end *e)
{
	struct shm_ring_end *s = e->priv;

	if (!s)
		return;
	flush_all(s);             /* the last message (the stop message) is never held back */
	atomic_store_explicit(&s->tx->prod_closed, 1, memory_order_seq_cst);
	atomic_store_explicit(&s->rx->cons_closed, 1, memory_order_seq_cst);
	/* Wake a sleeping peer whatever its flag says: it re-checks and sees "closed". */
	atomic_fetch_add_explicit(&s->tx->cons_futex, 1, memory_order_release);
	atomic_fetch_add_explicit(&s->rx->prod_futex, 1, memory_order_release);
	if (s->wait == SHM_RING_FUTEX) {
		futex_wake(&s->tx->cons_futex, INT32_MAX);
		futex_wake(&s->rx->prod_futex, INT32_MAX);
	}
	atomic_store_explicit(&s->sh->attached[s->role], 0, memory_order_release);
	free(s);
	e->priv = NULL;
}

static void shm_ring_teardown(struct ipcb_chan *ch)
{
	ipcb_mem_free(ch->mem, ch->mem_len);
	ch->mem = NULL;
	ch->mem_len = 0;
}

static const struct ipcb_opt shm_ring_opts[] = {
	{ .name = "shm-ring-bytes", .type = IPCB_OPT_INT,
	  .offset = offsetof(struct shm_ring_settings, bytes), .min = 0, .max = 1 << 30,
	  .metavar = "BYTES", .base = &shm_ring_set,
	  .help = "ring capacity per direction in bytes, rounded up to 64 (default 0: the larger "
		  "of 4 MiB and 8 messages)" },
	{ .name = "shm-ring-batch", .type = IPCB_OPT_INT,
	  .offset = offsetof(struct shm_ring_settings, batch), .min = 1, .max = 65536,
	  .metavar = "N", .base = &shm_ring_set,
	  .help = "publish the producer index every N messages (and before waiting; default 1)" },
	{ .name = "shm-ring-wait", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct shm_ring_settings, wait), .choices = "auto|spin|yield|futex",
	  .metavar = "MODE", .base = &shm_ring_set,
	  .help = "how an end waits: auto (spin on separate CPUs, futex on a shared one), spin, "
		  "yield or futex" },
	{ .name = "shm-ring-spins", .type = IPCB_OPT_INT,
	  .offset = offsetof(struct shm_ring_settings, spins), .min = -1, .max = 1e9,
	  .metavar = "N", .base = &shm_ring_set,
	  .help = "futex mode: polls before sleeping (default -1: 0 on a shared CPU, else "
		  "1000)" },
	{ .name = NULL },
};

const struct ipcb_transport ipcb_transport_shm_ring = {
	.name = "shm-ring",
	.summary = "lock-free SPSC ring in shared memory, one per direction (messages)",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.max_msg = 0,             /* limited by --shm-ring-bytes only: checked in setup */
	.opts = shm_ring_opts,
	.setup = shm_ring_setup,
	.attach = shm_ring_attach,
	.send = shm_ring_send,
	.recv = shm_ring_recv,
	.detach = shm_ring_detach,
	.teardown = shm_ring_teardown,
};
