#!/usr/bin/env bash
# bench/session-load.sh: req/s of a read-modify-write session counter
# (bench/sessionload) on each session store, under wrk on loopback with 64
# connections. It starts its own Redis and PostgreSQL servers on free ports
# in a temporary directory and stops them when it ends.
#
#	bash bench/session-load.sh            # 10 s per store
#	DURATION=30s bash bench/session-load.sh
#
# Needs wrk, redis-server and postgresql (Debian: apt-get install wrk
# redis-server postgresql); as root, PostgreSQL runs as the postgres user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=${DURATION:-10s}
connections=64
work=$(mktemp -d)
chmod 755 "$work" # the postgres user must reach its data directory
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "session-load: $1 not found: apt-get install $2" >&2; exit 1; }; }
need wrk wrk
need redis-server redis-server
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $pgbin/initdb ]] || { echo "session-load: PostgreSQL not found: apt-get install postgresql" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }

# Redis.
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"

# PostgreSQL, as the postgres user when run as root.
pg_port=$(free_port)
mkdir -p "$work/pg"
as_pg=()
if [[ $(id -u) == 0 ]]; then
	chown postgres "$work/pg"
	as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg/data" -A trust -U postgres >"$work/initdb.log"
"${as_pg[@]}" "$pgbin/postgres" -D "$work/pg/data" -p "$pg_port" -k "$work/pg" \
	-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off >"$work/pg/postgres.log" 2>&1 &
pids+=($!)
wait_port "$pg_port"
"${as_pg[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres wsapi_bench

go build -o "$work/sessionload" ./bench/sessionload

declare -A urls=(
	[memory]="memory:"
	[sqlite]="sqlite://$work/sessions.db"
	[redis]="redis://127.0.0.1:$redis_port/0"
	[postgres]="postgres://postgres@127.0.0.1:$pg_port/wsapi_bench?sslmode=disable"
)
printf '\n%-10s %12s %12s %10s\n' store req/s p99 errors
for kind in memory sqlite redis postgres; do
	port=$(free_port)
	"$work/sessionload" -store "${urls[$kind]}" -addr "127.0.0.1:$port" 2>"$work/$kind.log" &
	pid=$!
	wait_port "$port"
	out=$(wrk -t2 -c"$connections" -d"$duration" --latency -s bench/session-load.lua "http://127.0.0.1:$port/" 2>&1)
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx|Socket errors/ {print $0}' <<<"$out" | tr '\n' ' ')
	printf '%-10s %12s %12s %10s\n' "$kind" "${rps:-?}" "${p99:-?}" "${errs:-0}"
done
