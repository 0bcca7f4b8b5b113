package cli

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
)

// dumpQuoteIdent writes an identifier the way the server's own formatter
// does: bare when it is a lower-case word that is not reserved, otherwise
// in backticks with backticks doubled.
func dumpQuoteIdent(name string) string {
	bare := name != "" && !ast.IsReserved(name)
	for i := 0; bare && i < len(name); i++ {
		c := name[i]
		bare = c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9'
	}
	if bare {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// dumpAppendString appends s as a single-quoted SQL string literal. Quotes
// are doubled; backslash and the control characters the lexer has escapes
// for are escaped, so a dump line never carries a raw CR, NUL or newline
// inside a literal (other bytes are written as they are: the lexer takes
// them literally).
func dumpAppendString(buf []byte, s string) []byte {
	buf = append(buf, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			buf = append(buf, '\'', '\'')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		case 0:
			buf = append(buf, '\\', '0')
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '\'')
}

// dumpAppendFloat appends f as a literal that parses back to exactly f:
// the shortest round-tripping decimal, always with a '.' or an exponent so
// it is read as FLOAT64 (that is what keeps -0.0 negative), and CASTs from
// strings for the values SQL has no literal for.
func dumpAppendFloat(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "CAST('NaN' AS FLOAT64)"...)
	case math.IsInf(f, 1):
		return append(buf, "CAST('Infinity' AS FLOAT64)"...)
	case math.IsInf(f, -1):
		return append(buf, "CAST('-Infinity' AS FLOAT64)"...)
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, 'g', -1, 64)
	for _, c := range buf[start:] {
		if c == '.' || c == 'e' {
			return buf
		}
	}
	return append(buf, '.', '0')
}

// dumpAppendValue appends the SQL literal for v, a value of a column of
// type kind as package client decodes it (nil, int64, float64, bool, or a
// string for STRING and OID columns).
func dumpAppendValue(buf []byte, kind client.Kind, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, "NULL"...), nil
	case int64:
		if kind == client.KindFloat64 {
			return dumpAppendFloat(buf, float64(v)), nil
		}
		return strconv.AppendInt(buf, v, 10), nil
	case float64:
		return dumpAppendFloat(buf, v), nil
	case bool:
		return strconv.AppendBool(buf, v), nil
	case string:
		if kind != client.KindOID {
			return dumpAppendString(buf, v), nil
		}
		if !dumpValidOID(v) {
			return buf, fmt.Errorf("object id %q is not 24 lower-case hex characters", v)
		}
		buf = append(buf, `STR_ID("`...)
		buf = append(buf, v...)
		return append(buf, `")`...), nil
	}
	return buf, fmt.Errorf("unexpected value %T in a %s column", v, kind)
}

func dumpValidOID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// dumpInsertWriter turns the rows of one table into batched multi-row
// INSERT statements:
//
//	INSERT INTO t (a, b) VALUES
//	(1, 'x'),
//	(2, NULL);
//
// A statement is closed after maxRows rows or once it reaches maxBytes, so
// a restore sends requests of bounded size (one row larger than maxBytes
// still goes out, alone).
type dumpInsertWriter struct {
	w        *bufio.Writer
	prefix   string // "INSERT INTO t (a, b) VALUES\n"
	kinds    []client.Kind
	maxRows  int
	maxBytes int

	rowsInStmt  int
	bytesInStmt int
	rows        int64 // rows written in all
	buf         []byte
}

func newDumpInsertWriter(w *bufio.Writer, table string, cols []client.Column, maxRows, maxBytes int) *dumpInsertWriter {
	var sb strings.Builder
	sb.WriteString("INSERT INTO ")
	sb.WriteString(dumpQuoteIdent(table))
	sb.WriteString(" (")
	kinds := make([]client.Kind, len(cols))
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(dumpQuoteIdent(c.Name))
		kinds[i] = c.Type
	}
	sb.WriteString(") VALUES\n")
	return &dumpInsertWriter{w: w, prefix: sb.String(), kinds: kinds, maxRows: max(1, maxRows), maxBytes: max(1, maxBytes)}
}

// add writes one row.
func (iw *dumpInsertWriter) add(row []any) error {
	if len(row) != len(iw.kinds) {
		return fmt.Errorf("row has %d values for %d columns", len(row), len(iw.kinds))
	}
	buf := iw.buf[:0]
	if iw.rowsInStmt == 0 {
		buf = append(buf, iw.prefix...)
	} else {
		buf = append(buf, ",\n"...)
	}
	buf = append(buf, '(')
	for i, v := range row {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		var err error
		if buf, err = dumpAppendValue(buf, iw.kinds[i], v); err != nil {
			return err
		}
	}
	buf = append(buf, ')')
	iw.buf = buf
	if _, err := iw.w.Write(buf); err != nil {
		return err
	}
	iw.rowsInStmt++
	iw.bytesInStmt += len(buf)
	iw.rows++
	if iw.rowsInStmt >= iw.maxRows || iw.bytesInStmt >= iw.maxBytes {
		return iw.flush()
	}
	return nil
}

// flush ends the open statement, if any.
func (iw *dumpInsertWriter) flush() error {
	if iw.rowsInStmt == 0 {
		return nil
	}
	iw.rowsInStmt, iw.bytesInStmt = 0, 0
	_, err := iw.w.WriteString(";\n")
	return err
}
