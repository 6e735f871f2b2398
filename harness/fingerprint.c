// SPDX-License-Identifier: MIT
/* The machine fingerprint (see fingerprint.h). */
#include <hwloc.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "fingerprint.h"
#include "topo.h"

/* First line of a file, trimmed; "unreadable" when it cannot be read. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "unreadable");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	else
		snprintf(buf, len, "unreadable");
	fclose(f);
}

/* "always [madvise] never" -> "madvise" */
static void selected(char *buf)
{
	char *l = strchr(buf, '['), *r = l ? strchr(l, ']') : NULL;

	if (l && r) {
		memmove(buf, l + 1, (size_t)(r - l - 1));
		buf[r - l - 1] = 0;
	}
}

static void cmdline_flags(char *out, size_t len)
{
	static const char *const keys[] = { "isolcpus=", "nohz_full=", "rcu_nocbs=", "mitigations=",
					    "idle=", "intel_pstate=", "processor.max_cstate=",
					    "nosmt", "transparent_hugepage=", "default_hugepagesz=" };
	char line[4096], *tok, *save;
	size_t off = 0;
	FILE *f = fopen("/proc/cmdline", "r");

	snprintf(out, len, "unreadable");
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return;
	}
	fclose(f);
	out[0] = 0;
	for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(tok, keys[i], strlen(keys[i])) == 0 && off < len)
				off += (size_t)snprintf(out + off, len - off, "%s%s", off ? " " : "", tok);
	if (!out[0])
		snprintf(out, len, "none");
}

static void status_field(const char *key, char *out, size_t len)
{
	char line[1024];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	snprintf(out, len, "unreadable");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(out, len, "%s", v);
			break;
		}
	fclose(f);
}

static void topo_digest(hwloc_topology_t h, char *out, size_t len)
{
	char *xml = NULL;
	int xlen = 0;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	snprintf(out, len, "unavailable");
	if (hwloc_topology_export_xmlbuffer(h, &xml, &xlen, 0) < 0 || !xml)
		return;
	if (EVP_Digest(xml, (size_t)xlen, md, &mdlen, EVP_sha256(), NULL) == 1 && len > 2 * mdlen)
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(out + 2 * i, len - 2 * i, "%02x", md[i]);
	hwloc_free_xmlbuffer(h, xml);
}

static void cpu_kinds(hwloc_topology_t h, int *n, char *out, size_t len)
{
	int nr = hwloc_cpukinds_get_nr(h, 0);
	size_t off = 0;

	*n = nr > 0 ? nr : 0;
	out[0] = 0;
	for (int k = 0; k < nr && off < len; k++) {
		hwloc_bitmap_t set = hwloc_bitmap_alloc();
		struct hwloc_info_s *infos = NULL;
		unsigned ninfos = 0;
		int eff = -1;
		char *list = NULL;
		const char *type = "";

		if (!set)
			break;
		if (hwloc_cpukinds_get_info(h, (unsigned)k, set, &eff, &ninfos, &infos, 0) == 0) {
			for (unsigned i = 0; i < ninfos; i++)
				if (!strcmp(infos[i].name, "CoreType") || !strcmp(infos[i].name, "FrequencyMaxMHz"))
					type = infos[i].value;
			hwloc_bitmap_list_asprintf(&list, set);
			off += (size_t)snprintf(out + off, len - off, "%s%s:%s(efficiency %d)",
						off ? ";" : "", list ? list : "?", type, eff);
			free(list);
		}
		hwloc_bitmap_free(set);
	}
}

void ipcb_fingerprint_read(const struct ipcb_topo *t, struct ipcb_fingerprint *fp)
{
	char a[32];

	memset(fp, 0, sizeof(*fp));
	cmdline_flags(fp->cmdline_flags, sizeof(fp->cmdline_flags));
	read_line("/sys/kernel/mm/transparent_hugepage/enabled", fp->thp, sizeof(fp->thp));
	selected(fp->thp);
	read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", fp->governor,
		  sizeof(fp->governor));
	read_line("/sys/devices/system/cpu/cpufreq/boost", a, sizeof(a));
	if (strcmp(a, "unreadable") != 0) {
		snprintf(fp->turbo, sizeof(fp->turbo), "boost=%s", a);
	} else {
		read_line("/sys/devices/system/cpu/intel_pstate/no_turbo", a, sizeof(a));
		snprintf(fp->turbo, sizeof(fp->turbo), "%s%s",
			 strcmp(a, "unreadable") ? "no_turbo=" : "", a);
	}
	read_line("/sys/devices/system/cpu/smt/control", fp->smt, sizeof(fp->smt));
	status_field("Cpus_allowed_list", fp->cpus_allowed, sizeof(fp->cpus_allowed));
	status_field("Mems_allowed_list", fp->mems_allowed, sizeof(fp->mems_allowed));
	if (t) {
		hwloc_topology_t h = ipcb_topo_hwloc(t);
		topo_digest(h, fp->topo_sha256, sizeof(fp->topo_sha256));
		cpu_kinds(h, &fp->cpukinds, fp->cpukinds_desc, sizeof(fp->cpukinds_desc));
	} else {
		snprintf(fp->topo_sha256, sizeof(fp->topo_sha256), "unavailable");
	}
}
