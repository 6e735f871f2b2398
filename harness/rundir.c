// SPDX-License-Identifier: MIT
/* Run directories and run metadata (see rundir.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rundir.h"
#include "topo.h"

int ipcb_mkdirs(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0777) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ipcb_rundir_begin(struct ipcb_rundir *rd, const struct ipcb_config *cfg,
		      const struct ipcb_topo *topo, int argc, char **argv)
{
	struct ipcb_run_meta *m = &rd->meta;
	struct timespec now;
	struct tm tm;
	size_t off = 0;
	int rc;

	memset(rd, 0, sizeof(*rd));
	ipcb_clock_calibrate(&rd->cal);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(rd->run_id, sizeof(rd->run_id), "%04d%02d%02d-%02d%02d%02d-%d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)getpid());
	snprintf(rd->dir, sizeof(rd->dir), "%s/%s", cfg->out, rd->run_id);
	rc = ipcb_mkdirs(rd->dir);
	if (rc < 0) {
		fprintf(stderr, "ipcbench: --out %s: cannot create %s: %s\n", cfg->out, rd->dir,
			strerror(-rc));
		return rc;
	}
	for (int i = 0; i < argc && off < sizeof(rd->cmdline) - 2; i++)
		off += (size_t)snprintf(rd->cmdline + off, sizeof(rd->cmdline) - off, "%s%s",
					i ? " " : "", argv[i]);
	ipcb_cpulist_format(cfg->cpu_list, cfg->n_cpus, rd->cpus, sizeof(rd->cpus));

	m->run_id = rd->run_id;
	m->out_dir = rd->dir;
	m->argv_joined = rd->cmdline;
	m->version = IPCB_VERSION;
	m->git_commit = IPCB_GIT_COMMIT;
	m->build_type = IPCB_BUILD_TYPE;
	m->compiler = IPCB_COMPILER;
	m->cflags = IPCB_CFLAGS;
	m->sanitizer = IPCB_SANITIZER[0] != 0;
	m->clock = IPCB_CLOCK_NAME;
	m->clock_cost_ns = rd->cal.cost_ns;
	m->clock_resolution_ns = rd->cal.resolution_ns;
	m->topo = topo;
	m->cores_note = cfg->cores_note;
	m->placement = cfg->placement;
	m->mode = cfg->thread_mode ? "thread" : "process";
	m->cpus = cfg->unpinned ? "unpinned" : rd->cpus;
	m->start_unix_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	return 0;
}

void ipcb_rundir_link_latest(const struct ipcb_rundir *rd, const struct ipcb_config *cfg)
{
	char tmp[4300], path[4300];

	snprintf(tmp, sizeof(tmp), "%s/.latest.%d", cfg->out, (int)getpid());
	snprintf(path, sizeof(path), "%s/latest", cfg->out);
	(void)unlink(tmp);
	if (symlink(rd->run_id, tmp) == 0 && rename(tmp, path) < 0)
		(void)unlink(tmp);
}
