// Command camus-dump writes a logical backup of a CamusDB database as SQL
// text that camus-cli -f restores (SPEC §8).
package main

import (
	"os"

	"github.com/camusdb/camusdb-go/internal/cli"
)

func main() {
	os.Exit(cli.DumpExitCode(cli.NewDumpCommand().Execute()))
}
