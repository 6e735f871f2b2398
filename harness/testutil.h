/* SPDX-License-Identifier: MIT */
/*
 * The smallest test kit: CHECK() records a failure with file:line and goes on; TEST_END()
 * prints "N passed, N failed" and returns the exit status (0 only when nothing failed).
 */
#ifndef IPCB_TESTUTIL_H
#define IPCB_TESTUTIL_H

#include <stdio.h>

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

#define TEST_END() (printf("%d passed, %d failed\n", ipcb_t_pass, ipcb_t_fail), ipcb_t_fail ? 1 : 0)

#endif
