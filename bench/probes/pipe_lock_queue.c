// SPDX-License-Identifier: MIT
/*
 * pipe_lock_queue: the multiprocessing.Queue design as a standalone C program, to compare
 * ipcbench's shm-queue against (bench/validate_queue.sh builds and runs it). Not part of the
 * library and shares no code with it.
 *
 * What CPython does (Lib/multiprocessing/queues.py, connection.py): one pipe; put() hands
 * the object to a feeder thread that writes "4-byte length + payload" while holding the
 * queue's write lock (a process-shared semaphore, _wlock); get() holds the read lock (_rlock)
 * while it reads the length and then the payload. Here P producer and C consumer processes
 * do exactly that with a pipe(2) and two sem_t in MAP_SHARED memory (Python's SemLock is a
 * sem_t too), minus the pickling and the feeder thread (so this is an upper bound for
 * Python). Worker k (producers first, then consumers) is pinned to CPU k mod the CPUs
 * online, as ipcbench places workers.
 *
 * Timing as ipcbench's prodcons: producers send for warm-up + duration; the first to pass
 * the warm-up (or the end) flips a shared phase word and records the time; consumers count
 * the messages they receive while the phase says "measuring"; msgs/s = that count over the
 * recorded window. Then one sentinel per consumer. Integrity: every producer's sequence
 * numbers arrive exactly once in total (count and sum), increasing per consumer.
 *
 *   cc -O2 -pthread -o pipe_lock_queue pipe_lock_queue.c
 *   ./pipe_lock_queue -p PRODUCERS -c CONSUMERS [-s BYTES] [-d SECONDS] [-w SECONDS]
 * Output: one line "pipe-lock P:C size=64 msgs_per_s=... msgs=... window_s=..."; exit 0,
 * 1 when a message was lost or duplicated, 2 on bad arguments or a system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <semaphore.h>
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

#define MAX_SIDE 64
#define STRIDE 16
#define SENTINEL 0xFFFFFFFFu

struct shared {
	sem_t wlock, rlock;
	_Alignas(64) _Atomic uint64_t phase;    /* 0 warm-up, 1 measuring, 2 stop */
	_Atomic uint64_t t_win, t_end, prod_done;
	_Alignas(64) _Atomic uint64_t sent[MAX_SIDE], got[MAX_SIDE], sum[MAX_SIDE];
	_Atomic uint64_t win_msgs, reordered, bad;
};

static struct shared *sh;
static int fds[2], P = 1, C = 1;
static size_t size = 64;
static double dur_s = 0.5, warm_s = 0.1;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int k)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)(k % (n > 0 ? n : 1)), &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

static void lock(sem_t *s)
{
	while (sem_wait(s) < 0 && errno == EINTR)
		;
}

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fds[1], p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fds[0], p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One message: length header and payload in one write, under the write lock. */
static int put(char *frame, uint32_t id, uint32_t seq)
{
	uint32_t len = (uint32_t)size;
	memcpy(frame, &len, 4);
	memcpy(frame + 4, &id, 4);
	memcpy(frame + 8, &seq, 4);
	lock(&sh->wlock);
	int rc = write_all(frame, 4 + size);
	sem_post(&sh->wlock);
	return rc;
}

static int producer(int id)
{
	char *frame = calloc(1, 4 + size);
	uint64_t t_win = 0, t_end, seq = 0;
	uint64_t t0 = now_ns();

	if (!frame)
		return 2;
	t_win = t0 + (uint64_t)(warm_s * 1e9);
	t_end = t_win + (uint64_t)(dur_s * 1e9);
	for (;;) {
		uint64_t t = now_ns(), ph = atomic_load(&sh->phase), want;
		if (ph == 0 && t >= t_win) {
			want = 0;
			if (atomic_compare_exchange_strong(&sh->phase, &want, 1))
				atomic_store(&sh->t_win, t);
			ph = atomic_load(&sh->phase);
		}
		if (ph == 1 && t >= t_end) {
			want = 1;
			if (atomic_compare_exchange_strong(&sh->phase, &want, 2))
				atomic_store(&sh->t_end, t);
			ph = atomic_load(&sh->phase);
		}
		if (ph == 2)
			break;
		for (int i = 0; i < STRIDE; i++, seq++)
			if (put(frame, (uint32_t)id, (uint32_t)seq) < 0)
				return 2;
	}
	atomic_store(&sh->sent[id], seq);
	if ((int)atomic_fetch_add(&sh->prod_done, 1) + 1 == P)
		for (int k = 0; k < C; k++)
			if (put(frame, SENTINEL, 0) < 0)
				return 2;
	free(frame);
	return 0;
}

static int consumer(void)
{
	char *payload = malloc(size);
	int64_t last[MAX_SIDE];
	uint64_t got[MAX_SIDE] = { 0 }, sum[MAX_SIDE] = { 0 }, win = 0;

	if (!payload)
		return 2;
	for (int p = 0; p < P; p++)
		last[p] = -1;
	for (;;) {
		uint32_t len, id, seq;
		lock(&sh->rlock);
		int rc = read_all((char *)&len, 4);
		if (rc == 0 && len == size)
			rc = read_all(payload, len);
		sem_post(&sh->rlock);
		if (rc < 0 || len != size)
			return 2;
		memcpy(&id, payload, 4);
		memcpy(&seq, payload + 4, 4);
		if (id == SENTINEL)
			break;
		if (id >= (uint32_t)P) {
			atomic_fetch_add(&sh->bad, 1);
			continue;
		}
		if ((int64_t)seq <= last[id])
			atomic_fetch_add(&sh->reordered, 1);
		last[id] = seq;
		got[id]++;
		sum[id] += seq;
		if (atomic_load_explicit(&sh->phase, memory_order_relaxed) == 1)
			win++;
	}
	for (int p = 0; p < P; p++) {
		atomic_fetch_add(&sh->got[p], got[p]);
		atomic_fetch_add(&sh->sum[p], sum[p]);
	}
	atomic_fetch_add(&sh->win_msgs, win);
	free(payload);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: pipe_lock_queue -p PRODUCERS -c CONSUMERS [-s BYTES >= 8] "
		"[-d SECONDS] [-w SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int opt, failed = 0;
	pid_t pids[2 * MAX_SIDE];

	while ((opt = getopt(argc, argv, "p:c:s:d:w:")) != -1) {
		switch (opt) {
		case 'p': P = atoi(optarg); break;
		case 'c': C = atoi(optarg); break;
		case 's': size = (size_t)strtoul(optarg, NULL, 10); break;
		case 'd': dur_s = atof(optarg); break;
		case 'w': warm_s = atof(optarg); break;
		default: return usage();
		}
	}
	if (P < 1 || P > MAX_SIDE || C < 1 || C > MAX_SIDE || size < 8 || size > (1u << 24) ||
	    !(dur_s > 0) || warm_s < 0)
		return usage();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || sem_init(&sh->wlock, 1, 1) < 0 || sem_init(&sh->rlock, 1, 1) < 0 ||
	    pipe(fds) < 0) {
		perror("pipe_lock_queue: setup");
		return 2;
	}
	fflush(NULL);
	for (int k = 0; k < P + C; k++) {
		pids[k] = fork();
		if (pids[k] < 0) {
			perror("pipe_lock_queue: fork");
			return 2;
		}
		if (pids[k] == 0) {
			alarm((unsigned)(warm_s + dur_s) + 60);   /* a hang ends, and is reported */
			pin(k);
			_exit(k < P ? producer(k) : consumer());
		}
	}
	for (int k = 0; k < P + C; k++) {
		int st;
		while (waitpid(pids[k], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	if (failed) {
		fprintf(stderr, "pipe_lock_queue: a worker failed or hung\n");
		return 2;
	}
	for (int p = 0; p < P; p++) {
		uint64_t n = atomic_load(&sh->sent[p]);
		uint64_t want = n % 2 ? n * ((n - 1) / 2) : (n / 2) * (n ? n - 1 : 0);
		if (atomic_load(&sh->got[p]) != n || atomic_load(&sh->sum[p]) != want) {
			fprintf(stderr, "pipe_lock_queue: producer %d sent %llu, %llu arrived\n", p,
				(unsigned long long)n, (unsigned long long)atomic_load(&sh->got[p]));
			failed = 1;
		}
	}
	if (atomic_load(&sh->reordered) || atomic_load(&sh->bad)) {
		fprintf(stderr, "pipe_lock_queue: %llu out of order, %llu bad\n",
			(unsigned long long)atomic_load(&sh->reordered),
			(unsigned long long)atomic_load(&sh->bad));
		failed = 1;
	}
	double win_s = (double)(atomic_load(&sh->t_end) - atomic_load(&sh->t_win)) / 1e9;
	uint64_t msgs = atomic_load(&sh->win_msgs);
	printf("pipe-lock %d:%d size=%zu msgs_per_s=%.0f msgs=%llu window_s=%.3f\n", P, C, size,
	       win_s > 0 ? (double)msgs / win_s : 0.0, (unsigned long long)msgs, win_s);
	return failed;
}
