package eval

import (
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// The jsonb operators: j -> key|index (JSONB), j ->> key|index (STRING),
// a @> b (BOOL). A STRING operand where a JSONB is expected is read as
// JSON (CADB0414 when it is not).

func isJSONOp(op string) bool { return op == "->" || op == "->>" || op == "@>" }

// jsonOpKind checks the operand kinds at compile time and returns the
// result kind.
func jsonOpKind(op string, l, r types.Kind) (types.Kind, error) {
	jsonish := func(k types.Kind) bool { return k == types.Null || k == types.JSONB || k == types.String }
	switch op {
	case "@>":
		if !jsonish(l) || !jsonish(r) {
			return types.Null, invalid("operator @> cannot be applied to %s and %s", l, r)
		}
		return types.Bool, nil
	default:
		if !jsonish(l) || (r != types.Null && r != types.String && r != types.Int64) {
			return types.Null, invalid("operator %s cannot be applied to %s and %s", op, l, r)
		}
		if op == "->" {
			return types.JSONB, nil
		}
		return types.String, nil
	}
}

func asJSON(v types.Value) (types.JSON, error) {
	if v.Kind == types.String {
		return types.ParseJSON(v.Str)
	}
	if v.Kind != types.JSONB {
		return types.JSON{}, invalid("expected JSONB, not %s", v.Kind)
	}
	return v.JSON(), nil
}

func jsonOp(op string, a, b types.Value) (types.Value, error) {
	if a.IsNull() || b.IsNull() {
		return types.NullValue, nil
	}
	if _, err := jsonOpKind(op, a.Kind, b.Kind); err != nil {
		return types.Value{}, err
	}
	j, err := asJSON(a)
	if err != nil {
		return types.Value{}, err
	}
	if op == "@>" {
		o, err := asJSON(b)
		if err != nil {
			return types.Value{}, err
		}
		return types.NewBool(j.Contains(o)), nil
	}
	var (
		got types.JSON
		ok  bool
	)
	if b.Kind == types.Int64 {
		got, ok = j.Index(b.Int)
	} else {
		got, ok = j.Field(b.Str)
	}
	if !ok {
		return types.NullValue, nil
	}
	if op == "->" {
		return types.NewJSONB(got), nil
	}
	text, ok := got.AsText()
	if !ok {
		return types.NullValue, nil
	}
	return types.NewString(text), nil
}
