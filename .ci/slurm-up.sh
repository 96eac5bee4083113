#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on this machine (controller and compute node on the same host) for the
# tests that submit real sbatch jobs. Needs root; doesn't need systemd. Idempotent: run it as often as you
# like. When the cluster is already up it only checks it (a few seconds); otherwise it installs Debian's
# slurm-wlm and munge if missing, creates a munge key if missing, starts munged, writes
# /etc/slurm/slurm.conf, starts slurmctld and slurmd, and waits until a job runs.
# Prints one line "slurm-up: ..." on stdout when the cluster is up; exits non-zero with a message on stderr
# (and the tail of the daemon logs) when it cannot bring it up.
#
# Environment: SLURM_UP_TIMEOUT (seconds to wait for the node to become usable, default 60).
set -euo pipefail

t0=$(date +%s%N)
TIMEOUT=${SLURM_UP_TIMEOUT:-60}
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"   # the daemons and slurmd -C live in /usr/sbin

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
STATE_DIR=/var/spool/slurm/ctld     # StateSaveLocation
SPOOL_DIR=/var/spool/slurm/d        # SlurmdSpoolDir
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm
CTLD_PID=$RUN_DIR/slurmctld.pid
SLURMD_PID=$RUN_DIR/slurmd.pid

log() { echo "slurm-up: $*" >&2; }
die() {
  echo "slurm-up: ERROR: $*" >&2
  local f
  for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
    if [ -s "$f" ]; then
      echo "---- last lines of $f ----" >&2
      tail -n 15 "$f" >&2 || true
    fi
  done
  exit 1
}
elapsed() { echo "$(( ($(date +%s%N) - t0) / 1000000 ))"; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts the Slurm daemons)"

# One run at a time (two test processes may call it together). The daemons started below must not inherit
# the lock's file descriptor (9>&-), or they would hold the lock for ever.
exec 9>/run/cryosam-slurm-up.lock
flock -w 900 9 || die "another slurm-up.sh has held /run/cryosam-slurm-up.lock for 15 minutes"
cd /   # the daemons started below inherit the working directory; don't pin the caller's (maybe temporary) one

# ---------------------------------------------------------------------------------------------------------
# 1. Packages.
# ---------------------------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
   ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || die "slurm-wlm/munge are not installed and there is no apt-get to install them"
  log "installing slurm-wlm and munge (apt-get)"
  # Keep the packages' init scripts from starting daemons during the install (no systemd here, and this script
  # starts them itself with its own configuration). Docker-like images already ship a policy-rc.d; only add
  # (and later remove) one if there is none.
  added_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confold slurm-wlm munge >&2 || die "apt-get install slurm-wlm munge failed"
  if [ -n "$added_policy" ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi

# ---------------------------------------------------------------------------------------------------------
# 2. Host name. slurmd identifies its node by the short host name; both daemons must resolve it.
# ---------------------------------------------------------------------------------------------------------
HOST=$(hostname -s 2>/dev/null || hostname)
HOST=${HOST%%.*}
[ -n "$HOST" ] || die "cannot determine the host name"
if ! getent hosts "$HOST" >/dev/null; then
  log "host name $HOST does not resolve; adding it to /etc/hosts"
  echo "127.0.0.1 $HOST" >>/etc/hosts
fi

# ---------------------------------------------------------------------------------------------------------
# 3. Munge (Slurm's authentication): key, then daemon.
# ---------------------------------------------------------------------------------------------------------
id munge >/dev/null 2>&1 || die "there is no 'munge' user (the munge package should have created it)"
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! munge_ok; then
  install -d -m 0700 -o munge -g munge /etc/munge /var/lib/munge
  install -d -m 0700 -o munge -g munge /var/log/munge
  install -d -m 0755 -o munge -g munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating munge key"
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
  fi
  # munged refuses a key that others can read or that isn't owned by the user it runs as.
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  # A stale pid file or socket (from a munged that died) makes munged refuse to start.
  if [ -e /run/munge/munged.pid ] && ! kill -0 "$(cat /run/munge/munged.pid 2>/dev/null)" 2>/dev/null; then
    rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  fi
  log "starting munged"
  # It daemonizes itself; stdio goes to /dev/null so that no caller waits on a pipe a daemon holds open.
  runuser -u munge -- setsid /usr/sbin/munged </dev/null >/dev/null 2>&1 9>&- ||
    die "munged did not start"
  for _ in $(seq 1 50); do munge_ok && break; sleep 0.1; done
  munge_ok || die "munged started but 'munge -n | unmunge' fails"
fi

# ---------------------------------------------------------------------------------------------------------
# 4. slurm.conf. The node line comes from what slurmd detects (slurmd -C), so that the configured topology
#    matches the hardware and the node isn't drained for it; memory is what the machine has less a margin.
# ---------------------------------------------------------------------------------------------------------
install -d -m 0755 "$CONF_DIR" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$RUN_DIR"

detected=$(slurmd -C 2>/dev/null | head -n 1 || true)
field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$detected"; }
cpus=$(field CPUs); boards=$(field Boards); sockets=$(field SocketsPerBoard)
cores=$(field CoresPerSocket); threads=$(field ThreadsPerCore)
[ -n "$cpus" ] || cpus=$(nproc --all)
topology="CPUs=$cpus"
if [ -n "$boards" ] && [ -n "$sockets" ] && [ -n "$cores" ] && [ -n "$threads" ]; then
  topology+=" Boards=$boards SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads"
fi
total_mb=$(free -m | awk '/^Mem:/ { print $2 }')
[ -n "$total_mb" ] || die "cannot read the memory size from 'free -m'"
# Leave 10% (at least 256 MB) for the system; round down to 256 MB so small fluctuations don't change the file.
real_mb=$(( total_mb - (total_mb / 10 > 256 ? total_mb / 10 : 256) ))
real_mb=$(( real_mb / 256 * 256 ))
[ "$real_mb" -ge 256 ] || real_mb=256
# Without a default memory per CPU, a job that asks for no memory gets the whole node's (CR_*_Memory), and then
# the tasks of an array run one at a time.
def_mem=$(( real_mb / cpus ))

new_conf=$(cat <<EOF
# Written by .ci/slurm-up.sh (cryosam tests): a one-node cluster, no accounting, no cgroups. Rewritten when
# the host changes; edit the script, not this file.
ClusterName=cryosam
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$def_mem
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
# Keep finished jobs visible to scontrol/squeue for an hour (there is no accounting database to ask later).
MinJobAge=3600
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldTimeout=60
SlurmdTimeout=60
NodeName=$HOST NodeAddr=127.0.0.1 $topology RealMemory=$real_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
)

conf_changed=
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$new_conf" ]; then
  printf '%s\n' "$new_conf" >"$CONF.tmp"
  chmod 0644 "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  conf_changed=1
  log "wrote $CONF (node $HOST: $topology RealMemory=$real_mb)"
fi

# ---------------------------------------------------------------------------------------------------------
# 5. Daemons.
# ---------------------------------------------------------------------------------------------------------
# The pid of a running daemon NAME (pid file first, else a process with exactly that name), or nothing.
daemon_pid() {
  local name=$1 pidfile=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then echo "$pid"; return; fi
  pgrep -x "$name" | head -n 1 || true
}
stop_daemon() {
  local name=$1 pidfile=$2 pid
  pid=$(daemon_pid "$name" "$pidfile")
  [ -n "$pid" ] || return 0
  log "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
start_daemon() {
  local name=$1
  log "starting $name"
  # Both daemonize themselves; setsid + /dev/null stdio detach them from the caller (a test's child process).
  setsid "/usr/sbin/$name" </dev/null >/dev/null 2>&1 9>&- || die "$name failed to start"
}

if [ -n "$conf_changed" ]; then
  # Node definitions only take effect on a restart.
  stop_daemon slurmd "$SLURMD_PID"
  stop_daemon slurmctld "$CTLD_PID"
fi
[ -n "$(daemon_pid slurmctld "$CTLD_PID")" ] || start_daemon slurmctld
[ -n "$(daemon_pid slurmd "$SLURMD_PID")" ] || start_daemon slurmd

# ---------------------------------------------------------------------------------------------------------
# 6. Wait until the node is idle (or running jobs) and a job step runs.
# ---------------------------------------------------------------------------------------------------------
deadline=$(( $(date +%s) + TIMEOUT ))
state=
resumed=
while :; do
  [ -n "$(daemon_pid slurmctld "$CTLD_PID")" ] || die "slurmctld is not running"
  [ -n "$(daemon_pid slurmd "$SLURMD_PID")" ] || die "slurmd is not running"
  state=$(sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null | head -n 1 || true)
  case "$state" in
    idle | mixed | allocated | completing) break ;;
    drained | draining | down)
      # Responding but out of service (e.g. left drained by an earlier run): put it back, once.
      if [ -z "$resumed" ]; then
        log "node $HOST is $state; resuming it"
        scontrol update NodeName="$HOST" State=RESUME >&2 || true
        resumed=1
      fi ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || die "node $HOST did not become idle within ${TIMEOUT}s (state: '${state:-none}'; $(scontrol show node "$HOST" 2>/dev/null | grep -o 'Reason=.*' || true))"
  sleep 0.5
done

remaining=$(( deadline - $(date +%s) ))
[ "$remaining" -ge 15 ] || remaining=15
probe_out=$(timeout "$remaining" srun -N1 -n1 -t 1 -J slurm-up-probe hostname 2>&1) ||
  die "a test job (srun -N1 -n1 hostname) did not run within ${remaining}s: $probe_out"

echo "slurm-up: one-node Slurm cluster up (node $HOST, $cpus CPUs, ${real_mb} MB; $(sinfo --version)) in $(elapsed) ms"
