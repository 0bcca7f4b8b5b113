package session

import (
	"slices"
	"strings"
	"time"
)

// StatementStats describes one executed statement, for metrics.
type StatementStats struct {
	// Kind is the statement's class (see StatementKind).
	Kind    string
	Elapsed time.Duration
	// Rows returned (queries) or affected (writes).
	Rows   int64
	Failed bool
}

// statementKinds are the classes metrics tell apart; everything else is
// "other".
var statementKinds = map[string]string{
	"select": "select", "with": "select", "values": "select", "table": "select",
	"insert": "insert", "upsert": "insert", "copy": "insert",
	"update": "update",
	"delete": "delete", "truncate": "delete",
	"create": "ddl", "drop": "ddl", "alter": "ddl", "rename": "ddl", "comment": "ddl",
	"begin": "txn", "start": "txn", "commit": "txn", "rollback": "txn", "end": "txn",
	"savepoint": "txn", "release": "txn",
	"show": "show", "explain": "show", "describe": "show",
	"set": "set", "reset": "set", "use": "set",
}

// StatementKinds lists every class StatementKind returns, sorted.
func StatementKinds() []string {
	seen := map[string]bool{"other": true}
	for _, k := range statementKinds {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// StatementKind classifies a statement by its first keyword, without
// parsing it (leading spaces, comments and parentheses are skipped):
// select, insert, update, delete, ddl, txn, show, set or other.
func StatementKind(sql string) string {
	for {
		sql = trimLeadingSpace(sql)
		switch {
		case strings.HasPrefix(sql, "--"):
			i := strings.IndexByte(sql, '\n')
			if i < 0 {
				return "other"
			}
			sql = sql[i+1:]
			continue
		case strings.HasPrefix(sql, "/*"):
			i := strings.Index(sql, "*/")
			if i < 0 {
				return "other"
			}
			sql = sql[i+2:]
			continue
		}
		break
	}
	end := 0
	for end < len(sql) && end < 16 && isWordByte(sql[end]) {
		end++
	}
	// Lower-cased in a stack buffer: this runs for every statement, and
	// strings.ToLower allocated for the usual upper-case keyword.
	var lower [16]byte
	for i := 0; i < end; i++ {
		c := sql[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	if kind, ok := statementKinds[string(lower[:end])]; ok {
		return kind
	}
	return "other"
}

// trimLeadingSpace drops the white space and opening parentheses that
// may come before a statement's first keyword.
func trimLeadingSpace(sql string) string {
	i := 0
	for i < len(sql) {
		switch sql[i] {
		case ' ', '\t', '\r', '\n', '(':
			i++
			continue
		}
		break
	}
	return sql[i:]
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
