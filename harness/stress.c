// SPDX-License-Identifier: MIT
/*
 * ipcbench stress: a long mixed run that checks integrity, not speed.
 *
 * What runs. The planner's stream, pingpong and prodcons cases for every usable transport
 * (or --mech), at sizes 8, 64 and 4K (or --sizes; 8 bytes lets eventfd and signal in), each
 * repetition short (10 ms warm-up, 30 ms measured). The cases run one after another,
 * round-robin (interleaved so every mechanism and pattern comes up early), until --duration
 * has passed (60 s; 10 s with --quick): one case at a time, on all the workers it plans, so
 * the control block, the watchdog and the cleanup of ipcb_rep_run() are the ones every
 * normal run uses. Running several cases at once is not done (ipcb_rep_run() keeps static
 * state; it would need one sub-parent per lane).
 * Every message carries a sequence number and a stamp, and every pattern's finish() checks
 * its counters, exactly as in `ipcbench run`.
 *
 * What is counted, per mechanism: repetitions, messages handled (ops), repetitions that
 * failed without an injected fault (errors), lost / duplicated-or-reordered / corrupt
 * messages from the workers' slots (zero expected, except loss on a LOSSY transport, which
 * is reported and not an error), and the peak RSS of its worker processes (VmHWM, sampled
 * from /proc by the parent while they run). For the run: the open file descriptors of the
 * parent at the start and at the end (equal expected), the parent's and the children's peak
 * RSS (getrusage), and the faults injected and detected per kind.
 *
 * Fault injection (--inject KINDS at --inject-rate N/s, kinds taken in turn). A fault falls
 * due every 1/N s and is armed on the next repetition it fits:
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
 * A fault that could not take effect (the repetition ended first) stays armed for the next.
 * Injected faults never make the exit status 1; a fault injected but not detected does.
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
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../bench/pattern.h"
#include "../ipc/transport.h"
#include "clock.h"
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
	/* Per-case settings: short repetitions, one at a time. */
	cfg->reps = 1;
	cfg->duration_s = CASE_DURATION_S;
	if (cfg->warmup_s < 0)
		cfg->warmup_s = CASE_WARMUP_S;
	if (!cfg->sizes)
		cfg->sizes = "8,64,4K";
	return 0;
}

/* ---- accounting ---- */

struct mech_total {
	const char *name;
	int lossy;
	uint64_t reps, reps_failed, ops, lost, dup, corrupt, integrity, unmeasured, rss_kib;
	uint64_t injected, detected;
	char first_error[256];
};

struct stress {
	const struct ipcb_config *cfg;
	struct mech_total mech[MAX_MECHS];
	int nmech, cur;            /* cur: index of the running case's mechanism */
	/* kill/stop armed on the running repetition: the kind, or -1 */
	int armed, injected, victim;
	uint64_t t_inject_ns;      /* when the armed kill or stop was sent */
	uint32_t rr;
	uint64_t kinds_injected[FK_N], kinds_detected[FK_N];
	uint64_t kinds_detect_ns_max[FK_N];   /* kill/stop: signal sent .. repetition judged */
	char undetected[256];
};

static long vm_hwm_kib(pid_t pid)
{
	char path[64], line[128];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The watch hook (worker.c): sample RSS, and inject an armed kill or stop. */
static void watch(void *arg, const struct ipcb_case *c, const pid_t *pid, const int *done, int n,
		  uint64_t t_go_ns)
{
	struct stress *s = arg;
	struct mech_total *m = &s->mech[s->cur];

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
	/* The victim: any worker, producer or consumer (xorshift32, fixed seed: a run's
	 * victims repeat from one run to the next). */
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

static int mech_index(struct stress *s, const struct ipcb_case *c)
{
	const char *name = c->tr ? c->tr->name : c->pat->name;

	for (int i = 0; i < s->nmech; i++)
		if (strcmp(s->mech[i].name, name) == 0)
			return i;
	if (s->nmech == MAX_MECHS)
		return MAX_MECHS - 1;
	s->mech[s->nmech].name = name;
	s->mech[s->nmech].lossy = c->tr && (c->tr->caps & IPCB_CAP_LOSSY);
	return s->nmech++;
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

static int is_queue_case(const struct ipcb_case *c)
{
	return !strcmp(c->pat->name, "stream") || !strcmp(c->pat->name, "prodcons");
}

/* Sum what the workers counted into the mechanism's totals. */
static void add_slots(struct mech_total *m, const struct ipcb_case *c, const struct ipcb_ctl *ctl)
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

static const char *case_mech(const struct ipcb_case *c)
{
	return c->tr ? c->tr->name : c->pat->name;
}

static const char *case_pattern(const struct ipcb_case *c)
{
	return c->pat->name;
}

/* Reorder in rounds: each round takes, in the current order, the first unused case of each
 * key (stable). The planner lists cases pattern by pattern; interleaving by pattern, then by
 * mechanism, makes a short run visit every mechanism and every pattern early. */
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
		/* one round: the first unused case of each mechanism, in order of appearance */
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

static void progress(const struct stress *s, uint64_t t0, double total_s, uint64_t reps)
{
	uint64_t ops = 0, errs = 0, inj = 0, det = 0;

	for (int i = 0; i < s->nmech; i++) {
		ops += s->mech[i].ops;
		errs += s->mech[i].reps_failed;
	}
	for (int k = 0; k < FK_N; k++) {
		inj += s->kinds_injected[k];
		det += s->kinds_detected[k];
	}
	fprintf(stderr, "ipcbench: stress %.0f/%.0f s: %llu repetitions, %llu messages checked, "
		"%llu failed repetitions, faults %llu injected / %llu detected\n",
		(double)(ipcb_now_ns() - t0) / 1e9, total_s, (unsigned long long)reps,
		(unsigned long long)ops, (unsigned long long)errs, (unsigned long long)inj,
		(unsigned long long)det);
	fflush(stderr);
}

int ipcb_stress_cmd(struct ipcb_config *cfg, const struct ipcb_topo *topo, int argc, char **argv)
{
	static struct ipcb_rundir rd;
	static struct stress s;
	struct ipcb_watch_hook hook = { HOOK_EVERY_NS, watch, &s };
	struct ipcb_case *cases = NULL;
	struct ipcb_run_meta *meta = &rd.meta;
	const char *run_dir = rd.dir, *run_id = rd.run_id;
	struct sinks sk = { { 0 }, 0 };
	struct ipcb_fault saved = ipcb_test_fault;
	struct timespec now;
	_Atomic uint64_t *stalled = NULL;
	int *order = NULL, *runs = NULL, nrun = 0, n, rc, status = 0, nsinks = 0;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.armed = -1;
	s.rr = 2463534242u;
	n = ipcb_plan_build(cfg, &cases);
	if (n < 0) {
		fprintf(stderr, "ipcbench: planning failed: %s\n", strerror(-n));
		return 1;
	}
	order = calloc((size_t)(n ? n : 1), sizeof(*order));
	runs = calloc((size_t)(n ? n : 1), sizeof(*runs));
	if (!order || !runs) {
		free(runs);
		free(order);
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
		free(runs);
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
			free(runs);
			free(order);
			free(cases);
			return 2;
		}
	}
	interleave(cases, order, nrun, case_pattern);
	interleave(cases, order, nrun, case_mech);
	stalled = mmap(NULL, sizeof(*stalled), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (stalled == MAP_FAILED) {
		fprintf(stderr, "ipcbench: stress: cannot map a shared word: %s (errno %d)\n",
			strerror(errno), errno);
		free(runs);
		free(order);
		free(cases);
		return 1;
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
	uint64_t t0 = ipcb_now_ns(), t_end = t0 + (uint64_t)(prep.total_s * 1e9);
	uint64_t period_ns = (uint64_t)(1e9 / cfg->inject_rate), next_fault = t0 + period_ns;
	uint64_t next_progress = t0 + PROGRESS_EVERY_NS, reps = 0;
	int pending = -1, kidx = 0, skipped = 0, partial_row = 0;

	char rate[48] = "";
	if (cfg->inject)
		snprintf(rate, sizeof(rate), ", %g per second", cfg->inject_rate);
	fprintf(stderr, "ipcbench: stress %s: %.0f s over %d cases (%d to run) in turn, one at a "
		"time, %s mode; faults: %s%s\n", run_id, prep.total_s, n, nrun,
		cfg->thread_mode ? "thread" : "process", cfg->inject ? cfg->inject : "none", rate);
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

	ipcb_watch_hook = cfg->thread_mode ? NULL : &hook;
	for (uint64_t k = 0; nrun > 0 && !ipcb_interrupted && !ipcb_fatal_hang; k++) {
		uint64_t tnow = ipcb_now_ns();
		if (tnow >= t_end)
			break;
		if (tnow >= next_progress) {
			progress(&s, t0, prep.total_s, reps);
			next_progress = tnow + PROGRESS_EVERY_NS;
		}
		int ci = order[k % (uint64_t)nrun];
		struct ipcb_case *c = &cases[ci];
		char reason[512] = "", effective[128], memap[96], why[256] = "";
		struct ipcb_ctl *ctl = NULL;
		size_t ctl_len = 0;
		int stall_kind = -1;
		char repname[16];

		snprintf(repname, sizeof(repname), "%d", runs[ci] + 1);

		if (prep.nkinds && pending < 0 && tnow >= next_fault) {
			pending = prep.kinds[kidx++ % prep.nkinds];
			next_fault += period_ns;
			if (next_fault < tnow)
				next_fault = tnow + period_ns;
		}
		s.cur = mech_index(&s, c);
		s.armed = -1;
		s.injected = 0;
		if (pending == FK_KILL || pending == FK_STOP) {
			if (!cfg->thread_mode)
				s.armed = pending;
		} else if (pending == FK_SLOW || (pending == FK_FULL && is_queue_case(c))) {
			stall_kind = pending;
			atomic_store(stalled, 0);
			ipcb_test_fault.kind = IPCB_FAULT_STALL;
			ipcb_test_fault.at = STALL_AT;
			ipcb_test_fault.stall_ns = pending == FK_SLOW ? SLOW_STALL_NS : FULL_STALL_NS;
			ipcb_test_fault.stalled = stalled;
		}

		enum ipcb_verdict v = ipcb_rep_run(c, topo, &ctl, &ctl_len, effective,
						   sizeof(effective), memap, sizeof(memap), reason,
						   sizeof(reason));
		if (stall_kind >= 0)
			ipcb_test_fault = saved;
		if (v == IPCB_INTERRUPTED) {
			row.bench = c->pat->name;
			row.mech = c->tr ? c->tr->name : "";
			row.size_bytes = c->size;
			row.params = c->params;
			row.rep = repname;
			row.status = "PARTIAL";
			row.reason = reason;
			emit(&sk, &row);
			partial_row = 1;
			break;
		}
		struct mech_total *m = &s.mech[s.cur];
		if (v == IPCB_SKIPPED) {
			/* Set-up said no (a system limit): a row, and out of the rotation. */
			row.bench = c->pat->name;
			row.mech = c->tr ? c->tr->name : "";
			row.size_bytes = c->size;
			row.params = c->params;
			row.rep = NULL;
			row.status = "SKIPPED";
			row.reason = reason;
			emit(&sk, &row);
			skipped++;
			for (int j = (int)(k % (uint64_t)nrun); j < nrun - 1; j++)
				order[j] = order[j + 1];
			nrun--;
			k--;
			continue;
		}
		reps++;
		m->reps++;
		runs[ci]++;
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
			if (detected && lat > s.kinds_detect_ns_max[fault])
				s.kinds_detect_ns_max[fault] = lat;
		} else if (stall_kind >= 0 && atomic_load(stalled) > 0) {
			fault = stall_kind;
			detected = v == IPCB_OK;
		}
		if (fault >= 0) {
			pending = -1;
			s.kinds_injected[fault]++;
			m->injected++;
			if (detected) {
				s.kinds_detected[fault]++;
				m->detected++;
			} else if (!s.undetected[0]) {
				snprintf(s.undetected, sizeof(s.undetected), "%s on %s: %.150s",
					 fault_names[fault], c->label,
					 v == IPCB_OK ? "the case passed" : reason);
			}
		}
		if (v != IPCB_OK) {
			char full[700];
			int expected = fault >= 0 && (fault == FK_KILL || fault == FK_STOP);
			if (!expected) {
				m->reps_failed++;
				if (!m->first_error[0])
					snprintf(m->first_error, sizeof(m->first_error), "%s: %.150s",
						 c->label, reason);
				fprintf(stderr, "ipcbench: %s: FAILED: %s\n", c->label, reason);
			}
			snprintf(full, sizeof(full), "%s%s%s", expected ? "injected " : "",
				 expected ? fault_names[fault] : "", expected ? ": " : "");
			size_t l = strlen(full);
			snprintf(full + l, sizeof(full) - l, "%s", reason);
			row.bench = c->pat->name;
			row.mech = c->tr ? c->tr->name : "";
			row.size_bytes = c->size;
			row.params = c->params;
			row.workers = c->nworkers;
			row.rep = repname;
			row.mem = memap;
			row.status = "FAILED";
			row.reason = full;
			emit(&sk, &row);
			row.workers = 0;
			row.mem = NULL;
		}
	}
	ipcb_watch_hook = NULL;
	if (ipcb_interrupted && !partial_row) {
		/* The signal came between two repetitions. */
		char why[64], repname[24];
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
	progress(&s, t0, prep.total_s, reps);

	/* ---- totals ---- */
	struct rusage ru_self, ru_kids;
	getrusage(RUSAGE_SELF, &ru_self);
	getrusage(RUSAGE_CHILDREN, &ru_kids);
	uint64_t tot_inj = 0, tot_det = 0, tot_err = 0, tot_integ = 0;
	int bad = 0;
	char params[64];

	row.bench = "stress";
	row.rep = "1";
	row.size_bytes = 0;
	row.params = NULL;
	printf("\n%-22s %7s %12s %6s %6s %6s %8s %10s %9s  %s\n", "mechanism", "reps", "msgs",
	       "errors", "lost", "dup", "corrupt", "peak_rss", "faults", "status");
	for (int i = 0; i < s.nmech; i++) {
		struct mech_total *m = &s.mech[i];
		uint64_t errs = m->reps_failed;
		uint64_t integ = m->integrity + m->dup + m->corrupt + (m->lossy ? 0 : m->lost);
		char why[400] = "";
		if (errs || integ)
			snprintf(why, sizeof(why), "%llu failed repetitions, %llu integrity errors%s%s",
				 (unsigned long long)errs, (unsigned long long)integ,
				 m->first_error[0] ? "; first: " : "", m->first_error);
		else if (m->lossy && m->lost)
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
		row.mech = m->name;
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
		printf("%-22s %7llu %12llu %6llu %6llu %6llu %8llu %10s %9s  %s\n", m->name,
		       (unsigned long long)m->reps, (unsigned long long)m->ops,
		       (unsigned long long)errs, (unsigned long long)m->lost,
		       (unsigned long long)m->dup, (unsigned long long)m->corrupt, rss, fl,
		       ok ? "ok" : "FAILED");
	}
	row.mech = "";
	for (int k = 0; k < FK_N; k++) {
		tot_inj += s.kinds_injected[k];
		tot_det += s.kinds_detected[k];
		if (!s.kinds_injected[k])
			continue;
		snprintf(params, sizeof(params), "fault=%s", fault_names[k]);
		row.params = params;
		emit_metric(&sk, &row, "faults_injected", "count", (double)s.kinds_injected[k]);
		emit_metric(&sk, &row, "faults_detected", "count", (double)s.kinds_detected[k]);
		if (k == FK_KILL || k == FK_STOP)
			emit_metric(&sk, &row, "detect_ns_max", "ns", (double)s.kinds_detect_ns_max[k]);
		if (s.kinds_injected[k] != s.kinds_detected[k])
			emit_verdict(&sk, &row, "a fault of this kind was injected but not detected");
		printf("%s%s: %llu injected, %llu detected", tot_inj == s.kinds_injected[k] ? "\n" : "",
		       fault_names[k], (unsigned long long)s.kinds_injected[k],
		       (unsigned long long)s.kinds_detected[k]);
		if (k == FK_KILL || k == FK_STOP)
			printf(" (slowest detection %.1f ms; watchdog %.1f s)",
			       (double)s.kinds_detect_ns_max[k] / 1e6, (double)cfg->timeout_ns / 1e9);
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
			 (unsigned long long)tot_det, s.undetected);
	}
	bad |= fds_start != fds_end || tot_inj != tot_det;
	emit_metric(&sk, &row, "duration_s", "s", elapsed_s);
	emit_metric(&sk, &row, "reps", "count", (double)reps);
	emit_metric(&sk, &row, "fds_start", "count", fds_start);
	emit_metric(&sk, &row, "fds_end", "count", fds_end);
	emit_metric(&sk, &row, "parent_peak_rss_kib", "KiB", (double)ru_self.ru_maxrss);
	emit_metric(&sk, &row, "workers_peak_rss_kib", "KiB", (double)ru_kids.ru_maxrss);
	emit_metric(&sk, &row, "faults_injected", "count", (double)tot_inj);
	emit_metric(&sk, &row, "faults_detected", "count", (double)tot_det);
	if (why[0])
		emit_verdict(&sk, &row, why);

	printf("\nstress: %.1f s, %llu repetitions, %llu failed unexpectedly, %llu integrity errors, "
	       "faults injected %llu, "
	       "detected %llu, fds %d -> %d, peak RSS parent %ld KiB, workers %ld KiB%s\n",
	       elapsed_s, (unsigned long long)reps, (unsigned long long)tot_err,
	       (unsigned long long)tot_integ,
	       (unsigned long long)tot_inj, (unsigned long long)tot_det, fds_start, fds_end,
	       ru_self.ru_maxrss, ru_kids.ru_maxrss,
	       ipcb_interrupted ? " (interrupted: partial)" : "");
	if (why[0])
		printf("stress: FAILED: %s\n", why);

	if (ipcb_interrupted)
		meta->partial = 1;
	meta->cases_ok = bad ? 0 : s.nmech;
	meta->cases_failed = 0;
	for (int i = 0; i < s.nmech; i++)
		meta->cases_failed += (s.mech[i].reps_failed + s.mech[i].integrity) > 0;
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

	status = ipcb_interrupted ? 128 + ipcb_interrupted : bad || ipcb_fatal_hang ? 1 : 0;
out:
	munmap((void *)stalled, sizeof(*stalled));
	free(runs);
	free(order);
	free(cases);
	return status;
}
