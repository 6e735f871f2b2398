// SPDX-License-Identifier: MIT
/*
 * wakeup: through the real harness (plan, ipcb_rep_run, finish), in process and thread
 * mode, every wait primitive wakes its waiter round after round (Event, Condition,
 * Semaphore, BoundedSemaphore, POSIX and System V semaphores) and the Barrier releases
 * every worker of every round, without a lost or extra wake-up: each case passes its
 * integrity check and reports samples. The planner makes one case per wait primitive for
 * two workers and, for the barrier, one per worker count from two up. No speed asserted.
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
#include "../sync/sync.h"
#include "pattern.h"

static struct ipcb_topo *topo;

static double metric(const struct ipcb_metrics *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->m[i].name, name) == 0)
			return m->m[i].value;
	return NAN;
}

static void check_mode(const char *mode)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	char err[512];
	int n, ran = 0;

	ipcb_config_defaults(&cfg);
	cfg.benches = "wakeup";
	cfg.duration_s = 0.03;
	cfg.warmup_s = 0.005;
	cfg.reps = 1;
	cfg.out = "/tmp";
	cfg.mode = mode;
	cfg.progress = 0;
	if (ipcb_config_resolve(&cfg, topo, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	n = ipcb_plan_build(&cfg, &v);
	CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		const struct ipcb_case *c = &v[i];
		CHECKF(c->sy && (c->sy->caps & (IPCB_SYNC_WAIT | IPCB_SYNC_BARRIER)),
		       "%s: not a wait primitive", c->label);
		CHECKF(c->nworkers >= 2, "%s: %d workers", c->label, c->nworkers);
		if ((c->sy->caps & IPCB_SYNC_BARRIER) == 0)
			CHECKF(c->nworkers == 2, "%s: %d workers", c->label, c->nworkers);
		if (c->skip[0]) {
			printf("%s: skipped: %s\n", c->label, c->skip);
			continue;
		}
		struct ipcb_ctl *ctl = NULL;
		struct ipcb_metrics m;
		char eff[128], mem[96], reason[512] = "", why[256] = "";
		size_t len = 0;
		enum ipcb_verdict vd = ipcb_rep_run(c, topo, &ctl, &len, eff, sizeof(eff), mem,
						    sizeof(mem), reason, sizeof(reason));
		CHECKF(vd == IPCB_OK, "%s (%s): verdict %d: %s", c->label, mode, vd, reason);
		if (vd != IPCB_OK)
			continue;
		memset(&m, 0, sizeof(m));
		int rc = c->pat->finish(c, ctl->slots, &m, why, sizeof(why));
		CHECKF(rc == 0, "%s (%s): %s", c->label, mode, why);
		CHECKF(metric(&m, "wakeups") >= 10 && metric(&m, "wake_p50_ns") > 0,
		       "%s (%s): %g wake-ups, p50 %g ns", c->label, mode, metric(&m, "wakeups"),
		       metric(&m, "wake_p50_ns"));
		ipcb_rep_free(ctl, len);
		ran++;
	}
	if (cfg.budget >= 2)
		CHECKF(ran >= 7, "%s: only %d wake-up cases ran", mode, ran);
	free(v);
}

int main(void)
{
	ipcb_signals_install();
	if (ipcb_topo_load(&topo, NULL) < 0) {
		fprintf(stderr, "cannot load the topology\n");
		return 1;
	}
	check_mode("process");
	check_mode("thread");
	ipcb_topo_free(topo);
	return TEST_END();
}
