package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
)

// Prompts of the interactive shell.
const (
	shellPrompt         = "camus> "
	shellContinuePrompt = "   -> "
)

// errShellInterrupt is what a line reader returns for Ctrl-C at the prompt.
var errShellInterrupt = errors.New("interrupt")

// shellLineReader is the terminal seen by the interactive loop; tests use a
// scripted one.
type shellLineReader interface {
	// ReadLine shows prompt and returns one line without its newline,
	// io.EOF at end of input (Ctrl-D) or errShellInterrupt (Ctrl-C).
	ReadLine(prompt string) (string, error)
	// SaveHistory records a complete statement or command.
	SaveHistory(entry string)
}

// shellInterruptFunc derives a context cancelled by Ctrl-C while a statement runs.
type shellInterruptFunc func(context.Context) (context.Context, context.CancelFunc)

// shellInterruptContext cancels on SIGINT: the terminal is not in raw mode while
// a statement runs, so Ctrl-C arrives as a signal.
func shellInterruptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt)
}

// repl is the interactive loop: prompt, read until a statement completes,
// run it, print the result or the error, repeat. Errors of statements are
// printed and the loop goes on; it returns nil when the user leaves.
//
// Ctrl-C discards the input typed so far and rolls back the open
// transaction; while a statement runs it cancels that statement (and rolls
// back the transaction). exit/quit are refused while a transaction is open;
// so is Ctrl-D the first time, the second rolls back and leaves.
func (s *shellSession) repl(ctx context.Context, lr shellLineReader, interrupt shellInterruptFunc) error {
	var sp shellSplitter
	var typed []string // lines of the statement in progress, for history
	eofWarned := false
	for {
		prompt := shellPrompt
		if !sp.idle() {
			prompt = shellContinuePrompt
		}
		line, err := lr.ReadLine(prompt)
		switch {
		case errors.Is(err, errShellInterrupt):
			discarded := !sp.idle()
			sp.reset()
			typed = typed[:0]
			switch {
			case s.rollbackOpen(ctx):
				fmt.Fprintln(s.out, "ROLLBACK (interrupted)")
			case !discarded:
				fmt.Fprintln(s.out, "(type exit or quit to leave)")
			}
			continue
		case errors.Is(err, io.EOF):
			if s.txn != nil && !eofWarned {
				eofWarned = true
				fmt.Fprintln(s.errOut, "ERROR: a transaction is open: COMMIT or ROLLBACK it (Ctrl-D again rolls it back and exits)")
				continue
			}
			if s.rollbackOpen(ctx) {
				fmt.Fprintln(s.out, "ROLLBACK")
			}
			return nil
		case err != nil:
			return err
		}
		eofWarned = false
		typed = append(typed, strings.TrimSpace(line))

		runCtx, stop := interrupt(ctx)
		err = s.handleLine(runCtx, &sp, line+"\n", shellScriptPos{source: "<stdin>"})
		interrupted := runCtx.Err() != nil && ctx.Err() == nil
		stop()
		if sp.idle() {
			if entry := strings.TrimSpace(strings.Join(typed, " ")); entry != "" {
				lr.SaveHistory(entry)
			}
			typed = typed[:0]
		}
		if interrupted {
			sp.reset()
			typed = typed[:0]
			if s.rollbackOpen(ctx) {
				fmt.Fprintln(s.out, "ROLLBACK (interrupted)")
			}
		}
		switch {
		case errors.Is(err, errShellExit):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
	}
}

// shellReadlineReader is the terminal line editor: arrows, Ctrl-A/E, Ctrl-R
// history search, history persisted in the user's home.
type shellReadlineReader struct{ rl *readline.Instance }

func newShellReadlineReader(stdin io.Reader, stdout, stderr io.Writer, historyFile string) (*shellReadlineReader, error) {
	if historyFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			historyFile = filepath.Join(home, ".camus_cli_history")
		}
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 shellPrompt,
		HistoryFile:            historyFile,
		HistoryLimit:           5000,
		DisableAutoSaveHistory: true, // whole statements are saved, not lines
		HistorySearchFold:      true,
		InterruptPrompt:        "^C",
		EOFPrompt:              "",
		Stdin:                  io.NopCloser(stdin),
		Stdout:                 stdout,
		Stderr:                 stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("starting line editor: %w", err)
	}
	return &shellReadlineReader{rl: rl}, nil
}

func (r *shellReadlineReader) ReadLine(prompt string) (string, error) {
	r.rl.SetPrompt(prompt)
	line, err := r.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errShellInterrupt
	}
	return line, err
}

func (r *shellReadlineReader) SaveHistory(entry string) { _ = r.rl.SaveHistory(entry) }

func (r *shellReadlineReader) Close() error { return r.rl.Close() }
