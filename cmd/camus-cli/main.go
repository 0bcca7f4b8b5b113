// Command camus-cli is the interactive SQL shell of CamusDB and its workload
// driver (SPEC §7).
package main

import (
	"os"

	"github.com/camusdb/camusdb-go/internal/cli"
)

func main() {
	root := cli.NewShellCommand()
	cli.AddWorkloadCommand(root)
	cli.AddBenchCommand(root)
	os.Exit(cli.ShellExitCode(root.Execute()))
}
