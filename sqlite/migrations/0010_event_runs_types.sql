-- 0010: every event is logged in event_runs, not only plain messages: one
-- row per stretch of consecutive new events of a batch instead of one row
-- of events each (events other than plain messages still claim their
-- event_keys slots). types says what each line of a run is: one byte per
-- line, the code of its type (eventlog.go runTypes). NULL, as in every run
-- written before, means that every line is a `message`. Rows of events
-- stay as they are; nothing new is written there.
ALTER TABLE event_runs ADD COLUMN types BLOB;
