// SPDX-License-Identifier: MIT
/*
 * Real-time signals as a message channel: each 8-byte message rides in the union sigval of
 * one queued signal (sigqueue(3)), SIGRTMIN+6 for A->B and SIGRTMIN+7 for B->A. Real-time
 * signals of one number are queued and delivered in the order sent, so boundaries and order
 * are kept and nothing merges. This measures the kernel's signal queueing and delivery path
 * with a synchronous receiver: no handler runs, the receiving thread keeps its signal
 * blocked and takes it with sigwaitinfo(2).
 *
 * Addressing: a signal goes to a process or a thread, not to a channel, so each end
 * publishes its pid and thread id in a small MAP_SHARED block that setup maps (ch->mem), and
 * a sender looks its peer up once, at its first send. Attach does not wait for the peer:
 * every worker attaches before the start gate and nobody sends before the gate opens, so
 * the peer has published by then (the lookup still waits, bounded, for callers without a
 * gate). A peer in another single-threaded process (process mode) gets a process-directed
 * sigqueue(3); a peer thread of our own process (thread mode) gets a thread-directed
 * rt_tgsigqueueinfo(2), since a process-directed signal could be taken by any thread that
 * does not block it. Hence one A and one B worker only.
 *
 * Safety: a signal must be blocked before it can arrive, or its default action (terminate)
 * would kill the receiver; attach blocks it before publishing the ids. For the duration of
 * the case the parent sets both signals to SIG_IGN (restored by teardown): a blocked signal
 * is still queued for sigwaitinfo, but one that arrives after its receiver unblocked it
 * (a sender still running after a failed receiver detached) is discarded instead of killing
 * the process, which in thread mode is ipcbench itself. Detach drains what is pending and
 * unblocks the signal again, so a thread's mask and the process's handlers end as they were.
 *
 * Flow control: a full signal queue (RLIMIT_SIGPENDING, per user; recorded) makes sigqueue
 * fail with EAGAIN; the sender yields and retries, so send blocks like the other transports.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

#define SIGNAL_MSG 8u
#define SIGNAL_FIRST 6             /* A->B uses SIGRTMIN+6, B->A SIGRTMIN+7 */
#define SIGNAL_PEER_WAIT_NS 10000000000ull

enum { DIR_AB, DIR_BA };

/* Shared by the parent and the workers (MAP_SHARED | MAP_ANONYMOUS). */
struct signal_shared {
	_Atomic int32_t pid[2];   /* process of each role's receiving thread; 0 = not published */
	_Atomic int32_t tid[2];   /* that thread */
	int holds_dispositions;   /* parent only: this channel counts in signal_users */
};

/* One worker's end. */
struct signal_end {
	struct signal_shared *sh;
	int role, sig_tx, sig_rx;
	pid_t self_pid;
	uid_t self_uid;
	pid_t peer_pid, peer_tid;  /* 0 until the first send looked the peer up */
	int direct;                /* 1: thread-directed (rt_tgsigqueueinfo) */
	sigset_t rx_set;
	int was_blocked;           /* sig_rx was already blocked before attach */
};

/* Dispositions saved by the first channel set up, restored when the last is torn down
 * (setup and teardown run in the parent only, one at a time). */
static int signal_users;
static struct sigaction signal_saved[2];

static int signal_of(int dir)
{
	return SIGRTMIN + SIGNAL_FIRST + dir;
}

static const char *signal_unsupported(void)
{
	if (sizeof(union sigval) < SIGNAL_MSG)
		return "union sigval is narrower than the 8-byte message header on this ABI";
	if (SIGRTMIN + SIGNAL_FIRST + 1 > SIGRTMAX)
		return "too few real-time signals (needs SIGRTMIN+7 <= SIGRTMAX)";
	return NULL;
}

static int signal_setup(struct ipcb_chan *ch)
{
	struct signal_shared *sh;
	struct sigaction ign;
	struct rlimit rl;

	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch->fd[i] = -1;
	if (ch->n_a != 1 || ch->n_b != 1) {
		snprintf(ch->why, sizeof(ch->why), "each direction is one signal to one waiting "
			 "thread: one A and one B worker only (this case has %d and %d)", ch->n_a,
			 ch->n_b);
		return -ENOTSUP;
	}
	if (ch->msg_size != SIGNAL_MSG) {
		snprintf(ch->why, sizeof(ch->why), "a queued signal carries one 8-byte sigval, not "
			 "a %zu-byte message", ch->msg_size);
		return -EMSGSIZE;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	ch->mem = sh;
	ch->mem_len = sizeof(*sh);   /* zero-filled: nobody published */

	if (signal_users == 0) {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		for (int d = DIR_AB; d <= DIR_BA; d++) {
			if (sigaction(signal_of(d), &ign, &signal_saved[d]) < 0) {
				int err = errno;
				if (d == DIR_BA)
					(void)sigaction(signal_of(DIR_AB), &signal_saved[DIR_AB], NULL);
				return -err;
			}
		}
	}
	signal_users++;
	sh->holds_dispositions = 1;

	if (getrlimit(RLIMIT_SIGPENDING, &rl) < 0)
		return -errno;
	if (rl.rlim_cur == RLIM_INFINITY)
		snprintf(ch->effective, sizeof(ch->effective), "rlimit_sigpending=unlimited;"
			 "sig_ab=%d;sig_ba=%d", signal_of(DIR_AB), signal_of(DIR_BA));
	else
		snprintf(ch->effective, sizeof(ch->effective), "rlimit_sigpending=%llu;"
			 "sig_ab=%d;sig_ba=%d", (unsigned long long)rl.rlim_cur,
			 signal_of(DIR_AB), signal_of(DIR_BA));
	return 0;
}

static int signal_attach(struct ipcb_chan *ch, struct ipcb_end *e, int role)
{
	struct signal_end *pe;
	sigset_t old;
	int rc;

	if (!ch->mem)
		return -EINVAL;
	pe = calloc(1, sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	pe->sh = ch->mem;
	pe->role = role;
	pe->sig_rx = signal_of(role == IPCB_ROLE_A ? DIR_BA : DIR_AB);
	pe->sig_tx = signal_of(role == IPCB_ROLE_A ? DIR_AB : DIR_BA);
	pe->self_pid = getpid();
	pe->self_uid = getuid();
	sigemptyset(&pe->rx_set);
	sigaddset(&pe->rx_set, pe->sig_rx);
	/* Block first: once the ids are published a signal may come at any moment. */
	rc = pthread_sigmask(SIG_BLOCK, &pe->rx_set, &old);
	if (rc != 0) {
		free(pe);
		return -rc;
	}
	pe->was_blocked = sigismember(&old, pe->sig_rx) == 1;
	atomic_store_explicit(&pe->sh->tid[role], (int32_t)gettid(), memory_order_relaxed);
	atomic_store_explicit(&pe->sh->pid[role], (int32_t)pe->self_pid, memory_order_release);
	e->ch = ch;
	e->role = role;
	e->rfd = -1;
	e->wfd = -1;
	e->priv = pe;
	return 0;
}

/* Look the peer up (it published in attach). Returns 0, or -ETIMEDOUT if it never did. */
static int signal_find_peer(struct signal_end *pe)
{
	int peer = pe->role == IPCB_ROLE_A ? IPCB_ROLE_B : IPCB_ROLE_A;
	struct timespec t0, t;
	int32_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((pid = atomic_load_explicit(&pe->sh->pid[peer], memory_order_acquire)) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)t.tv_nsec -
		    (uint64_t)t0.tv_nsec > SIGNAL_PEER_WAIT_NS)
			return -ETIMEDOUT;
		(void)sched_yield();
	}
	pe->peer_tid = atomic_load_explicit(&pe->sh->tid[peer], memory_order_relaxed);
	pe->peer_pid = pid;
	/* Our own process, or a thread that is not its process's main thread: address the
	 * thread itself. */
	pe->direct = pid == pe->self_pid || pe->peer_tid != pid;
	return 0;
}

static int signal_queue(struct signal_end *pe, union sigval v)
{
	siginfo_t si;

	if (!pe->direct)
		return sigqueue(pe->peer_pid, pe->sig_tx, v);
	/* What sigqueue(3) fills in, sent to one thread. */
	memset(&si, 0, sizeof(si));
	si.si_signo = pe->sig_tx;
	si.si_code = SI_QUEUE;
	si.si_pid = pe->self_pid;
	si.si_uid = pe->self_uid;
	si.si_value = v;
	return (int)syscall(SYS_rt_tgsigqueueinfo, pe->peer_pid, pe->peer_tid, pe->sig_tx, &si);
}

static ssize_t signal_send(struct ipcb_end *e, const void *buf, size_t len)
{
	struct signal_end *pe = e->priv;
	union sigval v;
	int rc;

	if (len != SIGNAL_MSG)
		return -EMSGSIZE;
	if (pe->peer_pid == 0 && (rc = signal_find_peer(pe)) < 0)
		return rc;
	memcpy(&v, buf, SIGNAL_MSG);
	while (signal_queue(pe, v) < 0) {
		if (errno != EAGAIN)
			return -errno;
		(void)sched_yield();   /* the receiver's queue is full: let it drain */
	}
	return (ssize_t)len;
}

static ssize_t signal_recv(struct ipcb_end *e, void *buf, size_t len)
{
	struct signal_end *pe = e->priv;
	siginfo_t si;

	if (len < SIGNAL_MSG)
		return -EMSGSIZE;
	do {
		if (sigwaitinfo(&pe->rx_set, &si) < 0)
			return -errno;
	} while (si.si_code != SI_QUEUE);   /* a kill(2) from outside carries no message */
	memcpy(buf, &si.si_value, SIGNAL_MSG);
	return SIGNAL_MSG;
}

static void signal_detach(struct ipcb_end *e)
{
	struct signal_end *pe = e->priv;
	const struct timespec zero = { 0, 0 };

	if (!pe)
		return;
	atomic_store(&pe->sh->pid[pe->role], 0);
	atomic_store(&pe->sh->tid[pe->role], 0);
	/* Take whatever is still queued for us, then unblock. Anything later is ignored. */
	while (sigtimedwait(&pe->rx_set, NULL, &zero) > 0)
		;
	if (!pe->was_blocked)
		(void)pthread_sigmask(SIG_UNBLOCK, &pe->rx_set, NULL);
	free(pe);
	e->priv = NULL;
}

static void signal_teardown(struct ipcb_chan *ch)
{
	struct signal_shared *sh = ch->mem;

	if (!sh)
		return;
	if (sh->holds_dispositions) {
		sh->holds_dispositions = 0;
		if (--signal_users == 0)
			for (int d = DIR_AB; d <= DIR_BA; d++)
				(void)sigaction(signal_of(d), &signal_saved[d], NULL);
	}
	(void)munmap(ch->mem, ch->mem_len);
	ch->mem = NULL;
	ch->mem_len = 0;
}

const struct ipcb_transport ipcb_transport_signal = {
	.name = "signal",
	.summary = "real-time signals with a sigqueue payload, one signal number per direction",
	.caps = IPCB_CAP_DGRAM | IPCB_CAP_DUPLEX,
	.max_msg = SIGNAL_MSG,
	.unsupported = signal_unsupported,
	.setup = signal_setup,
	.attach = signal_attach,
	.send = signal_send,
	.recv = signal_recv,
	.detach = signal_detach,
	.teardown = signal_teardown,
};
