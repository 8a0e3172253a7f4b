-- 0007: closing a day streams the member file in its order (user_id byte
-- order, COLLATE "C") without sorting it: the users and the day's
-- member_days rows are read through these indexes in that order and
-- merge-joined, so the first rows are encoded while the rest are read
-- (postgres/finalize.go). The btree on (day, user_id) also serves every
-- other day predicate on member_days (a rebuild's window), so 0004's BRIN
-- goes.
CREATE INDEX users_id_c ON users (id COLLATE "C");
CREATE INDEX member_days_day_user_c ON member_days (day, user_id COLLATE "C");
DROP INDEX member_days_day_brin;
