// SPDX-License-Identifier: MIT
/*
 * The reference SPSC ring of bench/validate_ring.sh: the classic cache-line-padded ring with
 * cached indices (the idea of Rigtorp's SPSCQueue, written here from the idea), carrying
 * fixed 64-byte messages. Used by spsc_ref.c (standalone) and ring_rounds.c (next to the
 * shm-ring transport); header-only so the standalone probe still builds with cc alone.
 *
 * Layout: the producer's index and its cached copy of the consumer's index share one
 * 128-byte block, the consumer's index and its cached copy of the producer's index another,
 * the (read-only) size a third, and the slots start on a block of their own. Indices are
 * free-running 64-bit counters, the slot count a power of two. A side re-reads the other's
 * index (acquire) only when its cached copy says full or empty; a push copies the message
 * into its slot and publishes with a release store; a pop copies it out and publishes
 * likewise. Full and empty are waited out by spinning with a pause instruction.
 */
#ifndef IPCB_SPSC_REF_H
#define IPCB_SPSC_REF_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SPSC_REF_BLOCK 128
#define SPSC_REF_MSG 64

struct spsc_ref {
	alignas(SPSC_REF_BLOCK) _Atomic uint64_t head;   /* producer: next slot to fill */
	uint64_t tail_cache;                             /* producer's copy of tail */
	alignas(SPSC_REF_BLOCK) _Atomic uint64_t tail;   /* consumer: next slot to empty */
	uint64_t head_cache;                             /* consumer's copy of head */
	alignas(SPSC_REF_BLOCK) uint64_t slots, mask;    /* fixed by spsc_ref_init */
	alignas(SPSC_REF_BLOCK) unsigned char slot[][SPSC_REF_MSG];
};

static inline void spsc_ref_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Bytes to map for a ring of `slots` slots (a power of two). */
static inline size_t spsc_ref_bytes(uint64_t slots)
{
	return sizeof(struct spsc_ref) + (size_t)slots * SPSC_REF_MSG;
}

/* r: spsc_ref_bytes(slots) bytes of shared memory. */
static inline void spsc_ref_init(struct spsc_ref *r, uint64_t slots)
{
	memset(r, 0, spsc_ref_bytes(slots));
	r->slots = slots;
	r->mask = slots - 1;
}

static inline void spsc_ref_push(struct spsc_ref *r, const void *m)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	while (h - r->tail_cache == r->slots) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - r->tail_cache == r->slots)
			spsc_ref_relax();
	}
	memcpy(r->slot[h & r->mask], m, SPSC_REF_MSG);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

static inline void spsc_ref_pop(struct spsc_ref *r, void *m)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	while (r->head_cache == t) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (r->head_cache == t)
			spsc_ref_relax();
	}
	memcpy(m, r->slot[t & r->mask], SPSC_REF_MSG);
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

#endif
