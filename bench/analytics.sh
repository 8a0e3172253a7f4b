#!/usr/bin/env bash
# The analytics benchmark of docs/BENCHMARKS.md:
#   bench/analytics.sh [EVENTS] [MEMBERS]     (defaults 10000000 and 100000)
# An enterprise of MEMBERS people and 5,000 public channels (bench/genactivity)
# and one UTC day of EVENTS events. Measures: the day's import (events/s);
# closing the day (its three files) beside `gzip -1` of the same NDJSON bytes
# in the same run; serving the closed member file to 10 clients at once
# (MB/s) and the server's RSS growth meanwhile; then activity ingest alone:
# the next day's messages and reactions imported untimed, then EVENTS
# activity events about them timed. Each timed import is followed by its
# yardstick (bench/ingestceiling): the same lines stored bare in SQLite, one
# row each, measured in the same run, and the import's share of it.
# STORE=postgres for PostgreSQL (the yardstick is SQLite's either way).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-10000000}
MEMBERS=${2:-100000}
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
source bench/store.sh
go build -o "$W/backchannel" ./cmd/backchannel
go build -o "$W/genactivity" ./bench/genactivity
go build -o "$W/ingestceiling" ./bench/ingestceiling
DAY=$(date -u -d '3 days ago' +%F)
PREV=$(date -u -d '4 days ago' +%F)
"$W/genactivity" -part directory -members "$MEMBERS" -day "$DAY" > "$W/dir.ndjson"
"$W/genactivity" -part day -members "$MEMBERS" -events "$EVENTS" -day "$DAY" > "$W/day.ndjson"
BC() { "$W/backchannel" "$@"; }
# timed FILE: import FILE with its peak RSS, then its yardstick; each
# starts with the pages written before it flushed (sync).
timed() {
	local out
	sync
	out=$(/usr/bin/time -f "import peak RSS %M KiB" "$W/backchannel" import --db "$DB" "$1")
	echo "$out"
	sync
	"$W/ingestceiling" -vs "$out" "$1"
}

echo "== directory: $(wc -l < "$W/dir.ndjson") events"
BC import --db "$DB" "$W/dir.ndjson"
echo "== the day: $EVENTS events"
timed "$W/day.ndjson"
BC analytics finalize --db "$DB" --through "$PREV" > /dev/null   # the day before, untimed

echo "== close $DAY (member, public_channel and metadata files)"
# The import leaves gigabytes of written pages to the kernel; flush them
# first, so that the close's own fsync does not wait for their writeback.
sync
s=$(date +%s.%N); BC analytics finalize --db "$DB" --through "$DAY"; e=$(date +%s.%N)
CLOSE=$(echo "$e - $s" | bc)
echo "closing took ${CLOSE}s"

TOKEN=$(BC token create --db "$DB" --user W00000000 --scopes admin.analytics:read 2>/dev/null)
"$W/backchannel" serve --db "$DB" --addr 127.0.0.1:18083 --rate-limit off --log-level warn &
PID=$! # the server itself (not a shell function's subshell), for its RSS
for _ in $(seq 100); do curl -sf http://127.0.0.1:18083/healthz >/dev/null && break; sleep 0.1; done
get() { curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:18083/api/admin.analytics.getFile?type=$1&date=$DAY" -o "$2"; }
get member "$W/member.gz"; get public_channel "$W/channel.gz"
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:18083/api/admin.analytics.getFile?type=public_channel&metadata_only=true" -o "$W/meta.gz"
gunzip -c "$W/member.gz" "$W/channel.gz" "$W/meta.gz" > "$W/files.ndjson"
echo "== gzip -1 of the same NDJSON bytes ($(wc -c < "$W/files.ndjson") bytes, $(wc -l < "$W/files.ndjson") lines)"
s=$(date +%s.%N); gzip -1 -c "$W/files.ndjson" > /dev/null; e=$(date +%s.%N)
GZ=$(echo "$e - $s" | bc)
echo "gzip -1 took ${GZ}s; closing / gzip -1 = $(echo "scale=2; $CLOSE / $GZ" | bc)"

echo "== serve the member file ($(wc -c < "$W/member.gz") bytes gzipped) to 10 clients at once"
rss() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
BEFORE=$(rss); PEAK=$BEFORE
s=$(date +%s.%N)
CURLS=()
for i in $(seq 10); do get member "$W/dl$i.gz" & CURLS+=($!); done
running() { for p in "${CURLS[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do r=$(rss); [ "$r" -gt "$PEAK" ] && PEAK=$r; sleep 0.01; done
wait "${CURLS[@]}"
e=$(date +%s.%N)
BYTES=$(( $(wc -c < "$W/member.gz") * 10 ))
echo "10 downloads of the member file: $(echo "scale=1; $BYTES / 1048576 / ($e - $s)" | bc) MB/s; RSS $BEFORE KiB before, peak $PEAK KiB, growth $(( (PEAK - BEFORE) / 1024 )) MiB"
for i in $(seq 10); do cmp -s "$W/dl$i.gz" "$W/member.gz" || echo "download $i differs!"; done

kill "$PID"; wait "$PID" 2>/dev/null || true
NEXT=$(date -u -d '2 days ago' +%F)
echo "== activity events alone: $EVENTS of them on $NEXT, about messages stored before"
"$W/genactivity" -part day -only messages -members "$MEMBERS" -events "$EVENTS" -day "$NEXT" > "$W/msgs.ndjson"
"$W/genactivity" -part day -only activity -members "$MEMBERS" -events "$EVENTS" -day "$NEXT" > "$W/act.ndjson"
BC import --db "$DB" "$W/msgs.ndjson"
timed "$W/act.ndjson"
