-- 0009: messages.activity's tables are keyed by the message's ts first,
-- then its channel (0003 keyed them by channel first). Activity mostly
-- concerns recent messages, so a batch's (message, user) bits, counter rows
-- and group rows now fall in a few neighbouring pages at the end of each
-- table instead of one page per channel the batch touches. Every read is a
-- point lookup of (channel_id, ts), which either order serves.
CREATE TABLE message_user_acts_0009 (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	bits       INTEGER NOT NULL,
	prev       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (ts, channel_id, user_id)
) WITHOUT ROWID;
INSERT INTO message_user_acts_0009 (channel_id, ts, user_id, bits)
	SELECT channel_id, ts, user_id, bits FROM message_user_acts ORDER BY ts, channel_id, user_id;
DROP TABLE message_user_acts;
ALTER TABLE message_user_acts_0009 RENAME TO message_user_acts;

CREATE TABLE message_acts_0009 (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	views      INTEGER NOT NULL,
	reactions  INTEGER NOT NULL,
	shares     INTEGER NOT NULL,
	clicks     INTEGER NOT NULL,
	desktop    INTEGER NOT NULL,
	mobile     INTEGER NOT NULL,
	web        INTEGER NOT NULL,
	PRIMARY KEY (ts, channel_id)
) WITHOUT ROWID;
INSERT INTO message_acts_0009
	SELECT channel_id, ts, views, reactions, shares, clicks, desktop, mobile, web FROM message_acts ORDER BY ts, channel_id;
DROP TABLE message_acts;
ALTER TABLE message_acts_0009 RENAME TO message_acts;

CREATE TABLE message_group_acts_0009 (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	kind       INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	views      INTEGER NOT NULL,
	reactions  INTEGER NOT NULL,
	shares     INTEGER NOT NULL,
	clicks     INTEGER NOT NULL,
	PRIMARY KEY (ts, channel_id, kind, name)
) WITHOUT ROWID;
INSERT INTO message_group_acts_0009
	SELECT channel_id, ts, kind, name, views, reactions, shares, clicks FROM message_group_acts ORDER BY ts, channel_id, kind, name;
DROP TABLE message_group_acts;
ALTER TABLE message_group_acts_0009 RENAME TO message_group_acts;
