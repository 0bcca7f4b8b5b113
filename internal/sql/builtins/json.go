package builtins

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func jsonFuncs() []*Func {
	return []*Func{
		{Name: "json_valid", MinArgs: 1, MaxArgs: 1, Args: []ArgClass{StringArg}, CallOnNull: true, Result: types.Bool,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				return types.NewBool(a[0].Kind == types.String && json.Valid([]byte(a[0].Str))), nil
			}},
		{Name: "json_type", MinArgs: 1, MaxArgs: 2, Args: []ArgClass{StringArg, StringArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				raw, err := jsonAt("json_type", a)
				if err != nil || raw == nil {
					return types.NullValue, err
				}
				return types.NewString(jsonTypeOf(raw)), nil
			}},
		{Name: "json_extract", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, StringArg}, Result: types.String,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				raw, err := jsonAt("json_extract", a)
				if err != nil || raw == nil {
					return types.NullValue, err
				}
				var out bytes.Buffer
				if err := json.Compact(&out, raw); err != nil {
					return types.NullValue, nil
				}
				return types.NewString(out.String()), nil
			}},
		{Name: "json_value", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, StringArg},
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				raw, err := jsonAt("json_value", a)
				if err != nil || raw == nil {
					return types.NullValue, err
				}
				return jsonScalar(raw), nil
			}},
		{Name: "json_array_length", MinArgs: 1, MaxArgs: 2, Args: []ArgClass{StringArg, StringArg}, Result: types.Int64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				raw, err := jsonAt("json_array_length", a)
				if err != nil || raw == nil {
					return types.NullValue, err
				}
				var items []json.RawMessage
				if firstByte(raw) != '[' || json.Unmarshal(raw, &items) != nil {
					return types.NullValue, nil
				}
				return types.NewInt(int64(len(items))), nil
			}},
		{Name: "json_contains", MinArgs: 2, MaxArgs: 3, Args: []ArgClass{StringArg, StringArg, StringArg}, Result: types.Bool,
			Impl: jsonContainsFunc},
	}
}

// jsonStep is one path step: .name or [index].
type jsonStep struct {
	key     string
	index   int
	isIndex bool
}

// parseJSONPath reads $, .name and [n] steps.
func parseJSONPath(fn, path string) ([]jsonStep, error) {
	p := strings.TrimSpace(path)
	if !strings.HasPrefix(p, "$") {
		return nil, argError(fn, "JSON path %q must start with $", path)
	}
	p = p[1:]
	var steps []jsonStep
	for p != "" {
		switch p[0] {
		case '.':
			end := strings.IndexAny(p[1:], ".[")
			if end < 0 {
				end = len(p) - 1
			}
			name := p[1 : 1+end]
			if name == "" {
				return nil, argError(fn, "JSON path %q has an empty member name", path)
			}
			steps = append(steps, jsonStep{key: name})
			p = p[1+end:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, argError(fn, "JSON path %q has an unclosed [", path)
			}
			n, err := strconv.Atoi(strings.TrimSpace(p[1:end]))
			if err != nil || n < 0 {
				return nil, argError(fn, "JSON path %q has a bad array index", path)
			}
			steps = append(steps, jsonStep{index: n, isIndex: true})
			p = p[end+1:]
		default:
			return nil, argError(fn, "JSON path %q: unexpected %q (only $, .name and [n] are supported)", path, p[0])
		}
	}
	return steps, nil
}

// jsonAt returns the raw JSON at the optional path a[1] of the document
// a[0]; nil when the document is invalid or the path leads nowhere.
func jsonAt(fn string, a []types.Value) (json.RawMessage, error) {
	var steps []jsonStep
	if len(a) > 1 {
		var err error
		if steps, err = parseJSONPath(fn, a[1].Str); err != nil {
			return nil, err
		}
	}
	doc := []byte(a[0].Str)
	if !json.Valid(doc) {
		return nil, nil
	}
	return walkJSON(doc, steps), nil
}

func walkJSON(raw json.RawMessage, steps []jsonStep) json.RawMessage {
	for _, s := range steps {
		if s.isIndex {
			var items []json.RawMessage
			if firstByte(raw) != '[' || json.Unmarshal(raw, &items) != nil || s.index >= len(items) {
				return nil
			}
			raw = items[s.index]
			continue
		}
		var members map[string]json.RawMessage
		if firstByte(raw) != '{' || json.Unmarshal(raw, &members) != nil {
			return nil
		}
		next, ok := members[s.key]
		if !ok {
			return nil
		}
		raw = next
	}
	return raw
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func jsonTypeOf(raw json.RawMessage) string {
	switch firstByte(raw) {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// jsonScalar maps a JSON scalar to a SQL value: string → STRING, integer
// number → INT64 (FLOAT64 when it does not fit), other numbers → FLOAT64,
// true/false → BOOL; null, objects and arrays → NULL.
func jsonScalar(raw json.RawMessage) types.Value {
	switch firstByte(raw) {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return types.NullValue
		}
		return types.NewString(s)
	case 't':
		return types.NewBool(true)
	case 'f':
		return types.NewBool(false)
	case '{', '[', 'n', 0:
		return types.NullValue
	}
	text := string(bytes.TrimSpace(raw))
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return types.NewInt(i)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return types.NullValue
	}
	return types.NewFloat(f)
}

// jsonContainsFunc is json_contains(target, candidate[, path]) with MySQL's
// rules: scalars contain equal scalars, an array contains a candidate
// array whose every element it contains (and a candidate scalar it holds),
// an object contains a candidate object whose every member it contains.
func jsonContainsFunc(_ *Context, a []types.Value) (types.Value, error) {
	target := json.RawMessage(a[0].Str)
	if len(a) == 3 {
		steps, err := parseJSONPath("json_contains", a[2].Str)
		if err != nil {
			return types.Value{}, err
		}
		if !json.Valid(target) {
			return types.NullValue, nil
		}
		if target = walkJSON(target, steps); target == nil {
			return types.NullValue, nil
		}
	}
	t, ok := decodeJSON(target)
	if !ok {
		return types.NullValue, nil
	}
	c, ok := decodeJSON([]byte(a[1].Str))
	if !ok {
		return types.NullValue, nil
	}
	return types.NewBool(jsonContains(t, c)), nil
}

func decodeJSON(raw []byte) (any, bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func jsonContains(target, cand any) bool {
	switch t := target.(type) {
	case []any:
		if c, ok := cand.([]any); ok {
			for _, ce := range c {
				if !jsonContains(t, ce) {
					return false
				}
			}
			return true
		}
		for _, te := range t {
			if jsonContains(te, cand) {
				return true
			}
		}
		return false
	case map[string]any:
		c, ok := cand.(map[string]any)
		if !ok {
			return false
		}
		for k, cv := range c {
			tv, ok := t[k]
			if !ok || !jsonContains(tv, cv) {
				return false
			}
		}
		return true
	case json.Number:
		c, ok := cand.(json.Number)
		return ok && jsonNumbersEqual(t, c)
	default: // string, bool, nil
		return target == cand
	}
}

func jsonNumbersEqual(a, b json.Number) bool {
	if ai, err := a.Int64(); err == nil {
		if bi, err := b.Int64(); err == nil {
			return ai == bi
		}
	}
	af, err1 := a.Float64()
	bf, err2 := b.Float64()
	return err1 == nil && err2 == nil && af == bf
}
