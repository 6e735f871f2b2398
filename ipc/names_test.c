// SPDX-License-Identifier: MIT
/* Named objects: names are unique and prefixed, registered objects are removed by cleanup,
 * and the sweep removes objects of dead runs but not of live ones. */
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "names.h"
#include "testutil.h"

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int main(void)
{
	char a[IPCB_NAME_MAX], b[IPCB_NAME_MAX], p[IPCB_NAME_MAX], m[IPCB_NAME_MAX], dev[128];

	CHECK(ipcb_name_new(IPCB_NAME_SHM, a, sizeof(a)) == 0);
	CHECK(ipcb_name_new(IPCB_NAME_SHM, b, sizeof(b)) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(strncmp(a, "/ipcbench-", 10) == 0);
	CHECK(ipcb_name_new(IPCB_NAME_PATH, p, sizeof(p)) == 0 && strncmp(p, "/tmp/ipcbench-", 14) == 0);
	CHECK(ipcb_name_new(IPCB_NAME_MQ, m, sizeof(m)) == 0);

	int fd = shm_open(a, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK(mkfifo(p, 0600) == 0);
	mqd_t q = mq_open(m, O_CREAT | O_RDWR, 0600, NULL);
	CHECK(q != (mqd_t)-1);
	mq_close(q);
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK(id >= 0 && ipcb_name_sysv(IPCB_NAME_SYSV_MSG, id) == 0);

	snprintf(dev, sizeof(dev), "/dev/shm%s", a);
	CHECK(exists(dev) && exists(p));
	CHECK(ipcb_names_pending() == 5);
	/* b was registered but never created: cleanup must not complain */
	CHECK(ipcb_names_cleanup() == 0);
	CHECK(ipcb_names_pending() == 0);
	CHECK(!exists(dev) && !exists(p));
	snprintf(dev, sizeof(dev), "/dev/mqueue%s", m);
	CHECK(!exists(dev));
	CHECK(msgctl(id, IPC_STAT, &(struct msqid_ds){ 0 }) < 0);

	/* stale objects: a child creates one and dies without cleaning up */
	char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();
	if (pid == 0) {
		char *n = shared;
		ipcb_name_new(IPCB_NAME_SHM, n, IPCB_NAME_MAX);
		int f = shm_open(n, O_CREAT | O_RDWR, 0600);
		_exit(f >= 0 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	snprintf(dev, sizeof(dev), "/dev/shm%s", shared);
	CHECK(strstr(shared, "ipcbench-") != NULL);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && exists(dev));
	/* one of ours, alive, must survive the sweep */
	char live[IPCB_NAME_MAX], livedev[128];
	ipcb_name_new(IPCB_NAME_SHM, live, sizeof(live));
	fd = shm_open(live, O_CREAT | O_RDWR, 0600);
	close(fd);
	snprintf(livedev, sizeof(livedev), "/dev/shm%s", live);
	CHECK(ipcb_names_sweep_stale() >= 1);
	CHECK(!exists(dev));
	CHECK(exists(livedev));
	CHECK(ipcb_names_cleanup() == 0 && !exists(livedev));

	/* a list in shared memory: a child registers a System V queue (no name a sweep could
	 * find) and a shm name there, is killed, and its parent removes both */
	size_t alen = ipcb_names_area_size();
	void *area = mmap(NULL, alen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED);
	pid = fork();
	if (pid == 0) {
		char *n = shared;
		ipcb_names_use_area(area);
		int q2 = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (q2 < 0 || ipcb_name_sysv(IPCB_NAME_SYSV_MSG, q2) < 0)
			_exit(1);
		memcpy(n + IPCB_NAME_MAX, &q2, sizeof(q2));
		if (ipcb_name_new(IPCB_NAME_SHM, n, IPCB_NAME_MAX) < 0)
			_exit(1);
		int f = shm_open(n, O_CREAT | O_RDWR, 0600);
		if (f < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	int q2;
	memcpy(&q2, shared + IPCB_NAME_MAX, sizeof(q2));
	snprintf(dev, sizeof(dev), "/dev/shm%s", shared);
	CHECK(exists(dev) && msgctl(q2, IPC_STAT, &(struct msqid_ds){ 0 }) == 0);
	CHECK(ipcb_names_pending() == 0);   /* the child's list was never ours */
	int failed = -1;
	CHECK(ipcb_names_cleanup_area(area, &failed) == 2 && failed == 0);
	CHECK(!exists(dev) && msgctl(q2, IPC_STAT, &(struct msqid_ds){ 0 }) < 0);
	CHECK(ipcb_names_cleanup_area(area, NULL) == 0);   /* nothing twice */
	munmap(area, alen);
	return TEST_END();
}
