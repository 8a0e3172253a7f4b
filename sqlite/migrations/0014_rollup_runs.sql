-- 0014: member-day and channel-day deltas are logged in runs: a batch
-- appends, per day, one row holding its member-day deltas (members) and
-- its channel-day deltas (channels), packed by id (rollruns.go), instead of
-- upserting a row of member_days per user and of channel_days per channel.
-- A day's rows of member_days are spread over the whole table (it is keyed
-- by user first), so a batch's upserts wrote a page for nearly every user
-- it touched; a run is a few pages.
--
-- member_days and channel_days stay what the files read: a day's runs are
-- merged into them (compacted) before the day is closed, by every
-- FinalizeDays (each minute in the server) and at the end of an import.
-- A day's rollups are its rows plus its runs until then.
CREATE TABLE rollup_runs (
	id       INTEGER PRIMARY KEY,
	day      INTEGER NOT NULL,
	members  BLOB    NOT NULL,
	channels BLOB    NOT NULL
);
CREATE INDEX rollup_runs_day ON rollup_runs (day, id);
