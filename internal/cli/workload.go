// This file and the other workload*.go files are the camus-cli workload
// driver (SPEC §7):
//
//   - workload.go           the cobra commands, init (schema + load with a
//     progress bar), run (workers, live throughput, summary, verification)
//   - workload_bank.go      bank: transfers between accounts, total balance
//     invariant
//   - workload_northwind.go northwind: customers, products, orders; point
//     reads, order entry, per-customer aggregates (a join when the server
//     supports joins); stock + ordered quantity invariant
//   - workload_hist.go      the latency histogram
//
// Every transaction goes through client.RunTxn, which retries retryable
// errors (CADB0502/0503/0504); the latency of a transaction includes its
// retries. A run ends with the invariant check of the workload: a broken
// invariant exits with WorkloadExitInvariant, which is what makes a run a
// test of serializability and atomicity rather than only a benchmark.

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// Defaults of the workload commands.
const (
	WorkloadDefaultRows        = 1000
	WorkloadDefaultConcurrency = 8
	WorkloadDefaultDuration    = 10 * time.Second
	WorkloadDefaultAttempts    = 20
)

// WorkloadExitInvariant is the exit code of a run whose final check found
// the workload's invariant broken (e.g. the bank's total changed).
const WorkloadExitInvariant = 3

// workloadMetaTable keeps what init promised (row counts, totals) so that
// run and --verify-only check against it, whatever flags they are given.
const workloadMetaTable = "workload_meta"

// WorkloadOptions configures RunWorkloadInit and RunWorkloadRun. Zero
// values take the defaults.
type WorkloadOptions struct {
	Name      string   // "bank" or "northwind"
	Endpoints []string // default ShellDefaultURL
	// Database defaults to the workload's name; init creates it if missing.
	Database    string
	Rows        int // init: accounts (bank) or customers (northwind)
	Concurrency int // run: concurrent workers
	Duration    time.Duration
	// VerifyOnly makes run check the invariant and exit, running nothing.
	VerifyOnly bool
	// Attempts bounds the tries of one transaction (RunTxn).
	Attempts int
	Seed     uint64 // 0: random
	Stdout   io.Writer
	Stderr   io.Writer
	// Interval between live throughput lines (default one second).
	Interval time.Duration
}

// workloadEnv is what a workload's operations run against.
type workloadEnv struct {
	c        *client.Client
	db       string
	attempts int
	out      io.Writer
}

// workloadDriver is one workload: its schema, its loader, its transaction
// mix and its invariant.
type workloadDriver interface {
	// tables lists the tables init drops and creates, in creation order,
	// as CREATE TABLE statements keyed by table name.
	tables() [][2]string
	// loadUnits is the number of rows load writes (the progress bar's total).
	loadUnits(rows int) int64
	// load fills the tables for the given size, calling step after each
	// batch with the number of rows written, and returns the meta entries
	// (name → value) the invariant is checked against.
	load(ctx context.Context, env *workloadEnv, rows int, step func(int)) (map[string]int64, error)
	// prepare runs before the workers start (reads the meta, probes features).
	prepare(ctx context.Context, env *workloadEnv, meta map[string]int64) error
	// op runs one transaction of the mix and returns how many attempts it took.
	op(ctx context.Context, env *workloadEnv, rng *rand.Rand) (int, error)
	// verify checks the invariant; it returns a line describing what it saw
	// and errWorkloadInvariant (wrapped) when the invariant is broken.
	verify(ctx context.Context, env *workloadEnv, meta map[string]int64) (string, error)
}

var errWorkloadInvariant = errors.New("invariant violated")

func workloadDriverFor(name string) (workloadDriver, error) {
	switch strings.ToLower(name) {
	case "bank":
		return &workloadBank{}, nil
	case "northwind":
		return &workloadNorthwind{}, nil
	}
	return nil, fmt.Errorf("unknown workload %q (want bank or northwind)", name)
}

type workloadFlags struct {
	connection  string
	urls        []string
	database    string
	rows        int
	concurrency int
	duration    string
	verifyOnly  bool
	seed        uint64
}

// AddWorkloadCommand adds "workload init|run bank|northwind" to the
// camus-cli root command (and turns off cobra's completion command, which
// adding a subcommand would otherwise bring in).
func AddWorkloadCommand(root *cobra.Command) {
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(NewWorkloadCommand())
}

// NewWorkloadCommand builds the workload command:
//
//	workload init bank|northwind [--rows N]
//	workload run  bank|northwind [--concurrency N] [--duration S] [--verify-only]
//
// with the connection flags of camus-cli (-c, --url, -d/--database; the
// database defaults to the workload's name).
func NewWorkloadCommand() *cobra.Command {
	var f workloadFlags
	cmd := &cobra.Command{
		Use:   "workload",
		Short: "Load and drive the bank or northwind workload",
		Long: "workload init creates and fills a workload's schema; workload run drives concurrent\n" +
			"transactions against it, prints throughput every second and a latency summary, and\n" +
			"checks the workload's invariant at the end (exit code 3 when it is broken).",
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&f.connection, "connection", "c", "", `connection string "Endpoint=http://host:5095[,http://host2:5096];Database=db"`)
	pf.StringSliceVar(&f.urls, "url", nil, "server URL (repeat or comma-separate for several; default "+ShellDefaultURL+")")
	pf.StringVarP(&f.database, "database", "d", "", "database (default: the workload's name)")
	pf.IntVar(&f.rows, "rows", WorkloadDefaultRows, "init: accounts (bank) or customers (northwind)")
	pf.IntVar(&f.concurrency, "concurrency", WorkloadDefaultConcurrency, "run: concurrent workers")
	pf.StringVar(&f.duration, "duration", "10", "run: how long, in seconds or as a Go duration (2s, 1m)")
	pf.Uint64Var(&f.seed, "seed", 0, "random seed (0: random)")

	sub := func(use, short string, run func(context.Context, WorkloadOptions) error) *cobra.Command {
		return &cobra.Command{
			Use:       use + " bank|northwind",
			Short:     short,
			Args:      cobra.ExactArgs(1),
			ValidArgs: []string{"bank", "northwind"},
			RunE: func(c *cobra.Command, args []string) error {
				c.SilenceErrors, c.SilenceUsage = true, true
				o, err := f.options(args[0], c)
				if err != nil {
					fmt.Fprintf(c.ErrOrStderr(), "camus-cli workload: %v\n", err)
					return &shellExitError{code: ShellExitFailed, err: err}
				}
				ctx := c.Context()
				if ctx == nil {
					ctx = context.Background()
				}
				return run(ctx, o)
			},
		}
	}
	runCmd := sub("run", "Drive concurrent transactions and verify the invariant", RunWorkloadRun)
	runCmd.Flags().BoolVar(&f.verifyOnly, "verify-only", false, "only check the invariant")
	cmd.AddCommand(sub("init", "Create and fill the workload's schema", RunWorkloadInit), runCmd)
	return cmd
}

func (f *workloadFlags) options(name string, c *cobra.Command) (WorkloadOptions, error) {
	var conn client.ConnConfig
	if f.connection != "" {
		var err error
		if conn, err = client.ParseConnectionString(f.connection); err != nil {
			return WorkloadOptions{}, err
		}
	}
	endpoints := conn.Endpoints
	if len(f.urls) > 0 {
		endpoints = f.urls
	}
	duration, err := workloadParseDuration(f.duration)
	if err != nil {
		return WorkloadOptions{}, err
	}
	if f.rows < 2 || f.concurrency < 1 {
		return WorkloadOptions{}, errors.New("--rows must be at least 2 and --concurrency at least 1")
	}
	return WorkloadOptions{
		Name: name, Endpoints: endpoints, Database: shellFirstNonEmpty(f.database, conn.Database),
		Rows: f.rows, Concurrency: f.concurrency, Duration: duration, VerifyOnly: f.verifyOnly,
		Seed: f.seed, Stdout: c.OutOrStdout(), Stderr: c.ErrOrStderr(),
	}, nil
}

// workloadParseDuration reads "5" or "2.5" as seconds, else a Go duration.
func workloadParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs <= 0 {
			return 0, fmt.Errorf("--duration must be positive, got %s", s)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--duration: %q is neither seconds nor a positive duration", s)
	}
	return d, nil
}

// workloadSetup applies the defaults and connects.
func workloadSetup(ctx context.Context, o *WorkloadOptions) (workloadDriver, *workloadEnv, func(int, error) error, error) {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	stderr := o.Stderr
	fail := func(code int, err error) error {
		fmt.Fprintf(stderr, "camus-cli workload: %v\n", err)
		return &shellExitError{code: code, err: err}
	}
	drv, err := workloadDriverFor(o.Name)
	if err != nil {
		return nil, nil, nil, fail(ShellExitFailed, err)
	}
	o.Name = strings.ToLower(o.Name)
	if len(o.Endpoints) == 0 {
		o.Endpoints = []string{ShellDefaultURL}
	}
	if o.Database == "" {
		o.Database = o.Name
	}
	if o.Rows <= 0 {
		o.Rows = WorkloadDefaultRows
	}
	if o.Concurrency <= 0 {
		o.Concurrency = WorkloadDefaultConcurrency
	}
	if o.Duration <= 0 {
		o.Duration = WorkloadDefaultDuration
	}
	if o.Attempts <= 0 {
		o.Attempts = WorkloadDefaultAttempts
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	c := client.New(o.Endpoints, client.WithMaxIdleConnsPerHost(max(o.Concurrency, client.DefaultMaxIdleConnsPerHost)))
	if err := shellWaitReady(ctx, c, 10*time.Second); err != nil {
		c.Close()
		return nil, nil, nil, fail(ShellExitUnreachable, fmt.Errorf("cannot reach CamusDB at %s: %w", strings.Join(c.Endpoints(), ", "), err))
	}
	return drv, &workloadEnv{c: c, db: o.Database, attempts: o.Attempts, out: o.Stdout}, fail, nil
}

// RunWorkloadInit creates the workload's database (if missing) and tables
// (dropping existing ones) and fills them, showing a progress bar on Stderr.
func RunWorkloadInit(ctx context.Context, o WorkloadOptions) error {
	drv, env, fail, err := workloadSetup(ctx, &o)
	if err != nil {
		return err
	}
	defer env.c.Close()
	if err := env.c.CreateDB(ctx, env.db, true); err != nil {
		return fail(ShellExitFailed, fmt.Errorf("creating database %s: %w", env.db, err))
	}
	ddl := [][2]string{{workloadMetaTable, "CREATE TABLE " + workloadMetaTable + " (name STRING PRIMARY KEY, value INT64 NOT NULL)"}}
	for _, t := range append(ddl, drv.tables()...) {
		for _, stmt := range []string{"DROP TABLE IF EXISTS " + t[0], t[1]} {
			if err := env.c.ExecDDL(ctx, env.db, stmt); err != nil {
				return fail(ShellExitFailed, fmt.Errorf("%s: %w", stmt, err))
			}
		}
	}
	start := time.Now()
	bar := progressbar.NewOptions64(drv.loadUnits(o.Rows),
		progressbar.OptionSetWriter(o.Stderr),
		progressbar.OptionSetDescription(o.Name+": loading"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(o.Stderr) }),
	)
	meta, err := drv.load(ctx, env, o.Rows, func(n int) { _ = bar.Add(n) })
	if err != nil {
		return fail(ShellExitFailed, fmt.Errorf("loading: %w", err))
	}
	_ = bar.Finish()
	names := make([]string, 0, len(meta))
	for name := range meta {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := env.c.Exec(ctx, env.db, "INSERT INTO "+workloadMetaTable+" (name, value) VALUES (@name, @value)",
			map[string]any{"name": name, "value": meta[name]}, nil); err != nil {
			return fail(ShellExitFailed, fmt.Errorf("writing %s: %w", workloadMetaTable, err))
		}
	}
	fmt.Fprintf(o.Stdout, "%s: initialized database %s in %.1fs\n", o.Name, env.db, time.Since(start).Seconds())
	return nil
}

// workloadReadMeta reads what init recorded.
func workloadReadMeta(ctx context.Context, env *workloadEnv) (map[string]int64, error) {
	res, err := env.c.Query(ctx, env.db, "SELECT name, value FROM "+workloadMetaTable, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("reading %s (did you run workload init?): %w", workloadMetaTable, err)
	}
	meta := make(map[string]int64, len(res.Rows))
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		value, _ := row[1].(int64)
		meta[name] = value
	}
	return meta, nil
}

// workloadStats are the counters the workers share.
type workloadStats struct {
	committed atomic.Int64
	retries   atomic.Int64
	errors    atomic.Int64

	mu struct {
		sync.Mutex
		hist      workloadHistogram // merged from the workers at the end
		firstErrs []string          // the first few distinct errors, for the summary
	}
}

func (s *workloadStats) recordError(err error) {
	s.errors.Add(1)
	msg := err.Error()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mu.firstErrs) >= 5 {
		return
	}
	for _, e := range s.mu.firstErrs {
		if e == msg {
			return
		}
	}
	s.mu.firstErrs = append(s.mu.firstErrs, msg)
}

// RunWorkloadRun drives the workload for Duration with Concurrency workers,
// printing throughput every Interval and a summary, then checks the
// invariant. With VerifyOnly it only checks.
func RunWorkloadRun(ctx context.Context, o WorkloadOptions) error {
	drv, env, fail, err := workloadSetup(ctx, &o)
	if err != nil {
		return err
	}
	defer env.c.Close()
	meta, err := workloadReadMeta(ctx, env)
	if err != nil {
		return fail(ShellExitFailed, err)
	}
	if !o.VerifyOnly {
		if err := drv.prepare(ctx, env, meta); err != nil {
			return fail(ShellExitFailed, err)
		}
		stats, elapsed := workloadDrive(ctx, drv, env, &o)
		workloadSummary(o.Stdout, o.Name, stats, elapsed)
		if stats.committed.Load() == 0 && stats.errors.Load() > 0 {
			return fail(ShellExitFailed, errors.New("no transaction committed"))
		}
	}
	// The check runs even after SIGINT stopped the workers.
	line, err := drv.verify(context.WithoutCancel(ctx), env, meta)
	if err != nil {
		code := ShellExitFailed
		if errors.Is(err, errWorkloadInvariant) {
			code = WorkloadExitInvariant
		}
		return fail(code, err)
	}
	fmt.Fprintf(o.Stdout, "%s: %s: OK\n", o.Name, line)
	return nil
}

// workloadDrive runs the workers until the duration is over or ctx is
// cancelled, with a reporter printing one throughput line per interval.
func workloadDrive(ctx context.Context, drv workloadDriver, env *workloadEnv, o *WorkloadOptions) (*workloadStats, time.Duration) {
	stats := &workloadStats{}
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	start := time.Now()
	deadline := start.Add(o.Duration)
	var workers sync.WaitGroup
	for w := range o.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var hist workloadHistogram
			defer func() {
				stats.mu.Lock()
				stats.mu.hist.merge(&hist)
				stats.mu.Unlock()
			}()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				began := time.Now()
				// A transaction is not cut at the deadline (that would make
				// its commit ambiguous); only SIGINT (ctx) interrupts it.
				attempts, err := drv.op(ctx, env, rng)
				stats.retries.Add(int64(max(attempts-1, 0)))
				switch {
				case err == nil:
					stats.committed.Add(1)
					hist.record(time.Since(began))
				case ctx.Err() != nil:
				default:
					stats.recordError(err)
				}
			}
		}()
	}

	done := make(chan struct{})
	var reporter sync.WaitGroup
	reporter.Add(1)
	go func() {
		defer reporter.Done()
		tick := time.NewTicker(o.Interval)
		defer tick.Stop()
		fmt.Fprintf(o.Stdout, "%s: %d workers for %s against %s\n", o.Name, o.Concurrency, o.Duration, env.db)
		fmt.Fprintf(o.Stdout, "%8s %10s %10s %8s %8s\n", "elapsed", "txn/s", "total", "retries", "errors")
		last, lastAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				committed := stats.committed.Load()
				rate := float64(committed-last) / now.Sub(lastAt).Seconds()
				fmt.Fprintf(o.Stdout, "%7.0fs %10.1f %10d %8d %8d\n", now.Sub(start).Seconds(), rate, committed,
					stats.retries.Load(), stats.errors.Load())
				last, lastAt = committed, now
			}
		}
	}()
	workers.Wait()
	elapsed := time.Since(start)
	close(done)
	reporter.Wait()
	return stats, elapsed
}

func workloadSummary(w io.Writer, name string, stats *workloadStats, elapsed time.Duration) {
	stats.mu.Lock()
	defer stats.mu.Unlock()
	h := &stats.mu.hist
	committed := stats.committed.Load()
	secs := elapsed.Seconds()
	fmt.Fprintf(w, "%s summary: %d txns in %.1fs, %.1f txn/s, latency p50 %s p95 %s p99 %s max %s, retries %d, errors %d\n",
		name, committed, secs, float64(committed)/secs,
		workloadFmtLatency(h.quantile(0.50)), workloadFmtLatency(h.quantile(0.95)),
		workloadFmtLatency(h.quantile(0.99)), workloadFmtLatency(h.max),
		stats.retries.Load(), stats.errors.Load())
	for _, e := range stats.mu.firstErrs {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

func workloadFmtLatency(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}
