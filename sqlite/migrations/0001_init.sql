-- 0001: the whole first schema. Timestamps of messages are INTEGER
-- microseconds (backchannel.TS); wall-clock times are INTEGER Unix micros.

-- The raw event log: every accepted event, in ingest order (seq may skip
-- numbers: duplicates are given one, then dropped). It is the source for
-- analytics rebuilds, so nothing is ever deleted from it. key is the
-- idempotency key (Event.Key).
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY,
	key         BLOB    NOT NULL,
	type        TEXT    NOT NULL,
	event_ts    INTEGER NOT NULL,
	ingested_at INTEGER NOT NULL,
	raw         BLOB    NOT NULL
);

-- Dedupe index of the log: an open-addressing hash table keyed by the first
-- 8 bytes of the key (slot), pointing at the event. A slot held by another
-- key (compared in full through events) sends the event to the next slot, so
-- a 64-bit collision never drops an event. A 8-byte rowid keeps this random
-- B-tree about a third of the size of a 32-byte unique index. No NOT NULL:
-- a constraint that can abort makes SQLite journal every page a multi-row
-- statement touches, and random slots touch one page per row.
CREATE TABLE event_keys (
	slot INTEGER PRIMARY KEY,
	seq  INTEGER
);

-- At most one enterprise; none means a single workspace (enterprise "0").
CREATE TABLE enterprise (
	singleton                INTEGER PRIMARY KEY CHECK (singleton = 1),
	id                       TEXT    NOT NULL,
	name                     TEXT    NOT NULL,
	hide_email_addresses     INTEGER NOT NULL,
	member_analytics_enabled INTEGER NOT NULL,
	analytics_start          TEXT    NOT NULL
);

CREATE TABLE teams (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	domain        TEXT NOT NULL,
	enterprise_id TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
	id                         TEXT PRIMARY KEY,
	team_id                    TEXT    NOT NULL,
	name                       TEXT    NOT NULL,
	real_name                  TEXT    NOT NULL,
	email                      TEXT    NOT NULL,
	department                 TEXT    NOT NULL,
	employee_number            TEXT    NOT NULL,
	is_guest                   INTEGER NOT NULL,
	guest_type                 TEXT    NOT NULL,
	is_bot                     INTEGER NOT NULL,
	is_admin                   INTEGER NOT NULL,
	is_owner                   INTEGER NOT NULL,
	is_primary_owner           INTEGER NOT NULL,
	can_manage_public_channels INTEGER NOT NULL,
	date_claimed               INTEGER NOT NULL,
	deleted                    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE channels (
	id              TEXT PRIMARY KEY,
	team_id         TEXT    NOT NULL,
	name            TEXT    NOT NULL,
	kind            TEXT    NOT NULL,
	created         INTEGER NOT NULL,
	creator         TEXT    NOT NULL,
	topic           TEXT    NOT NULL,
	purpose         TEXT    NOT NULL,
	is_archived     INTEGER NOT NULL,
	shared_team_ids TEXT    NOT NULL, -- JSON array
	external_orgs   TEXT    NOT NULL, -- JSON array
	is_org_wide     INTEGER NOT NULL,
	pin_count       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Current members only; the event log keeps the history of joins and leaves.
CREATE TABLE memberships (
	channel_id TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

-- Every message: top-level, thread replies, deleted ones, and tombstones
-- (a delete that arrived before its message: present = 0, deleted = 1).
-- body is the pre-rendered conversations.history object; doc is the stored
-- Slack object without computed fields, NULL when it equals body (the common
-- case, so a plain message is stored once). visible rows are exactly the
-- ones history returns, so a page is one clustered range scan.
CREATE TABLE messages (
	channel_id  TEXT    NOT NULL,
	ts          INTEGER NOT NULL,
	thread_ts   INTEGER NOT NULL, -- 0 when not in a thread
	parent_ts   INTEGER,          -- thread_ts of a reply; NULL otherwise
	user_id     TEXT    NOT NULL,
	subtype     TEXT    NOT NULL,
	present     INTEGER NOT NULL,
	deleted     INTEGER NOT NULL,
	visible     INTEGER NOT NULL,
	edited_user TEXT,
	edited_ts   TEXT,
	doc         BLOB,
	body        BLOB    NOT NULL,
	PRIMARY KEY (channel_id, ts)
) WITHOUT ROWID;

-- Replies by parent, to compute thread stats (also for parents that arrive
-- after their replies). Partial: top-level messages pay nothing.
CREATE INDEX messages_replies ON messages (channel_id, parent_ts, ts)
	WHERE parent_ts IS NOT NULL;

-- Keyed by (channel, ts) rather than by a message row, so that reactions,
-- pins and stars for a message that has not arrived yet are kept. seq is the
-- event's log seq: reactions are listed in order of first reaction.
CREATE TABLE reactions (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (channel_id, ts, name, user_id)
) WITHOUT ROWID;

CREATE TABLE pins (
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (channel_id, ts)
) WITHOUT ROWID;

CREATE TABLE stars (
	user_id    TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	ts         INTEGER NOT NULL,
	PRIMARY KEY (user_id, channel_id, ts)
) WITHOUT ROWID;

-- API tokens: only the hash of a token is stored.
CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	hash       TEXT    NOT NULL UNIQUE,
	user_id    TEXT    NOT NULL,
	team_id    TEXT    NOT NULL,
	bot        INTEGER NOT NULL,
	scopes     TEXT    NOT NULL, -- JSON array, in grant order
	created_at INTEGER NOT NULL,
	revoked_at INTEGER           -- NULL unless revoked
);
