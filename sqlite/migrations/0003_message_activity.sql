-- 0003: admin.analytics.messages.activity. Exact distinct-user counts per
-- message, maintained by Apply in the event's transaction (activity.go,
-- rules in analytics/activity.go) and read without scanning viewers.
-- Everything is keyed by (channel_id, ts), not by a messages row: activity
-- about a message that has not arrived yet is counted and shows once the
-- message does. Events logged before this migration are not counted.

-- What each user has done to each message (analytics.ActBits): a bit set
-- here for the first time is what bumps the rows below, once.
CREATE TABLE message_user_acts (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	bits       INTEGER NOT NULL,
	PRIMARY KEY (channel_id, ts, user_id)
) WITHOUT ROWID;

-- A message's distinct users: totals and views per client.
CREATE TABLE message_acts (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	views      INTEGER NOT NULL,
	reactions  INTEGER NOT NULL,
	shares     INTEGER NOT NULL,
	clicks     INTEGER NOT NULL,
	desktop    INTEGER NOT NULL,
	mobile     INTEGER NOT NULL,
	web        INTEGER NOT NULL,
	PRIMARY KEY (channel_id, ts)
) WITHOUT ROWID;

-- A message's distinct users per department (kind 1) and per home team
-- (kind 2), as of each user's first touch.
CREATE TABLE message_group_acts (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	kind       INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	views      INTEGER NOT NULL,
	reactions  INTEGER NOT NULL,
	shares     INTEGER NOT NULL,
	clicks     INTEGER NOT NULL,
	PRIMARY KEY (channel_id, ts, kind, name)
) WITHOUT ROWID;
