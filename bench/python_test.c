// SPDX-License-Identifier: MIT
/*
 * python: the planner makes a case for every Python workload (and SKIPS them all, with the
 * reason, when there is no interpreter); one workload (Pipe ping-pong) and the racy Value
 * run through the real runner into a temporary directory, and the CSV rows say impl=python,
 * the Python mech, the C metric names, the interpreter's version, and cpus_seen equal to
 * cpus (the Python processes pinned themselves where the plan said). Nothing here asserts
 * a speed, nor that a race lost updates (that needs two CPUs really running at once).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/csv.h"
#include "../harness/opt.h"
#include "../harness/plan.h"
#include "../harness/run.h"
#include "../harness/runner.h"
#include "../harness/testutil.h"
#include "../harness/topo.h"
#include "pattern.h"

static struct ipcb_topo *topo;

static int configure(struct ipcb_config *cfg)
{
	char err[512];

	ipcb_config_defaults(cfg);
	cfg->benches = "python";
	cfg->duration_s = 0.05;
	cfg->warmup_s = 0.02;
	cfg->reps = 2;
	cfg->sizes = "64";
	cfg->out = "/tmp";
	cfg->progress = 0;
	if (ipcb_config_resolve(cfg, topo, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static const char *mech_of(const struct ipcb_case *c)
{
	return c->pat->mech_name ? c->pat->mech_name(c) : "";
}

static struct ipcb_case *find_case(struct ipcb_case *v, int n, const char *mech,
				   const char *label_part)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(mech_of(&v[i]), mech) && strstr(v[i].label, label_part))
			return &v[i];
	return NULL;
}

/* In a child process (the interpreter lookup is cached per process): with no python3 on
 * PATH every case is SKIPPED with "python3 not found". */
static void check_skip_without_python(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct ipcb_config cfg;
		struct ipcb_case *v = NULL;
		int n, bad = 0;

		unsetenv("IPCBENCH_PYTHON");
		setenv("PATH", "/nonexistent-ipcbench-test", 1);
		if (configure(&cfg) < 0)
			_exit(2);
		n = ipcb_plan_build(&cfg, &v);
		for (int i = 0; i < n; i++)
			if (strcmp(v[i].skip, "python3 not found") != 0) {
				fprintf(stderr, "%s: skip '%s'\n", v[i].label, v[i].skip);
				bad = 1;
			}
		_exit(n > 0 && !bad ? 0 : 1);
	}
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

struct seen_rows {
	int rows, metric_rows, race_rows;
	double median;
};

/* Check every row of the run's CSV; count those of `metric`. */
static void check_csv(const char *path, const char *mech, const char *metric,
		      struct seen_rows *out)
{
	struct ipcb_csv_reader *r = NULL;
	struct ipcb_csv_rec rec;
	char err[512];
	int rc;

	memset(out, 0, sizeof(*out));
	out->median = NAN;
	rc = ipcb_csv_open(&r, path, err, sizeof(err));
	CHECKF(rc == 0, "%s", err);
	if (rc < 0)
		return;
	while ((rc = ipcb_csv_next(r, &rec)) == 1) {
		out->rows++;
		CHECKF(!strcmp(rec.col[IPCB_COL_BENCH], "python"), "bench %s", rec.col[IPCB_COL_BENCH]);
		CHECKF(!strcmp(rec.col[IPCB_COL_IMPL], "python"), "impl %s", rec.col[IPCB_COL_IMPL]);
		CHECKF(!strcmp(rec.col[IPCB_COL_MECH], mech), "mech %s", rec.col[IPCB_COL_MECH]);
		CHECKF(strstr(rec.col[IPCB_COL_PARAMS], "python_version=3.") != NULL, "params %s",
		       rec.col[IPCB_COL_PARAMS]);
		CHECKF(!strcmp(rec.col[IPCB_COL_STATUS], "ok") ||
		       !strcmp(rec.col[IPCB_COL_STATUS], "NOISY") ||
		       !strcmp(rec.col[IPCB_COL_STATUS], "RACE"), "status %s: %s",
		       rec.col[IPCB_COL_STATUS], rec.col[IPCB_COL_REASON]);
		/* Pinning: the Python workers were seen exactly where the plan put them. */
		CHECKF(!strcmp(rec.col[IPCB_COL_CPUS], rec.col[IPCB_COL_CPUS_SEEN]),
		       "cpus %s, cpus_seen %s", rec.col[IPCB_COL_CPUS], rec.col[IPCB_COL_CPUS_SEEN]);
		out->race_rows += !strcmp(rec.col[IPCB_COL_STATUS], "RACE");
		if (!strcmp(rec.col[IPCB_COL_METRIC], metric)) {
			out->metric_rows++;
			if (rec.rep == IPCB_CSV_REP_MEDIAN)
				out->median = rec.value;
		}
	}
	CHECKF(rc == 0, "%s", ipcb_csv_error(r));
	ipcb_csv_close(r);
}

/* Run case c alone through the runner into a fresh directory; check its rows. */
static void run_case(struct ipcb_config *cfg, struct ipcb_case *c, const char *mech,
		     const char *metric, struct seen_rows *rows)
{
	char dir[] = "/tmp/ipcb-python-test-XXXXXX", path[128];
	struct ipcb_run_meta meta;

	memset(rows, 0, sizeof(*rows));
	CHECKF(c != NULL, "no %s case", mech);
	if (!c || !mkdtemp(dir))
		return;
	CHECKF(!c->skip[0], "%s skipped: %s", c->label, c->skip);
	memset(&meta, 0, sizeof(meta));
	meta.run_id = "python-test";
	int rc = ipcb_run(cfg, topo, c, 1, dir, &meta);
	CHECKF(rc == 0, "%s: run status %d", c->label, rc);
	CHECK(meta.cases_failed == 0 && meta.cases_skipped == 0);
	CHECKF(meta.python_version && !strncmp(meta.python_version, "3.", 2), "version %s",
	       meta.python_version ? meta.python_version : "(none)");
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	check_csv(path, mech, metric, rows);
	/* reps repetition rows and one median row of the metric */
	CHECKF(rows->metric_rows == cfg->reps + 1, "%s: %d rows of %s", c->label,
	       rows->metric_rows, metric);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}

int main(void)
{
	struct ipcb_config cfg;
	struct ipcb_case *v = NULL;
	struct seen_rows rows;
	int n;

	ipcb_signals_install();
	if (ipcb_topo_load(&topo, NULL) < 0) {
		fprintf(stderr, "cannot load the topology\n");
		return 1;
	}
	check_skip_without_python();

	CHECK(configure(&cfg) == 0);
	n = ipcb_plan_build(&cfg, &v);
	CHECKF(n >= 23, "%d python cases", n);
	if (n > 0 && v[0].skip[0]) {
		/* No usable interpreter here: every case says why, and that is all we can test. */
		for (int i = 0; i < n; i++)
			CHECKF(v[i].skip[0] != 0, "%s not skipped", v[i].label);
		printf("python workloads skipped here: %s\n", v[0].skip);
		free(v);
		ipcb_topo_free(topo);
		return TEST_END();
	}

	/* Every workload of the issue is planned, under its mech. */
	static const char *const mechs[] = { "mp-queue", "mp-simplequeue", "mp-pipe",
		"mp-joinablequeue", "mp-value-lock", "mp-value-nolock", "mp-value-naive",
		"thread-balance-lock", "thread-balance-nolock", "mp-array-lock", "mp-array-nolock",
		"mp-manager-dict", "mp-manager-list", "mp-manager-value", "mp-pool",
		"mp-process-fork", "mp-process-forkserver", "mp-process-spawn" };
	for (size_t k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		CHECKF(find_case(v, n, mechs[k], "") != NULL, "no case for %s", mechs[k]);
	CHECK(find_case(v, n, "mp-queue", "pingpong 64B") != NULL);
	CHECK(find_case(v, n, "mp-queue", "stream 64B") != NULL);
	CHECK(find_case(v, n, "mp-pool", "map empty P=1") != NULL);
	CHECK(find_case(v, n, "mp-pool", "apply_async 1ms P=1") != NULL);
	for (int i = 0; i < n; i++) {
		CHECKF(strstr(v[i].params, "python_version=3.") != NULL, "%s: %s", v[i].label,
		       v[i].params);
		CHECK(v[i].pat->impl && !strcmp(v[i].pat->impl, "python"));
	}

	/* Pipe ping-pong through the runner: rtt_p50_ns, pinned where planned. */
	struct ipcb_case *c = find_case(v, n, "mp-pipe", "pingpong 64B");
	run_case(&cfg, c, "mp-pipe", "rtt_p50_ns", &rows);
	CHECKF(rows.median > 0, "rtt_p50_ns median %g", rows.median);
	CHECK(rows.race_rows == 0);

	/* The unlocked Value race: lost_updates is reported (RACE when it lost any). */
	c = NULL;
	for (int i = 0; i < n; i++)
		if (!strcmp(mech_of(&v[i]), "mp-value-nolock") && v[i].nworkers == cfg.budget)
			c = &v[i];
	run_case(&cfg, c, "mp-value-nolock", "lost_updates", &rows);
	CHECKF(rows.median >= 0, "lost_updates median %g", rows.median);
	CHECK((rows.median > 0) == (rows.race_rows > 0) || rows.race_rows > 0);
	printf("Value(lock=False) x%d lost %g updates (median)\n", c ? c->nworkers : 0,
	       rows.median);

	free(v);
	ipcb_topo_free(topo);
	return TEST_END();
}
