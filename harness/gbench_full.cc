// SPDX-License-Identifier: MIT
/*
 * gbench.h over Google Benchmark (the packaged 1.7: nothing newer is used, e.g. no
 * SkipWithMessage, no "s"/"x" suffix on --benchmark_min_time). The one C++ file of
 * ipcbench. The state C code sees pairs the benchmark::State with the definition it runs;
 * no C++ exception leaves an extern "C" function.
 */
#include <benchmark/benchmark.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "gbench.h"

/* Lives on the stack of the run lambda for one call of def->run. */
struct ipcb_gbench_state {
	benchmark::State *s;
	const struct ipcb_gbench_def *def;
};

namespace {

benchmark::State &S(struct ipcb_gbench_state *st)
{
	return *st->s;
}

const benchmark::State &S(const struct ipcb_gbench_state *st)
{
	return *st->s;
}

/* Set by ipcb_gbench_fail() (from any benchmark thread): main's status becomes 1. */
std::atomic<bool> g_failed{false};

benchmark::TimeUnit unit_of(enum ipcb_gbench_unit u)
{
	switch (u) {
	case IPCB_GBENCH_US:
		return benchmark::kMicrosecond;
	case IPCB_GBENCH_MS:
		return benchmark::kMillisecond;
	case IPCB_GBENCH_S:
		return benchmark::kSecond;
	case IPCB_GBENCH_NS:
	default:
		return benchmark::kNanosecond;
	}
}

bool def_valid(const struct ipcb_gbench_def *def)
{
	if (!def || !def->name || !def->name[0] || !def->run || std::strchr(def->name, '/'))
		return false;
	if (def->nargs < 0 || def->nargs > IPCB_GBENCH_MAX_ARGS || def->threads < 0 ||
	    def->repetitions < 0 || def->min_time_s < 0 || def->range_multiplier < 0 ||
	    def->range_multiplier == 1)
		return false;
	for (int i = 0; i < def->nargs; i++) {
		const struct ipcb_gbench_arg *a = &def->args[i];
		if (a->nvalues < 0 || a->nvalues > IPCB_GBENCH_MAX_VALUES)
			return false;
		if (a->nvalues == 0 && (a->lo > a->hi || a->lo < 0))
			return false;
	}
	return true;
}

void do_register(const struct ipcb_gbench_def *def)
{
	benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
		def->name, [def](benchmark::State &s) {
			struct ipcb_gbench_state st = { &s, def };
			def->run(&st, def);
		});

	b->Unit(unit_of(def->unit));
	if (def->nargs > 0) {
		std::vector<std::vector<int64_t> > lists;
		std::vector<std::string> names;
		bool named = false;
		for (int i = 0; i < def->nargs; i++) {
			const struct ipcb_gbench_arg *a = &def->args[i];
			if (a->nvalues > 0)
				lists.emplace_back(a->values, a->values + a->nvalues);
			else
				lists.push_back(benchmark::CreateRange(
					a->lo, a->hi,
					def->range_multiplier ? def->range_multiplier : 8));
			names.emplace_back(a->name ? a->name : "");
			named |= a->name != nullptr;
		}
		b->ArgsProduct(lists);
		if (named)
			b->ArgNames(names);
	}
	if (def->flags & IPCB_GBENCH_MANUAL_TIME)
		b->UseManualTime();
	if (def->flags & IPCB_GBENCH_REAL_TIME)
		b->UseRealTime();
	if (def->flags & IPCB_GBENCH_PROCESS_CPU_TIME)
		b->MeasureProcessCPUTime();
	if (def->iterations)
		b->Iterations(static_cast<benchmark::IterationCount>(def->iterations));
	else if (def->min_time_s > 0)
		b->MinTime(def->min_time_s);
	if (def->repetitions)
		b->Repetitions(def->repetitions);
	if (def->threads > 1)
		b->Threads(def->threads);
}

} // namespace

extern "C" {

int ipcb_gbench_register(const struct ipcb_gbench_def *def)
{
	if (!def_valid(def))
		return -EINVAL;
	try {
		do_register(def);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ipcbench: benchmark %s: cannot register: %s\n", def->name,
			     e.what());
		return -EINVAL;
	}
	return 0;
}

int ipcb_gbench_main(int argc, char **argv)
{
	try {
		benchmark::Initialize(&argc, argv);
		if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
			benchmark::Shutdown();
			return 2;
		}
		size_t n = benchmark::RunSpecifiedBenchmarks();
		benchmark::Shutdown();
		if (n == 0)
			return 2;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ipcbench: Google Benchmark: %s\n", e.what());
		return 1;
	}
	return g_failed ? 1 : 0;
}

int ipcb_gbench_available(void)
{
	return 1;
}

void ipcb_gbench_add_context(const char *key, const char *value)
{
	try {
		benchmark::AddCustomContext(key, value ? value : "");
	} catch (const std::bad_alloc &) {
		std::fprintf(stderr, "ipcbench: context %s: out of memory\n", key);
	}
}

bool ipcb_gbench_keep_running(struct ipcb_gbench_state *st)
{
	return S(st).KeepRunning();
}

bool ipcb_gbench_keep_running_batch(struct ipcb_gbench_state *st, uint64_t n)
{
	return S(st).KeepRunningBatch(static_cast<benchmark::IterationCount>(n));
}

uint64_t ipcb_gbench_iterations(const struct ipcb_gbench_state *st)
{
	return static_cast<uint64_t>(S(st).iterations());
}

int64_t ipcb_gbench_range(const struct ipcb_gbench_state *st, int i)
{
	/* State::range() only asserts the index: check it against the definition. */
	if (i < 0 || i >= st->def->nargs)
		return 0;
	return S(st).range(static_cast<size_t>(i));
}

int ipcb_gbench_thread_index(const struct ipcb_gbench_state *st)
{
	return S(st).thread_index();
}

void ipcb_gbench_pause_timing(struct ipcb_gbench_state *st)
{
	S(st).PauseTiming();
}

void ipcb_gbench_resume_timing(struct ipcb_gbench_state *st)
{
	S(st).ResumeTiming();
}

void ipcb_gbench_set_iteration_time(struct ipcb_gbench_state *st, double seconds)
{
	S(st).SetIterationTime(seconds);
}

void ipcb_gbench_skip(struct ipcb_gbench_state *st, const char *reason)
{
	char msg[512];
	std::snprintf(msg, sizeof(msg), "skipped: %s", reason ? reason : "");
	S(st).SkipWithError(msg);
}

void ipcb_gbench_fail(struct ipcb_gbench_state *st, const char *reason)
{
	g_failed = true;
	S(st).SkipWithError(reason && reason[0] ? reason : "failed");
}

void ipcb_gbench_set_items_processed(struct ipcb_gbench_state *st, int64_t items)
{
	S(st).SetItemsProcessed(items);
}

void ipcb_gbench_set_bytes_processed(struct ipcb_gbench_state *st, int64_t bytes)
{
	S(st).SetBytesProcessed(bytes);
}

void ipcb_gbench_set_counter(struct ipcb_gbench_state *st, const char *name, double value,
			     uint32_t flags)
{
	int f = benchmark::Counter::kDefaults;
	if (flags & IPCB_GBENCH_COUNTER_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & IPCB_GBENCH_COUNTER_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	if (flags & IPCB_GBENCH_COUNTER_ITER_INVARIANT)
		f |= benchmark::Counter::kIsIterationInvariant;
	if (flags & IPCB_GBENCH_COUNTER_AVG_ITERATIONS)
		f |= benchmark::Counter::kAvgIterations;
	try {
		S(st).counters[name] = benchmark::Counter(
			value, static_cast<benchmark::Counter::Flags>(f),
			(flags & IPCB_GBENCH_COUNTER_KIB) ? benchmark::Counter::kIs1024
							  : benchmark::Counter::kIs1000);
	} catch (const std::bad_alloc &) {
		std::fprintf(stderr, "ipcbench: counter %s: out of memory\n", name);
	}
}

void ipcb_gbench_set_label(struct ipcb_gbench_state *st, const char *label)
{
	S(st).SetLabel(label ? label : "");
}

} // extern "C"
