/* SPDX-License-Identifier: MIT */
/*
 * Reader tests: valid files (quoted newlines, CRLF, no final newline) are read with the
 * right record line numbers; malformed ones are refused with "<file>:<line>: ..." naming
 * the right line -- wrong header, truncated row, bad numbers, bad quoting, a NUL byte, an
 * over-long record. Last, mutated and random inputs are thrown at it: it must not crash
 * (run under ASan/UBSan), and its answers must stay within the contract.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "testutil.h"

static const char header[] =
	"run_id,bench,mech,impl,mode,workers,cpus,cpus_seen,placement,mem,size_bytes,params,"
	"rep,metric,unit,value,ci_low,ci_high,samples,ops_per_sample,status,reason\n";

static const char *const defaults[IPCB_CSV_NCOLS] = {
	"r1", "pingpong", "pipe", "c", "process", "2", "0;1", "0;1", "compact", "none", "64",
	"", "1", "rtt_p50_ns", "ns", "1234.5", "", "", "1000", "1", "ok", "",
};

static char tmp_path[64];

/* A valid data line, with column col (if >= 0) replaced by raw text (already quoted). */
static char *line_with(int col, const char *raw)
{
	static char buf[4096];
	size_t n = 0;

	for (int c = 0; c < IPCB_CSV_NCOLS; c++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", c ? "," : "",
				      c == col ? raw : defaults[c]);
	snprintf(buf + n, sizeof(buf) - n, "\n");
	return buf;
}

static void write_file(const char *data, size_t len)
{
	FILE *f = fopen(tmp_path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fwrite(data, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

/* Read the whole file; returns the final status (0 = clean EOF, or the error), the number
 * of records, the last message, and the line of each of the first records. */
struct outcome {
	int ret, open_ret, nrec;
	long lines[8];
	char msg[600];
};

static struct outcome read_all(const char *data, size_t len)
{
	struct outcome o = { 0 };
	struct ipcb_csv_reader *r = NULL;
	struct ipcb_csv_rec rec;
	int ret;

	write_file(data, len);
	o.open_ret = ipcb_csv_open(&r, tmp_path, o.msg, sizeof(o.msg));
	if (o.open_ret) {
		o.ret = o.open_ret;
		return o;
	}
	while ((ret = ipcb_csv_next(r, &rec)) == 1) {
		if (o.nrec < 8)
			o.lines[o.nrec] = rec.line;
		o.nrec++;
	}
	o.ret = ret;
	snprintf(o.msg, sizeof(o.msg), "%s", ipcb_csv_error(r));
	if (ret < 0) {
		/* errors are sticky */
		CHECK(ipcb_csv_next(r, &rec) == ret);
		CHECK(strlen(ipcb_csv_error(r)) > 0);
	}
	ipcb_csv_close(r);
	return o;
}

static struct outcome read_str(const char *data)
{
	return read_all(data, strlen(data));
}

/* The message starts with "<tmp_path>:<line>: " and contains want. */
static int msg_is(const struct outcome *o, long line, const char *want)
{
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "%s:%ld: ", tmp_path, line);
	return strncmp(o->msg, prefix, strlen(prefix)) == 0 && strstr(o->msg, want) != NULL;
}

/* header + lines, concatenated */
static char *join(const char *a, const char *b, const char *c)
{
	static char buf[32768];

	snprintf(buf, sizeof(buf), "%s%s%s%s", header, a ? a : "", b ? b : "", c ? c : "");
	return buf;
}

static void test_valid(void)
{
	struct ipcb_csv_reader *r = NULL;
	struct ipcb_csv_rec rec;
	char l1[4096], l2[4096], l3[4096], err[256];
	struct outcome o;

	/* line 2; lines 3-5 (two quoted newlines); line 6 */
	snprintf(l1, sizeof(l1), "%s", line_with(-1, NULL));
	snprintf(l2, sizeof(l2), "%s", line_with(IPCB_COL_REASON, "\"two\nmore\nlines, \"\"quoted\"\"\""));
	snprintf(l3, sizeof(l3), "%s", line_with(IPCB_COL_REP, "median"));
	o = read_str(join(l1, l2, l3));
	CHECKF(o.ret == 0 && o.nrec == 3, "%d %d %s", o.ret, o.nrec, o.msg);
	CHECK(o.lines[0] == 2 && o.lines[1] == 3 && o.lines[2] == 6);

	/* field values and parsed numbers */
	snprintf(l1, sizeof(l1), "%s", line_with(IPCB_COL_SIZE_BYTES, "18446744073709551615"));
	write_file(join(l1, l2, NULL), strlen(join(l1, l2, NULL)));
	CHECK(ipcb_csv_open(&r, tmp_path, err, sizeof(err)) == 0);
	if (r) {
		CHECK(ipcb_csv_next(r, &rec) == 1);
		CHECK(rec.size_bytes == UINT64_MAX);
		CHECK(rec.workers == 2 && rec.rep == 1 && rec.samples == 1000);
		CHECK(rec.value == 1234.5 && isnan(rec.ci_low) && isnan(rec.ci_high));
		CHECK(!strcmp(rec.col[IPCB_COL_MECH], "pipe") && !strcmp(rec.col[IPCB_COL_PARAMS], ""));
		CHECK(ipcb_csv_next(r, &rec) == 1);
		CHECK(!strcmp(rec.col[IPCB_COL_REASON], "two\nmore\nlines, \"quoted\""));
		CHECK(ipcb_csv_next(r, &rec) == 0);
		CHECK(ipcb_csv_next(r, &rec) == 0);
		CHECK(!strcmp(ipcb_csv_error(r), ""));
		ipcb_csv_close(r);
	}

	/* CRLF line ends, and a CRLF kept inside quotes */
	{
		char crlf[16384];
		size_t n = 0;
		const char *src = join(line_with(-1, NULL), NULL, NULL);

		for (; *src; src++) {
			if (*src == '\n')
				crlf[n++] = '\r';
			crlf[n++] = *src;
		}
		n += (size_t)snprintf(crlf + n, sizeof(crlf) - n, "%s",
				      line_with(IPCB_COL_REASON, "\"a\r\nb\""));
		crlf[n - 1] = '\r';
		crlf[n++] = '\n';
		crlf[n] = '\0';
		o = read_str(crlf);
		CHECKF(o.ret == 0 && o.nrec == 2, "%s", o.msg);
		CHECK(o.lines[1] == 3);
	}

	/* no newline after the last record, even when its last field is empty */
	snprintf(l1, sizeof(l1), "%s", line_with(-1, NULL));
	l1[strlen(l1) - 1] = '\0';
	o = read_str(join(l1, NULL, NULL));
	CHECKF(o.ret == 0 && o.nrec == 1, "%s", o.msg);

	/* header only */
	o = read_str(header);
	CHECK(o.ret == 0 && o.nrec == 0);

	/* rep "" (a case that never ran), NAN written as empty, status values */
	snprintf(l1, sizeof(l1), "%s", line_with(IPCB_COL_REP, ""));
	snprintf(l2, sizeof(l2), "%s", line_with(IPCB_COL_STATUS, "SKIPPED"));
	snprintf(l3, sizeof(l3), "%s", line_with(IPCB_COL_VALUE, "-1.5e-308"));
	o = read_str(join(l1, l2, l3));
	CHECKF(o.ret == 0 && o.nrec == 3, "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_STATUS, "PARTIAL"), NULL, NULL));
	CHECKF(o.ret == 0 && o.nrec == 1, "%s", o.msg);
}

static void test_header(void)
{
	char h[1024];
	struct outcome o;

	/* a wrong name: line 1, column 3 named with what was found */
	snprintf(h, sizeof(h), "%s", header);
	memcpy(strstr(h, "mech"), "mach", 4);
	o = read_str(h);
	CHECK(o.open_ret == -EINVAL);
	CHECKF(msg_is(&o, 1, "column 3 is \"mach\", expected \"mech\""), "%s", o.msg);

	/* a missing last column */
	snprintf(h, sizeof(h), "%s", header);
	*strstr(h, ",reason") = '\n';
	strstr(h, "\n")[1] = '\0';
	o = read_str(h);
	CHECK(o.open_ret == -EINVAL);
	CHECKF(msg_is(&o, 1, "column 22 \"reason\""), "%s", o.msg);

	/* an extra column */
	snprintf(h, sizeof(h), "%s", header);
	snprintf(strstr(h, "reason"), 32, "reason,extra\n");
	o = read_str(h);
	CHECK(o.open_ret == -EINVAL);
	CHECKF(msg_is(&o, 1, "23"), "%s", o.msg);

	/* someone else's CSV */
	o = read_str("a,b,c\n1,2,3\n");
	CHECKF(o.open_ret == -EINVAL && msg_is(&o, 1, "column 1 is \"a\""), "%s", o.msg);

	/* empty file */
	o = read_str("");
	CHECKF(o.open_ret == -EINVAL && msg_is(&o, 1, "empty"), "%s", o.msg);

	/* missing file */
	{
		struct ipcb_csv_reader *r = NULL;
		char err[256];

		CHECK(ipcb_csv_open(&r, "/nonexistent/results.csv", err, sizeof(err)) == -ENOENT);
		CHECK(r == NULL && strstr(err, "/nonexistent/results.csv") != NULL);
	}
}

static void test_errors(void)
{
	char good[4096], bad[8192];
	struct outcome o;

	snprintf(good, sizeof(good), "%s", line_with(-1, NULL));

	/* truncated row on line 3 */
	snprintf(bad, sizeof(bad), "%s", good);
	*strstr(bad, ",ok,") = '\n';
	strstr(bad, "\n")[1] = '\0';
	o = read_str(join(good, bad, good));
	CHECKF(o.ret == -EINVAL && o.nrec == 1 && msg_is(&o, 3, "20 fields, expected 22"),
	       "%d %s", o.ret, o.msg);

	/* a row cut short at end of file (no newline) */
	snprintf(bad, sizeof(bad), "%s", good);
	bad[40] = '\0';
	o = read_str(join(good, good, bad));
	CHECKF(o.ret == -EINVAL && o.nrec == 2 && msg_is(&o, 4, "expected 22"), "%s", o.msg);

	/* too many fields */
	snprintf(bad, sizeof(bad), "%s", good);
	snprintf(bad + strlen(bad) - 1, 16, ",x,y\n");
	o = read_str(join(good, bad, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 3, "24 fields"), "%s", o.msg);

	/* an empty line is a one-field record */
	o = read_str(join(good, "\n", good));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 3, "1 fields"), "%s", o.msg);

	/* non-numeric value on line 4 */
	o = read_str(join(good, good, line_with(IPCB_COL_VALUE, "12.5ms")));
	CHECKF(o.ret == -EINVAL && o.nrec == 2 && msg_is(&o, 4, "column value: \"12.5ms\""),
	       "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_VALUE, " 1"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column value"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_CI_LOW, "x"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column ci_low"), "%s", o.msg);

	/* size and workers */
	o = read_str(join(line_with(IPCB_COL_SIZE_BYTES, "4k"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column size_bytes"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_SIZE_BYTES, "18446744073709551616"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column size_bytes"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_SIZE_BYTES, ""), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column size_bytes"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_WORKERS, "-1"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column workers"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_WORKERS, "2147483648"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column workers"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_SAMPLES, "1e3"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column samples"), "%s", o.msg);

	/* rep and status */
	o = read_str(join(line_with(IPCB_COL_REP, "0"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column rep"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_REP, "mean"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column rep"), "%s", o.msg);
	o = read_str(join(line_with(IPCB_COL_STATUS, "OK"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "column status"), "%s", o.msg);

	/* unterminated quote opened on line 4, running to the end of the file */
	snprintf(bad, sizeof(bad), "%s%s%s", good, good,
		 line_with(IPCB_COL_REASON, "\"never closed\nstill open\n"));
	o = read_str(join(bad, NULL, NULL));
	CHECKF(o.ret == -EINVAL && o.nrec == 2 && msg_is(&o, 4, "unterminated"), "%s", o.msg);

	/* the quote opens on the record's second line (a quoted newline before it) */
	snprintf(bad, sizeof(bad), "%s", line_with(IPCB_COL_PARAMS, "\"a\nb\""));
	snprintf(bad + strlen(bad) - 1, 64, "%s", "\"oops\n");   /* reason: "oops... */
	o = read_str(join(good, bad, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 4, "unterminated"), "%s", o.msg);

	/* quote problems */
	o = read_str(join(line_with(IPCB_COL_MECH, "pi\"pe"), NULL, NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 2, "quote inside"), "%s", o.msg);
	o = read_str(join(good, line_with(IPCB_COL_MECH, "\"pipe\"x"), NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 3, "after the closing quote"), "%s", o.msg);

	/* a bare CR */
	o = read_str(join(good, line_with(IPCB_COL_MECH, "pi\rpe"), NULL));
	CHECKF(o.ret == -EINVAL && msg_is(&o, 3, "CR not followed by LF"), "%s", o.msg);

	/* embedded NUL, in a bare and in a quoted field */
	{
		char *all = join(good, good, good);
		size_t len = strlen(all);
		char *nul = all + strlen(header) + strlen(good) + 10;

		*nul = '\0';
		o = read_all(all, len);
		CHECKF(o.ret == -EINVAL && o.nrec == 1 && msg_is(&o, 3, "NUL"), "%s", o.msg);
	}
	{
		char *all = join(good, line_with(IPCB_COL_REASON, "\"a\nb\nc\""), NULL);
		size_t len = strlen(all);

		*strstr(all, "\nc\"") = '\0';   /* the NUL sits where line 4 would start */
		o = read_all(all, len);
		CHECKF(o.ret == -EINVAL && msg_is(&o, 4, "NUL"), "%s", o.msg);
	}

	/* a record over 64 KiB (one long field) is refused; one just under is read */
	{
		size_t base = strlen(good);
		size_t n_long = IPCB_CSV_MAX_RECORD + 10, n_ok = IPCB_CSV_MAX_RECORD - base - 1;
		char *big = malloc(strlen(header) + base * 2 + n_long + 16);
		char *field = malloc(n_long + 1);
		size_t len;

		CHECK(big && field);
		if (big && field) {
			memset(field, 'x', n_long);
			field[n_long] = '\0';
			len = (size_t)sprintf(big, "%s%s%s", header, good, line_with(-1, NULL));
			big[len - 1] = '\0';
			len--;
			/* replace the empty reason of the second line with the long field */
			len += (size_t)sprintf(big + len, "%s\n", field);
			o = read_all(big, len);
			CHECKF(o.ret == -E2BIG && o.nrec == 1 && msg_is(&o, 3, "longer than 65536"),
			       "%d %s", o.ret, o.msg);

			field[n_ok] = '\0';
			len = (size_t)sprintf(big, "%s%s", header, line_with(-1, NULL)) - 1;
			len += (size_t)sprintf(big + len, "%s\n", field);
			o = read_all(big, len);
			CHECKF(o.ret == 0 && o.nrec == 1, "%d %s", o.ret, o.msg);
		}
		free(big);
		free(field);
	}
}

/*
 * Throw mutated and random inputs at the reader (in memory, through fmemopen): it must
 * return 1, 0 or a negative errno, give a "name:line: " message with every error, and never
 * crash or leak (ASan). Valid records must have the expected field count.
 */
static void test_fuzz(void)
{
	static char seed[8192], buf[8192 + 64];
	uint64_t x = 88172645463325252u;
	size_t seed_len;
	int bad = 0, errors = 0, records = 0;

	seed_len = (size_t)snprintf(seed, sizeof(seed), "%s%s", header, line_with(-1, NULL));
	seed_len += (size_t)snprintf(seed + seed_len, sizeof(seed) - seed_len, "%s",
				     line_with(IPCB_COL_REASON, "\"a,\"\"b\"\"\nc\""));
	seed_len += (size_t)snprintf(seed + seed_len, sizeof(seed) - seed_len, "%s",
				     line_with(IPCB_COL_REP, "median"));

	for (int iter = 0; iter < 20000; iter++) {
		struct ipcb_csv_reader *r = NULL;
		struct ipcb_csv_rec rec;
		char err[256];
		size_t len;
		FILE *f;
		int ret, muts;

#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
		if (iter % 10 == 9) {
			len = RND() % 600;
			for (size_t i = 0; i < len; i++)
				buf[i] = "\"\r\n,ab1.\0e-"[RND() % 11];
		} else {
			memcpy(buf, seed, seed_len);
			len = seed_len;
			/* mutate the body only half of the time, the header otherwise too */
			muts = 1 + (int)(RND() % 4);
			for (int m = 0; m < muts; m++) {
				size_t lo = iter & 1 ? strlen(header) : 0;
				size_t at = lo + RND() % (len - lo);
				static const char pool[] = "\"\r\n,\0x9.-";

				switch (RND() % 3) {
				case 0:
					buf[at] = pool[RND() % (sizeof(pool) - 1)];
					break;
				case 1:
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
					break;
				default:
					if (len + 1 < sizeof(buf)) {
						memmove(buf + at + 1, buf + at, len - at);
						buf[at] = pool[RND() % (sizeof(pool) - 1)];
						len++;
					}
				}
			}
			if (RND() % 4 == 0)
				len = RND() % (len + 1);
		}
#undef RND
		f = fmemopen(buf, len ? len : 1, "r");
		if (!f) {
			bad++;
			continue;
		}
		if (!len) {
			/* fmemopen needs a size of at least 1: read the byte out first */
			(void)fgetc(f);
		}
		ret = ipcb_csv_fopen(&r, f, "fuzz", err, sizeof(err));
		if (ret < 0) {
			errors++;
			bad += strncmp(err, "fuzz:", 5) != 0;
		} else {
			while ((ret = ipcb_csv_next(r, &rec)) == 1) {
				records++;
				for (int c = 0; c < IPCB_CSV_NCOLS; c++)
					bad += rec.col[c] == NULL;
			}
			if (ret < 0) {
				errors++;
				bad += strncmp(ipcb_csv_error(r), "fuzz:", 5) != 0;
				bad += ret != -EINVAL && ret != -E2BIG && ret != -EIO;
			} else {
				bad += ret != 0;
			}
			ipcb_csv_close(r);
		}
		fclose(f);
	}
	CHECKF(bad == 0, "%d contract violations", bad);
	CHECK(errors > 0 && records > 0);
	printf("fuzz: %d errors, %d records read\n", errors, records);
}

int main(void)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/ipcb_csv_test.XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	test_valid();
	test_header();
	test_errors();
	test_fuzz();
	unlink(tmp_path);
	return TEST_END();
}
