// SPDX-License-Identifier: MIT
/*
 * A shared-memory SPSC ring, push then pop in one thread: the bookkeeping and copies of a
 * ring transport without the cross-core traffic (indices and data stay in this core's
 * cache). Two of them:
 *   ring.spsc-push-pop      a minimal inline ring (concurrencykit's ck_ring shape:
 *                           free-running head and tail on cache lines of their own, slots
 *                           apart, MAP_SHARED memory, acquire/release on the indices): the
 *                           floor of the algorithm;
 *   ring.shm-ring-send-recv the shm-ring transport itself (ipc/shm_ring.c) through its ops
 *                           table, both ends attached in this process: the floor plus what
 *                           the real transport adds (records, wake-up checks, the calls).
 * Each message carries a sequence number, checked on the way out.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "../../ipc/transport.h"
#include "micro.h"

#define RING_SLOTS 256 /* power of two */

struct ring_hdr {
	_Alignas(64) uint64_t head;  /* next slot to pop; written by the consumer */
	_Alignas(64) uint64_t tail;  /* next slot to push; written by the producer */
	_Alignas(64) uint64_t slot_bytes;
};

static inline char *slot(struct ring_hdr *r, uint64_t i)
{
	return (char *)r + sizeof(*r) + (i & (RING_SLOTS - 1)) * r->slot_bytes;
}

static inline int ring_push_spsc(struct ring_hdr *r, const void *msg, size_t n)
{
	uint64_t t = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	if (t - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == RING_SLOTS)
		return -EAGAIN;
	memcpy(slot(r, t), msg, n);
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	return 0;
}

static inline int ring_pop_spsc(struct ring_hdr *r, void *msg, size_t n)
{
	uint64_t h = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	if (h == __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	memcpy(msg, slot(r, h), n);
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return 0;
}

static void bm_ring(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	size_t n = (size_t)ipcb_gbench_range(st, 0);
	size_t slot_bytes = (n + 63) / 64 * 64;
	size_t len = sizeof(struct ring_hdr) + RING_SLOTS * slot_bytes;
	_Alignas(64) char out[4096], in[4096];
	uint64_t seq = 0, bad = 0;
	struct ring_hdr *r;

	(void)def;
	if (n < sizeof(seq) || n > sizeof(out)) {
		ipcb_gbench_fail(st, "message size out of 8..4096");
		return;
	}
	r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		ipcb_gbench_fail(st, "mmap of the ring failed");
		return;
	}
	r->slot_bytes = slot_bytes;
	memset(out, 0x5a, n);
	while (ipcb_gbench_keep_running(st)) {
		memcpy(out, &seq, sizeof(seq));
		if (ring_push_spsc(r, out, n) < 0 || ring_pop_spsc(r, in, n) < 0) {
			bad++;
			break;
		}
		uint64_t got;
		memcpy(&got, in, sizeof(got));
		bad += got != seq++;
	}
	if (bad)
		ipcb_gbench_fail(st, "the ring lost or reordered a message");
	ipcb_gbench_set_bytes_processed(st, (int64_t)(ipcb_gbench_iterations(st) * n));
	(void)munmap(r, len);
}

static void bm_transport(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
{
	const struct ipcb_transport *tr = ipcb_transport_find(def->user);
	size_t n = (size_t)ipcb_gbench_range(st, 0);
	struct ipcb_chan ch;
	struct ipcb_end a, b;
	_Alignas(64) char out[4096], in[4096];
	const char *why;
	char msg[320];
	uint64_t seq = 0, bad = 0;
	int attached_a = 0, attached_b = 0, set_up = 0;
	ssize_t rc = 0;

	memset(&ch, 0, sizeof(ch));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (!tr) {
		snprintf(msg, sizeof(msg), "no transport %s in this build", (const char *)def->user);
		ipcb_gbench_skip(st, msg);
		return;
	}
	why = tr->unsupported ? tr->unsupported() : NULL;
	if (why) {
		ipcb_gbench_skip(st, why);
		return;
	}
	if (n < sizeof(seq) || n > sizeof(out)) {
		ipcb_gbench_fail(st, "message size out of 8..4096");
		return;
	}
	ch.tr = tr;
	ch.msg_size = n;
	ch.n_a = ch.n_b = 1;
	ch.cpus_shared = 1;        /* both ends on this thread's CPU: never spin */
	rc = tr->setup(&ch);
	set_up = 1;             /* teardown is owed even after a failed setup */
	if (rc == -EMSGSIZE || rc == -ENOTSUP) {
		ipcb_gbench_skip(st, ch.why);
		goto out;
	}
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s setup: %s (errno %d)", tr->name, strerror((int)-rc),
			 (int)-rc);
		ipcb_gbench_fail(st, msg);
		goto out;
	}
	if ((rc = tr->attach(&ch, &a, IPCB_ROLE_A)) == 0)
		attached_a = 1;
	if (rc == 0 && (rc = tr->attach(&ch, &b, IPCB_ROLE_B)) == 0)
		attached_b = 1;
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s attach: %s (errno %d)", tr->name, strerror((int)-rc),
			 (int)-rc);
		ipcb_gbench_fail(st, msg);
		goto out;
	}
	memset(out, 0x5a, n);
	while (ipcb_gbench_keep_running(st)) {
		memcpy(out, &seq, sizeof(seq));
		if ((rc = tr->send(&a, out, n)) != (ssize_t)n ||
		    (rc = tr->recv(&b, in, n)) != (ssize_t)n) {
			bad++;
			break;
		}
		uint64_t got;
		memcpy(&got, in, sizeof(got));
		bad += got != seq++;
	}
	if (bad) {
		snprintf(msg, sizeof(msg), "%s: a message was lost, cut or reordered (last call "
			 "returned %zd)", tr->name, rc);
		ipcb_gbench_fail(st, msg);
	}
	ipcb_gbench_set_bytes_processed(st, (int64_t)(ipcb_gbench_iterations(st) * n));
out:
	if (attached_b && tr->detach)
		tr->detach(&b);
	if (attached_a && tr->detach)
		tr->detach(&a);
	if (set_up && tr->teardown)
		tr->teardown(&ch);
}

#define BYTES_ARG { .name = "bytes", .values = { 64, 4096 }, .nvalues = 2 }

static const struct ipcb_gbench_def defs[] = {
	{ .name = "ring.spsc-push-pop", .run = bm_ring, .args = { BYTES_ARG }, .nargs = 1 },
	{ .name = "ring.shm-ring-send-recv", .run = bm_transport, .user = "shm-ring",
	  .args = { BYTES_ARG }, .nargs = 1 },
};

int ipcb_micro_register_ring(void)
{
	return ipcb_micro_register_all_of(defs, (int)(sizeof(defs) / sizeof(defs[0])));
}
