// SPDX-License-Identifier: MIT
/*
 * Atomic instructions on one cache line that only this thread touches: the cost of the
 * instruction itself and of the ordering it asks for, with no line moving between cores
 * (the contended cost is what the counter_race pattern measures). A plain (relaxed) load
 * or store is about the loop's own cost; a seq_cst store (xchg on x86) or a fence (mfence)
 * drains the store buffer; an atomic read-modify-write (lock xadd, lock cmpxchg) does both.
 * The "memory" clobber of the barriers makes the compiler emit every operation.
 */
#include <stdint.h>

#include "micro.h"

static _Alignas(64) uint64_t word;

/* A full fence. ThreadSanitizer does not model atomic_thread_fence (GCC warns: -Wtsan), and
 * a TSan build's numbers mean nothing anyway; there a locked add of 0 to a private word (the
 * same full barrier on x86) stands in, so the code stays the same shape. */
#if defined(__SANITIZE_THREAD__)
static _Alignas(64) uint64_t fence_word;
#define FULL_FENCE() ((void)__atomic_fetch_add(&fence_word, 0, __ATOMIC_SEQ_CST))
#else
#define FULL_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

static void bm_add(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	(void)def;
	MICRO_LOOP(st, ipcb_gbench_use_u64(__atomic_fetch_add(&word, 1, __ATOMIC_SEQ_CST)));
}

/* A compare-and-swap that always succeeds: the expected value is the current one. */
static void bm_cas(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	uint64_t v = __atomic_load_n(&word, __ATOMIC_RELAXED);
	uint64_t failed = 0;

	(void)def;
	MICRO_LOOP(st, {
		uint64_t expect = v;
		if (__atomic_compare_exchange_n(&word, &expect, v + 1, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			v++;
		else {
			v = expect;
			failed++;
		}
	});
	if (failed)
		ipcb_gbench_fail(st, "a CAS on a line nobody else writes failed");
}

#define LOAD_BM(fn, order, fence)                                                        \
	static void fn(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)   \
	{                                                                                \
		(void)def;                                                               \
		MICRO_LOOP(st, {                                                         \
			ipcb_gbench_use_u64(__atomic_load_n(&word, order));              \
			if (fence)                                                       \
				FULL_FENCE();                                            \
		});                                                                      \
	}

#define STORE_BM(fn, order, fence)                                                       \
	static void fn(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)   \
	{                                                                                \
		uint64_t v = 0;                                                          \
		(void)def;                                                               \
		MICRO_LOOP(st, {                                                         \
			__atomic_store_n(&word, ++v, order);                             \
			if (fence)                                                       \
				FULL_FENCE();                                            \
			ipcb_gbench_clobber_memory();                                    \
		});                                                                      \
	}

LOAD_BM(bm_load_relaxed, __ATOMIC_RELAXED, 0)
LOAD_BM(bm_load_acquire, __ATOMIC_ACQUIRE, 0)
LOAD_BM(bm_load_seqcst, __ATOMIC_SEQ_CST, 0)
LOAD_BM(bm_load_fence, __ATOMIC_RELAXED, 1)
STORE_BM(bm_store_relaxed, __ATOMIC_RELAXED, 0)
STORE_BM(bm_store_release, __ATOMIC_RELEASE, 0)
STORE_BM(bm_store_seqcst, __ATOMIC_SEQ_CST, 0)
STORE_BM(bm_store_fence, __ATOMIC_RELAXED, 1)

static void bm_fence(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	(void)def;
	MICRO_LOOP(st, FULL_FENCE());
}

static const struct ipcb_gbench_def defs[] = {
	{ .name = "atomic.add", .run = bm_add },
	{ .name = "atomic.cas", .run = bm_cas },
	{ .name = "atomic.load-relaxed", .run = bm_load_relaxed },
	{ .name = "atomic.load-acquire", .run = bm_load_acquire },
	{ .name = "atomic.load-seqcst", .run = bm_load_seqcst },
	{ .name = "atomic.load-relaxed+fence", .run = bm_load_fence },
	{ .name = "atomic.store-relaxed", .run = bm_store_relaxed },
	{ .name = "atomic.store-release", .run = bm_store_release },
	{ .name = "atomic.store-seqcst", .run = bm_store_seqcst },
	{ .name = "atomic.store-relaxed+fence", .run = bm_store_fence },
	{ .name = "atomic.fence-seqcst", .run = bm_fence },
};

int ipcb_micro_register_atomics(void)
{
	return ipcb_micro_register_all_of(defs, (int)(sizeof(defs) / sizeof(defs[0])));
}
