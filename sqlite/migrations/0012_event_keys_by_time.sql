-- 0012: the event_keys slot of every event without event_id that has an
-- event_ts starts in the region of its event_ts (eventlog.go slotOf), as
-- activity events' slots have since 0008: reactions, pins, stars, edits,
-- deletions, joins and leaves, directory events. Such an event's key is the
-- hash of its line, which holds its event_ts, so a replay starts where the
-- original did. (A `message` without event_id claims no slot.)
--
-- Slots claimed before this migration stay where they are. When event_keys
-- holds any, the row here makes the writer also look for each new such
-- event at its old slot, as event_keys_legacy does for activity events. A
-- database created at this version has no row and never looks twice.
CREATE TABLE event_keys_moved (
	singleton INTEGER PRIMARY KEY CHECK (singleton = 1)
);
INSERT INTO event_keys_moved (singleton) SELECT 1 WHERE EXISTS (SELECT 1 FROM event_keys);
