/* SPDX-License-Identifier: MIT */
/*
 * Command-line options as data: one table entry per option gives its name, type, range or
 * allowed values, help text and where it lands in struct ipcb_config. Parsing, range errors
 * and --help all come from the table, so the help cannot drift from what is accepted.
 */
#ifndef IPCB_OPT_H
#define IPCB_OPT_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"

enum ipcb_opt_type {
	IPCB_OPT_FLAG,      /* no value; sets int to 1 */
	IPCB_OPT_INT,       /* integer in [min, max] */
	IPCB_OPT_SECONDS,   /* duration: "2", "2s", "500ms", "1.5m", in [min, max] seconds */
	IPCB_OPT_FRACTION,  /* "5%" or "0.05", in [min, max] as a fraction */
	IPCB_OPT_STRING,    /* free text, or one of `choices` ("a|b|c") */
	IPCB_OPT_RATE,      /* events per second: "500", "500/s", "10k/s", in [min, max] */
	IPCB_OPT_SIZE,      /* bytes into a size_t: "65536", "64K", "1M", in [min, max] */
};

struct ipcb_opt {
	const char *name;         /* without the leading "--" */
	enum ipcb_opt_type type;
	size_t offset;            /* into struct ipcb_config, or into *base when base is set */
	double min, max;
	const char *choices;      /* STRING: "compact|scatter", NULL = free text */
	const char *metavar;
	const char *help;
	void *base;               /* NULL: the config; else a mechanism's own settings struct
				   * (its options are named --<mech>-<opt> and parsed in the parent
				   * before workers start, so workers inherit the values) */
	/* STRING, optional: check the value at parsing (a list's range, say). Returns 0, or
	 * -EINVAL after writing one line "ipcbench: --<name>: ..." into err (exit code 2). */
	int (*check)(const char *value, char *err, size_t errlen);
};

extern const struct ipcb_opt ipcb_opts[];    /* terminated by a NULL name */

/* Defaults before parsing. */
void ipcb_config_defaults(struct ipcb_config *cfg);

/* Parse argv from index `first`. Positional words go to pos[] (at most maxpos; more is an
 * error). Returns 0, 1 when --help or --version was printed (exit 0), or -EINVAL after
 * writing one line "ipcbench: ..." into err. */
int ipcb_opt_parse(struct ipcb_config *cfg, int argc, char **argv, int first, char **pos,
		   int maxpos, int *npos, char *err, size_t errlen);

/* Print the options section of --help, generated from the table. */
void ipcb_opt_help(FILE *f);

/* Parse helpers, exposed for tests and fuzzing. Each returns 0 or -EINVAL/-ERANGE. */
int ipcb_parse_seconds(const char *s, double *out);
int ipcb_parse_size(const char *s, size_t *out);    /* "64", "4K", "1M" (binary units) */
int ipcb_parse_sizes(const char *s, size_t *out, int max, int *n);
int ipcb_parse_rate(const char *s, double *out);
/* A list of whole counts in [lo, hi], at most max of them ("1,2,4,8"), for an option such as
 * --pool-sizes. Returns how many, or -EINVAL after writing one line "ipcbench: --<opt>: ..."
 * into err. */
int ipcb_parse_counts(const char *s, const char *opt, int lo, int hi, int *out, int max,
		      char *err, size_t errlen);    /* "500", "500/s", "10k/s", "2M/s" */

#endif
