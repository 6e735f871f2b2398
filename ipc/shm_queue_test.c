// SPDX-License-Identifier: MIT
/*
 * shm-queue: the queue API (both variants) and the transport.
 *  - layout and argument checks; FIFO order, lengths and wrap-around, capacity 3 and 4;
 *  - NOWAIT: -EAGAIN on full and on empty; timeouts: -ETIMEDOUT no earlier than asked and
 *    within a generous bound (no speed thresholds);
 *  - 4 producers x 4 consumers, processes and threads, capacity 8 and 1, no spinning,
 *    pauses or yields, so that both sides sleep often: every item delivered exactly once, each producer's items
 *    in order at each consumer, and one sentinel per consumer ends every consumer;
 *  - JoinableQueue: task_done over-count -> -EINVAL, join() still waiting while a consumer
 *    holds back its last task_done (processes and threads), several joiners all released;
 *  - the transport: options, effective parameters, a round trip each way, teardown.
 * Children arm alarm() so that a lost wake-up kills them (and fails the test) instead of
 * hanging; the parent's own blocking calls have timeouts.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness/clock.h"
#include "../harness/msg.h"
#include "../harness/opt.h"
#include "../harness/run.h"
#include "../harness/testutil.h"
#include "shm_queue.h"
#include "transport.h"

#define NP 4
#define NC 4
#define PER_PROD 20000
#define SENTINEL 0xFFFFu
#define CHILD_ALARM_S 60
#define MS 1000000ull

struct item {
	uint32_t prod, seq;
	uint64_t check;
};

static void *map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

static struct ipcb_shm_queue *new_queue(size_t cap, size_t item, unsigned flags, unsigned spin,
					size_t *len_out)
{
	struct ipcb_shm_queue_params p = { cap, item, flags, spin };
	size_t len = ipcb_shm_queue_size(&p);
	struct ipcb_shm_queue *q = NULL;

	if (!len) {
		fprintf(stderr, "bad queue parameters\n");
		exit(2);
	}
	void *mem = map_shared(len);
	if (ipcb_shm_queue_init(mem, len, &p, &q) != 0) {
		fprintf(stderr, "init failed\n");
		exit(2);
	}
	*len_out = len;
	return q;
}

/* ---- single-threaded behaviour ---- */

static void test_args(void)
{
	struct ipcb_shm_queue_params p = { 4, 64, 0, 0 };
	size_t len = ipcb_shm_queue_size(&p);
	char *mem = map_shared(len + 64);
	struct ipcb_shm_queue *q;

	CHECK(len > 4 * 64);
	p.capacity = 0;
	CHECK(ipcb_shm_queue_size(&p) == 0);
	p.capacity = 4;
	p.item_size = 0;
	CHECK(ipcb_shm_queue_size(&p) == 0);
	p.item_size = IPCB_SHM_QUEUE_ITEM_MAX + 1;
	CHECK(ipcb_shm_queue_size(&p) == 0);
	p.item_size = 64;
	CHECK(ipcb_shm_queue_init(mem + 8, len, &p, &q) == -EINVAL);     /* misaligned */
	CHECK(ipcb_shm_queue_init(mem, len - 1, &p, &q) == -ENOSPC);
	p.flags = 1u << 7;
	CHECK(ipcb_shm_queue_init(mem, len, &p, &q) == -EINVAL);
	p.flags = 0;
	CHECK(ipcb_shm_queue_init(mem, len, &p, &q) == 0 && q == (void *)mem);
	munmap(mem, len + 64);
}

static void test_fifo(unsigned flags, size_t cap)
{
	size_t len;
	struct ipcb_shm_queue *q = new_queue(cap, 32, flags, 0, &len);
	unsigned char in[32], out[64];
	uint64_t next_put = 0, next_get = 0;

	CHECK(ipcb_shm_queue_capacity(q) == cap && ipcb_shm_queue_item_size(q) == 32);
	CHECK(ipcb_shm_queue_empty(q) && !ipcb_shm_queue_full(q) && ipcb_shm_queue_qsize(q) == 0);
	CHECK(ipcb_shm_queue_get(q, out, sizeof(out), IPCB_SHM_QUEUE_NOWAIT) == -EAGAIN);
	CHECK(ipcb_shm_queue_put(q, in, 0, IPCB_SHM_QUEUE_NOWAIT) == -EMSGSIZE);
	CHECK(ipcb_shm_queue_put(q, in, 33, IPCB_SHM_QUEUE_NOWAIT) == -EMSGSIZE);
	CHECK(ipcb_shm_queue_get(q, out, 31, IPCB_SHM_QUEUE_NOWAIT) == -EMSGSIZE);

	for (size_t i = 0; i < cap; i++) {
		memset(in, (int)(next_put & 0xff), sizeof(in));
		CHECK(ipcb_shm_queue_put(q, in, 1 + next_put % 32, IPCB_SHM_QUEUE_NOWAIT) == 0);
		next_put++;
	}
	CHECK(ipcb_shm_queue_full(q) && ipcb_shm_queue_qsize(q) == cap);
	CHECK(ipcb_shm_queue_put(q, in, 8, IPCB_SHM_QUEUE_NOWAIT) == -EAGAIN);
	CHECK(ipcb_shm_queue_qsize(q) == cap);

	/* wrap around many times, keeping 1..cap items in the queue, in order */
	int bad = 0;
	for (int round = 0; round < 1000; round++) {
		ssize_t n = ipcb_shm_queue_get(q, out, sizeof(out), IPCB_SHM_QUEUE_NOWAIT);
		if (n != (ssize_t)(1 + next_get % 32) || out[0] != (unsigned char)(next_get & 0xff) ||
		    out[n - 1] != (unsigned char)(next_get & 0xff))
			bad++;
		next_get++;
		memset(in, (int)(next_put & 0xff), sizeof(in));
		if (ipcb_shm_queue_put(q, in, 1 + next_put % 32, IPCB_SHM_QUEUE_NOWAIT) != 0)
			bad++;
		next_put++;
	}
	CHECKF(bad == 0, "%d items out of order or with the wrong length (flags %u, cap %zu)", bad,
	       flags, cap);
	while (ipcb_shm_queue_get(q, out, sizeof(out), IPCB_SHM_QUEUE_NOWAIT) >= 0)
		next_get++;
	CHECK(next_get == next_put && ipcb_shm_queue_empty(q));
	CHECK(ipcb_shm_queue_task_done(q) == -EOPNOTSUPP);
	CHECK(ipcb_shm_queue_join(q, IPCB_SHM_QUEUE_NOWAIT) == -EOPNOTSUPP);
	CHECK(ipcb_shm_queue_unfinished(q) == 0);
	munmap(q, len);
}

static void test_timeouts(unsigned flags)
{
	size_t len;
	struct ipcb_shm_queue *q = new_queue(1, 8, flags | IPCB_SHM_QUEUE_JOINABLE, 0, &len);
	char b[8] = { 1 };
	uint64_t t0, el;

	t0 = ipcb_now_ns();
	CHECK(ipcb_shm_queue_get(q, b, 8, 100 * MS) == -ETIMEDOUT);
	el = ipcb_now_ns() - t0;
	CHECKF(el >= 100 * MS && el < 5000 * MS, "get timed out after %llu ns, asked 100 ms",
	       (unsigned long long)el);

	CHECK(ipcb_shm_queue_put(q, b, 8, 100 * MS) == 0);
	t0 = ipcb_now_ns();
	CHECK(ipcb_shm_queue_put(q, b, 8, 100 * MS) == -ETIMEDOUT);
	el = ipcb_now_ns() - t0;
	CHECKF(el >= 100 * MS && el < 5000 * MS, "put timed out after %llu ns, asked 100 ms",
	       (unsigned long long)el);

	CHECK(ipcb_shm_queue_join(q, IPCB_SHM_QUEUE_NOWAIT) == -EAGAIN);
	t0 = ipcb_now_ns();
	CHECK(ipcb_shm_queue_join(q, 100 * MS) == -ETIMEDOUT);
	el = ipcb_now_ns() - t0;
	CHECKF(el >= 100 * MS && el < 5000 * MS, "join timed out after %llu ns, asked 100 ms",
	       (unsigned long long)el);
	munmap(q, len);
}

static void test_joinable_counts(unsigned flags)
{
	size_t len;
	struct ipcb_shm_queue *q = new_queue(4, 8, flags | IPCB_SHM_QUEUE_JOINABLE, 0, &len);
	char b[8] = { 0 };

	CHECK(ipcb_shm_queue_task_done(q) == -EINVAL);       /* nothing was put */
	CHECK(ipcb_shm_queue_join(q, IPCB_SHM_QUEUE_NOWAIT) == 0);
	CHECK(ipcb_shm_queue_put(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == 0);
	CHECK(ipcb_shm_queue_put(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == 0);
	CHECK(ipcb_shm_queue_unfinished(q) == 2);
	CHECK(ipcb_shm_queue_get(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == 8);
	CHECK(ipcb_shm_queue_get(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == 8);
	CHECK(ipcb_shm_queue_unfinished(q) == 2);              /* get does not finish a task */
	CHECK(ipcb_shm_queue_join(q, IPCB_SHM_QUEUE_NOWAIT) == -EAGAIN);
	CHECK(ipcb_shm_queue_task_done(q) == 0);
	CHECK(ipcb_shm_queue_task_done(q) == 0);
	CHECK(ipcb_shm_queue_task_done(q) == -EINVAL);         /* one more than put: ValueError */
	CHECK(ipcb_shm_queue_unfinished(q) == 0);
	CHECK(ipcb_shm_queue_join(q, IPCB_SHM_QUEUE_NOWAIT) == 0);
	/* a failed NOWAIT put counts nothing */
	for (int i = 0; i < 4; i++)
		CHECK(ipcb_shm_queue_put(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == 0);
	CHECK(ipcb_shm_queue_put(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == -EAGAIN);
	CHECK(ipcb_shm_queue_unfinished(q) == 4);
	munmap(q, len);
}

/* ---- 4 x 4: exactly once, per-producer order, sentinel shutdown ---- */

struct mpmc_shared {
	_Atomic uint32_t seen[NP][PER_PROD];   /* deliveries per item, over all consumers */
	_Atomic uint64_t out_of_order, bad_items, consumers_ended, sentinels_seen;
	_Atomic uint64_t got[NC];
};

struct role_arg {
	struct ipcb_shm_queue *q;
	struct mpmc_shared *sh;
	int id;
	int rc;
};

static int producer(struct ipcb_shm_queue *q, int id)
{
	struct item it = { 0 };

	for (uint32_t s = 0; s < PER_PROD; s++) {
		it.prod = (uint32_t)id;
		it.seq = s;
		it.check = ipcb_mix64(((uint64_t)id << 32) | s);
		if (ipcb_shm_queue_put(q, &it, sizeof(it), IPCB_SHM_QUEUE_FOREVER) != 0)
			return 1;
	}
	return 0;
}

static int consumer(struct ipcb_shm_queue *q, struct mpmc_shared *sh, int id)
{
	int64_t last[NP];
	struct item it;

	for (int p = 0; p < NP; p++)
		last[p] = -1;
	for (;;) {
		ssize_t n = ipcb_shm_queue_get(q, &it, sizeof(it), IPCB_SHM_QUEUE_FOREVER);
		if (n != (ssize_t)sizeof(it))
			return 1;
		if (it.prod == SENTINEL) {
			atomic_fetch_add(&sh->sentinels_seen, 1);
			break;
		}
		if (it.prod >= NP || it.seq >= PER_PROD ||
		    it.check != ipcb_mix64(((uint64_t)it.prod << 32) | it.seq)) {
			atomic_fetch_add(&sh->bad_items, 1);
			continue;
		}
		if ((int64_t)it.seq <= last[it.prod])
			atomic_fetch_add(&sh->out_of_order, 1);
		last[it.prod] = it.seq;
		atomic_fetch_add(&sh->seen[it.prod][it.seq], 1);
		atomic_fetch_add(&sh->got[id], 1);
	}
	atomic_fetch_add(&sh->consumers_ended, 1);
	return 0;
}

static void *producer_thread(void *p)
{
	struct role_arg *a = p;
	a->rc = producer(a->q, a->id);
	return NULL;
}

static void *consumer_thread(void *p)
{
	struct role_arg *a = p;
	a->rc = consumer(a->q, a->sh, a->id);
	return NULL;
}

static int put_sentinels(struct ipcb_shm_queue *q)
{
	struct item it = { SENTINEL, 0, 0 };
	for (int i = 0; i < NC; i++)
		if (ipcb_shm_queue_put(q, &it, sizeof(it), 30000 * MS) != 0)
			return -1;
	return 0;
}

static void test_mpmc(unsigned flags, size_t cap, unsigned spin, int threads)
{
	size_t len;
	struct ipcb_shm_queue *q = new_queue(cap, sizeof(struct item), flags, spin, &len);
	struct mpmc_shared *sh = map_shared(sizeof(*sh));
	const char *what = threads ? "threads" : "processes";
	int failed_workers = 0;

	if (threads) {
		pthread_t pt[NP], ct[NC];
		struct role_arg pa[NP], ca[NC];
		for (int i = 0; i < NC; i++) {
			ca[i] = (struct role_arg){ q, sh, i, -1 };
			pthread_create(&ct[i], NULL, consumer_thread, &ca[i]);
		}
		for (int i = 0; i < NP; i++) {
			pa[i] = (struct role_arg){ q, sh, i, -1 };
			pthread_create(&pt[i], NULL, producer_thread, &pa[i]);
		}
		for (int i = 0; i < NP; i++) {
			pthread_join(pt[i], NULL);
			failed_workers += pa[i].rc != 0;
		}
		CHECK(put_sentinels(q) == 0);
		for (int i = 0; i < NC; i++) {
			pthread_join(ct[i], NULL);
			failed_workers += ca[i].rc != 0;
		}
	} else {
		pid_t pp[NP], cp[NC];
		fflush(NULL);
		for (int i = 0; i < NC; i++)
			if ((cp[i] = fork()) == 0) {
				alarm(CHILD_ALARM_S);
				_exit(consumer(q, sh, i));
			}
		for (int i = 0; i < NP; i++)
			if ((pp[i] = fork()) == 0) {
				alarm(CHILD_ALARM_S);
				_exit(producer(q, i));
			}
		for (int i = 0; i < NP; i++) {
			int st;
			waitpid(pp[i], &st, 0);
			failed_workers += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
		CHECK(put_sentinels(q) == 0);
		for (int i = 0; i < NC; i++) {
			int st;
			waitpid(cp[i], &st, 0);
			failed_workers += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
	}
	uint64_t missing = 0, dup = 0, total = 0;
	for (int p = 0; p < NP; p++)
		for (int s = 0; s < PER_PROD; s++) {
			uint32_t n = atomic_load(&sh->seen[p][s]);
			missing += n == 0;
			dup += n > 1;
		}
	for (int i = 0; i < NC; i++)
		total += atomic_load(&sh->got[i]);
	CHECKF(failed_workers == 0, "%s flags %u cap %zu spin %u: %d workers failed or hung", what,
	       flags, cap, spin, failed_workers);
	CHECKF(missing == 0 && dup == 0 && total == (uint64_t)NP * PER_PROD,
	       "%s flags %u cap %zu spin %u: %llu missing, %llu duplicated, %llu received", what,
	       flags, cap, spin, (unsigned long long)missing, (unsigned long long)dup,
	       (unsigned long long)total);
	CHECKF(atomic_load(&sh->out_of_order) == 0 && atomic_load(&sh->bad_items) == 0,
	       "%s: %llu out of order, %llu bad", what,
	       (unsigned long long)atomic_load(&sh->out_of_order),
	       (unsigned long long)atomic_load(&sh->bad_items));
	CHECKF(atomic_load(&sh->consumers_ended) == NC && atomic_load(&sh->sentinels_seen) == NC,
	       "%s: %llu of %d consumers ended on a sentinel", what,
	       (unsigned long long)atomic_load(&sh->consumers_ended), NC);
	CHECK(ipcb_shm_queue_empty(q));
	munmap(sh, sizeof(*sh));
	munmap(q, len);
}

/* ---- join() does not return early ---- */

#define JOIN_ITEMS 50
#define HOLD_MS 300

struct join_shared {
	_Atomic int joining, joined, last_done_started;
	_Atomic uint64_t t_last_done, t_join_ret;
	_Atomic int joined_before_last, join_rc, refused;
};

struct join_arg {
	struct ipcb_shm_queue *q;
	struct join_shared *sh;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int join_consumer(struct ipcb_shm_queue *q, struct join_shared *sh)
{
	char b[16];

	for (int i = 0; i < JOIN_ITEMS; i++) {
		if (ipcb_shm_queue_get(q, b, sizeof(b), 30000 * MS) < 0)
			return 1;
		if (i < JOIN_ITEMS - 1 && ipcb_shm_queue_task_done(q) != 0)
			return 1;
	}
	/* Hold back the last task_done until the joiner is inside join(), then a while more. */
	while (!atomic_load(&sh->joining))
		sleep_ms(1);
	sleep_ms(HOLD_MS);
	if (atomic_load(&sh->joined))
		atomic_store(&sh->joined_before_last, 1);
	atomic_store(&sh->t_last_done, ipcb_now_ns());
	atomic_store(&sh->last_done_started, 1);
	if (ipcb_shm_queue_task_done(q) != 0)
		return 1;
	if (ipcb_shm_queue_task_done(q) != -EINVAL)   /* one too many */
		atomic_store(&sh->refused, -1);
	else
		atomic_store(&sh->refused, 1);
	return 0;
}

static int joiner(struct ipcb_shm_queue *q, struct join_shared *sh)
{
	atomic_store(&sh->joining, 1);
	int rc = ipcb_shm_queue_join(q, 30000 * MS);
	atomic_store(&sh->t_join_ret, ipcb_now_ns());
	if (!atomic_load(&sh->last_done_started))
		atomic_store(&sh->joined_before_last, 1);
	atomic_store(&sh->joined, 1);
	atomic_store(&sh->join_rc, rc);
	return rc != 0;
}

static void *join_consumer_thread(void *p)
{
	struct join_arg *a = p;
	(void)join_consumer(a->q, a->sh);
	return NULL;
}

static void *joiner_thread(void *p)
{
	struct join_arg *a = p;
	(void)joiner(a->q, a->sh);
	return NULL;
}

static void test_join_waits(unsigned flags, int threads)
{
	size_t len;
	struct ipcb_shm_queue *q = new_queue(64, 16, flags | IPCB_SHM_QUEUE_JOINABLE, 0, &len);
	struct join_shared *sh = map_shared(sizeof(*sh));
	char b[16] = { 0 };
	const char *what = threads ? "threads" : "processes";

	for (int i = 0; i < JOIN_ITEMS; i++)
		CHECK(ipcb_shm_queue_put(q, b, sizeof(b), IPCB_SHM_QUEUE_NOWAIT) == 0);
	if (threads) {
		pthread_t tc, tj;
		struct join_arg a = { q, sh };
		pthread_create(&tj, NULL, joiner_thread, &a);
		pthread_create(&tc, NULL, join_consumer_thread, &a);
		pthread_join(tc, NULL);
		pthread_join(tj, NULL);
	} else {
		fflush(NULL);
		pid_t pj = fork();
		if (pj == 0) {
			alarm(CHILD_ALARM_S);
			_exit(joiner(q, sh));
		}
		pid_t pc = fork();
		if (pc == 0) {
			alarm(CHILD_ALARM_S);
			_exit(join_consumer(q, sh));
		}
		int st1, st2;
		waitpid(pc, &st1, 0);
		waitpid(pj, &st2, 0);
		CHECKF(WIFEXITED(st1) && WEXITSTATUS(st1) == 0 && WIFEXITED(st2) &&
		       WEXITSTATUS(st2) == 0, "join test children failed (%#x, %#x)", st1, st2);
	}
	CHECKF(atomic_load(&sh->joined) && atomic_load(&sh->join_rc) == 0,
	       "%s: join returned %d", what, atomic_load(&sh->join_rc));
	CHECKF(!atomic_load(&sh->joined_before_last),
	       "%s: join returned before the last task_done", what);
	CHECKF(atomic_load(&sh->t_join_ret) >= atomic_load(&sh->t_last_done),
	       "%s: join returned %lld ns before the last task_done started", what,
	       (long long)(atomic_load(&sh->t_last_done) - atomic_load(&sh->t_join_ret)));
	CHECKF(atomic_load(&sh->refused) == 1, "%s: task_done over-count was not refused", what);
	CHECK(ipcb_shm_queue_unfinished(q) == 0);
	munmap(sh, sizeof(*sh));
	munmap(q, len);
}

/* Several joiners, released together by the last task_done. */
struct multi_join {
	struct ipcb_shm_queue *q;
	_Atomic int returned;
};

static void *multi_joiner(void *p)
{
	struct multi_join *m = p;
	if (ipcb_shm_queue_join(m->q, 30000 * MS) == 0)
		atomic_fetch_add(&m->returned, 1);
	return NULL;
}

static void test_many_joiners(void)
{
	size_t len;
	struct ipcb_shm_queue *q = new_queue(4, 8, IPCB_SHM_QUEUE_JOINABLE, 0, &len);
	struct multi_join m = { q, 0 };
	pthread_t t[3];
	char b[8] = { 0 };

	CHECK(ipcb_shm_queue_put(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == 0);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, multi_joiner, &m);
	sleep_ms(100);
	CHECK(atomic_load(&m.returned) == 0);
	CHECK(ipcb_shm_queue_get(q, b, 8, IPCB_SHM_QUEUE_NOWAIT) == 8);
	CHECK(ipcb_shm_queue_task_done(q) == 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&m.returned) == 3);
	munmap(q, len);
}

/* ---- the transport ---- */

struct echo_arg {
	struct ipcb_chan *ch;
	int rc;
};

static void *echo_b(void *p)
{
	struct echo_arg *a = p;
	struct ipcb_end e;
	char buf[64];

	memset(&e, 0, sizeof(e));
	a->rc = ipcb_transport_shm_queue.attach(a->ch, &e, IPCB_ROLE_B);
	if (a->rc == 0 && ipcb_recv_msg(&e, buf, sizeof(buf)) == 0)
		a->rc = ipcb_send_msg(&e, buf, sizeof(buf));
	else
		a->rc = -1;
	return NULL;
}

static void transport_round_trip(const char *want_effective)
{
	const struct ipcb_transport *t = ipcb_transport_find("shm-queue");
	struct ipcb_chan ch;
	struct ipcb_end e;
	struct echo_arg a;
	pthread_t th;
	char buf[64], back[64];

	CHECK(t == &ipcb_transport_shm_queue);
	CHECK((t->caps & (IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX | IPCB_CAP_MULTI_PROD |
			  IPCB_CAP_MULTI_CONS)) == (IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX |
			  IPCB_CAP_MULTI_PROD | IPCB_CAP_MULTI_CONS));
	CHECK(!t->unsupported || !t->unsupported());
	memset(&ch, 0, sizeof(ch));
	ch.tr = t;
	ch.msg_size = 64;
	ch.n_a = ch.n_b = 1;
	CHECK(t->setup(&ch) == 0);
	CHECKF(strstr(ch.effective, want_effective) != NULL, "effective '%s', want '%s'",
	       ch.effective, want_effective);
	/* The cells' pages were placed (local: one node) and every one of them verified. */
	size_t pages = ch.mem_len / (size_t)sysconf(_SC_PAGESIZE);
	const char *mc = strstr(ch.effective, ";mem_chan=node");
	char tail[48];
	snprintf(tail, sizeof(tail), ":%zu/%zu", pages, pages);
	CHECKF(mc && pages && !strcmp(strchr(mc, ':'), tail), "effective '%s', want %zu pages",
	       ch.effective, pages);
	memset(&e, 0, sizeof(e));
	CHECK(t->attach(&ch, &e, IPCB_ROLE_A) == 0);
	a.ch = &ch;
	a.rc = -1;
	pthread_create(&th, NULL, echo_b, &a);
	for (int i = 0; i < 64; i++)
		buf[i] = (char)i;
	CHECK(ipcb_send_msg(&e, buf, sizeof(buf)) == 0);
	CHECK(ipcb_recv_msg(&e, back, sizeof(back)) == 0);
	pthread_join(th, NULL);
	CHECK(a.rc == 0 && memcmp(buf, back, sizeof(buf)) == 0);
	CHECK(t->send(&e, buf, 65) == -EMSGSIZE);
	t->teardown(&ch);
	CHECK(ch.mem == NULL);
	t->teardown(&ch);   /* idempotent */
}

static void test_transport(void)
{
	struct ipcb_config cfg;
	char err[256], *pos[4];
	int npos;

	transport_round_trip("depth=64;item_bytes=64;impl=mpmc;spin=1000");
	const char *argv1[] = { "t", "--shm-queue-depth", "5", "--shm-queue-impl", "lock",
			  "--shm-queue-spin", "0", NULL };
	ipcb_config_defaults(&cfg);
	CHECK(ipcb_opt_parse(&cfg, 7, (char **)argv1, 1, pos, 4, &npos, err, sizeof(err)) == 0);
	transport_round_trip("depth=5;item_bytes=64;impl=lock;spin=0");
	const char *argv2[] = { "t", "--shm-queue-depth", "0", NULL };
	CHECK(ipcb_opt_parse(&cfg, 3, (char **)argv2, 1, pos, 4, &npos, err, sizeof(err)) == -EINVAL);
	const char *argv3[] = { "t", "--shm-queue-impl", "ring", NULL };
	CHECK(ipcb_opt_parse(&cfg, 3, (char **)argv3, 1, pos, 4, &npos, err, sizeof(err)) == -EINVAL);
}

int main(void)
{
	static const unsigned impls[] = { 0, IPCB_SHM_QUEUE_LOCKED };

	alarm(240);   /* a hang in the parent (threads, or a lost wake-up) fails instead */
	test_args();
	for (int i = 0; i < 2; i++) {
		unsigned f = impls[i];
		test_fifo(f, 3);
		test_fifo(f, 4);
		test_fifo(f, 1);
		test_timeouts(f);
		test_joinable_counts(f);
		for (int threads = 0; threads < 2; threads++) {
			test_mpmc(f, 8, 0, threads);
			test_mpmc(f, 8, 200, threads);
			test_mpmc(f, 1, 0, threads);   /* every put and get may sleep */
			test_mpmc(f | IPCB_SHM_QUEUE_YIELD, 8, 2, threads);
			test_join_waits(f, threads);
		}
	}
	test_many_joiners();
	test_transport();
	return TEST_END();
}
