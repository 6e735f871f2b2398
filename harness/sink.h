/* SPDX-License-Identifier: MIT */
/*
 * Result sinks. The runner emits one ipcb_row per (case, repetition, metric); sinks are a
 * registry (sinks.def) and each writes the rows its own way. File sinks write to
 * "<name>.tmp" in the run directory and rename on close, so a killed run leaves no half file.
 * The CSV columns and their meaning are documented in results/README.md (schema version
 * IPCB_CSV_SCHEMA); change both together.
 */
#ifndef IPCB_SINK_H
#define IPCB_SINK_H

#include <stdint.h>
#include <stdio.h>

#define IPCB_CSV_SCHEMA 3
#define IPCB_METADATA_SCHEMA 1

/*
 * The CSV columns, in file order (the order of struct ipcb_row, with run_id first). The
 * writer's header line and the reader's header check (csv.h) both come from this list, so
 * they cannot drift apart. X(ENUM_SUFFIX, "header name").
 */
#define IPCB_CSV_COLUMNS(X)                                                     \
	X(RUN_ID, "run_id") X(BENCH, "bench") X(MECH, "mech") X(IMPL, "impl")  \
	X(MODE, "mode") X(WORKERS, "workers") X(CPUS, "cpus")                   \
	X(CPUS_SEEN, "cpus_seen") X(PLACEMENT, "placement") X(MEM, "mem")       \
	X(SIZE_BYTES, "size_bytes") X(PARAMS, "params") X(REP, "rep")           \
	X(METRIC, "metric") X(UNIT, "unit") X(VALUE, "value")                   \
	X(CI_LOW, "ci_low") X(CI_HIGH, "ci_high") X(SAMPLES, "samples")         \
	X(OPS_PER_SAMPLE, "ops_per_sample") X(STATUS, "status") X(REASON, "reason")

enum ipcb_csv_col {
#define IPCB_X_(e, s) IPCB_COL_##e,
	IPCB_CSV_COLUMNS(IPCB_X_)
#undef IPCB_X_
	IPCB_CSV_NCOLS
};

struct ipcb_topo;
struct ipcb_sink_state;

/* One tidy result row. Strings may be NULL (written as empty). */
struct ipcb_row {
	const char *bench;        /* pattern name: "pingpong" */
	const char *mech;         /* transport or primitive: "pipe" */
	const char *impl;         /* "c" (ours) or "python" */
	const char *mode;         /* "process" | "thread" */
	int workers;
	const char *cpus;         /* CPUs assigned, "0;1" */
	const char *cpus_seen;    /* CPUs observed with sched_getcpu() during the run, "0;1" */
	const char *placement;    /* "compact", "scatter", "list", ... */
	const char *mem;          /* memory policy really applied, "none(single node)" */
	uint64_t size_bytes;      /* message / element size; 0 if not applicable */
	const char *params;       /* other parameters, "k=v;k=v" */
	const char *rep;          /* "1".."N" for a repetition, "median" for the summary row */
	const char *metric;       /* "rtt_p50_ns", "msgs_per_s", ... ; "" on a FAILED/SKIPPED row */
	const char *unit;         /* "ns", "msgs/s", "B/s", "count", ... */
	double value;             /* NAN when none (FAILED/SKIPPED) */
	double ci_low, ci_high;   /* summary rows: 95% interval of the median; NAN otherwise */
	uint64_t samples;         /* histogram samples (or repetitions for a summary row) */
	uint64_t ops_per_sample;  /* operations one sample covers (batching); 1 = each timed */
	const char *status;       /* "ok" | "FAILED" | "SKIPPED" | "NOISY" | "RACE" | "PARTIAL" */
	const char *reason;       /* why, for anything not "ok" */
};

/* Everything metadata.json says about a run. */
struct ipcb_run_meta {
	const char *run_id, *out_dir;
	const char *argv_joined;      /* the command line */
	const char *version, *git_commit, *build_type, *compiler, *cflags;
	int sanitizer;                /* 1 when built with a sanitizer (numbers not trustworthy) */
	const char *clock;            /* "CLOCK_MONOTONIC" */
	double clock_cost_ns, clock_resolution_ns;
	const struct ipcb_topo *topo;
	const char *cores_note;       /* what --cores did: "clamped 8 -> 2", "oversubscribed 8 on 2" */
	const char *placement, *mode; /* placement policy and worker mode of the run */
	const char *cpus;             /* the CPUs cases draw from, in worker order, "0;1" */
	int64_t start_unix_ns, end_unix_ns;   /* wall-clock timestamps, for humans only */
	int partial;                  /* 1 when the run was interrupted */
	int cases_ok, cases_failed, cases_skipped, cases_noisy;
	const char *python_version;   /* interpreter of the impl=python rows, NULL if none ran */
};

struct ipcb_sink {
	const char *name, *summary;
	/* Open in dir (exists, writable) for the run run_id (the CSV sink writes it in every
	 * row; NULL is written as ""). Neither string is kept: the sink copies what it needs.
	 * Returns 0 or -errno; *st is set only on success. */
	int (*open)(struct ipcb_sink_state **st, const char *dir, const char *run_id);
	/* Append one row. Returns 0 or -errno. */
	int (*row)(struct ipcb_sink_state *st, const struct ipcb_row *r);
	/* Finish: flush, fsync, rename the temporary file into place; meta may be used by the
	 * sink (the JSON sink writes metadata.json from it). Always frees st. Returns 0 or -errno. */
	int (*close)(struct ipcb_sink_state *st, const struct ipcb_run_meta *meta);
	/* Drop everything written (error path): remove the temporary file, free st. */
	void (*abort)(struct ipcb_sink_state *st);
};

/* The registry, built from sinks.def: ipcb_sink_<name> for each line. */
#define IPCB_SINK(n) extern const struct ipcb_sink ipcb_sink_##n;
#include "sinks.def"
#undef IPCB_SINK
extern const struct ipcb_sink *const ipcb_sinks[];   /* NULL-terminated, sinks.def order */
/* The sink called name, or NULL. */
const struct ipcb_sink *ipcb_sink_find(const char *name);

/*
 * Helpers for file sinks (sink_registry.c): write "<dir>/<name>.tmp", then commit renames it
 * to "<dir>/<name>" after fflush + fsync, so readers see the old file or the whole new one.
 */
struct ipcb_sink_file {
	FILE *f;
	char *tmp_path, *path;
};
/* Create (truncate) the temporary file. Returns 0 or -errno (-ENAMETOOLONG, open errors,
 * -ENOMEM); on failure sf holds nothing to release. */
int ipcb_sink_file_open(struct ipcb_sink_file *sf, const char *dir, const char *name);
/* Flush, fsync, close and rename into place; err is a pending write error (-errno, or 0)
 * that makes the commit fail. On any failure the temporary file is removed. Always
 * releases sf. Returns 0 or -errno (the first error seen). */
int ipcb_sink_file_commit(struct ipcb_sink_file *sf, int err);
/* Close and remove the temporary file; releases sf. Safe on a zeroed sf. */
void ipcb_sink_file_discard(struct ipcb_sink_file *sf);

#endif
