package storage

import (
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Pre-written WAL files.
//
// An fdatasync of a file that grew since the last sync also commits the
// file's new size and block map to the filesystem journal; an fdatasync of
// a write over blocks that are already written does not. On this project's
// reference VM the first costs ~210 µs and the second ~135 µs, and a
// standalone write waits for one such sync. Pebble knows this and reuses
// ("recycles") old WAL files, but only once a memtable flush retired one:
// a new node, and every node after a restart, writes its first WALs by
// appending (fallocate does not help: it leaves unwritten extents whose
// conversion is journaled as well). PostgreSQL zero-fills WAL segments
// before use for the same reason.
//
// spareFS keeps one zero-filled file ready in the data directory (written
// and synced by a background goroutine) and hands it to Pebble when Pebble
// creates a WAL that it cannot recycle: the spare is renamed to the WAL's
// name and opened for writing without truncation, exactly as Pebble opens a
// recycled WAL. Pebble's WAL reader treats a zeroed tail like the tail of a
// recycled file: the log ends at the last valid record.
//
// The spare never holds data, so a crash at any point loses nothing: a
// leftover spare is deleted and written again at the next open.

// walSpareName is the spare's file name; Pebble ignores names it does not
// recognise.
const walSpareName = "CAMUS-WAL-SPARE"

// walSpareSize is how much of a WAL a spare covers: memtables are at most
// memTableSize, and Pebble switches WALs with memtables. A WAL that grows
// past the spare simply appends.
const walSpareSize = memTableSize + memTableSize/8

type spareFS struct {
	vfs.FS
	dir  string
	size int64

	mu        sync.Mutex
	ready     bool // the spare is complete and synced
	preparing bool // a goroutine is writing it
	closed    bool
	done      sync.WaitGroup
	// prepared counts spares written and used counts spares handed to
	// Pebble (tests).
	prepared, used int
}

func newSpareFS(fs vfs.FS, dir string, size int64) *spareFS {
	s := &spareFS{FS: fs, dir: dir, size: size}
	// A spare left by an earlier process may be incomplete if it crashed
	// mid-write; start again.
	_ = fs.Remove(s.path())
	_ = fs.Remove(s.path() + ".tmp")
	return s
}

func (s *spareFS) path() string { return s.FS.PathJoin(s.dir, walSpareName) }

// Create hands Pebble the spare when it creates a WAL and one is ready;
// everything else goes to the wrapped filesystem.
func (s *spareFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if !strings.HasSuffix(name, ".log") || s.FS.PathDir(name) != s.dir {
		return s.FS.Create(name, category)
	}
	s.mu.Lock()
	ready := s.ready
	s.ready = false
	s.mu.Unlock()
	defer s.prepare()
	if ready {
		f, err := s.FS.ReuseForWrite(s.path(), name, category)
		if err == nil {
			s.mu.Lock()
			s.used++
			s.mu.Unlock()
			return f, nil
		}
	}
	return s.FS.Create(name, category)
}

// prepare starts writing the next spare unless one is ready or being
// written.
func (s *spareFS) prepare() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready || s.preparing || s.closed {
		return
	}
	s.preparing = true
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		err := s.writeSpare()
		s.mu.Lock()
		s.preparing = false
		if err == nil && !s.closed {
			s.ready = true
			s.prepared++
		}
		s.mu.Unlock()
	}()
}

func (s *spareFS) writeSpare() error {
	tmp := s.path() + ".tmp"
	f, err := s.FS.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	if err := writeZeros(f, s.size); err != nil {
		_ = f.Close()
		_ = s.FS.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return s.FS.Rename(tmp, s.path())
}

// writeZeros fills f with size zero bytes and syncs it.
func writeZeros(f vfs.File, size int64) error {
	buf := make([]byte, 256<<10)
	for off := int64(0); off < size; off += int64(len(buf)) {
		n := min(int64(len(buf)), size-off)
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
	}
	return f.SyncData()
}

// close waits for a spare being written and removes the spare.
func (s *spareFS) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.done.Wait()
	_ = s.FS.Remove(s.path())
}
