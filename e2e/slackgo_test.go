package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func slackClient(f *fixture, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(f.srv.APIURL()))
}

// walk pages through a channel with slack-go (token in the form body) and
// returns every ts, calling between(page) after each page.
func walk(t *testing.T, api *slack.Client, channel string, limit int, between func(page int)) []string {
	t.Helper()
	var got []string
	cursor := ""
	for page := 1; ; page++ {
		res, err := api.GetConversationHistoryContext(context.Background(), &slack.GetConversationHistoryParameters{
			ChannelID: channel, Cursor: cursor, Limit: limit})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if res.HasMore != (res.ResponseMetaData.NextCursor != "") {
			t.Fatalf("page %d: has_more %v with next_cursor %q", page, res.HasMore, res.ResponseMetaData.NextCursor)
		}
		for _, m := range res.Messages {
			got = append(got, m.Timestamp)
		}
		if !res.HasMore {
			return got
		}
		if between != nil {
			between(page)
		}
		cursor = res.ResponseMetaData.NextCursor
		raw, err := base64.StdEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(raw), "next_ts:") {
			t.Fatalf("cursor %q is not Slack's base64(next_ts:…): %q %v", cursor, raw, err)
		}
	}
}

func equalTS(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: got ts %s, want %s", i, got[i], want[i])
		}
	}
}

func TestSlackGoCursorWalk(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newFixture(t, open, 4000, "off")
		api := slackClient(f, f.member)
		for _, limit := range []int{0, 1000, 200, 7} {
			t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
				if limit == 7 && testing.Short() {
					t.Skip("short")
				}
				equalTS(t, walk(t, api, f.bigChannel, limit, nil), f.visible)
			})
		}
	})
}

// New messages arriving during a walk must not disturb it: the cursor points
// at an older message, so the walk returns exactly the messages that existed.
func TestSlackGoWalkWhileIngesting(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newFixture(t, open, 3000, "off")
		api := slackClient(f, f.member)
		n := 0
		got := walk(t, api, f.bigChannel, 250, func(page int) {
			var lines [][]byte
			for i := 0; i < 50; i++ {
				n++
				ts := fmt.Sprintf("%d.%06d", time.Now().Add(-30*time.Minute).Unix(), n)
				lines = append(lines, line(map[string]any{"type": "message", "channel": f.bigChannel, "user": userOther, "ts": ts, "text": "new"}))
			}
			ingestLines(t, f.srv.URL, f.ingr, lines, false)
		})
		equalTS(t, got, f.visible)
		// And the new messages are there on a fresh walk.
		if got := walk(t, api, f.bigChannel, 999, nil); len(got) != len(f.visible)+n {
			t.Fatalf("fresh walk: got %d messages, want %d", len(got), len(f.visible)+n)
		}
	})
}

func TestSlackGoMessageFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newFixture(t, open, 100, "off")
		api := slackClient(f, f.member)
		one := func(t *testing.T, api *slack.Client, ts string) slack.Message {
			t.Helper()
			res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{
				ChannelID: f.bigChannel, Latest: ts, Inclusive: true, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Messages) != 1 || res.Messages[0].Timestamp != ts {
				t.Fatalf("single fetch of %s: got %d messages %+v", ts, len(res.Messages), res.Messages)
			}
			if res.Latest != ts {
				t.Errorf("latest echoed as %q, want %q", res.Latest, ts)
			}
			return res.Messages[0]
		}
		if m := one(t, api, f.edited); m.Text != "edited text" || m.Edited == nil || m.Edited.User != userMember ||
			len(m.Reactions) != 1 || m.Reactions[0].Name != "thumbsup" || m.Reactions[0].Count != 2 || len(m.Reactions[0].Users) != 2 {
			t.Errorf("edited+reacted message: %+v edited %+v reactions %+v", m.Msg, m.Edited, m.Reactions)
		}
		if m := one(t, api, f.parent); m.ReplyCount != 4 || m.ThreadTimestamp != f.parent || len(m.ReplyUsers) != 2 || m.LatestReply != f.broadcast {
			t.Errorf("thread parent: reply_count %d thread_ts %q reply_users %v latest_reply %q",
				m.ReplyCount, m.ThreadTimestamp, m.ReplyUsers, m.LatestReply)
		}
		if m := one(t, api, f.pinned); len(m.PinnedTo) != 1 || m.PinnedTo[0] != f.bigChannel {
			t.Errorf("pinned message: pinned_to %v", m.PinnedTo)
		}
		if m := one(t, api, f.starred); !m.IsStarred {
			t.Errorf("starred message: is_starred false for the user who starred it")
		}
		if m := one(t, slackClient(f, f.other), f.starred); m.IsStarred {
			t.Errorf("starred message: is_starred true for another user")
		}
		res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.bigChannel, Limit: 1})
		if err != nil || res.PinCount != 1 {
			t.Errorf("pin_count: got %d, err %v", res.PinCount, err)
		}
	})
}

func TestSlackGoErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newFixture(t, open, 10, "off")
		cases := []struct {
			name, token, channel string
			params               func(*slack.GetConversationHistoryParameters)
			want                 string
		}{
			{"unknown channel", f.member, "C0NOSUCHCH", nil, "channel_not_found"},
			{"private, not a member", f.member, f.privOther, nil, "channel_not_found"},
			{"bot outside a public channel", f.bot, f.noBot, nil, "not_in_channel"},
			{"no history scope", f.noscope, f.bigChannel, nil, "missing_scope"},
			{"bad token", "xoxp-nope", f.bigChannel, nil, "invalid_auth"},
			{"no token", "", f.bigChannel, nil, "not_authed"},
			{"bad latest", f.member, f.bigChannel, func(p *slack.GetConversationHistoryParameters) { p.Latest = "yesterday" }, "invalid_ts_latest"},
			{"bad oldest", f.member, f.bigChannel, func(p *slack.GetConversationHistoryParameters) { p.Oldest = "1.2.3" }, "invalid_ts_oldest"},
			{"bad cursor", f.member, f.bigChannel, func(p *slack.GetConversationHistoryParameters) { p.Cursor = "%%%" }, "invalid_cursor"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := &slack.GetConversationHistoryParameters{ChannelID: tc.channel}
				if tc.params != nil {
					tc.params(p)
				}
				_, err := slackClient(f, tc.token).GetConversationHistory(p)
				var se slack.SlackErrorResponse
				if !errors.As(err, &se) || se.Err != tc.want {
					t.Fatalf("got %v, want %s", err, tc.want)
				}
			})
		}
		// Members read every kind of conversation they belong to.
		for _, c := range []string{f.im, f.mpim, f.noBot} {
			if res, err := slackClient(f, f.member).GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: c}); err != nil || len(res.Messages) != 1 {
				t.Errorf("member reading %s: %v, %d messages", c, err, len(res.Messages))
			}
		}
		if res, err := slackClient(f, f.other).GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.privOther}); err != nil || len(res.Messages) != 1 {
			t.Errorf("member reading own private channel: %v", err)
		}
	})
}

func TestSlackGoRateLimited(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newFixture(t, open, 10, "slack")
		api := slackClient(f, f.member)
		for i := 0; i < 50; i++ { // Tier 3: 50 per minute
			if _, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.bigChannel, Limit: 1}); err != nil {
				t.Fatalf("call %d: %v", i+1, err)
			}
		}
		_, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.bigChannel, Limit: 1})
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter < time.Second {
			t.Fatalf("51st call: got %v, want a RateLimitedError with Retry-After ≥ 1s", err)
		}
		// Another token has its own allowance.
		if _, err := slackClient(f, f.other).GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.bigChannel, Limit: 1}); err != nil {
			t.Fatalf("other token: %v", err)
		}
	})
}
