// Command ingestceiling is the yardstick of bench/analytics.sh's import
// figures: the bare SQLite store of an NDJSON file's lines, one row per
// line and nothing else (no parsing, no idempotency keys, no rollups),
// with the writer's driver and settings (WAL, synchronous=NORMAL, no
// automatic checkpoint, a 64 MiB page cache) and one transaction per
// -batch lines, as `backchannel import` commits them. The WAL is synced
// at the end, so the lines are as durable as an import's. backchannel
// does all of that for every event and more, so its events/s over this
// one, measured in the same run, says how far it is from the machine's
// own limit, whatever the machine's speed that minute.
//
//	ingestceiling [-batch 50000] [-db FILE] [-vs LINE] FILE.ndjson
//
// With -vs, LINE is what `backchannel import` printed for the same file
// ("imported N events (D duplicates) from FILE in DURATION"): the import's
// events/s is printed beside the yardstick's, with their ratio.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

// rowsPerInsert is how many lines one INSERT statement binds.
const rowsPerInsert = 1000

func main() {
	batch := flag.Int("batch", 50_000, "lines per transaction")
	dbPath := flag.String("db", "", "the SQLite file to create (default: a temporary one, removed after)")
	vs := flag.String("vs", "", "backchannel import's output line for the same file, to compare with")
	flag.Parse()
	if flag.NArg() != 1 || *batch < 1 {
		log.Fatal("usage: ingestceiling [-batch N] [-db FILE] FILE.ndjson")
	}
	path := *dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "ingestceiling-*")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "ceiling.db")
	}
	n, d, err := run(context.Background(), path, flag.Arg(0), *batch)
	if err != nil {
		log.Fatal(err)
	}
	ceiling := float64(n) / d.Seconds()
	fmt.Printf("yardstick: stored %d lines in %s: %.0f lines/s\n", n, d.Round(time.Millisecond), ceiling)
	if *vs != "" {
		events, took, err := parseImportLine(*vs)
		if err != nil {
			log.Fatal(err)
		}
		rate := float64(events) / took.Seconds()
		fmt.Printf("import: %d events in %s: %.0f events/s, %.3f of the yardstick\n", events, took, rate, rate/ceiling)
	}
}

// parseImportLine reads the events and the time of `backchannel import`'s
// summary line.
func parseImportLine(line string) (int, time.Duration, error) {
	line = strings.TrimSpace(line)
	var events int
	if _, err := fmt.Sscanf(line, "imported %d events", &events); err != nil {
		return 0, 0, fmt.Errorf("-vs %q: not an import summary line: %w", line, err)
	}
	i := strings.LastIndex(line, " in ")
	if i < 0 {
		return 0, 0, fmt.Errorf("-vs %q: no duration", line)
	}
	took, err := time.ParseDuration(line[i+len(" in "):])
	if err != nil || took <= 0 {
		return 0, 0, fmt.Errorf("-vs %q: bad duration", line)
	}
	return events, took, nil
}

func run(ctx context.Context, dbPath, file string, batch int) (int, time.Duration, error) {
	in, err := os.Open(file)
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "cache_size(-65536)", "journal_mode(WAL)",
		"synchronous(NORMAL)", "wal_autocheckpoint(0)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?"+q.Encode())
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE lines (line BLOB NOT NULL)`); err != nil {
		return 0, 0, err
	}
	full, err := db.PrepareContext(ctx, insert(rowsPerInsert))
	if err != nil {
		return 0, 0, err
	}
	defer full.Close()

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	start := time.Now()
	total := 0
	lines := make([][]byte, 0, batch)
	arena := make([]byte, 0, 16<<20)
	for {
		lines, arena = lines[:0], arena[:0]
		for len(lines) < batch && sc.Scan() {
			if len(sc.Bytes()) == 0 {
				continue
			}
			arena = append(arena, sc.Bytes()...)
			lines = append(lines, arena[len(arena)-len(sc.Bytes()):len(arena):len(arena)])
		}
		if err := sc.Err(); err != nil {
			return total, 0, fmt.Errorf("%s: %w", file, err)
		}
		if len(lines) == 0 {
			break
		}
		if err := store(ctx, db, full, lines); err != nil {
			return total, 0, err
		}
		total += len(lines)
	}
	// The import's durable point: its WAL synced. A checkpoint with
	// synchronous=FULL would also copy the pages; a sync of the WAL file is
	// what the writer's commits wait for (durable.go).
	if err := syncFile(dbPath + "-wal"); err != nil {
		return total, 0, err
	}
	return total, time.Since(start), nil
}

// store inserts lines in one transaction.
func store(ctx context.Context, db *sql.DB, full *sql.Stmt, lines [][]byte) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, full)
	args := make([]any, rowsPerInsert)
	for len(lines) > 0 {
		n := min(len(lines), rowsPerInsert)
		for i, l := range lines[:n] {
			args[i] = l
		}
		if n == rowsPerInsert {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(n), args[:n]...)
		}
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		lines = lines[n:]
	}
	return tx.Commit()
}

func insert(rows int) string {
	return `INSERT INTO lines (line) VALUES (?)` + strings.Repeat(`,(?)`, rows-1)
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
