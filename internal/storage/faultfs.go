package storage

import (
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// FaultFS wraps a file system to inject disk faults in tests: while
// stalled, every write and sync blocks (as on a hung disk) until Resume;
// with a failure set, they return it (as on a failing disk). Reads are
// untouched. The product never uses it.
type FaultFS struct {
	vfs.FS
	mu      sync.Mutex
	cond    *sync.Cond
	stalled bool
	failure error
}

// NewFaultFS wraps inner.
func NewFaultFS(inner vfs.FS) *FaultFS {
	f := &FaultFS{FS: inner}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// Stall makes writes and syncs block until Resume.
func (f *FaultFS) Stall() {
	f.mu.Lock()
	f.stalled = true
	f.mu.Unlock()
}

// Resume lets blocked and later writes and syncs proceed.
func (f *FaultFS) Resume() {
	f.mu.Lock()
	f.stalled = false
	f.mu.Unlock()
	f.cond.Broadcast()
}

// Fail makes writes and syncs return err (nil: succeed again).
func (f *FaultFS) Fail(err error) {
	f.mu.Lock()
	f.failure = err
	f.mu.Unlock()
	f.cond.Broadcast()
}

func (f *FaultFS) gate() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.stalled && f.failure == nil {
		f.cond.Wait()
	}
	return f.failure
}

func (f *FaultFS) wrap(file vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

// Create implements vfs.FS.
func (f *FaultFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if err := f.gate(); err != nil {
		return nil, err
	}
	return f.wrap(f.FS.Create(name, category))
}

// OpenReadWrite implements vfs.FS.
func (f *FaultFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return f.wrap(f.FS.OpenReadWrite(name, category, opts...))
}

// ReuseForWrite implements vfs.FS.
func (f *FaultFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if err := f.gate(); err != nil {
		return nil, err
	}
	return f.wrap(f.FS.ReuseForWrite(oldname, newname, category))
}

type faultFile struct {
	vfs.File
	fs *FaultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.gate(); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.gate(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) Sync() error {
	if err := f.fs.gate(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) SyncData() error {
	if err := f.fs.gate(); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *faultFile) SyncTo(length int64) (bool, error) {
	if err := f.fs.gate(); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}
