#!/usr/bin/env bash
# The ingest benchmark of docs/BENCHMARKS.md:  bench/ingest.sh
# STORE=postgres runs it on PostgreSQL (bench/store.sh).
# Serves an empty store and drives POST /ingest/events with
# bench/ingestload (4 clients, 2000 message events per request, 20 s),
# every request body built before the clock starts (EVENTS in all).
# Events count only when acknowledged, and acknowledged means committed.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
source bench/store.sh
# BIN=path runs a given server binary (to compare builds alternately).
if [[ -n "${BIN:-}" ]]; then cp "$BIN" "$W/backchannel"; else go build -o "$W/backchannel" ./cmd/backchannel; fi
go build -o "$W/genevents" ./bench/genevents
go build -o "$W/ingestload" ./bench/ingestload
"$W/genevents" -directory-only > "$W/dir.ndjson"
"$W/backchannel" import --db "$DB" "$W/dir.ndjson" >/dev/null
TOKEN=$("$W/backchannel" token create --db "$DB" --user W0BENCH001 --scopes backchannel:ingest 2>/dev/null)
"$W/backchannel" serve --db "$DB" --addr 127.0.0.1:18082 --rate-limit off --log-level warn &
SERVER=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18082/healthz >/dev/null && break; sleep 0.1; done
# Server CPU per event: steadier than events/s on a shared machine.
cpu() { awk '{print $14+$15}' "/proc/$SERVER/stat"; }
# On PostgreSQL, also the CPU of the server's backends (tagged with the
# schema as application_name by bench/store.sh), in clock ticks.
pgcpu() {
  [[ -n "${SCHEMA:-}" ]] || { echo 0; return; }
  local t=0 p
  for p in $(psql "$PG" -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = '$SCHEMA'"); do
    t=$(( t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo "$t"
}
C0=$(cpu)
P0=$(pgcpu)
"$W/ingestload" -url http://127.0.0.1:18082/ingest/events -token "$TOKEN" -c "${C:-4}" -batch "${BATCH:-2000}" -d "${DUR:-20s}" -events "${EVENTS:-3000000}"
C1=$(cpu)
P1=$(pgcpu)
DB_EVENTS=$(sqlite3 "$DB" 'SELECT (SELECT count(*) FROM events) + (SELECT coalesce(sum(n), 0) FROM event_runs)' 2>/dev/null || echo "")
if [[ -n "$DB_EVENTS" && "$DB_EVENTS" -gt 0 ]]; then
  echo "server CPU: $(( (C1 - C0) * 10 )) ms for $DB_EVENTS logged events: $(( (C1 - C0) * 10000000 / DB_EVENTS )) ns/event"
else
  echo "server CPU: $(( (C1 - C0) * 10 )) ms"
fi
if [[ -n "${SCHEMA:-}" ]]; then
  N=$(psql "$PG" -Atc "SELECT count(*) FROM $SCHEMA.events")
  echo "PostgreSQL backends CPU: $(( (P1 - P0) * 10 )) ms; server + backends: $(( (C1 - C0 + P1 - P0) * 10000000 / N )) ns per logged event ($N)"
fi
