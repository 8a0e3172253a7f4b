-- 0007: messages.activity's per-(message, user) bits are merged and their
-- news learnt in one statement: the upsert that ORs a batch's bits into a
-- row sets prev to the bits it held before and returns both (activity.go),
-- instead of a read of every key before the write. prev is scratch: only
-- that statement's RETURNING reads it.
ALTER TABLE message_user_acts ADD COLUMN prev INTEGER NOT NULL DEFAULT 0;
