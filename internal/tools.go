//go:build tools

// Package internal pins dependencies that packages being written now will
// import, so go.mod stays stable while they land.
package internal

import (
	_ "github.com/anishathalye/porcupine"
	_ "github.com/chzyer/readline"
	_ "github.com/cockroachdb/datadriven"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jedib0t/go-pretty/v6/table"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/raft/v3"
	_ "go.uber.org/goleak"
	_ "google.golang.org/grpc"
	_ "gopkg.in/yaml.v3"
)
