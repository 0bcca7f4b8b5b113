package nemesis

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/client"
)

// RunOptions configure one run of a workload under a nemesis.
type RunOptions struct {
	Binary string // the camusdb executable
	Dir    string // scratch directory for the nodes' data
	// Duration of the workload (the nemesis acts throughout).
	Duration time.Duration
	// Clients running the workload concurrently (default 6).
	Clients int
	// Seed for the random choices of clients and nemesis.
	Seed int64
	// Secure runs a cluster with certificates and a root password.
	Secure bool
}

// Report is the outcome of one run.
type Report struct {
	Workload, Nemesis   string
	OK, Failed, Unknown int64
	Faults              []string
	Anomalies           []string
	// Diagnostics, when there are anomalies: each node's cluster status
	// and its last log lines, taken after the checks.
	Diagnostics string
}

// String is one line of the suite's table.
func (r Report) String() string {
	return fmt.Sprintf("%-12s %-10s %6d ok %6d failed %5d unknown %3d faults %3d anomalies",
		r.Workload, r.Nemesis, r.OK, r.Failed, r.Unknown, len(r.Faults), len(r.Anomalies))
}

// Run starts a cluster, runs the workload for the duration while the
// nemesis injects faults, heals everything, and checks.
func Run(ctx context.Context, w Workload, nem Nemesis, opts RunOptions) (Report, error) {
	rep := Report{Workload: w.Name(), Nemesis: nem.Name()}
	if opts.Clients == 0 {
		opts.Clients = 6
	}
	copts := ClusterOptions{Binary: opts.Binary, Dir: opts.Dir, Secure: opts.Secure}
	nem.Configure(&copts)
	var c *Cluster
	var err error
	for attempt := 0; ; attempt++ {
		// A port reserved and released for a node can be taken by another
		// process before the node binds it: start again on fresh ports.
		copts.Dir = fmt.Sprintf("%s/try%d", opts.Dir, attempt)
		c, err = StartCluster(copts)
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		return rep, err
	}
	defer c.Close()
	db := newClients(c, "nemesis")
	defer db.close()
	setupCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := db.retry(setupCtx, func(cl *client.Client) error {
		return cl.CreateDB(setupCtx, db.db, true)
	}); err != nil {
		return rep, fmt.Errorf("create database: %w", err)
	}
	if err := w.Setup(setupCtx, db); err != nil {
		return rep, fmt.Errorf("setup: %w", err)
	}

	runCtx, stop := context.WithTimeout(ctx, opts.Duration)
	defer stop()
	var st Stats
	var wg sync.WaitGroup
	for i := range opts.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.Worker(runCtx, db, i, rand.New(rand.NewSource(opts.Seed+int64(i))), &st)
		}()
	}
	nemDone := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewSource(opts.Seed - 1))
		for runCtx.Err() == nil {
			hold(runCtx, between(rng, 300*time.Millisecond, time.Second))
			if runCtx.Err() != nil {
				break
			}
			desc, err := nem.Fault(runCtx, c, rng)
			if err != nil {
				nemDone <- err
				return
			}
			rep.Faults = append(rep.Faults, desc)
		}
		nemDone <- nil
	}()
	wg.Wait()
	nemErr := <-nemDone
	c.Heal()
	if nemErr != nil {
		return rep, fmt.Errorf("nemesis: %w", nemErr)
	}
	rep.OK, rep.Failed, rep.Unknown = st.OK.Load(), st.Failed.Load(), st.Unknown.Load()
	for _, u := range st.unexpected {
		rep.Anomalies = append(rep.Anomalies, "unexpected error: "+u)
	}
	if err := c.Crashed(); err != nil {
		rep.Anomalies = append(rep.Anomalies, "crash: "+firstLines(err.Error(), 40))
	}
	checkCtx, cancelCheck := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelCheck()
	rep.Anomalies = append(rep.Anomalies, w.Check(checkCtx, db)...)
	rep.Anomalies = append(rep.Anomalies, CheckReplicas(checkCtx, c)...)
	if len(rep.Anomalies) > 0 {
		rep.Diagnostics = c.Diagnose(ctx)
	}
	return rep, nil
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}
