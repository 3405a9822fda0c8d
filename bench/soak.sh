#!/usr/bin/env bash
# bench/soak.sh: the soak test of examples/showcase with faults
# (bench/soak). It builds the showcase and the generator, which starts its
# own redis-server (no persistence) on a free port and the showcase with
# sessions in it, two isolate workers, an access log and a debug listener,
# all in a temporary directory; then 256 virtual users load it for 5
# minutes while Redis is stopped and restarted, isolate workers are killed
# and uploads are dropped mid-body. It writes bench/soak-report.md and
# bench/soak-rss.svg, prints a summary, and exits 1 when a check fails.
#
#	bash bench/soak.sh                      # 5 minutes, 256 connections
#	bash bench/soak.sh -duration 30s        # a short run (or DURATION=30s)
#	bash bench/soak.sh -duration 1m -conns 64
#
# KEEP=1 keeps the temporary directory (logs, access log, data). Other flags
# go to the generator: go run ./bench/soak -h lists them.
# Needs redis-server (Debian: apt-get install redis-server). Linux only
# (/proc).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v redis-server >/dev/null || { echo "soak: redis-server not found: apt-get install redis-server" >&2; exit 1; }

args=(-duration "${DURATION:-5m}" -conns "${CONNECTIONS:-256}")
work=$(mktemp -d)
soak_pid=
cleanup() {
	# The generator stops its children itself; this is for a generator
	# that died: its Redis and showcase get SIGTERM from the kernel too
	# (Pdeathsig), and their pids are here.
	if [[ -n $soak_pid ]]; then
		kill "$soak_pid" 2>/dev/null || true
	fi
	for f in "$work"/*.pid; do
		if [[ -f $f ]]; then
			kill "$(cat "$f")" 2>/dev/null || true
		fi
	done
	wait 2>/dev/null || true
	if [[ -n ${KEEP:-} ]]; then
		echo "soak: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/showcase" ./examples/showcase
go build -o "$work/soak" ./bench/soak

"$work/soak" -showcase "$work/showcase" -work "$work" "${args[@]}" "$@" &
soak_pid=$!
status=0
wait "$soak_pid" || status=$?
soak_pid=
if [[ $status != 0 ]]; then
	echo "soak: FAILED (status $status); KEEP=1 keeps the logs and data in the temporary directory" >&2
fi
exit "$status"
