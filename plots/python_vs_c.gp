# SPDX-License-Identifier: MIT
#
# Python's multiprocessing against ipcbench's C doing the same job, in one run: one
# horizontal bar per pair (harness/pyvsc.c's table), how many times slower Python is, on a
# log scale around 1 (as fast): a time ratio Python / C, or for a rate C / Python. The bar
# runs from 1 to the ratio, so a pair where Python is faster points left; the error bar
# spans the ratios of the two 95% intervals' ends. By each bar, the two medians. Pairs
# without a ratio (lost updates, counted side by side; a C counterpart missing from the
# run) have no bar, only their text.
#
# A template: `ipcbench plot` writes the data file and sets, with gnuplot -e,
#   file           the data file
#   fmt            "png" or "svg"
#   outfile        the image to write
#   plot_title     first title line; plot_subtitle: machine and run
#   nbars          number of lines in the data file
# The data file is tab separated, '#' starts a comment, NaN marks a missing value:
#   label  times_slower  low  high  text

if (!exists("file")) file = "python_vs_c.dat"
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "python_vs_c.".fmt
if (!exists("plot_title")) plot_title = "Python multiprocessing vs C"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("nbars")) nbars = 20

set datafile separator "\t"
# the axis: a decade past the extremes, so the text by the longest bar fits
stats file using 2 nooutput
lo = STATS_min < 1 ? STATS_min : 1
hi = STATS_max > 1 ? STATS_max : 1
stats file using 3 nooutput
lo = STATS_min < lo ? STATS_min : lo
stats file using 4 nooutput
hi = STATS_max > hi ? STATS_max : hi
xmin = 10 ** floor(log10(lo) - 0.5)
xmax = 10 ** ceil(log10(hi) + 3)

height = 220 + nbars * 30
height = height < 450 ? 450 : height
if (fmt eq "svg") {
	set terminal svg size 1400,height dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size 1400,height font "sans,10"
	} else {
		set terminal png size 1400,height
	}
}
set termoption noenhanced
set output outfile

set title plot_title."\n".plot_subtitle
set logscale x 10
set xrange [xmin:xmax]
set format x "%g"
set xlabel "times slower than C: Python / C for a time, C / Python for a rate (log scale; left of 1: Python faster)"
set yrange [nbars - 0.5:-0.5]
set ytics nomirror scale 0
set grid xtics lc rgb "#dddddd"
set key off
set style fill solid 0.7 border -1
set arrow from 1, graph 0 to 1, graph 1 nohead lc rgb "#333333" lw 1.5

h = 0.32
missing(s) = s eq "NaN" || s eq "nan"
# slower: red; faster: green
plot file using (sqrt($2)):0:($2 < 1 ? $2 : 1):($2 < 1 ? 1 : $2):($0 - h):($0 + h):($2 < 1 ? 0x44aa77 : 0xcc5544):ytic(1) \
	with boxxyerror lc rgb variable, \
     '' using 2:0:3:4 with xerrorbars lc rgb "black" pt -1, \
     '' using (missing(strcol(2)) ? 1.15 : ($4 > $2 ? $4 : $2) * 1.25):0:5 \
	with labels left font ",9"
unset output
