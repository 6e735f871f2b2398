/* SPDX-License-Identifier: MIT */
/*
 * A run's directory and metadata, shared by every command that writes results (run, stress):
 * one run id ("YYYYMMDD-HHMMSS-<pid>", UTC), OUT/<run-id>/ created, the clock calibrated, the
 * run metadata filled from the build, the machine and the configuration; at the end,
 * OUT/latest pointed at the run.
 */
#ifndef IPCB_RUNDIR_H
#define IPCB_RUNDIR_H

#include "clock.h"
#include "run.h"
#include "sink.h"

/* Build facts, defined by CMake for every target; these fallbacks only keep a file that is
 * compiled by hand building. */
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
#ifndef IPCB_CFLAGS
#define IPCB_CFLAGS ""
#endif
#ifndef IPCB_SANITIZER
#define IPCB_SANITIZER ""
#endif

struct ipcb_rundir {
	char run_id[64];
	char dir[4200];
	char cmdline[4096];
	char cpus[2048];
	struct ipcb_clock_cal cal;
	struct ipcb_run_meta meta;   /* its strings point into this struct */
};

/* Create cfg->out/<run-id>/ and fill rd (rd must stay in place: meta points into it).
 * Returns 0, or -errno after printing "ipcbench: --out ...: cannot create ...". */
int ipcb_rundir_begin(struct ipcb_rundir *rd, const struct ipcb_config *cfg,
		      const struct ipcb_topo *topo, int argc, char **argv);
/* Point cfg->out/latest at this run (atomically replaced; best effort). */
void ipcb_rundir_link_latest(const struct ipcb_rundir *rd, const struct ipcb_config *cfg);
/* mkdir -p. Returns 0 or -errno. */
int ipcb_mkdirs(const char *path);

#endif
