/* SPDX-License-Identifier: MIT */
/*
 * The sink registry (built from sinks.def) and the temporary-file-then-rename helper the
 * file sinks share. The rename is the commit point: before it the old file (or none) is
 * visible, after it the complete new one; a run killed in between leaves only "*.tmp".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"

const struct ipcb_sink *const ipcb_sinks[] = {
#define IPCB_SINK(n) &ipcb_sink_##n,
#include "sinks.def"
#undef IPCB_SINK
	NULL,
};

const struct ipcb_sink *ipcb_sink_find(const char *name)
{
	for (const struct ipcb_sink *const *s = ipcb_sinks; *s; s++)
		if (strcmp((*s)->name, name) == 0)
			return *s;
	return NULL;
}

int ipcb_sink_file_open(struct ipcb_sink_file *sf, const char *dir, const char *name)
{
	int fd, err;

	memset(sf, 0, sizeof(*sf));
	if (asprintf(&sf->path, "%s/%s", dir, name) < 0) {
		sf->path = NULL;
		return -ENOMEM;
	}
	if (asprintf(&sf->tmp_path, "%s.tmp", sf->path) < 0) {
		sf->tmp_path = NULL;
		err = -ENOMEM;
		goto free_path;
	}
	fd = open(sf->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto free_tmp;
	}
	sf->f = fdopen(fd, "w");
	if (!sf->f) {
		err = -errno;
		(void)close(fd);
		(void)unlink(sf->tmp_path);
		goto free_tmp;
	}
	return 0;

free_tmp:
	free(sf->tmp_path);
free_path:
	free(sf->path);
	memset(sf, 0, sizeof(*sf));
	return err;
}

/* -errno for a failure that set errno, -EIO if it (unusually for stdio) did not. */
static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static void sink_file_release(struct ipcb_sink_file *sf)
{
	free(sf->tmp_path);
	free(sf->path);
	memset(sf, 0, sizeof(*sf));
}

/* fsync the directory so the rename itself survives a crash. Some filesystems refuse
 * fsync on a directory (EINVAL); the file is complete either way, so that is not an error. */
static int sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, err = 0;

	dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
	} else {
		if (fsync(fd) < 0 && errno != EINVAL)
			err = -errno;
		(void)close(fd);
	}
	free(dir);
	return err;
}

int ipcb_sink_file_commit(struct ipcb_sink_file *sf, int err)
{
	int fd = fileno(sf->f);

	errno = 0;
	if (!err && (fflush(sf->f) != 0 || ferror(sf->f)))
		err = neg_errno();
	if (!err && fsync(fd) < 0)
		err = neg_errno();
	if (fclose(sf->f) != 0 && !err)
		err = neg_errno();
	sf->f = NULL;
	if (!err && rename(sf->tmp_path, sf->path) < 0)
		err = neg_errno();
	if (err)
		(void)unlink(sf->tmp_path);
	else
		err = sync_parent_dir(sf->path);
	sink_file_release(sf);
	return err;
}

void ipcb_sink_file_discard(struct ipcb_sink_file *sf)
{
	if (sf->f)
		(void)fclose(sf->f);
	if (sf->tmp_path)
		(void)unlink(sf->tmp_path);
	sink_file_release(sf);
}
