/* SPDX-License-Identifier: MIT */
/*
 * CSV sink: results.csv, one tidy row per (case, repetition, metric), columns as listed by
 * IPCB_CSV_COLUMNS in sink.h and described in results/README.md.
 *
 * Quoting follows RFC 4180: a field containing a comma, a double quote, CR or LF is put in
 * double quotes with inner quotes doubled; every other field is written bare. Records end
 * with LF alone (the reader accepts CRLF as well). Doubles are printed with as many
 * significant digits as strtod() needs to give back the very same double (at most 17, the
 * %.17g bound), so nothing measured is rounded away; NAN (no value) is an empty field.
 * Numbers use the C locale's format: the harness never calls setlocale(), so the decimal
 * point is always '.'.
 *
 * The run id is given to open() and repeated in every row, so rows from several runs can
 * be concatenated or loaded into one table and still be told apart.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "sink.h"

struct ipcb_sink_state {
	struct ipcb_sink_file file;
	char *run_id;
	int err;            /* first write error (-errno), reported by close */
};

static const char *const csv_header[IPCB_CSV_NCOLS] = {
#define X(e, s) [IPCB_COL_##e] = s,
	IPCB_CSV_COLUMNS(X)
#undef X
};

static void csv_put_str(FILE *f, const char *s)
{
	if (!s)
		return;
	if (s[strcspn(s, ",\"\r\n")] == '\0') {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

static void csv_put_double(FILE *f, double v)
{
	char buf[IPCB_CSV_DOUBLE_LEN];

	if (!isnan(v)) {
		ipcb_csv_format_double(buf, v);
		fputs(buf, f);
	}
}

/* Check the stream after a line: a failed write makes the sink fail from then on. */
static int csv_check(struct ipcb_sink_state *st)
{
	if (!st->err && ferror(st->file.f))
		st->err = errno ? -errno : -EIO;
	return st->err;
}

static int csv_open(struct ipcb_sink_state **out, const char *dir, const char *run_id)
{
	struct ipcb_sink_state *st;
	int err;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->run_id = strdup(run_id ? run_id : "");
	if (!st->run_id) {
		err = -ENOMEM;
		goto free_st;
	}
	err = ipcb_sink_file_open(&st->file, dir, "results.csv");
	if (err)
		goto free_id;
	for (int i = 0; i < IPCB_CSV_NCOLS; i++) {
		if (i)
			putc(',', st->file.f);
		fputs(csv_header[i], st->file.f);
	}
	putc('\n', st->file.f);
	errno = 0;
	err = csv_check(st);
	if (err)
		goto discard;
	*out = st;
	return 0;

discard:
	ipcb_sink_file_discard(&st->file);
free_id:
	free(st->run_id);
free_st:
	free(st);
	return err;
}

static int csv_row(struct ipcb_sink_state *st, const struct ipcb_row *r)
{
	FILE *f = st->file.f;

	if (st->err)
		return st->err;
	errno = 0;
	csv_put_str(f, st->run_id);
	putc(',', f);
	csv_put_str(f, r->bench);
	putc(',', f);
	csv_put_str(f, r->mech);
	putc(',', f);
	csv_put_str(f, r->impl);
	putc(',', f);
	csv_put_str(f, r->mode);
	fprintf(f, ",%d,", r->workers);
	csv_put_str(f, r->cpus);
	putc(',', f);
	csv_put_str(f, r->cpus_seen);
	putc(',', f);
	csv_put_str(f, r->placement);
	putc(',', f);
	csv_put_str(f, r->mem);
	fprintf(f, ",%" PRIu64 ",", r->size_bytes);
	csv_put_str(f, r->params);
	putc(',', f);
	csv_put_str(f, r->rep);
	putc(',', f);
	csv_put_str(f, r->metric);
	putc(',', f);
	csv_put_str(f, r->unit);
	putc(',', f);
	csv_put_double(f, r->value);
	putc(',', f);
	csv_put_double(f, r->ci_low);
	putc(',', f);
	csv_put_double(f, r->ci_high);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", r->samples, r->ops_per_sample);
	csv_put_str(f, r->status);
	putc(',', f);
	csv_put_str(f, r->reason);
	putc('\n', f);
	return csv_check(st);
}

static int csv_close(struct ipcb_sink_state *st, const struct ipcb_run_meta *meta)
{
	int err;

	(void)meta;
	err = ipcb_sink_file_commit(&st->file, st->err);
	free(st->run_id);
	free(st);
	return err;
}

static void csv_abort(struct ipcb_sink_state *st)
{
	ipcb_sink_file_discard(&st->file);
	free(st->run_id);
	free(st);
}

const struct ipcb_sink ipcb_sink_csv = {
	.name = "csv",
	.summary = "results.csv: one row per case, repetition and metric",
	.open = csv_open,
	.row = csv_row,
	.close = csv_close,
	.abort = csv_abort,
};
