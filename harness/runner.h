/* SPDX-License-Identifier: MIT */
/* Executing a plan: repetitions, verdicts, summaries, sinks, console table, progress. */
#ifndef IPCB_RUNNER_H
#define IPCB_RUNNER_H

#include "run.h"
#include "sink.h"

struct ipcb_topo;

/* Run every case into run_dir (which exists). meta is completed (counts, end time, partial)
 * and handed to the sinks. Returns the exit status: 0 when every case passed (NOISY and
 * SKIPPED included), 1 when a case FAILED or a result file could not be written, 128+signal
 * when interrupted. */
int ipcb_run(const struct ipcb_config *cfg, const struct ipcb_topo *topo, struct ipcb_case *cases,
	     int ncases, const char *run_dir, struct ipcb_run_meta *meta);

#endif
