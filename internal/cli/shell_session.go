package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/client"
)

// shellSession is the terminal-independent core of camus-cli: it runs
// statements and shell commands against a client, keeps the current database
// and the open transaction, and renders results. Scripts (-e, -f, piped
// stdin, source) go through runScript; the interactive prompt drives
// handleLine through repl (shell_repl.go).
type shellSession struct {
	client      *client.Client
	database    string
	txn         *client.Txn
	out, errOut io.Writer
	interactive bool
	timing      bool
	format      string // shellFormatTable or shellFormatTSV
	now         func() time.Time
	// sourceDepth bounds nested `source` commands.
	sourceDepth int
	// progress draws the progress of the schema-change job a DDL
	// statement waits for (shell_progress.go); set when the error stream
	// is a terminal. progressEvery is the poll interval (0: the default).
	progress      bool
	progressEvery time.Duration
}

// errShellExit is returned by a command that ends the session (exit, quit).
var errShellExit = errors.New("exit")

// errShellStatement marks a failure that was already printed.
type errShellStatement struct{ err error }

func (e *errShellStatement) Error() string { return e.err.Error() }
func (e *errShellStatement) Unwrap() error { return e.err }

// shellScriptPos says where a statement came from, for error messages.
type shellScriptPos struct {
	source string // file name, "-e" or "<stdin>"
	line   int    // line where the statement starts
}

// runScript executes the statements and shell commands read from r in
// order. In a non-interactive session it stops at the first failure and
// returns it (already printed); interactively (source) too, so a broken
// script does not half-run.
func (s *shellSession) runScript(ctx context.Context, r io.Reader, source string) error {
	var sp shellSplitter
	br := bufio.NewReaderSize(r, 64<<10)
	lineNo, stmtLine := 0, 1
	for {
		line, readErr := br.ReadString('\n')
		if readErr != nil && readErr != io.EOF {
			return s.fail(fmt.Errorf("reading %s: %w", source, readErr), nil)
		}
		if line != "" {
			lineNo++
			if sp.idle() {
				stmtLine = lineNo
			}
			if err := s.handleLine(ctx, &sp, line, shellScriptPos{source, stmtLine}); err != nil {
				return err
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	if stmt, ok := sp.flush(); ok {
		return s.runStatement(ctx, stmt, &shellScriptPos{source, stmtLine})
	}
	return nil
}

// handleLine feeds one input line (with its newline, if any): a shell
// command when no statement is in progress, else SQL for the splitter;
// every statement it completes is run.
func (s *shellSession) handleLine(ctx context.Context, sp *shellSplitter, line string, pos shellScriptPos) error {
	if sp.idle() {
		if name, arg, rest, ok := parseShellCommand(line); ok {
			sp.reset()
			if err := s.runCommand(ctx, name, arg, &pos); err != nil {
				return err
			}
			line = rest
		}
	}
	for _, stmt := range sp.feed(line) {
		if err := s.runStatement(ctx, stmt, &pos); err != nil {
			return err
		}
	}
	return nil
}

// shellCommands are the words that start a shell command instead of SQL
// when they open a statement. USE is here too: the session tracks the
// current database.
var shellCommands = map[string]string{
	"use": "use", "source": "source", `\.`: "source", "clear": "clear",
	"exit": "exit", "quit": "exit", `\q`: "exit", "help": "help", `\h`: "help", `\?`: "help",
}

// parseShellCommand recognises "word [argument][;][rest]" at the start of
// a line. The command ends at the first ';' or the end of the line; what
// follows a ';' (with the line's newline) is returned as rest, to be read
// as SQL.
func parseShellCommand(line string) (name, arg, rest string, ok bool) {
	body := strings.TrimLeft(line, " \t\r\n")
	end := strings.IndexAny(body, " \t\r\n;")
	if end < 0 {
		end = len(body)
	}
	name, ok = shellCommands[strings.ToLower(body[:end])]
	if !ok {
		return "", "", "", false
	}
	arg = body[end:]
	if i := strings.IndexByte(arg, ';'); i >= 0 {
		arg, rest = arg[:i], arg[i+1:]
	}
	return name, strings.TrimSpace(arg), rest, true
}

func (s *shellSession) runCommand(ctx context.Context, name, arg string, pos *shellScriptPos) error {
	switch name {
	case "exit":
		if s.txn != nil {
			return s.fail(errors.New("a transaction is open: COMMIT or ROLLBACK it before exiting"), pos)
		}
		return errShellExit
	case "help":
		fmt.Fprint(s.out, shellHelp)
		return nil
	case "clear":
		if s.interactive {
			fmt.Fprint(s.out, "\033[H\033[2J")
		}
		return nil
	case "use":
		return s.use(ctx, arg, pos)
	case "source":
		return s.source(ctx, arg, pos)
	}
	return nil
}

func (s *shellSession) use(ctx context.Context, name string, pos *shellScriptPos) error {
	name = strings.Trim(name, "`\"' ")
	if name == "" {
		return s.fail(errors.New("usage: use DATABASE"), pos)
	}
	if s.txn != nil {
		return s.fail(errors.New("cannot change database while a transaction is open"), pos)
	}
	// The server checks that the database exists; the new name comes back.
	// A server that does not know USE (syntax error, unsupported) cannot
	// check: the name is taken as given.
	res, err := s.client.Query(ctx, name, "USE "+shellQuoteIdent(name), nil, nil)
	switch code := client.CodeOf(err); {
	case err == nil:
	case code == client.CodeSyntaxError || code == client.CodeUnsupported:
		res = &client.Result{}
	default:
		return s.fail(err, pos)
	}
	s.database = name
	if res.Database != "" {
		s.database = res.Database
	}
	fmt.Fprintf(s.out, "Database changed to %s\n", s.database)
	return nil
}

// shellQuoteIdent back-quotes an identifier for USE.
func shellQuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func (s *shellSession) source(ctx context.Context, path string, pos *shellScriptPos) error {
	path = strings.Trim(path, "\"' ")
	if path == "" {
		return s.fail(errors.New("usage: source FILE"), pos)
	}
	if strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	if s.sourceDepth >= 16 {
		return s.fail(errors.New("source: nested too deeply"), pos)
	}
	f, err := os.Open(path)
	if err != nil {
		return s.fail(err, pos)
	}
	defer f.Close()
	s.sourceDepth++
	defer func() { s.sourceDepth-- }()
	return s.runScript(ctx, f, path)
}

// runStatement sends one SQL statement and prints its outcome.
func (s *shellSession) runStatement(ctx context.Context, stmt string, pos *shellScriptPos) error {
	first, second := shellLeadingKeywords(stmt)
	isBegin := first == "BEGIN" || (first == "START" && second == "TRANSACTION")
	endsTxn := first == "COMMIT" || first == "ROLLBACK"
	if isBegin && s.txn != nil {
		return s.fail(errors.New("a transaction is already open"), pos)
	}
	start := s.now()
	stopProgress := s.watchJob(ctx, stmt)
	res, err := s.client.Query(ctx, s.database, stmt, nil, s.txn)
	stopProgress()
	elapsed := s.now().Sub(start)
	if err != nil {
		if s.txn != nil && (endsTxn || client.CodeOf(err) == client.CodeTxnClosed) {
			// The transaction is over whatever the error: a failed COMMIT
			// aborted it (or its outcome is unknown, CADB0505).
			s.txn = nil
		}
		return s.fail(err, pos)
	}
	if res.Txn != nil {
		s.txn = res.Txn
	}
	if endsTxn {
		s.txn = nil
	}
	if res.Database != "" && !isBegin {
		s.database = res.Database
	}
	s.render(res, first, elapsed)
	return nil
}

// fail prints err to the error stream and returns it marked as reported.
// In interactive mode the session continues; scripts stop.
func (s *shellSession) fail(err error, pos *shellScriptPos) error {
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && ce.Code != "":
		fmt.Fprintf(s.errOut, "ERROR %s: %s\n", ce.Code, ce.Message)
	default:
		fmt.Fprintf(s.errOut, "ERROR: %v\n", err)
	}
	if pos != nil && !s.interactive {
		fmt.Fprintf(s.errOut, "  at %s:%d\n", pos.source, pos.line)
	}
	return &errShellStatement{err: err}
}

// rollbackOpen rolls back the open transaction, if any (Ctrl-C, end of a
// script with a transaction still open).
func (s *shellSession) rollbackOpen(ctx context.Context) bool {
	if s.txn == nil {
		return false
	}
	txn := s.txn
	s.txn = nil
	if _, err := s.client.Query(ctx, s.database, "ROLLBACK", nil, txn); err != nil &&
		client.CodeOf(err) != client.CodeTxnClosed {
		fmt.Fprintf(s.errOut, "WARNING: rollback failed: %v\n", err)
	}
	return true
}

const shellHelp = `Statements end with ';' and may span lines. Shell commands (no ';' needed):
  use DATABASE      switch the current database
  source FILE       run the statements of FILE (also \. FILE)
  begin; commit; rollback;
                    explicit transaction (one at a time; Ctrl-C rolls it back)
  clear             clear the screen
  help              this text (also \h, \?)
  exit, quit        leave the shell (refused while a transaction is open)
Line editing: arrows, Ctrl-A/E, Ctrl-R searches the history (~/.camus_cli_history).
`
