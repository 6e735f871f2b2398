# SPDX-License-Identifier: MIT
#
# Process pool scaling: left, speedup against pool size (tasks/s over the median tasks/s
# of P = 1, same api and grain) with the ideal line y = P and a vertical line at the CPU
# count; right, tasks per second against pool size, log scale. One colour per series: an
# api (map with its chunk size, apply_async, imap_unordered) and a task grain (empty, 1 us
# .. 1 ms); error bars are the confidence interval of the median over repetitions. The
# sweet spot of a series is the top of its right-hand curve.
#
# A template: `ipcbench plot` writes one data file per series and sets, with gnuplot -e,
#   files          data file names separated by spaces (no spaces inside names)
#   titles         one legend entry per file, each in double quotes: "\"map c=1 10us\" ..."
#   ncpus          the run's CPU count (0 or unset: no vertical line)
#   fmt, outfile, plot_title, plot_subtitle    as in the other scripts
# Data files are tab separated, '#' starts a comment, "NaN" marks a missing value, sorted
# by pool size (the pool bench's params pool_size):
#   pool_size  speedup  speedup_ci_low  speedup_ci_high  tasks_per_s  tps_ci_low  tps_ci_high

if (!exists("files")) files = "pool.dat"
if (!exists("titles")) titles = "\"data\""
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "pool_speedup.".fmt
if (!exists("plot_title")) plot_title = "process pool: speedup and throughput vs pool size"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("ncpus")) ncpus = 0

if (fmt eq "svg") {
	set terminal svg size 1400,650 dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size 1400,650 font "sans,10"
	} else {
		set terminal png size 1400,650
	}
}
set termoption noenhanced
set output outfile

set datafile separator "\t"
set datafile missing "NaN"
n = words(files)
stats word(files, 1) using 1 nooutput
pmax = STATS_max
do for [i=2:n] {
	stats word(files, i) using 1 nooutput
	if (STATS_max > pmax) { pmax = STATS_max }
}

set multiplot layout 1,2 title plot_title."\n".plot_subtitle
set grid lc rgb "#dddddd"
set xrange [0.5 : pmax + 0.5]
if (pmax <= 16) { set xtics 1 }
set xlabel "pool size P (workers)"
set key top left box opaque Left reverse font ",8"
if (ncpus > 0) {
	set arrow 1 from ncpus, graph 0 to ncpus, graph 1 nohead dt 3 lc rgb "#888888"
	set label 1 sprintf(" %d CPUs", ncpus) at ncpus, graph 0.97 tc rgb "#666666"
}

set ylabel "speedup vs P = 1"
set yrange [0:*]
plot x with lines dt 2 lc rgb "#999999" title "ideal", \
     for [i=1:n] word(files, i) using 1:2:3:4 with yerrorlines lc i lw 1.5 pt 7 ps 0.6 \
	title word(titles, i)

set ylabel "tasks per second (log scale)"
set logscale y 10
set yrange [*:*]
set format y "%.0s%c"
unset key
plot for [i=1:n] word(files, i) using 1:5:6:7 with yerrorlines lc i lw 1.5 pt 7 ps 0.6 \
	title word(titles, i)
unset multiplot
unset output
