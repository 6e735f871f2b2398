# SPDX-License-Identifier: MIT
#
# Core-to-core latency matrix: one coloured square per measured pair of CPUs (OS indexes
# on both axes), drawn at (cpu_a, cpu_b) and mirrored at (cpu_b, cpu_a), coloured by the
# median round trip of a cache line between the two (rtt_p50_ns of the c2c bench). The
# diagonal is never measured (two spinners on one CPU would measure the scheduler) and is
# drawn as grey squares marked "x"; a pair that was not sampled (--c2c-pairs) stays white.
# With at most `label_max` CPUs each square also carries its value in ns.
#
# A template: `ipcbench plot` writes one data file and sets, with gnuplot -e,
#   file           the data file
#   fmt            "png" or "svg"
#   outfile        the image to write
#   plot_title     first title line; plot_subtitle: machine and run
#   label_max      most CPUs for which values are printed in the squares (default 16)
# The data file is tab separated, '#' starts a comment, one line per pair (cpu_a < cpu_b):
#   cpu_a  cpu_b  rtt_p50_ns  ci_low  ci_high  relation
# where relation is ipcb_relation_name(): smt, l2, l3, package, numa, other-package.

if (!exists("file")) file = "c2c.dat"
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "c2c_heatmap.".fmt
if (!exists("plot_title")) plot_title = "core-to-core round-trip latency (cache line ping-pong)"
if (!exists("plot_subtitle")) plot_subtitle = ""
if (!exists("label_max")) label_max = 16

set datafile separator "\t"
set datafile missing "NaN"
# The CPU range, from the data (both columns).
stats file using 1 nooutput
lo = STATS_min
hi = STATS_max
stats file using 2 nooutput
lo = (STATS_min < lo) ? STATS_min : lo
hi = (STATS_max > hi) ? STATS_max : hi
ncpu = hi - lo + 1

if (fmt eq "svg") {
	set terminal svg size 900,800 dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size 900,800 font "sans,10"
	} else {
		set terminal png size 900,800
	}
}
set termoption noenhanced
set output outfile

set title plot_title."\n".plot_subtitle
set size ratio -1
set xrange [lo - 0.5 : hi + 0.5]
set yrange [hi + 0.5 : lo - 0.5]          # CPU 0 at the top left, like a matrix
set xlabel "CPU (OS index)"
set ylabel "CPU (OS index)"
set xtics out nomirror
set ytics out nomirror
if (ncpu > 32) { set xtics ncpu / 16; set ytics ncpu / 16 } else { set xtics 1; set ytics 1 }
set cblabel "round trip, p50 (ns)"
set palette rgb 33,13,10                  # blue (near) .. red (far)
set style fill solid 1.0 noborder
unset key
set grid front lc rgb "#ffffff" lw 0.5

d = 0.5
show_labels = (ncpu <= label_max)
plot sample [i=lo:hi:1] '+' using (i):(i):(d):(d) with boxxyerror fc rgb "#bbbbbb" notitle, \
     [i=lo:hi:1] '+' using (i):(i):("x") with labels tc rgb "#555555" notitle, \
     file using 1:2:(d):(d):3 with boxxyerror fc palette notitle, \
     file using 2:1:(d):(d):3 with boxxyerror fc palette notitle, \
     file using 1:2:(show_labels ? sprintf("%.0f", $3) : "") with labels tc rgb "black" notitle, \
     file using 2:1:(show_labels ? sprintf("%.0f", $3) : "") with labels tc rgb "black" notitle
unset output
