-- 0008: the event_keys slot of an activity event without event_id starts in
-- the region of its event_ts (eventlog.go slotOf) instead of at its key's
-- first 8 bytes, so that a batch of a stream's activity claims slots in a
-- few neighbouring pages of event_keys rather than one random page each.
-- Such an event's key is the hash of its line, which holds its event_ts, so
-- a replay starts where the original did.
--
-- Slots claimed before this migration stay where they are. When the log
-- holds activity events from before it, their last seq is kept here, and
-- the writer also looks for each new such event at its old slot (a replay
-- of a line from before the upgrade is still a duplicate). A database
-- created at this version has no row and never looks twice.
CREATE TABLE event_keys_legacy (
	singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
	through_seq INTEGER NOT NULL
);
-- Read backwards from the log's end: a long log is scanned whole only when
-- it holds no activity at all.
INSERT INTO event_keys_legacy (singleton, through_seq)
	SELECT 1, seq FROM events
	WHERE type IN ('message_viewed', 'message_clicked', 'message_shared', 'client_active',
		'file_added', 'search', 'app_used', 'workflow_used', 'call')
	ORDER BY seq DESC LIMIT 1;
