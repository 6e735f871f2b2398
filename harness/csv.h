/* SPDX-License-Identifier: MIT */
/*
 * Strict reader for our own results.csv (schema IPCB_CSV_SCHEMA, columns IPCB_CSV_COLUMNS
 * in sink.h), used by the post-processing commands (plot, report, compare).
 *
 * Strict means: the header must be exactly our columns in our order; every record must
 * have exactly that many fields; numeric columns must parse completely; quoting must be
 * RFC 4180 (a quote only opens a field, "" inside quotes is a quote, nothing follows a
 * closing quote but a separator); CR only as part of CRLF; no NUL byte anywhere. Anything
 * else stops the reader with a message "<file>:<line>: <what>", since a results file we
 * cannot trust is better refused than half-read.
 *
 * Memory is fixed when the reader is opened: one buffer of IPCB_CSV_MAX_RECORD bytes (plus
 * a terminator per field), whatever the input holds. A record longer than that is an error.
 * The reader is meant to survive arbitrary bytes (it is fuzzed).
 */
#ifndef IPCB_CSV_H
#define IPCB_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sink.h"

/* Longest record accepted, in raw bytes including quotes and line ends (64 KiB). */
#define IPCB_CSV_MAX_RECORD 65536

/* Values of ipcb_csv_rec.rep besides a repetition number (>= 1). */
#define IPCB_CSV_REP_MEDIAN 0      /* rep "median": the summary row */
#define IPCB_CSV_REP_NONE  (-1)    /* rep "": no repetition (a case that never ran) */

/* One record. Strings point into the reader and stay valid until the next ipcb_csv_next()
 * or ipcb_csv_close() on that reader. */
struct ipcb_csv_rec {
	const char *col[IPCB_CSV_NCOLS];  /* every field, unquoted; index with IPCB_COL_* */
	long line;                        /* line the record starts on (the header is line 1) */
	/* parsed columns */
	int workers;
	int rep;                          /* >= 1, IPCB_CSV_REP_MEDIAN or IPCB_CSV_REP_NONE */
	uint64_t size_bytes, samples, ops_per_sample;
	double value, ci_low, ci_high;    /* NAN for an empty field */
};

struct ipcb_csv_reader;

/*
 * Open path and check its header. Returns 0 and sets *out, or -errno with a message in
 * err (if errlen > 0): -ENOENT/-EACCES/... from fopen, -EINVAL for a header that is not
 * ours (the message names the file, line 1 and the first wrong column), -E2BIG for a
 * header over IPCB_CSV_MAX_RECORD, -EIO for a read error, -ENOMEM.
 */
int ipcb_csv_open(struct ipcb_csv_reader **out, const char *path, char *err, size_t errlen);
/* The same over an open stream (fmemopen() for tests and fuzzing); name is used in
 * messages. f is not closed by the reader. */
int ipcb_csv_fopen(struct ipcb_csv_reader **out, FILE *f, const char *name, char *err,
		   size_t errlen);

/*
 * Read the next record into rec. Returns 1 for a record, 0 at the end of the file, or
 * -errno: -EINVAL for malformed input (wrong field count, a bad number, status or rep,
 * bad quoting, a NUL byte), -E2BIG for a record over IPCB_CSV_MAX_RECORD bytes, -EIO for a
 * read error. After an error every further call returns the same error.
 */
int ipcb_csv_next(struct ipcb_csv_reader *r, struct ipcb_csv_rec *rec);

/* "<file>:<line>: <what>" for the last error, "" if none. */
const char *ipcb_csv_error(const struct ipcb_csv_reader *r);

/* Close the file (if the reader opened it) and free the reader. NULL is allowed. */
void ipcb_csv_close(struct ipcb_csv_reader *r);

/* Room for any double formatted by ipcb_csv_format_double(), terminator included. */
#define IPCB_CSV_DOUBLE_LEN 32
/* Write v as the shortest of %.15g, %.16g and %.17g that strtod() reads back as exactly v
 * (17 significant digits always suffice for a binary64; fewer are tried first so 0.1 is
 * not written as 0.10000000000000001). NaN gives "nan": callers write no value instead. */
void ipcb_csv_format_double(char buf[IPCB_CSV_DOUBLE_LEN], double v);

#endif
