/* SPDX-License-Identifier: MIT */
/*
 * Patterns: what is measured (ping-pong, streaming, ...), listed in bench/patterns.def.
 *
 * A pattern never names a mechanism. It states the transport capabilities it needs; the
 * planner pairs it with every registered transport that has them. The harness owns
 * everything else: CPUs, launching and gating workers, the watchdog, repetitions,
 * statistics and output. The pattern owns its loop and its integrity check.
 */
#ifndef IPCB_PATTERN_H
#define IPCB_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "../harness/hist.h"

struct ipcb_case;
struct ipcb_config;
struct ipcb_wctx;
struct ipcb_slot;
struct ipcb_opt;

/* Metrics a repetition produced; the runner turns each into a CSV row and summarises them
 * across repetitions. Names carry their unit ("rtt_p50_ns", "msgs_per_s"). */
#define IPCB_METRICS_MAX 48
struct ipcb_metric {
	char name[40];
	const char *unit;
	double value;
	uint64_t samples, ops_per_sample;
	int lower_is_better;
};
struct ipcb_metrics {
	int n;
	struct ipcb_metric m[IPCB_METRICS_MAX];
};
void ipcb_metrics_add(struct ipcb_metrics *m, const char *name, const char *unit, double value,
		      uint64_t samples, uint64_t ops_per_sample, int lower_is_better);
/* What one end of a case cost per operation, over the measured windows of its ns workers
 * (slots s[0..ns-1], n operations in all): cpu_<who>_ns_per_<per> (user + system CPU time),
 * csw_vol_<who>_per_<per> and csw_invol_<who>_per_<per> (voluntary: it blocked;
 * involuntary: it was preempted; getrusage), and, where this machine counts them
 * (harness/perf.h), cycles_<who>_per_<per> and instructions_<who>_per_<per> -- an empty
 * value, never an estimate, for a repetition in which a worker could not count. With n = 0
 * every value is empty. */
void ipcb_metrics_add_cost(struct ipcb_metrics *m, const struct ipcb_slot *s, int ns,
			   const char *who, const char *per, uint64_t n);
/* Adds <prefix>_{min,p50,p90,p99,p999,max,mean,stddev}_ns from a histogram. */
void ipcb_metrics_add_hist(struct ipcb_metrics *m, const char *prefix, const struct ipcb_hist *h,
			   uint64_t ops_per_sample);

#define IPCB_FINISH_RACE 1

struct ipcb_pattern {
	const char *name, *summary;
	int uses_transport;       /* 1: planned once per fitting transport */
	uint32_t needs;           /* IPCB_CAP_* every transport must have */
	uint32_t excludes;        /* IPCB_CAP_* no transport may have */
	int uses_sync;            /* 1: planned once per fitting sync primitive (sync/sync.h) and
				   * variant (the worker-count sweep: ipcb_sync_sweep_workers());
				   * plan() finds c->sy and c->variant set, and may set c->sync_data */
	uint32_t sync_needs;      /* IPCB_SYNC_*: a primitive fits when it has any of these */
	int sized;                /* 1: planned once per --sizes entry */
	const char *headline[3];  /* metrics shown in the console table, NULL-padded */
	const struct ipcb_opt *opts; /* --<bench>-<opt> options (see harness/opt.h), or NULL */
	const char *impl;         /* the rows' impl column: NULL = "c"; "python" (bench/python.c) */
	/* Parent, optional: the rows' mech for case c when it is neither a transport nor a sync
	 * primitive (the Python mechanism of a variant). NULL: the transport's or primitive's. */
	const char *(*mech_name)(const struct ipcb_case *c);

	/* Planner, parent, optional. The pattern's own sweep (kinds, pool sizes x grains, CPU
	 * pairs): how many cases to plan per transport and size, >= 0 (NULL: one). plan() then
	 * sees c->variant in 0 .. n-1, appends what it chose to c->label and c->params, and
	 * may choose c->cpus[] itself (setting c->cpus_fixed; cfg->topo is the machine). */
	int (*variants)(const struct ipcb_config *cfg);

	/* Parent, optional: check the values of the pattern's own options (those a plain option
	 * type cannot check, e.g. lists) once, before anything is planned or written. Return 0,
	 * or -EINVAL with one line "ipcbench: --<opt> ..." in err: bad input, exit status 2. */
	int (*check)(const struct ipcb_config *cfg, char *err, size_t len);

	/* Planner, parent. Decide c->nworkers and c->roles[] for the CPU budget c->ncpus.
	 * Return 0, or -ENOTSUP with a reason in why (the case is SKIPPED). A uses_sync pattern
	 * may return -ENOENT for a primitive or worker count it has no case for (no row).
	 * A pattern without uses_transport may set c->tr to a transport of its own (not in
	 * transports.def): the runner then calls its setup/teardown around every repetition
	 * and names it in the mech column (bench/manager.c: its server's listener). */
	int (*plan)(struct ipcb_case *c, char *why, size_t len);

	/* Worker process or thread. Attach, ipcb_worker_gate(), warm up, measure, record into
	 * w->slot. Return 0, or -errno after ipcb_worker_fail() said why. */
	int (*worker)(struct ipcb_wctx *w);

	/* Parent, after every worker returned 0. Check integrity across the slots; on a
	 * violation return -EPROTO with the reason in why (the case FAILS: no number is
	 * reported). Otherwise add the repetition's metrics and return 0, or
	 * IPCB_FINISH_RACE when a deliberately racy primitive lost updates as expected (why
	 * says how many): the rows are kept with status RACE instead of ok. */
	int (*finish)(const struct ipcb_case *c, struct ipcb_slot *slots, struct ipcb_metrics *m,
		      char *why, size_t len);
};

#define IPCB_PATTERN(n) extern const struct ipcb_pattern ipcb_pattern_##n;
#include "patterns.def"
#undef IPCB_PATTERN

extern const struct ipcb_pattern *const ipcb_patterns[];  /* NULL-terminated */
const struct ipcb_pattern *ipcb_pattern_find(const char *name);

#endif
