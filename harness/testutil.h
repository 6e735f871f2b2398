/* SPDX-License-Identifier: MIT */
/*
 * The smallest test kit: CHECK() records a failure with file:line and goes on; TEST_END()
 * prints "N passed, N failed" and returns the exit status (0 only when nothing failed).
 */
#ifndef IPCB_TESTUTIL_H
#define IPCB_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ipcb_t_pass, ipcb_t_fail;

#define CHECK(cond) do {                                                        \
	if (cond) {                                                             \
		ipcb_t_pass++;                                                  \
	} else {                                                                \
		ipcb_t_fail++;                                                  \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	}                                                                       \
} while (0)

#define CHECKF(cond, ...) do {                                                  \
	if (cond) {                                                             \
		ipcb_t_pass++;                                                  \
	} else {                                                                \
		ipcb_t_fail++;                                                  \
		fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);                                   \
		fputc('\n', stderr);                                            \
	}                                                                       \
} while (0)

/* The results.csv header of schema version 1, written out in full on purpose: a test that
 * compared the writer with itself could not notice a column moving. */
#define IPCB_TEST_CSV_HEADER                                                              \
	"run_id,bench,mech,impl,mode,workers,cpus,cpus_seen,placement,mem,size_bytes,params,rep," \
	"metric,unit,value,ci_low,ci_high,samples,ops_per_sample,status,reason\n"

/* rm -rf dir (a test's scratch directory); kept when IPCB_KEEP is set, to look at. */
static inline void ipcb_test_rmtree(const char *dir)
{
	char path[4096 + 256];
	struct dirent *e;
	DIR *d;

	if (getenv("IPCB_KEEP")) {
		printf("kept %s\n", dir);
		return;
	}
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;   /* no scratch path is that long */
		if (e->d_type == DT_DIR)
			ipcb_test_rmtree(path);
		else
			(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

#define TEST_END() (printf("%d passed, %d failed\n", ipcb_t_pass, ipcb_t_fail), ipcb_t_fail ? 1 : 0)

#endif
