// SPDX-License-Identifier: MIT
/*
 * probe_pingpong: a plain ping-pong between two pinned processes, written without any
 * ipcbench code, so bench/validate_latency.sh can hold ipcbench's latency numbers against an
 * independent measurement of the same thing.
 *
 * usage: probe_pingpong MECH SIZE CPU_A CPU_B [SECONDS]
 *   MECH     pipe | unix-stream | posix-mq | eventfd
 *   SIZE     message bytes (8 or more; eventfd: exactly 8)
 *   CPU_A/B  CPUs of the ping (parent) and pong (child) processes; may be equal
 *   SECONDS  measured time (default 1), after 0.2 s of unmeasured warm-up
 * Prints one line of key=value pairs: round_trips, p50_ns, mean_ns, min_ns.
 *
 * What it does: A writes SIZE bytes carrying a sequence number, B reads them and writes
 * them back, A reads the echo and checks the number. Every round trip is timed on its own
 * with CLOCK_MONOTONIC (the clock read, some tens of ns, is included, as in ipcbench at
 * batch 1). unix-stream is a socketpair(AF_UNIX, SOCK_STREAM): the same data path as a
 * connected Unix stream socket, without the bind/connect that happen before timing.
 * Deliberately absent: message stamping and checking beyond the sequence number, the
 * start gate, histograms; what is left is the mechanism and a clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_SEQ 0xfffffffffffffff0ull

enum mech { M_PIPE, M_UNIX, M_MQ, M_EVENTFD };

struct end {
	int tx, rx;
};

static enum mech mech;
static size_t size;

static void die(const char *what)
{
	fprintf(stderr, "probe_pingpong: %s: %s (errno %d)\n", what, strerror(errno), errno);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

static void send_msg(struct end *e, const unsigned char *buf)
{
	size_t done = 0;
	ssize_t n;

	switch (mech) {
	case M_MQ:
		if (mq_send((mqd_t)e->tx, (const char *)buf, size, 0) < 0)
			die("mq_send");
		return;
	case M_EVENTFD: {
		uint64_t v;
		memcpy(&v, buf, 8);
		v += 1;   /* 0 would not wake the reader */
		if (write(e->tx, &v, 8) != 8)
			die("write eventfd");
		return;
	}
	default:
		while (done < size) {
			n = write(e->tx, buf + done, size - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die("write");
			done += (size_t)n;
		}
	}
}

static void recv_msg(struct end *e, unsigned char *buf)
{
	size_t done = 0;
	ssize_t n;

	switch (mech) {
	case M_MQ:
		if (mq_receive((mqd_t)e->rx, (char *)buf, size, NULL) != (ssize_t)size)
			die("mq_receive");
		return;
	case M_EVENTFD: {
		uint64_t v;
		if (read(e->rx, &v, 8) != 8)
			die("read eventfd");
		v -= 1;
		memcpy(buf, &v, 8);
		return;
	}
	default:
		while (done < size) {
			n = read(e->rx, buf + done, size - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die("read");
			done += (size_t)n;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct end a, b;
	int cpu_a, cpu_b, fd[4];
	double seconds = 1.0;
	unsigned char *buf;
	uint64_t seq = 0, *rtt = NULL, nrtt = 0, cap = 0, t0, t1, end, sum = 0;
	pid_t pid;
	int st;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: probe_pingpong pipe|unix-stream|posix-mq|eventfd SIZE CPU_A "
			"CPU_B [SECONDS]\n");
		return 2;
	}
	if (strcmp(argv[1], "pipe") == 0)
		mech = M_PIPE;
	else if (strcmp(argv[1], "unix-stream") == 0)
		mech = M_UNIX;
	else if (strcmp(argv[1], "posix-mq") == 0)
		mech = M_MQ;
	else if (strcmp(argv[1], "eventfd") == 0)
		mech = M_EVENTFD;
	else {
		fprintf(stderr, "probe_pingpong: unknown mechanism '%s'\n", argv[1]);
		return 2;
	}
	size = strtoul(argv[2], NULL, 0);
	cpu_a = atoi(argv[3]);
	cpu_b = atoi(argv[4]);
	if (argc == 6)
		seconds = atof(argv[5]);
	if (size < 8 || (mech == M_EVENTFD && size != 8) || seconds <= 0) {
		fprintf(stderr, "probe_pingpong: bad size or duration\n");
		return 2;
	}
	buf = calloc(1, size);
	if (!buf)
		die("calloc");

	switch (mech) {
	case M_PIPE:
		if (pipe(fd) < 0 || pipe(fd + 2) < 0)
			die("pipe");
		a = (struct end){ fd[1], fd[2] };
		b = (struct end){ fd[3], fd[0] };
		break;
	case M_UNIX:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) < 0)
			die("socketpair");
		a = (struct end){ fd[0], fd[0] };
		b = (struct end){ fd[1], fd[1] };
		break;
	case M_MQ: {
		struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = (long)size };
		char n1[64], n2[64];
		snprintf(n1, sizeof(n1), "/probe-pingpong-%d-ab", (int)getpid());
		snprintf(n2, sizeof(n2), "/probe-pingpong-%d-ba", (int)getpid());
		fd[0] = (int)mq_open(n1, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
		if (fd[0] < 0)
			die("mq_open");
		(void)mq_unlink(n1);
		fd[1] = (int)mq_open(n2, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
		if (fd[1] < 0)
			die("mq_open");
		(void)mq_unlink(n2);
		a = (struct end){ fd[0], fd[1] };
		b = (struct end){ fd[1], fd[0] };
		break;
	}
	case M_EVENTFD:
		fd[0] = eventfd(0, 0);
		fd[1] = eventfd(0, 0);
		if (fd[0] < 0 || fd[1] < 0)
			die("eventfd");
		a = (struct end){ fd[0], fd[1] };
		b = (struct end){ fd[1], fd[0] };
		break;
	}

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		uint64_t s;
		pin(cpu_b);
		for (;;) {
			recv_msg(&b, buf);
			memcpy(&s, buf, 8);
			if (s == STOP_SEQ)
				_exit(0);
			send_msg(&b, buf);
		}
	}
	pin(cpu_a);

	end = now_ns() + 200000000ull;   /* warm-up */
	do {
		memcpy(buf, &seq, 8);
		send_msg(&a, buf);
		recv_msg(&a, buf);
		seq++;
	} while (now_ns() < end);

	end = now_ns() + (uint64_t)(seconds * 1e9);
	t1 = now_ns();
	do {
		uint64_t got;
		t0 = t1;
		memcpy(buf, &seq, 8);
		send_msg(&a, buf);
		recv_msg(&a, buf);
		t1 = now_ns();
		memcpy(&got, buf, 8);
		if (got != seq) {
			fprintf(stderr, "probe_pingpong: sent %llu, echo carries %llu\n",
				(unsigned long long)seq, (unsigned long long)got);
			kill(pid, SIGKILL);
			return 1;
		}
		seq++;
		if (nrtt == cap) {
			cap = cap ? cap * 2 : 65536;
			rtt = realloc(rtt, cap * sizeof(*rtt));
			if (!rtt)
				die("realloc");
		}
		rtt[nrtt++] = t1 - t0;
		sum += t1 - t0;
	} while (t1 < end);

	seq = STOP_SEQ;
	memcpy(buf, &seq, 8);
	send_msg(&a, buf);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "probe_pingpong: pong process failed\n");
		return 1;
	}
	qsort(rtt, nrtt, sizeof(*rtt), cmp_u64);
	printf("mech=%s size=%zu cpus=%d,%d round_trips=%llu p50_ns=%llu mean_ns=%.0f min_ns=%llu\n",
	       argv[1], size, cpu_a, cpu_b, (unsigned long long)nrtt,
	       (unsigned long long)rtt[nrtt / 2], (double)sum / (double)nrtt,
	       (unsigned long long)rtt[0]);
	free(rtt);
	free(buf);
	return 0;
}
