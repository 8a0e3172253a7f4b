-- 0002: analytics. Rollups are maintained by Apply in the batch's
-- transaction (rollup.go); days are closed by FinalizeDays (finalize.go).
-- Day columns are backchannel.Day (days since 1970-01-01 UTC); *_at
-- columns are Unix microseconds.

-- When directory records came to exist and stopped: the files list a user
-- or channel only on the days it existed (docs/analytics.md). Rows that
-- predate this migration get what their record says (date_claimed,
-- created); a user already deleted or a channel already archived has been
-- so since forever, as far as the files can tell.
ALTER TABLE users ADD COLUMN created_at bigint NOT NULL DEFAULT 0, ADD COLUMN deleted_at bigint;
ALTER TABLE channels ADD COLUMN created_at bigint NOT NULL DEFAULT 0, ADD COLUMN archived_at bigint;
UPDATE users SET created_at = date_claimed * 1000000, deleted_at = CASE WHEN deleted THEN 0 END;
UPDATE channels SET created_at = created * 1000000, archived_at = CASE WHEN is_archived THEN 0 END;

-- The day an event counts for (analytics.DayOf), NULL for events without
-- one, so a rebuild reads only its days' events; BRIN because live ingest
-- logs days in order. Events logged before this migration get theirs here,
-- by the same rule: a message's ts, else event_ts, else the message ts
-- (ingest validated both as Slack timestamps, strings or numbers). Their
-- rollups are then built by `backchannel analytics rebuild`.
ALTER TABLE events ADD COLUMN day integer;
UPDATE events SET day = CASE
		WHEN type <> 'message' AND event_ts <> 0 THEN floor(event_ts / 86400000000.0)
		ELSE floor((convert_from(raw, 'UTF8')::jsonb ->> 'ts')::numeric / 86400) END
	WHERE type IN ('message', 'reaction_added', 'reaction_removed', 'message_viewed', 'message_clicked',
		'message_shared', 'client_active', 'file_added', 'search', 'app_used', 'workflow_used', 'call');
CREATE INDEX events_day_brin ON events USING brin (day);

-- Every join and leave with when it took effect, for member counts as of
-- the end of any day. seq is the event's log seq (a tie-breaker). The
-- memberships that exist already are logged as joins since forever.
CREATE TABLE membership_log (
	channel_id text    NOT NULL,
	user_id    text    NOT NULL,
	at         bigint  NOT NULL,
	seq        bigint  NOT NULL,
	joined     boolean NOT NULL,
	PRIMARY KEY (channel_id, user_id, at, seq)
);
INSERT INTO membership_log (channel_id, user_id, at, seq, joined) SELECT channel_id, user_id, 0, 0, true FROM memberships;

-- Member-day rollup (analytics.MemberCounts): counters add, flags OR.
CREATE TABLE member_days (
	user_id           text     NOT NULL,
	day               integer  NOT NULL,
	messages          bigint   NOT NULL,
	channel_messages  bigint   NOT NULL,
	reactions         bigint   NOT NULL,
	files             bigint   NOT NULL,
	slack_calls       bigint   NOT NULL,
	huddles           bigint   NOT NULL,
	third_party_calls bigint   NOT NULL,
	searches          bigint   NOT NULL,
	flags             smallint NOT NULL,
	PRIMARY KEY (user_id, day)
) WITH (fillfactor = 80); -- rows of today are updated in place (HOT)

-- Channel-day rollup of public channels (analytics.ChannelCounts): counters
-- add, last_ts max; viewers/posters grow only with new channel_day_users.
CREATE TABLE channel_days (
	channel_id      text    NOT NULL,
	day             integer NOT NULL,
	messages        bigint  NOT NULL,
	member_messages bigint  NOT NULL,
	reactions       bigint  NOT NULL,
	viewers         bigint  NOT NULL,
	posters         bigint  NOT NULL,
	last_ts         bigint  NOT NULL,
	PRIMARY KEY (channel_id, day)
) WITH (fillfactor = 80);

-- Distinct-user bits of a channel-day (kind 1 viewed, 2 posted). Led by
-- day: a day's bits are written together and, once the day is over, never
-- touched again.
CREATE TABLE channel_day_users (
	day        integer  NOT NULL,
	channel_id text     NOT NULL,
	kind       smallint NOT NULL,
	user_id    text     NOT NULL,
	PRIMARY KEY (day, channel_id, kind, user_id)
);

-- One row per day with data or closed. closed_at is the day's watermark:
-- set once its files are stored. late counts events that arrived for the
-- day after it closed. Apply and FinalizeDays serialize per day on an
-- advisory lock (rollup.go), so late is exact.
CREATE TABLE analytics_days (
	day       integer PRIMARY KEY,
	events    bigint  NOT NULL,
	late      bigint  NOT NULL DEFAULT 0,
	closed_at bigint
) WITH (fillfactor = 50);
INSERT INTO analytics_days (day, events) SELECT day, count(*) FROM events WHERE day IS NOT NULL GROUP BY day;

-- A closed day's files: analytics_files names the current generation of
-- each (a rebuild writes a new one, so a download in progress keeps
-- reading the one it opened), analytics_chunks holds the gzip bytes in
-- chunks of analytics.ChunkSize. chunks lets a reader tell the end of a
-- file from a generation removed under it.
CREATE SEQUENCE analytics_gen;
CREATE TABLE analytics_files (
	day    integer NOT NULL,
	kind   text    NOT NULL,
	gen    bigint  NOT NULL,
	chunks integer NOT NULL,
	size   bigint  NOT NULL,
	PRIMARY KEY (day, kind)
);
CREATE TABLE analytics_chunks (
	day   integer NOT NULL,
	kind  text    NOT NULL,
	gen   bigint  NOT NULL,
	chunk integer NOT NULL,
	data  bytea   NOT NULL,
	PRIMARY KEY (day, kind, gen, chunk)
);
-- gzip does not compress again: skip TOAST's attempt, store out of line.
ALTER TABLE analytics_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
