// SPDX-License-Identifier: MIT
/* The transport table, built from transports.def, and the whole-message helpers. */
#include <errno.h>
#include <string.h>

#include "transport.h"

const struct ipcb_transport *const ipcb_transports[] = {
#define IPCB_TRANSPORT(n) &ipcb_transport_##n,
#include "transports.def"
#undef IPCB_TRANSPORT
	NULL,
};

const struct ipcb_transport *ipcb_transport_find(const char *name)
{
	for (const struct ipcb_transport *const *t = ipcb_transports; *t; t++)
		if (strcmp((*t)->name, name) == 0)
			return *t;
	return NULL;
}

int ipcb_send_msg(struct ipcb_end *e, const void *buf, size_t len)
{
	const struct ipcb_transport *tr = e->ch->tr;
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = tr->send(e, p + done, len - done);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		if (!(tr->caps & IPCB_CAP_STREAM) && (size_t)n != len)
			return -EMSGSIZE;
		done += (size_t)n;
	}
	return 0;
}

int ipcb_recv_msg(struct ipcb_end *e, void *buf, size_t len)
{
	const struct ipcb_transport *tr = e->ch->tr;
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = tr->recv(e, p + done, len - done);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		if (!(tr->caps & IPCB_CAP_STREAM) && (size_t)n != len)
			return -EMSGSIZE;
		done += (size_t)n;
	}
	return 0;
}
