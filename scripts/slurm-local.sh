#!/usr/bin/env bash
# slurm-local.sh up|down|status — a one-node Slurm on this machine, for the
# Slurm backend's integration test and for anyone trying it out.
#
#   up      install what is missing (Debian: slurmctld slurmd slurm-client munge),
#           write /etc/slurm/slurm.conf for one node on localhost (no cgroups,
#           no accounting), create a munge key, start munged, slurmctld and
#           slurmd, and wait until the node is idle
#   down    stop the daemons this script started (by their pid files)
#   status  say what is running and show the node
#
# Needs root (it installs packages and writes /etc). It starts the daemons
# directly, without systemd, so it also works in containers. An existing
# /etc/slurm/slurm.conf that this script did not write is left alone: `up`
# refuses rather than replace a real cluster's configuration.
set -euo pipefail

NODE=localhost
PARTITION=debug
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK="# written by relix scripts/slurm-local.sh"
STATE=/var/lib/slurm
LOGS=/var/log/slurm
RUN=/run/slurm
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=$RUN/slurmctld.pid
SLURMD_PID=$RUN/slurmd.pid

say() { echo "slurm-local: $*" >&2; }
die() {
	say "$*"
	exit 1
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages, writes $CONF_DIR and starts daemons)"
}

install_missing() {
	local missing=()
	for pkg in slurmctld slurmd slurm-client munge; do
		dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# The packages' own start scripts need systemd or may fail in a
	# container; policy-rc.d keeps them from starting anything: this
	# script starts the daemons itself.
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' >$policy
		chmod +x $policy
		made_policy=1
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	[ -n "$made_policy" ] && rm -f $policy
	return 0
}

# alive PIDFILE: the process named in PIDFILE is running.
alive() {
	[ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

write_config() {
	if [ -e $CONF ] && ! grep -qF "$MARK" $CONF; then
		die "$CONF exists and was not written by this script; not replacing it"
	fi
	local cpus mem user
	cpus=$(nproc)
	# Leave the system some memory; Slurm refuses a node that reports less
	# than its configured RealMemory.
	mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
	user=root
	id slurm >/dev/null 2>&1 && user=slurm
	mkdir -p $CONF_DIR $STATE/slurmctld $STATE/slurmd $LOGS $RUN
	chown "$user" $STATE/slurmctld $LOGS $RUN
	cat >$CONF <<EOF
$MARK
# A one-node cluster on localhost: no cgroups, no accounting.
ClusterName=relix-local
SlurmctldHost=$NODE
SlurmUser=$user
AuthType=auth/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
# Track a task's processes by their parent pid and bind nothing: neither
# needs cgroups.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue and scontrol for this long (seconds);
# with accounting off this is all the history there is.
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
	# slurmd 22.05 sets up a cgroup plugin at start even though nothing
	# here uses one, and knows no CgroupPlugin=disabled (it refuses to
	# start with it); autodetect, told not to ask systemd, starts anywhere.
	cat >$CONF_DIR/cgroup.conf <<EOF
$MARK
CgroupPlugin=autodetect
IgnoreSystemd=yes
EOF
}

munge_key() {
	local key=/etc/munge/munge.key
	if [ ! -s $key ]; then
		say "creating $key"
		mkdir -p /etc/munge
		if command -v mungekey >/dev/null; then
			mungekey --create --keyfile=$key
		else
			dd if=/dev/urandom bs=1 count=1024 of=$key status=none
		fi
	fi
	chown munge:munge $key
	chmod 0400 $key
}

start_munge() {
	alive $MUNGE_PID && return
	mkdir -p /run/munge /var/log/munge /var/lib/munge
	chown munge:munge /run/munge /var/log/munge /var/lib/munge
	chmod 0755 /run/munge
	runuser -u munge -- /usr/sbin/munged
	for _ in $(seq 50); do
		munge -n >/dev/null 2>&1 && return
		sleep 0.1
	done
	die "munged did not start; see /var/log/munge/munged.log"
}

start_slurm() {
	if ! alive $CTLD_PID; then
		/usr/sbin/slurmctld || die "slurmctld did not start; see $LOGS/slurmctld.log: $(tail -n 5 $LOGS/slurmctld.log 2>/dev/null)"
	fi
	for _ in $(seq 100); do
		scontrol ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	scontrol ping >/dev/null 2>&1 || die "slurmctld does not answer; see $LOGS/slurmctld.log: $(tail -n 5 $LOGS/slurmctld.log 2>/dev/null)"
	if ! alive $SLURMD_PID; then
		/usr/sbin/slurmd -N $NODE || die "slurmd did not start; see $LOGS/slurmd.log: $(tail -n 5 $LOGS/slurmd.log 2>/dev/null)"
	fi
}

node_state() {
	sinfo -h -n $NODE -o %T 2>/dev/null | head -n 1
}

wait_idle() {
	local state
	for _ in $(seq 120); do
		state=$(node_state)
		case $state in
		idle | mixed | allocated) return ;;
		down* | drain* | fail*)
			# A node left down by an earlier run (ReturnToService keeps
			# most such cases away) is brought back.
			scontrol update NodeName=$NODE State=RESUME >/dev/null 2>&1 || true
			;;
		esac
		sleep 0.5
	done
	die "node $NODE is '${state:-unknown}', not idle, after 60 s; see $LOGS/slurmd.log and $LOGS/slurmctld.log"
}

up() {
	need_root
	install_missing
	write_config
	munge_key
	start_munge
	start_slurm
	wait_idle
	say "up: node $NODE $(node_state), partition $PARTITION ($(nproc) CPUs); stop with $0 down"
}

# stop PIDFILE NAME: end the daemon named in PIDFILE and wait for it.
stop() {
	alive "$1" || return 0
	local pid
	pid=$(cat "$1")
	kill "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	say "$2 ($pid) did not stop in 10 s; killing it"
	kill -9 "$pid" 2>/dev/null || true
}

down() {
	need_root
	stop $SLURMD_PID slurmd
	stop $CTLD_PID slurmctld
	stop $MUNGE_PID munged
	say "down"
}

status() {
	local ok=0
	local name pidfile
	while read -r name pidfile; do
		if alive "$pidfile"; then
			echo "$name: running (pid $(cat "$pidfile"))"
		else
			echo "$name: not running"
			ok=1
		fi
	done <<EOF
munged $MUNGE_PID
slurmctld $CTLD_PID
slurmd $SLURMD_PID
EOF
	if [ $ok -eq 0 ]; then
		sinfo
	fi
	return $ok
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
