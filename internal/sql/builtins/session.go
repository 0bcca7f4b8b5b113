package builtins

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// errNoSession is the error of a settings function outside a session.
func errNoSession(fn string) error {
	return errcode.New(errcode.Unsupported, "%s(): session settings exist only in a session (pgwire); the HTTP API is stateless", fn)
}

// sessionFuncs are PostgreSQL's session information and settings
// functions. They read the Context, so they are volatile (never folded
// before the statement's Context is known).
func sessionFuncs() []*Func {
	session := func(f *Func) *Func {
		f.Volatile = true
		return f
	}
	return []*Func{
		session(&Func{Name: "current_setting", MinArgs: 1, MaxArgs: 2, Args: []ArgClass{StringArg, BoolArg}, Result: types.String,
			Impl: func(ctx *Context, a []types.Value) (types.Value, error) {
				if ctx.Settings == nil {
					return types.Value{}, errNoSession("current_setting")
				}
				v, err := ctx.Settings.Get(a[0].Str)
				if err != nil {
					if len(a) == 2 && a[1].Kind == types.Bool && a[1].Bool && errcode.Of(err) == errcode.UnknownSetting {
						return types.NullValue, nil // missing_ok
					}
					return types.Value{}, err
				}
				return types.NewString(v), nil
			}}),
		// set_config(name, value, is_local): a NULL argument gives NULL and
		// changes nothing.
		session(&Func{Name: "set_config", MinArgs: 3, MaxArgs: 3, Args: []ArgClass{StringArg, StringArg, BoolArg}, Result: types.String,
			Impl: func(ctx *Context, a []types.Value) (types.Value, error) {
				if ctx.Settings == nil {
					return types.Value{}, errNoSession("set_config")
				}
				v, err := ctx.Settings.Set(a[0].Str, a[1].Str, a[2].Bool)
				if err != nil {
					return types.Value{}, err
				}
				return types.NewString(v), nil
			}}),
		session(&Func{Name: "version", MinArgs: 0, MaxArgs: 0, Result: types.String,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				version := "16.0"
				if ctx.Settings != nil {
					if v, err := ctx.Settings.Get("server_version"); err == nil {
						version = v
					}
				}
				return types.NewString("PostgreSQL " + version + " (CamusDB-Go)"), nil
			}}),
		session(&Func{Name: "current_database", MinArgs: 0, MaxArgs: 0, Result: types.String,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				if ctx.Database == "" {
					return types.NullValue, nil
				}
				return types.NewString(ctx.Database), nil
			}}),
		session(&Func{Name: "current_schema", MinArgs: 0, MaxArgs: 0, Result: types.String,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				if ctx.Settings == nil {
					return types.NewString("public"), nil
				}
				path, err := ctx.Settings.Get("search_path")
				if err != nil {
					return types.Value{}, err
				}
				// The first schema on the path that exists; "public" is the
				// only one (NULL when the path names none, as in PostgreSQL).
				for _, s := range strings.Split(path, ",") {
					if strings.Trim(strings.TrimSpace(s), `"`) == "public" {
						return types.NewString("public"), nil
					}
				}
				return types.NullValue, nil
			}}),
	}
}
