-- 0005: a message row carries the key of the event that wrote it.
--
-- key_seq is the log seq of the last `message` event without event_id that
-- wrote the row, when that event's key is not in event_keys. Such an event
-- needs no slot: an identical line names the same (channel, ts), so it is
-- found through the row. When another `message` event replaces the row
-- (last write wins), the holder's key moves into event_keys first, so a
-- line sent again after being replaced (A, B, A) is still a duplicate.
-- NULL: every key that wrote the row is in event_keys.
ALTER TABLE messages ADD COLUMN key_seq INTEGER;
