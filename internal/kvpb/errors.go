package kvpb

import (
	"errors"
	"fmt"
)

// The kv layer's errors. The SQL session maps them to CADB codes once:
//
//	ConflictError   -> CADB0502 (retry the transaction)
//	RetryError      -> CADB0504 (retry; nothing was committed)
//	AmbiguousError  -> CADB0505 (the commit may or may not have happened)
//	ErrTxnClosed    -> CADB0501
//	CorruptionError -> CADB0014

// ConflictError reports a serializability conflict; the transaction was
// aborted and may be retried from the start.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return "transaction conflict: " + e.Reason }

// ConditionFailedError reports that a write made on condition that its key
// had no live version (kvserver.Mutation.MustNotExist: an INSERT's primary
// key) found one at the commit timestamp; nothing was written. Message,
// set by the transaction, says what the condition was for.
type ConditionFailedError struct {
	Key     []byte
	Message string
}

func (e *ConditionFailedError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("condition failed: key %q exists", e.Key)
}

// RetryError reports a transient failure (no leader, leadership change,
// timeout) before anything was committed.
type RetryError struct {
	Reason string
	// Rerouted: the request was already re-sent for as long as the router
	// allows (a partition without a reachable leader for that long), so an
	// immediate retry would most likely wait just as long in vain.
	Rerouted bool
}

func (e *RetryError) Error() string { return "must retry: " + e.Reason }

// AmbiguousError reports that a commit was sent but its outcome is unknown.
type AmbiguousError struct{ Cause error }

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("result is ambiguous: %v", e.Cause)
}
func (e *AmbiguousError) Unwrap() error { return e.Cause }

// CorruptionError reports stored bytes that cannot be decoded.
type CorruptionError struct{ What string }

func (e *CorruptionError) Error() string { return "corrupt stored data: " + e.What }

// ErrTxnClosed is returned when using a committed, aborted or unknown transaction.
var ErrTxnClosed = errors.New("transaction already committed, rolled back or unknown")

// IsRetryable reports whether err is a ConflictError or RetryError.
func IsRetryable(err error) bool {
	var c *ConflictError
	var r *RetryError
	return errors.As(err, &c) || errors.As(err, &r)
}

// IsRerouted reports whether err is a RetryError the router gave up on
// after re-sending the request for its whole wait (RetryError.Rerouted).
func IsRerouted(err error) bool {
	var r *RetryError
	return errors.As(err, &r) && r.Rerouted
}

// WriteCost is what a transaction's write bound (txn_max_write_bytes)
// counts for a write of a new key: WriteCopies times its key and value
// bytes plus WriteOverhead. It estimates the memory the write holds when
// the transaction commits, when it is at its largest, measured with heap
// profiles of one-statement transactions of a million rows: a DELETE
// (18-byte keys) held ~1 KB per key, an INSERT ... SELECT of ~225-byte
// rows ~2.1 KB per row. The statement's buffer, the transaction's write
// set, the latches, the intents and Raft commands built at the commit
// each hold a copy of the key or of the write; counting key + value + 64
// (as before) let a transaction take about seven times its bound.
func WriteCost(keyLen, valueLen int) int64 {
	return WriteCopies*int64(keyLen+valueLen) + WriteOverhead
}

// WriteCopies and WriteOverhead make WriteCost. A write that replaces a
// key's value in the same transaction grows by WriteCopies times the
// difference in value bytes.
const (
	WriteCopies   = 5
	WriteOverhead = 900
)

// TxnTooLargeError refuses a write that would take a transaction's
// buffered writes past the coordinator's bound (txn_max_write_bytes): the
// write was not buffered, the transaction's earlier ones still are.
type TxnTooLargeError struct {
	Limit int64
}

func (e *TxnTooLargeError) Error() string {
	return fmt.Sprintf("the transaction's writes are over the limit of %d bytes (txn_max_write_bytes) that a transaction may hold until its commit: write the rows in several transactions, or raise the setting", e.Limit)
}

// CommandTooLargeError refuses a replicated command over the node's size
// limit (raft_max_command_bytes) before it reaches Raft: nothing of it
// was written.
type CommandTooLargeError struct {
	Size, Limit int64
}

func (e *CommandTooLargeError) Error() string {
	return fmt.Sprintf("a replicated command of %d bytes is over the limit of %d bytes (raft_max_command_bytes): write less per statement or per row, or raise the setting", e.Size, e.Limit)
}
