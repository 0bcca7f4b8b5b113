// Command camus-cli is the interactive SQL shell of CamusDB (SPEC §7).
package main

import (
	"os"

	"github.com/camusdb/camusdb-go/internal/cli"
)

func main() {
	os.Exit(cli.ShellExitCode(cli.NewShellCommand().Execute()))
}
