#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line end to end, as a user meets it: help, bad input (exit 2, one line, nothing
# written), real runs (CSV + metadata), CPU placement as recorded, and a worker killed with
# SIGKILL in the middle of a case (FAILED row with the reason, the run goes on, nothing left).
# Usage: cli_test.sh PATH/TO/ipcbench
set -u
bin=${1:?usage: cli_test.sh ipcbench}
work=$(mktemp -d /tmp/ipcb-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

# ---- help and version ----
"$bin" --help >"$work/help" 2>&1; check '[ $? -eq 0 ]' "--help exit code"
# every option line of the help (two spaces, then --name) must be known to the parser
for opt in $(sed -n '/^options:/,$p' "$work/help" | grep -oE '^  --[a-z][a-z0-9-]*' | sort -u); do
  case $opt in --help|--version) continue ;; esac
  # every option the help names must be known to the parser (no 'unknown option'); the
  # unknown bench stops the run after parsing
  "$bin" run nosuch-bench $opt 2>"$work/err" >/dev/null </dev/null
  check '! grep -q "unknown option" "$work/err"' "help names $opt but the parser refuses it"
done
"$bin" --version | grep -q '^ipcbench [0-9]'; check '[ $? -eq 0 ]' "--version prints a version"

# ---- bad input: exit 2, exactly one line on stderr, nothing written ----
out="$work/res"
badcase() {
  local want=$1; shift
  "$bin" "$@" --out "$out" >"$work/o" 2>"$work/e"; local rc=$?
  check "[ $rc -eq 2 ]" "'$*' exit $rc, want 2"
  check "[ \$(wc -l <'$work/e') -eq 1 ]" "'$*' should print one line, printed: $(head -c 300 "$work/e")"
  check "grep -qi -- '$want' '$work/e'" "'$*' message lacks '$want': $(cat "$work/e")"
  check "[ ! -e '$out' ]" "'$*' wrote $out"
}
badcase "unknown bench" run nosuch
badcase "unknown mechanism" run pingpong --mech carrier-pigeon
badcase "--cores" run pingpong --cores 0
badcase "--cores" run pingpong --cores -1
badcase "--cores" run pingpong --cores 2x
badcase "--sizes" run pingpong --sizes -3
badcase "--sizes" run pingpong --sizes 4
badcase "--sizes" run pingpong --sizes 64,,128
badcase "--sizes" run pingpong --sizes 2G
badcase "--reps" run pingpong --reps abc
badcase "--reps" run pingpong --reps 0
badcase "--duration" run pingpong --duration -1s
badcase "--duration" run pingpong --duration 5parsecs
badcase "--placement" run pingpong --placement sideways
badcase "--mode" run pingpong --mode fibre
badcase "CPU 4096" run pingpong --cpus 0,4096
badcase "--cpus" run pingpong --cpus 1-0
badcase "unknown option" run pingpong --frobnicate
badcase "needs a value" run pingpong --reps
badcase "--mem" run pingpong --mem node=99
badcase "say what to run" run
# edges of every numeric option (0, max+1, huge, non-numeric, nan/inf), empty strings,
# a value given to a flag, stray arguments, files that do not exist
badcase "--cores" run pingpong --cores 1025
badcase "--cores" run pingpong --cores 99999999999999999999
badcase "--cores" run pingpong --cores ""
badcase "--reps" run pingpong --reps 1001
badcase "--reps" run pingpong --reps 1e3
badcase "--sizes" run pingpong --sizes 0
badcase "--sizes" run pingpong --sizes 7
badcase "--sizes" run pingpong --sizes 1025M
badcase "--sizes" run pingpong --sizes 99999999999999999999999
badcase "--sizes" run pingpong --sizes ""
badcase "--sizes" run pingpong --sizes 64,
badcase "--duration" run pingpong --duration 0
badcase "--duration" run pingpong --duration 86401
badcase "--duration" run pingpong --duration nan
badcase "--duration" run pingpong --duration 1e400
badcase "--warmup" run pingpong --warmup 3601
badcase "--timeout" run pingpong --timeout 0.01
badcase "--noise" run pingpong --noise abc
badcase "--rate" run pingpong --rate 0
badcase "--rate" run pingpong --rate -5
badcase "--cpus" run pingpong --cpus -1
badcase "--cpus" run pingpong --cpus 0-99999999999
badcase "--mech" run pingpong --mech ""
badcase "--verify" run pingpong --verify none
badcase "takes no value" run pingpong --no-plots=1
badcase "unknown option" run pingpong -x
badcase "--pipe-size" run pingpong --pipe-size 0
badcase "--pipe-size" run pingpong --pipe-size 2G
badcase "--pipe-size" run pingpong --pipe-size 64Q
badcase "--sock-buf" run pingpong --sock-buf ""
badcase "--posix-mq-depth" run pingpong --posix-mq-depth 0
badcase "takes no value" run pingpong --allow-clamp=yes
badcase "takes no arguments" list extra
badcase "no such file" plot "$work/nonexistent-run"
for cmd in "compare $work/nonexistent-a $work/nonexistent-b" "report $work/nonexistent-run" \
           "compare $work/nonexistent-a"; do
  "$bin" $cmd >"$work/o" 2>"$work/e"; rc=$?
  check "[ $rc -eq 2 ] && [ \$(wc -l <'$work/e') -eq 1 ]" "'$cmd': exit $rc, want 2 and one line: $(cat "$work/e")"
done
"$bin" run pingpong --out /proc/nonexistent/x >/dev/null 2>"$work/e"; rc=$?
check "[ $rc -eq 2 ] && grep -q -- '--out' '$work/e'" "unwritable --out: rc $rc $(cat "$work/e")"
touch "$work/file"
"$bin" run pingpong --out "$work/file" >/dev/null 2>"$work/e"; rc=$?
check "[ $rc -eq 2 ] && grep -q 'not a directory' '$work/e'" "--out a file: rc $rc"

# ---- list, topo, calibrate ----
"$bin" list >"$work/o"; check '[ $? -eq 0 ] && grep -q "^  pingpong " "$work/o" && grep -q "^  pipe " "$work/o"' "list"
"$bin" topo --cores 8 >"$work/o" 2>&1; check '[ $? -eq 0 ] && grep -qi "clamped" "$work/o"' "topo --cores 8 says clamped"
"$bin" calibrate >"$work/o"; check '[ $? -eq 0 ] && grep -q "cost of a read" "$work/o"' "calibrate"

# ---- a real run ----
q="--reps 2 --duration 30ms --warmup 10ms --no-plots --out $out"
"$bin" run pingpong,stream --mech pipe --sizes 64,4K $q >"$work/o" 2>"$work/e"; rc=$?
check "[ $rc -eq 0 ]" "quick run exit $rc: $(tail -3 "$work/e")"
run=$(ls -d "$out"/2* 2>/dev/null | head -1)
csv="$run/results.csv"
check "[ -s '$csv' ] && [ -s '$run/metadata.json' ]" "results.csv and metadata.json written in $run"
check "head -1 '$csv' | grep -q '^run_id,bench,mech,impl,mode,workers,cpus,cpus_seen'" "CSV header"
check "[ -z \"\$(find '$out' -name '*.tmp')\" ]" "temporary files left"
check "[ -L '$out/latest' ]" "results/latest link"
n=$(grep -c ',pingpong,pipe,.*,median,rtt_p50_ns,' "$csv"); check "[ $n -eq 2 ]" "two pingpong median rows, got $n"
n=$(grep -c ',stream,pipe,.*,median,msgs_per_s,' "$csv"); check "[ $n -eq 2 ]" "two stream median rows, got $n"
check "! grep -q ',FAILED,' '$csv'" "no FAILED rows in a clean run"
if command -v python3 >/dev/null; then
  python3 - "$run/metadata.json" "$csv" <<'PY'; check "[ $? -eq 0 ]" "metadata/CSV content"
import csv, json, sys
m = json.load(open(sys.argv[1]))
assert m["csv_schema"] == 3 and m["clock"]["name"] == "CLOCK_MONOTONIC", m
assert m["machine"]["pus"] >= 1
rows = list(csv.DictReader(open(sys.argv[2])))
for r in rows:
    if r["status"] in ("ok", "NOISY") and r["rep"] == "median":
        float(r["value"]); float(r["ci_low"]); float(r["ci_high"])
        assert float(r["ci_low"]) <= float(r["value"]) <= float(r["ci_high"]), r
p50 = [float(r["value"]) for r in rows if r["metric"] == "rtt_p50_ns" and r["rep"] == "median"]
assert all(1000 < v < 10_000_000 for v in p50), p50   # a pipe round trip: microseconds
PY
fi

# ---- placement as recorded: two workers sharing CPU 0 ----
"$bin" run pingpong --mech pipe --sizes 64 --cpus 0,0 $q >/dev/null 2>"$work/e"; rc=$?
csv=$(ls -t "$out"/2*/results.csv | head -1)
check "[ $rc -eq 0 ] && grep -q ',0;0,0;0,list,' '$csv'" "--cpus 0,0 recorded as assigned and seen"

if [ "$(nproc)" -ge 2 ]; then
  "$bin" run pingpong --mech pipe --sizes 64 --cpus 1,0 $q >/dev/null 2>"$work/e"; rc=$?
  csv=$(ls -t "$out"/2*/results.csv | head -1)
  check "[ $rc -eq 0 ] && grep -q ',1;0,1;0,list,' '$csv'" "--cpus 1,0: each worker ran on the CPU it was given"
  # a CPU outside this process's affinity (taskset) is refused, not silently ignored
  taskset -c 0 "$bin" run pingpong --mech pipe --cpus 0,1 --out "$out/ts" >/dev/null 2>"$work/e"; rc=$?
  check "[ $rc -eq 2 ] && grep -q 'CPU 1 does not exist or is not allowed' '$work/e' && [ ! -e '$out/ts' ]" "taskset-excluded CPU refused: $(cat "$work/e")"
fi

# ---- --placement classes: one case per CPU relation present (here: same PU, and more) ----
"$bin" run pingpong --mech pipe --sizes 64 --placement classes $q >/dev/null 2>"$work/e"; rc=$?
csv=$(ls -t "$out"/2*/results.csv | head -1)
check "[ $rc -eq 0 ] && grep -q ',0;0,0;0,classes,.*class=same-pu.*,median,rtt_p50_ns,' '$csv'" "classes: a same-PU row"
if [ "$(nproc)" -ge 2 ]; then
  n=$(grep ',median,rtt_p50_ns,' "$csv" | grep -c 'class=')
  check "[ $n -ge 2 ]" "classes: at least two relations on a machine with 2+ CPUs, got $n"
fi

# ---- --cores 8 on a smaller machine: clamped, or oversubscribed when asked ----
ncpu=$(nproc)
if [ "$ncpu" -lt 8 ]; then
  "$bin" run pingpong --mech pipe --sizes 64 --cores 8 $q >/dev/null 2>"$work/e"; rc=$?
  check "[ $rc -eq 0 ] && grep -q 'clamped to $ncpu' '$work/e'" "--cores 8 clamps and says so: $(head -2 "$work/e")"
  "$bin" run pingpong --mech pipe --sizes 64 --cores 8 --oversubscribe $q >/dev/null 2>"$work/e"; rc=$?
  check "[ $rc -eq 0 ] && grep -q 'oversubscribe' '$work/e'" "--cores 8 --oversubscribe says so"
fi

# ---- thread mode ----
"$bin" run pingpong,stream --mech pipe --sizes 64 --mode thread $q >/dev/null 2>"$work/e"; rc=$?
csv=$(ls -t "$out"/2*/results.csv | head -1)
check "[ $rc -eq 0 ] && grep -q ',thread,2,' '$csv'" "thread mode run: $(tail -2 "$work/e")"

# ---- a worker killed mid-case: FAILED with the reason, the run goes on ----
"$bin" run pingpong --mech pipe --sizes 64,128 --reps 1 --duration 3s --warmup 10ms --no-plots \
  --out "$out/kill" >"$work/o" 2>"$work/e" & main=$!
victim=""
for _ in $(seq 100); do
  victim=$(pgrep -P $main | head -1); [ -n "$victim" ] && break; sleep 0.05
done
sleep 0.3
[ -n "$victim" ] && kill -KILL "$victim"
wait $main; rc=$?
csv=$(ls "$out"/kill/2*/results.csv 2>/dev/null | head -1)
check "[ -n '$victim' ]" "found a worker to kill"
check "[ $rc -eq 1 ]" "a run with a killed worker exits 1, got $rc"
check "grep -q 'FAILED,\"\\?worker [01] (role [AB], CPU [0-9]*) killed by signal 9' '$csv'" "FAILED row names the signal: $(grep FAILED "$csv")"
check "grep -q ',pingpong,pipe,.*,128,.*,median,rtt_p50_ns,' '$csv'" "the next case still ran"
left=$(ls /dev/shm /dev/mqueue 2>/dev/null | grep -c ipcbench)
check "[ $left -eq 0 ]" "IPC objects left: $left"
check "[ -z \"\$(pgrep -P $main)\" ]" "no worker left running"

# ---- SIGINT / SIGTERM mid-run: rows so far kept (marked partial), nothing left, 128+N ----
for sig in INT TERM; do
  "$bin" run pingpong --mech pipe --sizes 64,128,256,512,1K,2K --reps 2 --duration 200ms \
    --warmup 10ms --no-plots --out "$out/sig$sig" >"$work/o" 2>"$work/e" & main=$!
  sleep 1.5
  kill -$sig $main
  wait $main; rc=$?
  want=$((128 + $(kill -l $sig)))
  run=$(ls -d "$out/sig$sig"/2* | head -1)
  check "[ $rc -eq $want ]" "SIG$sig: exit $rc, want $want"
  check "[ -s '$run/results.csv' ] && grep -q ',PARTIAL,' '$run/results.csv'" "SIG$sig: partial CSV with a PARTIAL row"
  check "grep -q '\"partial\": true' '$run/metadata.json'" "SIG$sig: metadata says partial"
  check "grep -q ',median,rtt_p50_ns,' '$run/results.csv'" "SIG$sig: the finished case kept its rows"
  check "[ -z \"\$(find '$run' -name '*.tmp')\" ]" "SIG$sig: temporary files left"
  check "[ -z \"\$(pgrep -P $main)\" ]" "SIG$sig: workers left running"
done

# ---- injected faults are detected: the case FAILS, no number is reported ----
for f in drop@5 dup@5 corrupt@5; do
  IPCBENCH_TEST_FAULT=$f "$bin" run stream --mech pipe --sizes 64 --reps 1 --duration 20ms \
    --warmup 5ms --no-plots --out "$out/fault" >/dev/null 2>"$work/e"; rc=$?
  csv=$(ls -t "$out"/fault/2*/results.csv | head -1)
  check "[ $rc -eq 1 ] && grep -q ',FAILED,.*integrity' '$csv' && ! grep -q ',median,' '$csv'" "fault $f not detected: $(cat "$work/e")"
done

# ---- --perf: cycles and instructions per message, or "unsupported" said once with the errno ----
"$bin" run pingpong,stream --mech pipe --sizes 64 --perf $q >/dev/null 2>"$work/e"; rc=$?
csv=$(ls -t "$out"/2*/results.csv | head -1)
meta=$(dirname "$csv")/metadata.json
if grep -q 'cycles and instructions per message: unsupported' "$work/e"; then
  check "[ $rc -eq 0 ] && [ \$(grep -c unsupported '$work/e') -eq 1 ] && grep -q 'errno' '$work/e' && ! grep -q ',cycles_' '$csv' && grep -q '\"cycles_instructions\": \"perf_event_open' '$meta'" \
    "--perf unsupported: said once, with the errno, no cycle rows: $(cat "$work/e")"
else
  for m in cycles_a_per_rt cycles_b_per_rt instructions_a_per_rt cycles_b_per_msg; do
    check "[ $rc -eq 0 ] && grep -q ',median,$m,' '$csv'" "--perf: no $m row"
  done
fi
# without --perf there are no cycle rows and no perf event is opened
check "! grep -q ',cycles_' \"\$(ls -t '$out'/2*/results.csv | sed -n 2p)\"" "cycle rows without --perf"
# migrations are counted (the scheduler's count or perf's), and the params say how
check "grep -q 'eff.migrations_by=\\(sched\\|perf\\|sampling\\)' '$csv'" "params lack eff.migrations_by"

# ---- a pinned worker moved to another CPU in the middle of a case: FAILED, pinning did not hold ----
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  "$bin" run pingpong --mech pipe --sizes 64 --cpus 0,0 --reps 1 --duration 3s --warmup 10ms \
    --no-plots --out "$out/moved" >"$work/o" 2>"$work/e" & main=$!
  victim=""
  for _ in $(seq 100); do
    victim=$(pgrep -P $main | head -1); [ -n "$victim" ] && break; sleep 0.05
  done
  sleep 0.5
  [ -n "$victim" ] && taskset -p -c 1 "$victim" >/dev/null
  wait $main; rc=$?
  csv=$(ls "$out"/moved/2*/results.csv 2>/dev/null | head -1)
  check "[ $rc -eq 1 ] && grep -q 'FAILED,.*pinning did not hold: worker [01] was assigned CPU 0 but ran on CPU' '$csv'" \
    "a moved worker: rc $rc, $(grep FAILED "$csv")"
  if grep -q 'eff.migrations_by=sched' "$out"/2*/results.csv 2>/dev/null; then
    check "grep -q 'migrations counted' '$csv'" "the moved worker's migrations were not counted: $(grep FAILED "$csv")"
  fi
fi

# ---- a request the kernel clamps: FAILED naming both values, or recorded with --allow-clamp ----
# clamp_pair NAME WANT_REFUSED GRANTED WRAPPER -- ARGS: runs ARGS without and with --allow-clamp.
# Refused: exit 1, a FAILED row saying "<option> <asked> clamped to <granted>", no number.
# Allowed: exit 0, median rows whose reason carries the same words, nothing left behind.
cq="--sizes 64 --reps 1 --duration 20ms --warmup 5ms --no-plots --progress off"
clamp_pair() {
  local name=$1 refused=$2 want=$3 wrap=$4; shift 5
  $wrap "$bin" run pingpong $cq --out "$out/clamp-$name" "$@" >"$work/o" 2>"$work/e"; local rc=$?
  local csv; csv=$(ls -t "$out/clamp-$name"/2*/results.csv 2>/dev/null | head -1)
  if [ "$refused" = 1 ]; then
    check "[ $rc -eq 1 ] && grep -q ',FAILED,.*clamped to $want' '$csv' && ! grep -q ',median,' '$csv'" \
      "$name: clamp not refused (rc $rc): $(cat "$work/e")"
  else
    check "[ $rc -eq 0 ] && ! grep -q 'clamped' '$csv'" "$name: privileged request not granted (rc $rc): $(cat "$work/e")"
  fi
  $wrap "$bin" run pingpong $cq --out "$out/clamp-$name-ok" --allow-clamp "$@" >"$work/o" 2>"$work/e"; rc=$?
  csv=$(ls -t "$out/clamp-$name-ok"/2*/results.csv 2>/dev/null | head -1)
  if [ "$refused" = 1 ]; then
    check "[ $rc -eq 0 ] && grep -q ',median,rtt_p50_ns,.*clamped to $want' '$csv' && grep -q 'warning:.*clamped to $want' '$work/e'" \
      "$name: --allow-clamp did not run and record the clamp (rc $rc): $(cat "$work/e")"
  fi
  left=$(ls /dev/shm /dev/mqueue 2>/dev/null | grep -c ipcbench)
  check "[ $left -eq 0 ]" "$name: IPC objects left: $left"
}
msg_max=$(cat /proc/sys/fs/mqueue/msg_max 2>/dev/null || echo 0)
if [ "$msg_max" -gt 0 ] && [ "$msg_max" -lt 65536 ]; then
  # ipcbench holds the depth to msg_max for root too, so this is a clamp for everyone
  clamp_pair mq 1 "$msg_max" "" -- --mech posix-mq --posix-mq-depth $((msg_max + 1))
fi
wmem=$(cat /proc/sys/net/core/wmem_max 2>/dev/null || echo 0)
if [ "$wmem" -gt 0 ] && [ "$wmem" -lt $((1 << 29)) ]; then
  # SO_SNDBUF is capped at wmem_max for root too (only SO_SNDBUFFORCE is not)
  clamp_pair sock 1 "$wmem" "" -- --mech socketpair-stream --sock-buf $((wmem * 2))
fi
pmax=$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo 0)
if [ "$pmax" -gt 0 ] && [ "$pmax" -lt $((1 << 29)) ]; then
  # Over pipe-max-size only CAP_SYS_RESOURCE gets the pipe. With it (root, usually), drop it
  # for the run (setpriv); if that is impossible, check that the privileged request is granted.
  capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
  if [ $(( 0x${capeff:-0} >> 24 & 1 )) -eq 0 ]; then
    clamp_pair pipe 1 "$pmax" "" -- --mech pipe --pipe-size $((pmax * 2))
  elif command -v setpriv >/dev/null && setpriv --bounding-set -sys_resource true 2>/dev/null; then
    clamp_pair pipe 1 "$pmax" "setpriv --bounding-set -sys_resource" -- --mech pipe --pipe-size $((pmax * 2))
  else
    clamp_pair pipe 0 "" "" -- --mech pipe --pipe-size $((pmax * 2))
  fi
fi

echo "cli_test: $pass passed, $fail failed"
[ $fail -eq 0 ]
