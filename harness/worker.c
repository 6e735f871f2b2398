// SPDX-License-Identifier: MIT
/*
 * Launching one repetition of a case: workers as forked processes (default) or threads,
 * pinned to their CPUs, released together by a gate in shared memory, watched by the parent
 * until they finish, fail, hang past the deadline or the user interrupts.
 *
 * The gate is a futex on a word in the MAP_SHARED control block: each worker counts itself
 * in at `ready` and sleeps on `go`; the parent waits until every worker is in, then stores
 * go = 1 and wakes them all with one FUTEX_WAKE. Sleeping (not spinning) matters here: on a
 * machine with fewer CPUs than workers a spinning gate would steal the CPU from the very
 * worker it waits for.
 *
 * Watching processes: SIGCHLD is blocked in the parent and collected with sigtimedwait(), so
 * the parent sleeps until a child exits or the deadline passes, instead of polling (a
 * polling parent would perturb the workers on a small machine). Any worker that exits
 * non-zero, is killed by a signal, or is still running at the deadline makes the repetition
 * FAILED with that reason; the other workers are then killed and every worker is reaped.
 *
 * Threads cannot be killed: in thread mode a worker that hangs past the deadline fails the
 * repetition and sets ipcb_fatal_hang, and the runner ends the run after writing what it has.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/pattern.h"
#include "../ipc/names.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "clock.h"
#include "request.h"
#include "run.h"
#include "topo.h"

volatile int ipcb_interrupted;
int ipcb_fatal_hang;
const struct ipcb_watch_hook *ipcb_watch_hook;
static sigset_t orig_mask;

static void on_signal(int sig)
{
	ipcb_interrupted = sig;
}

void ipcb_signals_install(void)
{
	struct sigaction sa;
	sigset_t chld;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;           /* no SA_RESTART: a blocked wait returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &orig_mask);
	sigdelset(&orig_mask, SIGCHLD);
}

static long futex_op(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

/* ---- worker side ---- */

int ipcb_worker_gate(struct ipcb_wctx *w)
{
	struct ipcb_ctl *ctl = w->ctl;

	atomic_fetch_add_explicit(&ctl->ready, 1, memory_order_acq_rel);
	(void)futex_op(&ctl->ready, FUTEX_WAKE, INT_MAX, NULL);
	while (atomic_load_explicit(&ctl->go, memory_order_acquire) == 0)
		(void)futex_op(&ctl->go, FUTEX_WAIT, 0, NULL);
	if (atomic_load_explicit(&ctl->stop, memory_order_relaxed))
		return -ECANCELED;
	w->slot->cpu_first = sched_getcpu();
	w->slot->cpu_last = w->slot->cpu_first;
	ipcb_perf_start(&w->perf);   /* migrations count from here, as the samples do */
	return 0;
}

int ipcb_worker_fail(struct ipcb_wctx *w, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(w->slot->err, sizeof(w->slot->err), fmt, ap);
	va_end(ap);
	n = strlen(w->slot->err);
	if (err < 0 && n + 8 < sizeof(w->slot->err))
		snprintf(w->slot->err + n, sizeof(w->slot->err) - n, ": %s (errno %d)",
			 strerror(-err), -err);
	atomic_store(&w->slot->state, err < 0 ? err : -EPROTO);
	return err < 0 ? err : -EPROTO;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

static void usage_now(struct ipcb_wctx *w, uint64_t *ut, uint64_t *st, uint64_t *nv, uint64_t *ni)
{
	struct rusage ru;

	getrusage(w->thread_mode ? RUSAGE_THREAD : RUSAGE_SELF, &ru);
	*ut = tv_ns(ru.ru_utime);
	*st = tv_ns(ru.ru_stime);
	*nv = (uint64_t)ru.ru_nvcsw;
	*ni = (uint64_t)ru.ru_nivcsw;
}

void ipcb_worker_sample_cpu(struct ipcb_wctx *w)
{
	int cpu = sched_getcpu();

	if (cpu != w->slot->cpu_last) {
		w->slot->migrations++;
		w->slot->cpu_last = cpu;
	}
}

void ipcb_worker_begin(struct ipcb_wctx *w)
{
	struct ipcb_slot *s = w->slot;

	ipcb_worker_sample_cpu(w);
	usage_now(w, &s->utime_ns, &s->stime_ns, &s->nvcsw, &s->nivcsw);
	for (int ev = IPCB_PERF_CYCLES; ev <= IPCB_PERF_INSTRUCTIONS; ev++)
		if (ipcb_perf_read(&w->perf, ev, &w->perf.begin[ev]) < 0)
			w->perf.begin[ev] = UINT64_MAX;   /* not counted: no number at the end */
	s->t_begin_ns = ipcb_now_ns();
}

void ipcb_worker_end(struct ipcb_wctx *w)
{
	struct ipcb_slot *s = w->slot;
	uint64_t ut, st, nv, ni;

	s->t_end_ns = ipcb_now_ns();
	usage_now(w, &ut, &st, &nv, &ni);
	s->utime_ns = ut - s->utime_ns;
	s->stime_ns = st - s->stime_ns;
	s->nvcsw = nv - s->nvcsw;
	s->nivcsw = ni - s->nivcsw;
	uint64_t cyc, ins, mig;
	if (w->perf.begin[IPCB_PERF_CYCLES] != UINT64_MAX &&
	    w->perf.begin[IPCB_PERF_INSTRUCTIONS] != UINT64_MAX &&
	    ipcb_perf_read(&w->perf, IPCB_PERF_CYCLES, &cyc) == 0 &&
	    ipcb_perf_read(&w->perf, IPCB_PERF_INSTRUCTIONS, &ins) == 0) {
		s->cycles = cyc - w->perf.begin[IPCB_PERF_CYCLES];
		s->instructions = ins - w->perf.begin[IPCB_PERF_INSTRUCTIONS];
		s->perf_hw = 1;
	}
	ipcb_worker_sample_cpu(w);
	/* The scheduler's count (or perf's) saw every migration since the gate; the samples
	 * only those that had not moved back by the next sample: the larger is the truth. */
	s->migr_counted = ipcb_perf_migrations(&w->perf, &mig);
	if (s->migr_counted != IPCB_MIGR_SAMPLED && mig > s->migrations)
		s->migrations = mig > UINT32_MAX ? UINT32_MAX : (uint32_t)mig;
}

struct worker_arg {
	struct ipcb_wctx w;
	const struct ipcb_topo *topo;
	int pin;
};

static int worker_main(struct worker_arg *a)
{
	struct ipcb_wctx *w = &a->w;
	char err[200];
	int rc;

	if (a->pin && w->cpu >= 0) {
		rc = ipcb_topo_bind(a->topo, w->cpu, w->thread_mode, err, sizeof(err));
		if (rc < 0) {
			ipcb_worker_fail(w, 0, "cannot pin to CPU %d: %s", w->cpu, err);
			return rc;
		}
	}
	ipcb_perf_open(&w->perf);
	rc = w->c->pat->worker(w);
	ipcb_perf_close(&w->perf);
	if (rc == 0)
		atomic_store(&w->slot->state, 1);
	else if (atomic_load(&w->slot->state) == 0)
		ipcb_worker_fail(w, rc, "worker failed");
	return rc;
}

/* Thread mode: the parent sleeps on ctl->done (a futex) instead of polling, and learns
 * of every finished thread at once. */
static void *thread_main(void *p)
{
	struct worker_arg *a = p;

	(void)worker_main(a);
	atomic_fetch_add(&a->w.ctl->done, 1);
	(void)futex_op(&a->w.ctl->done, FUTEX_WAKE, INT_MAX, NULL);
	return NULL;
}

/* ---- parent side ---- */

struct launch {
	const struct ipcb_case *c;
	struct ipcb_ctl *ctl;
	int n;
	pid_t pid[IPCB_MAX_WORKERS];
	int done[IPCB_MAX_WORKERS];
	pthread_t th[IPCB_MAX_WORKERS];
	int thread_mode;
	int alive;
	char *reason;
	size_t rlen;
	int failed;
	struct ipcb_sync_inst *si;     /* the case's sync primitive, or NULL */
};

static const char *role_name(const struct ipcb_case *c, int i)
{
	return c->roles[i] == IPCB_ROLE_A ? "A" : "B";
}

static void kill_all(struct launch *l)
{
	if (l->thread_mode)
		return;
	for (int i = 0; i < l->n; i++)
		if (l->pid[i] > 0 && !l->done[i])
			(void)kill(l->pid[i], SIGKILL);
}

/* Record why a process ended, if it was a failure. */
static void judge_exit(struct launch *l, int i, int status)
{
	struct ipcb_slot *s = &l->ctl->slots[i];
	const struct ipcb_case *c = l->c;

	l->done[i] = 1;
	l->alive--;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && atomic_load(&s->state) == 1)
		return;
	if (l->failed)
		return;   /* keep the first reason: the others are usually its consequences */
	l->failed = 1;
	if (WIFSIGNALED(status))
		snprintf(l->reason, l->rlen, "worker %d (role %s, CPU %d) killed by signal %d (%s)",
			 i, role_name(c, i), c->cpus[i], WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (s->err[0])
		snprintf(l->reason, l->rlen, "worker %d (role %s, CPU %d): %s", i, role_name(c, i),
			 c->cpus[i], s->err);
	else
		snprintf(l->reason, l->rlen, "worker %d (role %s, CPU %d) exited with code %d", i,
			 role_name(c, i), c->cpus[i], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void reap_ready(struct launch *l)
{
	for (int i = 0; i < l->n; i++) {
		int status;
		if (l->done[i] || l->pid[i] <= 0)
			continue;
		pid_t r = waitpid(l->pid[i], &status, WNOHANG | WUNTRACED);
		if (r == l->pid[i] && WIFSTOPPED(status)) {
			/* A stopped worker would hang the case until the watchdog: fail it now
			 * (stop_and_collect kills and reaps it). */
			if (!l->failed)
				snprintf(l->reason, l->rlen, "worker %d (role %s, CPU %d) stopped by "
					 "signal %d (%s)", i, role_name(l->c, i), l->c->cpus[i],
					 WSTOPSIG(status), strsignal(WSTOPSIG(status)));
			l->failed = 1;
		} else if (r == l->pid[i]) {
			judge_exit(l, i, status);
		}
	}
}

static void reap_all_blocking(struct launch *l)
{
	for (int i = 0; i < l->n; i++) {
		int status;
		if (l->done[i] || l->pid[i] <= 0)
			continue;
		while (waitpid(l->pid[i], &status, 0) < 0 && errno == EINTR)
			;
		judge_exit(l, i, status);
	}
}

/* Thread mode: a thread has finished when its slot says so. */
static void check_threads(struct launch *l)
{
	for (int i = 0; i < l->n; i++) {
		struct ipcb_slot *s = &l->ctl->slots[i];
		int st = atomic_load(&s->state);
		if (l->done[i] || st == 0)
			continue;
		pthread_join(l->th[i], NULL);
		judge_exit(l, i, 0);
	}
}

static void wait_some(struct launch *l, uint64_t deadline_ns, uint64_t slice_ns)
{
	uint64_t now = ipcb_now_ns(), left = deadline_ns > now ? deadline_ns - now : 0;
	if (left > slice_ns)
		left = slice_ns;
	struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };

	if (l->thread_mode) {
		uint32_t d = atomic_load(&l->ctl->done);
		check_threads(l);
		if (l->alive > 0 && atomic_load(&l->ctl->done) == d)
			(void)futex_op(&l->ctl->done, FUTEX_WAIT, d, &ts);
		check_threads(l);
	} else {
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		(void)sigtimedwait(&chld, NULL, &ts);
		reap_ready(l);
	}
}

static void stop_and_collect(struct launch *l)
{
	atomic_store(&l->ctl->stop, 1);
	atomic_store(&l->ctl->go, 1);
	(void)futex_op(&l->ctl->go, FUTEX_WAKE, INT_MAX, NULL);
	if (l->thread_mode) {
		/* Threads that never reach an exit cannot be stopped; give them a moment. */
		uint64_t until = ipcb_now_ns() + 1000000000u;
		while (l->alive > 0 && ipcb_now_ns() < until)
			wait_some(l, until, 10000000u);
		if (l->alive > 0)
			ipcb_fatal_hang = 1;
		return;
	}
	kill_all(l);
	reap_all_blocking(l);
}

static enum ipcb_verdict launch_and_watch(struct launch *l, const struct ipcb_topo *topo,
					  struct ipcb_chan *ch)
{
	const struct ipcb_case *c = l->c;
	const struct ipcb_config *cfg = c->cfg;
	uint64_t deadline = ipcb_now_ns() + cfg->timeout_ns;
	pid_t parent = getpid();
	static struct worker_arg args[IPCB_MAX_WORKERS];

	fflush(NULL);
	for (int i = 0; i < l->n; i++) {
		struct worker_arg *a = &args[i];
		memset(a, 0, sizeof(*a));
		a->w.id = i;
		a->w.role = c->roles[i];
		a->w.cpu = c->cpus[i];
		a->w.thread_mode = l->thread_mode;
		a->w.c = c;
		a->w.ch = ch;
		a->w.si = l->si;
		a->w.ctl = l->ctl;
		a->w.slot = &l->ctl->slots[i];
		a->topo = topo;
		a->pin = !cfg->unpinned;
		if (l->thread_mode) {
			int rc = pthread_create(&l->th[i], NULL, thread_main, a);
			if (rc != 0) {
				snprintf(l->reason, l->rlen, "cannot start worker thread %d: %s", i,
					 strerror(rc));
				l->failed = 1;
				break;
			}
		} else {
			pid_t pid = fork();
			if (pid < 0) {
				snprintf(l->reason, l->rlen, "cannot fork worker %d: %s (errno %d)", i,
					 strerror(errno), errno);
				l->failed = 1;
				break;
			}
			if (pid == 0) {
				signal(SIGINT, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				sigprocmask(SIG_SETMASK, &orig_mask, NULL);
				(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != parent)
					_exit(3);
				_exit(worker_main(a) == 0 ? 0 : 1);
			}
			l->pid[i] = pid;
		}
		l->alive++;
	}
	if (l->failed) {
		l->n = l->alive;   /* only those started */
		stop_and_collect(l);
		return IPCB_FAILED;
	}

	/* Gate: wait until every worker is in. */
	for (;;) {
		uint32_t r = atomic_load(&l->ctl->ready);
		if ((int)r >= l->n)
			break;
		if (ipcb_interrupted || l->failed || ipcb_now_ns() >= deadline)
			break;
		struct timespec ts = { 0, 10000000 };
		(void)futex_op(&l->ctl->ready, FUTEX_WAIT, r, &ts);
		if (l->thread_mode)
			check_threads(l);
		else
			reap_ready(l);
	}
	if (!l->failed && !ipcb_interrupted && (int)atomic_load(&l->ctl->ready) >= l->n) {
		l->ctl->t_go_ns = ipcb_now_ns();
		atomic_store_explicit(&l->ctl->go, 1, memory_order_release);
		(void)futex_op(&l->ctl->go, FUTEX_WAKE, INT_MAX, NULL);
		const struct ipcb_watch_hook *hk = l->thread_mode ? NULL : ipcb_watch_hook;
		while (l->alive > 0 && !l->failed && !ipcb_interrupted && ipcb_now_ns() < deadline) {
			wait_some(l, deadline, hk ? hk->every_ns : 1000000000u);
			if (hk && l->alive > 0 && !l->failed)
				hk->fn(hk->arg, c, l->pid, l->done, l->n, l->ctl->t_go_ns);
		}
	}

	if (ipcb_interrupted) {
		stop_and_collect(l);
		snprintf(l->reason, l->rlen, "interrupted by signal %d", ipcb_interrupted);
		return IPCB_INTERRUPTED;
	}
	if (l->alive > 0 && !l->failed) {
		char who[256] = "";
		size_t off = 0;
		for (int i = 0; i < l->n && off < sizeof(who) - 16; i++)
			if (!l->done[i])
				off += (size_t)snprintf(who + off, sizeof(who) - off, "%s%d",
							off ? "," : "", i);
		snprintf(l->reason, l->rlen, "timeout after %.1f s: worker(s) %s still running%s",
			 (double)cfg->timeout_ns / 1e9, who,
			 atomic_load(&l->ctl->ready) < (uint32_t)l->n ? " (never reached the start gate)" : "");
		l->failed = 1;
	}
	if (l->failed) {
		stop_and_collect(l);
		return IPCB_FAILED;
	}
	return IPCB_OK;
}

/* Pinning that the OS silently ignored would make every number a lie about placement: each
 * pinned worker must have been seen on its CPU at the gate, at the end and at every sample
 * in between. */
static enum ipcb_verdict check_pinning(const struct ipcb_case *c, const struct ipcb_ctl *ctl,
				       char *reason, size_t rlen)
{
	for (int i = 0; i < c->nworkers; i++) {
		const struct ipcb_slot *s = &ctl->slots[i];
		if (c->cpus[i] < 0 || s->cpu_first < 0)
			continue;   /* unpinned, or a pattern that never reached the gate */
		if (s->cpu_first != c->cpus[i] || s->cpu_last != c->cpus[i] || s->migrations) {
			snprintf(reason, rlen, "pinning did not hold: worker %d was assigned CPU %d "
				 "but ran on CPU %d (then %d, %u migrations %s)", i, c->cpus[i],
				 s->cpu_first, s->cpu_last, s->migrations,
				 s->migr_counted ? "counted" : "seen");
			return IPCB_FAILED;
		}
	}
	return IPCB_OK;
}

enum ipcb_verdict ipcb_rep_run(const struct ipcb_case *c, const struct ipcb_topo *topo,
			       struct ipcb_ctl **ctl_out, size_t *ctl_len, char *effective,
			       size_t efflen, char *mem_applied, size_t memlen, char *reason,
			       size_t rlen)
{
	const struct ipcb_config *cfg = c->cfg;
	size_t len = sizeof(struct ipcb_ctl) + (size_t)c->nworkers * sizeof(struct ipcb_slot);
	struct ipcb_mem_req req = cfg->mem_req;
	struct ipcb_chan ch;
	static struct launch l;
	enum ipcb_verdict v;
	int rc;

	*ctl_out = NULL;
	reason[0] = 0;
	effective[0] = 0;
	/* The counters' probes cache their answers: ask here, before any worker (a thread,
	 * maybe) would ask at the same time. */
	(void)ipcb_perf_hw_unsupported();
	(void)ipcb_perf_migr_method();
	/* The control block lives near the consumer (the first B worker), else worker 0. */
	req.local_cpu = c->cpus[0];
	for (int i = 0; i < c->nworkers; i++)
		if (c->roles[i] == IPCB_ROLE_B) {
			req.local_cpu = c->cpus[i];
			break;
		}
	struct ipcb_ctl *ctl = ipcb_mem_alloc(len, &req, mem_applied, memlen);
	if (!ctl) {
		snprintf(reason, rlen, "cannot map %zu bytes of shared memory: %s (errno %d)", len,
			 strerror(errno), errno);
		return IPCB_FAILED;
	}
	memset(&ch, 0, sizeof(ch));
	for (int i = 0; i < IPCB_CHAN_FDS; i++)
		ch.fd[i] = -1;
	ch.allow_clamp = cfg->allow_clamp;
	/* Where the control block's pages really are, judged like any request the kernel
	 * may not grant; its clamp, if allowed, goes first in ch.clamped. */
	char ctl_eff[160];
	rc = ipcb_request_mem(&ch, "--mem (ctl)", ctl, len, mem_applied, ctl_eff, sizeof(ctl_eff));
	if (rc < 0) {
		snprintf(reason, rlen, "%s", ch.why);
		ipcb_mem_free(ctl, len);
		return IPCB_FAILED;
	}
	ctl->nworkers = c->nworkers;
	for (int i = 0; i < c->nworkers; i++) {
		ipcb_hist_init(&ctl->slots[i].hist);
		ctl->slots[i].cpu_first = ctl->slots[i].cpu_last = -1;
	}

	if (c->tr) {
		ch.tr = c->tr;
		ch.mem_req = &req;
		ch.msg_size = c->size;
		for (int i = 0; i < c->nworkers; i++) {
			if (c->roles[i] == IPCB_ROLE_A)
				ch.n_a++;
			else
				ch.n_b++;
		}
		/* Workers of both roles on one CPU (or unpinned): a spinning wait would only
		 * measure the scheduler's time slice, so the transport must know. */
		for (int i = 0; i < c->nworkers && !ch.cpus_shared; i++)
			for (int j = 0; j < c->nworkers; j++)
				if (c->roles[i] != c->roles[j] &&
				    (c->cpus[i] < 0 || c->cpus[i] == c->cpus[j]))
					ch.cpus_shared = 1;
		rc = c->tr->setup(&ch);
		if (rc < 0) {
			int skip = rc == -EMSGSIZE || rc == -ENOTSUP;
			if (ch.why[0])
				snprintf(reason, rlen, "%s: %s", c->tr->name, ch.why);
			else
				snprintf(reason, rlen, "%s: setup failed: %s (errno %d)", c->tr->name,
					 strerror(-rc), -rc);
			c->tr->teardown(&ch);
			(void)ipcb_names_cleanup();
			ipcb_mem_free(ctl, len);
			return skip ? IPCB_SKIPPED : IPCB_FAILED;
		}
		snprintf(effective, efflen, "%s", ch.effective);
	}
	/* A sync primitive and the pattern's data beside it (static: hung threads keep it). */
	static struct ipcb_sync_inst si;
	memset(&si, 0, sizeof(si));
	size_t el = strlen(effective);
	if (c->sy) {
		char sy_eff[96];
		rc = ipcb_sync_inst_new(&si, c->sy, c->nworkers, c->sync_data, &req, reason, rlen);
		if (rc < 0) {
			(void)ipcb_names_cleanup();
			ipcb_mem_free(ctl, len);
			return rc == -ENOTSUP ? IPCB_SKIPPED : IPCB_FAILED;
		}
		/* The lock and the shared values live here: verified like a transport's rings. */
		rc = ipcb_request_mem(&ch, "--mem (sync)", si.map, si.map_len, si.applied, sy_eff,
				      sizeof(sy_eff));
		if (rc < 0) {
			snprintf(reason, rlen, "%s", ch.why);
			ipcb_sync_inst_free(&si);
			(void)ipcb_names_cleanup();
			ipcb_mem_free(ctl, len);
			return IPCB_FAILED;
		}
		snprintf(effective + el, efflen - el, "%smem_chan=%s", el ? ";" : "", sy_eff);
		el = strlen(effective);
	}
	snprintf(ctl->clamped, sizeof(ctl->clamped), "%s", ch.clamped);
	snprintf(effective + el, efflen - el, "%smem=%s", el ? ";" : "", ctl_eff);

	memset(&l, 0, sizeof(l));
	l.si = c->sy ? &si : NULL;
	l.c = c;
	l.ctl = ctl;
	l.n = c->nworkers;
	l.thread_mode = cfg->thread_mode;
	l.reason = reason;
	l.rlen = rlen;
	v = launch_and_watch(&l, topo, &ch);
	if (v == IPCB_OK && !cfg->unpinned)
		v = check_pinning(c, ctl, reason, rlen);

	if (c->tr)
		c->tr->teardown(&ch);
	if (c->sy && !ipcb_fatal_hang)
		ipcb_sync_inst_free(&si);
	/* A transport's teardown removes its named objects; whatever it missed goes here, and
	 * is reported (a leak is a bug in that transport). */
	if (ipcb_names_pending() > 0 && ipcb_names_cleanup() > 0 && v == IPCB_OK) {
		snprintf(reason, rlen, "could not remove the case's named IPC objects");
		v = IPCB_FAILED;
	}
	if (v != IPCB_OK) {
		if (!ipcb_fatal_hang)
			ipcb_mem_free(ctl, len);   /* hung threads may still touch it: keep it */
		return v;
	}
	*ctl_out = ctl;
	*ctl_len = len;
	return IPCB_OK;
}

void ipcb_rep_free(struct ipcb_ctl *ctl, size_t len)
{
	if (ctl)
		ipcb_mem_free(ctl, len);
}
