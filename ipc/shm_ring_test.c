// SPDX-License-Identifier: MIT
/*
 * shm-ring tests. Every message carries its sequence number and is stamped and checked in
 * full (every byte, harness/msg.h), its size is derived from the sequence number, so the
 * receiver catches a lost, repeated, reordered, resized or torn message. Covered:
 *   - options: parsing and refusal, effective parameters, auto = spin / futex by CPU sharing,
 *     default capacity, setup refusals (SPSC only, message larger than the ring);
 *   - a forked consumer: a few hundred thousand messages of varying sizes through a small
 *     ring (thousands of wrap-arounds), in every wait mode, answered over the other ring;
 *   - ping-pong with a forked echo in every wait mode (futex with no spinning: every
 *     message goes through sleep and wake-up);
 *   - 1 MiB messages;
 *   - batching: the last message (the stop message) arrives while the producer waits for an
 *     answer (flush before blocking) and when the producer just detaches; ping-pong with a
 *     batch larger than one still works;
 *   - a full ring blocks the producer after exactly capacity / record messages, and
 *     nothing is overwritten;
 *   - a detached peer ends a blocked wait (0 / -EPIPE) instead of hanging;
 *   - an old payload word that looks like a length is never read as a message (small
 *     one-line messages over the lines of a consumed large one, wrapping, with and without
 *     batching, across a re-attach);
 *   - drop, dup and corrupt faults injected through IPCBENCH_TEST_FAULT are seen by the
 *     receiver at the message they hit, for one-line and multi-line messages;
 *   - threads (pthread) in every wait mode, which is the part CI runs under TSan.
 * Forked children run under alarm() so a hang is a failure, not a stuck test.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness/msg.h"
#include "../harness/opt.h"
#include "testutil.h"
#include "transport.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SCALE 8            /* sanitizers: fewer messages, same coverage */
#else
#define SCALE 1
#endif

static const struct ipcb_transport *tr = &ipcb_transport_shm_ring;
static const char *const modes[] = { "spin", "yield", "futex" };
#define NMODES 3

/* Set --shm-ring-* options through the real parser. Returns its result. */
static int set_opts(const char *wait, int batch, int bytes, int spins)
{
	static char a[8][32];
	char *argv[9];
	struct ipcb_config cfg;
	char err[256];
	int npos;

	snprintf(a[0], sizeof(a[0]), "--shm-ring-wait");
	snprintf(a[1], sizeof(a[1]), "%s", wait);
	snprintf(a[2], sizeof(a[2]), "--shm-ring-batch");
	snprintf(a[3], sizeof(a[3]), "%d", batch);
	snprintf(a[4], sizeof(a[4]), "--shm-ring-bytes");
	snprintf(a[5], sizeof(a[5]), "%d", bytes);
	snprintf(a[6], sizeof(a[6]), "--shm-ring-spins");
	snprintf(a[7], sizeof(a[7]), "%d", spins);
	argv[0] = (char *)"test";
	for (int i = 0; i < 8; i++)
		argv[i + 1] = a[i];
	ipcb_config_defaults(&cfg);
	err[0] = 0;
	int rc = ipcb_opt_parse(&cfg, 9, argv, 1, NULL, 0, &npos, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	return rc;
}

static int setup_chan(struct ipcb_chan *ch, size_t msg_size, int cpus_shared)
{
	memset(ch, 0, sizeof(*ch));
	ch->tr = tr;
	ch->msg_size = msg_size;
	ch->n_a = ch->n_b = 1;
	ch->cpus_shared = cpus_shared;
	return tr->setup(ch);
}

/* A channel for msg_size with both ends attached in this thread (A sends on the ring B
 * reads). 0, or -1 after a failed CHECK. */
static int open_pair(struct ipcb_chan *ch, struct ipcb_end *a, struct ipcb_end *b,
		     size_t msg_size)
{
	if (setup_chan(ch, msg_size, 0) < 0) {
		CHECK(0);
		return -1;
	}
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	CHECK(tr->attach(ch, a, IPCB_ROLE_A) == 0);
	CHECK(tr->attach(ch, b, IPCB_ROLE_B) == 0);
	return 0;
}

/* Size of message seq when sizes vary in [8, max]; every 97th is exactly max. */
static size_t size_for(uint64_t seq, size_t max)
{
	if (seq % 97 == 0)
		return max;
	return IPCB_MSG_MIN + (size_t)(ipcb_mix64(seq) % (max - IPCB_MSG_MIN + 1));
}

/* Receive message seq and check it. 0, 1 for a good stop message, or -1. */
static int recv_check(struct ipcb_end *e, void *buf, size_t bufsz, uint64_t seq, size_t max,
		      const char *who)
{
	size_t want = size_for(seq, max);
	ssize_t n = tr->recv(e, buf, bufsz);
	uint32_t got = 0;
	uint16_t prod = 0;
	int k;

	if (n != (ssize_t)want) {
		fprintf(stderr, "%s: message %llu: recv returned %zd, want %zu\n", who,
			(unsigned long long)seq, n, want);
		return -1;
	}
	k = ipcb_msg_check(buf, want, 1, &got, &prod);
	if (k == IPCB_MSG_CORRUPT || got != (uint32_t)seq) {
		fprintf(stderr, "%s: message %llu: %s (seq %u)\n", who, (unsigned long long)seq,
			k == IPCB_MSG_CORRUPT ? "corrupt" : "out of order", got);
		return -1;
	}
	return k == IPCB_MSG_IS_STOP;
}

static int send_seq(struct ipcb_end *e, void *buf, uint64_t seq, size_t max, int stop)
{
	size_t size = size_for(seq, max);

	ipcb_msg_stamp(buf, size, seq, 0, stop, 1);
	return tr->send(e, buf, size) == (ssize_t)size ? 0 : -1;
}

/* Consume until the stop message; returns the number of messages before it, or -1. */
static int64_t consume_all(struct ipcb_end *e, void *buf, size_t max, const char *who)
{
	for (uint64_t seq = 0;; seq++) {
		int k = recv_check(e, buf, max, seq, max, who);
		if (k < 0)
			return -1;
		if (k == 1)
			return (int64_t)seq;
	}
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		fprintf(stderr, "child killed by signal %d\n", WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* effective is want, then the rings' placement: every page on one node (setup_chan gives
 * no --mem, so the rings are local to this process's node). */
static int eff_is(const struct ipcb_chan *ch, const char *want)
{
	size_t n = strlen(want), pages = ch->mem_len / (size_t)sysconf(_SC_PAGESIZE);
	char tail[64];
	int node;

	if (strncmp(ch->effective, want, n) ||
	    sscanf(ch->effective + n, ";mem_chan=node%d:", &node) != 1)
		return 0;
	snprintf(tail, sizeof(tail), ";mem_chan=node%d:%zu/%zu", node, pages, pages);
	return pages > 0 && !strcmp(ch->effective + n, tail);
}

/* ---- options and setup ---- */

static void test_options(void)
{
	struct ipcb_chan ch;
	struct ipcb_config cfg;
	char err[256];
	int npos;

	CHECK(set_opts("auto", 1, 0, -1) == 0);
	CHECK(setup_chan(&ch, 64, 0) == 0);
	CHECKF(eff_is(&ch, "wait=spin;batch=1;ring_bytes=4194304"), "%s", ch.effective);
	tr->teardown(&ch);
	tr->teardown(&ch);                     /* idempotent */
	CHECK(ch.mem == NULL);

	CHECK(setup_chan(&ch, 64, 1) == 0);    /* ends share a CPU: never spin */
	CHECKF(eff_is(&ch, "wait=futex;batch=1;ring_bytes=4194304;spins=0"), "%s", ch.effective);
	tr->teardown(&ch);

	CHECK(setup_chan(&ch, 1 << 20, 0) == 0);   /* 8 records of 1 MiB + length word, in lines */
	CHECKF(strstr(ch.effective, "ring_bytes=8389120") != NULL, "%s", ch.effective);
	tr->teardown(&ch);

	CHECK(set_opts("yield", 7, 5000, -1) == 0);
	CHECK(setup_chan(&ch, 64, 1) == 0);        /* explicit mode wins over auto */
	CHECKF(eff_is(&ch, "wait=yield;batch=7;ring_bytes=5056"), "%s", ch.effective);
	tr->teardown(&ch);

	CHECK(set_opts("futex", 1, 4096, 10) == 0);
	CHECK(setup_chan(&ch, 4096, 0) == -EMSGSIZE && ch.why[0]);   /* 4160 > 4096 */
	tr->teardown(&ch);
	CHECK(setup_chan(&ch, 4088, 0) == 0);                         /* exactly fits */
	CHECKF(eff_is(&ch, "wait=futex;batch=1;ring_bytes=4096;spins=10"), "%s", ch.effective);
	tr->teardown(&ch);

	memset(&ch, 0, sizeof(ch));
	ch.tr = tr;
	ch.msg_size = 64;
	ch.n_a = 2;
	ch.n_b = 1;
	CHECK(tr->setup(&ch) == -ENOTSUP && strstr(ch.why, "single producer"));
	tr->teardown(&ch);

	/* The parser refuses bad values and names the option. */
	static char o1[] = "--shm-ring-wait", v1[] = "sometimes";
	static char o2[] = "--shm-ring-batch", v2[] = "0";
	static char o3[] = "--shm-ring-bytes", v3[] = "-5";
	char *bad[][3] = { { NULL, o1, v1 }, { NULL, o2, v2 }, { NULL, o3, v3 } };
	for (int i = 0; i < 3; i++) {
		ipcb_config_defaults(&cfg);
		err[0] = 0;
		CHECK(ipcb_opt_parse(&cfg, 3, bad[i], 1, NULL, 0, &npos, err, sizeof(err)) == -EINVAL);
		CHECKF(strstr(err, bad[i][1] + 2) != NULL, "%s", err);
	}
}

/* ---- forked stream ---- */

/* A streams n messages (sizes up to max) to a forked B, which answers with the count. */
static void stream_fork(const char *mode, int batch, int bytes, size_t max, uint64_t n,
			int detach_first)
{
	struct ipcb_chan ch;
	struct ipcb_end e;
	void *buf = malloc(max);
	uint64_t reply[2] = { 0, 0 };
	pid_t pid;

	CHECK(set_opts(mode, batch, bytes, 0) == 0);
	if (!buf || setup_chan(&ch, max, 0) < 0) {
		CHECK(0);
		free(buf);
		return;
	}
	pid = fork();
	if (pid == 0) {
		int64_t got;
		alarm(120);
		memset(&e, 0, sizeof(e));
		if (tr->attach(&ch, &e, IPCB_ROLE_B) < 0)
			_exit(2);
		got = consume_all(&e, buf, max, "consumer");
		uint64_t r[2] = { (uint64_t)got, 0x5ca1ab1e };
		if (got >= 0 && tr->send(&e, r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(3);
		tr->detach(&e);
		_exit(got == (int64_t)n ? 0 : 1);
	}
	CHECK(pid > 0);
	memset(&e, 0, sizeof(e));
	CHECK(tr->attach(&ch, &e, IPCB_ROLE_A) == 0);
	int ok = 1;
	for (uint64_t seq = 0; seq < n && ok; seq++)
		ok = send_seq(&e, buf, seq, max, 0) == 0;
	CHECKF(ok, "%s: send failed", mode);
	CHECK(send_seq(&e, buf, n, max, 1) == 0);
	if (detach_first) {
		tr->detach(&e);   /* the stop message must leave with the detach */
	} else {
		/* Waiting for the answer must flush a batched stop message first. */
		ssize_t r = tr->recv(&e, reply, sizeof(reply));
		CHECKF(r == (ssize_t)sizeof(reply) && reply[0] == n && reply[1] == 0x5ca1ab1e,
		       "%s batch %d: reply %zd: %llu", mode, batch, r, (unsigned long long)reply[0]);
		tr->detach(&e);
	}
	CHECKF(wait_child(pid) == 0, "%s batch %d bytes %d: consumer failed", mode, batch, bytes);
	tr->teardown(&ch);
	free(buf);
}

static void test_stream_fork(void)
{
	/* 300k messages of 8..1500 bytes through 64 KiB: ~3500 wrap-arounds per mode. */
	for (int m = 0; m < NMODES; m++)
		stream_fork(modes[m], 1, 65536, 1500, 300000 / SCALE, 0);
	/* Sizes that do not divide the ring, a ring barely larger than two messages. */
	stream_fork("spin", 1, 4160, 2000, 100000 / SCALE, 0);
	/* 1 MiB messages with the default capacity. */
	stream_fork("spin", 1, 0, 1 << 20, 64 / (SCALE > 1 ? 4 : 1), 0);
	/* Batching: 100003 is no multiple of the batch, so the stop message is left over. */
	stream_fork("spin", 16, 65536, 700, 100003 / SCALE, 0);
	stream_fork("futex", 16, 65536, 700, 100003 / SCALE, 0);
	stream_fork("spin", 64, 65536, 700, 100003 / SCALE, 1);
	stream_fork("yield", 1000, 65536, 300, 10007 / SCALE, 1);
}

/* ---- forked ping-pong ---- */

static void pingpong_fork(const char *mode, int batch, int spins, uint64_t n)
{
	const size_t max = 3000;
	struct ipcb_chan ch;
	struct ipcb_end e;
	void *buf = malloc(max);
	pid_t pid;

	CHECK(set_opts(mode, batch, 8192, spins) == 0);
	if (!buf || setup_chan(&ch, max, 0) < 0) {
		CHECK(0);
		free(buf);
		return;
	}
	pid = fork();
	if (pid == 0) {
		alarm(120);
		memset(&e, 0, sizeof(e));
		if (tr->attach(&ch, &e, IPCB_ROLE_B) < 0)
			_exit(2);
		for (uint64_t seq = 0;; seq++) {
			int k = recv_check(&e, buf, max, seq, max, "echo");
			if (k < 0)
				_exit(1);
			if (k == 1)
				break;
			if (tr->send(&e, buf, size_for(seq, max)) < 0)
				_exit(3);
		}
		tr->detach(&e);
		_exit(0);
	}
	memset(&e, 0, sizeof(e));
	CHECK(tr->attach(&ch, &e, IPCB_ROLE_A) == 0);
	int ok = 1;
	for (uint64_t seq = 0; seq < n && ok; seq++)
		ok = send_seq(&e, buf, seq, max, 0) == 0 &&
		     recv_check(&e, buf, max, seq, max, "ping") == 0;
	CHECKF(ok, "ping-pong %s batch %d failed", mode, batch);
	CHECK(send_seq(&e, buf, n, max, 1) == 0);
	tr->detach(&e);
	CHECKF(wait_child(pid) == 0, "ping-pong %s: echo failed", mode);
	tr->teardown(&ch);
	free(buf);
}

static void test_pingpong_fork(void)
{
	for (int m = 0; m < NMODES; m++)
		pingpong_fork(modes[m], 1, 100, 20000 / SCALE);
	pingpong_fork("futex", 1, 0, 20000 / SCALE);    /* always sleep */
	pingpong_fork("spin", 8, 0, 5000 / SCALE);      /* batch > 1: flushed before waiting */
}

/* ---- threads ---- */

struct thr {
	struct ipcb_chan *ch;
	uint64_t n;
	size_t max;
	int pingpong;
	int result;
	_Atomic uint64_t sent;
};

static void *thr_consumer(void *arg)
{
	struct thr *t = arg;
	struct ipcb_end e;
	void *buf = malloc(t->max);

	t->result = -1;
	memset(&e, 0, sizeof(e));
	if (!buf || tr->attach(t->ch, &e, IPCB_ROLE_B) < 0) {
		free(buf);
		return NULL;
	}
	for (uint64_t seq = 0;; seq++) {
		int k = recv_check(&e, buf, t->max, seq, t->max, "thread consumer");
		if (k < 0)
			break;
		if (k == 1) {
			t->result = seq == t->n ? 0 : -1;
			break;
		}
		if (t->pingpong && tr->send(&e, buf, size_for(seq, t->max)) < 0)
			break;
	}
	tr->detach(&e);
	free(buf);
	return NULL;
}

static void *thr_producer(void *arg)
{
	struct thr *t = arg;
	struct ipcb_end e;
	void *buf = malloc(t->max);

	t->result = -1;
	memset(&e, 0, sizeof(e));
	if (!buf || tr->attach(t->ch, &e, IPCB_ROLE_A) < 0) {
		free(buf);
		return NULL;
	}
	int ok = 1;
	for (uint64_t seq = 0; seq < t->n && ok; seq++) {
		ok = send_seq(&e, buf, seq, t->max, 0) == 0;
		if (ok && t->pingpong)
			ok = recv_check(&e, buf, t->max, seq, t->max, "thread ping") == 0;
		atomic_fetch_add_explicit(&t->sent, 1, memory_order_relaxed);
	}
	if (ok && send_seq(&e, buf, t->n, t->max, 1) == 0)
		t->result = 0;
	tr->detach(&e);
	free(buf);
	return NULL;
}

static void thread_case(const char *mode, int batch, int pingpong, uint64_t n)
{
	struct ipcb_chan ch;
	struct thr p = { .ch = &ch, .n = n, .max = 1200, .pingpong = pingpong };
	struct thr c = p;
	pthread_t tp, tc;

	CHECK(set_opts(mode, batch, 16384, 50) == 0);
	if (setup_chan(&ch, p.max, 0) < 0) {
		CHECK(0);
		return;
	}
	CHECK(pthread_create(&tc, NULL, thr_consumer, &c) == 0);
	CHECK(pthread_create(&tp, NULL, thr_producer, &p) == 0);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	CHECKF(p.result == 0 && c.result == 0, "threads %s batch %d %s: producer %d consumer %d",
	       mode, batch, pingpong ? "ping-pong" : "stream", p.result, c.result);
	tr->teardown(&ch);
}

static void test_threads(void)
{
	for (int m = 0; m < NMODES; m++) {
		thread_case(modes[m], 1, 0, 100000 / SCALE);
		thread_case(modes[m], 1, 1, 10000 / SCALE);
	}
	thread_case("spin", 32, 0, 50001 / SCALE);
	thread_case("futex", 32, 1, 2000 / SCALE);
}

/* ---- a full ring blocks; a detached peer ends the wait ---- */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *thr_fixed_producer(void *arg)
{
	struct thr *t = arg;
	struct ipcb_end e;
	unsigned char buf[100];

	t->result = -1;
	memset(&e, 0, sizeof(e));
	if (tr->attach(t->ch, &e, IPCB_ROLE_A) < 0)
		return NULL;
	t->result = 0;
	for (uint64_t seq = 0; seq < t->n; seq++) {
		ipcb_msg_stamp(buf, sizeof(buf), seq, 0, 0, 1);
		ssize_t r = tr->send(&e, buf, sizeof(buf));
		if (r != (ssize_t)sizeof(buf)) {
			t->result = (int)r;
			break;
		}
		atomic_fetch_add_explicit(&t->sent, 1, memory_order_release);
	}
	tr->detach(&e);
	return NULL;
}

static void test_full_ring(void)
{
	for (int m = 0; m < NMODES; m++) {
		struct ipcb_chan ch;
		struct ipcb_end e;
		struct thr p = { .ch = &ch, .n = 100 };
		unsigned char buf[128];
		pthread_t tp;
		const uint64_t fit = 4096 / 128;   /* 100-byte messages (128-byte records): 32 */

		CHECK(set_opts(modes[m], 4, 4096, 20) == 0);
		if (setup_chan(&ch, 100, 0) < 0) {
			CHECK(0);
			continue;
		}
		CHECK(pthread_create(&tp, NULL, thr_fixed_producer, &p) == 0);
		sleep_ms(150);
		uint64_t s1 = atomic_load_explicit(&p.sent, memory_order_acquire);
		sleep_ms(100);
		uint64_t s2 = atomic_load_explicit(&p.sent, memory_order_acquire);
		CHECKF(s1 == fit && s2 == fit, "%s: full ring took %llu then %llu messages, holds %llu",
		       modes[m], (unsigned long long)s1, (unsigned long long)s2,
		       (unsigned long long)fit);

		/* Drain: every message intact and in order, none overwritten. */
		memset(&e, 0, sizeof(e));
		CHECK(tr->attach(&ch, &e, IPCB_ROLE_B) == 0);
		int ok = 1;
		for (uint64_t seq = 0; seq < p.n && ok; seq++) {
			uint32_t got;
			uint16_t prod;
			ssize_t r = tr->recv(&e, buf, sizeof(buf));
			ok = r == 100 && ipcb_msg_check(buf, 100, 1, &got, &prod) == IPCB_MSG_OK &&
			     got == (uint32_t)seq;
		}
		CHECKF(ok, "%s: drained messages wrong", modes[m]);
		pthread_join(tp, NULL);
		CHECK(p.result == 0);
		/* Producer gone and ring empty: end of stream, not a hang. */
		CHECK(tr->recv(&e, buf, sizeof(buf)) == 0);
		tr->detach(&e);
		tr->teardown(&ch);
	}
}

static void test_closed_peer(void)
{
	for (int m = 0; m < NMODES; m++) {
		struct ipcb_chan ch;
		struct ipcb_end e;
		struct thr p = { .ch = &ch, .n = 1000 };
		pthread_t tp;

		CHECK(set_opts(modes[m], 1, 4096, 0) == 0);
		if (setup_chan(&ch, 100, 0) < 0) {
			CHECK(0);
			continue;
		}
		memset(&e, 0, sizeof(e));
		CHECK(tr->attach(&ch, &e, IPCB_ROLE_B) == 0);
		CHECK(tr->attach(&ch, &e, IPCB_ROLE_B) == -EBUSY);   /* one consumer only */
		CHECK(pthread_create(&tp, NULL, thr_fixed_producer, &p) == 0);
		sleep_ms(100);                 /* producer blocks on the full ring */
		tr->detach(&e);                /* ... and must get -EPIPE, not hang */
		pthread_join(tp, NULL);
		CHECKF(p.result == -EPIPE, "%s: blocked producer got %d", modes[m], p.result);
		tr->teardown(&ch);
	}
}

static void test_short_buffer(void)
{
	struct ipcb_chan ch;
	struct ipcb_end a, b;
	unsigned char big[300], small[64];

	CHECK(set_opts("spin", 1, 4096, 0) == 0);
	if (open_pair(&ch, &a, &b, sizeof(big)) < 0)
		return;
	memset(big, 0x5a, sizeof(big));
	CHECK(tr->send(&a, big, sizeof(big)) == (ssize_t)sizeof(big));
	CHECK(tr->send(&a, big, 10) == 10);
	CHECK(tr->send(&a, big, 0) == -EINVAL);
	CHECK(tr->send(&a, big, 4089) == -EMSGSIZE);
	/* Too small a buffer: the message is reported, consumed, and the next one is fine. */
	CHECK(tr->recv(&b, small, sizeof(small)) == -EMSGSIZE);
	CHECK(tr->recv(&b, small, sizeof(small)) == 10 && small[9] == 0x5a);
	/* Duplex: B answers A on the other ring. */
	CHECK(tr->send(&b, small, 5) == 5);
	CHECK(tr->recv(&a, big, sizeof(big)) == 5);
	tr->detach(&a);
	CHECK(tr->recv(&b, small, sizeof(small)) == 0);          /* producer detached */
	tr->detach(&b);
	tr->teardown(&ch);
}

/* ---- stale words never read as messages ---- */

/*
 * A word left over from an earlier lap must never pass for a record (a guard for any
 * design where the consumer reads the next record's length word before, or instead of, a
 * producer index: one was tried, see the file comment of shm_ring.c). Here a 4000-byte
 * payload made of the value 8 (a valid length) fills most of a 4096-byte ring; once it is consumed,
 * 59 one-line messages (8..56 bytes) land on its old lines and wrap past the end of the
 * area. After them the consumer must see the end of the stream, not a phantom 8-byte
 * message read from the old payload. Once with and once without batching (publication
 * deferred); the producer detaches and attaches again in between (resuming where it was).
 */
static void test_stale_words(void)
{
	static const int batches[] = { 1, 4 };
	uint64_t big[500];
	unsigned char buf[4000];

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		big[i] = 8;
	for (int bi = 0; bi < 2; bi++) {
		struct ipcb_chan ch;
		struct ipcb_end a, b;
		const uint64_t n = 59;
		int ok = 1;

		CHECK(set_opts("spin", batches[bi], 4096, 0) == 0);
		if (open_pair(&ch, &a, &b, sizeof(big)) < 0)
			continue;
		CHECK(tr->send(&a, big, sizeof(big)) == (ssize_t)sizeof(big));
		tr->detach(&a);                       /* publishes a held-back batch */
		CHECK(tr->recv(&b, buf, sizeof(buf)) == (ssize_t)sizeof(big) &&
		      memcmp(buf, big, sizeof(big)) == 0);
		CHECK(tr->attach(&ch, &a, IPCB_ROLE_A) == 0);
		for (uint64_t seq = 0; seq < n && ok; seq++) {
			size_t len = 8 + (size_t)(seq % 7) * 8;       /* 8..56: one line each */
			ipcb_msg_stamp(buf, len, seq, 0, 0, 1);
			ok = tr->send(&a, buf, len) == (ssize_t)len;
		}
		CHECKF(ok, "batch %d: send of a small message failed", batches[bi]);
		tr->detach(&a);
		for (uint64_t seq = 0; seq < n && ok; seq++) {
			size_t len = 8 + (size_t)(seq % 7) * 8;
			uint32_t got = 0;
			uint16_t prod;
			ssize_t r = tr->recv(&b, buf, sizeof(buf));
			ok = r == (ssize_t)len && ipcb_msg_check(buf, len, 1, &got, &prod) == IPCB_MSG_OK &&
			     got == (uint32_t)seq;
			CHECKF(ok, "batch %d: message %llu: recv %zd (want %zu), seq %u", batches[bi],
			       (unsigned long long)seq, r, len, got);
		}
		ssize_t r = tr->recv(&b, buf, sizeof(buf));
		CHECKF(r == 0, "batch %d: after the last message recv returned %zd, want 0 (end)",
		       batches[bi], r);
		tr->detach(&b);
		tr->teardown(&ch);
	}
}

/* ---- injected faults (IPCBENCH_TEST_FAULT) are still caught through the ring ---- */

/*
 * The injector sits in ipcb_send_msg, above the transport; what this checks is that the
 * ring carries the damage through faithfully: message 5 of a stream of small (inline, one
 * line) and larger messages is dropped, sent twice or sent corrupted, and the receiver's
 * sequence and stamp checks see exactly that where it happened.
 */
static void test_faults(void)
{
	static const char *const faults[] = { "drop@5", "dup@5", "corrupt@5" };
	static const size_t sizes[] = { 40, 300 };

	for (int f = 0; f < 3; f++) {
		for (int z = 0; z < 2; z++) {
			struct ipcb_chan ch;
			struct ipcb_end a, b;
			unsigned char buf[300];
			size_t len = sizes[z];
			int found = -1, kind = 0;

			CHECK(setenv("IPCBENCH_TEST_FAULT", faults[f], 1) == 0);
			CHECK(ipcb_fault_from_env() == 0);
			CHECK(set_opts("spin", 1, 65536, 0) == 0);
			if (open_pair(&ch, &a, &b, len) < 0)
				continue;
			for (uint64_t seq = 0; seq < 10; seq++) {
				ipcb_msg_stamp(buf, len, seq, 0, 0, 1);
				CHECK(ipcb_send_msg(&a, buf, len) == 0);
			}
			tr->detach(&a);
			ipcb_test_fault.kind = IPCB_FAULT_NONE;
			for (uint64_t seq = 0; found < 0; seq++) {
				uint32_t got = 0;
				uint16_t prod;
				ssize_t r = tr->recv(&b, buf, sizeof(buf));
				if (r <= 0)
					break;
				int k = ipcb_msg_check(buf, len, 1, &got, &prod);
				if (r != (ssize_t)len || k != IPCB_MSG_OK || got != (uint32_t)seq) {
					found = (int)seq;
					kind = k == IPCB_MSG_CORRUPT ? 'c' : got < seq ? 'd' : 'l';
				}
			}
			/* a duplicate shows as the second copy of 5 where 6 was due */
			CHECKF(found == (f == 1 ? 6 : 5) && kind == "ldc"[f],
			       "%s, %zu bytes: fault seen at %d as '%c'",
			       faults[f], len, found, kind ? kind : '-');
			tr->detach(&b);
			tr->teardown(&ch);
		}
	}
	CHECK(unsetenv("IPCBENCH_TEST_FAULT") == 0);
	CHECK(ipcb_fault_from_env() == 0);
}

int main(void)
{
	alarm(250);           /* a hang (lost wake-up, held-back message) fails before ctest's 300 s */
	test_options();
	test_short_buffer();
	test_stale_words();
	test_faults();
	test_full_ring();
	test_closed_peer();
	test_threads();
	test_stream_fork();
	test_pingpong_fork();
	return TEST_END();
}
