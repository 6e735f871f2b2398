// SPDX-License-Identifier: MIT
/*
 * barrier: multiprocessing.Barrier for processes, on a futex. Each arrival takes the
 * current generation, then counts itself in; the last of nworkers resets the count, bumps
 * the generation and wakes everyone sleeping on it; the others sleep until the generation
 * moves. The generation (not the count) is what waiters watch, so a fast worker that
 * re-enters the next round cannot be confused with the last one of this round.
 */
#include <errno.h>

#include "sync.h"

struct barrier_state {
	_Alignas(64) uint32_t count;
	uint32_t n;
	_Alignas(64) uint32_t gen;
};

static int barrier_init(void *st, int nworkers, char *why, size_t len)
{
	struct barrier_state *s = st;

	(void)why;
	(void)len;
	s->n = (uint32_t)nworkers;
	return 0;
}

static int barrier_wait(struct ipcb_sync_ctx *x)
{
	struct barrier_state *s = x->st;
	uint32_t gen = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&s->count, 1, __ATOMIC_ACQ_REL) == s->n) {
		__atomic_store_n(&s->count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->gen, gen + 1, __ATOMIC_RELEASE);
		ipcb_futex_wake(&s->gen, IPCB_FUTEX_ALL);
		return 0;
	}
	while (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) == gen) {
		int rc = ipcb_futex_wait(&s->gen, gen);
		if (rc < 0 && rc != -EINTR)
			return rc;
	}
	return 0;
}

const struct ipcb_sync ipcb_sync_barrier = {
	.name = "barrier",
	.summary = "Barrier for N workers on a futex (generation counter)",
	.caps = IPCB_SYNC_BARRIER | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct barrier_state),
	.state_align = 64,
	.init = barrier_init,
	.wait = barrier_wait,
};
