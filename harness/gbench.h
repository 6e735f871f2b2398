/* SPDX-License-Identifier: MIT */
/*
 * Google Benchmark for C: the only header C benchmark code includes. A benchmark is a
 * static struct ipcb_gbench_def (name, run function, arguments, timing options) given to
 * ipcb_gbench_register(); ipcb_gbench_main() then runs what Google Benchmark's own flags
 * select (--benchmark_filter, --benchmark_min_time, --benchmark_out, ...: all passed
 * through). Two implementations sit behind it, chosen at build time:
 *   gbench_full.cc  the real library (Debian libbenchmark-dev, within the 1.7 API);
 *   gbench_nop.c    no library: every benchmark runs a few iterations as a smoke test,
 *                   nothing is measured, and ipcb_gbench_main() returns
 *                   IPCB_GBENCH_UNAVAILABLE.
 * The optimisation barriers below are inline assembly, the same in both.
 *
 * A run function looks like:
 *
 *	static void bm_copy(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def)
 *	{
 *		size_t n = (size_t)ipcb_gbench_range(st, 0);
 *		while (ipcb_gbench_keep_running(st)) {
 *			memcpy(dst, src, n);
 *			ipcb_gbench_clobber_memory();
 *		}
 *		ipcb_gbench_set_bytes_processed(st, (int64_t)(ipcb_gbench_iterations(st) * n));
 *	}
 *
 * Nothing here is thread-safe except what Google Benchmark itself allows: register and
 * main from one thread; a state is used only by the benchmark it was passed to.
 */
#ifndef IPCB_GBENCH_H
#define IPCB_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ipcb_gbench_main()'s status when the program was built without Google Benchmark (the
 * automake/CTest "skipped" code). */
#define IPCB_GBENCH_UNAVAILABLE 77

#define IPCB_GBENCH_MAX_ARGS 4     /* argument dimensions of one benchmark */
#define IPCB_GBENCH_MAX_VALUES 32  /* explicit values of one dimension */

/* Opaque: the library's per-run state (benchmark::State, or the nop loop counter). */
struct ipcb_gbench_state;
struct ipcb_gbench_def;

typedef void (*ipcb_gbench_fn)(struct ipcb_gbench_state *st, const struct ipcb_gbench_def *def);

enum ipcb_gbench_flags {
	/* The run function times each iteration itself and reports it with
	 * ipcb_gbench_set_iteration_time() (multi-process cases: the parent cannot see the
	 * children's clock, so they measure and the benchmark reports). */
	IPCB_GBENCH_MANUAL_TIME = 1u << 0,
	/* Report wall-clock rather than CPU time as the primary time (blocking benchmarks). */
	IPCB_GBENCH_REAL_TIME = 1u << 1,
	/* CPU time of the whole process, children's threads included, not the main thread's. */
	IPCB_GBENCH_PROCESS_CPU_TIME = 1u << 2,
};

enum ipcb_gbench_unit {
	IPCB_GBENCH_NS = 0,  /* the default */
	IPCB_GBENCH_US,
	IPCB_GBENCH_MS,
	IPCB_GBENCH_S,
};

/* One argument dimension: either explicit values, or lo..hi (both included) in steps of
 * the def's range_multiplier (Google Benchmark's Range: powers of it between the ends). */
struct ipcb_gbench_arg {
	const char *name;        /* shown as "name:value" in the benchmark name; NULL = bare */
	int64_t values[IPCB_GBENCH_MAX_VALUES];
	int nvalues;             /* > 0: use values[] and ignore lo, hi */
	int64_t lo, hi;
};

/* A benchmark. The struct must outlive ipcb_gbench_main() (make it static): the library
 * keeps a pointer and hands it back to run(). Zero means "the library's default" for every
 * optional field. */
struct ipcb_gbench_def {
	const char *name;        /* family name, no '/' (the library appends "/arg..."); copied */
	ipcb_gbench_fn run;      /* called once per instance per repetition, many times over */
	const void *user;        /* for run(): the thing measured (e.g. a lock's ops table) */
	uint32_t flags;          /* IPCB_GBENCH_* of enum ipcb_gbench_flags */
	enum ipcb_gbench_unit unit;
	struct ipcb_gbench_arg args[IPCB_GBENCH_MAX_ARGS];
	int nargs;               /* dimensions used; instances are their cross product */
	int range_multiplier;    /* for lo..hi dimensions; 0 = 8 (the library's default) */
	double min_time_s;       /* run each instance at least this long; 0 = --benchmark_min_time */
	uint64_t iterations;     /* fixed iteration count instead of min_time; 0 = automatic */
	int repetitions;         /* 0 = --benchmark_repetitions */
	int threads;             /* run() in this many threads at once; 0 = 1 */
};

/* Register def. Call before ipcb_gbench_main(). Returns 0, or -EINVAL (no name or run, a
 * '/' in the name, bad dimensions: nargs, nvalues or lo > hi out of range), -ENOMEM. */
int ipcb_gbench_register(const struct ipcb_gbench_def *def);

/* Parse Google Benchmark's flags out of argv (--help prints them and exits), then run the
 * selected benchmarks. Returns an exit status: 0; 1 when a benchmark called
 * ipcb_gbench_fail() (a skip is not a failure); 2 when argv holds an argument that is not a
 * benchmark flag (named on stderr) or --benchmark_filter matched nothing;
 * IPCB_GBENCH_UNAVAILABLE in the nop build, after running every benchmark a few iterations
 * as a smoke test (0 for --benchmark_list_tests, which works there too). */
int ipcb_gbench_main(int argc, char **argv);

/* 1 when built with Google Benchmark, 0 in the nop build. */
int ipcb_gbench_available(void);

/* Add key: value to the "context" of the report (console header and JSON), e.g. the
 * program's version and build. Both copied; call before ipcb_gbench_main(). */
void ipcb_gbench_add_context(const char *key, const char *value);

/* ---- inside run() ---- */

/* The keep-running loop: true while another iteration should run. Call until it returns
 * false, and return soon after (set counters after the loop). */
bool ipcb_gbench_keep_running(struct ipcb_gbench_state *st);
/* Same, n iterations at a time: the body does n operations (keeps the call out of loops of
 * nanosecond operations). May overshoot the planned count by up to n - 1. */
bool ipcb_gbench_keep_running_batch(struct ipcb_gbench_state *st, uint64_t n);
/* Iterations done so far (after the loop: the total the time is divided by). */
uint64_t ipcb_gbench_iterations(const struct ipcb_gbench_state *st);
/* Value of argument dimension i of this instance (0 when there is no such dimension). */
int64_t ipcb_gbench_range(const struct ipcb_gbench_state *st, int i);
/* Index of the calling thread, 0 .. threads - 1. */
int ipcb_gbench_thread_index(const struct ipcb_gbench_state *st);

/* Stop / restart the timer around per-iteration setup that must not be measured. Each pair
 * costs far more than a nanosecond operation: use them around big work only. */
void ipcb_gbench_pause_timing(struct ipcb_gbench_state *st);
void ipcb_gbench_resume_timing(struct ipcb_gbench_state *st);
/* IPCB_GBENCH_MANUAL_TIME: the time of the iteration just done, in seconds. */
void ipcb_gbench_set_iteration_time(struct ipcb_gbench_state *st, double seconds);

/* Give up on this instance. skip: it cannot run here (unsupported), the reason is reported
 * prefixed with "skipped: "; fail: something went wrong (a system call failed, a check
 * did not hold). Call before the loop or leave the loop at once and return; Google
 * Benchmark 1.7 has a single "error" outcome for both, the prefix tells them apart. */
void ipcb_gbench_skip(struct ipcb_gbench_state *st, const char *reason);
void ipcb_gbench_fail(struct ipcb_gbench_state *st, const char *reason);

/* Rates shown as items_per_second / bytes_per_second: totals over the whole run. */
void ipcb_gbench_set_items_processed(struct ipcb_gbench_state *st, int64_t items);
void ipcb_gbench_set_bytes_processed(struct ipcb_gbench_state *st, int64_t bytes);

enum ipcb_gbench_counter_flags {
	IPCB_GBENCH_COUNTER_RATE = 1u << 0,           /* divided by the time (per second) */
	IPCB_GBENCH_COUNTER_AVG_THREADS = 1u << 1,    /* divided by the number of threads */
	IPCB_GBENCH_COUNTER_ITER_INVARIANT = 1u << 2, /* multiplied by the iterations */
	IPCB_GBENCH_COUNTER_AVG_ITERATIONS = 1u << 3, /* divided by the iterations (per op) */
	IPCB_GBENCH_COUNTER_KIB = 1u << 4,            /* shown with 1024 as "k", not 1000 */
};
/* Set (replace) the user counter name (copied) to value, reported beside the times. */
void ipcb_gbench_set_counter(struct ipcb_gbench_state *st, const char *name, double value,
			     uint32_t flags);
/* A label printed beside the result (copied). */
void ipcb_gbench_set_label(struct ipcb_gbench_state *st, const char *label);

/* ---- optimisation barriers (Google Benchmark's DoNotOptimize / ClobberMemory) ---- */

/* Every write before it must reach memory, and nothing is assumed about memory after it. */
static inline void ipcb_gbench_clobber_memory(void)
{
	__asm__ __volatile__("" : : : "memory");
}

/* The object at p is read and written by something the compiler cannot see: stores to it
 * cannot be removed, loads after this cannot be folded. */
static inline void ipcb_gbench_escape(const void *p)
{
	__asm__ __volatile__("" : : "g"(p) : "memory");
}

/* The value v is used: it must be computed, in a register or in memory. */
static inline void ipcb_gbench_use_u64(uint64_t v)
{
	__asm__ __volatile__("" : : "r,m"(v) : "memory");
}

/* DoNotOptimize for an lvalue of scalar type: computed, and possibly changed, here. The
 * order of the constraint alternatives per compiler is Google Benchmark's (benchmark.h). */
#if defined(__clang__)
#define IPCB_GBENCH_DO_NOT_OPTIMIZE(x) __asm__ __volatile__("" : "+r,m"(x) : : "memory")
#else
#define IPCB_GBENCH_DO_NOT_OPTIMIZE(x) __asm__ __volatile__("" : "+m,r"(x) : : "memory")
#endif

#ifdef __cplusplus
}
#endif

#endif
