# SPDX-License-Identifier: MIT
#
# The shared counter against the number of workers, one colour per lock type (mechanism):
# updates per second for all workers together (left) and time per update (right). Each
# point is the median over repetitions with its confidence interval as error bars. Where a
# primitive lost updates (the unlocked baseline races by design), the point is marked with
# a red cross and the number of updates lost: its speed is not that of a correct counter.
#
# A template: `ipcbench plot` writes one data file per series and sets, with gnuplot -e,
#   files          data file names separated by spaces (the names contain no spaces)
#   titles         one legend entry per file, each in double quotes
#   fmt            "png" or "svg"
#   outfile        the image to write
#   plot_title     first title line; plot_subtitle: machine and run
#   unit1, unit2   units of updates_per_s and ns_per_update
#   have1, have2   0 when no series has that metric (its panel is left out)
#   have_lost      1 when some point lost updates (the marks are drawn)
#   lost_files     the data files (of files) that have a point with lost updates
# Data files are tab separated, '#' starts a comment, "NaN" marks a missing value:
#   workers  updates_per_s ci_low ci_high  ns_per_update ci_low ci_high  lost_updates ci_low ci_high

if (!exists("files")) files = "counter.dat"
if (!exists("titles")) titles = "\"data\""
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "counter_workers.".fmt
if (!exists("plot_title")) plot_title = "shared counter: updates vs workers"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("unit1")) unit1 = "ops/s"
if (!exists("unit2")) unit2 = "ns"
if (!exists("have1")) have1 = 1
if (!exists("have2")) have2 = 1
if (!exists("have_lost")) have_lost = 0
if (!exists("lost_files")) lost_files = ""
if (words(lost_files) == 0) have_lost = 0

panels = (have1 ? 1 : 0) + (have2 ? 1 : 0)
if (panels == 0) { panels = 1; have1 = 1 }
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
set xtics 2 format "%.0f"
set format y "%.0s %c"
set xlabel "workers (processes or threads updating the counter, log scale)"
set grid xtics ytics mytics lc rgb "#dddddd"
set key outside right top box opaque Left reverse
set bars small
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05

n = words(files)
ds(i) = (i - 1) / 8 + 1       # dash type: solid for the first 8 series, then dashed, ...
nl = words(lost_files)
lost(c) = (column(8) > 0 ? column(c) : NaN)
set multiplot layout 1, panels title plot_title."\n".plot_subtitle
# one legend, beside the last panel; colours repeat after 8 series, so line styles change
if (panels > 1) { unset key }
if (have1) {
	set ylabel sprintf("updates per second, all workers (%s, log scale)", unit1)
	if (have_lost) {
		plot for [i=1:n] word(files, i) using 1:2:3:4 with yerrorlines lc i dt ds(i) lw 2 pt 7 \
			ps 0.8 title word(titles, i), \
		     NaN with points lc rgb "red" pt 2 ps 2.5 lw 2 title "lost updates (racy)", \
		     for [i=1:nl] word(lost_files, i) using 1:(lost(2)) with points \
			lc rgb "red" pt 2 ps 2.5 lw 2 notitle, \
		     for [i=1:nl] word(lost_files, i) using 1:(lost(2)):(sprintf("lost %.0f", $8)) \
			with labels offset 0,1.2 font ",8" tc rgb "red" notitle
	} else {
		plot for [i=1:n] word(files, i) using 1:2:3:4 with yerrorlines lc i dt ds(i) lw 2 pt 7 \
			ps 0.8 title word(titles, i)
	}
}
if (have2) {
	set key outside right top box opaque Left reverse
	set ylabel sprintf("time per update (%s, log scale)", unit2)
	set format y "%g"
	if (have_lost) {
		plot for [i=1:n] word(files, i) using 1:5:6:7 with yerrorlines lc i dt ds(i) lw 2 pt 7 \
			ps 0.8 title word(titles, i), \
		     NaN with points lc rgb "red" pt 2 ps 2.5 lw 2 title "lost updates (racy)", \
		     for [i=1:nl] word(lost_files, i) using 1:(lost(5)) with points \
			lc rgb "red" pt 2 ps 2.5 lw 2 notitle
	} else {
		plot for [i=1:n] word(files, i) using 1:5:6:7 with yerrorlines lc i dt ds(i) lw 2 pt 7 \
			ps 0.8 title word(titles, i)
	}
}
unset multiplot
unset output
