package cli

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/camusdb/camusdb-go/internal/bench"
)

// AddBenchCommand adds "bench" to the camus-cli root command.
func AddBenchCommand(root *cobra.Command) { root.AddCommand(NewBenchCommand()) }

// NewBenchCommand builds "camus-cli bench": the same workloads against
// CamusDB over HTTP and over pgwire and against a reference PostgreSQL,
// one system after the other, printed as one markdown table.
func NewBenchCommand() *cobra.Command {
	var (
		workloads, httpURLs, pgDSN, postgresDSN, user, database, cpuProfile, httpClient string
		cfg                                                                             bench.Config
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark CamusDB (HTTP and pgwire) side by side with PostgreSQL",
		Long: "bench runs workloads (insert, point, bank, tpcb, scan, bulk, ycsb-a/b/c/e) against every\n" +
			"target given: --http (CamusDB's HTTP API), --pg (CamusDB's pgwire listener) and\n" +
			"--postgres (a reference PostgreSQL). Targets run one after the other, never at\n" +
			"once. It prints a markdown table with throughput, p50/p95/p99 latency, the share of\n" +
			"retried transactions and the ratio to PostgreSQL. Tables named bench_* are dropped\n" +
			"and recreated on every target. See docs/benchmarks.md.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			c.SilenceErrors, c.SilenceUsage = true, true
			ctx := c.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			fail := func(err error) error {
				fmt.Fprintf(c.ErrOrStderr(), "camus-cli bench: %v\n", err)
				return &shellExitError{code: ShellExitFailed, err: err}
			}
			wls, err := bench.Lookup(workloads)
			if err != nil {
				return fail(err)
			}
			var targets []bench.Target
			defer func() {
				for _, t := range targets {
					t.Close()
				}
			}()
			if httpURLs != "" {
				t, err := bench.NewHTTPTarget(ctx, strings.Split(httpURLs, ","), user, os.Getenv(PasswordEnv), database, cfg.Clients, bench.HTTPClient(httpClient))
				if err != nil {
					return fail(err)
				}
				targets = append(targets, t)
			}
			if pgDSN != "" {
				t, err := bench.NewPGTarget(ctx, "camusdb-pgwire", pgDSN, cfg.Clients)
				if err != nil {
					return fail(err)
				}
				targets = append(targets, t)
			}
			if postgresDSN != "" {
				t, err := bench.NewPGTarget(ctx, bench.ReferenceTarget, postgresDSN, cfg.Clients)
				if err != nil {
					return fail(err)
				}
				targets = append(targets, t)
			}
			if len(targets) == 0 {
				return fail(fmt.Errorf("no target: give --http, --pg and/or --postgres"))
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fail(err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fail(err)
				}
				defer pprof.StopCPUProfile()
			}
			cfg.Progress = c.ErrOrStderr()
			start := time.Now()
			results, err := bench.Run(ctx, cfg, wls, targets)
			if err != nil {
				return fail(err)
			}
			out := c.OutOrStdout()
			bench.WriteMarkdown(out, results)
			rounds := ""
			if cfg.Rounds > 1 {
				rounds = fmt.Sprintf("; median of %d rounds", cfg.Rounds)
			}
			tpcb := ""
			for _, w := range wls {
				if w.Name == "tpcb" {
					tpcb = fmt.Sprintf(", tpcb scale %d", cfg.TPCBScale)
				}
			}
			fmt.Fprintf(out, "\n%d clients, %v measured after %v warm-up per workload, %d-row point table, %d-row scan table%s%s; total %v.\n",
				cfg.Clients, cfg.Duration, cfg.Warmup, cfg.Rows, cfg.ScanRows, tpcb, rounds, time.Since(start).Round(time.Second))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&workloads, "workloads", "insert,point,bank,scan", "comma-separated workloads, or all")
	f.StringVar(&httpURLs, "http", "", "CamusDB HTTP endpoint(s), comma-separated (e.g. "+ShellDefaultURL+")")
	f.StringVar(&pgDSN, "pg", "", "CamusDB pgwire DSN (e.g. postgres://root@127.0.0.1:5432/bench?sslmode=disable)")
	f.StringVar(&postgresDSN, "postgres", "", "reference PostgreSQL DSN")
	f.DurationVar(&cfg.Settle, "settle", 0, "before each target, wait up to this long for the machine's CPUs to go quiet (under 10% busy for 1s; Linux), so that one system's background work does not slow the next")
	f.StringVar(&user, "user", "", "HTTP user (password from $"+PasswordEnv+")")
	f.StringVar(&database, "database", "bench", "HTTP database (created if missing)")
	f.StringVar(&httpClient, "http-client", string(bench.HTTPClientSync), "HTTP client library: sync (each request on its caller's goroutine, keep-alive pool) or net/http")
	f.IntVar(&cfg.Clients, "clients", 16, "concurrent clients")
	f.DurationVar(&cfg.Duration, "duration", 15*time.Second, "measured time per workload")
	f.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "unmeasured time before each measurement")
	f.IntVar(&cfg.Rows, "rows", 100_000, "rows of the point/YCSB table")
	f.IntVar(&cfg.ScanRows, "scan-rows", 1_000_000, "rows of the scan and bulk tables")
	f.IntVar(&cfg.TPCBScale, "tpcb-scale", 10, "scale of the tpcb workload, as pgbench -s: branches (10 tellers and 100 000 accounts each)")
	f.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0: random)")
	f.IntVar(&cfg.Rounds, "rounds", 1, "repeat the whole run this many times, each round starting with the next target; the table shows each system's median round and the range of the per-round ratios")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write the client's CPU profile here")
	return cmd
}
