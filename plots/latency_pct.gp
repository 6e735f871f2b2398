# SPDX-License-Identifier: MIT
#
# Latency percentiles of each series at one message size: p50, p90, p99, p99.9 and the
# maximum, one line per series (a mechanism, plus whatever parameter tells two series of
# the same mechanism apart). The x axis is 1 / (1 - q): each step to the right is one more
# nine (p90 -> p99 -> p99.9), and max is drawn one step past p99.9. Each point is the
# median over repetitions of that repetition's percentile, with its confidence interval as
# error bars. A flat line is a tight distribution; a line that rises at p99 has a tail.
#
# A template: `ipcbench plot` writes one data file per series and sets, with gnuplot -e,
#   files          data file names separated by spaces (the names contain no spaces)
#   titles         one legend entry per file, each in double quotes
#   fmt            "png" or "svg"
#   outfile        the image to write
#   plot_title     first title line (bench, figure, size); plot_subtitle: machine and run
#   unit1          unit of the latency column ("ns")
# Data files are tab separated, '#' starts a comment, "NaN" marks a missing value:
#   percentile_x (2, 10, 100, 1000, 10000)  latency  ci_low  ci_high

if (!exists("files")) files = "latency_pct.dat"
if (!exists("titles")) titles = "\"data\""
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "latency_pct.".fmt
if (!exists("plot_title")) plot_title = "latency percentiles"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("unit1")) unit1 = "ns"

if (fmt eq "svg") {
	set terminal svg size 1100,700 dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size 1100,700 font "sans,10"
	} else {
		set terminal png size 1100,700
	}
}
set termoption noenhanced
set output outfile

set datafile separator "\t"
set datafile missing "NaN"
set title plot_title."\n".plot_subtitle
set logscale x 10
set logscale y 10
set xrange [1.6:13000]
set xtics ("p50" 2, "p90" 10, "p99" 100, "p99.9" 1000, "max" 10000)
set format y "%.0f"
set xlabel "percentile of the latency distribution (each step one more nine; max last)"
set ylabel sprintf("latency (%s, log scale)", unit1)
set grid xtics ytics mytics lc rgb "#dddddd"
set key outside right top box opaque Left reverse
set bars small
# colours repeat after 8 series: the dash pattern changes with each repeat

n = words(files)
ds(i) = (i - 1) / 8 + 1       # dash type: solid for the first 8 series, then dashed, ...
plot for [i=1:n] word(files, i) using 1:2:3:4 with yerrorlines lc i dt ds(i) lw 2 pt 7 ps 0.8 \
	title word(titles, i)
unset output
