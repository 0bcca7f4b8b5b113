package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/server"
)

// demoFlags are the flags of `camusdb demo`.
type demoFlags struct {
	nodes      int
	partitions int
	database   string
	execute    []string
	files      []string
	format     string
	logLevel   string
	history    string
}

// demoStartTimeout bounds the start of the demo cluster (elections included).
const demoStartTimeout = time.Minute

func newDemoCommand() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a throw-away in-memory N-node cluster with a SQL shell",
		Long: `camusdb demo starts an N-node cluster inside this process, every node with an
in-memory engine and ephemeral loopback ports, creates the database "test" and
opens the camus-cli shell against all the nodes. Everything is lost on exit.

The nodes' HTTP addresses are printed at start, so other clients (camus-cli,
curl, /metrics, /cluster/status) can connect while the demo runs. With -e
and/or -f the statements run (stopping at the first error, exit 1) and the
demo exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.nodes, "nodes", server.DemoDefaultNodes, "number of nodes in the demo cluster (1 runs a standalone node)")
	fl.IntVar(&f.partitions, "partitions", server.DemoDefaultPartitions, "number of partitions (Raft groups)")
	fl.StringVarP(&f.database, "database", "d", ShellDefaultDatabase, "database created at start and used by the shell")
	fl.StringArrayVarP(&f.execute, "execute", "e", nil, "run these statements and exit (repeatable)")
	fl.StringArrayVarP(&f.files, "file", "f", nil, "run the statements of this file and exit (repeatable)")
	fl.StringVar(&f.format, "format", shellFormatTable, "result format: table or tsv")
	fl.StringVar(&f.logLevel, "log-level", "warn", "log level of the nodes: debug, info, warn or error")
	fl.StringVar(&f.history, "history-file", "", "shell history file (default ~/.camus_cli_history)")
	return cmd
}

func runDemo(cmd *cobra.Command, f *demoFlags) error {
	// Zero means "default" to StartDemoCluster; on the command line it is a mistake.
	if f.nodes < 1 {
		return fmt.Errorf("--nodes must be at least 1, got %d", f.nodes)
	}
	if f.partitions < 1 {
		return fmt.Errorf("--partitions must be at least 1, got %d", f.partitions)
	}
	level, err := parseDemoLogLevel(f.logLevel)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	// Only SIGTERM ends the demo from outside: Ctrl-C belongs to the shell
	// (it cancels the running statement and rolls back the transaction).
	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stopSignals()

	startCtx, cancel := context.WithTimeout(ctx, demoStartTimeout)
	cluster, err := server.StartDemoCluster(startCtx, server.DemoOptions{
		Nodes: f.nodes, Partitions: f.partitions, Logger: logger,
	})
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cluster.Stop(stopCtx); err != nil {
			logger.Warn("demo: stopping the cluster", "err", err)
		}
	}()

	urls := make([]string, 0, len(cluster.HTTPAddrs()))
	for _, addr := range cluster.HTTPAddrs() {
		urls = append(urls, "http://"+addr)
	}
	printDemoBanner(stderr, f, urls)
	if err := demoCreateDatabase(ctx, urls, f.database); err != nil {
		return fmt.Errorf("demo: creating database %q: %w", f.database, err)
	}
	return RunShell(ctx, ShellOptions{
		Endpoints:   urls,
		Database:    f.database,
		Stdin:       cmd.InOrStdin(),
		Stdout:      cmd.OutOrStdout(),
		Stderr:      stderr,
		Execute:     f.execute,
		Files:       f.files,
		Format:      f.format,
		HistoryFile: f.history,
	})
}

func parseDemoLogLevel(s string) (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", s)
	}
	return level, nil
}

func printDemoBanner(w io.Writer, f *demoFlags, urls []string) {
	fmt.Fprintf(w, "CamusDB demo: %d node(s), %d partition(s), in memory — everything is lost on exit.\n",
		len(urls), f.partitions)
	for i, u := range urls {
		fmt.Fprintf(w, "  node %d  %s\n", i+1, u)
	}
	fmt.Fprintf(w, "Other clients: camus-cli --url %s %s\n", urls[0], f.database)
}

// demoCreateDatabase creates the shell's database, retrying while the
// fresh cluster answers with retryable errors (e.g. a leader just moved).
func demoCreateDatabase(ctx context.Context, urls []string, name string) error {
	c := client.New(urls)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		err := c.CreateDB(ctx, name, true)
		if err == nil || !client.IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
