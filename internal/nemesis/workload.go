package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/util/histcheck"
)

// A Workload drives clients against the cluster and checks what they saw.
type Workload interface {
	Name() string
	// Setup creates the schema and initial data.
	Setup(ctx context.Context, db *clients) error
	// Worker runs operations until ctx ends.
	Worker(ctx context.Context, db *clients, worker int, rng *rand.Rand, st *Stats)
	// Check reads the final state (the cluster healed) and returns the
	// anomalies found.
	Check(ctx context.Context, db *clients) []string
}

// Workloads are the suite's workloads.
func Workloads() []Workload {
	return []Workload{&bankWorkload{}, &registerWorkload{}, &listAppendWorkload{}}
}

// Stats count operation outcomes.
type Stats struct {
	OK, Failed, Unknown atomic.Int64
	mu                  sync.Mutex
	unexpected          []string
}

func (s *Stats) unexpectedError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.unexpected) < 10 {
		s.unexpected = append(s.unexpected, err.Error())
	}
}

// outcome classifies an error as a careful client must.
type outcome int

const (
	done       outcome = iota // it happened
	notDone                   // it certainly did not happen (retryable code, or never sent)
	maybeDone                 // unknown: ambiguous, or the answer was lost
	unexpected                // an error no fault should cause
)

func classify(err error) outcome {
	if err == nil {
		return done
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		switch {
		case ce.Code == "CADB0505":
			return maybeDone
		case ce.Retryable(), ce.Code == "CADB0501": // a transaction lost with its coordinator
			return notDone
		case ce.Code == "" && ce.HTTPStatus >= 500:
			return maybeDone
		}
		return unexpected
	}
	if errors.Is(err, client.ErrNoEndpoint) {
		return notDone // the connection was refused: nothing was sent
	}
	return maybeDone // sent, answer lost (reset, timeout)
}

// clients holds one HTTP client per node; each operation picks a node.
type clients struct {
	db    string
	nodes []*client.Client
}

func newClients(c *Cluster, db string) *clients {
	cl := &clients{db: db}
	opts := []client.Option{client.WithTimeout(2 * time.Second)}
	if c.opts.Secure {
		opts = append(opts, client.WithTLSConfig(c.TLS), client.WithCredentials("root", RootPassword))
	}
	for _, n := range c.Nodes {
		cl.nodes = append(cl.nodes, client.New([]string{n.URL()}, opts...))
	}
	return cl
}

func (cl *clients) pick(rng *rand.Rand) *client.Client { return cl.nodes[rng.Intn(len(cl.nodes))] }

func (cl *clients) close() {
	for _, c := range cl.nodes {
		c.Close()
	}
}

// retry runs fn against rotating nodes until it succeeds or ctx ends (for
// setup and final reads, with the cluster healed).
func (cl *clients) retry(ctx context.Context, fn func(c *client.Client) error) error {
	var err error
	for i := 0; ctx.Err() == nil; i++ {
		if err = fn(cl.nodes[i%len(cl.nodes)]); err == nil {
			return nil
		}
		hold(ctx, 100*time.Millisecond)
	}
	return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
}

// createAndFill creates a table and inserts its initial rows, through
// whichever node answers; an insert retried after it had landed finds its
// rows (a unique violation) and counts as done.
func (cl *clients) createAndFill(ctx context.Context, ddl, insert string) error {
	return cl.retry(ctx, func(c *client.Client) error {
		if err := c.ExecDDL(ctx, cl.db, ddl); err != nil {
			return err
		}
		_, err := c.Exec(ctx, cl.db, insert, nil, nil)
		var ce *client.Error
		if errors.As(err, &ce) && ce.Code == "CADB0300" {
			return nil
		}
		return err
	})
}

// valuesList renders (i, value) rows for i in [0, n).
func valuesList(n int, value string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %s)", i, value)
	}
	return b.String()
}

func firstInt(res *client.Result) (int64, error) {
	if res == nil || len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return 0, fmt.Errorf("want one value, got %v", res)
	}
	v, ok := res.Rows[0][0].(int64)
	if !ok {
		return 0, fmt.Errorf("want an INT64, got %T %v", res.Rows[0][0], res.Rows[0][0])
	}
	return v, nil
}

func intAt(row []any, i int) int64 { v, _ := row[i].(int64); return v }

func strAt(row []any, i int) string { v, _ := row[i].(string); return v }

// ---- bank ----

const (
	bankAccounts = 8
	bankBalance  = 100
)

type bankWorkload struct {
	mu        sync.Mutex
	totals    []int64    // every total a read returned
	transfers []transfer // every transfer attempted, with its outcome
}

// transfer is one attempted transfer, kept to explain a broken total.
type transfer struct {
	from, to, amount int
	node             int // index of the node the client talked to
	outcome          outcome
	err              string
	start, end       time.Time
}

func (*bankWorkload) Name() string { return "bank" }

func (w *bankWorkload) Setup(ctx context.Context, db *clients) error {
	return db.createAndFill(ctx, `CREATE TABLE IF NOT EXISTS acct (id INT64 PRIMARY KEY, bal INT64 NOT NULL)`,
		"INSERT INTO acct (id, bal) VALUES "+valuesList(bankAccounts, fmt.Sprint(bankBalance)))
}

func (w *bankWorkload) Worker(ctx context.Context, db *clients, worker int, rng *rand.Rand, st *Stats) {
	for ctx.Err() == nil {
		nodeIdx := rng.Intn(len(db.nodes))
		c := db.nodes[nodeIdx]
		var err error
		if rng.Intn(5) == 0 {
			var res *client.Result
			res, err = c.Query(ctx, db.db, `SELECT SUM(bal) FROM acct`, nil, nil)
			if err == nil {
				total, perr := firstInt(res)
				if perr != nil {
					err = perr
				} else {
					w.mu.Lock()
					w.totals = append(w.totals, total)
					w.mu.Unlock()
				}
			}
		} else {
			from, to := rng.Intn(bankAccounts), rng.Intn(bankAccounts)
			amount := rng.Intn(20) + 1
			started := time.Now()
			moved := false
			_, err = c.RunTxn(ctx, db.db, 1, func(ctx context.Context, txn *client.Txn) error {
				res, err := c.Query(ctx, db.db, `SELECT bal FROM acct WHERE id = @id`, map[string]any{"id": from}, txn)
				if err != nil {
					return err
				}
				bal, err := firstInt(res)
				if err != nil || from == to || bal < int64(amount) {
					return err
				}
				if _, err := c.Exec(ctx, db.db, `UPDATE acct SET bal = bal - @a WHERE id = @id`, map[string]any{"a": amount, "id": from}, txn); err != nil {
					return err
				}
				_, err = c.Exec(ctx, db.db, `UPDATE acct SET bal = bal + @a WHERE id = @id`, map[string]any{"a": amount, "id": to}, txn)
				moved = err == nil
				return err
			})
			if moved || err != nil {
				tr := transfer{from: from, to: to, amount: amount, node: nodeIdx, outcome: classify(err), start: started, end: time.Now()}
				if err != nil {
					tr.err = err.Error()
				}
				w.mu.Lock()
				w.transfers = append(w.transfers, tr)
				w.mu.Unlock()
			}
		}
		count(ctx, st, err)
	}
}

func count(ctx context.Context, st *Stats, err error) {
	switch classify(err) {
	case done:
		st.OK.Add(1)
	case notDone:
		st.Failed.Add(1)
		hold(ctx, 20*time.Millisecond) // back off while the cluster recovers
	case maybeDone:
		st.Unknown.Add(1)
	case unexpected:
		if ctx.Err() == nil {
			st.unexpectedError(err)
		}
		st.Failed.Add(1)
	}
}

func (w *bankWorkload) Check(ctx context.Context, db *clients) []string {
	var bad []string
	want := int64(bankAccounts * bankBalance)
	w.mu.Lock()
	for _, t := range w.totals {
		if t != want {
			bad = append(bad, fmt.Sprintf("bank: a read saw total %d, want %d", t, want))
			break
		}
	}
	w.mu.Unlock()
	var final []string
	err := db.retry(ctx, func(c *client.Client) error {
		res, err := c.Query(ctx, db.db, `SELECT id, bal FROM acct ORDER BY id`, nil, nil)
		if err != nil {
			return err
		}
		final = final[:0]
		var sum int64
		for _, r := range res.Rows {
			sum += intAt(r, 1)
			if intAt(r, 1) < 0 {
				bad = append(bad, fmt.Sprintf("bank: account %d has %d", intAt(r, 0), intAt(r, 1)))
			}
		}
		if len(res.Rows) != bankAccounts || sum != want {
			final = append(final, fmt.Sprintf("bank: final state %d accounts, total %d, want %d and %d", len(res.Rows), sum, bankAccounts, want))
			final = append(final, w.explain(res))
		}
		return nil
	})
	if err != nil {
		bad = append(bad, "bank: final read failed: "+err.Error())
	}
	return append(bad, final...)
}

// explain compares the final balances with what the acknowledged
// transfers imply, and lists the transfers whose outcome is unknown or
// that failed, so that a broken total says which accounts are off and
// whether some transfer applied in part.
func (w *bankWorkload) explain(res *client.Result) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	expect := make([]int64, bankAccounts)
	for i := range expect {
		expect[i] = bankBalance
	}
	var doubtful []string
	for _, t := range w.transfers {
		switch t.outcome {
		case done:
			expect[t.from] -= int64(t.amount)
			expect[t.to] += int64(t.amount)
		default:
			doubtful = append(doubtful, fmt.Sprintf("%d→%d %d via n%d %s..%s (%s)", t.from, t.to, t.amount, t.node+1,
				t.start.Format("15:04:05.000"), t.end.Format("15:04:05.000"), t.err))
		}
	}
	var b strings.Builder
	b.WriteString("bank: final minus acknowledged transfers per account:")
	for _, r := range res.Rows {
		id := intAt(r, 0)
		if id >= 0 && id < bankAccounts {
			fmt.Fprintf(&b, " %d:%+d", id, intAt(r, 1)-expect[id])
		}
	}
	fmt.Fprintf(&b, "; %d transfers not acknowledged:", len(doubtful))
	for _, d := range doubtful {
		b.WriteString("\n  " + d)
	}
	return b.String()
}

// ---- register ----

const registerKeys = 4

type registerWorkload struct {
	start   time.Time
	mu      sync.Mutex
	history []porcupine.Operation
}

func (*registerWorkload) Name() string { return "register" }

func (w *registerWorkload) Setup(ctx context.Context, db *clients) error {
	w.start = time.Now()
	return db.createAndFill(ctx, `CREATE TABLE IF NOT EXISTS reg (k INT64 PRIMARY KEY, v INT64 NOT NULL)`,
		"INSERT INTO reg (k, v) VALUES "+valuesList(registerKeys, "0"))
}

func (w *registerWorkload) now() int64 { return int64(time.Since(w.start)) }

func (w *registerWorkload) Worker(ctx context.Context, db *clients, worker int, rng *rand.Rand, st *Stats) {
	for i := 1; ctx.Err() == nil; i++ {
		c := db.pick(rng)
		in := histcheck.RegInput{Key: rng.Intn(registerKeys)}
		unique := worker*1_000_000 + i
		var out histcheck.RegOutput
		call := w.now()
		var err error
		switch r := rng.Intn(10); {
		case r < 4:
			in.Op = "read"
			var res *client.Result
			if res, err = c.Query(ctx, db.db, `SELECT v FROM reg WHERE k = @k`, map[string]any{"k": in.Key}, nil); err == nil {
				var v int64
				if v, err = firstInt(res); err == nil {
					out.Value = int(v)
				}
			}
		case r < 7:
			in.Op, in.New = "write", unique
			_, err = c.Exec(ctx, db.db, `UPDATE reg SET v = @v WHERE k = @k`, map[string]any{"v": in.New, "k": in.Key}, nil)
		default:
			in.Op, in.New, in.Old = "cas", unique, w.recentValue(rng, in.Key)
			var n int64
			n, err = c.Exec(ctx, db.db, `UPDATE reg SET v = @new WHERE k = @k AND v = @old`, map[string]any{"new": in.New, "old": in.Old, "k": in.Key}, nil)
			out.OK = n == 1
		}
		ret := w.now()
		switch classify(err) {
		case done:
			w.record(porcupine.Operation{ClientId: worker, Input: in, Call: call, Output: out, Return: ret})
		case maybeDone:
			if in.Op != "read" {
				out.Unknown = true
				w.record(porcupine.Operation{ClientId: worker, Input: in, Call: call, Output: out, Return: math.MaxInt64})
			}
		}
		count(ctx, st, err)
	}
}

// recentValue is a value a cas may expect: one recently written to key
// (half the time), else 0.
func (w *registerWorkload) recentValue(rng *rand.Rand, key int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.history) - 1; i >= 0 && i >= len(w.history)-20; i-- {
		in := w.history[i].Input.(histcheck.RegInput)
		if in.Key == key && in.Op == "read" && rng.Intn(2) == 0 {
			return w.history[i].Output.(histcheck.RegOutput).Value
		}
	}
	return 0
}

func (w *registerWorkload) record(op porcupine.Operation) {
	w.mu.Lock()
	w.history = append(w.history, op)
	w.mu.Unlock()
}

func (w *registerWorkload) Check(ctx context.Context, db *clients) []string {
	w.mu.Lock()
	history := append([]porcupine.Operation(nil), w.history...)
	w.mu.Unlock()
	res, _ := porcupine.CheckOperationsVerbose(histcheck.RegisterModel, history, 60*time.Second)
	switch res {
	case porcupine.Illegal:
		return []string{fmt.Sprintf("register: %d operations are not linearizable", len(history))}
	case porcupine.Unknown:
		return []string{fmt.Sprintf("register: linearizability check of %d operations timed out", len(history))}
	}
	return nil
}

// ---- list-append ----

const listKeys = 8

type listAppendWorkload struct {
	mu   sync.Mutex
	txns []*histcheck.Txn
	next atomic.Int64
}

func (*listAppendWorkload) Name() string { return "list-append" }

func (w *listAppendWorkload) Setup(ctx context.Context, db *clients) error {
	return db.createAndFill(ctx, `CREATE TABLE IF NOT EXISTS la (k INT64 PRIMARY KEY, l STRING NOT NULL)`,
		"INSERT INTO la (k, l) VALUES "+valuesList(listKeys, "''"))
}

func (w *listAppendWorkload) Worker(ctx context.Context, db *clients, worker int, rng *rand.Rand, st *Stats) {
	for ctx.Err() == nil {
		node := rng.Intn(len(db.nodes))
		c := db.nodes[node]
		// The id's last digit names the node that coordinated it (for
		// reading an anomaly report).
		t := &histcheck.Txn{ID: int(w.next.Add(1))*10 + node + 1}
		for range rng.Intn(4) + 1 {
			op := histcheck.Op{Key: rng.Intn(listKeys), Append: rng.Intn(2) == 0}
			if op.Append {
				op.Val = int(w.next.Add(1))
			}
			t.Ops = append(t.Ops, op)
		}
		committing := false
		_, err := c.RunTxn(ctx, db.db, 1, func(ctx context.Context, txn *client.Txn) error {
			appended := map[int]bool{}
			for i := range t.Ops {
				op := &t.Ops[i]
				res, err := c.Query(ctx, db.db, `SELECT l FROM la WHERE k = @k`, map[string]any{"k": op.Key}, txn)
				if err != nil {
					return err
				}
				if len(res.Rows) != 1 {
					return fmt.Errorf("list %d: %d rows", op.Key, len(res.Rows))
				}
				l, err := histcheck.DecodeList([]byte(strAt(res.Rows[0], 0)))
				if err != nil {
					return err
				}
				if op.Append {
					appended[op.Key] = true
					if _, err := c.Exec(ctx, db.db, `UPDATE la SET l = @l WHERE k = @k`,
						map[string]any{"l": string(histcheck.EncodeList(append(l, op.Val))), "k": op.Key}, txn); err != nil {
						return err
					}
				}
				op.Read, op.AfterOwn = l, appended[op.Key]
			}
			committing = true
			return nil
		})
		switch o := classify(err); {
		case o == done:
			t.Status = histcheck.StatusOK
		case o == notDone || !committing:
			t.Status = histcheck.StatusFail // failed before COMMIT, or COMMIT refused
		default:
			t.Status = histcheck.StatusInfo
		}
		w.mu.Lock()
		w.txns = append(w.txns, t)
		w.mu.Unlock()
		count(ctx, st, err)
	}
}

func (w *listAppendWorkload) Check(ctx context.Context, db *clients) []string {
	final := map[int][]int{}
	err := db.retry(ctx, func(c *client.Client) error {
		res, err := c.Query(ctx, db.db, `SELECT k, l FROM la`, nil, nil)
		if err != nil {
			return err
		}
		for _, r := range res.Rows {
			l, err := histcheck.DecodeList([]byte(strAt(r, 1)))
			if err != nil {
				return err
			}
			final[int(intAt(r, 0))] = l
		}
		return nil
	})
	if err != nil {
		return []string{"list-append: final read failed: " + err.Error()}
	}
	w.mu.Lock()
	txns := append([]*histcheck.Txn(nil), w.txns...)
	w.mu.Unlock()
	sort.Slice(txns, func(i, j int) bool { return txns[i].ID < txns[j].ID })
	var bad []string
	for _, b := range histcheck.CheckListAppend(txns, final) {
		bad = append(bad, "list-append: "+b)
		if len(bad) == 10 {
			break
		}
	}
	return bad
}
