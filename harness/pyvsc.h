/* SPDX-License-Identifier: MIT */
/*
 * Python next to C: which rows of a run measure the same job twice, once with CPython's
 * multiprocessing (bench python, impl=python) and once with ipcbench's C mechanism, and how
 * they compare. The pairing table lives in pyvsc.c only; `ipcbench plot` draws it
 * (plots/python_vs_c.gp) and `ipcbench report` prints it ("Python vs C").
 *
 * A pair is made only from rows the run has: a Python case, and a C case of the same job
 * with the same size, worker count, CPUs and swept parameters where those matter, both with
 * a median of the metric (status ok or NOISY; RACE too where the metric is the lost-update
 * count). A Python case whose C counterpart is absent (not run, SKIPPED, FAILED, on other
 * CPUs) gives a line that says so and carries no ratio; nothing is estimated.
 */
#ifndef IPCB_PYVSC_H
#define IPCB_PYVSC_H

#include <stddef.h>

#include "compare.h"

/* How the two numbers of a pair compare. */
enum ipcb_pyvsc_kind {
	IPCB_PYVSC_TIME,     /* lower is better: ratio Python / C is how many times slower */
	IPCB_PYVSC_RATE,     /* higher is better: C / Python is how many times slower */
	IPCB_PYVSC_COUNT,    /* lost updates: shown side by side, no ratio */
};

/* One Python case and its C counterpart (or why there is none). Pointers are into the
 * ipcb_results given to ipcb_pyvsc_pairs and live as long as it does. */
struct ipcb_pyvsc_line {
	char job[160];       /* "Queue ping-pong 64 B", "Pool api=map chunk=auto ..." */
	char c_job[120];     /* "pingpong shm-queue", the C side as the table names it */
	const char *metric;
	enum ipcb_pyvsc_kind kind;
	const struct ipcb_rcase *py, *c;          /* c NULL: no counterpart in the run */
	const struct ipcb_rmetric *py_m, *c_m;    /* their rows of metric (medians present) */
	double ratio;        /* Python median / C median; NAN for counts and missing pairs */
	double slower;       /* how many times slower Python is (ratio, or 1 / ratio for a
			      * rate); NAN when there is no ratio */
	double slower_lo, slower_hi;  /* the same from the ends of the two intervals (the
				       * widest combination); NAN without intervals */
	char why[200];       /* c == NULL: why ("no C row of pingpong shm-queue at 64 B") */
};

/*
 * The pairs of a run: one line per Python case that the table knows, in table order, then
 * file order. *out is malloc'ed (free() it); *n receives the count (0 when the run has no
 * Python rows the table knows). Returns 0 or -ENOMEM.
 */
int ipcb_pyvsc_pairs(const struct ipcb_results *res, struct ipcb_pyvsc_line **out, int *n);

/* A ratio for people: "296", "1.38", "0.0136", and "1750" rather than "1.75e+03". */
void ipcb_pyvsc_fmt_ratio(double v, char *buf, size_t len);

#endif
