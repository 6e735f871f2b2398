// SPDX-License-Identifier: MIT
/* Run-prefixed names for IPC objects and their cleanup list (see names.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "names.h"

#define MAX_ENTRIES 256

struct entry {
	int used;
	enum ipcb_name_kind kind;
	char name[IPCB_NAME_MAX];
	int id;
};

static struct entry own_entries[MAX_ENTRIES];
/* The list in use: our own, or an area another process can read after we died (see
 * ipcb_names_use_area). */
static struct entry *entries = own_entries;
static unsigned counter;

static struct entry *slot_free(void)
{
	for (int i = 0; i < MAX_ENTRIES; i++)
		if (!entries[i].used)
			return &entries[i];
	return NULL;
}

int ipcb_name_new(enum ipcb_name_kind kind, char *buf, size_t len)
{
	struct entry *e = slot_free();

	if (!e)
		return -ENOSPC;
	if (kind != IPCB_NAME_SHM && kind != IPCB_NAME_MQ && kind != IPCB_NAME_PATH)
		return -EINVAL;
	snprintf(e->name, sizeof(e->name), "%s" IPCB_NAME_PREFIX "%d-%u",
		 kind == IPCB_NAME_PATH ? "/tmp/" : "/", (int)getpid(), counter++);
	if (strlen(e->name) + 1 > len)
		return -ENAMETOOLONG;
	e->kind = kind;
	e->id = -1;
	/* Last, and not moved before the name: a process reading a shared list after we were
	 * killed must never see a used entry with half a name. */
	__atomic_store_n(&e->used, 1, __ATOMIC_RELEASE);
	memcpy(buf, e->name, strlen(e->name) + 1);
	return 0;
}

int ipcb_name_sysv(enum ipcb_name_kind kind, int id)
{
	struct entry *e = slot_free();

	if (!e)
		return -ENOSPC;
	e->kind = kind;
	e->id = id;
	e->name[0] = 0;
	__atomic_store_n(&e->used, 1, __ATOMIC_RELEASE);
	return 0;
}

static int remove_object(enum ipcb_name_kind kind, const char *name, int id)
{
	int rc = 0;

	switch (kind) {
	case IPCB_NAME_SHM:
		rc = shm_unlink(name);
		break;
	case IPCB_NAME_MQ:
		rc = mq_unlink(name);
		break;
	case IPCB_NAME_PATH:
		rc = unlink(name);
		break;
	case IPCB_NAME_SYSV_MSG:
		rc = msgctl(id, IPC_RMID, NULL);
		break;
	case IPCB_NAME_SYSV_SEM:
		rc = semctl(id, 0, IPC_RMID);
		break;
	case IPCB_NAME_SYSV_SHM:
		rc = shmctl(id, IPC_RMID, NULL);
		break;
	}
	if (rc < 0 && (errno == ENOENT || errno == EINVAL || errno == EIDRM))
		rc = 0;   /* already gone */
	return rc < 0 ? -errno : 0;
}

int ipcb_name_remove(enum ipcb_name_kind kind, const char *name, int id)
{
	for (int i = 0; i < MAX_ENTRIES; i++) {
		struct entry *e = &entries[i];
		if (!e->used || e->kind != kind)
			continue;
		if (name ? strcmp(e->name, name) != 0 : e->id != id)
			continue;
		int rc = remove_object(kind, e->name, e->id);
		if (rc == 0)
			e->used = 0;
		return rc;
	}
	return remove_object(kind, name, id);
}

static int cleanup_list(struct entry *list, int *removed)
{
	int failed = 0;

	for (int i = 0; i < MAX_ENTRIES; i++) {
		struct entry *e = &list[i];
		if (!e->used)
			continue;
		int rc = remove_object(e->kind, e->name, e->id);
		if (rc < 0) {
			fprintf(stderr, "ipcbench: cannot remove %s%s (id %d): %s (errno %d)\n",
				e->name[0] ? "" : "System V object", e->name, e->id, strerror(-rc), -rc);
			failed++;
			continue;
		}
		e->used = 0;
		if (removed)
			++*removed;
	}
	return failed;
}

int ipcb_names_cleanup(void)
{
	return cleanup_list(entries, NULL);
}

size_t ipcb_names_area_size(void)
{
	return sizeof(own_entries);
}

void ipcb_names_use_area(void *area)
{
	memcpy(area, entries, sizeof(own_entries));
	entries = area;
}

int ipcb_names_cleanup_area(void *area, int *failed)
{
	int removed = 0, f = cleanup_list(area, &removed);

	if (failed)
		*failed = f;
	return removed;
}

int ipcb_names_pending(void)
{
	int n = 0;
	for (int i = 0; i < MAX_ENTRIES; i++)
		n += entries[i].used;
	return n;
}

/* "ipcbench-<pid>-<n>" whose pid is dead? */
static int stale(const char *base)
{
	char *end;
	long pid;

	if (strncmp(base, IPCB_NAME_PREFIX, strlen(IPCB_NAME_PREFIX)) != 0)
		return 0;
	pid = strtol(base + strlen(IPCB_NAME_PREFIX), &end, 10);
	if (pid <= 0 || *end != '-')
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int sweep_dir(const char *dir, enum ipcb_name_kind kind)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char name[IPCB_NAME_MAX + 300];
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!stale(de->d_name) || strlen(de->d_name) >= IPCB_NAME_MAX)
			continue;
		if (kind == IPCB_NAME_PATH)
			snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
		else
			snprintf(name, sizeof(name), "/%s", de->d_name);
		if (remove_object(kind, name, -1) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int ipcb_names_sweep_stale(void)
{
	return sweep_dir("/dev/shm", IPCB_NAME_SHM) + sweep_dir("/dev/mqueue", IPCB_NAME_MQ) +
	       sweep_dir("/tmp", IPCB_NAME_PATH);
}
