package builtins

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Sequences answers the sequence functions (nextval, currval, setval,
// lastval) for a statement. The SQL layer supplies it (package session):
// nextval and setval change the sequence outside the statement's
// transaction, and currval/lastval read the session's memory of what
// nextval returned.
type Sequences interface {
	Nextval(name string) (int64, error)
	Currval(name string) (int64, error)
	Setval(name string, value int64, isCalled bool) (int64, error)
	Lastval() (int64, error)
}

// SequenceName turns the text argument of nextval('...') into a sequence
// name: an optional "public." schema is dropped, a double-quoted name is
// taken as written and any other is lower-cased (PostgreSQL's regclass
// reading). CADB0400 for a malformed or empty name.
func SequenceName(text string) (string, error) {
	name := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(name, `"public".`); ok {
		name = rest
	} else if len(name) > 7 && strings.EqualFold(name[:7], "public.") {
		name = name[7:]
	}
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
	} else {
		if strings.ContainsAny(name, `".`) {
			return "", errcode.New(errcode.InvalidInput, "invalid sequence name %q", text)
		}
		name = strings.ToLower(name)
	}
	if name == "" {
		return "", errcode.New(errcode.InvalidInput, "invalid sequence name %q", text)
	}
	return name, nil
}

// sequenceArg resolves the first argument of a sequence function: a name,
// or a relation oid (nextval('s'::regclass) gives one) looked up through
// the statement's catalog.
func sequenceArg(ctx *Context, v types.Value) (string, error) {
	if v.Kind == types.Int64 {
		if ctx.Catalog == nil {
			return "", errcode.New(errcode.UnknownTable, "relation with oid %v does not exist", v)
		}
		name, err := ctx.Catalog.CatalogFunc("regclass", []types.Value{v})
		if err != nil {
			return "", err
		}
		if name.Kind != types.String {
			return "", errcode.New(errcode.UnknownTable, "relation with oid %v does not exist", v)
		}
		return name.Str, nil // the relation's name as stored
	}
	if v.Kind != types.String {
		return "", errcode.New(errcode.InvalidInput, "a sequence is named by a string or regclass, not %s", v.Kind)
	}
	return SequenceName(v.Str)
}

func errNoSequences(fn string) error {
	return errcode.New(errcode.Unsupported, "%s(): sequence functions need a statement context", fn)
}

// sequenceFuncs are PostgreSQL's sequence manipulation functions. They are
// volatile: every call is evaluated (nextval once per row).
func sequenceFuncs() []*Func {
	return []*Func{
		{Name: "nextval", MinArgs: 1, MaxArgs: 1, Result: types.Int64, Volatile: true,
			Impl: func(ctx *Context, a []types.Value) (types.Value, error) {
				if ctx.Sequences == nil {
					return types.Value{}, errNoSequences("nextval")
				}
				name, err := sequenceArg(ctx, a[0])
				if err != nil {
					return types.Value{}, err
				}
				v, err := ctx.Sequences.Nextval(name)
				return types.NewInt(v), err
			}},
		{Name: "currval", MinArgs: 1, MaxArgs: 1, Result: types.Int64, Volatile: true,
			Impl: func(ctx *Context, a []types.Value) (types.Value, error) {
				if ctx.Sequences == nil {
					return types.Value{}, errNoSequences("currval")
				}
				name, err := sequenceArg(ctx, a[0])
				if err != nil {
					return types.Value{}, err
				}
				v, err := ctx.Sequences.Currval(name)
				return types.NewInt(v), err
			}},
		{Name: "setval", MinArgs: 2, MaxArgs: 3, Args: []ArgClass{AnyArg, IntArg, BoolArg}, Result: types.Int64, Volatile: true,
			Impl: func(ctx *Context, a []types.Value) (types.Value, error) {
				if ctx.Sequences == nil {
					return types.Value{}, errNoSequences("setval")
				}
				name, err := sequenceArg(ctx, a[0])
				if err != nil {
					return types.Value{}, err
				}
				isCalled := true
				if len(a) == 3 {
					isCalled = a[2].Bool
				}
				v, err := ctx.Sequences.Setval(name, a[1].Int, isCalled)
				return types.NewInt(v), err
			}},
		{Name: "lastval", MinArgs: 0, MaxArgs: 0, Result: types.Int64, Volatile: true,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				if ctx.Sequences == nil {
					return types.Value{}, errNoSequences("lastval")
				}
				v, err := ctx.Sequences.Lastval()
				return types.NewInt(v), err
			}},
	}
}
