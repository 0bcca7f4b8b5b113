package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// errDemoNotImplemented is what `camusdb demo` answers until the in-process
// cluster harness exists.
var errDemoNotImplemented = errors.New(`"camusdb demo" is not implemented yet; ` +
	`run "camusdb start" and connect with "camus-cli" instead`)

func newDemoCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a throw-away in-memory N-node cluster with a SQL shell (not implemented yet)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errDemoNotImplemented
		},
	}
	cmd.Flags().Int("nodes", 3, "number of nodes in the demo cluster")
	return cmd
}
