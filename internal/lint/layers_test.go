package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goListPackage is the part of `go list -json` output the checks read.
type goListPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// listModulePackages runs `go list -e -json ./...` at the module root.
func listModulePackages(t *testing.T) []Package {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Error", "./...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goListPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		if p.Error != nil {
			// A package that does not build (someone is mid-change) is the
			// compiler's business; check the imports go list could read.
			t.Logf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, Package{
			ImportPath:  p.ImportPath,
			Imports:     p.Imports,
			TestImports: append(p.TestImports, p.XTestImports...),
		})
	}
	return pkgs
}

// TestLayering checks the whole module against the layer table.
func TestLayering(t *testing.T) {
	pkgs := listModulePackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages; is the test running in the module?", len(pkgs))
	}
	var sawStorage bool
	for _, p := range pkgs {
		sawStorage = sawStorage || p.ImportPath == Module+"/internal/storage"
	}
	if !sawStorage {
		t.Fatal("internal/storage not listed: go list did not see the module")
	}
	for _, v := range Check(pkgs, Layers, Exclusive) {
		t.Error(v)
	}
}

func mod(rel string) string { return Module + "/" + rel }

// TestCheckFindsViolations runs the checker on made-up packages, so a
// checker that accepted everything could not pass.
func TestCheckFindsViolations(t *testing.T) {
	pkgs := []Package{
		// fine: lower layers, own subpackage, stdlib, third party
		{ImportPath: mod("internal/kv"), Imports: []string{"context", mod("internal/kv/kvserver"), mod("internal/mvcc"), mod("internal/hlc"), "github.com/spf13/cobra"}},
		{ImportPath: mod("internal/kv/kvserver"), Imports: []string{mod("internal/replica"), mod("internal/storage")}},
		{ImportPath: mod("internal/sql/catalog/catalogtest"), Imports: []string{mod("internal/sql/catalog")}},
		{ImportPath: mod("internal/sql/plan"), Imports: []string{mod("internal/sql/exec"), mod("internal/sql/eval")}},
		{ImportPath: mod("internal/sql/session"), Imports: []string{mod("internal/sql/exec"), mod("internal/kv")}},
		{ImportPath: mod("internal/httpapi"), Imports: []string{mod("internal/sql/session"), mod("internal/sql/types"), mod("internal/util/errcode")}},
		{ImportPath: mod("internal/server"), Imports: []string{mod("internal/httpapi"), mod("internal/pgwire"), mod("internal/storage")}},
		{ImportPath: mod("internal/cli"), Imports: []string{mod("client"), mod("internal/server")}},
		{ImportPath: mod("cmd/camusdb"), Imports: []string{mod("internal/cli")}},
		{ImportPath: mod("internal/storage"), Imports: []string{"github.com/cockroachdb/pebble/v2/vfs"}},
		{ImportPath: mod("internal/replica"), Imports: []string{"go.etcd.io/raft/v3", "go.etcd.io/raft/v3/raftpb"}},
		{ImportPath: mod("internal/rpc"), Imports: []string{"go.etcd.io/raft/v3/raftpb"}},
		{ImportPath: mod("internal/mvcc"), TestImports: []string{mod("internal/sql/types")}}, // test imports are not layered
		{ImportPath: "example.com/other", Imports: []string{mod("internal/server")}},         // outside the module

		// violations
		{ImportPath: mod("internal/storage"), Imports: []string{mod("internal/kv")}},
		{ImportPath: mod("internal/httpapi"), Imports: []string{mod("internal/kvpb")}},
		{ImportPath: mod("internal/pgwire"), Imports: []string{mod("internal/sql/parser"), mod("internal/sql/exec")}}, // parser allowed (statement splitting), exec not
		{ImportPath: mod("internal/sql/exec"), Imports: []string{mod("internal/sql/session")}},
		{ImportPath: mod("internal/raftlog"), Imports: []string{mod("internal/rpc")}},
		{ImportPath: mod("internal/mvcc"), Imports: []string{"github.com/cockroachdb/pebble/v2"}},
		{ImportPath: mod("internal/kv"), TestImports: []string{"github.com/cockroachdb/pebble/v2/vfs"}},
		{ImportPath: mod("internal/rpc"), Imports: []string{"go.etcd.io/raft/v3"}},
		{ImportPath: mod("internal/kv"), Imports: []string{"go.etcd.io/raft/v3/raftpb"}},
		{ImportPath: mod("cmd/camusdb"), Imports: []string{mod("internal/server")}},
		{ImportPath: mod("internal/newthing")},
		{ImportPath: mod("internal/kv"), Imports: []string{mod("internal/unknown")}},
	}
	got := Check(pkgs, Layers, Exclusive)
	want := []string{
		"cmd/camusdb imports " + mod("internal/server"),
		"internal/httpapi imports " + mod("internal/kvpb"),
		"internal/kv imports " + mod("internal/unknown"),
		"internal/kv imports go.etcd.io/raft/v3/raftpb",
		"internal/kv imports github.com/cockroachdb/pebble/v2/vfs",
		"internal/mvcc imports github.com/cockroachdb/pebble/v2",
		"internal/newthing: package is not in the layer table",
		"internal/pgwire imports " + mod("internal/sql/exec"),
		"internal/raftlog imports " + mod("internal/rpc"),
		"internal/rpc imports go.etcd.io/raft/v3",
		"internal/sql/exec imports " + mod("internal/sql/session"),
		"internal/storage imports " + mod("internal/kv"),
	}
	var texts []string
	for _, v := range got {
		texts = append(texts, v.String())
	}
	joined := strings.Join(texts, "\n")
	for _, w := range want {
		if !strings.Contains(joined, mod(w)) && !strings.Contains(joined, Module+"/"+w) {
			t.Errorf("missing violation %q in:\n%s", w, joined)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d violations, want %d:\n%s", len(got), len(want), joined)
	}
}
