-- 0011: the distinct users of channel-days (kind 1 viewed, 2 posted) are
-- logged in runs instead of rows of channel_day_users: each batch appends,
-- per day, one row holding the pairs that were new to the day, packed by
-- channel (distinct.go), and n, how many. The writer decides what is new
-- from the day's set in memory, read from here the first time it needs the
-- day.
CREATE TABLE channel_day_user_runs (
	id    INTEGER PRIMARY KEY,
	day   INTEGER NOT NULL,
	n     INTEGER NOT NULL,
	users BLOB    NOT NULL
);
CREATE INDEX channel_day_user_runs_day ON channel_day_user_runs (day, id);

-- The rows of channel_day_users become one run per channel-day. A run
-- packs each id after its length as a uvarint, which for under 128 bytes
-- is the length itself, one byte: ingest accepts ids of at most 64 ASCII
-- letters and digits. The check stops the migration (nothing changed)
-- rather than pack anything else.
CREATE TEMP TABLE migration_0011_check (bad INTEGER NOT NULL CHECK (bad = 0));
INSERT INTO migration_0011_check SELECT count(*) FROM channel_day_users
	WHERE kind NOT IN (1, 2) OR length(CAST(channel_id AS BLOB)) > 127 OR length(CAST(user_id AS BLOB)) > 127;
DROP TABLE migration_0011_check;
INSERT INTO channel_day_user_runs (day, n, users)
	SELECT day, count(*), unhex(printf('%02X', length(CAST(channel_id AS BLOB))) || hex(channel_id)
		|| group_concat(printf('%02X%02X', kind, length(CAST(user_id AS BLOB))) || hex(user_id), '') || '00')
	FROM channel_day_users GROUP BY day, channel_id ORDER BY day, channel_id;
DROP TABLE channel_day_users;
