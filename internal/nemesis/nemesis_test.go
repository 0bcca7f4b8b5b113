package nemesis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "camusdb-nemesis-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "camusdb")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = "/usr/local/go/bin/go"
		}
		cmd := exec.Command(goBin, "build", "-o", binary, "./cmd/camusdb")
		wd, _ := os.Getwd()
		cmd.Dir = filepath.Join(wd, "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building camusdb: %v\n%s", err, out)
			return 1
		}
		if b := os.Getenv("NEMESIS_BINARY"); b != "" {
			binary = b // run the suite against another build (e.g. an older one)
		}
		return m.Run()
	}()
	os.Exit(code)
}

// TestFaultMatrix runs every workload under every nemesis on a fresh
// 3-process cluster and requires no anomaly: no lost acknowledged write, no
// linearizability violation, no dependency cycle, a constant bank total, no
// node crashing on its own. Short runs here; CAMUS_LONG=1 runs each pair
// for a minute and prints the table (docs/safety.md has the latest).
func TestFaultMatrix(t *testing.T) {
	duration := 6 * time.Second
	if os.Getenv("CAMUS_LONG") != "" {
		duration = time.Minute
	}
	if d, err := time.ParseDuration(os.Getenv("NEMESIS_DURATION")); err == nil {
		duration = d
	}
	var table []string
	for _, w := range Workloads() {
		for _, nem := range Nemeses() {
			w := w
			name := w.Name() + "/" + nem.Name()
			ok := t.Run(name, func(t *testing.T) {
				fresh := freshWorkload(w)
				rep, err := Run(context.Background(), fresh, nem, RunOptions{
					Binary: binary, Dir: t.TempDir(), Duration: duration, Seed: time.Now().UnixNano(),
				})
				if err != nil {
					t.Fatal(err)
				}
				table = append(table, rep.String())
				t.Log(rep.String())
				t.Logf("faults: %s", strings.Join(rep.Faults, "; "))
				if rep.OK == 0 {
					t.Errorf("no operation succeeded: the run proves nothing")
				}
				for _, a := range rep.Anomalies {
					t.Error(a)
				}
				if rep.Diagnostics != "" {
					t.Logf("diagnostics:\n%s", rep.Diagnostics)
				}
			})
			_ = ok
		}
	}
	t.Logf("\n%s", strings.Join(table, "\n"))
}

// freshWorkload returns a new, empty instance of w's kind.
func freshWorkload(w Workload) Workload {
	for _, f := range Workloads() {
		if f.Name() == w.Name() {
			return f
		}
	}
	panic("unknown workload " + w.Name())
}

// TestFaultMatrixSecure runs the bank workload under kill -9 and partition
// on clusters deployed as on a network: HTTPS, mutual TLS between nodes
// (through the suite's proxies), a root password, authenticated clients.
func TestFaultMatrixSecure(t *testing.T) {
	duration := 5 * time.Second
	if os.Getenv("CAMUS_LONG") != "" {
		duration = time.Minute
	}
	for _, nem := range []Nemesis{killNemesis{}, partitionNemesis{}} {
		t.Run("bank/"+nem.Name(), func(t *testing.T) {
			rep, err := Run(context.Background(), &bankWorkload{}, nem, RunOptions{
				Binary: binary, Dir: t.TempDir(), Duration: duration, Seed: time.Now().UnixNano(), Secure: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("secure %s", rep.String())
			if rep.OK == 0 {
				t.Errorf("no operation succeeded: the run proves nothing")
			}
			for _, a := range rep.Anomalies {
				t.Error(a)
			}
		})
	}
}
