package pgwire

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// The data formats of COPY (text, CSV, binary), as PostgreSQL reads and
// writes them. Decoders work on a buffer that grows as CopyData messages
// arrive: a record is returned only once it is complete.

// copyFormat is the format of one COPY.
type copyFormat struct {
	format               string // "text", "csv", "binary"
	delim, quote, escape byte
	null                 string
	header               bool

	// Scratch of csvRecord, reused from record to record: the fields it
	// returns are valid until its next call.
	fields []copyField
	field  []byte // the field being read
	rec    []byte // the record's field texts, end to end
	ends   []int  // where each field's text ends in rec
}

// copyField is one decoded field of a text or CSV record.
type copyField struct {
	text string
	null bool
}

// binaryCopySignature starts every binary COPY stream.
var binaryCopySignature = []byte("PGCOPY\n\xff\r\n\x00")

func badCopy(line int, format string, args ...any) error {
	e := errcode.New(errcode.BadCopyData, format, args...)
	e.Message = "line " + strconv.Itoa(line) + ": " + e.Message
	return e
}

// textRecord decodes one text-format line from buf. n is the bytes
// consumed (0: the line is not complete yet; at eof the rest is the last
// line); end is set for the end marker \. .
func (f *copyFormat) textRecord(buf []byte, eof bool, line int) (fields []copyField, n int, end bool, err error) {
	i := bytes.IndexByte(buf, '\n')
	raw := buf
	switch {
	case i >= 0:
		raw, n = buf[:i], i+1
	case eof && len(buf) > 0:
		n = len(buf)
	default:
		return nil, 0, false, nil
	}
	raw = bytes.TrimSuffix(raw, []byte{'\r'})
	if string(raw) == `\.` {
		return nil, n, true, nil
	}
	start := 0
	for j := 0; j <= len(raw); j++ {
		if j < len(raw) && raw[j] == '\\' {
			j++
			continue
		}
		if j < len(raw) && raw[j] != f.delim {
			continue
		}
		field := raw[start:min(j, len(raw))]
		start = j + 1
		if string(field) == f.null {
			fields = append(fields, copyField{null: true})
			continue
		}
		text, err := unescapeCopyText(field, line)
		if err != nil {
			return nil, 0, false, err
		}
		fields = append(fields, copyField{text: text})
	}
	return fields, n, false, nil
}

// unescapeCopyText reads the backslash escapes of the text format.
func unescapeCopyText(field []byte, line int) (string, error) {
	if bytes.IndexByte(field, '\\') < 0 {
		return string(field), nil
	}
	out := make([]byte, 0, len(field))
	for i := 0; i < len(field); i++ {
		c := field[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(field) {
			return "", badCopy(line, "end-of-copy marker corrupt (a lone backslash ends the line)")
		}
		switch c = field[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			v, k := 0, 0
			for k < 2 && i+1 < len(field) && isHexDigit(field[i+1]) {
				i++
				v = v*16 + hexValue(field[i])
				k++
			}
			if k == 0 {
				out = append(out, 'x')
			} else {
				out = append(out, byte(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 1; k < 3 && i+1 < len(field) && field[i+1] >= '0' && field[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(field[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, c)
		}
	}
	return string(out), nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexValue(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// csvRecord decodes one CSV record from buf (quoted fields may hold
// newlines); lines is the number of newlines it spans. fields are valid
// until the next call.
func (f *copyFormat) csvRecord(buf []byte, eof bool, line int) (fields []copyField, n, lines int, end bool, err error) {
	// The end marker is a line of its own.
	if bytes.HasPrefix(buf, []byte(`\.`)) {
		rest := buf[2:]
		switch {
		case len(rest) == 0 && eof:
			return nil, len(buf), 0, true, nil
		case bytes.HasPrefix(rest, []byte("\n")), bytes.HasPrefix(rest, []byte("\r\n")):
			return nil, bytes.IndexByte(buf, '\n') + 1, 1, true, nil
		}
	}
	field := f.field[:0]
	// quotedTail: the last byte read closed a quoted section, so a \r
	// before the newline is data only if it was inside the quotes.
	quoted, inQuotes, quotedTail := false, false, false
	// The texts go end to end into f.rec and become one string per record
	// (done): one allocation instead of one per field.
	fields, f.rec, f.ends = f.fields[:0], f.rec[:0], f.ends[:0]
	finish := func() {
		if !quoted && string(field) == f.null {
			fields = append(fields, copyField{null: true})
		} else {
			fields = append(fields, copyField{})
			f.rec = append(f.rec, field...)
		}
		f.ends = append(f.ends, len(f.rec))
		field, quoted = field[:0], false
	}
	done := func() []copyField {
		f.fields, f.field = fields, field
		text, start := string(f.rec), 0
		for i := range fields {
			if !fields[i].null {
				fields[i].text = text[start:f.ends[i]]
			}
			start = f.ends[i]
		}
		return fields
	}
	for i := 0; i < len(buf); i++ {
		c := buf[i]
		if inQuotes {
			switch {
			case c == f.escape && i+1 < len(buf) && (buf[i+1] == f.quote || buf[i+1] == f.escape && f.escape != f.quote):
				field = append(field, buf[i+1])
				i++
			case c == f.escape && f.escape == f.quote && i+1 >= len(buf) && !eof:
				return nil, 0, 0, false, nil // a doubled quote may follow
			case c == f.quote:
				inQuotes = false
				quotedTail = true
				continue
			default:
				if c == '\n' {
					lines++
				}
				field = append(field, c)
			}
			continue
		}
		switch c {
		case f.quote:
			// Quoting may start anywhere in a field, as in PostgreSQL
			// (a"b,c"d is the one field ab,cd).
			quoted, inQuotes = true, true
		case f.delim:
			finish()
		case '\n':
			if n := len(field); n > 0 && field[n-1] == '\r' && !quotedTail {
				field = field[:n-1]
			}
			finish()
			return done(), i + 1, lines + 1, false, nil
		default:
			field = append(field, c)
		}
		quotedTail = c == f.quote
	}
	if !eof {
		return nil, 0, 0, false, nil
	}
	if inQuotes {
		return nil, 0, 0, false, badCopy(line, "unterminated CSV quoted field")
	}
	if len(buf) == 0 {
		return nil, 0, 0, false, nil
	}
	finish()
	return done(), len(buf), lines, false, nil
}

// binaryHeader checks the header of a binary COPY stream; n is 0 until
// it is complete.
func binaryHeader(buf []byte) (n int, err error) {
	if len(buf) < len(binaryCopySignature)+8 {
		if !bytes.HasPrefix(binaryCopySignature, buf[:min(len(buf), len(binaryCopySignature))]) {
			return 0, badCopy(1, "COPY file signature not recognized")
		}
		return 0, nil
	}
	if !bytes.HasPrefix(buf, binaryCopySignature) {
		return 0, badCopy(1, "COPY file signature not recognized")
	}
	rest := buf[len(binaryCopySignature):]
	flags := binary.BigEndian.Uint32(rest)
	if flags&(1<<16) != 0 {
		return 0, badCopy(1, "binary COPY with OIDs is not supported")
	}
	ext := int(binary.BigEndian.Uint32(rest[4:]))
	if ext < 0 || ext > 1<<20 {
		return 0, badCopy(1, "invalid binary COPY header extension length")
	}
	total := len(binaryCopySignature) + 8 + ext
	if len(buf) < total {
		return 0, nil
	}
	return total, nil
}

// binaryTuple decodes one tuple of a binary COPY stream; fields are nil
// for NULL. end is set for the trailer (-1).
func binaryTuple(buf []byte, line int) (fields [][]byte, n int, end bool, err error) {
	if len(buf) < 2 {
		return nil, 0, false, nil
	}
	count := int(int16(binary.BigEndian.Uint16(buf)))
	if count == -1 {
		return nil, 2, true, nil
	}
	if count < 0 {
		return nil, 0, false, badCopy(line, "invalid field count %d", count)
	}
	pos := 2
	fields = make([][]byte, count)
	for i := range count {
		if len(buf) < pos+4 {
			return nil, 0, false, nil
		}
		size := int(int32(binary.BigEndian.Uint32(buf[pos:])))
		pos += 4
		if size == -1 {
			continue
		}
		if size < 0 || size > maxCopyFieldBytes {
			return nil, 0, false, badCopy(line, "invalid field size %d", size)
		}
		if len(buf) < pos+size {
			return nil, 0, false, nil
		}
		fields[i] = buf[pos : pos+size : pos+size]
		pos += size
	}
	return fields, pos, false, nil
}

// maxCopyFieldBytes bounds one field (and so what a record may buffer).
const maxCopyFieldBytes = 64 << 20

// appendCopyText appends v (non-NULL) in the text format: tabs, newlines,
// backslashes and the delimiter escaped.
func (f *copyFormat) appendCopyText(out []byte, v types.Value, floatDigits int) []byte {
	start := len(out)
	out = appendText(out, v, floatDigits)
	for i := start; i < len(out); i++ {
		var esc byte
		switch c := out[i]; {
		case c == '\\':
			esc = '\\'
		case c == '\n':
			esc = 'n'
		case c == '\r':
			esc = 'r'
		case c == '\t' && f.delim == '\t':
			esc = 't'
		case c == f.delim:
			esc = c
		default:
			continue
		}
		out = append(out, 0)
		copy(out[i+2:], out[i+1:])
		out[i], out[i+1] = '\\', esc
		i++
	}
	return out
}

// appendCopyCSV appends v (non-NULL) as a CSV field, quoted when it holds
// the delimiter, the quote, a newline, or could be read as NULL.
func (f *copyFormat) appendCopyCSV(out []byte, v types.Value, floatDigits int) []byte {
	text := appendText(nil, v, floatDigits)
	needs := len(text) == 0 || string(text) == f.null || bytes.IndexByte(text, f.delim) >= 0 ||
		bytes.IndexByte(text, f.quote) >= 0 || bytes.ContainsAny(text, "\r\n") || text[0] == '\\' && string(text) == `\.`
	if !needs {
		return append(out, text...)
	}
	out = append(out, f.quote)
	for _, c := range text {
		if c == f.quote || c == f.escape {
			out = append(out, f.escape)
		}
		out = append(out, c)
	}
	return append(out, f.quote)
}
