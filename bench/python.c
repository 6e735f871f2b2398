// SPDX-License-Identifier: MIT
/*
 * Python's multiprocessing, side by side with our C: the same workloads, run by CPython
 * through bench/python/ipcb_mp.py, reported in the same rows (impl=python).
 *
 * One case per workload and its sweep (the pattern's variants): Queue, SimpleQueue and Pipe
 * ping-pong and streaming over --sizes; Queue and JoinableQueue producer/consumer (k:k
 * layouts within the CPU budget, as prodcons); Value with get_lock(), with lock=False, and
 * with lock=True but only .value's own lock ("naive"); the threaded balance race with and
 * without threading.Lock; Array with and without its lock (the worker sweep of the sync
 * patterns: 1, 2, 4, ... up to the budget); Manager dict, list and Value proxy calls;
 * Pool.map (chunk auto) and apply_async over the pool bench's sizes (--pool-sizes, default 1,
 * 2, 4, ... 2 x CPUs and the CPU count; at most 64) and grains (empty .. 1 ms); Process start + join with fork, forkserver and
 * spawn. ipcb_mp.py documents how each is measured; timing is always to delivery.
 *
 * How a case runs. The case has as many workers as the workload has Python processes or
 * threads, placed like the C counterpart's (worker i on cpus[i]); the harness pins them and
 * opens the gate as for any pattern. Worker 0 (the driver) then runs
 *     <python3> <dir>/ipcb_mp.py <workload> --cpus a,b,... --duration S --warmup S ... --json
 * under the pin of cpus[0]; every Python process or thread pins itself to its CPU
 * (os.sched_setaffinity) and reports the CPUs it was seen on, which the driver writes into
 * the workers' slots, so cpus_seen is where Python ran and the harness's pinning check
 * applies to it. The other workers only pass the gate: they exist so the row's workers and
 * cpus are the Python layout. The driver reads one JSON line from the script's stdout, puts
 * the latency samples into its histogram and the other metrics into a shared result block;
 * finish() emits them under the C benches' metric names (rtt_p50_ns, msgs_per_s,
 * lost_updates, tasks_per_s, spawn_p50_ns, ...), so plots and compare line up.
 *
 * The interpreter is $IPCBENCH_PYTHON or python3 on PATH, the scripts are in
 * $IPCBENCH_PYTHON_DIR or the source tree's bench/python (IPCB_PYTHON_DIR). Without an
 * interpreter (3.9 or newer) or the script, every case is SKIPPED with the reason. The
 * interpreter's version is in params (python_version=) and in metadata.json.
 *
 * Excluded from every number: interpreter start-up, imports, starting the processes,
 * warm-up. A failed Python check (lost, duplicated or corrupt message, a locked variant
 * that lost an update) FAILS the case with the script's reason; a deliberately racy variant
 * that lost updates (or tore a read) is status RACE.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/clock.h"
#include "../harness/run.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "pattern.h"
#include "pool.h"

#ifndef IPCB_PYTHON_DIR
#define IPCB_PYTHON_DIR "bench/python"
#endif
#define PY_SCRIPT "ipcb_mp.py"
#define PY_MIN_MINOR 9
#define PY_OUT_MAX (64u << 20)        /* most bytes of output read from the script */
#define PY_POOL_MAX 64
#define PY_PROD_MAX 16

enum py_kind { PK_PINGPONG, PK_STREAM, PK_PRODCONS, PK_RACE, PK_ARRAY, PK_MANAGER, PK_POOL,
	       PK_SPAWN };

/* The workloads: ipcb_mp.py's name, the row's mech, the kind (which sweep). */
static const struct py_workload {
	const char *name, *mech;
	enum py_kind kind;
	const char *params;       /* fixed parameters of the workload */
} workloads[] = {
	{ "queue-pingpong", "mp-queue", PK_PINGPONG, "api=put/get" },
	{ "simplequeue-pingpong", "mp-simplequeue", PK_PINGPONG, "api=put/get" },
	{ "pipe-pingpong", "mp-pipe", PK_PINGPONG, "api=send_bytes/recv_bytes" },
	{ "queue-stream", "mp-queue", PK_STREAM, "queue_depth=64" },
	{ "simplequeue-stream", "mp-simplequeue", PK_STREAM, "" },
	{ "pipe-stream", "mp-pipe", PK_STREAM, "api=send_bytes/recv_bytes" },
	{ "queue-prodcons", "mp-queue", PK_PRODCONS, "queue=plain;queue_depth=64" },
	{ "joinablequeue-prodcons", "mp-joinablequeue", PK_PRODCONS,
	  "queue=joinable;queue_depth=64" },
	{ "value-lock", "mp-value-lock", PK_RACE, "value=get_lock" },
	{ "value-nolock", "mp-value-nolock", PK_RACE, "value=lock=False" },
	{ "value-naive", "mp-value-naive", PK_RACE, "value=lock=True" },
	{ "thread-balance-lock", "thread-balance-lock", PK_RACE, "workers_are=threads" },
	{ "thread-balance-nolock", "thread-balance-nolock", PK_RACE, "workers_are=threads" },
	{ "array-lock", "mp-array-lock", PK_ARRAY, "array=lock=True" },
	{ "array-nolock", "mp-array-nolock", PK_ARRAY, "array=lock=False" },
	{ "manager-dict", "mp-manager-dict", PK_MANAGER, "calls=set/get" },
	{ "manager-list", "mp-manager-list", PK_MANAGER, "calls=append/pop" },
	{ "manager-value", "mp-manager-value", PK_MANAGER, "calls=get/set" },
	{ "pool-map", "mp-pool", PK_POOL, "api=map;chunk=auto" },
	{ "pool-apply_async", "mp-pool", PK_POOL, "api=apply_async;chunk=1" },
	{ "process-fork", "mp-process-fork", PK_SPAWN, "start_method=fork" },
	{ "process-forkserver", "mp-process-forkserver", PK_SPAWN, "start_method=forkserver" },
	{ "process-spawn", "mp-process-spawn", PK_SPAWN, "start_method=spawn" },
};
#define NWORKLOADS ((int)(sizeof(workloads) / sizeof(workloads[0])))

/* The pool's grains, as bench/pool.c. */
static const uint64_t grains_ns[] = { 0, 1000, 10000, 100000, 1000000 };
static const char *const grain_names[] = { "empty", "1us", "10us", "100us", "1ms" };
#define NGRAINS ((int)(sizeof(grains_ns) / sizeof(grains_ns[0])))

/* One decoded variant. */
struct py_variant {
	const struct py_workload *w;
	size_t size;
	int workers;              /* Value/Array/threads workers, or producers (= consumers) */
	int pool_size;
	int grain;                /* index into grains_ns */
};

/* ---- the sweep ---- */

/* The pool bench's sizes (--pool-sizes or its default sweep), so every Python pool has a C
 * pool of the same size to be compared with; sizes over PY_POOL_MAX (interpreters, and the
 * CPU list handed to the script) are left to the C pool. */
static int pool_sizes(const struct ipcb_config *cfg, int *out)
{
	int all[IPCB_POOL_MAX_SIZES], n = ipcb_pool_sizes(cfg, all), k = 0;

	for (int i = 0; i < n; i++)
		if (all[i] <= PY_POOL_MAX)
			out[k++] = all[i];
	return k;
}

/* k:k producer/consumer layouts within the budget (1:1 always), as prodcons' ladder. */
static int prodcons_layouts(const struct ipcb_config *cfg, int *out)
{
	int n = 0;

	for (int k = 1; k <= PY_PROD_MAX && (n == 0 || 2 * k <= cfg->budget); k *= 2)
		out[n++] = k;
	return n;
}

/* How many cases workload w has; with v in 0 .. that - 1, fill *out. */
static int sweep(const struct ipcb_config *cfg, const struct py_workload *w, int v,
		 struct py_variant *out)
{
	int list[IPCB_POOL_MAX_SIZES], n;

	memset(out, 0, sizeof(*out));
	out->w = w;
	out->size = 64;
	out->workers = 1;
	switch (w->kind) {
	case PK_PINGPONG:
	case PK_STREAM:
		if (v >= 0 && v < cfg->n_sizes)
			out->size = cfg->size_list[v];
		out->workers = 2;
		return cfg->n_sizes;
	case PK_PRODCONS:
		n = prodcons_layouts(cfg, list);
		if (v >= 0 && v < n * cfg->n_sizes) {
			out->workers = list[v / cfg->n_sizes];
			out->size = cfg->size_list[v % cfg->n_sizes];
		}
		return n * cfg->n_sizes;
	case PK_RACE:
	case PK_ARRAY:
		n = ipcb_sync_sweep_len(cfg->budget);
		if (v >= 0 && v < n)
			out->workers = ipcb_sync_sweep_workers(cfg->budget, v);
		out->size = 0;
		return n;
	case PK_MANAGER:
		out->workers = 2;
		return 1;
	case PK_POOL:
		n = pool_sizes(cfg, list);
		if (v >= 0 && v < n * NGRAINS) {
			out->pool_size = list[v % n];
			out->grain = v / n;
		}
		out->size = 0;
		return n * NGRAINS;
	case PK_SPAWN:
		out->size = 0;
		return 1;
	}
	return 0;
}

static int decode(const struct ipcb_config *cfg, int v, struct py_variant *out)
{
	for (int i = 0; i < NWORKLOADS; i++) {
		int n = sweep(cfg, &workloads[i], -1, out);
		if (v < n)
			return sweep(cfg, &workloads[i], v, out) >= 0 ? 0 : -EINVAL;
		v -= n;
	}
	return -EINVAL;
}

static int python_variants(const struct ipcb_config *cfg)
{
	struct py_variant d;
	int n = 0;

	for (int i = 0; i < NWORKLOADS; i++)
		n += sweep(cfg, &workloads[i], -1, &d);
	return n;
}

/* ---- the interpreter: found once, in the parent ---- */

static struct {
	int probed;
	char exe[512];           /* sys.executable (the real interpreter, not a shim) */
	char version[32];
	char script[600];
	char why[160];           /* non-empty: why the cases are SKIPPED */
} py;

/* Run argv with stdout into out (NUL-terminated, truncated); returns the exit status of
 * a child that ran, 127 when exec failed, or -errno. */
static int run_capture(const char *const argv[], char *out, size_t len)
{
	int fd[2], status;
	size_t off = 0;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fd[0]);
		close(fd[1]);
		return -e;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 2);
		}
		dup2(fd[1], 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		ssize_t r = read(fd[0], out + off, len - 1 - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
		if (off >= len - 1)
			break;
	}
	out[off] = 0;
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void probe(void)
{
	const char *name = getenv("IPCBENCH_PYTHON");
	const char *dir = getenv("IPCBENCH_PYTHON_DIR");
	char out[1024], *nl;
	int major = 0, minor = 0, rc;

	if (py.probed)
		return;
	py.probed = 1;
	if (!name || !*name)
		name = "python3";
	if (!dir || !*dir)
		dir = IPCB_PYTHON_DIR;
	snprintf(py.script, sizeof(py.script), "%s/%s", dir, PY_SCRIPT);
	const char *const argv[] = { name, "-c",
		"import sys,platform;print(sys.executable);print(platform.python_version());"
		"print(sys.version_info[0],sys.version_info[1])", NULL };
	rc = run_capture(argv, out, sizeof(out));
	if (rc != 0) {
		if (rc == 127 && !strchr(name, '/') && strcmp(name, "python3") == 0)
			snprintf(py.why, sizeof(py.why), "python3 not found");
		else
			snprintf(py.why, sizeof(py.why), "%s not found or not runnable (%s %d)", name,
				 rc < 0 ? "errno" : "exit status", rc < 0 ? -rc : rc);
		return;
	}
	if (!(nl = strchr(out, '\n')))
		goto garbled;
	*nl = 0;
	snprintf(py.exe, sizeof(py.exe), "%.511s", out[0] ? out : name);
	char *ver = nl + 1;
	if (!(nl = strchr(ver, '\n')))
		goto garbled;
	*nl = 0;
	snprintf(py.version, sizeof(py.version), "%s", ver);
	if (sscanf(nl + 1, "%d %d", &major, &minor) != 2)
		goto garbled;
	if (major < 3 || (major == 3 && minor < PY_MIN_MINOR)) {
		snprintf(py.why, sizeof(py.why), "%s is Python %s; the Python workloads need 3.%d+",
			 name, py.version, PY_MIN_MINOR);
		return;
	}
	if (access(py.script, R_OK) != 0) {
		snprintf(py.why, sizeof(py.why), "%.120s not found (set IPCBENCH_PYTHON_DIR)",
			 py.script);
		return;
	}
	return;
garbled:
	snprintf(py.why, sizeof(py.why), "%s -c ... printed something unexpected", name);
}

/* ---- results: a shared block the driver fills and finish() reads ---- */

#define PY_METRICS (IPCB_METRICS_MAX - 8)
struct py_shared {
	int nmetrics, have_hist;
	struct {
		char name[40], unit[16];
		double value;
		uint64_t samples, ops;
		int lower;
	} m[PY_METRICS];
	char hist_prefix[24];
	uint64_t hist_ops;
	char race[200];
};
static struct py_shared *shared;   /* MAP_SHARED, made by the first plan() (parent) */

static int python_plan(struct ipcb_case *c, char *why, size_t len)
{
	const struct ipcb_config *cfg = c->cfg;
	struct py_variant d;
	size_t l;

	if (decode(cfg, c->variant, &d) < 0) {
		snprintf(why, len, "python: no variant %d", c->variant);
		return -ENOTSUP;
	}
	switch (d.w->kind) {
	case PK_PRODCONS:
		c->nworkers = 2 * d.workers;
		break;
	case PK_RACE:
	case PK_ARRAY:
		c->nworkers = d.workers;
		break;
	case PK_POOL:
		c->nworkers = d.pool_size + 1;   /* the caller (with its result handler) + P */
		break;
	case PK_SPAWN:
		c->nworkers = 1;
		break;
	default:
		c->nworkers = 2;
	}
	for (int i = 0; i < c->nworkers; i++)
		c->roles[i] = i == 0 ? IPCB_ROLE_A : IPCB_ROLE_B;
	if (d.w->kind == PK_POOL) {
		/* As bench/pool.c: round-robin over the run's CPUs, so P may exceed them. */
		for (int i = 0; i < c->nworkers; i++)
			c->cpus[i] = cfg->unpinned || cfg->n_cpus <= 0 ? -1
								 : cfg->cpu_list[i % cfg->n_cpus];
		c->cpus_fixed = 1;
	}
	c->size = d.size;
	snprintf(c->label, sizeof(c->label), "python %s", d.w->mech);
	l = strlen(c->label);
	switch (d.w->kind) {
	case PK_PINGPONG:
	case PK_STREAM:
		snprintf(c->label + l, sizeof(c->label) - l, " %s %zuB",
			 d.w->kind == PK_PINGPONG ? "pingpong" : "stream", d.size);
		break;
	case PK_PRODCONS:
		snprintf(c->label + l, sizeof(c->label) - l, " %d:%d %zuB", d.workers, d.workers,
			 d.size);
		break;
	case PK_RACE:
	case PK_ARRAY:
		snprintf(c->label + l, sizeof(c->label) - l, " x%d", d.workers);
		break;
	case PK_POOL:
		snprintf(c->label + l, sizeof(c->label) - l, " %s %s P=%d",
			 strstr(d.w->name, "map") ? "map" : "apply_async", grain_names[d.grain],
			 d.pool_size);
		break;
	default:
		break;
	}

	probe();
	/* Parameters: times, the interpreter, the workload's own (pool's and prodcons' in
	 * their C names, so the rows pair with theirs). */
	l = (size_t)snprintf(c->params, sizeof(c->params), "warmup_s=%g;duration_s=%g;"
			     "python_version=%s%s%s", cfg->warmup_s, cfg->duration_s,
			     py.version[0] ? py.version : "none", d.w->params[0] ? ";" : "",
			     d.w->params);
	if (l < sizeof(c->params) && d.w->kind == PK_PRODCONS)
		snprintf(c->params + l, sizeof(c->params) - l, ";producers=%d;consumers=%d",
			 d.workers, d.workers);
	else if (l < sizeof(c->params) && d.w->kind == PK_POOL)
		snprintf(c->params + l, sizeof(c->params) - l, ";grain_ns=%llu;pool_size=%d",
			 (unsigned long long)grains_ns[d.grain], d.pool_size);

	if (py.why[0]) {
		snprintf(why, len, "%s", py.why);
		return -ENOTSUP;
	}
	if (!shared) {
		void *p = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			snprintf(why, len, "python: cannot map the result block: %s", strerror(errno));
			return -ENOTSUP;
		}
		shared = p;
	}
	return 0;
}

/* ---- the driver ---- */

struct py_out {
	char *buf;
	size_t len, cap;
	char err[1024];           /* the tail of stderr */
	size_t elen;
};

static int out_append(struct py_out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		while (cap < o->len + n + 1)
			cap *= 2;
		if (cap > PY_OUT_MAX)
			return -EMSGSIZE;
		char *nb = realloc(o->buf, cap);
		if (!nb)
			return -ENOMEM;
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = 0;
	return 0;
}

static void err_append(struct py_out *o, const char *p, size_t n)
{
	size_t room = sizeof(o->err) - 1;

	if (n >= room) {
		p += n - room;
		n = room;
	}
	if (o->elen + n > room) {
		size_t drop = o->elen + n - room;
		memmove(o->err, o->err + drop, o->elen - drop);
		o->elen -= drop;
	}
	memcpy(o->err + o->elen, p, n);
	o->elen += n;
	o->err[o->elen] = 0;
}

/* Start the script; read its output until it exits (or the harness stops the case).
 * Returns its exit status (>= 0), -ECANCELED, or -errno. */
static int run_script(struct ipcb_wctx *w, const char *const argv[], struct py_out *o)
{
	int ofd[2], efd[2], status = 0, open_fds = 2, rc = 0;
	pid_t pid;

	if (pipe2(ofd, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(efd, O_CLOEXEC) < 0) {
		rc = -errno;
		close(ofd[0]);
		close(ofd[1]);
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(ofd[0]);
		close(ofd[1]);
		close(efd[0]);
		close(efd[1]);
		return rc;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(ofd[1], 1);
		dup2(efd[1], 2);
		for (int fd = 3; fd < 1024; fd++)    /* the harness's files are not Python's */
			(void)close(fd);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(ofd[1]);
	close(efd[1]);
	struct pollfd pf[2] = { { ofd[0], POLLIN, 0 }, { efd[0], POLLIN, 0 } };
	char buf[65536];
	while (open_fds > 0) {
		int n = poll(pf, 2, 100);
		if (atomic_load_explicit(&w->ctl->stop, memory_order_relaxed)) {
			(void)kill(pid, SIGKILL);
			rc = -ECANCELED;
			break;
		}
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			(void)kill(pid, SIGKILL);
			break;
		}
		for (int i = 0; i < 2 && n > 0; i++) {
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(pf[i].fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 1) {
				err_append(o, buf, (size_t)r);
			} else if ((rc = out_append(o, buf, (size_t)r)) < 0) {
				(void)kill(pid, SIGKILL);
				break;
			}
		}
		if (rc < 0)
			break;
	}
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return rc < 0 ? rc : -errno;
	if (rc < 0)
		return rc;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The last line of o that starts with '{', or NULL. */
static const char *last_json_line(struct py_out *o)
{
	char *p = o->buf, *found = NULL;

	if (!p)
		return NULL;
	for (char *line = p; line && *line; ) {
		char *nl = strchr(line, '\n');
		if (*line == '{')
			found = line;
		if (nl)
			*nl = 0;
		line = nl ? nl + 1 : NULL;
	}
	return found;
}

/* Put what the script reported into the slots and the shared block; 0 or the failure. */
static int take_results(struct ipcb_wctx *w, const char *line)
{
	json_error_t jerr;
	json_t *root = json_loads(line, 0, &jerr);
	json_t *hist, *seen, *metrics, *race;
	int rc = 0;

	if (!root)
		return ipcb_worker_fail(w, 0, "python: bad JSON from %s: %s", PY_SCRIPT, jerr.text);
	if (!json_is_true(json_object_get(root, "ok"))) {
		const char *e = json_string_value(json_object_get(root, "error"));
		rc = ipcb_worker_fail(w, 0, "python: %s", e ? e : "the script reported a failure");
		goto out;
	}
	memset(shared, 0, sizeof(*shared));
	hist = json_object_get(root, "hist");
	if (json_is_object(hist)) {
		json_t *samples = json_object_get(hist, "samples"), *v;
		size_t i;
		snprintf(shared->hist_prefix, sizeof(shared->hist_prefix), "%s",
			 json_string_value(json_object_get(hist, "prefix")) ?: "lat");
		shared->hist_ops = (uint64_t)json_integer_value(json_object_get(hist,
										"ops_per_sample"));
		if (!shared->hist_ops)
			shared->hist_ops = 1;
		json_array_foreach(samples, i, v)
			ipcb_hist_record(&w->slot->hist, (uint64_t)(json_number_value(v) > 0 ?
								    json_number_value(v) : 0));
		shared->have_hist = w->slot->hist.count > 0;
		w->slot->ops_per_sample = shared->hist_ops;
	}
	metrics = json_object_get(root, "metrics");
	for (size_t i = 0; i < json_array_size(metrics) && shared->nmetrics < PY_METRICS; i++) {
		json_t *m = json_array_get(metrics, i);
		int k = shared->nmetrics++;
		snprintf(shared->m[k].name, sizeof(shared->m[k].name), "%s",
			 json_string_value(json_array_get(m, 0)) ?: "?");
		snprintf(shared->m[k].unit, sizeof(shared->m[k].unit), "%s",
			 json_string_value(json_array_get(m, 1)) ?: "");
		shared->m[k].value = json_number_value(json_array_get(m, 2));
		shared->m[k].samples = (uint64_t)json_number_value(json_array_get(m, 3));
		shared->m[k].ops = (uint64_t)json_number_value(json_array_get(m, 4));
		shared->m[k].lower = (int)json_number_value(json_array_get(m, 5));
	}
	race = json_object_get(root, "race");
	if (json_is_string(race))
		snprintf(shared->race, sizeof(shared->race), "%s", json_string_value(race));

	/* Where Python ran: worker i's [first, last, migrations]. The other workers left at
	 * the gate; wait until their slots are final before writing into them. */
	seen = json_object_get(root, "cpus_seen");
	if ((int)json_array_size(seen) != w->c->nworkers) {
		rc = ipcb_worker_fail(w, 0, "python: %zu workers reported their CPUs, the case has %d",
				      json_array_size(seen), w->c->nworkers);
		goto out;
	}
	for (int i = 0; i < w->c->nworkers; i++) {
		struct ipcb_slot *s = &w->ctl->slots[i];
		json_t *e = json_array_get(seen, (size_t)i);
		for (int spin = 0; i > 0 && atomic_load(&s->state) == 0 && spin < 5000; spin++)
			usleep(1000);
		s->cpu_first = (int32_t)json_integer_value(json_array_get(e, 0));
		s->cpu_last = (int32_t)json_integer_value(json_array_get(e, 1));
		s->migrations = (uint32_t)json_integer_value(json_array_get(e, 2));
	}
out:
	json_decref(root);
	return rc;
}

static int python_worker(struct ipcb_wctx *w)
{
	const struct ipcb_case *c = w->c;
	const struct ipcb_config *cfg = c->cfg;
	struct py_variant d;
	struct py_out o;
	char cpus[4096] = "", dur[32], warm[32], size[32], workers[16], pool[16], grain[32],
	     maxs[32];
	size_t off = 0;
	int rc;

	if (w->id != 0) {            /* a placeholder for a Python process: pass the gate */
		rc = ipcb_worker_gate(w);
		return rc == -ECANCELED ? 0 : rc;
	}
	if (!shared || decode(cfg, c->variant, &d) < 0)
		return ipcb_worker_fail(w, -EINVAL, "python: not planned");
	for (int i = 0; i < c->nworkers && c->cpus[i] >= 0 && off + 12 < sizeof(cpus); i++)
		off += (size_t)snprintf(cpus + off, sizeof(cpus) - off, "%s%d", i ? "," : "",
					c->cpus[i]);
	snprintf(dur, sizeof(dur), "%.9g", cfg->duration_s);
	snprintf(warm, sizeof(warm), "%.9g", cfg->warmup_s);
	snprintf(size, sizeof(size), "%zu", d.size ? d.size : 64);
	snprintf(workers, sizeof(workers), "%d", d.workers);
	snprintf(pool, sizeof(pool), "%d", d.pool_size ? d.pool_size : 1);
	snprintf(grain, sizeof(grain), "%llu", (unsigned long long)grains_ns[d.grain]);
	/* Slow cases (spawn, coarse pools) may stretch their window to a quarter of the
	 * watchdog's time, as bench/spawn.c does. */
	snprintf(maxs, sizeof(maxs), "%.3f", (double)cfg->timeout_ns / 4e9);
	const char *const argv[] = { py.exe, py.script, d.w->name, "--json", "--cpus", cpus,
			       "--duration", dur, "--warmup", warm, "--size", size,
			       "--workers", workers, "--producers", workers, "--consumers",
			       workers, "--pool-size", pool, "--grain-ns", grain,
			       "--max-seconds", maxs, NULL };

	memset(&o, 0, sizeof(o));
	rc = ipcb_worker_gate(w);
	if (rc < 0)
		return rc == -ECANCELED ? 0 : rc;
	ipcb_worker_begin(w);
	rc = run_script(w, argv, &o);
	ipcb_worker_end(w);
	if (rc == -ECANCELED) {
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		rc = ipcb_worker_fail(w, rc, "python: running %s", py.exe);
		goto out;
	}
	const char *line = last_json_line(&o);
	if (line) {
		int trc = take_results(w, line);
		if (trc < 0 || rc == 0) {
			rc = trc;
			goto out;
		}
	}
	/* No JSON, or a non-zero exit after a good line: say what stderr said. */
	char *tail = o.err;
	while (o.elen > 0 && (o.err[o.elen - 1] == '\n' || o.err[o.elen - 1] == ' '))
		o.err[--o.elen] = 0;
	if (strlen(tail) > 120)
		tail += strlen(tail) - 120;
	for (char *p = tail; *p; p++)
		if (*p == '\n')
			*p = ' ';
	rc = ipcb_worker_fail(w, 0, "python: %s exited with status %d%s%s", PY_SCRIPT, rc,
			      *tail ? ": " : "", tail);
out:
	free(o.buf);
	return rc;
}

static int python_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			 struct ipcb_metrics *m, char *why, size_t len)
{
	(void)c;
	if (!shared || (!shared->nmetrics && !shared->have_hist)) {
		snprintf(why, len, "integrity: the Python workload reported no metric");
		return -EPROTO;
	}
	if (shared->have_hist)
		ipcb_metrics_add_hist(m, shared->hist_prefix, &slots[0].hist, shared->hist_ops);
	for (int k = 0; k < shared->nmetrics; k++)
		ipcb_metrics_add(m, shared->m[k].name, shared->m[k].unit, shared->m[k].value,
				 shared->m[k].samples, shared->m[k].ops ? shared->m[k].ops : 1,
				 shared->m[k].lower);
	if (shared->race[0]) {
		snprintf(why, len, "%s", shared->race);
		return IPCB_FINISH_RACE;
	}
	return 0;
}

static const char *python_mech(const struct ipcb_case *c)
{
	struct py_variant d;

	return decode(c->cfg, c->variant, &d) == 0 ? d.w->mech : "python";
}

const struct ipcb_pattern ipcb_pattern_python = {
	.name = "python",
	.summary = "Python multiprocessing doing the same jobs (Queue, Pipe, Value, Manager, "
		   "Pool, Process), rows with impl=python",
	.impl = "python",
	.mech_name = python_mech,
	.headline = { "rtt_p50_ns", "msgs_per_s", "lost_updates" },
	.variants = python_variants,
	.plan = python_plan,
	.worker = python_worker,
	.finish = python_finish,
};
