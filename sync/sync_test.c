// SPDX-License-Identifier: MIT
/*
 * Conformance over every registered sync primitive (sync/primitives.def):
 *  - the table: unique names, the hooks its caps promise;
 *  - locks and counters are exact: 2 forked processes and 2 threads run deposit/withdraw
 *    pairs through run(), then lock/unlock around a plain increment, then add(); nothing
 *    may be lost, over several rounds;
 *  - trylock says busy while another handle holds the lock;
 *  - the racy `none` loses updates with two workers pinned on CPUs 0 and 1 (up to 5 tries:
 *    it fails only if it never loses);
 *  - wait primitives wake a sleeping waiter (process and thread), a barrier releases all;
 *  - post_all (Condition.notify_all, Event.set) wakes every one of several sleeping waiters
 *    and none before it; a cleared event holds them again;
 *  - a robust lock whose owner dies holding it goes to the waiting locker, the death is
 *    counted once (owner_deaths), the dead owner's count is intact, the lock stays exact;
 *  - nothing is left afterwards: no registered name, nothing of ours in /dev/shm or /tmp.
 * Under ThreadSanitizer (a thread-mode build) only the thread tests of the correct
 * primitives run: TSan does not follow fork, and the race of `none` is the point of it.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness/testutil.h"
#include "../ipc/names.h"
#include "sync.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif

/* Pattern data used by the tests: each word on its own line. */
struct tdata {
	_Alignas(64) int64_t balance;
	_Alignas(64) int64_t plain;
	_Alignas(64) _Atomic uint32_t ready;
	_Alignas(64) _Atomic uint32_t go;
	_Alignas(64) _Atomic uint32_t woke;
	_Alignas(64) _Atomic uint32_t waiting;
};

struct job {
	const struct ipcb_sync_inst *si;
	int id, cpu, nworkers;
	uint64_t pairs;
	int do_lock, do_add, do_run;
	int rc;
	char err[160];
};

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

static void start_together(struct tdata *d, int n)
{
	atomic_fetch_add(&d->ready, 1);
	while (atomic_load(&d->ready) < (uint32_t)n)
		sched_yield();
}

static void *job_main(void *p)
{
	struct job *j = p;
	const struct ipcb_sync *sy = j->si->sy;
	struct tdata *d = j->si->data;
	struct ipcb_sync_ctx x;
	int rc;

	j->rc = 0;
	if ((rc = pin(j->cpu)) < 0) {
		snprintf(j->err, sizeof(j->err), "pin to CPU %d: %s", j->cpu, strerror(-rc));
		j->rc = rc;
		return NULL;
	}
	if ((rc = ipcb_sync_ctx_attach(&x, j->si, j->id)) < 0) {
		snprintf(j->err, sizeof(j->err), "attach: %s", strerror(-rc));
		j->rc = rc;
		return NULL;
	}
	start_together(d, j->nworkers);
	if (j->do_run && (rc = sy->run(&x, &d->balance, j->pairs, j->id + 1)) < 0) {
		snprintf(j->err, sizeof(j->err), "run: %s", strerror(-rc));
		goto out;
	}
	for (uint64_t i = 0; j->do_lock && i < j->pairs; i++) {
		if ((rc = sy->lock(&x)) < 0) {
			snprintf(j->err, sizeof(j->err), "lock: %s", strerror(-rc));
			goto out;
		}
		d->plain++;
		sy->unlock(&x);
	}
	for (uint64_t i = 0; j->do_add && i < j->pairs; i++)
		(void)sy->add(&x, 1);
	rc = 0;
out:
	ipcb_sync_ctx_detach(&x);
	j->rc = rc;
	return NULL;
}

/* Run n workers (processes or threads) on si; 0 when every one returned 0. */
static int run_jobs(struct job *jobs, int n, int threads)
{
	pid_t pid[8];
	pthread_t th[8];
	int bad = 0;

	for (int i = 0; i < n; i++) {
		if (threads) {
			if (pthread_create(&th[i], NULL, job_main, &jobs[i]) != 0)
				return -1;
			continue;
		}
		fflush(NULL);
		pid[i] = fork();
		if (pid[i] < 0)
			return -1;
		if (pid[i] == 0) {
			alarm(120);
			job_main(&jobs[i]);
			if (jobs[i].rc)
				fprintf(stderr, "worker %d: %s\n", i, jobs[i].err);
			_exit(jobs[i].rc ? 1 : 0);
		}
	}
	for (int i = 0; i < n; i++) {
		if (threads) {
			pthread_join(th[i], NULL);
			if (jobs[i].rc) {
				fprintf(stderr, "thread %d: %s\n", i, jobs[i].err);
				bad++;
			}
			continue;
		}
		int st;
		while (waitpid(pid[i], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	return bad ? -1 : 0;
}

static int new_inst(struct ipcb_sync_inst *si, const struct ipcb_sync *sy, int n)
{
	char why[200];
	int rc = ipcb_sync_inst_new(si, sy, n, sizeof(struct tdata), NULL, why, sizeof(why));

	if (rc < 0)
		fprintf(stderr, "%s: %s\n", sy->name, why);
	return rc;
}

/* ---- the table ---- */
static void test_table(void)
{
	int n = 0;

	for (const struct ipcb_sync *const *p = ipcb_syncs; *p; p++, n++) {
		const struct ipcb_sync *s = *p;
		CHECKF(s->name && s->summary && s->state_size > 0, "entry %d", n);
		CHECKF(s->state_align >= 8 && (s->state_align & (s->state_align - 1)) == 0,
		       "%s: state_align %zu", s->name, s->state_align);
		CHECKF(ipcb_sync_find(s->name) == s, "%s: duplicate name", s->name);
		CHECKF(strchr(s->name, '_') == NULL, "%s: CLI names use hyphens", s->name);
		if (s->caps & IPCB_SYNC_LOCK)
			CHECKF(s->lock && s->unlock && s->run, "%s: LOCK without lock/unlock/run",
			       s->name);
		if (s->caps & IPCB_SYNC_COUNTER)
			CHECKF(s->add && s->load && s->run, "%s: COUNTER without add/load/run",
			       s->name);
		if (s->caps & (IPCB_SYNC_WAIT | IPCB_SYNC_BARRIER))
			CHECKF(s->wait != NULL, "%s: WAIT without wait", s->name);
		if (s->caps & IPCB_SYNC_WAIT)
			CHECKF(s->post != NULL, "%s: WAIT without post", s->name);
		CHECKF(s->caps & (IPCB_SYNC_LOCK | IPCB_SYNC_COUNTER | IPCB_SYNC_WAIT |
				  IPCB_SYNC_BARRIER), "%s: no operation group", s->name);
		CHECKF(!s->fini || s->init, "%s: fini without init", s->name);
	}
	CHECK(n >= 8);
	CHECK(ipcb_sync_find("no-such-lock") == NULL);
}

/* ---- exactness ---- */
static void test_exact(const struct ipcb_sync *sy, int threads, uint64_t pairs, int rounds)
{
	const int n = 2;

	if (!(sy->caps & (IPCB_SYNC_LOCK | IPCB_SYNC_COUNTER)) || (sy->caps & IPCB_SYNC_RACY))
		return;
	if (threads && (sy->caps & IPCB_SYNC_PERPROC))
		return;
	for (int r = 0; r < rounds; r++) {
		struct ipcb_sync_inst si;
		struct job jobs[2];

		if (new_inst(&si, sy, n) < 0) {
			CHECKF(0, "%s: instance", sy->name);
			return;
		}
		for (int i = 0; i < n; i++)
			jobs[i] = (struct job){ .si = &si, .id = i, .cpu = -1, .nworkers = n,
						.pairs = pairs, .do_run = 1,
						.do_lock = !!(sy->caps & IPCB_SYNC_LOCK),
						.do_add = !!(sy->caps & IPCB_SYNC_COUNTER) };
		struct ipcb_sync_ctx x;
		int ok = run_jobs(jobs, n, threads) == 0;
		CHECKF(ok, "%s (%s): a worker failed", sy->name, threads ? "threads" : "processes");
		struct tdata *d = si.data;
		uint64_t survived;
		int64_t amount;
		ipcb_sync_balance_split(d->balance, &survived, &amount);
		CHECKF(survived == 2 * pairs * n && amount == 0,
		       "%s (%s, round %d): %llu of %llu updates survived, balance %lld", sy->name,
		       threads ? "threads" : "processes", r, (unsigned long long)survived,
		       (unsigned long long)(2 * pairs * n), (long long)amount);
		if (sy->caps & IPCB_SYNC_LOCK)
			CHECKF(d->plain == (int64_t)(pairs * n), "%s: lock/unlock counted %lld of %llu",
			       sy->name, (long long)d->plain, (unsigned long long)(pairs * n));
		if (sy->caps & IPCB_SYNC_COUNTER && ipcb_sync_ctx_attach(&x, &si, 0) == 0) {
			int64_t v = sy->load(&x);
			CHECKF(v == (int64_t)(pairs * n), "%s: add counted %lld of %llu", sy->name,
			       (long long)v, (unsigned long long)(pairs * n));
			ipcb_sync_ctx_detach(&x);
		}
		ipcb_sync_inst_free(&si);
	}
}

/* ---- trylock ---- */
static void test_trylock(const struct ipcb_sync *sy)
{
	struct ipcb_sync_inst si;
	struct ipcb_sync_ctx a, b;

	if (!(sy->caps & IPCB_SYNC_LOCK) || !sy->trylock || (sy->caps & IPCB_SYNC_RACY) ||
	    (sy->caps & IPCB_SYNC_PERPROC))
		return;
	if (new_inst(&si, sy, 2) < 0) {
		CHECKF(0, "%s: instance", sy->name);
		return;
	}
	if (ipcb_sync_ctx_attach(&a, &si, 0) == 0 && ipcb_sync_ctx_attach(&b, &si, 1) == 0) {
		CHECKF(sy->lock(&a) == 0, "%s: lock", sy->name);
		CHECKF(sy->trylock(&b) == -EBUSY, "%s: trylock of a held lock is not -EBUSY",
		       sy->name);
		sy->unlock(&a);
		CHECKF(sy->trylock(&b) == 0, "%s: trylock of a free lock failed", sy->name);
		sy->unlock(&b);
		ipcb_sync_ctx_detach(&a);
		ipcb_sync_ctx_detach(&b);
	} else {
		CHECKF(0, "%s: attach", sy->name);
	}
	ipcb_sync_inst_free(&si);
}

/* ---- the race ---- */
static void test_race(void)
{
	const struct ipcb_sync *sy = ipcb_sync_find("none");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t mine;
	uint64_t best = 0;

	CHECK(sy != NULL);
	if (!sy)
		return;
	if (sched_getaffinity(0, sizeof(mine), &mine) < 0 || ncpu < 2 || !CPU_ISSET(0, &mine) ||
	    !CPU_ISSET(1, &mine)) {
		printf("race test skipped: CPUs 0 and 1 are not both available\n");
		return;
	}
	/* Each attempt doubles the work: on a loaded machine a short run can end before the
	 * other worker is even scheduled, and two workers that never overlap lose nothing. */
	for (int attempt = 0; attempt < 8 && best == 0; attempt++) {
		const uint64_t pairs = (uint64_t)1000000 << attempt, updates = 4 * pairs;
		struct ipcb_sync_inst si;
		struct job jobs[2];
		if (new_inst(&si, sy, 2) < 0) {
			CHECK(0);
			return;
		}
		for (int i = 0; i < 2; i++)
			jobs[i] = (struct job){ .si = &si, .id = i, .cpu = i, .nworkers = 2,
						.pairs = pairs, .do_run = 1 };
		CHECK(run_jobs(jobs, 2, 0) == 0);
		struct tdata *d = si.data;
		uint64_t survived;
		int64_t amount;
		ipcb_sync_balance_split(d->balance, &survived, &amount);
		CHECK(survived <= updates);
		best = updates - survived;
		printf("none, attempt %d: lost %llu of %llu updates, balance %lld\n", attempt + 1,
		       (unsigned long long)best, (unsigned long long)updates, (long long)amount);
		ipcb_sync_inst_free(&si);
	}
	CHECKF(best > 0, "none never lost an update in 8 runs of 2 x 1M..128M pairs on CPUs 0 "
	       "and 1");
}

/* ---- waiting ---- */
struct waiter {
	const struct ipcb_sync_inst *si;
	int id, rounds, rc;
};

static void *waiter_main(void *p)
{
	struct waiter *w = p;
	struct tdata *d = w->si->data;
	struct ipcb_sync_ctx x;
	int rc = ipcb_sync_ctx_attach(&x, w->si, w->id);

	for (int i = 0; rc == 0 && i < w->rounds; i++) {
		atomic_fetch_add(&d->waiting, 1);
		rc = w->si->sy->wait(&x);
		if (rc == 0 && w->si->sy->reset)
			w->si->sy->reset(&x);
		atomic_fetch_add(&d->woke, 1);
	}
	ipcb_sync_ctx_detach(&x);
	w->rc = rc;
	return NULL;
}

static void test_wait(const struct ipcb_sync *sy, int threads)
{
	struct ipcb_sync_inst si;
	struct ipcb_sync_ctx x;
	const int rounds = 20;
	int barrier = !!(sy->caps & IPCB_SYNC_BARRIER);
	int n = barrier ? 3 : 2;
	struct waiter w[3];
	pthread_t th[3];
	pid_t pid[3] = { 0 };

	if (!(sy->caps & (IPCB_SYNC_WAIT | IPCB_SYNC_BARRIER)))
		return;
	if (new_inst(&si, sy, n) < 0) {
		CHECKF(0, "%s: instance", sy->name);
		return;
	}
	struct tdata *d = si.data;
	/* Workers 1..n-1 wait; for a barrier worker 0 waits too, else it posts. */
	for (int i = barrier ? 0 : 1; i < n; i++) {
		w[i] = (struct waiter){ .si = &si, .id = i, .rounds = rounds };
		if (threads) {
			pthread_create(&th[i], NULL, waiter_main, &w[i]);
		} else {
			fflush(NULL);
			pid[i] = fork();
			if (pid[i] == 0) {
				alarm(30);
				waiter_main(&w[i]);
				_exit(w[i].rc ? 1 : 0);
			}
		}
	}
	if (!barrier && ipcb_sync_ctx_attach(&x, &si, 0) == 0) {
		for (int r = 0; r < rounds; r++) {
			/* Let the waiter go to sleep, then post and see it wake. */
			while (atomic_load(&d->waiting) < (uint32_t)r + 1)
				sched_yield();
			struct timespec ts = { 0, 2000000 };
			nanosleep(&ts, NULL);
			CHECKF(atomic_load(&d->woke) == (uint32_t)r, "%s: woke without a post",
			       sy->name);
			CHECKF(sy->post(&x) == 0, "%s: post", sy->name);
			time_t until = time(NULL) + 10;
			while (atomic_load(&d->woke) < (uint32_t)r + 1 && time(NULL) < until)
				sched_yield();
			CHECKF(atomic_load(&d->woke) == (uint32_t)r + 1, "%s (%s): waiter did not wake "
			       "in round %d", sy->name, threads ? "thread" : "process", r);
			if (atomic_load(&d->woke) != (uint32_t)r + 1)
				break;
		}
		ipcb_sync_ctx_detach(&x);
	}
	for (int i = barrier ? 0 : 1; i < n; i++) {
		if (threads) {
			uint32_t want = (uint32_t)(rounds * (barrier ? n : n - 1));
			time_t until = time(NULL) + 10;
			while (atomic_load(&d->woke) < want && time(NULL) < until)
				sched_yield();
			if (atomic_load(&d->woke) < want) {
				/* A stuck waiter thread cannot be joined: report it and end. */
				CHECKF(0, "%s: waiter thread %d is stuck", sy->name, i);
				exit(TEST_END());
			}
			pthread_join(th[i], NULL);
			CHECKF(w[i].rc == 0, "%s: waiter %d failed", sy->name, i);
		} else {
			int st;
			waitpid(pid[i], &st, 0);
			CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: waiter process %d failed",
			       sy->name, i);
		}
	}
	if (barrier)
		CHECKF(atomic_load(&d->woke) == (uint32_t)(rounds * n), "%s: barrier released %u "
		       "of %d", sy->name, atomic_load(&d->woke), rounds * n);
	ipcb_sync_inst_free(&si);
}

/* ---- notify all: many waiters ---- */
#define CROWD 4

struct crowd {
	const struct ipcb_sync_inst *si;
	int id, rounds, rc;
};

/* A waiter of the crowd: round r begins when the poster has opened it (go == r: after it
 * has cleared an event), so a waiter can never run into the previous round's post. */
static void *crowd_main(void *p)
{
	struct crowd *w = p;
	struct tdata *d = w->si->data;
	struct ipcb_sync_ctx x;
	int rc = ipcb_sync_ctx_attach(&x, w->si, w->id);

	for (int r = 0; rc == 0 && r < w->rounds; r++) {
		while (atomic_load(&d->go) < (uint32_t)r)
			sched_yield();
		atomic_fetch_add(&d->waiting, 1);
		rc = w->si->sy->wait(&x);
		atomic_fetch_add(&d->woke, 1);
	}
	if (rc == 0)
		ipcb_sync_ctx_detach(&x);
	w->rc = rc;
	return NULL;
}

/* post_all (Condition.notify_all, Event.set) with CROWD waiters asleep: none returns before
 * the post, every one returns after it, round after round. An event is cleared between
 * rounds (reset), so the next round checks that a cleared event holds its waiters again. */
static void test_post_all(const struct ipcb_sync *sy, int threads)
{
	const int rounds = 5, n = CROWD;
	struct ipcb_sync_inst si;
	struct ipcb_sync_ctx x;
	struct crowd w[CROWD];
	pthread_t th[CROWD];
	pid_t pid[CROWD];
	int started = 0, stuck = 0;

	if (!sy->post_all)
		return;
	if (new_inst(&si, sy, n + 1) < 0) {
		CHECKF(0, "%s: instance", sy->name);
		return;
	}
	struct tdata *d = si.data;
	for (int i = 0; i < n; i++, started++) {
		w[i] = (struct crowd){ .si = &si, .id = i + 1, .rounds = rounds };
		if (threads) {
			if (pthread_create(&th[i], NULL, crowd_main, &w[i]) != 0)
				break;
			continue;
		}
		fflush(NULL);
		if ((pid[i] = fork()) < 0)
			break;
		if (pid[i] == 0) {
			alarm(60);
			crowd_main(&w[i]);
			_exit(w[i].rc ? 1 : 0);
		}
	}
	CHECKF(started == n, "%s: started %d of %d waiters", sy->name, started, n);
	if (started == n && ipcb_sync_ctx_attach(&x, &si, 0) == 0) {
		for (int r = 0; r < rounds; r++) {
			uint32_t before = (uint32_t)(n * r), after = (uint32_t)(n * (r + 1));
			time_t until = time(NULL) + 10;
			while (atomic_load(&d->waiting) < after && time(NULL) < until)
				sched_yield();
			/* Give the last one time to fall asleep: a post now must wake sleepers. */
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
			CHECKF(atomic_load(&d->woke) == before, "%s (%s, round %d): %u waiters returned "
			       "before the post", sy->name, threads ? "threads" : "processes", r,
			       atomic_load(&d->woke) - before);
			CHECKF(sy->post_all(&x) == 0, "%s: post_all", sy->name);
			until = time(NULL) + 10;
			while (atomic_load(&d->woke) < after && time(NULL) < until)
				sched_yield();
			CHECKF(atomic_load(&d->woke) == after, "%s (%s, round %d): %u of %d waiters "
			       "woke", sy->name, threads ? "threads" : "processes", r,
			       atomic_load(&d->woke) - before, n);
			if (atomic_load(&d->woke) != after) {
				stuck = 1;
				break;
			}
			if (sy->reset)
				sy->reset(&x);
			atomic_store(&d->go, (uint32_t)r + 1);
		}
		ipcb_sync_ctx_detach(&x);
	}
	for (int i = 0; i < started; i++) {
		if (threads) {
			if (stuck) {
				/* A waiter thread that never woke cannot be joined: report and end. */
				CHECKF(0, "%s: a waiter thread is stuck", sy->name);
				exit(TEST_END());
			}
			pthread_join(th[i], NULL);
			CHECKF(w[i].rc == 0, "%s: waiter %d failed", sy->name, i + 1);
			continue;
		}
		int st;
		if (stuck)
			kill(pid[i], SIGKILL);
		while (waitpid(pid[i], &st, 0) < 0 && errno == EINTR)
			;
		CHECKF(stuck || (WIFEXITED(st) && WEXITSTATUS(st) == 0), "%s: waiter process %d "
		       "failed", sy->name, i + 1);
	}
	ipcb_sync_inst_free(&si);
}

/* ---- owner death (robust locks) ---- */
struct victim {
	const struct ipcb_sync_inst *si;
	uint64_t pairs;
	int rc;
};

/* Lock and count `pairs` times, lock once more, count, and end (exit the process or the
 * thread) holding the lock once the survivor is about to lock it. */
static void *victim_main(void *p)
{
	struct victim *v = p;
	const struct ipcb_sync *sy = v->si->sy;
	struct tdata *d = v->si->data;
	struct ipcb_sync_ctx x;
	int rc = ipcb_sync_ctx_attach(&x, v->si, 0);

	for (uint64_t i = 0; rc == 0 && i < v->pairs; i++) {
		if ((rc = sy->lock(&x)) == 0) {
			d->plain++;
			sy->unlock(&x);
		}
	}
	if (rc == 0 && (rc = sy->lock(&x)) == 0) {
		d->plain++;
		atomic_store(&d->ready, 1);
		/* Die while the survivor sleeps in lock() (it says when it is about to). */
		while (!atomic_load(&d->waiting))
			sched_yield();
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	v->rc = rc;
	return NULL;   /* no unlock, no detach: the owner is gone */
}

/* A worker dies holding the lock while another waits for it: the waiter gets the lock (the
 * kernel hands it over), the death is counted once, the count the dead owner made under
 * the lock is all there, and the lock then works as before: exact under two workers. */
static void test_owner_death(const struct ipcb_sync *sy, int threads)
{
	const uint64_t pairs = 1000;
	struct ipcb_sync_inst si;
	struct ipcb_sync_ctx x;
	struct victim v;
	pthread_t th;
	pid_t pid = -1;
	int st, rc;

	if (!sy->owner_deaths)
		return;
	if (new_inst(&si, sy, 2) < 0) {
		CHECKF(0, "%s: instance", sy->name);
		return;
	}
	struct tdata *d = si.data;
	v = (struct victim){ .si = &si, .pairs = pairs };
	if (threads) {
		if (pthread_create(&th, NULL, victim_main, &v) != 0) {
			CHECKF(0, "%s: pthread_create", sy->name);
			goto out;
		}
	} else {
		fflush(NULL);
		if ((pid = fork()) < 0) {
			CHECKF(0, "%s: fork", sy->name);
			goto out;
		}
		if (pid == 0) {
			alarm(60);
			victim_main(&v);
			_exit(v.rc ? 1 : 0);
		}
	}
	while (!atomic_load(&d->ready))
		sched_yield();
	CHECK(ipcb_sync_ctx_attach(&x, &si, 1) == 0);
	atomic_store(&d->waiting, 1);
	rc = sy->lock(&x);   /* sleeps until the owner is gone */
	CHECKF(rc == 0, "%s (%s): lock after the owner died: %s", sy->name,
	       threads ? "thread" : "process", strerror(-rc));
	CHECKF(sy->owner_deaths(si.st) == 1, "%s (%s): %llu owner deaths counted, 1 happened",
	       sy->name, threads ? "thread" : "process",
	       (unsigned long long)sy->owner_deaths(si.st));
	CHECKF(d->plain == (int64_t)pairs + 1, "%s: the dead owner's count is %lld, not %llu",
	       sy->name, (long long)d->plain, (unsigned long long)pairs + 1);
	if (rc == 0)
		sy->unlock(&x);
	if (threads) {
		pthread_join(th, NULL);
		CHECKF(v.rc == 0, "%s: victim thread failed", sy->name);
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: victim process failed", sy->name);
	}
	/* Made consistent: lock and trylock as before, no second death counted. */
	CHECKF(sy->lock(&x) == 0, "%s: lock after recovery", sy->name);
	sy->unlock(&x);
	if (sy->trylock) {
		CHECKF(sy->trylock(&x) == 0, "%s: trylock after recovery", sy->name);
		sy->unlock(&x);
	}
	ipcb_sync_ctx_detach(&x);
	struct job jobs[2];
	for (int i = 0; i < 2; i++)
		jobs[i] = (struct job){ .si = &si, .id = i, .cpu = -1, .nworkers = 2,
					.pairs = pairs, .do_run = 1, .do_lock = 1 };
	atomic_store(&d->ready, 0);
	CHECKF(run_jobs(jobs, 2, threads) == 0, "%s: workers after recovery", sy->name);
	uint64_t survived;
	int64_t amount;
	ipcb_sync_balance_split(d->balance, &survived, &amount);
	CHECKF(survived == 4 * pairs && amount == 0, "%s after recovery: %llu of %llu updates, "
	       "balance %lld", sy->name, (unsigned long long)survived,
	       (unsigned long long)(4 * pairs), (long long)amount);
	CHECKF(d->plain == (int64_t)(3 * pairs + 1), "%s after recovery: count %lld of %llu",
	       sy->name, (long long)d->plain, (unsigned long long)(3 * pairs + 1));
	CHECKF(sy->owner_deaths(si.st) == 1, "%s: %llu owner deaths after recovery", sy->name,
	       (unsigned long long)sy->owner_deaths(si.st));
out:
	ipcb_sync_inst_free(&si);
}

/* ---- hygiene ---- */
static int leftovers(const char *dir, const char *prefix)
{
	DIR *dd = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!dd)
		return 0;
	while ((de = readdir(dd)) != NULL)
		if (strstr(de->d_name, prefix)) {
			fprintf(stderr, "left behind: %s/%s\n", dir, de->d_name);
			n++;
		}
	closedir(dd);
	return n;
}

int main(void)
{
	char prefix[64];
	int tsan = UNDER_TSAN;

	snprintf(prefix, sizeof(prefix), IPCB_NAME_PREFIX "%d-", (int)getpid());
	test_table();
	for (const struct ipcb_sync *const *p = ipcb_syncs; *p; p++) {
		const struct ipcb_sync *sy = *p;
		const char *no = sy->unsupported ? sy->unsupported() : NULL;
		if (no) {
			printf("%s: unsupported here (%s), skipped\n", sy->name, no);
			continue;
		}
		printf("%s\n", sy->name);
		fflush(stdout);
		uint64_t pairs = tsan ? 2000 : 20000;
		if (!tsan)
			test_exact(sy, 0, pairs, 3);
		test_exact(sy, 1, pairs, tsan ? 1 : 3);
		test_trylock(sy);
		if (!tsan)
			test_wait(sy, 0);
		test_wait(sy, 1);
		if (!tsan)
			test_post_all(sy, 0);
		test_post_all(sy, 1);
		if (!tsan)
			test_owner_death(sy, 0);
		test_owner_death(sy, 1);
	}
	if (!tsan)
		test_race();
	CHECKF(ipcb_names_pending() == 0, "%d named objects still registered",
	       ipcb_names_pending());
	CHECK(leftovers("/dev/shm", prefix) == 0);
	CHECK(leftovers("/tmp", prefix) == 0);
	return TEST_END();
}
