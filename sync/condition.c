// SPDX-License-Identifier: MIT
/*
 * condition: multiprocessing.Condition for processes: a process-shared pthread mutex and
 * condition variable (PTHREAD_PROCESS_SHARED) around a generation counter, the predicate.
 * notify (post) takes the lock, bumps the generation, signals one waiter and unlocks; wait
 * takes the lock and sleeps until the generation differs from the last one this worker saw
 * (so a notify that comes before the wait is not lost, and a spurious wake-up is ignored).
 * notify_all (post_all) bumps the generation once and broadcasts: every worker asleep in
 * wait sees a new generation and returns.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sync.h"

struct condition_state {
	_Alignas(64) pthread_mutex_t m;
	pthread_cond_t cv;
	uint64_t gen;
};

static int condition_init(void *st, int nworkers, char *why, size_t len)
{
	struct condition_state *s = st;
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	int rc;

	(void)nworkers;
	pthread_mutexattr_init(&ma);
	pthread_condattr_init(&ca);
	rc = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_mutex_init(&s->m, &ma);
	if (rc == 0 && (rc = pthread_cond_init(&s->cv, &ca)) != 0)
		pthread_mutex_destroy(&s->m);
	pthread_mutexattr_destroy(&ma);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		snprintf(why, len, "process-shared mutex/condition: %s (errno %d)", strerror(rc), rc);
	return -rc;
}

/* Nothing to destroy, on purpose: glibc's pthread_cond_destroy waits until every waiter
 * it counts has left pthread_cond_wait, and a worker killed in there (a timed-out or
 * failed case) never leaves, so fini would hang the parent. The objects live only in the
 * shared mapping, which the caller unmaps; neither holds anything outside it. */
static void condition_fini(void *st)
{
	(void)st;
}

static int condition_attach(struct ipcb_sync_ctx *x)
{
	struct condition_state *s = x->st;

	pthread_mutex_lock(&s->m);
	x->priv[0] = s->gen;
	pthread_mutex_unlock(&s->m);
	return 0;
}

static int condition_wait(struct ipcb_sync_ctx *x)
{
	struct condition_state *s = x->st;
	int rc = pthread_mutex_lock(&s->m);

	if (rc != 0)
		return -rc;
	while (s->gen == x->priv[0] && rc == 0)
		rc = pthread_cond_wait(&s->cv, &s->m);
	x->priv[0] = s->gen;
	pthread_mutex_unlock(&s->m);
	return -rc;
}

static int condition_notify_n(struct ipcb_sync_ctx *x, int all)
{
	struct condition_state *s = x->st;
	int rc = pthread_mutex_lock(&s->m);

	if (rc != 0)
		return -rc;
	s->gen++;
	rc = all ? pthread_cond_broadcast(&s->cv) : pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->m);
	return -rc;
}

static int condition_notify(struct ipcb_sync_ctx *x)
{
	return condition_notify_n(x, 0);
}

static int condition_notify_all(struct ipcb_sync_ctx *x)
{
	return condition_notify_n(x, 1);
}

const struct ipcb_sync ipcb_sync_condition = {
	.name = "condition",
	.summary = "Condition: process-shared pthread mutex + condvar, notify one or all",
	.caps = IPCB_SYNC_WAIT | IPCB_SYNC_PSHARED,
	.state_size = sizeof(struct condition_state),
	.state_align = 64,
	.init = condition_init,
	.fini = condition_fini,
	.attach = condition_attach,
	.wait = condition_wait,
	.post = condition_notify,
	.post_all = condition_notify_all,
};
