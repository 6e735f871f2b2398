# SPDX-License-Identifier: MIT
#
# Horizontal bars, one per series (and size, when the bench has sizes), top to bottom in
# the order of the data file: the median over repetitions of a time, with its confidence
# interval as an error bar; a second, lighter bar under it for the second metric (the p99)
# when the rows have it. Used for the cost of starting a process (bench spawn:
# spawn_p50_ns, spawn_p99_ns) and for a Manager proxy call against shared memory (bench
# manager: op_p50_ns, op_p99_ns). Log scale: the bars span decades. Horizontal, so that
# long labels (the parameters that tell the series apart) stay readable.
#
# A template: `ipcbench plot` writes one data file and sets, with gnuplot -e,
#   file           the data file
#   fmt            "png" or "svg"
#   outfile        the image to write
#   plot_title     first title line; plot_subtitle: machine and run
#   unit1          unit of the values; name1, name2 the metrics' names (legend)
#   nbars          number of lines in the data file
#   have2          0 when no line has the second metric
# The data file is tab separated, '#' starts a comment, "NaN" marks a missing value:
#   label  value1 ci_low ci_high  value2 ci_low ci_high

if (!exists("file")) file = "bars.dat"
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "bars.".fmt
if (!exists("plot_title")) plot_title = "bars"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("unit1")) unit1 = "ns"
if (!exists("name1")) name1 = "p50"
if (!exists("name2")) name2 = "p99"
if (!exists("nbars")) nbars = 10
if (!exists("have2")) have2 = 1

set datafile separator "\t"
set datafile missing "NaN"
# the bars start one decade below the smallest value shown
stats file using 3 nooutput
lowest = STATS_min
if (have2) {
	stats file using 6 nooutput
	if (STATS_records > 0 && STATS_min < lowest) {
		lowest = STATS_min
	}
}
base = 10 ** floor(log10(lowest > 0 ? lowest : 1) - 0.3)

height = 200 + nbars * (have2 ? 60 : 40)
height = height < 500 ? 500 : height
if (fmt eq "svg") {
	set terminal svg size 1100,height dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size 1100,height font "sans,10"
	} else {
		set terminal png size 1100,height
	}
}
set termoption noenhanced
set output outfile

set title plot_title."\n".plot_subtitle
set logscale x 10
set xrange [base:*]
set format x "%.0f"
set xlabel sprintf("median, with its confidence interval (%s, log scale)", unit1)
set yrange [nbars - 0.5:-0.5]
set ytics nomirror
set grid xtics mxtics lc rgb "#dddddd"
set key outside bottom center horizontal box opaque Left reverse
set rmargin 6
set style fill solid 0.7 border -1

h = have2 ? 0.19 : 0.3
dy = have2 ? 0.2 : 0
if (have2) {
	plot file using (base):($0 - dy):(base):2:($0 - dy - h):($0 - dy + h):ytic(1) \
		with boxxyerror lc 1 title name1, \
	     '' using 2:($0 - dy):3:4 with xerrorbars lc rgb "black" pt -1 notitle, \
	     '' using (base):($0 + dy):(base):5:($0 + dy - h):($0 + dy + h) \
		with boxxyerror lc 2 fs solid 0.35 title name2, \
	     '' using 5:($0 + dy):6:7 with xerrorbars lc rgb "black" pt -1 notitle
} else {
	plot file using (base):($0):(base):2:($0 - h):($0 + h):ytic(1) with boxxyerror lc 1 \
		title name1, \
	     '' using 2:($0):3:4 with xerrorbars lc rgb "black" pt -1 notitle
}
unset output
