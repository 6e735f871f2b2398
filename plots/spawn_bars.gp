# SPDX-License-Identifier: MIT
#
# Spawn cost: one group of bars per spawn case (kind, plus the parent's memory and huge
# pages), one bar per series (process / thread mode, or runs), height = median over
# repetitions of each repetition's p50 with that median's interval as an error bar; a
# short dark tick above each bar marks p99. Log scale: fork of 1 GiB and pthread_create
# differ by three orders of magnitude.
#
# A template: `ipcbench plot` writes one data file per series, every file with the same
# cases in the same order, and sets, with gnuplot -e,
#   files          data file names separated by spaces (no spaces inside names)
#   titles         one legend entry per file, each in double quotes: "\"process\" \"thread\""
#   fmt, outfile, plot_title, plot_subtitle    as in the other scripts
# Data files are tab separated, '#' starts a comment, "NaN" marks a missing value (a
# SKIPPED case keeps its row so the groups line up):
#   case  p50_ns  p50_ci_low  p50_ci_high  p99_ns  p99_ci_low  p99_ci_high
# where case is a label without spaces, e.g. fork, posix-spawn, fork_1GiB, fork_1GiB_huge
# (spawn's params kind, parent_mem_bytes and huge).

if (!exists("files")) files = "spawn.dat"
if (!exists("titles")) titles = "\"data\""
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "spawn_bars.".fmt
if (!exists("plot_title")) plot_title = "spawn cost: create a child and wait for it"
if (!exists("plot_subtitle")) plot_subtitle = ""

if (fmt eq "svg") {
	set terminal svg size 1100,650 dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size 1100,650 font "sans,10"
	} else {
		set terminal png size 1100,650
	}
}
set termoption noenhanced
set output outfile

set datafile separator "\t"
set datafile missing "NaN"
set title plot_title."\n".plot_subtitle
set style data histogram
gap = 1.5    # keep equal to the histogram gap below
set style histogram errorbars gap 1.5 lw 1
set style fill solid 0.75 border -1
set boxwidth 0.9
set logscale y 10
set yrange [1:*]
set format y "%.0f"
set ylabel "time per spawn, p50 (us, log scale)"
set xtics rotate by -30 nomirror
set grid ytics mytics lc rgb "#dddddd"
set key outside right top box opaque Left reverse

n = words(files)
# Bars in microseconds; p99 as points placed over the bars of the same cluster.
plot for [i=1:n] word(files, i) using ($2/1000):($3/1000):($4/1000):xtic(1) \
	lc i title word(titles, i)." p50", \
     for [i=1:n] word(files, i) using ($0 + (i - 1 - (n - 1) / 2.0) / (n + gap)):($5/1000) \
	with points pt 2 ps 1.2 lc rgb "#333333" title (i == 1 ? "p99" : "")
unset output
