// Command camusdb is the CamusDB server. See internal/cli for its commands
// and docs/configuration.md for its configuration.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/camusdb/camusdb-go/internal/cli"
)

func main() {
	if err := cli.NewCamusDBCommand().ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "camusdb:", err)
		os.Exit(1)
	}
}
