/* SPDX-License-Identifier: MIT */
/*
 * Requests the kernel may grant only in part: a pipe size (F_SETPIPE_SZ), socket buffers
 * (SO_SNDBUF/SO_RCVBUF), a POSIX mq depth. One rule for all of them, applied here so no
 * transport decides it on its own:
 *
 *   granted >= asked   honoured. Rounding up (a pipe size to a power-of-two number of
 *                      pages, a socket buffer doubled for the kernel's bookkeeping) gives at
 *                      least what was asked and is not a clamp.
 *   granted <  asked   clamped. Without --allow-clamp the case is FAILED before any worker
 *                      starts, the reason naming the option, both values and the limit;
 *                      with --allow-clamp it runs with what was granted, and the clamp is
 *                      recorded in the reason of every row of the case (status stays ok).
 *
 * Why FAILED and not exit 2 ("bad input"): whether the kernel clamps is only known by asking
 * it (root may exceed fs.pipe-max-size, sysctls change, a per-user pipe quota may be
 * spent), and a clamp in one case should not stop the other cases of a run.
 *
 * A message size a transport cannot carry is another matter: the size is not a request of
 * the transport but the case itself, so such a case stays SKIPPED (transport.h, -EMSGSIZE).
 */
#ifndef IPCB_REQUEST_H
#define IPCB_REQUEST_H

#include "transport.h"

/* Parent, in a transport's setup. opt names the request as the user wrote it
 * ("--pipe-size"), limit the knob that capped it ("fs.pipe-max-size=1048576"; may be
 * NULL). Returns 0 when granted >= asked, or when clamped and ch->allow_clamp (the clamp is
 * then appended to ch->clamped, once per opt); -ERANGE when clamped and not allowed, with
 * ch->why saying so (setup returns it and the runner makes the case FAILED). */
int ipcb_request_check(struct ipcb_chan *ch, const char *opt, long long asked,
		       long long granted, const char *limit);

/* The same rule for a request that is not a number: where --mem put a segment's pages
 * (harness/mem.h, ipcb_mem_verify). opt names the request and the segment ("--mem (ring)"),
 * mismatch says what was asked and what was found. Returns 0 (recorded in ch->clamped,
 * once per opt) when ch->allow_clamp, else -ERANGE with ch->why set. */
int ipcb_request_mismatch(struct ipcb_chan *ch, const char *opt, const char *mismatch);

/* A segment from ipcb_mem_alloc (applied: its applied string): ask where its pages are
 * (ipcb_mem_verify) and judge a mismatch by the rule above. eff receives the placement seen
 * ("node0:64/64"). Returns 0; -ERANGE (placed elsewhere, not allowed; ch->why says so); or
 * another -errno when the pages could not be located (ch->why says why: a failure, never
 * recorded as a placement). */
int ipcb_request_mem(struct ipcb_chan *ch, const char *opt, const void *p, size_t len,
		     const char *applied, char *eff, size_t elen);

#endif
