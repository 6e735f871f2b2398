// SPDX-License-Identifier: MIT
/* The option table, its parser and the generated help. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/pattern.h"
#include "../ipc/transport.h"
#include "opt.h"
#include "stress.h"

#define OFF(f) offsetof(struct ipcb_config, f)
#define OPT(n, t, off, mn, mx, ch, mv, h) \
	{ .name = n, .type = t, .offset = off, .min = mn, .max = mx, .choices = ch, \
	  .metavar = mv, .help = h, .base = NULL }

const struct ipcb_opt ipcb_opts[] = {
	OPT("all", IPCB_OPT_FLAG, OFF(all), 0, 0, NULL, NULL,
	  "run every bench with every mechanism that fits it"),
	OPT("bench", IPCB_OPT_STRING, OFF(benches), 0, 0, NULL, "LIST",
	  "benches to run, comma-separated (see `ipcbench list`)"),
	OPT("python", IPCB_OPT_FLAG, OFF(python), 0, 0, NULL, NULL,
	  "run the Python multiprocessing counterparts (the python bench; SKIPPED without python3)"),
	OPT("mech", IPCB_OPT_STRING, OFF(mechs), 0, 0, NULL, "LIST",
	  "mechanisms to use, comma-separated (default: every one that fits)"),
	OPT("cores", IPCB_OPT_INT, OFF(cores), 1, IPCB_MAX_WORKERS, NULL, "N",
	  "CPU budget: most workers a case starts (default: every allowed CPU; more than exist "
	  "is clamped unless --oversubscribe)"),
	OPT("cpus", IPCB_OPT_STRING, OFF(cpus), 0, 0, NULL, "LIST",
	  "explicit CPUs in worker order, e.g. 0,1 or 0,0 (two workers sharing CPU 0) or 0-3"),
	OPT("placement", IPCB_OPT_STRING, OFF(placement), 0, 0, "compact|scatter|classes", "POLICY",
	  "how CPUs are chosen for workers (default compact); classes: every two-worker case "
	  "once per relation of two CPUs present here (same PU, SMT, L2, L3, package, NUMA node)"),
	OPT("oversubscribe", IPCB_OPT_FLAG, OFF(oversubscribe), 0, 0, NULL, NULL,
	  "allow more workers than CPUs (CPUs are reused round-robin)"),
	OPT("unpinned", IPCB_OPT_FLAG, OFF(unpinned), 0, 0, NULL, NULL,
	  "do not bind workers to CPUs (the scheduler places them; recorded as such)"),
	OPT("mem", IPCB_OPT_STRING, OFF(mem), 0, 0, NULL, "POLICY",
	  "shared-memory placement: local (default), interleave or node=N"),
	OPT("mode", IPCB_OPT_STRING, OFF(mode), 0, 0, "process|thread", "MODE",
	  "workers as forked processes (default) or threads of one process"),
	OPT("quick", IPCB_OPT_FLAG, OFF(quick), 0, 0, NULL, NULL,
	  "short profile: 3 repetitions of 0.1 s, sizes 64,4K,64K,1M"),
	OPT("reps", IPCB_OPT_INT, OFF(reps), 1, 1000, NULL, "N",
	  "repetitions per case (default 5; 3 with --quick)"),
	OPT("duration", IPCB_OPT_SECONDS, OFF(duration_s), 0.001, 86400, NULL, "TIME",
	  "measured time per repetition, e.g. 500ms, 2s (default 0.5s; 0.1s with --quick)"),
	OPT("warmup", IPCB_OPT_SECONDS, OFF(warmup_s), 0, 3600, NULL, "TIME",
	  "unmeasured time before each repetition (default 0.1s; 0.05s with --quick)"),
	OPT("sizes", IPCB_OPT_STRING, OFF(sizes), 0, 0, NULL, "LIST",
	  "message sizes in bytes, K/M/G suffixes allowed, each 8..1G "
	  "(default 64,256,1K,4K,16K,64K,256K,1M)"),
	OPT("verify", IPCB_OPT_STRING, OFF(verify), 0, 0, "sparse|full", "MODE",
	  "message check: sparse (header + one word per 4 KiB, default) or full (every byte)"),
	OPT("timeout", IPCB_OPT_SECONDS, OFF(timeout_s), 0.1, 86400, NULL, "TIME",
	  "watchdog per repetition (default: 10s + 5 x (warmup + duration))"),
	OPT("noise", IPCB_OPT_FRACTION, OFF(noise), 0.001, 10, NULL, "FRACTION",
	  "flag a case NOISY when its 95% interval is wider than this share of the median "
	  "(default 10%)"),
	OPT("rate", IPCB_OPT_RATE, OFF(rate), 1, 1e9, NULL, "N/s",
	  "open-loop pingpong: send on a fixed schedule of N messages per second and time each "
	  "reply from its scheduled send time, so a stall counts against every message it "
	  "delayed (default: closed loop)"),
	OPT("allow-clamp", IPCB_OPT_FLAG, OFF(allow_clamp), 0, 0, NULL, NULL,
	  "run a case whose request the kernel capped (--pipe-size, --sock-buf, "
	  "--posix-mq-depth) with what was granted, and say so in its rows (default: the case "
	  "FAILS, naming both values)"),
	OPT("perf", IPCB_OPT_FLAG, OFF(perf), 0, 0, NULL, NULL,
	  "count cycles and instructions per message with perf_event_open (where the machine "
	  "has the counters); per-task counters slow every context switch, so latency from such "
	  "a run is not comparable to one without"),
	OPT("inject", IPCB_OPT_STRING, OFF(inject), 0, 0, NULL, "LIST",
	  "stress: faults to inject, comma-separated: kill-worker, stop-worker, slow-consumer, "
	  "full-queue (default: none)"),
	OPT("inject-rate", IPCB_OPT_RATE, OFF(inject_rate), 0.01, 1000, NULL, "N/s",
	  "stress: faults injected per second, kinds taken in turn (default 1/s)"),
	OPT("out", IPCB_OPT_STRING, OFF(out), 0, 0, NULL, "DIR",
	  "results root; each run writes DIR/<run-id>/ (default: results)"),
	OPT("no-plots", IPCB_OPT_FLAG, OFF(no_plots), 0, 0, NULL, NULL,
	  "do not run gnuplot at the end of a run"),
	OPT("progress", IPCB_OPT_STRING, OFF(progress_s), 0, 0, "auto|on|off", "WHEN",
	  "progress on stderr: a live line on a terminal, a line per case otherwise (default auto)"),
	{ .name = NULL },
};

void ipcb_config_defaults(struct ipcb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->warmup_s = -1;
	cfg->progress = -1;
}

int ipcb_parse_seconds(const char *s, double *out)
{
	char *end;
	double v, mul = 1;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end == 0 || strcmp(end, "s") == 0)
		mul = 1;
	else if (strcmp(end, "ms") == 0)
		mul = 1e-3;
	else if (strcmp(end, "us") == 0)
		mul = 1e-6;
	else if (strcmp(end, "m") == 0)
		mul = 60;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int ipcb_parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	if (v > (ULLONG_MAX >> shift) || (v << shift) > SIZE_MAX)
		return -ERANGE;
	*out = (size_t)(v << shift);
	return 0;
}

int ipcb_parse_sizes(const char *s, size_t *out, int max, int *n)
{
	char buf[64];
	const char *p = s;

	*n = 0;
	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(buf))
			return -EINVAL;
		if (*n >= max)
			return -E2BIG;
		memcpy(buf, p, len);
		buf[len] = 0;
		int rc = ipcb_parse_size(buf, &out[*n]);
		if (rc < 0)
			return rc;
		(*n)++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int ipcb_parse_rate(const char *s, double *out)
{
	char *end;
	double v, mul = 1;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		mul = 1e3, end++;
	else if (*end == 'M')
		mul = 1e6, end++;
	if (strcmp(end, "/s") != 0 && *end)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int ipcb_parse_counts(const char *s, const char *opt, int lo, int hi, int *out, int max,
		      char *err, size_t errlen)
{
	const char *p = s;
	int n = 0;

	for (;;) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || (*end && *end != ',')) {
			snprintf(err, errlen, "ipcbench: --%s: '%s' is not a list of counts (e.g. "
				 "1,2,4,8)", opt, s);
			return -EINVAL;
		}
		if (v < lo || v > hi) {
			snprintf(err, errlen, "ipcbench: --%s: %ld is out of range (%d .. %d)", opt, v,
				 lo, hi);
			return -EINVAL;
		}
		if (n == max) {
			snprintf(err, errlen, "ipcbench: --%s: more than %d counts", opt, max);
			return -EINVAL;
		}
		out[n++] = (int)v;
		if (!*end)
			return n;
		p = end + 1;
	}
}

static int in_choices(const char *choices, const char *v)
{
	size_t len = strlen(v);
	const char *p = choices;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == len && strncmp(p, v, len) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* The option called name (nlen bytes): the general table first, then each mechanism's. */
static const struct ipcb_opt *find_opt(const char *name, size_t nlen)
{
	for (const struct ipcb_opt *o = ipcb_opts; o->name; o++)
		if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0)
			return o;
	for (const struct ipcb_transport *const *t = ipcb_transports; *t; t++)
		for (const struct ipcb_opt *o = (*t)->opts; o && o->name; o++)
			if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0)
				return o;
	for (const struct ipcb_pattern *const *p = ipcb_patterns; *p; p++)
		for (const struct ipcb_opt *o = (*p)->opts; o && o->name; o++)
			if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0)
				return o;
	for (const struct ipcb_opt *o = ipcb_stress_opts; o->name; o++)
		if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0)
			return o;
	return NULL;
}

static int set_opt(struct ipcb_config *cfg, const struct ipcb_opt *o, const char *v, char *err,
		   size_t errlen)
{
	char *field = (char *)(o->base ? o->base : (void *)cfg) + o->offset;
	char *end;

	switch (o->type) {
	case IPCB_OPT_FLAG:
		*(int *)field = 1;
		return 0;
	case IPCB_OPT_INT: {
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (errno || end == v || *end || x < (long long)o->min || x > (long long)o->max) {
			snprintf(err, errlen, "ipcbench: --%s: '%s' is not a whole number from %.0f "
				 "to %.0f", o->name, v, o->min, o->max);
			return -EINVAL;
		}
		*(int *)field = (int)x;
		return 0;
	}
	case IPCB_OPT_SECONDS: {
		double x;
		if (ipcb_parse_seconds(v, &x) < 0 || x < o->min || x > o->max) {
			snprintf(err, errlen, "ipcbench: --%s: '%s' is not a duration from %gs to %gs "
				 "(e.g. 500ms, 2s, 1m)", o->name, v, o->min, o->max);
			return -EINVAL;
		}
		*(double *)field = x;
		return 0;
	}
	case IPCB_OPT_FRACTION: {
		errno = 0;
		double x = strtod(v, &end);
		if (end != v && *end == '%' && end[1] == 0)
			x /= 100;
		else if (end == v || *end)
			x = NAN;
		if (errno || !isfinite(x) || x < o->min || x > o->max) {
			snprintf(err, errlen, "ipcbench: --%s: '%s' is not a share from %g%% to %g%% "
				 "(e.g. 5%% or 0.05)", o->name, v, o->min * 100, o->max * 100);
			return -EINVAL;
		}
		*(double *)field = x;
		return 0;
	}
	case IPCB_OPT_RATE: {
		double x;
		if (ipcb_parse_rate(v, &x) < 0 || x < o->min || x > o->max) {
			snprintf(err, errlen, "ipcbench: --%s: '%s' is not a rate from %g/s to %g/s "
				 "(e.g. 1000/s, 10k/s)", o->name, v, o->min, o->max);
			return -EINVAL;
		}
		*(double *)field = x;
		return 0;
	}
	case IPCB_OPT_SIZE: {
		size_t x;
		if (ipcb_parse_size(v, &x) < 0 || (double)x < o->min || (double)x > o->max) {
			snprintf(err, errlen, "ipcbench: --%s: '%s' is not a size from %.0f to %.0f "
				 "bytes (K, M, G suffixes allowed)", o->name, v, o->min, o->max);
			return -EINVAL;
		}
		*(size_t *)field = x;
		return 0;
	}
	case IPCB_OPT_STRING:
		if (!*v || (o->choices && !in_choices(o->choices, v))) {
			if (o->choices)
				snprintf(err, errlen, "ipcbench: --%s: '%s' is not one of %s", o->name,
					 v, o->choices);
			else
				snprintf(err, errlen, "ipcbench: --%s: empty value", o->name);
			return -EINVAL;
		}
		if (o->check && o->check(v, err, errlen) < 0)
			return -EINVAL;
		*(const char **)field = v;
		return 0;
	}
	return -EINVAL;
}

int ipcb_opt_parse(struct ipcb_config *cfg, int argc, char **argv, int first, char **pos,
		   int maxpos, int *npos, char *err, size_t errlen)
{
	*npos = 0;
	for (int i = first; i < argc; i++) {
		char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++) {
				if (*npos >= maxpos)
					goto too_many;
				pos[(*npos)++] = argv[i];
			}
			break;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
			if (a[0] == '-' && a[1] != 0) {
				snprintf(err, errlen, "ipcbench: unknown option '%s' (see --help)", a);
				return -EINVAL;
			}
			if (*npos >= maxpos)
				goto too_many;
			pos[(*npos)++] = a;
			continue;
		}
		char *name = a + 2, *val = strchr(name, '=');
		size_t nlen = val ? (size_t)(val - name) : strlen(name);
		const struct ipcb_opt *o = find_opt(name, nlen);
		if (!o) {
			snprintf(err, errlen, "ipcbench: unknown option '--%.*s' (see --help)",
				 (int)nlen, name);
			return -EINVAL;
		}
		if (o->type == IPCB_OPT_FLAG) {
			if (val) {
				snprintf(err, errlen, "ipcbench: --%s takes no value", o->name);
				return -EINVAL;
			}
		} else if (val) {
			val++;
		} else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
			val = argv[++i];
		} else {
			snprintf(err, errlen, "ipcbench: --%s needs a value (%s)", o->name, o->metavar);
			return -EINVAL;
		}
		if (set_opt(cfg, o, val, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
too_many:
	snprintf(err, errlen, "ipcbench: too many arguments (see --help)");
	return -EINVAL;
}

static void help_table(FILE *f, const struct ipcb_opt *table)
{
	for (const struct ipcb_opt *o = table; o && o->name; o++) {
		char left[48];
		if (o->choices)
			snprintf(left, sizeof(left), "--%s %s", o->name, o->choices);
		else if (o->metavar)
			snprintf(left, sizeof(left), "--%s %s", o->name, o->metavar);
		else
			snprintf(left, sizeof(left), "--%s", o->name);
		fprintf(f, "  %-30s %s\n", left, o->help);
	}
}

void ipcb_opt_help(FILE *f)
{
	help_table(f, ipcb_opts);
	for (const struct ipcb_pattern *const *p = ipcb_patterns; *p; p++)
		if ((*p)->opts && (*p)->opts->name) {
			fprintf(f, "\n%s bench options:\n", (*p)->name);
			help_table(f, (*p)->opts);
		}
	fprintf(f, "\nstress options:\n");
	help_table(f, ipcb_stress_opts);
	for (const struct ipcb_transport *const *t = ipcb_transports; *t; t++) {
		int shown = 0;
		if (!(*t)->opts || !(*t)->opts->name)
			continue;
		/* Transports that share one table (the socket core's --sock-buf) get one
		 * section, headed by all their names. */
		for (const struct ipcb_transport *const *e = ipcb_transports; e < t; e++)
			shown |= (*e)->opts == (*t)->opts;
		if (shown)
			continue;
		fprintf(f, "\n%s", (*t)->name);
		for (const struct ipcb_transport *const *e = t + 1; *e; e++)
			if ((*e)->opts == (*t)->opts)
				fprintf(f, ", %s", (*e)->name);
		fprintf(f, " options:\n");
		help_table(f, (*t)->opts);
	}
}
