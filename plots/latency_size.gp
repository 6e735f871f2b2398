# SPDX-License-Identifier: MIT
#
# Round-trip latency against message size, log-log, one colour per series (a mechanism,
# plus whatever parameter tells two series of the same mechanism apart). Solid line: the
# median over repetitions of each repetition's p50, with that median's confidence interval
# as error bars. Dashed line, same colour: the same for p99.
#
# A template: `ipcbench plot` writes one data file per series and sets, with gnuplot -e,
#   files          data file names separated by spaces (the names contain no spaces)
#   titles         one legend entry per file, each in double quotes: "\"pipe\" \"fifo\""
#   fmt            "png" or "svg"
#   outfile        the image to write
#   plot_title     first title line (bench and figure); plot_subtitle: machine and run
#   unit1, unit2   units of the p50 and p99 columns ("ns")
#   have2          0 when no series has a p99 value (then the dashed lines are left out)
# Data files are tab separated, '#' starts a comment, "NaN" marks a missing value:
#   size_bytes  p50  p50_ci_low  p50_ci_high  p99  p99_ci_low  p99_ci_high
# (a median without an interval repeats its value as both bounds).

if (!exists("files")) files = "latency.dat"
if (!exists("titles")) titles = "\"data\""
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "latency_size.".fmt
if (!exists("plot_title")) plot_title = "round-trip latency vs message size"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("unit1")) unit1 = "ns"
if (!exists("unit2")) unit2 = unit1
if (!exists("have2")) have2 = 1

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
set logscale x 2
set logscale y 10
# size tics at every power of 4, labelled with binary prefixes: 64 B, 1 KiB, 4 MiB
set xtics ()
do for [k=0:40:2] {
	set xtics add (sprintf("%d %s", 2**(k % 10), word("B KiB MiB GiB TiB", k / 10 + 1)) 2.0**k)
}
set format y "%.0f"
set xlabel "message size (bytes, log scale)"
set ylabel sprintf("round-trip time (%s, log scale)", unit1)
set grid xtics ytics mytics lc rgb "#dddddd"
set key outside right top box opaque Left reverse
set bars small
set offsets graph 0.02, graph 0.02, 0, 0

n = words(files)
if (have2) {
	plot for [i=1:n] word(files, i) using 1:2:3:4 with yerrorlines lc i lw 2 pt 7 ps 0.7 \
		title word(titles, i)." p50", \
	     for [i=1:n] word(files, i) using 1:5:6:7 with yerrorlines lc i lw 1.5 dt 2 pt 6 ps 0.7 \
		title word(titles, i).sprintf(" p99%s", unit2 eq unit1 ? "" : " (".unit2.")")
} else {
	plot for [i=1:n] word(files, i) using 1:2:3:4 with yerrorlines lc i lw 2 pt 7 ps 0.7 \
		title word(titles, i)." p50"
}
unset output
