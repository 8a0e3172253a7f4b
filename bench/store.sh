# Sourced by the benchmark scripts: sets DB for the store under test.
#   STORE=sqlite   (default) a fresh SQLite file in $W
#   STORE=postgres a fresh schema in $PG (default the local test database),
#                  dropped on exit
PG=${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
case "${STORE:-sqlite}" in
  sqlite) DB="$W/bench.db" ;;
  postgres)
    SCHEMA="bench_$$_$RANDOM"
    psql "$PG" -qc "CREATE SCHEMA $SCHEMA"
    trap 'kill $(jobs -p) 2>/dev/null || true; psql "$PG" -qc "SET client_min_messages=warning; DROP SCHEMA $SCHEMA CASCADE"; rm -rf "$W"' EXIT
    sep='?'; [[ "$PG" == *\?* ]] && sep='&'
    # application_name tags the benchmark's backends (ingest.sh sums their CPU).
    DB="${PG}${sep}options=-csearch_path%3D${SCHEMA}&application_name=${SCHEMA}"
    ;;
  *) echo "STORE must be sqlite or postgres" >&2; exit 2 ;;
esac
echo "== store: ${STORE:-sqlite}"
