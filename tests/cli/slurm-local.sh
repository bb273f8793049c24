#!/bin/bash
# A throw-away single-node Slurm on localhost, for the sweep tests and for
# trying `sparselut sweep --slurm` on one machine (docs/sweep.md).
#
#   slurm-local.sh check         exit 0 if it can run here (root, daemons installed),
#                                else print why and exit 77
#   slurm-local.sh start DIR     munged (generated key) + slurmctld + slurmd with all
#                                state, spool, sockets and logs in DIR (created); waits
#                                until sinfo shows the node idle; prints the export line
#   slurm-local.sh stop DIR      stops the three daemons started in DIR
#
# Commands must then run with SLURM_CONF=DIR/slurm.conf. No systemd needed:
# the daemons run in the foreground (-D / -F) as background jobs of this
# script, their pids in DIR/*.pid.
set -eu

need() {
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || { echo "slurm-local: '$c' not installed (Debian slurm-wlm, munge)"; exit 77; }
    done
}

check() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "slurm-local: needs root (slurmd runs jobs as their users)"
        exit 77
    fi
    need munged mungekey slurmctld slurmd sinfo sbatch scontrol
}

# A free TCP port near $1 (ports in use are skipped).
free_port() {
    p=$1
    while [ "$p" -lt $(($1 + 200)) ]; do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
        p=$((p + 1))
    done
    echo "$1"
}

write_conf() {
    dir=$1
    node=$(slurmd -C | head -n 1 | sed -e 's/^NodeName=[^ ]*//')
    base=$(( 20000 + $$ % 20000 ))
    ctld_port=$(free_port $base)
    slurmd_port=$(free_port $((ctld_port + 1)))
    cat >"$dir/slurm.conf" <<EOF
# Single-node Slurm for tests (written by tests/cli/slurm-local.sh).
ClusterName=splut-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
NodeName=localhost NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    # slurmd 22.05 initialises a cgroup plugin even with proctrack/linuxproc and
    # task/none; it only has to load (autodetect picks v1 or v2 from the mounts).
    printf 'CgroupPlugin=autodetect\nCgroupMountpoint=/sys/fs/cgroup\n' >"$dir/cgroup.conf"
}

start() {
    check
    dir=$1
    mkdir -p "$dir/state" "$dir/spool"
    chmod 700 "$dir"
    mungekey --create --keyfile="$dir/munge.key" --force >/dev/null 2>&1 ||
        dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 2>/dev/null
    chmod 400 "$dir/munge.key"
    munged -F -f --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
        --seed-file="$dir/munged.seed" >>"$dir/munged.out" 2>&1 &
    echo $! >"$dir/munged.jobpid"
    write_conf "$dir"
    export SLURM_CONF="$dir/slurm.conf"
    i=0
    while [ ! -S "$dir/munge.socket" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || { echo "slurm-local: munged did not start:"; cat "$dir/munged.log" "$dir/munged.out" 2>/dev/null; exit 1; }
        sleep 0.1
    done
    slurmctld -D -c >>"$dir/slurmctld.out" 2>&1 &
    echo $! >"$dir/slurmctld.jobpid"
    slurmd -D -N localhost >>"$dir/slurmd.out" 2>&1 &
    echo $! >"$dir/slurmd.jobpid"
    wait_idle "$dir"
    echo "export SLURM_CONF=$dir/slurm.conf"
}

wait_idle() {
    dir=$1
    i=0
    while :; do
        state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
        case "$state" in
        idle*) return 0 ;;
        esac
        i=$((i + 1))
        if [ $i -gt 120 ]; then
            echo "slurm-local: the node is not idle after 60 s (state '$state'); logs:"
            tail -n 30 "$dir"/slurmctld.log "$dir"/slurmd.log "$dir"/*.out 2>/dev/null || true
            exit 1
        fi
        # a node that registered as down (e.g. an old state) is brought back
        case "$state" in
        down* | drain*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
    done
}

# Stops what start() started. The daemons delete their own pid files while
# exiting, so every read here may find the file gone.
stop() {
    dir=$1
    pids=""
    for d in slurmd slurmctld munged; do
        for f in "$dir/$d.jobpid" "$dir/$d.pid"; do
            p=$(cat "$f" 2>/dev/null) || continue
            [ -z "$p" ] || pids="$pids $p"
        done
    done
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$p" 2>/dev/null || true
    done
    rm -f "$dir"/*.jobpid
}

case "${1:-}" in
check) check ;;
start) start "${2:?usage: slurm-local.sh start DIR}" ;;
stop) stop "${2:?usage: slurm-local.sh stop DIR}" ;;
*) echo "usage: slurm-local.sh check | start DIR | stop DIR" >&2; exit 2 ;;
esac
