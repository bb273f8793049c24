#!/bin/bash
# The local executor of `sparselut sweep` end to end on a tiny image dataset:
# expansion, concurrent workers, idempotent reruns, a changed point, a killed
# sweep, errors in the sweep file, and identical results for other --jobs and
# --threads. Usage: sweep-local.sh SPARSELUT PYTHON
set -u
EXE=$(realpath "$1")
PY=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/sweep-common.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sweep_fixture "$T"
cd "$T" || exit 1

# expansion: 2 sections x 2 widths x 2 seeds
"$EXE" sweep tiny.ini --list >list.txt || fail "--list failed"
[ "$(wc -l <list.txt)" = 8 ] || fail "expected 8 points: $(cat list.txt)"
[ "$(grep -c $'\ttodo\t' list.txt)" = 8 ] || fail "points should be todo"
grep -q "poly:12:F3" list.txt || fail "placeholder {W} not substituted"
[ "$(cut -f2 list.txt | sort -u | wc -l)" = 8 ] || fail "hashes not distinct"

# run with two workers; every point finished, CSV and report written
"$EXE" sweep tiny.ini --jobs 2 2>run1.log || { cat run1.log; fail "sweep failed"; }
[ "$(ls tiny.out/points/*/point.json | wc -l)" = 8 ] || fail "not 8 point.json files"
[ "$(wc -l <tiny.out/summary.csv)" = 9 ] || fail "summary.csv should have 8 rows"
grep -q '"switch_epoch":1' tiny.out/points/*/point.json || fail "no switch epoch recorded"
grep -q '"image_width":8' tiny.out/points/*/point.json || fail "no image shape recorded"
grep -q "<svg" tiny.out/report.html || fail "report has no figure"
grep -q "LUTs, ABC fast count (log scale)" tiny.out/report.html || fail "LUT axis not labelled"
head -1 tiny.out/summary.csv | grep -q ",cost_model_luts," || fail "no cost model in the CSV"

# the default hardware estimate is the fast ABC count; the cost model is kept
# beside it (and equals what 'sparselut tables' reported)
"$PY" - tiny.out/points/*/ <<'EOT' || fail "hardware estimate"
import json, sys
for d in sys.argv[1:]:
    p, t = json.load(open(d + "point.json")), json.load(open(d + "tables.json"))
    hw, s = p["hardware"], json.load(open(d + "synth.json"))
    assert p["settings"]["hardware"] == "fast", p["settings"]
    assert hw["method"] == "abc-fast", hw
    assert hw["luts"] == s["lut"] > 0 and hw["layer_luts"] == [l["lut"] for l in s["layers"]]
    assert sum(hw["layer_luts"]) == hw["luts"], hw
    # tables of at most 6 address bits: one LUT per live bit, never above the model
    assert hw["cost_model_luts"] == t["luts"] >= hw["luts"], (hw, t["luts"])
    assert hw["register_bits"] >= hw["register_bits_live"] > 0, hw
    assert hw["depth_lut6"] >= 1 and hw["abc_version"], hw
    assert hw["command"].startswith("sparselut synth --model model.slm "), hw["command"]
    assert "--dont-care --no-reset --fast" in hw["command"], hw["command"]
EOT

# hardware = model needs no ABC; hardware = fast without ABC fails the point
# and says why. The 1-epoch net outputs constants: the fast count is 0 LUT
# (synth --fast used to fail on a net without live logic).
cat >hw.ini <<EOT
data = mnist:$T/data
arch = 64:2 poly:6:F3:D1:b2 poly:3:F3:D1:b2
epochs = 1, 3
hardware = model, fast
EOT
PATH=/nonexistent "$EXE" sweep hw.ini 2>hw.log && fail "a fast estimate without ABC succeeded"
"$EXE" sweep hw.ini --list >hwlist.txt
[ "$(cut -f3 hwlist.txt | tr '\n' ' ')" = "done failed done failed " ] ||
    { cat hwlist.txt hw.log; fail "states"; }
hw_point() { echo "hw.out/points/$(sed -n "$1p" hwlist.txt | cut -f2)"; }
grep -q "neither yosys-abc nor berkeley-abc" "$(hw_point 2)/failed.txt" ||
    fail "no clear message: $(cat "$(hw_point 2)/failed.txt")"
"$EXE" sweep hw.ini 2>/dev/null || fail "the fast points with ABC failed"
"$PY" - "$(hw_point 1)" "$(hw_point 2)" "$(hw_point 3)" <<'EOT' || fail "hardware = model"
import json, sys
model1, fast1, model3 = (json.load(open(d + "/point.json"))["hardware"] for d in sys.argv[1:])
for hw in model1, model3:
    assert hw["method"] == "cost-model" and hw["luts"] == hw["cost_model_luts"] > 0, hw
    assert "command" not in hw, hw
assert fast1["method"] == "abc-fast" and fast1["luts"] == 0, fast1
assert fast1["cost_model_luts"] == model1["cost_model_luts"], (fast1, model1)
EOT
"$EXE" report hw.out 2>/dev/null || fail "report of mixed estimates failed"
grep -q "LUTs, mixed estimates" hw.out/report.html || fail "mixed methods not labelled"

# the report of one point directory
one=$(sed -n 1p tiny.out/points.txt)
"$EXE" report "tiny.out/points/$one" --out one.html --csv one.csv 2>/dev/null || fail "point report failed"
[ "$(wc -l <one.csv)" = 2 ] || fail "a point's CSV should have one row"
grep -q "1 point finished" one.html || fail "point report should show one point"

# --dry-run prints the sbatch commands of the unfinished points only
rm "tiny.out/points/$one/point.json"
"$EXE" sweep tiny.ini --slurm --dry-run >dry.txt 2>/dev/null || fail "--dry-run failed"
grep -q -- "--array=0 " dry.txt || { cat dry.txt; fail "dry run should list point 0 only"; }
grep -q -- "--dependency=afterany:JOBID" dry.txt || fail "no collection job in the dry run"
"$EXE" sweep tiny.ini --point 0 2>/dev/null || fail "--point 0 failed"

# --adopt: an existing run with the same settings lands in the same point
# directory name, with the same results
sets=()
while IFS= read -r line; do
    sets+=(--set "${line%% = *}=${line#* = }")
done <"tiny.out/points/$one/settings.txt"
"$EXE" sweep --adopt "tiny.out/points/$one/train.json" --model "tiny.out/points/$one/model.slm" \
    --out adopted "${sets[@]}" 2>adopt.log || { cat adopt.log; fail "--adopt failed"; }
[ -f "adopted/points/$one/point.json" ] || { ls adopted/points; fail "adopted point has another hash"; }
"$PY" - "tiny.out/points/$one/point.json" "adopted/points/$one/point.json" <<'EOT' || fail "adopted point differs"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for k in ("settings", "accuracy", "history", "tables", "hardware", "model", "inputs"):
    assert a[k] == b[k], k
EOT

# rerun: nothing runs, nothing is rewritten
sums1=$(md5sum tiny.out/points/*/point.json)
"$EXE" sweep tiny.ini --jobs 2 2>run2.log || fail "rerun failed"
grep -q "8 finished before, 0 to run" run2.log || { cat run2.log; fail "rerun ran points"; }
[ "$sums1" = "$(md5sum tiny.out/points/*/point.json)" ] || fail "rerun rewrote point.json"

# a changed setting: only the points whose settings changed run
sed -i 's/^{W} = 6, 12/{W} = 6, 10/' tiny.ini
"$EXE" sweep tiny.ini --jobs 2 2>run3.log || fail "sweep after the change failed"
grep -q "4 finished before, 4 to run" run3.log || { cat run3.log; fail "wrong points rerun"; }
[ "$(ls tiny.out/points/*/point.json | wc -l)" = 12 ] || fail "expected 12 point dirs"
[ "$(wc -l <tiny.out/points.txt)" = 8 ] || fail "points.txt should list the current 8"

# the same sweep with other --jobs/--threads gives identical files
"$EXE" sweep tiny.ini --out again --jobs 1 --threads 2 2>run4.log || fail "second sweep failed"
"$PY" "$HERE/sweep-compare.py" tiny.out again >cmp.txt || { cat cmp.txt; fail "results differ"; }

# a killed sweep leaves no finished marker for the interrupted point
cat >long.ini <<EOT
data = mnist:$T/data
arch = 64:2 poly:12:F3:D1:b2 poly:3:F3:D1:b2
epochs = 1, 100000
EOT
"$EXE" sweep long.ini 2>kill.log &
pid=$!
long=$("$EXE" sweep long.ini --list | sed -n 2p | cut -f2)
for _ in $(seq 200); do
    [ -f "long.out/points/$long/settings.txt" ] && break
    sleep 0.1
done
[ -f "long.out/points/$long/settings.txt" ] || fail "the long point did not start"
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 143 ] || { cat kill.log; fail "killed sweep exited $rc, expected 143"; }
"$EXE" sweep long.ini --list >klist.txt
[ "$(cut -f3 klist.txt | tr '\n' ' ')" = "done todo " ] || { cat klist.txt; fail "states after kill"; }
[ ! -e "long.out/points/$long/point.json" ] || fail "killed point has point.json"
[ ! -e "long.out/points/$long/failed.txt" ] || fail "killed point marked failed"
sleep 0.5
if pgrep -f "long.out/points/$long/model.slm" >/dev/null; then
    fail "the killed point's train process still runs"
fi

# a sweep without finished points still gets a (short) report
mkdir -p empty/points/0000000000000000
"$EXE" report empty 2>/dev/null || fail "report of an empty sweep failed"
grep -q "No finished points yet" empty/report.html || fail "empty report has no message"

# errors in the sweep file are reported with the line
printf 'data = mnist:x\narch = {A}\n' >bad1.ini
"$EXE" sweep bad1.ini --list 2>err1.txt && fail "undefined placeholder accepted"
grep -q "placeholder {A}" err1.txt || fail "message: $(cat err1.txt)"
printf 'data = mnist:x\npreset = hdr\nout = m.slm\n' >bad2.ini
"$EXE" sweep bad2.ini --list 2>err2.txt && fail "reserved option accepted"
grep -q "bad2.ini:3" err2.txt || fail "message: $(cat err2.txt)"
printf 'data = mnist:x\npreset = hdr\nepochs = 1..\n' >bad3.ini
"$EXE" sweep bad3.ini --list 2>err3.txt && fail "bad range accepted"
grep -q "bad range" err3.txt || fail "message: $(cat err3.txt)"
echo "sweep-local: all checks passed"
