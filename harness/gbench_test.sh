#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The microbenchmarks end to end, as a user runs them.
#   gbench_test.sh micro MICRO IPCBENCH    ipcbench-micro lists and runs every benchmark
#                                          cleanly; `ipcbench micro` passes Google
#                                          Benchmark's flags through
#   gbench_test.sh all MICRO IPCBENCH      `ipcbench --all` stores gbench.json beside
#                                          results.csv and puts micro rows in it (the other
#                                          cases' outcomes are not this test's business)
#   gbench_test.sh compare MICRO IPCBENCH  compare.py (libbenchmark-tools) on two outputs,
#                                          through bench/compare_micro.sh
# In a build without Google Benchmark (nop shim) the same steps check the nop behaviour.
# Exit: 0 all passed, 1 a check failed, 77 skipped (compare.py or scipy missing).
set -u
mode=${1:?usage: gbench_test.sh micro|all|compare MICRO IPCBENCH}
micro=${2:?}
bin=${3:?}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/gbench_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { # check "shell condition" "what"
  if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi
}
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

# Full build (1) or nop shim (0): the nop main exits 77 after a smoke run.
"$micro" --benchmark_filter='^atomic\.add$' >/dev/null 2>&1
rc=$?
full=1
[ $rc -eq 77 ] && full=0
check "[ $rc -eq 0 ] || [ $rc -eq 77 ]" "ipcbench-micro on one benchmark: exit $rc"

# A small JSON reader: python3 if there is one, for field checks.
have_py=0
command -v python3 >/dev/null && have_py=1

case $mode in
micro)
  # ---- names ----
  "$micro" --benchmark_list_tests >"$work/list" 2>"$work/e"
  check "[ $? -eq 0 ]" "--benchmark_list_tests: $(cat "$work/e")"
  for n in atomic.add atomic.cas atomic.load-relaxed atomic.store-seqcst syscall.getppid \
           'syscall.pipe-write-read/bytes:64' 'syscall.socketpair-write-read/bytes:4096' \
           syscall.eventfd-write-read sem.post-wait futex.wake-private futex.wake-shared \
           clock.gettime-monotonic clock.rdtsc 'ring.spsc-push-pop/bytes:64' \
           'ring.shm-ring-send-recv/bytes:4096' 'memcpy/bytes:64' 'memcpy/bytes:1048576' \
           'process.pipe-roundtrip/bytes:64'; do
    check "grep -qx '$n\\(/manual_time\\)\\?' '$work/list'" "benchmark $n listed"
  done
  check "grep -q '^sync\\.' '$work/list'" "sync registry locks listed"

  # ---- every benchmark runs cleanly (errors only as 'skipped: ...') ----
  "$micro" --benchmark_min_time=0.002 --benchmark_out="$work/all.json" \
           --benchmark_out_format=json >"$work/o" 2>"$work/e"
  rc=$?
  if [ $full -eq 1 ]; then
    check "[ $rc -eq 0 ]" "every microbenchmark: exit $rc: $(tail -3 "$work/e")"
    if [ $have_py -eq 1 ]; then
      python3 - "$work/all.json" "$work/list" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
names = [l.strip() for l in open(sys.argv[2]) if l.strip()]
runs = [r for r in doc["benchmarks"] if r.get("run_type") == "iteration"]
seen = {r["run_name"] for r in runs}
missing = [n for n in names if n not in seen]
assert not missing, "not run: %s" % missing
for r in runs:
    if r.get("error_occurred"):
        assert r["error_message"].startswith("skipped: "), (r["name"], r["error_message"])
    else:
        assert r["iterations"] > 0 and r["real_time"] > 0, r
assert doc["context"].get("ipcbench_version"), doc["context"]
PY
      check "[ $? -eq 0 ]" "all.json: every listed benchmark ran, no errors but skips"
    fi
  else
    check "[ $rc -eq 77 ] && [ ! -e '$work/all.json' ]" "nop: exit 77, no JSON ($rc)"
    check "! grep -q FAILED '$work/o'" "nop smoke run: no FAILED benchmark"
  fi

  # ---- ipcbench micro: flags pass through ----
  "$bin" micro --benchmark_filter='^memcpy/bytes:(64|4096)$' --benchmark_min_time=0.01 \
         --benchmark_repetitions=2 --benchmark_out="$work/m.json" \
         --benchmark_out_format=json >"$work/o" 2>"$work/e"
  rc=$?
  if [ $full -eq 1 ]; then
    check "[ $rc -eq 0 ] && [ -s '$work/m.json' ]" "ipcbench micro: exit $rc, JSON written"
    check "grep -q 'memcpy/bytes:4096' '$work/o'" "ipcbench micro: console output"
    check "[ \$(grep -c '\"run_name\": \"memcpy/bytes:64\"' '$work/m.json') -ge 2 ]" \
          "ipcbench micro: 2 repetitions in the JSON"
  else
    check "[ $rc -eq 77 ]" "ipcbench micro (nop): exit $rc"
  fi
  "$bin" micro --no-such-flag >/dev/null 2>&1
  check "[ $? -eq 2 ]" "ipcbench micro refuses a flag that is not Google Benchmark's"
  IPCBENCH_MICRO=/nonexistent/ipcbench-micro "$bin" micro >/dev/null 2>"$work/e"
  check "[ $? -eq 1 ] && grep -q 'cannot run' '$work/e'" "ipcbench micro without the program"
  ;;

all)
  # ---- ipcbench --all: gbench.json beside results.csv, micro rows in it ----
  export IPCBENCH_MICRO_FILTER='^(atomic\.add|memcpy/bytes:4096|clock\.rdtsc)$'
  "$bin" --all --quick --reps 2 --duration 10ms --warmup 5ms --sizes 64 --no-plots \
         --out "$work/res" >"$work/o" 2>"$work/e"
  rc=$?
  run=$(ls -d "$work/res"/2* 2>/dev/null | head -1)
  csv="$run/results.csv"
  check "[ -s '$csv' ]" "--all wrote results.csv (exit $rc): $(tail -3 "$work/e")"
  check "[ -z \"\$(find '$work/res' -name '*.tmp')\" ]" "no temporary files left"
  if [ $full -eq 1 ]; then
    check "[ -s '$run/gbench.json' ]" "--all stored gbench.json next to results.csv"
    check "grep -q ',micro,atomic.add,c,process,1,.*,median,ns_per_op,ns,' '$csv'" \
          "micro median ns_per_op row for atomic.add"
    check "grep -q ',micro,memcpy,c,process,1,[^,]*,[^,]*,[^,]*,[^,]*,4096,.*,bytes_per_s,B/s,' '$csv'" \
          "memcpy row with size_bytes 4096 and bytes_per_s"
    check "[ \$(grep -c ',micro,atomic.add,.*,ns_per_op,' '$csv') -eq 3 ]" \
          "2 repetition rows + 1 median row per metric"
    check "! grep -q ',micro,.*,FAILED,' '$csv'" "no FAILED micro rows"
    check "grep -q 'microbenchmarks: ' '$work/e'" "--all says it ran the microbenchmarks"
    if [ $have_py -eq 1 ]; then
      python3 - "$run/metadata.json" "$csv" <<'PY'
import csv, json, sys
rows = [r for r in csv.DictReader(open(sys.argv[2])) if r["bench"] == "micro"]
assert rows, "no micro rows"
for r in rows:
    if r["status"] in ("ok", "NOISY"):
        float(r["value"])
        assert r["metric"] and r["unit"], r
        if r["rep"] != "median":
            assert int(r["samples"]) >= 1 and int(r["ops_per_sample"]) >= 1, r
m = json.load(open(sys.argv[1]))
assert sum(m["cases"].values()) >= 3, m["cases"]
PY
      check "[ $? -eq 0 ]" "micro rows parse with the CSV schema; metadata counts them"
    fi
  else
    check "grep -q ',micro,.*,SKIPPED,.*without Google Benchmark' '$csv'" \
          "nop: one SKIPPED micro row saying why"
    check "[ ! -e '$run/gbench.json' ]" "nop: no gbench.json"
  fi
  unset IPCBENCH_MICRO_FILTER
  ;;

compare)
  [ $full -eq 1 ] || { echo "skipped: built without Google Benchmark"; exit 77; }
  for r in a b; do
    "$micro" --benchmark_filter='^(atomic\.add|memcpy/bytes:(64|4096))$' \
             --benchmark_min_time=0.005 --benchmark_repetitions=3 \
             --benchmark_out="$work/$r.json" --benchmark_out_format=json >/dev/null 2>&1
    check "[ $? -eq 0 ] && [ -s '$work/$r.json' ]" "run $r"
  done
  mkdir -p "$work/runA" && cp "$work/a.json" "$work/runA/gbench.json"
  bash "$src/bench/compare_micro.sh" --no-color "$work/runA" "$work/b.json" \
       >"$work/cmp" 2>"$work/e"
  rc=$?
  if [ $rc -eq 77 ]; then
    cat "$work/e"
    echo "skipped: $(tail -1 "$work/e")"
    exit 77
  fi
  check "[ $rc -eq 0 ]" "compare_micro.sh exit $rc: $(tail -3 "$work/e")"
  check "grep -q '^Comparing .*gbench.json to .*b.json' '$work/cmp'" "compare.py header"
  for n in atomic.add memcpy/bytes:64 memcpy/bytes:4096; do
    check "grep -q '^${n} ' '$work/cmp'" "compare.py row for $n"
  done
  check "grep -q 'U Test' '$work/cmp'" "compare.py ran its U test on the repetitions"
  bash "$src/bench/compare_micro.sh" "$work/nothing" "$work/b.json" >/dev/null 2>&1
  check "[ $? -eq 2 ]" "compare_micro.sh refuses a missing input"
  ;;
*)
  echo "usage: gbench_test.sh micro|all|compare MICRO IPCBENCH" >&2
  exit 2
  ;;
esac
finish
