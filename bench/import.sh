#!/usr/bin/env bash
# The Slack export import benchmark of docs/BENCHMARKS.md:  bench/import.sh
# MESSAGES=1000000 (default) FORMAT=dir|zip; STORE=postgres runs it on
# PostgreSQL (bench/store.sh). Generates a synthetic export with
# bench/genexport, imports it into an empty store with `backchannel import`
# and prints messages/s and the peak RSS of the import process, then the
# time of importing it again, then the importer's own cost: the same import
# into a store that only counts (bench/importpipe).
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
source bench/store.sh
N=${MESSAGES:-1000000}
go build -o "$W/backchannel" ./cmd/backchannel
go build -o "$W/genexport" ./bench/genexport
go build -o "$W/importpipe" ./bench/importpipe
EXPORT="$W/export"
[ "${FORMAT:-dir}" = zip ] && EXPORT="$W/export.zip"
"$W/genexport" -messages "$N" -out "$EXPORT"
echo "export: $(du -sh "$EXPORT" | cut -f1) ($N messages)"
/usr/bin/time -f "%e %M" -o "$W/time" "$W/backchannel" import --db "$DB" "$EXPORT" | tee "$W/out"
read -r secs kb < "$W/time"
awk -v n="$N" -v s="$secs" -v kb="$kb" 'BEGIN { printf "import: %.1f s wall, %.0f messages/s, peak RSS %.0f MiB\n", s, n / s, kb / 1024 }'
# Importing again stores nothing new: every event is a duplicate.
/usr/bin/time -f "%e %M" -o "$W/time2" "$W/backchannel" import --db "$DB" "$EXPORT" >/dev/null
read -r secs2 kb2 < "$W/time2"
awk -v s="$secs2" -v kb="$kb2" 'BEGIN { printf "re-import (all duplicates): %.1f s wall, peak RSS %.0f MiB\n", s, kb / 1024 }'
/usr/bin/time -f "%e %M" -o "$W/time3" "$W/importpipe" "$EXPORT" > "$W/out3"
read -r secs3 kb3 < "$W/time3"
echo "importer alone (no store): $(cat "$W/out3"), peak RSS $((kb3 / 1024)) MiB"
