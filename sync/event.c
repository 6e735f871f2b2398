// SPDX-License-Identifier: MIT
/*
 * event: multiprocessing.Event for processes, on a futex. set() stores the flag and wakes
 * every waiter; wait() returns at once while the flag is set and sleeps on it otherwise;
 * clear() (reset) lowers it. The setter makes the wake-up system call only when someone is
 * asleep: waiters count themselves in before they look at the flag, the setter looks at the
 * count after storing the flag, both sequentially consistent, so one of the two always sees
 * the other (no lost wake-up).
 */
#include <errno.h>

#include "sync.h"

struct event_state {
	_Alignas(64) uint32_t flag;
	_Alignas(64) uint32_t sleepers;
};

static int event_wait(struct ipcb_sync_ctx *x)
{
	struct event_state *s = x->st;

	if (__atomic_load_n(&s->flag, __ATOMIC_ACQUIRE))
		return 0;
	__atomic_fetch_add(&s->sleepers, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->flag, __ATOMIC_SEQ_CST)) {
		int rc = ipcb_futex_wait(&s->flag, 0);
		if (rc < 0 && rc != -EINTR) {
			__atomic_fetch_sub(&s->sleepers, 1, __ATOMIC_SEQ_CST);
			return rc;
		}
	}
	__atomic_fetch_sub(&s->sleepers, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int event_set(struct ipcb_sync_ctx *x)
{
	struct event_state *s = x->st;

	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->sleepers, __ATOMIC_SEQ_CST))
		ipcb_futex_wake(&s->flag, IPCB_FUTEX_ALL);
	return 0;
}

static void event_clear(struct ipcb_sync_ctx *x)
{
	struct event_state *s = x->st;
	__atomic_store_n(&s->flag, 0, __ATOMIC_RELEASE);
}

const struct ipcb_sync ipcb_sync_event = {
	.name = "event",
	.summary = "Event (set/wait/clear) on a futex; set wakes every waiter",
	.caps = IPCB_SYNC_WAIT | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct event_state),
	.state_align = 64,
	.wait = event_wait,
	.post = event_set,
	.post_all = event_set,   /* set already releases every waiter */
	.reset = event_clear,
};
