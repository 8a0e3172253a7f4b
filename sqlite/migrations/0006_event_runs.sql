-- 0006: plain messages are logged in runs, and a message row carries its
-- holder's key itself.
--
-- A `message` event without event_id (almost every event of a message
-- stream) is logged in event_runs rather than in events: one row per run of
-- consecutive seqs of such events in one batch, instead of one row each.
-- The i-th event of a run (from 0) has seq first_seq + i; keys holds the n
-- keys (32 bytes each) in order, and raw the n lines, each preceded by its
-- length as an unsigned varint. Every other event is logged in events as
-- before. Together they are the log; a seq is in exactly one of them.
CREATE TABLE event_runs (
	first_seq   INTEGER PRIMARY KEY,
	n           INTEGER NOT NULL,
	ingested_at INTEGER NOT NULL,
	keys        BLOB    NOT NULL,
	raw         BLOB    NOT NULL
);

-- holder replaces key_seq (0005): the holder's log seq (8 bytes, big
-- endian) followed by its key (32 bytes), so that finding a duplicate
-- through the row reads no log. key_seq stays, always NULL.
ALTER TABLE messages ADD COLUMN holder BLOB;
UPDATE messages SET holder = unhex(printf('%016x', key_seq)) || (SELECT e.key FROM events AS e WHERE e.seq = messages.key_seq),
	key_seq = NULL
	WHERE key_seq IS NOT NULL;
