# SPDX-License-Identifier: MIT
#
# How many times slower Python's multiprocessing is than ipcbench's C doing the same job:
# one horizontal bar per pair, log scale, 1 = as fast. Made by bench/python_vs_c.sh from
# the median rows of a C run and a python run on the same CPUs.
#
# gnuplot -e variables (all optional):
#   file      the data file (python_vs_c.dat)
#   outfile   the image (python_vs_c.png; .svg when fmt is "svg")
#   fmt       "png" or "svg"
#   nbars     number of data lines
# The data file is tab separated, '#' starts a comment:
#   job  python_value  c_value  python_over_c  slower
# where slower = python_over_c for a time and c_over_python for a rate.

if (!exists("file")) file = "python_vs_c.dat"
if (!exists("fmt")) fmt = "png"
if (!exists("outfile")) outfile = "python_vs_c.".fmt
if (!exists("nbars")) nbars = 20

height = 150 + nbars * 28
height = height < 400 ? 400 : height
if (fmt eq "svg") {
	set terminal svg size 1000,height dynamic font "sans,12" background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
		set terminal pngcairo size 1000,height font "sans,10"
	} else {
		set terminal png size 1000,height
	}
}
set termoption noenhanced
set output outfile
set datafile separator "\t"
set title "Python multiprocessing vs C: how many times slower (log scale; 1 = as fast)"
set logscale x 10
set xlabel "times slower than C (time ratio, or inverse rate ratio)"
set xrange [0.5:*]
set yrange [-0.7:nbars - 0.3]
set ytics scale 0
set grid xtics
set key off
set style fill solid 0.7 border -1
set offsets 0, 0, 0, 0
unset colorbox
plot file using 5:($0):(0.5):5:($0 - 0.35):($0 + 0.35):ytic(1) \
	with boxxyerror lc rgb "#4477aa", \
     file using 5:($0):(sprintf("%.3gx", $5)) with labels left offset 0.5, 0 font ",9"
