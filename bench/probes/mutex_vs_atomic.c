// SPDX-License-Identifier: MIT
/*
 * Where the time of an uncontended process-shared pthread mutex goes, next to one atomic add,
 * for bench/validate_sync.sh. One pinned process, one worker, every word in MAP_SHARED
 * memory on a cache line of its own (as ipcbench's counter bench places them), the same
 * deposit/withdraw update ipcbench makes. Each variant makes one update per step:
 *
 *   atomic      lock add on the balance: one atomic read-modify-write (RMW) per update
 *               (ipcbench's atomic-add)
 *   mutex       pthread_mutex_lock, plain add, pthread_mutex_unlock on a PTHREAD_PROCESS_SHARED
 *               mutex (ipcbench's pthread-mutex)
 *   futex_lock  the same lock protocol written inline, no call: compare-and-swap 0 -> 1 to
 *               lock, exchange -> 0 to unlock (a FUTEX_WAKE would follow if the old value
 *               said "waiters"; it never does here). What glibc does minus calls, type
 *               checks and the owner/nusers bookkeeping: two RMWs per update
 *   two_rmw     two lock adds per update on two lines: the cost of two RMWs and nothing else
 *   spin_store  compare-and-swap to lock, plain release store to unlock: a lock with one RMW
 *               per update, possible only for a lock that never sleeps (a futex lock needs
 *               the unlock to be an RMW: it must learn atomically whether anyone sleeps)
 *
 * Each variant runs in batches of BATCH updates, timed with CLOCK_MONOTONIC; the result is
 * the median over the batches of a run, in ns per update; the variants take turns, so
 * a change of machine load touches them all alike. Prints one line of key=value:
 *   atomic_ns=.. mutex_ns=.. futex_lock_ns=.. two_rmw_ns=.. spin_store_ns=..
 * Nothing here is asserted; the balance is checked at the end (a wrong one is an error,
 * exit 1), so a broken variant never prints a number.
 *
 * Build: cc -O2 -pthread -o mutex_vs_atomic mutex_vs_atomic.c
 * Usage: mutex_vs_atomic [-c CPU] [-d SECONDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BATCH 20000
#define TICK ((uint64_t)1 << 32)
#define NVAR 5
#define MAX_BATCHES 4096

struct shared {
	alignas(64) pthread_mutex_t m;
	alignas(64) uint32_t word;     /* futex_lock / spin_store lock word */
	alignas(64) int64_t balance;
	alignas(64) int64_t other;     /* the second line of two_rmw */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One update under each scheme; noinline keeps each loop as the compiler makes it alone. */
static __attribute__((noinline)) void run_atomic(struct shared *s, int64_t n)
{
	for (int i = 0; i < BATCH / 2; i++) {
		__atomic_fetch_add(&s->balance, (int64_t)(TICK + (uint64_t)n), __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&s->balance, (int64_t)(TICK - (uint64_t)n), __ATOMIC_SEQ_CST);
	}
}

static __attribute__((noinline)) int run_mutex(struct shared *s, int64_t n)
{
	pthread_mutex_t *m = &s->m;
	for (int i = 0; i < BATCH / 2; i++) {
		if (pthread_mutex_lock(m))
			return -1;
		s->balance = (int64_t)((uint64_t)s->balance + TICK + (uint64_t)n);
		pthread_mutex_unlock(m);
		if (pthread_mutex_lock(m))
			return -1;
		s->balance = (int64_t)((uint64_t)s->balance + TICK - (uint64_t)n);
		pthread_mutex_unlock(m);
	}
	return 0;
}

static inline void futex_lock(uint32_t *w)
{
	uint32_t z = 0;
	/* Uncontended here: the CAS always succeeds (a real lock would sleep otherwise). */
	while (!__atomic_compare_exchange_n(w, &z, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		z = 0;
}

static inline void futex_unlock(uint32_t *w)
{
	/* The exchange tells whether a waiter marked the word (2): then FUTEX_WAKE. */
	if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) > 1)
		abort();
}

static __attribute__((noinline)) void run_futex_lock(struct shared *s, int64_t n)
{
	for (int i = 0; i < BATCH / 2; i++) {
		futex_lock(&s->word);
		s->balance = (int64_t)((uint64_t)s->balance + TICK + (uint64_t)n);
		futex_unlock(&s->word);
		futex_lock(&s->word);
		s->balance = (int64_t)((uint64_t)s->balance + TICK - (uint64_t)n);
		futex_unlock(&s->word);
	}
}

static __attribute__((noinline)) void run_two_rmw(struct shared *s, int64_t n)
{
	for (int i = 0; i < BATCH / 2; i++) {
		__atomic_fetch_add(&s->other, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&s->balance, (int64_t)(TICK + (uint64_t)n), __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&s->other, -1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&s->balance, (int64_t)(TICK - (uint64_t)n), __ATOMIC_SEQ_CST);
	}
}

static __attribute__((noinline)) void run_spin_store(struct shared *s, int64_t n)
{
	for (int i = 0; i < BATCH / 2; i++) {
		futex_lock(&s->word);
		s->balance = (int64_t)((uint64_t)s->balance + TICK + (uint64_t)n);
		__atomic_store_n(&s->word, 0, __ATOMIC_RELEASE);
		futex_lock(&s->word);
		s->balance = (int64_t)((uint64_t)s->balance + TICK - (uint64_t)n);
		__atomic_store_n(&s->word, 0, __ATOMIC_RELEASE);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double samples[NVAR][MAX_BATCHES];

int main(int argc, char **argv)
{
	static const char *const names[NVAR] = { "atomic", "mutex", "futex_lock", "two_rmw",
						 "spin_store" };
	double secs = 1;
	int cpu = 0, opt, nb = 0;
	pthread_mutexattr_t a;
	cpu_set_t set;

	while ((opt = getopt(argc, argv, "c:d:")) != -1) {
		if (opt == 'c')
			cpu = atoi(optarg);
		else if (opt == 'd')
			secs = atof(optarg);
		else {
			fprintf(stderr, "usage: %s [-c CPU] [-d SECONDS]\n", argv[0]);
			return 2;
		}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		fprintf(stderr, "mutex_vs_atomic: pin to CPU %d: %s\n", cpu, strerror(errno));
		return 2;
	}
	struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				-1, 0);
	if (s == MAP_FAILED) {
		fprintf(stderr, "mutex_vs_atomic: mmap: %s\n", strerror(errno));
		return 2;
	}
	memset(s, 0, sizeof(*s));
	if (pthread_mutexattr_init(&a) || pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutex_init(&s->m, &a)) {
		fprintf(stderr, "mutex_vs_atomic: process-shared mutex: cannot make one\n");
		return 2;
	}
	pthread_mutexattr_destroy(&a);

	uint64_t until = now_ns() + (uint64_t)(secs * 1e9), batches = 0;
	for (int warm = 1; nb < MAX_BATCHES; warm = 0) {
		for (int v = 0; v < NVAR; v++) {
			uint64_t t0 = now_ns();
			switch (v) {
			case 0: run_atomic(s, 7); break;
			case 1: if (run_mutex(s, 7)) { fprintf(stderr, "lock failed\n"); return 1; } break;
			case 2: run_futex_lock(s, 7); break;
			case 3: run_two_rmw(s, 7); break;
			case 4: run_spin_store(s, 7); break;
			}
			if (!warm)
				samples[v][nb] = (double)(now_ns() - t0) / BATCH;
		}
		batches++;
		if (!warm)
			nb++;
		if (now_ns() >= until)
			break;
	}
	/* Every variant made BATCH updates per batch: the tick count is exact, the amount 0. */
	uint64_t want = (uint64_t)NVAR * BATCH * batches, word = (uint64_t)s->balance;
	if (word != want * TICK || s->other != 0) {
		fprintf(stderr, "mutex_vs_atomic: balance 0x%llx, expected 0x%llx\n",
			(unsigned long long)word, (unsigned long long)(want * TICK));
		return 1;
	}
	for (int v = 0; v < NVAR; v++) {
		qsort(samples[v], (size_t)nb, sizeof(double), cmp_double);
		printf("%s%s_ns=%.3f", v ? " " : "", names[v], nb ? samples[v][nb / 2] : 0.0);
	}
	printf(" batches=%d\n", nb);
	pthread_mutex_destroy(&s->m);
	munmap(s, sizeof(*s));
	return 0;
}
