-- 0005: the highest event seq applied to each channel (versions rows with
-- key 'c:' || channel id; 0 elsewhere). A batch reserves its seqs before it
-- takes the channel's lock (postgres/ticket.go) and checks under the lock
-- that no later seq was applied first, so seq order stays apply order.
ALTER TABLE versions ADD COLUMN seq bigint NOT NULL DEFAULT 0;
