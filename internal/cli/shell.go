// This file and the other shell*.go files are camus-cli, the SQL shell
// (SPEC §7), built on package client:
//
//   - shell.go          the cobra command, flags, RunShell, exit codes
//   - shell_session.go  the terminal-independent core: statements, shell
//     commands (use, source, help, clear, exit), the open transaction
//   - shell_repl.go     the interactive loop over a line reader; readline
//   - shell_render.go   result tables and status lines
//   - shell_split.go    the incremental statement splitter
//
// Guarantees: scripts (-e, -f, piped stdin, source) run in order and stop at
// the first error with exit code 1; one explicit transaction at a time,
// carried by (txnIdPT, txnIdCounter) on every statement until COMMIT or
// ROLLBACK, and rolled back on Ctrl-C or when input ends with it open. The
// output lines of render are stable for tests and scripts. Not done: result
// paging, tab completion. The workload subcommands are in workload*.go.

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/chzyer/readline"
	"github.com/spf13/cobra"
)

// Defaults of camus-cli (SPEC §7).
const (
	ShellDefaultURL      = client.DefaultEndpoint
	ShellDefaultDatabase = "test"
)

// Exit codes of camus-cli.
const (
	ShellExitOK          = 0
	ShellExitFailed      = 1 // a statement or command failed, or bad usage
	ShellExitUnreachable = 2 // no endpoint answered the initial ping
)

// shellExitError carries the exit code of an error that was already printed.
type shellExitError struct {
	code int
	err  error
}

func (e *shellExitError) Error() string { return e.err.Error() }
func (e *shellExitError) Unwrap() error { return e.err }

// ShellExitCode maps the error returned by executing the command of
// NewShellCommand to the process exit code: 0 for nil, the shell's own code
// for errors it reported, ShellExitFailed otherwise (cobra prints those).
func ShellExitCode(err error) int {
	if err == nil {
		return ShellExitOK
	}
	var ee *shellExitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ShellExitFailed
}

type shellFlags struct {
	connection string
	urls       []string
	database   string
	execute    []string
	files      []string
	format     string
	timing     bool
	history    string
	user       string
	certsDir   string
}

// NewShellCommand builds the camus-cli root command: the SQL shell.
//
//	camus-cli [database] [-c "Endpoint=URL[,URL...];Database=db"] [--url URL]
//	          [-e SQL]... [-f FILE]... [--format table|tsv] [--timing]
//
// Precedence: --url over the connection string's Endpoint; the positional
// database, then --database, over its Database; defaults
// http://localhost:5095 and "test". The shell pings first and exits with
// ShellExitUnreachable when no endpoint answers. With -e and/or -f (every
// -e first, then every -f, each in order), or with stdin not a terminal, it
// runs the statements in order and stops at the first error (exit 1, the
// error as "ERROR CADBxxxx: message" on stderr); otherwise it is an
// interactive prompt.
func NewShellCommand() *cobra.Command {
	var f shellFlags
	cmd := &cobra.Command{
		Use:   "camus-cli [database]",
		Short: "Interactive SQL shell for CamusDB",
		Long: "camus-cli runs SQL against a CamusDB server over its HTTP API, interactively or from\n" +
			"-e, -f and piped stdin. Type help at the prompt for the shell commands.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Usage errors above are printed by cobra; from here on the
			// shell prints its own errors.
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			return runShell(cmd, args, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.connection, "connection", "c", "", `connection string "Endpoint=http://host:5095[,http://host2:5096];Database=db"`)
	fl.StringSliceVar(&f.urls, "url", nil, "server URL (repeat or comma-separate for several; default "+ShellDefaultURL+")")
	fl.StringVarP(&f.database, "database", "d", "", "database (default "+ShellDefaultDatabase+")")
	fl.StringArrayVarP(&f.execute, "execute", "e", nil, "run these statements and exit (repeatable)")
	fl.StringArrayVarP(&f.files, "file", "f", nil, "run the statements of this file and exit (repeatable)")
	fl.StringVar(&f.format, "format", shellFormatTable, "result format: table or tsv")
	fl.BoolVar(&f.timing, "timing", false, "print statement timing (default: on when interactive)")
	fl.StringVar(&f.history, "history-file", "", "history file (default ~/.camus_cli_history)")
	addUserFlag(fl, &f.user, &f.certsDir)
	return cmd
}

// ShellOptions configures RunShell. Zero values take the defaults of
// camus-cli.
type ShellOptions struct {
	Endpoints []string // default ShellDefaultURL
	Database  string   // default ShellDefaultDatabase
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	// Execute and Files are run in that order; when both are empty the shell
	// reads Stdin: interactively if it is a terminal, as a script otherwise.
	Execute     []string
	Files       []string
	Format      string // "table" (default) or "tsv"
	Timing      *bool  // nil: on when interactive
	HistoryFile string // default ~/.camus_cli_history
	// Credentials authenticate every request (none by default).
	Credentials Credentials
}

// RunShell runs the shell until the input ends, exit/quit, or (for scripts)
// the first error. Errors are printed to Stderr; the returned error maps to
// the process exit code with ShellExitCode. The demo command calls it with
// the endpoints of its in-process cluster.
func RunShell(ctx context.Context, o ShellOptions) error {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Format == "" {
		o.Format = shellFormatTable
	}
	if o.Format != shellFormatTable && o.Format != shellFormatTSV {
		err := fmt.Errorf("--format must be %s or %s", shellFormatTable, shellFormatTSV)
		fmt.Fprintf(o.Stderr, "camus-cli: %v\n", err)
		return &shellExitError{code: ShellExitFailed, err: err}
	}
	if len(o.Endpoints) == 0 {
		o.Endpoints = []string{ShellDefaultURL}
	}
	if o.Database == "" {
		o.Database = ShellDefaultDatabase
	}

	c := client.New(o.Endpoints, o.Credentials.clientOptions()...)
	defer c.Close()
	if err := shellWaitReady(ctx, c, 10*time.Second); err != nil {
		fmt.Fprintf(o.Stderr, "camus-cli: cannot reach CamusDB at %s: %v\n", strings.Join(c.Endpoints(), ", "), err)
		return &shellExitError{code: ShellExitUnreachable, err: err}
	}

	interactive := len(o.Execute) == 0 && len(o.Files) == 0 && shellIsTerminal(o.Stdin)
	s := &shellSession{
		client:      c,
		database:    o.Database,
		out:         o.Stdout,
		errOut:      o.Stderr,
		interactive: interactive,
		timing:      interactive,
		format:      o.Format,
		now:         time.Now,
		progress:    shellIsTerminal(o.Stderr),
	}
	if o.Timing != nil {
		s.timing = *o.Timing
	}
	if interactive {
		lr, err := newShellReadlineReader(o.Stdin, o.Stdout, o.Stderr, o.HistoryFile)
		if err != nil {
			fmt.Fprintf(o.Stderr, "camus-cli: %v\n", err)
			return &shellExitError{code: ShellExitFailed, err: err}
		}
		defer lr.Close()
		fmt.Fprintf(o.Stdout, "Connected to %s, database %s. Type help for help.\n", strings.Join(c.Endpoints(), ", "), o.Database)
		return shellExitFor(s.repl(ctx, lr, shellInterruptContext))
	}
	return shellExitFor(s.runNonInteractive(ctx, o.Stdin, o.Execute, o.Files))
}

// shellWaitReady pings until a node answers, waiting up to limit while nodes
// answer "not ready" (a retryable error, e.g. no Raft leader yet); a refused
// connection or another error fails at once.
func shellWaitReady(ctx context.Context, c *client.Client, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := c.Ping(ctx)
		if err == nil || !client.IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func runShell(cmd *cobra.Command, args []string, f *shellFlags) error {
	var conn client.ConnConfig
	if f.connection != "" {
		var err error
		if conn, err = client.ParseConnectionString(f.connection); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "camus-cli: %v\n", err)
			return &shellExitError{code: ShellExitFailed, err: err}
		}
	}
	endpoints := conn.Endpoints
	if len(f.urls) > 0 {
		endpoints = f.urls
	}
	creds, err := resolveCredentials(f.user, f.certsDir, conn, cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "camus-cli: %v\n", err)
		return &shellExitError{code: ShellExitFailed, err: err}
	}
	o := ShellOptions{
		Credentials: creds,
		Endpoints:   endpoints,
		Database:    shellFirstNonEmpty(shellArgAt(args, 0), f.database, conn.Database),
		Stdin:       cmd.InOrStdin(),
		Stdout:      cmd.OutOrStdout(),
		Stderr:      cmd.ErrOrStderr(),
		Execute:     f.execute,
		Files:       f.files,
		Format:      f.format,
		HistoryFile: f.history,
	}
	if cmd.Flags().Changed("timing") {
		o.Timing = &f.timing
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return RunShell(ctx, o)
}

// shellExitFor turns a session's outcome into the command's error.
func shellExitFor(err error) error {
	if err == nil || errors.Is(err, errShellExit) {
		return nil
	}
	return &shellExitError{code: ShellExitFailed, err: err}
}

// runNonInteractive runs every -e, then every -f, or stdin when there are
// neither. A transaction left open at the end is rolled back and reported
// as a failure, so a script that forgot COMMIT does not exit 0.
func (s *shellSession) runNonInteractive(ctx context.Context, stdin io.Reader, execute, files []string) error {
	err := func() error {
		for _, sql := range execute {
			if err := s.runScript(ctx, strings.NewReader(sql), "-e"); err != nil {
				return err
			}
		}
		for _, path := range files {
			if err := s.source(ctx, path, nil); err != nil {
				return err
			}
		}
		if len(execute) == 0 && len(files) == 0 {
			return s.runScript(ctx, stdin, "<stdin>")
		}
		return nil
	}()
	if err != nil && !errors.Is(err, errShellExit) {
		s.rollbackOpen(context.WithoutCancel(ctx))
		return err
	}
	if s.rollbackOpen(ctx) {
		return s.fail(errors.New("input ended with a transaction open; it was rolled back"), nil)
	}
	return err
}

func shellArgAt(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func shellFirstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// shellIsTerminal reports whether r (an io.Reader or io.Writer) is a
// terminal: then the shell is interactive (stdin), or shows job progress
// (stderr).
func shellIsTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}
