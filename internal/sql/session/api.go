package session

import (
	"context"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// TxnHandle names an explicit transaction over HTTP: (txnIdPT, txnIdCounter).
// PT is the physical time (ms) at which the coordinator opened it and Counter
// a per-node counter; together they are unique on the coordinator node.
type TxnHandle struct {
	PT      int64
	Counter int64
}

// Request is one SQL statement to execute.
type Request struct {
	// Database is the current database; may be "" for statements that name
	// no table (CREATE/DROP/SHOW DATABASE(S), SELECT 1).
	Database string
	SQL      string
	// Params maps parameter names without '@' (or "1", "2"... for $n) to values.
	Params map[string]types.Value
	// Txn, when set, runs the statement inside that explicit transaction.
	Txn *TxnHandle
	// StandardStrings reads SQL's string literals as PostgreSQL does with
	// standard_conforming_strings = on: a backslash is an ordinary
	// character outside E'...' (parser.Options). pgwire sessions set it;
	// the HTTP API's dialect leaves it off unless the request sets it.
	StandardStrings bool
	// Settings are the session's settings: SET, RESET and SHOW name act on
	// them and current_setting()/set_config() read and change them. nil
	// (the HTTP API) makes those statements CADB0407.
	Settings *Settings
	// Timeout bounds the statement: > 0 that long, 0 the node default
	// (Config.StatementTimeout; none when that is 0), < 0 none. Past it the
	// statement fails with CADB0507 and its writes are undone.
	Timeout time.Duration
	// TimeoutSetting names what set Timeout ("statement_timeout",
	// "timeoutMs", ...), for the error message.
	TimeoutSetting string
	// Cancel, when set, cancels the context the statement runs under,
	// which the caller made for this statement alone: CANCEL QUERY uses
	// it instead of deriving a context of its own (one fewer context per
	// statement). The pgwire front-end sets it; it is never called after
	// Execute returned.
	Cancel context.CancelCauseFunc
	// Client says who sent the statement (SHOW QUERIES).
	Client ClientInfo
	// CopyIn supplies the rows of a COPY ... FROM STDIN statement (the
	// front-end decodes the protocol's data). A COPY is never retried
	// internally: its input cannot be read twice.
	CopyIn CopySource
	// DescribeOnly plans a query without running it: the Result has the
	// Columns and no rows (pgwire's Describe of a prepared statement).
	// Other statements are CADB0407.
	DescribeOnly bool
}

// CopySource is what a front-end gives COPY ... FROM STDIN: it learns the
// target columns' kinds, then hands over rows in batches.
type CopySource = exec.CopySource

// ResultKind says what a statement produced.
type ResultKind int

const (
	ResultRows     ResultKind = iota // SELECT, SHOW, EXPLAIN: Columns + Rows
	ResultAffected                   // INSERT/UPDATE/DELETE: RowsAffected
	ResultDDL                        // DDL and USE: nothing
	ResultBegin                      // BEGIN: Txn is the new handle
	ResultCommit                     // COMMIT
	ResultRollback                   // ROLLBACK
)

// Column is one output column.
type Column struct {
	Name string
	Type types.Kind // types.Null when every value is NULL / unknown
}

// Result is the outcome of one statement.
type Result struct {
	Kind         ResultKind
	Columns      []Column
	Rows         [][]types.Value
	RowsAffected int64
	Txn          *TxnHandle // set for ResultBegin
	// Database is the current database after the statement (USE changes it).
	Database string
	// Notices are messages for the client that are not errors (an
	// isolation level upgraded to SERIALIZABLE).
	Notices []string
	// Verb is the statement that ran when it is not the text's first word
	// (EXECUTE of a prepared INSERT: "INSERT"), for protocol command tags.
	Verb string
}

// Executor is what protocol front-ends call. Errors are *errcode.Error.
type Executor interface {
	Execute(ctx context.Context, req Request) (*Result, error)
	// Begin opens an explicit transaction (the /start-transaction endpoint).
	Begin(ctx context.Context, database string) (TxnHandle, error)
	// Commit and Rollback end one (the /commit- and /rollback-transaction endpoints).
	Commit(ctx context.Context, h TxnHandle) error
	Rollback(ctx context.Context, h TxnHandle) error
}

// TimeoutEnforcer is the optional capability of an Executor that holds
// every statement to its Request.Timeout itself, so a front end needs no
// deadline of its own on top (a timer per statement saved).
type TimeoutEnforcer interface {
	EnforcesStatementTimeout() bool
}
