#!/usr/bin/env bash
# bench/peers.sh: the same hello app ("Hello Wsapi!") behind
#
#   1. net/http alone;
#   2. a full wsapi stack: logging, isolate, session, auth (bearer token),
#      mux;
#   3. the chi stack that does the same jobs: RequestID, RealIP, hlog,
#      Recoverer, Timeout, scs LoadAndSave, BasicAuth, a chi router;
#   4. negroni's Classic (Recovery, Logger, Static);
#
# measured with go test -bench (ns/op, B/op, allocs/op, serial and
# parallel) and with wrk on loopback (req/s and p99 latency, the variants
# interleaved in rounds, medians). It prints a table with ratios to
# net/http alone and the goals of the full stack, and writes
# bench/peers-results.md and docs/bench.svg. The code is in bench/peers
# (a module of its own).
#
#	bash bench/peers.sh                  # full run, about 5 minutes
#	bash bench/peers.sh -smoke           # a quick check (CI): writes no file
#	bash bench/peers.sh -d 20s -c 128 -t 2 -rounds 5 -benchtime 2s -count 5
#	bash bench/peers.sh -keep /tmp/peers-raw   # also keep the raw outputs
#
# The same settings come from the environment: SMOKE=1, DURATION,
# CONNECTIONS, THREADS, ROUNDS, BENCHTIME, COUNT, KEEP. Defaults: 10s per wrk
# run, 64 connections, 2 threads, 3 rounds; -benchtime 1s, -count 5. The
# smoke mode runs -benchtime 200x, -count 1, 2s per wrk run and 1 round;
# like a full run it fails when a variant answers anything but 200 with
# the hello body, or wrk counts errors.
#
# Needs Go and wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

smoke=${SMOKE:-0}
[[ $smoke == 0 || $smoke == false ]] && smoke=0 || smoke=1
duration=${DURATION:-}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
rounds=${ROUNDS:-}
benchtime=${BENCHTIME:-}
count=${COUNT:-}
keep=${KEEP:-}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
while (($#)); do
	case $1 in
	-smoke | --smoke) smoke=1 ;;
	-d) duration=${2:?-d needs a duration}; shift ;;
	-c) connections=${2:?-c needs a number}; shift ;;
	-t) threads=${2:?-t needs a number}; shift ;;
	-rounds) rounds=${2:?-rounds needs a number}; shift ;;
	-benchtime) benchtime=${2:?-benchtime needs a value}; shift ;;
	-count) count=${2:?-count needs a number}; shift ;;
	-keep) keep=${2:?-keep needs a folder}; shift ;;
	-h | -help | --help) usage ;;
	*) echo "peers: unknown argument $1" >&2; usage ;;
	esac
	shift
done
if ((smoke)); then
	duration=${duration:-2s} rounds=${rounds:-1} benchtime=${benchtime:-200x} count=${count:-1} warmup=1s
else
	duration=${duration:-10s} rounds=${rounds:-3} benchtime=${benchtime:-1s} count=${count:-5} warmup=2s
fi
for n in "$connections" "$threads" "$rounds" "$count"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "peers: $n is not a positive number" >&2; exit 2; }
done

if ! command -v go >/dev/null 2>&1; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || { echo "peers: go not found" >&2; exit 1; }
command -v wrk >/dev/null || { echo "peers: wrk not found: apt-get install wrk" >&2; exit 1; }

variants=(bare full chi negroni)
work=$(mktemp -d)
server_pid= wrk_pid=
cleanup() {
	if [[ -n $wrk_pid ]]; then
		kill "$wrk_pid" 2>/dev/null || true
		wait "$wrk_pid" 2>/dev/null || true
	fi
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n $keep ]]; then
		mkdir -p "$keep" && cp "$work"/bench.txt "$keep"/ 2>/dev/null && cp -r "$work"/wrk "$keep"/ 2>/dev/null &&
			echo "raw outputs kept in $keep" || echo "peers: could not keep the raw outputs in $keep" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mod=bench/peers
echo "== build"
go -C "$mod" build -o "$work/peerserver" ./cmd/peerserver
go -C "$mod" build -o "$work/peerreport" ./cmd/peerreport
go -C "$mod" test -c -o "$work/peers.test" .
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# The test binary and the servers run in $work, where negroni's Static
# finds no "public" folder, as in a program without static files.
echo "== every variant answers 200 with the hello body (TestVariants)"
(cd "$work" && ./peers.test -test.count 1 -test.run '^TestVariants')

echo "== go test -bench (-benchtime $benchtime, $count runs with the variants interleaved)"
for ((i = 1; i <= count; i++)); do
	if ! (cd "$work" && ./peers.test -test.run '^$' -test.bench '^BenchmarkPeers$' -test.benchtime "$benchtime" -test.count 1) >"$work/bench-$i.txt"; then
		cat "$work/bench-$i.txt"
		exit 1
	fi
	grep '^Benchmark' "$work/bench-$i.txt"
	cat "$work/bench-$i.txt" >>"$work/bench.txt"
done

# start_server variant: starts the variant's server, sets url and header.
start_server() {
	local out="$work/server-$1.out" i
	(cd "$work" && exec ./peerserver -variant "$1" -addr 127.0.0.1:0) >"$out" 2>"$work/server-$1.err" &
	server_pid=$!
	for i in $(seq 600); do
		grep -qx ready "$out" 2>/dev/null && break
		if ! kill -0 "$server_pid" 2>/dev/null; then
			wait "$server_pid" 2>/dev/null || true
			server_pid=
			echo "peers: the $1 server failed:" >&2
			cat "$work/server-$1.err" >&2
			exit 1
		fi
		sleep 0.1
	done
	grep -qx ready "$out" || { echo "peers: the $1 server did not get ready" >&2; exit 1; }
	url=$(sed -n 's/^url=//p' "$out")
	header=$(sed -n 's/^header=//p' "$out")
}

stop_server() {
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# server_ticks: the CPU time (user + system) the server used so far, in
# clock ticks, from /proc; empty where there is no /proc.
tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat" 2>/dev/null || true; }

# run_wrk duration file: wrk against the current server. It runs in the
# background so that a signal stops the script (and wrk) at once.
run_wrk() {
	local args=(--latency -t"$threads" -c"$connections" -d"$1")
	[[ -n $header ]] && args+=(-H "$header")
	wrk "${args[@]}" "$url" >"$2" 2>&1 &
	wrk_pid=$!
	wait "$wrk_pid" || echo "peers: wrk failed against $url (see below)" >&2
	wrk_pid=
}

echo "== wrk ($duration per run, $connections connections, $threads threads, $rounds rounds)"
mkdir -p "$work/wrk"
n=${#variants[@]}
for ((round = 1; round <= rounds; round++)); do
	for ((k = 0; k < n; k++)); do
		v=${variants[(k + round - 1) % n]} # each round starts with another variant
		start_server "$v"
		run_wrk "$warmup" "$work/warmup.txt"
		file="$work/wrk/$round-$v.txt"
		t0=$(server_ticks)
		run_wrk "$duration" "$file"
		t1=$(server_ticks)
		if [[ -n $t0 && -n $t1 ]]; then
			awk -v a="$t0" -v b="$t1" -v hz="$tck" 'BEGIN {print (b - a) / hz}' >"${file%.txt}.cpu"
		fi
		stop_server
		printf 'round %d  %-8s %12s req/s  p99 %s\n' "$round" "$v" \
			"$(awk '/^Requests\/sec/ {print $2}' "$file")" "$(awk '$1 == "99%" {print $2}' "$file")"
		grep -E 'Non-2xx|Socket errors|unable to' "$file" || true
	done
done

echo
report=(-bench "$work/bench.txt" -wrk "$work/wrk" -variants "$(IFS=,; echo "${variants[*]}")"
	-benchtime "$benchtime" -count "$count" -duration "$duration" -connections "$connections"
	-threads "$threads" -rounds "$rounds" -go "$(go version | awk '{print $3}')" -load "$load")
if ((smoke)); then
	"$work/peerreport" "${report[@]}"
	echo "smoke mode: bench/peers-results.md and docs/bench.svg left as they were"
else
	mkdir -p docs
	"$work/peerreport" "${report[@]}" -md bench/peers-results.md -svg docs/bench.svg
	echo "wrote bench/peers-results.md and docs/bench.svg"
fi
echo "peers: done in ${SECONDS}s"
