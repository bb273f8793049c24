#!/bin/bash
# The Slurm executor for real: a single-node Slurm on localhost (munged,
# slurmctld, slurmd started here, stopped on exit), the tiny sweep submitted as
# a job array plus a dependent collection job, results identical to a local
# run, and a resubmission that lists only the missing point.
# Skipped (exit 77) without root or without slurm-wlm/munge.
# Usage: sweep-slurm.sh SPARSELUT PYTHON
set -u
EXE=$(realpath "$1")
PY=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/sweep-common.sh"
bash "$HERE/slurm-local.sh" check || exit 77
T=$(mktemp -d)
chmod 755 "$T"
cleanup() {
    bash "$HERE/slurm-local.sh" stop "$T/slurm"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
sweep_fixture "$T"
cd "$T" || exit 1

bash "$HERE/slurm-local.sh" start "$T/slurm" >start.log 2>&1 || { cat start.log; fail "Slurm did not start"; }
export SLURM_CONF=$T/slurm/slurm.conf
sinfo

# the whole sweep through Slurm; --wait returns when the collection job ends
timeout 600 "$EXE" sweep tiny.ini --out viaslurm --slurm --wait >submit.txt 2>submit.log ||
    { cat submit.txt submit.log viaslurm/slurm/*.out; fail "the Slurm sweep failed"; }
cat submit.txt
grep -q -- "--array=0-7 " submit.txt || fail "array should cover points 0-7"
grep -q -- "--dependency=afterany:[0-9]" submit.txt || fail "no dependent collection job"
[ "$(ls viaslurm/points/*/point.json | wc -l)" = 8 ] || fail "not 8 finished points"
[ -s viaslurm/report.html ] && [ -s viaslurm/summary.csv ] || fail "collection job wrote no summary"
grep -q '"slurm_job"' viaslurm/points/*/point.json || fail "points did not run in Slurm jobs"

# the same sweep locally gives identical result files
"$EXE" sweep tiny.ini --out local --jobs 2 2>local.log || fail "local sweep failed"
"$PY" "$HERE/sweep-compare.py" viaslurm local || fail "Slurm and local results differ"

# resubmission: only the missing point is in the array
victim=$(sed -n 4p viaslurm/points.txt)
rm "viaslurm/points/$victim/point.json"
timeout 300 "$EXE" sweep tiny.ini --out viaslurm --slurm --wait >resubmit.txt 2>resubmit.log ||
    { cat resubmit.txt resubmit.log; fail "the resubmission failed"; }
grep -q -- "--array=3 " resubmit.txt || { cat resubmit.txt; fail "resubmission should be point 3 only"; }
"$PY" "$HERE/sweep-compare.py" viaslurm local || fail "the rerun point differs"
echo "sweep-slurm: all checks passed"
