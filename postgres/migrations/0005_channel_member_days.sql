-- 0005: channel member counts as of each day's end, kept at ingest instead
-- of recounted from membership_log when a day closes (rules in
-- analytics/members.go). A row is a channel-day's change of its members
-- (people: full members and guests) and, of those, guests; the counts at
-- the end of day D are the sums of the channel's rows of days up to D.
-- Joins, leaves and user events that change a user's class (bot, full,
-- guest) update the rows in their batch's transaction, under the advisory
-- locks of the users' buckets (members.go).
CREATE TABLE channel_member_days (
	channel_id text    NOT NULL,
	day        integer NOT NULL,
	members    bigint  NOT NULL,
	guests     bigint  NOT NULL,
	PRIMARY KEY (channel_id, day)
) WITH (fillfactor = 80);

-- A user whose class changes moves every membership of theirs: found by user.
CREATE INDEX membership_log_user ON membership_log (user_id);

-- The rows of what is logged already: per pair, its state at the end of
-- each day with changes (the day's last change), minus the day before's.
INSERT INTO channel_member_days (channel_id, day, members, guests)
SELECT s.channel_id, s.day, coalesce(sum(s.delta) FILTER (WHERE NOT coalesce(u.is_bot, false)), 0),
	coalesce(sum(s.delta) FILTER (WHERE NOT coalesce(u.is_bot, false) AND coalesce(u.is_guest, false)), 0)
FROM (
	SELECT channel_id, user_id, day,
		state - coalesce(lag(state) OVER (PARTITION BY channel_id, user_id ORDER BY day), 0) AS delta
	FROM (
		SELECT DISTINCT ON (channel_id, user_id, day) channel_id, user_id, day, joined::integer AS state
		FROM (SELECT channel_id, user_id, at, seq, joined, floor(at / 86400000000.0)::integer AS day FROM membership_log) AS l
		ORDER BY channel_id, user_id, day, at DESC, seq DESC) AS last) AS s
LEFT JOIN users AS u ON u.id = s.user_id
WHERE s.delta <> 0
GROUP BY s.channel_id, s.day
HAVING coalesce(sum(s.delta) FILTER (WHERE NOT coalesce(u.is_bot, false)), 0) <> 0
	OR coalesce(sum(s.delta) FILTER (WHERE NOT coalesce(u.is_bot, false) AND coalesce(u.is_guest, false)), 0) <> 0;
