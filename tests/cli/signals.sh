#!/bin/bash
# SIGINT and SIGTERM: `sparselut train` stops after the current step, exits
# 130 / 143, leaves no `*.tmp.*` temporary and no --out file, and --resume from
# its last checkpoint ends in the model of an uninterrupted run, byte for byte.
# `sparselut synth` failures name the tool, decode its status and point at a
# log that exists. Usage: signals.sh SPARSELUT PYTHON
set -u
EXE=$(realpath "$1")
PY=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

fail() {
    echo "FAIL: $*"
    exit 1
}

# 20000 rows of 8 features, 3 classes: an epoch takes some milliseconds.
"$PY" - <<'PYEOF' >d.csv || fail "cannot write the dataset"
import random
r = random.Random(1)
print(",".join(["f%d" % i for i in range(8)] + ["label"]))
for _ in range(20000):
    x = [r.uniform(-1, 1) for _ in range(8)]
    print(",".join("%.4f" % v for v in x) + "," + str(int(x[0] + x[1] > 0) + int(x[2] > 0.5)))
PYEOF
EPOCHS=150
TRAIN=("$EXE" train --arch '8:2 poly:12:F3:D2:b2 poly:3:F4:D2:b2' --data csv:d.csv
       --epochs $EPOCHS --threads 1)

"${TRAIN[@]}" --out ref.m 2>ref.log || { cat ref.log; fail "uninterrupted run failed"; }

# interrupt SIG STATUS: signal a run once its first checkpoint exists.
interrupt() {
    local sig=$1 want=$2 dir=out-$1
    mkdir "$dir"
    "${TRAIN[@]}" --out "$dir/m" --checkpoint "$dir/ck" 2>"$dir/log" &
    local pid=$! i
    for i in $(seq 600); do
        [ -e "$dir/ck" ] && break
        sleep 0.05
    done
    [ -e "$dir/ck" ] || fail "$sig: no checkpoint after 30 s"
    kill -s "$sig" $pid
    wait $pid
    local rc=$?
    [ $rc = "$want" ] || { cat "$dir/log"; fail "$sig: exit status $rc, expected $want"; }
    grep -q "interrupted" "$dir/log" || fail "$sig: no 'interrupted' message: $(cat "$dir/log")"
    [ ! -e "$dir/m" ] || fail "$sig: --out was written"
    [ -z "$(find "$dir" -name '*.tmp.*')" ] || fail "$sig: temporaries left: $(ls "$dir")"
    if grep -q "saved" "$dir/log"; then fail "$sig: the run was not interrupted"; fi
    "${TRAIN[@]}" --out "$dir/m" --resume "$dir/ck" 2>"$dir/resume.log" ||
        { cat "$dir/resume.log"; fail "$sig: --resume failed"; }
    cmp -s ref.m "$dir/m" || fail "$sig: the resumed model differs from the uninterrupted one"
    [ -z "$(find "$dir" -name '*.tmp.*')" ] || fail "$sig: temporaries left after resume"
}
interrupt INT 130
interrupt TERM 143

# synth: a fake yosys that fails, then one that kills itself.
"$EXE" train --arch '8:2 poly:4:F2:D1:b2 poly:3:F2:D1:b2' --data csv:d.csv --epochs 1 \
    --out small.m 2>/dev/null || fail "small model"
mkdir bin
printf '#!/bin/sh\necho "fake yosys: broken" >synth.log\nexit 3\n' >bin/yosys
chmod +x bin/yosys
PATH="$T/bin:$PATH" "$EXE" synth --model small.m 2>synth.err
rc=$?
[ $rc = 1 ] || fail "synth with a failing yosys: exit status $rc"
grep -q "yosys exited with status 3" synth.err || fail "status not decoded: $(cat synth.err)"
log=$(sed -n 's/.*; see \([^ ]*synth\.log\).*/\1/p' synth.err | head -n 1)
[ -n "$log" ] && [ -f "$log" ] || fail "the log '$log' does not exist: $(cat synth.err)"
grep -q "fake yosys: broken" "$log" || fail "wrong log: $log"
rm -rf "$(dirname "$log")"

printf '#!/bin/sh\nkill -SEGV $$\n' >bin/yosys
PATH="$T/bin:$PATH" "$EXE" synth --model small.m --out kept 2>synth.err
grep -q "yosys was killed by signal SIGSEGV" synth.err || fail "signal not decoded: $(cat synth.err)"
[ -d kept ] || fail "--out directory removed"
# synth interrupted while yosys runs: the signal reaches yosys (no process is
# left running), the temporary work directory is removed, the status is 130.
printf '#!/bin/sh\necho $$ >"%s/yosys.pid"\npwd >"%s/workdir"\nexec sleep 60\n' "$T" "$T" \
    >bin/yosys
PATH="$T/bin:$PATH" "$EXE" synth --model small.m 2>synth.err &
pid=$!
for i in $(seq 600); do
    [ -s workdir ] && break
    sleep 0.05
done
[ -s workdir ] || fail "the fake yosys did not start"
sleep 0.2
kill -s INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || fail "interrupted synth: exit status $rc: $(cat synth.err)"
grep -q "interrupted" synth.err || fail "interrupted synth: $(cat synth.err)"
if grep -q "yosys was killed" synth.err; then fail "an interrupt reported as a failure"; fi
[ ! -e "$(cat workdir)" ] || fail "the work directory $(cat workdir) was left"
sleep 0.2
if kill -0 "$(cat yosys.pid)" 2>/dev/null; then fail "yosys left running"; fi
# A second signal while stopping ends the program at once (default action):
# here yosys ignores the forwarded SIGINT, so only the second one ends synth.
printf '#!/bin/sh\ntrap "" INT\necho $$ >"%s/yosys.pid"\nexec sleep 60\n' "$T" >bin/yosys
rm -f yosys.pid
PATH="$T/bin:$PATH" "$EXE" synth --model small.m --out twice 2>synth.err &
pid=$!
for i in $(seq 600); do
    [ -s yosys.pid ] && break
    sleep 0.05
done
sleep 0.2
kill -s INT $pid
sleep 0.5
kill -0 $pid 2>/dev/null || fail "synth did not wait for yosys after the first SIGINT"
kill -s INT $pid
wait $pid
rc=$?
kill -s KILL "$(cat yosys.pid)" 2>/dev/null
[ $rc = 130 ] || fail "second SIGINT: exit status $rc"
if grep -q "interrupted" synth.err; then fail "the second SIGINT did not end synth at once"; fi
echo "ok"
