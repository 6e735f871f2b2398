// SPDX-License-Identifier: MIT
/* The one rule for requests the kernel may clamp (see request.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "request.h"

/* A request not granted as asked: FAILED, or recorded under --allow-clamp. */
static int not_granted(struct ipcb_chan *ch, const char *opt, const char *what)
{
	if (!ch->allow_clamp) {
		snprintf(ch->why, sizeof(ch->why), "%.96s (--allow-clamp runs with the granted value "
			 "and records it)", what);
		return -ERANGE;
	}
	/* One entry per option: a transport may check the same request on several fds. */
	if (!strstr(ch->clamped, opt)) {
		size_t n = strlen(ch->clamped);
		if (n + 12 < sizeof(ch->clamped))
			snprintf(ch->clamped + n, sizeof(ch->clamped) - n, "%s%.96s",
				 n ? "; " : "", what);
	}
	return 0;
}

int ipcb_request_check(struct ipcb_chan *ch, const char *opt, long long asked,
		       long long granted, const char *limit)
{
	char what[200];

	if (granted >= asked)
		return 0;
	snprintf(what, sizeof(what), "%s %lld clamped to %lld%s%s", opt, asked, granted,
		 limit ? " by " : "", limit ? limit : "");
	return not_granted(ch, opt, what);
}

int ipcb_request_mismatch(struct ipcb_chan *ch, const char *opt, const char *mismatch)
{
	char what[200];

	snprintf(what, sizeof(what), "%.40s: %.150s", opt, mismatch);
	return not_granted(ch, opt, what);
}

int ipcb_request_mem(struct ipcb_chan *ch, const char *opt, const void *p, size_t len,
		     const char *applied, char *eff, size_t elen)
{
	char why[200];
	int rc = ipcb_mem_verify(p, len, applied, eff, elen, why, sizeof(why));

	if (rc == -ERANGE)
		return ipcb_request_mismatch(ch, opt, why);
	if (rc < 0)
		snprintf(ch->why, sizeof(ch->why), "%s: cannot verify the placement: %.120s", opt,
			 why);
	return rc;
}
