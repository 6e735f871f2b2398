/* SPDX-License-Identifier: MIT */
/*
 * Named IPC objects: one naming scheme and one cleanup list for every transport.
 *
 * Every name is "ipcbench-<pid>-<n>" (pid of the ipcbench parent, n a counter), as a POSIX
 * shm or mq name ("/ipcbench-..."), or as a path under /tmp for FIFOs and Unix sockets.
 * ipcb_name_new() registers the object for removal *before* the caller creates it, so no
 * path can leak it: the runner removes what is left after each case, main() at exit and
 * after SIGINT/SIGTERM, and a later run sweeps the names of runs whose pid is gone (a
 * parent killed with SIGKILL cannot clean up after itself). System V objects have no
 * names: register their ids with ipcb_name_sysv() right after creation.
 * Parent only: workers never create or remove named objects.
 */
#ifndef IPCB_NAMES_H
#define IPCB_NAMES_H

#include <stddef.h>

#define IPCB_NAME_PREFIX "ipcbench-"
#define IPCB_NAME_MAX 64

enum ipcb_name_kind {
	IPCB_NAME_SHM,       /* shm_open name, "/ipcbench-P-N" */
	IPCB_NAME_MQ,        /* mq_open name, "/ipcbench-P-N" */
	IPCB_NAME_PATH,      /* filesystem path, "/tmp/ipcbench-P-N" (FIFO, Unix socket, lock file) */
	IPCB_NAME_SYSV_MSG,  /* System V ids, registered by number */
	IPCB_NAME_SYSV_SEM,
	IPCB_NAME_SYSV_SHM,
};

/* Make a fresh name of kind (SHM, MQ or PATH) in buf (IPCB_NAME_MAX bytes) and register it.
 * Returns 0, or -ENOSPC when the cleanup list is full. */
int ipcb_name_new(enum ipcb_name_kind kind, char *buf, size_t len);
/* Register a System V id for IPC_RMID. Returns 0 or -ENOSPC. */
int ipcb_name_sysv(enum ipcb_name_kind kind, int id);
/* Remove one registered object now (unlink / IPC_RMID) and forget it. A missing object is
 * not an error. Returns 0, or -errno when removal failed (the entry is kept for later). */
int ipcb_name_remove(enum ipcb_name_kind kind, const char *name, int id);
/* Remove everything still registered. Returns the number of objects that could not be
 * removed (each is reported on stderr). Async-signal-unsafe: call from normal context. */
int ipcb_names_cleanup(void);
/* Number of objects still registered (for tests). */
int ipcb_names_pending(void);
/* Keep the cleanup list in area (ipcb_names_area_size() bytes of MAP_SHARED memory) instead
 * of this process's own memory, so that another process can remove what this one left if it
 * dies by SIGKILL: System V ids have no name a sweep could find. What is listed so far moves
 * along. ipcbench stress gives each lane process one (harness/stress.c). */
size_t ipcb_names_area_size(void);
void ipcb_names_use_area(void *area);
/* Remove what is still listed in area, the list of a process that has ended (never one that
 * still runs: entries are read without locking). Returns how many objects were removed and
 * stores in *failed (if not NULL) how many could not be (each reported on stderr). */
int ipcb_names_cleanup_area(void *area, int *failed);
/* Remove objects left by ipcbench runs whose process no longer exists. Returns how many
 * were removed. */
int ipcb_names_sweep_stale(void);

#endif
