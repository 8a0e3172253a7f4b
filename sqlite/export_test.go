package sqlite

// DisableMessageActivity stops Apply from maintaining the messages.activity
// counters (benchmarks only: what they cost at ingest).
func DisableMessageActivity(db *DB) { db.noActivity = true }
