#!/usr/bin/env bash
# The ingest benchmark of docs/BENCHMARKS.md:  bench/ingest.sh
# STORE=postgres runs it on PostgreSQL (bench/store.sh).
# Serves an empty store and drives POST /ingest/events with
# bench/ingestload (4 clients, 2000 message events per request, 20 s).
# Events count only when acknowledged, and acknowledged means committed.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
source bench/store.sh
go build -o "$W/backchannel" ./cmd/backchannel
go build -o "$W/genevents" ./bench/genevents
go build -o "$W/ingestload" ./bench/ingestload
"$W/genevents" -directory-only > "$W/dir.ndjson"
"$W/backchannel" import --db "$DB" "$W/dir.ndjson" >/dev/null
TOKEN=$("$W/backchannel" token create --db "$DB" --user W0BENCH001 --scopes backchannel:ingest 2>/dev/null)
"$W/backchannel" serve --db "$DB" --addr 127.0.0.1:18082 --rate-limit off --log-level warn &
for _ in $(seq 100); do curl -sf http://127.0.0.1:18082/healthz >/dev/null && break; sleep 0.1; done
"$W/ingestload" -url http://127.0.0.1:18082/ingest/events -token "$TOKEN" -c "${C:-4}" -batch "${BATCH:-2000}" -d "${DUR:-20s}"
