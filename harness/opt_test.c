// SPDX-License-Identifier: MIT
/* Option parsing: values at their edges are accepted or refused with the option named, and
 * the table itself is consistent (help cannot describe an option the parser lacks). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "opt.h"
#include "testutil.h"

static int parse(struct ipcb_config *cfg, const char *a, const char *b, char *err)
{
	char *argv[] = { (char *)"ipcbench", (char *)a, (char *)b, NULL };
	char *pos[4];
	int npos;

	ipcb_config_defaults(cfg);
	return ipcb_opt_parse(cfg, b ? 3 : 2, argv, 1, pos, 4, &npos, err, 512);
}

int main(void)
{
	struct ipcb_config cfg;
	char err[512];
	double d;
	size_t sz, list[8];
	int n;

	/* the table */
	for (const struct ipcb_opt *o = ipcb_opts; o->name; o++) {
		CHECKF(o->help && *o->help, "--%s has no help", o->name);
		for (const struct ipcb_opt *p = o + 1; p->name; p++)
			CHECKF(strcmp(o->name, p->name) != 0, "--%s twice", o->name);
	}

	/* durations */
	CHECK(ipcb_parse_seconds("2", &d) == 0 && d == 2);
	CHECK(ipcb_parse_seconds("500ms", &d) == 0 && fabs(d - 0.5) < 1e-12);
	CHECK(ipcb_parse_seconds("1.5m", &d) == 0 && d == 90);
	CHECK(ipcb_parse_seconds("-1", &d) < 0);
	CHECK(ipcb_parse_seconds("", &d) < 0);
	CHECK(ipcb_parse_seconds("1 s", &d) < 0);
	CHECK(ipcb_parse_seconds("nan", &d) < 0);
	CHECK(ipcb_parse_seconds("inf", &d) < 0);
	CHECK(ipcb_parse_seconds("10parsecs", &d) < 0);

	/* sizes */
	CHECK(ipcb_parse_size("64", &sz) == 0 && sz == 64);
	CHECK(ipcb_parse_size("4K", &sz) == 0 && sz == 4096);
	CHECK(ipcb_parse_size("1M", &sz) == 0 && sz == 1048576);
	CHECK(ipcb_parse_size("1MB", &sz) == 0 && sz == 1048576);
	CHECK(ipcb_parse_size("-3", &sz) < 0);
	CHECK(ipcb_parse_size("", &sz) < 0);
	CHECK(ipcb_parse_size("12Q", &sz) < 0);
	CHECK(ipcb_parse_size("99999999999999999999999", &sz) == -ERANGE);
	CHECK(ipcb_parse_size("17179869184G", &sz) == -ERANGE);
	CHECK(ipcb_parse_sizes("64,4K", list, 8, &n) == 0 && n == 2 && list[1] == 4096);
	CHECK(ipcb_parse_sizes("64,", list, 8, &n) < 0);
	CHECK(ipcb_parse_sizes(",64", list, 8, &n) < 0);
	CHECK(ipcb_parse_sizes("1,2,3,4,5,6,7,8,9", list, 8, &n) == -E2BIG);

	/* options */
	CHECK(parse(&cfg, "--reps", "7", err) == 0 && cfg.reps == 7);
	CHECK(parse(&cfg, "--reps=7", NULL, err) == 0 && cfg.reps == 7);
	CHECK(parse(&cfg, "--reps", "0", err) < 0 && strstr(err, "--reps"));
	CHECK(parse(&cfg, "--reps", "1001", err) < 0 && strstr(err, "--reps"));
	CHECK(parse(&cfg, "--reps", "1e3", err) < 0);
	CHECK(parse(&cfg, "--cores", "0", err) < 0 && strstr(err, "--cores"));
	CHECK(parse(&cfg, "--cores", "99999999999999999999", err) < 0);
	CHECK(parse(&cfg, "--noise", "5%", err) == 0 && fabs(cfg.noise - 0.05) < 1e-12);
	CHECK(parse(&cfg, "--noise", "0.05", err) == 0 && fabs(cfg.noise - 0.05) < 1e-12);
	CHECK(parse(&cfg, "--noise", "5%%", err) < 0);
	CHECK(parse(&cfg, "--mode", "thread", err) == 0 && strcmp(cfg.mode, "thread") == 0);
	CHECK(parse(&cfg, "--mode", "threads", err) < 0 && strstr(err, "process|thread"));
	CHECK(parse(&cfg, "--all=1", NULL, err) < 0 && strstr(err, "takes no value"));
	CHECK(parse(&cfg, "--timeout", NULL, err) < 0 && strstr(err, "needs a value"));
	CHECK(parse(&cfg, "--bogus", NULL, err) < 0 && strstr(err, "unknown option"));
	CHECK(parse(&cfg, "-x", NULL, err) < 0 && strstr(err, "unknown option"));
	CHECK(parse(&cfg, "--out", "", err) < 0);
	return TEST_END();
}
