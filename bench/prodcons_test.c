// SPDX-License-Identifier: MIT
/*
 * prodcons through the harness: the planner makes one case per P:C pair and queue kind
 * (default ladder within the CPU budget, explicit lists, a layout over the budget SKIPPED
 * with the reason, a bad list refused as bad input); real runs over the shm-queue as
 * processes and as threads, plain and joinable, with and without room for the latency
 * stamp, with --verify full; every repetition passes finish() with sane metrics (no speed
 * thresholds); lost, duplicated and corrupted messages (IPCBENCH_TEST_FAULT's injector) and
 * doctored slots make finish() fail; and posix-mq when it is implemented here.
 * Options of the pattern are process-wide and cannot be unset, so the tests that rely on the
 * defaults run first and later ones give every prodcons option.
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
#include "../ipc/transport.h"
#include "pattern.h"

static struct ipcb_topo *topo;

/* Parse a command line into cfg (defaults first) and resolve it. */
static int configure(struct ipcb_config *cfg, const char *args)
{
	/* Option values are kept as pointers into argv (as main() keeps them): each command
	 * line gets a buffer of its own for the life of the test. */
	static char bufs[64][1024];
	static int used;
	char *buf, *argv[48], *pos[4], err[512];
	int argc = 0, npos;

	if (used == 64)
		return -1;
	buf = bufs[used++];
	snprintf(buf, sizeof(bufs[0]), "ipcbench --bench prodcons --reps 1 --duration 40ms "
		 "--warmup 10ms --out /tmp --progress off %s", args);
	for (char *p = strtok(buf, " "); p && argc < 48; p = strtok(NULL, " "))
		argv[argc++] = p;
	ipcb_config_defaults(cfg);
	if (ipcb_opt_parse(cfg, argc, argv, 1, pos, 4, &npos, err, sizeof(err)) < 0 ||
	    ipcb_config_resolve(cfg, topo, err, sizeof(err)) < 0) {
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

static int find_label(const struct ipcb_case *v, int n, const char *label)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].label, label) == 0)
			return i;
	return -1;
}

static void test_plan(void)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	int n, i;

	/* Default ladder within a budget of 4: 1:1 and 2:2, plain and joinable. */
	CHECK(configure(&cfg, "--mech shm-queue --sizes 64 --cores 4 --oversubscribe") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n == 4, "%d cases, want 4", n);
	CHECK(find_label(v, n, "prodcons shm-queue 64B 1:1") >= 0);
	CHECK(find_label(v, n, "prodcons shm-queue 64B 1:1 joinable") >= 0);
	i = find_label(v, n, "prodcons shm-queue 64B 2:2 joinable");
	CHECK(i >= 0);
	if (i >= 0) {
		CHECK(v[i].nworkers == 4 && !v[i].skip[0]);
		CHECK(v[i].roles[0] == IPCB_ROLE_A && v[i].roles[1] == IPCB_ROLE_A &&
		      v[i].roles[2] == IPCB_ROLE_B && v[i].roles[3] == IPCB_ROLE_B);
		CHECKF(strstr(v[i].params, "producers=2;consumers=2;queue=joinable") != NULL,
		       "params '%s'", v[i].params);
	}
	free(v);

	/* A budget of 2 holds only 1:1. */
	CHECK(configure(&cfg, "--mech shm-queue --sizes 64 --cores 2") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n == 2, "%d cases with --cores 2, want 2", n);
	for (i = 0; i < n; i++)
		CHECK(v[i].nworkers == 2);
	free(v);

	/* Not every transport: only those with several senders and receivers; the reason is
	 * the transport's, so one row, not one per variant. */
	CHECK(configure(&cfg, "--mech pipe --sizes 64") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n == 1 && v[0].skip[0] && strstr(v[0].skip, "prodcons") != NULL, "%d rows: %s", n,
	       n ? v[0].skip : "");
	free(v);

	/* Explicit lists: every combination; plain only. */
	CHECK(configure(&cfg, "--mech shm-queue --sizes 64 --cores 8 --oversubscribe "
			"--prodcons-producers 1,3 --prodcons-consumers 2 --prodcons-queue plain") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n == 2, "%d cases, want 1:2 and 3:2", n);
	CHECK(find_label(v, n, "prodcons shm-queue 64B 1:2") >= 0);
	i = find_label(v, n, "prodcons shm-queue 64B 3:2");
	CHECK(i >= 0 && v[i].nworkers == 5 && v[i].roles[2] == IPCB_ROLE_A &&
	      v[i].roles[3] == IPCB_ROLE_B);
	free(v);

	/* More workers than the budget: SKIPPED, saying how to allow it. */
	CHECK(configure(&cfg, "--mech shm-queue --sizes 64 --cores 2 --prodcons-producers 4 "
			"--prodcons-consumers 4") == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECK(n == 1 && strstr(v[0].skip, "budget") && strstr(v[0].skip, "--oversubscribe"));
	free(v);

	/* A bad list is bad input, refused before planning (exit 2 in main). */
	CHECK(configure(&cfg, "--mech shm-queue --sizes 64 --prodcons-producers 2,x") < 0);
	CHECK(configure(&cfg, "--mech shm-queue --sizes 64 --prodcons-consumers 0") < 0);
	CHECK(configure(&cfg, "--mech shm-queue --sizes 64 --prodcons-producers 257") < 0);
	CHECK(configure(&cfg, "--prodcons-queue sometimes") < 0);
}

/* Run every case of the configuration once; each must pass. Returns the cases run. */
static int run_all(const char *args, int want_latency)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	int n, ran = 0;

	if (configure(&cfg, args) < 0) {
		CHECKF(0, "bad arguments: %s", args);
		return 0;
	}
	n = ipcb_plan_build(&cfg, &v);
	for (int i = 0; i < n; i++) {
		struct ipcb_case *c = &v[i];
		struct ipcb_ctl *ctl = NULL;
		struct ipcb_metrics m;
		char eff[128], mem[96], reason[512] = "", why[256] = "";
		size_t len = 0;

		if (c->skip[0]) {
			CHECKF(0, "%s skipped: %s", c->label, c->skip);
			continue;
		}
		enum ipcb_verdict vd = ipcb_rep_run(c, topo, &ctl, &len, eff, sizeof(eff), mem,
						    sizeof(mem), reason, sizeof(reason));
		if (vd == IPCB_SKIPPED) {
			printf("%s: skipped: %s\n", c->label, reason);
			continue;
		}
		CHECKF(vd == IPCB_OK, "%s (%s): verdict %d: %s", c->label, args, vd, reason);
		if (vd != IPCB_OK)
			continue;
		ran++;
		memset(&m, 0, sizeof(m));
		int rc = c->pat->finish(c, ctl->slots, &m, why, sizeof(why));
		CHECKF(rc == 0, "%s (%s): %s", c->label, args, why);
		if (rc == 0) {
			double r = metric(&m, "msgs_per_s"), j = metric(&m, "jain_fairness");
			double smin = metric(&m, "share_min"), smax = metric(&m, "share_max");
			CHECKF(r > 0 && metric(&m, "bytes_per_s") > 0, "%s: rate %g", c->label, r);
			CHECKF(j > 0 && j <= 1 + 1e-9 && smin <= smax && smax <= 1, "%s: jain %g, "
			       "shares %g..%g", c->label, j, smin, smax);
			double p50 = metric(&m, "lat_p50_ns");
			if (want_latency)
				CHECKF(p50 > 0 && metric(&m, "lat_p99_ns") >= p50, "%s: latency p50 %g",
				       c->label, p50);
			else
				CHECKF(isnan(p50), "%s: latency reported without room for a stamp",
				       c->label);
			int joinable = strstr(c->label, "joinable") != NULL;
			CHECK(joinable == !isnan(metric(&m, "join_return_ns")));
			if (joinable)
				CHECK(metric(&m, "join_return_ns") >= 0);
			if (strstr(args, "--cores 4")) {
				/* finish() must refuse doctored slots: a message counted twice... */
				int P = c->nworkers / 2;
				ctl->slots[0].u[2]++;
				why[0] = 0;
				memset(&m, 0, sizeof(m));
				CHECK(c->pat->finish(c, ctl->slots, &m, why, sizeof(why)) == -EPROTO);
				CHECKF(strstr(why, "duplicated") != NULL, "why: %s", why);
				ctl->slots[0].u[2]--;
				/* ... two consumers on one sentinel ... */
				uint64_t s = ctl->slots[P].u[1];
				ctl->slots[P].u[1] = ctl->slots[P + 1].u[1];
				CHECK(c->pat->finish(c, ctl->slots, &m, why, sizeof(why)) == -EPROTO);
				ctl->slots[P].u[1] = s;
				/* ... and, joinable, a join that returned before the last task_done. */
				if (joinable) {
					uint64_t tj = ctl->slots[1].u[1];
					ctl->slots[1].u[1] = 1;
					memset(&m, 0, sizeof(m));
					CHECK(c->pat->finish(c, ctl->slots, &m, why, sizeof(why)) ==
					      -EPROTO);
					CHECKF(strstr(why, "before the last task_done") != NULL, "why: %s",
					       why);
					ctl->slots[1].u[1] = tj;
				}
				memset(&m, 0, sizeof(m));
				CHECK(c->pat->finish(c, ctl->slots, &m, why, sizeof(why)) == 0);
			}
		}
		ipcb_rep_free(ctl, len);
	}
	free(v);
	return ran;
}

/* With a fault injected, every case must fail in finish() (or the repetition). */
static void run_fault(int kind, const char *args, const char *want)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	int n;

	if (configure(&cfg, args) < 0) {
		CHECKF(0, "bad arguments: %s", args);
		return;
	}
	ipcb_test_fault.kind = kind;
	/* the first message: every producer sends one, however slow the machine */
	ipcb_test_fault.at = 0;
	n = ipcb_plan_build(&cfg, &v);
	for (int i = 0; i < n; i++) {
		struct ipcb_case *c = &v[i];
		struct ipcb_ctl *ctl = NULL;
		struct ipcb_metrics m;
		char eff[128], mem[96], reason[512] = "", why[256] = "";
		size_t len = 0;

		if (c->skip[0])
			continue;
		enum ipcb_verdict vd = ipcb_rep_run(c, topo, &ctl, &len, eff, sizeof(eff), mem,
						    sizeof(mem), reason, sizeof(reason));
		if (vd != IPCB_OK) {
			CHECKF(vd == IPCB_FAILED, "%s: verdict %d: %s", c->label, vd, reason);
			continue;
		}
		memset(&m, 0, sizeof(m));
		int rc = c->pat->finish(c, ctl->slots, &m, why, sizeof(why));
		CHECKF(rc == -EPROTO && strstr(why, want), "%s with fault %d: finish %d (%s), "
		       "want a failure saying '%s'", c->label, kind, rc, why, want);
		ipcb_rep_free(ctl, len);
	}
	ipcb_test_fault.kind = IPCB_FAULT_NONE;
	free(v);
}

int main(void)
{
	ipcb_signals_install();
	CHECK(ipcb_topo_load(&topo, NULL) == 0);
	if (!topo)
		return TEST_END();

	test_plan();

	/* Real runs: 2:2 (oversubscribed on a small machine), both kinds. */
	const char *base = "--mech shm-queue --cores 4 --oversubscribe --prodcons-producers 2 "
			   "--prodcons-consumers 2 --prodcons-queue both";
	char args[512];
	snprintf(args, sizeof(args), "%s --sizes 64", base);
	CHECK(run_all(args, 1) == 2);
	snprintf(args, sizeof(args), "%s --sizes 64 --mode thread", base);
	CHECK(run_all(args, 1) == 2);
	snprintf(args, sizeof(args), "%s --sizes 16", base);          /* no room for a stamp */
	CHECK(run_all(args, 0) == 2);
	snprintf(args, sizeof(args), "%s --sizes 8K --verify full", base);
	CHECK(run_all(args, 1) == 2);
	CHECK(run_all("--mech shm-queue --cores 8 --oversubscribe --prodcons-producers 3 "
		      "--prodcons-consumers 1 --prodcons-queue joinable --sizes 64 "
		      "--shm-queue-depth 2 --shm-queue-impl lock", 1) == 1);

	/* Injected faults: a lost, a duplicated and a corrupted message are caught. */
	snprintf(args, sizeof(args), "%s --sizes 64", base);
	run_fault(IPCB_FAULT_DROP, args, "lost");
	run_fault(IPCB_FAULT_DUP, args, "integrity");
	run_fault(IPCB_FAULT_CORRUPT, args, "corrupt");
	snprintf(args, sizeof(args), "%s --sizes 64 --mode thread", base);
	run_fault(IPCB_FAULT_DROP, args, "lost");

	/* posix-mq, when it is there: the same layouts must pass. */
	const struct ipcb_transport *mq = ipcb_transport_find("posix-mq");
	const char *no = mq && mq->unsupported ? mq->unsupported() : NULL;
	uint32_t mpmc = IPCB_CAP_MULTI_PROD | IPCB_CAP_MULTI_CONS;
	if (!mq || no || (mq->caps & mpmc) != mpmc) {
		printf("posix-mq: not tested (%s)\n", !mq ? "not registered" : no ? no :
		       "does not claim several producers and consumers");
	} else {
		CHECK(run_all("--mech posix-mq --cores 4 --oversubscribe --prodcons-producers 2 "
			      "--prodcons-consumers 2 --prodcons-queue both --sizes 64", 1) >= 0);
	}
	ipcb_topo_free(topo);
	return TEST_END();
}
