package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Module is the import path of this module.
const Module = "github.com/camusdb/camusdb-go"

// Group is one row of the layer table: a package path (relative to the
// module root) together with all packages below it.
type Group struct {
	// Path is the package directory relative to the module, e.g. "internal/kv".
	Path string
	// Level orders groups: a group may import groups of strictly lower level.
	// The integer part is the layer of ARCHITECTURE.md (L0..L5, 6 = outside
	// the layers: mains, public client, system tests); the fraction orders
	// packages inside one layer.
	Level float64
	// Peers lets groups of the same level import each other (Go itself
	// forbids cycles).
	Peers bool
	// Only, when non-nil, replaces the level rule for module packages: the
	// group may import only these groups (and its own).
	Only []string
	// Also lists extra groups this one may import regardless of level.
	Also []string
}

// Layers is the layer table of ARCHITECTURE.md "Package layout".
var Layers = []Group{
	// L0: foundations.
	{Path: "internal/util", Level: 0},
	{Path: "internal/hlc", Level: 0.1},
	{Path: "internal/kvpb", Level: 0.2},
	// L1: the engine.
	{Path: "internal/storage", Level: 1},
	{Path: "internal/mvcc", Level: 1.1},
	// L2: replication.
	{Path: "internal/raftlog", Level: 2},
	{Path: "internal/rpc", Level: 2.2}, // implements replica.Transport
	{Path: "internal/replica", Level: 2.1},
	// L3: transactions.
	{Path: "internal/kv", Level: 3},
	{Path: "internal/kv/kvremote", Level: 3.1}, // routes kv.Sender calls to leaders over rpc
	// L4: SQL. types and ast are the base; the engine packages may use each
	// other; session is the top, the only SQL package front-ends see.
	{Path: "internal/sql/types", Level: 4},
	{Path: "internal/sql/mon", Level: 4.05}, // memory budgets; imports nothing of ours
	{Path: "internal/sql/ast", Level: 4.1},
	{Path: "internal/sql/parser", Level: 4.2, Peers: true},
	{Path: "internal/sql/builtins", Level: 4.2, Peers: true},
	{Path: "internal/sql/eval", Level: 4.2, Peers: true},
	{Path: "internal/sql/rowenc", Level: 4.2, Peers: true},
	{Path: "internal/sql/catalog", Level: 4.2, Peers: true},
	{Path: "internal/sql/catalog/lease", Level: 4.25}, // descriptor cache under schema leases; session uses it
	{Path: "internal/sql/jobs", Level: 4.25},          // jobs table and runner; session uses it
	{Path: "internal/sql/plan", Level: 4.2, Peers: true},
	{Path: "internal/sql/exec", Level: 4.2, Peers: true},
	{Path: "internal/sql/exec/spill", Level: 4.15}, // spill files; rows of sql/types
	{Path: "internal/sql/privilege", Level: 4.2, Peers: true},
	{Path: "internal/sql/pgcatalog", Level: 4.2, Peers: true}, // pg_catalog / information_schema rows
	{Path: "internal/sql/session", Level: 4.3},
	// L5: front-ends, node composition, commands.
	{Path: "internal/httpapi", Level: 5, Only: frontEndImports},
	{Path: "internal/pgwire", Level: 5, Only: pgwireImports},
	{Path: "internal/server/auth", Level: 5.05, Only: authImports},
	{Path: "internal/server", Level: 5.1},
	{Path: "internal/testcluster", Level: 5.2},
	{Path: "internal/cli", Level: 5.2, Also: []string{"client"}},
	// The benchmark driver: the public client and pgx, nothing of the node.
	{Path: "internal/bench", Level: 5.15, Only: []string{"client"}},
	// The process-level fault suite: drives real binaries through the
	// public client.
	{Path: "internal/nemesis", Level: 5.3, Also: []string{"client"}},
	// Outside the layers.
	{Path: "cmd", Level: 6, Only: []string{"internal/cli", "client"}},
	{Path: "client", Level: 6, Only: []string{"internal/util", "internal/sql/types"}},
	{Path: "internal/systemtest", Level: 6},
	{Path: "internal/lint", Level: 6, Only: []string{}},
}

// frontEndImports are the only module packages a protocol front-end uses.
var frontEndImports = []string{"internal/sql/session", "internal/sql/types", "internal/util"}

// pgwireImports adds the parser to the front-end set for one job:
// parser.SplitStatements splits a simple-protocol Query message (several
// ';'-separated statements) with exactly the lexer's quoting rules, which a
// copy in pgwire could silently drift from.
var pgwireImports = []string{"internal/sql/session", "internal/sql/types", "internal/util", "internal/sql/parser"}

// authImports: the authenticator reads users through the SQL catalog and
// the privilege package; it knows no front-end.
var authImports = []string{"internal/sql/privilege", "internal/sql/catalog", "internal/util"}

// ExclusiveImport restricts who may import a third-party package tree.
type ExclusiveImport struct {
	// Prefix is the import path (and everything below it) being restricted.
	Prefix string
	// Except lists sub-trees of Prefix that this rule does not cover (they
	// have their own rule).
	Except []string
	// AllowedIn are the groups that may import it.
	AllowedIn []string
	Why       string
}

// Exclusive are the third-party import rules, checked on test imports too.
var Exclusive = []ExclusiveImport{
	{Prefix: "github.com/cockroachdb/pebble", AllowedIn: []string{"internal/storage"},
		Why: "storage is the only importer of pebble"},
	{Prefix: "go.etcd.io/raft/v3/raftpb", AllowedIn: []string{"internal/replica", "internal/raftlog", "internal/rpc"},
		Why: "raft messages travel only through replica, its log and its transport"},
	{Prefix: "go.etcd.io/raft/v3", Except: []string{"go.etcd.io/raft/v3/raftpb"}, AllowedIn: []string{"internal/replica"},
		Why: "replica is the only importer of etcd raft"},
}

// Package is what the checks need to know about one package.
type Package struct {
	ImportPath  string
	Imports     []string // non-test imports
	TestImports []string // imports of _test.go files (internal and external tests)
}

// Violation is one broken rule.
type Violation struct {
	Package, Import, Rule string
}

func (v Violation) String() string {
	if v.Import == "" {
		return fmt.Sprintf("%s: %s", v.Package, v.Rule)
	}
	return fmt.Sprintf("%s imports %s: %s", v.Package, v.Import, v.Rule)
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// groupOf returns the most specific group containing rel, or nil.
func groupOf(table []Group, rel string) *Group {
	var best *Group
	for i := range table {
		g := &table[i]
		if under(rel, g.Path) && (best == nil || len(g.Path) > len(best.Path)) {
			best = g
		}
	}
	return best
}

// relative strips the module prefix; ok=false for packages outside it.
func relative(importPath string) (string, bool) {
	if importPath == Module {
		return "", true
	}
	rel, ok := strings.CutPrefix(importPath, Module+"/")
	return rel, ok
}

func isStdlib(importPath string) bool {
	first, _, _ := strings.Cut(importPath, "/")
	return !strings.Contains(first, ".")
}

// Check applies the layer table and the exclusive-import rules to pkgs and
// returns the violations sorted by package and import.
func Check(pkgs []Package, table []Group, exclusive []ExclusiveImport) []Violation {
	var out []Violation
	for _, p := range pkgs {
		rel, inModule := relative(p.ImportPath)
		if !inModule {
			continue
		}
		from := groupOf(table, rel)
		if from == nil {
			out = append(out, Violation{Package: p.ImportPath,
				Rule: "package is not in the layer table of internal/lint/layers.go; add it (and to ARCHITECTURE.md)"})
			continue
		}
		for _, imp := range p.Imports {
			if v, bad := checkModuleImport(table, from, p.ImportPath, imp); bad {
				out = append(out, v)
			}
		}
		seen := map[string]bool{}
		for _, imp := range slices.Concat(p.Imports, p.TestImports) {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			if v, bad := checkExclusive(exclusive, from, p.ImportPath, imp); bad {
				out = append(out, v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Package != out[j].Package {
			return out[i].Package < out[j].Package
		}
		return out[i].Import < out[j].Import
	})
	return out
}

func checkModuleImport(table []Group, from *Group, pkg, imp string) (Violation, bool) {
	rel, inModule := relative(imp)
	if !inModule {
		return Violation{}, false
	}
	to := groupOf(table, rel)
	if to == nil {
		return Violation{Package: pkg, Import: imp, Rule: "imported package is not in the layer table"}, true
	}
	switch {
	case to == from:
		return Violation{}, false
	case slices.Contains(from.Also, to.Path):
		return Violation{}, false
	case from.Only != nil:
		if slices.ContainsFunc(from.Only, func(dir string) bool { return under(rel, dir) }) {
			return Violation{}, false
		}
		return Violation{Package: pkg, Import: imp, Rule: fmt.Sprintf(
			"%s may import only %s from this module", from.Path, strings.Join(append([]string{"its own packages"}, from.Only...), ", "))}, true
	case to.Level < from.Level:
		return Violation{}, false
	case to.Level == from.Level && from.Peers && to.Peers:
		return Violation{}, false
	}
	return Violation{Package: pkg, Import: imp, Rule: fmt.Sprintf(
		"%s (layer %g) may not import %s (layer %g): a package imports only lower layers", from.Path, from.Level, to.Path, to.Level)}, true
}

func checkExclusive(rules []ExclusiveImport, from *Group, pkg, imp string) (Violation, bool) {
	if isStdlib(imp) {
		return Violation{}, false
	}
	for _, rule := range rules {
		if !under(imp, rule.Prefix) || slices.ContainsFunc(rule.Except, func(e string) bool { return under(imp, e) }) {
			continue
		}
		if slices.Contains(rule.AllowedIn, from.Path) {
			return Violation{}, false
		}
		return Violation{Package: pkg, Import: imp, Rule: rule.Why + " (allowed in " + strings.Join(rule.AllowedIn, ", ") + ")"}, true
	}
	return Violation{}, false
}
