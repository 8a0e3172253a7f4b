-- 0001: the whole first schema. Message timestamps are bigint microseconds
-- (backchannel.TS). Every table about messages leads with channel_id, the
-- distribution key on a distributed engine (docs/postgres.md).

-- The raw event log: every accepted event, in ingest order within a request.
-- It is the source for analytics rebuilds, so nothing is ever deleted from
-- it. key is the idempotency key (Event.Key). Dedupe is exact across
-- processes because batches sharing a key serialize on an advisory lock
-- (postgres/apply.go); the unique index is the backstop.
-- A batch reserves blocks of 65536 seqs with one nextval each (seq = block
-- start + index: seqs skip numbers, and grow with commit order per channel)
-- and COPYs its rows in.
CREATE SEQUENCE events_seq INCREMENT BY 65536;
CREATE TABLE events (
	seq         bigint NOT NULL,
	key         bytea  NOT NULL UNIQUE,
	type        text   NOT NULL,
	event_ts    bigint NOT NULL,
	ingested_at bigint NOT NULL,
	raw         bytea  NOT NULL
);
-- seq grows with insertion, so a BRIN index serves rebuilds' range scans at
-- almost no cost per row (a B-tree here cost ~1.5µs per ingested event).
CREATE INDEX events_seq_brin ON events USING brin (seq);

-- Cache validation across processes: every write bumps, in its own
-- transaction, the version of each key it touched ('c:' || channel id,
-- 'directory', 'tokens'); readers compare a cached entry's version with one
-- indexed SELECT. For channel keys, mark is a high-water mark: no message
-- row, reply parent, reaction or pin of the channel is stored above it, so a
-- batch of new messages needs no lookups. Updated once per channel and batch
-- under the channel's advisory lock; fillfactor leaves room for HOT updates.
CREATE TABLE versions (
	key  text   PRIMARY KEY,
	v    bigint NOT NULL,
	mark bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 50);

-- At most one enterprise; none means a single workspace (enterprise "0").
CREATE TABLE enterprise (
	singleton                boolean PRIMARY KEY CHECK (singleton),
	id                       text    NOT NULL,
	name                     text    NOT NULL,
	hide_email_addresses     boolean NOT NULL,
	member_analytics_enabled boolean NOT NULL,
	analytics_start          text    NOT NULL
);

CREATE TABLE teams (
	id            text PRIMARY KEY,
	name          text NOT NULL,
	domain        text NOT NULL,
	enterprise_id text NOT NULL
);

CREATE TABLE users (
	id                         text    PRIMARY KEY,
	team_id                    text    NOT NULL,
	name                       text    NOT NULL,
	real_name                  text    NOT NULL,
	email                      text    NOT NULL,
	department                 text    NOT NULL,
	employee_number            text    NOT NULL,
	is_guest                   boolean NOT NULL,
	guest_type                 text    NOT NULL,
	is_bot                     boolean NOT NULL,
	is_admin                   boolean NOT NULL,
	is_owner                   boolean NOT NULL,
	is_primary_owner           boolean NOT NULL,
	can_manage_public_channels boolean NOT NULL,
	date_claimed               bigint  NOT NULL,
	deleted                    boolean NOT NULL
);

CREATE TABLE channels (
	id              text    PRIMARY KEY,
	team_id         text    NOT NULL,
	name            text    NOT NULL,
	kind            text    NOT NULL,
	created         bigint  NOT NULL,
	creator         text    NOT NULL,
	topic           text    NOT NULL,
	purpose         text    NOT NULL,
	is_archived     boolean NOT NULL,
	shared_team_ids text[]  NOT NULL,
	external_orgs   jsonb   NOT NULL,
	is_org_wide     boolean NOT NULL,
	pin_count       integer NOT NULL DEFAULT 0
);

-- Current members only; the event log keeps the history of joins and leaves.
CREATE TABLE memberships (
	channel_id text NOT NULL,
	user_id    text NOT NULL,
	PRIMARY KEY (channel_id, user_id)
);

-- Every message: top-level, thread replies, deleted ones, and tombstones
-- (a delete that arrived before its message: present false, deleted true).
-- body is the pre-rendered conversations.history object; doc is the stored
-- Slack object without computed fields, NULL when it equals body (the common
-- case). visible rows are exactly the ones history returns, so a page is one
-- primary-key range scan.
CREATE TABLE messages (
	channel_id  text    NOT NULL,
	ts          bigint  NOT NULL,
	thread_ts   bigint  NOT NULL, -- 0 when not in a thread
	parent_ts   bigint,           -- thread_ts of a reply; NULL otherwise
	user_id     text    NOT NULL,
	subtype     text    NOT NULL,
	present     boolean NOT NULL,
	deleted     boolean NOT NULL,
	visible     boolean NOT NULL,
	edited_user text,
	edited_ts   text,
	doc         bytea,
	body        bytea   NOT NULL,
	PRIMARY KEY (channel_id, ts)
);

-- Replies by parent, to compute thread stats (also for parents that arrive
-- after their replies). Partial: top-level messages pay nothing.
CREATE INDEX messages_replies ON messages (channel_id, parent_ts, ts) WHERE parent_ts IS NOT NULL;

-- Keyed by (channel, ts) rather than by a message row, so that reactions,
-- pins and stars for a message that has not arrived yet are kept. seq is the
-- event's log seq: reactions are listed in order of first reaction.
CREATE TABLE reactions (
	channel_id text   NOT NULL,
	ts         bigint NOT NULL,
	name       text   NOT NULL,
	user_id    text   NOT NULL,
	seq        bigint NOT NULL,
	PRIMARY KEY (channel_id, ts, name, user_id)
);

CREATE TABLE pins (
	channel_id text   NOT NULL,
	ts         bigint NOT NULL,
	user_id    text   NOT NULL,
	seq        bigint NOT NULL,
	PRIMARY KEY (channel_id, ts)
);

-- Led by channel_id (not user_id as in SQLite) so that stars co-locate with
-- their channel's messages on a distributed engine.
CREATE TABLE stars (
	channel_id text   NOT NULL,
	user_id    text   NOT NULL,
	ts         bigint NOT NULL,
	PRIMARY KEY (channel_id, user_id, ts)
);

-- API tokens: only the hash of a token is stored.
CREATE TABLE tokens (
	id         text    PRIMARY KEY,
	hash       text    NOT NULL UNIQUE,
	user_id    text    NOT NULL,
	team_id    text    NOT NULL,
	bot        boolean NOT NULL,
	scopes     text[]  NOT NULL, -- in grant order
	created_at bigint  NOT NULL, -- Unix microseconds
	revoked_at bigint            -- NULL unless revoked
);

-- Rate-limit buckets shared by every process (Limiter): the GCRA theoretical
-- arrival time per bucket, in Unix microseconds. UNLOGGED: losing buckets in
-- a crash only refills them, and it spares the WAL a write per API request.
CREATE UNLOGGED TABLE rate_limits (
	principal text   NOT NULL,
	method    text   NOT NULL,
	tat       bigint NOT NULL,
	PRIMARY KEY (principal, method)
);
