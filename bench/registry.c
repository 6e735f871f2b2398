// SPDX-License-Identifier: MIT
/* The pattern table, built from patterns.def, and the metric helpers patterns share. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../harness/perf.h"
#include "../harness/run.h"
#include "pattern.h"

const struct ipcb_pattern *const ipcb_patterns[] = {
#define IPCB_PATTERN(n) &ipcb_pattern_##n,
#include "patterns.def"
#undef IPCB_PATTERN
	NULL,
};

const struct ipcb_pattern *ipcb_pattern_find(const char *name)
{
	for (const struct ipcb_pattern *const *p = ipcb_patterns; *p; p++)
		if (strcmp((*p)->name, name) == 0)
			return *p;
	return NULL;
}

void ipcb_metrics_add(struct ipcb_metrics *m, const char *name, const char *unit, double value,
		      uint64_t samples, uint64_t ops_per_sample, int lower_is_better)
{
	if (m->n >= IPCB_METRICS_MAX)
		return;
	struct ipcb_metric *x = &m->m[m->n++];
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->unit = unit;
	x->value = value;
	x->samples = samples;
	x->ops_per_sample = ops_per_sample;
	x->lower_is_better = lower_is_better;
}

void ipcb_metrics_add_cost(struct ipcb_metrics *m, const struct ipcb_slot *s, int ns,
			   const char *who, const char *per, uint64_t n)
{
	uint64_t cpu = 0, vol = 0, invol = 0, cycles = 0, instr = 0;
	double d = n ? (double)n : NAN;
	int hw = ns > 0;
	char name[40];

	for (int i = 0; i < ns; i++) {
		cpu += s[i].utime_ns + s[i].stime_ns;
		vol += s[i].nvcsw;
		invol += s[i].nivcsw;
		cycles += s[i].cycles;
		instr += s[i].instructions;
		hw &= s[i].perf_hw;
	}
	snprintf(name, sizeof(name), "cpu_%s_ns_per_%s", who, per);
	ipcb_metrics_add(m, name, "ns", (double)cpu / d, 1, 1, 1);
	snprintf(name, sizeof(name), "csw_vol_%s_per_%s", who, per);
	ipcb_metrics_add(m, name, "switches", (double)vol / d, 1, 1, 1);
	snprintf(name, sizeof(name), "csw_invol_%s_per_%s", who, per);
	ipcb_metrics_add(m, name, "switches", (double)invol / d, 1, 1, 1);
	if (ipcb_perf_hw_unsupported())
		return;
	snprintf(name, sizeof(name), "cycles_%s_per_%s", who, per);
	ipcb_metrics_add(m, name, "cycles", hw ? (double)cycles / d : NAN, 1, 1, 1);
	snprintf(name, sizeof(name), "instructions_%s_per_%s", who, per);
	ipcb_metrics_add(m, name, "instructions", hw ? (double)instr / d : NAN, 1, 1, 1);
}

void ipcb_metrics_add_hist(struct ipcb_metrics *m, const char *prefix, const struct ipcb_hist *h,
			   uint64_t ops_per_sample)
{
	static const struct { const char *sfx; double p; } pct[] = {
		{ "min", 0 }, { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 },
		{ "max", 100 },
	};
	char name[40];

	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		snprintf(name, sizeof(name), "%s_%s_ns", prefix, pct[i].sfx);
		ipcb_metrics_add(m, name, "ns", (double)ipcb_hist_percentile(h, pct[i].p), h->count,
				 ops_per_sample, 1);
	}
	snprintf(name, sizeof(name), "%s_mean_ns", prefix);
	ipcb_metrics_add(m, name, "ns", ipcb_hist_mean(h), h->count, ops_per_sample, 1);
	snprintf(name, sizeof(name), "%s_stddev_ns", prefix);
	ipcb_metrics_add(m, name, "ns", ipcb_hist_stddev(h), h->count, ops_per_sample, 1);
}
