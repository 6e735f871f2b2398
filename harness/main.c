// SPDX-License-Identifier: MIT
/*
 * ipcbench: the command line. Parses, validates everything before touching the disk, then
 * dispatches: run (default), list, topo, calibrate, plot, micro (execs ipcbench-micro; an
 * --all run also runs it, see runner.c), and the post-processing on files: report, compare
 * (exit 1 on a regression). Only this file chooses exit codes:
 * 0 success, 1 a case FAILED or results could not be written, 2 bad input, 128+N on signal N.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../bench/micro/micro_run.h"
#include "../bench/pattern.h"
#include "../ipc/names.h"
#include "../ipc/transport.h"
#include "../sync/sync.h"
#include "clock.h"
#include "compare.h"
#include "syslimits.h"
#include "opt.h"
#include "plan.h"
#include "plot.h"
#include "report.h"
#include "runner.h"
#include "rundir.h"
#include "stress.h"
#include "topo.h"

#ifndef IPCB_PLOTS_DIR
#define IPCB_PLOTS_DIR "plots"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipcbench [run] [BENCH,...] [options]   measure (default command)\n"
		"       ipcbench list                          benches, mechanisms, placements\n"
		"       ipcbench topo [--cores N ...]          machine topology and placement plan\n"
		"       ipcbench calibrate                     cost and resolution of the clock\n"
		"       ipcbench plot RUN_DIR                  (re)make the plots of a run\n"
		"       ipcbench report RUN [RUN...] [--out D] report.md + report.html; several\n"
		"                                              runs: a platform comparison\n"
		"       ipcbench compare BASE NEW [--threshold 5%%] [--metric A,B] [--md FILE]\n"
		"                                              regression verdicts; exit 1 on a\n"
		"                                              regression (compare --help)\n"
		"       ipcbench stress [--duration 60s] [--inject KINDS --inject-rate N/s]\n"
		"                                              long mixed run, integrity totals,\n"
		"                                              fault injection (--quick: 10 s)\n"
		"       ipcbench micro [--benchmark_...]       microbenchmarks of the primitives\n"
		"                                              (Google Benchmark; its flags, --help)\n"
		"\n"
		"A run writes RESULTS/<run-id>/results.csv (one row per case, repetition and\n"
		"metric, see results/README.md), metadata.json and plots/; RESULTS/latest points\n"
		"to it. Exit status: 0 all cases passed (NOISY and SKIPPED included), 1 a case\n"
		"FAILED, 2 bad input, 130/143 interrupted (rows so far kept, marked partial).\n"
		"\noptions:\n");
	ipcb_opt_help(f);
	fprintf(f, "  %-30s %s\n  %-30s %s\n", "--help", "this text", "--version",
		"version, commit and build");
}

static const char *sanitizer_name(void)
{
	return IPCB_SANITIZER[0] ? IPCB_SANITIZER : NULL;
}

static int cmd_list(void)
{
	printf("benches:\n");
	for (const struct ipcb_pattern *const *p = ipcb_patterns; *p; p++)
		printf("  %-22s %s\n", (*p)->name, (*p)->summary);
	printf("mechanisms:\n");
	for (const struct ipcb_transport *const *t = ipcb_transports; *t; t++) {
		const char *why = (*t)->unsupported ? (*t)->unsupported() : NULL;
		printf("  %-22s %s%s%s%s\n", (*t)->name, (*t)->summary,
		       why ? "  [unavailable here: " : "", why ? why : "", why ? "]" : "");
	}
	printf("sync primitives (--mech for counter, value, wakeup):\n");
	for (const struct ipcb_sync *const *s = ipcb_syncs; *s; s++) {
		const char *why = (*s)->unsupported ? (*s)->unsupported() : NULL;
		printf("  %-22s %s%s%s%s\n", (*s)->name, (*s)->summary,
		       why ? "  [unavailable here: " : "", why ? why : "", why ? "]" : "");
	}
	printf("placements:\n");
	for (const struct ipcb_placement *const *p = ipcb_placements; *p; p++)
		printf("  %-22s %s\n", (*p)->name, (*p)->summary);
	return 0;
}

static int cmd_calibrate(void)
{
	struct ipcb_clock_cal cal;

	ipcb_clock_calibrate(&cal);
	printf("clock:            %s\n", IPCB_CLOCK_NAME);
	printf("cost of a read:   %.1f ns (median of 41 rounds of 2000 reads; p90 %.1f ns)\n",
	       cal.cost_ns, cal.cost_p90_ns);
	printf("resolution:       %.0f ns (clock_getres); smallest step seen %.0f ns\n",
	       cal.resolution_ns, cal.min_step_ns);
	printf("batching:         operations shorter than %.0f ns are timed in batches so the\n"
	       "                  clock stays under 2%% of a sample\n", 2 * cal.cost_ns / 0.02);
	return 0;
}

static int cmd_topo(const struct ipcb_config *cfg, const struct ipcb_topo *topo)
{
	char buf[1024];

	ipcb_topo_print(topo, stdout);
	printf("\nplacement plan for %d workers (%s):\n", cfg->budget, cfg->placement);
	ipcb_cpulist_format(cfg->cpu_list, cfg->n_cpus, buf, sizeof(buf));
	printf("  CPUs in worker order: %s\n", buf);
	if (!cfg->explicit_cpus)
		for (const struct ipcb_placement *const *p = ipcb_placements; *p; p++) {
			int cpus[IPCB_MAX_WORKERS];
			if ((*p)->place(topo, cfg->budget, cpus) < 0)
				continue;
			ipcb_cpulist_format(cpus, cfg->budget, buf, sizeof(buf));
			printf("  %-8s %s\n", (*p)->name, buf);
		}
	if (cfg->cores_note[0])
		printf("  note: %s\n", cfg->cores_note);
	struct ipcb_limits lim;
	ipcb_limits_read(&lim);
	printf("\n");
	ipcb_limits_print(&lim, stdout);
	return 0;
}

static int cmd_run(struct ipcb_config *cfg, const struct ipcb_topo *topo, int argc, char **argv)
{
	static struct ipcb_rundir rd;
	struct ipcb_case *cases;
	int n, rc;

	n = ipcb_plan_build(cfg, &cases);
	if (n < 0) {
		fprintf(stderr, "ipcbench: planning failed: %s\n", strerror(-n));
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "ipcbench: nothing to run: no bench fits the selected mechanisms\n");
		free(cases);
		return 2;
	}
	if (cfg->cores_note[0])
		fprintf(stderr, "ipcbench: %s\n", cfg->cores_note);
	if (sanitizer_name())
		fprintf(stderr, "ipcbench: WARNING: this is a %s sanitizer build: its numbers are "
			"not representative\n", sanitizer_name());
	else if (strcmp(IPCB_BUILD_TYPE, "Debug") == 0)
		fprintf(stderr, "ipcbench: WARNING: this is a Debug build: its numbers are not "
			"representative\n");

	if (ipcb_rundir_begin(&rd, cfg, topo, argc, argv) < 0) {
		free(cases);
		return 2;
	}
	int nrun = 0;
	for (int i = 0; i < n; i++)
		nrun += !cases[i].skip[0];
	fprintf(stderr, "ipcbench: run %s: %d cases (%d to run) x %d repetitions, %s mode, "
		"CPUs in worker order %s (%s), clock %s (%.0f ns a read)\n", rd.run_id, n, nrun,
		cfg->reps, cfg->thread_mode ? "thread" : "process",
		cfg->explicit_cpus ? cfg->cpus : rd.cpus, cfg->placement, IPCB_CLOCK_NAME,
		rd.cal.cost_ns);

	rc = ipcb_run(cfg, topo, cases, n, rd.dir, &rd.meta);
	free(cases);
	ipcb_rundir_link_latest(&rd, cfg);

	if (!cfg->no_plots && !rd.meta.partial) {
		char err[512];
		const char *src = getenv("IPCBENCH_PLOTS_DIR");
		int prc = ipcb_plot_run(rd.dir, src ? src : IPCB_PLOTS_DIR, err, sizeof(err));
		if (prc < 0)
			fprintf(stderr, "ipcbench: %s\n", err);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct ipcb_config cfg;
	struct ipcb_topo *topo = NULL;
	char err[1024], *pos[8];
	int npos, first = 1, rc;
	const char *cmd = "run";

	/* Everything after "micro" is Google Benchmark's: ipcbench-micro parses it. */
	if (argc > 1 && !strcmp(argv[1], "micro"))
		return ipcb_micro_exec(argc - 1, argv + 1);
	/* compare and report read result files only and take their own options */
	if (argc > 1 && !strcmp(argv[1], "compare"))
		return (int)ipcb_compare_cmd(argc - 1, argv + 1);   /* 0, 1 regression, 2 input */
	if (argc > 1 && !strcmp(argv[1], "report")) {
		const char *src = getenv("IPCBENCH_PLOTS_DIR");

		return ipcb_report_cmd(argc - 1, argv + 1, src ? src : IPCB_PLOTS_DIR);
	}
	if (argc > 1 && argv[1][0] != '-') {
		if (!strcmp(argv[1], "run") || !strcmp(argv[1], "list") || !strcmp(argv[1], "topo") ||
		    !strcmp(argv[1], "calibrate") || !strcmp(argv[1], "plot") ||
		    !strcmp(argv[1], "stress")) {
			cmd = argv[1];
			first = 2;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) 
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("ipcbench %s (commit %s, %s build, %s%s%s)\n", IPCB_VERSION,
			       IPCB_GIT_COMMIT, IPCB_BUILD_TYPE, IPCB_COMPILER,
			       sanitizer_name() ? ", sanitizer " : "",
			       sanitizer_name() ? sanitizer_name() : "");
			return 0;
		}
	}

	ipcb_config_defaults(&cfg);
	if (ipcb_opt_parse(&cfg, argc, argv, first, pos, 8, &npos, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (!strcmp(cmd, "list"))
		return npos ? (fprintf(stderr, "ipcbench: list takes no arguments\n"), 2) : cmd_list();
	if (!strcmp(cmd, "calibrate"))
		return npos ? (fprintf(stderr, "ipcbench: calibrate takes no arguments\n"), 2)
			    : cmd_calibrate();
	if (!strcmp(cmd, "plot")) {
		if (npos != 1) {
			fprintf(stderr, "ipcbench: plot needs one run directory\n");
			return 2;
		}
		const char *src = getenv("IPCBENCH_PLOTS_DIR");
		rc = ipcb_plot_run(pos[0], src ? src : IPCB_PLOTS_DIR, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "ipcbench: %s\n", err);
			return rc == -ENOENT && strstr(err, "gnuplot") ? 0 : 2;
		}
		printf("plots written to %s/plots\n", pos[0]);
		return 0;
	}
	if (!strcmp(cmd, "run")) {
		if (npos > 1) {
			fprintf(stderr, "ipcbench: run takes one list of benches, got '%s' and '%s'\n",
				pos[0], pos[1]);
			return 2;
		}
		if (npos == 1) {
			if (cfg.benches) {
				fprintf(stderr, "ipcbench: benches given twice ('%s' and --bench %s)\n",
					pos[0], cfg.benches);
				return 2;
			}
			cfg.benches = pos[0];
		}
		if (cfg.python) {
			if (cfg.benches && strcmp(cfg.benches, "python") != 0) {
				fprintf(stderr, "ipcbench: --python selects the python bench; drop '%s' "
					"or --python\n", cfg.benches);
				return 2;
			}
			cfg.benches = "python";
		}
		if (cfg.all && (cfg.benches || cfg.mechs)) {
			fprintf(stderr, "ipcbench: --all runs everything: drop the bench or --mech "
				"selection, or drop --all\n");
			return 2;
		}
		if (!cfg.all && !cfg.benches && !cfg.mechs) {
			fprintf(stderr, "ipcbench: say what to run: --all, a bench list (ipcbench run "
				"pingpong) or --mech LIST (see ipcbench list, ipcbench --help)\n");
			return 2;
		}
	} else if (!strcmp(cmd, "stress")) {
		if (npos) {
			fprintf(stderr, "ipcbench: stress takes no arguments (choose with --mech)\n");
			return 2;
		}
		if (ipcb_stress_prepare(&cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
	} else if (npos) {
		fprintf(stderr, "ipcbench: %s takes no arguments\n", cmd);
		return 2;
	}

	cfg.progress = 0;
	if (!cfg.progress_s || !strcmp(cfg.progress_s, "auto"))
		cfg.progress = isatty(2) ? 2 : 1;
	else if (!strcmp(cfg.progress_s, "on"))
		cfg.progress = isatty(2) ? 2 : 1;

	if ((cfg.inject || cfg.inject_rate > 0 || ipcb_stress_opts_given()) &&
	    strcmp(cmd, "stress") != 0) {
		fprintf(stderr, "ipcbench: --inject, --inject-rate and --stress-lanes belong to "
			"ipcbench stress\n");
		return 2;
	}
	if (ipcb_fault_from_env() < 0) {
		fprintf(stderr, "ipcbench: IPCBENCH_TEST_FAULT: expected drop@N, dup@N or corrupt@N\n");
		return 2;
	}
	rc = ipcb_topo_load(&topo, NULL);
	if (rc < 0) {
		fprintf(stderr, "ipcbench: cannot read the machine topology (hwloc): %s\n",
			strerror(-rc));
		return 1;
	}
	if (ipcb_config_resolve(&cfg, topo, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		ipcb_topo_free(topo);
		return 2;
	}
	if (!strcmp(cmd, "topo")) {
		rc = cmd_topo(&cfg, topo);
	} else {
		ipcb_signals_install();
		int swept = ipcb_names_sweep_stale();
		if (swept > 0)
			fprintf(stderr, "ipcbench: removed %d IPC objects left by earlier runs that "
				"died\n", swept);
		rc = !strcmp(cmd, "stress") ? ipcb_stress_cmd(&cfg, topo, argc, argv)
					    : cmd_run(&cfg, topo, argc, argv);
		if (ipcb_names_cleanup() > 0 && rc == 0)
			rc = 1;
	}
	if (!ipcb_fatal_hang)
		ipcb_topo_free(topo);
	return rc;
}
