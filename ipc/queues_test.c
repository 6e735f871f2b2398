// SPDX-License-Identifier: MIT
/*
 * The queue-like transports (fifo, posix-mq, sysv-msg, eventfd, signal) with real peers:
 * ping-pong round trips at every size each one supports, as forked processes and as
 * threads; a back-to-back stream past the queues' depth (flow control, order); several
 * producers on the queues that claim it; message boundaries and short receive buffers on
 * the datagram queues; the size limits that must SKIP (-EMSGSIZE / -ENOTSUP with a reason
 * naming the limit); the posix-mq depth option; and teardown: idempotent, leaving no FIFO
 * in /tmp, no queue in /dev/mqueue or `ipcs -q`, nothing registered, and the process's
 * signal mask and dispositions as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "names.h"
#include "opt.h"
#include "syslimits.h"
#include "testutil.h"
#include "transport.h"

#define PEER_TIMEOUT_S 30
#define MAX_PEERS 4

enum { JOB_PING, JOB_PONG, JOB_PRODUCE, JOB_CONSUME };

struct job {
	struct ipcb_chan *ch;
	int role, kind, prod, nprod;
	size_t size;
	uint64_t n;
	int rc;
	char err[160];
};

static int job_fail(struct job *j, int rc, const char *what, uint64_t i)
{
	snprintf(j->err, sizeof(j->err), "%s %s (message %llu): %s", j->ch->tr->name, what,
		 (unsigned long long)i, rc < 0 ? strerror(-rc) : "bad content");
	return rc < 0 ? rc : -EPROTO;
}

/* Receive one message and check it; returns IPCB_MSG_OK/IS_STOP or a failure. */
static int recv_checked(struct job *j, struct ipcb_end *e, void *buf, uint32_t *seq,
			uint16_t *prod)
{
	int rc = ipcb_recv_msg(e, buf, j->size);

	if (rc < 0)
		return rc;
	rc = ipcb_msg_check(buf, j->size, 1, seq, prod);
	return rc == IPCB_MSG_CORRUPT ? -EBADMSG : rc;
}

static int job_body(struct job *j, struct ipcb_end *e, unsigned char *buf)
{
	uint64_t seen[MAX_PEERS] = { 0 };
	uint32_t seq;
	uint16_t prod;
	int rc, stops = 0;

	switch (j->kind) {
	case JOB_PING:
		for (uint64_t i = 0; i < j->n; i++) {
			ipcb_msg_stamp(buf, j->size, i, 0, 0, 1);
			if ((rc = ipcb_send_msg(e, buf, j->size)) < 0)
				return job_fail(j, rc, "ping send", i);
			rc = recv_checked(j, e, buf, &seq, &prod);
			if (rc != IPCB_MSG_OK || seq != (uint32_t)i)
				return job_fail(j, rc < 0 ? rc : 0, "ping echo", i);
		}
		ipcb_msg_stamp(buf, j->size, j->n, 0, 1, 1);
		rc = ipcb_send_msg(e, buf, j->size);
		return rc < 0 ? job_fail(j, rc, "ping stop", j->n) : 0;
	case JOB_PONG:
		for (uint64_t i = 0;; i++) {
			rc = recv_checked(j, e, buf, &seq, &prod);
			if (rc < 0 || seq != (uint32_t)i)
				return job_fail(j, rc < 0 ? rc : 0, "pong receive", i);
			if (rc == IPCB_MSG_IS_STOP)
				return i == j->n ? 0 : job_fail(j, 0, "early stop", i);
			if ((rc = ipcb_send_msg(e, buf, j->size)) < 0)
				return job_fail(j, rc, "pong echo", i);
		}
	case JOB_PRODUCE:
		for (uint64_t i = 0; i <= j->n; i++) {
			ipcb_msg_stamp(buf, j->size, i, (uint16_t)j->prod, i == j->n, 1);
			if ((rc = ipcb_send_msg(e, buf, j->size)) < 0)
				return job_fail(j, rc, "produce", i);
		}
		return 0;
	case JOB_CONSUME:
		while (stops < j->nprod) {
			rc = recv_checked(j, e, buf, &seq, &prod);
			if (rc < 0 || prod >= j->nprod || seq != (uint32_t)seen[prod])
				return job_fail(j, rc < 0 ? rc : 0, "consume", seq);
			seen[prod]++;
			stops += rc == IPCB_MSG_IS_STOP;
		}
		for (int p = 0; p < j->nprod; p++)
			if (seen[p] != j->n + 1)
				return job_fail(j, 0, "consume count", seen[p]);
		return 0;
	}
	return -EINVAL;
}

static int job_run(struct job *j)
{
	const struct ipcb_transport *tr = j->ch->tr;
	struct ipcb_end e;
	unsigned char *buf = malloc(j->size);
	int rc;

	if (!buf)
		return j->rc = -ENOMEM;
	memset(&e, 0, sizeof(e));
	rc = tr->attach(j->ch, &e, j->role);
	if (rc < 0) {
		free(buf);
		snprintf(j->err, sizeof(j->err), "%s attach: %s", tr->name, strerror(-rc));
		return j->rc = rc;
	}
	rc = job_body(j, &e, buf);
	if (tr->detach)
		tr->detach(&e);
	free(buf);
	return j->rc = rc;
}

static void *job_thread(void *p)
{
	(void)job_run(p);
	return NULL;
}

/* Run the jobs (in shared memory) as forked processes or as threads; 0 when all passed. */
static int run_jobs(struct job *jobs, int n, int threads)
{
	pid_t pid[MAX_PEERS];
	pthread_t th[MAX_PEERS];
	int bad = 0;

	for (int i = 0; i < n; i++) {
		jobs[i].rc = -EINPROGRESS;
		jobs[i].err[0] = 0;
		if (threads) {
			if (pthread_create(&th[i], NULL, job_thread, &jobs[i]) != 0)
				return -EAGAIN;
			continue;
		}
		fflush(NULL);
		pid[i] = fork();
		if (pid[i] == 0) {
			alarm(PEER_TIMEOUT_S);   /* a hung peer dies instead of hanging ctest */
			_exit(job_run(&jobs[i]) == 0 ? 0 : 1);
		}
		if (pid[i] < 0)
			return -errno;
	}
	for (int i = 0; i < n; i++) {
		if (threads) {
			struct timespec dl;
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_sec += PEER_TIMEOUT_S;
			if (pthread_timedjoin_np(th[i], NULL, &dl) != 0) {
				/* A thread cannot be killed: report and end the test here. */
				fprintf(stderr, "%s:%d: peer thread %d (%s) hung for %d s\n", __FILE__,
					__LINE__, i, jobs[i].ch->tr->name, PEER_TIMEOUT_S);
				for (int k = 0; k < n; k++)
					if (jobs[k].err[0])
						fprintf(stderr, "  peer %d: %s\n", k, jobs[k].err);
				_exit(1);
			}
		} else {
			int st;
			while (waitpid(pid[i], &st, 0) < 0 && errno == EINTR)
				;
			if (!WIFEXITED(st) && jobs[i].rc == -EINPROGRESS)
				snprintf(jobs[i].err, sizeof(jobs[i].err), "peer %d died (signal %d)",
					 i, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		}
		if (jobs[i].rc != 0) {
			fprintf(stderr, "  peer %d: %s\n", i, jobs[i].err[0] ? jobs[i].err : "failed");
			bad = 1;
		}
	}
	return bad ? -EPROTO : 0;
}

static struct job *shared_jobs;

static void chan_init(struct ipcb_chan *ch, const struct ipcb_transport *tr, size_t size,
		      int n_a, int n_b)
{
	memset(ch, 0, sizeof(*ch));
	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	ch->tr = tr;
	ch->msg_size = size;
	ch->n_a = n_a;
	ch->n_b = n_b;
}

/* Counter of the next name ipcb_name_new() will hand out (names "<prefix><pid>-<n>"). */
static unsigned next_name_counter(void)
{
	char probe[IPCB_NAME_MAX];
	unsigned c = 0;
	int pid;

	if (ipcb_name_new(IPCB_NAME_MQ, probe, sizeof(probe)) == 0) {
		(void)sscanf(probe, "/" IPCB_NAME_PREFIX "%d-%u", &pid, &c);
		(void)ipcb_name_remove(IPCB_NAME_MQ, probe, -1);
	}
	return c + 1;
}

/* No queue, FIFO or System V queue of ours is left. from: first name counter of the case. */
static void check_nothing_left(const char *what, unsigned from, const int *sysv_ids)
{
	unsigned to = next_name_counter();
	char name[IPCB_NAME_MAX + 8];

	CHECKF(ipcb_names_pending() == 0, "%s: %d objects still registered", what,
	       ipcb_names_pending());
	for (unsigned c = from; c < to; c++) {
		snprintf(name, sizeof(name), "/%s%d-%u", IPCB_NAME_PREFIX, (int)getpid(), c);
		mqd_t q = mq_open(name, O_RDONLY);
		CHECKF(q == (mqd_t)-1 && errno == ENOENT, "%s: queue %s left", what, name);
		if (q != (mqd_t)-1)
			mq_close(q);
		snprintf(name, sizeof(name), "/tmp/%s%d-%u", IPCB_NAME_PREFIX, (int)getpid(), c);
		CHECKF(access(name, F_OK) < 0, "%s: %s left", what, name);
	}
	for (int i = 0; sysv_ids && i < 2; i++) {
		struct msqid_ds ds;
		CHECKF(sysv_ids[i] >= 0 && msgctl(sysv_ids[i], IPC_STAT, &ds) < 0,
		       "%s: System V queue %d left", what, sysv_ids[i]);
	}
}

/* Set up tr for size, run jobs, tear down (twice), check that nothing is left. */
static void run_case(const struct ipcb_transport *tr, size_t size, int kind, uint64_t n,
		     int nprod, int threads)
{
	struct ipcb_chan ch;
	int sysv[2] = { -1, -1 }, njobs = 0, rc;
	unsigned from = next_name_counter();
	char what[96];

	snprintf(what, sizeof(what), "%s %s %zuB %s", tr->name,
		 kind == JOB_PING ? "pingpong" : nprod > 1 ? "multi-producer" : "stream", size,
		 threads ? "threads" : "processes");
	chan_init(&ch, tr, size, kind == JOB_PING ? 1 : nprod, 1);
	rc = tr->setup(&ch);
	CHECKF(rc == 0, "%s: setup: %s (%s)", what, strerror(-rc), ch.why);
	if (rc == 0) {
		if (tr == &ipcb_transport_sysv_msg) {
			sysv[0] = ch.fd[0];
			sysv[1] = ch.fd[1];
		}
		struct job *j = shared_jobs;
		memset(j, 0, MAX_PEERS * sizeof(*j));
		if (kind == JOB_PING) {
			j[njobs++] = (struct job){ &ch, IPCB_ROLE_A, JOB_PING, 0, 1, size, n, 0, "" };
			j[njobs++] = (struct job){ &ch, IPCB_ROLE_B, JOB_PONG, 0, 1, size, n, 0, "" };
		} else {
			for (int p = 0; p < nprod; p++)
				j[njobs++] = (struct job){ &ch, IPCB_ROLE_A, JOB_PRODUCE, p, nprod,
							   size, n, 0, "" };
			j[njobs++] = (struct job){ &ch, IPCB_ROLE_B, JOB_CONSUME, 0, nprod, size, n,
						   0, "" };
		}
		CHECKF(run_jobs(j, njobs, threads) == 0, "%s: peers failed", what);
	}
	tr->teardown(&ch);
	tr->teardown(&ch);   /* idempotent */
	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		CHECKF(ch.fd[i] == -1, "%s: fd[%d] still %d after teardown", what, i, ch.fd[i]);
	CHECKF(ch.mem == NULL, "%s: mem still mapped after teardown", what);
	check_nothing_left(what, from, tr == &ipcb_transport_sysv_msg ? sysv : NULL);
}

static long proc_long(const char *path)
{
	long v = -1;

	return ipcb_read_proc_long(path, &v) < 0 ? -1 : v;
}

/* The datagram queues keep boundaries, and refuse a receive buffer too small for the
 * message; a short receive buffer that fits the message works. Both ends in one thread:
 * the queues buffer. */
static void boundaries(const struct ipcb_transport *tr, size_t size)
{
	static const size_t lens[] = { 8, 33, 100 };
	unsigned char out[8192], in[8192];
	struct ipcb_chan ch;
	struct ipcb_end a, b;
	unsigned from = next_name_counter();
	ssize_t n;

	chan_init(&ch, tr, size, 1, 1);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK(tr->setup(&ch) == 0);
	CHECK(tr->attach(&ch, &a, IPCB_ROLE_A) == 0 && tr->attach(&ch, &b, IPCB_ROLE_B) == 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + 1);
	for (int i = 0; i < 3; i++)
		CHECK(tr->send(&a, out + i, lens[i]) == (ssize_t)lens[i]);
	for (int i = 0; i < 3; i++) {
		memset(in, 0, sizeof(in));
		n = tr->recv(&b, in, size);
		CHECKF(n == (ssize_t)lens[i] && memcmp(in, out + i, lens[i]) == 0,
		       "%s: message %d: got %zd bytes, sent %zu", tr->name, i, n, lens[i]);
	}
	/* B -> A too, with a buffer shorter than the queue's message size. */
	CHECK(tr->send(&b, out, 40) == 40);
	CHECK(tr->recv(&a, in, 48) == 40 && memcmp(in, out, 40) == 0);
	/* A message longer than the buffer is refused, not cut. */
	CHECK(tr->send(&a, out, 100) == 100);
	n = tr->recv(&b, in, 50);
	CHECKF(n == -EMSGSIZE, "%s: 100-byte message into 50 bytes gave %zd", tr->name, n);
	CHECK(tr->send(&a, out, size + 1) < 0);   /* over the channel's message size */
	tr->detach(&a);
	tr->detach(&b);
	tr->teardown(&ch);
	check_nothing_left(tr->name, from, NULL);
}

static void limits(void)
{
	const struct ipcb_transport *mq = &ipcb_transport_posix_mq, *sv = &ipcb_transport_sysv_msg;
	long msgsize_max = proc_long("/proc/sys/fs/mqueue/msgsize_max");
	long msg_max = proc_long("/proc/sys/fs/mqueue/msg_max");
	long msgmax = proc_long("/proc/sys/kernel/msgmax");
	struct ipcb_chan ch;
	int rc;

	CHECK(msgsize_max > 0 && msg_max > 0 && msgmax > 0);

	chan_init(&ch, mq, (size_t)msgsize_max + 1, 1, 1);
	rc = mq->setup(&ch);
	CHECKF(rc == -EMSGSIZE, "posix-mq over msgsize_max: %d", rc);
	CHECKF(strstr(ch.why, "msgsize_max") != NULL, "posix-mq reason: '%s'", ch.why);
	mq->teardown(&ch);
	mq->teardown(&ch);
	CHECK(ipcb_names_pending() == 0);

	chan_init(&ch, sv, (size_t)msgmax + 1, 1, 1);
	rc = sv->setup(&ch);
	CHECKF(rc == -EMSGSIZE && strstr(ch.why, "msgmax") != NULL, "sysv-msg over msgmax: %d '%s'",
	       rc, ch.why);
	sv->teardown(&ch);
	CHECK(ipcb_names_pending() == 0);

	chan_init(&ch, &ipcb_transport_eventfd, 16, 1, 1);
	rc = ipcb_transport_eventfd.setup(&ch);
	CHECKF(rc == -EMSGSIZE && ch.why[0], "eventfd 16 bytes: %d '%s'", rc, ch.why);
	ipcb_transport_eventfd.teardown(&ch);

	chan_init(&ch, &ipcb_transport_signal, 8, 2, 1);
	rc = ipcb_transport_signal.setup(&ch);
	CHECKF(rc == -ENOTSUP && ch.why[0], "signal with 2 producers: %d '%s'", rc, ch.why);
	ipcb_transport_signal.teardown(&ch);
	CHECK(ch.mem == NULL);

	/* Effective parameters: sysv-msg records msg_qbytes. */
	chan_init(&ch, sv, 64, 1, 1);
	CHECK(sv->setup(&ch) == 0 && strstr(ch.effective, "msg_qbytes=") != NULL);
	sv->teardown(&ch);
	chan_init(&ch, &ipcb_transport_fifo, 64, 1, 1);
	CHECK(ipcb_transport_fifo.setup(&ch) == 0 && strstr(ch.effective, "pipe_sz=") != NULL);
	ipcb_transport_fifo.teardown(&ch);
	CHECK(ipcb_names_pending() == 0);
}

/* --posix-mq-depth reaches the queue; a depth over msg_max is a clamp: refused, naming both
 * values, or with allow_clamp (--allow-clamp) capped and recorded. */
static void mq_depth_option(void)
{
	const struct ipcb_transport *mq = &ipcb_transport_posix_mq;
	long msg_max = proc_long("/proc/sys/fs/mqueue/msg_max");
	struct ipcb_config cfg;
	struct ipcb_chan ch;
	char err[200], want[64], *pos[4];
	char a0[] = "ipcbench", a1[] = "--posix-mq-depth", d3[] = "3", dbig[] = "65536",
	     d0[] = "0", d10[24] = "10";
	char *argv1[] = { a0, a1, d3 }, *argv2[] = { a0, a1, dbig }, *argv3[] = { a0, a1, d0 };
	char *argv4[] = { a0, a1, d10 };
	int npos;

	ipcb_config_defaults(&cfg);
	CHECK(ipcb_opt_parse(&cfg, 3, argv1, 1, pos, 4, &npos, err, sizeof(err)) == 0);
	chan_init(&ch, mq, 64, 1, 1);
	CHECK(mq->setup(&ch) == 0);
	CHECKF(strstr(ch.effective, "mq_maxmsg_req=3;mq_maxmsg=3;") != NULL, "effective '%s'",
	       ch.effective);
	mq->teardown(&ch);

	CHECK(ipcb_opt_parse(&cfg, 3, argv2, 1, pos, 4, &npos, err, sizeof(err)) == 0);
	chan_init(&ch, mq, 64, 1, 1);
	CHECK(mq->setup(&ch) == -ERANGE);
	snprintf(want, sizeof(want), "--posix-mq-depth 65536 clamped to %ld", msg_max);
	CHECKF(strstr(ch.why, want) != NULL, "why '%s'", ch.why);
	CHECK(ch.effective[0] == 0 && ch.clamped[0] == 0);
	mq->teardown(&ch);
	CHECK(ipcb_names_cleanup() == 0);

	chan_init(&ch, mq, 64, 1, 1);
	ch.allow_clamp = 1;
	CHECK(mq->setup(&ch) == 0);
	snprintf(want, sizeof(want), "mq_maxmsg_req=65536;mq_maxmsg=%ld;", msg_max);
	CHECKF(strstr(ch.effective, want) != NULL, "effective '%s'", ch.effective);
	snprintf(want, sizeof(want), "--posix-mq-depth 65536 clamped to %ld", msg_max);
	CHECKF(strstr(ch.clamped, want) != NULL, "clamped '%s'", ch.clamped);
	mq->teardown(&ch);

	CHECK(ipcb_opt_parse(&cfg, 3, argv3, 1, pos, 4, &npos, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "posix-mq-depth") != NULL);
	/* back to the default depth (or msg_max, if lower) for the cases below */
	if (msg_max < 10)
		snprintf(d10, sizeof(d10), "%ld", msg_max);
	CHECK(ipcb_opt_parse(&cfg, 3, argv4, 1, pos, 4, &npos, err, sizeof(err)) == 0);
	CHECK(ipcb_names_pending() == 0);
}

/* The counter's two unrepresentable values are refused; everything else goes through,
 * including an all-zero header. */
static void eventfd_values(void)
{
	const struct ipcb_transport *tr = &ipcb_transport_eventfd;
	static const uint64_t ok[] = { 0, 1, 0xfffffffffffffffdull, 0x8000000000000000ull };
	struct ipcb_chan ch;
	struct ipcb_end a, b;
	uint64_t v;

	chan_init(&ch, tr, 8, 1, 1);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK(tr->setup(&ch) == 0);
	CHECK(tr->attach(&ch, &a, IPCB_ROLE_A) == 0 && tr->attach(&ch, &b, IPCB_ROLE_B) == 0);
	for (int i = 0; i < 4; i++) {
		CHECK(tr->send(&a, &ok[i], 8) == 8);
		v = 42;
		CHECKF(tr->recv(&b, &v, 8) == 8 && v == ok[i], "eventfd value %d: %llx", i,
		       (unsigned long long)v);
	}
	v = UINT64_MAX;
	CHECK(tr->send(&a, &v, 8) == -ERANGE);
	v = UINT64_MAX - 1;
	CHECK(tr->send(&b, &v, 8) == -ERANGE);
	CHECK(tr->send(&a, &v, 4) == -EMSGSIZE);
	tr->teardown(&ch);
	tr->teardown(&ch);
	CHECK(ch.fd[0] == -1 && ch.fd[1] == -1);
}

/* glibc adds SA_RESTORER (kernel ABI, not in <signal.h>) to every action it installs, so a
 * restored SIG_DFL reads back with it: not a difference. */
#define SA_RESTORER_BIT 0x04000000

/* The signal transport's signals as the process had them before any test ran. */
static struct sigaction sig_start[2];
static sigset_t mask_start;

static void signal_state_save(void)
{
	sigaction(SIGRTMIN + 6, NULL, &sig_start[0]);
	sigaction(SIGRTMIN + 7, NULL, &sig_start[1]);
	pthread_sigmask(SIG_SETMASK, NULL, &mask_start);
}

/* Dispositions and this thread's mask of both signals are as they were at the start. */
static int signal_state_same(void)
{
	struct sigaction now[2];
	sigset_t mask;

	sigaction(SIGRTMIN + 6, NULL, &now[0]);
	sigaction(SIGRTMIN + 7, NULL, &now[1]);
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	for (int i = 0; i < 2; i++)
		if (now[i].sa_handler != sig_start[i].sa_handler ||
		    (now[i].sa_flags & ~SA_RESTORER_BIT) != (sig_start[i].sa_flags & ~SA_RESTORER_BIT) ||
		    sigismember(&mask, SIGRTMIN + 6 + i) != sigismember(&mask_start, SIGRTMIN + 6 + i))
			return 0;
	return 1;
}

/* Signal transport in one thread: the mask and dispositions are restored, and a signal that
 * arrives after its receiver detached does not kill the process. */
static void signal_hygiene(void)
{
	const struct ipcb_transport *tr = &ipcb_transport_signal;
	struct sigaction during;
	struct ipcb_chan ch;
	struct ipcb_end a, b;
	uint64_t v = 0x1122334455667788ull, w = 0;
	sigset_t pend;

	chan_init(&ch, tr, 8, 1, 1);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK(tr->setup(&ch) == 0);
	CHECK(strstr(ch.effective, "rlimit_sigpending=") != NULL);
	sigaction(SIGRTMIN + 6, NULL, &during);
	CHECK(during.sa_handler == SIG_IGN);   /* for the case only */
	CHECK(tr->attach(&ch, &a, IPCB_ROLE_A) == 0 && tr->attach(&ch, &b, IPCB_ROLE_B) == 0);
	CHECK(tr->send(&a, &v, 8) == 8);
	CHECK(tr->recv(&b, &w, 8) == 8 && w == v);
	CHECK(tr->send(&b, &v, 8) == 8);
	CHECK(tr->send(&b, &w, 8) == 8);   /* two queued: no merging */
	w = 0;
	CHECK(tr->recv(&a, &w, 8) == 8 && w == v);
	CHECK(tr->recv(&a, &w, 8) == 8 && w == v);
	CHECK(tr->send(&a, &v, 8) == 8);   /* left pending: detach drains it */
	tr->detach(&b);
	CHECK(tr->send(&a, &v, 8) == 8);   /* receiver gone: ignored, not fatal */
	tr->detach(&a);
	tr->teardown(&ch);
	tr->teardown(&ch);
	CHECK(ch.mem == NULL);

	CHECK(signal_state_same());
	/* The ignored signal was discarded, not left pending. */
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGRTMIN + 6) && !sigismember(&pend, SIGRTMIN + 7));
}

int main(void)
{
	const struct ipcb_transport *fifo = &ipcb_transport_fifo, *mq = &ipcb_transport_posix_mq;
	const struct ipcb_transport *sv = &ipcb_transport_sysv_msg, *ev = &ipcb_transport_eventfd;
	const struct ipcb_transport *sg = &ipcb_transport_signal;
	const struct ipcb_transport *all[] = { fifo, mq, sv, ev, sg };
	size_t mq_max = (size_t)proc_long("/proc/sys/fs/mqueue/msgsize_max");
	size_t sv_max = (size_t)proc_long("/proc/sys/kernel/msgmax");
	long mnb = proc_long("/proc/sys/kernel/msgmnb");

	if (mnb > 0 && (size_t)mnb < sv_max)
		sv_max = (size_t)mnb;
	shared_jobs = mmap(NULL, MAX_PEERS * sizeof(struct job), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_jobs == MAP_FAILED)
		return 2;
	signal_state_save();

	for (int i = 0; i < 5; i++) {
		CHECKF(all[i]->unsupported == NULL || all[i]->unsupported() == NULL,
		       "%s unsupported: %s", all[i]->name, all[i]->unsupported());
		CHECK(ipcb_transport_find(all[i]->name) == all[i]);
	}
	CHECK((fifo->caps & IPCB_CAP_NAMED) && (mq->caps & IPCB_CAP_NAMED));
	CHECK((ev->caps & IPCB_CAP_ONE_IN_FLIGHT) && ev->max_msg == 8 && sg->max_msg == 8);

	for (int threads = 0; threads <= 1; threads++) {
		const size_t fifo_sizes[] = { 8, 64, 4096, 65536, 1 << 20 };
		const size_t q_sizes[] = { 8, 64, 4096 };
		for (int i = 0; i < 5; i++)
			run_case(fifo, fifo_sizes[i], JOB_PING, fifo_sizes[i] > 65536 ? 20 : 200, 1,
				 threads);
		for (int i = 0; i < 3; i++) {
			run_case(mq, q_sizes[i], JOB_PING, 200, 1, threads);
			run_case(sv, q_sizes[i], JOB_PING, 200, 1, threads);
		}
		run_case(mq, mq_max, JOB_PING, 100, 1, threads);
		run_case(sv, sv_max, JOB_PING, 100, 1, threads);
		run_case(ev, 8, JOB_PING, 500, 1, threads);
		run_case(sg, 8, JOB_PING, 500, 1, threads);

		/* back to back, far past the queues' depth: flow control and order */
		run_case(fifo, 64, JOB_PRODUCE, 20000, 1, threads);
		run_case(mq, 64, JOB_PRODUCE, 20000, 1, threads);
		run_case(sv, 64, JOB_PRODUCE, 20000, 1, threads);
		run_case(sg, 8, JOB_PRODUCE, 20000, 1, threads);
		/* several producers where the transport claims it */
		run_case(mq, 64, JOB_PRODUCE, 5000, 3, threads);
		run_case(sv, 64, JOB_PRODUCE, 5000, 3, threads);
		CHECKF(signal_state_same(), "signal mask or dispositions changed (%s)",
		       threads ? "threads" : "processes");
	}
	CHECK((mq->caps & sv->caps & (IPCB_CAP_MULTI_PROD | IPCB_CAP_MULTI_CONS)) ==
	      (IPCB_CAP_MULTI_PROD | IPCB_CAP_MULTI_CONS));

	boundaries(mq, 128);
	boundaries(sv, 128);
	limits();
	mq_depth_option();
	eventfd_values();
	signal_hygiene();
	CHECK(ipcb_names_pending() == 0);
	return TEST_END();
}
