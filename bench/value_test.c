// SPDX-License-Identifier: MIT
/*
 * value: through the real harness (plan, ipcb_rep_run, finish), in process and thread mode:
 *  - without a lock (`none`, two workers: a writer and a reader) torn Array reads are
 *    detected and counted, and the case reports RACE (up to 5 repetitions: the race is
 *    probabilistic; the test fails only if it never shows);
 *  - with a lock (pthread-mutex, spin, flock) no read is ever torn and no increment lost;
 *  - an atomic counter (atomic-add) loses no increment and has no Array phase;
 *  - finish() turns a torn read under a lock into a failure.
 * Nothing here asserts a speed.
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

static const struct ipcb_case *find_case(const struct ipcb_case *v, int n, const char *mech,
					 int workers)
{
	for (int i = 0; i < n; i++)
		if (v[i].sy && !strcmp(v[i].sy->name, mech) && v[i].nworkers == workers)
			return &v[i];
	return NULL;
}

/* One repetition; returns finish()'s code (or -1000 when it did not run) and fills m. */
static int run_one(const struct ipcb_case *c, struct ipcb_metrics *m, char *why, size_t len)
{
	struct ipcb_ctl *ctl = NULL;
	char eff[128], mem[96], reason[512] = "";
	size_t clen = 0;

	enum ipcb_verdict vd = ipcb_rep_run(c, topo, &ctl, &clen, eff, sizeof(eff), mem,
					    sizeof(mem), reason, sizeof(reason));
	CHECKF(vd == IPCB_OK, "%s: verdict %d: %s", c->label, vd, reason);
	if (vd != IPCB_OK)
		return -1000;
	memset(m, 0, sizeof(*m));
	int rc = c->pat->finish(c, ctl->slots, m, why, len);

	if (rc == 0 && (c->sy->caps & IPCB_SYNC_LOCK) && c->nworkers == 2) {
		/* The check must be able to fail: a torn read under a lock. */
		struct ipcb_slot *bad = malloc(2 * sizeof(*bad));
		if (bad) {
			struct ipcb_metrics m2;
			char w2[256] = "";
			memcpy(bad, ctl->slots, 2 * sizeof(*bad));
			bad[1].u[5]++;   /* U_TORN of the reader */
			memset(&m2, 0, sizeof(m2));
			CHECK(c->pat->finish(c, bad, &m2, w2, sizeof(w2)) == -EPROTO);
			CHECKF(strstr(w2, "integrity") != NULL, "why: %s", w2);
			free(bad);
		}
	}
	ipcb_rep_free(ctl, clen);
	return rc;
}

static void check_mode(const char *mode)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	char err[512], why[256];
	struct ipcb_metrics m;
	int n;

	ipcb_config_defaults(&cfg);
	cfg.benches = "value";
	cfg.mechs = "none,pthread-mutex,spin,flock,atomic-add";
	cfg.duration_s = 0.06;
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
	CHECK(n > 0);
	if (n <= 0)
		return;
	int two = cfg.budget >= 2;

	static const char *locked[] = { "pthread-mutex", "spin", "flock" };
	for (size_t i = 0; i < sizeof(locked) / sizeof(locked[0]); i++)
		for (int w = 1; w <= (two ? 2 : 1); w++) {
			const struct ipcb_case *c = find_case(v, n, locked[i], w);
			CHECKF(c && !c->skip[0], "no runnable case %s x%d", locked[i], w);
			if (!c || c->skip[0])
				continue;
			int rc = run_one(c, &m, why, sizeof(why));
			CHECKF(rc == 0, "%s (%s): %s", c->label, mode, why);
			CHECKF(metric(&m, "torn_reads") == 0 && metric(&m, "value_lost_updates") == 0,
			       "%s (%s): torn %g lost %g", c->label, mode, metric(&m, "torn_reads"),
			       metric(&m, "value_lost_updates"));
			CHECKF(metric(&m, "array_reads") > 0, "%s: no Array read", c->label);
		}

	const struct ipcb_case *a = find_case(v, n, "atomic-add", two ? 2 : 1);
	CHECK(a != NULL);
	if (a && run_one(a, &m, why, sizeof(why)) == 0) {
		CHECK(metric(&m, "value_lost_updates") == 0);
		CHECK(isnan(metric(&m, "torn_reads")));
	}

	const struct ipcb_case *none = find_case(v, n, "none", 2);
	if (two && none) {
		double torn = 0;
		for (int attempt = 0; attempt < 5 && torn == 0; attempt++) {
			int rc = run_one(none, &m, why, sizeof(why));
			torn = metric(&m, "torn_reads");
			printf("value none x2 (%s), run %d: %g torn reads of %g, %g increments lost\n",
			       mode, attempt + 1, torn, metric(&m, "array_reads"),
			       metric(&m, "value_lost_updates"));
			if (torn > 0)
				CHECKF(rc == IPCB_FINISH_RACE, "none with torn reads: finish %d", rc);
		}
		CHECKF(torn > 0, "value none x2 (%s): no torn read in 5 runs", mode);
	} else {
		printf("one CPU: the unlocked Array is not checked\n");
	}
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
