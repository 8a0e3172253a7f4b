#!/usr/bin/env bash
# The conversations.history benchmark of docs/BENCHMARKS.md:
#   bench/history.sh [MESSAGES]     (default 1000000)
# STORE=postgres runs it on PostgreSQL (bench/store.sh).
# Builds backchannel, imports a channel of MESSAGES messages (timing the
# import), serves it with rate limits off, and drives it with wrk (32
# connections, 2 threads) — first the newest page (what a client polling a
# channel asks for), then random cursors across the whole channel (a cold
# walk) — beside the ceiling: a minimal Go HTTP server returning a
# pre-encoded body of the same size, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
DUR=${DUR:-15s}
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
source bench/store.sh
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

go build -o "$W/backchannel" ./cmd/backchannel
go build -o "$W/ceiling" ./bench/ceiling
go build -o "$W/genevents" ./bench/genevents
"$W/genevents" -messages "$N" > "$W/events.ndjson"
echo "== import of $N messages"
/usr/bin/time -f "peak RSS %M KiB" "$W/backchannel" import --db "$DB" "$W/events.ndjson"
TOKEN=$("$W/backchannel" token create --db "$DB" --user W0BENCH001 --scopes channels:history,backchannel:ingest 2>/dev/null)

"$W/backchannel" serve --db "$DB" --addr 127.0.0.1:18080 --rate-limit off --log-level warn > "$W/serve.log" 2>&1 &
for _ in $(seq 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:18080/api/conversations.history?channel=C0BENCH001&limit=100"
curl -s -H "Authorization: Bearer $TOKEN" "$URL" > "$W/page.json"
SIZE=$(wc -c < "$W/page.json")
echo "== response body: $SIZE bytes"

# Random cursors spread over the whole channel, for the cold workload.
NEWEST=$(python3 -c "import json;print(json.load(open('$W/page.json'))['messages'][0]['ts'])")
python3 - "$NEWEST" "$N" > "$W/paths.lua" <<'PY'
import sys, base64, random
newest = int(sys.argv[1].replace('.', '')); n = int(sys.argv[2]); random.seed(1)
print("paths = {")
for _ in range(20000):
    ts = newest - random.randrange(n) * 1000
    print('  "/api/conversations.history?channel=C0BENCH001&limit=100&cursor=%s",' % base64.b64encode(b"next_ts:%d" % ts).decode())
print("}")
PY
cat >> "$W/paths.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
LUA

run() { wrk -t2 -c32 -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "$@" | grep -E "Requests/sec|99%|Non-2xx|Socket errors" ; }
echo "== backchannel, newest page (hot)"
run "$URL"
echo "== backchannel, random cursors over $N messages (cold walk)"
run -s "$W/paths.lua" "http://127.0.0.1:18080"
kill %1; wait %1 2>/dev/null || true

"$W/ceiling" -addr 127.0.0.1:18081 -body "$W/page.json" > /dev/null &
sleep 0.5
echo "== ceiling: minimal Go server, same $SIZE-byte body"
run "http://127.0.0.1:18081/"
