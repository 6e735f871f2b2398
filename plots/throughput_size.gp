# SPDX-License-Identifier: MIT
#
# Streaming throughput against message size, log-log, one colour per series: messages per
# second (left) and bytes per second (right). Each point is the median over repetitions,
# with its confidence interval as error bars.
#
# A template: `ipcbench plot` writes one data file per series and sets, with gnuplot -e,
#   files          data file names separated by spaces (the names contain no spaces)
#   titles         one legend entry per file, each in double quotes
#   fmt            "png" or "svg"
#   outfile        the image to write
#   plot_title     first title line (bench and figure); plot_subtitle: machine and run
#   unit1, unit2   units of the message rate and byte rate columns ("msgs/s", "B/s")
#   have1, have2   0 when no series has that metric (its panel is left out)
# Data files are tab separated, '#' starts a comment, "NaN" marks a missing value:
#   size_bytes  msgs_per_s  ci_low  ci_high  bytes_per_s  ci_low  ci_high

if (!exists("files")) files = "throughput.dat"
if (!exists("titles")) titles = "\"data\""
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "throughput_size.".fmt
if (!exists("plot_title")) plot_title = "throughput vs message size"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("unit1")) unit1 = "msgs/s"
if (!exists("unit2")) unit2 = "B/s"
if (!exists("have1")) have1 = 1
if (!exists("have2")) have2 = 1

panels = (have1 ? 1 : 0) + (have2 ? 1 : 0)
width = panels > 1 ? 1500 : 1100
if (fmt eq "svg") {
	set terminal svg size width,700 dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size width,700 font "sans,10"
	} else {
		set terminal png size width,700
	}
}
set termoption noenhanced
set output outfile

set datafile separator "\t"
set datafile missing "NaN"
set logscale x 2
set logscale y 10
# size tics at every power of 4, labelled with binary prefixes: 64 B, 1 KiB, 4 MiB
set xtics ()
do for [k=0:40:2] {
	set xtics add (sprintf("%d %s", 2**(k % 10), word("B KiB MiB GiB TiB", k / 10 + 1)) 2.0**k)
}
set format y "%.0s %c"
set xlabel "message size (bytes, log scale)"
set grid xtics ytics mytics lc rgb "#dddddd"
set key top left box opaque Left reverse
set bars small
set offsets graph 0.02, graph 0.02, 0, 0

n = words(files)
set multiplot layout 1, panels title plot_title."\n".plot_subtitle
if (have1) {
	set ylabel sprintf("messages per second (%s, log scale)", unit1)
	plot for [i=1:n] word(files, i) using 1:2:3:4 with yerrorlines lc i lw 2 pt 7 ps 0.7 \
		title word(titles, i)
}
if (have2) {
	set ylabel sprintf("bytes per second (%s, log scale)", unit2)
	plot for [i=1:n] word(files, i) using 1:5:6:7 with yerrorlines lc i lw 2 pt 7 ps 0.7 \
		title word(titles, i)
}
unset multiplot
unset output
