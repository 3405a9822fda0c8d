#!/usr/bin/env bash
# bench/upload-load.sh: the upload filter over loopback (bench/uploadload),
# beside net/http's ParseMultipartForm and a plain io.Copy of the body: one
# large upload generated on the fly (throughput, and the server's peak RSS
# growth from /proc/<pid>/status), then many 10 KiB uploads (req/s). Each
# server runs in its own process. Files go to a temporary directory on the
# disk of $DIR (default /var/tmp), removed at the end.
#
#	bash bench/upload-load.sh                  # 1 GiB, 1,000 x 10 KiB
#	SIZE=268435456 SMALL=5000 bash bench/upload-load.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

work=$(mktemp -d)
data=$(mktemp -d "${DIR:-/var/tmp}/upload-load.XXXXXX")
trap 'rm -rf "$work" "$data"' EXIT

go build -o "$work/uploadload" ./bench/uploadload
"$work/uploadload" -dir "$data" -size "${SIZE:-1073741824}" -small "${SMALL:-1000}" -c "${CONCURRENCY:-8}"
left=$(find "$data" -type f | wc -l)
if [[ $left != 0 ]]; then
	echo "upload-load: $left files left in $data" >&2
	exit 1
fi
