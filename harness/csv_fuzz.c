// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the strict results.csv reader (csv.h) and what post-processing does
 * with the records it accepts. The input is a whole file, read through fmemopen() as
 * ipcb_csv_fopen() would read a real one, and then again after a valid header, so the
 * fuzzer spends its effort on records rather than on rediscovering the header.
 *
 * Nothing may crash, hang, leak or read out of bounds, and:
 *   - every refusal comes with a "<name>:<line>: ..." message, and every later call returns
 *     the same error (the reader's errors are sticky);
 *   - an accepted record has exactly IPCB_CSV_NCOLS fields and a line number that does not
 *     go backwards;
 *   - a number the reader accepted, formatted again with ipcb_csv_format_double(), reads
 *     back as the same double (the writer's promise, checked on the reader's values).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(double v)
{
	char buf[IPCB_CSV_DOUBLE_LEN];

	if (isnan(v))
		return;
	ipcb_csv_format_double(buf, v);
	if (strtod(buf, NULL) != v)
		__builtin_trap();
}

static void feed(const char *buf, size_t len)
{
	struct ipcb_csv_reader *r;
	struct ipcb_csv_rec rec;
	char err[512];
	long last_line = 1;
	int ret, again;
	FILE *f;

	f = fmemopen((void *)buf, len, "r");
	if (!f)
		return;
	ret = ipcb_csv_fopen(&r, f, "fuzz.csv", err, sizeof(err));
	if (ret < 0) {
		if (strncmp(err, "fuzz.csv", 8) != 0 && ret != -ENOMEM)
			__builtin_trap();           /* a refusal must name the file */
		fclose(f);
		return;
	}
	while ((ret = ipcb_csv_next(r, &rec)) == 1) {
		if (rec.line < last_line)
			__builtin_trap();
		last_line = rec.line;
		for (int c = 0; c < IPCB_CSV_NCOLS; c++)
			if (!rec.col[c])
				__builtin_trap();
		check_roundtrip(rec.value);
		check_roundtrip(rec.ci_low);
		check_roundtrip(rec.ci_high);
	}
	if (ret < 0) {
		if (strncmp(ipcb_csv_error(r), "fuzz.csv:", 9) != 0)
			__builtin_trap();
		again = ipcb_csv_next(r, &rec);
		if (again != ret)
			__builtin_trap();           /* errors are sticky */
	}
	ipcb_csv_close(r);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char header[] =
#define X(e, s) s ","
		IPCB_CSV_COLUMNS(X)
#undef X
		;
	size_t hl = sizeof(header) - 1;
	char *buf;

	if (size == 0 || size > 4 * IPCB_CSV_MAX_RECORD)
		return 0;
	/* as it is */
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	feed(buf, size);
	free(buf);
	/* after a valid header (the last ',' of the X list becomes the line end) */
	buf = malloc(hl + size);
	if (!buf)
		return 0;
	memcpy(buf, header, hl);
	buf[hl - 1] = '\n';
	memcpy(buf + hl, data, size);
	feed(buf, hl + size);
	free(buf);
	return 0;
}
