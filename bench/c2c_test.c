// SPDX-License-Identifier: MIT
/*
 * c2c: pairs are planned without the diagonal, annotated with their relation, sampled
 * deterministically on a large (synthetic) machine with every relation kept, refused when
 * fewer than two distinct CPUs are available (no same-CPU spinning), and a real pair runs
 * through the harness in process and thread mode with both sides counting the same round
 * trips. Nothing here asserts a speed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/opt.h"
#include "../harness/plan.h"
#include "../harness/run.h"
#include "../harness/testutil.h"
#include "../harness/topo.h"
#include "pattern.h"

/* Parse a command line into cfg (defaults first) and resolve it against t. */
static int configure(struct ipcb_config *cfg, struct ipcb_topo *t, const char *args)
{
	static char buf[512];
	char *argv[32], *pos[4], err[512];
	int argc = 0, npos;

	snprintf(buf, sizeof(buf), "ipcbench --bench c2c --reps 1 --duration 20ms --warmup 5ms "
		 "--out /tmp --progress off %s", args);
	for (char *p = strtok(buf, " "); p && argc < 32; p = strtok(NULL, " "))
		argv[argc++] = p;
	ipcb_config_defaults(cfg);
	if (ipcb_opt_parse(cfg, argc, argv, 1, pos, 4, &npos, err, sizeof(err)) < 0 ||
	    ipcb_config_resolve(cfg, t, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static double metric(const struct ipcb_metrics *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->m[i].name, name) == 0)
			return m->m[i].value;
	return NAN;
}

static int param_int(const char *params, const char *key)
{
	const char *p = strstr(params, key);
	return p ? atoi(p + strlen(key)) : -1;
}

static void plan_on_synthetic(void)
{
	struct ipcb_topo *t;
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL, *w = NULL;
	int n, n2;

	/* 2 packages x 4 cores x 2 PUs = 16 PUs, 120 pairs. */
	CHECK(ipcb_topo_load(&t, "pack:2 l3:1 core:4 pu:2") == 0);
	if (!t)
		return;
	CHECK(configure(&cfg, t, "") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n == 120, "%d cases for 16 CPUs (want every pair, 120)", n);
	for (int i = 0; i < n; i++) {
		int a = param_int(v[i].params, "cpu_a="), b = param_int(v[i].params, "cpu_b=");
		CHECKF(a >= 0 && b > a, "pair %d-%d", a, b);
		CHECK(v[i].cpus_fixed && v[i].cpus[0] == a && v[i].cpus[1] == b);
		CHECK(v[i].nworkers == 2 && !v[i].skip[0]);
		CHECK(strstr(v[i].params, "relation=") != NULL);
	}
	free(v);

	/* Sampled: 10 pairs, the same ones every time, all distinct, every relation kept. */
	CHECK(configure(&cfg, t, "--c2c-pairs 10") == 0);
	n = ipcb_plan_build(&cfg, &v);
	n2 = ipcb_plan_build(&cfg, &w);
	CHECKF(n == 10, "%d sampled cases", n);
	CHECK(n == n2);
	int smt = 0, same_pkg = 0, other = 0;
	for (int i = 0; i < n && i < n2; i++) {
		CHECK(strcmp(v[i].params, w[i].params) == 0);
		CHECK(v[i].cpus[0] != v[i].cpus[1]);
		for (int j = 0; j < i; j++)
			CHECK(v[i].cpus[0] != v[j].cpus[0] || v[i].cpus[1] != v[j].cpus[1]);
		smt += strstr(v[i].params, "relation=smt") != NULL;
		same_pkg += strstr(v[i].params, "relation=l3") != NULL ||
			    strstr(v[i].params, "relation=package") != NULL;
		other += strstr(v[i].params, "relation=other-package") != NULL;
	}
	CHECKF(smt && same_pkg && other, "relations: smt %d, same package %d, other %d", smt,
	       same_pkg, other);
	free(v);
	free(w);
	CHECK(configure(&cfg, t, "--c2c-pairs 256") == 0);   /* back to the default */
	ipcb_topo_free(t);
}

static void run_pair(struct ipcb_topo *t, const char *mode_args)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	struct ipcb_ctl *ctl = NULL;
	struct ipcb_metrics m;
	char eff[128], mem[96], reason[512] = "", why[256] = "";
	size_t len = 0;
	int n;

	CHECK(configure(&cfg, t, mode_args) == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n >= 1, "%d cases", n);
	if (n < 1 || v[0].skip[0]) {
		CHECKF(0, "no runnable pair: %s", n >= 1 ? v[0].skip : "");
		free(v);
		return;
	}
	enum ipcb_verdict vd = ipcb_rep_run(&v[0], t, &ctl, &len, eff, sizeof(eff), mem,
					    sizeof(mem), reason, sizeof(reason));
	CHECKF(vd == IPCB_OK, "%s (%s): verdict %d: %s", v[0].label, mode_args, vd, reason);
	if (vd == IPCB_OK) {
		memset(&m, 0, sizeof(m));
		CHECKF(v[0].pat->finish(&v[0], ctl->slots, &m, why, sizeof(why)) == 0, "%s", why);
		double p50 = metric(&m, "rtt_p50_ns");
		CHECKF(p50 > 0 && metric(&m, "rtt_p99_ns") >= p50, "p50 %g", p50);
		CHECK(ctl->slots[0].u[0] == ctl->slots[1].u[0] && ctl->slots[0].u[0] > 0);
		CHECK(ctl->slots[0].cpu_first == v[0].cpus[0]);
		CHECK(ctl->slots[1].cpu_first == v[0].cpus[1]);
		/* finish() must refuse counts that disagree. */
		ctl->slots[1].u[0]++;
		why[0] = 0;
		CHECK(v[0].pat->finish(&v[0], ctl->slots, &m, why, sizeof(why)) == -EPROTO);
		CHECK(strstr(why, "integrity") != NULL);
		ipcb_rep_free(ctl, len);
	}
	free(v);
}

int main(void)
{
	struct ipcb_topo *t;
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	int n;

	ipcb_signals_install();
	plan_on_synthetic();

	CHECK(ipcb_topo_load(&t, NULL) == 0);
	if (!t)
		return TEST_END();

	/* One CPU given twice: one SKIPPED case, nothing that would spin on one CPU. */
	CHECK(configure(&cfg, t, "--cpus 0,0") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECK(n == 1);
	if (n == 1)
		CHECKF(strstr(v[0].skip, "two distinct CPUs") != NULL, "skip: '%s'", v[0].skip);
	free(v);
	CHECK(configure(&cfg, t, "--unpinned") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECK(n >= 1 && v[0].skip[0]);
	free(v);

	/* A bad --c2c-pairs is refused at parsing. */
	CHECK(configure(&cfg, t, "--c2c-pairs 0") < 0);

	if (ipcb_topo_npus(t) >= 2) {
		run_pair(t, "--cpus 0,1");
		run_pair(t, "--cpus 0,1 --mode thread");
	} else {
		printf("one CPU only: the run part is not tested here\n");
	}
	ipcb_topo_free(t);
	return TEST_END();
}
