// SPDX-License-Identifier: MIT
/*
 * ipcbench stress: a long mixed run that checks integrity, not speed.
 *
 * What runs. The planner's stream, pingpong and prodcons cases for every usable transport
 * (or --mech), at sizes 8, 64 and 4K (or --sizes; 8 bytes lets eventfd and signal in), each
 * repetition short (10 ms warm-up, 30 ms measured), until --duration has passed (60 s; 10 s
 * with --quick). The cases run in several lanes at once (--stress-lanes; default one lane per
 * two CPUs of the budget, at least 2: most cases have two workers, so every CPU has work).
 * The cases are interleaved by pattern, then by mechanism, and dealt to the lanes in turn, so
 * lanes hold different mechanisms and patterns and those overlap in time; each lane runs its
 * share round-robin. A lane is a forked sub-parent process that runs its cases with the
 * ordinary ipcb_rep_run(): its static state (control block, launch, sync instance) is per
 * process, and the gate, the watchdog, the pinning check and the cleanup are the ones every
 * normal run uses, not a second runner. A lane moves its cases' CPUs around the CPU list by
 * lane * CPUs / lanes (not with --cpus or cases that chose their own CPUs), so that lanes do
 * not all start on the first CPUs. Every message carries a sequence number and a stamp,
 * and every pattern's finish() checks its counters, exactly as in `ipcbench run`.
 *
 * How the lanes report. Counters go into MAP_SHARED memory, one block per lane written only
 * by that lane: per mechanism the repetitions, messages, errors, lost/dup/corrupt, peak RSS,
 * faults injected and detected; per lane its peak RSS, its fds at its start and end, and the
 * faults per kind with their slowest detection. The parent reads the blocks for the progress
 * lines while the lanes run (a count may lag by a repetition) and sums them once every lane
 * has been reaped. Rows (FAILED, SKIPPED, PARTIAL) travel as fixed-size records through one
 * pipe (each record is below PIPE_BUF, so writes from several lanes never interleave); the
 * parent writes them to the sinks as they arrive. How many cases were in progress at once
 * (a lane's case counts from its set-up to its tear-down) is measured, not assumed: each lane
 * flags itself while in a case and counts the flags when it starts one (the peak), and adds
 * up its time in cases (the mean: busy time of all lanes / wall time).
 *
 * Ends. A lane stops at --duration and exits. SIGINT or SIGTERM to the parent is passed to
 * every lane: each stops its workers and cleans up as a normal run does, sends its PARTIAL
 * row and exits; the parent then writes the totals so far and exits 128+N. A lane that dies
 * (killed, or any exit but a clean one) is a failure with its own FAILED row; its workers die
 * with it (PR_SET_PDEATHSIG) and are reaped by the parent (a child subreaper), and the named
 * and System V objects it left are removed from its cleanup list, which it keeps in shared
 * memory for that (ipc/names.h), and by the stale sweep; the other lanes run on to the end.
 * Its cases are not taken over. If the parent is killed, lanes get SIGTERM and clean up.
 *
 * What is counted, per mechanism: repetitions, messages handled (ops), repetitions that
 * failed without an injected fault (errors), lost / duplicated-or-reordered / corrupt
 * messages from the workers' slots (zero expected, except loss on a LOSSY transport, which
 * is reported and not an error), and the peak RSS of its workers: in process mode the largest
 * VmHWM of its worker processes, sampled by the lane while they run; in thread mode the
 * workers are threads of the lane, so the lane's own VmHWM over the repetition (reset through
 * /proc/self/clear_refs before it). For the run: the open file descriptors of the parent and
 * of each lane at the start and at the end (equal expected), the peak RSS of the parent, of
 * each lane and of the largest lane or worker (getrusage of the reaped children), and the
 * faults injected and detected per kind.
 *
 * Fault injection (--inject KINDS at --inject-rate N/s, kinds taken in turn). One schedule
 * for all lanes, in one shared word (the next fault's due time and kind, claimed with a
 * compare-and-swap, so a killed lane cannot leave it locked): a fault falls due every 1/N s
 * and the first lane starting a repetition it fits takes it:
 *   kill-worker    SIGKILL to one worker, between 2 ms after the gate and half the measured
 *                  time (no worker can have finished by then); detected = the repetition
 *                  FAILED (the watchdog sees the signal);
 *   stop-worker    SIGSTOP instead; detected = FAILED (worker.c reaps with WUNTRACED and
 *                  fails the case at once, the watchdog timeout being the bound); the
 *                  slowest signal-to-verdict time of each kind is reported (detect_ns_max);
 *   slow-consumer  every receiving end sleeps 20 ms at its 8th message (the transport's
 *                  test hook, stall@N); detected = the stall happened and the case still
 *                  passed its integrity check;
 *   full-queue     the same for 100 ms, on stream and prodcons only, so the queue fills and
 *                  producers must block, not fail; detected as for slow-consumer.
 * A fault that could not take effect (the repetition ended first) stays with its lane for
 * the lane's next repetition that fits. Injected faults never make the exit status 1; a
 * fault injected but not detected does.
 *
 * A repetition whose finish() reports only an empty measured window (it checks integrity
 * first, so integrity held) is counted as "unmeasured", not as an error: stress checks
 * integrity, and a 30 ms window can pass while a consumer is stalled or the machine busy.
 *
 * Output, in the normal CSV schema (results/README.md, "Stress rows"): count rows with
 * bench=stress, rep 1, status ok, one metric a row, and a FAILED verdict row (no value) for
 * what failed; a FAILED row per failed repetition (with "injected <kind>: " before the
 * reason when a fault caused it); progress lines on stderr every 2 s; a summary on stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench/pattern.h"
#include "../ipc/names.h"
#include "../ipc/transport.h"
#include "clock.h"
#include "opt.h"
#include "plan.h"
#include "sink.h"
#include "rundir.h"
#include "stress.h"
#include "topo.h"

#define CASE_WARMUP_S 0.01
#define CASE_DURATION_S 0.03
#define HOOK_EVERY_NS 2000000u
#define INJECT_AFTER_NS 2000000u
#define STALL_AT 8
#define SLOW_STALL_NS 20000000u
#define FULL_STALL_NS 100000000u
/* A finish() verdict that is about the measurement, not integrity (see below). */
#define UNMEASURED "no message arrived inside the measured window"
#define PROGRESS_EVERY_NS 2000000000u
#define MAX_MECHS 64

enum fault_kind { FK_KILL, FK_STOP, FK_SLOW, FK_FULL, FK_N };
static const char *const fault_names[FK_N] = { "kill-worker", "stop-worker", "slow-consumer",
					       "full-queue" };

static struct {
	double total_s;
	int kinds[16], nkinds;
} prep;

static int kind_find(const char *s, size_t len)
{
	for (int k = 0; k < FK_N; k++)
		if (strlen(fault_names[k]) == len && strncmp(fault_names[k], s, len) == 0)
			return k;
	return -1;
}

int ipcb_stress_prepare(struct ipcb_config *cfg, char *err, size_t errlen)
{
	static const char *const ok_benches[] = { "pingpong", "stream", "prodcons" };

	prep.total_s = cfg->duration_s > 0 ? cfg->duration_s : cfg->quick ? 10 : 60;
	prep.nkinds = 0;
	if (cfg->all) {
		snprintf(err, errlen, "ipcbench: stress runs its own mix: drop --all");
		return -EINVAL;
	}
	if (cfg->reps) {
		snprintf(err, errlen, "ipcbench: stress: --reps does not apply (cases run in turn "
			 "until --duration has passed)");
		return -EINVAL;
	}
	if (cfg->rate > 0) {
		snprintf(err, errlen, "ipcbench: stress: --rate does not apply (closed loops only)");
		return -EINVAL;
	}
	if (cfg->benches) {
		const char *p = cfg->benches;
		while (p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			int found = 0;
			for (size_t i = 0; i < sizeof(ok_benches) / sizeof(ok_benches[0]); i++)
				found |= strlen(ok_benches[i]) == len && !strncmp(ok_benches[i], p, len);
			if (!found) {
				snprintf(err, errlen, "ipcbench: stress: bench '%.*s' is not one of "
					 "pingpong, stream, prodcons", (int)len, p);
				return -EINVAL;
			}
			p = comma ? comma + 1 : NULL;
		}
	} else {
		cfg->benches = "pingpong,stream,prodcons";
	}
	if (cfg->inject) {
		const char *p = cfg->inject;
		while (p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			int k = kind_find(p, len);
			if (k < 0 || prep.nkinds >= (int)(sizeof(prep.kinds) / sizeof(prep.kinds[0]))) {
				snprintf(err, errlen, "ipcbench: --inject: %s '%.*s' (known: kill-worker, "
					 "stop-worker, slow-consumer, full-queue; at most 16)",
					 k < 0 ? "unknown fault" : "too many faults in", (int)len, p);
				return -EINVAL;
			}
			if ((k == FK_KILL || k == FK_STOP) && cfg->mode && !strcmp(cfg->mode, "thread")) {
				snprintf(err, errlen, "ipcbench: --inject %s needs worker processes: "
					 "threads cannot be killed or stopped alone (drop --mode thread)",
					 fault_names[k]);
				return -EINVAL;
			}
			prep.kinds[prep.nkinds++] = k;
			p = comma ? comma + 1 : NULL;
		}
	} else if (cfg->inject_rate > 0) {
		snprintf(err, errlen, "ipcbench: --inject-rate needs --inject KINDS");
		return -EINVAL;
	}
	if (!(cfg->inject_rate > 0))
		cfg->inject_rate = 1;
	/* Per-case settings: short repetitions, each case once per turn of its lane. */
	cfg->reps = 1;
	cfg->duration_s = CASE_DURATION_S;
	if (cfg->warmup_s < 0)
		cfg->warmup_s = CASE_WARMUP_S;
	if (!cfg->sizes)
		cfg->sizes = "8,64,4K";
	return 0;
}

#define MAX_LANES 256
/* The parent's bound on lanes after their end (or after a signal was passed on), beyond the
 * per-repetition watchdog each lane already has. */
#define LANE_GRACE_NS 10000000000u
#define POLL_MS 50

/* Options of this command, registered as a bench's are (harness/opt.c reads the table). */
static struct {
	int lanes;             /* 0 = default */
} stress_set;

const struct ipcb_opt ipcb_stress_opts[] = {
	{ .name = "stress-lanes", .type = IPCB_OPT_INT, .offset = offsetof(typeof(stress_set), lanes),
	  .min = 1, .max = MAX_LANES, .metavar = "N", .base = &stress_set,
	  .help = "stress: cases running at once, each lane a process running its share of the "
		  "cases (default: one per two CPUs of the budget, at least 2; never more than "
		  "there are cases)" },
	{ .name = NULL },
};

int ipcb_stress_opts_given(void)
{
	return stress_set.lanes != 0;
}

/* ---- accounting ---- */

/* What the parent knows of a mechanism before the lanes start (indices are shared). */
struct mech_info {
	const char *name;
	int lossy;
};

/* A mechanism's counts in one lane. */
struct mech_count {
	uint64_t reps, reps_failed, ops, lost, dup, corrupt, integrity, unmeasured, rss_kib;
	uint64_t injected, detected;
	uint64_t first_error_ns;   /* when first_error was written: the earliest lane's wins */
	char first_error[256];
};

/* One lane's block in the shared memory. Written by that lane only; the parent reads it for
 * progress lines while the lane runs and for the totals after reaping it. */
struct lane {
	_Alignas(64) _Atomic uint64_t stalled;   /* stall hook: stalls done in this repetition */
	_Atomic int in_case;       /* 1 from a case's set-up to its tear-down */
	uint64_t reps, busy_ns, rss_kib;
	int fds_start, fds_end, fatal_hang, partial, started;
	uint64_t kinds_injected[FK_N], kinds_detected[FK_N];
	uint64_t kinds_detect_ns_max[FK_N];      /* kill/stop: signal sent .. repetition judged */
	uint64_t undetected_ns;
	char undetected[256];
	struct mech_count mech[MAX_MECHS];
};

struct shared {
	/* The fault schedule: due time (microseconds after t0) << 8 | index in prep.kinds. */
	_Alignas(64) _Atomic uint64_t fault_word;
	_Alignas(64) _Atomic uint32_t running_max;   /* most lanes seen in a case at once */
	struct lane lane[];
};

/* A row a lane asks the parent to write. Below PIPE_BUF: one write() each, never mixed. */
enum rec_type { REC_FAILED, REC_SKIPPED, REC_PARTIAL };
struct rec {
	int type, ci, rep, expected, lane;
	char memap[96];
	char reason[720];
};
_Static_assert(sizeof(struct rec) <= PIPE_BUF, "a lane's record must be one atomic write");

/* Everything a lane needs, filled by the parent before the fork. */
struct run {
	const struct ipcb_config *cfg;
	const struct ipcb_topo *topo;
	struct ipcb_case *cases;
	const int *order;
	int nrun, nlanes, wfd;
	const struct mech_info *mechs;
	int nmech;
	struct shared *sh;
	unsigned char *names;      /* nlanes cleanup lists, ipcb_names_area_size() each */
	size_t names_len;
	uint64_t t0, t_end, period_us;
};

/* The lane's own state for the watch hook. */
struct lane_state {
	struct lane *ln;
	int cur;                   /* index of the running case's mechanism */
	int armed, injected, victim;   /* kill/stop armed on the running repetition, or -1 */
	uint64_t t_inject_ns;      /* when the armed kill or stop was sent */
	uint32_t rr;
};

static long vm_hwm_kib(pid_t pid)
{
	char path[64], line[128];
	long kib = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Thread mode: restart this process's VmHWM, so that the next reading is the peak of one
 * repetition (Linux >= 4.0; where it fails the reading is the peak so far, an upper bound). */
static void hwm_reset(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)!write(fd, "5", 1);
	close(fd);
}

/* The watch hook (worker.c): sample RSS, and inject an armed kill or stop. */
static void watch(void *arg, const struct ipcb_case *c, const pid_t *pid, const int *done, int n,
		  uint64_t t_go_ns)
{
	struct lane_state *s = arg;
	struct mech_count *m = &s->ln->mech[s->cur];

	for (int i = 0; i < n; i++) {
		if (done[i] || pid[i] <= 0)
			continue;
		long kib = vm_hwm_kib(pid[i]);
		if (kib > 0 && (uint64_t)kib > m->rss_kib)
			m->rss_kib = (uint64_t)kib;
	}
	if (s->armed < 0 || s->injected || n <= 0)
		return;
	uint64_t now = ipcb_now_ns();
	/* No worker ends before warm-up + duration after the gate: a signal sent in this
	 * window reaches a running worker, never one that already finished. */
	if (now < t_go_ns + INJECT_AFTER_NS ||
	    now >= t_go_ns + c->cfg->warmup_ns + c->cfg->duration_ns / 2)
		return;
	/* The victim: any worker, producer or consumer (xorshift32, fixed seed per lane: a
	 * run's victims repeat from one run to the next). */
	s->rr ^= s->rr << 13;
	s->rr ^= s->rr >> 17;
	s->rr ^= s->rr << 5;
	for (int k = 0; k < n; k++) {
		int i = (int)((s->rr + (uint32_t)k) % (uint32_t)n);
		if (done[i] || pid[i] <= 0)
			continue;
		if (kill(pid[i], s->armed == FK_KILL ? SIGKILL : SIGSTOP) == 0) {
			s->injected = 1;
			s->victim = i;
			s->t_inject_ns = ipcb_now_ns();
		}
		return;
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own fd */
}

static const char *case_mech(const struct ipcb_case *c)
{
	return c->tr ? c->tr->name : c->pat->name;
}

static const char *case_pattern(const struct ipcb_case *c)
{
	return c->pat->name;
}

static int mech_find(const struct mech_info *mechs, int nmech, const struct ipcb_case *c)
{
	for (int i = 0; i < nmech; i++)
		if (strcmp(mechs[i].name, case_mech(c)) == 0)
			return i;
	return nmech - 1;   /* the table was built from these very cases: not reached */
}

static int is_queue_case(const struct ipcb_case *c)
{
	return !strcmp(c->pat->name, "stream") || !strcmp(c->pat->name, "prodcons");
}

static int fault_fits(const struct ipcb_config *cfg, int kind, const struct ipcb_case *c)
{
	if (kind == FK_KILL || kind == FK_STOP)
		return !cfg->thread_mode;
	return kind == FK_SLOW || is_queue_case(c);
}

/* Take the next fault if it is due and fits case c: the kind, or -1. */
static int fault_claim(const struct run *r, const struct ipcb_case *c, uint64_t now)
{
	uint64_t w = atomic_load(&r->sh->fault_word);

	for (;;) {
		uint64_t due_us = w >> 8, now_us = (now - r->t0) / 1000;
		int k = (int)(w & 0xff);
		if (now_us < due_us || !fault_fits(r->cfg, prep.kinds[k], c))
			return -1;
		/* The next one a period later; after a stretch with nowhere to put faults, a
		 * period from now (no burst to catch up). */
		uint64_t next = due_us + r->period_us;
		if (next < now_us)
			next = now_us + r->period_us;
		uint64_t nw = next << 8 | (uint64_t)((k + 1) % prep.nkinds);
		if (atomic_compare_exchange_weak(&r->sh->fault_word, &w, nw))
			return prep.kinds[k];
	}
}

/* Sum what the workers counted into the mechanism's counts. */
static void add_slots(struct mech_count *m, const struct ipcb_case *c, const struct ipcb_ctl *ctl)
{
	uint64_t ops_b = 0, ops_a = 0;

	for (int i = 0; i < c->nworkers; i++) {
		const struct ipcb_slot *sl = &ctl->slots[i];
		m->lost += sl->lost;
		m->dup += sl->dup + sl->reorder;
		m->corrupt += sl->corrupt;
		if (c->roles[i] == IPCB_ROLE_B)
			ops_b += sl->msgs;
		else
			ops_a += sl->msgs;
	}
	/* Messages checked: the receivers' count (pingpong counts round trips at A). */
	m->ops += ops_b ? ops_b : ops_a;
}

static void send_rec(const struct run *r, struct rec *rc)
{
	const char *p = (const char *)rc;
	size_t left = sizeof(*rc);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	/* A parent killed outright leaves no reader: EPIPE, not death by SIGPIPE, so that the
	 * lane still cleans up. Ignored only here, between repetitions: the workers keep the
	 * disposition `ipcbench run` gives them. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	/* All or nothing below PIPE_BUF; EINTR (a signal before anything was written) retried. */
	while (left) {
		ssize_t w = write(r->wfd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;   /* the parent is gone: nobody to tell */
		p += w;
		left -= (size_t)w;
	}
	sigaction(SIGPIPE, &old, NULL);
}

/* Spread a lane's cases over the CPU list: each CPU moved by the lane's offset. */
static void lane_cpus(const struct run *r, struct ipcb_case *c, int li)
{
	const struct ipcb_config *cfg = r->cfg;
	int shift = cfg->n_cpus > 0 ? li * cfg->n_cpus / r->nlanes : 0;

	if (!shift || cfg->explicit_cpus || c->cpus_fixed)
		return;
	for (int i = 0; i < c->nworkers; i++) {
		if (c->cpus[i] < 0)
			continue;
		for (int j = 0; j < cfg->n_cpus; j++)
			if (cfg->cpu_list[j] == c->cpus[i]) {
				c->cpus[i] = cfg->cpu_list[(j + shift) % cfg->n_cpus];
				break;
			}
	}
}

/* ---- a lane: a child of the stress parent, running cases li, li + nlanes, ... ---- */

static void lane_main(const struct run *r, int li)
{
	const struct ipcb_config *cfg = r->cfg;
	struct lane *ln = &r->sh->lane[li];
	struct lane_state s = { .ln = ln, .armed = -1 };
	struct ipcb_watch_hook hook = { HOOK_EVERY_NS, watch, &s };
	struct ipcb_fault saved = ipcb_test_fault;
	int *mine = malloc(((size_t)r->nrun / (size_t)r->nlanes + 1) * sizeof(*mine));
	int *runs = calloc((size_t)r->nrun + 1, sizeof(*runs));   /* by position in order[] */
	int nmine = 0, pending = -1;

	if (!mine || !runs)
		_exit(4);
	s.rr = 2463534242u + (uint32_t)li * 2654435769u;
	if (!s.rr)
		s.rr = 1;
	ipcb_names_use_area(r->names + (size_t)li * r->names_len);
	for (int j = li; j < r->nrun; j += r->nlanes)
		mine[nmine++] = j;
	for (int j = 0; j < nmine; j++)
		lane_cpus(r, &r->cases[r->order[mine[j]]], li);
	ipcb_watch_hook = cfg->thread_mode ? NULL : &hook;
	ln->fds_start = count_fds();
	ln->started = 1;

	for (uint64_t k = 0; nmine > 0 && !ipcb_interrupted && !ipcb_fatal_hang; k++) {
		uint64_t tnow = ipcb_now_ns();
		if (tnow >= r->t_end)
			break;
		int pos = mine[k % (uint64_t)nmine], ci = r->order[pos];
		struct ipcb_case *c = &r->cases[ci];
		char reason[512] = "", effective[128], why[256] = "";
		struct rec rc = { .ci = ci, .lane = li };
		struct ipcb_ctl *ctl = NULL;
		size_t ctl_len = 0;
		int stall_kind = -1;

		if (prep.nkinds && pending < 0)
			pending = fault_claim(r, c, tnow);
		s.cur = mech_find(r->mechs, r->nmech, c);
		s.armed = -1;
		s.injected = 0;
		if (pending == FK_KILL || pending == FK_STOP) {
			s.armed = pending;
		} else if (pending == FK_SLOW || (pending == FK_FULL && is_queue_case(c))) {
			stall_kind = pending;
			atomic_store(&ln->stalled, 0);
			ipcb_test_fault.kind = IPCB_FAULT_STALL;
			ipcb_test_fault.at = STALL_AT;
			ipcb_test_fault.stall_ns = pending == FK_SLOW ? SLOW_STALL_NS : FULL_STALL_NS;
			ipcb_test_fault.stalled = &ln->stalled;
		}
		if (cfg->thread_mode)
			hwm_reset();

		/* The most cases in progress at once is reached when one starts: count the
		 * lanes in a case then (sequentially consistent: of two lanes starting together,
		 * one sees the other). A flag per lane, not a shared counter, so that a lane
		 * killed in a case is not counted forever: the parent clears its flag. */
		atomic_store(&ln->in_case, 1);
		uint32_t now_running = 0;
		for (int l = 0; l < r->nlanes; l++)
			now_running += (uint32_t)atomic_load(&r->sh->lane[l].in_case);
		uint32_t peak = atomic_load(&r->sh->running_max);
		while (now_running > peak &&
		       !atomic_compare_exchange_weak(&r->sh->running_max, &peak, now_running))
			;
		uint64_t t_case = ipcb_now_ns();
		enum ipcb_verdict v = ipcb_rep_run(c, r->topo, &ctl, &ctl_len, effective,
						   sizeof(effective), rc.memap, sizeof(rc.memap),
						   reason, sizeof(reason));
		ln->busy_ns += ipcb_now_ns() - t_case;
		atomic_store(&ln->in_case, 0);
		if (stall_kind >= 0)
			ipcb_test_fault = saved;
		struct mech_count *m = &ln->mech[s.cur];
		long hwm = vm_hwm_kib(0);
		if (hwm > 0 && (uint64_t)hwm > ln->rss_kib)
			ln->rss_kib = (uint64_t)hwm;
		if (cfg->thread_mode && hwm > 0 && (uint64_t)hwm > m->rss_kib)
			m->rss_kib = (uint64_t)hwm;   /* the workers are this process's threads */

		if (v == IPCB_INTERRUPTED) {
			rc.type = REC_PARTIAL;
			rc.rep = runs[pos] + 1;
			snprintf(rc.reason, sizeof(rc.reason), "%s", reason);
			send_rec(r, &rc);
			ln->partial = 1;
			break;
		}
		if (v == IPCB_SKIPPED) {
			/* Set-up said no (a system limit): a row, and out of the rotation. */
			rc.type = REC_SKIPPED;
			snprintf(rc.reason, sizeof(rc.reason), "%s", reason);
			send_rec(r, &rc);
			int at = (int)(k % (uint64_t)nmine);
			memmove(&mine[at], &mine[at + 1], (size_t)(nmine - at - 1) * sizeof(*mine));
			nmine--;
			k--;
			continue;
		}
		ln->reps++;
		m->reps++;
		rc.rep = ++runs[pos];
		if (v == IPCB_OK) {
			struct ipcb_metrics mt;
			memset(&mt, 0, sizeof(mt));
			add_slots(m, c, ctl);
			int fr = c->pat->finish(c, ctl->slots, &mt, why, sizeof(why));
			ipcb_rep_free(ctl, ctl_len);
			if (fr < 0 && !strncmp(why, UNMEASURED, strlen(UNMEASURED))) {
				/* finish() checked integrity first and it held: only the window
				 * was empty (a loaded machine, a stalled consumer). */
				m->unmeasured++;
			} else if (fr < 0) {
				snprintf(reason, sizeof(reason), "%s", why);
				v = IPCB_FAILED;
				m->integrity++;
			}
		}

		/* Did the armed fault take effect, and was it detected? */
		int fault = -1, detected = 0;
		if (s.armed >= 0 && s.injected) {
			uint64_t lat = ipcb_now_ns() - s.t_inject_ns;
			fault = s.armed;
			detected = v == IPCB_FAILED;
			if (detected && lat > ln->kinds_detect_ns_max[fault])
				ln->kinds_detect_ns_max[fault] = lat;
		} else if (stall_kind >= 0 && atomic_load(&ln->stalled) > 0) {
			fault = stall_kind;
			detected = v == IPCB_OK;
		}
		if (fault >= 0) {
			pending = -1;
			ln->kinds_injected[fault]++;
			m->injected++;
			if (detected) {
				ln->kinds_detected[fault]++;
				m->detected++;
			} else if (!ln->undetected[0]) {
				snprintf(ln->undetected, sizeof(ln->undetected), "%s on %s: %.150s",
					 fault_names[fault], c->label,
					 v == IPCB_OK ? "the case passed" : reason);
				ln->undetected_ns = ipcb_now_ns();
			}
		}
		if (v != IPCB_OK) {
			rc.expected = fault >= 0 && (fault == FK_KILL || fault == FK_STOP);
			if (!rc.expected) {
				m->reps_failed++;
				if (!m->first_error[0]) {
					snprintf(m->first_error, sizeof(m->first_error), "%s: %.150s",
						 c->label, reason);
					m->first_error_ns = ipcb_now_ns();
				}
			}
			rc.type = REC_FAILED;
			snprintf(rc.reason, sizeof(rc.reason), "%s%s%s%s",
				 rc.expected ? "injected " : "", rc.expected ? fault_names[fault] : "",
				 rc.expected ? ": " : "", reason);
			send_rec(r, &rc);
		}
	}
	ipcb_watch_hook = NULL;
	ln->fatal_hang = ipcb_fatal_hang;
	(void)ipcb_names_cleanup();
	free(mine);
	free(runs);
	ln->fds_end = count_fds();
	/* Not exit(): the parent's stdio buffers and sinks were copied into this process and
	 * must not be flushed twice; nor its atexit handlers run. */
	_exit(0);
}

/* Reorder in rounds: each round takes, in the current order, the first unused case of each
 * key (stable). The planner lists cases pattern by pattern; interleaving by pattern, then by
 * mechanism, makes a short run visit every mechanism and every pattern early, and gives
 * neighbouring lanes different ones. */
static void interleave(const struct ipcb_case *cases, int *order, int nrun,
		       const char *(*key)(const struct ipcb_case *))
{
	int *out = malloc((size_t)nrun * sizeof(*out)), *used = calloc((size_t)nrun, sizeof(*used));
	int nout = 0;

	if (!out || !used) {
		free(out);
		free(used);
		return;   /* keep the planner's order */
	}
	while (nout < nrun) {
		/* one round: the first unused case of each key, in order of appearance */
		int round_start = nout;
		for (int i = 0; i < nrun; i++) {
			if (used[i])
				continue;
			int seen = 0;
			for (int j = round_start; j < nout && !seen; j++)
				seen = !strcmp(key(&cases[order[out[j]]]), key(&cases[order[i]]));
			if (seen)
				continue;
			used[i] = 1;
			out[nout++] = i;
		}
	}
	for (int i = 0; i < nrun; i++)
		out[i] = order[out[i]];
	memcpy(order, out, (size_t)nrun * sizeof(*order));
	free(out);
	free(used);
}

/* ---- output ---- */

struct sinks {
	struct ipcb_sink_state *st[8];
	int err;
};

static void emit(struct sinks *sk, const struct ipcb_row *r)
{
	for (int i = 0; ipcb_sinks[i]; i++) {
		int rc = ipcb_sinks[i]->row(sk->st[i], r);
		if (rc < 0 && !sk->err)
			sk->err = rc;
	}
}

static void emit_metric(struct sinks *sk, struct ipcb_row *row, const char *metric,
			const char *unit, double v)
{
	row->metric = metric;
	row->unit = unit;
	row->value = v;
	row->samples = 1;
	row->ops_per_sample = 1;
	row->status = "ok";
	row->reason = NULL;
	emit(sk, row);
}

/* A FAILED verdict row: no metric, no value (the schema's rule for FAILED), the reason. */
static void emit_verdict(struct sinks *sk, struct ipcb_row *row, const char *why)
{
	row->metric = "";
	row->unit = "";
	row->value = NAN;
	row->samples = 0;
	row->ops_per_sample = 0;
	row->status = "FAILED";
	row->reason = why;
	emit(sk, row);
}

/* A lane's record as a row. */
static void emit_rec(struct sinks *sk, const struct ipcb_row *base, const struct ipcb_case *cases,
		     const struct rec *rc, int *partial_row, int *skipped)
{
	const struct ipcb_case *c = &cases[rc->ci];
	struct ipcb_row row = *base;
	char repname[16];

	snprintf(repname, sizeof(repname), "%d", rc->rep);
	row.bench = c->pat->name;
	row.mech = c->tr ? c->tr->name : "";
	row.size_bytes = c->size;
	row.params = c->params;
	row.reason = rc->reason;
	if (rc->type == REC_SKIPPED) {
		row.status = "SKIPPED";
		++*skipped;
	} else if (rc->type == REC_PARTIAL) {
		row.rep = repname;
		row.status = "PARTIAL";
		*partial_row = 1;
	} else {
		row.rep = repname;
		row.status = "FAILED";
		row.workers = c->nworkers;
		row.mem = rc->memap;
		if (!rc->expected)
			fprintf(stderr, "ipcbench: %s: FAILED: %s\n", c->label, rc->reason);
	}
	emit(sk, &row);
}

static void progress(const struct run *r, int nlanes, uint64_t t0, double total_s)
{
	uint64_t reps = 0, ops = 0, errs = 0, inj = 0, det = 0;
	int in_case = 0;

	for (int l = 0; l < nlanes; l++) {
		const struct lane *ln = &r->sh->lane[l];
		reps += ln->reps;
		in_case += atomic_load(&ln->in_case);
		for (int i = 0; i < r->nmech; i++) {
			ops += ln->mech[i].ops;
			errs += ln->mech[i].reps_failed;
		}
		for (int k = 0; k < FK_N; k++) {
			inj += ln->kinds_injected[k];
			det += ln->kinds_detected[k];
		}
	}
	fprintf(stderr, "ipcbench: stress %.0f/%.0f s: %llu repetitions, %llu messages checked, "
		"%llu failed repetitions, faults %llu injected / %llu detected; %d of %d lanes "
		"in a case\n",
		(double)(ipcb_now_ns() - t0) / 1e9, total_s, (unsigned long long)reps,
		(unsigned long long)ops, (unsigned long long)errs, (unsigned long long)inj,
		(unsigned long long)det, in_case, nlanes);
	fflush(stderr);
}

/* Lane bookkeeping kept by the parent. */
struct lane_proc {
	pid_t pid;
	int alive, status, died;   /* died: ended other than by a clean exit */
	int left_removed, left_failed;
};

static void drain(int rfd, struct sinks *sk, const struct ipcb_row *base,
		  const struct ipcb_case *cases, int *partial_row, int *skipped)
{
	struct rec rc;

	for (;;) {
		ssize_t n = read(rfd, &rc, sizeof(rc));
		if (n == (ssize_t)sizeof(rc))
			emit_rec(sk, base, cases, &rc, partial_row, skipped);
		else if (n < 0 && errno == EINTR)
			continue;
		else
			return;   /* empty (EAGAIN), or every writer gone */
	}
}

/* Reap what has ended: lanes, and workers a dead lane left to us (the subreaper). */
static void reap(struct lane_proc *lp, struct shared *sh, int nlanes, int *alive)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int l = 0; l < nlanes; l++) {
			if (lp[l].pid != pid || !lp[l].alive)
				continue;
			lp[l].alive = 0;
			lp[l].status = status;
			lp[l].died = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			atomic_store(&sh->lane[l].in_case, 0);   /* killed in a case: over */
			--*alive;
		}
	}
}

int ipcb_stress_cmd(struct ipcb_config *cfg, const struct ipcb_topo *topo, int argc, char **argv)
{
	static struct ipcb_rundir rd;
	static struct run r;
	static struct mech_info mechs[MAX_MECHS];
	static struct lane_proc lp[MAX_LANES];
	struct ipcb_case *cases = NULL;
	struct ipcb_run_meta *meta = &rd.meta;
	const char *run_dir = rd.dir, *run_id = rd.run_id;
	struct sinks sk = { { 0 }, 0 };
	struct timespec now;
	struct shared *sh = MAP_FAILED;
	unsigned char *names = MAP_FAILED;
	size_t sh_len = 0, names_len = 0;
	int *order = NULL, nrun = 0, n, rc, status = 0, nsinks = 0, nlanes, nmech = 0;
	int pfd[2] = { -1, -1 };

	memset(&r, 0, sizeof(r));
	memset(lp, 0, sizeof(lp));
	n = ipcb_plan_build(cfg, &cases);
	if (n < 0) {
		fprintf(stderr, "ipcbench: planning failed: %s\n", strerror(-n));
		return 1;
	}
	order = calloc((size_t)(n ? n : 1), sizeof(*order));
	if (!order) {
		free(cases);
		fprintf(stderr, "ipcbench: out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (!cases[i].skip[0])
			order[nrun++] = i;
	if (nrun == 0) {
		fprintf(stderr, "ipcbench: stress: nothing to run: no pingpong, stream or prodcons "
			"case fits the selected mechanisms\n");
		free(order);
		free(cases);
		return 2;
	}
	for (int k = 0; k < prep.nkinds; k++) {
		int fits = 0;
		for (int i = 0; i < nrun && !fits; i++)
			fits = is_queue_case(&cases[order[i]]);
		if (prep.kinds[k] == FK_FULL && !fits) {
			/* It would wait forever for a case to arm, holding up the other kinds. */
			fprintf(stderr, "ipcbench: --inject full-queue: no stream or prodcons case among "
				"the selected benches and mechanisms\n");
			free(order);
			free(cases);
			return 2;
		}
	}
	interleave(cases, order, nrun, case_pattern);
	interleave(cases, order, nrun, case_mech);
	for (int i = 0; i < nrun; i++) {
		const struct ipcb_case *c = &cases[order[i]];
		int j = 0;
		while (j < nmech && strcmp(mechs[j].name, case_mech(c)))
			j++;
		if (j == nmech && nmech < MAX_MECHS) {
			mechs[nmech].name = case_mech(c);
			mechs[nmech++].lossy = c->tr && (c->tr->caps & IPCB_CAP_LOSSY);
		}
	}

	/* Lanes: as asked, or one per two CPUs (most cases have two workers), at least 2;
	 * never more than there are cases to share out. */
	int asked = stress_set.lanes ? stress_set.lanes : (cfg->n_cpus + 1) / 2;
	if (!stress_set.lanes && asked < 2)
		asked = 2;
	if (asked > MAX_LANES)
		asked = MAX_LANES;
	nlanes = asked < nrun ? asked : nrun;

	sh_len = sizeof(struct shared) + (size_t)nlanes * sizeof(struct lane);
	names_len = ipcb_names_area_size();
	sh = mmap(NULL, sh_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	names = mmap(NULL, names_len * (size_t)nlanes, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || names == MAP_FAILED) {
		fprintf(stderr, "ipcbench: stress: cannot map the lanes' shared memory: %s (errno %d)\n",
			strerror(errno), errno);
		status = 1;
		goto out;
	}

	if (ipcb_rundir_begin(&rd, cfg, topo, argc, argv) < 0) {
		status = 2;
		goto out;
	}

	for (int i = 0; ipcb_sinks[i]; i++) {
		rc = ipcb_sinks[i]->open(&sk.st[i], run_dir, run_id);
		if (rc < 0) {
			fprintf(stderr, "ipcbench: cannot open the %s sink in %s: %s (errno %d)\n",
				ipcb_sinks[i]->name, run_dir, strerror(-rc), -rc);
			for (int j = 0; j < i; j++)
				ipcb_sinks[j]->abort(sk.st[j]);
			status = 1;
			goto out;
		}
		nsinks++;
	}

	/* Counted once the result files are open: they stay open to the end. */
	int fds_start = count_fds();
	uint64_t t0 = ipcb_now_ns();
	uint64_t next_progress = t0 + PROGRESS_EVERY_NS;
	int skipped = 0, partial_row = 0, alive = 0, bad = 0;
	char lanes_note[160] = "";

	r.cfg = cfg;
	r.topo = topo;
	r.cases = cases;
	r.order = order;
	r.nrun = nrun;
	r.nlanes = nlanes;
	r.mechs = mechs;
	r.nmech = nmech;
	r.sh = sh;
	r.names = names;
	r.names_len = names_len;
	r.t0 = t0;
	r.t_end = t0 + (uint64_t)(prep.total_s * 1e9);
	r.period_us = (uint64_t)(1e6 / cfg->inject_rate);
	if (!r.period_us)
		r.period_us = 1;
	atomic_store(&sh->fault_word, r.period_us << 8);

	char rate[48] = "";
	if (cfg->inject)
		snprintf(rate, sizeof(rate), ", %g per second", cfg->inject_rate);
	if (nlanes < asked)
		snprintf(lanes_note, sizeof(lanes_note), " (%d asked, but only %d cases)", asked, nrun);
	fprintf(stderr, "ipcbench: stress %s: %.0f s over %d cases (%d to run) in %d lanes at "
		"once%s, %s mode; faults: %s%s\n", run_id, prep.total_s, n, nrun, nlanes,
		lanes_note, cfg->thread_mode ? "thread" : "process", cfg->inject ? cfg->inject : "none",
		rate);
	if (cfg->cores_note[0])
		fprintf(stderr, "ipcbench: %s\n", cfg->cores_note);

	struct ipcb_row row = { .impl = "c", .mode = cfg->thread_mode ? "thread" : "process",
				.placement = cfg->placement, .value = NAN, .ci_low = NAN,
				.ci_high = NAN };
	/* Skipped cases: one row each, as in a normal run. */
	for (int i = 0; i < n; i++) {
		if (!cases[i].skip[0])
			continue;
		row.bench = cases[i].pat->name;
		row.mech = cases[i].tr ? cases[i].tr->name : "";
		row.size_bytes = cases[i].size;
		row.params = cases[i].params;
		row.status = "SKIPPED";
		row.reason = cases[i].skip;
		emit(&sk, &row);
		skipped++;
	}

	/* The lanes. Workers whose lane dies are re-parented to us (and die: PDEATHSIG), so
	 * that we reap them and none outlives the run. */
	char lane_err[200] = "";
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(lane_err, sizeof(lane_err), "cannot make the lanes' pipe: %s (errno %d)",
			 strerror(errno), errno);
	} else {
		(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		fflush(NULL);   /* nothing buffered may be copied into a lane */
		r.wfd = pfd[1];
		pid_t me = getpid();
		for (int l = 0; l < nlanes && !ipcb_interrupted; l++) {
			pid_t pid = fork();
			if (pid < 0) {
				snprintf(lane_err, sizeof(lane_err), "cannot fork lane %d: %s (errno %d)",
					 l, strerror(errno), errno);
				break;
			}
			if (pid == 0) {
				/* If the parent is killed, stop as on SIGTERM: clean up, exit. */
				(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
				if (getppid() != me)
					_exit(3);
				close(pfd[0]);
				lane_main(&r, l);
			}
			lp[l].pid = pid;
			lp[l].alive = 1;
			alive++;
		}
		close(pfd[1]);
		pfd[1] = -1;
	}
	if (lane_err[0]) {
		fprintf(stderr, "ipcbench: stress: %s\n", lane_err);
		bad = 1;
	}

	/* Watch: rows as they come, lanes as they end, progress, signals passed on. */
	int forwarded = 0;
	uint64_t deadline = r.t_end + cfg->timeout_ns + LANE_GRACE_NS;
	while (alive > 0) {
		struct pollfd pf = { pfd[0], POLLIN, 0 };
		(void)poll(&pf, 1, POLL_MS);
		drain(pfd[0], &sk, &row, cases, &partial_row, &skipped);
		reap(lp, sh, nlanes, &alive);
		uint64_t tnow = ipcb_now_ns();
		if (ipcb_interrupted && !forwarded) {
			for (int l = 0; l < nlanes; l++)
				if (lp[l].alive)
					(void)kill(lp[l].pid, ipcb_interrupted);
			forwarded = 1;
			deadline = tnow + LANE_GRACE_NS;
		}
		if (alive > 0 && tnow >= deadline) {
			/* A lane's own watchdog bounds each repetition: one still here is stuck. */
			for (int l = 0; l < nlanes; l++)
				if (lp[l].alive) {
					fprintf(stderr, "ipcbench: stress: lane %d (pid %d) still running "
						"%.0f s after its end: killed\n", l, (int)lp[l].pid,
						(double)(tnow - deadline + LANE_GRACE_NS) / 1e9);
					(void)kill(lp[l].pid, SIGKILL);
				}
			deadline = UINT64_MAX;
		}
		if (!forwarded && tnow >= next_progress && tnow < r.t_end) {
			progress(&r, nlanes, t0, prep.total_s);
			next_progress = tnow + PROGRESS_EVERY_NS;
		}
	}
	/* Workers of a killed lane: re-parented here, dying of SIGKILL; wait for them (bounded). */
	for (uint64_t until = ipcb_now_ns() + 2000000000u; ipcb_now_ns() < until;) {
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			break;
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	if (pfd[0] >= 0) {
		drain(pfd[0], &sk, &row, cases, &partial_row, &skipped);
		close(pfd[0]);
		pfd[0] = -1;
	}
	/* What a lane left in its cleanup list (a lane that died), and the stale sweep for
	 * the named ones of dead pids. */
	int any_died = 0;
	for (int l = 0; l < nlanes; l++) {
		if (!lp[l].pid)
			continue;
		lp[l].left_removed = ipcb_names_cleanup_area(names + (size_t)l * names_len,
							     &lp[l].left_failed);
		any_died |= lp[l].died;
	}
	if (any_died)
		(void)ipcb_names_sweep_stale();

	row.rep = NULL;
	if (ipcb_interrupted && !partial_row) {
		/* The signal came between two repetitions. */
		char why[64];
		uint64_t reps = 0;
		for (int l = 0; l < nlanes; l++)
			reps += sh->lane[l].reps;
		char repname[24];
		snprintf(why, sizeof(why), "interrupted by signal %d", ipcb_interrupted);
		snprintf(repname, sizeof(repname), "%llu", (unsigned long long)reps + 1);
		row.bench = "stress";
		row.mech = "";
		row.size_bytes = 0;
		row.params = NULL;
		row.rep = repname;
		row.status = "PARTIAL";
		row.reason = why;
		emit(&sk, &row);
	}
	int fds_end = count_fds();
	double elapsed_s = (double)(ipcb_now_ns() - t0) / 1e9;
	progress(&r, nlanes, t0, prep.total_s);

	/* ---- totals: the lanes summed ---- */
	struct mech_count tot[MAX_MECHS];
	uint64_t kinds_injected[FK_N] = { 0 }, kinds_detected[FK_N] = { 0 };
	uint64_t kinds_detect_ns_max[FK_N] = { 0 }, reps = 0, busy_ns = 0, lanes_rss = 0;
	uint64_t undetected_ns = UINT64_MAX;
	const char *undetected = "";
	int fatal = 0;
	memset(tot, 0, sizeof(tot));
	for (int l = 0; l < nlanes; l++) {
		const struct lane *ln = &sh->lane[l];
		reps += ln->reps;
		busy_ns += ln->busy_ns;
		if (ln->rss_kib > lanes_rss)
			lanes_rss = ln->rss_kib;
		fatal |= ln->fatal_hang;
		for (int k = 0; k < FK_N; k++) {
			kinds_injected[k] += ln->kinds_injected[k];
			kinds_detected[k] += ln->kinds_detected[k];
			if (ln->kinds_detect_ns_max[k] > kinds_detect_ns_max[k])
				kinds_detect_ns_max[k] = ln->kinds_detect_ns_max[k];
		}
		if (ln->undetected[0] && ln->undetected_ns < undetected_ns) {
			undetected_ns = ln->undetected_ns;
			undetected = ln->undetected;
		}
		for (int i = 0; i < nmech; i++) {
			const struct mech_count *a = &ln->mech[i];
			struct mech_count *m = &tot[i];
			m->reps += a->reps;
			m->reps_failed += a->reps_failed;
			m->ops += a->ops;
			m->lost += a->lost;
			m->dup += a->dup;
			m->corrupt += a->corrupt;
			m->integrity += a->integrity;
			m->unmeasured += a->unmeasured;
			m->injected += a->injected;
			m->detected += a->detected;
			if (a->rss_kib > m->rss_kib)
				m->rss_kib = a->rss_kib;
			if (a->first_error[0] && (!m->first_error[0] ||
						  a->first_error_ns < m->first_error_ns)) {
				memcpy(m->first_error, a->first_error, sizeof(m->first_error));
				m->first_error_ns = a->first_error_ns;
			}
		}
	}

	struct rusage ru_self, ru_kids;
	getrusage(RUSAGE_SELF, &ru_self);
	getrusage(RUSAGE_CHILDREN, &ru_kids);
	uint64_t tot_inj = 0, tot_det = 0, tot_err = 0, tot_integ = 0;
	char params[64];

	row.bench = "stress";
	row.rep = "1";
	row.size_bytes = 0;
	row.params = NULL;
	printf("\n%-22s %7s %12s %6s %6s %6s %8s %10s %9s  %s\n", "mechanism", "reps", "msgs",
	       "errors", "lost", "dup", "corrupt", "peak_rss", "faults", "status");
	for (int i = 0; i < nmech; i++) {
		struct mech_count *m = &tot[i];
		uint64_t errs = m->reps_failed;
		uint64_t integ = m->integrity + m->dup + m->corrupt + (mechs[i].lossy ? 0 : m->lost);
		char why[400] = "";
		if (errs || integ)
			snprintf(why, sizeof(why), "%llu failed repetitions, %llu integrity errors%s%s",
				 (unsigned long long)errs, (unsigned long long)integ,
				 m->first_error[0] ? "; first: " : "", m->first_error);
		else if (mechs[i].lossy && m->lost)
			snprintf(why, sizeof(why), "lossy transport: %llu lost messages reported, "
				 "not an error", (unsigned long long)m->lost);
		if (m->injected != m->detected) {
			size_t l = strlen(why);
			snprintf(why + l, sizeof(why) - l, "%s%llu faults injected, %llu detected",
				 l ? "; " : "", (unsigned long long)m->injected,
				 (unsigned long long)m->detected);
		}
		int ok = !errs && !integ && m->injected == m->detected;
		bad |= !ok;
		tot_err += errs;
		tot_integ += integ;
		row.mech = mechs[i].name;
		emit_metric(&sk, &row, "reps", "count", (double)m->reps);
		emit_metric(&sk, &row, "ops", "count", (double)m->ops);
		emit_metric(&sk, &row, "errors", "count", (double)errs);
		emit_metric(&sk, &row, "integrity_errors", "count", (double)integ);
		emit_metric(&sk, &row, "unmeasured", "count", (double)m->unmeasured);
		emit_metric(&sk, &row, "lost", "count", (double)m->lost);
		emit_metric(&sk, &row, "dup", "count", (double)m->dup);
		emit_metric(&sk, &row, "corrupt", "count", (double)m->corrupt);
		emit_metric(&sk, &row, "peak_rss_kib", "KiB", (double)m->rss_kib);
		emit_metric(&sk, &row, "faults_injected", "count", (double)m->injected);
		emit_metric(&sk, &row, "faults_detected", "count", (double)m->detected);
		if (!ok)
			emit_verdict(&sk, &row, why);
		char rss[24], fl[24];
		snprintf(rss, sizeof(rss), "%llu KiB", (unsigned long long)m->rss_kib);
		snprintf(fl, sizeof(fl), "%llu/%llu", (unsigned long long)m->detected,
			 (unsigned long long)m->injected);
		printf("%-22s %7llu %12llu %6llu %6llu %6llu %8llu %10s %9s  %s\n", mechs[i].name,
		       (unsigned long long)m->reps, (unsigned long long)m->ops,
		       (unsigned long long)errs, (unsigned long long)m->lost,
		       (unsigned long long)m->dup, (unsigned long long)m->corrupt, rss, fl,
		       ok ? "ok" : "FAILED");
	}

	/* Per lane: its work, its peak RSS, its fds, and how it ended. */
	int lanes_died = 0, lanes_fd_bad = 0;
	printf("\n%-6s %8s %7s %10s %9s  %s\n", "lane", "pid", "reps", "peak_rss", "fds", "status");
	row.mech = "";
	for (int l = 0; l < nlanes; l++) {
		const struct lane *ln = &sh->lane[l];
		char why[400] = "", lanep[24], rss[24], fds[24];
		if (!lp[l].pid)
			snprintf(why, sizeof(why), "lane %d never started: %s", l, lane_err);
		else if (lp[l].died && WIFSIGNALED(lp[l].status))
			snprintf(why, sizeof(why), "lane %d (pid %d) killed by signal %d (%s); its "
				 "cases stopped, %d IPC objects it left removed", l, (int)lp[l].pid,
				 WTERMSIG(lp[l].status), strsignal(WTERMSIG(lp[l].status)),
				 lp[l].left_removed);
		else if (lp[l].died)
			snprintf(why, sizeof(why), "lane %d (pid %d) exited with code %d; its cases "
				 "stopped, %d IPC objects it left removed", l, (int)lp[l].pid,
				 WIFEXITED(lp[l].status) ? WEXITSTATUS(lp[l].status) : -1,
				 lp[l].left_removed);
		else if (ln->fds_start != ln->fds_end)
			snprintf(why, sizeof(why), "lane %d: open file descriptors %d at its start, "
				 "%d at its end", l, ln->fds_start, ln->fds_end);
		if (lp[l].left_failed) {
			size_t len = strlen(why);
			snprintf(why + len, sizeof(why) - len, "%slane %d: %d IPC objects it left "
				 "could not be removed", len ? "; " : "", l, lp[l].left_failed);
		}
		lanes_died += !lp[l].pid || lp[l].died;
		lanes_fd_bad += lp[l].pid && !lp[l].died && ln->fds_start != ln->fds_end;
		bad |= why[0] != 0;
		snprintf(lanep, sizeof(lanep), "lane=%d", l);
		row.params = lanep;
		emit_metric(&sk, &row, "reps", "count", (double)ln->reps);
		emit_metric(&sk, &row, "peak_rss_kib", "KiB", (double)ln->rss_kib);
		if (lp[l].pid && !lp[l].died) {
			emit_metric(&sk, &row, "fds_start", "count", ln->fds_start);
			emit_metric(&sk, &row, "fds_end", "count", ln->fds_end);
		}
		if (why[0]) {
			emit_verdict(&sk, &row, why);
			fprintf(stderr, "ipcbench: stress: FAILED: %s\n", why);
		}
		snprintf(rss, sizeof(rss), "%llu KiB", (unsigned long long)ln->rss_kib);
		if (lp[l].pid && !lp[l].died)
			snprintf(fds, sizeof(fds), "%d/%d", ln->fds_start, ln->fds_end);
		else
			snprintf(fds, sizeof(fds), "-");
		printf("%-6d %8d %7llu %10s %9s  %s\n", l, (int)lp[l].pid,
		       (unsigned long long)ln->reps, rss, fds, why[0] ? "FAILED" : "ok");
	}
	row.params = NULL;

	for (int k = 0; k < FK_N; k++) {
		tot_inj += kinds_injected[k];
		tot_det += kinds_detected[k];
		if (!kinds_injected[k])
			continue;
		snprintf(params, sizeof(params), "fault=%s", fault_names[k]);
		row.params = params;
		emit_metric(&sk, &row, "faults_injected", "count", (double)kinds_injected[k]);
		emit_metric(&sk, &row, "faults_detected", "count", (double)kinds_detected[k]);
		if (k == FK_KILL || k == FK_STOP)
			emit_metric(&sk, &row, "detect_ns_max", "ns", (double)kinds_detect_ns_max[k]);
		if (kinds_injected[k] != kinds_detected[k])
			emit_verdict(&sk, &row, "a fault of this kind was injected but not detected");
		printf("%s%s: %llu injected, %llu detected", tot_inj == kinds_injected[k] ? "\n" : "",
		       fault_names[k], (unsigned long long)kinds_injected[k],
		       (unsigned long long)kinds_detected[k]);
		if (k == FK_KILL || k == FK_STOP)
			printf(" (slowest detection %.1f ms; watchdog %.1f s)",
			       (double)kinds_detect_ns_max[k] / 1e6, (double)cfg->timeout_ns / 1e9);
		else
			printf(" (the stall happened and the case kept its integrity)");
		printf("\n");
	}
	row.params = NULL;
	char why[400] = "";
	if (fds_start != fds_end)
		snprintf(why, sizeof(why), "open file descriptors %d at the start, %d at the end",
			 fds_start, fds_end);
	if (tot_inj != tot_det) {
		size_t l = strlen(why);
		snprintf(why + l, sizeof(why) - l, "%sfaults: %llu injected, %llu detected (first "
			 "undetected: %s)", l ? "; " : "", (unsigned long long)tot_inj,
			 (unsigned long long)tot_det, undetected);
	}
	if (lanes_died || lanes_fd_bad) {
		size_t l = strlen(why);
		snprintf(why + l, sizeof(why) - l, "%s%d of %d lanes died, %d lanes changed their "
			 "open file descriptors (see the lane rows)", l ? "; " : "", lanes_died,
			 nlanes, lanes_fd_bad);
	}
	bad |= fds_start != fds_end || tot_inj != tot_det;
	double at_once_mean = elapsed_s > 0 ? (double)busy_ns / 1e9 / elapsed_s : 0;
	uint32_t at_once_max = atomic_load(&sh->running_max);
	emit_metric(&sk, &row, "duration_s", "s", elapsed_s);
	emit_metric(&sk, &row, "reps", "count", (double)reps);
	emit_metric(&sk, &row, "lanes", "count", nlanes);
	emit_metric(&sk, &row, "cases_at_once_max", "count", at_once_max);
	emit_metric(&sk, &row, "cases_at_once_mean", "count", at_once_mean);
	emit_metric(&sk, &row, "fds_start", "count", fds_start);
	emit_metric(&sk, &row, "fds_end", "count", fds_end);
	emit_metric(&sk, &row, "parent_peak_rss_kib", "KiB", (double)ru_self.ru_maxrss);
	emit_metric(&sk, &row, "lanes_peak_rss_kib", "KiB", (double)lanes_rss);
	emit_metric(&sk, &row, "workers_peak_rss_kib", "KiB", (double)ru_kids.ru_maxrss);
	emit_metric(&sk, &row, "faults_injected", "count", (double)tot_inj);
	emit_metric(&sk, &row, "faults_detected", "count", (double)tot_det);
	if (why[0])
		emit_verdict(&sk, &row, why);

	printf("\nstress: %.1f s in %d lanes, cases in progress at once: peak %u, mean %.2f "
	       "(measured, set-up to tear-down)\n", elapsed_s, nlanes, at_once_max, at_once_mean);
	printf("stress: %llu repetitions, %llu failed unexpectedly, %llu integrity errors, "
	       "faults injected %llu, detected %llu, fds %d -> %d, peak RSS parent %ld KiB, "
	       "lanes %llu KiB, any lane or worker %ld KiB%s\n",
	       (unsigned long long)reps, (unsigned long long)tot_err,
	       (unsigned long long)tot_integ, (unsigned long long)tot_inj,
	       (unsigned long long)tot_det, fds_start, fds_end, ru_self.ru_maxrss,
	       (unsigned long long)lanes_rss, ru_kids.ru_maxrss,
	       ipcb_interrupted ? " (interrupted: partial)" : "");
	if (why[0])
		printf("stress: FAILED: %s\n", why);

	if (ipcb_interrupted)
		meta->partial = 1;
	meta->cases_ok = bad ? 0 : nmech;
	meta->cases_failed = lanes_died;
	for (int i = 0; i < nmech; i++)
		meta->cases_failed += (tot[i].reps_failed + tot[i].integrity) > 0;
	meta->cases_skipped = skipped;
	clock_gettime(CLOCK_REALTIME, &now);
	meta->end_unix_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	for (int i = 0; i < nsinks; i++) {
		if (sk.err) {
			ipcb_sinks[i]->abort(sk.st[i]);
			continue;
		}
		rc = ipcb_sinks[i]->close(sk.st[i], meta);
		if (rc < 0) {
			fprintf(stderr, "ipcbench: cannot write the %s results in %s: %s (errno %d)\n",
				ipcb_sinks[i]->name, run_dir, strerror(-rc), -rc);
			bad = 1;
		}
	}
	if (sk.err) {
		fprintf(stderr, "ipcbench: writing results in %s failed: %s (errno %d); nothing kept\n",
			run_dir, strerror(-sk.err), -sk.err);
		bad = 1;
	}
	printf("results in %s\n", run_dir);
	fflush(stdout);

	ipcb_rundir_link_latest(&rd, cfg);

	status = ipcb_interrupted ? 128 + ipcb_interrupted : bad || fatal ? 1 : 0;
out:
	if (sh != MAP_FAILED)
		munmap(sh, sh_len);
	if (names != MAP_FAILED)
		munmap(names, names_len * (size_t)nlanes);
	free(order);
	free(cases);
	return status;
}
