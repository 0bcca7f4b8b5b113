package session

import (
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

// StatementKind classifies a statement by its first keyword, without
// parsing it (leading spaces, comments and parentheses are skipped):
// select, insert, update, delete, ddl, txn, show, set or other.
func StatementKind(sql string) string {
	for {
		sql = strings.TrimLeft(sql, " \t\r\n(")
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
	if kind, ok := statementKinds[strings.ToLower(sql[:end])]; ok {
		return kind
	}
	return "other"
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
