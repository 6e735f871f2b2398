// SPDX-License-Identifier: MIT
/* The one rule for requests the kernel may clamp (see request.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "request.h"

int ipcb_request_check(struct ipcb_chan *ch, const char *opt, long long asked,
		       long long granted, const char *limit)
{
	char what[200];

	if (granted >= asked)
		return 0;
	snprintf(what, sizeof(what), "%s %lld clamped to %lld%s%s", opt, asked, granted,
		 limit ? " by " : "", limit ? limit : "");
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
