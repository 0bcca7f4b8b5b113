package parser

import "github.com/camusdb/camusdb-go/internal/sql/ast"

// keyword identifies a word the grammar recognises. Most keywords are
// usable as identifiers; the reserved ones (ast.IsReserved) are not, unless
// written in backticks.
type keyword uint8

const (
	kwNone keyword = iota
	kwAdd
	kwAll
	kwAlter
	kwAnalyze
	kwAnd
	kwAs
	kwAsc
	kwBegin
	kwBetween
	kwBy
	kwCase
	kwCast
	kwColumn
	kwColumns
	kwCommit
	kwCommitted
	kwCreate
	kwCross
	kwDatabase
	kwDatabases
	kwDefault
	kwDelete
	kwDesc
	kwDescribe
	kwDistinct
	kwDrop
	kwElse
	kwEnd
	kwExcept
	kwExists
	kwExplain
	kwFalse
	kwFields
	kwFirst
	kwForceIndex
	kwFrom
	kwGroup
	kwHaving
	kwIf
	kwIlike
	kwIn
	kwIndex
	kwIndexes
	kwInner
	kwInsert
	kwIntersect
	kwInto
	kwIs
	kwIsolation
	kwJoin
	kwKey
	kwKeys
	kwLast
	kwLeft
	kwLevel
	kwLike
	kwLimit
	kwLogical
	kwNot
	kwNull
	kwNulls
	kwOffset
	kwOn
	kwOnly
	kwOr
	kwOrder
	kwOuter
	kwPhysical
	kwPrimary
	kwRead
	kwRename
	kwRepeatable
	kwRollback
	kwSelect
	kwSerializable
	kwSet
	kwShow
	kwStart
	kwTable
	kwTables
	kwThen
	kwTo
	kwTransaction
	kwTrue
	kwUncommitted
	kwUnion
	kwUnique
	kwUpdate
	kwUse
	kwValues
	kwWhen
	kwWhere
	kwWith
	kwWork
	kwWrite
	numKeywords
)

// keywordNames holds the lower-case spelling of each keyword.
var keywordNames = [numKeywords]string{
	kwAdd: "add", kwAll: "all", kwAlter: "alter", kwAnalyze: "analyze", kwAnd: "and",
	kwAs: "as", kwAsc: "asc", kwBegin: "begin", kwBetween: "between", kwBy: "by",
	kwCase: "case", kwCast: "cast", kwColumn: "column", kwColumns: "columns",
	kwCommit: "commit", kwCreate: "create", kwCross: "cross", kwDatabase: "database",
	kwDatabases: "databases", kwDefault: "default", kwDelete: "delete", kwDesc: "desc",
	kwDescribe: "describe", kwDistinct: "distinct", kwDrop: "drop", kwElse: "else",
	kwEnd: "end", kwExcept: "except", kwExists: "exists", kwExplain: "explain",
	kwFalse: "false", kwFields: "fields", kwFirst: "first", kwForceIndex: "force_index",
	kwFrom: "from", kwGroup: "group", kwHaving: "having", kwIf: "if", kwIlike: "ilike",
	kwIn: "in", kwIndex: "index", kwIndexes: "indexes", kwInner: "inner",
	kwInsert: "insert", kwIntersect: "intersect", kwInto: "into", kwIs: "is",
	kwJoin: "join", kwKey: "key", kwKeys: "keys", kwLast: "last", kwLeft: "left",
	kwLike: "like", kwLimit: "limit", kwLogical: "logical", kwNot: "not", kwNull: "null",
	kwNulls: "nulls", kwOffset: "offset", kwOn: "on", kwOr: "or", kwOrder: "order",
	kwOuter: "outer", kwPhysical: "physical", kwPrimary: "primary", kwRename: "rename",
	kwRollback: "rollback", kwSelect: "select", kwSet: "set", kwShow: "show",
	kwStart: "start", kwTable: "table", kwTables: "tables", kwThen: "then", kwTo: "to",
	kwTransaction: "transaction", kwTrue: "true", kwUnion: "union", kwUnique: "unique",
	kwUpdate: "update", kwUse: "use", kwValues: "values", kwWhen: "when",
	kwWhere: "where", kwWith: "with", kwWork: "work",
	kwCommitted: "committed", kwIsolation: "isolation", kwLevel: "level", kwOnly: "only",
	kwRead: "read", kwRepeatable: "repeatable", kwSerializable: "serializable",
	kwUncommitted: "uncommitted", kwWrite: "write",
}

// maxKeywordLen bounds the words worth looking up.
const maxKeywordLen = 16

var (
	keywordMap = func() map[string]keyword {
		m := make(map[string]keyword, numKeywords)
		for kw := kwNone + 1; kw < numKeywords; kw++ {
			m[keywordNames[kw]] = kw
		}
		return m
	}()
	// reserved[kw] is true for keywords that cannot be bare identifiers.
	// The list itself lives in package ast so Format quotes exactly these.
	reserved = func() (r [numKeywords]bool) {
		for kw := kwNone + 1; kw < numKeywords; kw++ {
			r[kw] = ast.IsReserved(keywordNames[kw])
		}
		return r
	}()
)

// lookupKeyword returns the keyword spelled by the ASCII word raw in any
// case, or kwNone. It does not allocate.
func lookupKeyword(raw string) keyword {
	if len(raw) > maxKeywordLen || len(raw) < 2 {
		return kwNone
	}
	var buf [maxKeywordLen]byte
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		buf[i] = b
	}
	return keywordMap[string(buf[:len(raw)])]
}
