// SPDX-License-Identifier: MIT
/*
 * ipcbench-micro: registers every microbenchmark group and hands the command line to
 * Google Benchmark (its --benchmark_* flags: filter, min_time, repetitions, out, ...).
 * `ipcbench micro ARGS` execs this program; `ipcbench --all` runs it and imports its JSON
 * (micro_run.c). Exit status: 0, 1 a benchmark failed, 2 bad arguments, 77 built without
 * Google Benchmark (nothing measured).
 */
#include <stdio.h>
#include <string.h>

#include "micro.h"

#ifndef IPCB_VERSION
#define IPCB_VERSION "0.0.0"
#endif
#ifndef IPCB_GIT_COMMIT
#define IPCB_GIT_COMMIT "unknown"
#endif
#ifndef IPCB_BUILD_TYPE
#define IPCB_BUILD_TYPE "unknown"
#endif
#ifndef IPCB_COMPILER
#define IPCB_COMPILER "unknown"
#endif
#ifndef IPCB_SANITIZER
#define IPCB_SANITIZER ""
#endif

int ipcb_micro_register_all_of(const struct ipcb_gbench_def *defs, int n)
{
	for (int i = 0; i < n; i++) {
		int rc = ipcb_gbench_register(&defs[i]);
		if (rc < 0) {
			fprintf(stderr, "ipcbench-micro: cannot register %s: %s (errno %d)\n",
				defs[i].name, strerror(-rc), -rc);
			return rc;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static int (*const groups[])(void) = {
		ipcb_micro_register_sync,    ipcb_micro_register_atomics,
		ipcb_micro_register_syscalls, ipcb_micro_register_clock,
		ipcb_micro_register_ring,    ipcb_micro_register_memcpy,
		ipcb_micro_register_process,
	};

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i]() < 0)
			return 1;
	ipcb_gbench_add_context("ipcbench_version", IPCB_VERSION);
	ipcb_gbench_add_context("ipcbench_git_commit", IPCB_GIT_COMMIT);
	ipcb_gbench_add_context("ipcbench_build_type", IPCB_BUILD_TYPE);
	ipcb_gbench_add_context("ipcbench_compiler", IPCB_COMPILER);
	ipcb_gbench_add_context("ipcbench_sanitizer", IPCB_SANITIZER[0] ? IPCB_SANITIZER : "none");
	if (IPCB_SANITIZER[0] || !strcmp(IPCB_BUILD_TYPE, "Debug"))
		fprintf(stderr, "ipcbench-micro: WARNING: a %s build: its numbers are not "
			"representative\n", IPCB_SANITIZER[0] ? "sanitizer" : "Debug");
	return ipcb_gbench_main(argc, argv);
}
