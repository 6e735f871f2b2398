// SPDX-License-Identifier: MIT
/* The sync primitive table, built from primitives.def, instances in shared memory, futexes. */
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync.h"

const struct ipcb_sync *const ipcb_syncs[] = {
#define IPCB_SYNC(n) &ipcb_sync_##n,
#include "primitives.def"
#undef IPCB_SYNC
	NULL,
};

const struct ipcb_sync *ipcb_sync_find(const char *name)
{
	for (const struct ipcb_sync *const *s = ipcb_syncs; *s; s++)
		if (strcmp((*s)->name, name) == 0)
			return *s;
	return NULL;
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

int ipcb_sync_inst_new(struct ipcb_sync_inst *si, const struct ipcb_sync *sy, int nworkers,
		       size_t data_bytes, const struct ipcb_mem_req *req, char *why, size_t len)
{
	const char *no = sy->unsupported ? sy->unsupported() : NULL;
	size_t align = sy->state_align < 64 ? 64 : sy->state_align;
	size_t st_len = round_up(sy->state_size + (size_t)nworkers * sy->per_worker, 64);
	struct ipcb_mem_req none = { .policy = IPCB_MEM_LOCAL, .node = -1, .local_cpu = -1 };
	int rc;

	memset(si, 0, sizeof(*si));
	if (no) {
		snprintf(why, len, "%s", no);
		return -ENOTSUP;
	}
	if (align > 4096) {
		snprintf(why, len, "%s: alignment %zu is over a page", sy->name, align);
		return -EINVAL;
	}
	/* The state starts the mapping (page aligned); the data follows on its own line. */
	si->map_len = round_up(st_len, align) + round_up(data_bytes ? data_bytes : 1, 64);
	si->map = ipcb_mem_alloc(si->map_len, req ? req : &none, si->applied,
				 sizeof(si->applied));
	if (!si->map) {
		rc = -errno;
		snprintf(why, len, "%s: cannot map %zu bytes of shared memory: %s (errno %d)",
			 sy->name, si->map_len, strerror(-rc), -rc);
		si->map_len = 0;
		return rc;
	}
	si->sy = sy;
	si->st = si->map;
	si->data = data_bytes ? (char *)si->map + round_up(st_len, align) : NULL;
	si->data_bytes = data_bytes;
	si->nworkers = nworkers;
	why[0] = 0;
	rc = sy->init ? sy->init(si->st, nworkers, why, len) : 0;
	if (rc < 0) {
		if (!why[0])
			snprintf(why, len, "%s: init failed: %s (errno %d)", sy->name, strerror(-rc),
				 -rc);
		ipcb_mem_free(si->map, si->map_len);
		memset(si, 0, sizeof(*si));
		return rc == -ENOSYS ? -ENOTSUP : rc;
	}
	si->live = 1;
	return 0;
}

void ipcb_sync_inst_free(struct ipcb_sync_inst *si)
{
	if (si->live && si->sy->fini)
		si->sy->fini(si->st);
	si->live = 0;
	if (si->map)
		ipcb_mem_free(si->map, si->map_len);
	si->map = NULL;
	si->map_len = 0;
}

int ipcb_sync_ctx_attach(struct ipcb_sync_ctx *x, const struct ipcb_sync_inst *si, int id)
{
	memset(x, 0, sizeof(*x));
	x->sy = si->sy;
	x->st = si->st;
	x->id = id;
	x->nworkers = si->nworkers;
	x->fd = -1;
	x->owner = (uint32_t)id + 1;
	return si->sy->attach ? si->sy->attach(x) : 0;
}

void ipcb_sync_ctx_detach(struct ipcb_sync_ctx *x)
{
	if (x->sy && x->sy->detach)
		x->sy->detach(x);
	if (x->fd >= 0)
		(void)close(x->fd);
	x->fd = -1;
}

int ipcb_sync_sweep_len(int budget)
{
	int n = 0;

	for (int k = 1; k < budget; k *= 2)
		n++;
	return n + 1;   /* the powers of two below the budget, and the budget */
}

int ipcb_sync_sweep_workers(int budget, int i)
{
	int k = 1;

	while (i-- > 0 && k < budget)
		k *= 2;
	return k < budget ? k : budget;
}

int ipcb_futex_wait(uint32_t *addr, uint32_t val)
{
	long rc = syscall(SYS_futex, addr, FUTEX_WAIT, val, NULL, NULL, 0);
	if (rc < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

void ipcb_futex_wake(uint32_t *addr, int n)
{
	(void)syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0);
}
