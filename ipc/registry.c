// SPDX-License-Identifier: MIT
/* The transport table, built from transports.def, and the whole-message helpers. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

struct ipcb_fault ipcb_test_fault;

int ipcb_fault_from_env(void)
{
	const char *v = getenv("IPCBENCH_TEST_FAULT");
	const char *at;
	char *end;

	ipcb_test_fault.kind = IPCB_FAULT_NONE;
	if (!v || !*v)
		return 0;
	at = strchr(v, '@');
	if (!at)
		return -EINVAL;
	if (strncmp(v, "drop@", 5) == 0)
		ipcb_test_fault.kind = IPCB_FAULT_DROP;
	else if (strncmp(v, "dup@", 4) == 0)
		ipcb_test_fault.kind = IPCB_FAULT_DUP;
	else if (strncmp(v, "corrupt@", 8) == 0)
		ipcb_test_fault.kind = IPCB_FAULT_CORRUPT;
	else if (strncmp(v, "stall@", 6) == 0)
		ipcb_test_fault.kind = IPCB_FAULT_STALL;
	else
		return -EINVAL;
	ipcb_test_fault.at = strtoull(at + 1, &end, 10);
	if (end == at + 1 || *end) {
		ipcb_test_fault.kind = IPCB_FAULT_NONE;
		return -EINVAL;
	}
	return 0;
}

static int send_whole(struct ipcb_end *e, const void *buf, size_t len);

/* The injected fault for this message; 1 when the message was consumed by it. */
static int inject(struct ipcb_end *e, const void *buf, size_t len, int *rc)
{
	static char tmp[1 << 16];
	size_t off = len >= 16 ? ((len - 8) & ~(size_t)7) : 6;

	switch (ipcb_test_fault.kind) {
	case IPCB_FAULT_DROP:
		*rc = 0;
		return 1;
	case IPCB_FAULT_DUP:
		*rc = send_whole(e, buf, len);
		return *rc < 0;   /* on success, fall through to the normal send */
	case IPCB_FAULT_CORRUPT:
		if (len > sizeof(tmp))
			return 0;
		memcpy(tmp, buf, len);
		tmp[off] ^= 0x40;
		*rc = send_whole(e, tmp, len);
		return 1;
	}
	return 0;
}

int ipcb_send_msg(struct ipcb_end *e, const void *buf, size_t len)
{
	if (__builtin_expect(ipcb_test_fault.kind != IPCB_FAULT_NONE, 0) &&
	    ipcb_test_fault.kind != IPCB_FAULT_STALL && e->sent++ == ipcb_test_fault.at) {
		int rc;
		if (inject(e, buf, len, &rc))
			return rc;
	}
	return send_whole(e, buf, len);
}

static int send_whole(struct ipcb_end *e, const void *buf, size_t len)
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

static int recv_whole(struct ipcb_end *e, void *buf, size_t len);

int ipcb_recv_msg(struct ipcb_end *e, void *buf, size_t len)
{
	int rc = recv_whole(e, buf, len);

	if (__builtin_expect(ipcb_test_fault.kind == IPCB_FAULT_STALL, 0) && rc == 0 &&
	    e->received++ == ipcb_test_fault.at) {
		uint64_t ns = ipcb_test_fault.stall_ns ? ipcb_test_fault.stall_ns : 10000000u;
		struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		if (ipcb_test_fault.stalled)
			atomic_fetch_add(ipcb_test_fault.stalled, 1);
	}
	return rc;
}

static int recv_whole(struct ipcb_end *e, void *buf, size_t len)
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
