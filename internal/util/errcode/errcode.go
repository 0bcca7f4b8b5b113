// Package errcode holds the CADB error codes of SPEC §9 and the one table
// that maps them to HTTP statuses (SPEC §3.2) and PostgreSQL SQLSTATEs.
//
// The code is attached once, at the SQL/session boundary (or by the parser
// for syntax errors); front-ends derive statuses from it with HTTPStatus and
// SQLState and never inspect message text.
package errcode

import (
	"errors"
	"fmt"
)

// Code is a CADB error code such as "CADB0300".
type Code string

const (
	UnknownDatabase  Code = "CADB0010"
	UnknownTable     Code = "CADB0011"
	DatabaseExists   Code = "CADB0012"
	TableExists      Code = "CADB0013"
	Corruption       Code = "CADB0014"
	UnknownIndex     Code = "CADB0016"
	UnknownSetting   Code = "CADB0017"
	AuthFailed       Code = "CADB0020" // authentication failed (HTTP 401, SQLSTATE 28P01)
	PermissionDenied Code = "CADB0021" // permission denied (HTTP 403, SQLSTATE 42501)
	UnknownUser      Code = "CADB0022" // unknown user or role in a statement (404, 42704)
	UserExists       Code = "CADB0023" // user or role already exists (400, 42710)
	// CADB0030-0049: jobs and online schema changes.
	UnknownJob             Code = "CADB0030" // no job with that id (404, 42704)
	JobState               Code = "CADB0031" // the job's state does not allow PAUSE/RESUME/CANCEL (400, 55000)
	SchemaChangeInProgress Code = "CADB0032" // a schema change job runs on the table (409, 55006)
	CheckViolation         Code = "CADB0033" // a row makes a CHECK constraint false (400, 23514)
	UniqueViolation        Code = "CADB0300"
	NotNullViolation       Code = "CADB0301"
	InvalidInput           Code = "CADB0400"
	UnknownType            Code = "CADB0401"
	DuplicateColumn        Code = "CADB0403"
	UnknownColumn          Code = "CADB0404"
	SyntaxError            Code = "CADB0406"
	Unsupported            Code = "CADB0407"
	// CADB0410-0429: values that do not fit a column type.
	NumericOutOfRange         Code = "CADB0410" // a number outside its type's range (22003)
	StringTooLong             Code = "CADB0411" // a string longer than VARCHAR(n)/CHAR(n) (22001)
	InvalidDatetimeFormat     Code = "CADB0412" // date/time text that does not parse (22007)
	DatetimeOverflow          Code = "CADB0413" // a date/time field out of range, e.g. Feb 30 (22008)
	InvalidTextRepresentation Code = "CADB0414" // malformed text for a type: bytea, uuid, json (22P02)
	InvalidBinaryValue        Code = "CADB0415" // malformed binary parameter value (22P03)
	// BadCopyData: a line of COPY ... FROM STDIN cannot be read (the
	// message names the line); nothing of the COPY is written.
	BadCopyData Code = "CADB0430"
	// SchemaExists: CREATE SCHEMA of a schema that exists (public).
	SchemaExists Code = "CADB0431"
	// CADB0432-0439: sequences.
	CurrvalNotSet     Code = "CADB0432" // currval/lastval before nextval in the session (55000)
	SequenceExhausted Code = "CADB0433" // nextval past MAXVALUE/MINVALUE without CYCLE (2200H)
	GeneratedAlways   Code = "CADB0434" // a value for a GENERATED ALWAYS identity column (428C9)
	InvalidSequence   Code = "CADB0435" // bad sequence options: bounds, start, increment, cache (22023)
	WrongObjectType   Code = "CADB0436" // a relation of another kind: nextval of a table, DROP SEQUENCE of a table (42809)
	TxnClosed         Code = "CADB0501"
	TxnConflict       Code = "CADB0502"
	SchemaCatchingUp  Code = "CADB0503"
	MustRetry         Code = "CADB0504"
	Ambiguous         Code = "CADB0505"
	// QueryCancelled: the statement was cancelled (pgwire CancelRequest,
	// CANCEL QUERY, the client went away); nothing it wrote is kept.
	QueryCancelled Code = "CADB0506"
	// StatementTimeout: the statement ran past its timeout
	// (statement_timeout, timeoutMs, sql_statement_timeout_ms,
	// http_request_timeout_ms); nothing it wrote is kept.
	StatementTimeout Code = "CADB0507"
	// Overloaded: an admission limit of the node is reached (txn_max_open,
	// http_max_concurrent_requests); retry later.
	Overloaded Code = "CADB0508"
	// ResultTooLarge: a result exceeds what the front end may send in one
	// answer (http_max_result_bytes); page it or use pgwire.
	ResultTooLarge Code = "CADB0509"
	// CADB0510-0519: memory and temporary storage of queries.
	NodeMemoryExhausted Code = "CADB0510" // the node-wide sql_memory_bytes budget is full
	QueryMemoryExceeded Code = "CADB0511" // an operator that cannot spill passed sql_query_memory_bytes
	TempStorageFailed   Code = "CADB0512" // writing or reading a query's spill files failed
	// CommandTooLarge: one replicated write is over raft_max_command_bytes.
	CommandTooLarge Code = "CADB0513"
	// TxnTooLarge: a transaction's buffered writes passed
	// txn_max_write_bytes.
	TxnTooLarge   Code = "CADB0514"
	InvalidConfig Code = "CADB0600"
	Internal      Code = "CADB0099"
)

// Error is an error carrying a CADB code.
type Error struct {
	Code    Code
	Message string
	Cause   error // optional wrapped error
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }
func (e *Error) Unwrap() error { return e.Cause }

// New returns an *Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches code to cause, keeping cause's message.
func Wrap(code Code, cause error) *Error {
	return &Error{Code: code, Message: cause.Error(), Cause: cause}
}

// Of returns the code of err, or Internal when err carries none.
func Of(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Retryable reports whether a client should retry the transaction.
func (c Code) Retryable() bool {
	return c == TxnConflict || c == SchemaCatchingUp || c == MustRetry || c == Overloaded
}

// HTTPStatus maps a code to the HTTP status of SPEC §3.2.
func HTTPStatus(c Code) int {
	switch c {
	case UnknownDatabase, UnknownTable, UnknownIndex, UnknownSetting, UnknownUser, UnknownJob:
		return 404
	case JobState, CheckViolation:
		return 400
	case SchemaChangeInProgress:
		return 409
	case AuthFailed:
		return 401
	case PermissionDenied:
		return 403
	case UserExists:
		return 400
	case DatabaseExists, TableExists:
		return 400
	case TxnClosed, TxnConflict, MustRetry:
		return 409
	case SchemaCatchingUp, NodeMemoryExhausted, Overloaded:
		return 503
	case QueryMemoryExceeded, ResultTooLarge, CommandTooLarge, TxnTooLarge:
		return 400
	case TempStorageFailed:
		return 500
	case QueryCancelled:
		return 409
	case StatementTimeout:
		return 408
	case Ambiguous, Corruption, Internal:
		return 500
	}
	if len(c) == 8 && (c[4:6] == "03" || c[4:6] == "04") {
		return 400
	}
	if c == InvalidConfig {
		return 400
	}
	return 500
}

// SQLState maps a code to a PostgreSQL SQLSTATE.
func SQLState(c Code) string {
	switch c {
	case UnknownDatabase:
		return "3D000"
	case UnknownTable:
		return "42P01"
	case DatabaseExists:
		return "42P04"
	case TableExists:
		return "42P07"
	case UnknownIndex, UnknownSetting:
		return "42704"
	case AuthFailed:
		return "28P01"
	case PermissionDenied:
		return "42501"
	case UnknownUser:
		return "42704"
	case UserExists:
		return "42710"
	case UnknownJob:
		return "42704"
	case JobState:
		return "55000" // object_not_in_prerequisite_state
	case SchemaChangeInProgress:
		return "55006" // object_in_use
	case UniqueViolation:
		return "23505"
	case NotNullViolation:
		return "23502"
	case CheckViolation:
		return "23514"
	case UnknownType:
		return "42704"
	case DuplicateColumn:
		return "42701"
	case UnknownColumn:
		return "42703"
	case SyntaxError:
		return "42601"
	case Unsupported:
		return "0A000"
	case BadCopyData:
		return "22P04" // bad_copy_file_format
	case SchemaExists:
		return "42P06" // duplicate_schema
	case CurrvalNotSet:
		return "55000" // object_not_in_prerequisite_state
	case SequenceExhausted:
		return "2200H" // sequence_generator_limit_exceeded
	case GeneratedAlways:
		return "428C9" // generated_always
	case InvalidSequence:
		return "22023" // invalid_parameter_value
	case WrongObjectType:
		return "42809" // wrong_object_type
	case InvalidInput:
		return "22023"
	case NumericOutOfRange:
		return "22003" // numeric_value_out_of_range
	case StringTooLong:
		return "22001" // string_data_right_truncation
	case InvalidDatetimeFormat:
		return "22007" // invalid_datetime_format
	case DatetimeOverflow:
		return "22008" // datetime_field_overflow
	case InvalidTextRepresentation:
		return "22P02" // invalid_text_representation
	case InvalidBinaryValue:
		return "22P03" // invalid_binary_representation
	case TxnClosed:
		return "25P01"
	case TxnConflict, MustRetry:
		return "40001"
	case SchemaCatchingUp:
		return "40001"
	case Ambiguous:
		return "40003"
	case QueryCancelled, StatementTimeout:
		return "57014"
	case Overloaded:
		return "53000"
	case ResultTooLarge, CommandTooLarge, TxnTooLarge:
		return "54000"
	case Corruption:
		return "XX001"
	case NodeMemoryExhausted, QueryMemoryExceeded:
		return "53200" // out_of_memory
	case TempStorageFailed:
		return "58030" // io_error
	case InvalidConfig:
		return "F0000"
	}
	return "XX000"
}
