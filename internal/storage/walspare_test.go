package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestWALSpareReplay: a WAL Pebble creates after the first one starts as
// the zero-filled spare, and a copy of the directory taken while the engine
// runs (what a crash leaves: synced records, then zeros) reopens with every
// synced write and nothing else.
func TestWALSpareReplay(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.spare.done.Wait()
	if !e.spare.ready {
		t.Fatal("no spare was prepared after open")
	}
	put := func(from, to int) {
		for i := from; i < to; i++ {
			b := e.NewBatch()
			_ = b.Set(fmt.Appendf(nil, "k%05d", i), fmt.Appendf(nil, "v%d", i))
			if err := b.Commit(true); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(0, 10)
	// A flush switches memtables and with them the WAL.
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	e.spare.done.Wait() // the next spare, written after the first was used
	if e.spare.used != 1 || e.spare.prepared != 2 {
		t.Fatalf("spares used %d, prepared %d; want 1 and 2", e.spare.used, e.spare.prepared)
	}
	put(10, 500)

	// The live WAL is the spare: longer than what was written to it.
	var wal string
	var walSize int64
	entries, _ := os.ReadDir(dir)
	for _, de := range entries {
		if strings.HasSuffix(de.Name(), ".log") {
			info, _ := de.Info()
			if de.Name() > wal {
				wal, walSize = de.Name(), info.Size()
			}
		}
	}
	if walSize != walSpareSize {
		t.Fatalf("live WAL %s is %d bytes, want the spare's %d", wal, walSize, walSpareSize)
	}

	crashed := t.TempDir()
	for _, de := range entries {
		if de.Name() == "LOCK" || strings.HasPrefix(de.Name(), walSpareName) {
			continue
		}
		copyFile(t, filepath.Join(dir, de.Name()), filepath.Join(crashed, de.Name()))
	}
	e2, err := Open(Options{Dir: crashed})
	if err != nil {
		t.Fatalf("reopen after the crash copy: %v", err)
	}
	defer e2.Close()
	for i := 0; i < 500; i++ {
		v, ok, err := e2.Get(fmt.Appendf(nil, "k%05d", i))
		if err != nil || !ok || string(v) != fmt.Sprintf("v%d", i) {
			t.Fatalf("k%05d after the crash copy = %q %v %v", i, v, ok, err)
		}
	}
	it, _ := e2.NewIter(nil, nil)
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	_ = it.Close()
	if n != 500 {
		t.Fatalf("%d keys after the crash copy, want 500", n)
	}
}

// TestWALSpareOnlyForWALs: other files Pebble creates are created as usual,
// and a WAL created while no spare is ready is too.
func TestWALSpareOnlyForWALs(t *testing.T) {
	dir := t.TempDir()
	s := newSpareFS(vfs.Default, dir, 4096)
	// create creates name, waits for any spare being written, and checks
	// the counters and the new file's size.
	create := func(name string, used, prepared int, size int64) {
		t.Helper()
		f, err := s.Create(filepath.Join(dir, name), "test")
		if err != nil {
			t.Fatal(err)
		}
		info, err := f.Stat()
		_ = f.Close()
		s.done.Wait()
		if err != nil || s.used != used || s.prepared != prepared || info.Size() != size {
			t.Fatalf("%s: used %d prepared %d size %d (%v), want %d, %d, %d", name, s.used, s.prepared, info.Size(), err, used, prepared, size)
		}
	}
	create("000001.sst", 0, 0, 0) // not a WAL: the spare is not touched
	create("000002.log", 0, 1, 0) // no spare yet: a plain file, and one is written
	create("000003.log", 1, 2, 4096)
	s.close()
	if _, err := os.Stat(filepath.Join(dir, walSpareName)); !os.IsNotExist(err) {
		t.Fatalf("spare left after close: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// failingSpareFS fails every write to a spare being prepared (a full or
// failing disk).
type failingSpareFS struct{ vfs.FS }

func (f failingSpareFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	file, err := f.FS.Create(name, category)
	if err != nil || !strings.Contains(name, walSpareName) {
		return file, err
	}
	return failingWrites{file}, nil
}

type failingWrites struct{ vfs.File }

func (failingWrites) Write([]byte) (int, error) {
	return 0, errors.New("injected: no space left on device")
}

// TestWALSpareWriteFails: when the spare cannot be written, WALs are
// created as plain files and no partial spare is left behind.
func TestWALSpareWriteFails(t *testing.T) {
	dir := t.TempDir()
	s := newSpareFS(failingSpareFS{vfs.Default}, dir, 4096)
	for _, name := range []string{"000002.log", "000003.log"} {
		f, err := s.Create(filepath.Join(dir, name), "test")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := f.Write([]byte("record")); err != nil {
			t.Fatal(err)
		}
		info, _ := f.Stat()
		_ = f.Close()
		s.done.Wait()
		if s.used != 0 || s.prepared != 0 || info.Size() != 6 {
			t.Fatalf("%s: used %d prepared %d size %d, want a plain file and no spare", name, s.used, s.prepared, info.Size())
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, de := range entries {
		if strings.HasPrefix(de.Name(), walSpareName) {
			t.Fatalf("partial spare %s left behind", de.Name())
		}
	}
	s.close()
}
