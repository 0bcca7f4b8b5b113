package spill

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// maxRecord bounds one record (a row far larger than any the engine
// stores); a larger length in a file is corruption.
const maxRecord = 1 << 30

// ResetDir empties dir, the node's temp directory, creating it if needed:
// the spill files of statements that ran before a crash are removed when
// the node starts.
func ResetDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("spill: clearing %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("spill: creating %s: %w", dir, err)
	}
	return nil
}

// Store holds the run files of one statement in a directory of its own
// under a parent (the node's temp directory). The directory is created
// with the first file; Close removes it.
type Store struct {
	parent string
	dir    string
	runs   []*Run
	// Written is the bytes written to run files so far.
	Written int64
}

// NewStore returns a Store under parent; nothing is created yet.
func NewStore(parent string) *Store { return &Store{parent: parent} }

// Create starts a new run file written through a buffer of bufSize bytes
// (what the writer costs in memory).
func (s *Store) Create(bufSize int) (*Writer, error) {
	if s.dir == "" {
		if err := os.MkdirAll(s.parent, 0o750); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		dir, err := os.MkdirTemp(s.parent, "query-")
		if err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		s.dir = dir
	}
	f, err := os.CreateTemp(s.dir, "run-")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &Writer{store: s, f: f, w: bufio.NewWriterSize(f, bufSize)}, nil
}

// Close closes and removes every run file and the statement's directory.
func (s *Store) Close() error {
	for _, r := range s.runs {
		r.f.Close()
	}
	s.runs = nil
	if s.dir == "" {
		return nil
	}
	err := os.RemoveAll(s.dir)
	s.dir = ""
	return err
}

// Writer appends rows to a run file.
type Writer struct {
	store *Store
	f     *os.File
	w     *bufio.Writer
	buf   []byte
	size  int64
	rows  int64
}

// Write appends one row.
func (w *Writer) Write(row []types.Value) error {
	w.buf = AppendRow(w.buf[:0], row)
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(w.buf)))
	if _, err := w.w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	w.size += int64(n + len(w.buf))
	w.rows++
	return nil
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Finish flushes the file and returns it as a Run to read.
func (w *Writer) Finish() (*Run, error) {
	if err := w.w.Flush(); err != nil {
		w.f.Close()
		return nil, fmt.Errorf("spill: %w", err)
	}
	r := &Run{f: w.f, size: w.size, rows: w.rows}
	w.store.runs = append(w.store.runs, r)
	w.store.Written += w.size
	return r, nil
}

// Run is a finished run file.
type Run struct {
	f    *os.File
	size int64
	rows int64
}

// Rows is the number of rows in the run.
func (r *Run) Rows() int64 { return r.rows }

// Open returns a Reader from the start of the run that reads through a
// buffer of bufSize bytes (what the reader costs in memory).
func (r *Run) Open(bufSize int) *Reader {
	return &Reader{r: bufio.NewReaderSize(io.NewSectionReader(r.f, 0, r.size), bufSize)}
}

// Remove deletes the run's file early (Store.Close removes it otherwise).
func (r *Run) Remove() {
	if r.f != nil {
		r.f.Close()
		os.Remove(r.f.Name())
	}
}

// Reader reads the rows of a run in order.
type Reader struct {
	r   *bufio.Reader
	buf []byte
}

// NewReader reads run-file records from any stream (tests, fuzzing).
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReader(r)} }

// Next returns the next row, or nil at the end of the run.
func (r *Reader) Next() ([]types.Value, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: record length: %v", ErrCorrupt, err)
	}
	if n == 0 || n > maxRecord {
		return nil, fmt.Errorf("%w: record length %d", ErrCorrupt, n)
	}
	if n <= 64<<10 {
		if uint64(cap(r.buf)) < n {
			r.buf = make([]byte, n)
		}
		r.buf = r.buf[:n]
		if _, err := io.ReadFull(r.r, r.buf); err != nil {
			return nil, fmt.Errorf("%w: truncated record: %v", ErrCorrupt, err)
		}
		return DecodeRow(r.buf)
	}
	// A large length is read as the bytes arrive, so a damaged length
	// cannot make the reader allocate a gigabyte up front.
	big, err := io.ReadAll(io.LimitReader(r.r, int64(n)))
	if err != nil || uint64(len(big)) != n {
		return nil, fmt.Errorf("%w: truncated record of %d bytes (%v)", ErrCorrupt, n, err)
	}
	return DecodeRow(big)
}
