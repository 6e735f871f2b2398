#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ipcbench stress` end to end: a clean mixed run reports zero integrity errors for every
# mechanism and as many open fds at the end as at the start; a run injecting every fault kind
# detects each one (detected == injected, per kind), marks the hit cases FAILED with the
# reason, completes, exits 0 and leaves no IPC object behind (/dev/shm, the POSIX mq
# filesystem and ipcs, checked in a private IPC namespace when we may make one), within the
# watchdog bound; SIGINT and SIGTERM stop it with 130/143, partial rows kept and nothing
# left; a worker stopped during a normal run fails its case at once (worker.c reaps with
# WUNTRACED); bad stress input exits 2 with one line and writes nothing.
# Lanes: a clean run reports its lanes (one row group each: reps, peak RSS, fds equal) and
# that cases overlapped; a lane killed with SIGKILL is a FAILED lane row while the other lane
# runs to the end, and neither its workers nor its objects (System V ones included) remain;
# lanes of a parent killed with SIGKILL stop and clean up; thread mode reports the lane's
# RSS; --stress-lanes is taken and clamped to the cases there are.
# Usage: stress_test.sh PATH/TO/ipcbench
set -u
bin=${1:?usage: stress_test.sh ipcbench}
work=$(mktemp -d /tmp/ipcb-stress.XXXXXX)
trap 'umount "$work/mq" 2>/dev/null; rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
out="$work/res"

# value of a stress total row (bench stress, rep 1): total_value CSV MECH METRIC [PARAMS]
total_value() {
  awk -F, -v m="$2" -v k="$3" -v p="${4:-}" \
    '$2 == "stress" && $3 == m && $12 == p && $13 == "1" && $14 == k { print $16 }' "$1"
}
# nothing of the processes PID... left in /dev/shm or /tmp (FIFOs, sockets); the lanes create
# the objects, under their own pids
leftovers() {
  local n=0 p
  for p in "$@"; do
    n=$((n + $(ls /dev/shm /tmp 2>/dev/null | grep -c "^ipcbench-$p-")))
  done
  echo $n
}
# the lane pids from a stress summary on stdout (the lane table: lane, pid, ...)
lane_pids() {
  awk '/^lane +pid/ { t = 1; next } t && /^[0-9]+ +[0-9]+ / { print $2 } t && /^$/ { t = 0 }' "$1"
}

# ---- a clean run: zero integrity errors everywhere, fds equal, exit 0 ----
"$bin" stress --quick --duration 5s --out "$out/clean" >"$work/clean.o" 2>"$work/e"; rc=$?
check "[ $rc -eq 0 ]" "clean stress exit $rc: $(tail -5 "$work/clean.o") $(tail -3 "$work/e")"
csv=$(ls "$out"/clean/2*/results.csv 2>/dev/null | head -1)
check "[ -s '$csv' ]" "clean stress wrote results.csv"
if [ -s "$csv" ]; then
  nmech=$(awk -F, '$2 == "stress" && $3 != "" && $14 == "errors"' "$csv" | wc -l)
  check "[ $nmech -ge 3 ]" "clean stress: only $nmech mechanisms reported"
  nonzero=$(awk -F, '$2 == "stress" && $3 != "" && $14 == "errors" && $16 != 0' "$csv")
  check "[ -z '$nonzero' ]" "clean stress: integrity errors: $nonzero"
  for m in dup corrupt; do
    n=$(awk -F, -v k=$m '$2 == "stress" && $3 != "" && $14 == k && $16 != 0' "$csv" | wc -l)
    check "[ $n -eq 0 ]" "clean stress: $m messages reported"
  done
  noops=$(awk -F, '$2 == "stress" && $3 != "" && $14 == "ops" && $16 == 0 { print $3 }' "$csv")
  check "[ -z '$noops' ]" "clean stress: mechanisms that checked no message: $noops"
  fs=$(total_value "$csv" "" fds_start); fe=$(total_value "$csv" "" fds_end)
  check "[ -n '$fs' ] && [ '$fs' = '$fe' ]" "clean stress: fds $fs at the start, $fe at the end"
  rss=$(awk -F, '$2 == "stress" && $3 == "pipe" && $14 == "peak_rss_kib" { print $16 }' "$csv")
  check "[ -n '$rss' ] && [ '$rss' -gt 0 ]" "clean stress: pipe workers' peak RSS '$rss'"
  check "! grep -q ',FAILED,' '$csv'" "clean stress has FAILED rows: $(grep ',FAILED,' "$csv" | head -3)"
  # the same CSV schema: the readers (compare, report) take a stress run
  "$bin" compare "${csv%/results.csv}" "${csv%/results.csv}" >"$work/o" 2>&1; rc=$?
  check "[ $rc -eq 0 ]" "compare reads a stress run: exit $rc: $(tail -2 "$work/o")"
  "$bin" report "${csv%/results.csv}" --out "$work/report" >"$work/o" 2>&1; rc=$?
  check "[ $rc -eq 0 ]" "report reads a stress run: exit $rc: $(tail -2 "$work/o")"
  check "grep -q 'ipcbench: stress [0-9]*/5 s:' '$work/e'" "clean stress: no progress lines"
  pid=${csv%/results.csv}; pid=${pid##*-}
  lanes=$(lane_pids "$work/clean.o")
  check "[ $(leftovers "$pid" $lanes) -eq 0 ]" "clean stress left IPC objects"
  # many cases at once: the lanes, and how many cases were in progress together (measured)
  nl=$(total_value "$csv" "" lanes); peak=$(total_value "$csv" "" cases_at_once_max)
  check "[ -n '$nl' ] && [ '$nl' -ge 2 ] && [ $(echo $lanes | wc -w) = '$nl' ]" "clean stress: lanes '$nl', pids '$lanes'"
  check "[ -n '$peak' ] && [ '$peak' -ge 2 ] && [ '$peak' -le '$nl' ]" "clean stress: at most '$peak' cases at once with '$nl' lanes"
  check "grep -q 'in $nl lanes, cases in progress at once: peak $peak' '$work/clean.o'" "clean stress summary says lanes and overlap"
  for l in $(seq 0 $((nl - 1))); do
    lr=$(total_value "$csv" "" reps "lane=$l"); lrss=$(total_value "$csv" "" peak_rss_kib "lane=$l")
    lfs=$(total_value "$csv" "" fds_start "lane=$l"); lfe=$(total_value "$csv" "" fds_end "lane=$l")
    check "[ -n '$lr' ] && [ '$lr' -gt 0 ] && [ -n '$lrss' ] && [ '$lrss' -gt 0 ]" "lane $l: reps '$lr', peak RSS '$lrss'"
    check "[ -n '$lfs' ] && [ '$lfs' = '$lfe' ]" "lane $l: fds $lfs at its start, $lfe at its end"
  done
fi

# ---- every fault kind: detected == injected per kind, the run completes, nothing left ----
faults="--inject kill-worker,stop-worker,slow-consumer,full-queue --inject-rate 4/s --timeout 5s"
run_faults() {
  "$bin" stress --quick --duration 4s $faults --out "$out/faults" >"$work/o" 2>"$work/e"
  echo $? >"$work/rc"
  if [ -n "${1:-}" ]; then
    ls "$1" | grep -c '^ipcbench-' >"$work/mqleft"
    ipcs -q -m -s | grep -c '^0x' >"$work/sysvleft"
  fi
}
if [ "$(id -u)" -eq 0 ] && unshare --ipc --mount true 2>/dev/null; then
  # A private IPC namespace: its System V objects and POSIX queues are ours alone.
  mkdir -p "$work/mq"
  export -f run_faults
  export bin faults out work
  unshare --ipc --mount bash -c 'mount -t mqueue none "$work/mq" && run_faults "$work/mq"'
  private=1
else
  echo "stress_test: not root or no unshare: ipcs and the mq filesystem are not checked" >&2
  run_faults
  private=0
fi
rc=$(cat "$work/rc" 2>/dev/null || echo none)
check "[ '$rc' = 0 ]" "fault stress exit $rc: $(tail -4 "$work/o") $(tail -3 "$work/e")"
csv=$(ls "$out"/faults/2*/results.csv 2>/dev/null | head -1)
check "[ -s '$csv' ]" "fault stress wrote results.csv"
if [ -s "$csv" ]; then
  for k in kill-worker stop-worker slow-consumer full-queue; do
    inj=$(total_value "$csv" "" faults_injected "fault=$k")
    det=$(total_value "$csv" "" faults_detected "fault=$k")
    check "[ -n '$inj' ] && [ '$inj' -ge 1 ] && [ '$inj' = '$det' ]" "fault $k: injected '$inj', detected '$det'"
  done
  # killed and stopped workers are detected within the watchdog bound (--timeout 5s)
  for k in kill-worker stop-worker; do
    ns=$(total_value "$csv" "" detect_ns_max "fault=$k")
    check "[ -n '$ns' ] && awk 'BEGIN { exit !($ns > 0 && $ns < 5e9) }'" "fault $k: detected after '$ns' ns, watchdog 5 s"
  done
  inj=$(total_value "$csv" "" faults_injected); det=$(total_value "$csv" "" faults_detected)
  check "[ -n '$inj' ] && [ '$inj' -ge 4 ] && [ '$inj' = '$det' ]" "all faults: injected '$inj', detected '$det'"
  check "grep -q 'FAILED,\"injected kill-worker: worker [0-9]* (role [AB], CPU [0-9]*) killed by signal 9' '$csv'" "a killed worker's FAILED row names the signal"
  check "grep -q 'FAILED,\"injected stop-worker: worker [0-9]* (role [AB], CPU [0-9]*) stopped by signal 19' '$csv'" "a stopped worker's FAILED row names the stop"
  bad_rows=$(grep ',FAILED,' "$csv" | grep -v ',FAILED,"injected \(kill\|stop\)-worker: ')
  check "[ -z '$bad_rows' ]" "failures not caused by a kill or stop: $bad_rows"
  nonzero=$(awk -F, '$2 == "stress" && $3 != "" && $14 == "errors" && $16 != 0' "$csv")
  check "[ -z '$nonzero' ]" "fault stress: integrity errors: $nonzero"
  fs=$(total_value "$csv" "" fds_start); fe=$(total_value "$csv" "" fds_end)
  check "[ -n '$fs' ] && [ '$fs' = '$fe' ]" "fault stress: fds $fs at the start, $fe at the end"
  pid=${csv%/results.csv}; pid=${pid##*-}
  check "[ $(leftovers "$pid" $(lane_pids "$work/o")) -eq 0 ]" "fault stress left objects in /dev/shm or /tmp"
  if [ $private -eq 1 ]; then
    check "[ \"\$(cat '$work/mqleft')\" = 0 ]" "fault stress left POSIX queues: $(cat "$work/mqleft")"
    check "[ \"\$(cat '$work/sysvleft')\" = 0 ]" "fault stress left System V objects: $(cat "$work/sysvleft")"
  fi
fi

# ---- SIGINT / SIGTERM: 128+N, partial rows kept, no worker or object left ----
for sig in INT TERM; do
  "$bin" stress --duration 30s --out "$out/sig$sig" >"$work/o" 2>"$work/e" & main=$!
  sleep 2
  lanes=$(pgrep -P $main); workers=$(for l in $lanes; do pgrep -P $l; done)
  kill -$sig $main
  wait $main; rc=$?
  want=$((128 + $(kill -l $sig)))
  run=$(ls -d "$out/sig$sig"/2* 2>/dev/null | head -1)
  check "[ $rc -eq $want ]" "stress SIG$sig: exit $rc, want $want"
  check "[ -s '$run/results.csv' ] && grep -q ',PARTIAL,' '$run/results.csv'" "stress SIG$sig: partial CSV with a PARTIAL row"
  check "grep -q '\"partial\": true' '$run/metadata.json'" "stress SIG$sig: metadata says partial"
  check "grep -q ',stress,pipe,.*,1,ops,' '$run/results.csv'" "stress SIG$sig: totals so far kept"
  check "[ -z \"\$(find '$run' -name '*.tmp')\" ]" "stress SIG$sig: temporary files left"
  check "[ -n '$lanes' ]" "stress SIG$sig: no lane processes seen"
  alive=$(for p in $lanes $workers; do kill -0 $p 2>/dev/null && echo $p; done)
  check "[ -z '$alive' ]" "stress SIG$sig: lanes or workers left running: $alive"
  check "[ $(leftovers "$main" $lanes) -eq 0 ]" "stress SIG$sig: IPC objects left"
done

# ---- a lane killed (SIGKILL) mid-run: a FAILED lane row, the other lane runs on to the end
# (a complete run, exit 1), the dead lane's workers gone and the objects it held removed:
# named ones and System V queues, which only its cleanup list in shared memory knows ----
run_lane_kill() {
  "$bin" stress --duration 4s --stress-lanes 2 --mech sysv-msg,posix-mq,pipe \
    --out "$out/lanekill" >"$work/o" 2>"$work/e" & local main=$!
  local lanes="" victim="" kids=""
  for _ in $(seq 100); do
    lanes=$(pgrep -P $main | tr '\n' ' '); [ $(echo $lanes | wc -w) -ge 2 ] && break; sleep 0.05
  done
  victim=${lanes%% *}
  sleep 1.5
  kids=$(pgrep -P "$victim" | tr '\n' ' ')
  kill -KILL "$victim"
  wait $main; echo $? >"$work/rc"
  echo "$main" >"$work/main"; echo "$victim" >"$work/victim"; echo "$kids" >"$work/kids"
  if [ -n "${1:-}" ]; then
    ls "$1" | grep -c '^ipcbench-' >"$work/mqleft"
    ipcs -q -m -s | grep -c '^0x' >"$work/sysvleft"
  fi
}
if [ $private -eq 1 ]; then
  export -f run_lane_kill
  unshare --ipc --mount bash -c 'mount -t mqueue none "$work/mq" && run_lane_kill "$work/mq"'
else
  run_lane_kill
fi
rc=$(cat "$work/rc" 2>/dev/null || echo none); victim=$(cat "$work/victim"); main=$(cat "$work/main")
csv=$(ls "$out"/lanekill/2*/results.csv 2>/dev/null | head -1)
check "[ '$rc' = 1 ]" "a run with a killed lane exits 1, got $rc: $(tail -3 "$work/e")"
check "[ -s '$csv' ] && grep -q 'FAILED,\"lane [01] (pid $victim) killed by signal 9 (Killed); its cases stopped, [0-9]* IPC objects it left removed' '$csv'" "killed lane's FAILED row: $(grep FAILED "$csv" | head -3)"
check "grep -q '\"partial\": false' '${csv%/results.csv}/metadata.json'" "a run with a killed lane is complete, not partial"
check "! grep -q ',PARTIAL,' '$csv'" "a run with a killed lane has PARTIAL rows"
other=$(awk -F, '$2 == "stress" && $3 == "" && $12 ~ /^lane=/ && $14 == "fds_end" { print $12 }' "$csv")
check "[ \"$(echo $other | wc -w)\" = 1 ]" "the other lane ran to its end: '$other'"
check "grep -q ',stress,sysv-msg,.*,1,ops,' '$csv'" "killed lane run: totals written"
alive=$(for p in $victim $(cat "$work/kids"); do kill -0 $p 2>/dev/null && echo $p; done)
check "[ -z '$alive' ]" "killed lane: it or its workers still run: $alive"
check "[ $(leftovers "$main" $(lane_pids "$work/o")) -eq 0 ]" "killed lane: objects left in /dev/shm or /tmp"
if [ $private -eq 1 ]; then
  check "[ \"\$(cat '$work/mqleft')\" = 0 ]" "killed lane: POSIX queues left: $(cat "$work/mqleft")"
  check "[ \"\$(cat '$work/sysvleft')\" = 0 ]" "killed lane: System V objects left: $(cat "$work/sysvleft")"
fi

# ---- the parent killed (SIGKILL): its lanes get SIGTERM (PDEATHSIG), stop and clean up ----
"$bin" stress --duration 30s --mech pipe,posix-mq --out "$out/parentkill" >"$work/o" 2>"$work/e" & main=$!
lanes=""
for _ in $(seq 100); do
  lanes=$(pgrep -P $main | tr '\n' ' '); [ $(echo $lanes | wc -w) -ge 2 ] && break; sleep 0.05
done
sleep 1
kill -KILL $main; wait $main 2>/dev/null
for _ in $(seq 100); do
  alive=$(for p in $lanes; do kill -0 $p 2>/dev/null && echo $p; done); [ -z "$alive" ] && break; sleep 0.05
done
check "[ -n '$lanes' ] && [ -z '$alive' ]" "lanes of a killed parent: seen '$lanes', still running '$alive'"
check "[ $(leftovers $lanes) -eq 0 ]" "lanes of a killed parent left IPC objects"

# ---- thread mode: the workers are threads of the lane, whose RSS is reported ----
"$bin" stress --duration 2s --mode thread --mech pipe,shm-queue --out "$out/thread" >"$work/o" 2>"$work/e"; rc=$?
csv=$(ls "$out"/thread/2*/results.csv 2>/dev/null | head -1)
check "[ $rc -eq 0 ] && [ -s '$csv' ]" "thread-mode stress exit $rc: $(tail -3 "$work/e")"
rss=$(awk -F, '$2 == "stress" && $3 == "pipe" && $14 == "peak_rss_kib" { print $16 }' "$csv")
check "[ -n '$rss' ] && [ '$rss' -gt 0 ]" "thread-mode stress: pipe's peak RSS (its lane's) '$rss'"

# ---- --stress-lanes: as asked, clamped to the cases there are ----
"$bin" stress --duration 1s --stress-lanes 3 --mech pipe --out "$out/lanes3" >"$work/o" 2>"$work/e"; rc=$?
csv=$(ls "$out"/lanes3/2*/results.csv 2>/dev/null | head -1)
check "[ $rc -eq 0 ] && [ \"\$(total_value '$csv' '' lanes)\" = 3 ]" "--stress-lanes 3: exit $rc, lanes '$(total_value "$csv" "" lanes)'"
"$bin" stress --duration 1s --stress-lanes 50 --mech eventfd --bench pingpong --sizes 8 \
  --out "$out/lanes50" >"$work/o" 2>"$work/e"; rc=$?
csv=$(ls "$out"/lanes50/2*/results.csv 2>/dev/null | head -1)
check "[ $rc -eq 0 ] && [ \"\$(total_value '$csv' '' lanes)\" = 1 ] && grep -q '50 asked, but only 1 cases' '$work/e'" "--stress-lanes 50 with one case: exit $rc, $(head -1 "$work/e")"

# ---- a worker stopped (SIGSTOP) during a normal run: FAILED at once with the stop named
# (not the watchdog's timeout, set long here), the stopped worker killed and reaped, the
# run goes on ----
"$bin" run pingpong --mech pipe --sizes 64,128 --reps 1 --duration 3s --warmup 10ms --timeout 60s \
  --no-plots --out "$out/stop" >"$work/o" 2>"$work/e" & main=$!
victim=""
for _ in $(seq 100); do
  victim=$(pgrep -P $main | head -1); [ -n "$victim" ] && break; sleep 0.05
done
sleep 0.3
[ -n "$victim" ] && kill -STOP "$victim"
wait $main; rc=$?
csv=$(ls "$out"/stop/2*/results.csv 2>/dev/null | head -1)
check "[ -n '$victim' ]" "found a worker to stop"
check "[ $rc -eq 1 ]" "a run with a stopped worker exits 1, got $rc"
check "grep -q 'FAILED,\"\\?worker [01] (role [AB], CPU [0-9]*) stopped by signal 19' '$csv'" "FAILED row names the stop: $(grep FAILED "$csv")"
check "grep -q ',pingpong,pipe,.*,128,.*,median,rtt_p50_ns,' '$csv'" "the next case still ran"
check "[ -z \"\$(pgrep -P $main)\" ] && ! kill -0 $victim 2>/dev/null" "stopped worker left behind"
check "[ $(leftovers "$main") -eq 0 ]" "stopped worker run left IPC objects"

# ---- bad stress input: exit 2, one line, nothing written ----
badcase() {
  local want=$1; shift
  "$bin" "$@" --out "$out/bad" >"$work/o" 2>"$work/e"; local rc=$?
  check "[ $rc -eq 2 ]" "'$*' exit $rc, want 2"
  check "[ \$(wc -l <'$work/e') -eq 1 ]" "'$*' should print one line, printed: $(head -c 300 "$work/e")"
  check "grep -qi -- '$want' '$work/e'" "'$*' message lacks '$want': $(cat "$work/e")"
  check "[ ! -e '$out/bad' ]" "'$*' wrote $out/bad"
}
badcase "unknown fault" stress --inject meteor
badcase "unknown fault" stress --inject kill-worker,
badcase "--inject: empty" stress --inject ""
badcase "needs --inject" stress --inject-rate 5/s
badcase "--inject-rate" stress --inject kill-worker --inject-rate 0
badcase "--inject-rate" stress --inject kill-worker --inject-rate -1
badcase "--inject-rate" stress --inject kill-worker --inject-rate 1e400
badcase "--inject-rate" stress --inject kill-worker --inject-rate fast
badcase "threads cannot" stress --inject stop-worker --mode thread
badcase "belong to ipcbench stress" run pingpong --inject kill-worker
badcase "--duration" stress --duration 0
badcase "--duration" stress --duration 99999999
badcase "--reps does not apply" stress --reps 3
badcase "drop --all" stress --all
badcase "--stress-lanes" stress --stress-lanes 0
badcase "--stress-lanes" stress --stress-lanes 257
badcase "--stress-lanes" stress --stress-lanes two
badcase "belong to ipcbench stress" run pingpong --stress-lanes 2
badcase "not one of pingpong" stress --bench counter
badcase "takes no arguments" stress pingpong
badcase "unknown mechanism" stress --mech carrier-pigeon
badcase "no stream or prodcons case" stress --bench pingpong --inject full-queue
badcase "nothing to run" stress --mech eventfd --sizes 64

echo "stress_test: $pass passed, $fail failed"
[ $fail -eq 0 ]
