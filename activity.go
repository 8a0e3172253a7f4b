package backchannel

import "context"

// ActivityCounts are distinct users who viewed, reacted to, shared and
// clicked a message.
type ActivityCounts struct {
	Views, Reactions, Shares, Clicks int64
}

// DepartmentActivity is ActivityCounts among the users of one department.
type DepartmentActivity struct {
	Department string
	ActivityCounts
}

// TeamActivity is ActivityCounts among the users of one home team.
type TeamActivity struct {
	TeamID string
	ActivityCounts
}

// MessageActivity is one message's activity over all time, every count of
// distinct (human) users: the first view, reaction, share or click of a
// message by a user counts; repeats and replays change nothing; a removed
// reaction does not un-count its user. A user who viewed on two clients
// counts once in Views and once in each client's count; mobile = ios +
// android. Departments and teams are the user's as of that first touch;
// users without a department count only in the totals.
type MessageActivity struct {
	ChannelID string
	TS        TS
	ActivityCounts
	ViewsDesktop, ViewsMobile, ViewsWeb int64
	ByDepartment                        []DepartmentActivity // by views, then name
	ByTeam                              []TeamActivity       // by views, then team id
}

// MessageActivityQuery selects the messages of Channel with
// Oldest ≤ ts ≤ Latest — the ones conversations.history shows (not
// deleted; thread replies only when broadcast) — newest first.
type MessageActivityQuery struct {
	Channel        string
	Oldest, Latest TS
	Limit          int // 1..100
}

// MessageActivityPage is one page; Next is the ts of the first message of
// the following (older) page, 0 when there is none.
type MessageActivityPage struct {
	Activities []MessageActivity
	Next       TS
}

// MessageActivityStore serves admin.analytics.messages.activity from
// counters maintained at ingest; reading never scans viewers.
type MessageActivityStore interface {
	MessageActivity(ctx context.Context, q MessageActivityQuery) (MessageActivityPage, error)
}
