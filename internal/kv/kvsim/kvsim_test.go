package kvsim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestScripts runs the scripts of testdata: each builds a simulated
// cluster and walks a hazard step by step. Commands:
//
//	new [nodes=3] [partitions=1] [truncate=N]  a fresh cluster; nothing leads
//	                                 yet; truncate: log kept per partition
//	elect node=N [p=1]               node N campaigns (forced, as a transfer
//	                                 target), then only N ticks until it holds
//	                                 the lease
//	transfer from=A to=B [p=1]       A hands the lease (then leadership) to B;
//	                                 every node ticks until B holds both
//	campaign node=N [p=1]            node N campaigns (forced), nothing more
//	leader [p=1]                     which running node is the Raft leader
//	leaseholder [p=1]                which node admits requests (none/nN)
//	tick [n=1] [nodes=1,2]           tick those nodes (all) n times; the clock
//	                                 moves one tick per round
//	advance d=DUR                    move the shared clock, no tick
//	messages [reset]                 whether Raft messages were delivered
//	                                 since the last "messages" (reset: print
//	                                 nothing)
//	skew node=N d=DUR                node N's clock runs DUR ahead
//	isolate node=N | heal node=N     cut / restore every link of node N
//	cut from=A to=B | restore from=A to=B
//	hold from=A to=B                 queue A→B Raft messages
//	release from=A to=B [reverse] [dup]
//	crash node=N | restart node=N    only synced data survives a crash
//	gc node=N ttl=DUR [p=1]          garbage-collect versions older than now-DUR
//	disk node=N stall|resume|fail    a hung disk (writes and syncs block) or a
//	                                 failing one (they return an error)
//	alive node=N                     whether node N's store still runs
//	begin txn=T node=N               T's coordinator is node N
//	get txn=T key=K [timeout=DUR]    value, <absent> or the error class;
//	                                 timeout: give up waiting after DUR
//	put txn=T key=K value=V          buffered until commit
//	commit txn=T [async|abandon]     async: await txn=T prints the outcome;
//	                                 abandon: stop after the intents are laid,
//	                                 before the commit record (a dead coordinator)
//	partition key=K                  the partition of K
//	await txn=T [settled]            settled: print "settled" for ok, retry or
//	                                 ambiguous (when the outcome races the script)
//	read node=N key=K                a one-statement read through node N
//	fill node=N table=T rows=K       K one-row write transactions, keys T/r0000...
//	write node=N key=K value=V [async=T] [timeout=DUR]  a one-statement
//	                                 write through node N (async: await txn=T
//	                                 prints the outcome; timeout: its context
//	                                 ends after DUR, as when a client goes away)
//
// Error classes: retry (kvpb.RetryError: ask the leaseholder, or later),
// conflict, ambiguous. Run with -rewrite to regenerate expected output.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		s := &script{t: t, txns: map[string]*txnState{}}
		datadriven.RunTest(t, path, s.run)
		s.close()
	})
}

type txnState struct {
	txn  *kv.Txn
	done chan error
}

type script struct {
	t    *testing.T
	c    *Cluster
	txns map[string]*txnState
	// sentMark is Cluster.Sent at the last "messages" command.
	sentMark uint64
}

func (s *script) close() {
	for _, st := range s.txns {
		if st.done != nil {
			<-st.done
		}
	}
}

func (s *script) run(t *testing.T, d *datadriven.TestData) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d.Cmd != "new" && s.c == nil {
		d.Fatalf(t, "run new first")
	}
	switch d.Cmd {
	case "new":
		s.c = New(t, Options{Nodes: s.intArg(d, "nodes", 3), Partitions: s.intArg(d, "partitions", 1),
			TruncateEntries: uint64(s.intArg(d, "truncate", 0))})
		return ""
	case "elect":
		node, p := s.node(d, "node"), uint64(s.intArg(d, "p", 1))
		if st, err := s.c.Node(node).Store.Status(p); err != nil || !st.Leader {
			s.c.Campaign(node, p)
		}
		for i := 0; i < 500; i++ {
			if s.c.Leaseholder(p) == node {
				return fmt.Sprintf("leaseholder: n%d", node)
			}
			s.c.Tick(1, node)
		}
		d.Fatalf(t, "node %d did not get the lease of partition %d in 500 ticks", node, p)
	case "failover":
		// Ticks every running node but from (a stalled one takes no ticks)
		// until one of them holds the partition's lease. Which one wins
		// can depend on which of them received from's last entries (a
		// candidate whose log is behind another's loses its vote).
		from, p := s.node(d, "from"), uint64(s.intArg(d, "p", 1))
		var others []uint64
		for _, id := range s.c.IDs() {
			if id != from && s.c.Node(id).Running {
				others = append(others, id)
			}
		}
		for i := 0; i < 500; i++ {
			if h := s.c.Leaseholder(p); h != 0 && h != from {
				return fmt.Sprintf("leaseholder: not n%d", from)
			}
			s.c.Tick(1, others...)
		}
		d.Fatalf(t, "no node but %d got the lease of partition %d in 500 ticks", from, p)
	case "transfer":
		from, to, p := s.node(d, "from"), s.node(d, "to"), uint64(s.intArg(d, "p", 1))
		if err := s.c.Node(from).Store.TransferLease(p, to); err != nil {
			return outcome(err)
		}
		defer func() { _ = s.c.Node(from).Store.TransferLease(p, 0) }()
		for i := 0; i < 500; i++ {
			if h := s.c.Leaseholder(p); h == to {
				if st, err := s.c.Node(to).Store.Status(p); err == nil && st.Leader {
					return fmt.Sprintf("leaseholder: n%d", to)
				}
			}
			s.c.Tick(1)
		}
		d.Fatalf(t, "the lease did not move from n%d to n%d in 500 ticks", from, to)
	case "partition":
		p, err := kvpb.PartitionOf(s.key(d), len(s.c.Node(1).Store.PartitionIDs()))
		if err != nil {
			return outcome(err)
		}
		return fmt.Sprintf("p%d", p)
	case "campaign":
		s.c.Campaign(s.node(d, "node"), uint64(s.intArg(d, "p", 1)))
		return ""
	case "leader":
		p := uint64(s.intArg(d, "p", 1))
		for _, id := range s.c.IDs() {
			if n := s.c.Node(id); n.Running {
				if st, err := n.Store.Status(p); err == nil && st.Leader {
					return fmt.Sprintf("raft leader: n%d", id)
				}
			}
		}
		return "raft leader: none"
	case "leaseholder":
		if h := s.c.Leaseholder(uint64(s.intArg(d, "p", 1))); h != 0 {
			return fmt.Sprintf("leaseholder: n%d", h)
		}
		return "leaseholder: none"
	case "tick":
		var nodes []uint64
		if d.HasArg("nodes") {
			var list string
			d.ScanArgs(t, "nodes", &list)
			for _, f := range strings.Split(list, ",") {
				id, err := strconv.ParseUint(f, 10, 64)
				if err != nil {
					d.Fatalf(t, "nodes: %v", err)
				}
				nodes = append(nodes, id)
			}
		}
		s.c.Tick(s.intArg(d, "n", 1), nodes...)
		return ""
	case "messages":
		// Raft messages delivered since the previous "messages".
		n := s.c.Sent()
		sent := n - s.sentMark
		s.sentMark = n
		if d.HasArg("reset") {
			return ""
		}
		if sent == 0 {
			return "no messages"
		}
		return "messages sent"
	case "advance":
		s.c.Advance(s.durArg(d, "d"))
		return ""
	case "skew":
		s.c.Node(s.node(d, "node")).Skew = s.durArg(d, "d")
		return ""
	case "isolate", "heal":
		s.c.Isolate(s.node(d, "node"), d.Cmd == "isolate")
		s.c.Settle()
		return ""
	case "cut", "restore":
		s.c.SetCut(s.node(d, "from"), s.node(d, "to"), d.Cmd == "cut")
		return ""
	case "hold":
		s.c.Hold(s.node(d, "from"), s.node(d, "to"))
		return ""
	case "release":
		s.c.Release(s.node(d, "from"), s.node(d, "to"), d.HasArg("reverse"), d.HasArg("dup"))
		s.c.Settle()
		return ""
	case "gc":
		n, p := s.c.Node(s.node(d, "node")), uint64(s.intArg(d, "p", 1))
		threshold := n.Clock.Now()
		threshold.WallTime -= int64(s.durArg(d, "ttl"))
		threshold.Logical = 0
		deleted, err := n.Server.CollectGarbage(ctx, p, threshold)
		s.c.Settle()
		if err != nil {
			return outcome(err)
		}
		return fmt.Sprintf("collected %d", deleted)
	case "disk":
		node := s.node(d, "node")
		switch {
		case d.HasArg("stall"):
			s.c.StallDisk(node)
		case d.HasArg("resume"):
			s.c.ResumeDisk(node)
		case d.HasArg("fail"):
			s.c.FailDisk(node, errors.New("injected disk failure"))
		default:
			d.Fatalf(t, "disk: want stall, resume or fail")
		}
		return ""
	case "snapshots":
		n := s.c.Node(s.node(d, "node"))
		if n.Store.Metrics().SnapshotsApplied > 0 {
			return "applied a snapshot"
		}
		return "no snapshot"
	case "alive":
		if s.c.Node(s.node(d, "node")).alive() {
			return "alive"
		}
		return "store stopped"
	case "crash":
		s.c.Crash(s.node(d, "node"))
		return ""
	case "restart":
		s.c.Restart(s.node(d, "node"))
		s.c.Settle()
		return ""
	case "begin":
		var name string
		d.ScanArgs(t, "txn", &name)
		txn, err := s.c.Node(s.node(d, "node")).DB.Begin(ctx)
		if err != nil {
			return outcome(err)
		}
		s.txns[name] = &txnState{txn: txn}
		return ""
	case "get":
		if d.HasArg("timeout") {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.durArg(d, "timeout"))
			defer cancel()
		}
		v, found, err := s.txn(t, d).Get(ctx, s.key(d))
		return value(v, found, err)
	case "put":
		if err := s.txn(t, d).Put(s.key(d), []byte(s.strArg(d, "value"))); err != nil {
			return outcome(err)
		}
		return ""
	case "commit":
		st := s.txns[s.strArg(d, "txn")]
		if st == nil {
			d.Fatalf(t, "unknown transaction")
		}
		if d.HasArg("abandon") {
			s.c.Abandon(st.txn.ID())
			if err := st.txn.Commit(ctx); !errors.Is(err, errAbandoned) {
				return "not abandoned: " + outcome(err)
			}
			s.c.Settle()
			return "abandoned after prepare"
		}
		if d.HasArg("async") {
			st.done = make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				st.done <- st.txn.Commit(ctx)
			}()
			return ""
		}
		err := st.txn.Commit(ctx)
		s.c.Settle()
		return outcome(err)
	case "await":
		st := s.txns[s.strArg(d, "txn")]
		if st == nil || st.done == nil {
			d.Fatalf(t, "no async commit to await")
		}
		select {
		case err := <-st.done:
			st.done = nil
			s.c.Settle()
			out := outcome(err)
			if d.HasArg("settled") && (out == "ok" || out == "error: retry" || out == "error: ambiguous") {
				return "settled" // which of these depends on goroutine timing
			}
			return out
		case <-ctx.Done():
			d.Fatalf(t, "commit did not finish")
		}
	case "fill":
		db := s.c.Node(s.node(d, "node")).DB
		table, rows := s.intArg(d, "table", 2), s.intArg(d, "rows", 10)
		for i := range rows {
			txn, err := db.Begin(ctx)
			if err == nil {
				err = txn.Put(append(kvpb.RowPrefix(1, uint32(table)), fmt.Sprintf("r%04d", i)...), []byte(strconv.Itoa(i)))
			}
			if err == nil {
				err = txn.Commit(ctx)
			}
			if err != nil {
				return fmt.Sprintf("row %d: %s", i, outcome(err))
			}
		}
		s.c.Settle()
		return fmt.Sprintf("wrote %d rows", rows)
	case "read":
		txn, err := s.c.Node(s.node(d, "node")).DB.Begin(ctx)
		if err != nil {
			return outcome(err)
		}
		v, found, err := txn.Get(ctx, s.key(d))
		return value(v, found, err)
	case "write":
		if d.HasArg("async") {
			var name string
			d.ScanArgs(t, "async", &name)
			txn, err := s.c.Node(s.node(d, "node")).DB.Begin(ctx)
			if err != nil {
				return outcome(err)
			}
			if err := txn.Put(s.key(d), []byte(s.strArg(d, "value"))); err != nil {
				return outcome(err)
			}
			st := &txnState{txn: txn, done: make(chan error, 1)}
			s.txns[name] = st
			timeout := 30 * time.Second
			if d.HasArg("timeout") {
				timeout = s.durArg(d, "timeout")
			}
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				st.done <- txn.Commit(ctx)
			}()
			return ""
		}
		txn, err := s.c.Node(s.node(d, "node")).DB.Begin(ctx)
		if err == nil {
			err = txn.Put(s.key(d), []byte(s.strArg(d, "value")))
		}
		if err == nil {
			err = txn.Commit(ctx)
		}
		s.c.Settle()
		return outcome(err)
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	return ""
}

func (s *script) txn(t *testing.T, d *datadriven.TestData) *kv.Txn {
	st := s.txns[s.strArg(d, "txn")]
	if st == nil {
		d.Fatalf(t, "unknown transaction")
	}
	return st.txn
}

// key parses TABLE/ROW into a row key of database 1.
func (s *script) key(d *datadriven.TestData) []byte {
	k := s.strArg(d, "key")
	tbl, row, ok := strings.Cut(k, "/")
	id, err := strconv.ParseUint(tbl, 10, 32)
	if !ok || err != nil {
		d.Fatalf(s.t, "key %q: want TABLE/ROW", k)
	}
	return append(kvpb.RowPrefix(1, uint32(id)), row...)
}

func (s *script) node(d *datadriven.TestData, key string) uint64 {
	id := uint64(s.intArg(d, key, 0))
	if id == 0 || id > uint64(len(s.c.IDs())) {
		d.Fatalf(s.t, "%s: no such node", key)
	}
	return id
}

func (s *script) intArg(d *datadriven.TestData, key string, def int) int {
	if !d.HasArg(key) {
		return def
	}
	var v int
	d.ScanArgs(s.t, key, &v)
	return v
}

func (s *script) strArg(d *datadriven.TestData, key string) string {
	var v string
	d.ScanArgs(s.t, key, &v)
	return v
}

func (s *script) durArg(d *datadriven.TestData, key string) time.Duration {
	v, err := time.ParseDuration(s.strArg(d, key))
	if err != nil {
		d.Fatalf(s.t, "%s: %v", key, err)
	}
	return v
}

func value(v []byte, found bool, err error) string {
	switch {
	case err != nil:
		return outcome(err)
	case !found:
		return "<absent>"
	}
	return string(v)
}

// outcome prints an error by class (its text carries timestamps and ids).
func outcome(err error) string {
	var retry *kvpb.RetryError
	var conflict *kvpb.ConflictError
	var amb *kvpb.AmbiguousError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &amb):
		return "error: ambiguous"
	case errors.As(err, &retry):
		return "error: retry"
	case errors.As(err, &conflict):
		return "error: conflict"
	}
	return "error: " + err.Error()
}
