/* SPDX-License-Identifier: MIT */
/*
 * Figures from a finished run: reads <run>/results.csv (never re-runs anything), writes
 * one tab-separated data file per series into <run>/plots/, and renders each figure kind
 * that has data with its gnuplot template from the plots source directory, as PNG and SVG.
 *
 * Figure kinds (one figure per kind and bench that has rows for it):
 *   latency_size     rtt_p50_ns and rtt_p99_ns against size_bytes  (plots/latency_size.gp)
 *   throughput_size  msgs_per_s and bytes_per_s against size  (plots/throughput_size.gp)
 * Only summary rows (rep "median") with status ok or NOISY, a value and a size > 0 are
 * plotted. A series is one (mech, impl, mode, workers, placement, params); its legend
 * names the mechanism plus whichever of the others differ between the figure's series.
 */
#ifndef IPCB_PLOT_H
#define IPCB_PLOT_H

#include <stddef.h>

/*
 * Make the figures of run_dir with the scripts in plots_src_dir. Output, in
 * run_dir/plots/: <bench>-<kind>-<n>.dat (data, n = series), <bench>-<kind>.png and .svg,
 * and gnuplot.log (gnuplot's own messages). Returns the number of figures written (0 when
 * no row is plottable: err then says so), or -errno with a message in err:
 *   -ENOENT   gnuplot is not on PATH ("gnuplot not found: plots skipped (install
 *             gnuplot-nox)"; the data files are written anyway), or a file is missing;
 *   -EINVAL/-E2BIG/-EIO  results.csv is malformed or unreadable (the reader's message);
 *   -EIO      gnuplot failed or wrote no image (see gnuplot.log); other figures are still
 *             attempted, the first failure is reported;
 *   -ENOMEM, and errors from mkdir, open and fork.
 */
int ipcb_plot_run(const char *run_dir, const char *plots_src_dir, char *err, size_t errlen);

#endif
