package kv_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// ddBaseWall is the manual wall clock's start; timestamps print as
// seconds.logical relative to it.
const ddBaseWall = int64(1_700_000_000) * int64(time.Second)

// TestDataDriven runs the transaction scripts of testdata/txn on a 4-partition
// node with a manual clock. Keys are written TABLE/ROW (table 2 lives in
// partition 1, 3 in 2, 4 in 3, 1 and 5 in 4). Commands:
//
//	begin T                    start transaction T
//	get T KEY                  read KEY in T
//	put T KEY VALUE            buffer a write
//	del T KEY                  buffer a deletion
//	scan T FROM TO [reverse]   scan [FROM, TO) (one table)
//	commit T                   commit T and wait until its intents are resolved
//	prepare-only T             commit T but abandon it between prepare and the
//	                           commit record (kv.TestingKnobs.BeforeCommitRecord)
//	restart                    crash the node; the next incarnation has a new epoch
//	fault METHOD | fault off   make every request of that kv.Sender method fail
//	                           (e.g. ResolveIntents), or stop failing; while a
//	                           fault is on, commit does not wait for resolution
//	dump                       every partition's versions, intents and records
//
// After each step the output shows the step's result and then the dump of
// every partition the step changed (versions newest first, intents with
// their transaction, home partition and coordinator epoch, transaction
// records). Run with -rewrite to regenerate the expected output.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/txn", func(t *testing.T, path string) {
		leakCheck(t)
		s := newDDScript(t)
		datadriven.RunTest(t, path, s.run)
	})
}

type ddScript struct {
	t      *testing.T
	n      *kvtest.Node
	manual *hlc.ManualClock
	txns   map[string]*kv.Txn
	names  map[mvcc.TxnID]string
	last   map[uint64]string // the previous dump of each partition
	fault  string            // the failing method, "" for none
}

func newDDScript(t *testing.T) *ddScript {
	manual := hlc.NewManualClock(ddBaseWall)
	s := &ddScript{
		t:      t,
		manual: manual,
		n:      kvtest.Start(t, kvtest.Options{Partitions: 4, Wall: manual.UnixNano}),
		txns:   map[string]*kv.Txn{},
		names:  map[mvcc.TxnID]string{},
		last:   map[uint64]string{},
	}
	for _, p := range s.n.PartitionIDs() {
		s.last[p] = s.dumpPartition(p)
	}
	return s
}

func ddKey(t *testing.T, d *datadriven.TestData, s string) []byte {
	tbl, row, ok := strings.Cut(s, "/")
	id, err := strconv.ParseUint(tbl, 10, 32)
	if !ok || err != nil {
		d.Fatalf(t, "key %q is not TABLE/ROW", s)
	}
	return kvtest.Key(uint32(id), row)
}

func ddKeyString(key []byte) string {
	tbl, row, err := kvtest.Table(key)
	if err != nil {
		return fmt.Sprintf("%q", key)
	}
	return fmt.Sprintf("%d/%s", tbl, row)
}

func ddTS(ts hlc.Timestamp) string {
	return fmt.Sprintf("%d.%d", (ts.WallTime-ddBaseWall)/int64(time.Second), ts.Logical)
}

func ddErr(err error) string {
	var ce *kvpb.ConflictError
	var re *kvpb.RetryError
	var ae *kvpb.AmbiguousError
	switch {
	case errors.As(err, &ce):
		return "error: conflict"
	case errors.As(err, &re):
		return "error: retry"
	case errors.As(err, &ae):
		return "error: ambiguous"
	}
	return "error: " + err.Error()
}

func (s *ddScript) name(id mvcc.TxnID) string {
	if n, ok := s.names[id]; ok {
		return n
	}
	return "?" + id.String()[:8]
}

func (s *ddScript) txn(d *datadriven.TestData, i int) (string, *kv.Txn) {
	if len(d.CmdArgs) <= i {
		d.Fatalf(s.t, "%s: missing argument %d", d.Cmd, i+1)
	}
	name := d.CmdArgs[i].Key
	txn, ok := s.txns[name]
	if !ok && d.Cmd != "begin" {
		d.Fatalf(s.t, "unknown transaction %s", name)
	}
	return name, txn
}

func (s *ddScript) arg(d *datadriven.TestData, i int) string {
	if len(d.CmdArgs) <= i {
		d.Fatalf(s.t, "%s: missing argument %d", d.Cmd, i+1)
	}
	return d.CmdArgs[i].Key
}

func (s *ddScript) run(t *testing.T, d *datadriven.TestData) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out strings.Builder
	switch d.Cmd {
	case "begin":
		name, _ := s.txn(d, 0)
		txn, err := s.n.DB.Begin(ctx)
		if err != nil {
			d.Fatalf(t, "begin: %v", err)
		}
		s.txns[name] = txn
		s.names[txn.ID()] = name
		fmt.Fprintf(&out, "%s reads at %s\n", name, ddTS(txn.ReadTimestamp()))
	case "get":
		_, txn := s.txn(d, 0)
		v, ok, err := txn.Get(ctx, ddKey(t, d, s.arg(d, 1)))
		switch {
		case err != nil:
			out.WriteString(ddErr(err) + "\n")
		case !ok:
			out.WriteString("<none>\n")
		default:
			fmt.Fprintf(&out, "%s\n", v)
		}
	case "put", "del":
		_, txn := s.txn(d, 0)
		var err error
		if d.Cmd == "put" {
			err = txn.Put(ddKey(t, d, s.arg(d, 1)), []byte(s.arg(d, 2)))
		} else {
			err = txn.Delete(ddKey(t, d, s.arg(d, 1)))
		}
		if err != nil {
			out.WriteString(ddErr(err) + "\n")
		} else {
			out.WriteString("ok\n")
		}
	case "scan":
		_, txn := s.txn(d, 0)
		it := txn.Scan(ctx, ddKey(t, d, s.arg(d, 1)), ddKey(t, d, s.arg(d, 2)), d.HasArg("reverse"))
		rows := 0
		for it.Next(ctx) {
			fmt.Fprintf(&out, "%s = %s\n", ddKeyString(it.Key()), it.Value())
			rows++
		}
		if err := it.Err(); err != nil {
			out.WriteString(ddErr(err) + "\n")
		} else if rows == 0 {
			out.WriteString("<empty>\n")
		}
	case "commit", "prepare-only":
		name, txn := s.txn(d, 0)
		var abandoned bool
		if d.Cmd == "prepare-only" {
			s.n.SetBeforeCommitRecord(func(id mvcc.TxnID) error {
				if id == txn.ID() {
					abandoned = true
					return errors.New("abandoned before the commit record")
				}
				return nil
			})
			defer s.n.SetBeforeCommitRecord(nil)
		}
		err := txn.Commit(ctx)
		switch {
		case abandoned:
			fmt.Fprintf(&out, "%s prepared and abandoned\n", name)
		case err != nil:
			out.WriteString(ddErr(err) + "\n")
		default:
			out.WriteString("ok\n")
		}
		if !abandoned && s.fault == "" {
			s.settle(txn.ID())
		}
	case "fault":
		s.fault = s.arg(d, 0)
		if s.fault == "off" {
			s.fault = ""
			s.n.SetFault(nil)
			out.WriteString("no fault\n")
			break
		}
		method := s.fault
		s.n.SetFault(func(m string, _ uint64) error {
			if m == method {
				return &kvpb.RetryError{Reason: "injected fault"}
			}
			return nil
		})
		fmt.Fprintf(&out, "%s fails\n", method)
	case "restart":
		// restart: crash after an fsync (what the next durable commit would
		// do); restart unsynced: crash with only what was fsynced by itself.
		if len(d.CmdArgs) == 0 || d.CmdArgs[0].Key != "unsynced" {
			s.n.SyncWAL()
		}
		s.manual.Increment(time.Second) // the next incarnation's clock is later
		s.n.Crash()
		fmt.Fprintf(&out, "epoch %d\n", s.n.Epoch)
	case "dump":
		for _, p := range s.n.PartitionIDs() {
			if dump := s.dumpPartition(p); dump != "" {
				fmt.Fprintf(&out, "p%d:\n%s", p, dump)
			}
		}
		return out.String()
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	for _, p := range s.n.PartitionIDs() {
		dump := s.dumpPartition(p)
		if dump != s.last[p] {
			fmt.Fprintf(&out, "p%d:\n%s", p, dump)
			if dump == "" {
				out.WriteString("  <empty>\n")
			}
			s.last[p] = dump
		}
	}
	return out.String()
}

// settle waits until the background resolution of id's intents (and the
// removal of its COMMITTED record) is done, so that dumps are deterministic.
func (s *ddScript) settle(id mvcc.TxnID) {
	kvtest.WaitFor(s.t, 10*time.Second, func() error {
		for _, p := range s.n.PartitionIDs() {
			for _, e := range s.n.Dump(p) {
				if e.Kind == mvcc.EntryIntent && e.Intent.TxnID == id {
					return fmt.Errorf("intent of %s left on p%d", s.name(id), p)
				}
				if e.Kind == mvcc.EntryTxnRecord && e.TxnID == id && e.Record.Status == mvcc.TxnCommitted {
					return fmt.Errorf("COMMITTED record of %s still on p%d", s.name(id), p)
				}
			}
		}
		return nil
	})
}

// dumpPartition renders a partition's data span. Intents omit their
// provisional timestamp: the prepares of one commit run in parallel, so
// which participant drew which clock tick is not deterministic (the commit
// timestamp, their maximum, is).
func (s *ddScript) dumpPartition(p uint64) string {
	var b strings.Builder
	for _, e := range s.n.Dump(p) {
		switch e.Kind {
		case mvcc.EntryVersion:
			v := string(e.Value)
			if e.Deleted {
				v = "<deleted>"
			}
			fmt.Fprintf(&b, "  %s@%s = %s\n", ddKeyString(e.Key), ddTS(e.TS), v)
		case mvcc.EntryIntent:
			in := e.Intent
			v := string(in.Value)
			if in.Deleted {
				v = "<deleted>"
			}
			fmt.Fprintf(&b, "  %s intent of %s = %s (home p%d, epoch %d)\n", ddKeyString(e.Key), s.name(in.TxnID), v, in.Home, in.CoordEpoch)
		case mvcc.EntryTxnRecord:
			r := e.Record
			fmt.Fprintf(&b, "  record of %s: %s", s.name(e.TxnID), r.Status)
			if r.Status == mvcc.TxnCommitted {
				fmt.Fprintf(&b, " at %s", ddTS(r.CommitTS))
			}
			if len(r.Participants) > 0 {
				ps := slices.Clone(r.Participants)
				slices.Sort(ps)
				fmt.Fprintf(&b, " participants %v", ps)
			}
			b.WriteString("\n")
		case mvcc.EntryGCThreshold:
			fmt.Fprintf(&b, "  gc threshold %s\n", ddTS(e.TS))
		}
	}
	return b.String()
}
