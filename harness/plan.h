/* SPDX-License-Identifier: MIT */
/* From options to a checked configuration and a list of cases. */
#ifndef IPCB_PLAN_H
#define IPCB_PLAN_H

#include "run.h"

struct ipcb_topo;

/* Check every option against the registries and this machine, and fill the resolved
 * fields of cfg (sizes, CPU list, budget, times). Returns 0, or -EINVAL after writing one
 * line "ipcbench: ..." into err. Writes nothing to disk. cores_note may be filled with a
 * warning for stderr (clamping, oversubscription). */
int ipcb_config_resolve(struct ipcb_config *cfg, const struct ipcb_topo *topo, char *err,
			size_t errlen);

/* Build the cases for cfg. Returns the count (>= 0) and a malloc'ed array in *out, or
 * -errno. A case that cannot run here has c->skip set. */
int ipcb_plan_build(const struct ipcb_config *cfg, struct ipcb_case **out);

#endif
