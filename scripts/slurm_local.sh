#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for trying `--executor slurm` and
# for its test: munged, slurmctld and slurmd with this machine's CPUs, every file
# (configuration, key, state, logs, sockets) inside DIR, nothing in /etc.
# Configured for a sandbox without cgroups (proctrack/linuxproc, task/none) and
# without accounting (no slurmdbd: `scontrol show job` keeps ended jobs for an hour).
#
#   bash scripts/slurm_local.sh start DIR   # prints `export SLURM_CONF=DIR/slurm.conf`
#   bash scripts/slurm_local.sh stop DIR
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge (scripts/setup.sh) and
# root (slurmd runs jobs as their submitter). Exits 2, saying why, when this
# machine cannot run it, so that a caller can tell "cannot" from "failed".
set -euo pipefail
cmd=${1:-}; D=${2:-}
[[ ( $cmd == start || $cmd == stop ) && -n $D ]] || { echo "usage: $0 start|stop DIR" >&2; exit 64; }
mkdir -p "$D"; D=$(cd "$D" && pwd)

stop() {
  for p in slurmd slurmctld munged; do
    [ -f "$D/run/$p.pid" ] && kill "$(cat "$D/run/$p.pid")" 2>/dev/null || true
  done
  for p in slurmd slurmctld munged; do  # up to 10 s each for a clean exit, then kill
    f="$D/run/$p.pid"; [ -f "$f" ] || continue
    pid=$(cat "$f")
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}
if [ "$cmd" = stop ]; then stop; exit 0; fi

cannot() { echo "slurm_local: cannot start a cluster here: $*" >&2; stop; exit 2; }
for b in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$b" >/dev/null || cannot "$b is not installed (apt-get install slurmctld slurmd slurm-client munge)"
done
[ "$(id -u)" -eq 0 ] || cannot "slurmd must run as root to start jobs"

mkdir -p "$D/run" "$D/state" "$D/spool" "$D/log"
host=$(hostname -s)
# Two free TCP ports for the controller and the node daemon (none listening on them now).
port_free() { ! grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
cport=0
for _ in $(seq 200); do
  p=$((20000 + RANDOM % 30000))
  if port_free "$p" && port_free $((p + 1)); then cport=$p; break; fi
done
[ "$cport" -ne 0 ] || cannot "no two free TCP ports found"
dport=$((cport + 1))

[ -f "$D/munge.key" ] || { head -c 1024 /dev/urandom > "$D/munge.key"; chmod 400 "$D/munge.key"; }
munged --force --socket="$D/run/munge.sock" --key-file="$D/munge.key" --pid-file="$D/run/munged.pid" \
  --log-file="$D/log/munged.log" --seed-file="$D/run/munge.seed" || cannot "munged did not start (see $D/log/munged.log)"

cat > "$D/slurm.conf" <<EOF
ClusterName=medforget-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
AuthType=auth/munge
AuthInfo=socket=$D/run/munge.sock
CredType=cred/munge
SlurmUser=root
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SchedulerParameters=defer_batch=0
KillWait=5
EnforcePartLimits=ALL
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 )) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$D/slurm.conf
slurmctld -f "$SLURM_CONF" || cannot "slurmctld did not start (see $D/log/slurmctld.log)"
slurmd -f "$SLURM_CONF" || cannot "slurmd did not start (see $D/log/slurmd.log)"
for _ in $(seq 100); do  # the node registers within seconds
  if sinfo -h -o %T 2>/dev/null | grep -qx idle; then echo "export SLURM_CONF=$SLURM_CONF"; exit 0; fi
  sleep 0.2
done
cannot "the node never became idle: $(sinfo -h -o '%T %E' 2>&1 | head -1); see $D/log/"
