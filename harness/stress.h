/* SPDX-License-Identifier: MIT */
/* `ipcbench stress`: a long mixed run with integrity totals and fault injection (stress.c). */
#ifndef IPCB_STRESS_H
#define IPCB_STRESS_H

#include <stddef.h>

#include "opt.h"
#include "run.h"

struct ipcb_topo;

/* Options of `ipcbench stress` only (--stress-lanes), found by the option parser and listed
 * by --help like a bench's; ipcb_stress_opts_given() says whether one was given (other
 * commands refuse them). */
extern const struct ipcb_opt ipcb_stress_opts[];
int ipcb_stress_opts_given(void);

/* Before ipcb_config_resolve(): read the stress options (--duration is the whole run here:
 * default 60 s, 10 s with --quick; --inject, --inject-rate), check them, and set the short
 * per-case settings the resolver then completes. Returns 0, or -EINVAL after writing one line
 * "ipcbench: ..." into err (exit code 2). Writes nothing to disk. */
int ipcb_stress_prepare(struct ipcb_config *cfg, char *err, size_t errlen);

/* Run the stress mix into cfg->out/<run-id>/ and print the summary. Returns the exit status:
 * 0 when every mechanism kept its integrity, every injected fault was detected and the open
 * file descriptors at the end equal those at the start; 1 otherwise; 128+N on signal N. */
int ipcb_stress_cmd(struct ipcb_config *cfg, const struct ipcb_topo *topo, int argc, char **argv);

#endif
