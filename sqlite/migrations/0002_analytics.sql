-- 0002: analytics. Rollups are maintained by Apply in the batch's
-- transaction (rollup.go); days are closed by FinalizeDays (finalize.go).
-- Day columns are backchannel.Day (days since 1970-01-01 UTC); *_at
-- columns are Unix microseconds.

-- When directory records came to exist and stopped: the files list a user
-- or channel only on the days it existed (docs/analytics.md).
ALTER TABLE users ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0; -- date_claimed, else first user event
ALTER TABLE users ADD COLUMN deleted_at INTEGER;                    -- NULL unless deleted
ALTER TABLE channels ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0; -- created, else first channel event
ALTER TABLE channels ADD COLUMN archived_at INTEGER;                   -- NULL unless archived

-- Every join and leave with when it took effect, for member counts as of
-- the end of any day. seq is the event's log seq (a tie-breaker).
CREATE TABLE membership_log (
	channel_id TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	joined     INTEGER NOT NULL,
	PRIMARY KEY (channel_id, user_id, at, seq)
) WITHOUT ROWID;

-- Member-day rollup (analytics.MemberCounts): counters add, flags OR.
CREATE TABLE member_days (
	user_id           TEXT    NOT NULL,
	day               INTEGER NOT NULL,
	messages          INTEGER NOT NULL,
	channel_messages  INTEGER NOT NULL,
	reactions         INTEGER NOT NULL,
	files             INTEGER NOT NULL,
	slack_calls       INTEGER NOT NULL,
	huddles           INTEGER NOT NULL,
	third_party_calls INTEGER NOT NULL,
	searches          INTEGER NOT NULL,
	flags             INTEGER NOT NULL,
	PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

-- Channel-day rollup of public channels (analytics.ChannelCounts): counters
-- add, last_ts max; viewers/posters grow only with new channel_day_users.
CREATE TABLE channel_days (
	channel_id      TEXT    NOT NULL,
	day             INTEGER NOT NULL,
	messages        INTEGER NOT NULL,
	member_messages INTEGER NOT NULL,
	reactions       INTEGER NOT NULL,
	viewers         INTEGER NOT NULL,
	posters         INTEGER NOT NULL,
	last_ts         INTEGER NOT NULL,
	PRIMARY KEY (channel_id, day)
) WITHOUT ROWID;

-- Distinct-user bits of a channel-day (kind 1 viewed, 2 posted).
CREATE TABLE channel_day_users (
	day        INTEGER NOT NULL,
	channel_id TEXT    NOT NULL,
	kind       INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	PRIMARY KEY (day, channel_id, kind, user_id)
) WITHOUT ROWID;

-- One row per day with data or closed. closed_at is the day's watermark:
-- set once its files are stored. late counts events that arrived for the
-- day after it closed.
CREATE TABLE analytics_days (
	day       INTEGER PRIMARY KEY,
	events    INTEGER NOT NULL,
	late      INTEGER NOT NULL DEFAULT 0,
	closed_at INTEGER
);

-- A closed day's files (gzip bytes), in chunks of analytics.ChunkSize.
-- A rowid table: chunks are large, which WITHOUT ROWID handles badly.
CREATE TABLE analytics_files (
	day   INTEGER NOT NULL,
	kind  TEXT    NOT NULL,
	chunk INTEGER NOT NULL,
	data  BLOB    NOT NULL,
	UNIQUE (day, kind, chunk)
);
