#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, to try `lrsweep sweep --slurm` (and for CI's tests).
#
#   sudo scripts/slurm-local.sh start   # install slurm-wlm + munge if needed, start munged, slurmctld, slurmd
#   sudo scripts/slurm-local.sh stop    # stop the three daemons (by their PIDs)
#
# Needs root (munged must run as the munge user; slurmd starts jobs as their submitter).
# Writes /etc/slurm/slurm.conf (only if absent or written by this script) and keeps state and
# logs in $SLURM_LOCAL_DIR (default /tmp/lrsweep-slurm). Container-safe settings: process
# tracking by /proc (proctrack/linuxproc; proctrack/cgroup fails silently in containers) and no
# task binding (task/none).
set -euo pipefail

dir="${SLURM_LOCAL_DIR:-/tmp/lrsweep-slurm}"
conf=/etc/slurm/slurm.conf
marker="# written by lrsweep scripts/slurm-local.sh"

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "slurm-local.sh: run as root (sudo): munged runs as the munge user and slurmd starts jobs as their submitter" >&2
    exit 1
  fi
}

install() {
  local need=()
  for pkg in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

write_conf() {
  if [ -e "$conf" ] && ! grep -qF "$marker" "$conf"; then
    echo "slurm-local.sh: $conf exists and was not written by this script; leaving it (and this machine's cluster) alone" >&2
    exit 1
  fi
  local host cpus mem
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
  mkdir -p /etc/slurm "$dir/spool/ctld" "$dir/spool/d" "$dir/log"
  cat >"$conf" <<CONF
$marker
ClusterName=lrsweep-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=10
SchedulerParameters=sched_interval=1
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  need_root
  install
  write_conf
  # munge: its socket directory owned by munge, the daemon run as munge.
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged
  fi
  pgrep -x munged >"$dir/munged.pid"
  pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
  pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
  # Ready when the node is idle (about a second after the daemons start).
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx 'idle'; then
      echo "slurm-local.sh: one-node cluster up ($(hostname -s), $(nproc) CPUs, partition debug); stop it with: $0 stop"
      return 0
    fi
    state="$(sinfo -h -o '%T' 2>/dev/null || true)"
    case "$state" in
      drain*|down*) scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  echo "slurm-local.sh: the node did not become idle; see $dir/log/ and 'sinfo -R'" >&2
  exit 1
}

stop() {
  need_root
  for name in slurmd slurmctld; do
    pidfile="$dir/$name.pid"
    if [ -s "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  if [ -s "$dir/munged.pid" ]; then kill "$(cat "$dir/munged.pid")" 2>/dev/null || true; fi
  for _ in $(seq 1 40); do
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || break
    sleep 0.25
  done
  echo "slurm-local.sh: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
