-- 0015: reactions are kept apart from the message rows, and keyed by ts
-- first.
--
-- A message's stored body is rendered without its reactions
-- (render.Split), and react_at is where they go: a byte offset into body,
-- or -1 for just before its final '}'. The history read inserts the
-- reactions of a page's messages (history.go), so the writer never reads
-- reactions and a reaction rewrites no message row.
--
-- reactions was keyed by (channel_id, ts), so that a batch of the
-- analytics benchmark's day, with reactions to recent messages of most of
-- the 5,000 channels, dirtied a page of it per channel: about 2,100 of the
-- 13,900 pages its commit wrote. Keyed by ts first, its reactions are
-- neighbours near the end of the table, as messages.activity's runs have
-- been since 0009. What looked reactions up by channel first (the
-- writer's marks, the render of a batch's messages) no longer needs them.
--
-- Rows written before this migration keep react_at NULL: their body holds
-- their reactions, as it did, and is served as it is; the first change of
-- the message (a reaction, an edit, a reply) rewrites it the new way.
ALTER TABLE messages ADD COLUMN react_at INTEGER;

CREATE TABLE reactions_by_ts (
	ts         INTEGER NOT NULL,
	channel_id TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (ts, channel_id, name, user_id)
) WITHOUT ROWID;
INSERT INTO reactions_by_ts (ts, channel_id, name, user_id, seq)
	SELECT ts, channel_id, name, user_id, seq FROM reactions ORDER BY ts, channel_id, name, user_id;
DROP TABLE reactions;
ALTER TABLE reactions_by_ts RENAME TO reactions;
