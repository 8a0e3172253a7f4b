package slackapi

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/backchannel/backchannel"
)

// messages.activity's limit: "Default: 50", "The maximum limit is 100";
// like history, out-of-range values are clamped, never an error.
const (
	activityDefaultLimit = 50
	activityMaxLimit     = 100
)

// activityWindow is the seed's default span on either side of a single
// bound (and before now when neither is given).
const activityWindow = backchannel.TS(7 * 24 * time.Hour / time.Microsecond)

// messagesActivity implements admin.analytics.messages.activity: per-message
// distinct-user counts of one public channel, newest first, read from
// counters the store maintains at ingest. Checks run like getFile's: the
// server's capability, the caller (admin, then enterprise), the arguments,
// then the channel, the only check that looks at the data.
func (a *API) messagesActivity(ctx context.Context, req *Request) (response, error) {
	if a.activity == nil {
		return nil, backchannel.Errorf("feature_not_enabled", "this store does not serve message activity")
	}
	if err := requireAdmin(req.User); err != nil {
		return nil, err
	}
	ent, err := a.store.Enterprise(ctx)
	if err != nil {
		return nil, internal(fmt.Errorf("enterprise: %w", err))
	}
	if ent.ID == "" || ent.ID == "0" {
		return nil, backchannel.Errorf("not_an_enterprise", "the organisation has no enterprise record")
	}
	q, err := a.activityArgs(&req.Args)
	if err != nil {
		return nil, err
	}
	if err := a.activityChannel(ctx, q.Channel); err != nil {
		return nil, err
	}
	// The window the cursor must carry is the request's, not the page's.
	window := activityCursor{channel: q.Channel, oldest: q.Oldest, latest: q.Latest}
	if q.next != 0 {
		q.Latest = q.next
	}
	page, err := a.activity.MessageActivity(ctx, q.MessageActivityQuery)
	if err != nil {
		return nil, fmt.Errorf("message activity of %s: %w", q.Channel, err)
	}
	resp := &activityResponse{channel: q.Channel, items: page.Activities}
	if page.Next != 0 {
		window.next = page.Next
		resp.next = window
	}
	return resp, nil
}

// requireAdmin is the analytics methods' caller rule: an admin or owner.
func requireAdmin(u backchannel.User) error {
	if !u.IsAdmin && !u.IsOwner && !u.IsPrimaryOwner {
		return backchannel.Errorf("not_an_admin", "user %s is not an admin or owner", u.ID)
	}
	return nil
}

// activityQuery is the store's query plus where a cursor resumes (0: the
// first page).
type activityQuery struct {
	backchannel.MessageActivityQuery
	next backchannel.TS
}

// activityArgs validates the arguments in the order a caller would fix
// them: channel, the two bounds, their order, then the cursor.
func (a *API) activityArgs(args *Args) (activityQuery, error) {
	var q activityQuery
	q.Channel = args.Value("channel")
	if q.Channel == "" {
		return q, backchannel.Errorf(backchannel.EInvalidArguments, "channel is required")
	}
	oldest, hasOldest, err := tsArg(args, "oldest_ts")
	if err != nil {
		return q, err
	}
	latest, hasLatest, err := tsArg(args, "latest_ts")
	if err != nil {
		return q, err
	}
	// The seed's defaults: a 7-day window ending now, or reaching 7 days
	// from whichever bound was given.
	switch {
	case !hasOldest && !hasLatest:
		latest = backchannel.TSFromTime(a.now())
		oldest = max(latest-activityWindow, 0)
	case !hasLatest:
		latest = oldest + activityWindow
	case !hasOldest:
		oldest = max(latest-activityWindow, 0)
	}
	if oldest > latest {
		return q, backchannel.Errorf(backchannel.EInvalidArguments, "oldest_ts %s is after latest_ts %s", oldest, latest)
	}
	q.Oldest, q.Latest = oldest, latest
	q.Limit = activityDefaultLimit
	if n, ok := intArg(args.Value("limit")); ok {
		q.Limit = min(max(n, 1), activityMaxLimit)
	}
	s := args.Value("cursor")
	if s == "" {
		return q, nil
	}
	c, err := decodeActivityCursor(s)
	if err != nil {
		return q, err
	}
	// A cursor resumes the walk it came from: same channel, same window.
	// Without bounds the defaults would move with the clock between pages,
	// so the cursor's window is used; bounds that were given must match.
	if c.channel != q.Channel {
		return q, backchannel.Errorf("invalid_cursor", "cursor is for channel %s, not %s", clip(c.channel), q.Channel)
	}
	if hasOldest || hasLatest {
		if c.oldest != q.Oldest || c.latest != q.Latest {
			return q, backchannel.Errorf("invalid_cursor", "cursor is for the window [%s, %s], not [%s, %s]",
				c.oldest, c.latest, q.Oldest, q.Latest)
		}
	}
	q.Oldest, q.Latest, q.next = c.oldest, c.latest, c.next
	return q, nil
}

// tsArg parses an optional timestamp argument; "" counts as absent.
func tsArg(args *Args, name string) (backchannel.TS, bool, error) {
	s := args.Value(name)
	if s == "" {
		return 0, false, nil
	}
	ts, err := backchannel.ParseTS(s)
	if err != nil {
		return 0, false, backchannel.Errorf(backchannel.EInvalidArguments, "%s: %v", name, err)
	}
	return ts, true, nil
}

// activityChannel allows public channels only: analytics cover public
// channels, and answering anything else for a private conversation would
// reveal that it exists.
func (a *API) activityChannel(ctx context.Context, id string) error {
	ch, err := a.store.Channel(ctx, id)
	if err != nil {
		switch backchannel.ErrorCode(err) {
		case backchannel.ENOTFOUND, backchannel.EChannelNotFound:
			return backchannel.Errorf(backchannel.EChannelNotFound, "no channel %s", clip(id))
		}
		return internal(fmt.Errorf("channel %s: %w", id, err))
	}
	if ch.Kind != backchannel.KindPublic {
		return backchannel.Errorf(backchannel.EChannelNotFound, "%s is not a public channel", id)
	}
	return nil
}

// activityResponse renders a page by appending bytes: a full page is 100
// entries of fixed shape, and no reflection is needed to write them.
type activityResponse struct {
	channel string
	items   []backchannel.MessageActivity
	next    activityCursor // zero on the last page
}

func (r *activityResponse) appendFields(b []byte) []byte {
	b = append(b, `,"message_activities":[`...)
	for i := range r.items {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.appendActivity(b, &r.items[i])
	}
	return append(b, ']')
}

func (r *activityResponse) appendActivity(b []byte, m *backchannel.MessageActivity) []byte {
	ch := m.ChannelID
	if ch == "" {
		ch = r.channel
	}
	b = append(b, `{"channel_id":`...)
	b = appendString(b, ch)
	b = append(b, `,"timestamp":"`...)
	b = m.TS.AppendTo(b)
	b = append(b, `","unique_user_reactions_count":`...)
	b = strconv.AppendInt(b, m.Reactions, 10)
	b = append(b, `,"unique_user_shares_count":`...)
	b = strconv.AppendInt(b, m.Shares, 10)
	b = append(b, `,"unique_user_views_count":`...)
	b = strconv.AppendInt(b, m.Views, 10)
	b = append(b, `,"unique_user_clicks_count":`...)
	b = strconv.AppendInt(b, m.Clicks, 10)
	b = append(b, `,"unique_views_client":{"desktop_views_count":`...)
	b = strconv.AppendInt(b, m.ViewsDesktop, 10)
	b = append(b, `,"mobile_views_count":`...)
	b = strconv.AppendInt(b, m.ViewsMobile, 10)
	b = append(b, `,"web_views_count":`...)
	b = strconv.AppendInt(b, m.ViewsWeb, 10)
	b = append(b, `},"unique_stats_by_department":[`...)
	for i := range m.ByDepartment {
		d := &m.ByDepartment[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"department":`...)
		b = appendString(b, d.Department)
		b = appendStats(b, &d.ActivityCounts)
	}
	b = append(b, `],"unique_stats_by_org":[`...)
	for i := range m.ByTeam {
		t := &m.ByTeam[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"team_id":`...)
		b = appendString(b, t.TeamID)
		b = appendStats(b, &t.ActivityCounts)
	}
	return append(b, "]}"...)
}

// appendStats appends the four counts of a department or team entry, in the
// seed's order, and closes the entry.
func appendStats(b []byte, c *backchannel.ActivityCounts) []byte {
	b = append(b, `,"views":`...)
	b = strconv.AppendInt(b, c.Views, 10)
	b = append(b, `,"reactions":`...)
	b = strconv.AppendInt(b, c.Reactions, 10)
	b = append(b, `,"shares":`...)
	b = strconv.AppendInt(b, c.Shares, 10)
	b = append(b, `,"clicks":`...)
	b = strconv.AppendInt(b, c.Clicks, 10)
	return append(b, '}')
}

func (r *activityResponse) appendCursor(b []byte) []byte {
	if r.next.next == 0 {
		return b
	}
	return r.next.appendTo(b)
}
