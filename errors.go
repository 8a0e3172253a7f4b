package backchannel

import (
	"errors"
	"fmt"
)

// Error is a failure the caller should see: Code is the machine-readable
// string (Slack's error code on the Slack API, e.g. "channel_not_found").
// Anything that is not an *Error is an internal failure.
type Error struct {
	Code    string
	Message string // human detail; never shown in place of Code
	// Needed and Provided accompany missing_scope.
	Needed, Provided string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code and a formatted detail.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, or "internal_error".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal_error"
}

// Error codes shared across packages.
const (
	ENOTFOUND         = "not_found"
	EChannelNotFound  = "channel_not_found"
	EUserNotFound     = "user_not_found"
	ETokenNotFound    = "invalid_auth"
	EInvalidEvent     = "invalid_event"
	ESchemaOutOfDate  = "schema_out_of_date"
	EInvalidArguments = "invalid_arguments"
)

// EventError reports a bad event: Line is its 1-based line in the request or
// file, Field the offending field ("" when the line as a whole is bad).
type EventError struct {
	Line   int
	Field  string
	Detail string
}

func (e *EventError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Detail)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Detail)
}
