package slackapi

import (
	"context"
	"fmt"
	"io"

	"github.com/backchannel/backchannel"
)

// The getFile arguments, validated.
type getFileArgs struct {
	kind     string // backchannel.FileMember | FilePublicChannel | FileMetadata
	day      backchannel.Day
	metadata bool
}

// ctGzip is sent exactly, without parameters: Node's SDK recognises the
// file with content-type === 'application/gzip'.
const ctGzip = "application/gzip"

// analyticsGetFile implements admin.analytics.getFile: one UTC day of
// analytics as gzipped NDJSON, streamed from the day's stored file.
// Checks run cheapest and most general first: the server's capability,
// the caller, the arguments, the caller's rights to that file type, then
// the date's availability.
func (a *API) analyticsGetFile(ctx context.Context, req *Request) (response, error) {
	if a.analytics == nil {
		return nil, backchannel.Errorf("feature_not_enabled", "this store does not serve analytics")
	}
	u := req.User
	if err := requireAdmin(u); err != nil {
		return nil, err
	}
	args, err := parseGetFileArgs(&req.Args)
	if err != nil {
		return nil, err
	}
	ent, err := a.store.Enterprise(ctx)
	if err != nil {
		return nil, internal(fmt.Errorf("enterprise: %w", err))
	}
	if err := fileRights(u, ent, args.kind); err != nil {
		return nil, err
	}
	org, err := a.orgName(ctx, req, ent)
	if err != nil {
		return nil, err
	}
	today := backchannel.DayOf(a.now())
	if args.metadata {
		// Metadata is "the latest", not a day's: no availability rules.
		return &fileReply{
			contentType: ctGzip,
			filename:    fmt.Sprintf("%s Public Channel Metadata %s.json.gz", org, today),
			write: func(w io.Writer) error {
				if err := a.analytics.WriteMetadataFile(ctx, w, today); err != nil {
					return fmt.Errorf("metadata file as of %s: %w", today, err)
				}
				return nil
			},
		}, nil
	}
	if err := a.checkAvailable(ctx, ent, args.day, today); err != nil {
		return nil, err
	}
	rc, err := a.openFile(ctx, args.kind, args.day)
	if err != nil {
		return nil, err
	}
	title := "Member Analytics"
	if args.kind == backchannel.FilePublicChannel {
		title = "Public Channel Analytics"
	}
	return &fileReply{
		contentType: ctGzip,
		filename:    fmt.Sprintf("%s %s %s.json.gz", org, title, args.day),
		write: func(w io.Writer) error {
			// io.Copy through a 32 KiB buffer: the file is never held
			// in memory, however large the organisation.
			if _, err := io.Copy(w, rc); err != nil {
				return fmt.Errorf("%s file of %s: %w", args.kind, args.day, err)
			}
			return nil
		},
		close: rc.Close,
	}, nil
}

// parseGetFileArgs applies the argument rules in the order a caller would
// fix them: type, then the metadata_only combinations, then date.
func parseGetFileArgs(args *Args) (getFileArgs, error) {
	var g getFileArgs
	typ := args.Value("type")
	switch typ {
	case "":
		return g, backchannel.Errorf(backchannel.EInvalidArguments, "type is required")
	case backchannel.FileMember, backchannel.FilePublicChannel:
	default:
		return g, backchannel.Errorf("invalid_type", "type %q: want member or public_channel", clip(typ))
	}
	g.kind, g.metadata = typ, args.Bool("metadata_only")
	date := args.Value("date")
	if g.metadata {
		if typ != backchannel.FilePublicChannel {
			return g, backchannel.Errorf("metadata_not_available", "metadata_only needs type=public_channel")
		}
		if date != "" {
			return g, backchannel.Errorf("metadata_only_does_not_support_date", "omit date with metadata_only")
		}
		g.kind = backchannel.FileMetadata
		return g, nil
	}
	if date == "" {
		return g, backchannel.Errorf(backchannel.EInvalidArguments, "date is required unless metadata_only=true")
	}
	day, err := backchannel.ParseDay(date)
	if err != nil {
		return g, backchannel.Errorf("invalid_date", "%v", err)
	}
	g.day = day
	return g, nil
}

// fileRights applies the per-file-type rules: public channel analytics need
// the Public Channel Management permission (by default only the primary
// owner has it); member files honour the organisation's policies.
func fileRights(u backchannel.User, ent backchannel.Enterprise, kind string) error {
	if kind == backchannel.FilePublicChannel || kind == backchannel.FileMetadata {
		if !u.CanManagePublicChannels && !u.IsPrimaryOwner {
			return backchannel.Errorf("user_cannot_manage_public_channels", "user %s cannot manage public channels", u.ID)
		}
		return nil
	}
	// A single workspace (enterprise "0") has no such setting: the "0"
	// record's false is "not set", not "disabled".
	if ent.ID != "0" && ent.ID != "" && !ent.MemberAnalyticsEnabled {
		return backchannel.Errorf("member_analytics_disabled", "member analytics are disabled for %s", ent.ID)
	}
	if ent.HideEmailAddresses {
		return backchannel.Errorf("org_level_email_display_disabled", "the organisation hides email addresses")
	}
	return nil
}

// orgName names the files: the enterprise, or else the caller's workspace.
func (a *API) orgName(ctx context.Context, req *Request, ent backchannel.Enterprise) (string, error) {
	if ent.ID != "0" && ent.Name != "" {
		return ent.Name, nil
	}
	team, err := a.store.Team(ctx, req.Token.TeamID)
	if err != nil {
		return "", internal(fmt.Errorf("team %s of token %s: %w", req.Token.TeamID, req.Token.ID, err))
	}
	return team.Name, nil
}

// checkAvailable applies the date rules: not before the day has ended plus
// settle (future dates included), not before the organisation's analytics
// start (data that never existed), not outside the retention window (data
// that has expired).
func (a *API) checkAvailable(ctx context.Context, ent backchannel.Enterprise, day, today backchannel.Day) error {
	if day > ClosableThrough(a.now(), a.settle) {
		return backchannel.Errorf("file_not_yet_available", "%s is available from %s",
			day, day.End().Add(a.settle).Format("2006-01-02T15:04:05Z"))
	}
	st, err := a.analytics.AnalyticsStatus(ctx)
	if err != nil {
		return internal(fmt.Errorf("analytics status: %w", err))
	}
	if !st.HasData {
		return backchannel.Errorf("data_not_available", "no analytics data yet")
	}
	start := st.FirstDay
	if ent.AnalyticsStart != "" {
		if d, err := backchannel.ParseDay(ent.AnalyticsStart); err == nil {
			start = d
		} else {
			a.log.Warn("slackapi: bad enterprise analytics_start; using the first day with data",
				"analytics_start", ent.AnalyticsStart, "err", err)
		}
	}
	if day < start {
		return backchannel.Errorf("data_not_available", "%s is before analytics start %s", day, start)
	}
	if oldest, ok := a.retention.Oldest(today); ok && day < oldest {
		return backchannel.Errorf("file_not_found", "%s is outside the retention window (oldest %s)", day, oldest)
	}
	return nil
}

// openFile opens a day's stored file, closing the day first when it is past
// settle but the background loop has not got to it yet, so an answer never
// depends on that loop's timing.
func (a *API) openFile(ctx context.Context, kind string, day backchannel.Day) (io.ReadCloser, error) {
	rc, err := a.analytics.OpenAnalyticsFile(ctx, kind, day)
	if err == nil {
		return rc, nil
	}
	if backchannel.ErrorCode(err) != backchannel.ENOTFOUND {
		return nil, internal(fmt.Errorf("open %s file of %s: %w", kind, day, err))
	}
	if _, err := a.analytics.FinalizeDays(ctx, day); err != nil {
		return nil, internal(fmt.Errorf("finalize through %s: %w", day, err))
	}
	rc, err = a.analytics.OpenAnalyticsFile(ctx, kind, day)
	if err == nil {
		return rc, nil
	}
	if backchannel.ErrorCode(err) == backchannel.ENOTFOUND {
		// Closed, yet no file: a day that holds no data at all.
		return nil, backchannel.Errorf("file_not_found", "no %s file for %s", kind, day)
	}
	return nil, internal(fmt.Errorf("open %s file of %s: %w", kind, day, err))
}
