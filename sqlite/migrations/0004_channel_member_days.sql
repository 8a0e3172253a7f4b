-- 0004: channel member counts as of each day's end, kept at ingest instead
-- of recounted from membership_log when a day closes (rules in
-- analytics/members.go). A row is a channel-day's change of its members
-- (people: full members and guests) and, of those, guests; the counts at
-- the end of day D are the sums of the channel's rows of days up to D.
-- Joins, leaves and user events that change a user's class (bot, full,
-- guest) update the rows in their batch's transaction.
CREATE TABLE channel_member_days (
	channel_id TEXT    NOT NULL,
	day        INTEGER NOT NULL,
	members    INTEGER NOT NULL,
	guests     INTEGER NOT NULL,
	PRIMARY KEY (channel_id, day)
) WITHOUT ROWID;

-- A user whose class changes moves every membership of theirs: found by user.
CREATE INDEX membership_log_user ON membership_log (user_id);

-- The rows of what is logged already: per pair, its state at the end of
-- each day with changes (the day's last change), minus the day before's.
INSERT INTO channel_member_days (channel_id, day, members, guests)
SELECT s.channel_id, s.day, sum(s.delta * (coalesce(u.is_bot, 0) = 0)),
	sum(s.delta * (coalesce(u.is_bot, 0) = 0 AND coalesce(u.is_guest, 0) = 1))
FROM (
	SELECT channel_id, user_id, day,
		joined - coalesce(lag(joined) OVER (PARTITION BY channel_id, user_id ORDER BY day), 0) AS delta
	FROM (
		SELECT channel_id, user_id, day, joined,
			row_number() OVER (PARTITION BY channel_id, user_id, day ORDER BY at DESC, seq DESC) AS last
		FROM (SELECT channel_id, user_id, at, seq, joined,
			(at - CASE WHEN at < 0 THEN 86399999999 ELSE 0 END) / 86400000000 AS day FROM membership_log))
	WHERE last = 1) AS s
LEFT JOIN users AS u ON u.id = s.user_id
WHERE s.delta <> 0
GROUP BY s.channel_id, s.day
HAVING sum(s.delta * (coalesce(u.is_bot, 0) = 0)) <> 0 OR sum(s.delta * (coalesce(u.is_bot, 0) = 0 AND coalesce(u.is_guest, 0) = 1)) <> 0;
