-- 0011: the distinct users of channel-days (kind 1 viewed, 2 posted) are
-- logged in runs: each batch appends, per day, one row holding the pairs
-- that were new to the day, packed by channel (distinct.go). The writer
-- decides what is new from the day's set in memory, read from here and
-- from channel_day_users the first time it needs the day. The rows of
-- channel_day_users stay as they are; nothing new is written there. n is
-- the number of pairs of the run (the writer sizes a day's set with it).
CREATE TABLE channel_day_user_runs (
	id    INTEGER PRIMARY KEY,
	day   INTEGER NOT NULL,
	n     INTEGER NOT NULL,
	users BLOB    NOT NULL
);
CREATE INDEX channel_day_user_runs_day ON channel_day_user_runs (day, id);
