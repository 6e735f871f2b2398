/* SPDX-License-Identifier: MIT */
/*
 * Strict results.csv reader (see csv.h for what is accepted).
 *
 * The parser is a four-state machine fed one byte at a time:
 *
 *	START    at the start of a field: '"' opens a quoted field, ',' ends an empty field,
 *	         LF (or CRLF) ends the record, anything else begins a bare field;
 *	BARE     inside a bare field: ',' and LF end it; a '"' here is an error;
 *	QUOTED   inside quotes: everything is data (LF too) until a '"';
 *	CLOSING  just after a '"' in a quoted field: a second '"' is a literal quote and
 *	         returns to QUOTED, ',' or LF ends the field, anything else is an error.
 *
 * Field bytes are copied, unquoted and NUL-terminated, into one buffer allocated with the
 * reader. Every stored byte was read from the record, so the record length limit bounds
 * the buffer: IPCB_CSV_MAX_RECORD bytes plus one terminator per stored field. Fields past
 * the expected count are counted but not stored, so the message can say how many there
 * were.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define CSV_BUF_SIZE (IPCB_CSV_MAX_RECORD + IPCB_CSV_NCOLS + 1)

struct ipcb_csv_reader {
	FILE *f;
	int own_file;
	char *name;
	long line;                    /* physical line of the next byte, from 1 */
	int err;                      /* sticky error, 0 while healthy */
	char msg[512];
	int nfields;                  /* fields in the last record, stored or not */
	char *field[IPCB_CSV_NCOLS];
	long field_line[IPCB_CSV_NCOLS];
	char buf[CSV_BUF_SIZE];
};

static const char *const csv_names[IPCB_CSV_NCOLS] = {
#define X(e, s) [IPCB_COL_##e] = s,
	IPCB_CSV_COLUMNS(X)
#undef X
};

/* The status values results/README.md defines; anything else is refused. */
static const char *const csv_statuses[] = {
	"ok", "FAILED", "SKIPPED", "NOISY", "RACE", "PARTIAL",
};

/* Record an error "<name>:<line>: <what>" and make it sticky. Returns err. */
__attribute__((format(printf, 4, 5)))
static int csv_fail(struct ipcb_csv_reader *r, int err, long line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->msg, sizeof(r->msg), "%s:%ld: ", r->name, line);
	if (n < 0 || (size_t)n >= sizeof(r->msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	r->err = err;
	return err;
}

/* A field as it may appear in a message: at most 40 bytes, unprintable bytes as '?'. */
static const char *csv_show(const char *s, char *out, size_t len)
{
	size_t i = 0, max = len - 4;

	if (max > 40)
		max = 40;
	for (; s[i] && i < max; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i])
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
	return out;
}

enum csv_state { CSV_START, CSV_BARE, CSV_QUOTED, CSV_CLOSING };

/*
 * Read one record into r->field[]. Returns 1 for a record, 0 at a clean end of file (no
 * byte of a new record read), or a negative error (message set). *start receives the line
 * the record starts on.
 */
static int csv_read_record(struct ipcb_csv_reader *r, long *start)
{
	enum csv_state state = CSV_START;
	size_t pos = 0, raw = 0;
	long fline = r->line;         /* line the current field starts on */
	int c, nf = 0;

	*start = r->line;
	r->nfields = 0;
	for (;;) {
		c = getc_unlocked(r->f);
		if (c == EOF) {
			if (ferror(r->f))
				return csv_fail(r, -EIO, r->line, "read error: %s",
						strerror(errno ? errno : EIO));
			if (state == CSV_QUOTED)
				return csv_fail(r, -EINVAL, fline,
						"unterminated quoted field (column %d) at end of file", nf);
			if (raw == 0)
				return 0;
			/* last record without a final newline: accept it */
			if (state == CSV_START)
				goto new_field_then_end;
			goto end_record;
		}
		if (++raw > IPCB_CSV_MAX_RECORD)
			return csv_fail(r, -E2BIG, *start, "record longer than %d bytes",
					IPCB_CSV_MAX_RECORD);
		if (c == '\0')
			return csv_fail(r, -EINVAL, r->line, "NUL byte in the data");
		if (c == '\r') {
			if (state == CSV_QUOTED)
				goto store;
			c = getc_unlocked(r->f);
			if (c != '\n')
				return csv_fail(r, -EINVAL, r->line, "CR not followed by LF");
			raw++;
		}
		if (c == '\n')
			r->line++;

		switch (state) {
		case CSV_START:
			/* a field begins here */
			nf++;
			fline = c == '\n' ? r->line - 1 : r->line;
			if (nf <= IPCB_CSV_NCOLS) {
				r->field[nf - 1] = r->buf + pos;
				r->field_line[nf - 1] = fline;
			}
			if (c == '"') {
				state = CSV_QUOTED;
				continue;
			}
			if (c == ',')
				goto end_field;
			if (c == '\n')
				goto end_field_and_record;
			state = CSV_BARE;
			goto store;
		case CSV_BARE:
			if (c == ',')
				goto end_field;
			if (c == '\n')
				goto end_field_and_record;
			if (c == '"')
				return csv_fail(r, -EINVAL, r->line,
						"quote inside an unquoted field (column %d)", nf);
			goto store;
		case CSV_QUOTED:
			if (c == '"') {
				state = CSV_CLOSING;
				continue;
			}
			goto store;
		case CSV_CLOSING:
			if (c == '"') {
				state = CSV_QUOTED;
				goto store;
			}
			if (c == ',')
				goto end_field;
			if (c == '\n')
				goto end_field_and_record;
			return csv_fail(r, -EINVAL, r->line,
					"character after the closing quote (column %d)", nf);
		}
		continue;
store:
		if (nf <= IPCB_CSV_NCOLS)
			r->buf[pos++] = (char)c;
		continue;
end_field:
		if (nf <= IPCB_CSV_NCOLS)
			r->buf[pos++] = '\0';
		state = CSV_START;
		continue;
end_field_and_record:
		if (nf <= IPCB_CSV_NCOLS)
			r->buf[pos++] = '\0';
		r->nfields = nf;
		return 1;
	}

new_field_then_end:
	/* "a,b,<EOF>": the trailing separator opened one more, empty, field */
	nf++;
	if (nf <= IPCB_CSV_NCOLS) {
		r->field[nf - 1] = r->buf + pos;
		r->field_line[nf - 1] = r->line;
	}
end_record:
	if (nf <= IPCB_CSV_NCOLS)
		r->buf[pos++] = '\0';
	r->nfields = nf;
	return 1;
}

static int csv_check_header(struct ipcb_csv_reader *r)
{
	char shown[64];
	long start;
	int ret, n;

	ret = csv_read_record(r, &start);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return csv_fail(r, -EINVAL, 1, "empty file: no header line");
	n = r->nfields < IPCB_CSV_NCOLS ? r->nfields : IPCB_CSV_NCOLS;
	for (int i = 0; i < n; i++)
		if (strcmp(r->field[i], csv_names[i]) != 0)
			return csv_fail(r, -EINVAL, start,
					"header column %d is \"%s\", expected \"%s\" (not an ipcbench results file of schema %d?)",
					i + 1, csv_show(r->field[i], shown, sizeof(shown)),
					csv_names[i], IPCB_CSV_SCHEMA);
	if (r->nfields < IPCB_CSV_NCOLS)
		return csv_fail(r, -EINVAL, start,
				"header ends after column %d, expected column %d \"%s\"",
				r->nfields, r->nfields + 1, csv_names[r->nfields]);
	if (r->nfields > IPCB_CSV_NCOLS)
		return csv_fail(r, -EINVAL, start,
				"header has %d columns, expected %d (first extra: column %d)",
				r->nfields, IPCB_CSV_NCOLS, IPCB_CSV_NCOLS + 1);
	return 0;
}

int ipcb_csv_fopen(struct ipcb_csv_reader **out, FILE *f, const char *name, char *err,
		   size_t errlen)
{
	struct ipcb_csv_reader *r;
	int ret;

	if (errlen)
		err[0] = '\0';
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->name = strdup(name ? name : "(stream)");
	if (!r->name) {
		free(r);
		goto nomem;
	}
	r->f = f;
	r->line = 1;
	ret = csv_check_header(r);
	if (ret < 0) {
		if (errlen)
			snprintf(err, errlen, "%s", r->msg);
		free(r->name);
		free(r);
		return ret;
	}
	*out = r;
	return 0;

nomem:
	if (errlen)
		snprintf(err, errlen, "%s: out of memory", name ? name : "(stream)");
	return -ENOMEM;
}

int ipcb_csv_open(struct ipcb_csv_reader **out, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f) {
		ret = -errno;
		if (errlen)
			snprintf(err, errlen, "%s: %s (errno %d)", path, strerror(-ret), -ret);
		return ret;
	}
	ret = ipcb_csv_fopen(out, f, path, err, errlen);
	if (ret < 0) {
		(void)fclose(f);
		return ret;
	}
	(*out)->own_file = 1;
	return 0;
}

/* Unsigned decimal, digits only, no sign, no overflow. */
static int csv_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* A double as strtod() reads it (C locale), the whole field; "" is NAN. */
static int csv_double(const char *s, double *out)
{
	char *end;

	if (!*s) {
		*out = NAN;
		return 0;
	}
	if (isspace((unsigned char)*s))
		return -1;
	*out = strtod(s, &end);   /* ERANGE is fine: overflow gives inf, underflow subnormals */
	return *end ? -1 : 0;
}

static int csv_bad(struct ipcb_csv_reader *r, int col, const char *what)
{
	char shown[64];

	return csv_fail(r, -EINVAL, r->field_line[col], "column %s: \"%s\" is not %s",
			csv_names[col], csv_show(r->field[col], shown, sizeof(shown)), what);
}

int ipcb_csv_next(struct ipcb_csv_reader *r, struct ipcb_csv_rec *rec)
{
	const char *rep, *status;
	uint64_t u;
	long start;
	size_t i;
	int ret;

	if (r->err)
		return r->err;
	ret = csv_read_record(r, &start);
	if (ret <= 0)
		return ret;
	if (r->nfields != IPCB_CSV_NCOLS)
		return csv_fail(r, -EINVAL, start, "%d fields, expected %d%s", r->nfields,
				IPCB_CSV_NCOLS, r->nfields < IPCB_CSV_NCOLS ? " (truncated row?)" : "");

	memset(rec, 0, sizeof(*rec));
	for (int c = 0; c < IPCB_CSV_NCOLS; c++)
		rec->col[c] = r->field[c];
	rec->line = start;

	if (csv_u64(r->field[IPCB_COL_WORKERS], &u) < 0 || u > INT_MAX)
		return csv_bad(r, IPCB_COL_WORKERS, "a worker count");
	rec->workers = (int)u;
	if (csv_u64(r->field[IPCB_COL_SIZE_BYTES], &rec->size_bytes) < 0)
		return csv_bad(r, IPCB_COL_SIZE_BYTES, "a size in bytes");
	if (csv_u64(r->field[IPCB_COL_SAMPLES], &rec->samples) < 0)
		return csv_bad(r, IPCB_COL_SAMPLES, "a sample count");
	if (csv_u64(r->field[IPCB_COL_OPS_PER_SAMPLE], &rec->ops_per_sample) < 0)
		return csv_bad(r, IPCB_COL_OPS_PER_SAMPLE, "an operation count");
	if (csv_double(r->field[IPCB_COL_VALUE], &rec->value) < 0)
		return csv_bad(r, IPCB_COL_VALUE, "a number");
	if (csv_double(r->field[IPCB_COL_CI_LOW], &rec->ci_low) < 0)
		return csv_bad(r, IPCB_COL_CI_LOW, "a number");
	if (csv_double(r->field[IPCB_COL_CI_HIGH], &rec->ci_high) < 0)
		return csv_bad(r, IPCB_COL_CI_HIGH, "a number");

	rep = r->field[IPCB_COL_REP];
	if (!*rep)
		rec->rep = IPCB_CSV_REP_NONE;
	else if (strcmp(rep, "median") == 0)
		rec->rep = IPCB_CSV_REP_MEDIAN;
	else if (csv_u64(rep, &u) == 0 && u >= 1 && u <= INT_MAX)
		rec->rep = (int)u;
	else
		return csv_bad(r, IPCB_COL_REP, "a repetition number or \"median\"");

	status = r->field[IPCB_COL_STATUS];
	for (i = 0; i < sizeof(csv_statuses) / sizeof(csv_statuses[0]); i++)
		if (strcmp(status, csv_statuses[i]) == 0)
			break;
	if (i == sizeof(csv_statuses) / sizeof(csv_statuses[0]))
		return csv_bad(r, IPCB_COL_STATUS, "ok, FAILED, SKIPPED, NOISY, RACE or PARTIAL");
	return 1;
}

const char *ipcb_csv_error(const struct ipcb_csv_reader *r)
{
	return r->err ? r->msg : "";
}

void ipcb_csv_close(struct ipcb_csv_reader *r)
{
	if (!r)
		return;
	if (r->own_file)
		(void)fclose(r->f);
	free(r->name);
	free(r);
}

void ipcb_csv_format_double(char buf[IPCB_CSV_DOUBLE_LEN], double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, IPCB_CSV_DOUBLE_LEN, "%.*g", prec, v);
		if (prec == 17 || isnan(v) || strtod(buf, NULL) == v)
			break;
	}
}
