/* SPDX-License-Identifier: MIT */
/*
 * Figures from finished runs: reads <run>/results.csv (never re-runs anything), writes
 * tab-separated data files, and renders each figure kind that has data with its gnuplot
 * template from the plots source directory, as PNG and SVG.
 *
 * Figure kinds (one figure per kind and bench that has rows for it; results/README.md
 * says which rows each needs):
 *   latency_size     rtt_p50_ns and rtt_p99_ns against size_bytes   (plots/latency_size.gp)
 *   throughput_size  msgs_per_s and bytes_per_s against size        (plots/throughput_size.gp)
 *   latency_pct      p50, p90, p99, p99.9, max per series at one size (plots/latency_pct.gp)
 *   counter_workers  bench counter: updates_per_s, ns_per_update against workers, lost
 *                    updates marked                                 (plots/counter_workers.gp)
 *   pool_speedup     bench pool: speedup and efficiency from tasks_per_s against workers
 *                                                                   (plots/pool_speedup.gp)
 *   spawn_bars       bench spawn: spawn_p50_ns (and p99) per series  (plots/bars.gp)
 *   manager_bars     bench manager: op_p50_ns (and p99) per series   (plots/bars.gp)
 *   c2c_heatmap      bench c2c: rtt_p50_ns over params cpu_a, cpu_b (plots/c2c_heatmap.gp)
 *   python_vs_c      impl=python rows next to their C counterparts of the same run, how
 *                    many times slower (harness/pyvsc.c pairs them; plots/python_vs_c.gp);
 *                    one run only, not in overlays
 * Only summary rows (rep "median") with status ok or NOISY (and RACE for the counter), a
 * value, and a size > 0 where size is an axis are plotted. A series is one (mech, impl,
 * mode, workers, placement, params), minus what is the figure's axis; its legend names the
 * mechanism plus whichever of the others differ between the figure's series.
 */
#ifndef IPCB_PLOT_H
#define IPCB_PLOT_H

#include <stddef.h>

/*
 * Make the figures of run_dir with the scripts in plots_src_dir. Output, in
 * run_dir/plots/: data files (<bench>-<kind>-<n>.dat per series of a line figure,
 * <bench>-<kind>.dat for bars and heatmaps), <bench>-<kind>.png and .svg, and gnuplot.log
 * (gnuplot's own messages). Returns the number of figures written (0 when no row is
 * plottable: err then says so), or -errno with a message in err:
 *   -ENOENT   gnuplot is not on PATH ("gnuplot not found: plots skipped (install
 *             gnuplot-nox)"; the data files are written anyway), or a file is missing;
 *   -EINVAL/-E2BIG/-EIO  results.csv is malformed or unreadable (the reader's message);
 *   -EIO      gnuplot failed or wrote no image (see gnuplot.log); other figures are still
 *             attempted, the first failure is reported;
 *   -ENOMEM, and errors from mkdir, open and fork.
 */
int ipcb_plot_run(const char *run_dir, const char *plots_src_dir, char *err, size_t errlen);

/*
 * Overlay figures of several runs (a platform comparison): the same kinds, except the
 * heatmap (per machine by nature), with every series of every run in one figure, its
 * legend entry starting with labels[i] ("A", "B", or a host name). Written to out_dir
 * (created if needed), named as ipcb_plot_run names them. Returns as ipcb_plot_run does;
 * -EINVAL when nruns < 1.
 */
int ipcb_plot_overlay(const char *const *run_dirs, const char *const *labels, int nruns,
		      const char *out_dir, const char *plots_src_dir, char *err, size_t errlen);

/* Name of figure kind i ("latency_size", ...), NULL past the last: the order in which a
 * report shows the figures. */
const char *ipcb_plot_kind_name(int i);

#endif
