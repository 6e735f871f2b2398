// SPDX-License-Identifier: MIT
/*
 * The counter race end to end, as a user runs it: the ipcbench binary beside this test
 * runs `counter` over every lock and counter primitive (selected with --mech, which must
 * accept sync names), in process and thread mode, and the results.csv it writes is read
 * back with the strict CSV reader:
 *  - every correct primitive: median lost_updates == 0 and final_balance == 0, status ok or
 *    NOISY, for one worker and for two;
 *  - `none` with two workers (pinned on CPUs 0 and 1 by the compact placement): lost
 *    updates and status RACE on every row of the case (up to 5 runs: the race is
 *    probabilistic, the test fails only if it never shows); with one worker, nothing lost;
 *  - no FAILED row, exit status 0; classic fcntl locks are SKIPPED in thread mode.
 * No speed is asserted.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/csv.h"
#include "../harness/testutil.h"
#include "../sync/sync.h"

static char bin[4200], work[] = "/tmp/ipcb-counter-test.XXXXXX";

struct seen {
	int rows, race_rows, ok_rows, failed, skipped;
	double lost, balance;
};

/* Run counter over mechs in mode; collect per (mech, workers) what the CSV says. Returns
 * the exit status of ipcbench, or -1. */
static int run_counter(const char *mechs, const char *mode, int attempt,
		       struct seen (*out)[3])
{
	char cmd[8192], csv[4200], err[512];
	struct ipcb_csv_reader *r;
	struct ipcb_csv_rec rec;
	int st, rc;

	snprintf(cmd, sizeof(cmd), "'%s' run counter --mech %s --mode %s --reps 2 "
		 "--duration 50ms --warmup 10ms --no-plots --progress off --out %s/%s-%d "
		 ">%s/out.txt 2>%s/err.txt", bin, mechs, mode, work, mode, attempt, work, work);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	snprintf(csv, sizeof(csv), "%s/%s-%d/latest/results.csv", work, mode, attempt);
	if (ipcb_csv_open(&r, csv, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	while ((rc = ipcb_csv_next(r, &rec)) == 1) {
		const struct ipcb_sync *sy = ipcb_sync_find(rec.col[IPCB_COL_MECH]);
		int w = rec.workers;
		if (!sy || w < 1 || w > 2)
			continue;
		struct seen *s = NULL;
		for (int i = 0; ipcb_syncs[i]; i++)
			if (ipcb_syncs[i] == sy)
				s = &out[i][w];
		if (!s)
			continue;
		const char *status = rec.col[IPCB_COL_STATUS];
		s->rows++;
		s->race_rows += strcmp(status, "RACE") == 0;
		s->ok_rows += strcmp(status, "ok") == 0 || strcmp(status, "NOISY") == 0;
		s->failed += strcmp(status, "FAILED") == 0;
		s->skipped += strcmp(status, "SKIPPED") == 0;
		if (rec.rep == IPCB_CSV_REP_MEDIAN && !strcmp(rec.col[IPCB_COL_METRIC], "lost_updates"))
			s->lost = rec.value;
		if (rec.rep == IPCB_CSV_REP_MEDIAN && !strcmp(rec.col[IPCB_COL_METRIC], "final_balance"))
			s->balance = rec.value;
	}
	if (rc < 0)
		fprintf(stderr, "%s\n", ipcb_csv_error(r));
	ipcb_csv_close(r);
	return rc < 0 ? -1 : WEXITSTATUS(st);
}

static int nsyncs(void)
{
	int n = 0;
	while (ipcb_syncs[n])
		n++;
	return n;
}

static void check_mode(const char *mode, int two_cpus)
{
	int n = nsyncs();
	struct seen (*s)[3] = calloc((size_t)n, sizeof(*s));
	char mechs[2048] = "";
	size_t off = 0;

	if (!s) {
		CHECK(0);
		return;
	}
	for (int i = 0; i < n; i++)
		if (ipcb_syncs[i]->run)
			off += (size_t)snprintf(mechs + off, sizeof(mechs) - off, "%s%s",
						off ? "," : "", ipcb_syncs[i]->name);
	int rc = run_counter(mechs, mode, 0, s);
	CHECKF(rc == 0, "ipcbench run counter --mode %s: exit %d (see %s/err.txt)", mode, rc, work);

	for (int i = 0; i < n; i++) {
		const struct ipcb_sync *sy = ipcb_syncs[i];
		if (!sy->run)
			continue;
		for (int w = 1; w <= (two_cpus ? 2 : 1); w++) {
			struct seen *e = &s[i][w];
			CHECKF(e->failed == 0, "%s x%d (%s): FAILED rows", sy->name, w, mode);
			if ((sy->caps & IPCB_SYNC_PERPROC) && !strcmp(mode, "thread")) {
				CHECKF(e->skipped > 0 && e->rows == e->skipped, "%s x%d (thread): %d rows, "
				       "%d SKIPPED", sy->name, w, e->rows, e->skipped);
				continue;
			}
			if (sy->caps & IPCB_SYNC_RACY)
				continue;   /* below */
			CHECKF(e->rows > 0 && e->ok_rows == e->rows, "%s x%d (%s): %d rows, %d ok",
			       sy->name, w, mode, e->rows, e->ok_rows);
			CHECKF(e->lost == 0 && e->balance == 0, "%s x%d (%s): lost %g, balance %g",
			       sy->name, w, mode, e->lost, e->balance);
		}
	}

	/* The race: one worker loses nothing; two lose, and say RACE. */
	const struct ipcb_sync *none = ipcb_sync_find("none");
	int ni = -1;
	for (int i = 0; i < n; i++)
		if (ipcb_syncs[i] == none)
			ni = i;
	CHECK(ni >= 0);
	if (ni >= 0) {
		struct seen *one = &s[ni][1];
		CHECKF(one->rows > 0 && one->lost == 0 && one->race_rows == 0,
		       "none x1 (%s): lost %g, %d RACE rows", mode, one->lost, one->race_rows);
	}
	if (ni >= 0 && two_cpus) {
		int raced = 0;
		for (int attempt = 0; attempt < 5 && !raced; attempt++) {
			struct seen *two = &s[ni][2];
			if (attempt > 0) {
				memset(s, 0, (size_t)n * sizeof(*s));
				CHECK(run_counter("none", mode, attempt, s) == 0);
			}
			printf("none x2 (%s), run %d: lost %g updates, %d of %d rows RACE\n", mode,
			       attempt + 1, two->lost, two->race_rows, two->rows);
			if (two->lost > 0) {
				raced = 1;
				CHECKF(two->race_rows == two->rows && two->rows > 0,
				       "none x2 (%s): %d rows, %d RACE", mode, two->rows, two->race_rows);
				CHECK(two->failed == 0);
			} else {
				CHECKF(two->ok_rows == two->rows, "none x2 without a loss must be ok");
			}
		}
		CHECKF(raced, "none x2 (%s) never lost an update in 5 runs", mode);
	}
	free(s);
}

int main(void)
{
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cpu_set_t set;
	int two_cpus;

	if (len <= 0) {
		fprintf(stderr, "cannot find myself: %s\n", strerror(errno));
		return 1;
	}
	self[len] = 0;
	*strrchr(self, '/') = 0;
	snprintf(bin, sizeof(bin), "%s/ipcbench", self);
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "no ipcbench binary at %s\n", bin);
		return 1;
	}
	if (!mkdtemp(work)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* The compact placement puts two workers on the first two allowed CPUs. */
	two_cpus = sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 2;
	if (!two_cpus)
		printf("one CPU only: the two-worker race is not checked\n");

	check_mode("process", two_cpus);
	check_mode("thread", two_cpus);

	if (ipcb_t_fail == 0) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
		(void)system(cmd);
	} else {
		printf("results kept in %s\n", work);
	}
	return TEST_END();
}
