// SPDX-License-Identifier: MIT
/*
 * The runner: for each case, each repetition: run it (worker.c), let the pattern check
 * integrity and turn slots into metrics, and keep the metrics. When every repetition of a
 * case passed, its rows go to the sinks: one per repetition and metric, then one "median"
 * row per metric with the order-statistic 95% interval and the NOISY flag. A case that fails
 * any repetition reports only the failure: a number from a run that lost or corrupted a
 * message is not a result.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bench/micro/micro_run.h"
#include "../bench/pattern.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "clock.h"
#include "perf.h"
#include "runner.h"
#include "stats.h"
#include "topo.h"

struct sinks {
	struct ipcb_sink_state *st[8];
	int n, err;
};

static void emit(struct sinks *s, const struct ipcb_row *r)
{
	for (int i = 0; ipcb_sinks[i]; i++) {
		int rc = ipcb_sinks[i]->row(s->st[i], r);
		if (rc < 0 && !s->err)
			s->err = rc;
	}
}

/* emit() for rows made outside the runner (ipcb_micro_run). */
static void emit_any(void *s, const struct ipcb_row *r)
{
	emit(s, r);
}

/* Console table: kept in memory, printed at the end. */
struct headline {
	char label[96], metric[40], unit[16], status[8];
	double median, lo, hi;
};

static void fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "-");
	} else if (strcmp(unit, "ns") == 0) {
		if (v >= 1e9)
			snprintf(buf, len, "%.3g s", v / 1e9);
		else if (v >= 1e6)
			snprintf(buf, len, "%.3g ms", v / 1e6);
		else if (v >= 1e3)
			snprintf(buf, len, "%.3g us", v / 1e3);
		else
			snprintf(buf, len, "%.3g ns", v);
	} else if (strcmp(unit, "B/s") == 0) {
		if (v >= 1e9)
			snprintf(buf, len, "%.3g GB/s", v / 1e9);
		else if (v >= 1e6)
			snprintf(buf, len, "%.3g MB/s", v / 1e6);
		else
			snprintf(buf, len, "%.3g kB/s", v / 1e3);
	} else if (strcmp(unit, "msgs/s") == 0) {
		if (v >= 1e6)
			snprintf(buf, len, "%.3g M/s", v / 1e6);
		else
			snprintf(buf, len, "%.3g k/s", v / 1e3);
	} else {
		snprintf(buf, len, "%.4g %s", v, unit);
	}
}

static void cpus_string(const int *cpus, int n, char *buf, size_t len)
{
	if (n > 0 && cpus[0] < 0)
		snprintf(buf, len, "unpinned");
	else
		ipcb_cpulist_format(cpus, n, buf, len);
}

/* "0;1" from what the workers saw; "0>1" for a worker that moved. */
static void seen_string(const struct ipcb_ctl *ctl, int n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < n && off + 16 < len; i++) {
		const struct ipcb_slot *s = &ctl->slots[i];
		if (s->cpu_first == s->cpu_last && !s->migrations)
			off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? ";" : "", s->cpu_first);
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%d>%d", i ? ";" : "",
						s->cpu_first, s->cpu_last);
	}
}

/* Live line on a terminal (mode 2), or one line per finished case (mode 1, case_done). */
static void progress(const struct ipcb_config *cfg, int done_reps, int total_reps, uint64_t t0,
		     const struct ipcb_case *c, int rep, int final, int case_done)
{
	if (!cfg->progress)
		return;
	double el = (double)(ipcb_now_ns() - t0) / 1e9;
	double eta = done_reps ? el / done_reps * (total_reps - done_reps) : 0;
	if (cfg->progress == 2) {
		fprintf(stderr, "\r\033[K[%3d%%] %-40s rep %d/%d  elapsed %d:%02d  ETA %d:%02d",
			total_reps ? 100 * done_reps / total_reps : 100, c ? c->label : "done", rep,
			cfg->reps, (int)el / 60, (int)el % 60, (int)eta / 60, (int)eta % 60);
		if (final)
			fputc('\n', stderr);
	} else if (c && case_done) {
		fprintf(stderr, "ipcbench: [%d%%] %s done, ETA %d:%02d\n",
			total_reps ? 100 * done_reps / total_reps : 100, c->label, (int)eta / 60,
			(int)eta % 60);
	}
	fflush(stderr);
}

int ipcb_run(const struct ipcb_config *cfg, const struct ipcb_topo *topo, struct ipcb_case *cases,
	     int ncases, const char *run_dir, struct ipcb_run_meta *meta)
{
	struct sinks sk = { 0 };
	struct ipcb_metrics *reps = calloc((size_t)cfg->reps, sizeof(*reps));
	struct headline *heads = calloc((size_t)ncases * 3 + 1, sizeof(*heads));
	char (*seen)[256] = calloc((size_t)cfg->reps, 256);
	char (*memap)[96] = calloc((size_t)cfg->reps, 96);
	double *vals = calloc((size_t)cfg->reps, sizeof(double));
	int nheads = 0, status = 0, total_reps = 0, done_reps = 0;
	uint64_t t0 = ipcb_now_ns();

	if (!reps || !heads || !seen || !memap || !vals) {
		fprintf(stderr, "ipcbench: out of memory\n");
		status = 1;
		goto out_free;
	}
	for (int i = 0; ipcb_sinks[i]; i++) {
		int rc = ipcb_sinks[i]->open(&sk.st[i], run_dir, meta->run_id);
		if (rc < 0) {
			fprintf(stderr, "ipcbench: cannot open the %s sink in %s: %s (errno %d)\n",
				ipcb_sinks[i]->name, run_dir, strerror(-rc), -rc);
			for (int j = 0; j < i; j++)
				ipcb_sinks[j]->abort(sk.st[j]);
			status = 1;
			goto out_free;
		}
		sk.n++;
	}
	for (int i = 0; i < ncases; i++)
		if (!cases[i].skip[0])
			total_reps += cfg->reps;
	/* Said once per run (metadata.json's "perf" says it too). The probes' answers are
	 * cached before any worker is forked, so every worker agrees with them. */
	ipcb_perf_enable(cfg->perf);
	if (cfg->perf && ipcb_perf_hw_unsupported())
		fprintf(stderr, "ipcbench: --perf: cycles and instructions per message: unsupported "
			"here (%s)\n", ipcb_perf_hw_unsupported());
	if (!strcmp(ipcb_perf_migr_method(), "sampling"))
		fprintf(stderr, "ipcbench: migrations are sampled with sched_getcpu(), not counted "
			"(no se.nr_migrations in /proc/thread-self/sched%s)\n",
			cfg->perf ? " and no cpu-migrations perf event" : "; --perf may count them");

	for (int ci = 0; ci < ncases && !ipcb_interrupted && !ipcb_fatal_hang; ci++) {
		struct ipcb_case *c = &cases[ci];
		char cpus[512], params[448], reason[512] = "", repname[16];
		struct ipcb_row row = {
			.bench = c->pat->name, .mech = c->sy ? c->sy->name : c->tr ? c->tr->name : "", .impl = "c",
			.mode = cfg->thread_mode ? "thread" : "process", .workers = c->nworkers,
			.placement = cfg->placement, .size_bytes = c->size,
			.value = NAN, .ci_low = NAN, .ci_high = NAN,
		};
		cpus_string(c->cpus, c->nworkers, cpus, sizeof(cpus));
		row.cpus = cpus;
		row.params = c->params;
		if (c->pat->impl)       /* another implementation (bench/python.c): its own mech */
			row.impl = c->pat->impl;
		if (c->pat->mech_name)
			row.mech = c->pat->mech_name(c);
		if (c->pat->impl && !strcmp(c->pat->impl, "python") && !meta->python_version) {
			static char pyver[32];  /* params say python_version=X; metadata.json too */
			const char *pv = strstr(c->params, "python_version=");
			if (pv && sscanf(pv + 15, "%31[^;]", pyver) == 1 && strcmp(pyver, "none"))
				meta->python_version = pyver;
		}

		if (c->skip[0]) {
			row.status = "SKIPPED";
			row.reason = c->skip;
			row.cpus = "";
			emit(&sk, &row);
			meta->cases_skipped++;
			continue;
		}

		int ok_reps = 0, failed = 0;
		char race[256] = "";   /* a deliberate race lost updates: rows say RACE, and why */
		char effective[256] = "";
		char clamped[200] = "";  /* requests clamped under --allow-clamp: every row says so */
		int migr_by = IPCB_MIGR_SCHED;  /* the least exact way a worker counted */
		for (int r = 0; r < cfg->reps; r++) {
			struct ipcb_ctl *ctl;
			size_t ctl_len;
			enum ipcb_verdict v;

			progress(cfg, done_reps, total_reps, t0, c, r + 1, 0, 0);
			v = ipcb_rep_run(c, topo, &ctl, &ctl_len, effective, sizeof(effective),
					 memap[r], sizeof(memap[r]), reason, sizeof(reason));
			if (v == IPCB_SKIPPED) {
				row.status = "SKIPPED";
				row.reason = reason;
				row.cpus_seen = NULL;
				emit(&sk, &row);
				meta->cases_skipped++;
				done_reps += cfg->reps - r;
				failed = 1;
				break;
			}
			if (v == IPCB_INTERRUPTED) {
				snprintf(repname, sizeof(repname), "%d", r + 1);
				row.rep = repname;
				row.status = "PARTIAL";
				row.reason = reason;
				row.mem = memap[r];
				emit(&sk, &row);
				failed = 1;
				break;
			}
			if (v == IPCB_OK) {
				char why[256] = "";
				memset(&reps[r], 0, sizeof(reps[r]));
				int fr = c->pat->finish(c, ctl->slots, &reps[r], why, sizeof(why));
				if (fr < 0) {
					snprintf(reason, sizeof(reason), "%s", why);
					v = IPCB_FAILED;
				} else if (fr == IPCB_FINISH_RACE && !race[0]) {
					snprintf(race, sizeof(race), "expected race: %.200s", why);
				}
				seen_string(ctl, c->nworkers, seen[r], sizeof(seen[r]));
				for (int i = 0; i < c->nworkers; i++) {
					const struct ipcb_slot *sl = &ctl->slots[i];
					if (sl->cpu_first < 0)
						continue;   /* never reached the gate */
					if (sl->migr_counted == IPCB_MIGR_SAMPLED)
						migr_by = IPCB_MIGR_SAMPLED;
					else if (sl->migr_counted == IPCB_MIGR_PERF &&
						 migr_by == IPCB_MIGR_SCHED)
						migr_by = IPCB_MIGR_PERF;
				}
				if (ctl->clamped[0] && !clamped[0]) {
					snprintf(clamped, sizeof(clamped), "%s", ctl->clamped);
					fprintf(stderr, "%sipcbench: %s: warning: %s (--allow-clamp: "
						"recorded in the rows)\n", cfg->progress == 2 ?
						"\r\033[K" : "", c->label, clamped);
				}
				ipcb_rep_free(ctl, ctl_len);
			}
			done_reps++;
			if (v != IPCB_OK) {
				snprintf(repname, sizeof(repname), "%d", r + 1);
				row.rep = repname;
				row.status = "FAILED";
				row.reason = reason;
				row.mem = memap[r];
				emit(&sk, &row);
				fprintf(stderr, "%sipcbench: %s: FAILED in repetition %d: %s\n",
					cfg->progress == 2 ? "\r\033[K" : "", c->label, r + 1, reason);
				meta->cases_failed++;
				status = 1;
				done_reps += cfg->reps - r - 1;
				failed = 1;
				break;
			}
			ok_reps++;
		}
		progress(cfg, done_reps, total_reps, t0, c, cfg->reps, 0, 1);
		if (failed)
			continue;

		/* Every repetition passed: write them, then the summaries. */
		if (effective[0]) {
			/* Effective values (what the kernel granted) are marked "eff." so that
			 * plots and compare can tell them from the parameters that were asked for. */
			size_t off = (size_t)snprintf(params, sizeof(params), "%s", c->params);
			for (const char *e = effective; *e && off < sizeof(params);) {
				size_t l = strcspn(e, ";");
				if (l)
					off += (size_t)snprintf(params + off, sizeof(params) - off, "%seff.%.*s",
								off ? ";" : "", (int)l, e);
				e += l + (e[l] == ';');
			}
		}
		else
			snprintf(params, sizeof(params), "%s", c->params);
		/* How the migrations metric (and the pinning check) counted: exactly, by the
		 * scheduler or perf, or from sched_getcpu() samples (perf.h). */
		size_t pl = strlen(params);
		snprintf(params + pl, sizeof(params) - pl, "%seff.migrations_by=%s", pl ? ";" : "",
			 migr_by == IPCB_MIGR_SCHED ? "sched" : migr_by == IPCB_MIGR_PERF ? "perf" :
			 "sampling");
		row.params = params;
		for (int r = 0; r < ok_reps; r++) {
			snprintf(repname, sizeof(repname), "%d", r + 1);
			row.rep = repname;
			row.cpus_seen = seen[r];
			row.mem = memap[r];
			row.status = race[0] ? "RACE" : "ok";
			row.reason = race[0] ? race : clamped;
			for (int k = 0; k < reps[r].n; k++) {
				const struct ipcb_metric *m = &reps[r].m[k];
				row.metric = m->name;
				row.unit = m->unit;
				row.value = m->value;
				row.samples = m->samples;
				row.ops_per_sample = m->ops_per_sample;
				emit(&sk, &row);
			}
		}
		int case_noisy = 0;
		row.rep = "median";
		row.cpus_seen = seen[ok_reps - 1];
		for (int k = 0; k < reps[0].n; k++) {
			struct ipcb_summary sum;
			char why[384] = "";
			const struct ipcb_metric *m = &reps[0].m[k];
			for (int r = 0; r < ok_reps; r++)
				vals[r] = reps[r].m[k].value;
			if (ipcb_stats_summarize(vals, ok_reps, cfg->noise, &sum) < 0)
				continue;
			row.metric = m->name;
			row.unit = m->unit;
			row.value = sum.median;
			row.ci_low = sum.ci_low;
			row.ci_high = sum.ci_high;
			row.samples = (uint64_t)ok_reps;
			row.ops_per_sample = reps[ok_reps - 1].m[k].ops_per_sample;
			row.status = sum.noisy ? "NOISY" : "ok";
			if (sum.noisy)
				snprintf(why, sizeof(why), "%.0f%% interval spans %.1f%% of the median "
					 "(threshold %.1f%%)", sum.ci_level * 100, sum.rel_width * 100,
					 cfg->noise * 100);
			if (clamped[0]) {
				size_t wl = strlen(why);
				snprintf(why + wl, sizeof(why) - wl, "%s%s", wl ? "; " : "", clamped);
			}
			row.reason = why;
			if (race[0]) {
				row.status = "RACE";
				row.reason = race;
			}
			emit(&sk, &row);
			for (int h = 0; h < 3 && c->pat->headline[h]; h++) {
				if (strcmp(c->pat->headline[h], m->name) != 0)
					continue;
				struct headline *hd = &heads[nheads++];
				snprintf(hd->label, sizeof(hd->label), "%s", c->label);
				snprintf(hd->metric, sizeof(hd->metric), "%s", m->name);
				snprintf(hd->unit, sizeof(hd->unit), "%s", m->unit);
				snprintf(hd->status, sizeof(hd->status), "%s",
					 race[0] ? "RACE" : sum.noisy ? "NOISY" : "ok");
				hd->median = sum.median;
				hd->lo = sum.ci_low;
				hd->hi = sum.ci_high;
				case_noisy |= sum.noisy;
			}
		}
		row.reason = NULL;
		row.ci_low = row.ci_high = NAN;
		if (case_noisy)
			meta->cases_noisy++;
		else
			meta->cases_ok++;
	}
	progress(cfg, done_reps, total_reps, t0, NULL, 0, 1, 0);

	/* --all: the microbenchmarks too, their rows into the same sinks before they close. */
	if (cfg->all && !ipcb_interrupted && !ipcb_fatal_hang &&
	    ipcb_micro_run(cfg, run_dir, emit_any, &sk, meta) != 0)
		status = 1;

	if (ipcb_interrupted)
		meta->partial = 1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	meta->end_unix_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	for (int i = 0; ipcb_sinks[i]; i++) {
		int rc;
		if (sk.err) {
			ipcb_sinks[i]->abort(sk.st[i]);
			continue;
		}
		rc = ipcb_sinks[i]->close(sk.st[i], meta);
		if (rc < 0) {
			fprintf(stderr, "ipcbench: cannot write the %s results in %s: %s (errno %d)\n",
				ipcb_sinks[i]->name, run_dir, strerror(-rc), -rc);
			status = 1;
		}
	}
	if (sk.err) {
		fprintf(stderr, "ipcbench: writing results in %s failed: %s (errno %d); nothing kept\n",
			run_dir, strerror(-sk.err), -sk.err);
		status = 1;
	}

	/* The console table. */
	if (nheads) {
		printf("\n%-36s %-14s %12s  %-27s %s\n", "case", "metric", "median", "95% interval",
		       "status");
		for (int i = 0; i < nheads; i++) {
			char med[32], lo[32], hi[32], iv[72];
			fmt_value(med, sizeof(med), heads[i].median, heads[i].unit);
			fmt_value(lo, sizeof(lo), heads[i].lo, heads[i].unit);
			fmt_value(hi, sizeof(hi), heads[i].hi, heads[i].unit);
			snprintf(iv, sizeof(iv), "[%s, %s]", lo, hi);
			printf("%-36s %-14s %12s  %-27s %s\n", heads[i].label, heads[i].metric, med, iv,
			       heads[i].status);
		}
	}
	printf("\n%d ok, %d noisy, %d failed, %d skipped%s; results in %s\n", meta->cases_ok,
	       meta->cases_noisy, meta->cases_failed, meta->cases_skipped,
	       meta->partial ? " (interrupted: partial)" : "", run_dir);
	fflush(stdout);
	if (ipcb_interrupted)
		status = 128 + ipcb_interrupted;
	else if (ipcb_fatal_hang)
		status = 1;

out_free:
	free(reps);
	free(heads);
	free(seen);
	free(memap);
	free(vals);
	return status;
}
