package builtins

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Context is what a function may read from the running statement.
type Context struct {
	// Now is the statement timestamp read by now(), current_timestamp(),
	// current_date() and unix_timestamp(); fixed for the whole statement.
	Now time.Time
	// IDs generates gen_id() values; nil means the process-wide generator.
	IDs *IDGenerator
	// Settings are the session's settings (current_setting, set_config,
	// version, current_schema); nil outside a session (the HTTP API).
	Settings Settings
	// Database is the current database ("" when none).
	Database string
	// Catalog answers the catalog functions (format_type, regclass...);
	// nil where there is no catalog (they then fail with CADB0407).
	Catalog Catalog
	// Sequences answers nextval, currval, setval and lastval; nil where
	// there are no sequences (they then fail with CADB0407).
	Sequences Sequences
}

// Settings is a session's run-time parameters as functions see them.
// Errors are *errcode.Error (CADB0017 for an unknown name, CADB0400 for a
// bad value).
type Settings interface {
	// Get returns the current value of a setting.
	Get(name string) (string, error)
	// Set changes a setting for the session, or until the end of the
	// transaction when local, and returns the new value.
	Set(name, value string, local bool) (string, error)
}

// ArgClass is the set of kinds a parameter accepts. NULL is accepted by
// every class.
type ArgClass uint8

const (
	AnyArg       ArgClass = iota // any kind
	StringArg                    // STRING
	IntArg                       // INT64
	NumericArg                   // INT64 or FLOAT64
	BoolArg                      // BOOL
	oidSourceArg                 // STRING or OID
	temporalArg                  // STRING, DATE, TIMESTAMP, TIMESTAMPTZ or INTERVAL
)

func (c ArgClass) accepts(k types.Kind) bool {
	if k == types.Null {
		return true
	}
	switch c {
	case StringArg:
		return k == types.String
	case IntArg:
		return k == types.Int64
	case NumericArg:
		return k == types.Int64 || k == types.Float64
	case BoolArg:
		return k == types.Bool
	case oidSourceArg:
		return k == types.String || k == types.OID
	case temporalArg:
		return k == types.String || types.IsDatetime(k) || k == types.Interval
	}
	return true
}

func (c ArgClass) String() string {
	switch c {
	case StringArg:
		return "STRING"
	case IntArg:
		return "INT64"
	case NumericArg:
		return "INT64 or FLOAT64"
	case BoolArg:
		return "BOOL"
	case oidSourceArg:
		return "STRING or OID"
	case temporalArg:
		return "STRING, DATE, TIMESTAMP, TIMESTAMPTZ or INTERVAL"
	}
	return "any type"
}

// Func describes one scalar function. Funcs are immutable and shared.
type Func struct {
	Name    string
	MinArgs int
	MaxArgs int // < 0: variadic
	// Args gives the class of each parameter; the last entry repeats for
	// variadic functions. Empty means AnyArg everywhere.
	Args []ArgClass
	// Volatile functions return a different value per call (gen_id,
	// random) or read the statement clock; they are never constant-folded
	// at compile time unless StatementStable is also set.
	Volatile bool
	// StatementStable marks volatile functions whose value is fixed for a
	// statement (now(), current_date()...): they may be folded once the
	// statement's Context is known.
	StatementStable bool
	// CallOnNull: when false, a NULL argument makes the result NULL
	// without calling Impl.
	CallOnNull bool
	// Result is the result kind; when ResultFn is set it wins.
	Result   types.Kind
	ResultFn func(args []types.Kind) types.Kind
	Impl     func(ctx *Context, args []types.Value) (types.Value, error)
}

func (f *Func) argClass(i int) ArgClass {
	if len(f.Args) == 0 {
		return AnyArg
	}
	if i >= len(f.Args) {
		return f.Args[len(f.Args)-1]
	}
	return f.Args[i]
}

// Check validates the argument count and the statically known argument
// kinds (types.Null = unknown) and returns the static result kind
// (types.Null when it is only known per value). Errors are CADB0400.
func (f *Func) Check(argKinds []types.Kind) (types.Kind, error) {
	if err := f.checkCount(len(argKinds)); err != nil {
		return types.Null, err
	}
	for i, k := range argKinds {
		if c := f.argClass(i); !c.accepts(k) {
			return types.Null, argKindError(f.Name, i, c, k)
		}
	}
	if f.ResultFn != nil {
		return f.ResultFn(argKinds), nil
	}
	return f.Result, nil
}

func (f *Func) checkCount(n int) error {
	if n < f.MinArgs || (f.MaxArgs >= 0 && n > f.MaxArgs) {
		var want string
		switch {
		case f.MaxArgs < 0:
			want = fmt.Sprintf("at least %d", f.MinArgs)
		case f.MinArgs == f.MaxArgs:
			want = fmt.Sprintf("%d", f.MinArgs)
		default:
			want = fmt.Sprintf("%d to %d", f.MinArgs, f.MaxArgs)
		}
		return errcode.New(errcode.InvalidInput, "%s() takes %s argument(s), got %d", f.Name, want, n)
	}
	return nil
}

// Call evaluates f on args: it checks the count and the kinds, applies
// NULL propagation and runs the implementation. It never retains args.
func (f *Func) Call(ctx *Context, args []types.Value) (types.Value, error) {
	if err := f.checkCount(len(args)); err != nil {
		return types.Value{}, err
	}
	for i := range args {
		k := args[i].Kind
		if k == types.Null {
			if !f.CallOnNull {
				return types.NullValue, nil
			}
			continue
		}
		if c := f.argClass(i); !c.accepts(k) {
			return types.Value{}, argKindError(f.Name, i, c, k)
		}
	}
	return f.Impl(ctx, args)
}

func argKindError(name string, i int, want ArgClass, got types.Kind) error {
	return errcode.New(errcode.InvalidInput, "%s(): argument %d must be %s, not %s", name, i+1, want, got)
}

// argError is a CADB0400 about a bad argument value of function name.
func argError(name, format string, args ...any) error {
	return errcode.New(errcode.InvalidInput, name+"(): "+format, args...)
}

// registry maps lower-case names (and aliases) to functions. Built once,
// never modified.
var registry = buildRegistry()

func buildRegistry() map[string]*Func {
	m := make(map[string]*Func)
	add := func(fs []*Func, aliases map[string]string) {
		for _, f := range fs {
			if _, dup := m[f.Name]; dup {
				panic("builtins: duplicate function " + f.Name)
			}
			m[f.Name] = f
		}
		for alias, target := range aliases {
			f, ok := m[target]
			if !ok {
				panic("builtins: alias " + alias + " of unknown function " + target)
			}
			m[alias] = f
		}
	}
	add(stringFuncs(), map[string]string{"char_length": "length", "substr": "substring"})
	add(mathFuncs(), map[string]string{"ceiling": "ceil", "power": "pow"})
	add(dateFuncs(), nil)
	add(typedDateFuncs(), nil)
	add(jsonFuncs(), nil)
	add(convFuncs(), map[string]string{"str_id": "to_id"})
	add(sessionFuncs(), nil)
	add(arrayFuncs(), nil)
	add(catalogFuncs(), nil)
	add(sequenceFuncs(), nil)
	return m
}

// Lookup finds a scalar function by name, case-insensitively. Aggregates
// and the special forms COALESCE, NULLIF, IFNULL and CAST are not here
// (package eval handles them).
func Lookup(name string) (*Func, bool) {
	f, ok := registry[name]
	if !ok {
		f, ok = registry[strings.ToLower(name)]
	}
	return f, ok
}

// Names lists every callable name (aliases included), sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// sameAsFirst is a ResultFn: the result has the first argument's kind.
func sameAsFirst(args []types.Kind) types.Kind {
	if len(args) == 0 {
		return types.Null
	}
	return args[0]
}
