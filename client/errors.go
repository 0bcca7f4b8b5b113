package client

import (
	"errors"
	"net/http"
	"strconv"
)

// Error codes a client commonly branches on (SPEC §9). The server may return
// others; compare Error.Code with these constants.
const (
	CodeUnknownDatabase  = "CADB0010"
	CodeUnknownTable     = "CADB0011"
	CodeDatabaseExists   = "CADB0012"
	CodeTableExists      = "CADB0013"
	CodeUniqueViolation  = "CADB0300"
	CodeNotNullViolation = "CADB0301"
	CodeInvalidInput     = "CADB0400"
	CodeSyntaxError      = "CADB0406"
	CodeUnsupported      = "CADB0407"
	CodeTxnClosed        = "CADB0501"
	CodeTxnConflict      = "CADB0502"
	CodeSchemaCatchingUp = "CADB0503"
	CodeMustRetry        = "CADB0504"
	CodeAmbiguous        = "CADB0505"
	CodeQueryCancelled   = "CADB0506"
	CodeStatementTimeout = "CADB0507"
	CodeOverloaded       = "CADB0508"
	CodeResultTooLarge   = "CADB0509"
	CodeInternal         = "CADB0099"
)

// ErrNoEndpoint is returned (wrapping the last dial error) when no endpoint
// of the client accepted a connection.
var ErrNoEndpoint = errors.New("client: no reachable endpoint")

// Error is a failure reported by the server: {"status":"failed","code",
// "message"} (SPEC §3.2), or an HTTP error response without that shape, in
// which case Code is empty and Message holds the start of the body.
type Error struct {
	Code       string // CADB code, e.g. "CADB0502"; empty when the server sent none
	Message    string
	HTTPStatus int
}

// Error renders "CADB0502: message", or "HTTP 502: message" without a code.
func (e *Error) Error() string {
	if e.Code != "" {
		return e.Code + ": " + e.Message
	}
	return "HTTP " + strconv.Itoa(e.HTTPStatus) + ": " + e.Message
}

// Retryable reports whether the failed transaction may be retried from its
// start: conflicts (CADB0502), schema catching up (CADB0503), must-retry
// (CADB0504), node at an admission limit (CADB0508: too many requests or
// open transactions), and a 503 without a code (node not ready). An ambiguous commit
// (CADB0505) is not retryable: the caller must first check whether it happened.
func (e *Error) Retryable() bool {
	switch e.Code {
	case CodeTxnConflict, CodeSchemaCatchingUp, CodeMustRetry, CodeOverloaded:
		return true
	case "":
		return e.HTTPStatus == http.StatusServiceUnavailable
	}
	return false
}

// IsRetryable reports whether err is (or wraps) a retryable *Error.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// CodeOf returns the CADB code of err, or "" when err carries none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
