#!/usr/bin/env bash
# bench/servers.sh: req/s of the launchers and hosting apps under wrk on
# loopback, printed as a table:
#
#   1. the native launcher vs a bare http.Server, same handler;
#   2. examples/hello in FastCGI mode behind nginx vs the Lua WSAPI app
#      (testdata/lua/hello.lua) under wsapi.fcgi behind the same nginx;
#   3. wsapi.FastCGIApp hosting examples/hello (FastCGI mode) vs nginx's
#      own fastcgi_pass to the same responder.
#
#	bash bench/servers.sh                # 10 s per run, 64 connections
#	DURATION=30s CONNECTIONS=128 bash bench/servers.sh
#
# Needs wrk, nginx (nginx-light), spawn-fcgi, lua-wsapi-fcgi (Debian:
# apt-get install wrk nginx-light spawn-fcgi lua-wsapi lua-wsapi-fcgi).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || [[ -x /usr/sbin/$1 ]] || { echo "servers: $1 not found: apt-get install $2" >&2; exit 1; }; }
need wrk wrk
need nginx nginx-light
need spawn-fcgi spawn-fcgi
need wsapi.fcgi lua-wsapi-fcgi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }

go build -o "$work/servers" ./bench/servers
go build -o "$work/hello" ./examples/hello

results=()
run() { # name url
	local out rps lat
	out=$(wrk -t2 -c"$connections" -d"$duration" "$2" 2>&1)
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	lat=$(awk '/^    Latency/ {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
	results+=("$(printf '%-52s %12s %10s  %s' "$1" "${rps:-?}" "${lat:-?}" "${errs}")")
}

# 1. Native launcher vs bare http.Server.
for mode in launcher bare; do
	port=$(free_port)
	"$work/servers" -mode "$mode" -addr "127.0.0.1:$port" &
	pid=$!
	wait_port "$port"
	run "native: $mode" "http://127.0.0.1:$port/"
	kill "$pid"; wait "$pid" 2>/dev/null || true
done

# Responders: hello in FastCGI mode, and the Lua app under wsapi.fcgi.
hello_port=$(free_port)
"$work/hello" -fastcgi "127.0.0.1:$hello_port" 2>"$work/hello.log" &
pids+=($!)
lua_port=$(free_port)
spawn-fcgi -n -a 127.0.0.1 -p "$lua_port" -- "$(command -v wsapi.fcgi)" >"$work/lua.log" 2>&1 &
pids+=($!)
wait_port "$hello_port"
wait_port "$lua_port"

# One nginx in front of both.
nginx_port=$(free_port)
mkdir -p "$work/nginx"
user=""
[[ $(id -u) == 0 ]] && user="user root root;"
params='
	fastcgi_split_path_info ^(/[^/]*)(/.*)?$;
	fastcgi_param GATEWAY_INTERFACE CGI/1.1;
	fastcgi_param REQUEST_METHOD $request_method;
	fastcgi_param REQUEST_URI $request_uri;
	fastcgi_param QUERY_STRING $query_string;
	fastcgi_param CONTENT_TYPE $content_type;
	fastcgi_param CONTENT_LENGTH $content_length;
	fastcgi_param SCRIPT_NAME $fastcgi_script_name;
	fastcgi_param PATH_INFO $fastcgi_path_info;
	fastcgi_param SERVER_PROTOCOL $server_protocol;
	fastcgi_param SERVER_NAME $server_name;
	fastcgi_param SERVER_PORT $server_port;
	fastcgi_param REMOTE_ADDR $remote_addr;
	fastcgi_keep_conn on;'
cat >"$work/nginx/nginx.conf" <<CONF
$user
daemon off;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/nginx/body;
	fastcgi_temp_path $work/nginx/fastcgi;
	upstream hello { server 127.0.0.1:$hello_port; keepalive 64; }
	upstream lua { server 127.0.0.1:$lua_port; keepalive 64; }
	server {
		listen 127.0.0.1:$nginx_port;
		location /hello { $params fastcgi_pass hello; }
		location /lua { $params fastcgi_param SCRIPT_FILENAME $PWD/testdata/lua/hello.lua; fastcgi_pass lua; }
	}
}
CONF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)
wait_port "$nginx_port"

# 2. hello (Go, FastCGI) vs the Lua app (wsapi.fcgi), behind the same nginx.
run "nginx -> hello (Go, FastCGI)" "http://127.0.0.1:$nginx_port/hello/world"
run "nginx -> hello.lua (wsapi.fcgi)" "http://127.0.0.1:$nginx_port/lua/world"

# 3. FastCGIApp vs nginx's fastcgi_pass, to the same responder.
host_port=$(free_port)
"$work/servers" -mode fcgi-host -addr "127.0.0.1:$host_port" -responder "127.0.0.1:$hello_port" &
pids+=($!)
wait_port "$host_port"
run "wsapi.FastCGIApp -> hello (FastCGI)" "http://127.0.0.1:$host_port/hello/world"
run "nginx fastcgi_pass -> hello (FastCGI)" "http://127.0.0.1:$nginx_port/hello/world"

printf '\n%-52s %12s %10s  %s\n' "setup ($connections connections, $duration each)" req/s latency errors
printf '%s\n' "${results[@]}"
