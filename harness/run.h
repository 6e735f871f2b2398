/* SPDX-License-Identifier: MIT */
/*
 * The runner's data: the configuration, a planned case, and the shared control block the
 * workers of one repetition use (start gate, one result slot per worker).
 */
#ifndef IPCB_RUN_H
#define IPCB_RUN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hist.h"
#include "mem.h"
#include "perf.h"

#define IPCB_MAX_WORKERS 1024
#define IPCB_MAX_SIZES 64
#define IPCB_MAX_NAMES 64
#define IPCB_CACHELINE 64

struct ipcb_topo;
struct ipcb_pattern;
struct ipcb_transport;
struct ipcb_chan;
struct ipcb_sync;
struct ipcb_sync_inst;

/* Options as parsed (see opt.c for the table: names, ranges, help) ... */
struct ipcb_config {
	/* selection */
	int all;
	const char *benches;          /* comma list, NULL = every pattern */
	const char *mechs;            /* comma list, NULL = every fitting transport */
	int python;             /* --python: the python bench */
	/* placement */
	int cores;              /* CPU budget; 0 = every allowed CPU */
	const char *cpus;             /* explicit CPU list, overrides placement */
	const char *placement;
	int oversubscribe;
	int unpinned;
	const char *mem;
	const char *mode;             /* "process" | "thread" */
	/* measurement */
	int quick;
	int reps;               /* 0 = default (5, or 3 with --quick) */
	double duration_s;      /* measured time per repetition; 0 = default */
	double warmup_s;        /* -1 = default */
	const char *sizes;
	const char *verify;           /* "sparse" | "full" */
	double timeout_s;       /* per repetition; 0 = automatic */
	double noise;           /* relative CI width above which a case is NOISY */
	double rate;            /* open-loop send rate per second; 0 = closed loop */
	int allow_clamp;        /* a request the kernel clamped is a recorded warning, not an
				 * error (harness/request.h) */
	int perf;               /* --perf: cycles and instructions per message (perf.h) */
	const char *inject;           /* stress: fault kinds, comma list (stress.c); NULL = none */
	double inject_rate;     /* stress: faults per second; 0 = default */
	/* output */
	const char *out;
	int no_plots;
	const char *progress_s;       /* "auto" | "on" | "off" */
	int progress;           /* resolved: 0 none, 1 a line per case, 2 live line */

	/* ... and as resolved by ipcb_config_resolve() */
	int n_sizes;
	size_t size_list[IPCB_MAX_SIZES];
	int n_cpus;             /* the CPUs cases draw from, in placement order */
	int cpu_list[IPCB_MAX_WORKERS];
	int explicit_cpus;      /* 1 when --cpus gave the list */
	int classes;            /* --placement classes: two-worker cases once per CPU relation */
	int budget;             /* most workers a case may start */
	int thread_mode;
	int verify_full;
	struct ipcb_mem_req mem_req;
	uint64_t duration_ns, warmup_ns, timeout_ns;
	char cores_note[160];
	const struct ipcb_topo *topo; /* the machine resolve() checked against, for planners */
};

/* One planned case: a pattern with a transport, a size and a worker layout. */
struct ipcb_case {
	const struct ipcb_pattern *pat;
	const struct ipcb_transport *tr;      /* NULL for patterns without a transport */
	const struct ipcb_sync *sy;           /* uses_sync patterns: the primitive, else NULL */
	size_t sync_data;                     /* bytes of shared pattern data the runner places
					       * beside the primitive (balance, Array), zeroed */
	const struct ipcb_config *cfg;
	size_t size;
	int ncpus;                            /* CPU budget the planner may use */
	int variant;                          /* 0 .. pattern->variants(cfg) - 1 (its own sweep) */
	int cpus_fixed;                       /* 1: plan() chose cpus[] itself (CPU pairs, an
					       * oversubscribed pool); the planner keeps them */
	int nworkers;
	int roles[IPCB_MAX_WORKERS];
	int cpus[IPCB_MAX_WORKERS];           /* -1 = unpinned */
	char label[96];                       /* "pingpong pipe 64B", for messages */
	char params[128];                     /* "k=v;..." extra CSV parameters */
	char skip[160];                       /* non-empty: SKIPPED with this reason */
};

/* One worker's results: a cache-line aligned slot in the shared control block. */
struct ipcb_slot {
	_Alignas(IPCB_CACHELINE) _Atomic int32_t state;   /* 0 running, 1 done, -errno failed */
	int32_t cpu_first, cpu_last;          /* sched_getcpu() at gate and at the end */
	uint32_t migrations;                  /* CPU changes from the gate to the end: counted by
					       * the scheduler or perf, or seen while sampling */
	int32_t migr_counted;                 /* IPCB_MIGR_*: how (perf.h) */
	int32_t perf_hw;                      /* 1: cycles and instructions below were counted */
	uint64_t cycles, instructions;        /* over the measured window (perf.h) */
	uint64_t heartbeat;
	char err[160];
	uint64_t msgs, bytes;                 /* messages / bytes handled in the measured window */
	uint64_t lost, dup, corrupt, reorder; /* integrity counts */
	uint64_t t_begin_ns, t_end_ns;        /* measured window */
	uint64_t ops_per_sample;
	uint64_t utime_ns, stime_ns, nvcsw, nivcsw; /* over the measured window */
	uint64_t u[8];                        /* pattern-private */
	struct ipcb_hist hist;
};

/* Shared by the parent and the workers of one repetition (MAP_SHARED, anonymous). */
struct ipcb_ctl {
	_Alignas(IPCB_CACHELINE) _Atomic uint32_t ready;  /* workers waiting at the gate */
	_Alignas(IPCB_CACHELINE) _Atomic uint32_t go;     /* 0 -> 1 opens the gate (futex) */
	_Alignas(IPCB_CACHELINE) _Atomic uint32_t stop;   /* parent asks workers to stop */
	_Atomic uint32_t done;                            /* threads finished (thread mode, futex) */
	uint64_t t_go_ns;
	int nworkers;
	char clamped[200];                    /* requests clamped under --allow-clamp (set by the
					       * parent after setup), "" when none */
	/* Pattern-private shared words (e.g. producers still running), zeroed per repetition. */
	_Alignas(IPCB_CACHELINE) _Atomic uint64_t shared[8];
	struct ipcb_slot slots[];
};

/* What a worker sees. */
struct ipcb_wctx {
	int id, role, cpu, thread_mode;
	const struct ipcb_case *c;
	struct ipcb_chan *ch;
	struct ipcb_sync_inst *si;            /* c->sy's instance (state + data), else NULL */
	struct ipcb_ctl *ctl;
	struct ipcb_slot *slot;
	struct ipcb_perf perf;                /* this worker's counters (worker.c opens them) */
};

/* Worker side. Arrive at the start gate and wait until the parent opens it (every worker
 * released together). Records the CPU. Returns 0, or -ECANCELED if the parent stopped the
 * case. */
int ipcb_worker_gate(struct ipcb_wctx *w);
/* Record a failure reason in the slot (printf-style); returns err (a -errno) for chaining. */
int ipcb_worker_fail(struct ipcb_wctx *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Begin / end the measured window: timestamps, rusage and a CPU sample. */
void ipcb_worker_begin(struct ipcb_wctx *w);
void ipcb_worker_end(struct ipcb_wctx *w);
/* Cheap CPU sample for migration counting; call now and then inside long loops. */
void ipcb_worker_sample_cpu(struct ipcb_wctx *w);

/* Outcome of one repetition. */
enum ipcb_verdict { IPCB_OK, IPCB_FAILED, IPCB_SKIPPED, IPCB_INTERRUPTED };

/* Parent side: run one repetition of c (set up the channel, start the workers pinned,
 * open the gate, watch them, reap, tear down). On IPCB_OK the control block stays mapped
 * in *ctl_out for the caller to read and free with ipcb_rep_free(). reason gets the why of
 * anything else. */
enum ipcb_verdict ipcb_rep_run(const struct ipcb_case *c, const struct ipcb_topo *topo,
			       struct ipcb_ctl **ctl_out, size_t *ctl_len, char *effective,
			       size_t efflen, char *mem_applied, size_t memlen, char *reason,
			       size_t rlen);
void ipcb_rep_free(struct ipcb_ctl *ctl, size_t len);

/* Stress mode (stress.c): while a repetition runs in process mode, the parent calls
 * fn(arg, case, pids, done, n, t_go_ns) about every every_ns after the gate opened (pid[i]
 * of worker i, done[i] when it was reaped). fn may signal workers (fault injection) and read
 * /proc; it must not reap them. NULL (the default): no hook. */
struct ipcb_watch_hook {
	uint64_t every_ns;
	void (*fn)(void *arg, const struct ipcb_case *c, const pid_t *pid, const int *done, int n,
		   uint64_t t_go_ns);
	void *arg;
};
extern const struct ipcb_watch_hook *ipcb_watch_hook;

/* Set by the SIGINT/SIGTERM handler: the signal number, 0 when none arrived. */
extern volatile int ipcb_interrupted;
/* Set when a worker thread hung and could not be stopped: the run must end. */
extern int ipcb_fatal_hang;
void ipcb_signals_install(void);

#endif
