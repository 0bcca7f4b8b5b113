package pgwire

import (
	"testing"
)

func FuzzCopyText(f *testing.F) {
	for _, s := range []string{"1\ta\n", "\\N\t\\t\\x41\\101\n", "\\.\n", "a\\", "x\ty\r\n"} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, eof bool) {
		cf := &copyFormat{format: "text", delim: '\t', null: `\N`}
		for len(data) > 0 {
			_, n, _, err := cf.textRecord(data, eof, 1)
			if err != nil || n == 0 {
				return
			}
			if n > len(data) {
				t.Fatalf("consumed %d of %d", n, len(data))
			}
			data = data[n:]
		}
	})
}

func FuzzCopyCSV(f *testing.F) {
	for _, s := range []string{"1,a\n", "\"a\"\"b\",\n", "\"x\ny\",z\r\n", "\\.\n", "\"open", "a\"b,c\"d\n"} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, eof bool) {
		cf := &copyFormat{format: "csv", delim: ',', quote: '"', escape: '"'}
		for len(data) > 0 {
			_, n, _, _, err := cf.csvRecord(data, eof, 1)
			if err != nil || n == 0 {
				return
			}
			if n > len(data) {
				t.Fatalf("consumed %d of %d", n, len(data))
			}
			data = data[n:]
		}
	})
}

func FuzzCopyBinary(f *testing.F) {
	f.Add(append(append([]byte{}, binaryCopySignature...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'x', 0xff, 0xff))
	f.Add([]byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := binaryHeader(data)
		if err != nil || n == 0 {
			return
		}
		data = data[n:]
		for len(data) > 0 {
			_, n, end, err := binaryTuple(data, 1)
			if err != nil || end || n == 0 {
				return
			}
			data = data[n:]
		}
	})
}

func TestCopyCSVRecords(t *testing.T) {
	cf := &copyFormat{format: "csv", delim: ',', quote: '"', escape: '"'}
	for _, tc := range []struct {
		in   string
		want []string // "<NULL>" for NULL
	}{
		{"a,b\n", []string{"a", "b"}},
		{",\"\"\n", []string{"<NULL>", ""}},
		{"\"x,y\",\"q\"\"q\"\n", []string{"x,y", `q"q`}},
		{"a\"b,c\"d\n", []string{"ab,cd"}},
		{"\"multi\nline\",2\r\n", []string{"multi\nline", "2"}},
		{"last", []string{"last"}},
	} {
		fields, n, _, _, err := cf.csvRecord([]byte(tc.in), true, 1)
		if err != nil || n != len(tc.in) || len(fields) != len(tc.want) {
			t.Fatalf("%q: %v n=%d fields=%v", tc.in, err, n, fields)
		}
		for i, f := range fields {
			got := f.text
			if f.null {
				got = "<NULL>"
			}
			if got != tc.want[i] {
				t.Errorf("%q field %d: %q, want %q", tc.in, i, got, tc.want[i])
			}
		}
	}
	// An incomplete record waits for more input.
	if _, n, _, _, err := cf.csvRecord([]byte("\"open,"), false, 1); n != 0 || err != nil {
		t.Fatalf("incomplete: n=%d err=%v", n, err)
	}
	if _, _, _, _, err := cf.csvRecord([]byte("\"open,"), true, 7); err == nil {
		t.Fatal("unterminated quote at the end: no error")
	}
}
