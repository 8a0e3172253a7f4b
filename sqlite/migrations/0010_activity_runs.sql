-- 0010: activity events are logged in event_runs too, beside plain
-- messages: one row per stretch of consecutive new events of either kind
-- in a batch instead of one row of events each (they still claim their
-- event_keys slots). types says what each line of a run is: one byte per
-- line, the code of its type (eventlog.go runTypes). NULL, as in every run
-- written before, means that every line is a `message`.
ALTER TABLE event_runs ADD COLUMN types BLOB;
