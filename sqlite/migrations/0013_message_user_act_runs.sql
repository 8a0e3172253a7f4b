-- 0013: what each user has done to each message (analytics.ActBits) is
-- logged in runs: a batch appends, for each message it gives new bits to,
-- one row of the (user, bits) pairs it added (activity.go), instead of a
-- row per (message, user) in message_user_acts. The writer reads the runs
-- of the messages a batch touches; a message with many runs has them merged
-- into one. Keyed by the message's ts first, as 0009 keyed the activity
-- tables. message_user_acts keeps what was stored before this migration:
-- it is read beside the runs and never written again.
CREATE TABLE message_user_act_runs (
	ts         INTEGER NOT NULL,
	channel_id TEXT    NOT NULL,
	seq        INTEGER NOT NULL, -- the message's runs are numbered from 1
	users      BLOB    NOT NULL,
	PRIMARY KEY (ts, channel_id, seq)
) WITHOUT ROWID;
