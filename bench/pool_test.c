// SPDX-License-Identifier: MIT
/*
 * pool: bad pool sizes are refused at parsing, the sweep is planned (api x grain x size,
 * P + 2 workers each), map / apply_async / imap_unordered run through the real harness in
 * process and thread mode with every item's result arriving exactly once, a pool worker
 * killed while holding a task FAILS the repetition with the worker named (never a number),
 * and finish() refuses a lost or duplicated item. Nothing here asserts a speed.
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

static struct ipcb_topo *topo;

static int configure(struct ipcb_config *cfg, const char *args, char *err, size_t errlen)
{
	static char buf[512];
	char *argv[32], *pos[4];
	int argc = 0, npos;

	snprintf(buf, sizeof(buf), "ipcbench --bench pool --reps 1 --duration 20ms --warmup 5ms "
		 "--out /tmp --progress off %s", args);
	for (char *p = strtok(buf, " "); p && argc < 32; p = strtok(NULL, " "))
		argv[argc++] = p;
	ipcb_config_defaults(cfg);
	if (ipcb_opt_parse(cfg, argc, argv, 1, pos, 4, &npos, err, errlen) < 0 ||
	    ipcb_config_resolve(cfg, topo, err, errlen) < 0)
		return -1;
	return 0;
}

static double metric(const struct ipcb_metrics *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->m[i].name, name) == 0)
			return m->m[i].value;
	return NAN;
}

static struct ipcb_case *find_case(struct ipcb_case *v, int n, const char *params)
{
	for (int i = 0; i < n; i++)
		if (strstr(v[i].params, params))
			return &v[i];
	return NULL;
}

/* One repetition of the case with `params`; returns the verdict, reason in reason. */
static enum ipcb_verdict run_one(struct ipcb_case *v, int n, const char *params, int check,
				 char *reason, size_t rlen)
{
	struct ipcb_case *c = find_case(v, n, params);
	struct ipcb_ctl *ctl = NULL;
	struct ipcb_metrics m;
	char eff[128], mem[96], why[256] = "";
	size_t len = 0;

	CHECKF(c != NULL, "no case %s", params);
	if (!c)
		return IPCB_FAILED;
	enum ipcb_verdict vd = ipcb_rep_run(c, topo, &ctl, &len, eff, sizeof(eff), mem,
					    sizeof(mem), reason, rlen);
	if (vd != IPCB_OK || !check) {
		if (vd == IPCB_OK)
			ipcb_rep_free(ctl, len);
		return vd;
	}
	memset(&m, 0, sizeof(m));
	CHECKF(c->pat->finish(c, ctl->slots, &m, why, sizeof(why)) == 0, "%s: %s", c->label, why);
	CHECKF(metric(&m, "tasks_per_s") > 0, "%s: tasks/s %g", c->label, metric(&m, "tasks_per_s"));
	CHECK(metric(&m, "tasks") == (double)ctl->slots[0].u[0]);
	CHECK(metric(&m, "task_latency_p50_ns") > 0);
	if (strstr(params, "pool_size=1"))
		CHECK(metric(&m, "speedup") == 1 && metric(&m, "efficiency") == 1);
	/* Against P = 1 when it ran before with the same api and grain. */
	if (strstr(params, "api=apply_async;chunk=1;grain_ns=10000;pool_size=2"))
		CHECK(metric(&m, "speedup") > 0 && metric(&m, "efficiency") > 0);
	uint64_t done = 0;
	for (int i = 2; i < c->nworkers; i++)
		done += ctl->slots[i].msgs;
	CHECK(done == ctl->slots[0].u[0]);

	/* One item lost, one duplicated: count and id sum could agree, squares cannot. */
	ctl->slots[1].u[1] += 1;
	ctl->slots[1].u[2] += 2 * 5 + 1;   /* (x+1)^2 - x^2 for x = 5 */
	memset(&m, 0, sizeof(m));
	CHECK(c->pat->finish(c, ctl->slots, &m, why, sizeof(why)) == -EPROTO);
	ctl->slots[1].u[1] -= 1;
	ctl->slots[1].u[2] -= 2 * 5 + 1;
	ctl->slots[1].u[0] -= 1;           /* one result missing */
	CHECK(c->pat->finish(c, ctl->slots, &m, why, sizeof(why)) == -EPROTO);
	CHECK(strstr(why, "integrity") != NULL);
	ipcb_rep_free(ctl, len);
	return vd;
}

int main(void)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	char err[512], reason[512];
	int n;

	ipcb_signals_install();
	if (ipcb_topo_load(&topo, NULL) < 0)
		return 1;

	/* Pool sizes: refused at parsing when 0, too large, or not a list. */
	CHECK(configure(&cfg, "--pool-sizes 0", err, sizeof(err)) < 0);
	CHECKF(strstr(err, "--pool-sizes") && strstr(err, "out of range"), "%s", err);
	CHECK(configure(&cfg, "--pool-sizes 1,1023", err, sizeof(err)) < 0);
	CHECK(configure(&cfg, "--pool-sizes 1,x", err, sizeof(err)) < 0);
	CHECK(configure(&cfg, "--pool-sizes -2", err, sizeof(err)) < 0);

	/* The sweep: 5 apis x 5 grains x 2 sizes, P + 2 workers each. */
	CHECK(configure(&cfg, "--pool-sizes 2,1,2", err, sizeof(err)) == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n == 50, "%d pool cases", n);
	for (int i = 0; i < n; i++) {
		const char *p = strstr(v[i].params, "pool_size=");
		CHECK(p && v[i].nworkers == atoi(p + 10) + 2 && v[i].cpus_fixed && !v[i].skip[0]);
	}
	CHECK(find_case(v, n, "api=map;chunk=1;grain_ns=0;pool_size=1") == &v[0]);
	CHECK(find_case(v, n, "api=map;chunk=auto;grain_ns=1000;pool_size=2") != NULL);

	/* Each api runs and every item comes back once; P = 1 first, as the runner would. */
	static const char *const cases[] = {
		"api=map;chunk=1;grain_ns=0;pool_size=1", "api=map;chunk=1;grain_ns=0;pool_size=2",
		"api=map;chunk=64;grain_ns=1000;pool_size=2",
		"api=apply_async;chunk=1;grain_ns=10000;pool_size=1",
		"api=apply_async;chunk=1;grain_ns=10000;pool_size=2",
		"api=imap_unordered;chunk=1;grain_ns=0;pool_size=2",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum ipcb_verdict vd = run_one(v, n, cases[i], 1, reason, sizeof(reason));
		CHECKF(vd == IPCB_OK, "%s: verdict %d: %s", cases[i], vd, reason);
	}

	/* A pool worker killed holding a task: FAILED, the worker named, no number. */
	setenv("IPCBENCH_TEST_POOL_KILL", "3", 1);
	enum ipcb_verdict vd = run_one(v, n, "api=imap_unordered;chunk=1;grain_ns=0;pool_size=2", 0,
				       reason, sizeof(reason));
	unsetenv("IPCBENCH_TEST_POOL_KILL");
	CHECKF(vd == IPCB_FAILED && strstr(reason, "worker 2") && strstr(reason, "signal 9"),
	       "verdict %d: %s", vd, reason);
	/* The next repetition starts clean. */
	vd = run_one(v, n, "api=imap_unordered;chunk=1;grain_ns=0;pool_size=2", 1, reason,
		     sizeof(reason));
	CHECKF(vd == IPCB_OK, "after a kill: verdict %d: %s", vd, reason);
	free(v);

	/* Threads. */
	CHECK(configure(&cfg, "--pool-sizes 1,2 --mode thread", err, sizeof(err)) == 0);
	n = ipcb_plan_build(&cfg, &v);
	vd = run_one(v, n, "api=imap_unordered;chunk=1;grain_ns=1000;pool_size=2", 1, reason,
		     sizeof(reason));
	CHECKF(vd == IPCB_OK, "thread mode: verdict %d: %s", vd, reason);
	vd = run_one(v, n, "api=map;chunk=auto;grain_ns=0;pool_size=2", 1, reason,
		     sizeof(reason));
	CHECKF(vd == IPCB_OK, "thread mode: verdict %d: %s", vd, reason);
	free(v);

	ipcb_topo_free(topo);
	return TEST_END();
}
