package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion is the release version; builds may set it with
// -ldflags "-X github.com/camusdb/camusdb-go/internal/cli.buildVersion=v1.2.3".
var buildVersion = "0.1.0-dev"

// VersionString describes this build: version, VCS revision when the binary
// was built from a checkout, and Go version.
func VersionString() string {
	revision := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		dirty := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
				if len(revision) > 12 {
					revision = revision[:12]
				}
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if revision != "" && dirty {
			revision += "-dirty"
		}
	}
	if revision == "" {
		return fmt.Sprintf("camusdb %s (%s)", buildVersion, runtime.Version())
	}
	return fmt.Sprintf("camusdb %s (%s, %s)", buildVersion, revision, runtime.Version())
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this build",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), VersionString())
			return err
		},
	}
}
