// SPDX-License-Identifier: MIT
/*
 * Resolving options and planning cases. All validation happens here, before anything is
 * written, so bad input costs one line on stderr and exit code 2, and nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bench/pattern.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "msg.h"
#include "opt.h"
#include "plan.h"
#include "topo.h"

#define MAX_MSG_SIZE ((size_t)1 << 30)

static const size_t default_sizes[] = { 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576 };
static const size_t quick_sizes[] = { 64, 4096, 65536, 1048576 };

/* Check every name of a comma list against a lookup; err names the first unknown one. */
static int check_names(const char *list, const char *what, int (*known)(const char *),
		       void (*names)(char *, size_t), char *err, size_t errlen)
{
	char buf[64];
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(buf)) {
			snprintf(err, errlen, "ipcbench: empty or overlong %s name in '%s'", what, list);
			return -EINVAL;
		}
		memcpy(buf, p, len);
		buf[len] = 0;
		if (!known(buf)) {
			char all[512];
			names(all, sizeof(all));
			snprintf(err, errlen, "ipcbench: unknown %s '%s' (known: %s)", what, buf, all);
			return -EINVAL;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int known_pattern(const char *n) { return ipcb_pattern_find(n) != NULL; }
/* --mech names transports and sync primitives alike. */
static int known_transport(const char *n)
{
	return ipcb_transport_find(n) != NULL || ipcb_sync_find(n) != NULL;
}

static void pattern_names(char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (const struct ipcb_pattern *const *p = ipcb_patterns; *p && off < len; p++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", (*p)->name);
}

static void transport_names(char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (const struct ipcb_transport *const *t = ipcb_transports; *t && off < len; t++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", (*t)->name);
	for (const struct ipcb_sync *const *s = ipcb_syncs; *s && off < len; s++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", (*s)->name);
}

/* Would `dir` (existing or to be created) be writable? Creates nothing. */
static int check_out_dir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;

	if (strlen(dir) >= sizeof(path) - 1) {
		snprintf(err, errlen, "ipcbench: --out: path too long");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		if (stat(path, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "ipcbench: --out %s: %s is not a directory", dir, path);
				return -EINVAL;
			}
			if (access(path, W_OK | X_OK) != 0) {
				snprintf(err, errlen, "ipcbench: --out %s: %s is not writable", dir, path);
				return -EINVAL;
			}
			return 0;
		}
		if (errno != ENOENT) {
			snprintf(err, errlen, "ipcbench: --out %s: %s: %s", dir, path, strerror(errno));
			return -EINVAL;
		}
		char *slash = strrchr(path, '/');
		if (!slash) {
			snprintf(path, sizeof(path), ".");
		} else if (slash == path) {
			path[1] = 0;
		} else {
			*slash = 0;
		}
	}
}

int ipcb_config_resolve(struct ipcb_config *cfg, const struct ipcb_topo *topo, char *err,
			size_t errlen)
{
	int npus = ipcb_topo_npus(topo);
	int rc;

	if (cfg->benches && check_names(cfg->benches, "bench", known_pattern, pattern_names, err,
					errlen) < 0)
		return -EINVAL;
	if (cfg->mechs && check_names(cfg->mechs, "mechanism", known_transport, transport_names,
				      err, errlen) < 0)
		return -EINVAL;
	for (const struct ipcb_pattern *const *p = ipcb_patterns; *p; p++)
		if ((*p)->check && (*p)->check(cfg, err, errlen) < 0)
			return -EINVAL;

	/* sizes */
	if (cfg->sizes) {
		rc = ipcb_parse_sizes(cfg->sizes, cfg->size_list, IPCB_MAX_SIZES, &cfg->n_sizes);
		if (rc == -E2BIG) {
			snprintf(err, errlen, "ipcbench: --sizes: more than %d sizes", IPCB_MAX_SIZES);
			return -EINVAL;
		}
		if (rc < 0) {
			snprintf(err, errlen, "ipcbench: --sizes: '%s' is not a list of sizes in bytes "
				 "(e.g. 64,4K,1M)", cfg->sizes);
			return -EINVAL;
		}
		for (int i = 0; i < cfg->n_sizes; i++)
			if (cfg->size_list[i] < IPCB_MSG_MIN || cfg->size_list[i] > MAX_MSG_SIZE) {
				snprintf(err, errlen, "ipcbench: --sizes: %zu is out of range (each size "
					 "must be %u bytes .. 1G)", cfg->size_list[i], IPCB_MSG_MIN);
				return -EINVAL;
			}
	} else {
		const size_t *src = cfg->quick ? quick_sizes : default_sizes;
		int n = cfg->quick ? (int)(sizeof(quick_sizes) / sizeof(quick_sizes[0]))
				   : (int)(sizeof(default_sizes) / sizeof(default_sizes[0]));
		memcpy(cfg->size_list, src, (size_t)n * sizeof(size_t));
		cfg->n_sizes = n;
	}

	/* times */
	if (!cfg->reps)
		cfg->reps = cfg->quick ? 3 : 5;
	if (!(cfg->duration_s > 0))
		cfg->duration_s = cfg->quick ? 0.1 : 0.5;
	if (cfg->warmup_s < 0)
		cfg->warmup_s = cfg->quick ? 0.05 : 0.1;
	cfg->duration_ns = (uint64_t)(cfg->duration_s * 1e9);
	cfg->warmup_ns = (uint64_t)(cfg->warmup_s * 1e9);
	if (!(cfg->timeout_s > 0))
		cfg->timeout_s = 10 + 5 * (cfg->duration_s + cfg->warmup_s);
	cfg->timeout_ns = (uint64_t)(cfg->timeout_s * 1e9);
	if (!(cfg->noise > 0))
		cfg->noise = 0.10;

	cfg->thread_mode = cfg->mode && strcmp(cfg->mode, "thread") == 0;
	cfg->topo = topo;
	cfg->verify_full = cfg->verify && strcmp(cfg->verify, "full") == 0;
	if (!cfg->placement)
		cfg->placement = "compact";
	if (!cfg->out)
		cfg->out = "results";
	if (check_out_dir(cfg->out, err, errlen) < 0)
		return -EINVAL;

	/* memory policy */
	if (ipcb_mem_parse(cfg->mem ? cfg->mem : "local", &cfg->mem_req) < 0) {
		snprintf(err, errlen, "ipcbench: --mem: '%s' is not local, interleave or node=N",
			 cfg->mem);
		return -EINVAL;
	}
	char why[160];
	if (ipcb_mem_check(&cfg->mem_req, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "ipcbench: --mem %s: %s", cfg->mem, why);
		return -EINVAL;
	}

	/* CPUs */
	cfg->cores_note[0] = 0;
	if (cfg->cpus) {
		int n = ipcb_cpulist_parse(cfg->cpus, cfg->cpu_list, IPCB_MAX_WORKERS);
		if (n <= 0) {
			snprintf(err, errlen, "ipcbench: --cpus: '%s' is not a CPU list (e.g. 0,1 or "
				 "0-3 or 0,0)%s", cfg->cpus, n == -E2BIG ? ": too many CPUs" : "");
			return -EINVAL;
		}
		for (int i = 0; i < n; i++)
			if (!ipcb_topo_has_pu(topo, cfg->cpu_list[i])) {
				int pus[IPCB_MAX_WORKERS];
				char have[256];
				int k = ipcb_topo_pus(topo, pus, IPCB_MAX_WORKERS);
				ipcb_cpulist_format(pus, k, have, sizeof(have));
				snprintf(err, errlen, "ipcbench: --cpus: CPU %d does not exist or is not "
					 "allowed here (allowed: %s)", cfg->cpu_list[i], have);
				return -EINVAL;
			}
		if (cfg->cores && cfg->cores != n) {
			snprintf(err, errlen, "ipcbench: --cores %d disagrees with --cpus (%d CPUs): "
				 "give one of them", cfg->cores, n);
			return -EINVAL;
		}
		cfg->n_cpus = n;
		cfg->budget = n;
		cfg->explicit_cpus = 1;
		cfg->placement = "list";
		return 0;
	}

	/* "classes": two-worker cases run once per CPU relation (ipcb_plan_build); the rest
	 * use the compact order. */
	cfg->classes = strcmp(cfg->placement, "classes") == 0;
	const struct ipcb_placement *pl = ipcb_placement_find(cfg->classes ? "compact"
									   : cfg->placement);
	if (!pl) {
		snprintf(err, errlen, "ipcbench: --placement: unknown policy '%s'", cfg->placement);
		return -EINVAL;
	}
	int want = cfg->cores ? cfg->cores : npus;
	if (want > npus && !cfg->oversubscribe) {
		snprintf(cfg->cores_note, sizeof(cfg->cores_note),
			 "--cores %d: this machine allows %d CPUs; clamped to %d (use --oversubscribe "
			 "to run up to %d workers on %d CPUs)", want, npus, npus, want, npus);
		want = npus;
	} else if (want > npus) {
		snprintf(cfg->cores_note, sizeof(cfg->cores_note),
			 "--cores %d --oversubscribe: up to %d workers share %d CPUs round-robin",
			 want, want, npus);
	}
	cfg->budget = want;
	cfg->n_cpus = want;
	rc = pl->place(topo, want, cfg->cpu_list);
	if (rc < 0) {
		snprintf(err, errlen, "ipcbench: --placement %s: cannot place %d workers: %s",
			 cfg->placement, want, strerror(-rc));
		return -EINVAL;
	}
	if (cfg->unpinned)
		cfg->placement = "unpinned";
	return 0;
}

static int in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list)
		return 1;
	while (p) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		if (l == len && strncmp(p, name, len) == 0)
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

static void caps_missing(uint32_t missing, char *buf, size_t len)
{
	static const char *names[] = { "stream", "datagram", "duplex", "multi-producer",
				       "multi-consumer", "named", "lossy", "one-in-flight" };
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < 8; i++)
		if (missing & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "+" : "", names[i]);
}

static void place_workers(const struct ipcb_config *cfg, struct ipcb_case *c)
{
	if (c->skip[0] || c->cpus_fixed)
		return;
	if (c->nworkers > cfg->budget) {
		snprintf(c->skip, sizeof(c->skip), "needs %d workers, the CPU budget is %d (raise "
			 "--cores, add --oversubscribe)", c->nworkers, cfg->budget);
		return;
	}
	for (int i = 0; i < c->nworkers; i++)
		c->cpus[i] = cfg->unpinned ? -1 : cfg->cpu_list[i % cfg->n_cpus];
}

/* The cases of a uses_sync pattern: one per fitting primitive (any of p->sync_needs) and
 * variant of the pattern (the sync patterns' variants are their worker counts, see
 * ipcb_sync_sweep_workers). Appends to *v. Returns 0 or -ENOMEM. */
static int plan_sync(const struct ipcb_config *cfg, const struct ipcb_pattern *p,
		     struct ipcb_case **v, int *n, int *cap)
{
	int nvar = p->variants ? p->variants(cfg) : 1;

	for (const struct ipcb_sync *const *sp = ipcb_syncs; *sp; sp++) {
		const struct ipcb_sync *s = *sp;
		if (!in_list(cfg->mechs, s->name) || !(s->caps & p->sync_needs))
			continue;
		for (int vi = 0; vi < nvar; vi++) {
			if (*n == *cap) {
				struct ipcb_case *nv = realloc(*v, (size_t)*cap * 2 * sizeof(**v));
				if (!nv)
					return -ENOMEM;
				*v = nv;
				*cap *= 2;
			}
			struct ipcb_case *c = &(*v)[*n];
			const char *no = s->unsupported ? s->unsupported() : NULL;
			memset(c, 0, sizeof(*c));
			c->pat = p;
			c->sy = s;
			c->cfg = cfg;
			c->ncpus = cfg->budget;
			c->variant = vi;
			c->nworkers = 1;
			snprintf(c->label, sizeof(c->label), "%s %s", p->name, s->name);
			snprintf(c->params, sizeof(c->params), "warmup_s=%g;duration_s=%g",
				 cfg->warmup_s, cfg->duration_s);
			/* plan() first: it sets the layout (and the label) even of a skipped case. */
			char why[160] = "";
			int rc = p->plan(c, why, sizeof(why));
			if (rc == -ENOENT)
				continue;   /* no such case: no row */
			if (no)
				snprintf(c->skip, sizeof(c->skip), "%s", no);
			else if ((s->caps & IPCB_SYNC_PERPROC) && cfg->thread_mode)
				snprintf(c->skip, sizeof(c->skip), "%s locks belong to the process: "
					 "threads of one process do not exclude each other", s->name);
			else if (rc < 0)
				snprintf(c->skip, sizeof(c->skip), "%s", why[0] ? why : "not applicable");
			place_workers(cfg, c);
			(*n)++;
		}
	}
	return 0;
}

/*
 * --placement classes: every runnable two-worker case becomes one case per relation of two
 * CPUs present on this machine (same PU, SMT siblings, same L2, same L3, same package,
 * other NUMA node, other package), each on a representative pair, labelled and with
 * class=<relation> in its params. Cases of other sizes keep their compact CPUs.
 */
static int expand_classes(const struct ipcb_config *cfg, struct ipcb_case **vp, int n)
{
	int pairs[IPCB_NREL][2], k, m = 0;
	enum ipcb_relation rels[IPCB_NREL];
	struct ipcb_case *v = *vp, *nv;

	k = ipcb_topo_class_pairs(cfg->topo, pairs, rels);
	nv = malloc((size_t)(n * (k > 0 ? k : 1)) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (v[i].skip[0] || v[i].nworkers != 2 || v[i].cpus_fixed || k == 0) {
			nv[m++] = v[i];
			continue;
		}
		for (int j = 0; j < k; j++) {
			struct ipcb_case *c = &nv[m++];
			size_t l;
			*c = v[i];
			c->cpus[0] = pairs[j][0];
			c->cpus[1] = pairs[j][1];
			c->cpus_fixed = 1;
			l = strlen(c->label);
			snprintf(c->label + l, sizeof(c->label) - l, " [%s]",
				 ipcb_relation_name(rels[j]));
			l = strlen(c->params);
			snprintf(c->params + l, sizeof(c->params) - l, "%sclass=%s", l ? ";" : "",
				 ipcb_relation_name(rels[j]));
		}
	}
	free(v);
	*vp = nv;
	return m;
}

int ipcb_plan_build(const struct ipcb_config *cfg, struct ipcb_case **out)
{
	int cap = 64, n = 0;
	struct ipcb_case *v = malloc((size_t)cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (const struct ipcb_pattern *const *pp = ipcb_patterns; *pp; pp++) {
		const struct ipcb_pattern *p = *pp;
		if (!in_list(cfg->benches, p->name))
			continue;
		if (p->uses_sync) {
			if (plan_sync(cfg, p, &v, &n, &cap) < 0) {
				free(v);
				return -ENOMEM;
			}
			continue;
		}
		const struct ipcb_transport *const *tp = ipcb_transports;
		for (; p->uses_transport ? *tp != NULL : tp == ipcb_transports; tp++) {
			const struct ipcb_transport *t = p->uses_transport ? *tp : NULL;
			if (t && !in_list(cfg->mechs, t->name))
				continue;
			int nsz = p->sized ? cfg->n_sizes : 1;
			int nvar = p->variants ? p->variants(cfg) : 1;   /* the pattern's sweep */
			for (int si = 0; si < nsz * nvar; si++) {
				if (n == cap) {
					struct ipcb_case *nv = realloc(v, (size_t)cap * 2 * sizeof(*v));
					if (!nv) {
						free(v);
						return -ENOMEM;
					}
					v = nv;
					cap *= 2;
				}
				struct ipcb_case *c = &v[n];
				memset(c, 0, sizeof(*c));
				c->pat = p;
				c->tr = t;
				c->cfg = cfg;
				c->size = p->sized ? cfg->size_list[si / nvar] : 0;
				c->variant = si % nvar;
				c->ncpus = cfg->budget;
				snprintf(c->label, sizeof(c->label), "%s%s%s", p->name, t ? " " : "",
					 t ? t->name : "");
				if (p->sized) {
					size_t l = strlen(c->label);
					snprintf(c->label + l, sizeof(c->label) - l, " %zuB", c->size);
				}
				snprintf(c->params, sizeof(c->params), "verify=%s;warmup_s=%g;duration_s=%g",
					 cfg->verify_full ? "full" : "sparse", cfg->warmup_s,
					 cfg->duration_s);
				if (cfg->rate > 0 && strcmp(p->name, "pingpong") == 0) {
					size_t l = strlen(c->params);
					snprintf(c->params + l, sizeof(c->params) - l, ";rate_per_s=%g",
						 cfg->rate);
				}
				if (t) {
					uint32_t missing = p->needs & ~t->caps;
					uint32_t excluded = p->excludes & t->caps;
					const char *why = t->unsupported ? t->unsupported() : NULL;
					if (excluded) {
						if (!cfg->mechs)
							continue;
						char caps[96];
						caps_missing(excluded, caps, sizeof(caps));
						snprintf(c->skip, sizeof(c->skip), "%s is %s, which %s cannot use",
							 t->name, caps, p->name);
					} else if (missing) {
						/* Only worth a row when the user named this mechanism. */
						if (!cfg->mechs)
							continue;
						char caps[96];
						caps_missing(missing, caps, sizeof(caps));
						snprintf(c->skip, sizeof(c->skip), "%s lacks %s, which %s needs",
							 t->name, caps, p->name);
					} else if (why) {
						snprintf(c->skip, sizeof(c->skip), "%s", why);
					} else if (t->max_msg && c->size > t->max_msg) {
						snprintf(c->skip, sizeof(c->skip), "message size %zu exceeds %s's "
							 "limit of %zu bytes", c->size, t->name, t->max_msg);
					}
				}
				/* The transport's own reason is the same for every variant: one row. */
				if (c->skip[0] && c->variant > 0)
					continue;
				if (!c->skip[0]) {
					char why[160] = "";
					int rc = p->plan(c, why, sizeof(why));
					if (rc < 0)
						snprintf(c->skip, sizeof(c->skip), "%s",
							 why[0] ? why : "not applicable");
				}
				place_workers(cfg, c);
				n++;
			}
		}
	}
	if (cfg->classes && !cfg->unpinned) {
		int m = expand_classes(cfg, &v, n);
		if (m < 0) {
			free(v);
			return m;
		}
		n = m;
	}
	*out = v;
	return n;
}
