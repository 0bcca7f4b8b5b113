package cli

import (
	"github.com/spf13/cobra"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// NewCamusDBCommand returns the root command of the camusdb server binary.
//
//	camusdb [start] [flags]   run a node (start is the default subcommand)
//	camusdb demo              throw-away in-memory N-node cluster + SQL shell (demo.go)
//	camusdb version           print the version
//
// Errors are returned, not printed: the caller (cmd/camusdb) prints them and
// exits non-zero.
func NewCamusDBCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "camusdb",
		Short: "CamusDB server: a NewSQL database (SQL on a transactional, Raft-replicated KV store)",
		Long: `camusdb runs a CamusDB node. With no subcommand it behaves as "camusdb start":
a standalone node serving HTTP on 127.0.0.1:5095 with its data in ./camusdb-data.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       VersionString(),
	}
	// The root accepts start's flags so that bare `camusdb --http-port 0` works.
	rootStart := addStartFlags(root)
	root.RunE = func(cmd *cobra.Command, _ []string) error { return runStart(cmd, rootStart) }
	root.SetVersionTemplate("{{.Version}}\n")
	// A flag that does not parse (--http-port abc) is invalid configuration
	// like a value that breaks a rule (SPEC §1.1): CADB0600. Subcommands
	// inherit this from the root.
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newStartCommand(), newDemoCommand(), newVersionCommand(), newCertCommand())
	return root
}

// flagError turns a flag parse error into CADB0600, keeping the parser's
// message, which names the flag and the value.
func flagError(_ *cobra.Command, err error) error {
	return errcode.New(errcode.InvalidConfig, "invalid configuration: %v", err)
}
