-- 0013: messages.activity is logged in runs: a batch appends, for each
-- message it gives new bits to, one row of the (user, bits) pairs it added
-- and of the counts they add (actruns.go), instead of a row per (message,
-- user) in message_user_acts and upserts of the message's rows in
-- message_acts and message_group_acts. The writer reads the runs of the
-- messages a batch touches, readers those of a page; a message with many
-- runs has them merged into one. Keyed by the message's ts first, as 0009
-- keyed the activity tables. The three tables keep what was stored before
-- this migration: they are read beside the runs and never written again.
--
-- A rowid table with an index rather than keyed by (ts, channel_id, seq):
-- a run of a message viewed by thousands holds kilobytes of users, and
-- the interior pages of a WITHOUT ROWID table hold whole rows, so every
-- seek past such a row would read its overflow pages. Here the index rows
-- are small, and a reader of counts (stored before users) reads no users.
CREATE TABLE message_act_runs (
	id         INTEGER PRIMARY KEY,
	ts         INTEGER NOT NULL,
	channel_id TEXT    NOT NULL,
	seq        INTEGER NOT NULL, -- the message's runs are numbered from 1
	counts     BLOB    NOT NULL,
	users      BLOB    NOT NULL
);
CREATE UNIQUE INDEX message_act_runs_message ON message_act_runs (ts, channel_id, seq);
