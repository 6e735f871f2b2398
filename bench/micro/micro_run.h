/* SPDX-License-Identifier: MIT */
/*
 * ipcbench's side of the microbenchmarks (part of ipcb_core, plain C: it never links Google
 * Benchmark). ipcbench-micro is a program of its own; ipcbench finds it beside itself, runs
 * it, and turns the JSON it writes (Google Benchmark's format) into result rows with the
 * CSV schema: bench "micro", mech the benchmark's name, the "bytes" argument as size_bytes,
 * metrics ns_per_op and cpu_ns_per_op plus the benchmark's counters, one row per
 * repetition and a "median" row per metric, like every other case.
 */
#ifndef IPCB_MICRO_RUN_H
#define IPCB_MICRO_RUN_H

#include <stddef.h>

#include "../../harness/run.h"
#include "../../harness/sink.h"

/* Receives each row; r and its strings are valid only during the call. */
typedef void (*ipcb_micro_emit_fn)(void *ctx, const struct ipcb_row *r);

/* Cases (benchmark instances) by outcome, as metadata.json counts them. */
struct ipcb_micro_counts {
	int ok, noisy, failed, skipped;
};

/* Where ipcbench-micro is: $IPCBENCH_MICRO, else the directory of this executable. Returns
 * 0, or -ENAMETOOLONG, or -errno of readlink(/proc/self/exe). */
int ipcb_micro_path(char *buf, size_t len);

/* `ipcbench micro ARGS...`: argv[0] is "micro", the rest goes to ipcbench-micro unchanged.
 * Replaces the process; returns only on failure, with the exit status to use (1), having
 * said why on stderr. */
int ipcb_micro_exec(int argc, char **argv);

/* Convert the Google Benchmark JSON at json_path into rows. cpus and placement go into
 * every row as they are; noise is the NOISY threshold of the median rows (--noise). A
 * benchmark that reported an error gives one row: SKIPPED when its message begins with
 * "skipped: " (ipcb_gbench_skip), FAILED otherwise. Adds to *counts. Returns 0, or
 * -EINVAL (not Google Benchmark JSON: err says what and where), -ENOENT and other open
 * errors, -ENOMEM. */
int ipcb_micro_import(const char *json_path, const char *cpus, const char *placement,
		      double noise, ipcb_micro_emit_fn emit, void *ctx,
		      struct ipcb_micro_counts *counts, char *err, size_t errlen);

/* The microbenchmark step of an --all run: run ipcbench-micro (pinned to the first CPU of
 * the placement unless --unpinned; --reps repetitions; a minimum time per repetition of a
 * fifth of --duration; $IPCBENCH_MICRO_FILTER as --benchmark_filter), keep its JSON as
 * <run_dir>/gbench.json and emit its rows. Without the program, or in a build without
 * Google Benchmark, emits one SKIPPED row saying so. Adds to meta's case counts. Returns 0,
 * or 1 when a benchmark FAILED or the program failed (a FAILED row says why). */
int ipcb_micro_run(const struct ipcb_config *cfg, const char *run_dir, ipcb_micro_emit_fn emit,
		   void *ctx, struct ipcb_run_meta *meta);

#endif
