/* SPDX-License-Identifier: MIT */
/*
 * `ipcbench report RUN [RUN...]`: a readable account of one run, or a platform comparison
 * of several (the same benches on different machines, kernels or builds), from the result
 * files only. Writes report.md and a self-contained report.html (CSS inline, figures as
 * base64 data: URIs, nothing fetched) with
 *   - the machines: metadata.json of each run (CPU, topology, caches, kernel, fingerprint,
 *     build, clock, when, command line, case counts);
 *   - per bench, the headline metrics of every case: median over repetitions and its 95%
 *     interval; with several runs, the runs side by side and the ratio of each run's
 *     median to the first run's, marked better or worse by the metric's direction;
 *   - the cases that produced no number (FAILED, SKIPPED, PARTIAL) and why;
 *   - the figures: the run's plots, or overlays with one line per run.
 * Cases of different runs are matched as `compare` matches them (compare.h).
 */
#ifndef IPCB_REPORT_H
#define IPCB_REPORT_H

#include <stddef.h>

/*
 * Write report.md and report.html for runs[0..n-1] (run directories) into out_dir
 * (created if needed), with figures made by the gnuplot scripts in plots_src_dir: one run's
 * plots go to its plots/ directory (as `ipcbench plot` makes them), overlays of several
 * runs to out_dir/report-plots/. A missing gnuplot is noted in the report, not an error.
 * Returns 0, or -errno with a message in err: -EINVAL for unusable input (a results.csv
 * that is missing or malformed -- the message names the file and line --, runs with no
 * case in common with the first), -ENOMEM, or a write error (the message names the file).
 */
int ipcb_report_write(const char *const *runs, int n, const char *out_dir,
		      const char *plots_src_dir, char *err, size_t errlen);

/* `ipcbench report RUN [RUN...] [--out DIR]`: argv[0] is "report". Returns the exit status
 * main() should use: 0 written, 1 the report could not be written, 2 unusable input. */
int ipcb_report_cmd(int argc, char **argv, const char *plots_src_dir);

#endif
