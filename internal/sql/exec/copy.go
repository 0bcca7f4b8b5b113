package exec

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// CopySource supplies the rows of COPY ... FROM STDIN. The front-end
// decodes them (pgwire: text, CSV and binary formats) with the kinds of
// the target columns, which it learns from Start.
type CopySource interface {
	// Start is called once, before any row is read, with the table and the
	// names and kinds of the target columns in COPY's column order.
	Start(table string, names []string, kinds []types.Kind) error
	// Next returns the next batch of rows and the input line each starts
	// on (for error messages); an empty batch ends the input. An error
	// (a malformed line, CopyFail) aborts the COPY.
	Next() (rows [][]types.Value, lines []int, err error)
}

// copyFrom runs COPY t FROM STDIN: every row is inserted in the
// statement's transaction, so an error anywhere (a malformed line, a
// duplicate key, NOT NULL) leaves nothing written. Rows are checked and
// written a batch at a time: one scan over the batch's primary-key span
// finds existing rows instead of one read per row.
func copyFrom(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.Copy, src CopySource, stats *Stats) (int64, error) {
	if src == nil {
		return 0, errcode.New(errcode.Unsupported, "COPY ... FROM STDIN needs the PostgreSQL wire protocol (the HTTP API takes INSERT)")
	}
	n, err := p.PlanInsert(&ast.Insert{At: s.At, Table: s.Table, Columns: s.Columns, Rows: [][]ast.Expr{}})
	if err != nil {
		return 0, err
	}
	kinds := make([]types.Kind, len(n.Targets))
	names := make([]string, len(n.Targets))
	for i, o := range n.Targets {
		kinds[i], names[i] = n.Table.Columns[o].Kind, n.Table.Columns[o].Name
	}
	if err := src.Start(n.Table.Name, names, kinds); err != nil {
		return 0, err
	}
	w := newTableWriter(n.Table, buf)
	w.checks = n.Checks
	pos := make([]int, len(n.Table.Columns))
	for o := range pos {
		pos[o] = -1
	}
	for i, o := range n.Targets {
		pos[o] = i
	}
	var count int64
	for {
		rows, lines, err := src.Next()
		if err != nil {
			return 0, err
		}
		if len(rows) == 0 {
			if count > 0 {
				stats.Changed(n.Table, count)
			}
			return count, nil
		}
		full := make([][]types.Value, len(rows))
		for r, src := range rows {
			if len(src) != len(n.Targets) {
				return 0, copyLineError(n.Table.Name, lines[r], errcode.New(errcode.InvalidInput, "row has %d values for %d columns", len(src), len(n.Targets)))
			}
			row := make([]types.Value, len(n.Table.Columns))
			for o := range row {
				if i := pos[o]; i >= 0 {
					row[o] = src[i]
				} else if d := n.Defaults[o]; d != nil {
					if row[o], err = d.Eval(nil); err != nil {
						return 0, copyLineError(n.Table.Name, lines[r], err)
					}
				}
			}
			if err := w.prepare(row); err != nil {
				return 0, copyLineError(n.Table.Name, lines[r], err)
			}
			full[r] = row
		}
		if err := w.insertBatch(ctx, full, lines); err != nil {
			return 0, err
		}
		count += int64(len(rows))
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// copyLineError names the input line of a COPY error, as PostgreSQL's
// "COPY t, line n" context does, keeping the error's code. Without lines
// (line < 0: not a COPY) the error is returned as is.
func copyLineError(table string, line int, err error) error {
	if line < 0 {
		return err
	}
	code := errcode.Of(err)
	if code == "" {
		return err
	}
	msg := err.Error()
	if e, ok := err.(*errcode.Error); ok {
		msg = e.Message
	}
	return &errcode.Error{Code: code, Message: fmt.Sprintf("COPY %s, line %d: %s", table, line, msg), Cause: err}
}

// maxExistingScanFactor bounds the existing rows one batch's span scan
// may return (as a multiple of the batch): past it the rows of the table
// interleave with the batch's and point reads are cheaper.
const maxExistingScanFactor = 4

// insertBatch inserts full, prepared rows (lines gives each one's input
// line for errors, in increasing order; nil when they come from no input). Primary-key uniqueness is checked for the whole batch
// at once: against the batch itself and the statement's earlier writes in
// memory, and against the stored rows with one scan of the batch's key
// span. Unique secondary indexes are probed row by row.
func (w *tableWriter) insertBatch(ctx context.Context, rows [][]types.Value, lines []int) error {
	type entry struct {
		key []byte
		i   int
	}
	// Every row key is encoded once, end to end in one buffer (the write
	// buffer copies what it keeps).
	prefix := w.t.RowPrefix()
	keyBuf := make([]byte, 0, len(rows)*(len(prefix)+16))
	keys := make([][]byte, len(rows)) // by row
	entries := make([]entry, len(rows))
	for i, row := range rows {
		start := len(keyBuf)
		keyBuf = w.t.AppendKeyColumns(append(keyBuf, prefix...), &w.t.PrimaryKey, row)
		keys[i] = keyBuf[start:len(keyBuf):len(keyBuf)]
		entries[i] = entry{key: keys[i], i: i}
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	firstDup := -1
	noteDup := func(i int) {
		if firstDup < 0 || i < firstDup {
			firstDup = i
		}
	}
	for j := range entries {
		if j > 0 && bytes.Equal(entries[j].key, entries[j-1].key) {
			noteDup(max(entries[j].i, entries[j-1].i))
		}
		if exists, known := w.buf.buffered(string(entries[j].key)); known && exists {
			noteDup(entries[j].i)
		}
	}
	find := func(key []byte) int {
		j := sort.Search(len(entries), func(j int) bool { return bytes.Compare(entries[j].key, key) >= 0 })
		if j < len(entries) && bytes.Equal(entries[j].key, key) {
			return j
		}
		return -1
	}
	start, end := entries[0].key, append(slices.Clip(entries[len(entries)-1].key), 0)
	it := w.buf.Scan(ctx, start, end, false)
	seen, limit, tooMany := 0, maxExistingScanFactor*len(entries)+16, false
	for it.Next(ctx) {
		if exists, known := w.buf.buffered(string(it.Key())); known && !exists {
			continue // deleted earlier in this statement
		}
		if seen++; seen > limit {
			tooMany = true
			break
		}
		if j := find(it.Key()); j >= 0 {
			noteDup(entries[j].i)
		}
	}
	err := it.Err()
	it.Close()
	if err != nil {
		return err
	}
	if tooMany {
		for _, e := range entries {
			if _, found, err := w.buf.Get(ctx, e.key); err != nil {
				return err
			} else if found {
				noteDup(e.i)
			}
		}
	}
	if firstDup >= 0 {
		return copyLineError(w.t.Name, lineOf(lines, firstDup), errcode.New(errcode.UniqueViolation, "duplicate primary key in table %q", w.t.Name))
	}
	var value []byte // reused: the write buffer copies it
	for i, row := range rows {
		for x := range w.t.Indexes {
			if err := w.checkUnique(ctx, &w.t.Indexes[x], row); err != nil {
				return copyLineError(w.t.Name, lineOf(lines, i), err)
			}
		}
		pk := keys[i][len(prefix):]
		value = w.t.AppendRowValue(value[:0], row) // without delete-only columns
		if err := w.buf.Put(keys[i], value); err != nil {
			return err
		}
		for x := range w.t.Indexes {
			idx := &w.t.Indexes[x]
			if !writable(idx) {
				continue
			}
			k, v := w.t.IndexEntry(idx, row, pk)
			if err := w.buf.Put(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func lineOf(lines []int, i int) int {
	if lines == nil {
		return -1
	}
	return lines[i]
}
