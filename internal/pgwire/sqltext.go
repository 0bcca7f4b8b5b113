package pgwire

import (
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// maxParams is the most parameters a Bind can carry (an Int16 count).
const maxParams = 65535

// leadingKeywords returns up to n leading words of sql, lower-cased,
// skipping white space, comments and opening parentheses.
func leadingKeywords(sql string, n int) []string {
	var out []string
	i := 0
	for i < len(sql) && len(out) < n {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || (c == '(' && len(out) == 0):
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case isWordByte(c):
			start := i
			for i < len(sql) && (isWordByte(sql[i]) || (sql[i] >= '0' && sql[i] <= '9')) {
				i++
			}
			out = append(out, strings.ToLower(sql[start:i]))
		default:
			return out
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// countParams returns the highest $n in sql outside literals, quoted
// identifiers and comments (the lexer's quoting rules, via
// parser.ScanCode).
func countParams(sql string, opts parser.Options) (int, error) {
	highest := 0
	var err error
	parser.ScanCode(sql, opts, func(start, end int) {
		for i := start; i < end && err == nil; i++ {
			if sql[i] != '$' {
				continue
			}
			j := i + 1
			for j < end && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j > i+1 {
				n, convErr := strconv.Atoi(sql[i+1 : j])
				if convErr != nil || n > maxParams {
					err = errcode.New(errcode.InvalidInput, "parameter %s is out of range (at most $%d)", sql[i:j], maxParams)
					return
				}
				highest = max(highest, n)
			}
			i = j - 1
		}
	})
	if err != nil {
		return 0, err
	}
	return highest, nil
}

// txnControl classifies transaction-control statements.
type txnControl int

const (
	txnNone txnControl = iota
	txnBegin
	txnCommit
	txnRollback
)

func classifyTxnControl(kw []string) txnControl {
	if len(kw) == 0 {
		return txnNone
	}
	switch kw[0] {
	case "begin":
		return txnBegin
	case "start":
		if len(kw) > 1 && kw[1] == "transaction" {
			return txnBegin
		}
	case "commit", "end":
		return txnCommit
	case "rollback", "abort":
		return txnRollback
	}
	return txnNone
}

// producesRows reports whether a statement starting with these keywords
// returns rows.
func producesRows(kw []string) bool {
	if len(kw) == 0 {
		return false
	}
	switch kw[0] {
	case "select", "with", "show", "describe", "desc", "explain", "values", "table":
		return true
	}
	return false
}

// hasReturning reports whether sql holds the word RETURNING outside
// literals and comments: an INSERT, UPDATE or DELETE that returns rows.
func hasReturning(sql string, opts parser.Options) bool {
	const word = "returning"
	isWord := func(b byte) bool { return isWordByte(b) || b >= '0' && b <= '9' || b >= 0x80 }
	found := false
	parser.ScanCode(sql, opts, func(start, end int) {
		for at := start; !found && at+len(word) <= end; at++ {
			found = strings.EqualFold(sql[at:at+len(word)], word) &&
				(at == start || !isWord(sql[at-1])) && (at+len(word) == end || !isWord(sql[at+len(word)]))
		}
	})
	return found
}

func affectedTag(first string, n int64) string {
	count := strconv.FormatInt(n, 10)
	switch first {
	case "insert":
		return "INSERT 0 " + count
	case "update", "delete":
		return strings.ToUpper(first) + " " + count
	case "create": // CREATE TABLE ... AS
		return "SELECT " + count
	}
	return strings.ToUpper(first) + " " + count
}

// ddlTag is the command tag of a DDL statement (CREATE TABLE, DROP
// INDEX, ...).
func ddlTag(kw []string) string {
	if len(kw) == 0 {
		return ""
	}
	switch kw[0] {
	case "create", "drop", "alter":
		obj := kw[1:]
		if len(obj) > 0 && obj[0] == "unique" {
			obj = obj[1:]
		}
		if len(obj) > 0 {
			return strings.ToUpper(kw[0] + " " + obj[0])
		}
	case "rename":
		return "ALTER DATABASE"
	case "truncate":
		return "TRUNCATE TABLE"
	case "discard":
		if len(kw) > 1 {
			return "DISCARD " + strings.ToUpper(kw[1])
		}
	case "use":
		return "SET"
	}
	return strings.ToUpper(kw[0])
}

// intercept answers the PostgreSQL-specific statements real clients send
// (see the package doc). handled=false passes the statement on.
func (c *conn) intercept(sql string, kw []string) (res *session.Result, tag string, handled bool) {
	if len(kw) == 0 {
		return nil, "", false
	}
	switch kw[0] {
	case "select":
		if nonSpaceBytes(sql) > len("selectpg_backend_pid();") {
			return nil, "", false // none of the statements below; skip the allocations
		}
		var buf [32]byte
		compact, ok := compactLower(buf[:0], sql)
		if !ok {
			compact = []byte(strings.ToLower(strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(sql), ";")), "")))
		}
		switch string(compact) {
		case "selectcurrent_user", "selectcurrent_user()", "selectsession_user", "selectuser":
			return singleValue(strings.TrimSuffix(strings.TrimPrefix(string(compact), "select"), "()"), types.NewString(c.user)), "SELECT 1", true
		case "selectpg_backend_pid()":
			return singleValue("pg_backend_pid", types.NewInt(int64(c.pid))), "SELECT 1", true
		}
	}
	return nil, "", false
}

func singleValue(name string, v types.Value) *session.Result {
	return &session.Result{
		Kind:    session.ResultRows,
		Columns: []session.Column{{Name: name, Type: v.Kind}},
		Rows:    [][]types.Value{{v}},
	}
}

// deallocateProtocol drops the protocol-level prepared statements a
// DEALLOCATE names (PostgreSQL has one namespace for them and for SQL
// PREPARE; the session holds the SQL ones) and reports whether it named
// any.
func (c *conn) deallocateProtocol(kw []string) bool {
	rest := kw[1:]
	if len(rest) > 0 && rest[0] == "prepare" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return false
	}
	if rest[0] == "all" {
		clear(c.stmts)
		return true
	}
	_, ok := c.stmts[rest[0]]
	delete(c.stmts, rest[0])
	return ok
}

// nonSpaceBytes counts the bytes of s that are not ASCII white space.
// compactLower appends sql to b without its ASCII white space, lower-cased
// and without one trailing ';': what intercept matches, built without
// allocating. ok=false for non-ASCII text (Unicode spaces count as white
// space there, which the caller's slower path handles).
func compactLower(b []byte, sql string) (_ []byte, ok bool) {
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c >= 0x80:
			return b, false
		case c == ' ', c == '\t', c == '\n', c == '\r', c == '\f', c == '\v':
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	if n := len(b); n > 0 && b[n-1] == ';' {
		b = b[:n-1]
	}
	return b, true
}

func nonSpaceBytes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
		default:
			n++
		}
	}
	return n
}
