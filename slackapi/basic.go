package slackapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/backchannel/backchannel"
)

// apiTest implements api.test: it echoes the arguments (never the token)
// and, like Slack, fails with the code given as the "error" argument.
func (a *API) apiTest(_ context.Context, req *Request) (response, error) {
	resp := argsResponse{&req.Args}
	if code := req.Args.Value("error"); code != "" {
		return resp, &backchannel.Error{Code: code, Message: "requested by the caller"}
	}
	return resp, nil
}

type argsResponse struct{ args *Args }

func (r argsResponse) appendFields(b []byte) []byte {
	b = append(b, `,"args":{`...)
	for i, x := range r.args.kv {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, x.name)
		b = append(b, ':')
		b = appendString(b, x.value)
	}
	return append(b, '}')
}

func (argsResponse) appendCursor(b []byte) []byte { return b }

// authTest implements auth.test: who the token is. The Java SDK calls it
// before anything else.
func (a *API) authTest(ctx context.Context, req *Request) (response, error) {
	t := req.Token
	team, err := a.store.Team(ctx, t.TeamID)
	if err != nil {
		return nil, internal(fmt.Errorf("team %s of token %s: %w", t.TeamID, t.ID, err))
	}
	resp := authTestResponse{team: team, user: req.User, enterprise: team.EnterpriseID}
	if resp.enterprise == "" {
		ent, err := a.store.Enterprise(ctx)
		if err != nil {
			return nil, internal(fmt.Errorf("enterprise: %w", err))
		}
		resp.enterprise = ent.ID
	}
	if resp.enterprise == "0" {
		resp.enterprise = ""
	}
	if t.Bot {
		resp.botID = botID(t.UserID)
	}
	return resp, nil
}

// botID derives a bot's B… ID from its bot user: the domain has no bot_id
// for users, so a bot user U123/W123 reports bot_id B123.
func botID(userID string) string {
	if strings.HasPrefix(userID, "B") || userID == "" {
		return userID
	}
	return "B" + userID[1:]
}

type authTestResponse struct {
	noCursor
	team       backchannel.Team
	user       backchannel.User
	enterprise string
	botID      string
}

func (r authTestResponse) appendFields(b []byte) []byte {
	b = append(b, `,"url":`...)
	b = appendString(b, "https://"+r.team.Domain+".slack.com/")
	b = append(b, `,"team":`...)
	b = appendString(b, r.team.Name)
	b = append(b, `,"user":`...)
	b = appendString(b, r.user.Name)
	b = append(b, `,"team_id":`...)
	b = appendString(b, r.team.ID)
	b = append(b, `,"user_id":`...)
	b = appendString(b, r.user.ID)
	if r.botID != "" {
		b = append(b, `,"bot_id":`...)
		b = appendString(b, r.botID)
	}
	if r.enterprise != "" {
		b = append(b, `,"enterprise_id":`...)
		b = appendString(b, r.enterprise)
	}
	return append(b, `,"is_enterprise_install":false`...)
}
