-- 0004: closing a day reads member_days of the 14 days before it in one
-- set-based pass (billable seats) instead of probing the primary key per
-- user. Rows arrive roughly in day order, so a BRIN index finds those days'
-- pages at almost no cost per ingested row.
CREATE INDEX member_days_day_brin ON member_days USING brin (day);
