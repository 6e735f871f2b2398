/* SPDX-License-Identifier: MIT */
/*
 * Machine fingerprint for metadata.json: what decides whether two runs are comparable
 * beyond the CPU model. Everything is read from /proc, /sys and hwloc; what cannot be read
 * says "unreadable" (containers and VMs hide much of it), never a guess.
 */
#ifndef IPCB_FINGERPRINT_H
#define IPCB_FINGERPRINT_H

struct ipcb_topo;

struct ipcb_fingerprint {
	char cmdline_flags[256];   /* isolcpus=, nohz_full=, mitigations=, ... or "none" */
	char thp[48];              /* transparent_hugepage/enabled, the selected value */
	char governor[48];         /* cpufreq governor of CPU 0 */
	char turbo[80];            /* boost / no_turbo state */
	char smt[48];              /* /sys/devices/system/cpu/smt/control */
	char cpus_allowed[256];    /* Cpus_allowed_list of this process (cgroup cpuset, taskset) */
	char mems_allowed[128];
	int cpukinds;              /* hwloc CPU kinds (2+ on hybrid CPUs); 0 when unknown */
	char cpukinds_desc[256];   /* "0-3:P-core;4-7:E-core" style, or "" */
	char topo_sha256[65];      /* SHA-256 of hwloc's XML export of the topology */
};

void ipcb_fingerprint_read(const struct ipcb_topo *t, struct ipcb_fingerprint *fp);

#endif
