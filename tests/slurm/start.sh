#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine, for tests/test_slurm.py.
#
# Idempotent: installs Debian's slurm-wlm and munge if missing, writes a minimal
# slurm.conf (this host, its CPUs and memory, one default partition, no accounting
# database, no cgroups or systemd needed) and a munge key, starts munged,
# slurmctld and slurmd by hand if they are not running, and waits until the node
# is idle. A cluster that already answers with a usable node is left untouched.
#
# Exit codes: 0 ready; 77 not root and no running SLURM (nothing can be installed
# or started); 1 anything else failed (the daemons' logs are printed).
#
# Environment: SLURM_START_TIMEOUT (seconds to wait for the node, default 90).
set -euo pipefail

EXIT_NEEDS_ROOT=77
TIMEOUT=${SLURM_START_TIMEOUT:-90}
CONF=/etc/slurm/slurm.conf
MARKER="# single-node test cluster written by tests/slurm/start.sh"
LOG_DIR=/var/log/slurm
STATE_DIR=/var/lib/slurm
MUNGE_KEY=/etc/munge/munge.key

say() { echo "start.sh: $*"; }
fail() { echo "start.sh: ERROR: $*" >&2; exit 1; }

node_states() {
    # One compact state per node (idle, mix, alloc, down*, ...), or nothing.
    sinfo --noheader --Node --format=%t 2>/dev/null || true
}

node_ready() {
    local state
    for state in $(node_states); do
        case "$state" in
            idle | mix | alloc) return 0 ;;
        esac
    done
    return 1
}

show_logs() {
    local f
    {
        echo "----- sinfo -----"
        sinfo 2>&1 || true
        echo "----- scontrol show node -----"
        scontrol show node 2>&1 || true
        for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
            echo "----- tail of $f -----"
            tail -n 40 "$f" 2>&1 || true
        done
    } >&2
}

cluster_up() { command -v sinfo >/dev/null && node_ready; }
ours() { [[ ! -e $CONF ]] || grep -qxF "$MARKER" "$CONF"; }

if [[ $(id -u) -ne 0 ]]; then
    if cluster_up; then
        say "using the running SLURM cluster: $(sinfo --noheader --Node --format='%N %t %P' | tr '\n' ' ')"
        exit 0
    fi
    echo "start.sh: no running SLURM cluster here, and starting one needs root" \
         "(apt-get install slurm-wlm munge, then starting munged, slurmctld, slurmd)" >&2
    exit $EXIT_NEEDS_ROOT
fi
if ! ours; then
    if cluster_up; then
        say "using the running SLURM cluster configured in $CONF (not written by this script)"
        exit 0
    fi
    fail "$CONF exists and was not written by this script, and its cluster is not up; refusing to overwrite it"
fi

# (a) Install the packages if missing.
t0=$SECONDS
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sinfo >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null || fail "apt-get update failed"
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends slurm-wlm munge >/dev/null \
        || fail "apt-get install slurm-wlm munge failed"
    say "installed in $((SECONDS - t0)) s"
fi
t_start=$SECONDS

# (b) Configuration: this host, read from the machine by slurmd itself.
HOST=$(hostname -s)
NODE_LINE=$(slurmd -C | head -n 1)
[[ $NODE_LINE == NodeName=* ]] || fail "slurmd -C did not describe this node: $NODE_LINE"
# Ask slurmd for the hardware, but keep our own node name and address.
HARDWARE=$(echo "$NODE_LINE" | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' | tr '\n' ' ')

NEW_CONF=$(cat <<EOF
$MARKER
ClusterName=altrnn-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# No systemd or cgroups needed: processes are tracked through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# No accounting database: job status comes from squeue, so finished jobs
# must stay visible long enough (the executor plugin wants >= 3 polls; the
# test also reads the final states of all its jobs from squeue).
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Reject at submission a job this node can never run, instead of leaving it pending.
EnforcePartLimits=ALL
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
NodeName=$HOST NodeAddr=127.0.0.1 ${HARDWARE}State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
)

conf_changed=0
if [[ ! -e $CONF ]] || [[ "$(cat "$CONF")" != "$NEW_CONF" ]]; then
    mkdir -p /etc/slurm
    printf '%s\n' "$NEW_CONF" > "$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
    conf_changed=1
    say "wrote $CONF"
fi
mkdir -p "$LOG_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd"
chown slurm:slurm "$LOG_DIR" "$STATE_DIR/slurmctld"

mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
chown munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
if [[ ! -s $MUNGE_KEY ]]; then
    mungekey --create --keyfile="$MUNGE_KEY" --force
    say "created $MUNGE_KEY"
fi
chown munge:munge "$MUNGE_KEY"
chmod 0400 "$MUNGE_KEY"

# (c) Start the daemons that are not running (by hand: no systemd here).
running() {  # is the daemon whose pid file this is alive?
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

stop_daemon() {  # stop one daemon through its own pid file
    local pidfile=$1 pid
    [[ -s $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    fail "process $pid from $pidfile did not stop"
}

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "starting munged"
    runuser -u munge -- munged --force || { show_logs; fail "munged did not start"; }
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || { show_logs; fail "munge does not answer"; }
fi

if [[ $conf_changed -eq 1 ]]; then  # the node description changed: restart what runs
    stop_daemon /run/slurmd.pid
    stop_daemon /run/slurmctld.pid
fi
if ! running /run/slurmctld.pid; then
    say "starting slurmctld"
    slurmctld || { show_logs; fail "slurmctld did not start"; }
fi
if ! running /run/slurmd.pid; then
    say "starting slurmd"
    slurmd -N "$HOST" || { show_logs; fail "slurmd did not start"; }
fi

# (d) Wait until the node is idle.
deadline=$((SECONDS + TIMEOUT))
until node_ready; do
    if ((SECONDS >= deadline)); then
        show_logs
        fail "node $HOST not idle after ${TIMEOUT} s (states: $(node_states | tr '\n' ' '))"
    fi
    if node_states | grep -qE '^(down|drain|drng|inval)'; then  # left over from an earlier run
        scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
    fi
    sleep 0.5
done
say "SLURM ready: node $HOST idle, started in $((SECONDS - t_start)) s"
