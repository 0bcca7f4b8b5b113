package pgwire

import (
	"encoding/binary"
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// copyBatchRows is how many rows COPY FROM hands the SQL layer at a time
// (each batch's keys are checked with one scan).
const copyBatchRows = 16384

// runCopy runs a COPY statement of a simple Query: TO STDOUT runs the
// query and sends its rows as CopyData; FROM STDIN runs the statement
// with the rows read from the client's CopyData messages.
func (c *conn) runCopy(sql string, st *session.CopyStatement) (outcome, error) {
	f := &copyFormat{format: st.Format, delim: st.Delimiter, quote: st.Quote, escape: st.Escape, null: st.Null, header: st.Header}
	if !st.From {
		return c.copyOut(st.Query, f)
	}
	src := &copyIn{c: c, f: f}
	res, err := c.executeWith(sql, nil, func(req *session.Request) { req.CopyIn = src })
	if err != nil {
		return outcome{}, err
	}
	return outcome{tag: "COPY " + strconv.FormatInt(res.RowsAffected, 10)}, nil
}

// copyOut sends the rows of query in the COPY format.
func (c *conn) copyOut(query string, f *copyFormat) (outcome, error) {
	res, err := c.executeWith(query, nil, func(req *session.Request) { req.StandardStrings = false })
	if err != nil {
		return outcome{}, err
	}
	overall, colFormat := byte(0), uint16(0)
	if f.format == "binary" {
		overall, colFormat = 1, 1
	}
	codes := make([]uint16, len(res.Columns))
	for i := range codes {
		codes[i] = colFormat
	}
	c.be.Send(&pgproto3.CopyOutResponse{OverallFormat: overall, ColumnFormatCodes: codes})
	digits := c.settings.ExtraFloatDigits()
	var buf []byte
	if f.format == "binary" {
		buf = append(append(buf, binaryCopySignature...), 0, 0, 0, 0, 0, 0, 0, 0)
	} else if f.header {
		for i, col := range res.Columns {
			if i > 0 {
				buf = append(buf, f.delim)
			}
			v := types.NewString(col.Name)
			if f.format == "csv" {
				buf = f.appendCopyCSV(buf, v, digits)
			} else {
				buf = f.appendCopyText(buf, v, digits)
			}
		}
		buf = append(buf, '\n')
	}
	for _, row := range res.Rows {
		if f.format == "binary" {
			buf = binary.BigEndian.AppendUint16(buf, uint16(len(row)))
			for i, v := range row {
				if v.IsNull() {
					buf = binary.BigEndian.AppendUint32(buf, 0xffffffff)
					continue
				}
				at := len(buf)
				buf = append(buf, 0, 0, 0, 0)
				if buf, err = appendValue(buf, res.Columns[i].Type, formatBinary, v, digits); err != nil {
					return outcome{}, err
				}
				binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
			}
		} else {
			for i, v := range row {
				if i > 0 {
					buf = append(buf, f.delim)
				}
				switch {
				case v.IsNull() && f.format == "csv":
					buf = append(buf, f.null...)
				case v.IsNull():
					buf = append(buf, f.null...)
				case f.format == "csv":
					buf = f.appendCopyCSV(buf, v, digits)
				default:
					buf = f.appendCopyText(buf, v, digits)
				}
			}
			buf = append(buf, '\n')
		}
		if len(buf) >= 64<<10 {
			c.be.Send(&pgproto3.CopyData{Data: buf})
			if err := c.be.Flush(); err != nil {
				return outcome{}, err
			}
			buf = buf[:0]
		}
	}
	if f.format == "binary" {
		buf = binary.BigEndian.AppendUint16(buf, 0xffff)
	}
	if len(buf) > 0 {
		c.be.Send(&pgproto3.CopyData{Data: buf})
	}
	c.be.Send(&pgproto3.CopyDone{})
	return outcome{tag: "COPY " + strconv.Itoa(len(res.Rows))}, nil
}

// copyIn reads the rows of COPY ... FROM STDIN from the client's CopyData
// messages (session.CopySource). It runs on the connection's goroutine,
// inside the statement.
type copyIn struct {
	c      *conn
	f      *copyFormat
	table  string
	names  []string
	oids   []uint32
	buf    []byte // received, not yet decoded
	eof    bool   // CopyDone received
	ended  bool   // end marker or binary trailer seen
	line   int    // input line (text, CSV) or tuple (binary) of the next record
	header bool   // the header (line or binary header) is still to be read
}

// Start implements session.CopySource: it answers CopyInResponse.
func (ci *copyIn) Start(table string, names []string, kinds []types.Kind) error {
	ci.table, ci.names, ci.line, ci.header = table, names, 1, ci.f.header || ci.f.format == "binary"
	ci.oids = make([]uint32, len(kinds))
	for i, k := range kinds {
		ci.oids[i], _ = typeOID(k)
	}
	overall, colFormat := byte(0), uint16(0)
	if ci.f.format == "binary" {
		overall, colFormat = 1, 1
	}
	codes := make([]uint16, len(kinds))
	for i := range codes {
		codes[i] = colFormat
	}
	ci.c.be.Send(&pgproto3.CopyInResponse{OverallFormat: overall, ColumnFormatCodes: codes})
	return ci.c.be.Flush()
}

// receive reads the next message of the copy-in exchange.
func (ci *copyIn) receive() error {
	for {
		msg, err := ci.c.be.Receive()
		if err != nil {
			return &wireError{state: "08P01", err: errcode.New(errcode.InvalidInput, "connection lost during COPY: %v", err)}
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(ci.buf)+len(m.Data) > maxCopyFieldBytes+(1<<20) {
				return badCopy(ci.line, "a record is longer than %d bytes", maxCopyFieldBytes)
			}
			ci.buf = append(ci.buf, m.Data...)
			return nil
		case *pgproto3.CopyDone:
			ci.eof = true
			return nil
		case *pgproto3.CopyFail:
			return &wireError{state: "57014", err: errcode.New(errcode.QueryCancelled, "COPY from stdin failed: %s", m.Message)}
		case *pgproto3.Flush, *pgproto3.Sync:
			// PostgreSQL ignores them during COPY.
		default:
			return &wireError{state: "08P01", err: errcode.New(errcode.InvalidInput, "unexpected message %T during COPY from stdin", msg)}
		}
	}
}

// Next implements session.CopySource.
func (ci *copyIn) Next() ([][]types.Value, []int, error) {
	var rows [][]types.Value
	var lines []int
	for len(rows) < copyBatchRows {
		row, n, ok, err := ci.record()
		if err != nil {
			return nil, nil, err
		}
		if ok {
			if row != nil {
				rows = append(rows, row)
				lines = append(lines, n)
			}
			continue
		}
		if ci.eof {
			if ci.ended || len(ci.buf) == 0 {
				break
			}
			return nil, nil, badCopy(ci.line, "incomplete record at the end of the data")
		}
		// Keep what is undecoded at the front and read more.
		if err := ci.receive(); err != nil {
			return nil, nil, err
		}
	}
	return rows, lines, nil
}

// record decodes one record from the buffer: ok=false when more input is
// needed; row is nil for a header or the end of the data. line is the
// record's first line.
func (ci *copyIn) record() (row []types.Value, line int, ok bool, err error) {
	if ci.ended {
		if ci.eof {
			ci.buf = ci.buf[:0]
			return nil, 0, false, nil
		}
		ci.buf = ci.buf[:0] // data after the end marker is ignored
		return nil, 0, false, nil
	}
	line = ci.line
	switch ci.f.format {
	case "binary":
		if ci.header {
			n, err := binaryHeader(ci.buf)
			if err != nil || n == 0 {
				return nil, 0, false, err
			}
			ci.consume(n)
			ci.header = false
			return nil, line, true, nil
		}
		fields, n, end, err := binaryTuple(ci.buf, line)
		if err != nil || (n == 0 && !end) {
			return nil, 0, false, err
		}
		ci.consume(n)
		if end {
			ci.ended = true
			return nil, line, true, nil
		}
		ci.line++
		row, err = ci.binaryRow(fields, line)
		return row, line, err == nil, err
	case "csv":
		fields, n, lines, end, err := ci.f.csvRecord(ci.buf, ci.eof, line)
		if err != nil || n == 0 {
			return nil, 0, false, err
		}
		ci.consume(n)
		ci.line += lines
		if end {
			ci.ended = true
			return nil, line, true, nil
		}
		if ci.header {
			ci.header = false
			return nil, line, true, nil
		}
		row, err = ci.textRow(fields, line)
		return row, line, err == nil, err
	}
	fields, n, end, err := ci.f.textRecord(ci.buf, ci.eof, line)
	if err != nil || n == 0 {
		return nil, 0, false, err
	}
	ci.consume(n)
	ci.line++
	if end {
		ci.ended = true
		return nil, line, true, nil
	}
	if ci.header {
		ci.header = false
		return nil, line, true, nil
	}
	row, err = ci.textRow(fields, line)
	return row, line, err == nil, err
}

// consume drops n decoded bytes, moving the rest to the front when the
// buffer has grown.
func (ci *copyIn) consume(n int) {
	ci.buf = ci.buf[n:]
	if cap(ci.buf) > 0 && len(ci.buf) == 0 {
		ci.buf = ci.buf[:0:0]
	}
}

func (ci *copyIn) columnCount(got, line int) error {
	if got < len(ci.oids) {
		return badCopy(line, "COPY %s: missing data for column %q", ci.table, ci.names[got])
	}
	if got > len(ci.oids) {
		return badCopy(line, "COPY %s: extra data after last expected column", ci.table)
	}
	return nil
}

func (ci *copyIn) textRow(fields []copyField, line int) ([]types.Value, error) {
	if err := ci.columnCount(len(fields), line); err != nil {
		return nil, err
	}
	row := make([]types.Value, len(fields))
	for i, fl := range fields {
		if fl.null {
			continue
		}
		v, err := decodeText(ci.oids[i], fl.text)
		if err != nil {
			return nil, badCopy(line, "COPY %s, column %s: %v", ci.table, ci.names[i], errMessage(err))
		}
		row[i] = v
	}
	return row, nil
}

func (ci *copyIn) binaryRow(fields [][]byte, line int) ([]types.Value, error) {
	if err := ci.columnCount(len(fields), line); err != nil {
		return nil, err
	}
	row := make([]types.Value, len(fields))
	for i, b := range fields {
		if b == nil {
			continue
		}
		v, err := decodeBinary(ci.oids[i], b)
		if err != nil {
			return nil, badCopy(line, "COPY %s, column %s: %v", ci.table, ci.names[i], errMessage(err))
		}
		row[i] = v
	}
	return row, nil
}

// errMessage is an error's message without its CADB code.
func errMessage(err error) string {
	if e, ok := err.(*errcode.Error); ok {
		return e.Message
	}
	return err.Error()
}
