/* SPDX-License-Identifier: MIT */
/*
 * JSON sink: metadata.json, the context a result needs to be understood later -- schema
 * versions, how ipcbench was built, the clock, the machine, what --cores did, when the run
 * started and ended, whether it was interrupted, and how many cases ended how. The fields
 * are described in results/README.md. Rows are ignored: they all go to results.csv.
 *
 * The document is built with jansson and written once, at close (the run's end is only
 * known then), to metadata.json.tmp and renamed. A missing string is JSON null; so is a
 * number that is not finite (jansson cannot represent NaN) and the machine's topology
 * fields when no topology was given. Strings that are not valid UTF-8 (a command line can
 * hold any bytes) have their non-ASCII bytes replaced by '?'.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <jansson.h>

#include "fingerprint.h"
#include "perf.h"
#include "sink.h"
#include "topo.h"

struct ipcb_sink_state {
	char *dir, *run_id;
};

/* A JSON string for s (null for NULL); NULL only when out of memory. */
static json_t *jv_text(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *jv_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Set key in obj, stealing val; *fail records any failure (val == NULL is one: the
 * constructor ran out of memory). Lets a whole document be built before checking once. */
static void put(json_t *obj, const char *key, json_t *val, int *fail)
{
	if (!obj) {
		json_decref(val);
		*fail = 1;
	} else if (!val || json_object_set_new(obj, key, val) != 0) {
		*fail = 1;      /* json_object_set_new() drops val on failure */
	}
}

/* "2024-05-01T12:34:56.789Z" (UTC, milliseconds), or null for 0 (not recorded). */
static json_t *jv_time(int64_t unix_ns)
{
	int64_t sec = unix_ns / 1000000000, ns = unix_ns % 1000000000;
	char buf[64];
	struct tm tm;
	time_t t;
	size_t n;

	if (unix_ns == 0)
		return json_null();
	if (ns < 0) {
		ns += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm))
		return json_null();
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return json_null();
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(ns / 1000000));
	return json_string(buf);
}

static json_t *jv_machine(const struct ipcb_topo *topo, int *fail)
{
	json_t *m = json_object(), *caches;
	struct ipcb_topo_info ti;
	struct utsname u;
	char kernel[4 * sizeof(u.release) + 4];

	if (topo) {
		memset(&ti, 0, sizeof(ti));
		ipcb_topo_info(topo, &ti);
		ti.cpu_model[sizeof(ti.cpu_model) - 1] = '\0';
		put(m, "cpu_model", jv_text(ti.cpu_model), fail);
		put(m, "packages", json_integer(ti.packages), fail);
		put(m, "cores", json_integer(ti.cores), fail);
		put(m, "pus", json_integer(ti.pus), fail);
		put(m, "numa_nodes", json_integer(ti.numa_nodes), fail);
		caches = json_object();
		put(caches, "l1d_kib", json_integer(ti.l1d_kib), fail);
		put(caches, "l2_kib", json_integer(ti.l2_kib), fail);
		put(caches, "l3_kib", json_integer(ti.l3_kib), fail);
		put(caches, "l3_count", json_integer(ti.l3_count), fail);
		put(m, "caches", caches, fail);
		put(m, "synthetic", json_boolean(ti.synthetic), fail);
	} else {
		static const char *const keys[] = {
			"cpu_model", "packages", "cores", "pus", "numa_nodes", "caches", "synthetic",
		};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			put(m, keys[i], json_null(), fail);
	}
	if (uname(&u) == 0) {
		snprintf(kernel, sizeof(kernel), "%s %s %s %s", u.sysname, u.release, u.version,
			 u.machine);
		put(m, "kernel", jv_text(kernel), fail);
		put(m, "hostname", jv_text(u.nodename), fail);
	} else {
		put(m, "kernel", json_null(), fail);
		put(m, "hostname", json_null(), fail);
	}
	return m;
}

static json_t *jv_meta(const struct ipcb_run_meta *meta, const char *run_id, int *fail)
{
	json_t *root = json_object(), *build, *clock, *cases;

	put(root, "csv_schema", json_integer(IPCB_CSV_SCHEMA), fail);
	put(root, "metadata_schema", json_integer(IPCB_METADATA_SCHEMA), fail);
	put(root, "run_id", jv_text(meta->run_id ? meta->run_id : run_id), fail);
	put(root, "command_line", jv_text(meta->argv_joined), fail);

	build = json_object();
	put(build, "version", jv_text(meta->version), fail);
	put(build, "git_commit", jv_text(meta->git_commit), fail);
	put(build, "build_type", jv_text(meta->build_type), fail);
	put(build, "compiler", jv_text(meta->compiler), fail);
	put(build, "cflags", jv_text(meta->cflags), fail);
	put(build, "sanitizer", json_boolean(meta->sanitizer), fail);
	put(root, "build", build, fail);

	clock = json_object();
	put(clock, "name", jv_text(meta->clock), fail);
	put(clock, "cost_ns", jv_num(meta->clock_cost_ns), fail);
	put(clock, "resolution_ns", jv_num(meta->clock_resolution_ns), fail);
	put(root, "clock", clock, fail);

	put(root, "machine", jv_machine(meta->topo, fail), fail);
	put(root, "cores_note", jv_text(meta->cores_note), fail);
	put(root, "python_version", jv_text(meta->python_version), fail);
	/* What was counted per worker (perf.h; the probes are cached). */
	const char *hw = ipcb_perf_hw_unsupported();
	json_t *perf = json_object();
	put(perf, "cycles_instructions", jv_text(hw ? hw : "counted"), fail);
	put(perf, "migrations_by", jv_text(ipcb_perf_migr_method()), fail);
	put(root, "perf", perf, fail);
	json_t *run = json_object();
	put(run, "placement", jv_text(meta->placement), fail);
	put(run, "mode", jv_text(meta->mode), fail);
	put(run, "cpus", jv_text(meta->cpus), fail);
	put(root, "run", run, fail);

	struct ipcb_fingerprint fp;
	json_t *fj = json_object();
	ipcb_fingerprint_read(meta->topo, &fp);
	put(fj, "kernel_cmdline_flags", jv_text(fp.cmdline_flags), fail);
	put(fj, "transparent_hugepages", jv_text(fp.thp), fail);
	put(fj, "cpufreq_governor", jv_text(fp.governor), fail);
	put(fj, "turbo", jv_text(fp.turbo), fail);
	put(fj, "smt_control", jv_text(fp.smt), fail);
	put(fj, "cpus_allowed", jv_text(fp.cpus_allowed), fail);
	put(fj, "mems_allowed", jv_text(fp.mems_allowed), fail);
	put(fj, "cpu_kinds", json_integer(fp.cpukinds), fail);
	put(fj, "cpu_kinds_detail", jv_text(fp.cpukinds_desc), fail);
	put(fj, "topology_xml_sha256", jv_text(fp.topo_sha256), fail);
	put(root, "fingerprint", fj, fail);
	put(root, "start_time", jv_time(meta->start_unix_ns), fail);
	put(root, "end_time", jv_time(meta->end_unix_ns), fail);
	put(root, "start_unix_ns", json_integer(meta->start_unix_ns), fail);
	put(root, "end_unix_ns", json_integer(meta->end_unix_ns), fail);
	put(root, "partial", json_boolean(meta->partial), fail);

	cases = json_object();
	put(cases, "ok", json_integer(meta->cases_ok), fail);
	put(cases, "failed", json_integer(meta->cases_failed), fail);
	put(cases, "skipped", json_integer(meta->cases_skipped), fail);
	put(cases, "noisy", json_integer(meta->cases_noisy), fail);
	put(root, "cases", cases, fail);
	return root;
}

static int json_open(struct ipcb_sink_state **out, const char *dir, const char *run_id)
{
	struct ipcb_sink_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->dir = strdup(dir);
	st->run_id = run_id ? strdup(run_id) : NULL;
	if (!st->dir || (run_id && !st->run_id)) {
		free(st->dir);
		free(st->run_id);
		free(st);
		return -ENOMEM;
	}
	*out = st;
	return 0;
}

static int json_row(struct ipcb_sink_state *st, const struct ipcb_row *r)
{
	(void)st;
	(void)r;
	return 0;
}

static void json_state_free(struct ipcb_sink_state *st)
{
	free(st->dir);
	free(st->run_id);
	free(st);
}

static int json_close(struct ipcb_sink_state *st, const struct ipcb_run_meta *meta)
{
	struct ipcb_sink_file sf;
	json_t *root;
	int err, fail = 0;

	if (!meta) {
		json_state_free(st);
		return -EINVAL;
	}
	root = jv_meta(meta, st->run_id, &fail);
	if (fail) {
		err = -ENOMEM;
		goto out;
	}
	err = ipcb_sink_file_open(&sf, st->dir, "metadata.json");
	if (err)
		goto out;
	errno = 0;
	if (json_dumpf(root, sf.f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    putc('\n', sf.f) == EOF)
		err = errno ? -errno : -EIO;
	err = ipcb_sink_file_commit(&sf, err);
out:
	json_decref(root);
	json_state_free(st);
	return err;
}

static void json_abort(struct ipcb_sink_state *st)
{
	json_state_free(st);   /* nothing is written before close */
}

const struct ipcb_sink ipcb_sink_json = {
	.name = "json",
	.summary = "metadata.json: build, clock, machine and outcome counts of the run",
	.open = json_open,
	.row = json_row,
	.close = json_close,
	.abort = json_abort,
};
